#!/bin/sh
# adapter_trace.sh TARGET_DIR CORPUS WORKDIR — the allocator adapter and the allocator's
# shape travel with an input (docs/harness.md, Input format and Allocator adapters):
#  - decode under --adapter=malloc writes an `adapter malloc` line; that trace replays
#    on malloc with no option, its reproduce line names the adapter, and obq-trace
#    --adapter works; a contradicting --adapter or an adapter the binary lacks is exit 2;
#  - an unknown OBQ_ADAPTER is exit 2 for the runner, decode, stress and obq-trace;
#  - slab_api allocates through a foreign adapter (the summary counts it);
#  - a trace's `alloc` line round-trips, a bad one is a located error, and a release_*
#    seed sends slabs back mid-run (slab-released event).
set -u
dir=$1 corpus=$2 work=$3
rm -rf "$work"; mkdir -p "$work"
fails=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fails=$((fails + 1)); }
# check <name> <want rc> <output regex> <command...>
check() {
	name=$1 want=$2 re=$3; shift 3
	out=$("$@" 2>&1); rc=$?
	if [ "$rc" != "$want" ] || ! printf '%s' "$out" | grep -qE -- "$re"; then
		bad "$name: exit $rc (want $want), output:"; printf '%s\n' "$out" | head -n 12
	else
		ok "$name"
	fi
}
export OBQ_H_WARMUP=0
unset OBQ_ADAPTER
av=$dir/anon_vma
ctl=$corpus/anon_vma/control/ctl1.trace
"$av" --adapter=malloc decode "$ctl" >"$work/m.trace" 2>/dev/null
if grep -qx 'adapter malloc' "$work/m.trace" && grep -q '^# REPORT: released-access' "$work/m.trace"; then
	ok "decode names the adapter"
else
	bad "decode names the adapter"; head -n 5 "$work/m.trace"
fi
check "the trace replays on its adapter" 1 "reproduce: obq-trace replay --adapter=malloc --target anon_vma" "$av" "$work/m.trace"
check "a contradicting --adapter is refused" 2 "recorded on the allocator adapter 'malloc', but --adapter selects 'oblique'" "$av" --adapter=oblique "$work/m.trace"
check "a contradicting OBQ_ADAPTER is refused" 2 "but OBQ_ADAPTER selects 'oblique'" env OBQ_ADAPTER=oblique "$av" "$work/m.trace"
sed 's/^adapter malloc$/adapter nosuch/' "$work/m.trace" >"$work/nosuch.trace"
check "an adapter the binary lacks is refused" 2 "adapter 'nosuch', which this binary does not have" "$av" "$work/nosuch.trace"
check "obq-trace --adapter" 1 "REPORT: released-access" "$dir/obq-trace" replay --adapter malloc --target anon_vma "$ctl"
check "obq-trace replays the trace as printed" 1 "REPORT: released-access" "$dir/obq-trace" replay "$work/m.trace"
for cmd in "$av $ctl" "$av decode $ctl" "$dir/anon_vma-stress --seconds 0.1 $ctl" "$dir/obq-trace replay $ctl"; do
	# shellcheck disable=SC2086
	check "OBQ_ADAPTER=bogus: $(basename "${cmd%% *}") ${cmd#* }" 2 "OBQ_ADAPTER=bogus: unknown adapter" env OBQ_ADAPTER=bogus $cmd
done
out=$("$dir/slab_api" --adapter=malloc "$corpus/slab_api" 2>&1)
n=$(printf '%s' "$out" | sed -nE 's/.*adapter malloc, ([0-9]+) allocations through it.*/\1/p')
if [ "${n:-0}" -gt 0 ]; then ok "slab_api allocates through malloc ($n)"; else bad "slab_api on malloc: $out"; fi
rel=$corpus/anon_vma/release_seed18.trace
"$av" decode "$rel" >"$work/rel.trace" 2>/dev/null
if grep -qx 'alloc slab=1 keep=0 shrink=2 order=1' "$work/rel.trace" &&
   grep -qE '^# events:.* slab-released=[1-9]' "$work/rel.trace"; then
	ok "the shape line round-trips and slabs go back mid-run"
else
	bad "shape line / slab-released"; grep -E '^alloc|^# events' "$work/rel.trace"
fi
sed 's/^alloc .*/alloc slab=3 keep=0/' "$rel" >"$work/badshape.trace"
check "a geometry that does not exist" 2 "badshape.trace:[0-9]+:[0-9]+: no geometry slab=3 keep=0" "$av" encode "$work/badshape.trace"
[ "$fails" = 0 ] && echo "adapter_trace: ok"
