/* rcu_builtin.c — the builtin RCU backend: liburcu's "memb" algorithm in C11 atomics,
 * with membarrier(2) on Linux and a fenced fallback elsewhere.
 *
 * The algorithm
 * -------------
 * A grace period (GP) must outlast every read-side section that was running when it
 * began.  Readers publish their state in one word each (t->rcu_ctr): its low bits
 * (OBQ_RCU_NEST_MASK) are the nesting depth, 0 outside a section; inside, the word is
 * a snapshot of the global word _obq_rcu_gp.ctr taken when the outermost section began
 * (plus the nesting beyond 1).  _obq_rcu_gp.ctr is OBQ_RCU_GP_COUNT (nesting 1) plus a
 * phase bit plus OBQ_RCU_REGISTERED (the reader word's "registered" bit, which the
 * snapshot keeps; bits/rcu_builtin.h).  Relative to the current phase, each reader is
 *     INACTIVE        rcu_ctr & OBQ_RCU_NEST_MASK == 0
 *     ACTIVE_CURRENT  rcu_ctr has the current phase (its section began after the flip)
 *     ACTIVE_OLD      rcu_ctr has the other phase.
 *
 * Why one flip is not enough (liburcu's argument): a reader may load the global word,
 * be preempted before storing its snapshot, and store an old phase long after a flip.
 * With a single flip such a reader could be seen as CURRENT while it started before
 * the GP.  obq_rcu_synchronize therefore runs two phases:
 *   1. wait until no reader is ACTIVE_OLD (readers that are CURRENT are remembered);
 *   2. flip the phase;
 *   3. wait until every remembered reader is INACTIVE or CURRENT (in the new phase).
 * A reader that keeps starting new sections always takes the newest phase, so a
 * continuous stream of overlapping readers cannot hold a GP forever: each reader needs
 * only to end the one section it was in.
 *
 * Memory ordering (memb): a reader's lock is "load gp word, store snapshot, barrier";
 * its unlock is "barrier, store nesting 0, barrier, read rcu_waiting".  With membarrier(2)
 * (MEMBARRIER_CMD_PRIVATE_EXPEDITED through os.h, registered once at start) the reader's barriers
 * are compiler barriers only: the writer's smp_mb_master() runs a full barrier on every
 * CPU that runs a thread of this process, which orders each reader's accesses as if it
 * had fenced itself ("slave barriers are ordered only against master barriers").  The
 * writer calls smp_mb_master() before scanning readers (caller's unpublish before the
 * scan) and after the last scan (readers' sections before the caller frees).  Without
 * membarrier — other systems, old kernels, or OBQ_RCU_PORTABLE=1 in the environment —
 * both sides use seq_cst fences, selected by _obq_rcu_ro.has_membarrier which is set
 * once before any thread registers.
 *
 * Waiting: the writer first re-scans actively (RCU_QS_ACTIVE_ATTEMPTS times, dropping
 * the registry lock in between so threads may (un)register).  Then, on Linux, it sets
 * rcu_waiting on every blocking reader and the futex word gp_futex to -1, runs
 * smp_mb_master(), re-scans, and sleeps on gp_futex (10 ms at most per sleep; futex
 * and membarrier come from the OS layer, os.h).  A
 * reader's unlock reads its own rcu_waiting after its quiescent store (Dekker pair with
 * the writer's master barrier: either the writer sees the store or the reader sees the
 * flag) and wakes the writer.  So a reader that stays in its section for seconds does
 * not make synchronize burn a core.  Elsewhere (or OBQ_RCU_PORTABLE=1) the writer backs
 * off with sched_yield, then nanosleep doubling up to 1 ms.
 *
 * Concurrent synchronize calls share grace periods: a caller that finds, once it holds
 * the gp lock, that two GPs ended since it started (one full GP began after its call)
 * returns without running its own.
 *
 * ThreadSanitizer does not model fences nor membarrier: each unlock releases
 * &t->rcu_ctr (bits/rcu_builtin.h) and the writer acquires &t->rcu_ctr whenever it
 * observes t quiescent or in the new phase, so the sections it waited for happen before
 * synchronize returns.  Callbacks: see rcu_common.c.
 *
 * Stall detection (checked builds): a synchronize that waited longer than the stall
 * bound reports OBQ_ERR_RCU_STALL once, naming the blocking readers, and keeps waiting.
 *
 * Locks: gp_lock serialises grace periods; registry_lock protects the reader lists and
 * t->rcu_registered (may nest inside gp_lock; dropped between scans).  Lock order:
 * rcu_common.c's cbq.m -> gp_lock -> registry_lock. */
