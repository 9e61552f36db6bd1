#!/usr/bin/env bash
# ci/os-syntax.sh — type-check the macOS and FreeBSD paths of liboblique, the checker
# and the harness runtime on this Linux machine, which has neither system's headers.
#
#   ci/os-syntax.sh [--cc clang]
#
# 1. clang --target=x86_64-apple-darwin / x86_64-unknown-freebsd -fsyntax-only against
#    the host's glibc headers is tried first and reported, but it does not mean much:
#    glibc's headers do not parse for those targets (Darwin) or lack the system's own
#    headers (<pthread_np.h> on FreeBSD), so it is not what passes or fails.
# 2. What is checked: every source file, compiled -fsyntax-only -Werror=implicit for
#    the host target with the system's macros swapped (__linux__ undefined; __APPLE__
#    and __MACH__, or __FreeBSD__, defined), so each #if selects the macOS or FreeBSD
#    branch; glibc supplies the POSIX declarations and ci/os-shims/ the few functions
#    of the system's own (pthread_threadid_np; <pthread_np.h>).  This finds syntax
#    errors, undeclared functions and macros, and type mismatches against POSIX in
#    those branches; not what differs between the real headers and glibc's (code under
#    `#if __GLIBC__` is still compiled as on glibc), and it links and runs nothing: the
#    macOS and FreeBSD jobs of .github/workflows/portability.yml build and test there.
# Prints `N passed, N failed` (one per system and file).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
cc=clang
while [ $# -gt 0 ]; do
  case "$1" in
    --cc) cc=$2; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "ci/os-syntax.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
command -v "$cc" >/dev/null || bash ci/deps.sh test

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The real compile commands (defines, include paths, oblique/config.h) of every
# library variant and the harness runtime: a configured, unbuilt clang tree.
b=build/os-syntax
cmake -S . -B "$b" -G Ninja -DCMAKE_C_COMPILER="$cc" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  -DOBQ_BUILD_TESTS=OFF -DOBQ_BUILD_BENCH=OFF -DOBQ_SDK_VARIANTS=OFF >"$work/cmake.log" 2>&1 ||
  { cat "$work/cmake.log"; exit 1; }
# one command per (file, variant) of alloc/src, sanitizers/ and targets/harness/
python3 - "$b/compile_commands.json" "$here" >"$work/cmds" <<'PY'
import json, shlex, sys
here = sys.argv[2] + "/"
for e in json.load(open(sys.argv[1])):
    f = e["file"]
    rel = f[len(here):] if f.startswith(here) else f
    if not rel.startswith(("alloc/src/", "sanitizers/", "targets/harness/")):
        continue
    args = e.get("arguments") or shlex.split(e["command"])
    keep, skip = [], False
    for a in args[1:]:
        if skip:
            skip = False
            continue
        if a in ("-o", "-c", "-MF", "-MT", "-MQ"):
            skip = True
            continue
        if a in (f, rel) or a.startswith("-M"):
            continue
        keep.append(a)
    print(e["directory"] + "\t" + f + "\t" + " ".join(shlex.quote(k) for k in keep))
PY
incs="-Ialloc/include -I$b/include"

echo "=== cross-target syntax check (informative: no macOS or FreeBSD headers here)"
for t in x86_64-apple-darwin x86_64-unknown-freebsd; do
  n=$($cc -fsyntax-only --target=$t -std=gnu11 $incs -isystem /usr/include \
        -isystem /usr/include/x86_64-linux-gnu alloc/src/os.c 2>&1 | grep -c 'error:' || true)
  echo "  $t, os.c against glibc's headers: $n errors (expected: the headers are not that system's)"
done

pass=0 fail=0
check() { # name flags...
  local name=$1; shift
  local bad=0 n=0 dir f flags
  while IFS=$'\t' read -r dir f flags; do
    n=$((n + 1))
    # shellcheck disable=SC2086
    if ! (cd "$dir" && eval "$cc $flags -fsyntax-only -Wall -Werror=implicit-function-declaration \
         -Werror=int-conversion -Werror=incompatible-pointer-types \
         -U__linux__ -U__linux -Ulinux -U__gnu_linux__ $* '$f'") 2>"$work/err"; then
      echo "  $name: $f"; sed 's/^/    /' "$work/err" | head -n 20
      bad=$((bad + 1)); fail=$((fail + 1))
    else
      pass=$((pass + 1))
    fi
  done <"$work/cmds"
  echo "=== $name: $n compile commands, $bad failed"
}
check macOS -D__APPLE__=1 -D__MACH__=1 -include "$here/ci/os-shims/darwin.h"
check FreeBSD -D__FreeBSD__=14 -I"$here/ci/os-shims/freebsd"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
