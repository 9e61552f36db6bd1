# Cross toolchain for s390x Linux: Debian's gcc-s390x-linux-gnu and libc6-dev-*-cross
# (ci/cross.sh installs them).  Tests run under qemu-user (ci/cross.sh registers binfmt
# so that child processes run too; QEMU_LD_PREFIX=/usr/s390x-linux-gnu).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR s390x)
set(CMAKE_C_COMPILER s390x-linux-gnu-gcc)
set(CMAKE_ASM_COMPILER s390x-linux-gnu-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/s390x-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# ctest and the build's seed encoding run the programs through this (a target's name
# in add_test or add_custom_command);
# programs a test starts itself run through binfmt_misc.
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/qemu-s390x-static)
