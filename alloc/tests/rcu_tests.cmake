# rcu_tests.cmake — the RCU suite (included by alloc/tests/CMakeLists.txt).
#   test_rcu           the RCU domain on the main library's backend (builtin or urcu)
#   test_rcu_portable  builtin only: the same with OBQ_RCU_PORTABLE=1 (fenced read side,
#                      sleep/yield waiting: the non-membarrier, non-futex fallback)
#   test_rcu_sim       the sim backend's invariant and determinism (oblique_sim)
#   test_rcu_misuse    every RCU misuse rule through the default hook in a child process,
#                      and silent twins (checked builds only)
if(NOT TARGET test_rcu)
  obq_add_test(test_rcu SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_rcu.c LABELS unit TIMEOUT 120)
  target_compile_definitions(test_rcu PRIVATE OBQ_TEST_EXPECT_BACKEND="${OBQ_RCU}")
endif()
if(OBQ_RCU STREQUAL "builtin")
  add_test(NAME test_rcu_portable COMMAND test_rcu)
  set_tests_properties(test_rcu_portable PROPERTIES LABELS unit TIMEOUT 120
                       ENVIRONMENT "OBQ_RCU_PORTABLE=1")
endif()
if(TARGET oblique_sim)
  obq_add_test(test_rcu_sim SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_rcu.c
               LIBS oblique_sim LABELS unit TIMEOUT 60)
  target_compile_definitions(test_rcu_sim PRIVATE OBQ_TEST_EXPECT_BACKEND="sim")
endif()
if(OBQ_CHECK)
  obq_add_test(test_rcu_misuse SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_rcu_misuse.c
               LABELS unit TIMEOUT 120)
endif()
