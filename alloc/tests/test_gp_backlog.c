/* test_gp_backlog.c — memory waiting for grace periods stays under obq_gp_backlog_max()
 * (docs/allocator.md, "Memory waiting for grace periods: the bound").
 *
 * Two reader threads keep a read-side section open at every instant (1 ms sections
 * started half a section apart, as the gpmem benchmark), so grace periods are slow;
 * the writer churns a typesafe cache (allocate ROUND objects, free them, shrink: its
 * empty slabs go behind a grace period) as fast as it can, sampling
 * obq_gp_backlog_bytes() after each round.  First with the bound off (figure only: how
 * far the backlog goes on this machine), then with a 2 MiB bound: the backlog must never
 * pass it (one writer, which may always wait) and the churn must go on (rounds done);
 * how often the writer helped is printed.
 *
 * Arguments: [seconds per phase] (default 1).  Exit 0 on success. */
#include <oblique/oblique.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"

#define ROUND 4000u
#define SECTION_US 1000u
#define BOUND ((size_t)2 << 20)

static atomic_int stop;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void spin_us(uint64_t us)
{
	uint64_t end = now_ns() + us * 1000u;
	while (now_ns() < end) {
	}
}

static void *reader(void *arg)
{
	obq_rcu_register_thread();
	if (arg)
		spin_us(SECTION_US / 2);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		obq_rcu_read_lock();
		spin_us(SECTION_US);
		obq_rcu_read_unlock();
	}
	obq_rcu_unregister_thread();
	return NULL;
}

/* Churn for `seconds`; returns the largest backlog seen, *rounds the rounds done. */
static size_t churn(obq_cache_t *c, void **v, double seconds, unsigned long *rounds)
{
	size_t peak = 0;
	uint64_t end = now_ns() + (uint64_t)(seconds * 1e9);
	*rounds = 0;
	while (now_ns() < end) {
		for (unsigned i = 0; i < ROUND; i++) {
			v[i] = obq_cache_alloc(c);
			if (v[i] == NULL) {
				fprintf(stderr, "out of memory after %lu rounds\n", *rounds);
				exit(1);
			}
		}
		for (unsigned i = 0; i < ROUND; i++)
			obq_cache_free(c, v[i]);
		obq_cache_shrink(c);
		size_t b = obq_gp_backlog_bytes();
		if (b > peak)
			peak = b;
		(*rounds)++;
	}
	return peak;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1.0;
	if (!(seconds > 0))
		seconds = 1.0;
	obq_cache_t *c = obq_cache_create("gp-backlog", 256, 0, OBQ_TYPESAFE_BY_RCU, NULL);
	CHECK_FATAL("create", c != NULL);
	void **v = malloc(ROUND * sizeof *v);
	CHECK_FATAL("malloc", v != NULL);
	pthread_t th[2];
	for (int i = 0; i < 2; i++) {
		int rc = pthread_create(&th[i], NULL, reader, i ? (void *)1 : NULL);
		CHECK_FATAL("pthread_create", rc == 0);
	}

	unsigned long r_off, r_on;
	obq_set_gp_backlog_max(0);
	size_t peak_off = churn(c, v, seconds, &r_off);
	obq_rcu_barrier();
	obq_set_gp_backlog_max(BOUND);
	unsigned long helps0 = obq_gp_backlog_helps();
	size_t peak_on = churn(c, v, seconds, &r_on);
	unsigned long helps = obq_gp_backlog_helps() - helps0;

	atomic_store(&stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	printf("no bound: peak %zu KiB waiting, %lu rounds; bound %zu KiB: peak %zu KiB, "
	       "%lu rounds, %lu helps\n", peak_off >> 10, r_off, BOUND >> 10, peak_on >> 10,
	       r_on, helps);
	CHECK("the bound holds", peak_on <= BOUND);
	CHECK("the writer went on", r_on > 0);
	/* Whether the writer had to help depends on how fast grace periods end on this
	 * machine (under TSan the worker keeps up with the slow writer): printed only. */
	obq_rcu_barrier();
	CHECK("nothing waits after the barrier", obq_gp_backlog_bytes() == 0);
	free(v);
	CHECK("destroy", obq_cache_destroy(c) == 0);
	return CHECK_DONE();
}
