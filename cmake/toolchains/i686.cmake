# Cross toolchain for i686 Linux (ci/cross.sh); the shared part: linux-cross.cmake.
# On an x86-64 host the kernel runs i686 programs natively (no qemu).
if(CMAKE_HOST_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/env)
endif()
set(OBQ_CROSS_PROCESSOR i686)
set(OBQ_CROSS_TRIPLE i686-linux-gnu)
set(OBQ_CROSS_QEMU i386)
include(${CMAKE_CURRENT_LIST_DIR}/linux-cross.cmake)
