# Cross toolchain for armhf Linux: Debian's gcc-arm-linux-gnueabihf and libc6-dev-*-cross
# (ci/cross.sh installs them).  Tests run under qemu-user (ci/cross.sh registers binfmt
# so that child processes run too; QEMU_LD_PREFIX=/usr/arm-linux-gnueabihf).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_ASM_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/arm-linux-gnueabihf)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# ctest and the build's seed encoding run the programs through this (a target's name
# in add_test or add_custom_command);
# programs a test starts itself run through binfmt_misc.
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/qemu-arm-static)
