#!/usr/bin/env bash
# ci/mutants.sh — the seeded-bug benchmark (issue 5; docs/mutants.md).
#
#   ci/mutants.sh [--trials N] [--budget S] [--methods M,...] [--mutants m,...]
#                 [--jobs J] [--raw DIR] [--no-build] [--no-clean] [--no-serial]
#                 [--no-corpus] [--report-only]
#
#   --trials N    independent trials per mutant and method (default 3), seeds 1..N
#   --budget S    time budget per trial in seconds (default 60); a trial that does not
#                 find the bug is censored at S (kept, not dropped)
#   --methods L   any of libfuzzer (deterministic fuzzing, libFuzzer + ASan + UBSan),
#                 afl (AFL++ persistent mode), stress-asan, stress-tsan, weak
#                 (libFuzzer over the weak-memory build mut_<t>-weak,
#                 docs/weak-memory.md) (default: all five).  Ordering mutants
#                 (catalog column `ordering`) run only under stress-tsan and weak;
#                 mutants of the builtin RCU backend (smoke `stress`) only in stress
#                 mode; the others under every method but tsan (which sees only
#                 races); clean runs go through every method.
#   --mutants L   subset of mutants/catalog.tsv (default: all)
#   --jobs J      concurrent trials (default 2: this is a 2-core machine)
#   --raw DIR     raw results (default build/mutants/raw): one JSON per trial, the
#                 trial's log and crash; trials whose JSON exists are skipped, so an
#                 interrupted run resumes where it stopped
#   --no-clean    skip the clean runs (no mutant selected: must report nothing)
#   --no-serial   skip the interleaving-dependence check
#   --no-corpus   skip the committed-corpus replay (regression value)
#   --report-only only aggregate what the raw directory holds
#
# libFuzzer runs with -len_control=0: the harness encodes the schedule in the input's
# tail, and libFuzzer's default slow growth of the length limit from a 4-byte seed
# starves the schedule.  And with -use_value_profile=1: comparison operands (keys,
# generations, pin outcomes) as features keep the corpus diverse.  (The trials that
# showed both: docs/benchmarks.md, "Figures quoted by the design"; docs/mutants.md.)
#
# Fuzzing trials start from ONE neutral seed — the empty program (4 zero bytes: one
# thread, no operations; AFL++ refuses an empty input directory) — never from the
# committed corpus; the target's dictionary and options are used.  Results:
# docs/mutants/results.json, docs/mutants/results.md (also printed), docs/mutants/ttb.png.
set -uo pipefail
# The whole script is one function: bash parses it before running, so editing this
# file while a long benchmark runs cannot derail the run.
main() {
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

trials=3
budget=60
methods="libfuzzer,afl,stress-asan,stress-tsan,weak"
only=""
jobs=2
raw=build/mutants/raw
build=1
do_clean=1
do_serial=1
do_corpus=1
report_only=0
one=""
while [ $# -gt 0 ]; do
  case "$1" in
    --trials) trials=${2:?}; shift 2 ;;
    --budget) budget=${2:?}; shift 2 ;;
    --methods) methods=${2:?}; shift 2 ;;
    --mutants) only=${2:?}; shift 2 ;;
    --jobs) jobs=${2:?}; shift 2 ;;
    --raw) raw=${2:?}; shift 2 ;;
    --no-build) build=0; shift ;;
    --no-clean) do_clean=0; shift ;;
    --no-serial) do_serial=0; shift ;;
    --no-corpus) do_corpus=0; shift ;;
    --report-only) report_only=1; build=0; shift ;;
    --one) one=1; shift; break ;; # internal: --one METHOD MUTANT TARGET TRIAL
    -h|--help) sed -n '2,/^set -uo/{/^set -uo/!p}' "$0"; exit 0 ;;
    *) echo "ci/mutants.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
mkdir -p "$raw"
raw=$(cd "$raw" && pwd)

B_FUZZ=${OBQ_MUT_BUILD:-build/mutants}-fuzz   # clang, libFuzzer + ASan + UBSan: libfuzzer, stress-asan, replays
B_AFL=${OBQ_MUT_BUILD:-build/mutants}-afl     # afl-clang-fast, persistent mode
B_TSAN=${OBQ_MUT_BUILD:-build/mutants}-tsan   # clang, ThreadSanitizer: stress-tsan

catalog() { grep -v '^#' mutants/catalog.tsv | awk -F'\t' 'NF >= 8'; }

