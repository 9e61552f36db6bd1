/* rcu_common.c — the parts of the RCU layer every backend shares: misuse reports, the
 * grace-period stall bound, small wait helpers, and (builtin and urcu backends) the
 * obq_rcu_call callback queue with its worker thread and obq_rcu_barrier.
 *
 * Callback queue (builtin, urcu)
 * ------------------------------
 * obq_rcu_call pushes onto one process-wide LIFO with a single atomic exchange (wait
 * free, as liburcu's wfcqueue): the new head's link is first set to PENDING, the head
 * pointer is exchanged, then the link is set to the old head.  A lazily started worker
 * thread takes the whole list with one exchange, reverses it (resolving PENDING links
 * by spinning: a producer is between its two instructions), runs ONE obq_rcu_synchronize
 * for the batch and then every callback in the order they were queued.  Batches are run
 * one after the other, so "every callback queued before X has run" holds once X ran.
 *
 * obq_rcu_barrier queues a marker callback and sleeps until the worker ran it.  A batch
 * made only of markers skips the grace period (markers need none).
 *
 * Batching pause: after a batch that needed a grace period the worker waits up to
 * OBQ_RCU_BATCH_PAUSE_NS before it takes the next one (liburcu's call_rcu thread polls
 * 10 ms between batches), so a stream of calls shares grace periods.  Every grace period
 * IPIs the other CPUs through membarrier: without the pause a producer calling in a loop
 * paid for one every few hundred callbacks (the throughput with and without it:
 * docs/benchmarks.md, finding A8).  A barrier caller
 * (cbq.barriers > 0) ends the pause at once, so obq_rcu_barrier does not wait for it.
 *
 * Sleeping worker: it sets `sleeping` and re-checks the queue under `m`; a producer that
 * pushed onto an empty queue reads `sleeping` and signals under `m`.  Both sides use
 * seq_cst (Dekker): either the worker sees the new head or the producer sees sleeping=1.
 *
 * The worker is detached and registered as an RCU reader (callbacks may take read-side
 * locks); it does not keep the process alive.  Callbacks run on the worker: they must
 * not call obq_rcu_barrier (it would wait for itself) and should be short.
 *
 * fork(): handlers lock the queue and the backend's grace-period locks around fork;
 * the child forgets the worker (restarted by its next obq_rcu_call or obq_rcu_barrier),
 * keeps the queued callbacks and only its own RCU registration.  A batch the worker had taken but not finished at fork is
 * not run in the child.
 *
 * No worker to be had (pthread_create refused): see start_worker and drain_here.
 *
 * Lock order: drain_m -> cbq.m -> backend gp lock -> backend registry lock; qs_lock
 * (checked builds: the queued-head set) is a leaf. */
#include "rcu_internal.h"
#include "os.h"

#include <oblique/testing.h> /* OBQ_INJECT_THREAD_CREATE */

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define container_of(p, T, m) ((T *)((char *)(p) - offsetof(T, m)))

/* ------------------------------------------------------------------------------ */
/* misuse reports                                                                  */

static unsigned tid(const struct obq_thread *t)
{
	return t ? t->id : 0;
}

void _obq_rcu_report_sync_in_reader(const struct obq_thread *t, const char *call)
{
	_obq_report(OBQ_ERR_RCU_SYNC_IN_READER, NULL, NULL, NULL, 0,
		    "  thread %u called %s inside an RCU read-side section (nesting depth %u):\n"
		    "  it would wait for its own section to end, forever.\n"
		    "  Call it after the matching obq_rcu_read_unlock(), or defer the work with\n"
		    "  obq_rcu_call().  The call returned without waiting.\n",
		    tid(t), call, t ? _obq_rcu_nesting(t) : 0);
}

#if OBQ_CHECKED
/* ------------------------------------------------------------------------------ */
/* queued heads (checked builds): rule rcu-head-double-queued                      */

/* The heads queued and not yet run, as CONFIG_DEBUG_OBJECTS_RCU_HEAD tracks them: an
 * open-addressing set (linear probing, backward-shift deletion) of head addresses with
 * the function each was queued with, under qs_lock (a leaf lock).  A head enters in
 * obq_rcu_call and leaves just before its function is called, so a callback may queue
 * its own head again.  Out of memory to grow the set: heads are not tracked (no
 * report), never refused. */
