#!/bin/sh
# campaign_usage.sh SRC — the campaign scripts' documented options are accepted and
# wrong ones refused with exit status 2 and a message, without building or fuzzing
# anything: ci/cflite-local.sh, ci/libfuzzer-ci.sh --jobs/--fork, obq-fuzz
# --jobs/--fork/--keep-going, obq-crash-group, ci/coverage.sh --corpus.
set -u
src=$1
fail=0
expect() { # expect STATUS REGEX COMMAND...: exit status and a line of the output
	want=$1; re=$2; shift 2
	out=$("$@" 2>&1); rc=$?
	if [ "$rc" != "$want" ] || ! printf '%s\n' "$out" | grep -qE -- "$re"; then
		echo "FAIL: $* -> exit $rc (want $want, /$re/):"; printf '%s\n' "$out" | head -n 5; fail=1
	else
		echo "ok:   $*"
	fi
}
expect 0 'batch fuzzing|mode: batch' bash "$src/ci/cflite-local.sh" --help
expect 2 "unknown mode 'fuzz'" bash "$src/ci/cflite-local.sh" --modes build,fuzz
expect 2 "address, undefined or memory" bash "$src/ci/cflite-local.sh" --sanitizer thread
expect 2 'whole number' bash "$src/ci/cflite-local.sh" --seconds 1m
expect 0 '--fork N' bash "$src/ci/libfuzzer-ci.sh" --help
expect 2 'whole numbers' bash "$src/ci/libfuzzer-ci.sh" --jobs two --no-build
expect 0 '--keep-going' bash "$src/targets/tools/obq-fuzz" --help
expect 2 'needs --fork' bash "$src/targets/tools/obq-fuzz" --keep-going /bin/true
expect 2 'whole number' bash "$src/targets/tools/obq-fuzz" --jobs x /bin/true
expect 2 'at least 1' bash "$src/targets/tools/obq-fuzz" --jobs 0 /bin/true
expect 0 'top user frames|rule' bash "$src/targets/tools/obq-crash-group" --help
expect 2 'required' bash "$src/targets/tools/obq-crash-group" /dev/null
expect 0 '--corpus DIR' bash "$src/ci/coverage.sh" --help
expect 2 'not a directory' bash "$src/ci/coverage.sh" --corpus /nonexistent-corpus
exit $fail
