/* check.h — the tests' tiny assertion helper (as mimalloc's CHECK).
 *
 *   CHECK(name, expr)   evaluates expr; on failure prints file:line, the name and the
 *                       expression, and counts the failure (the test goes on);
 *   CHECK_DONE()        prints a summary and returns the exit status for main:
 *                       return CHECK_DONE();
 *
 * Tests that want to stop at the first failure use CHECK_FATAL(name, expr). */
#ifndef OBQ_TEST_CHECK_H
#define OBQ_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>

static int check_failures;  /* failed CHECKs so far */
static int check_count;     /* CHECKs evaluated so far */

#define CHECK(name, expr)                                                              \
	do {                                                                           \
		check_count++;                                                         \
		if (!(expr)) {                                                         \
			fprintf(stderr, "FAIL %s:%d: %s: %s\n", __FILE__, __LINE__,    \
				(name), #expr);                                        \
			check_failures++;                                              \
		}                                                                      \
	} while (0)

/* expr is evaluated once (it may allocate). */
#define CHECK_FATAL(name, expr)                                                        \
	do {                                                                           \
		check_count++;                                                         \
		if (!(expr)) {                                                         \
			fprintf(stderr, "FAIL %s:%d: %s: %s\n", __FILE__, __LINE__,    \
				(name), #expr);                                        \
			check_failures++;                                              \
			fprintf(stderr, "stopping at the first fatal failure\n");      \
			exit(1);                                                       \
		}                                                                      \
	} while (0)

#define CHECK_DONE()                                                                   \
	(fprintf(check_failures ? stderr : stdout, "%s: %d checks, %d failed\n",      \
		 __FILE__, check_count, check_failures),                               \
	 check_failures ? 1 : 0)

#endif /* OBQ_TEST_CHECK_H */
