#!/usr/bin/env bash
# ci/afl.sh — an AFL++ campaign (afl-fuzz 4.04c or later) over one target or all of
# targets/targets.list (one after another), on N cores of this host, optionally joined
# with other hosts through a shared sync directory.
#
#   ci/afl.sh [TARGET|all] [--cores N] [--seconds S] [--out DIR] [--name NAME]
#             [--sync-dir DIR] [--sync-cmd CMD] [--sync-every S] [--no-main]
#             [--no-asan] [--no-cmplog] [--min-stability PCT] [--timeout MS]
#             [--no-triage] [--no-build]
#   ci/afl.sh triage [ci/afl-triage.sh arguments]     (same as ci/afl-triage.sh)
#
#   TARGET           one name of targets/targets.list, or all (default)
#   --cores N        afl-fuzz instances on this host (default: all cores, nproc)
#   --seconds S      fuzzing time per target (default 300); every instance gets -V S
#   --out DIR        logs and triage (default fuzz-out/afl): DIR/logs/<t>/<instance>.log,
#                    DIR/triage/<t>/ (see ci/afl-triage.sh)
#   --name NAME      this host's instance prefix (default: short host name): instances
#                    NAME-main (-M), NAME-cmplog, NAME-asan, NAME-s3... (-S)
#   --sync-dir DIR   sync directory root, -o DIR/<t> (default DIR = <out>/sync).  Several
#                    hosts share a campaign by giving the same DIR (a shared file system)
#                    or by synchronising DIR/<t>/*-main between hosts (--sync-cmd)
#   --sync-cmd CMD   shell command run every --sync-every seconds (default 300) during the
#                    campaign, e.g. an rsync of the main instances' directories to and from
#                    the other hosts (docs/campaigns.md); $OBQ_AFL_SYNC is set to DIR/<t>
#   --no-main        only -S secondaries on this host (another host runs the -M main)
#   --no-asan, --no-cmplog   leave out the ASan / CmpLog secondary (and its build)
#   --min-stability PCT      stability below this is a harness bug (default 99)
#   --timeout MS     afl-fuzz -t: a run longer than this is a hang (default 200).  A run
#                    takes microseconds (docs/benchmarks.md); AFL++'s own choice for such
#                    fast targets turned a run descheduled on a loaded machine into a
#                    "hang" that replays at once.  Endless schedules are the harness's
#                    livelock report.
#   --no-triage      do not run ci/afl-triage.sh on the crashes found
#   --no-build       use the existing build trees as they are
#
# Builds (afl-clang-fast, persistent mode, deferred init): the `afl` preset in
# build/afl, an ASan+UBSan variant in build/afl-asan and a CmpLog variant
# (AFL_LLVM_CMPLOG=1) in build/afl-cmplog (OBQ_BUILD_ROOT=DIR moves them under DIR).
# Instances, in the order cores are given to them: NAME-main (-M, schedule fast),
# NAME-cmplog (-S, -c <cmplog build> -l 2AT, explore), NAME-asan (-S, ASan build,
# exploit), then NAME-s3.. (-S, schedules coe, rare, mmopt, seek, lin, quad, every second
# one with MOpt -L 0).  Seeds: the compiled corpus (build/afl/corpus/<t>/) and the
# regressions; dictionary corpus/<t>.dict.  A status line from afl-whatsup every 60 s;
# Ctrl-C stops every instance cleanly (SIGINT, wait) and still prints the summary.
#
# Exit status: 0 clean; 1 crashes or hangs found (triaged into <out>/triage/<t>/);
# 3 an instance's stability below --min-stability (deterministic mode must be 100 %:
# a harness bug to report); 2 usage, build or setup error.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
me="ci/afl.sh"

if [ "${1:-}" = triage ]; then
  shift
  exec bash "$here/ci/afl-triage.sh" "$@"
fi

die() { echo "$me: $*" >&2; exit 2; }
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0; }
need_num() { case "$2" in ''|*[!0-9]*) die "$1 needs a whole number, got '$2'" ;; esac; }

