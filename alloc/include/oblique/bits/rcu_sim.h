/* oblique/bits/rcu_sim.h — the deterministic RCU backend (included by oblique/rcu.h; do
 * not include directly) and the stepping API the fuzz harness drives.
 *
 * Model: one OS thread runs many virtual threads (contexts installed with
 * obq_thread_switch).  Nothing happens behind the harness's back: a grace period (GP)
 * starts, ends, and a callback runs only when the harness calls obq_sim_step(), so a
 * fuzzer can end a GP — and release a slab — at the worst moment.
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
 * obq_sim_can_step() as "something can still happen" when it looks for a deadlock.
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

/* --- harness-facing API ------------------------------------------------------- */

/* Drop all sim state: GP counters, requests, pending callbacks (not run), autostep
 * stays as set.  Registered contexts stay registered.  Call between fuzz inputs; the
 * caller guarantees that no context is inside a section or waiting. */
void obq_sim_reset(void);

enum obq_sim_step {
	OBQ_SIM_NOTHING = 0,    /* nothing could be done */
	OBQ_SIM_GP_STARTED,     /* a requested GP started: current readers now hold it */
	OBQ_SIM_GP_ENDED,       /* the current GP ended: its pre-existing readers had all left */
	OBQ_SIM_CALLBACK_RAN    /* one callback whose GP had ended ran */
};

/* 1 if obq_sim_step() would do something now. */
int obq_sim_can_step(void);

/* One step of the GP machine, the first that applies of: end the current GP if every
 * reader that was inside when it started has left; start a GP if one was requested
 * (by synchronize or call) and none is running; run ONE callback whose GP has ended
 * (callbacks run in the order they were queued). */
enum obq_sim_step obq_sim_step(void);

/* Completed GPs since the last reset (obq_rcu_gp_count() returns the same). */
unsigned long obq_sim_gp_seq(void);

/* 1 between OBQ_SIM_GP_STARTED and OBQ_SIM_GP_ENDED. */
int obq_sim_gp_in_progress(void);

/* Callbacks queued and not yet run. */
size_t obq_sim_callbacks_pending(void);

/* obq_sim_gp_seq() when t's current outermost section began (meaningful only while t
 * is inside a section).  A GP that ends with gp_seq > this value ended under the
 * reader; one whose start preceded the section could not have ended (invariant). */
unsigned long obq_sim_reader_start_seq(const struct obq_thread *t);

/* 1: the GP machine advances by itself at every RCU scheduling point (before and after
 * each read lock/unlock, call, synchronize, barrier), up to 1000 steps each time — for
 * simple unit tests.  0 (default): only obq_sim_step() advances it. */
void obq_sim_set_autostep(int on);

OBQ_END_DECLS
#endif /* OBLIQUE_BITS_RCU_SIM_H */
