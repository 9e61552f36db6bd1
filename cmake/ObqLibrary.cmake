# obq_add_library(<name> BACKEND builtin|urcu|sim CHECKED ON|OFF [SCHED ON|OFF] [EXPORT]
#                 [DEFINES d...])
# One variant of liboblique from the same sources.  The variant's switches are PUBLIC
# compile definitions, so code that includes the public headers sees the same variant.
include(${CMAKE_CURRENT_LIST_DIR}/../alloc/sources.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/../sanitizers/sources.cmake)

function(obq_add_library name)
  cmake_parse_arguments(A "EXPORT" "BACKEND;CHECKED;SCHED" "DEFINES" ${ARGN})
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
    $<BUILD_INTERFACE:OBQ_RCU_BACKEND=${_num};OBQ_CHECKED=${_checked};OBQ_SCHED_POINTS=${_sched}>
    ${A_DEFINES})
  target_link_libraries(${name} PRIVATE $<BUILD_INTERFACE:oblique_build_flags>
                                        $<BUILD_INTERFACE:oblique_fuzz_lib_flags>)
  find_package(Threads REQUIRED)
  target_link_libraries(${name} PUBLIC Threads::Threads)
  if(A_BACKEND STREQUAL "urcu")
    target_link_libraries(${name} PUBLIC PkgConfig::URCU)
    target_compile_definitions(${name} PUBLIC _LGPL_SOURCE)
  endif()
  if(OBQ_VALGRIND)
    target_compile_definitions(${name} PRIVATE OBQ_VALGRIND=1)
  endif()
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON
                                           C_VISIBILITY_PRESET default)
endfunction()
