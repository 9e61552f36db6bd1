#!/usr/bin/env bash
# ci/readme-commands.sh — run the README's SDK commands exactly as printed: the shell
# blocks of "Installing", "Fuzzing your own protocol" and "Allocator authors", in that
# order, in one shell, with HOME set to a private directory (so "$HOME/.local" is a
# throwaway prefix) and the working directory a copy of examples/ (so the relative
# paths resolve as they do in a clone).  Each line must exit as a user expects: 0, or
# 1 for obq-fuzz and obq-trace replay, which report the planted bug of
# examples/protocol.  Prints the private HOME on stdout's last line (ci/test.sh reuses
# its install as the prefix of its other install checks).  Called by ci/test.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
home=$(mktemp -d)
work=$(mktemp -d)
cp -r "$here/examples" "$work/examples"
blocks=$(awk '
  /^## / { sec = $0 }
  /^```sh$/ { if (sec ~ /Installing|Fuzzing your own protocol|Allocator authors/) { inb = 1; next } }
  /^```$/ { inb = 0; next }
  inb { print }' "$here/README.md")
[ -n "$blocks" ] || { echo "readme-commands: no shell blocks found in README.md" >&2; exit 1; }
fail=0
export HOME=$home
while IFS= read -r line; do
  [ -n "$line" ] || continue
  cmd=${line%%#*}                                  # the comment is for the reader
  case "$cmd" in
    obq-fuzz*|obq-trace\ replay*) want=1 ;;        # they find / replay the planted bug
    *) want=0 ;;
  esac
  dir=$work
  case "$cmd" in ci/*) dir=$here ;; esac           # ci/install.sh is run from a clone
  echo "readme\$ $line"
  set +e
  (cd "$dir" && eval "$cmd") >"$work/last.log" 2>&1
  rc=$?
  set -e
  tail -n 4 "$work/last.log" | sed 's/^/   | /'
  if [ "$rc" != "$want" ]; then
    echo "readme-commands: exit $rc, expected $want: $line" >&2
    tail -n 40 "$work/last.log" >&2
    fail=1
    break
  fi
  # exports carry over to the next lines, as in the user's shell
  case "$cmd" in export\ *) eval "$cmd" ;; esac
done <<<"$blocks"
rm -rf "$work"
[ "$fail" = 0 ] || exit 1
echo "$home"
