# Cross toolchain for aarch64 Linux (ci/cross.sh); the shared part: linux-cross.cmake.
set(OBQ_CROSS_PROCESSOR aarch64)
set(OBQ_CROSS_TRIPLE aarch64-linux-gnu)
set(OBQ_CROSS_QEMU aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/linux-cross.cmake)
