#!/usr/bin/env bash
# ci/afl-stability.sh — find the edges that make AFL++ report less than 100 % stability:
# run every input of a directory several times in ONE persistent process (afl-showmap
# over the fork server, as afl-fuzz runs them) and list the edges whose bucketed hit
# counts differ between two runs of the same input, with their source lines.
#
#   ci/afl-stability.sh TARGET [DIR] [--passes N] [--bin BINARY]
#
#   TARGET        a name of targets/targets.list
#   DIR           inputs (default: the compiled corpus, <build>/afl/corpus/TARGET; an AFL++
#                 queue directory such as <sync>/TARGET/NAME-main/queue works too)
#   --passes N    how many times each input runs (default 3; the inputs run pass after
#                 pass, so between two runs of an input every other input ran)
#   --bin B       the afl-clang-fast binary (default <build>/afl/targets/TARGET, where
#                 <build> is $OBQ_BUILD_ROOT or build; build it with ci/afl.sh TARGET)
#
# Pass 1 holds the first run after the fork server started (what a fresh child does);
# every pass is compared with pass 2.  An edge id is mapped back to code through the
# binary's __sancov_guards section (AFL++'s PCGUARD numbering: the first guard is id 4)
# with objdump and addr2line; inlined code is shown by the function it was inlined into.
# Exit status: 0 every input took the same path every time; 3 some did not (the list
# is printed); 2 usage or setup error.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
me="ci/afl-stability.sh"
die() { echo "$me: $*" >&2; exit 2; }
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0; }

target="" dir="" passes=3 bin=""
while [ $# -gt 0 ]; do
  case "$1" in
    --passes) [ $# -ge 2 ] || die "--passes needs a value"
              case "$2" in ''|*[!0-9]*) die "--passes needs a whole number" ;; esac
              passes=$2; shift 2 ;;
    --bin) [ $# -ge 2 ] || die "--bin needs a file"; bin=$2; shift 2 ;;
    -h|--help) usage ;;
    -*) die "unknown option '$1' (try --help)" ;;
    *) if [ -z "$target" ]; then target=$1; elif [ -z "$dir" ]; then dir=$1; else die "too many arguments"; fi
       shift ;;
  esac
done
[ -n "$target" ] || die "which target? (try --help)"
grep -qx "$target" targets/targets.list || die "unknown target '$target'"
[ "$passes" -ge 2 ] || die "--passes must be at least 2"
broot=${OBQ_BUILD_ROOT:-build}
bin=${bin:-$broot/afl/targets/$target}
dir=${dir:-$broot/afl/corpus/$target}
[ -x "$bin" ] || die "$bin missing (build it: ci/afl.sh $target --seconds 1, or OBQ_BUILD_ROOT)"
[ -d "$dir" ] || die "$dir is not a directory"
command -v afl-showmap >/dev/null || bash ci/deps.sh afl || die "ci/deps.sh afl failed"
for tool in afl-showmap objdump addr2line; do command -v $tool >/dev/null || die "$tool not found (bash ci/deps.sh afl)"; done

w=$(mktemp -d "${TMPDIR:-/tmp}/obq-stab.XXXXXX")
trap 'rm -rf "$w"' EXIT
mkdir -p "$w/in" "$w/out"
n=0
for f in "$dir"/*; do
  [ -f "$f" ] || continue
  n=$((n + 1))
  for p in $(seq 1 "$passes"); do cp "$f" "$w/in/p${p}_$(printf '%06d' $n)"; done
done
[ $n -gt 0 ] || die "no inputs in $dir"
# afl-showmap sorts the directory: p1_* run first, then p2_*, ... in one child process
# (persistent mode, __AFL_LOOP), so each pass sees every other input run before it.
AFL_QUIET=1 AFL_ALLOW_TMP=1 AFL_SKIP_BIN_CHECK=1 afl-showmap -q -i "$w/in" -o "$w/out" -t 5000 -- "$bin" \
  >"$w/showmap.log" 2>&1 || { tail -n 20 "$w/showmap.log" >&2; die "afl-showmap failed"; }

bad=0
: >"$w/ids"
for i in $(seq -f '%06g' 1 $n); do
  ref=$w/out/p2_$i
  for p in $(seq 1 "$passes"); do
    [ "$p" = 2 ] && continue
    if ! cmp -s "$ref" "$w/out/p${p}_$i"; then
      bad=$((bad + 1))
      { diff "$ref" "$w/out/p${p}_$i" || true; } | sed -n 's/^[<>] \([0-9]*\):.*/\1/p' >>"$w/ids"
    fi
  done
done
echo "$target: $n input(s) x $passes passes in one process: $bad run(s) whose map differs from pass 2"
[ $bad = 0 ] && exit 0

# Edge id -> code: guard slot address = start of __sancov_guards + 4 * (id - 4).
start=$(objdump -h "$bin" | awk '$2 == "__sancov_guards" { print $4 }')
[ -n "$start" ] || { echo "$me: no __sancov_guards section in $bin: edge ids not mapped" >&2; exit 3; }
objdump -d --no-show-raw-insn "$bin" >"$w/dis"
echo "edges that differ (id: function file:line):"
for id in $(sort -n -u "$w/ids"); do
  a=$(printf '%x' $(( 0x$start + 4 * (10#$id - 4) )))
  pc=$(grep -m1 -E "# $a <" "$w/dis" | awk -F: '{ print $1 }' | tr -d ' ' || true)
  if [ -z "$pc" ]; then echo "  $id: (guard $a: no instruction references it)"; continue; fi
  echo "  $id: $(addr2line -f -i -e "$bin" "0x$pc" | paste -sd' ' | sed "s|$here/||g")"
done
exit 3
