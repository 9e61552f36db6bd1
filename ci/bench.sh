#!/usr/bin/env bash
# ci/bench.sh — THE benchmark command (README): oblique beside glibc malloc, jemalloc,
# mimalloc, a trivial free list, liburcu (memb, qsbr) and ck_epoch, in one run.
#
# Installs the peers' Debian packages when missing (ci/deps.sh bench), builds a Release
# tree with the unchecked library (build/bench) plus the checked variant, runs every
# program round-robin for several repetitions (alloc/bench/run.py), prints the Markdown
# table and writes docs/bench/results.{json,md} and docs/bench/ratios.png.
#
#   ci/bench.sh [--quick] [--reps N] [--no-fuzz] [--fuzz-seconds S] [--families LIST]
#               [-j N] [--out DIR]
#
# --quick: about a minute once built (3 repetitions, shorter loops, no checked
#          instruction counts, one scale pass; harness speed: 1 s per target, libFuzzer
#          without ASan only, beside the trivial targets).
# --families: a subset of alloc,rcu,checked,instr,scale,gpmem,fuzz (default: all).
# The harness-speed section times the libFuzzer targets of the `fuzz` preset
# (build/fuzz, ASan), a no-ASan libFuzzer build (build/bench-fuzz) and the AFL++
# persistent build (build/afl) beside trivial targets (alloc/bench/trivial_fuzz.c,
# trivial_afl.c); each part is skipped with a note when it does not build.
# OBQ_BENCH_BUILD_ROOT=DIR puts the build trees under DIR instead of build/.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

quick=""
reps=""
fuzz=1
fuzz_seconds=""
families="alloc,rcu,checked,instr,scale,gpmem,fuzz"
jobs=2
out="docs/bench"
cmdline="ci/bench.sh${*:+ $*}"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=--quick; shift ;;
    --reps) reps=$2; shift 2 ;;
    --no-fuzz) fuzz=0; shift ;;
    --fuzz-seconds) fuzz_seconds=$2; shift 2 ;;
    --families) families=$2; shift 2 ;;
    -j) jobs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "ci/bench.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done

bash ci/deps.sh bench
case ",$families," in *,fuzz,*) ;; *) fuzz=0 ;; esac

notes=()
broot=${OBQ_BENCH_BUILD_ROOT:-build}   # where the build trees go (default: build/)
build=$broot/bench
mkdir -p "$broot"
echo "=== configure + build $build (gcc, Release, OBQ_CHECK=OFF)"
if cmake -S . -B "$build" -G Ninja -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Release \
     -DOBQ_CHECK=OFF -DOBQ_BUILD_TESTS=OFF -DOBQ_BUILD_TARGETS=OFF -DOBQ_BUILD_BENCH=ON \
     -DOBQ_BENCH_REQUIRE_PEERS=ON >"$build.log" 2>&1 &&
   cmake --build "$build" -j "$jobs" --target obq_bench >>"$build.log" 2>&1; then
  # The checked variant is optional (it needs the checker); a stale binary must not be used.
  if ! cmake --build "$build" -j "$jobs" --target obq_bench_checked >>"$build.log" 2>&1; then
    rm -f "$build/alloc/bench/obq_bench_checked"
    notes+=("obq_bench_checked did not build (see $build.log): cost of checking not measured")
  fi
else
  tail -n 30 "$build.log" >&2
  echo "=== liboblique does not build yet: falling back to the peers-only build (build/bench-peers)"
  notes+=("liboblique did not build: peers only")
  build=$broot/bench-peers
  cmake -S alloc/bench -B "$build" -G Ninja -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Release \
    -DOBQ_BENCH_REQUIRE_PEERS=ON >"$build.log" 2>&1 || { cat "$build.log"; exit 1; }
  cmake --build "$build" -j "$jobs" >>"$build.log" 2>&1 || { tail -n 40 "$build.log"; exit 1; }
fi

