# rcu_urcu.cmake — the build dependencies of the urcu RCU backend (the backend's own
# file: see alloc/src/rcu_backend.h).  Included by obq_add_library
# (cmake/ObqLibrary.cmake) for every variant on this backend, by cmake/ObqInstall.cmake
# when the installed allocator uses it, and by the installed obliqueConfig.cmake.
# Defines, for the backend <name> = urcu:
#   OBQ_RCU_LIBS_urcu         PUBLIC link libraries of a variant
#   OBQ_RCU_DEFINES_urcu      PUBLIC compile definitions of a variant
#   OBQ_RCU_PC_REQUIRES_urcu  pkg-config Requires of oblique.pc (the library is static)
if(NOT TARGET PkgConfig::URCU)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(URCU REQUIRED IMPORTED_TARGET GLOBAL liburcu-memb)
endif()
set(OBQ_RCU_LIBS_urcu PkgConfig::URCU)
set(OBQ_RCU_DEFINES_urcu _LGPL_SOURCE)
set(OBQ_RCU_PC_REQUIRES_urcu liburcu-memb)
