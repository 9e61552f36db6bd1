#!/usr/bin/env bash
# ci/cflite-local.sh — every ClusterFuzzLite mode, emulated without GitHub or Docker:
# the OSS-Fuzz build environment, then batch fuzzing, corpus pruning and a coverage
# report over a storage directory laid out as ClusterFuzzLite's git storage repository.
#
#   ci/cflite-local.sh [--modes build,batch,prune,coverage] [--sanitizer S] [--seconds N]
#                      [--targets a,b,...] [--storage DIR] [--corpus DIR]... [--work DIR]
#
#   --modes L       which steps, in this order (default all four):
#                   build     .clusterfuzzlite/build.sh (-> ci/oss-fuzz-build.sh) in the
#                             OSS-Fuzz environment of sanitizer S: $CC $CXX $CFLAGS
#                             $CXXFLAGS $LIB_FUZZING_ENGINE $SRC $OUT $WORK $SANITIZER
#                             $FUZZING_ENGINE $ARCHITECTURE, as base-builder's `compile`
#                             sets them (CXXFLAGS without -stdlib=libc++: no libc++ here);
#                             then each fuzzer runs its seeds once (-runs=0), the
#                             image's bad-build check in small
#                   batch     `run_fuzzers mode: batch`: every fuzzer for N seconds from
#                             the storage corpus + its seed corpus + --corpus, all cores
#                             (obq-fuzz --jobs), crashes grouped; the new corpus is
#                             written back to the storage
#                   prune     `mode: prune`: libFuzzer -merge=1 of the storage corpus
#                             into a minimal one that keeps its coverage, which replaces it
#                   coverage  `mode: coverage`: a SANITIZER=coverage build, every fuzzer
#                             over the storage corpus, llvm-cov HTML + per-directory
#                             summary in the storage's coverage/latest/
#   --sanitizer S   address (default), undefined or memory: the build batch fuzzes
#   --seconds N     batch fuzzing time per fuzzer (default 60)
#   --targets L     a subset of targets/targets.list (default: every fuzzer built)
#   --storage DIR   the storage (default <work>/storage): DIR/corpus/<fuzzer>/ and
#                   DIR/coverage/latest/, what ClusterFuzzLite keeps in its storage
#                   repository (storage-repo-branch and storage-repo-branch-coverage);
#                   the nightly checks the repository out here
#   --corpus DIR    more inputs for batch, DIR/<fuzzer>/ (e.g. the nightly libFuzzer
#                   corpus fuzz-out/corpus-cache); they reach the storage through the
#                   batch step's merge (repeatable)
#   --work DIR      everything else (default fuzz-out/cflite): out/<sanitizer>/ ($OUT),
#                   work/<sanitizer>/ ($WORK), src/oblique -> this tree ($SRC), batch/,
#                   logs
# Exit status: 0 every step passed; 1 a step failed or batch fuzzing found crashes (as
# ClusterFuzzLite fails the job); 2 usage error.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
me="ci/cflite-local.sh"
die() { echo "$me: $*" >&2; exit 2; }

modes=build,batch,prune,coverage
sanitizer=address
seconds=60
only=""
storage=""
corpora=()
work=fuzz-out/cflite
while [ $# -gt 0 ]; do
  case "$1" in
    --modes) [ $# -ge 2 ] || die "--modes needs a list"; modes=$2; shift 2 ;;
    --sanitizer) [ $# -ge 2 ] || die "--sanitizer needs a value"; sanitizer=$2; shift 2 ;;
    --seconds) [ $# -ge 2 ] || die "--seconds needs a value"; seconds=$2; shift 2 ;;
    --targets) [ $# -ge 2 ] || die "--targets needs a list"; only=$2; shift 2 ;;
    --storage) [ $# -ge 2 ] || die "--storage needs a directory"; storage=$2; shift 2 ;;
    --corpus) [ $# -ge 2 ] || die "--corpus needs a directory"; [ -d "$2" ] || die "--corpus $2: not a directory"
      corpora+=("$(cd "$2" && pwd)"); shift 2 ;;
    --work) [ $# -ge 2 ] || die "--work needs a directory"; work=$2; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
done
case "$seconds" in ''|*[!0-9]*) die "--seconds needs a whole number, got '$seconds'" ;; esac
case "$sanitizer" in address|undefined|memory) ;; *) die "--sanitizer: address, undefined or memory, not '$sanitizer'" ;; esac
IFS=, read -r -a M <<<"$modes"
for m in "${M[@]}"; do
  case "$m" in build|batch|prune|coverage) ;; *) die "unknown mode '$m' (build, batch, prune, coverage)" ;; esac
