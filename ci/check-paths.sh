#!/bin/sh
# ci/check-paths.sh — the files the tree's comments and docs point at exist.
#
# Scans the tracked (and untracked, not ignored) source, build and doc files for
#  - paths from the top: <top-level dir>/<path>.<ext> (alloc/src/os.c, docs/harness.md,
#    ci/fuzz.sh, ...), which must name a file or directory of the tree;
#  - bare document names (`harness.md`), which must be the name of one of its files;
# and prints each that does not, with where it was found.  Words with a placeholder
# (<t>, *, $, {) or under build/ are not paths of the tree, nor the names in $allow:
# files the campaign scripts write into their output (INDEX.md, GROUPS.md) and other
# projects' files quoted by name (AFL++'s docs/fuzzing_in_depth.md); the self-tests
# under ci/tests/ make and delete files on purpose and are not scanned.
# Exit status: 0 all exist, 1 some do not, 2 usage (ctest check-paths, label unit).
#
#   ci/check-paths.sh [ROOT]        (default: the repository this script is in)
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" || exit 2
dirs='alloc|sanitizers|targets|cmake|ci|corpus|docs|examples|mutants'
ext='c|h|md|sh|cmake|txt|py|tsv|trace|dict|options|json|in|list'
all=$(git ls-files --cached --others --exclude-standard 2>/dev/null) ||
  all=$(find . -type f ! -path './build/*' ! -path './.git/*' | sed 's|^\./||')
allow=' INDEX.md GROUPS.md docs/fuzzing_in_depth.md '
out=${TMPDIR:-/tmp}/check-paths.$$
for f in $all; do
  case "$f" in ci/tests/*) continue ;; esac
  case "$f" in *.c|*.h|*.md|*.sh|*.cmake|*.txt|*.py|*.in|*/obq-fuzz) ;; *) continue ;; esac
  [ -f "$f" ] || continue
  grep -noE "(^|[^A-Za-z0-9_./-])($dirs)/[A-Za-z0-9_./-]*\.($ext)\b" "$f" |
  while IFS=: read -r line word; do
    p=$(printf '%s' "$word" | sed -E 's/^[^A-Za-z0-9_]*//')
    case "$p" in *'<'*|*'*'*|*'$'*|*'{'*|build/*) continue ;; esac
    case "$allow" in *" $p "*) continue ;; esac
    [ -e "$p" ] || echo "$f:$line: $p does not exist"
  done
  grep -noE '(^|[^A-Za-z0-9_./<>$-])[A-Za-z0-9_-]+\.md\b' "$f" |
  while IFS=: read -r line word; do
    p=$(printf '%s' "$word" | sed -E 's/^[^A-Za-z0-9_]*//')
    case "$allow" in *" $p "*) continue ;; esac
    printf '%s\n' "$all" | grep -qE "(^|/)$p\$" || echo "$f:$line: no file is named $p"
  done
done >"$out"
if [ -s "$out" ]; then
  cat "$out"
  rm -f "$out"
  exit 1
fi
rm -f "$out"
exit 0