struct qs_entry {
	const struct obq_rcu_head *head; /* NULL: empty */
	void (*func)(struct obq_rcu_head *);
	unsigned long need;              /* _obq_rcu_gp_target() when queued (alloc-early-callback) */
};
static pthread_mutex_t qs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct qs_entry *qs_tab;   /* under qs_lock */
static size_t qs_cap, qs_n;       /* capacity (a power of two, or 0) and entries */

static size_t qs_hash(const struct obq_rcu_head *h)
{
	uint64_t x = (uint64_t)(uintptr_t)h;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return (size_t)x;
}

/* With qs_lock: the index of h's entry, or of the empty slot where it would go. */
static size_t qs_find(const struct obq_rcu_head *h)
{
	size_t m = qs_cap - 1, i = qs_hash(h) & m;
	while (qs_tab[i].head != NULL && qs_tab[i].head != h)
		i = (i + 1) & m;
	return i;
}

static int qs_grow(void)
{
	size_t cap = qs_cap ? 2 * qs_cap : 256;
	struct qs_entry *t = calloc(cap, sizeof *t), *old = qs_tab;
	if (t == NULL)
		return 0;
	size_t ocap = qs_cap;
	qs_tab = t;
	qs_cap = cap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].head)
			qs_tab[qs_find(old[i].head)] = old[i];
	free(old);
	return 1;
}

/* 1 if head may be queued (and it is now tracked); 0 after a report. */
int _obq_rcu_head_track(const struct obq_rcu_head *head, void (*func)(struct obq_rcu_head *))
{
	void (*prev)(struct obq_rcu_head *) = NULL;
	pthread_mutex_lock(&qs_lock);
	if ((qs_n + 1) * 2 > qs_cap && !qs_grow()) {
		pthread_mutex_unlock(&qs_lock);
		return 1;
	}
	size_t i = qs_find(head);
	if (qs_tab[i].head == NULL) {
		qs_tab[i].head = head;
		qs_tab[i].func = func;
		qs_tab[i].need = _obq_rcu_gp_target();
		qs_n++;
	} else {
		prev = qs_tab[i].func;
	}
	pthread_mutex_unlock(&qs_lock);
	if (prev == NULL)
		return 1;
	_obq_report(OBQ_ERR_RCU_HEAD_DOUBLE, NULL, head, NULL, 0,
		    "  obq_rcu_call(%p, %p) of a head that is already queued (with function %p)\n"
		    "  and whose callback has not run yet.  Queued twice, the callback would run\n"
		    "  twice (or the queue would be corrupted): typically an object freed twice\n"
		    "  through obq_rcu_call, or a head reused before its callback ran.  Queue a\n"
		    "  head again only from its callback or after it ran.  Nothing was queued.\n",
		    (const void *)head, *(void **)&func, *(void **)&prev);
	return 0;
}

void _obq_rcu_head_unqueued(const struct obq_rcu_head *head)
{
	unsigned long need = 0;
	void (*func)(struct obq_rcu_head *) = NULL;
	pthread_mutex_lock(&qs_lock);
	if (qs_n > 0) {
		size_t m = qs_cap - 1, i = qs_find(head);
		if (qs_tab[i].head == head) {
			need = qs_tab[i].need;
			func = qs_tab[i].func;
			/* Backward-shift deletion: pull later entries of the run into the hole. */
			size_t j = i;
			qs_tab[i].head = NULL;
			qs_n--;
			for (;;) {
				j = (j + 1) & m;
				if (qs_tab[j].head == NULL)
					break;
				size_t k = qs_hash(qs_tab[j].head) & m;
				/* Move j into the hole at i unless its home k lies in (i, j]. */
				if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
					continue;
				qs_tab[i] = qs_tab[j];
				qs_tab[j].head = NULL;
				i = j;
			}
		}
	}
	pthread_mutex_unlock(&qs_lock);
	/* Allocator contract: the callback's grace period (one that began after its
	 * obq_rcu_call) must have completed.  Reported, then the callback still runs. */
	unsigned long now = obq_rcu_gp_count();
	if (func != NULL && now < need)
		_obq_report(OBQ_ERR_ALLOC_EARLY_CALLBACK, NULL, head, NULL, 0,
			    "  the RCU backend (%s) is about to run the callback %p of head %p\n"
			    "  before its grace period: it was queued when a grace period ending at\n"
			    "  count %lu was owed, and the count is %lu.  Any reader inside a\n"
			    "  read-side section when obq_rcu_call ran may still hold what the\n"
			    "  callback frees: a bug of the RCU implementation, not of its caller.\n",
			    obq_rcu_backend(), *(void **)&func, (const void *)head, need, now);
}

