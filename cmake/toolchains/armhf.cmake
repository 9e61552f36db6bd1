# Cross toolchain for armhf Linux (ci/cross.sh); the shared part: linux-cross.cmake.
set(OBQ_CROSS_PROCESSOR arm)
set(OBQ_CROSS_TRIPLE arm-linux-gnueabihf)
set(OBQ_CROSS_QEMU arm)
include(${CMAKE_CURRENT_LIST_DIR}/linux-cross.cmake)
