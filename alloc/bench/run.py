#!/usr/bin/env python3
"""run.py — the benchmark driver: oblique and its peers side by side, in one run.

For each repetition it runs every bench program once (obq_bench: allocation and RCU
cases of oblique and every peer; obq_bench_checked: the same oblique loops against the
checked library), each program shuffling its cases by the repetition number.  Then it
computes medians over repetitions and, for every ratio, the median of the per-
repetition ratios (numerator and denominator measured in the same repetition, seconds
apart), judges the issue's goals, and writes:
  OUT/results.json   every sample, medians, ratios, goals, the machine
  OUT/results.md     the tables people read (also printed)
  OUT/ratios.png     the main ratios (gnuplot), if gnuplot is installed

  run.py --build BUILD_DIR --out OUT [--reps N] [--quick] [--fuzz label=path[:asan]]...
         [--fuzz-seconds S] [--command TEXT] [--note TEXT]...
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ALLOC_PEERS = ["glibc", "jemalloc", "mimalloc"]
ALLOC_FLOOR = ["freelist", "ring"]
ALLOC_OBQ = ["obq-typesafe", "obq-plain"]
RCU_PEERS = ["urcu-memb", "urcu-qsbr", "ck-epoch"]
RCU_OBQ_PREFIX = "obq-"
KINDS = ["lifo", "batch", "2t-lifo", "2t-batch", "xthread"]

# (id, text, numerator (group, impl), denominator (group, impl), op, target)
# op "<=": ratio <= target met; "<": ratio < target; ">=": ratio >= target.
GOALS = [
    ("G1", "64 B typesafe LIFO <= 1.5x trivial free list",
     ("allocpair.64.lifo", "obq-typesafe"), ("allocpair.64.lifo", "freelist"), "<=", 1.5),
    ("G2", "64 B typesafe LIFO faster than jemalloc",
     ("allocpair.64.lifo", "obq-typesafe"), ("allocpair.64.lifo", "jemalloc"), "<", 1.0),
    ("G3", "64 B typesafe LIFO faster than mimalloc",
     ("allocpair.64.lifo", "obq-typesafe"), ("allocpair.64.lifo", "mimalloc"), "<", 1.0),
    ("G4", "64 B typesafe batch10k no slower than mimalloc",
     ("allocpair.64.batch", "obq-typesafe"), ("allocpair.64.batch", "mimalloc"), "<=", 1.0),
    ("G5", "64 B typesafe cross-thread free no slower than mimalloc",
     ("alloc.64.xthread", "obq-typesafe"), ("alloc.64.xthread", "mimalloc"), "<=", 1.0),
    ("G6", "builtin RCU read side within 1.3x liburcu memb (inlined)",
     ("rcu.read", "obq-builtin"), ("rcu.read", "urcu-memb"), "<=", 1.3),
    ("G7", "synchronize with 1 reader no slower than liburcu memb (median, paired)",
     ("rcu.syncpair.1r.p50", "obq-builtin"), ("rcu.syncpair.1r.p50", "urcu-memb"), "<=", 1.0),
    ("G8", "call + barrier throughput >= liburcu memb (0 readers)",
     ("rcu.call.0r", "obq-builtin"), ("rcu.call.0r", "urcu-memb"), ">=", 1.0),
    ("G9", "call + barrier throughput >= liburcu memb (1 reader)",
     ("rcu.call.1r", "obq-builtin"), ("rcu.call.1r", "urcu-memb"), ">=", 1.0),
]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def find_bin(build, name):
    for cand in (os.path.join(build, "alloc", "bench", name), os.path.join(build, name)):
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    return None


FAILURES = []


def run_prog(path, args, timeout=600, must=False):
    """Run a bench program; return its result lines (dicts).  A failure (crash, report,
    timeout) is logged and noted, and the lines printed before it are kept, unless
    `must`."""
    what = f"{os.path.basename(path)} {' '.join(args)}"
    try:
        p = subprocess.run([path] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=timeout)
        rc, stdout, stderr = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc, stdout, stderr = "timeout", (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or ""), ""
    if rc != 0:
        log(stderr[-3000:])
        if must:
            raise SystemExit(f"run.py: {what} failed (rc {rc})")
        last = [l for l in stderr.splitlines() if l.startswith("  [")]
        FAILURES.append(f"`{what}` failed (rc {rc}) during {last[-1].strip() if last else '?'}")
    out = []
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def instr_count(prog, family, name, bin_name):
    """Run one "instr" case under callgrind; return its records with metric Ir (per op)."""
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "cg.out")
        p = subprocess.run(["valgrind", "--tool=callgrind", "--toggle-collect=bench_instr_run",
                            f"--callgrind-out-file={out}", prog, "--family", family, "--case", name,
                            "--bin", bin_name], capture_output=True, text=True, timeout=600)
        recs = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
        total = None
        if os.path.exists(out):
            for line in open(out):
                if line.startswith("summary:") or line.startswith("totals:"):
                    total = int(line.split()[1])
        res = []
        for r in recs:
            if r.get("metric") == "ops" and total:
                res.append(dict(r, metric="Ir", value=total / r["value"]))
        return res


def machine_info():
    info = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "kernel": platform.release(), "ncpu": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        info["loadavg_start"] = open("/proc/loadavg").read().split()[:3]
    except OSError:
        pass
    for pkg in ("libjemalloc-dev", "libmimalloc-dev", "liburcu-dev", "libck-dev", "libc6"):
        try:
            v = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True,
                               text=True).stdout.strip()
            if v:
                info[pkg] = v
        except OSError:
            pass
    return info


# ----------------------------------------------------------------------------------
# Aggregation

class Samples:
    def __init__(self):
        self.by = {}   # (bin, group, impl) -> {rep: value}
        self.metric = {}

    def add(self, rec):
        if rec.get("meta"):
            return
        key = (rec["bin"], rec["group"], rec["impl"])
        if rec["value"] is None or rec["value"] < 0:
            return
        self.by.setdefault(key, {})[rec["rep"]] = rec["value"]
        self.metric[(rec["group"])] = rec["metric"]

    def get(self, group, impl, bin="main"):
        return self.by.get((bin, group, impl), {})

    def median(self, group, impl, bin="main"):
        v = list(self.get(group, impl, bin).values())
        return statistics.median(v) if v else None

    def ratio(self, num, den, nbin="main", dbin="main"):
        """Median over repetitions of num_r / den_r (paired), with min and max."""
        a, b = self.get(*num, bin=nbin), self.get(*den, bin=dbin)
        rs = [a[r] / b[r] for r in a if r in b and b[r] > 0]
        if not rs:
            return None
        return {"median": statistics.median(rs), "min": min(rs), "max": max(rs), "n": len(rs)}

    def groups(self, prefix, bin="main"):
        gs = []
        for (b, g, _i) in self.by:
            if b == bin and g.startswith(prefix) and g not in gs:
                gs.append(g)
        return gs

    def impls(self, group, bin="main"):
        return [i for (b, g, i) in self.by if b == bin and g == group]


def higher_is_better(metric):
    return metric in ("Mops", "execs")


def best_peer(s, group, peers):
    hib = higher_is_better(s.metric.get(group, "ns"))
    best = None
    for p in peers:
        m = s.median(group, p)
        if m is None:
            continue
        if best is None or (m > best[1] if hib else m < best[1]):
            best = (p, m)
    return best


def judge(op, value, target):
    if value is None:
        return "not measured"
    if op == "<=":
        return "met" if value <= target else "missed"
    if op == "<":
        return "met" if value < target else "missed"
    return "met" if value >= target else "missed"


# ----------------------------------------------------------------------------------
# Formatting

def fmt(v, digits=3):
    if v is None:
        return "–"
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.{digits}f}"


def fmt_ratio(r):
    if r is None:
        return "–"
    return f"{r['median']:.2f}× ({r['min']:.2f}–{r['max']:.2f})"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(r) + " |")
    return "\n".join(out)


def alloc_tables(s, md):
    obq = [i for i in ALLOC_OBQ if s.groups("alloc.") and any(s.get(g, i) for g in s.groups("alloc."))]
    for size in ("64", "256"):
        gs = [f"alloc.{size}.{k}" for k in KINDS if s.get(f"alloc.{size}.{k}", "glibc") or
              s.get(f"alloc.{size}.{k}", "obq-typesafe")]
        gs += [f"allocpair.{size}.{k}" for k in ("lifo", "batch") if s.impls(f"allocpair.{size}.{k}")]
        if not gs:
            continue
        cols = ALLOC_PEERS + ["freelist"] + obq + ["ring"]
        header = [f"{size} B, ns per alloc+free"] + cols + ["best peer"] + \
                 [f"{o} / best peer" for o in obq]
        rows = []
        for g in gs:
            bp = best_peer(s, g, ALLOC_PEERS)
            label = g.split(".", 2)[2] + (" (paired)" if g.startswith("allocpair") else "")
            row = [label] + [fmt(s.median(g, c)) for c in cols]
            row.append(bp[0] if bp else "–")
            for o in obq:
                row.append(fmt_ratio(s.ratio((g, o), (g, bp[0]))) if bp else "–")
            rows.append(row)
        md.append(table(header, rows))
        md.append("")


def rcu_tables(s, md):
    gs = [g for g in ["rcu.read", "rcu.sync.0r.p50", "rcu.sync.0r.p99", "rcu.sync.1r.p50",
                      "rcu.sync.1r.p99", "rcu.sync.2r.p50", "rcu.sync.2r.p99",
                      "rcu.syncpair.1r.p50", "rcu.syncpair.1r.p99", "rcu.syncpair.2r.p50",
                      "rcu.syncpair.2r.p99",
                      "rcu.call.0r", "rcu.call.1r", "rcu.call-enqueue.0r", "rcu.call-enqueue.1r"]
          if s.impls(g)]
    if not gs:
        return
    obq = sorted({i for g in gs for i in s.impls(g) if i.startswith(RCU_OBQ_PREFIX)})
    cols = obq + RCU_PEERS
    header = ["RCU", "unit"] + cols + ["best peer"] + [f"{o} / urcu-memb" for o in obq]
    units = {"ns": "ns", "us": "µs", "Mops": "M callbacks/s"}
    rows = []
    for g in gs:
        bp = best_peer(s, g, RCU_PEERS)
        row = [g.replace("rcu.", ""), units.get(s.metric.get(g), s.metric.get(g, ""))]
        row += [fmt(s.median(g, c)) for c in cols]
        row.append(bp[0] if bp else "–")
        for o in obq:
            row.append(fmt_ratio(s.ratio((g, o), (g, "urcu-memb"))))
        rows.append(row)
    md.append(table(header, rows))
    md.append("")


def checked_tables(s, md):
    keys = sorted({(g, i) for (b, g, i) in s.by if b == "checked"})
    if not keys:
        md.append("_Not measured: obq_bench_checked was not built (checker sources or "
                  "access.h missing when this tree was configured)._")
        md.append("")
        return
    rows = []
    for g, i in keys:
        rel = s.median(g, i, "main")
        chk = s.median(g, i, "checked")
        r = s.ratio((g, i), (g, i), nbin="checked", dbin="main")
        rows.append([g, i, fmt(rel), fmt(chk), fmt_ratio(r)])
    md.append(table(["case", "impl", "release", "checked", "checked / release"], rows))
    md.append("")


def instr_tables(s, md):
    gs = [g for g in ("instr.alloc.64.lifo", "instr.alloc.64.batch", "instr.rcu.read") if s.impls(g)]
    if not gs:
        md.append("_Not measured (valgrind missing, or --families without instr)._")
        md.append("")
        return
    rows = []
    for g in gs:
        for i in s.impls(g):
            chk = s.median(g, i, "checked")
            rows.append([g.replace("instr.", ""), i, fmt(s.median(g, i)),
                         fmt(chk) if chk else "–"])
    md.append("Instructions executed per alloc+free pair (64 B, 100,000 pairs after a warm-up) or "
              "per read-side section, counted by valgrind --tool=callgrind inside the loop only; "
              "`checked`: the same loop against the checked library.")
    md.append("")
    md.append(table(["loop", "impl", "instructions", "checked"], rows))
    md.append("")


def scale_tables(s, md):
    ns_groups = sorted(s.groups("scale.ns."), key=lambda g: int(g.rsplit(".", 1)[1]))
    if ns_groups:
        impls = [i for i in ALLOC_PEERS + ["freelist"] + ALLOC_OBQ if any(s.get(g, i) for g in ns_groups)]
        rows = [[f"{int(g.rsplit('.', 1)[1]):,}"] + [fmt(s.median(g, i)) for i in impls] for g in ns_groups]
        md.append("ns per alloc+free pair (64 B; allocate N writing each, free the N in order):")
        md.append("")
        md.append(table(["live objects"] + impls, rows))
        md.append("")
    b_groups = sorted(s.groups("scale.bytes."), key=lambda g: int(g.rsplit(".", 1)[1]))
    if b_groups:
        impls = [i for i in ALLOC_PEERS + ["freelist"] + ALLOC_OBQ if any(s.get(g, i) for g in b_groups)]
        cols = [(i, "scale.bytes.") for i in impls] + \
               [(i, "scale.bytes-meta.") for i in ALLOC_OBQ if any(s.get("scale.bytes-meta." + g.rsplit(".", 1)[1], i) for g in b_groups)]
        rows = []
        for g in b_groups:
            n = g.rsplit(".", 1)[1]
            rows.append([f"{int(n):,}"] + [fmt(s.median(pfx + n, i)) for i, pfx in cols])
        md.append("bytes held from the system per live 64 B object at the peak, each in a fresh "
                  "process (delta of the allocator's own counter around the fill: glibc mallinfo2 "
                  "arena+hblkhd, jemalloc stats.resident, mimalloc committed, oblique bytes_mapped; "
                  "`+meta`: oblique with its out-of-object slot metadata, estimated):")
        md.append("")
        md.append(table(["live objects"] + [i + (" +meta" if pfx.endswith("meta.") else "") for i, pfx in cols], rows))
        md.append("")


# ----------------------------------------------------------------------------------
# Harness speed (fuzz targets under libFuzzer)

def parse_libfuzzer(text):
    m = re.search(r"stat::average_exec_per_sec:\s*(\d+)", text)
    n = re.search(r"stat::number_of_executed_units:\s*(\d+)", text)
    if m:
        return int(m.group(1)), int(n.group(1)) if n else None
    ms = re.findall(r"exec/s: (\d+)", text)
    if ms:
        return int(ms[-1]), None
    return None, None


def afl_speed(label, path, corpus, dic, seconds):
    """One AFL++ run of `seconds`; returns (exec/s, execs, note)."""
    if not shutil.which("afl-fuzz"):
        return None, None, "afl-fuzz missing"
    with tempfile.TemporaryDirectory() as work:
        inp = os.path.join(work, "in")
        os.makedirs(inp)
        if corpus and os.path.isdir(corpus):
            for f in os.listdir(corpus):
                src = os.path.join(corpus, f)
                if os.path.isfile(src) and os.path.getsize(src) < 1 << 20:
                    shutil.copy(src, os.path.join(inp, f))
        if not os.listdir(inp):
            with open(os.path.join(inp, "seed"), "wb") as f:
                f.write(b"seed")
        cmd = ["afl-fuzz", "-V", str(seconds), "-i", inp, "-o", os.path.join(work, "out")]
        if dic and os.path.isfile(dic):
            cmd += ["-x", dic]
        cmd += ["--", path]
        env = dict(os.environ, AFL_NO_UI="1", AFL_SKIP_CPUFREQ="1",
                   AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES="1", AFL_SKIP_CRASHES="1",
                   AFL_NO_AFFINITY="1")
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds * 4 + 60, env=env)
        except subprocess.TimeoutExpired:
            return None, None, "timeout"
        kept = keep_artifacts(label, os.path.join(work, "out", "default", "crashes"), "afl-")
        stats = os.path.join(work, "out", "default", "fuzzer_stats")
        eps = n = None
        if os.path.exists(stats):
            for line in open(stats):
                k, _, v = line.partition(":")
                if k.strip() == "execs_per_sec":
                    eps = float(v)
                elif k.strip() == "execs_done":
                    n = int(v)
        note = "" if eps else f"rc {r.returncode}: " + (r.stdout.strip().splitlines() or ["?"])[-1][:120]
        if kept:
            note = f"{kept} crash(es) found (kept in {ARTIFACTS})"
        return eps, n, note


ARTIFACTS = None  # where crash inputs found while timing go (never the source tree)


def keep_artifacts(label, src_dir, prefix=""):
    """Copy crash/timeout inputs from src_dir to ARTIFACTS; returns how many."""
    n = 0
    if not (ARTIFACTS and os.path.isdir(src_dir)):
        return 0
    os.makedirs(ARTIFACTS, exist_ok=True)
    for f in os.listdir(src_dir):
        if f.startswith(("crash-", "timeout-", "oom-", "leak-", "id:")):
            shutil.copy(os.path.join(src_dir, f), os.path.join(ARTIFACTS, f"{label}-{prefix}{f.replace(':', '_')}"))
            n += 1
    return n


def fuzz_speed(specs, seconds):
    """specs: "label=path[:asan][:afl][:weak][:corpus=DIR][:dict=FILE]" for each fuzz binary
    (libFuzzer, AFL++ persistent with :afl, the weak-memory build <t>-weak with :weak).  Runs each for `seconds` from a scratch
    copy of its corpus; returns rows."""
    rows = []
    for spec in specs:
        label, rest = spec.split("=", 1)
        parts = rest.split(":")
        path, opts = parts[0], parts[1:]
        asan = "asan" in opts
        engine = "AFL++" if "afl" in opts else "libFuzzer weak" if "weak" in opts else "libFuzzer"
        corpus = next((o[7:] for o in opts if o.startswith("corpus=")), None)
        dic = next((o[5:] for o in opts if o.startswith("dict=")), None)
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            rows.append({"target": label, "engine": engine, "asan": asan, "exec_per_s": None,
                         "execs": None, "note": "binary missing"})
            continue
        if engine == "AFL++":
            eps, n, note = afl_speed(label, path, corpus, dic, seconds)
            rows.append({"target": label, "engine": engine, "asan": asan, "exec_per_s": eps,
                         "execs": n, "note": note})
            log(f"  fuzz {label} (AFL++): {eps} exec/s {note}")
            continue
        with tempfile.TemporaryDirectory() as work:
            if corpus and os.path.isdir(corpus):
                for f in os.listdir(corpus):
                    src = os.path.join(corpus, f)
                    if os.path.isfile(src):
                        shutil.copy(src, os.path.join(work, f))
            art = os.path.join(work, "artifacts")
            os.makedirs(art)
            cmd = [path, f"-max_total_time={seconds}", "-print_final_stats=1", "-close_fd_mask=3",
                   f"-artifact_prefix={art}/"]
            if dic and os.path.isfile(dic):
                cmd.append(f"-dict={dic}")
            cmd.append(work)
            env = dict(os.environ)
            env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
            try:
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds * 4 + 60, env=env)
                eps, n = parse_libfuzzer(r.stderr)
                note = "" if eps else f"rc {r.returncode}: " + (r.stderr.strip().splitlines() or ["?"])[-1][:120]
                kept = keep_artifacts(label, art, "asan-" if asan else "")
                if "deadly signal" in r.stderr or "ERROR:" in r.stderr or kept:
                    what = next((l.strip() for l in r.stderr.splitlines() if "ERROR" in l), "a crash")
                    note = (f"stopped early: {what[:100]}" +
                            (f" (input kept in {ARTIFACTS})" if kept else ""))
            except subprocess.TimeoutExpired:
                eps, n, note = None, None, "timeout"
            rows.append({"target": label, "engine": engine, "asan": asan, "exec_per_s": eps,
                         "execs": n, "note": note})
            log(f"  fuzz {label}{' (asan)' if asan else ''}: {eps} exec/s {note}")
    return rows


# ----------------------------------------------------------------------------------
# Chart

def chart(out_dir, goals, s):
    if not shutil.which("gnuplot"):
        return None
    dat = os.path.join(out_dir, "ratios.dat")
    with open(dat, "w") as f:
        f.write("# label ratio target\n")
        for g in goals:
            if g["ratio"] is None:
                continue
            f.write(f"\"{g['id']}\" {g['ratio']['median']:.4f} {g['target']}\n")
    dat2 = os.path.join(out_dir, "alloc_ratios.dat")
    n2 = 0
    with open(dat2, "w") as f:
        f.write("# case typesafe/best-peer plain/best-peer\n")
        for size in ("64", "256"):
            for k in KINDS:
                g = f"alloc.{size}.{k}"
                bp = best_peer(s, g, ALLOC_PEERS)
                if not bp:
                    continue
                rt = s.ratio((g, "obq-typesafe"), (g, bp[0]))
                rp = s.ratio((g, "obq-plain"), (g, bp[0]))
                if rt is None and rp is None:
                    continue
                f.write(f"\"{size}B {k}\" {rt['median'] if rt else 'NaN'} {rp['median'] if rp else 'NaN'}\n")
                n2 += 1
    png = os.path.join(out_dir, "ratios.png")
    gp = f"""