/* Invariant: qs_n counts the non-empty entries, and an empty table has no other mark
 * (no tombstones: deletion shifts entries back), so qs_n == 0 means every entry is
 * empty already.  A clean run's callbacks all ran (qs_n == 0): the fuzzing harness
 * calls this after every input, so clearing only a non-empty table keeps the whole
 * table's memset off most runs (docs/benchmarks.md, issue 19). */
void _obq_rcu_heads_forget(void)
{
	pthread_mutex_lock(&qs_lock);
	if (qs_cap && qs_n)
		memset(qs_tab, 0, qs_cap * sizeof *qs_tab);
	qs_n = 0;
	pthread_mutex_unlock(&qs_lock);
}

static __attribute__((unused)) void queued_heads_fork_prepare(void)
{
	pthread_mutex_lock(&qs_lock);
}

static __attribute__((unused)) void queued_heads_fork_release(void)
{
	pthread_mutex_unlock(&qs_lock);
}
#else
static __attribute__((unused)) void queued_heads_fork_prepare(void)
{
}

static __attribute__((unused)) void queued_heads_fork_release(void)
{
}
#endif /* OBQ_CHECKED */

int _obq_rcu_call_args_ok(const struct obq_rcu_head *head,
			  void (*func)(struct obq_rcu_head *head))
{
#if OBQ_CHECKED
	if (OBQ_LIKELY(head != NULL && func != NULL))
		return _obq_rcu_head_track(head, func);
#else
	if (OBQ_LIKELY(head != NULL && func != NULL))
		return 1;
#endif
	_obq_report(OBQ_ERR_RCU_CALL_NULL, NULL, head, NULL, 0,
		    "  obq_rcu_call(%p, %s) with a NULL %s: the %s.\n"
		    "  Nothing was queued.\n", (const void *)head, func ? "func" : "NULL",
		    head ? "function" : "head",
		    head ? "callback would be called through a NULL pointer, on the callback "
			   "thread, a grace period later"
			 : "head is the callback's storage (embed a struct obq_rcu_head in the "
			   "object it frees)");
	return 0;
}

void _obq_rcu_report_unbalanced(const struct obq_thread *t)
{
	_obq_report(OBQ_ERR_RCU_UNBALANCED, NULL, NULL, NULL, 0,
		    "  thread %u called obq_rcu_read_unlock() outside any read-side section\n"
		    "  (nesting depth 0).  Every unlock must match an earlier obq_rcu_read_lock()\n"
		    "  on the same thread.  The unlock was ignored.\n",
		    tid(t));
}

void _obq_rcu_report_unregistered(const struct obq_thread *t)
{
	_obq_report(OBQ_ERR_RCU_UNREGISTERED, NULL, NULL, NULL, 0,
		    "  thread %u called obq_rcu_read_lock() without obq_rcu_register_thread().\n"
		    "  Register every thread before its first read-side section, and unregister\n"
		    "  it (or call obq_thread_exit) before it exits.  oblique registered the\n"
		    "  thread now so the program can go on.\n",
		    tid(t));
}

void _obq_rcu_report_exit_in_reader(const struct obq_thread *t, const char *how)
{
	_obq_report(OBQ_ERR_RCU_EXIT_IN_READER, NULL, NULL, NULL, 0,
		    "  thread %u %s inside an RCU read-side section (nesting depth %u):\n"
		    "  grace periods would wait for it forever.  Call obq_rcu_read_unlock() for\n"
		    "  every obq_rcu_read_lock() before the thread exits or unregisters.\n"
		    "  oblique ended its section now.\n",
		    tid(t), how, t ? _obq_rcu_nesting(t) : 0);
}

