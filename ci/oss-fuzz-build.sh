#!/usr/bin/env bash
# ci/oss-fuzz-build.sh — the OSS-Fuzz / ClusterFuzzLite build.sh of oblique.
#
# Uses the OSS-Fuzz build environment: $CC $CFLAGS (sanitizer and coverage flags,
# -fsanitize=fuzzer-no-link), $CXX $CXXFLAGS (the link: OSS-Fuzz links fuzzers with the
# C++ compiler, since an engine such as AFL++'s driver or centipede is C++),
# $LIB_FUZZING_ENGINE (the engine's main), $SRC, $OUT, $WORK, optionally $SANITIZER.  Produces in $OUT, for every target of targets/targets.list:
#   <t>                  the fuzzer
#   <t>_seed_corpus.zip  the compiled corpus bytes (corpus/<t>/*.trace encoded) and the
#                        regressions
#   <t>.dict             corpus/<t>.dict
#   <t>.options          corpus/<t>.options, else corpus/default.options
# .clusterfuzzlite/build.sh calls it.  To try it without Docker (what the docs show):
#   SRC=$PWD/.. OUT=/tmp/out WORK=/tmp/work CC=clang CXX=clang++ \
#   CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address \
#           -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link" \
#   LIB_FUZZING_ENGINE=-fsanitize=fuzzer ci/oss-fuzz-build.sh
#   ci/oss-fuzz-build.sh --help
# (ci/cflite-local.sh sets the whole environment and runs it through
# .clusterfuzzlite/build.sh, then the ClusterFuzzLite modes.)
#
# CMake is configured with the project's own sanitizer setting off (OBQ_SANITIZE=""; the
# flags come in $CFLAGS), OBQ_FUZZ_ENGINE=libfuzzer, the libraries' own fuzzer-no-link off
# (OBQ_FUZZ_NO_LINK=OFF; $CFLAGS carries the instrumentation) and CMAKE_BUILD_TYPE=None
# (OSS-Fuzz's -O1, assertions on); the presets' coverage ignore list is applied
# (-fsanitize-coverage-ignorelist, or AFL_LLVM_DENYLIST for afl-clang-fast).  The engine:
# OBQ_LIB_FUZZING_ENGINE=$LIB_FUZZING_ENGINE (any engine: libFuzzer, AFL++'s driver,
# honggfuzz); executables link with $CXX <C flags> $CXXFLAGS (CMAKE_C_LINK_EXECUTABLE).
# Exit status: 0 built; 1 build failed; 2 usage (missing environment).
set -euo pipefail
me="ci/oss-fuzz-build.sh"
case "${1:-}" in
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
  "") ;;
  *) echo "$me: no arguments expected (the OSS-Fuzz environment drives it; try --help)" >&2; exit 2 ;;
esac
proj=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${OUT:-}" ]; then
  echo "$me: set OUT (where the fuzzers go) and the rest of the OSS-Fuzz environment (--help)" >&2
  exit 2
fi
CC=${CC:-clang}
CFLAGS=${CFLAGS:-}
# The C++ driver of the same toolchain when CXX is unset: clang -> clang++,
# afl-clang-fast -> afl-clang-fast++.
CXX=${CXX:-${CC}++}
CXXFLAGS=${CXXFLAGS:-}
LIB_FUZZING_ENGINE=${LIB_FUZZING_ENGINE:--fsanitize=fuzzer}
WORK=${WORK:-$(mktemp -d)}
SRC=${SRC:-$(dirname "$proj")}
mkdir -p "$OUT" "$WORK"
echo "$me: source $proj, CC=$CC, CXX=$CXX (link), SANITIZER=${SANITIZER:-?}, LIB_FUZZING_ENGINE=$LIB_FUZZING_ENGINE, OUT=$OUT"

engine_opt=(-DOBQ_LIB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE")
command -v "$CXX" >/dev/null 2>&1 || { echo "$me: CXX=$CXX not found (OSS-Fuzz links with the C++ compiler)" >&2; exit 2; }
# The project's instrumentation choices, which CFLAGS (applied to every file) would
# undo: coroutine stacks make stack-depth coverage noisy (fuzzer-no-link enables it on
# Linux); code that runs the same in every input — cmake/fuzz-lib-coverage-ignore.txt
# and the harness runtime except feedback.c — is left out of coverage, as the fuzz and
# afl presets do (cmake/ObqFlags.cmake).  OBQ_COVERAGE_ALL=1 instruments everything.
ignore=$WORK/oblique-coverage-ignore.txt
{
  cat "$proj/cmake/fuzz-lib-coverage-ignore.txt" 2>/dev/null || true
  echo "# harness runtime (not feedback.c)"
  for f in det.c det_print.c policy_tape.c policy_pct.c policy_preempt.c api.c coro.c program.c adapter.c adapter_leaky.c contract.c runner.c engine.c dict.c stress.c; do echo "src:*/targets/harness/$f"; done
} >"$ignore"
case "$CFLAGS" in *fuzzer-no-link*)
  CFLAGS="$CFLAGS -fno-sanitize-coverage=stack-depth"
  [ "${OBQ_COVERAGE_ALL:-0}" = 1 ] || CFLAGS="$CFLAGS -fsanitize-coverage-ignorelist=$ignore" ;;
