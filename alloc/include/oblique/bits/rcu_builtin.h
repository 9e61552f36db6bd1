/* oblique/bits/rcu_builtin.h — inline read side of the builtin RCU backend (included
 * by oblique/rcu.h; do not include directly).
 *
 * The scheme is liburcu's memb flavour (see alloc/src/rcu_builtin.c for the essay), and
 * so is the reader's word: everything the read side needs is in t->rcu_ctr, one load
 * and one store per lock and per unlock.
 *  - the global grace-period word _obq_rcu_gp.ctr = OBQ_RCU_REGISTERED |
 *    OBQ_RCU_GP_COUNT | phase, where the phase bit flips twice per grace period;
 *  - a reader's t->rcu_ctr holds its nesting depth in the low bits (OBQ_RCU_NEST_MASK)
 *    and, once registered, OBQ_RCU_REGISTERED.  The outermost lock stores a snapshot of
 *    _obq_rcu_gp.ctr (nesting 1, the current phase, registered); nested locks and
 *    unlocks add and subtract OBQ_RCU_GP_COUNT; the outermost unlock leaves the phase
 *    and the registered bit, nesting 0.  An unregistered context's word is 0, so a
 *    freshly zeroed context is unregistered and one compare tells "registered and
 *    outside any section" (the common case) from everything else;
 *  - with membarrier(2) the read side needs only compiler barriers: the writer's
 *    membarrier promotes them to full barriers on every running reader.  Without it
 *    (other systems, old kernels, OBQ_RCU_PORTABLE=1) the read side uses seq_cst fences
 *    (_obq_rcu_ro.has_membarrier is 0).  The flag is set once, before any thread
 *    registers or synchronizes, and never changes afterwards.
 * Only the owning thread writes its word, except registration bookkeeping done for it
 * under the registry lock (register, unregister, fork); the writer only reads it.
 * Invariants (per reader t):  nesting(t) == t->rcu_ctr & OBQ_RCU_NEST_MASK;
 *   nesting(t) != 0 => t->rcu_ctr & OBQ_RCU_REGISTERED (sections run registered);
 *   t->rcu_registered == !!(t->rcu_ctr & OBQ_RCU_REGISTERED);  t->rcu_nesting is not
 *   maintained by this backend (read it through _obq_rcu_nesting). */
#ifndef OBLIQUE_BITS_RCU_BUILTIN_H
#define OBLIQUE_BITS_RCU_BUILTIN_H

#include <limits.h>
#include <stdatomic.h>
#include <oblique/bits/track.h>

OBQ_BEGIN_DECLS

/* The registered bit sits just below the phase, so "registered, nesting n" is one
 * compare of the word's low half (32 bits on LP64). */
#define OBQ_RCU_GP_COUNT 1UL                                   /* one level of nesting */
#define OBQ_RCU_GP_PHASE (1UL << (sizeof(unsigned long) * 4))  /* grace-period phase bit */
#define OBQ_RCU_REGISTERED (OBQ_RCU_GP_PHASE >> 1)             /* the context is registered */
#define OBQ_RCU_NEST_MASK (OBQ_RCU_REGISTERED - 1)             /* nesting depth */
#define _OBQ_RCU_LOW_MASK (OBQ_RCU_GP_PHASE - 1)               /* registered + nesting */
/* The low half of a word (registered + nesting), as a type of that width where one
 * exists so the compiler compares it with an immediate (no masking). */
#if ULONG_MAX > 0xffffffffUL /* LP64: the phase is bit 32 */
#define _OBQ_RCU_LOW(v) ((uint32_t)(v))
#else
#define _OBQ_RCU_LOW(v) ((v) & _OBQ_RCU_LOW_MASK)
#endif

struct _obq_rcu_gp {
	/* OBQ_RCU_REGISTERED | OBQ_RCU_GP_COUNT | current phase; written only under the gp lock */
	_Atomic unsigned long ctr;
} __attribute__((aligned(64)));

extern struct _obq_rcu_gp _obq_rcu_gp;
/* Read-mostly state of the read side, alone in its cache line: every lock and unlock
 * reads it, and a grace-period writer's stores to neighbouring variables (its locks,
 * counters) would otherwise invalidate every reader's copy once per grace period. */
struct _obq_rcu_ro {
	int has_membarrier; /* 1: membarrier(2) is registered and synchronize uses it, so
			     * readers need no fence; written once, before any reader */
} __attribute__((aligned(64)));
extern struct _obq_rcu_ro _obq_rcu_ro;

/* Slow paths of the inline read side (rcu_builtin.c / rcu_common.c). */
/* t (possibly _obq_thread_none) is unregistered: create the context if needed, report
 * (checked builds), register; returns the context. */