void _obq_rcu_report_stall(unsigned long waited_ms, unsigned bound_ms, const char *what,
			   const unsigned *ids, size_t n, size_t total)
{
	char list[512];
	size_t len = 0;
	list[0] = '\0';
	for (size_t i = 0; i < n && len + 16 < sizeof list; i++)
		len += (size_t)snprintf(list + len, sizeof list - len, "%s%u", i ? ", " : "", ids[i]);
	if (total > n && len + 16 < sizeof list)
		snprintf(list + len, sizeof list - len, ", ... (%zu in all)", total);
	_obq_report(OBQ_ERR_RCU_STALL, NULL, NULL, NULL, 0,
		    "  %s has waited %lu ms (stall bound %u ms: obq_rcu_set_stall_ms or\n"
		    "  OBQ_RCU_STALL_MS) for %zu reader(s) still inside a read-side section that\n"
		    "  began before the grace period: thread(s) %s.\n"
		    "  A read-side section must not block, sleep for long or loop forever; look for\n"
		    "  a missing obq_rcu_read_unlock() on those threads.\n",
		    what, waited_ms, bound_ms, total, n ? list : "(unknown)");
}

/* ------------------------------------------------------------------------------ */
/* stall bound, clock, backoff                                                     */

#define STALL_UNSET 0xffffffffu
/* Relaxed: a setting, read by synchronize; no data is published through it. */
static _Atomic unsigned stall_ms = STALL_UNSET;

unsigned _obq_rcu_stall_ms(void)
{
	unsigned v = atomic_load_explicit(&stall_ms, memory_order_relaxed);
	if (OBQ_LIKELY(v != STALL_UNSET))
		return v;
	v = 10000;
	const char *e = getenv("OBQ_RCU_STALL_MS");
	if (e && *e) {
		char *end;
		unsigned long x = strtoul(e, &end, 10);
		if (*end == '\0' && x < STALL_UNSET)
			v = (unsigned)x;
	}
	unsigned expect = STALL_UNSET;
	/* Relaxed CAS: a concurrent obq_rcu_set_stall_ms wins over the environment. */
	if (!atomic_compare_exchange_strong_explicit(&stall_ms, &expect, v, memory_order_relaxed,
						     memory_order_relaxed))
		v = expect;
	return v;
}

void obq_rcu_set_stall_ms(unsigned ms)
{
	if (ms == STALL_UNSET)
		ms--;
	atomic_store_explicit(&stall_ms, ms, memory_order_relaxed); /* a setting: see above */
}

uint64_t _obq_rcu_now_ns(void)
{
	return _obq_os_now_ns();
}

void _obq_rcu_backoff(unsigned *round)
{
	unsigned r = (*round)++;
	if (r < 64) {
		_obq_os_cpu_relax();
	} else if (r < 80) {
		_obq_os_yield();
	} else {
		unsigned shift = r - 80 < 10 ? r - 80 : 10; /* 1 us .. 1.024 ms */
		_obq_os_sleep_ns(1000ull << shift);
	}
}

#if OBQ_RCU_BACKEND != OBQ_RCU_SIM
/* ------------------------------------------------------------------------------ */
/* callback queue and worker                                                       */

#define PENDING ((struct obq_rcu_head *)(uintptr_t)1) /* link not written yet */

static struct {
	struct obq_rcu_head *head;  /* newest callback; atomic via __atomic builtins; NULL = empty */
	char pad[64];               /* keep producers' line apart from the worker's state */
	_Atomic int started;        /* 1 once the worker thread exists (set under m) */
	_Atomic int sleeping;       /* 1 while the worker waits on `cond` for work (set under m) */
	_Atomic int barriers;       /* obq_rcu_barrier callers waiting: no batching pause */
	pthread_mutex_t m;          /* protects sleeping/started transitions and barrier markers */
	pthread_cond_t cond;        /* worker waits here for work */
	pthread_cond_t done;        /* barrier callers wait here for their marker */
	unsigned long batches;      /* batches run (worker only; diagnostics) */
} cbq = {
	.m = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
	.done = PTHREAD_COND_INITIALIZER,
};

