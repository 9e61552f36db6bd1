# Sources of the type-stable checker (sanitizers/), included by cmake/ObqLibrary.cmake.
#   OBQ_CHECK_SOURCES  compiled into checked variants only (OBQ_CHECKED=1): the hook
#                      implementations of alloc/src/check_hooks.h, the access checks,
#                      the per-slot shadow, ASan/TSan/Valgrind integration, reports.
#   access.c           the out-of-line part of oblique/access.h that every variant
#                      needs (obq_clear_except_guards, obq_describe_object, the
#                      obq_rcu_call_obj wrapper), and options.c (default sanitizer
#                      options); appended to OBQ_ALLOC_SOURCES so release builds get
#                      them too.
set(_obq_sd ${CMAKE_CURRENT_LIST_DIR})
set(OBQ_CHECK_SOURCES
  ${_obq_sd}/check.c ${_obq_sd}/shadow.c ${_obq_sd}/report.c ${_obq_sd}/asan.c
  ${_obq_sd}/valgrind.c)
list(APPEND OBQ_ALLOC_SOURCES ${_obq_sd}/access.c ${_obq_sd}/options.c)
