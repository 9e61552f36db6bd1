#!/usr/bin/env bash
# ci/deps.sh — install what oblique's scripts need and the machine lacks (Debian/Ubuntu,
# apt).  Sourced or run by the other ci/ scripts; safe to run again.
#   ci/deps.sh [test|fuzz|afl|bench|all]   (default: test)
set -euo pipefail
want=${1:-test}

pkgs_test="cmake ninja-build gcc clang libclang-rt-14-dev llvm pkg-config liburcu-dev valgrind python3"
pkgs_fuzz="clang libclang-rt-14-dev llvm"
pkgs_afl="afl++"
pkgs_bench="libjemalloc-dev libmimalloc-dev libck-dev liburcu-dev gnuplot-nox hyperfine"
case "$want" in
  test)  pkgs="$pkgs_test" ;;
  fuzz)  pkgs="$pkgs_test $pkgs_fuzz" ;;
  afl)   pkgs="$pkgs_test $pkgs_afl" ;;
  bench) pkgs="$pkgs_test $pkgs_bench" ;;
  all)   pkgs="$pkgs_test $pkgs_fuzz $pkgs_afl $pkgs_bench" ;;
  *) echo "usage: ci/deps.sh [test|fuzz|afl|bench|all]" >&2; exit 2 ;;
esac

# Tools that may come from elsewhere than apt count when they are on PATH: an AFL++
# built from source (make install puts afl-fuzz and afl-clang-fast in /usr/local/bin)
# is newer than Debian's and must not be shadowed by installing the package.
on_path() { # <package>: 0 when what the scripts use of it is on PATH
  case "$1" in
    afl++) command -v afl-fuzz >/dev/null 2>&1 && command -v afl-clang-fast >/dev/null 2>&1 ;;
    *) return 1 ;;
  esac
}
missing=()
for p in $pkgs; do
  on_path "$p" && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ci/deps.sh: missing packages (${missing[*]}) and no apt-get: install them by hand" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
echo "ci/deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