struct barrier_marker {
	struct obq_rcu_head head;   /* queued like a callback */
	int done;                   /* 1 once the worker ran it (under cbq.m) */
};

static void barrier_cb(struct obq_rcu_head *h)
{
	struct barrier_marker *b = container_of(h, struct barrier_marker, head);
	pthread_mutex_lock(&cbq.m);
	b->done = 1;
	pthread_cond_broadcast(&cbq.done);
	pthread_mutex_unlock(&cbq.m); /* b may be gone after this: the waiter returns */
}

static struct obq_rcu_head *wait_link(struct obq_rcu_head *h)
{
	unsigned round = 0;
	struct obq_rcu_head *n;
	/* Acquire: pairs with the producer's release store of the link. */
	while ((n = __atomic_load_n(&h->next, __ATOMIC_ACQUIRE)) == PENDING)
		_obq_rcu_backoff(&round);
	return n;
}

static __thread int on_worker; /* 1 on the callback worker thread */

#define OBQ_RCU_BATCH_PAUSE_NS 1000000ull /* 1 ms: the worker's wait between batches */

/* The batching pause (see the top of this file): up to OBQ_RCU_BATCH_PAUSE_NS, less if
 * a barrier caller arrives.  No lost wake-up: a barrier caller increments `barriers`
 * before it signals `cond` under m, and we test `barriers` under m before each wait. */
static void batch_pause(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts); /* the condition variable's clock */
	uint64_t ns = (uint64_t)ts.tv_nsec + OBQ_RCU_BATCH_PAUSE_NS;
	ts.tv_sec += (time_t)(ns / 1000000000u);
	ts.tv_nsec = (long)(ns % 1000000000u);
	pthread_mutex_lock(&cbq.m);
	/* seq_cst: pairs with the barrier caller's increment (any order would do under m,
	 * the increment is just not under m). */
	while (atomic_load_explicit(&cbq.barriers, memory_order_seq_cst) == 0)
		if (pthread_cond_timedwait(&cbq.cond, &cbq.m, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&cbq.m);
}

/* Run one batch taken from the queue (newest first): reverse it to queue order, one
 * grace period if it holds a real callback, then every callback.  Returns the number
 * of real (non-marker) callbacks. */
static size_t run_batch(struct obq_rcu_head *list)
{
	struct obq_rcu_head *fifo = NULL;
	size_t real = 0;
	while (list != NULL) {
		struct obq_rcu_head *next = wait_link(list);
		if (list->func != barrier_cb)
			real++;
		list->next = fifo; /* the runner owns the node now */
		fifo = list;
		list = next;
	}
	if (real)
		obq_rcu_synchronize();
	while (fifo != NULL) {
		struct obq_rcu_head *next = fifo->next; /* func may free fifo */
		OBQ_TSAN_ACQUIRE(fifo); /* the obq_rcu_call that queued it happens before */
		_obq_rcu_head_unqueued(fifo);
		fifo->func(fifo);
		fifo = next;
	}
	cbq.batches++; /* one runner at a time: the worker, or a drain with no worker */
	return real;
}

static void *worker_main(void *arg)
{
	(void)arg;
	on_worker = 1;
	obq_rcu_register_thread();
	for (;;) {
		/* Acquire: the batch's heads and funcs were written before their push. */
		struct obq_rcu_head *list = __atomic_exchange_n(&cbq.head, NULL, __ATOMIC_ACQUIRE);
		if (list == NULL) {
			pthread_mutex_lock(&cbq.m);
			/* seq_cst store/load: Dekker with the producer's exchange and load. */
			atomic_store_explicit(&cbq.sleeping, 1, memory_order_seq_cst);
			while (__atomic_load_n(&cbq.head, __ATOMIC_SEQ_CST) == NULL)
				pthread_cond_wait(&cbq.cond, &cbq.m);
			atomic_store_explicit(&cbq.sleeping, 0, memory_order_relaxed); /* under m */
			pthread_mutex_unlock(&cbq.m);
			continue;
		}
		if (run_batch(list))
			batch_pause();
	}
	return NULL;
}

