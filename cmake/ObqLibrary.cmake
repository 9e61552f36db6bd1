# obq_add_library(<name> BACKEND <backend> CHECKED ON|OFF [SCHED ON|OFF]
#                 [DEFINES d...] [SANITIZE s...] [FUZZ_COVERAGE | NO_COVERAGE])
# One variant of liboblique from the same sources.  <backend>: a name of the backend
# table (oblique/bits/backends.h: builtin, urcu, sim); its sources are
# alloc/src/rcu_common.c + rcu_<backend>.c.
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
# NO_COVERAGE: never coverage-instrumented, even under OBQ_FUZZ_ENGINE=libfuzzer — the
# variant the targets link whose subject is not the allocator (OBQ_FUZZ_LIB_SUBJECTS,
# ObqFlags.cmake).
include(${CMAKE_CURRENT_LIST_DIR}/../alloc/sources.cmake)

# The RCU backends: the `#define OBQ_RCU_<NAME> <number>` lines of the one table,
# oblique/bits/backends.h.  OBQ_RCU_BACKENDS: their names (lower case);
# OBQ_RCU_NUM_<name>: the number OBQ_RCU_BACKEND takes for it.
set(OBQ_RCU_BACKENDS_HEADER ${CMAKE_CURRENT_LIST_DIR}/../alloc/include/oblique/bits/backends.h)
file(STRINGS ${OBQ_RCU_BACKENDS_HEADER} _obq_rows REGEX "^#define OBQ_RCU_[A-Z0-9]+ +[0-9]+")
set(OBQ_RCU_BACKENDS "")
foreach(_row IN LISTS _obq_rows)
  string(REGEX MATCH "^#define OBQ_RCU_([A-Z0-9]+) +([0-9]+)" _m "${_row}")
  string(TOLOWER "${CMAKE_MATCH_1}" _n)
  list(APPEND OBQ_RCU_BACKENDS ${_n})
  set(OBQ_RCU_NUM_${_n} ${CMAKE_MATCH_2})
endforeach()
if(NOT OBQ_RCU_BACKENDS)
  message(FATAL_ERROR "no backend found in ${OBQ_RCU_BACKENDS_HEADER}")
endif()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${OBQ_RCU_BACKENDS_HEADER})

# obq_rcu_backend_deps(<name>): include the backend's own CMake file, when it has one
# (alloc/src/rcu_<name>.cmake: OBQ_RCU_LIBS_<name>, OBQ_RCU_DEFINES_<name>,
# OBQ_RCU_PC_REQUIRES_<name>), in the caller's scope.
macro(obq_rcu_backend_deps _bname)
  if(EXISTS ${PROJECT_SOURCE_DIR}/alloc/src/rcu_${_bname}.cmake)
    include(${PROJECT_SOURCE_DIR}/alloc/src/rcu_${_bname}.cmake)
  endif()
endmacro()
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
  cmake_parse_arguments(A "FUZZ_COVERAGE;NO_COVERAGE;EXPORT" "BACKEND;CHECKED;SCHED" "DEFINES;SANITIZE"
                        ${ARGN})
  if(NOT A_BACKEND IN_LIST OBQ_RCU_BACKENDS)
    message(FATAL_ERROR "obq_add_library: unknown BACKEND '${A_BACKEND}' (oblique/bits/backends.h has: ${OBQ_RCU_BACKENDS})")
  endif()
  set(_num ${OBQ_RCU_NUM_${A_BACKEND}})
  obq_rcu_backend_deps(${A_BACKEND})
  set(_checked 0)
  if(A_CHECKED)
    set(_checked 1)
  endif()
  set(_sched 0)
  if(A_SCHED)
    set(_sched 1)
  endif()
  set(_srcs ${OBQ_ALLOC_SOURCES} ${OBQ_RCU_COMMON_SOURCES} ${OBQ_ALLOC_SRC_DIR}/rcu_${A_BACKEND}.c)
  if(_checked)
    list(APPEND _srcs ${OBQ_CHECK_SOURCES})
  endif()
  add_library(${name} STATIC ${_srcs})
  # alloc/testing: oblique/testing.h, the library's calls for tests and tools (outside
  # the programming interface of alloc/include; installed beside it).  sanitizers/ is
  # no include directory: the library reaches the checker through oblique/bits/track.h.
  target_include_directories(${name}
    PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/alloc/include>
           $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/alloc/testing>
           $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
           $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${PROJECT_SOURCE_DIR}/alloc/src)
  target_compile_definitions(${name} PUBLIC
    OBQ_RCU_BACKEND=${_num} OBQ_CHECKED=${_checked} OBQ_SCHED_POINTS=${_sched} ${A_DEFINES})
  target_link_libraries(${name} PRIVATE $<BUILD_INTERFACE:oblique_build_flags>)
  if(A_SANITIZE OR A_FUZZ_COVERAGE)
    # An SDK variant: its own flags, not the configuration's.
    obq_variant_sanitize(${name} "${A_SANITIZE}")
    if(A_FUZZ_COVERAGE)
      target_compile_options(${name} PRIVATE ${OBQ_FUZZ_NO_LINK_OPTIONS})
    endif()
  elseif(NOT A_NO_COVERAGE)
    target_link_libraries(${name} PRIVATE $<BUILD_INTERFACE:oblique_fuzz_lib_flags>)
  endif()
  find_package(Threads REQUIRED)
  target_link_libraries(${name} PUBLIC Threads::Threads)
  if(OBQ_RCU_LIBS_${A_BACKEND})
    target_link_libraries(${name} PUBLIC ${OBQ_RCU_LIBS_${A_BACKEND}})
  endif()
  if(OBQ_RCU_DEFINES_${A_BACKEND})
    target_compile_definitions(${name} PUBLIC ${OBQ_RCU_DEFINES_${A_BACKEND}})
  endif()
  if(OBQ_VALGRIND)
    # PUBLIC: code that inlines oblique/access.h (targets, users' programs) needs it too,
    # or its sanctioned reads of free objects are not made quiet (Valgrind "Invalid read").
    target_compile_definitions(${name} PUBLIC OBQ_VALGRIND=1)
  endif()
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON
                                           C_VISIBILITY_PRESET default)
endfunction()

# obq_add_sim_library(<name> [DEFINES d...])
# The deterministic variant the fuzz harness links (sim RCU, checked, scheduling
# points).  In a libFuzzer build (OBQ_FUZZ_LIB_SPLIT, ObqFlags.cmake) it comes twice:
# <name> without coverage, which every target links, and <name>_cov with it, for the
# targets of OBQ_FUZZ_LIB_SUBJECTS (obq_add_harness_pair makes their runtime).
function(obq_add_sim_library name)
  cmake_parse_arguments(A "" "" "DEFINES" ${ARGN})
  set(_defs "")
  if(A_DEFINES)
    set(_defs DEFINES ${A_DEFINES})
  endif()
  if(OBQ_FUZZ_LIB_SPLIT)
    obq_add_library(${name} BACKEND sim CHECKED ON SCHED ON ${_defs} NO_COVERAGE)
    obq_add_library(${name}_cov BACKEND sim CHECKED ON SCHED ON ${_defs})
  else()
    obq_add_library(${name} BACKEND sim CHECKED ON SCHED ON ${_defs})
  endif()
endfunction()
