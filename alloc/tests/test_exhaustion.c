/* test_exhaustion.c — oblique degrades, not dies, when the system refuses it a thread
 * or memory it needs (docs/allocator.md, "When resources run out").
 *
 * Each case runs in a child (the test binary re-executed with the case's name, default
 * error hook) with a failure injected through oblique/testing.h; the parent asserts
 * that the child exited 0 — every object released, every callback run, every cache
 * destroyed — and that the "resource-exhausted" notice was printed exactly once.
 *
 *   worker   the RCU callback thread cannot be created (every pthread_create refused):
 *            empty typesafe slabs are released by the freeing thread after a grace
 *            period, obq_rcu_call callbacks stay queued and obq_rcu_barrier runs them;
 *            once creation works again the next obq_rcu_call starts the thread.
 *   context  no memory for thread contexts: 24 threads (more than the 16 reserve
 *            contexts) each allocate, free and exit; those that find the reserve
 *            taken wait for a context given back.
 *
 * Arguments: none (ctest), or a case name (the child).  Exit 0 on success. */
#include <oblique/oblique.h>
#include <oblique/testing.h>

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "run_capture.h"

struct cbobj {
	struct obq_rcu_head rh;
	atomic_int ran;
};

static void cb_ran(struct obq_rcu_head *h)
{
	atomic_fetch_add(&((struct cbobj *)h)->ran, 1);
}

/* Allocate n objects, free them, shrink: their slabs go back (typesafe: through a
 * grace period).  Returns 0 on success. */
static int churn(obq_cache_t *c, unsigned n)
{
	void *v[512];
	if (n > 512)
		n = 512;
	for (unsigned i = 0; i < n; i++)
		if ((v[i] = obq_cache_alloc(c)) == NULL)
			return 1;
	for (unsigned i = 0; i < n; i++)
		obq_cache_free(c, v[i]);
	obq_cache_shrink(c);
	return 0;
}

static int case_worker(void)
{
	obq_testing_inject_failures(OBQ_INJECT_THREAD_CREATE, UINT_MAX);
	obq_set_slab_max_objects(8);
	obq_cache_t *c = obq_cache_create("exh-worker", 64, 0, OBQ_TYPESAFE_BY_RCU, NULL);
	CHECK_FATAL("create", c != NULL);
	unsigned long helps0 = obq_gp_backlog_helps();
	int bad = 0;
	for (int round = 0; round < 20; round++)
		bad |= churn(c, 256);
	CHECK_FATAL("churn", bad == 0);
	struct obq_cache_stats st;
	obq_cache_stats(c, &st);
	/* No worker: each shrink's empty slabs were released by this thread. */
	CHECK("no slab left waiting", st.slabs_waiting_gp == 0);
	CHECK("slabs released", st.slabs_released >= 20 * 256 / 8);
	CHECK("released by the freeing thread", obq_gp_backlog_helps() - helps0 >= 20);
	/* A user callback waits in the queue; the barrier runs it here. */
	static struct cbobj cb;
	obq_rcu_call(&cb.rh, cb_ran);
	CHECK("callback not run before the barrier", atomic_load(&cb.ran) == 0);
	obq_rcu_barrier();
	CHECK("barrier ran the callback", atomic_load(&cb.ran) == 1);
	/* Creation works again: the next call starts the worker (after the retry delay). */
	obq_testing_inject_failures(OBQ_INJECT_THREAD_CREATE, 0);
	struct timespec ts = { 0, 2000000 };
	nanosleep(&ts, NULL);
	obq_rcu_call(&cb.rh, cb_ran);
	for (int i = 0; i < 2000 && atomic_load(&cb.ran) != 2; i++)
		nanosleep(&ts, NULL); /* the worker, not a barrier, runs it */
	CHECK("worker started later ran the callback", atomic_load(&cb.ran) == 2);
	bad = churn(c, 256);
	CHECK("churn after", bad == 0);
	CHECK("destroy", obq_cache_destroy(c) == 0);
	return CHECK_DONE();
}

#define NTHREADS 24

static obq_cache_t *ctx_caches[2];
static atomic_int ctx_done;

static void *ctx_thread(void *arg)
{
	(void)arg;
	obq_rcu_register_thread();
	int bad = 0;
	for (int i = 0; i < 4; i++)
		bad |= churn(ctx_caches[i & 1], 64);
	obq_rcu_read_lock();
	obq_rcu_read_unlock();
	obq_rcu_unregister_thread();
	if (!bad)
		atomic_fetch_add(&ctx_done, 1);
	return NULL; /* the key destructor gives the context back */
}

static int case_context(void)
{
	ctx_caches[0] = obq_cache_create("exh-ctx-a", 64, 0, OBQ_TYPESAFE_BY_RCU, NULL);
	ctx_caches[1] = obq_cache_create("exh-ctx-b", 128, 0, 0, NULL);
	CHECK_FATAL("create", ctx_caches[0] && ctx_caches[1]);
	(void)obq_thread_current(); /* this thread's context exists before the failures start */
	obq_testing_inject_failures(OBQ_INJECT_THREAD_CONTEXT, UINT_MAX);
	pthread_t th[NTHREADS];
	for (int i = 0; i < NTHREADS; i++) {
		int rc = pthread_create(&th[i], NULL, ctx_thread, NULL); /* CHECK_FATAL evaluates twice */
		CHECK_FATAL("pthread_create", rc == 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	obq_testing_inject_failures(OBQ_INJECT_THREAD_CONTEXT, 0);
	CHECK("every thread ran", atomic_load(&ctx_done) == NTHREADS);
	CHECK("destroy a", obq_cache_destroy(ctx_caches[0]) == 0);
	CHECK("destroy b", obq_cache_destroy(ctx_caches[1]) == 0);
	return CHECK_DONE();
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void expect(char *self, const char *name, const char *what)
{
	char *argv[] = { self, (char *)name, NULL };
	char *out = NULL;
	int st = run_capture(argv, &out);
	int ok = st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
	size_t notices = out ? count(out, "==oblique== WARNING: resource-exhausted") : 0;
	printf("%-8s exit %s, %zu notice(s)\n", name,
	       ok ? "0" : "NOT 0", notices);
	CHECK(name, ok);
	CHECK(name, notices == 1);
	CHECK(name, out && strstr(out, what) != NULL);
	CHECK(name, out && strstr(out, "FAIL") == NULL);
	if (!ok || notices != 1)
		fprintf(stderr, "--- %s output:\n%s---\n", name, out ? out : "");
	free(out);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "worker") == 0)
		return case_worker();
	if (argc > 1 && strcmp(argv[1], "context") == 0)
		return case_context();
	expect(argv[0], "worker", "cannot start the RCU callback thread");
	expect(argv[0], "context", "no memory for a thread's oblique context");
	return CHECK_DONE();
}