/* Worker start failures (pthread_create refused: thread limit, memory): the callbacks
 * stay queued and the start is retried by the next obq_rcu_call at least
 * RETRY_NS after the last failure (a thread limit rarely lifts within a microsecond;
 * a push must not pay a failing pthread_create each time); obq_rcu_barrier runs the
 * queue on its caller (drain_here); the allocator's own deferred releases run on the
 * freeing thread after a grace period (_obq_rcu_call_or_run).  One notice, through the
 * error hook, the first time. */
#define RETRY_NS 1000000ull /* 1 ms */
static uint64_t retry_after_ns; /* under cbq.m */
static int draining;            /* under cbq.m: a drain_here runs; no worker may start */
static int start_notice_done;   /* __atomic builtins: the notice was sent */

static void start_notice(int err)
{
	/* Relaxed exchange: only "once" matters. */
	if (__atomic_exchange_n(&start_notice_done, 1, __ATOMIC_RELAXED))
		return;
	_obq_report(OBQ_ERR_RESOURCE_EXHAUSTED, NULL, NULL, NULL, 0,
		    "  cannot start the RCU callback thread: %s.\n"
		    "  oblique goes on without it: obq_rcu_call callbacks stay queued until a\n"
		    "  later call starts the thread (retried every %llu ms at most) or\n"
		    "  obq_rcu_barrier() runs them on its caller; the allocator's empty typesafe\n"
		    "  slabs are released by the freeing thread after a grace period.  This notice\n"
		    "  is given once.\n",
		    strerror(err), RETRY_NS / 1000000ull);
}

/* Start the worker if it is not running.  1: it runs (or was just started); 0: it
 * could not be started now (refused, retried too recently, or a drain_here runs). */
static int start_worker(void)
{
	int ok, err = 0;
	pthread_mutex_lock(&cbq.m);
	ok = atomic_load_explicit(&cbq.started, memory_order_relaxed); /* under m */
	if (!ok && !draining && _obq_rcu_now_ns() >= retry_after_ns) {
		pthread_attr_t attr;
		pthread_t th;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		/* Release: a thread seeing started=1 also sees the queue it was started for. */
		atomic_store_explicit(&cbq.started, 1, memory_order_release);
		err = _obq_inject_fail(OBQ_INJECT_THREAD_CREATE)
			      ? EAGAIN : pthread_create(&th, &attr, worker_main, NULL);
		pthread_attr_destroy(&attr);
		if (err != 0) {
			/* Relaxed: a pusher that saw 1 meanwhile left its callback queued,
			 * where the next start or drain finds it. */
			atomic_store_explicit(&cbq.started, 0, memory_order_relaxed);
			retry_after_ns = _obq_rcu_now_ns() + RETRY_NS;
		} else {
			ok = 1;
		}
	}
	pthread_mutex_unlock(&cbq.m);
	if (err != 0)
		start_notice(err); /* outside m: the hook may call oblique */
	return ok;
}

int _obq_rcu_callbacks_flowing(void)
{
	/* Acquire: pairs with start_worker's release. */
	if (OBQ_LIKELY(atomic_load_explicit(&cbq.started, memory_order_acquire)))
		return 1;
	_obq_rcu_common_init();
	return start_worker();
}

int _obq_rcu_on_callback_thread(void)
{
	return on_worker;
}

/* No worker: run the queue on this thread until it is empty (obq_rcu_barrier's
 * fallback).  Serialised with other drains by drain_m and with the worker by
 * `draining` (no worker starts meanwhile), so batches still run one after another.
 * 0 if a worker runs after all (the caller then uses the marker path). */
static pthread_mutex_t drain_m = PTHREAD_MUTEX_INITIALIZER; /* lock order: drain_m -> cbq.m */

