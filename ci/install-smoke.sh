#!/usr/bin/env bash
# ci/install-smoke.sh PREFIX — consumers of an installed oblique:
#  - a ten-line allocator program, built with pkg-config and with find_package(oblique),
#    sees same-address reuse;
#  - a fuzz target (examples/example.c) built by hand with pkg-config, as the standalone
#    runner (oblique-harness) and the stress binary (oblique-harness-stress), replays its
#    seeds; linked with the wrong variant it fails to link, naming the variant;
#  - no installed header of the allocator speaks the harness's vocabulary.
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

here=$(cd "$(dirname "$0")/.." && pwd)
ex=$here/examples
# shellcheck disable=SC2046
cc -o "$work/example" "$ex/example.c" $(pkg-config --cflags --libs oblique-harness)
"$work/example" --selfcheck --quiet "$ex/seeds"
"$work/example" --adapter=malloc --expect-report=any --quiet "$ex/control"
echo "pkg-config oblique-harness: standalone runner replays the seeds, the malloc control reports"
# shellcheck disable=SC2046
cc -o "$work/example-stress" "$ex/example.c" $(pkg-config --cflags --libs oblique-harness-stress)
"$work/example-stress" --seconds 1 --threads 2 --seed 1 --quiet "$ex/seeds"
echo "pkg-config oblique-harness-stress: one second on 2 threads, no report"
# compiled for the deterministic variant, linked with the allocator: a link error that says so
# shellcheck disable=SC2046
if cc -o "$work/bad" "$work/reuse.c" $(pkg-config --cflags oblique-harness) \
      $(pkg-config --libs oblique) 2>"$work/bad.log"; then
  echo "install-smoke: a program compiled for the sim variant linked with liboblique" >&2; exit 1
fi
grep -q "_obq_variant_rcu3_checked1_sched1" "$work/bad.log" ||
  { echo "install-smoke: the variant mismatch did not name the variant:" >&2; cat "$work/bad.log" >&2; exit 1; }
echo "variant mismatch: link error names _obq_variant_rcu3_checked1_sched1"
if grep -rniE 'harness|fuzz|oracle|mutant|deadlock|livelock|libfuzzer|afl' \
     --exclude=harness.h --exclude=testing.h "$prefix/include/oblique"; then
  echo "install-smoke: the allocator's installed headers use the harness's vocabulary (above)" >&2; exit 1
fi
echo "installed allocator headers: no harness vocabulary"
rm -rf "$work"
