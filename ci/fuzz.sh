#!/usr/bin/env bash
# ci/fuzz.sh — THE MAIN JOB: build the fuzz targets (libFuzzer + ASan + UBSan, preset
# `fuzz`) if needed and run a campaign over every target of targets/targets.list.
#
#   ci/fuzz.sh [--seconds N] [--targets a,b,...] [--out DIR] [--no-build] [--merge]
#
#   --seconds N   fuzzing time per target (default 30: a few minutes in all)
#   --targets L   comma-separated subset of targets/targets.list
#   --out DIR     campaign directory (default fuzz-out/<date-time>); holds the working
#                 corpora, logs and crashes/<target>/ (input, .trace, .report)
#   --no-build    use the existing build/fuzz tree as it is
#   --merge       merge new coverage back into the committed corpus/<target>/ as bytes
#                 (libFuzzer -merge=1); without it the committed corpus is never touched
#
# One progress line per target, then a table: executions, exec/s, corpus size, coverage
# (libFuzzer's cov/ft), interleaving events seen over the final corpus, crashes.  A
# crash leaves the input, its decoded trace and the report side by side and prints the
# command that replays it.  Exit status: 0 no crash, 1 crashes found, 2 usage/build error.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

seconds=30
only=""
out=""
build=1
merge=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=${2:?}; shift 2 ;;
    --targets) only=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --no-build) build=0; shift ;;
    --merge) merge=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
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