#include "rcu_internal.h"
#include "os.h"

#include "mutant.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------ */
/* state                                                                           */

#define RCU_QS_ACTIVE_ATTEMPTS 100 /* active scans before sleeping */
#define SLEEP_MS 10                /* longest single sleep of a waiting writer */

struct _obq_rcu_gp _obq_rcu_gp = { .ctr = OBQ_RCU_REGISTERED | OBQ_RCU_GP_COUNT };
struct _obq_rcu_ro _obq_rcu_ro;

static int use_futex;                      /* 1: writers sleep on gp_futex (set once at init) */
static _Atomic int gp_futex;               /* -1: a writer may sleep on it; 0 otherwise */
static pthread_mutex_t gp_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
/* Registered readers (circular list through rcu_next/rcu_prev, sentinel = registry).
 * While a GP runs, readers sit on the GP's local lists; every list uses the same links,
 * so unregistering works wherever the reader is. */
static struct obq_thread registry = { .rcu_next = &registry, .rcu_prev = &registry };

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_fn(void)
{
	const char *portable = getenv("OBQ_RCU_PORTABLE");
	int force_portable = portable && *portable && strcmp(portable, "0") != 0;
	int mb = force_portable ? 0 : _obq_os_membarrier_init();
	/* Relaxed: published to other threads by pthread_once / the registry lock, and
	 * written before any reader can exist (a reader registers first). */
	__atomic_store_n(&_obq_rcu_ro.has_membarrier, mb, __ATOMIC_RELAXED);
	use_futex = !force_portable && _obq_os_futex_supported();
	_obq_rcu_common_init();
}

static inline void rcu_init(void)
{
	pthread_once(&init_once, init_fn);
}

/* Set the membarrier flag before main() so it never changes under running readers. */
__attribute__((constructor)) static void rcu_builtin_ctor(void)
{
	rcu_init();
}

/* Writer half of the memb barrier pair: a full barrier on every running thread. */
static void smp_mb_master(void)
{
	if (__atomic_load_n(&_obq_rcu_ro.has_membarrier, __ATOMIC_RELAXED)) { /* set once */
		int err = _obq_os_membarrier();
		if (err != 0) {
			fprintf(stderr, "==oblique== membarrier(PRIVATE_EXPEDITED) failed: %s\n",
				strerror(-err));
			abort();
		}
		return;
	}
	atomic_thread_fence(memory_order_seq_cst);
}

/* ------------------------------------------------------------------------------ */
/* reader lists (under registry_lock)                                              */

static void list_init(struct obq_thread *h)
{
	h->rcu_next = h->rcu_prev = h;
}

static int list_empty(const struct obq_thread *h)
{
	return h->rcu_next == h;
}

static void list_del(struct obq_thread *t)
{
	t->rcu_prev->rcu_next = t->rcu_next;
	t->rcu_next->rcu_prev = t->rcu_prev;
	t->rcu_next = t->rcu_prev = NULL;
}

static void list_add(struct obq_thread *t, struct obq_thread *h)
{
	t->rcu_next = h->rcu_next;
	t->rcu_prev = h;
	h->rcu_next->rcu_prev = t;
	h->rcu_next = t;
}

static void list_move(struct obq_thread *t, struct obq_thread *h)
{
	list_del(t);
	list_add(t, h);
}

static void list_splice(struct obq_thread *from, struct obq_thread *to)
{
	if (list_empty(from))
		return;
	struct obq_thread *first = from->rcu_next, *last = from->rcu_prev;
	last->rcu_next = to->rcu_next;
	to->rcu_next->rcu_prev = last;
	to->rcu_next = first;
	first->rcu_prev = to;
	list_init(from);
}