target="all"
target_set=0
cores=$(nproc 2>/dev/null || echo 1)
seconds=300
out="fuzz-out/afl"
name=$(hostname -s 2>/dev/null || hostname 2>/dev/null || echo host)
sync_root=""
sync_cmd=""
sync_every=300
with_main=1
with_asan=1
with_cmplog=1
min_stab=99
timeout_ms=200
triage=1
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --cores) [ $# -ge 2 ] || die "--cores needs a value"; need_num --cores "$2"; cores=$2; shift 2 ;;
    --seconds) [ $# -ge 2 ] || die "--seconds needs a value"; need_num --seconds "$2"; seconds=$2; shift 2 ;;
    --out) [ $# -ge 2 ] || die "--out needs a directory"; out=$2; shift 2 ;;
    --name) [ $# -ge 2 ] || die "--name needs a value"; name=$2; shift 2 ;;
    --sync-dir) [ $# -ge 2 ] || die "--sync-dir needs a directory"; sync_root=$2; shift 2 ;;
    --sync-cmd) [ $# -ge 2 ] || die "--sync-cmd needs a command"; sync_cmd=$2; shift 2 ;;
    --sync-every) [ $# -ge 2 ] || die "--sync-every needs a value"; need_num --sync-every "$2"; sync_every=$2; shift 2 ;;
    --no-main) with_main=0; shift ;;
    --no-asan) with_asan=0; shift ;;
    --no-cmplog) with_cmplog=0; shift ;;
    --min-stability) [ $# -ge 2 ] || die "--min-stability needs a value"; need_num --min-stability "$2"; min_stab=$2; shift 2 ;;
    --timeout) [ $# -ge 2 ] || die "--timeout needs a value"; need_num --timeout "$2"; timeout_ms=$2; shift 2 ;;
    --no-triage) triage=0; shift ;;
    --no-build) build=0; shift ;;
    -h|--help) usage ;;
    -*) die "unknown option '$1' (try --help)" ;;
    *) [ $target_set = 0 ] || die "one target only (or all), got '$target' and '$1'"
       target=$1; target_set=1; shift ;;
  esac
