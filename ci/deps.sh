#!/usr/bin/env bash
# ci/deps.sh — install what oblique's scripts need and the machine lacks (Debian/Ubuntu,
# apt).  Sourced or run by the other ci/ scripts; safe to run again.
#   ci/deps.sh [test|fuzz|afl|bench|cross|cross-ARCH[,ARCH...]|all]   (default: test)
# cross: Debian's cross compilers and C libraries for aarch64, s390x, i686, armhf and
# riscv64, and qemu-user-static (ci/cross.sh); cross-s390x,i686 only those named.  i686
# on an amd64 host also takes libc6-i386, the loader and libc the kernel runs i686
# programs with.
set -euo pipefail
want=${1:-test}

pkgs_test="cmake ninja-build gcc clang libclang-rt-14-dev llvm pkg-config liburcu-dev valgrind python3"
pkgs_fuzz="clang libclang-rt-14-dev llvm"
pkgs_afl="afl++"
pkgs_bench="libjemalloc-dev libmimalloc-dev libck-dev liburcu-dev gnuplot-nox hyperfine"
cross_pkgs() { # arch -> its packages
  case $1 in
    aarch64) echo "gcc-aarch64-linux-gnu libc6-dev-arm64-cross" ;;
    s390x) echo "gcc-s390x-linux-gnu libc6-dev-s390x-cross" ;;
    i686) echo "gcc-i686-linux-gnu libc6-dev-i386-cross"
          [ "$(dpkg --print-architecture 2>/dev/null)" = amd64 ] && echo libc6-i386 ;;
    armhf) echo "gcc-arm-linux-gnueabihf libc6-dev-armhf-cross" ;;
    riscv64) echo "gcc-riscv64-linux-gnu libc6-dev-riscv64-cross" ;;
    *) echo "ci/deps.sh: unknown architecture '$1'" >&2; return 1 ;;
  esac
}
pkgs_cross="qemu-user-static"
case "$want" in
  cross|all) want_archs="aarch64 s390x i686 armhf riscv64" ;;
  cross-*) want_archs=$(echo "${want#cross-}" | tr , ' ') ;;
  *) want_archs="" ;;
esac
for a in $want_archs; do
  pkgs_cross="$pkgs_cross $(cross_pkgs "$a" | tr '\n' ' ')"
done
case "$want" in
  test)  pkgs="$pkgs_test" ;;
  fuzz)  pkgs="$pkgs_test $pkgs_fuzz" ;;
  afl)   pkgs="$pkgs_test $pkgs_afl" ;;
  bench) pkgs="$pkgs_test $pkgs_bench" ;;
  cross|cross-*) pkgs="$pkgs_test $pkgs_cross" ;;
  all)   pkgs="$pkgs_test $pkgs_fuzz $pkgs_afl $pkgs_bench $pkgs_cross" ;;
  *) echo "usage: ci/deps.sh [test|fuzz|afl|bench|cross|cross-ARCH[,ARCH...]|all]" >&2; exit 2 ;;
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