/* ------------------------------------------------------------------------------ */
/* registration, read-side slow paths                                              */

void _obq_rcu_backend_register(struct obq_thread *t)
{
	rcu_init();
	pthread_mutex_lock(&registry_lock);
	if (!t->rcu_registered) {
		t->rcu_registered = 1;
		/* Relaxed: t's own thread (registering itself) is the only reader-side user
		 * of the word; the writer reads it under this lock's ordering. */
		atomic_store_explicit(&t->rcu_ctr, OBQ_RCU_REGISTERED, memory_order_relaxed);
		list_add(t, &registry);
	}
	pthread_mutex_unlock(&registry_lock);
}

void _obq_rcu_backend_unregister(struct obq_thread *t)
{
	pthread_mutex_lock(&registry_lock);
	if (t->rcu_registered) {
		list_del(t);
		t->rcu_registered = 0;
		/* Relaxed: no writer scans t any more (off the list, under this lock). */
		atomic_store_explicit(&t->rcu_ctr, 0, memory_order_relaxed);
	}
	pthread_mutex_unlock(&registry_lock);
}

struct obq_thread *_obq_rcu_read_lock_slow(struct obq_thread *t)
{
	if (t == _OBQ_THREAD_NONE)
		t = _obq_thread_slow();
#if OBQ_CHECKED
	_obq_rcu_report_unregistered(t);
#endif
	_obq_rcu_backend_register(t);
	return t;
}

void _obq_rcu_unlock_unbalanced(struct obq_thread *t)
{
	if (t == _OBQ_THREAD_NONE)
		t = _obq_thread_slow(); /* for the report's thread id */
	_obq_rcu_report_unbalanced(t);
}

void _obq_rcu_wake_writer(struct obq_thread *t)
{
	atomic_store_explicit(&t->rcu_waiting, 0, memory_order_relaxed); /* a hint only */
	/* Relaxed: the futex syscall orders the wake; the writer re-scans after waking. */
	if (atomic_exchange_explicit(&gp_futex, 0, memory_order_relaxed) == -1)
		_obq_os_futex_wake(&gp_futex, 1);
}

/* End t's section without the inline unlock's checks (thread exit inside a section). */
void _obq_rcu_backend_force_exit(struct obq_thread *t)
{
	OBQ_TSAN_RELEASE(&t->rcu_ctr);
	atomic_thread_fence(memory_order_seq_cst); /* section before the quiescent store */
	/* Nesting 0, registration kept (the caller unregisters next); relaxed: ordered by
	 * the fences around it, only t's thread writes the word. */
	atomic_store_explicit(&t->rcu_ctr,
			      atomic_load_explicit(&t->rcu_ctr, memory_order_relaxed) &
				      ~OBQ_RCU_NEST_MASK,
			      memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst); /* quiescent store before reading the flag */
	if (atomic_load_explicit(&t->rcu_waiting, memory_order_relaxed))
		_obq_rcu_wake_writer(t);
}


/* ------------------------------------------------------------------------------ */
/* grace periods                                                                   */

enum reader_state { INACTIVE, ACTIVE_CURRENT, ACTIVE_OLD };

static enum reader_state reader_state(struct obq_thread *t)
{
	/* Relaxed: ordered by the master barriers around the scans (memb). */
	unsigned long v = atomic_load_explicit(&t->rcu_ctr, memory_order_relaxed);
	if (!(v & OBQ_RCU_NEST_MASK))
		return INACTIVE;
	/* Relaxed: only this writer (under gp_lock) writes the gp word. */
	if (!((v ^ atomic_load_explicit(&_obq_rcu_gp.ctr, memory_order_relaxed)) & OBQ_RCU_GP_PHASE))
		return ACTIVE_CURRENT;
	return ACTIVE_OLD;
}

/* Grace periods that had to wait for a reader (obq_rcu_gp_reader_waits). */
static _Atomic unsigned long gp_reader_waits;

