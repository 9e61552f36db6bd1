# obq_add_harness(<name> DET|STRESS LIB <oblique-variant> [SANITIZE s...]
#                 [FUZZ_COVERAGE] [LIBFUZZER])
# One variant of the harness runtime (targets/harness/) over one variant of liboblique.
#
#   DET     the deterministic runtime: virtual threads on coroutines, the sim RCU
#           engine, decoder, runner (replay, decode, encode, minimize) and the engines'
#           entry points.  LIB must be a sim variant (SCHED ON).  A binary links it
#           with a main: the standalone runner's (the `<name>_main` library made here,
#           from main.c), libFuzzer's, or AFL++'s (afl_main.c, compiled per target).
#   STRESS  the stress runtime: real pthreads, seeded perturbations; it holds main().
#           LIB is a checked variant with a real RCU backend.
#
# feedback.c (interleaving events -> coverage) is compiled into the DET library: with
# LIBFUZZER its events also go to libFuzzer's extra counters, with FUZZ_COVERAGE (or in
# a libFuzzer/AFL++ configuration) its switch is instrumented, so every new event
# bucket is a new edge.  The rest of the runtime is never coverage-instrumented: its
# edges are noise and cost time.  SANITIZE as in obq_add_library (PUBLIC flags).
set(OBQ_HARNESS_DIR ${CMAKE_CURRENT_LIST_DIR}/../targets/harness)
get_filename_component(OBQ_HARNESS_DIR ${OBQ_HARNESS_DIR} ABSOLUTE)

function(obq_add_harness name)
  cmake_parse_arguments(A "DET;STRESS;FUZZ_COVERAGE;LIBFUZZER;WEAK" "LIB" "SANITIZE" ${ARGN})
  set(_h ${OBQ_HARNESS_DIR})
  set(_sdk_variant OFF)
  if(A_SANITIZE OR A_FUZZ_COVERAGE)
    set(_sdk_variant ON)
  endif()
  if(A_DET)
    add_library(${name}_feedback OBJECT ${_h}/feedback.c)
    target_include_directories(${name}_feedback PRIVATE ${_h}/include)
    target_link_libraries(${name}_feedback PRIVATE ${A_LIB} $<BUILD_INTERFACE:oblique_build_flags>)
    if(_sdk_variant)
      if(A_FUZZ_COVERAGE)
        target_compile_options(${name}_feedback PRIVATE -fsanitize=fuzzer-no-link
                               -fno-sanitize-coverage=stack-depth)
      endif()
    else()
      target_link_libraries(${name}_feedback PRIVATE $<BUILD_INTERFACE:oblique_fuzz_lib_flags>)
      if(OBQ_FUZZ_ENGINE STREQUAL "libfuzzer")
        # coroutine stacks make clang's stack-depth coverage noisy
        target_compile_options(${name}_feedback PRIVATE -fno-sanitize-coverage=stack-depth)
      endif()
    endif()
    if(A_LIBFUZZER)
      target_compile_definitions(${name}_feedback PRIVATE OBQ_H_LIBFUZZER=1)
    endif()
    add_library(${name} STATIC
      ${_h}/det.c ${_h}/det_print.c ${_h}/policy_tape.c ${_h}/policy_pct.c
      ${_h}/policy_preempt.c ${_h}/api.c ${_h}/coro.c ${_h}/program.c ${_h}/adapter.c
      ${_h}/adapter_leaky.c ${_h}/contract.c ${_h}/runner.c ${_h}/engine.c ${_h}/dict.c $<TARGET_OBJECTS:${name}_feedback>)
    if(A_WEAK)
      # the weak-memory mode: the engine's glue, the model and the __tsan_* runtime the
      # targets' -fsanitize=thread instrumentation calls (docs/weak-memory.md)
      target_sources(${name} PRIVATE ${_h}/weak.c ${_h}/wmm.c ${_h}/wmm_rt.c)
      target_compile_definitions(${name} PRIVATE OBQ_H_WEAK=1)
      # The model runs on every modelled access, like the scheduler's step path (H_STEP
      # in det.h): no ASan instrumentation there (UBSan's checks stay).  Under ASan its
      # history shifts went through __asan_memmove, a byte loop behind a range check
      # (the A/B: docs/benchmarks.md, "Whose edges count").
      set_source_files_properties(${_h}/weak.c ${_h}/wmm.c ${_h}/wmm_rt.c
                                  PROPERTIES COMPILE_OPTIONS -fno-sanitize=address)
    endif()
    # the standalone runner's main, for binaries without a fuzzing engine
    add_library(${name}_main STATIC ${_h}/main.c)
    target_include_directories(${name}_main PRIVATE ${_h}/include)
    target_link_libraries(${name}_main PUBLIC ${name} PRIVATE $<BUILD_INTERFACE:oblique_build_flags>)
  elseif(A_STRESS)
    add_library(${name} STATIC ${_h}/stress.c ${_h}/api.c ${_h}/program.c ${_h}/adapter.c
      ${_h}/adapter_leaky.c ${_h}/contract.c)
  else()
    message(FATAL_ERROR "obq_add_harness(${name}): DET or STRESS")
  endif()
  target_include_directories(${name}
    PUBLIC $<BUILD_INTERFACE:${_h}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${_h})
  if(A_WEAK AND A_SANITIZE)
    # An SDK weak-memory variant over a sanitizer library (oblique_harness_weak_asan):
    # its consumers are compiled with -fsanitize=thread (the model's instrumentation),
    # which clang refuses beside the library's -fsanitize=address.  So the library
    # variant is a PRIVATE dependency: its PUBLIC sanitizer flags compile this
    # harness's own files, and a static library's consumers link it ($<LINK_ONLY>)
    # without them.  What they do need is passed on here: its definitions (the
    # variant's switches), its include directories, and the sanitizers at link.
    target_link_libraries(${name} PRIVATE ${A_LIB} $<BUILD_INTERFACE:oblique_build_flags>)
    get_target_property(_defs ${A_LIB} INTERFACE_COMPILE_DEFINITIONS)
    get_target_property(_incs ${A_LIB} INTERFACE_INCLUDE_DIRECTORIES)
    target_compile_definitions(${name} INTERFACE ${_defs})
    target_include_directories(${name} INTERFACE ${_incs})
    string(REPLACE ";" "," _s "${A_SANITIZE}")
    target_link_options(${name} INTERFACE -fsanitize=${_s})
  else()
    target_link_libraries(${name} PUBLIC ${A_LIB} PRIVATE $<BUILD_INTERFACE:oblique_build_flags>)
    obq_variant_sanitize(${name} "${A_SANITIZE}")
  endif()
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()

