#!/usr/bin/env bash
# ci/install.sh — build and install oblique: the allocator and the fuzzing SDK.
#
#   ci/install.sh [--prefix DIR] [-j N]        (default prefix: $HOME/.local)
#
# Installs what is missing (apt: clang, cmake, ninja, ...), configures the `sdk` preset
# (clang; the release allocator and every harness variant, including the ASan+UBSan
# and TSan ones), builds it in build/sdk and installs into DIR:
#   DIR/lib/liboblique*.a, DIR/include/oblique/, DIR/lib/cmake/oblique/ (find_package),
#   DIR/lib/pkgconfig/oblique*.pc, DIR/share/oblique/harness/, DIR/bin/obq-fuzz, obq-trace
# Then: find_package(oblique) with CMAKE_PREFIX_PATH=DIR, and DIR/bin on PATH.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
prefix="$HOME/.local"
jobs=$(nproc 2>/dev/null || echo 2)
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
    -j) jobs=${2:?}; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "ci/install.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
bash ci/deps.sh fuzz
mkdir -p build "$prefix"
prefix=$(cd "$prefix" && pwd)
echo "== configure + build preset sdk (build/sdk)"
cmake --preset sdk >build/sdk.log 2>&1 || { tail -n 40 build/sdk.log; exit 1; }
cmake --build --preset sdk -j "$jobs" >>build/sdk.log 2>&1 || { tail -n 60 build/sdk.log; exit 1; }
echo "== install into $prefix"
cmake --install build/sdk --prefix "$prefix" >>build/sdk.log 2>&1 || { tail -n 20 build/sdk.log; exit 1; }
echo "installed oblique $(sed -nE 's/.*OBQ_VERSION_STRING "(.*)"/\1/p' "$prefix/include/oblique/config.h") into $prefix"
echo "  CMake:      find_package(oblique) with -DCMAKE_PREFIX_PATH=$prefix"
echo "  pkg-config: PKG_CONFIG_PATH=$prefix/lib/pkgconfig (oblique, oblique-harness, ...)"
echo "  tools:      $prefix/bin/obq-fuzz, $prefix/bin/obq-trace"
