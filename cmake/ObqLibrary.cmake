# obq_add_library(<name> BACKEND builtin|urcu|sim CHECKED ON|OFF [SCHED ON|OFF]
#                 [DEFINES d...] [SANITIZE s...] [FUZZ_COVERAGE])
# One variant of liboblique from the same sources.
#
# The variant's switches (OBQ_RCU_BACKEND, OBQ_CHECKED, OBQ_SCHED_POINTS) are PUBLIC
# compile definitions, in the build tree and in the installed package alike: code that
# includes the public headers and links a variant sees that variant, so one install can
# hold several variants (the allocator, the deterministic one the fuzz harness links,
# the sanitizer builds of the SDK) and no installed header fixes one of them.
#
# SANITIZE (e.g. "address;undefined" or "thread"): compile this variant with those
# sanitizers and make them PUBLIC usage requirements, so a consumer linking it is
# compiled and linked the same way (the installed SDK's *_asan / *_tsan variants).
# In-tree configurations use the one OBQ_SANITIZE setting instead (ObqFlags.cmake).
# FUZZ_COVERAGE: libFuzzer edge coverage without the fuzzer's main
# (OBQ_FUZZ_NO_LINK_OPTIONS of ObqFlags.cmake), as OBQ_FUZZ_ENGINE=libfuzzer does.
include(${CMAKE_CURRENT_LIST_DIR}/../alloc/sources.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/../sanitizers/sources.cmake)

# obq_variant_sanitize(<target> <sanitizers>): PUBLIC sanitizer flags (see above).
function(obq_variant_sanitize name sanitize)
  if(sanitize)
    string(REPLACE ";" "," _s "${sanitize}")
    target_compile_options(${name} PUBLIC -fsanitize=${_s} -fno-omit-frame-pointer)
    if(_s MATCHES "undefined")
      target_compile_options(${name} PUBLIC -fno-sanitize-recover=undefined)
    endif()
    target_link_options(${name} PUBLIC -fsanitize=${_s})
  endif()
endfunction()

function(obq_add_library name)
  cmake_parse_arguments(A "FUZZ_COVERAGE;EXPORT" "BACKEND;CHECKED;SCHED" "DEFINES;SANITIZE" ${ARGN})
  if(A_BACKEND STREQUAL "builtin")
    set(_num 1)
  elseif(A_BACKEND STREQUAL "urcu")
    set(_num 2)
  elseif(A_BACKEND STREQUAL "sim")
    set(_num 3)
  else()
    message(FATAL_ERROR "obq_add_library: unknown BACKEND '${A_BACKEND}'")
  endif()
  set(_checked 0)
  if(A_CHECKED)
    set(_checked 1)
  endif()
  set(_sched 0)
  if(A_SCHED)
    set(_sched 1)
  endif()
  set(_srcs ${OBQ_ALLOC_SOURCES} ${OBQ_RCU_SOURCES_${A_BACKEND}})
  if(_checked)
    list(APPEND _srcs ${OBQ_CHECK_SOURCES})
  endif()
  add_library(${name} STATIC ${_srcs})
  target_include_directories(${name}
    PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/alloc/include>
           $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
           $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${PROJECT_SOURCE_DIR}/alloc/src ${PROJECT_SOURCE_DIR}/sanitizers
            ${PROJECT_SOURCE_DIR}/targets/harness/include) # oblique/testing.h: declares some of its symbols
  target_compile_definitions(${name} PUBLIC
    OBQ_RCU_BACKEND=${_num} OBQ_CHECKED=${_checked} OBQ_SCHED_POINTS=${_sched} ${A_DEFINES})
  target_link_libraries(${name} PRIVATE $<BUILD_INTERFACE:oblique_build_flags>)
  if(A_SANITIZE OR A_FUZZ_COVERAGE)
    # An SDK variant: its own flags, not the configuration's.
    obq_variant_sanitize(${name} "${A_SANITIZE}")
    if(A_FUZZ_COVERAGE)
      target_compile_options(${name} PRIVATE ${OBQ_FUZZ_NO_LINK_OPTIONS})
    endif()
  else()
    target_link_libraries(${name} PRIVATE $<BUILD_INTERFACE:oblique_fuzz_lib_flags>)
  endif()
  find_package(Threads REQUIRED)
  target_link_libraries(${name} PUBLIC Threads::Threads)
  if(A_BACKEND STREQUAL "urcu")
    target_link_libraries(${name} PUBLIC PkgConfig::URCU)
    target_compile_definitions(${name} PUBLIC _LGPL_SOURCE)
  endif()
  if(OBQ_VALGRIND)
    # PUBLIC: code that inlines oblique/access.h (targets, users' programs) needs it too,
    # or its sanctioned reads of free objects are not made quiet (Valgrind "Invalid read").
    target_compile_definitions(${name} PUBLIC OBQ_VALGRIND=1)
  endif()
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON
                                           C_VISIBILITY_PRESET default)
endfunction()
