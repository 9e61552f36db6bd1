#!/usr/bin/env python3
"""report.py — aggregate ci/mutants.sh's raw trial results (docs/mutants.md).

Reads <raw>/<method>/<mutant>/<trial>.json, <raw>/serial/<mutant>.json and
<raw>/corpus/<mutant>.json; writes <out>/results.json (per mutant and method: trials,
found, median time-to-bug with censoring at the budget, rules seen; the serial check;
the corpus replay; every trial record), <out>/results.md (the tables, also printed) and
<out>/ttb.png (time-to-bug per mutant and method, log scale; gnuplot).

Median with censoring: a trial that did not find the bug counts as taking the budget
(right-censored), so the median is the budget (shown as ">B") when half or more of the
trials did not find it — never computed from the successful trials alone."""
import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

METHODS = ["libfuzzer", "afl", "stress-asan", "stress-tsan", "weak"]


def load_catalog(path):
    rows = []
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            c = line.rstrip("\n").split("\t")
            if len(c) < 8:
                continue
            rows.append(dict(id=c[0], cls=c[1], mutant=c[2], target=c[3], smoke=c[4],
                             rule=c[5], interleaving=c[6] == "yes", ordering=c[7] == "yes",
                             site=c[8] if len(c) > 8 else "", mirrors=c[9] if len(c) > 9 else ""))
    return rows


