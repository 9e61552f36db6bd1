# oblique_build_flags: an INTERFACE target every oblique target links, so warnings and
# the one sanitizer setting (OBQ_SANITIZE) apply per target, never via CMAKE_C_FLAGS.
add_library(oblique_build_flags INTERFACE)
target_compile_options(oblique_build_flags INTERFACE
  -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -fno-strict-aliasing
  $<$<BOOL:${OBQ_WERROR}>:-Werror>)
# 64-bit file offsets and inode numbers on 32-bit glibc targets too (no effect on 64-bit
# ones): without them readdir() fails with EOVERFLOW on a file system whose directory
# offsets need 64 bits, as a 32-bit ARM program under qemu-user sees the host's ext4
# (the standalone runner then found no seeds: docs/portability.md).
target_compile_definitions(oblique_build_flags INTERFACE _FILE_OFFSET_BITS=64)
if(OBQ_SANITIZE)
  string(REPLACE ";" "," _obq_san "${OBQ_SANITIZE}")
  target_compile_options(oblique_build_flags INTERFACE
    -fsanitize=${_obq_san} -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(oblique_build_flags INTERFACE -fsanitize=${_obq_san})
endif()
if(OBQ_COVERAGE)
  target_compile_options(oblique_build_flags INTERFACE -fprofile-instr-generate -fcoverage-mapping)
  target_link_options(oblique_build_flags INTERFACE -fprofile-instr-generate)
endif()
# Libraries under a libFuzzer build get edge coverage without the fuzzer's main.
# Coroutine stacks make stack-depth coverage noisy: keep it off.
# Comparison tracing (trace-cmp) is off for the libraries: their comparisons are of
# pointers, slot states and counters, never of input bytes, so they only flood
# libFuzzer's table of compared values (which guides mutations) and cost about a sixth
# of a harness run.  The targets keep it (their comparisons do involve the input).
# Code that runs identically in every harness run (set-up, cache create/destroy, the os
# layer, the checker's bookkeeping) is left out of edge coverage too: libFuzzer pays
# for every edge a run hits.  The list is cmake/fuzz-lib-coverage-ignore.txt.
option(OBQ_FUZZ_LIB_TRACE_CMP "libFuzzer builds: trace comparisons in the libraries too" OFF)
option(OBQ_FUZZ_LIB_COVERAGE_ALL "libFuzzer builds: no coverage ignore list for the libraries" OFF)
set(_obq_cov_ignore ${CMAKE_CURRENT_LIST_DIR}/fuzz-lib-coverage-ignore.txt)
# The options, as a list: oblique_fuzz_lib_flags below and the SDK's libFuzzer-covered
# variants (obq_add_library FUZZ_COVERAGE) use the same ones.
set(OBQ_FUZZ_NO_LINK_OPTIONS -fsanitize=fuzzer-no-link)
if(NOT OBQ_FUZZ_LIB_TRACE_CMP)
  list(APPEND OBQ_FUZZ_NO_LINK_OPTIONS -fno-sanitize-coverage=trace-cmp)
endif()
if(NOT OBQ_FUZZ_LIB_COVERAGE_ALL)
  list(APPEND OBQ_FUZZ_NO_LINK_OPTIONS -fsanitize-coverage-ignorelist=${_obq_cov_ignore})
endif()
add_library(oblique_fuzz_lib_flags INTERFACE)
if(OBQ_FUZZ_ENGINE STREQUAL "libfuzzer" AND OBQ_FUZZ_NO_LINK)
  target_compile_options(oblique_fuzz_lib_flags INTERFACE ${OBQ_FUZZ_NO_LINK_OPTIONS})
endif()

# Whose edges a libFuzzer target sees.  libFuzzer's cost per execution grows with the
# edges a run hits (each is a feature it looks up, counts and compares: docs/
# benchmarks.md, "Whose edges count").  For a protocol target the allocator, the
# checker and the sim RCU engine are machinery — most of the edges its runs hit, the
# same few paths whatever the input — while what steers the search is
# the target's own code, its comparisons and the interleaving events.  So in a
# libFuzzer build the deterministic library comes twice: oblique_sim without coverage,
# which every target links, and oblique_sim_cov with it (the ignore list above), which
# the targets named here link: those whose subject is the allocator itself.
# AFL++ builds keep one covered library: AFL++ pays for its whole map on every run,
# not per edge hit, so there the split would buy nothing.
set(OBQ_FUZZ_LIB_SUBJECTS "slab_api" CACHE STRING
    "libFuzzer builds: the fuzz targets whose subject is the allocator (they link a library variant with edge coverage)")
set(OBQ_FUZZ_LIB_SPLIT OFF)
if(OBQ_FUZZ_ENGINE STREQUAL "libfuzzer" AND OBQ_FUZZ_NO_LINK)
  set(OBQ_FUZZ_LIB_SPLIT ON)
endif()

# AFL++ (afl-clang-fast instruments every file it compiles): the same ignore list, plus
# the harness runtime except feedback.c (its switch is how AFL++ sees interleaving
# events), through AFL_LLVM_DENYLIST at compile time — as in libFuzzer builds, where
# the scheduler is not instrumented either (cmake/ObqHarness.cmake).  Not for stability:
# with OBQ_FUZZ_LIB_COVERAGE_ALL=ON (everything instrumented) the only edges that differ
# between runs of one input are the persistent loop's first iteration (afl_main.c), the
# region cache's canonicalising sort, the checker's stack depot and the fork handlers
# (run by the fork server, see the ignore list) (ci/afl-stability.sh, docs/campaigns.md).
if(OBQ_FUZZ_ENGINE STREQUAL "afl" AND NOT OBQ_FUZZ_LIB_COVERAGE_ALL
   AND NOT CMAKE_C_COMPILER_LAUNCHER)
  file(READ ${_obq_cov_ignore} _obq_deny)
  string(APPEND _obq_deny "# harness runtime (not feedback.c)\n"
    "src:*/targets/harness/det.c\n" "src:*/targets/harness/det_print.c\n"
    "src:*/targets/harness/policy_tape.c\n" "src:*/targets/harness/policy_pct.c\n"
    "src:*/targets/harness/policy_preempt.c\n" "src:*/targets/harness/api.c\n"
    "src:*/targets/harness/coro.c\n"
    "src:*/targets/harness/program.c\n" "src:*/targets/harness/adapter.c\n"
    "src:*/targets/harness/adapter_leaky.c\n" "src:*/targets/harness/contract.c\n"
    "src:*/targets/harness/runner.c\n" "src:*/targets/harness/engine.c\n"
    "src:*/targets/harness/dict.c\n"
    "src:*/targets/harness/afl_main.c\n"
    "src:*/targets/harness/stress.c\n")
  # AFL++ matches a `src:` entry as a suffix ("*" + entry) of the file name in the
  # function's debug location, and only when that name is at least as long as the
  # entry.  clang records it relative to the source tree ("alloc/src/os.c"), so
  # "*/alloc/src/os.c" (one character longer) never matched and those files stayed
  # instrumented.  Drop the leading "*/": "alloc/src/os.c" matches both that name and
  # an absolute one.
  string(REPLACE "src:*/" "src:" _obq_deny "${_obq_deny}")
  file(WRITE ${CMAKE_BINARY_DIR}/afl-denylist.txt "${_obq_deny}")
  set(CMAKE_C_COMPILER_LAUNCHER ${CMAKE_COMMAND} -E env
      AFL_LLVM_DENYLIST=${CMAKE_BINARY_DIR}/afl-denylist.txt)
endif()
