/* check.c — type-stable checker (placeholder; being written). */
typedef int obq_placeholder_check_t;
