/* inject.c — resource failures injected by tests (oblique/testing.h:
 * obq_testing_inject_failures), so the degraded paths that run when the system refuses
 * a thread or memory can be exercised on demand.  Each point keeps a count of attempts
 * left to fail; the paths ask _obq_inject_fail(point) just before the real call. */
#include "internal.h"

#include <oblique/testing.h>

#include <limits.h>

/* Attempts left to fail, per point; UINT_MAX: every attempt.  Accessed with __atomic
 * builtins, relaxed: a test setting, read by the failing path; no data is published
 * through it. */
static unsigned left[OBQ_INJECT_COUNT];

void obq_testing_inject_failures(enum obq_inject what, unsigned n)
{
	if ((unsigned)what < OBQ_INJECT_COUNT)
		__atomic_store_n(&left[what], n, __ATOMIC_RELAXED);
}

int _obq_inject_fail(int what)
{
	if ((unsigned)what >= OBQ_INJECT_COUNT)
		return 0;
	unsigned n = __atomic_load_n(&left[what], __ATOMIC_RELAXED);
	for (;;) {
		if (OBQ_LIKELY(n == 0))
			return 0;
		if (n == UINT_MAX)
			return 1;
		/* Relaxed CAS: concurrent attempts each take one failure. */
		if (__atomic_compare_exchange_n(&left[what], &n, n - 1, 0, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return 1;
	}
}
