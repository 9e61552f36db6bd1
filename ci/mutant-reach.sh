#!/usr/bin/env bash
# ci/mutant-reach.sh — which targets find each mutant: every selected mutant fuzzed on
# every protocol target (not only its catalog target), libFuzzer over the mutants build
# (as ci/mutants.sh's libfuzzer method: -len_control=0, value profile, the target's
# options and dictionary), one trial each, stopped at the first crash.  Prints one
# markdown row per mutant: the targets that found it (rule, seconds) and the count —
# the "found by" column of docs/mutants.md's allocator rows.
#
#   ci/mutant-reach.sh [--seconds S] [--jobs J] [--targets a,b] [--no-build] MUTANT...
#
#   --seconds S  budget per (mutant, target) in seconds (default 60)
#   --jobs J     concurrent trials (default 2)
#   --targets L  targets (default: the seven protocol targets of targets/targets.list
#                but kernel_nulls)
# Builds build/mutants-fuzz (as ci/mutants.sh) unless --no-build.  Exit 0; 2 on usage
# or build errors.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=60 jobs=2 build=1
targets=slab_api,anon_vma,seqlock,rcu_gp,nulls_lookup,sighand,file_ref
muts=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) secs=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --targets) targets=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "mutant-reach: unknown option $1" >&2; exit 2 ;;
    *) muts+=("$1"); shift ;;
  esac
done
[ ${#muts[@]} -gt 0 ] || { echo "mutant-reach: name at least one mutant" >&2; exit 2; }
B=${OBQ_MUT_BUILD:-build/mutants}-fuzz
if [ "$build" = 1 ]; then
  ci/deps.sh fuzz >/dev/null
  [ -f "$B/build.ninja" ] || cmake -S . -B "$B" -G Ninja -DOBQ_MUTANTS=ON -DOBQ_BUILD_BENCH=OFF \
    -DOBQ_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOBQ_CHECK=ON \
    -DCMAKE_C_COMPILER=clang "-DOBQ_SANITIZE=address;undefined" -DOBQ_FUZZ_ENGINE=libfuzzer \
    >"$B.log" 2>&1 || { tail -n 30 "$B.log"; exit 2; }
  ninja -C "$B" -j "$jobs" mutants >>"$B.log" 2>&1 || { tail -n 40 "$B.log"; exit 2; }
fi
opts() {
  local f=corpus/$1.options
  [ -f "$f" ] || f=corpus/default.options
  [ -f "$f" ] || return 0
  awk -F'=' '/^\[/{sec=$0; next} sec=="[libfuzzer]" && NF==2 {gsub(/[ \t]/,"",$1); gsub(/[ \t]/,"",$2); if ($1!="") printf "-%s=%s\n", $1, $2}' "$f"
}
out=$(mktemp -d "${TMPDIR:-/tmp}/obq-reach.XXXXXX")
trial() { # mutant target
  local m=$1 t=$2 w=$out/$1.$2
  mkdir -p "$w/corpus" "$w/seed"
  printf '\0\0\0\0' >"$w/seed/empty"
  local d=()
  [ -f corpus/$t.dict ] && d=(-dict=corpus/$t.dict)
  mapfile -t o < <(opts "$t")
  local t0 t1
  t0=$(date +%s.%N)
  OBQ_MUTANT=$m timeout -k 5 $((secs + 30)) "$B/mutants/mut_$t" "$w/corpus" "$w/seed" "${o[@]}" \
    "${d[@]}" -seed=1 -max_total_time="$secs" -len_control=0 -use_value_profile=1 \
    -artifact_prefix="$w/" >"$w.log" 2>&1 || true
  t1=$(date +%s.%N)
  # a crash artifact, or a report in the log (one in the warm-up leaves no artifact)
  if ls "$w"/crash-* "$w"/timeout-* "$w"/oom-* >/dev/null 2>&1 ||
     grep -qE '==oblique== ERROR: |deadly signal' "$w.log"; then
    local r
    r=$(grep -m1 -o '==oblique== ERROR: [a-z-]*' "$w.log" | sed 's/.*ERROR: //')
    [ -n "$r" ] || r=$(grep -m1 -oE '(AddressSanitizer|UndefinedBehaviorSanitizer|libFuzzer): [a-z -]+' "$w.log" | head -1)
    [ -n "$r" ] || r=crash
    printf '%s\t%s\t%s\t%.0f\n' "$m" "$t" "$r" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" >"$w.res"
  else
    printf '%s\t%s\t-\t%s\n' "$m" "$t" "$secs" >"$w.res"
  fi
}
export -f trial opts
export out secs B
for m in "${muts[@]}"; do
  for t in ${targets//,/ }; do echo "$m $t"; done
done | xargs -P "$jobs" -n 2 bash -c 'trial "$0" "$1"'
echo "| mutant | found by (rule, s) | targets |"
echo "|---|---|---|"
for m in "${muts[@]}"; do
  cells="" n=0 total=0
  for t in ${targets//,/ }; do
    total=$((total + 1))
    IFS=$'\t' read -r _ _ r s <"$out/$m.$t.res"
    if [ "$r" != "-" ]; then
      n=$((n + 1))
      cells+="${cells:+, }$t ($r, ${s})"
    fi
  done
  echo "| \`$m\` | ${cells:-none in ${secs}s} | $n/$total |"
done
rm -rf "$out"
