/* rcu_urcu.c — the urcu RCU backend: oblique's RCU domain is liburcu's memb flavour
 * (read side in oblique/bits/rcu_urcu.h).
 *
 * Grace periods are liburcu's (urcu_memb_synchronize_rcu), so sections the program
 * opens with liburcu directly hold them too.  Callbacks go through oblique's own queue
 * and worker (rcu_common.c), whose worker calls obq_rcu_synchronize: the same batching,
 * barrier and TSan edges as the builtin backend, and no function-pointer casts between
 * struct obq_rcu_head and liburcu's struct rcu_head.
 *
 * oblique also keeps a registry of the contexts that registered through it (under
 * registry_lock), for two things liburcu cannot give:
 *  - TSan: after each grace period the writer acquires &t->rcu_ctr of every
 *    registered context, pairing with the release in each outermost unlock;
 *  - stall reports (checked builds): before calling liburcu, synchronize waits itself
 *    for the oblique readers that were inside (odd t->rcu_ctr section counter), and
 *    after the stall bound names them.  Sections opened with liburcu directly are not
 *    seen by this pre-wait (liburcu still waits for them, without a report).
 *
 * A thread the program already registered with liburcu is adopted (t->rcu_registered
 * = 2) and never unregistered from liburcu by oblique.
 *
 * fork(): liburcu keeps the child's registry as it was (threads that are gone stay
 * registered there); oblique prunes its own registry like the builtin backend. */
#ifndef _LGPL_SOURCE
#define _LGPL_SOURCE
#endif
#include "rcu_internal.h"

#include <urcu/urcu-memb.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#define URCU_ADOPTED 2u /* t->rcu_registered: liburcu registration was the program's own */
#define PREWAIT_MAX 256 /* oblique readers tracked by the checked pre-wait */

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct obq_thread registry = { .rcu_next = &registry, .rcu_prev = &registry };

/* ------------------------------------------------------------------------------ */
/* liburcu's out-of-line read side, for TSan builds (see bits/rcu_urcu.h)          */

#define OBQ_STR2(x) #x
#define OBQ_STR(x) OBQ_STR2(x)
#define URCU_SYM(name) __asm__(OBQ_STR(__USER_LABEL_PREFIX__) #name)
/* The exported symbols, whatever macros _LGPL_SOURCE put over their names. */
extern void urcu_ool_read_lock(void) URCU_SYM(urcu_memb_read_lock);
extern void urcu_ool_read_unlock(void) URCU_SYM(urcu_memb_read_unlock);
extern int urcu_ool_read_ongoing(void) URCU_SYM(urcu_memb_read_ongoing);

void _obq_urcu_read_lock_ool(void)
{
	urcu_ool_read_lock();
}

void _obq_urcu_read_unlock_ool(void)
{
	urcu_ool_read_unlock();
}

int _obq_urcu_read_ongoing_ool(void)
{
	return urcu_ool_read_ongoing();
}

/* ------------------------------------------------------------------------------ */
/* registration                                                                    */

void _obq_rcu_backend_register(struct obq_thread *t)
{
	if (t->rcu_registered)
		return;
	_obq_rcu_common_init();
	/* Registered with liburcu by the program itself? (TLS of this OS thread) */
	if (URCU_TLS(urcu_memb_reader).registered) {
		t->rcu_registered = URCU_ADOPTED;
	} else {
		urcu_memb_register_thread();
		t->rcu_registered = 1;
	}
	pthread_mutex_lock(&registry_lock);
	t->rcu_next = registry.rcu_next;
	t->rcu_prev = &registry;
	registry.rcu_next->rcu_prev = t;
	registry.rcu_next = t;
	pthread_mutex_unlock(&registry_lock);
}

void _obq_rcu_backend_unregister(struct obq_thread *t)
{
	if (!t->rcu_registered)
		return;
	pthread_mutex_lock(&registry_lock);
	t->rcu_prev->rcu_next = t->rcu_next;
	t->rcu_next->rcu_prev = t->rcu_prev;
	t->rcu_next = t->rcu_prev = NULL;
	pthread_mutex_unlock(&registry_lock);
	if (t->rcu_registered != URCU_ADOPTED)
		urcu_memb_unregister_thread();
	t->rcu_registered = 0;
}

void _obq_rcu_read_lock_slow(struct obq_thread *t)
{
#if OBQ_CHECKED
	if (!URCU_TLS(urcu_memb_reader).registered) /* adopting is not a misuse */
		_obq_rcu_report_unregistered(t);
#endif
	_obq_rcu_backend_register(t);
}

void _obq_rcu_unlock_unbalanced(struct obq_thread *t)
{
	_obq_rcu_report_unbalanced(t);
}