static int drain_here(void)
{
	pthread_mutex_lock(&drain_m);
	pthread_mutex_lock(&cbq.m);
	int running = atomic_load_explicit(&cbq.started, memory_order_relaxed); /* under m */
	if (!running)
		draining = 1;
	pthread_mutex_unlock(&cbq.m);
	if (!running) {
		on_worker = 1; /* a callback calling obq_rcu_barrier is reported as on the worker */
		for (;;) {
			/* Acquire: as worker_main's. */
			struct obq_rcu_head *list = __atomic_exchange_n(&cbq.head, NULL, __ATOMIC_ACQUIRE);
			if (list == NULL)
				break;
			run_batch(list);
		}
		on_worker = 0;
		pthread_mutex_lock(&cbq.m);
		draining = 0;
		pthread_mutex_unlock(&cbq.m);
	}
	pthread_mutex_unlock(&drain_m);
	return !running;
}

static void push(struct obq_rcu_head *head, void (*func)(struct obq_rcu_head *))
{
	head->func = func;
	__atomic_store_n(&head->next, PENDING, __ATOMIC_RELAXED); /* published by the exchange */
	OBQ_TSAN_RELEASE(head); /* everything before obq_rcu_call happens before func */
	/* seq_cst: release for the node, and Dekker with the worker's `sleeping`. */
	struct obq_rcu_head *old = __atomic_exchange_n(&cbq.head, head, __ATOMIC_SEQ_CST);
	__atomic_store_n(&head->next, old, __ATOMIC_RELEASE); /* pairs with wait_link */
	/* Acquire: pairs with start_worker's release. */
	if (OBQ_UNLIKELY(!atomic_load_explicit(&cbq.started, memory_order_acquire))) {
		start_worker(); /* if it fails, the callback stays queued (see start_worker) */
		return;
	}
	/* Only the push that made the queue non-empty may have to wake the worker. */
	if (old == NULL && atomic_load_explicit(&cbq.sleeping, memory_order_seq_cst)) { /* Dekker */
		pthread_mutex_lock(&cbq.m);
		pthread_cond_signal(&cbq.cond);
		pthread_mutex_unlock(&cbq.m);
	}
}

void _obq_rcu_queue_call(struct obq_rcu_head *head, void (*func)(struct obq_rcu_head *))
{
	_obq_rcu_common_init();
	push(head, func);
}

void _obq_rcu_queue_barrier(void)
{
	if (OBQ_UNLIKELY(on_worker)) {
		/* A callback waiting for the callbacks behind it: it would wait forever. */
		fprintf(stderr, "==oblique== ERROR: obq_rcu_barrier() called from an RCU callback: "
				"it would wait for itself forever.\n  Call it from a normal thread; "
				"a callback may queue more work with obq_rcu_call().\n");
		abort();
	}
	/* Nothing was ever queued: no worker and an empty queue (a callback queued before
	 * us whose producer has not yet started the worker is still in the queue). */
	if (!atomic_load_explicit(&cbq.started, memory_order_acquire)) {
		if (__atomic_load_n(&cbq.head, __ATOMIC_ACQUIRE) == NULL)
			return;
		/* e.g. a child of fork() with callbacks queued; if no worker can be had,
		 * run the queue here (every callback queued before us is in it). */
		if (!start_worker() && drain_here())
			return;
	}
	struct barrier_marker b = { .done = 0 };
	/* seq_cst: seen by the worker's test in batch_pause (under m, after our signal). */
	atomic_fetch_add_explicit(&cbq.barriers, 1, memory_order_seq_cst);
	push(&b.head, barrier_cb);
	pthread_mutex_lock(&cbq.m);
	pthread_cond_signal(&cbq.cond); /* end a batching pause now */
	while (!b.done)
		pthread_cond_wait(&cbq.done, &cbq.m);
	pthread_mutex_unlock(&cbq.m);
	/* Relaxed: a hint for the pause; the marker has run. */
	atomic_fetch_sub_explicit(&cbq.barriers, 1, memory_order_relaxed);
}

/* ------------------------------------------------------------------------------ */
/* fork                                                                            */

static void fork_prepare(void)
{
	pthread_mutex_lock(&drain_m);
	pthread_mutex_lock(&cbq.m);
	_obq_rcu_backend_fork_prepare();
	queued_heads_fork_prepare();
}

