#!/bin/sh
# crash_group.sh OBQ_CRASH_GROUP DIR — obq-crash-group groups by rule + top user frames:
# four crashes of one bug (same rule, same user frames under different runtime frames and
# line numbers, three sizes) and one of another rule make two groups; the first group
# keeps its smallest input with its .trace and .report; a report with no stack groups by
# the function of its `access:` line; a crash without a report is "unknown".
set -eu
grp=$1; d=$2
rm -rf "$d"; mkdir -p "$d/c"
stack() { # stack FUNC LINE: a libFuzzer deadly-signal stack through oblique's runtime
	cat <<S
==1== ERROR: libFuzzer: deadly signal
    #0 0x1 in __sanitizer_print_stack_trace (/b/t+0x1)
    #1 0x2 in fuzzer::PrintStackTrace() (/b/t+0x2)
    #7 0x3 in err_hook /src/targets/harness/det.c:269:3
    #10 0x4 in _obq_chk_report /src/sanitizers/report.c:546:2
    #12 0x5 in obq_cache_free /src/alloc/src/cache.c:893:2
    #14 0x6 in $1 /src/targets/nulls_lookup.c:$2:3
    #15 0x7 in teardown /src/targets/nulls_lookup.c:366:3
    #16 0x8 in h_det_run /src/targets/harness/det.c:988:3
S
}
for i in 1 2 3; do
	head -c $((10 * i)) /dev/zero >"$d/c/crash-$i"
	{ echo "==oblique== ERROR: free-with-refcount"
	  echo "    allocated (generation 1) by thread 1 at:"
	  echo "      #0 op_insert /src/targets/nulls_lookup.c:167:20 (t+0x1)"
	  stack op_remove $((200 + i)); } >"$d/c/crash-$i.report"
	echo "trace $i" >"$d/c/crash-$i.trace"
done
head -c 5 /dev/zero >"$d/c/crash-4"
printf '==oblique== ERROR: use-after-grace-period\n' >"$d/c/crash-4.report"
stack op_lookup 90 >>"$d/c/crash-4.report"
# AFL++ triage layout: report.txt beside `min`, no stack (a replay), one access line.
mkdir -p "$d/c/main-1-sig06"
head -c 3 /dev/zero >"$d/c/main-1-sig06/min"
printf 'REPORT: free-with-refcount\n==oblique== ERROR: free-with-refcount\n    access: obq_cache_free, 4 bytes at 0x1 by thread 5 at op_remove /src/targets/nulls_lookup.c:207:3 (t+0x1)\n' \
	>"$d/c/main-1-sig06/report.txt"
head -c 7 /dev/zero >"$d/c/crash-5"
all="$d/c/crash-1 $d/c/crash-2 $d/c/crash-3 $d/c/crash-4 $d/c/main-1-sig06/min $d/c/crash-5"
# Default, rule + innermost user frame: the stacks and the access line are one bug.
out=$(bash "$grp" --out "$d/g1" $all)
echo "$out"
echo "$out" | grep -q "6 crash(es) in 3 group(s)"
g=$(ls -d "$d"/g1/free-with-refcount@op_remove-*)
[ "$(wc -l <"$g/members.txt")" = 4 ]
[ -f "$g/main-1-sig06-min" ] && [ -f "$g/main-1-sig06-min.report" ]
printf 'free-with-refcount\nop_remove\n' | cmp - "$g/SIGNATURE"
ls "$d"/g1/use-after-grace-period@op_lookup-*/crash-4 >/dev/null
ls "$d"/g1/unknown@nostack-*/crash-5 >/dev/null
grep -q '| 4 | free-with-refcount | op_remove |' "$d/g1/GROUPS.md"
# --frames 2: the callers split it (op_remove<teardown from the stacks, op_remove alone).
out=$(bash "$grp" --frames 2 --out "$d/g" $all)
echo "$out"
echo "$out" | grep -q "6 crash(es) in 4 group(s)"
g=$(ls -d "$d"/g/free-with-refcount@op_remove-*)
[ "$(echo "$g" | wc -l)" = 2 ]
g3=""
for x in $g; do grep -q teardown "$x/SIGNATURE" && g3=$x; done
[ -n "$g3" ]
[ "$(wc -l <"$g3/members.txt")" = 3 ]
[ -f "$g3/crash-1" ] && [ -f "$g3/crash-1.report" ] && [ -f "$g3/crash-1.trace" ] && [ ! -f "$g3/crash-2" ]
printf 'free-with-refcount\nop_remove\nteardown\n' | cmp - "$g3/SIGNATURE"
# A second campaign into the same groups keeps the smaller reproducer.
head -c 2 /dev/zero >"$d/c/crash-0"; cp "$d/c/crash-1.report" "$d/c/crash-0.report"
bash "$grp" --quiet --frames 2 --out "$d/g" "$d/c/crash-0"
[ -f "$g3/crash-0" ] && [ ! -f "$g3/crash-1" ]
echo "crash_group: ok"