done
want() { printf '%s\n' "${M[@]}" | grep -qx "$1"; }

. ci/targets.sh
select_targets "$me" "$only"

bash ci/deps.sh fuzz || die "ci/deps.sh fuzz failed"
command -v unzip >/dev/null 2>&1 || command -v python3 >/dev/null 2>&1 || die "neither unzip nor python3"
mkdir -p "$work"
work=$(cd "$work" && pwd)
storage=${storage:-$work/storage}
mkdir -p "$storage/corpus" "$storage/coverage"
storage=$(cd "$storage" && pwd)
# $SRC/oblique is this tree, as the Dockerfile's COPY makes it.
mkdir -p "$work/src"
ln -sfn "$here" "$work/src/oblique"

# OSS-Fuzz's flags (infra/base-images/base-builder: compile and its SANITIZER_FLAGS_*).
common="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
ubsan_checks="array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unsigned-integer-overflow,unreachable,vla-bound,vptr"
ubsan_fatal="array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unreachable,vla-bound,vptr"
san_flags() {
  case "$1" in
    address) echo "-fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link" ;;
    undefined) echo "-fsanitize=$ubsan_checks -fno-sanitize-recover=$ubsan_fatal -fsanitize=fuzzer-no-link" ;;
    memory) echo "-fsanitize=memory -fsanitize-memory-track-origins -fsanitize=fuzzer-no-link" ;;
    coverage) echo "-fprofile-instr-generate -fcoverage-mapping -pthread -Wl,--no-as-needed -Wl,-ldl -Wl,-lm -Wno-unused-command-line-argument -fsanitize=fuzzer-no-link" ;;
  esac
}
# The runtime options ClusterFuzz runs fuzzers with (the ones that matter here).
export ASAN_OPTIONS=${ASAN_OPTIONS:-alloc_dealloc_mismatch=0:allocator_may_return_null=1:detect_leaks=1:detect_stack_use_after_return=1:max_uar_stack_size_log=16:strict_memcmp=0:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:print_summary=1:silence_unsigned_overflow=1:symbolize=1}

build() { # build SANITIZER: .clusterfuzzlite/build.sh in the OSS-Fuzz environment
  local s=$1 out=$work/out/$1 wk=$work/work/$1 f
  rm -rf "$out"; mkdir -p "$out" "$wk"
  echo "== build ($s): .clusterfuzzlite/build.sh, OUT=$out"
  f="$common $(san_flags "$s")"
  if ! env CC=clang CXX=clang++ CFLAGS="$f" CXXFLAGS="$f" LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
      SRC="$work/src" OUT="$out" WORK="$wk" SANITIZER="$s" FUZZING_ENGINE=libfuzzer ARCHITECTURE=x86_64 \
      bash .clusterfuzzlite/build.sh >"$work/build-$s.log" 2>&1; then
    tail -n 30 "$work/build-$s.log" >&2
    echo "$me: build ($s) FAILED (log: $work/build-$s.log)"; return 1
  fi
  local t n=0 bad=0
  for t in "${targets[@]}"; do
    [ -x "$out/$t" ] || { echo "  $t: missing from \$OUT"; bad=1; continue; }
    n=$((n + 1))
    [ "$s" = coverage ] && continue
    # The seeds run once each, clean: what base-runner's bad_build_check asks first.
    local sd=$wk/check/$t
    rm -rf "$sd"; mkdir -p "$sd"
    [ -f "$out/${t}_seed_corpus.zip" ] && unzip_to "$out/${t}_seed_corpus.zip" "$sd"
    if ! "$out/$t" -runs=0 "$sd" >"$wk/check-$t.log" 2>&1; then
      echo "  $t: its seed corpus does not run clean (see $wk/check-$t.log)"; bad=1
    fi
  done
  echo "  $n fuzzer(s) in \$OUT ($(ls "$out" | wc -l) files)$( [ "$s" != coverage ] && echo ", seeds run clean")"
  return $bad
}
unzip_to() { # <zip> <dir>
  if command -v unzip >/dev/null 2>&1; then unzip -qo "$1" -d "$2"
  else python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$1" "$2"
  fi
}

