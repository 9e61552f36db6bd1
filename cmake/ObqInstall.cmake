# Install the allocator and the fuzzing SDK:
#   lib/liboblique*.a              the allocator (oblique) and every harness variant
#   include/oblique/               the allocator's headers, harness.h and testing.h
#                                  (alloc/include, targets/harness/include, alloc/testing)
#   lib/cmake/oblique/             find_package(oblique): imported targets
#                                  oblique::oblique, ::sim, ::harness, ::harness_main,
#                                  ::harness_stress, ::harness_weak(_main) (+ ::harness_asan,
#                                  ::harness_stress_tsan, ::harness_weak_asan from a clang
#                                  build) and oblique_add_fuzz_target() (obliqueFuzz.cmake)
#   lib/pkgconfig/                 oblique.pc, oblique-harness.pc, oblique-harness-stress.pc,
#                                  oblique-harness-weak.pc (+ oblique-harness-libfuzzer.pc,
#                                  oblique-harness-stress-tsan.pc,
#                                  oblique-harness-weak-libfuzzer.pc from a clang build)
#   share/oblique/harness/         glue compiled into each target binary (afl_main.c,
#                                  feedback.c)
#   share/oblique/targets, corpus  oblique's own targets with their seeds, dictionaries
#                                  and options (oblique_add_shipped_targets)
#   bin/obq-trace, bin/obq-fuzz    the tools (and bin/obq-crash-group, obq-fuzz's grouping)
# The main library's backend, from the table (cmake/ObqLibrary.cmake) and the
# backend's own CMake file (alloc/src/rcu_<name>.cmake, when it has one).
set(OBQ_RCU_BACKEND_NUM ${OBQ_RCU_NUM_${OBQ_RCU}})
obq_rcu_backend_deps(${OBQ_RCU})
set(OBQ_PC_REQUIRES "${OBQ_RCU_PC_REQUIRES_${OBQ_RCU}}")  # the library is static: a plain Requires
set(OBQ_PC_CFLAGS_EXTRA "")
foreach(_d IN LISTS OBQ_RCU_DEFINES_${OBQ_RCU})
  string(APPEND OBQ_PC_CFLAGS_EXTRA " -D${_d}")
endforeach()
string(STRIP "${OBQ_PC_CFLAGS_EXTRA}" OBQ_PC_CFLAGS_EXTRA)
if(OBQ_CHECK)
  set(OBQ_CHECKED_NUM 1)
else()
  set(OBQ_CHECKED_NUM 0)
endif()
configure_file(${PROJECT_SOURCE_DIR}/alloc/include/oblique/config.h.in
               ${PROJECT_BINARY_DIR}/include/oblique/config.h @ONLY)

set(_obq_pkgdir ${CMAKE_INSTALL_LIBDIR}/cmake/oblique)
set(_obq_install_targets oblique)
set_target_properties(oblique PROPERTIES EXPORT_NAME oblique)
if(OBQ_BUILD_TARGETS)
  list(APPEND _obq_install_targets oblique_sim oblique_harness_det oblique_harness_det_main
       oblique_harness_stress)
  set_target_properties(oblique_sim PROPERTIES EXPORT_NAME sim)
  set_target_properties(oblique_harness_det PROPERTIES EXPORT_NAME harness)
  set_target_properties(oblique_harness_det_main PROPERTIES EXPORT_NAME harness_main)
  set_target_properties(oblique_harness_stress PROPERTIES EXPORT_NAME harness_stress)
  if(TARGET oblique_harness_weak)
    # the weak-memory variant (docs/weak-memory.md): users' <name>-weak binaries
    list(APPEND _obq_install_targets oblique_harness_weak oblique_harness_weak_main)
    set_target_properties(oblique_harness_weak PROPERTIES EXPORT_NAME harness_weak)
    set_target_properties(oblique_harness_weak_main PROPERTIES EXPORT_NAME harness_weak_main)
  endif()
  if(TARGET oblique_checked)
    list(APPEND _obq_install_targets oblique_checked)
    set_target_properties(oblique_checked PROPERTIES EXPORT_NAME checked)
  endif()
  if(OBQ_SDK_VARIANTS)
    list(APPEND _obq_install_targets oblique_sim_asan oblique_harness_det_asan
         oblique_checked_tsan oblique_harness_stress_tsan)
    set_target_properties(oblique_sim_asan PROPERTIES EXPORT_NAME sim_asan)
    set_target_properties(oblique_harness_det_asan PROPERTIES EXPORT_NAME harness_asan)
    set_target_properties(oblique_checked_tsan PROPERTIES EXPORT_NAME checked_tsan)
    set_target_properties(oblique_harness_stress_tsan PROPERTIES EXPORT_NAME harness_stress_tsan)
    if(TARGET oblique_harness_weak_asan)
      # the weak-memory variant for libFuzzer: users' <name>-weak with ENGINE libfuzzer
      list(APPEND _obq_install_targets oblique_harness_weak_asan)
      set_target_properties(oblique_harness_weak_asan PROPERTIES EXPORT_NAME harness_weak_asan)
    endif()
  endif()