def censored_median(trials, budget):
    times = sorted(t["time"] if t["found"] else float(budget) for t in trials)
    if not times:
        return None, False
    m = statistics.median(times)
    found = sum(1 for t in trials if t["found"])
    # censored: the median falls on a trial that did not find it (counted at the budget)
    return m, found < len(trials) and m >= budget


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--catalog", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--budget", type=float, default=60)
    ap.add_argument("--methods", default=",".join(METHODS))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    cat = load_catalog(a.catalog)
    trials = []
    for p in glob.glob(os.path.join(a.raw, "*", "*", "*.json")):
        if "/serial/" in p or "/corpus/" in p:
            continue
        try:
            with open(p) as f:
                trials.append(json.load(f))
        except (OSError, ValueError):
            print("report.py: skipping unreadable %s" % p, file=sys.stderr)
    methods = [m for m in METHODS if any(t["method"] == m for t in trials)]

    def cell(mut, meth):
        ts = [t for t in trials if t["mutant"] == mut and t["method"] == meth]
        if not ts:
            return None
        budget = max(t["budget"] for t in ts)
        med, cens = censored_median(ts, budget)
        rules = sorted({t["rule"] for t in ts if t["found"] and t["rule"]})
        ex = sorted(t["execs"] for t in ts if t["found"] and t.get("execs"))
        return dict(trials=len(ts), found=sum(1 for t in ts if t["found"]), budget=budget,
                    execs_median=statistics.median(ex) if ex else None,
                    median=med, censored=bool(cens), rules=rules,
                    times=[round(t["time"], 2) if t["found"] else None for t in
                           sorted(ts, key=lambda t: t["trial"])])

    def side(kind, mut):
        p = os.path.join(a.raw, kind, mut + ".json")
        if os.path.exists(p):
            with open(p) as f:
                return json.load(f)
        return None

    res = dict(generated=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), methods=methods,
               mutants=[], clean=[], trials=sorted(trials, key=lambda t: (t["method"], t["mutant"], t["trial"])))
    for r in cat:
        e = dict(r)
        e["results"] = {m: cell(r["mutant"], m) for m in methods}
        e["serial"] = side("serial", r["mutant"])
        e["corpus"] = side("corpus", r["mutant"])
        res["mutants"].append(e)
    cleans = sorted({t["mutant"] for t in trials if t["mutant"].startswith("clean-")})
    for c in cleans:
        res["clean"].append(dict(run=c, results={m: cell(c, m) for m in methods}))
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(res, f, indent=1)

    # ---- Markdown
    def fmt(c, expected=None):
        if c is None:
            return "—"
        if expected == "none":
            # an equivalent mutant (catalog rule "none"): a find is a false positive
            if c["found"]:
                return "FALSE POSITIVE %d/%d" % (c["found"], c["trials"])
            return "silent %d/%d (equivalent)" % (c["trials"], c["trials"])
        med = ">%gs" % c["budget"] if c["censored"] else "%.1fs" % c["median"]
        return "%d/%d, %s" % (c["found"], c["trials"], med)

    L = []
    L.append("Generated %s by `ci/mutants.sh` (raw trials: %d)." % (res["generated"], len(trials)))
    L.append("")
    L.append("Cells: trials that found the mutant / trials, median time-to-bug (a trial that "
             "did not find it counts as the budget; `>B` = censored median). — = not run. "
             "An equivalent mutant (expected `none`: the change is not a bug of its target) "
             "must stay silent: its cell counts the silent trials, and a report is a "
             "FALSE POSITIVE.")
    L.append("")
    L.append("| id | mutant | class | target | " + " | ".join(methods) +
             " | libFuzzer execs to bug | rule(s) fired | expected | interleaving: serial replay | corpus catches |")
    L.append("|---|---|---|---|" + "---|" * len(methods) + "---|---|---|---|---|")
    for e in res["mutants"]:
        rules = sorted({x for m in methods if e["results"][m] for x in e["results"][m]["rules"]})
        s = e["serial"]
        if e["ordering"]:
            ser = "n/a (ordering)"
        elif s is None and e["smoke"] == "stress":
            ser = "claims yes: n/a (builtin backend, stress only)"
        elif s is None:
            ser = ("claims yes: not checked" if e["interleaving"] else "no")
        else:
            ser = "%s: %s" % ("claims yes" if e["interleaving"] else "claims no",
                              "silent" if s["serial_silent"] else "reports " + s["serial_rule"])
        c = e["corpus"]
        cor = "—" if c is None else "%d/%d" % (c["catching"], c["inputs"])
        lf = e["results"].get("libfuzzer")
        ex = "%d" % lf["execs_median"] if lf and lf.get("execs_median") else "—"
        L.append("| %s | `%s` | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            e["id"], e["mutant"], e["cls"], e["target"],
            " | ".join(fmt(e["results"][m], e["rule"]) for m in methods), ex,
            ", ".join(rules) or "—", e["rule"], ser, cor))
    if res["clean"]:
        L.append("")
        L.append("Clean runs (no mutant selected; any report is a false positive):")
        L.append("")
        L.append("| run | " + " | ".join(methods) + " | reports |")
        L.append("|---|" + "---|" * len(methods) + "---|")
        for c in res["clean"]:
            rules = sorted({x for m in methods if c["results"][m] for x in c["results"][m]["rules"]})
            L.append("| %s | %s | %s |" % (c["run"], " | ".join(
                "—" if c["results"][m] is None else "%d/%d reported" % (c["results"][m]["found"], c["results"][m]["trials"])
                for m in methods), ", ".join(rules) or "none"))
    md = "\n".join(L) + "\n"
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write(md)
    print(md)
    # docs/mutants.md carries the same tables between markers (if present)
    doc = os.path.join(os.path.dirname(os.path.abspath(a.out)), "mutants.md")
    if os.path.exists(doc):
        with open(doc) as f:
            text = f.read()
        b, e = "<!-- results:begin -->", "<!-- results:end -->"
        if b in text and e in text:
            text = text[:text.index(b) + len(b)] + "\n" + md + text[text.index(e):]
            with open(doc, "w") as f:
                f.write(text)

    # ---- plot (gnuplot): one point per trial, censored trials at the budget (open marks)
    if shutil.which("gnuplot") and trials:
        dat = os.path.join(a.out, "ttb.dat")
        names = [e["mutant"] for e in res["mutants"]]
        with open(dat, "w") as f:
            for mi, m in enumerate(methods):
                f.write("# method %s\n" % m)
                for i, e in enumerate(res["mutants"]):
                    for t in trials:
                        if t["mutant"] == e["mutant"] and t["method"] == m:
                            x = i + (mi - (len(methods) - 1) / 2) * 0.15
                            f.write("%g %g %d\n" % (x, max(t["time"] if t["found"] else t["budget"], 0.1),
                                                    1 if t["found"] else 0))
                f.write("\n\n")
        tics = ", ".join('"%s" %d' % (n, i) for i, n in enumerate(names))
        plots = []
        for mi, m in enumerate(methods):
            plots.append("'%s' index %d using 1:($3==1?$2:1/0) with points pt 7 ps 1.2 lc %d title '%s (found)'"
                         % (dat, mi, mi + 1, m))
            plots.append("'%s' index %d using 1:($3==0?$2:1/0) with points pt 6 ps 1.2 lc %d title '%s (not found, at budget)'"
                         % (dat, mi, mi + 1, m))
        gp = """set terminal pngcairo noenhanced size 1400,700 font ',10'
set output '%s'
set logscale y
set ylabel 'time to bug (s, log scale)'
set yrange [0.1:%g]
set xrange [-0.7:%g]
set xtics (%s) rotate by 45 right
set grid ytics
set key outside right top
set title 'oblique seeded-bug benchmark: time to bug per mutant and method (%s)'
plot %s
""" % (os.path.join(a.out, "ttb.png"), a.budget * 2, len(names) - 0.3, tics, res["generated"], ", ".join(plots))
        try:
            subprocess.run(["gnuplot"], input=gp.encode(), check=True)
        except subprocess.CalledProcessError as ex:
            print("report.py: gnuplot failed: %s" % ex, file=sys.stderr)
        os.remove(dat)


if __name__ == "__main__":
    main()
