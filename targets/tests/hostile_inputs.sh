#!/bin/sh
# hostile_inputs.sh TARGET STRESS WORKDIR [ENGINE] — malformed inputs to the tools get a clear
# message and exit 2, in bounded memory, leaking nothing (LSan in the asan preset):
# an empty directory, a trace line longer than the parser's line, a directory where one
# file is expected, an endless file (/dev/zero), a trace the stress binary cannot parse,
# an unknown allocator adapter in OBQ_ADAPTER (it crashed with SIGSEGV before).
# ENGINE (OBQ_FUZZ_ENGINE, default none): under libfuzzer a bare directory is libFuzzer's
# corpus (a campaign), not the runner's inputs, so that one case does not apply.
set -u
bin=$1 stress=$2 work=$3 engine=${4:-none}
rm -rf "$work"; mkdir -p "$work/empty"
fails=0
expect() { # <name> <message regex> <command...>
	name=$1 re=$2; shift 2
	out=$("$@" 2>&1); rc=$?
	if [ "$rc" != 2 ] || ! printf '%s' "$out" | grep -qE -- "$re"; then
		echo "FAIL: $name: exit $rc (want 2), output:"; printf '%s\n' "$out" | head -n 12
		fails=$((fails + 1))
	else
		echo "ok: $name"
	fi
}
if [ "$engine" = libfuzzer ]; then
	echo "n/a: empty directory (replay): a bare directory is libFuzzer's corpus here"
else
	expect "empty directory (replay)" "no inputs" "$bin" "$work/empty"
fi
expect "empty directory (roundtrip)" "usage" "$bin" roundtrip "$work/empty"
printf 'target seqlock\nthreads 1%2000s GARBAGE\n' " " >"$work/long.trace"
expect "line over 1023 bytes" "long.trace:2:1024: line longer than 1023 bytes" "$bin" encode "$work/long.trace"
expect "directory to decode" "is a directory" "$bin" decode "$work/empty"
expect "directory to replay" "is a directory" "$bin" replay "$work/empty"
expect "endless input" "larger than 16 MiB" "$bin" decode /dev/zero
printf 'junk\n' >"$work/junk.trace"
expect "unparsable trace to stress" "junk.trace:1:1: unknown keyword 'junk'" "$stress" --seconds 1 "$work/junk.trace"
printf 'target seqlock\nthreads 1\nops\n  T0\nend\n' >"$work/ok.trace"
expect "unknown OBQ_ADAPTER" "OBQ_ADAPTER=bogus: unknown adapter; known: oblique malloc" env OBQ_ADAPTER=bogus "$bin" "$work/ok.trace"
[ "$fails" = 0 ]
