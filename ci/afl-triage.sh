#!/usr/bin/env bash
# ci/afl-triage.sh — triage an AFL++ campaign of ci/afl.sh into folders a person reads.
#
#   ci/afl-triage.sh [TARGET|all] [--out DIR] [--sync-dir DIR] [--no-cmin] [--no-build]
#
#   TARGET          one name of targets/targets.list, or all (default)
#   --out DIR       the campaign's --out (default fuzz-out/afl); triage goes to DIR/triage
#   --sync-dir DIR  the campaign's sync root (default DIR/sync); the queue and crashes
#                   of every instance under DIR/<t>/* are read (all hosts' instances)
#   --no-cmin       skip afl-cmin of the queue
#   --no-build      accepted for symmetry with ci/afl.sh (this script never builds)
#
# For each target:
#   DIR/triage/<t>/queue-cmin/     afl-cmin of every instance's queue (a small corpus
#                                  to merge back: encode-free, raw bytes)
#   DIR/triage/<t>/INDEX.md        one line per crash or hang: id, report, sizes, replay
#   DIR/triage/<t>/<crash-id>/     crash-id = <instance>-<id>-<sig|hang>
#       input        the input afl-fuzz saved
#       min          afl-tmin (same crash), then `<t> minimize` (same report rule)
#       trace.txt    `<t> decode min`: header, per-thread operations, realised schedule,
#                    the report
#       report.txt   `<t> replay input`: the run with full step tracing and its report
#                    (the binary that reproduced it: build/afl, else build/afl-asan)
#       replay.sh    the command that replays it
#   DIR/triage/<t>/groups/         the crashes grouped by rule + top user frames
#                                  (targets/tools/obq-crash-group): one folder per group
#                                  with its smallest `min`, its trace and report;
#                                  groups/GROUPS.md, also appended to INDEX.md
# Binaries: build/afl/targets/<t> (and build/afl-asan for crashes only ASan sees;
# OBQ_BUILD_ROOT=DIR for DIR/afl...).  Exit status: 0 nothing to triage, 1 crashes or
# hangs triaged, 2 usage error or missing campaign.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
me="ci/afl-triage.sh"
die() { echo "$me: $*" >&2; exit 2; }

target=all
target_set=0
out=fuzz-out/afl
sync_root=""
cmin=1
while [ $# -gt 0 ]; do
  case "$1" in
    --out) [ $# -ge 2 ] || die "--out needs a directory"; out=$2; shift 2 ;;
    --sync-dir) [ $# -ge 2 ] || die "--sync-dir needs a directory"; sync_root=$2; shift 2 ;;
    --no-cmin) cmin=0; shift ;;
    --no-build) shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) die "unknown option '$1' (try --help)" ;;
    *) [ $target_set = 0 ] || die "one target only (or all), got '$target' and '$1'"
       target=$1; target_set=1; shift ;;
  esac
done
mapfile -t all < <(grep -E '^[a-z0-9_]+$' targets/targets.list)
# A listed target whose source does not exist yet is skipped (targets/CMakeLists.txt does).
listed=("${all[@]}"); all=()
for t in "${listed[@]}"; do
  if [ -f "targets/$t.c" ]; then all+=("$t"); else echo "$me: note: targets/$t.c does not exist: $t skipped" >&2; fi
done
if [ "$target" = all ]; then
  targets=("${all[@]}")
else
  printf '%s\n' "${all[@]}" | grep -qx "$target" || die "unknown target '$target' (targets: ${all[*]} or all)"
  targets=("$target")
fi
[ -d "$out" ] || die "no campaign in '$out' (run ci/afl.sh first, or give --out)"
out=$(cd "$out" && pwd)
sync_root=${sync_root:-$out/sync}
[ -d "$sync_root" ] || die "no sync directory '$sync_root'"
sync_root=$(cd "$sync_root" && pwd)
broot=${OBQ_BUILD_ROOT:-build}
broot=$(cd "$broot" 2>/dev/null && pwd) || die "no build trees in '${OBQ_BUILD_ROOT:-build}' (run ci/afl.sh)"
export AFL_ALLOW_TMP=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
export AFL_IGNORE_UNKNOWN_ENVS=1 AFL_FORKSRV_INIT_TMOUT=${AFL_FORKSRV_INIT_TMOUT:-20000}

