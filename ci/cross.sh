#!/usr/bin/env bash
# ci/cross.sh — cross-build oblique with Debian's cross compilers and run its ctest
# suites under qemu-user: aarch64, s390x (64-bit big-endian), i686 (32-bit) by default,
# armhf and riscv64 on request (the nightly runs all five).  Each architecture gets
# gcc, the default checked configuration (cmake/toolchains/<arch>.cmake), build tree
# build/cross-<arch>, every ctest test but those labelled `valgrind` (valgrind cannot
# run a foreign binary), then the byte-order check: every committed seed encoded by the
# host's build (x86-64) replays on the foreign build to the same steps, events, report
# rule and determinism hash, and the foreign build encodes the same seeds to the same
# bytes.
#
#   ci/cross.sh [--arch a,b,...] [-L REGEX] [--host-build DIR] [--no-byteorder] [-j N]
#
#   --arch          aarch64 s390x i686 armhf riscv64, or all (default: aarch64,s390x,i686)
#   -L REGEX        run only the tests whose labels match (ctest -L), e.g. 'unit|regress'
#   --host-build    the host build whose encoded seeds and replays are the reference
#                   (default build/default; configured and its targets built if missing)
#   --no-byteorder  skip the byte-order check
#
# Installs what it lacks (ci/deps.sh cross-<archs>), mounts binfmt_misc and registers Debian's
# qemu binfmt entries (/usr/lib/binfmt.d/qemu-<arch>.conf) when they are not yet, so
# the programs a test starts itself run under qemu too, and exports QEMU_LD_PREFIX.
# i686 programs run natively on an x86-64 host (the kernel's 32-bit mode).  Needs root
# (or sudo) for the binfmt registration.  Prints one line per architecture with its
# build and test times and counts, then `N passed, N failed`.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

archs="aarch64,s390x,i686"
labels=""
host_build="build/default"
byteorder=1
jobs=$(nproc 2>/dev/null || echo 2)
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) archs=$2; [ "$archs" = all ] && archs="aarch64,s390x,i686,armhf,riscv64"; shift 2 ;;
    -L) labels=$2; shift 2 ;;
    --host-build) host_build=$2; shift 2 ;;
    --no-byteorder) byteorder=0; shift ;;
    -j) jobs=$2; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "ci/cross.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done

bash ci/deps.sh "cross-$archs"

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

triple_of() {
  case $1 in
    aarch64) echo aarch64-linux-gnu ;;
    s390x) echo s390x-linux-gnu ;;
    i686) echo i686-linux-gnu ;;
    armhf) echo arm-linux-gnueabihf ;;
    riscv64) echo riscv64-linux-gnu ;;
    *) return 1 ;;
  esac
}
qemu_of() { # the binfmt entry's name (qemu-<name>), empty when the host runs it
  case $1 in
    aarch64) echo aarch64 ;;
    s390x) echo s390x ;;
    armhf) echo arm ;;
    riscv64) echo riscv64 ;;
    i686) case $(uname -m) in x86_64) echo "" ;; *) echo i386 ;; esac ;;
  esac
}

binfmt=/proc/sys/fs/binfmt_misc
register_binfmt() { # qemu name
  local q=$1 conf=/usr/lib/binfmt.d/qemu-$1.conf
  [ -e "$binfmt/qemu-$q" ] && return 0
  if [ ! -e "$binfmt/register" ]; then
    $SUDO mount -t binfmt_misc binfmt_misc "$binfmt" || {
      echo "ci/cross.sh: cannot mount binfmt_misc on $binfmt (a container needs --privileged)" >&2
      return 1; }
  fi
  if [ ! -r "$conf" ]; then
    echo "ci/cross.sh: no $conf (qemu-user-static installs it)" >&2; return 1
  fi
  # The F flag (in Debian's entries) opens the interpreter now: it works in chroots
  # and containers that lack it.
  $SUDO sh -c "cat '$conf' > '$binfmt/register'" || {
    echo "ci/cross.sh: cannot register $conf" >&2; return 1; }
  echo "ci/cross.sh: registered binfmt qemu-$q"
}

