/* access.c — type-stable checker (placeholder; being written). */
typedef int obq_placeholder_access_t;
