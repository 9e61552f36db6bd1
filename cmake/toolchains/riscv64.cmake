# Cross toolchain for riscv64 Linux (ci/cross.sh); the shared part: linux-cross.cmake.
set(OBQ_CROSS_PROCESSOR riscv64)
set(OBQ_CROSS_TRIPLE riscv64-linux-gnu)
set(OBQ_CROSS_QEMU riscv64)
include(${CMAKE_CURRENT_LIST_DIR}/linux-cross.cmake)