# ---------------------------------------------------------------------------------
# Harness speed (issues 4/7 share it): libFuzzer exec/s of every target, with ASan
# (the `fuzz` preset's tree) and without (build/bench-fuzz), beside a trivial target.
fuzz_args=()
if [ "$fuzz" = 1 ] && command -v clang >/dev/null 2>&1; then
  fz=$broot/bench/fuzzspeed
  mkdir -p "$fz"
  if clang -O2 -fsanitize=fuzzer alloc/bench/trivial_fuzz.c -o "$fz/trivial_fuzz" 2>"$fz/build.log" &&
     clang -O2 -g -fsanitize=fuzzer,address alloc/bench/trivial_fuzz.c -o "$fz/trivial_fuzz_asan" 2>>"$fz/build.log"; then
    fuzz_args+=(--fuzz "trivial=$fz/trivial_fuzz" --fuzz "trivial=$fz/trivial_fuzz_asan:asan")
  else
    notes+=("clang -fsanitize=fuzzer failed (libclang-rt-14-dev?): no harness figures")
  fi
  targets=()
  if [ -f targets/targets.list ]; then
    while read -r t; do
      case "$t" in ''|\#*) ;; *) [ -f "targets/$t.c" ] && targets+=("$t") ;; esac
    done < targets/targets.list
  fi
  have_afl=0
  bash ci/deps.sh afl >/dev/null 2>&1 || true
  if command -v afl-clang-fast >/dev/null 2>&1 && command -v afl-fuzz >/dev/null 2>&1; then
    if AFL_QUIET=1 afl-clang-fast -O2 alloc/bench/trivial_afl.c -o "$fz/trivial_afl" 2>>"$fz/build.log"; then
      have_afl=1
      fuzz_args+=(--fuzz "trivial=$fz/trivial_afl:afl")
    else
      notes+=("afl-clang-fast failed: no AFL++ figures")
    fi
  else
    notes+=("AFL++ not installed (bash ci/deps.sh afl): no AFL++ figures")
  fi
  if [ ${#targets[@]} -eq 0 ]; then
    notes+=("no fuzz targets yet (targets/targets.list): only the trivial target timed")
  else
    # ASan: the `fuzz` preset's tree (same settings), built here if it is not there yet.
    asan_dir=$broot/fuzz
    if [ -z "$quick" ]; then
      echo "=== building the fuzz targets with ASan ($asan_dir, the fuzz preset's settings)"
      if [ -f "$asan_dir/CMakeCache.txt" ]; then cfg=(); else
        cfg=(-G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOBQ_CHECK=ON
             "-DOBQ_SANITIZE=address;undefined" -DOBQ_FUZZ_ENGINE=libfuzzer -DOBQ_BUILD_BENCH=OFF); fi
      { cmake -S . -B "$asan_dir" "${cfg[@]+"${cfg[@]}"}" >"$broot/bench-fuzz-asan.log" 2>&1 &&
        cmake --build "$asan_dir" -j "$jobs" -- -k 0 "${targets[@]/#/targets/}" \
          $(printf 'targets/%s-weak ' "${targets[@]}") >>"$broot/bench-fuzz-asan.log" 2>&1; } ||
        notes+=("the ASan fuzz build failed ($broot/bench-fuzz-asan.log): no ASan target figures")
    fi
    # No ASan: libFuzzer + the checked sim library, nothing else.
    plain_dir=$broot/bench-fuzz
    echo "=== building the fuzz targets without ASan ($plain_dir)"
    { cmake -S . -B "$plain_dir" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DOBQ_CHECK=ON -DOBQ_SANITIZE= -DOBQ_FUZZ_ENGINE=libfuzzer -DOBQ_BUILD_TESTS=OFF \
        -DOBQ_BUILD_BENCH=OFF >"$broot/bench-fuzz.log" 2>&1 &&
      cmake --build "$plain_dir" -j "$jobs" -- -k 0 "${targets[@]/#/targets/}" >>"$broot/bench-fuzz.log" 2>&1; } ||
      notes+=("the no-ASan fuzz build failed ($broot/bench-fuzz.log): no plain target figures")
    # AFL++ persistent mode: the afl preset's settings.
    afl_dir=$broot/afl
    if [ "$have_afl" = 1 ] && [ -z "$quick" ]; then
      echo "=== building the fuzz targets for AFL++ ($afl_dir)"
      { AFL_QUIET=1 cmake -S . -B "$afl_dir" -G Ninja -DCMAKE_C_COMPILER=afl-clang-fast \
          -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOBQ_CHECK=ON -DOBQ_FUZZ_ENGINE=afl -DOBQ_BUILD_TESTS=OFF \
          -DOBQ_BUILD_BENCH=OFF >"$broot/bench-afl.log" 2>&1 &&
        AFL_QUIET=1 cmake --build "$afl_dir" -j "$jobs" -- -k 0 "${targets[@]/#/targets/}" >>"$broot/bench-afl.log" 2>&1; } ||
        notes+=("the AFL++ build failed ($broot/bench-afl.log): no AFL++ target figures")
    fi
    for t in "${targets[@]}"; do
      extra=""
      [ -d "corpus/$t" ] && extra+=":corpus=corpus/$t"
      [ -f "corpus/$t.dict" ] && extra+=":dict=corpus/$t.dict"
      [ -x "$plain_dir/targets/$t" ] && fuzz_args+=(--fuzz "$t=$plain_dir/targets/$t$extra")
      [ -z "$quick" ] && [ -x "$asan_dir/targets/$t" ] && fuzz_args+=(--fuzz "$t=$asan_dir/targets/$t:asan$extra")
      # the weak-memory build (its libraries ASan too), to compare with the row above
      [ -z "$quick" ] && [ -x "$asan_dir/targets/$t-weak" ] && fuzz_args+=(--fuzz "$t=$asan_dir/targets/$t-weak:asan:weak$extra")
      [ -z "$quick" ] && [ "$have_afl" = 1 ] && [ -x "$afl_dir/targets/$t" ] && fuzz_args+=(--fuzz "$t=$afl_dir/targets/$t:afl$extra")
    done
  fi
elif [ "$fuzz" = 1 ]; then
  notes+=("clang not installed: no harness figures")
fi

# ---------------------------------------------------------------------------------
echo "=== running (figures are noisy on a shared machine: ratios come from the same run)"
args=(--build "$build" --out "$out" --command "$cmdline" --artifacts "$broot/bench/fuzz-artifacts")
[ -n "$quick" ] && args+=("$quick")
[ -n "$reps" ] && args+=(--reps "$reps")
[ -n "$fuzz_seconds" ] && args+=(--fuzz-seconds "$fuzz_seconds")
args+=(--families "$families")
for n in "${notes[@]+"${notes[@]}"}"; do args+=(--note "$n"); done
python3 alloc/bench/run.py "${args[@]}" "${fuzz_args[@]+"${fuzz_args[@]}"}"
echo "=== wrote $out/results.md, $out/results.json, $out/ratios.png"