/* End t's section (t is this OS thread's context: liburcu state is per OS thread). */
void _obq_rcu_backend_force_exit(struct obq_thread *t)
{
	t->rcu_nesting = 0;
	OBQ_TSAN_RELEASE(&t->rcu_ctr);
#if OBQ_CHECKED
	atomic_fetch_add_explicit(&t->rcu_ctr, 1, memory_order_relaxed); /* even: outside */
#endif
	_OBQ_URCU_UNLOCK(); /* out of line under TSan */
}


/* ------------------------------------------------------------------------------ */
/* grace periods                                                                   */

#if OBQ_CHECKED
/* Wait for the oblique readers inside a section now to leave it, reporting a stall. */
static void prewait(void)
{
	struct { unsigned id; unsigned long ctr; } snap[PREWAIT_MAX];
	size_t n = 0;
	pthread_mutex_lock(&registry_lock);
	for (struct obq_thread *t = registry.rcu_next; t != &registry && n < PREWAIT_MAX;
	     t = t->rcu_next) {
		/* Relaxed: a heuristic; liburcu's synchronize gives the real guarantee. */
		unsigned long c = atomic_load_explicit(&t->rcu_ctr, memory_order_relaxed);
		if (c & 1) {
			snap[n].id = t->id;
			snap[n].ctr = c;
			n++;
		}
	}
	pthread_mutex_unlock(&registry_lock);
	if (n == 0)
		return;
	uint64_t start = _obq_rcu_now_ns();
	unsigned round = 0;
	int reported = 0;
	for (;;) {
		size_t left = 0;
		pthread_mutex_lock(&registry_lock);
		for (size_t i = 0; i < n; i++) {
			struct obq_thread *t = registry.rcu_next;
			while (t != &registry && t->id != snap[i].id)
				t = t->rcu_next;
			if (t != &registry &&
			    atomic_load_explicit(&t->rcu_ctr, memory_order_relaxed) == snap[i].ctr)
				snap[left++] = snap[i]; /* still in the same section */
		}
		pthread_mutex_unlock(&registry_lock);
		n = left;
		if (n == 0)
			return;
		unsigned bound = _obq_rcu_stall_ms();
		uint64_t waited = (_obq_rcu_now_ns() - start) / 1000000u;
		if (!reported && bound != 0 && waited >= bound) {
			unsigned ids[32];
			size_t k = n < 32 ? n : 32;
			for (size_t i = 0; i < k; i++)
				ids[i] = snap[i].id;
			reported = 1;
			_obq_rcu_report_stall((unsigned long)waited, bound, "obq_rcu_synchronize()",
					      ids, k, n);
		}
		_obq_rcu_backoff(&round);
	}
}
#endif

void obq_rcu_synchronize(void)
{
	struct obq_thread *self = _obq_thread_peek();
	if (obq_rcu_read_ongoing()) {
		_obq_rcu_report_sync_in_reader(self, "obq_rcu_synchronize()");
		return;
	}
#if OBQ_CHECKED
	prewait();
#endif
	urcu_memb_synchronize_rcu();
#if OBQ_TSAN
	pthread_mutex_lock(&registry_lock);
	for (struct obq_thread *t = registry.rcu_next; t != &registry; t = t->rcu_next)
		OBQ_TSAN_ACQUIRE(&t->rcu_ctr); /* every section that ended happens before */
	pthread_mutex_unlock(&registry_lock);
#endif
	_obq_rcu_gp_completed();
}

unsigned long obq_rcu_gp_reader_waits(void)
{
	return 0; /* liburcu's synchronize_rcu does not say whether it waited for a reader */
}

/* ------------------------------------------------------------------------------ */
/* callbacks: rcu_common.c's queue, whose worker calls obq_rcu_synchronize          */

void _obq_rcu_backend_init(void)
{
	/* nothing: liburcu needs no set-up before a callback can run */
}

/* ------------------------------------------------------------------------------ */
/* fork                                                                            */

void _obq_rcu_backend_fork_prepare(void)
{
	pthread_mutex_lock(&registry_lock);
}

void _obq_rcu_backend_fork_parent(void)
{
	pthread_mutex_unlock(&registry_lock);
}

void _obq_rcu_backend_fork_child(void)
{
	struct obq_thread *self = _obq_thread_peek(), *t, *next;
	for (t = registry.rcu_next; t != &registry; t = next) {
		next = t->rcu_next;
		if (t != self) {
			t->rcu_prev->rcu_next = t->rcu_next;
			t->rcu_next->rcu_prev = t->rcu_prev;
			t->rcu_next = t->rcu_prev = NULL;
			t->rcu_registered = 0;
		}
	}
	pthread_mutex_unlock(&registry_lock);
}