done
[ "$cores" -ge 1 ] || die "--cores must be at least 1"
[ "$seconds" -ge 1 ] || die "--seconds must be at least 1"
[ "$sync_every" -ge 10 ] || die "--sync-every must be at least 10 seconds"
[ "$timeout_ms" -ge 5 ] || die "--timeout must be at least 5 ms"
# afl-fuzz accepts instance names of [A-Za-z0-9_-], at most 32 characters.
case "$name" in ''|*[!A-Za-z0-9_-]*) die "--name '$name': use letters, digits, '_' and '-' only" ;; esac
[ ${#name} -le 24 ] || die "--name '$name' is too long (24 characters at most)"

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

broot=${OBQ_BUILD_ROOT:-build}
b_plain=$broot/afl
b_asan=$broot/afl-asan
b_cmplog=$broot/afl-cmplog

# ---------------------------------------------------------------- instance plan
# role|name|schedule|extra flags   (one line per core, in the order cores are given)
plan=()
schedules=(coe rare mmopt seek lin quad exploit explore)
i=0
if [ $with_main = 1 ]; then plan+=("main|$name-main|fast|"); fi
if [ $with_cmplog = 1 ] && [ ${#plan[@]} -lt "$cores" ]; then plan+=("cmplog|$name-cmplog|explore|-l 2AT"); fi
if [ $with_asan = 1 ] && [ ${#plan[@]} -lt "$cores" ]; then plan+=("asan|$name-asan|exploit|"); fi
k=3
while [ ${#plan[@]} -lt "$cores" ]; do
  s=${schedules[$(( (k - 3) % ${#schedules[@]} ))]}
  extra=""
  [ $(( k % 2 )) = 0 ] && extra="-L 0"
  plan+=("plain|$name-s$k|$s|$extra")
  k=$((k + 1))
done
uses() { local r; for r in "${plan[@]}"; do [ "${r%%|*}" = "$1" ] && return 0; done; return 1; }

# ---------------------------------------------------------------- build
afl_cmake=(-G Ninja -DCMAKE_C_COMPILER=afl-clang-fast -DCMAKE_BUILD_TYPE=RelWithDebInfo
           -DOBQ_CHECK=ON -DOBQ_FUZZ_ENGINE=afl -DOBQ_BUILD_BENCH=OFF -DOBQ_BUILD_TESTS=OFF)
build_variant() { # <dir> <label> <cmake targets...>  (env and extra -D flags from callers)
  local dir=$1 label=$2; shift 2
  local log=$broot/$(basename "$dir").log
  echo "== building $label in $dir"
  # The deny list reaches afl-clang-fast through the environment, which ninja does not
  # track: objects built under another list are rebuilt from scratch.
  local sum=""
  [ -f "$dir/afl-denylist.txt" ] && sum=$(cksum <"$dir/afl-denylist.txt")
  # (a tree without the record may have been built under any list: cleaned once)
  if [ "$(cat "$dir/.obq-denylist.sum" 2>/dev/null || echo none)" != "$sum" ]; then
    [ -f "$dir/.obq-denylist.sum" ] && echo "   (coverage deny list changed since the last build: clean rebuild)"
    cmake --build "$dir" --target clean >>"$log" 2>&1 || true
  fi
  echo "$sum" >"$dir/.obq-denylist.sum"
  if ! cmake --build "$dir" -j "$(nproc)" --target "$@" >>"$log" 2>&1; then
    grep -E 'error|FAILED' "$log" | head -n 20 >&2 || true
    die "build of $label failed (full log: $log)"
  fi
}
if [ $build = 1 ]; then
  bash ci/deps.sh afl || die "ci/deps.sh afl failed"
  command -v afl-fuzz >/dev/null || die "afl-fuzz not found after ci/deps.sh afl"
  mkdir -p "$broot"
  tgts=(); ctgts=()
  for t in "${targets[@]}"; do tgts+=("$t"); ctgts+=("$t" "${t}_corpus"); done
  export AFL_QUIET=1
  if [ "$broot" = build ]; then
    cmake --preset afl >"$broot/afl.log" 2>&1 || { tail -n 30 "$broot/afl.log" >&2; die "configure of preset afl failed"; }
  else
    cmake -S . -B "$b_plain" "${afl_cmake[@]}" >"$broot/afl.log" 2>&1 || { tail -n 30 "$broot/afl.log" >&2; die "configure of $b_plain failed"; }
  fi
  build_variant "$b_plain" "preset afl (afl-clang-fast, persistent mode)" "${ctgts[@]}" obq-trace
  if uses asan; then
    cmake -S . -B "$b_asan" "${afl_cmake[@]}" -DOBQ_SANITIZE='address;undefined' >"$broot/afl-asan.log" 2>&1 ||
      { tail -n 30 "$broot/afl-asan.log" >&2; die "configure of $b_asan failed"; }
    build_variant "$b_asan" "AFL++ ASan+UBSan variant" "${tgts[@]}"
  fi
  if uses cmplog; then
    AFL_LLVM_CMPLOG=1 cmake -S . -B "$b_cmplog" "${afl_cmake[@]}" >"$broot/afl-cmplog.log" 2>&1 ||
      { tail -n 30 "$broot/afl-cmplog.log" >&2; die "configure of $b_cmplog failed"; }
    AFL_LLVM_CMPLOG=1 build_variant "$b_cmplog" "AFL++ CmpLog variant" "${tgts[@]}"
  fi
  unset AFL_QUIET
fi
command -v afl-fuzz >/dev/null || die "afl-fuzz not found (bash ci/deps.sh afl)"
command -v afl-whatsup >/dev/null || die "afl-whatsup not found (bash ci/deps.sh afl)"

mkdir -p "$out"
out=$(cd "$out" && pwd)
sync_root=${sync_root:-$out/sync}
mkdir -p "$sync_root"
sync_root=$(cd "$sync_root" && pwd)

# ---------------------------------------------------------------- environment
# 4.04c in a container: no cpufreq governor files (AFL_SKIP_CPUFREQ avoids the check),
# core_pattern may pipe to a handler we cannot change (the crash is still seen),
# the cores may be shared or outside our cpuset (no binding), and an existing sync
# directory is resumed rather than refused.
export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_NO_AFFINITY=1 AFL_AUTORESUME=1 AFL_IGNORE_UNKNOWN_ENVS=1
export AFL_FORKSRV_INIT_TMOUT=${AFL_FORKSRV_INIT_TMOUT:-20000}
# AFL++'s advice for CI (docs/fuzzing_in_depth.md, "CI fuzzing"): CmpLog only on new
# queue entries, not the seeds or a resumed queue again (AFL_CMPLOG_ONLY_NEW), and a
# three-run calibration (AFL_FAST_CAL: the deterministic mode is 100 % stable, more runs
# measure nothing).  Set them to 0 to get AFL++'s defaults.
export AFL_CMPLOG_ONLY_NEW=${AFL_CMPLOG_ONLY_NEW:-1} AFL_FAST_CAL=${AFL_FAST_CAL:-1}
[ "$AFL_CMPLOG_ONLY_NEW" = 0 ] && unset AFL_CMPLOG_ONLY_NEW
[ "$AFL_FAST_CAL" = 0 ] && unset AFL_FAST_CAL
# Inputs longer than libFuzzer's cap (max_len = 512 in corpus/<t>.options) are never
# generated (-G): both engines explore the same input space, and a crash one finds
# replays in the other.
max_len=512
# Instances sync every AFL_SYNC_TIME minutes (mains twice as often); AFL++'s default of
# 30 suits day-long runs, a short campaign gets a tenth of its length (1..30).
if [ -z "${AFL_SYNC_TIME:-}" ]; then
  st=$((seconds / 600)); [ $st -lt 1 ] && st=1; [ $st -gt 30 ] && st=30
  export AFL_SYNC_TIME=$st
fi
unset AFL_USE_ASAN AFL_LLVM_CMPLOG

stat_of() { # <fuzzer_stats> <key>
  [ -f "$1" ] || return 0
  awk -v k="$2" -F: '{ key=$1; gsub(/[ \t]/, "", key); if (key == k) { v=substr($0, index($0, ":") + 1); gsub(/^[ \t]+|[ \t%]+$/, "", v); print v; exit } }' "$1"
}

# ---------------------------------------------------------------- one campaign
pids=()
stopping=0
stop_all() {
  local p
  for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
}
on_signal() {
  stopping=1
  echo; echo "$me: stopping every instance (SIGINT), waiting for them to write their stats"
  stop_all
}
trap on_signal INT TERM

# note_kids: add the children and grandchildren of every afl-fuzz started (pids) to
# kids — the fork servers and their persistent-mode children (read from /proc: no
# procps needed).
note_kids() {
  local p k g table
  table=$(cat /proc/[0-9]*/stat 2>/dev/null | awk '{ print $1, $4 }') || true
  for p in "${pids[@]}"; do
    for k in $(awk -v p="$p" '$2 == p { print $1 }' <<<"$table"); do
      kids[$k]=1
      for g in $(awk -v p="$k" '$2 == p { print $1 }' <<<"$table"); do kids[$g]=1; done
    done
  done
}

status_line() { # <sync> <t> <elapsed>
  local w alive execs speed crashes hangs
  w=$(afl-whatsup -s -d "$1" 2>/dev/null || true)
  alive=$(sed -nE 's/^ *Fuzzers alive : *([0-9]+).*/\1/p' <<<"$w")
  execs=$(sed -nE 's/^ *Total execs : *(.*)$/\1/p' <<<"$w")
  speed=$(sed -nE 's/^ *Cumulative speed : *([0-9]+).*/\1/p' <<<"$w")
  crashes=0; hangs=0
  local stab="" f n v
  for f in "$1"/*/fuzzer_stats; do
    [ -f "$f" ] || continue
    n=$(basename "$(dirname "$f")")
    case "$n" in "$name"-*) ;; *) continue ;; esac
    v=$(stat_of "$f" saved_crashes); crashes=$((crashes + ${v:-0}))
    v=$(stat_of "$f" saved_hangs); hangs=$((hangs + ${v:-0}))
    stab+="${stab:+ }${n#"$name"-}=$(stat_of "$f" stability)%"
  done
  printf '  [%4ss] %-12s alive %s, execs %s, %s exec/s, crashes %s, hangs %s, stability %s\n' \
    "$3" "$2" "${alive:-0}" "${execs:-?}" "${speed:-0}" "$crashes" "$hangs" "${stab:-?}"
}

overall=0
declare -a summary_rows=()
unstable=()
for t in "${targets[@]}"; do
  [ $stopping = 1 ] && break
  bin=$b_plain/targets/$t
  [ -x "$bin" ] || die "$bin is missing (build it: ci/afl.sh $t, without --no-build)"
  if uses asan && [ ! -x "$b_asan/targets/$t" ]; then die "$b_asan/targets/$t is missing (or use --no-asan)"; fi
  if uses cmplog && [ ! -x "$b_cmplog/targets/$t" ]; then die "$b_cmplog/targets/$t is missing (or use --no-cmplog)"; fi
  sync=$sync_root/$t
  seeds=$out/seeds/$t
  logs=$out/logs/$t
  mkdir -p "$sync" "$seeds" "$logs"
  # Seeds: compiled corpus bytes, plus the regressions (encoded when they are traces).
  rm -f "$seeds"/*
  [ -d "$b_plain/corpus/$t" ] && cp "$b_plain/corpus/$t"/* "$seeds"/ 2>/dev/null || true
  if [ -d "corpus/regressions/$t" ]; then
    for r in corpus/regressions/"$t"/*; do
      [ -f "$r" ] || continue
      case "$r" in
        *.trace) "$bin" encode "$r" -o "$seeds/regression-$(basename "$r" .trace)" >/dev/null 2>&1 ||
                   echo "$me: warning: cannot encode $r (skipped)" >&2 ;;
        *.md|*.txt) ;;
        *) cp "$r" "$seeds/regression-$(basename "$r")" ;;
      esac
    done
  fi
  if [ -z "$(ls -A "$seeds")" ]; then
    echo "$me: warning: no compiled corpus for $t ($b_plain/corpus/$t is empty): seeding with one zero input" >&2
    head -c 64 /dev/zero >"$seeds/zero"
  fi
  dict=()
  [ -f "corpus/$t.dict" ] && dict=(-x "corpus/$t.dict")

  echo "== $t: ${#plan[@]} instance(s) for ${seconds}s, sync dir $sync, $(ls "$seeds" | wc -l) seed(s)${dict:+, dictionary corpus/$t.dict}"
  pids=()
  names=()
  for row in "${plan[@]}"; do
    IFS='|' read -r role iname sched extra <<<"$row"
    args=(-i "$seeds" -o "$sync" -V "$seconds" -t "$timeout_ms" -G "$max_len" -p "$sched" "${dict[@]}")
    if [ "$role" = main ]; then args+=(-M "$iname"); else args+=(-S "$iname"); fi
    # shellcheck disable=SC2206
    [ -n "$extra" ] && args+=($extra)
    tbin=$bin
    case "$role" in
      cmplog) args+=(-c "$b_cmplog/targets/$t") ;;
      asan) tbin=$b_asan/targets/$t ;;
    esac
    echo "   $iname: afl-fuzz ${args[*]} -- $tbin" | sed "s|$here/||g"
    afl-fuzz "${args[@]}" -- "$tbin" >"$logs/$iname.log" 2>&1 &
    pids+=($!)
    names+=("$iname")
  done

  # Wait: status every 30 s, the sync command every --sync-every s, a hard deadline
  # (calibration and the last sync come on top of -V) after which SIGINT is sent.
  t0=$(date +%s)
  next_status=$((t0 + 60))
  next_sync=$((t0 + sync_every))
  deadline=$((t0 + seconds + 120 + seconds / 10))
  export OBQ_AFL_SYNC=$sync
  declare -A kids=()
  while :; do
    alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
    note_kids
    [ $alive = 0 ] && break
    now=$(date +%s)
    if [ "$now" -ge "$next_status" ]; then status_line "$sync" "$t" $((now - t0)); next_status=$((now + 60)); fi
    if [ -n "$sync_cmd" ] && [ "$now" -ge "$next_sync" ]; then
      bash -c "$sync_cmd" >>"$logs/sync.log" 2>&1 || echo "$me: warning: --sync-cmd failed (see $logs/sync.log)" >&2
      next_sync=$((now + sync_every))
    fi
    if [ "$now" -ge "$deadline" ] && [ $stopping = 0 ]; then
      echo "$me: $t: instances still running past the deadline: SIGINT"
      stopping=2
      stop_all
    fi
    sleep 2 & wait $! 2>/dev/null || true
  done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  # AFL++ 4.04c can leave the CmpLog fork server (the -c binary) running after its
  # afl-fuzz exits, stopped (SIGSTOP between persistent runs, so only SIGKILL ends it);
  # the orphan keeps the instance directory locked, and the next campaign's CmpLog
  # instance then refuses to start ("is in use").  Reap it.
  # Only processes this campaign started: the afl-fuzz pids' children and grandchildren
  # noted while they ran, and only those still running the CmpLog binary (a pid reused
  # since by another program is left alone).  Never by name: another checkout's
  # campaign runs binaries of the same relative path.
  if uses cmplog; then
    cbin=$(readlink -f "$b_cmplog/targets/$t")
    for k in "${!kids[@]}"; do
      [ "$(readlink "/proc/$k/exe" 2>/dev/null)" = "$cbin" ] && kill -KILL "$k" 2>/dev/null || true
    done
  fi
  unset kids
  [ $stopping = 2 ] && stopping=0
  if [ -n "$sync_cmd" ]; then bash -c "$sync_cmd" >>"$logs/sync.log" 2>&1 || true; fi
  status_line "$sync" "$t" $(( $(date +%s) - t0 ))

  # Per-instance results from fuzzer_stats.
  crashes_t=0
  for iname in "${names[@]}"; do
    f=$sync/$iname/fuzzer_stats
    if [ ! -f "$f" ]; then
      echo "$me: $iname never started fuzzing; last lines of $logs/$iname.log:" >&2
      tail -n 15 "$logs/$iname.log" | sed 's/\x1b\[[0-9;]*m//g' >&2
      summary_rows+=("$t|$iname|-|-|-|-|-|-|-|did not start")
      overall=2
      continue
    fi
    execs=$(stat_of "$f" execs_done); rt=$(stat_of "$f" run_time)
    eps=0; [ "${rt:-0}" -gt 0 ] && eps=$((execs / rt))
    stab=$(stat_of "$f" stability)
    cr=$(stat_of "$f" saved_crashes); hg=$(stat_of "$f" saved_hangs)
    crashes_t=$((crashes_t + ${cr:-0} + ${hg:-0}))
    note=""
    if [ -n "$stab" ] && [ "${execs:-0}" -gt 0 ] &&
       awk -v s="$stab" -v m="$min_stab" 'BEGIN { exit !(s + 0 < m + 0) }'; then
      note="UNSTABLE"
      unstable+=("$t/$iname: stability $stab% (< $min_stab%)")
    fi
    summary_rows+=("$t|$iname|${execs:-0}|$eps|$(stat_of "$f" corpus_count)|$(stat_of "$f" corpus_imported)|$(stat_of "$f" bitmap_cvg)%|${stab:-?}%|${cr:-0}/${hg:-0}|$note")
  done
  if [ $crashes_t -gt 0 ]; then
    [ $overall = 0 ] && overall=1
    if [ $triage = 1 ]; then
      bash ci/afl-triage.sh "$t" --out "$out" --sync-dir "$sync_root" --no-build || true
    else
      echo "   $t: crashes/hangs in $sync/*/crashes*, $sync/*/hangs* (triage: ci/afl-triage.sh $t --out $out --sync-dir $sync_root)"
    fi
  fi
done
trap - INT TERM

echo
printf '| %-12s | %-16s | %10s | %7s | %6s | %8s | %6s | %9s | %-13s | %s\n' target instance execs "exec/s" corpus imported map stability "crash/hang" note
printf '|%s|\n' "--------------|------------------|------------|---------|--------|----------|--------|-----------|---------------|------"
for r in "${summary_rows[@]}"; do
  IFS='|' read -r a b c d e f g h i j <<<"$r"
  printf '| %-12s | %-16s | %10s | %7s | %6s | %8s | %6s | %9s | %-13s | %s\n' "$a" "$b" "$c" "$d" "$e" "$f" "$g" "$h" "$i" "$j"
done
echo
echo "sync dir: $sync_root    logs: $out/logs    status: afl-whatsup -s $sync_root/<target>"
if [ ${#unstable[@]} -gt 0 ]; then
  echo "$me: HARNESS BUG: deterministic mode must give AFL++ 100 % stability; below $min_stab %:"
  printf '  %s\n' "${unstable[@]}"
  echo "  (the same input ran twice took different paths: state not reset between inputs, or"
  echo "   time/address/thread-dependent behaviour; report it against targets/harness with"
  echo "   the instance's fuzzer_stats and what 'ci/afl-stability.sh <target> <sync>/<target>/<instance>/queue'"
  echo "   prints: the differing edges and their source lines.  Inputs AFL++ saw vary are in"
  echo "   <sync>/<target>/<instance>/queue/.state/variable_behavior/)"
  exit 3
fi
[ $stopping = 1 ] && { echo "$me: interrupted"; exit 130; }
case $overall in
  0) echo "$me: no crashes, no hangs" ;;
  1) echo "$me: CRASHES OR HANGS FOUND — triage in $out/triage/ (ci/afl-triage.sh)" ;;
  *) echo "$me: some instances failed to start (see above)" ;;
esac
exit $overall
