#!/usr/bin/env bash
# ci/tsan-nightly.sh — the TSan nightly: build the `tsan` preset and run every target's
# stress binary (real pthreads, builtin RCU, seeded perturbations) under
# ThreadSanitizer; fail on any report.  `--sanitizer address` runs the same stress
# binaries of the `asan` preset (ASan+UBSan) instead.
#
#   ci/tsan-nightly.sh [--seconds S | --minutes M | --hours H] [--targets a,b,...]
#                      [--threads N] [--seed X] [--out DIR] [--no-build]
#                      [--min-gp-per-min N] [--min-slabs-per-min N] [--stress-args "..."]
#                      [--sanitizer thread|address] [--build-dir DIR]
#
#   --seconds/--minutes/--hours   time per target (default 180 s), split in two halves:
#                      random operations, then the corpus's programs (corpus/<t>/ and
#                      corpus/regressions/<t>/ decoded and run on real threads)
#   --targets L        comma-separated subset of targets/targets.list (default: all)
#   --threads N        stress threads (default: the stress binary's: the program's
#                      thread count, 2 for random operations)
#   --seed X           base seed (default: the date, YYYYMMDD, printed so a run repeats)
#   --out DIR          logs (default fuzz-out/tsan-<date-time>/<t>.{random,corpus}.log)
#   --no-build         use the existing build tree (build/tsan or build/asan) as it is
#   --build-dir DIR    the build tree to build in / take the stress binaries from
#                      (default build/<preset>; the ctest smoke passes its own)
#   --min-gp-per-min N, --min-slabs-per-min N
#                      floors for the typesafe protocol targets (every target but
#                      slab_api, whose operations are the cache API itself): a run whose
#                      grace periods or slab releases per minute stay below them tested
#                      nothing and fails (defaults 1000 and 100; 0 turns a floor off)
#   --stress-args "A"  more arguments for every stress binary (e.g. "--gp-driver off",
#                      which makes the floors fail: the check that they do)
#   --sanitizer S      thread (default: preset tsan, build/tsan) or address (preset
#                      asan, build/asan: ASan+UBSan catch what a stale pointer does to
#                      released memory; the checker runs in both)
#
# The stress binaries run with --reuse alternate (recycle, then rcu-debug, per input)
# and their grace-period driver, small slabs and shrinks (targets/harness/stress.c).
# A report is any of: a ThreadSanitizer warning, a checker or target-oracle report
# (==oblique== ERROR), a non-zero exit or a run that outlives its time by 2 minutes.
# TSAN_OPTIONS is set here (halt_on_error=0 so every race of a run is listed,
# second_deadlock_stack=1, history_size=4) and no suppression file is used: a race
# report is a bug to fix, never to hide.  The summary per target: operations, grace
# periods (and those that waited for a reader inside a section), slabs released (and
# those whose grace period outwaited a reader touching one of their freed objects),
# recycled objects met, failed pins, the other interleaving event counters, reports.
# Exit status: 0 no report; 1 a report; 2 usage or build error.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
me="ci/tsan-nightly.sh"
die() { echo "$me: $*" >&2; exit 2; }
need_num() { case "$2" in ''|*[!0-9]*) die "$1 needs a whole number, got '$2'" ;; esac; }

seconds=180
min_gp=1000
min_slabs=100
stress_args=""
only=""
threads=""
seed=$(date +%Y%m%d)
out=""
build=1
bdir_arg=""
san=thread
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) [ $# -ge 2 ] || die "--seconds needs a value"; need_num "$1" "$2"; seconds=$2; shift 2 ;;
    --minutes) [ $# -ge 2 ] || die "--minutes needs a value"; need_num "$1" "$2"; seconds=$(($2 * 60)); shift 2 ;;
    --hours) [ $# -ge 2 ] || die "--hours needs a value"; need_num "$1" "$2"; seconds=$(($2 * 3600)); shift 2 ;;
    --targets) [ $# -ge 2 ] || die "--targets needs a list"; only=$2; shift 2 ;;
    --threads) [ $# -ge 2 ] || die "--threads needs a value"; need_num "$1" "$2"; threads=$2; shift 2 ;;
    --seed) [ $# -ge 2 ] || die "--seed needs a value"; need_num "$1" "$2"; seed=$2; shift 2 ;;
    --out) [ $# -ge 2 ] || die "--out needs a directory"; out=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --build-dir) [ $# -ge 2 ] || die "--build-dir needs a directory"; bdir_arg=$2; shift 2 ;;
    --min-gp-per-min) [ $# -ge 2 ] || die "$1 needs a value"; need_num "$1" "$2"; min_gp=$2; shift 2 ;;
    --min-slabs-per-min) [ $# -ge 2 ] || die "$1 needs a value"; need_num "$1" "$2"; min_slabs=$2; shift 2 ;;
    --stress-args) [ $# -ge 2 ] || die "--stress-args needs a value"; stress_args=$2; shift 2 ;;
    --sanitizer) [ $# -ge 2 ] || die "--sanitizer needs thread or address"; san=$2; shift 2
      case "$san" in thread|address) ;; *) die "--sanitizer: thread or address, got '$san'" ;; esac ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
