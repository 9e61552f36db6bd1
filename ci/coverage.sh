#!/usr/bin/env bash
# ci/coverage.sh — clang source-based coverage of what the corpus exercises: builds the
# standalone runners with -DOBQ_COVERAGE=ON, replays the corpus of every target (and a
# short stress run), merges the profiles and writes an HTML report and a per-file
# summary (line and branch coverage).
#
#   ci/coverage.sh [--targets a,b,...] [--stress-seconds S] [--tests] [--no-build]
#
#   --targets L          comma-separated subset of targets/targets.list (default: all)
#   --stress-seconds S   also run each <t>-stress for S seconds over its corpus (default 2;
#                        0: deterministic replay only)
#   --tests              also build and run the unit tests (ctest -L unit) into the profile
#   --no-build           use the existing build/coverage tree as it is
#
# Output (OBQ_BUILD_ROOT=DIR moves build/ to DIR):
#   build/coverage/html/index.html   the report: open it in a browser
#                                    (xdg-open build/coverage/html/index.html)
#   build/coverage/summary.txt       per file: line % and branch % (also printed)
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
while [ $# -gt 0 ]; do
  case "$1" in
    --targets) [ $# -ge 2 ] || die "--targets needs a list"; only=$2; shift 2 ;;
    --stress-seconds) [ $# -ge 2 ] || die "--stress-seconds needs a value"
      case "$2" in ''|*[!0-9]*) die "--stress-seconds needs a whole number, got '$2'" ;; esac
      stress_s=$2; shift 2 ;;
    --tests) tests=1; shift ;;
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
  cmake -S . -B "$bdir" -G Ninja -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Debug \
    -DOBQ_COVERAGE=ON -DOBQ_CHECK=ON -DOBQ_FUZZ_ENGINE=none -DOBQ_BUILD_BENCH=OFF \
    -DOBQ_BUILD_TESTS=$testsopt >"$broot/coverage.log" 2>&1 ||
    { tail -n 40 "$broot/coverage.log" >&2; die "configure failed ($broot/coverage.log)"; }
  bt=()
  for t in "${targets[@]}"; do bt+=("$t" "$t-stress"); done
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
  if [ ${#dirs[@]} -eq 0 ]; then echo "  $t: no corpus (corpus/$t is empty)"; continue; fi
  LLVM_PROFILE_FILE="$prof/$t-%p-%m.profraw" "$bin" --quiet "${dirs[@]}" >"$prof/$t.log" 2>&1 ||
    { echo "  $t: corpus replay FAILED (see $prof/$t.log)"; fail=1; }
  # The control: the malloc adapter must report (children abort; their profiles are lost).
  if [ -d "corpus/$t/control" ] && [ -f "corpus/$t/control/RULE" ]; then
    LLVM_PROFILE_FILE="$prof/$t-control-%p-%m.profraw" "$bin" --adapter=malloc \
      --expect-report="$(head -n 1 "corpus/$t/control/RULE")" --quiet "corpus/$t/control" >>"$prof/$t.log" 2>&1 || true
  fi
  if [ "$stress_s" -gt 0 ] && [ -x "$bdir/targets/$t-stress" ]; then
    objs+=("$bdir/targets/$t-stress")
    LLVM_PROFILE_FILE="$prof/$t-stress-%p-%m.profraw" timeout $((stress_s + 60)) \
      "$bdir/targets/$t-stress" --quiet --seconds "$stress_s" "${dirs[@]}" >>"$prof/$t.log" 2>&1 ||
      { echo "  $t: stress run FAILED (see $prof/$t.log)"; fail=1; }
  fi
  echo "  $t: $(ls "$prof"/"$t"-*.profraw 2>/dev/null | wc -l) profile(s)"
done
if [ $tests = 1 ]; then
  echo "== unit tests (ctest -L unit)"
  (cd "$bdir" && LLVM_PROFILE_FILE="$prof/test-%p-%m.profraw" ctest -L unit -j "$(nproc)" >"$prof/ctest.log" 2>&1) ||
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
  -project-title="oblique: corpus replay" "${objargs[@]}" >/dev/null 2>"$bdir/html.log" ||
  { cat "$bdir/html.log" >&2; die "llvm-cov show failed"; }
"$llvmcov" report -instr-profile="$bdir/coverage.profdata" -ignore-filename-regex="$ignore" \
  "${objargs[@]}" >"$bdir/report.txt" 2>"$bdir/report.log" || { cat "$bdir/report.log" >&2; die "llvm-cov report failed"; }

# llvm-cov report columns: Filename, Regions, Missed, Cover, Functions, Missed, Executed,
# Lines, Missed, Cover, Branches, Missed, Cover.
awk -v root="$here/" '
  /^Filename/ || /^---/ || NF < 13 || $8 == 0 { next }
  { f = $1; sub(root, "", f); if (f == "TOTAL") { tl = $10; tb = $13; tln = $8; tbn = $11; next }
    printf "%-44s %6s of %5d lines   %7s of %5d branches\n", f, $10, $8, $13, $11 }
  END { printf "%-44s %6s of %5d lines   %7s of %5d branches\n", "TOTAL", tl, tln, tb, tbn }
' "$bdir/report.txt" | tee "$bdir/summary.txt"
echo
echo "HTML report: $bdir/html/index.html   (xdg-open it; per-file summary: $bdir/summary.txt)"
if [ $fail = 1 ]; then echo "$me: a corpus replay or stress run failed (report written anyway)"; exit 1; fi
