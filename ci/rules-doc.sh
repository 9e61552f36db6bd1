#!/usr/bin/env bash
# ci/rules-doc.sh — every rule of the rule table (alloc/include/oblique/bits/rules.h)
# has its doc anchor in docs/checker.md (section "Rule index").  Run by the ctest
# rules-doc-anchors.
#   ci/rules-doc.sh [RULES_H [CHECKER_MD]]
# Prints each missing anchor and exits 1; exits 2 when the table has no rows.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rules=${1:-$here/alloc/include/oblique/bits/rules.h}
doc=${2:-$here/docs/checker.md}
# Each row's last argument is its anchor: the "rule-..." string literal of a row.
anchors=$(grep -oE '"rule-[a-z0-9-]+"' "$rules" | tr -d '"' || true)
rows=$(grep -cE '^[[:space:]]*X\(' "$rules" || true)
n=$(printf '%s\n' "$anchors" | grep -c . || true)
if [ "$n" -eq 0 ]; then
  echo "rules-doc: no rows in $rules" >&2; exit 2
fi
if [ "$n" -ne "$rows" ]; then
  echo "rules-doc: $rules has $rows rows but $n anchors (each row ends with \"rule-<name>\")" >&2
  exit 1
fi
missing=0
for a in $anchors; do
  if ! grep -qF "id=\"$a\"" "$doc"; then
    echo "rules-doc: anchor '$a' of $rules is not in $doc" >&2
    missing=$((missing + 1))
  fi
done
[ "$missing" -eq 0 ] || exit 1
echo "rules-doc: $n rules, every anchor in $(basename "$doc")"
