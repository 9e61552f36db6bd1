# Install the main library, its headers, a CMake package (find_package(oblique)) and a
# pkg-config file (oblique.pc).
if(OBQ_RCU STREQUAL "urcu")
  set(OBQ_RCU_BACKEND_NUM 2)
  set(OBQ_PC_REQUIRES "liburcu-memb")  # the library is static: a plain Requires
  set(OBQ_PC_CFLAGS_EXTRA "-D_LGPL_SOURCE")
else()
  set(OBQ_RCU_BACKEND_NUM 1)
  set(OBQ_PC_REQUIRES "")
  set(OBQ_PC_CFLAGS_EXTRA "")
endif()
if(OBQ_CHECK)
  set(OBQ_CHECKED_NUM 1)
else()
  set(OBQ_CHECKED_NUM 0)
endif()
configure_file(${PROJECT_SOURCE_DIR}/alloc/include/oblique/config.h.in
               ${PROJECT_BINARY_DIR}/include/oblique/config.h @ONLY)

install(TARGETS oblique EXPORT obliqueTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/alloc/include/oblique
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_BINARY_DIR}/include/oblique/config.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/oblique)
install(EXPORT obliqueTargets NAMESPACE oblique::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/oblique)

include(CMakePackageConfigHelpers)
file(WRITE ${PROJECT_BINARY_DIR}/obliqueConfig.cmake.in [=[
@PACKAGE_INIT@
include(CMakeFindDependencyMacro)
find_dependency(Threads)
if("@OBQ_RCU@" STREQUAL "urcu")
  find_dependency(PkgConfig)
  pkg_check_modules(URCU REQUIRED IMPORTED_TARGET liburcu-memb)
endif()
include("${CMAKE_CURRENT_LIST_DIR}/obliqueTargets.cmake")
]=])
configure_package_config_file(${PROJECT_BINARY_DIR}/obliqueConfig.cmake.in
  ${PROJECT_BINARY_DIR}/obliqueConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/oblique)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/obliqueConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/obliqueConfig.cmake
              ${PROJECT_BINARY_DIR}/obliqueConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/oblique)

# Relocatable: the prefix is found from the .pc file's own location.
file(RELATIVE_PATH OBQ_PC_UP "${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig" "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "/$" "" OBQ_PC_UP "${OBQ_PC_UP}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/oblique.pc.in ${PROJECT_BINARY_DIR}/oblique.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/oblique.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