# ------------------------------------------------------------------ one trial
# Writes $raw/<method>/<mutant>/<trial>.json (+ .log, crash input).  The mutant
# "clean-<target>" is the clean run of <target> (no OBQ_MUTANT).
options_flags() {
  local f=corpus/$1.options
  [ -f "$f" ] || f=corpus/default.options   # a target's own options replace the default
  [ -f "$f" ] || return 0
  awk -F'=' '/^\[/{sec=$0; next} sec=="[libfuzzer]" && NF==2 {gsub(/[ \t]/,"",$1); gsub(/[ \t]/,"",$2); if ($1!="") printf "-%s=%s\n", $1, $2}' "$f"
}

# The rule a log shows: the checker's / harness's "==oblique== ERROR: <rule>", else the
# sanitizer's headline.
rule_of() {
  local r
  r=$(grep -m1 -o '==oblique== ERROR: [a-z-]*' "$1" | sed 's/.*ERROR: //')
  [ -n "$r" ] && { echo "$r"; return; }
  r=$(grep -m1 -oE 'ThreadSanitizer: [a-z -]+|AddressSanitizer: [a-z-]+|UndefinedBehaviorSanitizer: [a-z-]+|LeakSanitizer: [a-z ]+|libFuzzer: [a-z -]+' "$1" | head -1)
  [ -n "$r" ] && { echo "$r" | sed 's/ *$//'; return; }
  grep -q 'deadly signal' "$1" && { echo "deadly-signal"; return; }
  echo "unknown"
}

now() { date +%s.%N; }