# The host's reference: seeds encoded by an x86-64 (host) build, replayed there.
replay_key() { # binary seed -> the lines that must not depend on the architecture
  "$1" replay "$2" 2>/dev/null |
    grep -E '^(  step |  observe |  end: |hash |events: |REPORT: )' || true
}
host_ref=""
prepare_host_ref() {
  if [ ! -f "$host_build/CMakeCache.txt" ]; then
    echo "=== [host] configure $host_build (the byte-order reference)"
    cmake --preset default >"build/cross-host.log" 2>&1 || { cat build/cross-host.log; return 1; }
  fi
  local tg; tg=$(grep -v '^#' targets/targets.list | awk 'NF { print $1 }' | tr '\n' ' ')
  echo "=== [host] build the targets and their encoded seeds ($tg)"
  # shellcheck disable=SC2086
  cmake --build "$host_build" -j "$jobs" --target $tg >>build/cross-host.log 2>&1 ||
    { tail -n 40 build/cross-host.log; return 1; }
  host_ref=build/cross-host-ref
  rm -rf "$host_ref"; mkdir -p "$host_ref"
  local n=0 t s
  for t in $tg; do
    for s in "$host_build/corpus/$t"/*; do
      [ -f "$s" ] || continue
      mkdir -p "$host_ref/$t"
      replay_key "$host_build/targets/$t" "$s" >"$host_ref/$t/$(basename "$s")"
      n=$((n + 1))
    done
  done
  echo "=== [host] $n seeds replayed as the reference"
}

byteorder_check() { # arch build-dir -> 0 if every seed replays and encodes the same
  local arch=$1 b=$2 t s name bad=0 n=0
  for t in "$host_ref"/*; do
    t=$(basename "$t")
    for s in "$host_build/corpus/$t"/*; do
      [ -f "$s" ] || continue
      name=$(basename "$s")
      n=$((n + 1))
      if ! cmp -s "$s" "$b/corpus/$t/$name"; then
        echo "  byte-order: $t/$name encodes differently on $arch (cmp $s $b/corpus/$t/$name)"
        bad=$((bad + 1))
      fi
      if ! replay_key "$b/targets/$t" "$s" | diff -q "$host_ref/$t/$name" - >/dev/null; then
        echo "  byte-order: $t/$name (encoded on the host) replays differently on $arch:"
        replay_key "$b/targets/$t" "$s" | diff "$host_ref/$t/$name" - | head -n 8 | sed 's/^/    /'
        bad=$((bad + 1))
      fi
    done
  done
  echo "=== [$arch] byte order: $n seeds encoded on the host, $bad differ"
  [ "$n" -gt 0 ] && [ "$bad" -eq 0 ]
}

total_pass=0
total_fail=0
failed=()
summary=()
start=$(date +%s)
if [ "$byteorder" = 1 ]; then
  prepare_host_ref || { echo "ci/cross.sh: no host reference"; exit 1; }
fi

IFS=, read -r -a arch_list <<<"$archs"
for arch in "${arch_list[@]}"; do
  triple=$(triple_of "$arch") || { echo "ci/cross.sh: unknown architecture '$arch'" >&2; exit 2; }
  q=$(qemu_of "$arch")
  if [ -n "$q" ]; then
    register_binfmt "$q" || { failed+=("$arch"); total_fail=$((total_fail + 1)); continue; }
  fi
  export QEMU_LD_PREFIX=/usr/$triple
  b=build/cross-$arch
  echo "=== [$arch] configure + build ($b, $triple-gcc, checked)"
  t0=$(date +%s)
  if ! { cmake -S . -B "$b" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$here/cmake/toolchains/$arch.cmake" \
           -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOBQ_CHECK=ON -DOBQ_BUILD_BENCH=OFF \
           >"$b.log" 2>&1 &&
         cmake --build "$b" -j "$jobs" >>"$b.log" 2>&1; }; then
    tail -n 60 "$b.log"; failed+=("$arch"); total_fail=$((total_fail + 1)); continue
  fi
  t1=$(date +%s)
  echo "=== [$arch] ctest under $( [ -n "$q" ] && echo "qemu-$q" || echo "the host kernel (native 32-bit)" ) -LE valgrind ${labels:+-L '$labels'}"
  out="$b/ctest.log"
  set +e
  ctest --test-dir "$b" -j "$jobs" -LE valgrind ${labels:+-L "$labels"} --output-on-failure \
    >"$out" 2>&1
  rc=$?
  set -e
  grep -E '^\s*[0-9]+/[0-9]+ Test|tests passed|FAILED|Failed|Timeout|\*\*\*' "$out" | grep -v ' Passed ' || true
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$out" | tail -n 1 || true)
  n_total=$(echo "$line" | sed -nE 's/.*out of ([0-9]+).*/\1/p')
  n_fail=$(echo "$line" | sed -nE 's/.* ([0-9]+) tests failed.*/\1/p')
  t2=$(date +%s)
  if [ -z "$n_total" ]; then
    echo "=== [$arch] ctest printed no summary (rc=$rc)"; tail -n 30 "$out"
    failed+=("$arch"); total_fail=$((total_fail + 1)); continue
  fi
  total_pass=$((total_pass + n_total - n_fail))
  total_fail=$((total_fail + n_fail))
  bo="skipped"
  if [ "$byteorder" = 1 ]; then
    if byteorder_check "$arch" "$b"; then
      bo="same"; total_pass=$((total_pass + 1))
    else
      bo="DIFFERENT"; total_fail=$((total_fail + 1)); rc=1
    fi
  fi
  t3=$(date +%s)
  s="$arch: build $((t1 - t0)) s, ctest $((t2 - t1)) s ($((n_total - n_fail))/$n_total passed), byte order $bo ($((t3 - t2)) s)"
  summary+=("$s")
  echo "=== [$s]"
  [ "$rc" -eq 0 ] || failed+=("$arch")
done

echo
for s in "${summary[@]}"; do echo "ci/cross.sh: $s"; done
echo "ci/cross.sh: architectures: ${arch_list[*]}; failed: ${failed[*]:-none}; $(( $(date +%s) - start )) s"
echo "$total_pass passed, $total_fail failed"
[ ${#failed[@]} -eq 0 ]
