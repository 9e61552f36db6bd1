# obliqueFuzz.cmake — oblique_add_fuzz_target(): every binary of a fuzz target from one
# source.  Installed with the package (find_package(oblique) includes it) and used by
# oblique's own targets and mutants, so there is one code path in-tree and out.
#
#   oblique_add_fuzz_target(NAME <name> SOURCES <file>...
#       [CORPUS <dir>...]        seeds: *.trace files are compiled to bytes, other
#                                regular files are copied as they are
#       [CONTROL <dir>]          traces that must report under the malloc adapter (the
#                                non-type-stable control); the rule is CONTROL_RULE or
#                                the first line of <dir>/RULE ("any" matches any rule)
#       [CONTROL_RULE <rule>]
#       [DICT <file>] [OPTIONS <file>]   libFuzzer dictionary and .options (copied
#                                beside the binaries as <name>.dict / <name>.options)
#       [LINK_LIBRARIES <lib>...] [INCLUDE_DIRECTORIES <dir>...]
#       [COMPILE_DEFINITIONS <def>...]   for the target's sources, in every binary
#       [ENGINE auto|none|libfuzzer|afl] (default: ${OBLIQUE_FUZZ_ENGINE}, else auto)
#       [HARNESS <lib>] [STRESS_HARNESS <lib>]   (default: oblique::harness /
#                                oblique::harness_stress; the mutants build passes its own)
#       [CORPUS_OUTPUT <dir>]    where compiled seeds go (default <bindir>/<name>.corpus)
#       [ADAPTER <name>]         the allocator adapter the tests run over (OBQ_ADAPTER)
#       [STRESS_EXPECT_REPORT <rule>]  the stress test (up to 10 s: it ends at the first
#                                report) passes only if it reports <rule>
#                                (a target with a known bug that stress mode meets at once;
#                                NO_STRESS_TEST: no stress ctest, the binary is still built)
#       [NO_STRESS] [NO_STRESS_TEST] [NO_TESTS])
#
# Binaries (in the current binary directory):
#   <name>               the deterministic binary.  ENGINE auto: the standalone runner
#                        (replay files or directories, decode, encode, replay,
#                        minimize, roundtrip), or — when the compiler is afl-clang-fast /
#                        afl-clang-lto — the AFL++ persistent-mode binary, which is the
#                        same runner when given arguments.  ENGINE libfuzzer: the
#                        libFuzzer binary (it also takes the runner's commands).
#   <name>-libfuzzer     ENGINE auto with clang: libFuzzer with ASan+UBSan (linking
#                        oblique::harness_asan when the package has it)
#   <name>-stress        stress mode on real threads (unless NO_STRESS)
#   <name>-stress-tsan   with clang, when the package has oblique::harness_stress_tsan
#   <name>-weak          the weak-memory build (WEAK_HARNESS, else oblique_harness_weak
#                        in oblique's own tree, else the package's oblique::harness_weak,
#                        or with ENGINE libfuzzer oblique::harness_weak_asan): the
#                        sources compiled with -fsanitize=thread (clang or gcc) and
#                        linked against the harness's own __tsan_* runtime, never libtsan
#                        (docs/weak-memory.md); with ENGINE libfuzzer a libFuzzer binary
#                        (installed: over the ASan+UBSan libraries of a clang build with
#                        OBQ_SDK_VARIANTS; a package without them builds none, saying
#                        so), else the standalone runner
# and <name>.corpus/ (compiled seeds), <name>.dict, <name>.options beside them, where
# obq-fuzz finds them.
#
# Tests (with enable_testing() or include(CTest), unless NO_TESTS or BUILD_TESTING is off): <name>-replay (every seed runs
# without a report), <name>-selfcheck (twice, same hash), <name>-roundtrip (traces
# decode/encode to themselves), <name>-control and <name>-minimize (with CONTROL),
# <name>-stress (one second on 3 threads).
#
# Variables: OBLIQUE_FUZZ_ENGINE (default engine), OBLIQUE_LIB_FUZZING_ENGINE
# (OSS-Fuzz's $LIB_FUZZING_ENGINE: link it instead of -fsanitize=fuzzer),
# OBLIQUE_FUZZ_DET_TESTS (OFF: no deterministic tests, e.g. under TSan),
# OBLIQUE_HARNESS_GLUE_DIR (afl_main.c and feedback.c; set by the package).
include_guard(GLOBAL)
include(CheckCSourceCompiles)
include(CMakeParseArguments)

