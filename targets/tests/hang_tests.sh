#!/bin/sh
# hang_tests.sh BUGS_HANG WORKDIR — no hang without a report (engine.c, "time bounds"):
# bugs_hang's setup walks a list cycle with no scheduling point, so every run hangs.
#  - started as a fuzzing engine starts, the warm-up's probe child is killed after
#    OBQ_H_WARMUP_TIMEOUT: one line, the artifact crash-warmup-bugs_hang-0 with its
#    .trace (a trace that encodes) and .report, and start-up goes on;
#  - with the probe's bound above the initialisation's, the init alarm fires: report,
#    artifact crash-init-bugs_hang and its .report, exit 70;
#  - replay and decode of an input end after OBQ_H_RUN_TIMEOUT with a run-timeout
#    report (decode's trace ends with it and still encodes), exit 1.
# Every command runs under `timeout`: a hang fails the test instead of stalling it.
set -u
hang=$1 work=$2
abs() { case $1 in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }
hang=$(abs "$hang") work=$(abs "$work")
rm -rf "$work" && mkdir -p "$work/prefix" "$work/init" || exit 2
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
unset OBQ_ADAPTER

art=$work/prefix/crash-warmup-bugs_hang-0
OBQ_H_WARMUP_TIMEOUT=2 OBQ_H_INIT_TIMEOUT=60 timeout 60 "$hang" -artifact_prefix="$work/prefix/" >"$work/out" 2>"$work/err"
rc=$?
if [ $rc -eq 0 ] && grep -q "engine: initialised" "$work/out" &&
   grep -q "CRASH in warm-up: program 0 of target bugs_hang does not finish (killed after 2 s" "$work/err" &&
   [ -s "$art" ] && [ -s "$art.trace" ] && [ -s "$art.report" ] &&
   "$hang" encode "$art.trace" -o "$work/art.bin"; then
	ok "warm-up hang: artifact, .trace (it encodes), .report; start-up went on"
else
	fail "warm-up hang (exit $rc): $(cat "$work/err")"; ls -l "$work/prefix"
fi

OBQ_H_WARMUP_TIMEOUT=4 OBQ_H_INIT_TIMEOUT=1 timeout 60 "$hang" -artifact_prefix="$work/init/" >"$work/out2" 2>"$work/err2"
rc=$?
if [ $rc -eq 70 ] && grep -q "ERROR: init-timeout: target bugs_hang did not finish its initialisation" "$work/err2" &&
   [ -e "$work/init/crash-init-bugs_hang" ] && grep -q "init-timeout" "$work/init/crash-init-bugs_hang.report"; then
	ok "initialisation hang: init-timeout report, artifact and .report, exit 70"
else
	fail "initialisation hang (exit $rc): $(cat "$work/err2")"; ls -l "$work/init"
fi
sleep 4 # (the probe child of that run ends at its own bound)

printf 'target bugs_hang\nthreads 1\nops\n  T0\n  nop\nend\n' >"$work/in.trace"
OBQ_H_WARMUP=0 OBQ_H_RUN_TIMEOUT=2 timeout 60 "$hang" replay "$work/in.trace" >"$work/replay" 2>"$work/replay.err"
rc=$?
if [ $rc -eq 1 ] && grep -q "ERROR: run-timeout: target bugs_hang, input $work/in.trace" "$work/replay.err" &&
   grep -q "# REPORT: run-timeout" "$work/replay"; then
	ok "replay of a hanging input: run-timeout report, exit 1"
else
	fail "replay (exit $rc): $(cat "$work/replay.err")"
fi
OBQ_H_WARMUP=0 OBQ_H_RUN_TIMEOUT=2 timeout 60 "$hang" decode "$work/in.trace" >"$work/decoded.trace" 2>"$work/decode.err"
rc=$?
if [ $rc -eq 1 ] && grep -q "^# REPORT: run-timeout" "$work/decoded.trace" &&
   "$hang" encode "$work/decoded.trace" -o "$work/decoded.bin"; then
	ok "decode of a hanging input: the trace ends with the run-timeout report and encodes"
else
	fail "decode (exit $rc): $(cat "$work/decode.err")"; cat "$work/decoded.trace"
fi
[ $fails -eq 0 ] && echo "hang_tests: ok"
[ $fails -eq 0 ]