# The report line of a replay: the oblique rule, or the sanitizer's error.
rule_of() {
  local r
  r=$(sed -nE 's/^REPORT: *([^ ]+).*/\1/p; s/.*==oblique== ERROR: *([^ ]+).*/\1/p' "$1" | head -n 1)
  [ -z "$r" ] && r=$(sed -nE 's/.*ERROR: (AddressSanitizer|LeakSanitizer|ThreadSanitizer): *([^ ]+).*/\1:\2/p; s/.*(runtime error): .*/UBSan/p' "$1" | head -n 1)
  echo "${r:-none}"
}

total=0
for t in "${targets[@]}"; do
  sync=$sync_root/$t
  [ -d "$sync" ] || { echo "  $t: no campaign in $sync (skipped)"; continue; }
  bin=$broot/afl/targets/$t
  abin=$broot/afl-asan/targets/$t
  [ -x "$bin" ] || die "$bin is missing (build with ci/afl.sh $t)"
  tri=$out/triage/$t
  mkdir -p "$tri"

  # 1. afl-cmin the queue of every instance (all hosts) into queue-cmin/.
  nq=0
  if [ $cmin = 1 ]; then
    rm -rf "$tri/queue-all" "$tri/queue-cmin"
    mkdir -p "$tri/queue-all"
    for q in "$sync"/*/queue; do
      [ -d "$q" ] || continue
      inst=$(basename "$(dirname "$q")")
      for f in "$q"/id:*; do
        [ -f "$f" ] || continue
        cp "$f" "$tri/queue-all/$inst-$(basename "$f" | cut -d, -f1 | tr -d :)"
        nq=$((nq + 1))
      done
    done
    if [ $nq -gt 0 ]; then
      if afl-cmin -i "$tri/queue-all" -o "$tri/queue-cmin" -- "$bin" >"$tri/cmin.log" 2>&1; then
        echo "  $t: queue $nq entries -> $(find "$tri/queue-cmin" -type f | wc -l) after afl-cmin ($tri/queue-cmin)"
      else
        echo "  $t: afl-cmin failed (see $tri/cmin.log)"
      fi
    fi
    rm -rf "$tri/queue-all"
  fi

  # 2. every crash and hang of every instance.
  idx=$tri/INDEX.md
  {
    echo "# AFL++ triage: $t"
    echo
    echo "Campaign $sync, triaged $(date -u +%Y-%m-%dT%H:%MZ).  Each folder: input, min, trace.txt, report.txt, replay.sh."
    echo
    echo "| crash id | report | input bytes | min bytes | reproduced by | replay |"
    echo "|---|---|---|---|---|---|"
  } >"$idx"
  n=0
  declare -A by_rule=()
  for c in "$sync"/*/crashes*/id:* "$sync"/*/hangs*/id:*; do
    [ -f "$c" ] || continue
    inst=$(basename "$(dirname "$(dirname "$c")")")
    base=$(basename "$c")
    idn=$(sed -nE 's/^id:([0-9]+).*/\1/p' <<<"$base")
    case "$(basename "$(dirname "$c")")" in
      hangs*) kind=hang ;;
      *) kind="sig$(sed -nE 's/.*,sig:([0-9]+).*/\1/p' <<<"$base")" ;;
    esac
    cdir_name="$inst-$idn-$kind"
    case "$(basename "$(dirname "$c")")" in crashes.*|hangs.*) cdir_name="$cdir_name-$(basename "$(dirname "$c")" | cut -d. -f2 | tr -d ':-')" ;; esac
    d=$tri/$cdir_name
    if [ -f "$d/trace.txt" ] && cmp -s "$c" "$d/input"; then
      n=$((n + 1))
      rule=$(rule_of "$d/report.txt")
      by_rule[$rule]=$(( ${by_rule[$rule]:-0} + 1 ))
      cat "$d/index-line" >>"$idx" 2>/dev/null || true
      continue # already triaged
    fi
    mkdir -p "$d"
    cp "$c" "$d/input"
    # Which binary reproduces it: the checked build first, then ASan.
    rbin=""
    for b in "$bin" "$abin"; do
      [ -x "$b" ] || continue
      if ! timeout 60 "$b" replay "$d/input" >"$d/report.txt" 2>&1; then rbin=$b; break; fi
    done
    if [ -z "$rbin" ]; then
      rbin=$bin
      timeout 60 "$bin" replay "$d/input" >"$d/report.txt" 2>&1 || true
      printf '\n# NOTE: this input did not fail when replayed (by %s or %s): flaky or\n# environment-dependent — a harness determinism bug worth reporting.\n' "$bin" "$abin" >>"$d/report.txt"
    fi
    rule=$(rule_of "$d/report.txt")
    # afl-tmin keeps the input crashing — any crash: its result is kept only if it still
    # gives the same report; then the harness's minimizer (same rule by construction).
    if [ "$kind" != hang ] && timeout 300 afl-tmin -i "$d/input" -o "$d/min.tmin" -- "$rbin" >"$d/tmin.log" 2>&1; then
      timeout 60 "$rbin" replay "$d/min.tmin" >"$d/tmin.report" 2>&1 || true
      if [ "$(rule_of "$d/tmin.report")" != "$rule" ]; then
        echo "afl-tmin's result reports $(rule_of "$d/tmin.report"), not $rule: dropped" >>"$d/tmin.log"
        cp "$d/input" "$d/min.tmin"
      fi
      rm -f "$d/tmin.report"
    else
      cp "$d/input" "$d/min.tmin"
    fi
    if ! timeout 300 "$rbin" minimize "$d/min.tmin" -o "$d/min" >"$d/minimize.log" 2>&1 || [ ! -s "$d/min" ]; then
      cp "$d/min.tmin" "$d/min"
    fi
    # stdout alone: the trace stays encodable (decode writes it before the run, so a
    # crashing run still leaves it); what the run prints on stderr goes beside it
    timeout 60 "$rbin" decode "$d/min" >"$d/trace.txt" 2>"$d/decode.log" || true
    rel=${rbin#"$here"/}
    # the allocator adapter is part of the input: the same bytes on another one are
    # another run (OBQ_ADAPTER of this triage, as the campaign ran)
    ad=${OBQ_ADAPTER:+--adapter=$OBQ_ADAPTER }
    printf '#!/bin/sh\n# replay crash %s of %s (full step tracing); decode: %s %sdecode min\ncd "$(dirname "$0")"\nexec %s %sreplay "${1:-input}"\n' \
      "$cdir_name" "$t" "$rel" "$ad" "$rbin" "$ad" >"$d/replay.sh"
    chmod +x "$d/replay.sh"
    by_rule[$rule]=$(( ${by_rule[$rule]:-0} + 1 ))
    line="| [$cdir_name]($cdir_name/) | $rule | $(wc -c <"$d/input") | $(wc -c <"$d/min") | ${rel%/targets/*} | \`$rel ${ad}replay $d/min\` |"
    echo "$line" >"$d/index-line"
    echo "$line" >>"$idx"
    n=$((n + 1))
  done
  total=$((total + n))
  # 3. groups: one bug met a thousand times is one folder, with its smallest input.
  mins=()
  for m in "$tri"/*/min; do [ -f "$m" ] && mins+=("$m"); done
  ngroups=0
  if [ ${#mins[@]} -gt 0 ]; then
    rm -rf "$tri/groups"
    bash targets/tools/obq-crash-group --quiet --out "$tri/groups" "${mins[@]}"
    ngroups=$(($(wc -l <"$tri/groups/GROUPS.md") - 2))
    { echo; echo "## Groups (rule + top user frames; groups/<group>/ holds the smallest min)"; echo; cat "$tri/groups/GROUPS.md"; } >>"$idx"
  fi
  if [ $n -gt 0 ]; then
    s=""
    for r in "${!by_rule[@]}"; do s+="${s:+, }$r x${by_rule[$r]}"; done
    echo "  $t: $n crash(es)/hang(s) triaged ($s) in $ngroups group(s): $idx, $tri/groups/"
  else
    echo "  $t: no crashes, no hangs"
  fi
  unset by_rule
done
[ $total -gt 0 ] && exit 1
exit 0
