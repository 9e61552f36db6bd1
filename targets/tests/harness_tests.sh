#!/bin/sh
# harness_tests.sh — the harness's reproducibility tests (ctest harness-*, registered by
# targets/tests/CMakeLists.txt).  Every program runs as a child of this shell.
#
#   harness_tests.sh CASE BUGS BUGS_SETUP WORKDIR ASAN [TAILCALLS]
#
#   decode-crash     `BUGS decode input > file` of an input whose run reports (a checker
#                    rule, an oracle, a deadlock, a livelock) or, with ASAN=1, crashes
#                    (an ASan use-after-poison of a FREE slot, a UBSan runtime error) leaves in file a
#                    trace that encodes, and whose replay reproduces the same report or
#                    crash; `replay > file` keeps the steps run before a crash.
#   warmup-artifact  BUGS_SETUP (every run reports) started as a fuzzing engine starts:
#                    the warm-up's failing program is saved as crash-warmup-bugs_setup-0
#                    (-artifact_prefix, $OBQ_H_ARTIFACT_DIR, the current directory), one
#                    line says so, its .report names the rule, start-up goes on, and
#                    `replay` of it reports.
#   report-sites     the report's alloc and free sites are the test target's functions
#                    (bugs_make, bugs_put; op_drop when it frees in a tail call).
#                    TAILCALLS=0 (32-bit x86 PIC: the adapter cannot tail-call the
#                    allocator, so only oblique's frames are recorded): the report names
#                    the running operation instead (op_peek_freed, op_drop).
set -u
case_=$1 bugs=$2 setup=$3 work=$4 asan=$5 tailcalls=${6:-1}
abs() { case $1 in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }
bugs=$(abs "$bugs") setup=$(abs "$setup") work=$(abs "$work")
rm -rf "$work" && mkdir -p "$work" || exit 2
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

# trace TEXT-OPS-T0 -> $work/<name>.trace: two threads, a tape longer than any run uses
trace() {
	{
		echo "target bugs"
		echo "threads 2"
		echo "ops"
		echo "  T0 | T1"
		echo "  nop | nop"
		echo "  nop | nop"
		echo "  $2 | nop"
		echo "end"
		echo "tape 01 00 01 01 00 01 00 00 01 01 00 01 01 00 00 01 01 01 00 00 01 00 01 00"
		echo "tape 01 00 01 01 00 01 00 00 01 01 00 01 01 00 00 01 01 01 00 00 01 00 01 00"
	} >"$work/$1.trace"
}

# the line after the first line matching $1 in file $2
after() { awk -v pat="$1" 'found { print; exit } index($0, pat) { found = 1 }' "$2"; }

decode_case() { # name op expect(rule | asan:TEXT)
	name=$1 op=$2 want=$3
	trace "$name" "$op"
	"$bugs" encode "$work/$name.trace" -o "$work/$name.bin" || { fail "$name: encode of the input"; return; }
	"$bugs" decode "$work/$name.bin" >"$work/$name.decoded" 2>"$work/$name.decode.err"
	grep -q '^# T[01]\.' "$work/$name.decoded" || fail "$name: no realised schedule in the decode output"
	if ! "$bugs" encode "$work/$name.decoded" -o "$work/$name.re.bin" 2>"$work/$name.encode.err"; then
		fail "$name: decode output does not encode: $(cat "$work/$name.encode.err")"
		return
	fi
	"$bugs" replay "$work/$name.re.bin" >"$work/$name.replay" 2>"$work/$name.replay.err"
	rc=$?
	case $want in
	asan:*)
		text=${want#asan:}
		grep -qE "$text" "$work/$name.decode.err" || fail "$name: decode did not crash with '$text'"
		grep -q "^# the run of this program crashes" "$work/$name.decoded" ||
			fail "$name: decode output does not say the run crashes"
		[ $rc -ge 128 ] || fail "$name: replay of the decoded trace exited $rc, not by a signal"
		grep -qE "$text" "$work/$name.replay.err" || fail "$name: replay of the decoded trace: no '$text'"
		grep -q '^  step ' "$work/$name.replay" || fail "$name: replay > file lost its step lines"
		;;
	*)
		grep -q "^# REPORT: $want\$" "$work/$name.decoded" || fail "$name: decode output lacks '# REPORT: $want'"
		[ $rc -eq 1 ] || fail "$name: replay of the decoded trace exited $rc, not 1"
		grep -q "^REPORT: $want\$" "$work/$name.replay" || fail "$name: replay does not report $want"
		;;
	esac
	[ $fails -eq 0 ] && ok "$name: decode > file, encode, replay: $want"
}

