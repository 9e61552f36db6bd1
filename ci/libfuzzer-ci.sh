#!/usr/bin/env bash
# ci/libfuzzer-ci.sh — libFuzzer in CI: for every target, replay the committed corpus,
# then fuzz it for a short budget with ci/fuzz.sh (the main job), fail on any crash,
# leak or timeout, and merge new coverage into a corpus directory.
#
#   ci/libfuzzer-ci.sh [--seconds N] [--targets a,b,...] [--out DIR] [--merge-into DIR]
#                      [--update-corpus] [--no-build] [--jobs N] [--fork N]
#
#   --seconds N        fuzzing time per target (default 60)
#   --targets L        comma-separated subset of targets/targets.list (default: all)
#   --out DIR          results (default fuzz-out/ci-<date-time>): replay/<t>.log, and
#                      ci/fuzz.sh's corpus/, logs/, crashes/<t>/ (input, .trace, .report)
#   --merge-into DIR   corpus directory that gathers new coverage (libFuzzer -merge=1 into
#                      DIR/<t>/; default <out>/merged) — e.g. a CI cache kept between runs
#   --update-corpus    ALSO merge into the committed corpus (corpus/<t>/bytes/, as
#                      ci/fuzz.sh --merge does); without it corpus/ is never touched
#   --no-build         use the existing build/fuzz tree as it is
#   --jobs N           targets fuzzed at once, one libFuzzer process each (default: the
#                      cores, nproc, at most the number of targets)
#   --fork N           libFuzzer -fork=N per target (default: the cores left over,
#                      nproc / jobs, when that is 2 or more: a single target still uses
#                      every core; 0: never fork)
#
# Steps: build the `fuzz` preset (libFuzzer + ASan + UBSan) in build/fuzz; replay per
# target the committed traces, regressions and corpus/<t>/bytes with the runner, and the
# compiled corpus through libFuzzer itself (-runs=0: leaks count); fuzz every target
# (ci/fuzz.sh --no-build --seconds N --jobs J --fork F ... --out DIR: every core busy,
# one summary, crashes grouped by rule + top user frames in DIR/groups/<t>/); the trace
# parser's own fuzz target (trace_parse_fuzz: the committed traces as seeds, N seconds,
# its corpus merged into DIR/trace_parse/); merge.  Timeouts: libFuzzer's
# -timeout comes from corpus/<t>.options (else corpus/default.options) as ci/fuzz.sh
# passes it.
# Exit status: 0 clean; 1 a replay failed or fuzzing found a crash, leak or timeout;
# 2 usage or build error.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
me="ci/libfuzzer-ci.sh"
die() { echo "$me: $*" >&2; exit 2; }

seconds=60
only=""
out=""
merge_into=""
update=0
build=1
jobs=""
fork=""
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) [ $# -ge 2 ] || die "--seconds needs a value"; seconds=$2; shift 2 ;;
    --targets) [ $# -ge 2 ] || die "--targets needs a list"; only=$2; shift 2 ;;
    --out) [ $# -ge 2 ] || die "--out needs a directory"; out=$2; shift 2 ;;
    --merge-into) [ $# -ge 2 ] || die "--merge-into needs a directory"; merge_into=$2; shift 2 ;;
    --update-corpus) update=1; shift ;;
    --no-build) build=0; shift ;;
    --jobs) [ $# -ge 2 ] || die "--jobs needs a number"; jobs=$2; shift 2 ;;
    --fork) [ $# -ge 2 ] || die "--fork needs a number"; fork=$2; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
done
case "$seconds" in ''|*[!0-9]*) die "--seconds needs a whole number, got '$seconds'" ;; esac
[ "$seconds" -ge 1 ] || die "--seconds must be at least 1"

. ci/targets.sh
select_targets "$me" "$only"
tlist=$(IFS=,; echo "${targets[*]}")
for v in "$jobs" "$fork"; do
  case "$v" in *[!0-9]*) die "--jobs and --fork need whole numbers, got '$v'" ;; esac
