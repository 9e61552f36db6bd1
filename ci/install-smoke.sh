#!/usr/bin/env bash
# ci/install-smoke.sh PREFIX — build a ten-line consumer of an installed oblique twice,
# with pkg-config and with find_package(oblique), and check it sees same-address reuse.
set -euo pipefail
prefix=${1:?usage: ci/install-smoke.sh PREFIX}
work=$(mktemp -d)
cat >"$work/reuse.c" <<'C'
#include <oblique/oblique.h>
#include <stdio.h>
int main(void) {
	obq_cache_t *c = obq_cache_create("smoke", 64, 0, OBQ_TYPESAFE_BY_RCU, NULL);
	void *a = obq_cache_alloc(c);
	obq_cache_free(c, a);
	void *b = obq_cache_alloc(c);
	printf("%s\n", a == b ? "same-address reuse" : "different address");
	obq_cache_free(c, b);
	return obq_cache_destroy(c) != 0 || a != b;
}
C
libdir=$(ls -d "$prefix"/lib*/pkgconfig | head -n 1)
export PKG_CONFIG_PATH="$libdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
# shellcheck disable=SC2046
cc -o "$work/reuse-pc" "$work/reuse.c" $(pkg-config --cflags --libs oblique)
echo "pkg-config consumer: $("$work/reuse-pc")"
mkdir -p "$work/cm"
cat >"$work/cm/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(reuse C)
find_package(oblique REQUIRED)
add_executable(reuse ../reuse.c)
target_link_libraries(reuse PRIVATE oblique::oblique)
CM
cmake -S "$work/cm" -B "$work/cm/b" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cm/b" >/dev/null
echo "find_package consumer: $("$work/cm/b/reuse")"
rm -rf "$work"
