/* test_fork.c — fork(2) from a busy multi-threaded process: every child can use every
 * cache and the RCU domain, and none hangs.
 *
 * Worker threads allocate and free in two typesafe caches and one plain cache (small
 * slabs, shrinks, obq_rcu_call) while the main thread forks CHILDREN children one after
 * the other.  Each child allocates and frees in every cache, shrinks them, queues a
 * callback and waits for it with obq_rcu_barrier, synchronizes, creates and destroys a
 * cache of its own, and exits 0; an alarm kills a child stuck for 10 s (a lock held by
 * a parent thread at the fork).  The test passes when every child exited 0. */
#include <oblique/oblique.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define NWORKERS 3
#define CHILDREN 100
#define NCACHES 3

static obq_cache_t *caches[NCACHES];
static atomic_int stop;

struct cbobj {
	struct obq_rcu_head rh; /* queued by workers */
	atomic_int busy;        /* 1 while queued */
};

static void cb_done(struct obq_rcu_head *h)
{
	atomic_store(&((struct cbobj *)h)->busy, 0);
}

/* Not on the workers' stacks: a callback a worker queued before a fork is still queued
 * in the child, where glibc hands the vanished threads' stacks to the child's new
 * threads (the RCU worker) — a head on such a stack would be overwritten there. */
static struct cbobj worker_cb[NWORKERS];

static void *worker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	struct cbobj *cb = &worker_cb[seed - 1];
	void *held[64] = {0};
	obq_rcu_register_thread();
	while (!atomic_load(&stop)) {
		seed = seed * 1103515245u + 12345u;
		unsigned c = (seed >> 8) % NCACHES, k = (seed >> 16) % 64;
		if (held[k]) {
			obq_cache_free(caches[k % NCACHES], held[k]);
			held[k] = NULL;
		} else {
			held[k] = obq_cache_alloc(caches[k % NCACHES]);
		}
		if ((seed >> 4) % 97 == 0)
			obq_cache_shrink(caches[c]);
		if ((seed >> 4) % 101 == 0 && !atomic_exchange(&cb->busy, 1))
			obq_rcu_call(&cb->rh, cb_done);
		obq_rcu_read_lock();
		obq_rcu_read_unlock();
	}
	for (unsigned k = 0; k < 64; k++)
		if (held[k])
			obq_cache_free(caches[k % NCACHES], held[k]);
	while (atomic_load(&cb->busy))
		obq_rcu_barrier();
	obq_rcu_unregister_thread();
	return NULL;
}

static int child_main(void)
{
	alarm(10);
	struct cbobj cb = {.busy = 1};
	obq_rcu_register_thread();
	for (unsigned c = 0; c < NCACHES; c++) {
		void *v[100];
		for (unsigned i = 0; i < 100; i++)
			if ((v[i] = obq_cache_alloc(caches[c])) == NULL)
				return 3;
		for (unsigned i = 0; i < 100; i++)
			obq_cache_free(caches[c], v[i]);
		obq_cache_shrink(caches[c]);
	}
	obq_rcu_call(&cb.rh, cb_done);
	obq_rcu_barrier();
	if (atomic_load(&cb.busy))
		return 4;
	obq_rcu_synchronize();
	obq_cache_t *own = obq_cache_create("child", 48, 0, OBQ_TYPESAFE_BY_RCU, NULL);
	if (own == NULL)
		return 5;
	void *p = obq_cache_alloc(own);
	obq_cache_free(own, p);
	if (obq_cache_destroy(own) != 0)
		return 6;
	obq_rcu_unregister_thread();
	return 0;
}

int main(void)
{
	obq_set_slab_max_objects(8);
	caches[0] = obq_cache_create("fork-a", 64, 0, OBQ_TYPESAFE_BY_RCU, NULL);
	caches[1] = obq_cache_create("fork-b", 200, 0, OBQ_TYPESAFE_BY_RCU, NULL);
	caches[2] = obq_cache_create("fork-c", 32, 0, 0, NULL);
	CHECK_FATAL("caches", caches[0] && caches[1] && caches[2]);
	pthread_t th[NWORKERS];
	for (unsigned i = 0; i < NWORKERS; i++)
		pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)(i + 1));
	unsigned ok = 0, hung = 0, failed = 0;
	for (unsigned n = 0; n < CHILDREN; n++) {
		fflush(NULL);
		pid_t pid = fork();
		if (pid == 0)
			_exit(child_main());
		int st = 0;
		waitpid(pid, &st, 0);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			ok++;
		else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
			hung++;
		else {
			failed++;
			if (WIFEXITED(st))
				printf("fork: child %u exited %d\n", n, WEXITSTATUS(st));
			else
				printf("fork: child %u died of signal %d\n", n, WTERMSIG(st));
		}
		if (hung || failed)
			break; /* one is enough: each hang costs the alarm's 10 s */
	}
	atomic_store(&stop, 1);
	for (unsigned i = 0; i < NWORKERS; i++)
		pthread_join(th[i], NULL);
	printf("fork: %u children ok, %u hung, %u failed (of %u)\n", ok, hung, failed, CHILDREN);
	CHECK("no child hung", hung == 0);
	CHECK("no child failed", failed == 0);
	CHECK("every child ok", ok == CHILDREN);
	for (unsigned c = 0; c < NCACHES; c++)
		CHECK("destroy", obq_cache_destroy(caches[c]) == 0);
	return CHECK_DONE();
}
