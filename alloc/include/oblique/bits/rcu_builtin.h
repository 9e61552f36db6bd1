/* oblique/bits/rcu_builtin.h — inline read side of the builtin RCU backend (included
 * by oblique/rcu.h; do not include directly).
 *
 * The scheme is liburcu's memb flavour (see alloc/src/rcu_builtin.c for the essay):
 *  - the global grace-period word _obq_rcu_gp.ctr = OBQ_RCU_GP_COUNT | phase, where
 *    the phase bit flips twice per grace period;
 *  - a reader's t->rcu_ctr is 0 outside a section and a snapshot of _obq_rcu_gp.ctr
 *    inside its outermost section; nested sections only count in t->rcu_nesting;
 *  - with membarrier(2) the read side needs only compiler barriers: the writer's
 *    membarrier promotes them to full barriers on every running reader.  Without it
 *    (other systems, old kernels, OBQ_RCU_PORTABLE=1) the read side uses seq_cst fences
 *    (_obq_rcu_has_membarrier is 0).  The flag is set once, before any thread
 *    registers or synchronizes, and never changes afterwards.
 * Invariants (per reader t):  t->rcu_nesting == 0  <=>  t->rcu_ctr == 0;
 *                             t->rcu_ctr != 0  =>  t->rcu_ctr & OBQ_RCU_GP_COUNT. */
#ifndef OBLIQUE_BITS_RCU_BUILTIN_H
#define OBLIQUE_BITS_RCU_BUILTIN_H

#include <stdatomic.h>
#include <oblique/bits/tsan.h>

OBQ_BEGIN_DECLS

#define OBQ_RCU_GP_COUNT 1UL                                   /* "inside a section" bit */
#define OBQ_RCU_GP_PHASE (1UL << (sizeof(unsigned long) * 4))  /* grace-period phase bit */

struct _obq_rcu_gp {
	_Atomic unsigned long ctr;   /* OBQ_RCU_GP_COUNT | current phase; written only under the gp lock */
} __attribute__((aligned(64)));

extern struct _obq_rcu_gp _obq_rcu_gp;
/* 1: membarrier(2) is registered and synchronize uses it, so readers need no fence. */
extern int _obq_rcu_has_membarrier;

/* Slow paths of the inline read side (rcu_builtin.c / rcu_common.c). */
void _obq_rcu_read_lock_slow(struct obq_thread *t);   /* unregistered: report (checked), register */
void _obq_rcu_unlock_unbalanced(struct obq_thread *t); /* nesting 0: report (checked), ignore */
void _obq_rcu_wake_writer(struct obq_thread *t);      /* a synchronize sleeps on this reader */

/* Reader half of the memb barrier pair: a compiler barrier when the writer uses
 * membarrier(2), a full fence otherwise. */
OBQ_INLINE void _obq_rcu_mb_slave(void)
{
	/* Relaxed: the flag is written once before any reader exists (see above). */
	if (OBQ_LIKELY(__atomic_load_n(&_obq_rcu_has_membarrier, __ATOMIC_RELAXED)))
		atomic_signal_fence(memory_order_seq_cst);
	else
		atomic_thread_fence(memory_order_seq_cst);
}

/* Outermost lock of a registered context. */
OBQ_INLINE void _obq_rcu_read_lock_outer(struct obq_thread *t)
{
	atomic_signal_fence(memory_order_seq_cst); /* not reordered with a preceding lock */
	/* Relaxed load and store: the writer's membarrier (or the fence below) orders
	 * the snapshot before the section's accesses. */
	atomic_store_explicit(&t->rcu_ctr,
			      atomic_load_explicit(&_obq_rcu_gp.ctr, memory_order_relaxed),
			      memory_order_relaxed);
	/* rcu_nesting = 1 (registered stays 1), stored as the whole word: the read side
	 * loads and stores only rcu_state, 8 bytes at a time, so a lock's load is never
	 * stalled by a narrower store of the previous unlock (store forwarding). */
	t->rcu_state = OBQ_RCU_STATE_IDLE + OBQ_RCU_STATE_NEST1;
	_obq_rcu_mb_slave(); /* snapshot store before the section's loads */
}