set terminal pngcairo size 1100,800 font ",10"
set output "{png}"
set multiplot layout 2,1
set title "oblique goals: measured ratio (bars) vs target (points); below target is better except G8/G9 (throughput)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.7 border -1
set logscale y 2
set yrange [0.125:16]
set grid ytics
set key top left
set xtics rotate by 0
plot "{dat}" using 2:xtic(1) title "measured ratio", \\
     "" using 0:3 with points pt 7 ps 1.5 lc rgb "red" title "target"
set title "oblique / best peer (glibc, jemalloc, mimalloc), ns per alloc+free: below 1 = oblique faster"
set yrange [0.125:16]
"""
    if n2:
        gp += f"""plot "{dat2}" using 2:xtic(1) title "obq typesafe", "" using 3 title "obq plain", 1 with lines lc rgb "black" notitle
"""
    gp += "unset multiplot\n"
    r = subprocess.run(["gnuplot"], input=gp, text=True, capture_output=True)
    if r.returncode != 0:
        log("gnuplot failed: " + r.stderr[-500:])
        return None
    return png


# ----------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", required=True, help="build tree holding obq_bench")
    ap.add_argument("--out", required=True, help="output directory (docs/bench)")
    ap.add_argument("--reps", type=int, default=0, help="repetitions (default 7, --quick 3)")
    ap.add_argument("--quick", action="store_true", help="shorter runs (about a minute)")
    ap.add_argument("--families", default="alloc,rcu,checked,instr,scale,gpmem,fuzz")
    ap.add_argument("--fuzz", action="append", default=[],
                    help="label=path[:asan][:corpus=DIR][:dict=FILE], a libFuzzer binary to time")
    ap.add_argument("--fuzz-note", action="append", default=[], help="a line for the harness section")
    ap.add_argument("--artifacts", default=None, help="where crash inputs found while timing go")
    ap.add_argument("--fuzz-seconds", type=int, default=0)
    ap.add_argument("--command", default="", help="the command line to print in the docs")
    ap.add_argument("--note", action="append", default=[], help="a line for the notes section")
    a = ap.parse_args()
    reps = a.reps or (3 if a.quick else 7)
    global ARTIFACTS
    ARTIFACTS = a.artifacts or os.path.join(tempfile.gettempdir(), "obq-bench-artifacts")
    fam = set(a.families.split(","))
    q = ["--quick"] if a.quick else []
    os.makedirs(a.out, exist_ok=True)

    main_bin = find_bin(a.build, "obq_bench")
    if not main_bin:
        raise SystemExit(f"run.py: no obq_bench under {a.build}")
    chk_bin = find_bin(a.build, "obq_bench_checked")
    meta = {"machine": machine_info(), "reps": reps, "quick": a.quick,
            "command": a.command, "programs": {}}
    meta["programs"]["main"] = run_prog(main_bin, ["--meta"], must=True)[0]
    if chk_bin:
        meta["programs"]["checked"] = run_prog(chk_bin, ["--meta", "--bin", "checked"])[0]
    have_obq = meta["programs"]["main"].get("oblique") == 1
    notes = list(a.note)
    if not have_obq:
        notes.append("oblique was not built in this tree (allocator or RCU sources missing): "
                     "peers only, goals not measured.")
    elif meta["programs"]["main"].get("checked") != 0:
        notes.append("WARNING: obq_bench links a CHECKED oblique: configure with -DOBQ_CHECK=OFF "
                     "for release figures.")

    s = Samples()
    records = []
    t_start = time.time()
    fams_main = ",".join(f for f in ("alloc", "rcu") if f in fam)
    for r in range(reps):
        log(f"repetition {r + 1}/{reps} ({time.time() - t_start:.0f} s)")
        if fams_main:
            for rec in run_prog(main_bin, ["--rep", str(r), "--family", fams_main] + q):
                s.add(rec); records.append(rec)
        if chk_bin and "checked" in fam:
            for rec in run_prog(chk_bin, ["--rep", str(r), "--family", "checked", "--bin", "checked"] + q):
                s.add(rec); records.append(rec)
            # the release side of the access-layer cases lives in obq_bench's "checked" family
            for rec in run_prog(main_bin, ["--rep", str(r), "--family", "checked"] + q):
                s.add(rec); records.append(rec)
    if "scale" in fam:
        sreps = 1 if a.quick else min(reps, 3)
        for r in range(sreps):
            log(f"scale {r + 1}/{sreps} ({time.time() - t_start:.0f} s)")
            for rec in run_prog(main_bin, ["--rep", str(r), "--family", "scale"] + q):
                s.add(rec); records.append(rec)
    if "scale" in fam:
        names = [l.split()[1] for l in subprocess.run([main_bin, "--list", "--family", "scalemem"],
                 capture_output=True, text=True).stdout.splitlines() if l.strip()]
        log(f"scale memory: {len(names)} fresh processes ({time.time() - t_start:.0f} s)")
        for nm in names:
            for rec in run_prog(main_bin, ["--rep", "0", "--family", "scalemem", "--case", nm] + q):
                s.add(rec); records.append(rec)
    if "instr" in fam and shutil.which("valgrind"):
        progs = [(main_bin, "instr", "main")]
        if chk_bin and not a.quick:
            progs.append((chk_bin, "instr-checked", "checked"))
        for prog, family, bin_name in progs:
            names = [l.split()[1] for l in subprocess.run([prog, "--list", "--family", family],
                     capture_output=True, text=True).stdout.splitlines() if l.strip()]
            log(f"instruction counts ({bin_name}): {len(names)} callgrind runs ({time.time() - t_start:.0f} s)")
            for nm in names:
                for rec in instr_count(prog, family, nm, bin_name):
                    s.add(rec); records.append(rec)
    gp_records = []
    if "gpmem" in fam and have_obq:
        log(f"grace-period memory ({time.time() - t_start:.0f} s)")
        gp_records = run_prog(main_bin, ["--rep", "0", "--family", "gpmem"] + q)
        records.extend(gp_records)
    fuzz_rows, fuzz_notes = [], list(a.fuzz_note)
    if "fuzz" in fam and a.fuzz:
        log(f"harness speed ({time.time() - t_start:.0f} s)")
        fuzz_rows = fuzz_speed(a.fuzz, a.fuzz_seconds or (1 if a.quick else 5))
    elapsed = time.time() - t_start

    # Goals
    goals = []
    for gid, text, num, den, op, target in GOALS:
        r = s.ratio(num, den)
        ir = None
        ig = lambda grp: "instr." + grp.replace("allocpair.", "alloc.").replace("syncpair", "sync")
        inum, iden = s.median(ig(num[0]), num[1]), s.median(ig(den[0]), den[1])
        if inum and iden:
            ir = inum / iden
        goals.append({"id": gid, "goal": text, "numerator": list(num), "denominator": list(den),
                      "op": op, "target": target, "ratio": r,
                      "numerator_median": s.median(*num), "denominator_median": s.median(*den),
                      "instr_ratio": ir,
                      "verdict": judge(op, r["median"] if r else None, target)})

    # Markdown
    md = []
    mi = meta["machine"]
    pm = meta["programs"]["main"]
    md.append(f"# oblique benchmark — {mi['date'][:10]}")
    md.append("")
    md.append(f"Command: `{a.command or 'alloc/bench/run.py'}` · {reps} repetitions, interleaved "
              f"(every program once per repetition, cases shuffled per repetition) · "
              f"{elapsed:.0f} s · {mi.get('cpu', '?')}, {mi['ncpu']} CPUs, Linux {mi['kernel']} · "
              f"{pm.get('compiler')} · oblique RCU backend `{pm.get('backend')}`, "
              f"checked={pm.get('checked')} · membarrier private expedited: "
              f"{'yes' if pm.get('membarrier_private_expedited') else 'no'}")
    md.append("")
    md.append("Values are medians over repetitions; a ratio is the median of the per-repetition "
              "ratios (both sides measured in the same repetition), with its min–max in brackets. "
              "Two-thread, grace-period and barrier figures are noisy on a shared 2-CPU machine: "
              "compare them within a run only.")
    md.append("")
    md.append("## Goals")
    md.append("")
    rows = []
    for g in goals:
        rows.append([g["id"], g["goal"], f"{g['numerator'][1]} {fmt(g['numerator_median'])} / "
                     f"{g['denominator'][1]} {fmt(g['denominator_median'])}",
                     fmt_ratio(g["ratio"]), f"{g['op']} {g['target']}",
                     f"**{g['verdict']}**",
                     f"{g['instr_ratio']:.2f}×" if g.get("instr_ratio") else "–"])
    md.append(table(["", "goal", "medians", "time ratio", "target", "verdict",
                     "instructions ratio"], rows))
    md.append("")
    md.append("The verdict is on time (ratio of medians of paired repetitions). The instructions "
              "ratio (callgrind, per operation, deterministic) is the noise-free companion: see "
              "the instruction-count table below.")
    md.append("")
    md.append("## Allocation (fixed size, ns per alloc+free pair; lower is better)")
    md.append("")
    md.append("lifo: loop {alloc; write; free}. batch: allocate 10,000 writing each, free all in "
              "order. (paired): every allocator in one case, in ~3 ms chunks taken in turn, "
              "median over the chunks — the form the goals use. 2t-*: two threads at once, per thread. xthread: A allocates and writes, B "
              "frees, through an SPSC ring (ns per object end to end; `ring` = the ring alone). "
              "freelist: a trivial out-of-line LIFO free list, the floor (per thread, no "
              "cross-thread column).")
    md.append("")
    alloc_tables(s, md)
    md.append("## RCU")
    md.append("")
    md.append("read: ns per {read_lock; p = dereference(gp); use p; read_unlock}, inlined. "
              "sync.Nr: µs per synchronize with N readers spinning in read-side sections "
              "(qsbr readers report a quiescent state after each section). syncpair.Nr: the "
              "same, with the same reader threads running sections of every flavour in turn "
              "and the writer calling each flavour's synchronize in turn, so samples are paired "
              "under the same scheduling (the goal uses it). call.Nr: callbacks "
              "per second for 200,000 call()s and one barrier() (ck-epoch: ck_epoch_call + "
              "ck_epoch_barrier, which runs the callbacks itself); call-enqueue: ns per call().")
    md.append("")
    rcu_tables(s, md)
    md.append("## Cost of checking (checked library / release library, same run)")
    md.append("")
    checked_tables(s, md)
    md.append("## Instructions per operation (callgrind; deterministic)")
    md.append("")
    instr_tables(s, md)
    md.append("## Scale")
    md.append("")
    scale_tables(s, md)
    md.append("## Memory waiting for grace periods under a stream of long readers")
    md.append("")
    if gp_records:
        gd = {r["group"] + "/" + r["impl"]: r["value"] for r in gp_records}
        for r in gp_records:
            pass
        md.append(gpmem_text(gp_records))
    elif not have_obq:
        md.append("_Not measured (oblique not built)._")
    else:
        md.append("_Not run (gpmem not in --families)._")
    md.append("")
    md.append("## Harness speed (exec/s, one core)")
    md.append("")
    if fuzz_rows:
        triv = {(r["engine"], r["asan"]): r["exec_per_s"] for r in fuzz_rows
                if r["target"] == "trivial" and r["exec_per_s"]}
        md.append(f"Each fuzz target runs {a.fuzz_seconds or (1 if a.quick else 5)} s from a copy of "
                  "its corpus (libFuzzer: -max_total_time; AFL++: afl-fuzz -V, persistent mode), "
                  "beside a trivial target of the same engine and build in the same run.")
        md.append("")
        rows = []
        for r in fuzz_rows:
            # the weak-memory build is compared with libFuzzer's trivial target of its
            # libraries' build (ASan in the fuzz preset)
            t = triv.get(("libFuzzer" if r["engine"] == "libFuzzer weak" else r["engine"], r["asan"]))
            rel = f"{r['exec_per_s'] / t:.4f}" if t and r["exec_per_s"] else "–"
            rows.append([r["target"], r["engine"], "yes" if r["asan"] else "no", fmt(r["exec_per_s"]),
                         fmt(r["execs"]), rel, r.get("note", "")])
        md.append(table(["target", "engine", "ASan", "exec/s", "execs", "/ trivial", "note"], rows))
        by = {(r["target"], r["engine"], r["asan"]): r["exec_per_s"] for r in fuzz_rows}
        weak = [(r["target"], r["exec_per_s"], by.get((r["target"], "libFuzzer", True)))
                for r in fuzz_rows if r["engine"] == "libFuzzer weak"]
        if weak:
            md.append("")
            md.append("The weak-memory build (docs/weak-memory.md) beside the ASan build of the same "
                      "target, same run: " + ", ".join(
                          f"{t} {w / a_:.2f}" if w and a_ else f"{t} –" for t, w, a_ in weak) + ".")
    else:
        md.append("_No libFuzzer binaries found._")
    for n in fuzz_notes:
        md.append(f"- {n}")
    md.append("")
    notes += FAILURES
    if notes:
        md.append("## Notes")
        md.append("")
        for n in notes:
            md.append(f"- {n}")
        md.append("")
    png = chart(a.out, goals, s)
    if png:
        md.append(f"![ratios]({os.path.basename(png)})")
        md.append("")
    text = "\n".join(md)
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write(text)

    summary = {}
    for (b, g, i), v in s.by.items():
        vals = list(v.values())
        summary.setdefault(b, {}).setdefault(g, {})[i] = {
            "median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals),
            "unit": s.metric.get(g)}
    with open(os.path.join(a.out, "results.json"), "w") as f:
        head = json.dumps({"meta": meta, "elapsed_s": elapsed, "goals": goals, "summary": summary,
                           "gpmem": gp_records, "fuzz": fuzz_rows, "notes": notes}, indent=1)
        # one sample a line: readable diffs, a tenth of the size
        f.write(head[:-2] + ',\n "samples": [\n' +
                ",\n".join("  " + json.dumps(r, separators=(",", ":")) for r in records) + "\n ]\n}\n")
    print(text)


def gpmem_text(recs):
    d = {r["group"].replace("gpmem.", ""): r["value"] for r in recs}
    mb = lambda v: f"{v / 1e6:.1f} MB" if v is not None else "–"
    g = d.get
    lines = []
    verdict = "**bounded**" if g("bounded") == 1 else "**NOT bounded — an allocator/RCU bug**"
    lines.append(
        f"Two readers loop over {g('section_us', 0):.0f} µs read-side sections, half a section "
        f"apart, so a reader is always inside one ({g('reader_sections', 0):.0f} sections in "
        f"{g('seconds', 0):.1f} s); meanwhile the writer allocates {mb(g('round_bytes'))} of 256 B "
        f"typesafe objects, frees them and shrinks the cache, {g('rounds', 0):.0f} rounds. "
        f"{g('gps', 0):.0f} grace periods completed (mean {g('gp_ms', 0):.1f} ms). Memory waiting "
        f"for a grace period peaked at {mb(g('peak_waiting_bytes'))} "
        f"({g('peak_waiting_bytes', 0) / max(g('round_bytes', 1), 1):.1f} rounds' worth; first half "
        f"{mb(g('peak_waiting_1st'))}, second half {mb(g('peak_waiting_2nd'))}; two mean grace "
        f"periods of churn + 2 rounds would be {mb(g('expect_bytes'))}), and fell to "
        f"{mb(g('after_barrier_bytes'))} after the readers stopped and obq_rcu_barrier() returned: "
        f"{verdict}.")
    lines.append("")
    lines.append(table(["measure", "value"], [[k, fmt(v)] for k, v in sorted(d.items())]))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