static void fork_parent(void)
{
	queued_heads_fork_release();
	_obq_rcu_backend_fork_parent();
	pthread_mutex_unlock(&cbq.m);
	pthread_mutex_unlock(&drain_m);
}

static void fork_child(void)
{
	queued_heads_fork_release();
	_obq_rcu_backend_fork_child();
	/* The worker does not exist here: forget it (restarted by the next call). */
	atomic_store_explicit(&cbq.started, 0, memory_order_relaxed); /* single thread now */
	atomic_store_explicit(&cbq.sleeping, 0, memory_order_relaxed);
	atomic_store_explicit(&cbq.barriers, 0, memory_order_relaxed); /* callers were in the parent */
	pthread_cond_init(&cbq.cond, NULL);
	pthread_cond_init(&cbq.done, NULL);
	pthread_mutex_unlock(&cbq.m);
	pthread_mutex_unlock(&drain_m); /* draining is 0: a drain holds drain_m throughout */
}

/* ------------------------------------------------------------------------------ */
/* the public calls over the queue, shared by every threaded backend               */

static _Atomic unsigned long gp_seq; /* completed grace periods */

void _obq_rcu_gp_completed(void)
{
	/* Release, pairing with obq_rcu_gp_count's acquire: a caller that sees the new
	 * count also sees what the grace period ordered before it. */
	atomic_fetch_add_explicit(&gp_seq, 1, memory_order_release);
}

unsigned long obq_rcu_gp_count(void)
{
	/* Acquire: a caller that sees the count also sees the GP's effects ordered. */
	return atomic_load_explicit(&gp_seq, memory_order_acquire);
}

unsigned long _obq_rcu_gp_target(void)
{
	/* A GP may be running now (started before us): only "one more completed" is
	 * certain to be owed — a lower bound (internal.h). */
	return obq_rcu_gp_count() + 1;
}

void obq_rcu_call(struct obq_rcu_head *head, void (*func)(struct obq_rcu_head *head))
{
	if (!_obq_rcu_call_args_ok(head, func))
		return;
	_obq_rcu_queue_call(head, func);
}

void obq_rcu_barrier(void)
{
	if (obq_rcu_read_ongoing()) {
		_obq_rcu_report_sync_in_reader(_obq_thread_peek(), "obq_rcu_barrier()");
		return;
	}
	_obq_rcu_backend_init();
	_obq_rcu_queue_barrier();
}

static pthread_once_t common_once = PTHREAD_ONCE_INIT;

static void common_init_once(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

void _obq_rcu_common_init(void)
{
	pthread_once(&common_once, common_init_once);
}

#else /* OBQ_RCU_BACKEND == OBQ_RCU_SIM */

void _obq_rcu_common_init(void)
{
}

int _obq_rcu_callbacks_flowing(void)
{
	return 1; /* no worker: sim runs callbacks as grace periods end */
}

int _obq_rcu_on_callback_thread(void)
{
	return 0;
}

#endif

/* The table's name of the compiled-in backend (oblique/bits/backends.h). */
const char *obq_rcu_backend(void)
{
	return OBQ_RCU_BACKEND_NAME;
}

/* ---------------------------------------------------------------------------------
 * Registration, shared by every backend (the backend hooks are in rcu_<backend>.c). */

void obq_rcu_register_thread(void)
{
	_obq_rcu_backend_register(obq_thread_current());
}

void obq_rcu_unregister_thread(void)
{
	struct obq_thread *t = _obq_thread_peek();
	if (t == NULL)
		return;
	if (_obq_rcu_nesting(t) != 0) {
		_obq_rcu_report_exit_in_reader(t, "called obq_rcu_unregister_thread()");
		_obq_rcu_backend_force_exit(t);
	}
	_obq_rcu_backend_unregister(t);
}

void _obq_rcu_thread_exit(struct obq_thread *t)
{
	if (_obq_rcu_nesting(t) != 0) {
		_obq_rcu_report_exit_in_reader(t, "is exiting");
		_obq_rcu_backend_force_exit(t);
	}
	_obq_rcu_backend_unregister(t);
}