# obq_add_harness_pair(<det> <stress> DET_LIB <sim variant> STRESS_LIB <checked variant>
#                      [WEAK <weak>])
# The runtimes a build of oblique's own targets links (targets/, mutants/): <det> (with
# libFuzzer's extra counters in a libFuzzer configuration), <stress>, and with WEAK the
# weak-memory variant <weak> over the same sim library (docs/weak-memory.md).  When the
# sim library has a covered twin <DET_LIB>_cov (obq_add_sim_library), <det>_cov over it:
# the runtime of the targets of OBQ_FUZZ_LIB_SUBJECTS (obq_add_own_targets COV_HARNESS).
function(obq_add_harness_pair det stress)
  cmake_parse_arguments(A "" "DET_LIB;STRESS_LIB;WEAK" "" ${ARGN})
  set(_libfuzzer "")
  if(OBQ_FUZZ_ENGINE STREQUAL "libfuzzer")
    set(_libfuzzer LIBFUZZER)
  endif()
  obq_add_harness(${det} DET LIB ${A_DET_LIB} ${_libfuzzer})
  if(TARGET ${A_DET_LIB}_cov)
    obq_add_harness(${det}_cov DET LIB ${A_DET_LIB}_cov ${_libfuzzer})
  endif()
  obq_add_harness(${stress} STRESS LIB ${A_STRESS_LIB})
  if(A_WEAK)
    obq_add_harness(${A_WEAK} DET WEAK LIB ${A_DET_LIB} ${_libfuzzer})
  endif()
endfunction()

