#!/usr/bin/env bash
# ci/tests/structure_selftest.sh — the structure checks fail when they must.
#   structure_selftest.sh layers      ci/layers.sh on a copy of the tree: clean, then with
#                                     a planted upward include, a planted cycle, a tool
#                                     header outside the seam and an unlisted file (each
#                                     must fail, naming the file)
#   structure_selftest.sh rules-doc   ci/rules-doc.sh on a copy of the rule table and
#                                     docs/checker.md: clean, then with an anchor removed
#                                     from the doc and with a row added to the table
# ctests layers-selftest and rules-doc-selftest.  Exit 0 when every case behaved.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
what=${1:?usage: structure_selftest.sh layers|rules-doc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0

# expect <name> <rc> <pattern> <command...>: the command exits rc and prints pattern.
expect() {
  local name=$1 rc=$2 pat=$3; shift 3
  local got=0
  "$@" >"$work/out" 2>&1 || got=$?
  if [ "$got" -ne "$rc" ] || ! grep -qE -- "$pat" "$work/out"; then
    echo "FAIL $name: exit $got (want $rc), output:"; sed 's/^/  /' "$work/out"
    fails=$((fails + 1))
  else
    echo "ok   $name: $(grep -E -- "$pat" "$work/out" | head -n 1)"
  fi
}

case "$what" in
layers)
  t=$work/tree
  mkdir -p "$t/docs"
  cp "$here/docs/layers.md" "$t/docs/"
  (cd "$here" && tar -cf - alloc/include alloc/src alloc/testing sanitizers targets/harness) |
    tar -xf - -C "$t"
  expect "clean tree" 0 "no upward include, no cycle" "$here/ci/layers.sh" --root "$t"
  # the os layer reaching up into the cache
  cp "$t/alloc/src/os.h" "$work/os.h"
  sed -i 's|^#include <stdint.h>|#include <stdint.h>\n#include "cache.h"|' "$t/alloc/src/os.h"
  expect "upward include" 1 "UPWARD alloc/src/os.h \(2 os\) includes alloc/src/cache.h \(5 cache\)" \
    "$here/ci/layers.sh" --root "$t"
  cp "$work/os.h" "$t/alloc/src/os.h"
  # slot.h <-> slab.h (same layer: only the cycle is wrong)
  cp "$t/alloc/src/slot.h" "$work/slot.h"
  sed -i 's|^#include <oblique/common.h>|#include <oblique/common.h>\n#include "slab.h"|' "$t/alloc/src/slot.h"
  expect "include cycle" 1 "CYCLE .*alloc/src/sl(ot|ab).h -> .*alloc/src/sl(ot|ab).h" \
    "$here/ci/layers.sh" --root "$t"
  cp "$work/slot.h" "$t/alloc/src/slot.h"
  # the os layer calling ASan itself instead of through the seam
  cp "$t/alloc/src/os.c" "$work/os.c"
  sed -i 's|^#include <string.h>|#include <string.h>\n#include <sanitizer/asan_interface.h>|' "$t/alloc/src/os.c"
  expect "tool header outside the seam" 1 "TOOL alloc/src/os.c \(2 os\) includes <sanitizer/asan_interface.h>" \
    "$here/ci/layers.sh" --root "$t"
  cp "$work/os.c" "$t/alloc/src/os.c"
  # a new file nobody put in the table
  echo '#include "internal.h"' >"$t/alloc/src/newfile.c"
  expect "unlisted file" 1 "UNLISTED alloc/src/newfile.c" "$here/ci/layers.sh" --root "$t"
  rm "$t/alloc/src/newfile.c"
  expect "clean again" 0 "no upward include, no cycle" "$here/ci/layers.sh" --root "$t"
  ;;
rules-doc)
  rules=$here/alloc/include/oblique/bits/rules.h
  doc=$here/docs/checker.md
  expect "clean" 0 "every anchor" "$here/ci/rules-doc.sh" "$rules" "$doc"
  grep -v 'id="rule-type-mismatch"' "$doc" >"$work/checker.md"
  expect "anchor missing" 1 "anchor 'rule-type-mismatch'" "$here/ci/rules-doc.sh" "$rules" "$work/checker.md"
  sed 's|^\(\tX(RCU_CALL_NULL.*\)$|\1 \\\n\tX(NEW_RULE, "new-rule", OBQ_RULE_NO_HINT, "rule-new-rule")|' "$rules" >"$work/rules.h"
  expect "row without its doc" 1 "anchor 'rule-new-rule'" "$here/ci/rules-doc.sh" "$work/rules.h" "$doc"
  ;;
*) echo "structure_selftest.sh: unknown check '$what'" >&2; exit 2 ;;
esac
[ "$fails" -eq 0 ] || { echo "$fails case(s) failed"; exit 1; }
