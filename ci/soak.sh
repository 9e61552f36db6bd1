#!/usr/bin/env bash
# ci/soak.sh — the nightly memory soak: one stress binary (real threads, builtin RCU,
# the grace-period driver, small slabs and shrinks) for a long time, its resident set
# sampled; fails if memory keeps growing.
#
#   ci/soak.sh [--minutes M | --seconds S] [--target T] [--threads N] [--interval S]
#              [--margin-pct P] [--margin-kb K] [--seed X] [--bin PATH] [--no-build]
#              [--out FILE]
#
#   --minutes/--seconds  length of the run (default 30 minutes)
#   --target T           the target whose T-stress binary runs (default nulls_lookup)
#   --threads N          stress threads (default 3)
#   --interval S         seconds between two samples of VmRSS (default 10)
#   --margin-pct P, --margin-kb K
#                        the verdict: the largest RSS of the last third of the samples
#                        may exceed the largest of the middle third by at most
#                        max(P % of it, K KiB) (defaults 10 % and 512 KiB); more is
#                        growth that did not level off, and fails.  The first third is
#                        warm-up: code paged in as paths are first taken, bounded caches
#                        filling (measured: up to 11 minutes and +1.5 MiB on a 30-minute
#                        run of the checked nulls_lookup-stress, then flat)
#   --bin PATH           run this stress binary (the ctest smoke passes its build's)
#   --no-build           use build/default as it is (default: configure and build the
#                        `default` preset's stress binary first)
#   --out FILE           the samples, "seconds rss_kib threads" per line (default
#                        fuzz-out/soak-<date-time>.rss)
#
# The run itself must also succeed: a checker or oracle report, or a non-zero exit,
# fails the soak.  Exit status: 0 flat; 1 growth or a failed run; 2 usage or build error.
# The ctest `soak-smoke` runs it for 15 s with 1 s samples and a 1 MiB margin.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
me="ci/soak.sh"
die() { echo "$me: $*" >&2; exit 2; }
need_num() { case "$2" in ''|*[!0-9]*) die "$1 needs a whole number, got '$2'" ;; esac; }

seconds=1800
target=nulls_lookup
threads=3
interval=10
margin_pct=10
margin_kb=512
seed=$(date +%Y%m%d)
bin=""
build=1
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) need_num "$1" "${2-}"; seconds=$(( $2 * 60 )); shift 2 ;;
    --seconds) need_num "$1" "${2-}"; seconds=$2; shift 2 ;;
    --target) target=${2-}; [ -n "$target" ] || die "--target needs a name"; shift 2 ;;
    --threads) need_num "$1" "${2-}"; threads=$2; shift 2 ;;
    --interval) need_num "$1" "${2-}"; interval=$2; shift 2 ;;
    --margin-pct) need_num "$1" "${2-}"; margin_pct=$2; shift 2 ;;
    --margin-kb) need_num "$1" "${2-}"; margin_kb=$2; shift 2 ;;
    --seed) seed=${2-}; shift 2 ;;
    --bin) bin=${2-}; shift 2 ;;
    --no-build) build=0; shift ;;
    --out) out=${2-}; shift 2 ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[ "$interval" -ge 1 ] || die "--interval must be at least 1"
[ "$seconds" -ge $(( 3 * interval )) ] || die "the run must last at least 3 intervals"

if [ -z "$bin" ]; then
  if [ "$build" = 1 ]; then
    bash ci/deps.sh test >/dev/null || die "ci/deps.sh failed"
    cmake --preset default -B build/default >/dev/null || die "configure failed"
    cmake --build build/default -j2 --target "$target-stress" >/dev/null || die "build failed"
  fi
  bin=build/default/targets/$target-stress
fi
[ -x "$bin" ] || die "no stress binary at $bin"
if [ -z "$out" ]; then
  mkdir -p fuzz-out
  out=fuzz-out/soak-$(date +%Y%m%d-%H%M%S).rss
fi
log=${out%.rss}.log

echo "$me: $bin --threads $threads --seconds $seconds --seed $seed; RSS every ${interval} s -> $out"
# bounded: a stress binary that hangs past its time by 5 minutes is killed (a failure)
timeout -k 10 $((seconds + 300)) "$bin" --threads "$threads" --seconds "$seconds" --seed "$seed" --quiet >"$log" 2>&1 &
pid=$!
: >"$out"
t=0
while kill -0 "$pid" 2>/dev/null; do
  # VmRSS in KiB, and the thread count (a thread leak shows here first)
  line=$(awk '/^VmRSS:/ {r=$2} /^Threads:/ {n=$2} END {if (r != "") print r, n}' \
         "/proc/$pid/status" 2>/dev/null || true)
  [ -n "$line" ] && echo "$t $line" >>"$out"
  sleep "$interval"
  t=$(( t + interval ))
done
rc=0
wait "$pid" || rc=$?

n=$(wc -l <"$out")
[ "$n" -ge 3 ] || { echo "$me: FAIL: only $n samples (the run ended early, rc $rc)"; tail -n 20 "$log"; exit 1; }
read -r first mid last lo hi < <(awk -v n="$n" '
  { r[NR] = $2 }
  END {
    k = int(n / 3); f = 0; m = 0; l = 0; lo = r[1]; hi = r[1]
    for (i = 1; i <= k; i++) if (r[i] > f) f = r[i]
    for (i = k + 1; i <= n - k; i++) if (r[i] > m) m = r[i]
    for (i = n - k + 1; i <= n; i++) if (r[i] > l) l = r[i]
    for (i = 1; i <= n; i++) { if (r[i] < lo) lo = r[i]; if (r[i] > hi) hi = r[i] }
    print f, m, l, lo, hi
  }' "$out")
allow=$(( mid * margin_pct / 100 ))
[ "$allow" -ge "$margin_kb" ] || allow=$margin_kb
echo "$me: $n samples; RSS min $lo KiB, max $hi KiB; max of the first third (warm-up) $first KiB, of the middle third $mid KiB, of the last third $last KiB (allowed: +$allow KiB over the middle)"
status=0
if [ "$rc" -ne 0 ] || grep -q "==oblique== ERROR" "$log"; then
  echo "$me: FAIL: the stress run failed (rc $rc); $log:"
  tail -n 30 "$log"
  status=1
fi
if [ "$last" -gt $(( mid + allow )) ]; then
  echo "$me: FAIL: RSS grew by $(( last - mid )) KiB between the middle and the last third"
  status=1
fi
[ "$status" = 0 ] && echo "$me: ok: flat"
exit $status