# Is -fsanitize=fuzzer usable (clang with libFuzzer's runtime)?
function(_oblique_check_libfuzzer)
  if(DEFINED OBLIQUE_HAVE_LIBFUZZER)
    return()
  endif()
  set(_ok OFF)
  if(CMAKE_C_COMPILER_ID MATCHES "Clang")
    set(CMAKE_REQUIRED_FLAGS -fsanitize=fuzzer)
    set(CMAKE_REQUIRED_LINK_OPTIONS -fsanitize=fuzzer)
    set(CMAKE_REQUIRED_QUIET ON)
    check_c_source_compiles([=[
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }
]=] _obq_libfuzzer_links)
    if(_obq_libfuzzer_links)
      set(_ok ON)
    endif()
  endif()
  set(OBLIQUE_HAVE_LIBFUZZER ${_ok} CACHE INTERNAL "clang's libFuzzer links")
endfunction()

function(oblique_add_fuzz_target)
  cmake_parse_arguments(A "NO_STRESS;NO_TESTS;NO_STRESS_TEST"
    "NAME;CONTROL;CONTROL_RULE;DICT;OPTIONS;ENGINE;HARNESS;STRESS_HARNESS;WEAK_HARNESS;CORPUS_OUTPUT;ADAPTER;STRESS_EXPECT_REPORT"
    "SOURCES;CORPUS;LINK_LIBRARIES;INCLUDE_DIRECTORIES;COMPILE_DEFINITIONS" ${ARGN})
  if(NOT A_NAME OR NOT A_SOURCES)
    message(FATAL_ERROR "oblique_add_fuzz_target: NAME and SOURCES are required")
  endif()
  if(A_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "oblique_add_fuzz_target(${A_NAME}): unknown arguments: ${A_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT A_NAME MATCHES "^[A-Za-z0-9_]+$")
    message(FATAL_ERROR "oblique_add_fuzz_target: NAME '${A_NAME}' must be [A-Za-z0-9_]+ "
                        "(it names the corpus, the dictionary and the traces' target line)")
  endif()
  set(name ${A_NAME})
  set(engine "${A_ENGINE}")
  if(NOT engine)
    set(engine "${OBLIQUE_FUZZ_ENGINE}")
  endif()
  if(NOT engine)
    set(engine auto)
  endif()
  if(NOT engine MATCHES "^(auto|none|libfuzzer|afl)$")
    message(FATAL_ERROR "oblique_add_fuzz_target(${name}): ENGINE '${engine}' is not auto, none, libfuzzer or afl")
  endif()
  get_filename_component(_cc "${CMAKE_C_COMPILER}" NAME)
  set(_afl_cc OFF)
  if(_cc MATCHES "^afl-")
    set(_afl_cc ON)
  endif()
  if(engine STREQUAL "auto" AND _afl_cc)
    set(engine afl)
  endif()
  set(det ${A_HARNESS})
  if(NOT det)
    set(det oblique::harness)
  endif()
  set(stress ${A_STRESS_HARNESS})
  if(NOT stress)
    set(stress oblique::harness_stress)
  endif()
  set(glue "${OBLIQUE_HARNESS_GLUE_DIR}")
  # coroutine stacks make clang's stack-depth coverage noisy
  set(_cov -fno-sanitize-coverage=stack-depth)

  # The caller's own libraries, include directories and definitions, on every binary.
  macro(_obq_user_props tgt)
    if(A_LINK_LIBRARIES)
      target_link_libraries(${tgt} PRIVATE ${A_LINK_LIBRARIES})
    endif()
    if(A_INCLUDE_DIRECTORIES)
      target_include_directories(${tgt} PRIVATE ${A_INCLUDE_DIRECTORIES})
    endif()
    if(A_COMPILE_DEFINITIONS)
      target_compile_definitions(${tgt} PRIVATE ${A_COMPILE_DEFINITIONS})
    endif()
  endmacro()
  # The target's sources, as every binary but the weak-memory one compiles them.
  macro(_obq_target_props tgt)
    _obq_user_props(${tgt})
    if(TARGET oblique_build_flags) # in-tree: warnings and the configuration's sanitizers
      target_link_libraries(${tgt} PRIVATE oblique_build_flags)
    endif()
  endmacro()

  # ---- the deterministic binary <name>
  if(engine STREQUAL "libfuzzer")
    add_executable(${name} ${A_SOURCES})
    target_compile_options(${name} PRIVATE ${_cov})
    if(OBLIQUE_LIB_FUZZING_ENGINE)
      # OSS-Fuzz / ClusterFuzzLite: the engine's main from $LIB_FUZZING_ENGINE
      # (libFuzzer, AFL++'s driver, honggfuzz); the instrumentation comes with $CFLAGS.
      separate_arguments(_eng UNIX_COMMAND "${OBLIQUE_LIB_FUZZING_ENGINE}")
      target_link_libraries(${name} PRIVATE ${_eng})
    else()
      target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
      target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    endif()
    target_link_libraries(${name} PRIVATE ${det})
  elseif(engine STREQUAL "afl")
    # afl_main.c and feedback.c are compiled here, by afl-clang-fast, so the persistent
    # loop exists and the interleaving-event switch is instrumented.
    add_executable(${name} ${A_SOURCES} ${glue}/afl_main.c ${glue}/feedback.c)
    target_link_libraries(${name} PRIVATE ${det})
  else()
    add_executable(${name} ${A_SOURCES})
    target_link_libraries(${name} PRIVATE ${det}_main)
  endif()
  _obq_target_props(${name})
  set(_det_bins ${name})

  # ---- <name>-libfuzzer (auto, clang)
  if(engine STREQUAL "auto")
    _oblique_check_libfuzzer()
    if(OBLIQUE_HAVE_LIBFUZZER)
      add_executable(${name}-libfuzzer ${A_SOURCES})
      target_compile_options(${name}-libfuzzer PRIVATE -fsanitize=fuzzer ${_cov})
      target_link_options(${name}-libfuzzer PRIVATE -fsanitize=fuzzer)
      if(TARGET ${det}_asan)
        # its usage requirements bring -fsanitize=address,undefined
        target_link_libraries(${name}-libfuzzer PRIVATE ${det}_asan)
      else()
        target_link_libraries(${name}-libfuzzer PRIVATE ${det})
        if(NOT TARGET oblique_build_flags)
          message(STATUS "oblique: ${name}-libfuzzer without ASan (this oblique package has no "
                         "oblique::harness_asan: install it from a clang build)")
        endif()
      endif()
      _obq_target_props(${name}-libfuzzer)
      list(APPEND _det_bins ${name}-libfuzzer)
    endif()
  endif()

  # ---- <name>-weak: target code instrumented for the weak-memory model
  set(weak "${A_WEAK_HARNESS}")
  if(NOT weak AND TARGET oblique_harness_weak)
    set(weak oblique_harness_weak) # in-tree: built for the configuration's engine
  elseif(NOT weak AND engine STREQUAL "libfuzzer")
    # installed: the libFuzzer variant (ASan+UBSan libraries), from a clang build
    if(TARGET oblique::harness_weak_asan)
      set(weak oblique::harness_weak_asan)
    elseif(TARGET oblique::harness_weak)
      message(STATUS "oblique: no ${name}-weak with ENGINE libfuzzer (this oblique package has "
                     "no oblique::harness_weak_asan: install it from a clang build with "
                     "OBQ_SDK_VARIANTS, e.g. ci/install.sh)")
    endif()
  elseif(NOT weak AND TARGET oblique::harness_weak)
    set(weak oblique::harness_weak) # installed: the standalone runner (<weak>_main)
  endif()
  if(weak AND TARGET "${weak}" AND NOT engine STREQUAL "afl")
    add_executable(${name}-weak ${A_SOURCES})
    # not oblique_build_flags: its sanitizer (ASan in the fuzz preset) cannot instrument
    # the same file as -fsanitize=thread; the libraries keep theirs (link options)
    target_compile_options(${name}-weak PRIVATE -fsanitize=thread -Wall -Wextra
      -Wno-unused-parameter -Wno-sign-compare -fno-strict-aliasing
      $<$<C_COMPILER_ID:GNU>:-Wno-tsan>)
    if(engine STREQUAL "libfuzzer")
      target_compile_options(${name}-weak PRIVATE -fsanitize=fuzzer-no-link ${_cov})
      target_link_options(${name}-weak PRIVATE -fsanitize=fuzzer)
      target_link_libraries(${name}-weak PRIVATE ${weak})
    else()
      target_link_libraries(${name}-weak PRIVATE ${weak}_main)
    endif()
    if(OBQ_WEAK_LINK_OPTIONS)
      target_link_options(${name}-weak PRIVATE ${OBQ_WEAK_LINK_OPTIONS})
    endif()
    _obq_user_props(${name}-weak)
  endif()

  # ---- stress binaries
  if(NOT A_NO_STRESS)
    add_executable(${name}-stress ${A_SOURCES})
    target_link_libraries(${name}-stress PRIVATE ${stress})
    _obq_target_props(${name}-stress)
    if(engine STREQUAL "auto" AND TARGET ${stress}_tsan AND CMAKE_C_COMPILER_ID MATCHES "Clang")
      add_executable(${name}-stress-tsan ${A_SOURCES})
      target_link_libraries(${name}-stress-tsan PRIVATE ${stress}_tsan)
      _obq_target_props(${name}-stress-tsan)
    endif()
  endif()

  # ---- seeds: traces -> bytes; dictionary and options beside the binaries
  set(_cout "${A_CORPUS_OUTPUT}")
  if(NOT _cout)
    set(_cout ${CMAKE_CURRENT_BINARY_DIR}/${name}.corpus)
  endif()
  set(_outs "")
  set(_trace_dirs "")
  set(_seed_dirs "")
  foreach(d ${A_CORPUS})
    get_filename_component(d "${d}" ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
    if(NOT IS_DIRECTORY "${d}")
      message(FATAL_ERROR "oblique_add_fuzz_target(${name}): CORPUS '${d}' is not a directory")
    endif()
    list(APPEND _seed_dirs ${d})
    file(GLOB _files LIST_DIRECTORIES false CONFIGURE_DEPENDS ${d}/*)
    foreach(f ${_files})
      get_filename_component(_b ${f} NAME)
      if(_b MATCHES "^\\.|\\.(md|dict|options)$|^RULE$|^README")
        continue()
      endif()
      if(_b MATCHES "\\.trace$")
        get_filename_component(_b ${f} NAME_WE)
        set(_o ${_cout}/${_b})
        add_custom_command(OUTPUT ${_o}
          COMMAND ${CMAKE_COMMAND} -E make_directory ${_cout}
          COMMAND ${name} encode ${f} -o ${_o}
          DEPENDS ${f} ${name} COMMENT "seed ${name}/${_b}" VERBATIM)
        list(APPEND _trace_dirs ${d})
      else()
        set(_o ${_cout}/${_b})
        add_custom_command(OUTPUT ${_o}
          COMMAND ${CMAKE_COMMAND} -E make_directory ${_cout}
          COMMAND ${CMAKE_COMMAND} -E copy ${f} ${_o}
          DEPENDS ${f} COMMENT "seed ${name}/${_b}" VERBATIM)
      endif()
      list(APPEND _outs ${_o})
    endforeach()
  endforeach()
  list(REMOVE_DUPLICATES _trace_dirs)
  foreach(kind DICT OPTIONS)
    if(A_${kind})
      get_filename_component(_f "${A_${kind}}" ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
      if(NOT EXISTS "${_f}")
        message(FATAL_ERROR "oblique_add_fuzz_target(${name}): ${kind} '${_f}' does not exist")
      endif()
      string(TOLOWER ${kind} _ext)
      set(_o ${CMAKE_CURRENT_BINARY_DIR}/${name}.${_ext})
      add_custom_command(OUTPUT ${_o} COMMAND ${CMAKE_COMMAND} -E copy ${_f} ${_o}
                         DEPENDS ${_f} VERBATIM)
      list(APPEND _outs ${_o})
    endif()
  endforeach()
  if(A_CORPUS_OUTPUT)
    # obq-fuzz looks for the seeds beside the binary
    set(_link ${CMAKE_CURRENT_BINARY_DIR}/${name}.corpus)
    if(NOT _link STREQUAL _cout)
      add_custom_command(OUTPUT ${_link}
        COMMAND ${CMAKE_COMMAND} -E make_directory ${_cout}
        COMMAND ${CMAKE_COMMAND} -E create_symlink ${_cout} ${_link} VERBATIM)
      list(APPEND _outs ${_link})
    endif()
  endif()
  add_custom_target(${name}_corpus ALL DEPENDS ${_outs})

  # ---- tests
  if(A_NO_TESTS OR (DEFINED BUILD_TESTING AND NOT BUILD_TESTING))
    return() # (without enable_testing() or include(CTest), add_test has no effect)
  endif()
  set(_env "")
  if(A_ADAPTER)
    set(_env ENVIRONMENT OBQ_ADAPTER=${A_ADAPTER})
  endif()
  if(NOT DEFINED OBLIQUE_FUZZ_DET_TESTS OR OBLIQUE_FUZZ_DET_TESTS)
    if(_seed_dirs)
      # `run`: the runner's replay, also in a libFuzzer binary, which given bare
      # directories would fuzz them (and write its new inputs into the seed directory)
      add_test(NAME ${name}-replay COMMAND ${name} run ${_seed_dirs})
      set_tests_properties(${name}-replay PROPERTIES LABELS regress TIMEOUT 120 ${_env})
      add_test(NAME ${name}-selfcheck COMMAND ${name} --selfcheck --quiet ${_seed_dirs})
      set_tests_properties(${name}-selfcheck PROPERTIES LABELS unit TIMEOUT 120 ${_env})
    endif()
    if(_seed_dirs AND TARGET ${name}-weak)
      # the weak-memory build: no report on the seeds (no false positive), same hash twice
      add_test(NAME ${name}-weak-selfcheck COMMAND ${name}-weak --selfcheck --quiet ${_seed_dirs})
      set_tests_properties(${name}-weak-selfcheck PROPERTIES LABELS unit TIMEOUT 120 ${_env})
    endif()
    if(_trace_dirs)
      add_test(NAME ${name}-roundtrip COMMAND ${name} roundtrip ${_trace_dirs})
      set_tests_properties(${name}-roundtrip PROPERTIES LABELS unit TIMEOUT 120)
    endif()
    if(A_CONTROL)
      get_filename_component(_ctl "${A_CONTROL}" ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
      set(_rule "${A_CONTROL_RULE}")
      if(NOT _rule AND EXISTS ${_ctl}/RULE)
        file(STRINGS ${_ctl}/RULE _rule LIMIT_COUNT 1)
      endif()
      if(NOT _rule)
        set(_rule any)
      endif()
      add_test(NAME ${name}-control COMMAND ${name} --adapter=malloc
               --expect-report=${_rule} ${_ctl})
      set_tests_properties(${name}-control PROPERTIES LABELS unit TIMEOUT 120)
      # minimize keeps the report: shrink the first control schedule, expect the rule again
      file(GLOB _ctls ${_ctl}/*.trace)
      if(_ctls)
        list(GET _ctls 0 _ctl0)
        set(_min ${CMAKE_CURRENT_BINARY_DIR}/${name}-minimized.bin)
        add_test(NAME ${name}-minimize COMMAND sh -c
          "\"$1\" --adapter=malloc minimize \"$2\" -o \"$3\" >/dev/null 2>&1 && \"$1\" --adapter=malloc --expect-report=$4 --quiet \"$3\""
          sh $<TARGET_FILE:${name}> ${_ctl0} ${_min} ${_rule})
        set_tests_properties(${name}-minimize PROPERTIES LABELS unit TIMEOUT 120)
      endif()
    endif()
  endif()
  if(NOT A_NO_STRESS AND A_STRESS_EXPECT_REPORT)
    add_test(NAME ${name}-stress COMMAND sh -c
      "out=$(\"$@\" 2>&1); echo \"$out\" | tail -n 40; echo \"$out\" | grep -q \"ERROR: ${A_STRESS_EXPECT_REPORT}\""
      sh $<TARGET_FILE:${name}-stress> --seconds 10 --threads 3 --seed 1 ${_seed_dirs})
    set_tests_properties(${name}-stress PROPERTIES LABELS stress TIMEOUT 120 ${_env})
  elseif(NOT A_NO_STRESS AND NOT A_NO_STRESS_TEST)
    add_test(NAME ${name}-stress COMMAND ${name}-stress --seconds 1 --threads 3 --seed 1 ${_seed_dirs})
    set_tests_properties(${name}-stress PROPERTIES LABELS stress TIMEOUT 120 ${_env})
  endif()
endfunction()

# oblique_add_shipped_targets([PREFIX <p>] [ADAPTER <name>] [SOURCES <file>...]
#                             [LINK_LIBRARIES <lib>...] [TARGETS <t>...])
# oblique's own protocol targets (anon_vma, nulls_lookup, file_ref, ...; the package
# ships their sources, seeds, dictionaries and options), each built by
# oblique_add_fuzz_target as <p><t> with SOURCES added — for allocator authors: put an
# adapter for your allocator in SOURCES (OBQ_H_REGISTER_ALLOCATOR), name it in ADAPTER,
# and every shipped protocol runs over your allocator in the tests, and in campaigns
# with obq-fuzz --adapter <name>.  TARGETS picks a subset (default: all).
function(oblique_add_shipped_targets)
  cmake_parse_arguments(A "" "PREFIX;ADAPTER" "SOURCES;LINK_LIBRARIES;TARGETS" ${ARGN})
  if(A_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "oblique_add_shipped_targets: unknown arguments: ${A_UNPARSED_ARGUMENTS}")
  endif()
  set(_td "${OBLIQUE_SHIPPED_TARGETS_DIR}")
  set(_cd "${OBLIQUE_SHIPPED_CORPUS_DIR}")
  if(NOT EXISTS "${_td}/targets.list")
    message(FATAL_ERROR "oblique_add_shipped_targets: this oblique package has no shipped targets "
                        "(OBLIQUE_SHIPPED_TARGETS_DIR='${_td}')")
  endif()
  file(STRINGS ${_td}/targets.list _all REGEX "^[a-z0-9_]+$")
  set(_want ${A_TARGETS})
  if(NOT _want)
    set(_want ${_all})
  endif()
  foreach(t ${_want})
    if(NOT t IN_LIST _all)
      message(FATAL_ERROR "oblique_add_shipped_targets: no shipped target '${t}' (have: ${_all})")
    endif()
    set(_args "")
    if(EXISTS ${_cd}/${t}.dict)
      list(APPEND _args DICT ${_cd}/${t}.dict)
    endif()
    if(EXISTS ${_cd}/${t}.options)       # a target's own options replace the default
      list(APPEND _args OPTIONS ${_cd}/${t}.options)
    elseif(EXISTS ${_cd}/default.options)
      list(APPEND _args OPTIONS ${_cd}/default.options)
    endif()
    if(EXISTS ${_cd}/${t}/control/RULE)
      list(APPEND _args CONTROL ${_cd}/${t}/control)
    endif()
    if(A_ADAPTER)
      list(APPEND _args ADAPTER ${A_ADAPTER})
    endif()
    oblique_add_fuzz_target(NAME ${A_PREFIX}${t} SOURCES ${_td}/${t}.c ${A_SOURCES}
      CORPUS ${_cd}/${t} LINK_LIBRARIES ${A_LINK_LIBRARIES} ${_args})
  endforeach()
endfunction()
