# Sources of liboblique (alloc/), shared by every library variant (cmake/ObqLibrary.cmake).
set(_d ${CMAKE_CURRENT_LIST_DIR}/src)
set(OBQ_ALLOC_SOURCES
  ${_d}/os.c ${_d}/error.c ${_d}/thread.c ${_d}/sched.c ${_d}/variant.c ${_d}/fork.c ${_d}/inject.c
  ${_d}/pagemap.c ${_d}/slab.c ${_d}/magazine.c ${_d}/cache.c ${_d}/testing_hooks.c)
set(OBQ_RCU_SOURCES_builtin ${_d}/rcu_common.c ${_d}/rcu_builtin.c)
set(OBQ_RCU_SOURCES_urcu    ${_d}/rcu_common.c ${_d}/rcu_urcu.c)
set(OBQ_RCU_SOURCES_sim     ${_d}/rcu_common.c ${_d}/rcu_sim.c)