case $case_ in
decode-crash)
	decode_case peek "peek_freed 3" free-access-outside-read-side
	decode_case oracle "oracle" oracle
	decode_case deadlock "deadlock 1" deadlock
	decode_case livelock "livelock" livelock
	if [ "$asan" = 1 ]; then
		decode_case uaf "uaf_plain 2" "asan:AddressSanitizer: (heap-use-after-free|use-after-poison)"
		decode_case ubsan "ubsan 7" "asan:runtime error: signed integer overflow"
	fi
	;;
warmup-artifact)
	art=crash-warmup-bugs_setup-0
	mkdir -p "$work/prefix" "$work/env" "$work/cwd"
	"$setup" -artifact_prefix="$work/prefix/" >"$work/out" 2>"$work/err"
	rc=$?
	[ $rc -eq 0 ] || fail "engine start exited $rc"
	grep -q "engine: initialised" "$work/out" || fail "engine start did not go on after the warm-up crash"
	grep -q "CRASH in warm-up: program 0 of target bugs_setup reports free-access-outside-read-side; saved as $work/prefix/$art" "$work/err" ||
		fail "no warm-up crash line: $(cat "$work/err")"
	[ -s "$work/prefix/$art" ] || fail "no artifact $work/prefix/$art"
	# the .report names the rule as a report's first line does (crash grouping reads it)
	grep -q "^==oblique== ERROR: free-access-outside-read-side" "$work/prefix/$art.report" ||
		fail "the .report does not name the rule: $(head -n 3 "$work/prefix/$art.report")"
	OBQ_H_ARTIFACT_DIR=$work/env "$setup" >/dev/null 2>&1
	[ -s "$work/env/$art" ] || fail "no artifact in \$OBQ_H_ARTIFACT_DIR"
	(cd "$work/cwd" && "$setup" >/dev/null 2>&1)
	[ -s "$work/cwd/$art" ] || fail "no artifact in the current directory"
	"$setup" replay "$work/prefix/$art" >"$work/replay" 2>&1
	rc=$?
	[ $rc -eq 1 ] || fail "replay of the artifact exited $rc, not 1"
	grep -q "^REPORT: free-access-outside-read-side" "$work/replay" || fail "replay of the artifact does not report"
	[ $fails -eq 0 ] && ok "warm-up crash saved as $art (prefix, env, cwd), start-up went on, replay reports"
	;;
report-sites)
	trace sites "peek_freed 3"
	"$bugs" replay "$work/sites.trace" >"$work/sites" 2>/dev/null
	a=$(after "allocated (generation" "$work/sites") f=$(after "freed by thread" "$work/sites")
	if [ "$tailcalls" = 1 ]; then
		case $a in *"#0 bugs_make"*) ;; *) fail "alloc site is not bugs_make: $a" ;; esac
		case $f in *"#0 bugs_put"*) ;; *) fail "free site is not bugs_put: $f" ;; esac
	else
		case $a in *"#0 op_peek_freed+0x0 "*"running operation's body"*) ;; *) fail "alloc site is not the running op_peek_freed: $a" ;; esac
		case $f in *"#0 op_peek_freed+0x0 "*"running operation's body"*) ;; *) fail "free site is not the running op_peek_freed: $f" ;; esac
	fi
	printf 'target bugs\nthreads 1\nops\n  T0\n  keep 5\n  drop\n  peek_kept\nend\n' >"$work/tail.trace"
	"$bugs" replay "$work/tail.trace" >"$work/tail" 2>/dev/null
	f=$(after "freed by thread" "$work/tail")
	case $f in *"#0 op_drop"*) ;; *) fail "tail-call free site is not op_drop: $f" ;; esac
	OBQ_CHECK_STACK_ALL=1 "$bugs" replay "$work/tail.trace" >"$work/tail.all" 2>/dev/null
	grep -q "(running: op_drop" "$work/tail.all" || fail "OBQ_CHECK_STACK_ALL=1 does not keep the running operation"
	[ $fails -eq 0 ] && ok "alloc/free sites: bugs_make, bugs_put (tail calls: $tailcalls), op_drop (tail call)"
	;;
*)
	echo "usage: $0 decode-crash|warmup-artifact|report-sites BUGS BUGS_SETUP WORKDIR ASAN" >&2
	exit 2
	;;
esac
[ $fails -eq 0 ] || { echo "$fails failure(s); files in $work"; exit 1; }