run_one() {
  local method=$1 mutant=$2 target=$3 trial=$4
  local dir=$raw/$method/$mutant
  local res=$dir/$trial.json log=$dir/$trial.log
  [ -f "$res" ] && return 0
  mkdir -p "$dir"
  local work
  work=$(mktemp -d "${TMPDIR:-/tmp}/obq-mut.XXXXXX")
  local sel=$mutant
  case "$mutant" in clean-*) sel="" ;; esac
  local seed=$((trial * 7919 + 17))
  local found=0 t0 t1 rc crash=""
  t0=$(now)
  case "$method" in
    libfuzzer|weak)
      local bin="$B_FUZZ/mutants/mut_$target"
      [ "$method" = weak ] && bin="$bin-weak"
      mkdir -p "$work/seed" "$work/corpus"
      printf '\0\0\0\0' >"$work/seed/empty"
      local dict=()
      [ -f corpus/$target.dict ] && dict=(-dict=corpus/$target.dict)
      mapfile -t opts < <(options_flags "$target")
      OBQ_MUTANT=$sel timeout -k 5 $((budget + 30)) "$bin" \
        "$work/corpus" "$work/seed" "${opts[@]}" "${dict[@]}" -seed=$seed \
        -max_total_time=$budget -len_control=0 -use_value_profile=1 \
        -artifact_prefix="$work/" -print_final_stats=1 \
        >"$log" 2>&1
      rc=$?
      t1=$(now)
      crash=$(ls "$work"/crash-* "$work"/timeout-* "$work"/oom-* 2>/dev/null | head -1)
      if [ -n "$crash" ]; then
        found=1
        # time to bug: when the artifact was written (a crash in the harness's warm-up,
        # crash-warmup-*, is written at start-up and the campaign goes on without it)
        t1=$(date -r "$crash" +%s.%N)
      fi
      ;;
    afl)
      mkdir -p "$work/in" "$work/warm"
      printf '\0\0\0\0' >"$work/in/empty"
      local dict=()
      [ -f corpus/$target.dict ] && dict=(-x corpus/$target.dict)
      OBQ_H_ARTIFACT_DIR=$work/warm OBQ_MUTANT=$sel AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
        AFL_BENCH_UNTIL_CRASH=1 AFL_NO_AFFINITY=1 AFL_SHUFFLE_QUEUE=0 \
        timeout -k 5 $((budget + 30)) afl-fuzz -i "$work/in" -o "$work/out" -s $seed \
        -V $budget "${dict[@]}" -- "$B_AFL/mutants/mut_$target" >"$log" 2>&1
      rc=$?
      t1=$(now)
      crash=$(ls "$work"/out/default/crashes/id:* 2>/dev/null | head -1)
      if [ -n "$crash" ]; then
        found=1
        # time to bug: AFL++ names a crash ...,time:<ms since the start>,...
        local ms
        ms=$(basename "$crash" | grep -o 'time:[0-9]*' | cut -d: -f2)
        [ -n "$ms" ] && t1=$(echo "$t0 + $ms / 1000" | bc -l)
      else
        # the harness's warm-up failed in the fork server before any input ran: AFL++
        # shows none of it, the harness saved the program as crash-warmup-* (OBQ_H_ARTIFACT_DIR)
        crash=$(ls "$work"/warm/crash-warmup-* 2>/dev/null | grep -v '\.\(trace\|report\)$' | head -1)
        if [ -n "$crash" ]; then
          found=1
          t1=$(date -r "$crash" +%s.%N)
        fi
      fi
      ;;
    stress-asan|stress-tsan)
      local b=$B_FUZZ
      [ "$method" = stress-tsan ] && b=$B_TSAN
      TSAN_OPTIONS="halt_on_error=1:abort_on_error=1:${TSAN_OPTIONS:-}" \
      OBQ_MUTANT=$sel timeout -k 5 $((budget + 30)) "$b/mutants/mut_$target-stress" \
        --threads 4 --seconds $budget --seed $seed --quiet >"$log" 2>&1
      rc=$?
      t1=$(now)
      [ $rc -ne 0 ] && found=1
      ;;
  esac
  local rule="" elapsed execs
  execs=$(grep -o 'number_of_executed_units: [0-9]*' "$log" 2>/dev/null | tail -1 | awk '{print $2}')
  [ "$method" = afl ] && execs=$(grep -o 'execs_done *: *[0-9]*' "$work"/out/default/fuzzer_stats 2>/dev/null | awk '{print $NF}')
  elapsed=$(LC_ALL=C printf '%.3f' "$(echo "$t1 - $t0" | bc -l)")
  if [ $found = 1 ]; then
    rule=$(rule_of "$log")
    if [ -n "$crash" ] && [ -f "$crash.report" ]; then
      rule=$(rule_of "$crash.report") # a warm-up crash: the harness wrote its report beside it
    fi
    if [ -n "$crash" ]; then
      cp "$crash" "$dir/$trial.crash"
      # the rule as the deterministic runner reports it (the AFL log has none)
      if { [ "$rule" = unknown ] || [ "$method" = afl ]; } && [ ! -f "$crash.report" ]; then
        OBQ_MUTANT=$sel "$B_FUZZ/mutants/mut_$target" replay "$dir/$trial.crash" >"$dir/$trial.replay" 2>&1
        local r2
        r2=$(rule_of "$dir/$trial.replay")
        [ "$r2" != unknown ] && rule=$r2
        r2=$(grep -m1 -o '^REPORT: [a-z-]*' "$dir/$trial.replay" | sed 's/REPORT: //')
        [ -n "$r2" ] && rule=$r2
      fi
    fi
  fi
  cat >"$res" <<EOF
{"mutant": "$mutant", "target": "$target", "method": "$method", "trial": $trial, "seed": $seed, "budget": $budget, "found": $([ $found = 1 ] && echo true || echo false), "time": $elapsed, "rule": "$rule", "exit": $rc, "execs": ${execs:-null}, "crash": "$([ -f "$dir/$trial.crash" ] && echo "$dir/$trial.crash")", "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)"}
EOF
  printf '%-12s %-28s %-13s trial %s: %s %6.1fs %s\n' "$method" "$mutant" "$target" "$trial" \
    "$([ $found = 1 ] && echo FOUND || echo ------)" "$elapsed" "$rule"
  rm -rf "$work"
}

if [ -n "$one" ]; then
  run_one "$@"
  exit 0
fi

# ------------------------------------------------------------------ builds
IFS=, read -r -a M <<<"$methods"
need() { printf '%s\n' "${M[@]}" | grep -qx "$1"; }
cfg() { # cfg DIR cmake-args...
  local d=$1; shift
  [ -f "$d/build.ninja" ] || cmake -S . -B "$d" -G Ninja -DOBQ_MUTANTS=ON -DOBQ_BUILD_BENCH=OFF \
    -DOBQ_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOBQ_CHECK=ON "$@" >"$d.log" 2>&1 \
    || { tail -n 30 "$d.log"; exit 2; }
  echo "== building $d"
  ninja -C "$d" -j "$jobs" mutants >>"$d.log" 2>&1 || { tail -n 40 "$d.log"; exit 2; }
}
if [ "$build" = 1 ]; then
  mkdir -p build
  cfg "$B_FUZZ" -DCMAKE_C_COMPILER=clang "-DOBQ_SANITIZE=address;undefined" -DOBQ_FUZZ_ENGINE=libfuzzer
  need afl && cfg "$B_AFL" -DCMAKE_C_COMPILER=afl-clang-fast -DOBQ_FUZZ_ENGINE=afl
  need stress-tsan && cfg "$B_TSAN" -DCMAKE_C_COMPILER=clang -DOBQ_SANITIZE=thread
