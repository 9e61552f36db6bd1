# Cross toolchain for i686 (32-bit x86) Linux: Debian's gcc-i686-linux-gnu and
# libc6-dev-i386-cross (ci/cross.sh installs them).  On an x86-64 host the kernel runs
# 32-bit programs itself (IA32 emulation; the loader and libc come from libc6-i386), so
# the tests run natively, children included; elsewhere under qemu-i386.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR i686)
set(CMAKE_C_COMPILER i686-linux-gnu-gcc)
set(CMAKE_ASM_COMPILER i686-linux-gnu-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/i686-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# ctest and the build's seed encoding run the programs through the emulator (CMake
# substitutes a target's path in a custom command only when one is set): `env` where
# the kernel runs them itself.
if(CMAKE_HOST_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/env)
else()
  set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/qemu-i386-static)
endif()
