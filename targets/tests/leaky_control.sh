#!/bin/sh
# leaky_control.sh BINDIR CORPUS [SECONDS] — the second control adapter, "leaky"
# (targets/harness/adapter_leaky.c: claims to be type-stable, keeps ten freed objects
# with a free-list link written into them, free()s the rest, notifies nothing), must be
# caught by the allocator contract checker on its own (docs/checker.md §9):
#   - every shipped protocol target's committed corpus is replayed over it, and, where
#     BINDIR has the target's libFuzzer binary (the fuzz preset), fuzzed SECONDS more
#     (default 20) with OBQ_ADAPTER=leaky;
#   - at least 4 of the 7 targets report, and every report blames the allocator: a rule
#     of the "allocator contract" family (alloc-*) or released-access from memory the
#     adapter gave back (ASan); never an oracle or another protocol rule;
#   - the first reporting input of each target replays to the same rule.
set -u
bindir=$1 corpus=$2 secs=${3:-20}
work=${TMPDIR:-/tmp}/obq-leaky.$$
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
found=0 fails=0
for t in slab_api anon_vma seqlock rcu_gp nulls_lookup sighand file_ref; do
	bin=$bindir/$t
	[ -x "$bin" ] || { echo "FAIL: $bin missing"; fails=$((fails + 1)); continue; }
	OBQ_ADAPTER=leaky "$bin" --adapter=leaky "$corpus/$t" >"$work/$t.log" 2>&1
	if [ -x "$bindir/$t-libfuzzer" ]; then
		mkdir -p "$work/$t.corpus" "$work/$t.crash"
		OBQ_ADAPTER=leaky timeout $((secs + 30)) "$bindir/$t-libfuzzer" "$work/$t.corpus" \
			"$corpus/$t" -max_total_time="$secs" -artifact_prefix="$work/$t.crash/" \
			>>"$work/$t.log" 2>&1
	fi
	rules=$(grep -oE '==oblique== ERROR: [a-z-]+' "$work/$t.log" | sed 's/.*ERROR: //' | sort | uniq -c |
		awk '{printf "%s%s x%s", sep, $2, $1; sep=", "}')
	bad=$(grep -oE '==oblique== ERROR: [a-z-]+' "$work/$t.log" | sed 's/.*ERROR: //' |
		grep -vE '^(alloc-[a-z-]+|released-access)$' | sort -u | tr '\n' ' ')
	if [ -n "$bad" ]; then
		echo "FAIL: $t: reports that blame the protocol under leaky: $bad"
		fails=$((fails + 1))
	fi
	if [ -z "$rules" ]; then
		echo "   $t: silent"
		continue
	fi
	found=$((found + 1))
	echo "   $t: $rules"
	# the first reporting seed replays to its rule
	first=$(grep -m1 -oE '==oblique== ERROR: [a-z-]+' "$work/$t.log" | sed 's/.*ERROR: //')
	for f in "$corpus/$t"/*; do
		[ -f "$f" ] || continue
		out=$(OBQ_ADAPTER=leaky "$bin" --adapter=leaky --quiet "$f" 2>&1)
		r=$(printf '%s\n' "$out" | grep -m1 -oE '==oblique== ERROR: [a-z-]+' | sed 's/.*ERROR: //')
		[ -n "$r" ] || continue
		out2=$(OBQ_ADAPTER=leaky "$bin" --adapter=leaky replay "$f" 2>&1)
		if ! printf '%s\n' "$out2" | grep -q "ERROR: $r"; then
			echo "FAIL: $t: $f reports $r but its replay does not"
			fails=$((fails + 1))
		fi
		break
	done
	: "$first"
done
echo "leaky control: $found of 7 targets report"
[ "$found" -ge 4 ] || { echo "FAIL: fewer than 4 targets report the leaky adapter"; fails=$((fails + 1)); }
[ "$fails" = 0 ]
