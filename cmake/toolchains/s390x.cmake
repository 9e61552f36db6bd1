# Cross toolchain for s390x Linux (ci/cross.sh); the shared part: linux-cross.cmake.
set(OBQ_CROSS_PROCESSOR s390x)
set(OBQ_CROSS_TRIPLE s390x-linux-gnu)
set(OBQ_CROSS_QEMU s390x)
include(${CMAKE_CURRENT_LIST_DIR}/linux-cross.cmake)
