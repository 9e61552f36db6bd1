# Sources of the type-stable checker (sanitizers/), included by cmake/ObqLibrary.cmake.
#   OBQ_CHECK_SOURCES  compiled into checked variants only (OBQ_CHECKED=1): the
#                      checker's entry points declared in the seam
#                      (alloc/include/oblique/bits/track.h), the access checks, the
#                      per-slot shadow, ASan/TSan/Valgrind policy, reports.
# What every variant needs (the out-of-line access layer, the sanitizer default
# options) lives in alloc/ (alloc/sources.cmake).
set(_obq_sd ${CMAKE_CURRENT_LIST_DIR})
set(OBQ_CHECK_SOURCES
  ${_obq_sd}/check.c ${_obq_sd}/shadow.c ${_obq_sd}/report.c ${_obq_sd}/asan.c)