OBQ_INLINE void obq_rcu_read_lock(void)
{
	struct obq_thread *t = obq_thread_current();

	/* One load tests "registered and outside any section" (the common case): the
	 * registration test costs nothing on the fast path. */
	unsigned long long s = t->rcu_state;
	if (OBQ_LIKELY(s == OBQ_RCU_STATE_IDLE)) {
		_obq_rcu_read_lock_outer(t);
	} else if (s & OBQ_RCU_STATE_NEST_MASK) {
		t->rcu_state = s + OBQ_RCU_STATE_NEST1; /* rcu_nesting + 1 */
	} else {
		_obq_rcu_read_lock_slow(t); /* unregistered: report (checked), register */
		_obq_rcu_read_lock_outer(t);
	}
}

/* Outermost unlock: rcu_state becomes `quiet` (rcu_nesting 0), then the quiescent
 * store and the writer check. */
OBQ_INLINE void _obq_rcu_read_unlock_outer(struct obq_thread *t, unsigned long long quiet)
{
	/* Relaxed: written once before any reader exists; read once for both barriers. */
	int mb = __atomic_load_n(&_obq_rcu_has_membarrier, __ATOMIC_RELAXED);
	t->rcu_state = quiet; /* rcu_nesting = 0, as the whole word (see the lock) */
	/* TSan does not see membarrier: the section happens before the grace period
	 * that observes this store (synchronize acquires &t->rcu_ctr). */
	OBQ_TSAN_RELEASE(&t->rcu_ctr);
	/* Section's accesses before the quiescent store (a fence without membarrier). */
	if (OBQ_LIKELY(mb))
		atomic_signal_fence(memory_order_seq_cst);
	else
		atomic_thread_fence(memory_order_seq_cst);
	atomic_store_explicit(&t->rcu_ctr, 0, memory_order_relaxed); /* ordered by the barrier */
	/* Quiescent store before reading rcu_waiting (Dekker with the writer). */
	if (OBQ_LIKELY(mb))
		atomic_signal_fence(memory_order_seq_cst);
	else
		atomic_thread_fence(memory_order_seq_cst);
	/* Relaxed: the pair of barriers above orders it; a stale 0 is impossible when
	 * the writer went to sleep (it re-reads rcu_ctr after its own barrier). */
	if (OBQ_UNLIKELY(atomic_load_explicit(&t->rcu_waiting, memory_order_relaxed)))
		_obq_rcu_wake_writer(t);
	atomic_signal_fence(memory_order_seq_cst); /* not reordered with a following lock */
}

OBQ_INLINE void obq_rcu_read_unlock(void)
{
	struct obq_thread *t = obq_thread_current();
	unsigned long long s = t->rcu_state;

	/* Common case in one compare: registered, nesting 1. */
	if (OBQ_LIKELY(s == OBQ_RCU_STATE_IDLE + OBQ_RCU_STATE_NEST1)) {
		_obq_rcu_read_unlock_outer(t, OBQ_RCU_STATE_IDLE);
	} else {
		unsigned long long n = s & OBQ_RCU_STATE_NEST_MASK; /* rcu_nesting * NEST1 */
		if (n == OBQ_RCU_STATE_NEST1)
			_obq_rcu_read_unlock_outer(t, s - OBQ_RCU_STATE_NEST1); /* registered != 1 */
		else if (OBQ_LIKELY(n != 0))
			t->rcu_state = s - OBQ_RCU_STATE_NEST1; /* rcu_nesting - 1 */
		else
			_obq_rcu_unlock_unbalanced(t);
	}
}

/* 1 inside a read-side section of the current context (no context is created). */
OBQ_INLINE int obq_rcu_read_ongoing(void)
{
	struct obq_thread *t = _obq_self;
	return t != NULL && t->rcu_nesting != 0;
}

OBQ_END_DECLS
#endif /* OBLIQUE_BITS_RCU_BUILTIN_H */