rc=0
# ---------------------------------------------------------------- build
if want build; then build "$sanitizer" || rc=1; fi
out=$work/out/$sanitizer

# ---------------------------------------------------------------- batch
if want batch; then
  echo "== batch ($sanitizer): ${#targets[@]} fuzzer(s) x ${seconds}s from the storage corpus, $(nproc) at once"
  bins=()
  for t in "${targets[@]}"; do
    [ -x "$out/$t" ] || { echo "$me: $out/$t missing (run --modes build first)"; exit 1; }
    bins+=("$out/$t")
    # The seeds, as ClusterFuzzLite unpacks <t>_seed_corpus.zip.
    rm -rf "$work/seeds/$t"; mkdir -p "$work/seeds/$t"
    [ -f "$out/${t}_seed_corpus.zip" ] && unzip_to "$out/${t}_seed_corpus.zip" "$work/seeds/$t"
  done
  seeds=(--seeds "$storage/corpus/%t" --seeds "$work/seeds/%t")
  for c in "${corpora[@]}"; do seeds+=(--seeds "$c/%t"); done
  rm -rf "$work/batch"
  jobs=$(nproc); [ "$jobs" -gt ${#bins[@]} ] && jobs=${#bins[@]}
  if bash targets/tools/obq-fuzz --quiet --seconds "$seconds" --jobs "$jobs" --out "$work/batch" \
      "${seeds[@]}" --merge-into "$storage/corpus" "${bins[@]}" >"$work/batch.log" 2>&1; then
    grep -E '^\||exec/s in total' "$work/batch.log"
  else
    cat "$work/batch.log"
    echo "$me: batch fuzzing found crashes (grouped in $work/batch/groups/)"
    rc=1
  fi
fi

# ---------------------------------------------------------------- prune
if want prune; then
  echo "== prune: libFuzzer -merge=1 of the storage corpus"
  for t in "${targets[@]}"; do
    d=$storage/corpus/$t
    [ -d "$d" ] && [ -n "$(ls -A "$d")" ] || { echo "  $t: no corpus"; continue; }
    [ -x "$out/$t" ] || { echo "$me: $out/$t missing (run --modes build first)"; exit 1; }
    p=$work/pruned/$t
    rm -rf "$p"; mkdir -p "$p"
    if "$out/$t" -merge=1 "$p" "$d" >"$work/prune-$t.log" 2>&1; then
      before=$(find "$d" -type f | wc -l); after=$(find "$p" -type f | wc -l)
      rm -rf "$d"; mv "$p" "$d"
      echo "  $t: $before -> $after input(s)"
    else
      echo "  $t: merge FAILED (see $work/prune-$t.log)"; rc=1
    fi
  done
fi

# ---------------------------------------------------------------- coverage
if want coverage; then
  build coverage || rc=1
  cout=$work/out/coverage
  prof=$work/coverage/profiles
  rm -rf "$work/coverage"; mkdir -p "$prof"
  major=$(clang --version | sed -nE 's/.*clang version ([0-9]+).*/\1/p' | head -n 1)
  tool() { local n; for n in "$1-$major" "$1"; do command -v "$n" >/dev/null 2>&1 && { echo "$n"; return; }; done; die "$1 not found"; }
  objs=()
  echo "== coverage: every fuzzer over the storage corpus"
  for t in "${targets[@]}"; do
    [ -x "$cout/$t" ] || continue
    d=$storage/corpus/$t
    [ -d "$d" ] && [ -n "$(ls -A "$d")" ] || { echo "  $t: no corpus"; continue; }
    objs+=("$cout/$t")
    # -runs=0 executes every input once (as OSS-Fuzz's coverage script does).
    LLVM_PROFILE_FILE="$prof/$t-%p.profraw" OBQ_H_WARMUP=0 "$cout/$t" -runs=0 "$d" >"$prof/$t.log" 2>&1 ||
      { echo "  $t: corpus run FAILED (see $prof/$t.log)"; rc=1; }
  done
  if [ ${#objs[@]} -gt 0 ] && ls "$prof"/*.profraw >/dev/null 2>&1; then
    "$(tool llvm-profdata)" merge -sparse "$prof"/*.profraw -o "$work/coverage/merged.profdata"
    oa=("${objs[0]}"); for o in "${objs[@]:1}"; do oa+=(-object "$o"); done
    # The sources were compiled as $SRC/oblique/... (<work>/src/oblique, the link to this
    # tree); generated files live under $WORK (<work>/work).
    work_re=$(printf '%s' "$work" | sed 's/[][\\.^$*+?(){}|]/\\&/g')
    ign="^/usr/|^$work_re/work/"
    "$(tool llvm-cov)" show -format=html -output-dir="$work/coverage/html" -ignore-filename-regex="$ign" \
      -instr-profile="$work/coverage/merged.profdata" -project-title="oblique: ClusterFuzzLite corpus" "${oa[@]}" >/dev/null
    "$(tool llvm-cov)" export -format=text -summary-only -ignore-filename-regex="$ign" \
      -instr-profile="$work/coverage/merged.profdata" "${oa[@]}" >"$work/coverage/export.json"
    python3 - "$work/coverage/export.json" "$work/src/oblique/" <<'EOF' | tee "$work/coverage/summary.txt"
import json, os, sys
files = json.load(open(sys.argv[1]))["data"][0]["files"]
dirs = {}
for f in files:
    name = f["filename"][len(sys.argv[2]):] if f["filename"].startswith(sys.argv[2]) else f["filename"]
    d = dirs.setdefault(os.path.dirname(name), [0, 0, 0, 0])
    s = f["summary"]
    d[0] += s["lines"]["covered"]; d[1] += s["lines"]["count"]
    d[2] += s["branches"]["covered"]; d[3] += s["branches"]["count"]
for d in sorted(dirs):
    l, ln, b, bn = dirs[d]
    if ln:
        print("  %-28s %5.1f %% of %5d lines   %5.1f %% of %5d branches" % (d + "/", 100.0 * l / ln, ln, 100.0 * b / bn if bn else 0, bn))
EOF
    [ -s "$work/coverage/summary.txt" ] || { echo "  no source file of the tree was measured"; rc=1; }
    rm -rf "$storage/coverage/latest"; mkdir -p "$storage/coverage/latest"
    cp -r "$work/coverage/html/." "$storage/coverage/latest/"
    cp "$work/coverage/summary.txt" "$storage/coverage/latest/summary.txt"
    echo "  HTML: $storage/coverage/latest/index.html"
  else
    echo "  no corpus to measure (run batch first)"
  fi
fi

if [ $rc = 0 ]; then echo "$me: ok — ${M[*]} passed; storage $storage"
else echo "$me: FAILED (see above; logs in $work)"; fi
exit $rc
