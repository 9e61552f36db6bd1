#!/usr/bin/env bash
# ci/coverage.sh — clang source-based coverage of what the corpus exercises: builds the
# standalone runners with -DOBQ_COVERAGE=ON, replays the corpus of every target — the
# committed one, and any fuzzed or merged corpus given with --corpus — (and a short
# stress run), merges the profiles and writes an HTML report, a per-directory and
# per-file summary (line, branch, function coverage from llvm-cov's JSON export).
#
#   ci/coverage.sh [--targets a,b,...] [--corpus DIR]... [--stress-seconds S] [--tests]
#                  [--no-build]
#
#   --targets L          comma-separated subset of targets/targets.list (default: all)
#   --corpus DIR         also replay DIR/<t>/ for every target (raw inputs: what
#                        libFuzzer and AFL++ write, e.g. the nightly's merged corpus
#                        fuzz-out/corpus-cache, or ci/libfuzzer-ci.sh's --merge-into);
#                        repeatable
#   --stress-seconds S   also run each <t>-stress for S seconds over its corpus (default 2;
#                        0: deterministic replay only)
#   --tests              also build and run the unit tests (ctest -L unit) into the profile
#   --no-build           use the existing build/coverage tree as it is
#
# Output (OBQ_BUILD_ROOT=DIR moves build/ to DIR):
#   build/coverage/html/index.html   the report: open it in a browser
#                                    (xdg-open build/coverage/html/index.html)
#   build/coverage/summary.txt       per directory, then per file: line %, branch %,
#                                    functions % (also printed)
#   build/coverage/summary.json      the same figures (llvm-cov export -summary-only,
#                                    grouped by directory)
#   build/coverage/coverage.profdata the merged profile (llvm-cov show/report take it)
# Exit status: 0 report written; 1 a corpus replay failed (the report is still written);
# 2 usage, build or tool error.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
me="ci/coverage.sh"
die() { echo "$me: $*" >&2; exit 2; }