esac
case "$(basename "$CC")" in afl-clang*|afl-cc*)
  # AFL++ matches `src:` entries as suffixes of the tree-relative file name, and only
  # when the name is at least as long: "src:*/alloc/src/os.c" never matches
  # "alloc/src/os.c"; drop the "*/" (as cmake/ObqFlags.cmake does).
  sed 's|^src:\*/|src:|' "$ignore" >"$ignore.afl"
  [ "${OBQ_COVERAGE_ALL:-0}" = 1 ] || export AFL_LLVM_DENYLIST=$ignore.afl ;;
esac

gen=(-G "Unix Makefiles")
command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)
bdir=$WORK/oblique-build
cmake -S "$proj" -B "$bdir" "${gen[@]}" \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_BUILD_TYPE=None \
  -DCMAKE_C_LINK_EXECUTABLE="$CXX <FLAGS> $CXXFLAGS <CMAKE_C_LINK_FLAGS> <LINK_FLAGS> <OBJECTS> -o <TARGET> <LINK_LIBRARIES>" \
  -DOBQ_SANITIZE="" -DOBQ_FUZZ_ENGINE=libfuzzer -DOBQ_FUZZ_NO_LINK=OFF -DOBQ_CHECK=ON \
  -DOBQ_BUILD_TESTS=OFF -DOBQ_BUILD_BENCH=OFF -DOBQ_WERROR=OFF "${engine_opt[@]}"

mapfile -t targets < <(grep -E '^[a-z0-9_]+$' "$proj/targets/targets.list")
built=()
for t in "${targets[@]}"; do
  [ -f "$proj/targets/$t.c" ] || { echo "$me: targets/$t.c does not exist yet: skipped" >&2; continue; }
  built+=("$t")
done
[ ${#built[@]} -gt 0 ] || { echo "$me: no target to build" >&2; exit 1; }
cmake --build "$bdir" -j "$(nproc)" --target "${built[@]}"

# Seeds: the corpus compiled by the fuzzers themselves (`<t> encode`, its commands work
# under libFuzzer).  A build whose binaries cannot run here still ships the fuzzers.
export LLVM_PROFILE_FILE=/dev/null ASAN_OPTIONS=detect_leaks=0 MSAN_OPTIONS=
corpus_ok=1
corpus_targets=()
for t in "${built[@]}"; do corpus_targets+=("${t}_corpus"); done
cmake --build "$bdir" -j "$(nproc)" --target "${corpus_targets[@]}" || corpus_ok=0

zipdir() { # <zip> <dir>: the files of dir, flat
  if command -v zip >/dev/null 2>&1; then
    (cd "$2" && zip -q -j "$1" ./*)
  else
    python3 - "$1" "$2" <<'EOF'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for n in sorted(os.listdir(sys.argv[2])):
        p = os.path.join(sys.argv[2], n)
        if os.path.isfile(p):
            z.write(p, n)
EOF
  fi
}

for t in "${built[@]}"; do
  cp "$bdir/targets/$t" "$OUT/$t"
  seeds=$WORK/seeds/$t
  rm -rf "$seeds"; mkdir -p "$seeds"
  [ $corpus_ok = 1 ] && [ -d "$bdir/corpus/$t" ] && cp "$bdir/corpus/$t"/* "$seeds"/ 2>/dev/null || true
  for r in "$proj/corpus/regressions/$t"/* "$proj/corpus/$t/bytes"/*; do
    [ -f "$r" ] || continue
    case "$r" in
      *.trace) "$OUT/$t" encode "$r" -o "$seeds/regression-$(basename "$r" .trace)" >/dev/null 2>&1 || true ;;
      *.md|*.txt|*/RULE) ;;
      *) cp "$r" "$seeds/$(basename "$(dirname "$r")")-$(basename "$r")" ;;
    esac
  done
  rm -f "$OUT/${t}_seed_corpus.zip"
  if [ -n "$(ls -A "$seeds")" ]; then
    zipdir "$OUT/${t}_seed_corpus.zip" "$seeds"
  else
    echo "$me: warning: no seed corpus for $t" >&2
  fi
  [ -f "$proj/corpus/$t.dict" ] && cp "$proj/corpus/$t.dict" "$OUT/$t.dict"
  opt=$proj/corpus/$t.options   # a target's own options replace the default
  [ -f "$opt" ] || opt=$proj/corpus/default.options
  [ -f "$opt" ] && cp "$opt" "$OUT/$t.options"
done
echo "$me: built ${#built[@]} fuzzer(s) into $OUT:"
(cd "$OUT" && ls -l | sed 1d | awk '{ printf "  %-32s %10s bytes\n", $9, $5 }')
