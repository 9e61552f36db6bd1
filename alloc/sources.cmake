# Sources of liboblique (alloc/), shared by every library variant (cmake/ObqLibrary.cmake).
set(_d ${CMAKE_CURRENT_LIST_DIR}/src)
set(OBQ_ALLOC_SOURCES
  ${_d}/os.c ${_d}/error.c ${_d}/thread.c ${_d}/sched.c ${_d}/variant.c ${_d}/fork.c ${_d}/inject.c
  ${_d}/pagemap.c ${_d}/slab.c ${_d}/magazine.c ${_d}/cache.c ${_d}/testing_hooks.c
  ${_d}/access.c ${_d}/options.c)
# The RCU layer: rcu_common.c + the backend's rcu_<name>.c (cmake/ObqLibrary.cmake).
set(OBQ_ALLOC_SRC_DIR ${_d})
set(OBQ_RCU_COMMON_SOURCES ${_d}/rcu_common.c)
