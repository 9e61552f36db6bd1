#!/usr/bin/env bash
# ci/test.sh — THE test command (README; .ci/run calls it).
#
# Installs what is missing (apt), then configures, builds and runs every ctest suite in
# four configurations: gcc default (checked), clang ASan+UBSan, clang TSan, and the
# liburcu backend; then the install stage: the README's install and SDK commands run as
# printed with a private HOME (ci/readme-commands.sh: install, build examples/protocol
# against it, fuzz it, replay the crash), consumers of the installed allocator and harness through
# pkg-config and find_package (ci/install-smoke.sh), and the examples/ projects built
# against it outside the tree and fuzzed until their planted bugs, with their
# weak-memory builds (libFuzzer and pkg-config: examples/weak-publish) (ci/sdk-examples.sh);
# then the portability stage: the macOS and FreeBSD branches type-checked
# (ci/os-syntax.sh) and the reduced cross run (ci/cross.sh --arch s390x,i686: s390x
# under qemu-user with the byte-order check against build/default's seeds, i686
# natively; aarch64, armhf and riscv64 are the nightly's, docs/portability.md).
#
#   ci/test.sh [--only CONFIG[,CONFIG...]] [--keep] [-j N]
# CONFIG: default asan tsan urcu valgrind install portability (valgrind: the `valgrind`
# preset, every target's corpus under memcheck, ctest label valgrind).
# Build trees go to build/<config> (portability: build/os-syntax, build/cross-<arch>).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

only="default,asan,tsan,urcu,valgrind,install,portability"
jobs=$(nproc 2>/dev/null || echo 2)
while [ $# -gt 0 ]; do
  case "$1" in
    --only) only=$2; shift 2 ;;
    -j) jobs=$2; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "ci/test.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done

bash ci/deps.sh test

total_pass=0
total_fail=0
failed_cfgs=()
start=$(date +%s)

run_config() {
  local cfg=$1
  echo "=== [$cfg] configure + build"
  local t0; t0=$(date +%s)
  # the default configuration also builds the seeded-bug mutants and runs their smoke
  # (ctest label "mutants", under a second: docs/mutants.md)
  local extra=""
  [ "$cfg" = default ] && extra="-DOBQ_MUTANTS=ON"
  mkdir -p build; cmake --preset "$cfg" $extra >"build/$cfg.log" 2>&1 || { cat "build/$cfg.log"; return 1; }
  cmake --build --preset "$cfg" -j "$jobs" >>"build/$cfg.log" 2>&1 || { tail -n 80 "build/$cfg.log"; return 1; }
  echo "=== [$cfg] ctest"
  local out="build/$cfg/ctest.log"
  set +e
  ctest --preset "$cfg" -j "$jobs" 2>&1 | tee "$out"
  local rc=${PIPESTATUS[0]}
  set -e
  local line; line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$out" | tail -n 1 || true)
  local n_total n_fail
  n_total=$(echo "$line" | sed -nE 's/.*out of ([0-9]+).*/\1/p')
  n_fail=$(echo "$line" | sed -nE 's/.* ([0-9]+) tests failed.*/\1/p')
  if [ -z "$n_total" ]; then
    echo "=== [$cfg] ctest printed no summary (rc=$rc)"
    total_fail=$((total_fail + 1)); return 1
  fi
  total_pass=$((total_pass + n_total - n_fail))
  total_fail=$((total_fail + n_fail))
  echo "=== [$cfg] $((n_total - n_fail)) passed, $n_fail failed ($(( $(date +%s) - t0 )) s)"
  [ "$rc" -eq 0 ]
}

install_smoke() {
  echo "=== [install] the README's install and SDK commands, as printed, with a private HOME"
  local out home
  out=$(mktemp)
  bash ci/readme-commands.sh | tee "$out" || { rm -f "$out"; return 1; }
  home=$(tail -n 1 "$out"); rm -f "$out"
  local prefix=$home/.local   # what the README's install line installed
  echo "=== [install] consumers: pkg-config and find_package (allocator, harness)"
  bash ci/install-smoke.sh "$prefix" || return 1
  echo "=== [install] examples/ projects built outside the tree, fuzzed until their planted bugs; weak-memory builds"
  bash ci/sdk-examples.sh "$prefix" || return 1
  rm -rf "$home"
}

# A script's closing "N passed, N failed" line added to the totals; 1 if it failed.
tally() { # log
  local line; line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n 1 || true)
  [ -n "$line" ] || { total_fail=$((total_fail + 1)); return 1; }
  total_pass=$((total_pass + ${line%% passed*}))
  local f=${line#*, }; total_fail=$((total_fail + ${f%% failed*}))
  [ "${f%% failed*}" -eq 0 ]
}

portability() {
  local t0 rc=0 log; t0=$(date +%s)
  log=$(mktemp)
  echo "=== [portability] macOS and FreeBSD branches type-checked (ci/os-syntax.sh)"
  bash ci/os-syntax.sh 2>&1 | tee "$log" || rc=1
  tally "$log" || rc=1
  echo "=== [portability] cross: s390x under qemu-user + byte order, i686 (ci/cross.sh)"
  bash ci/cross.sh --arch s390x,i686 --host-build build/default -j "$jobs" 2>&1 | tee "$log" || rc=1
  tally "$log" || rc=1
  rm -f "$log"
  echo "=== [portability] $(( $(date +%s) - t0 )) s"
  return $rc
}

IFS=, read -r -a cfgs <<<"$only"
for cfg in "${cfgs[@]}"; do
  case "$cfg" in
    install)
      if install_smoke; then total_pass=$((total_pass + 2)); else total_fail=$((total_fail + 1)); failed_cfgs+=(install); fi ;;
    portability)
      portability || failed_cfgs+=(portability) ;;
    default|asan|tsan|urcu|debug|release|valgrind)
      run_config "$cfg" || failed_cfgs+=("$cfg") ;;
    *) echo "ci/test.sh: unknown configuration '$cfg'" >&2; exit 2 ;;
  esac
done

echo
echo "ci/test.sh: configurations: ${cfgs[*]}; failed: ${failed_cfgs[*]:-none}; $(( $(date +%s) - start )) s"
echo "$total_pass passed, $total_fail failed"
[ ${#failed_cfgs[@]} -eq 0 ]
