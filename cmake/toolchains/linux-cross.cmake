# The shared part of the cross toolchains (cmake/toolchains/<arch>.cmake set
# OBQ_CROSS_PROCESSOR, OBQ_CROSS_TRIPLE and OBQ_CROSS_QEMU, then include this): Debian's
# gcc-<triple> and libc6-dev-*-cross (ci/cross.sh installs them).  ctest and the build's
# seed encoding run the programs through CMAKE_CROSSCOMPILING_EMULATOR (a target's name
# in add_test or add_custom_command); programs a test starts itself run through
# binfmt_misc, which ci/cross.sh registers (QEMU_LD_PREFIX=/usr/<triple>).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${OBQ_CROSS_PROCESSOR})
set(CMAKE_C_COMPILER ${OBQ_CROSS_TRIPLE}-gcc)
set(CMAKE_ASM_COMPILER ${OBQ_CROSS_TRIPLE}-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/${OBQ_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
if(NOT CMAKE_CROSSCOMPILING_EMULATOR)
  set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/qemu-${OBQ_CROSS_QEMU}-static)
endif()
