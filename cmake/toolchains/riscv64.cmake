# Cross toolchain for riscv64 Linux: Debian's gcc-riscv64-linux-gnu and libc6-dev-*-cross
# (ci/cross.sh installs them).  Tests run under qemu-user (ci/cross.sh registers binfmt
# so that child processes run too; QEMU_LD_PREFIX=/usr/riscv64-linux-gnu).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR riscv64)
set(CMAKE_C_COMPILER riscv64-linux-gnu-gcc)
set(CMAKE_ASM_COMPILER riscv64-linux-gnu-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/riscv64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# ctest and the build's seed encoding run the programs through this (a target's name
# in add_test or add_custom_command);
# programs a test starts itself run through binfmt_misc.
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/qemu-riscv64-static)