fi

# ------------------------------------------------------------------ trials
if [ "$report_only" = 0 ]; then
  jobsfile=$(mktemp)
  while IFS=$'\t' read -r id cls mut tgt smoke rule inter ord rest; do
    if [ -n "$only" ] && ! printf '%s\n' ${only//,/ } | grep -qx "$mut"; then continue; fi
    for m in "${M[@]}"; do
      if [ "$ord" = yes ] && [ "$m" != stress-tsan ] && [ "$m" != weak ]; then continue; fi
      if [ "$ord" != yes ] && [ "$m" = stress-tsan ]; then continue; fi
      # smoke "stress": a mutant of the builtin RCU backend, which the deterministic
      # engine replaces by the sim one -- only stress mode runs the mutated code
      if [ "$smoke" = stress ] && [ "$m" != stress-asan ] && [ "$m" != stress-tsan ]; then continue; fi
      for k in $(seq 1 "$trials"); do echo "$m $mut $tgt $k"; done
    done
  done < <(catalog) >"$jobsfile"
  if [ "$do_clean" = 1 ]; then
    for t in $(grep -E '^[a-z0-9_]+$' targets/targets.list); do
      for m in "${M[@]}"; do
        for k in $(seq 1 "$trials"); do echo "$m clean-$t $t $k"; done
      done
    done >>"$jobsfile"
  fi
  echo "== $(wc -l <"$jobsfile") trials (${trials} per mutant and method, ${budget}s budget, $jobs at a time); raw results in $raw"
  export raw budget B_FUZZ B_AFL B_TSAN
  # shellcheck disable=SC2016
  xargs -r -P "$jobs" -L 1 bash ci/mutants.sh --budget "$budget" --raw "$raw" --one <"$jobsfile"
  rm -f "$jobsfile"
fi

# ------------------------------------------------------------------ interleaving check
# For each mutant that claims interleaving dependence: its first found crash
# (libFuzzer, else AFL++), minimised by the harness, then serialised: policy
# "preempt bound=0" and a tape of zero bytes — every thread runs its operations to
# completion in thread order, no preemption, no grace-period step unless one is the
# only thing that can run.  The serial replay must be silent; the minimised crash
# itself must still report.
serial_dir=$raw/serial
if [ "$do_serial" = 1 ] && [ "$report_only" = 0 ]; then
  mkdir -p "$serial_dir"
  while IFS=$'\t' read -r id cls mut tgt smoke rule inter ord rest; do
    if [ -n "$only" ] && ! printf '%s\n' ${only//,/ } | grep -qx "$mut"; then continue; fi
    [ "$ord" = yes ] && continue
    out=$serial_dir/$mut.json
    [ -f "$out" ] && continue
    # (two ls: one would sort afl/ before libfuzzer/)
    crash=$(ls "$raw"/libfuzzer/$mut/*.crash 2>/dev/null | head -1)
    [ -n "$crash" ] || crash=$(ls "$raw"/afl/$mut/*.crash 2>/dev/null | head -1)
    # no fuzzer crash: a committed witness (hand-written) stands in
    [ -n "$crash" ] || { [ -f mutants/witness/$mut.trace ] && crash=mutants/witness/$mut.trace; }
    [ -n "$crash" ] || continue
    bin=$B_FUZZ/mutants/mut_$tgt
    min=$serial_dir/$mut.min
    OBQ_MUTANT=$mut timeout 300 "$bin" minimize "$crash" -o "$min" >"$serial_dir/$mut.min.trace" 2>"$serial_dir/$mut.min.log"
    [ -s "$min" ] || cp "$crash" "$min"
    OBQ_MUTANT=$mut timeout -k 10 120 "$bin" decode "$min" >"$serial_dir/$mut.min.trace" 2>/dev/null
    # serialise: no preemptions, zero tape (operations of T0, then T1, ...)
    ntape=$(grep -m1 '^tape' "$serial_dir/$mut.min.trace" | wc -w)
    awk '/^# ----/{exit} /^policy /{print "policy preempt bound=0"; next} /^tape/{next} {print}
         END {for (l = 0; l < 100; l++) {printf "tape"; for (i = 0; i < 24; i++) printf " 00"; print ""}}' \
      "$serial_dir/$mut.min.trace" >"$serial_dir/$mut.serial.trace"
    OBQ_MUTANT=$mut timeout -k 10 120 "$bin" replay "$min" >"$serial_dir/$mut.min.replay" 2>&1
    min_rule=$(grep -m1 -o '^REPORT: [a-z-]*' "$serial_dir/$mut.min.replay" | sed 's/REPORT: //')
    OBQ_MUTANT=$mut timeout -k 10 120 "$bin" replay "$serial_dir/$mut.serial.trace" >"$serial_dir/$mut.serial.replay" 2>&1
    src=$?
    ser_rule=$(grep -m1 -o '^REPORT: [a-z-]*' "$serial_dir/$mut.serial.replay" | sed 's/REPORT: //')
    [ $src -gt 1 ] && [ -z "$ser_rule" ] && ser_rule="crash($src)"
    pre=$(grep -o '!T' "$serial_dir/$mut.min.trace" | wc -l)
    gps=$(grep -o 'GP:gp-end' "$serial_dir/$mut.min.trace" | wc -l)
    cat >"$out" <<EOF
{"mutant": "$mut", "claims_interleaving": $([ "$inter" = yes ] && echo true || echo false), "minimized_rule": "$min_rule", "minimized_preemptions": $pre, "minimized_gp_ends": $gps, "serial_rule": "$ser_rule", "serial_silent": $([ -z "$ser_rule" ] && echo true || echo false)}
EOF
    # keep the minimised crash as the smoke test's witness (first time only)
    if [ ! -f mutants/witness/$mut.trace ] && [ -n "$min_rule" ]; then
      sed '/^# ----/,$d' "$serial_dir/$mut.min.trace" >mutants/witness/$mut.trace
      { echo "# ---- witness of mutant $mut (ci/mutants.sh: minimised libFuzzer/AFL++ crash); report: $min_rule"; } >>mutants/witness/$mut.trace
    fi
    echo "serial check $mut: minimised -> ${min_rule:-none} ($pre preemptions), serialised -> ${ser_rule:-silent}"
  done < <(catalog)
fi

# ------------------------------------------------------------------ corpus replay
# The committed corpus (every target's seeds and regressions) against each mutant:
# which inputs already catch it (regression value, apart from time-to-bug).
corpus_dir=$raw/corpus
if [ "$do_corpus" = 1 ] && [ "$report_only" = 0 ]; then
  mkdir -p "$corpus_dir"
  while IFS=$'\t' read -r id cls mut tgt smoke rule inter ord rest; do
    if [ -n "$only" ] && ! printf '%s\n' ${only//,/ } | grep -qx "$mut"; then continue; fi
    out=$corpus_dir/$mut.json
    [ -f "$out" ] && continue
    n=0; caught=0; list=""
    for t in $(grep -E '^[a-z0-9_]+$' targets/targets.list); do
      for f in corpus/$t/*.trace corpus/regressions/$t/*; do
        [ -f "$f" ] || continue
        n=$((n + 1))
        # no warm-up: the question is what the committed inputs catch, and a mutant
        # that hangs the warm-up's probe child would cost its timeout per input
        OBQ_H_WARMUP=0 OBQ_MUTANT=$mut timeout 60 "$B_FUZZ/mutants/mut_$t" --quiet "$f" \
          >/dev/null 2>"$corpus_dir/last.log"
        if [ $? -ne 0 ]; then
          caught=$((caught + 1))
          list="$list\"$f\", "
        fi
      done
    done
    list=${list%, }
    echo "{\"mutant\": \"$mut\", \"inputs\": $n, \"catching\": $caught, \"caught_by\": [$list]}" >"$out"
    echo "corpus replay $mut: $caught of $n inputs catch it"
  done < <(catalog)
fi

# ------------------------------------------------------------------ report
python3 mutants/report.py --raw "$raw" --catalog mutants/catalog.tsv --out docs/mutants \
  --budget "$budget" --methods "$methods"
}
main "$@"
exit $?