struct obq_thread *_obq_rcu_read_lock_slow(struct obq_thread *t);
void _obq_rcu_unlock_unbalanced(struct obq_thread *t); /* nesting 0: report, ignore */
void _obq_rcu_wake_writer(struct obq_thread *t);      /* a synchronize sleeps on this reader */

/* Read-side nesting depth of t (0 outside any section).  Relaxed: only t's own thread
 * changes it, and other threads read it for reports only. */
OBQ_INLINE unsigned _obq_rcu_nesting(const struct obq_thread *t)
{
	return (unsigned)(atomic_load_explicit(&((struct obq_thread *)t)->rcu_ctr,
					       memory_order_relaxed) & OBQ_RCU_NEST_MASK);
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
	/* Snapshot store before the section's loads: a compiler barrier with membarrier,
	 * a full fence otherwise.  Relaxed flag load: written once before any reader. */
	if (OBQ_LIKELY(__atomic_load_n(&_obq_rcu_ro.has_membarrier, __ATOMIC_RELAXED)))
		atomic_signal_fence(memory_order_seq_cst);
	else
		atomic_thread_fence(memory_order_seq_cst);
}

OBQ_INLINE void obq_rcu_read_lock(void)
{
	/* No "no context yet" test: _obq_thread_none's word is 0 (unregistered), which
	 * takes the slow path, and that creates the context. */
	struct obq_thread *t = _obq_self;
	/* Relaxed: the word is this thread's own (the writer only reads it). */
	unsigned long v = atomic_load_explicit(&t->rcu_ctr, memory_order_relaxed);

	if (OBQ_LIKELY(_OBQ_RCU_LOW(v) == OBQ_RCU_REGISTERED)) {
		_obq_rcu_read_lock_outer(t); /* registered, outside any section */
	} else if (v & OBQ_RCU_NEST_MASK) {
		/* Nested: the phase stays the outermost section's; relaxed as above. */
		atomic_store_explicit(&t->rcu_ctr, v + OBQ_RCU_GP_COUNT, memory_order_relaxed);
	} else {
		/* No context or unregistered: create, report (checked), register. */
		_obq_rcu_read_lock_outer(_obq_rcu_read_lock_slow(t));
	}
}

/* Outermost unlock of t, whose word is v (nesting 1): the quiescent store, then the
 * check for a writer sleeping on this reader. */
OBQ_INLINE void _obq_rcu_read_unlock_outer(struct obq_thread *t, unsigned long v)
{
	/* Relaxed: written once before any reader exists; read once for both barriers. */
	int mb = __atomic_load_n(&_obq_rcu_ro.has_membarrier, __ATOMIC_RELAXED);
	/* TSan does not see membarrier: the section happens before the grace period
	 * that observes this store (synchronize acquires &t->rcu_ctr). */
	OBQ_TSAN_RELEASE(&t->rcu_ctr);
	/* Section's accesses before the quiescent store (a fence without membarrier). */
	if (OBQ_LIKELY(mb))
		atomic_signal_fence(memory_order_seq_cst);
	else
		atomic_thread_fence(memory_order_seq_cst);
	/* Nesting 0, phase and registration kept; ordered by the barrier above. */
	atomic_store_explicit(&t->rcu_ctr, v - OBQ_RCU_GP_COUNT, memory_order_relaxed);
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
	/* No "no context" test: _obq_thread_none's word (0) is an unbalanced unlock. */
	struct obq_thread *t = _obq_self;
	/* Relaxed: the word is this thread's own. */
	unsigned long v = atomic_load_explicit(&t->rcu_ctr, memory_order_relaxed);

	/* Common case in one compare: registered, nesting 1 (a section always runs
	 * registered: the lock registers first). */
	if (OBQ_LIKELY(_OBQ_RCU_LOW(v) == (OBQ_RCU_REGISTERED | OBQ_RCU_GP_COUNT)))
		_obq_rcu_read_unlock_outer(t, v);
	else if (OBQ_LIKELY(v & OBQ_RCU_NEST_MASK))
		atomic_store_explicit(&t->rcu_ctr, v - OBQ_RCU_GP_COUNT, memory_order_relaxed);
	else
		_obq_rcu_unlock_unbalanced(t);
}

/* 1 inside a read-side section of the current context (no context is created). */
OBQ_INLINE int obq_rcu_read_ongoing(void)
{
	/* No test for "no context": _obq_thread_none's nesting is 0. */
	return _obq_rcu_nesting(_obq_self) != 0;
}

OBQ_END_DECLS
#endif /* OBLIQUE_BITS_RCU_BUILTIN_H */