only=""
stress_s=2
tests=0
build=1
corpora=()
while [ $# -gt 0 ]; do
  case "$1" in
    --targets) [ $# -ge 2 ] || die "--targets needs a list"; only=$2; shift 2 ;;
    --stress-seconds) [ $# -ge 2 ] || die "--stress-seconds needs a value"
      case "$2" in ''|*[!0-9]*) die "--stress-seconds needs a whole number, got '$2'" ;; esac
      stress_s=$2; shift 2 ;;
    --tests) tests=1; shift ;;
    --corpus) [ $# -ge 2 ] || die "--corpus needs a directory"
      [ -d "$2" ] || die "--corpus $2: not a directory"
      corpora+=("$(cd "$2" && pwd)"); shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
done
. ci/targets.sh
select_targets "$me" "$only"

[ $build = 1 ] && { bash ci/deps.sh fuzz || die "ci/deps.sh fuzz failed"; }
# The llvm tools of the clang that compiles (clang-14 here: llvm-profdata-14, llvm-cov-14).
cc=${CC_COVERAGE:-clang}
major=$("$cc" --version 2>/dev/null | sed -nE 's/.*clang version ([0-9]+).*/\1/p' | head -n 1)
tool() {
  local n
  for n in "$1-$major" "$1"; do command -v "$n" >/dev/null 2>&1 && { echo "$n"; return; }; done
  die "$1 not found (install llvm: bash ci/deps.sh fuzz)"
}
profdata=$(tool llvm-profdata)
llvmcov=$(tool llvm-cov)

broot=${OBQ_BUILD_ROOT:-build}
bdir=$broot/coverage
if [ $build = 1 ]; then
  echo "== building with clang source-based coverage in $bdir"
  mkdir -p "$broot"
  testsopt=OFF; [ $tests = 1 ] && testsopt=ON
  # -runtime-counter-relocation: continuous mode ("%c" in LLVM_PROFILE_FILE), the
  # counters live in the mapped profile file, so a process that aborts — a report's
  # child, an expected-failure test — still leaves its coverage (the checker's report
  # code runs nowhere else).
  cmake -S . -B "$bdir" -G Ninja -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_FLAGS="-mllvm -runtime-counter-relocation" -DOBQ_COVERAGE=ON -DOBQ_CHECK=ON -DOBQ_FUZZ_ENGINE=none -DOBQ_BUILD_BENCH=OFF \
    -DOBQ_BUILD_TESTS=$testsopt >"$broot/coverage.log" 2>&1 ||
    { tail -n 40 "$broot/coverage.log" >&2; die "configure failed ($broot/coverage.log)"; }
  bt=()
  for t in "${targets[@]}"; do bt+=("$t" "$t-stress"); done
  bt+=(obq-trace)
  [ $tests = 1 ] && bt=(all)
  cmake --build "$bdir" -j "$(nproc)" --target "${bt[@]}" >>"$broot/coverage.log" 2>&1 ||
    { grep -E 'error|FAILED' "$broot/coverage.log" | head -n 30 >&2; die "build failed ($broot/coverage.log)"; }
fi
bdir=$(cd "$bdir" && pwd)
prof=$bdir/profiles
rm -rf "$prof" "$bdir/html"
mkdir -p "$prof"

objs=()
fail=0
# The runners' warm-up (synthetic programs that grow the allocator's pools before the
# first input, targets/harness/engine.c) would count as coverage the corpus never gave.
export OBQ_H_WARMUP=0
echo "== replaying the corpus of ${#targets[@]} target(s)"
for t in "${targets[@]}"; do
  bin=$bdir/targets/$t
  [ -x "$bin" ] || die "$bin is missing (build failed? $broot/coverage.log)"
  objs+=("$bin")
  dirs=()
  for d in "corpus/$t" "corpus/regressions/$t" "corpus/$t/bytes"; do
    [ -d "$d" ] && [ -n "$(ls -A "$d" 2>/dev/null)" ] && dirs+=("$d")
  done
  committed=("${dirs[@]}")
  nfuzzed=0
  for c in "${corpora[@]}"; do
    [ -d "$c/$t" ] && [ -n "$(ls -A "$c/$t" 2>/dev/null)" ] || continue
    dirs+=("$c/$t"); nfuzzed=$((nfuzzed + $(find "$c/$t" -maxdepth 1 -type f | wc -l)))
  done
  if [ ${#dirs[@]} -eq 0 ]; then echo "  $t: no corpus (corpus/$t is empty)"; continue; fi
  # (bounded: each run by OBQ_H_RUN_TIMEOUT, the whole replay here — a hang is a failure)
  LLVM_PROFILE_FILE="$prof/$t-%c%p-%m.profraw" timeout -k 10 1800 "$bin" --quiet "${dirs[@]}" >"$prof/$t.log" 2>&1 ||
    { echo "  $t: corpus replay FAILED (see $prof/$t.log)"; fail=1; }
  # The control: the malloc adapter must report (in children that abort: continuous mode
  # keeps their counters).
  if [ -d "corpus/$t/control" ] && [ -f "corpus/$t/control/RULE" ]; then
    LLVM_PROFILE_FILE="$prof/$t-control-%c%p-%m.profraw" timeout -k 10 600 "$bin" --adapter=malloc \
      --expect-report="$(head -n 1 "corpus/$t/control/RULE")" --quiet "corpus/$t/control" >>"$prof/$t.log" 2>&1 || true
  fi
  # Every command of the runner and of obq-trace, once, on one trace (and the control's
  # first, which reports): encode, decode, replay, roundtrip, --selfcheck, minimize, and
  # a refused argument.
  one=$(ls "corpus/$t"/*.trace 2>/dev/null | head -n 1 || true)
  if [ -n "$one" ]; then
    cmd() { LLVM_PROFILE_FILE="$prof/$t-cmd-%c%p-%m.profraw" timeout 120 "$@" >>"$prof/$t.cmd.log" 2>&1 || true; }
    cmd "$bin" encode "$one" -o "$prof/$t.input"
    cmd "$bin" decode "$prof/$t.input"
    cmd "$bin" replay "$one"
    cmd "$bin" roundtrip "corpus/$t"
    cmd "$bin" --selfcheck --quiet "corpus/$t"
    cmd "$bin" --bogus-option
    cmd "$bin" decode "$prof/no-such-input"
    cmd "$bdir/targets/obq-trace" decode --bin "$bin" "$prof/$t.input"
    cmd "$bdir/targets/obq-trace" replay --bin "$bin" "$one"
    cmd "$bdir/targets/obq-trace" encode "$one" -o "$prof/$t.input2"
    cmd "$bdir/targets/obq-trace" roundtrip --target "$t" --bin "$bin" "$one"
    cmd "$bdir/targets/obq-trace" --bogus
    ctl=$(ls "corpus/$t/control"/*.trace 2>/dev/null | head -n 1 || true)
    if [ -n "$ctl" ]; then
      cmd env OBQ_ADAPTER=malloc "$bin" replay "$ctl"
      cmd env OBQ_ADAPTER=malloc "$bin" minimize "$ctl" -o "$prof/$t.min"
      cmd env OBQ_ADAPTER=malloc "$bdir/targets/obq-trace" minimize --bin "$bin" "$ctl" -o "$prof/$t.min2"
    fi
  fi
  if [ "$stress_s" -gt 0 ] && [ -x "$bdir/targets/$t-stress" ]; then
    objs+=("$bdir/targets/$t-stress")
    LLVM_PROFILE_FILE="$prof/$t-stress-%c%p-%m.profraw" timeout $((stress_s + 60)) \
      "$bdir/targets/$t-stress" --quiet --seconds "$stress_s" "${committed[@]}" >>"$prof/$t.log" 2>&1 ||
      { echo "  $t: stress run FAILED (see $prof/$t.log)"; fail=1; }
  fi
  echo "  $t: $(ls "$prof"/"$t"-*.profraw 2>/dev/null | wc -l) profile(s)$( [ ${#corpora[@]} -gt 0 ] && echo ", $nfuzzed fuzzed input(s) from --corpus")"
done
[ -x "$bdir/targets/obq-trace" ] && objs+=("$bdir/targets/obq-trace")
if [ $tests = 1 ]; then
  echo "== unit tests (ctest -L unit)"
  (cd "$bdir" && LLVM_PROFILE_FILE="$prof/test-%c%p-%m.profraw" ctest -L unit -j "$(nproc)" >"$prof/ctest.log" 2>&1) ||
    echo "  some unit tests failed (see $prof/ctest.log)"
  while IFS= read -r x; do objs+=("$x"); done < <(find "$bdir/alloc/tests" "$bdir/sanitizers/tests" -maxdepth 1 -type f -perm -u+x 2>/dev/null)
fi
ls "$prof"/*.profraw >/dev/null 2>&1 || die "no profiles were written (nothing ran?)"

"$profdata" merge -sparse "$prof"/*.profraw -o "$bdir/coverage.profdata" || die "llvm-profdata merge failed"
objargs=("${objs[0]}")
for o in "${objs[@]:1}"; do objargs+=(-object "$o"); done
# Only the project's own sources: not system headers, not generated files, not tests.
here_re=$(printf '%s' "$here" | sed 's/[][\\.^$*+?(){}|]/\\&/g')
ignore="^/usr/|^$here_re/(build[^/]*|alloc/tests|sanitizers/tests|targets/tests)/"
"$llvmcov" show -format=html -output-dir="$bdir/html" -instr-profile="$bdir/coverage.profdata" \
  -show-branches=count -show-line-counts-or-regions -ignore-filename-regex="$ignore" \
  -project-title="oblique: corpus replay$( [ ${#corpora[@]} -gt 0 ] && echo " + fuzzed corpus")" "${objargs[@]}" >/dev/null 2>"$bdir/html.log" ||
  { cat "$bdir/html.log" >&2; die "llvm-cov show failed"; }
"$llvmcov" export -format=text -summary-only -instr-profile="$bdir/coverage.profdata" \
  -ignore-filename-regex="$ignore" "${objargs[@]}" >"$bdir/export.json" 2>"$bdir/export.log" ||
  { cat "$bdir/export.log" >&2; die "llvm-cov export failed"; }

# Per directory, then per file, from the JSON export (data[0].files[].summary).
python3 - "$bdir/export.json" "$here/" "$bdir/summary.json" <<'EOF' | tee "$bdir/summary.txt"
import json, os, sys
data = json.load(open(sys.argv[1]))["data"][0]
root = sys.argv[2]
kinds = ("lines", "branches", "functions")
def pct(c, n): return "%5.1f %%" % (100.0 * c / n) if n else "    -  "
def row(name, s):
    return "%-40s %s of %5d lines   %s of %5d branches   %s of %4d functions" % (
        name, pct(*s["lines"]), s["lines"][1], pct(*s["branches"]), s["branches"][1],
        pct(*s["functions"]), s["functions"][1])
dirs, files, total = {}, [], {k: [0, 0] for k in kinds}
for f in data["files"]:
    name = f["filename"][len(root):] if f["filename"].startswith(root) else f["filename"]
    s = {k: [f["summary"][k]["covered"], f["summary"][k]["count"]] for k in kinds}
    if s["lines"][1] == 0:
        continue
    files.append((name, s))
    d = dirs.setdefault(os.path.dirname(name) or ".", {k: [0, 0] for k in kinds})
    for k in kinds:
        for acc in (d, total):
            acc[k][0] += s[k][0]; acc[k][1] += s[k][1]
print("per directory")
for d in sorted(dirs):
    print(row(d + "/", dirs[d]))
print(row("TOTAL", total))
print()
print("per file")
for name, s in sorted(files):
    print(row(name, s))
json.dump({"total": total, "directories": dirs, "files": dict(files)}, open(sys.argv[3], "w"), indent=1)
EOF
[ "${PIPESTATUS[0]}" = 0 ] || die "the summary of $bdir/export.json failed"
echo
echo "HTML report: $bdir/html/index.html   (xdg-open it; summary: $bdir/summary.txt, $bdir/summary.json)"
if [ $fail = 1 ]; then echo "$me: a corpus replay or stress run failed (report written anyway)"; exit 1; fi
