/* report.c — type-stable checker (placeholder; being written). */
typedef int obq_placeholder_report_t;