done
[ "$seconds" -ge 2 ] || die "the time per target must be at least 2 seconds"
if [ -n "$threads" ] && { [ "$threads" -lt 1 ] || [ "$threads" -gt 64 ]; }; then die "--threads must be 1..64"; fi

. ci/targets.sh
select_targets "$me" "$only"

broot=${OBQ_BUILD_ROOT:-build}
preset=tsan sanflag=thread
[ "$san" = address ] && { preset=asan; sanflag="address;undefined"; }
bdir=${bdir_arg:-$broot/$preset}
blog=$broot/$preset.log
[ -n "$bdir_arg" ] && blog=$bdir_arg/nightly-build.log
if [ $build = 1 ]; then
  bash ci/deps.sh test || die "ci/deps.sh test failed"
  echo "== building the stress binaries of preset $preset (clang, $san sanitizer, checked) in $bdir"
  mkdir -p "$broot"
  if [ "$broot" = build ] && [ -z "$bdir_arg" ]; then
    cmake --preset $preset >"$blog" 2>&1 || { tail -n 40 "$blog" >&2; die "configure failed ($blog)"; }
  else
    cmake -S . -B "$bdir" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DOBQ_CHECK=ON "-DOBQ_SANITIZE=$sanflag" >"$blog" 2>&1 ||
      { tail -n 40 "$blog" >&2; die "configure failed ($blog)"; }
  fi
  stress=()
  for t in "${targets[@]}"; do stress+=("$t-stress"); done
  cmake --build "$bdir" -j "$(nproc)" --target "${stress[@]}" >>"$blog" 2>&1 ||
    { grep -E 'error|FAILED' "$blog" | head -n 30 >&2; die "build failed ($blog)"; }
fi

