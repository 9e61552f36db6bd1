/* valgrind.c — type-stable checker (placeholder; being written). */
typedef int obq_placeholder_valgrind_t;