out=${out:-fuzz-out/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"/{corpus,logs,crashes}
out=$(cd "$out" && pwd)
echo "== campaign: ${#targets[@]} targets x ${seconds}s, results in $out"

# libFuzzer flags from corpus/<t>.options ([libfuzzer] key = value lines).
options_flags() {
  local f=corpus/$1.options
  [ -f "$f" ] || return 0
  awk -F'=' '/^[ \t]*#/{next} /^\[/{sec=$0; next} sec=="[libfuzzer]" && NF==2 {gsub(/[ \t]/,"",$1); gsub(/[ \t]/,"",$2); if ($1!="") printf "-%s=%s\n", $1, $2}' "$f"
}

declare -A R_EXECS R_EPS R_CORP R_COV R_FT R_EVENTS R_CRASH
crashed=0
for t in "${targets[@]}"; do
  bin=$bdir/targets/$t
  [ -x "$bin" ] || { echo "ci/fuzz.sh: $bin is missing (build failed?)" >&2; exit 2; }
  work=$out/corpus/$t
  mkdir -p "$work" "$out/crashes/$t"
  # Seed from the compiled bytes of the committed traces (and regressions).
  for d in "$bdir/corpus/$t" "$bdir/corpus/regressions/$t"; do
    [ -d "$d" ] && cp -n "$d"/* "$work"/ 2>/dev/null || true
  done
  dict=()
  [ -f "corpus/$t.dict" ] && dict=(-dict="corpus/$t.dict")
  mapfile -t opts < <(options_flags "$t")
  log=$out/logs/$t.log
  set +e
  "$bin" "$work" "${dict[@]}" "${opts[@]}" -max_total_time="$seconds" -print_final_stats=1 \
      -artifact_prefix="$out/crashes/$t/" >"$log" 2>&1 &
  pid=$!
  # Progress: one line rewritten in place on a terminal, a line every 30 s otherwise.
  tick=0
  while kill -0 "$pid" 2>/dev/null; do
    last=$( (grep -aE '^#[0-9]+' "$log" 2>/dev/null || true) | tail -n 1 | cut -c1-100)
    if [ -t 1 ]; then
      printf '\r  %-14s %s' "$t" "${last:-starting...}" | cut -c1-120 | tr -d '\n'
    elif [ $((tick % 15)) -eq 0 ]; then
      printf '  %-14s %s\n' "$t" "${last:-starting...}"
    fi
    tick=$((tick + 1))
    sleep 2
  done
  wait "$pid"; rc=$?
  set -e
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)
  eps=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$log" | tail -n 1)
  lastline=$(grep -aE '^#[0-9]+.*cov:' "$log" | tail -n 1 || true)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$lastline")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$lastline")
  corp=$(find "$work" -type f | wc -l)
  # Interleaving events over the final corpus (a replay with the standalone runner).
  ev=$("$bin" run "$work" 2>/dev/null | sed -nE 's/^ *events: *//p' | tail -n 1 || true)
  ncrash=0
  for c in "$out/crashes/$t"/crash-* "$out/crashes/$t"/leak-* "$out/crashes/$t"/timeout-*; do
    [ -f "$c" ] || continue
    case "$c" in *.trace|*.report) continue ;; esac
    ncrash=$((ncrash + 1))
    # The trace: decode's stdout alone (written before the run and step by step, so a
    # run that crashes still leaves a trace that encodes and replays to the crash).
    "$bin" decode "$c" >"$c.trace" 2>/dev/null || true
    # The report: the oblique/ASan/UBSan block libFuzzer printed; for a crash of the
    # harness's warm-up (crash-warmup-<target>-<k>, saved before fuzzing), its replay.
    awk '/==oblique== ERROR|ERROR: AddressSanitizer|runtime error:|ERROR: libFuzzer|ERROR: LeakSanitizer/{p=1} p' "$log" >"$c.report"
    case "$c" in */crash-warmup-*) "$bin" replay "$c" >"$c.report" 2>&1 || true ;; esac
  done
  [ $rc -ne 0 ] && [ $ncrash -eq 0 ] && ncrash=1 # died without an artifact: still a failure
  R_EXECS[$t]=${execs:-0}; R_EPS[$t]=${eps:-0}; R_CORP[$t]=$corp; R_COV[$t]=${cov:-?}; R_FT[$t]=${ft:-?}
  R_EVENTS[$t]=${ev:-none}; R_CRASH[$t]=$ncrash
  [ -t 1 ] && printf '\r'
  printf '  %-14s done: %s execs, %s exec/s, corpus %s, cov %s, crashes %s%*s\n' "$t" \
    "${R_EXECS[$t]}" "${R_EPS[$t]}" "$corp" "${R_COV[$t]}" "$ncrash" 20 ""
  if [ "$ncrash" -gt 0 ]; then
    crashed=1
    for c in "$out/crashes/$t"/*; do
      case "$c" in *.trace|*.report) continue ;; esac
      [ -f "$c" ] || continue
      echo "    CRASH: $c"
      echo "      trace:  $c.trace"
      echo "      report: $c.report"
      echo "      replay: $bin replay $c    (or: build/default/targets/$t replay $c)"
    done
  fi
  if [ "$merge" = 1 ]; then
    mkdir -p "corpus/$t/bytes"
    "$bin" -merge=1 "corpus/$t/bytes" "$work" >>"$log" 2>&1 || true
  fi
done

echo
printf '| %-13s | %10s | %8s | %6s | %6s | %6s | %-7s | %s\n' target execs "exec/s" corpus cov ft crashes "interleaving events (final corpus)"
printf '|%s|\n' "---------------|------------|----------|--------|--------|--------|---------|------------------------------------"
for t in "${targets[@]}"; do
  printf '| %-13s | %10s | %8s | %6s | %6s | %6s | %-7s | %s\n' "$t" "${R_EXECS[$t]}" "${R_EPS[$t]}" \
    "${R_CORP[$t]}" "${R_COV[$t]}" "${R_FT[$t]}" "${R_CRASH[$t]}" "${R_EVENTS[$t]}"
done
echo
if [ "$crashed" = 1 ]; then
  echo "ci/fuzz.sh: CRASHES FOUND — see $out/crashes/"
  exit 1
fi
echo "ci/fuzz.sh: no crashes; campaign in $out"