done
cores=$(nproc)
if [ -z "$jobs" ]; then
  jobs=$cores; [ "$jobs" -gt ${#targets[@]} ] && jobs=${#targets[@]}
fi
[ "$jobs" -ge 1 ] || die "--jobs must be at least 1"
if [ -z "$fork" ]; then
  fork=$((cores / jobs)); [ "$fork" -lt 2 ] && fork=0
fi

bdir=build/fuzz
if [ $build = 1 ]; then
  bash ci/deps.sh fuzz || die "ci/deps.sh fuzz failed"
  echo "== building preset fuzz (libFuzzer + ASan + UBSan) in $bdir"
  mkdir -p build
  cmake --preset fuzz >build/fuzz.log 2>&1 || { tail -n 40 build/fuzz.log >&2; die "configure failed (build/fuzz.log)"; }
  cmake --build --preset fuzz -j "$(nproc)" >>build/fuzz.log 2>&1 ||
    { grep -E 'error|FAILED' build/fuzz.log | head -n 30 >&2; die "build failed (build/fuzz.log)"; }
fi

out=${out:-fuzz-out/ci-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out/replay"
out=$(cd "$out" && pwd)
merge_into=${merge_into:-$out/merged}
mkdir -p "$merge_into"
merge_into=$(cd "$merge_into" && pwd)

# ---------------------------------------------------------------- 1. replay
echo "== replaying the committed corpus of ${#targets[@]} target(s)"
declare -A REPLAY
failed=0
for t in "${targets[@]}"; do
  bin=$bdir/targets/$t
  [ -x "$bin" ] || die "$bin is missing (build failed? see build/fuzz.log)"
  log=$out/replay/$t.log
  dirs=()
  for d in "corpus/$t" "corpus/regressions/$t" "corpus/$t/bytes"; do
    [ -d "$d" ] && [ -n "$(ls -A "$d" 2>/dev/null)" ] && dirs+=("$d")
  done
  res=""
  : >"$log"
  if [ ${#dirs[@]} -gt 0 ]; then
    # The runner (its commands work under libFuzzer): traces and bytes, every report.
    # Bounded (each run also by OBQ_H_RUN_TIMEOUT, 60 s): a hang is a failure, not a stall.
    timeout -k 10 1800 "$bin" run "${dirs[@]}" >>"$log" 2>&1 || res="FAIL (runner)"
  else
    res="no committed corpus"
  fi
  # libFuzzer itself over the compiled bytes: the engine's path, leak detection on.
  if [ -d "$bdir/corpus/$t" ] && [ -n "$(ls -A "$bdir/corpus/$t")" ]; then
    timeout -k 10 1800 "$bin" -runs=0 -detect_leaks=1 -timeout=60 "$bdir/corpus/$t" >>"$log" 2>&1 ||
      res="${res:+$res, }FAIL (libFuzzer -runs=0)"
  fi
  res=${res:-ok}
  case "$res" in *FAIL*) failed=1 ;; esac
  REPLAY[$t]=$res
  n=$(grep -cE 'FAILED|ERROR' "$log" || true)
  printf '  %-14s %s%s\n' "$t" "$res" "$( [ "$n" -gt 0 ] && echo " — $n report line(s), $log" )"
done

# ---------------------------------------------------------------- 2. fuzz
echo "== fuzzing ${#targets[@]} target(s) x ${seconds}s (ci/fuzz.sh), $jobs at once$( [ "$fork" -ge 1 ] && echo ", libFuzzer -fork=$fork each")"
# ci/fuzz.sh passes libFuzzer the [libfuzzer] flags of the target's options: without a
# timeout there, one slow input may take libFuzzer's default 1200 s before it counts.
for t in "${targets[@]}"; do
  opt=corpus/$t.options   # a target's own options replace corpus/default.options
  [ -f "$opt" ] || opt=corpus/default.options
  grep -qE '^[[:space:]]*timeout[[:space:]]*=' "$opt" 2>/dev/null ||
    echo "$me: warning: $opt sets no timeout (libFuzzer's default: 1200 s per input)" >&2
done
fz=(bash ci/fuzz.sh --no-build --seconds "$seconds" --targets "$tlist" --out "$out" --jobs "$jobs")
[ "$fork" -ge 1 ] && fz+=(--fork "$fork")
[ $update = 1 ] && fz+=(--merge)
set +e
"${fz[@]}" 2>&1 | tee "$out/fuzz.log"
frc=${PIPESTATUS[0]}
set -e
[ $frc -ge 2 ] && die "ci/fuzz.sh failed to run (exit $frc; see $out/fuzz.log)"

# ------------------------------------------- 2b. the trace parser (users' text input)
# targets/tools/trace_parse_fuzz.c: parse -> print -> parse must round-trip; seeds are
# every committed trace; the same budget as one target; crashes in crashes/trace_parse/.
echo "== fuzzing the trace parser x ${seconds}s (trace_parse_fuzz)"
pbin=$bdir/targets/trace_parse_fuzz
[ -x "$pbin" ] || die "$pbin is missing (build failed? see build/fuzz.log)"
pdirs=()
for t in "${targets[@]}"; do
  for d in "corpus/$t" "corpus/regressions/$t"; do [ -d "$d" ] && pdirs+=("$d"); done
done
mkdir -p "$out/crashes/trace_parse" "$out/logs" "$merge_into/trace_parse"
pfail=()
"$pbin" -runs=0 -close_fd_mask=2 "${pdirs[@]}" >"$out/replay/trace_parse.log" 2>&1 ||
  pfail+=("FAIL (seed replay)")
pbefore=$(find "$merge_into/trace_parse" -type f | wc -l)
"$pbin" -max_total_time="$seconds" -close_fd_mask=2 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$out/crashes/trace_parse/" "$merge_into/trace_parse" "${pdirs[@]}" \
  >"$out/logs/trace_parse.log" 2>&1 || pfail+=("FAIL (fuzzing)")
pres=ok
[ ${#pfail[@]} -gt 0 ] && pres=$(IFS=,; echo "${pfail[*]}")
pafter=$(find "$merge_into/trace_parse" -type f | wc -l)
pnc=$(find "$out/crashes/trace_parse" -type f | wc -l)
echo "  trace_parse    $pres ($(grep -o 'Done [0-9]* runs' "$out/logs/trace_parse.log" || echo 'no runs'))"
case "$pres" in *FAIL*) failed=1 ;; esac

# ---------------------------------------------------------------- 3. merge
declare -A MERGED NEWIN
for t in "${targets[@]}"; do
  bin=$bdir/targets/$t
  mkdir -p "$merge_into/$t"
  before=$(find "$merge_into/$t" -type f | wc -l)
  if [ -d "$out/corpus/$t" ]; then
    timeout -k 10 1800 "$bin" -merge=1 -timeout=60 "$merge_into/$t" "$out/corpus/$t" >"$out/logs/$t.merge.log" 2>&1 ||
      echo "$me: warning: merge of $t failed (see $out/logs/$t.merge.log)" >&2
  fi
  after=$(find "$merge_into/$t" -type f | wc -l)
  MERGED[$t]=$after; NEWIN[$t]=$((after - before))
done

# ---------------------------------------------------------------- summary
echo
printf '| %-14s | %-28s | %-7s | %-6s | %s\n' target "corpus replay" crashes groups "merged corpus (new)"
printf '|%s|\n' "----------------|------------------------------|---------|--------|---------------------"
ncrash_total=0
for t in "${targets[@]}"; do
  nc=0
  for c in "$out/crashes/$t"/crash-* "$out/crashes/$t"/leak-* "$out/crashes/$t"/timeout-* "$out/crashes/$t"/oom-*; do
    [ -f "$c" ] || continue
    case "$c" in *.trace|*.report) continue ;; esac
    nc=$((nc + 1))
  done
  ncrash_total=$((ncrash_total + nc))
  ng=0
  [ -f "$out/groups/$t/GROUPS.md" ] && ng=$(($(wc -l <"$out/groups/$t/GROUPS.md") - 2))
  printf '| %-14s | %-28s | %-7s | %-6s | %s (+%s)\n' "$t" "${REPLAY[$t]}" "$nc" "$ng" "${MERGED[$t]}" "${NEWIN[$t]}"
done
printf '| %-14s | %-28s | %-7s | %s (+%s)\n' "trace parser" "$pres" "$pnc" "$pafter" "$((pafter - pbefore))"
ncrash_total=$((ncrash_total + pnc))
echo
echo "results: $out    merged corpus: $merge_into$( [ $update = 1 ] && echo "    committed corpus updated: corpus/<t>/bytes")"
rc=0
if [ $failed = 1 ]; then
  echo "$me: CORPUS REPLAY FAILED — logs in $out/replay/ (replay one: $bdir/targets/<t> replay FILE)"
  rc=1
fi
if [ $frc = 1 ] || [ $ncrash_total -gt 0 ]; then
  echo "$me: FUZZING FOUND CRASHES, LEAKS OR TIMEOUTS — grouped in $out/groups/<t>/<rule>@<frame>-<hash>/ (smallest reproducer, .trace, .report); every one in $out/crashes/<t>/"
  rc=1
fi
[ $rc = 0 ] && echo "$me: ok — corpus replays clean, no crash, leak or timeout in ${seconds}s per target"
exit $rc
