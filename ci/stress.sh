#!/usr/bin/env bash
# ci/stress.sh — every target's stress binary (real threads, no sanitizer) from an
# existing build, for a while each: on weakly ordered hardware (the arm64 job of
# .github/workflows/portability.yml) a missing barrier shows here as a checker or
# oracle report, where TSan's instrumentation would change the timing.
#
#   ci/stress.sh [--build DIR] [--seconds S] [--threads N]
#
# DIR defaults to build/default (ci/test.sh makes it).  Fails on any report, non-zero
# exit or a run that outlives its time by a minute.  Prints `N passed, N failed`.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
build=build/default seconds=60 threads=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --threads) threads="--threads $2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "ci/stress.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
pass=0 fail=0
for t in $(grep -v '^#' targets/targets.list | awk 'NF { print $1 }'); do
  bin=$build/targets/$t-stress
  [ -x "$bin" ] || { echo "ci/stress.sh: no $bin (build it first)"; fail=$((fail + 1)); continue; }
  # shellcheck disable=SC2086
  if timeout $((seconds + 60)) "$bin" --seconds "$seconds" --reuse alternate $threads \
       >"$build/stress-$t.log" 2>&1; then
    echo "ok: $t ($(tail -n 1 "$build/stress-$t.log"))"; pass=$((pass + 1))
  else
    echo "FAIL: $t"; tail -n 40 "$build/stress-$t.log"; fail=$((fail + 1))
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
