/* oblique/bits/rcu_sim.h — the read side of the deterministic RCU backend (included by
 * oblique/rcu.h; do not include directly).  The stepping API that drives it
 * (obq_sim_step, obq_sim_reset, obq_sim_can_step, ...) is declared in oblique/testing.h,
 * which tools and tests include.
 *
 * Model: one OS thread runs many virtual threads (contexts installed with
 * obq_thread_switch).  Nothing happens behind the scheduler's back: a grace period (GP)
 * starts, ends, and a callback runs only when the scheduler calls obq_sim_step(), so a
 * test can end a GP — and release a slab — at the worst moment.
 *
 * Invariant: a GP never ends while a reader that was inside its read-side section when
 * the GP started is still inside that same section.  (Readers that begin after the GP
 * started do not hold it.)
 *
 * Every obq_rcu_read_lock / read_unlock / synchronize / call / barrier is a scheduling
 * point (OBQ_SCHED_POINT before it acts, in builds with OBQ_SCHED_POINTS=1).
 * synchronize requests a GP and waits, through the scheduler's wait hook
 * (OBQ_SP_WAIT_GP), until a GP that started after the call has ended; barrier waits
 * until every callback queued before it has run.  The scheduler must treat
 * obq_sim_can_step() as "something can still happen" when no virtual thread can run.
 *
 * Without a scheduler (no wait hook installed: unit tests, single-context programs)
 * synchronize and barrier drive the GP machine themselves (obq_sim_step in a loop).
 * That is only valid when no other context is inside a read-side section: if one is,
 * nothing can ever end it, and the call reports "grace-period-stall" and returns.
 *
 * Callbacks run inside obq_sim_step() on the calling OS thread with whatever context is
 * current; they must not themselves be scheduling points beyond what they call, and
 * must not call obq_rcu_synchronize or obq_rcu_barrier (steps do not nest: inside a
 * callback obq_sim_step() does nothing).
 *
 * The sim backend is not thread-safe: all contexts run on one OS thread at a time. */
#ifndef OBLIQUE_BITS_RCU_SIM_H
#define OBLIQUE_BITS_RCU_SIM_H

OBQ_BEGIN_DECLS

/* Out of line: each is a scheduling point and may step the GP machine (autostep). */
void _obq_sim_read_lock(void);
void _obq_sim_read_unlock(void);

OBQ_INLINE void obq_rcu_read_lock(void)
{
	_obq_sim_read_lock();
}

OBQ_INLINE void obq_rcu_read_unlock(void)
{
	_obq_sim_read_unlock();
}

/* Read-side nesting depth of t (0 outside any section); for reports and checks. */
OBQ_INLINE unsigned _obq_rcu_nesting(const struct obq_thread *t)
{
	return t->rcu_nesting;
}

/* 1 inside a read-side section of the current context (no context is created). */
OBQ_INLINE int obq_rcu_read_ongoing(void)
{
	/* No test for "no context": _obq_thread_none's nesting is 0. */
	return _obq_self->rcu_nesting != 0;
}

OBQ_END_DECLS
#endif /* OBLIQUE_BITS_RCU_SIM_H */