# obq_add_own_targets(OUTPUT <var> [PREFIX <p>] [HARNESS <det> STRESS_HARNESS <stress>]
#                     [WEAK_HARNESS <weak>] [COV_HARNESS <det>] [NO_TESTS])
# Every target <name> of targets/targets.list (one name a line, the list every script
# reads) whose targets/<name>.c exists, through oblique_add_fuzz_target — the users'
# function — as <p><name> and <p><name>-stress; <var> gets the names of the targets.
# Without NO_TESTS, with what corpus/ has for it: seeds corpus/<name>/ (compiled into
# <build>/corpus/<name>/), regressions corpus/regressions/<name>/, the control
# corpus/<name>/control/, the dictionary corpus/<name>.dict and the options
# (corpus/<name>.options, else corpus/default.options), its ctests, and dict-<name>:
# the committed dictionary is `<name> dict`'s output (targets/harness/dict.c), so a
# reordered or renamed operation fails it until the dictionary is regenerated.
# COV_HARNESS: the deterministic runtime the targets of OBQ_FUZZ_LIB_SUBJECTS link
# instead of HARNESS (the one over the coverage-instrumented library, ObqFlags.cmake).
function(obq_add_own_targets)
  cmake_parse_arguments(A "NO_TESTS"
                        "OUTPUT;PREFIX;HARNESS;STRESS_HARNESS;WEAK_HARNESS;COV_HARNESS" ""
                        ${ARGN})
  set(_src ${PROJECT_SOURCE_DIR}/targets)
  set(_corpus ${PROJECT_SOURCE_DIR}/corpus)
  file(STRINGS ${_src}/targets.list _names REGEX "^[a-z0-9_]+$")
  set(_made "")
  foreach(t ${_names})
    if(NOT EXISTS ${_src}/${t}.c)
      continue()
    endif()
    set(_name ${A_PREFIX}${t})
    set(_args "")
    set(_det ${A_HARNESS})
    if(A_COV_HARNESS AND t IN_LIST OBQ_FUZZ_LIB_SUBJECTS)
      set(_det ${A_COV_HARNESS})
    endif()
    if(_det)
      list(APPEND _args HARNESS ${_det})
    endif()
    if(A_STRESS_HARNESS)
      list(APPEND _args STRESS_HARNESS ${A_STRESS_HARNESS})
    endif()
    if(A_WEAK_HARNESS)
      list(APPEND _args WEAK_HARNESS ${A_WEAK_HARNESS})
    endif()
    if(A_NO_TESTS)
      list(APPEND _args NO_TESTS)
    else()
      list(APPEND _args CORPUS ${_corpus}/${t})
      if(EXISTS ${_corpus}/regressions/${t})
        list(APPEND _args ${_corpus}/regressions/${t})
      endif()
      list(APPEND _args CORPUS_OUTPUT ${PROJECT_BINARY_DIR}/corpus/${t})
      if(EXISTS ${_corpus}/${t}/control/RULE)
        list(APPEND _args CONTROL ${_corpus}/${t}/control)
      endif()
      if(EXISTS ${_corpus}/${t}.dict)
        list(APPEND _args DICT ${_corpus}/${t}.dict)
      endif()
      if(EXISTS ${_corpus}/${t}.options)
        list(APPEND _args OPTIONS ${_corpus}/${t}.options)
      elseif(EXISTS ${_corpus}/default.options)
        list(APPEND _args OPTIONS ${_corpus}/default.options)
      endif()
    endif()
    oblique_add_fuzz_target(NAME ${_name} SOURCES ${_src}/${t}.c ${_args})
    if(NOT A_NO_TESTS AND OBQ_BUILD_TESTS AND OBLIQUE_FUZZ_DET_TESTS)
      add_test(NAME dict-${t} COMMAND sh -c "\"$1\" dict | diff -u \"$2\" -"
               sh $<TARGET_FILE:${_name}> ${_corpus}/${t}.dict)
      set_tests_properties(dict-${t} PROPERTIES LABELS unit)
    endif()
    list(APPEND _made ${_name})
  endforeach()
  set(${A_OUTPUT} ${_made} PARENT_SCOPE)
endfunction()
