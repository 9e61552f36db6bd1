#!/usr/bin/env bash
# ci/fuzz.sh — THE MAIN JOB: build oblique's fuzz targets (libFuzzer + ASan + UBSan,
# preset `fuzz`) if needed and run a campaign over every target of targets/targets.list
# with obq-fuzz (targets/tools/obq-fuzz: the same driver users run on their own
# targets, installed as bin/obq-fuzz).
#
#   ci/fuzz.sh [--seconds N] [--targets a,b,...] [--out DIR] [--no-build] [--merge]
#              [--jobs N] [--fork N] [--keep-going] [--run-timeout N]
#
#   --seconds N   fuzzing time per target (default 30: a few minutes in all)
#   --targets L   comma-separated subset of targets/targets.list
#   --out DIR     campaign directory (default fuzz-out/<date-time>); holds the working
#                 corpora, logs and crashes/<target>/ (input, .trace, .report)
#   --no-build    use the existing build/fuzz tree as it is
#   --merge       merge new coverage back into the committed corpus/<target>/bytes/
#                 (libFuzzer -merge=1); without it the committed corpus is never touched
#   --jobs N      fuzz N targets at once (default 1); --fork N: each target with libFuzzer
#                 -fork=N; --keep-going: with --fork, go on after crashes (obq-fuzz --help)
#   --run-timeout N  seconds one input's run may take (default 60; obq-fuzz --help):
#                 every run, the warm-up and each crash's decode/replay are bounded, and
#                 a target is stopped a minute plus N past its time — no job hangs
#
# One progress line per target, then a table: executions, exec/s, corpus size, coverage
# (libFuzzer's cov/ft), interleaving events seen over the final corpus, crashes.  A
# crash leaves the input, its decoded trace and the report side by side and prints the
# command that reproduces it.  Exit status: 0 no crash, 1 crashes found, 2 usage/build error.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

seconds=30
only=""
out=""
build=1
merge=()
par=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=${2:?}; shift 2 ;;
    --targets) only=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --no-build) build=0; shift ;;
    --merge) merge=(yes); shift ;;
    --jobs|--fork|--run-timeout) par+=("$1" "${2:?$1 needs a number}"); shift 2 ;;
    --keep-going) par+=(--keep-going); shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "ci/fuzz.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
case "$seconds" in ''|*[!0-9]*) echo "ci/fuzz.sh: --seconds needs a whole number" >&2; exit 2 ;; esac

. ci/targets.sh
select_targets ci/fuzz.sh "$only"

bdir=build/fuzz
if [ "$build" = 1 ]; then
  bash ci/deps.sh fuzz
  echo "== building preset fuzz (libFuzzer + ASan + UBSan) in $bdir"
  mkdir -p build
  cmake --preset fuzz >build/fuzz.log 2>&1 || { tail -n 40 build/fuzz.log; exit 2; }
  cmake --build --preset fuzz -j "$(nproc)" >>build/fuzz.log 2>&1 || { tail -n 60 build/fuzz.log; exit 2; }
fi

bins=()
for t in "${targets[@]}"; do
  [ -x "$bdir/targets/$t" ] || { echo "ci/fuzz.sh: $bdir/targets/$t is missing (build failed?)" >&2; exit 2; }
  bins+=("$bdir/targets/$t")
done
out=${out:-fuzz-out/$(date +%Y%m%d-%H%M%S)}
rc=0
bash targets/tools/obq-fuzz --seconds "$seconds" --out "$out" "${par[@]}" "${bins[@]}" || rc=$?
if [ ${#merge[@]} -gt 0 ]; then
  # merge into corpus/<t>/bytes: libFuzzer keeps only inputs that add coverage
  for t in "${targets[@]}"; do
    mkdir -p "corpus/$t/bytes"
    "$bdir/targets/$t" -merge=1 "corpus/$t/bytes" "$out/corpus/$t" >>"$out/logs/$t.log" 2>&1 || true
  done
fi
exit $rc
