#!/bin/sh
# expect-crash.sh CMD... — run CMD (a stress binary with a mutant selected); succeed iff
# it fails (a report aborts it).  Its output goes through, so ctest can match the rule.
"$@" 2>&1
rc=$?
if [ $rc -eq 0 ]; then
  echo "expect-crash: the mutant was NOT found (exit 0)"
  exit 1
fi
echo "expect-crash: found (exit $rc)"
exit 0