struct gp_wait {
	uint64_t start_ns;      /* when this synchronize started waiting */
	unsigned loops;         /* scans so far, both phases */
	unsigned backoff;       /* _obq_rcu_backoff round (portable waiting) */
	int slept;              /* 1 once rcu_waiting flags were set */
	int stall_reported;     /* 1 after this GP's stall report */
};

#if OBQ_CHECKED
/* Called with registry_lock held; drops it around the report. */
static void check_stall(struct gp_wait *w, struct obq_thread *input)
{
	unsigned bound = _obq_rcu_stall_ms();
	if (bound == 0 || w->stall_reported)
		return;
	uint64_t waited = (_obq_rcu_now_ns() - w->start_ns) / 1000000u;
	if (waited < bound)
		return;
	unsigned ids[32];
	size_t n = 0, total = 0;
	for (struct obq_thread *t = input->rcu_next; t != input; t = t->rcu_next, total++)
		if (n < 32)
			ids[n++] = t->id;
	w->stall_reported = 1;
	pthread_mutex_unlock(&registry_lock);
	_obq_rcu_report_stall((unsigned long)waited, bound, "obq_rcu_synchronize()", ids, n, total);
	pthread_mutex_lock(&registry_lock);
}
#endif

/* Wait until no reader of `input` is ACTIVE_OLD.  CURRENT readers go to cur_snap (if
 * given, phase 1) or qs; INACTIVE ones to qs.  Called and returns with registry_lock. */
static void wait_for_readers(struct obq_thread *input, struct obq_thread *cur_snap,
			     struct obq_thread *qs, struct gp_wait *w)
{
	for (;;) {
		int sleeping = use_futex && w->loops >= RCU_QS_ACTIVE_ATTEMPTS;
		if (sleeping) {
			/* Relaxed stores: ordered before the re-scan by the master barrier. */
			atomic_store_explicit(&gp_futex, -1, memory_order_relaxed);
			for (struct obq_thread *t = input->rcu_next; t != input; t = t->rcu_next)
				atomic_store_explicit(&t->rcu_waiting, 1, memory_order_relaxed);
			w->slept = 1;
			smp_mb_master(); /* flags before reading the readers' words (Dekker) */
		}
		struct obq_thread *t = input->rcu_next, *next;
		for (; t != input; t = next) {
			next = t->rcu_next;
			switch (reader_state(t)) {
			case ACTIVE_CURRENT:
				if (cur_snap) {
					list_move(t, cur_snap);
					break;
				}
				/* fall through */
			case INACTIVE:
				OBQ_TSAN_ACQUIRE(&t->rcu_ctr); /* its finished sections happen before */
				list_move(t, qs);
				break;
			case ACTIVE_OLD:
				break; /* keep waiting for it */
			}
		}
		if (list_empty(input)) {
			if (sleeping) {
				smp_mb_master(); /* scans before clearing the futex word */
				atomic_store_explicit(&gp_futex, 0, memory_order_relaxed);
			}
			return;
		}
		w->loops++;
#if OBQ_CHECKED
		check_stall(w, input);
		if (list_empty(input))
			continue;
#endif
		pthread_mutex_unlock(&registry_lock);
		if (sleeping)
			_obq_os_futex_wait(&gp_futex, -1, SLEEP_MS * 1000000ull);
		else if (w->loops >= RCU_QS_ACTIVE_ATTEMPTS)
			_obq_rcu_backoff(&w->backoff);
		else
			_obq_rcu_backoff(&(unsigned){ 0 }); /* a pause */
		pthread_mutex_lock(&registry_lock);
	}
}