endif()
install(TARGETS ${_obq_install_targets} EXPORT obliqueTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/alloc/include/oblique
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_BINARY_DIR}/include/oblique/config.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/oblique)
if(OBQ_BUILD_TARGETS) # oblique/testing.h: the library's calls for the harness and tests
  install(FILES ${PROJECT_SOURCE_DIR}/alloc/testing/oblique/testing.h
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/oblique)
endif()
install(EXPORT obliqueTargets NAMESPACE oblique:: DESTINATION ${_obq_pkgdir})
if(OBQ_BUILD_TARGETS)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/targets/harness/include/oblique
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
  install(FILES ${PROJECT_SOURCE_DIR}/targets/harness/afl_main.c
                ${PROJECT_SOURCE_DIR}/targets/harness/feedback.c
          DESTINATION ${CMAKE_INSTALL_DATADIR}/oblique/harness)
  install(TARGETS obq-trace RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(PROGRAMS ${PROJECT_SOURCE_DIR}/targets/tools/obq-fuzz
                   ${PROJECT_SOURCE_DIR}/targets/tools/obq-crash-group
          DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(FILES ${PROJECT_SOURCE_DIR}/cmake/obliqueFuzz.cmake DESTINATION ${_obq_pkgdir})
  # oblique's own targets, for allocator authors (oblique_add_shipped_targets)
  file(STRINGS ${PROJECT_SOURCE_DIR}/targets/targets.list _obq_shipped REGEX "^[a-z0-9_]+$")
  set(_obq_share ${CMAKE_INSTALL_DATADIR}/oblique)
  install(FILES ${PROJECT_SOURCE_DIR}/targets/targets.list ${PROJECT_SOURCE_DIR}/targets/mutant.h
          DESTINATION ${_obq_share}/targets)
  install(FILES ${PROJECT_SOURCE_DIR}/corpus/default.options DESTINATION ${_obq_share}/corpus)
  foreach(t ${_obq_shipped})
    install(FILES ${PROJECT_SOURCE_DIR}/targets/${t}.c DESTINATION ${_obq_share}/targets)
    install(DIRECTORY ${PROJECT_SOURCE_DIR}/corpus/${t} DESTINATION ${_obq_share}/corpus
            PATTERN "bytes" EXCLUDE)
    foreach(kind dict options)
      if(EXISTS ${PROJECT_SOURCE_DIR}/corpus/${t}.${kind})
        install(FILES ${PROJECT_SOURCE_DIR}/corpus/${t}.${kind} DESTINATION ${_obq_share}/corpus)
      endif()
    endforeach()
  endforeach()
endif()

include(CMakePackageConfigHelpers)
file(RELATIVE_PATH OBQ_GLUE_REL "${CMAKE_INSTALL_PREFIX}/${_obq_pkgdir}"
     "${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DATADIR}/oblique/harness")
file(RELATIVE_PATH OBQ_BIN_REL "${CMAKE_INSTALL_PREFIX}/${_obq_pkgdir}"
     "${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}")
file(WRITE ${PROJECT_BINARY_DIR}/obliqueConfig.cmake.in [=[
# find_package(oblique): the allocator (oblique::oblique) and, when installed, the
# fuzzing SDK: oblique::harness (deterministic), oblique::harness_main (+ the standalone
# runner's main), oblique::harness_stress, oblique::harness_weak(_main) (the weak-memory
# mode), oblique::harness_asan, oblique::harness_stress_tsan and oblique::harness_weak_asan
# (clang builds), and oblique_add_fuzz_target().
@PACKAGE_INIT@
include(CMakeFindDependencyMacro)
find_dependency(Threads)
if(EXISTS "${CMAKE_CURRENT_LIST_DIR}/rcu_@OBQ_RCU@.cmake")
  include("${CMAKE_CURRENT_LIST_DIR}/rcu_@OBQ_RCU@.cmake") # the backend's dependencies
endif()
include("${CMAKE_CURRENT_LIST_DIR}/obliqueTargets.cmake")
if(EXISTS "${CMAKE_CURRENT_LIST_DIR}/obliqueFuzz.cmake")
  get_filename_component(OBLIQUE_HARNESS_GLUE_DIR "${CMAKE_CURRENT_LIST_DIR}/@OBQ_GLUE_REL@" ABSOLUTE)
  get_filename_component(OBLIQUE_BIN_DIR "${CMAKE_CURRENT_LIST_DIR}/@OBQ_BIN_REL@" ABSOLUTE)
  set(OBLIQUE_FUZZ "${OBLIQUE_BIN_DIR}/obq-fuzz")    # the campaign driver
  set(OBLIQUE_TRACE "${OBLIQUE_BIN_DIR}/obq-trace")  # decode / encode / replay / minimize
  get_filename_component(_obq_share "${OBLIQUE_HARNESS_GLUE_DIR}/.." ABSOLUTE)
  set(OBLIQUE_SHIPPED_TARGETS_DIR "${_obq_share}/targets") # oblique_add_shipped_targets
  set(OBLIQUE_SHIPPED_CORPUS_DIR "${_obq_share}/corpus")
  include("${CMAKE_CURRENT_LIST_DIR}/obliqueFuzz.cmake")
endif()
check_required_components(oblique)
]=])
configure_package_config_file(${PROJECT_BINARY_DIR}/obliqueConfig.cmake.in
  ${PROJECT_BINARY_DIR}/obliqueConfig.cmake
  INSTALL_DESTINATION ${_obq_pkgdir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/obliqueConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/obliqueConfig.cmake
              ${PROJECT_BINARY_DIR}/obliqueConfigVersion.cmake
        DESTINATION ${_obq_pkgdir})
if(EXISTS ${PROJECT_SOURCE_DIR}/alloc/src/rcu_${OBQ_RCU}.cmake) # the backend's dependencies
  install(FILES ${PROJECT_SOURCE_DIR}/alloc/src/rcu_${OBQ_RCU}.cmake DESTINATION ${_obq_pkgdir})
endif()

# pkg-config: one file per variant; each carries its variant's definitions (and, for
# the sanitizer variants, the sanitizer flags).  Relocatable: the prefix is found from
# the .pc file's own location.
file(RELATIVE_PATH OBQ_PC_UP "${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig" "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "/$" "" OBQ_PC_UP "${OBQ_PC_UP}")
# obq_pc(<file> <description> <libs> <cflags> [<requires>])
function(obq_pc file desc libs cflags)
  set(OBQ_PC_NAME ${file})
  set(OBQ_PC_DESC "${desc}")
  set(OBQ_PC_LIBS "${libs}")
  set(OBQ_PC_CFLAGS "${cflags}")
  configure_file(${PROJECT_SOURCE_DIR}/cmake/oblique.pc.in ${PROJECT_BINARY_DIR}/pc/${file}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/pc/${file}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endfunction()
set(_v_main "-DOBQ_RCU_BACKEND=${OBQ_RCU_BACKEND_NUM} -DOBQ_CHECKED=${OBQ_CHECKED_NUM} -DOBQ_SCHED_POINTS=0 ${OBQ_PC_CFLAGS_EXTRA}")
set(_v_sim "-DOBQ_RCU_BACKEND=${OBQ_RCU_NUM_sim} -DOBQ_CHECKED=1 -DOBQ_SCHED_POINTS=1")
set(_v_chk "-DOBQ_RCU_BACKEND=${OBQ_RCU_BACKEND_NUM} -DOBQ_CHECKED=1 -DOBQ_SCHED_POINTS=0 ${OBQ_PC_CFLAGS_EXTRA}")
set(_asan "-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined")
set(_stress_lib oblique)
if(TARGET oblique_checked)
  set(_stress_lib oblique_checked)
endif()
obq_pc(oblique "type-stable (typesafe-by-RCU) slab allocator with RCU domains"
       "-loblique -pthread" "${_v_main}")
if(OBQ_BUILD_TARGETS)
  obq_pc(oblique-harness "oblique fuzzing SDK: deterministic harness with the standalone runner's main"
         "-loblique_harness_det_main -loblique_harness_det -loblique_sim -pthread" "${_v_sim}")
  obq_pc(oblique-harness-stress "oblique fuzzing SDK: stress mode on real threads"
         "-loblique_harness_stress -l${_stress_lib} -pthread" "${_v_chk}")
  if(TARGET oblique_harness_weak)
    # The weak-memory mode (docs/weak-memory.md): the target's files are compiled with
    # -fsanitize=thread (Cflags) and linked WITHOUT it (Libs) — the harness library
    # holds the __tsan_* runtime the instrumentation calls; -fsanitize=thread on the
    # link line would pull in libtsan too.  So compile (-c, --cflags) and link (--libs)
    # in two steps, as make's default rules do.  The configuration's own sanitizers,
    # if any, are the harness's link flags (OBQ_WEAK_LINK_OPTIONS in-tree).
    set(_weak_link "")
    if(OBQ_SANITIZE)
      string(REPLACE ";" "," _weak_link "-fsanitize=${OBQ_SANITIZE} ")
    endif()
    obq_pc(oblique-harness-weak "oblique fuzzing SDK: weak-memory harness, standalone runner (compile with --cflags, link with --libs: two steps)"
           "${_weak_link}-loblique_harness_weak_main -loblique_harness_weak -loblique_sim -pthread"
           "${_v_sim} -fsanitize=thread")
    if(TARGET oblique_harness_weak_asan)
      obq_pc(oblique-harness-weak-libfuzzer "oblique fuzzing SDK: weak-memory harness for libFuzzer, ASan+UBSan libraries (compile with --cflags, link with --libs: two steps)"
             "-fsanitize=fuzzer,address,undefined -loblique_harness_weak_asan -loblique_sim_asan -pthread"
             "${_v_sim} -fsanitize=thread -fsanitize=fuzzer-no-link -fno-sanitize-coverage=stack-depth")
    endif()
  endif()
  if(OBQ_SDK_VARIANTS)
    obq_pc(oblique-harness-libfuzzer "oblique fuzzing SDK: deterministic harness for libFuzzer, ASan+UBSan"
           "-fsanitize=fuzzer,address,undefined -loblique_harness_det_asan -loblique_sim_asan -pthread"
           "${_v_sim} -fsanitize=fuzzer ${_asan}")
    obq_pc(oblique-harness-stress-tsan "oblique fuzzing SDK: stress mode under ThreadSanitizer"
           "-fsanitize=thread -loblique_harness_stress_tsan -loblique_checked_tsan -pthread"
           "${_v_chk} -fsanitize=thread")
  endif()
endif()