out=${out:-fuzz-out/$preset-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# Our own TSAN_OPTIONS, never the caller's: no suppressions can sneak in.
export TSAN_OPTIONS="halt_on_error=0 exitcode=66 second_deadlock_stack=1 history_size=4 report_signal_unsafe=1"
unset UBSAN_OPTIONS ASAN_OPTIONS
# ASan: the same rule (ours, no suppressions); UBSan stops at its first report
[ "$san" = address ] && export ASAN_OPTIONS="detect_leaks=1" UBSAN_OPTIONS="halt_on_error=1 print_stacktrace=1"
half_a=$((seconds / 2))
half_b=$((seconds - half_a))
echo "== ${#targets[@]} target(s) x ${seconds}s (${half_a}s random operations + ${half_b}s corpus programs), seed $seed, logs in $out"

declare -A S_OPS S_GP S_GPW S_SLABS S_STALE S_REC S_PIN S_EV S_TSAN S_CHK S_RC
fail=0
run_phase() { # <target> <phase> <seconds> <seed> [dirs...]  -> sets ops gp ev tsan chk rc
  local t=$1 phase=$2 secs=$3 sd=$4; shift 4
  local bin=$bdir/targets/$t-stress log=$out/$t.$phase.log
  local args=(--seconds "$secs" --seed "$sd" --reuse alternate)
  # shellcheck disable=SC2206
  [ -n "$stress_args" ] && args+=($stress_args)
  [ -n "$threads" ] && args+=(--threads "$threads")
  set +e
  timeout -k 10 $((secs + 120)) "$bin" "${args[@]}" "$@" >"$log" 2>&1 &
  local pid=$! t0; t0=$(date +%s)
  local next=$((t0 + 60)) last
  while kill -0 "$pid" 2>/dev/null; do
    last=$(grep -a "^stress $t " "$log" | tail -n 1 | cut -c1-90)
    if [ -t 1 ]; then # a terminal: one line, rewritten
      printf '\r  %-14s %-7s %4ss %s' "$t" "$phase" $(( $(date +%s) - t0 )) "${last:-starting...}" | cut -c1-130 | tr -d '\n'
    elif [ "$(date +%s)" -ge "$next" ]; then # a CI log: a line a minute
      printf '  %-14s %-7s %4ss %s\n' "$t" "$phase" $(( $(date +%s) - t0 )) "${last:-starting...}"
      next=$((next + 60))
    fi
    sleep 2
  done
  wait "$pid"; rc=$?
  set -e
  [ -t 1 ] && printf '\r%*s\r' 130 ''
  local sum; sum=$(grep -aE "^stress $t: [0-9]+ operations" "$log" | tail -n 1 || true)
  ops=$(sed -nE 's/.*: ([0-9]+) operations.*/\1/p' <<<"$sum"); ops=${ops:-0}
  gp=$(sed -nE 's/.*, ([0-9]+) grace periods.*/\1/p' <<<"$sum"); gp=${gp:-0}
  gpw=$(sed -nE 's/.*grace periods \(([0-9]+) under a reader\).*/\1/p' <<<"$sum"); gpw=${gpw:-0}
  slabs=$(sed -nE 's/.*, ([0-9]+) slabs released.*/\1/p' <<<"$sum"); slabs=${slabs:-0}
  stale=$(sed -nE 's/.*slabs released \(([0-9]+) under a stale reader\).*/\1/p' <<<"$sum"); stale=${stale:-0}
  ev=$(sed -nE 's/.*events: *//p' <<<"$sum")
  tsan=$(grep -acE '^WARNING: ThreadSanitizer|^==[0-9]+==ERROR: (Address|Leak)Sanitizer|runtime error:' "$log" || true)
  chk=$(grep -acE '==oblique== ERROR' "$log" || true)
  if [ $rc = 124 ] || [ $rc = 137 ]; then
    echo "  $t $phase: still running $((secs + 120))s after it should have ended: killed (a hang)" >&2
  fi
  return 0
}
ev_count() { # <events> <name>: the count of one event (0 if absent)
  local v; v=$(tr ' ' '\n' <<<"$1" | sed -nE "s/^$2=([0-9]+)$/\1/p"); echo "${v:-0}"
}
add_events() { # <accumulated> <new>: sums name=value pairs
  awk -v a="$1" -v b="$2" 'BEGIN { n = split(a " " b, kv, " "); for (i = 1; i <= n; i++) if (split(kv[i], p, "=") == 2) { if (!(p[1] in s)) o[++m] = p[1]; s[p[1]] += p[2] } for (i = 1; i <= m; i++) printf "%s%s=%d", (i > 1 ? " " : ""), o[i], s[o[i]] }'
}

for t in "${targets[@]}"; do
  [ -x "$bdir/targets/$t-stress" ] || die "$bdir/targets/$t-stress is missing (build failed? $broot/tsan.log)"
  tot_ops=0; tot_gp=0; tot_gpw=0; tot_slabs=0; tot_stale=0; tot_ev=""; tot_tsan=0; tot_chk=0; rcs=""
  run_phase "$t" random "$half_a" "$seed"
  tot_ops=$((tot_ops + ops)); tot_gp=$((tot_gp + gp)); tot_ev=$(add_events "$tot_ev" "$ev")
  tot_gpw=$((tot_gpw + gpw)); tot_slabs=$((tot_slabs + slabs)); tot_stale=$((tot_stale + stale))
  tot_tsan=$((tot_tsan + tsan)); tot_chk=$((tot_chk + chk)); rcs="$rc"
  dirs=()
  for d in "corpus/$t" "corpus/regressions/$t"; do [ -d "$d" ] && [ -n "$(ls -A "$d")" ] && dirs+=("$d"); done
  if [ ${#dirs[@]} -gt 0 ]; then
    run_phase "$t" corpus "$half_b" "$((seed + 1))" "${dirs[@]}"
    tot_ops=$((tot_ops + ops)); tot_gp=$((tot_gp + gp)); tot_ev=$(add_events "$tot_ev" "$ev")
    tot_gpw=$((tot_gpw + gpw)); tot_slabs=$((tot_slabs + slabs)); tot_stale=$((tot_stale + stale))
    tot_tsan=$((tot_tsan + tsan)); tot_chk=$((tot_chk + chk)); rcs="$rcs/$rc"
  else
    echo "  $t: no corpus programs (corpus/$t is empty): random operations only" >&2
  fi
  S_OPS[$t]=$tot_ops; S_GP[$t]=$tot_gp; S_GPW[$t]=$tot_gpw; S_SLABS[$t]=$tot_slabs; S_STALE[$t]=$tot_stale; S_EV[$t]=${tot_ev:-none}; S_TSAN[$t]=$tot_tsan; S_CHK[$t]=$tot_chk; S_RC[$t]=$rcs
  bad=0
  [ "$tot_tsan" -gt 0 ] || [ "$tot_chk" -gt 0 ] && bad=1
  for r in ${rcs//\// }; do [ "$r" = 0 ] || bad=1; done
  if [ $bad = 0 ] && [ "$tot_ops" = 0 ]; then bad=1; echo "  $t: zero operations ran: this run tested nothing" >&2; fi
  # floors (per minute of the target's time), for the typesafe protocol targets
  if [ "$t" != slab_api ]; then
    if [ $((tot_gp * 60)) -lt $((min_gp * seconds)) ]; then
      bad=1; echo "  $t: $tot_gp grace periods in ${seconds}s: below the floor of $min_gp a minute (grace periods did not flow)" >&2
    fi
    if [ $((tot_slabs * 60)) -lt $((min_slabs * seconds)) ]; then
      bad=1; echo "  $t: $tot_slabs slabs released in ${seconds}s: below the floor of $min_slabs a minute (slabs did not go back under readers)" >&2
    fi
  fi
  S_REC[$t]=$(ev_count "$tot_ev" recycled-seen); S_PIN[$t]=$(ev_count "$tot_ev" pin-failed)
  status=ok; [ $bad = 1 ] && { status=FAIL; fail=1; }
  printf '  %-14s %s: %s operations, %s grace periods (%s under a reader), %s slabs released (%s under a stale reader), %s recycled met, %s failed pins, %s sanitizer warning(s), %s checker/oracle report(s), exit %s\n' \
    "$t" "$status" "$tot_ops" "$tot_gp" "$tot_gpw" "$tot_slabs" "$tot_stale" "${S_REC[$t]}" "${S_PIN[$t]}" "$tot_tsan" "$tot_chk" "$rcs"
  if [ $bad = 1 ]; then
    for f in "$out/$t".*.log; do
      grep -aqE 'WARNING: ThreadSanitizer|==oblique== ERROR' "$f" || continue
      echo "    report in $f:"
      grep -aE -m 3 -A 6 'WARNING: ThreadSanitizer|==oblique== ERROR' "$f" | sed 's/^/      /' | head -n 24
    done
  fi
done

echo
printf '| %-14s | %12s | %10s | %9s | %10s | %10s | %9s | %9s | %7s | %7s | %-7s | %s\n' target operations "grace per." "gp reader" "slabs rel." "stale rel." recycled "pin fail" "$san" checker exit "interleaving events"
printf '|%s|\n' "----------------|--------------|------------|-----------|------------|------------|-----------|-----------|---------|---------|---------|----------------------"
for t in "${targets[@]}"; do
  printf '| %-14s | %12s | %10s | %9s | %10s | %10s | %9s | %9s | %7s | %7s | %-7s | %s\n' "$t" "${S_OPS[$t]}" "${S_GP[$t]}" \
    "${S_GPW[$t]}" "${S_SLABS[$t]}" "${S_STALE[$t]}" "${S_REC[$t]}" "${S_PIN[$t]}" "${S_TSAN[$t]}" "${S_CHK[$t]}" "${S_RC[$t]}" "${S_EV[$t]}"
done
echo
echo "seed $seed (repeat: $me --sanitizer $san --seed $seed --seconds $seconds${only:+ --targets $only}); logs: $out"
if [ $fail = 1 ]; then
  echo "$me: REPORTS FOUND — see the logs above; a stress failure prints each thread's operations"
  echo "  (turn them into a deterministic program with targets/tools/obq-trace to search schedules)"
  exit 1
fi
echo "$me: no reports"