void obq_rcu_synchronize(void)
{
	struct obq_thread *self = _obq_thread_peek();
	if (self != NULL && _obq_rcu_nesting(self) != 0) {
		_obq_rcu_report_sync_in_reader(self, "obq_rcu_synchronize()");
		return;
	}
	rcu_init();
	/* seq_cst fence: the caller's updates (unpublishing) before reading the GP count
	 * (rcu_common.c's, advanced under gp_lock by _obq_rcu_gp_completed), so a GP that
	 * another thread starts later is one that follows our updates. */
	atomic_thread_fence(memory_order_seq_cst);
	unsigned long start = obq_rcu_gp_count();

	pthread_mutex_lock(&gp_lock);
	/* Two GPs ended since we started: the second began after our call.  Its end was
	 * ordered before its gp_lock release, which we acquired. */
	if (obq_rcu_gp_count() - start >= 2) {
		pthread_mutex_unlock(&gp_lock);
		return;
	}
	struct obq_thread cur_snap, qs;
	list_init(&cur_snap);
	list_init(&qs);
	struct gp_wait w = { .start_ns = OBQ_CHECKED ? _obq_rcu_now_ns() : 0 };

	pthread_mutex_lock(&registry_lock);
	if (!list_empty(&registry) && !OBQ_MUTANT(builtin_gp_early)) { /* mutant: no wait */
		smp_mb_master(); /* caller's updates before the scans */
		wait_for_readers(&registry, &cur_snap, &qs, &w);
		/* Finish phase 1 before the flip (liburcu: not formally needed, simpler model). */
		atomic_thread_fence(memory_order_seq_cst);
		/* Relaxed: single writer under gp_lock; readers need no ordering with it. */
		unsigned long ctr = atomic_load_explicit(&_obq_rcu_gp.ctr, memory_order_relaxed);
		atomic_store_explicit(&_obq_rcu_gp.ctr, ctr ^ OBQ_RCU_GP_PHASE, memory_order_relaxed);
		atomic_thread_fence(memory_order_seq_cst); /* flip before phase 2's scans */
		/* A reader inside a section that began before this GP: scanned ACTIVE_OLD
		 * (w.loops), or ACTIVE_CURRENT before the flip (cur_snap). */
		int waited = w.loops > 0 || !list_empty(&cur_snap);
		wait_for_readers(&cur_snap, NULL, &qs, &w);
		if (waited)
			/* Relaxed: a statistic (obq_rcu_gp_reader_waits). */
			atomic_fetch_add_explicit(&gp_reader_waits, 1, memory_order_relaxed);
		list_splice(&qs, &registry);
		if (w.slept) /* leftover hints would only cost a spurious wake */
			for (struct obq_thread *t = registry.rcu_next; t != &registry; t = t->rcu_next)
				atomic_store_explicit(&t->rcu_waiting, 0, memory_order_relaxed);
		smp_mb_master(); /* readers' sections before the caller's frees */
	}
	pthread_mutex_unlock(&registry_lock);
	_obq_rcu_gp_completed();
	pthread_mutex_unlock(&gp_lock);
}

unsigned long obq_rcu_gp_reader_waits(void)
{
	/* Relaxed: a statistic. */
	return atomic_load_explicit(&gp_reader_waits, memory_order_relaxed);
}

/* ------------------------------------------------------------------------------ */
/* callbacks: rcu_common.c's queue, whose worker calls obq_rcu_synchronize          */

void _obq_rcu_backend_init(void)
{
	rcu_init(); /* the membarrier flag before the worker's first grace period */
}

/* ------------------------------------------------------------------------------ */
/* fork (called from rcu_common.c's handlers)                                      */

void _obq_rcu_backend_fork_prepare(void)
{
	pthread_mutex_lock(&gp_lock);
	pthread_mutex_lock(&registry_lock);
}

void _obq_rcu_backend_fork_parent(void)
{
	pthread_mutex_unlock(&registry_lock);
	pthread_mutex_unlock(&gp_lock);
}

void _obq_rcu_backend_fork_child(void)
{
	/* Only the forking thread exists: drop every other reader (their contexts belong
	 * to threads that are gone; a section they were in can never end here). */
	struct obq_thread *self = _obq_thread_peek(), *t, *next;
	for (t = registry.rcu_next; t != &registry; t = next) {
		next = t->rcu_next;
		if (t != self) {
			list_del(t);
			t->rcu_registered = 0; /* its word is never read again */
		}
	}
	atomic_store_explicit(&gp_futex, 0, memory_order_relaxed); /* single thread now */
	pthread_mutex_unlock(&registry_lock);
	pthread_mutex_unlock(&gp_lock);
}
