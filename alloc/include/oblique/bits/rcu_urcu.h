/* oblique/bits/rcu_urcu.h — inline read side of the urcu backend (included by
 * oblique/rcu.h; do not include directly): oblique's read-side sections are liburcu
 * memb read-side sections, so a program that already uses liburcu (memb flavour)
 * shares one RCU domain with oblique's caches — their sections hold our grace periods
 * and ours hold theirs.
 *
 * Built with _LGPL_SOURCE (the library's and oblique.pc's compile flags) so liburcu's
 * read side inlines.  Under ThreadSanitizer the read side calls liburcu's out-of-line
 * functions instead: liburcu 0.13 is not instrumented and its inlined wake-up path
 * (urcu_common_wake_up_gp) makes plain accesses TSan reports as races; kept out of line
 * they are invisible to TSan, and oblique states the grace-period edges itself
 * (release at unlock, acquire after synchronize: bits/track.h).
 *
 * oblique keeps its own nesting count (t->rcu_nesting) and calls liburcu only for the
 * outermost section.  obq_rcu_read_ongoing() is also true inside the program's own
 * liburcu sections.  In checked builds t->rcu_ctr counts sections (odd = inside), which
 * lets synchronize name the oblique readers that stall it.  One context per OS thread:
 * liburcu's state is per OS thread, so virtual contexts are for the sim backend only. */
#ifndef OBLIQUE_BITS_RCU_URCU_H
#define OBLIQUE_BITS_RCU_URCU_H

#include <stdatomic.h>
#include <oblique/bits/track.h>

#if !OBQ_TSAN
#ifndef _LGPL_SOURCE
#define _LGPL_SOURCE /* inline read side (oblique.pc and the CMake target also set it) */
#endif
#include <urcu/urcu-memb.h>
#endif

OBQ_BEGIN_DECLS

void _obq_rcu_read_lock_slow(struct obq_thread *t);    /* unregistered: report (checked), register */
void _obq_rcu_unlock_unbalanced(struct obq_thread *t); /* nesting 0: report, ignore */

#if OBQ_TSAN
/* liburcu's exported (uninstrumented) read side, through rcu_urcu.c. */
void _obq_urcu_read_lock_ool(void);
void _obq_urcu_read_unlock_ool(void);
int _obq_urcu_read_ongoing_ool(void);
#define _OBQ_URCU_LOCK()    _obq_urcu_read_lock_ool()
#define _OBQ_URCU_UNLOCK()  _obq_urcu_read_unlock_ool()
#define _OBQ_URCU_ONGOING() _obq_urcu_read_ongoing_ool()
#else
#define _OBQ_URCU_LOCK()    urcu_memb_read_lock()
#define _OBQ_URCU_UNLOCK()  urcu_memb_read_unlock()
#define _OBQ_URCU_ONGOING() urcu_memb_read_ongoing()
#endif

OBQ_INLINE void obq_rcu_read_lock(void)
{
	struct obq_thread *t = obq_thread_current();
	unsigned n = t->rcu_nesting;

	if (OBQ_LIKELY(n == 0)) {
		if (OBQ_UNLIKELY(!t->rcu_registered))
			_obq_rcu_read_lock_slow(t);
		_OBQ_URCU_LOCK();
#if OBQ_CHECKED
		/* Relaxed: a section counter for stall reports only (odd = inside). */
		atomic_store_explicit(&t->rcu_ctr,
				      atomic_load_explicit(&t->rcu_ctr, memory_order_relaxed) + 1,
				      memory_order_relaxed);
#endif
	}
	t->rcu_nesting = n + 1;
}

OBQ_INLINE void obq_rcu_read_unlock(void)
{
	struct obq_thread *t = obq_thread_current();
	unsigned n = t->rcu_nesting;

	if (OBQ_LIKELY(n == 1)) {
		t->rcu_nesting = 0;
		/* The section happens before the grace period that waits for it (TSan does
		 * not see liburcu's barriers): synchronize acquires &t->rcu_ctr. */
		OBQ_TSAN_RELEASE(&t->rcu_ctr);
#if OBQ_CHECKED
		atomic_store_explicit(&t->rcu_ctr, /* relaxed: see lock */
				      atomic_load_explicit(&t->rcu_ctr, memory_order_relaxed) + 1,
				      memory_order_relaxed);
#endif
		_OBQ_URCU_UNLOCK();
	} else if (OBQ_LIKELY(n > 1)) {
		t->rcu_nesting = n - 1;
	} else {
		_obq_rcu_unlock_unbalanced(t);
	}
}

/* Read-side nesting depth of t (0 outside any section); for reports and checks. */
OBQ_INLINE unsigned _obq_rcu_nesting(const struct obq_thread *t)
{
	return t->rcu_nesting;
}

/* 1 inside a read-side section: oblique's, or the program's own liburcu section. */
OBQ_INLINE int obq_rcu_read_ongoing(void)
{
	if (_obq_self->rcu_nesting != 0) /* _obq_thread_none's is 0 */
		return 1;
	return _OBQ_URCU_ONGOING() != 0;
}

OBQ_END_DECLS
#endif /* OBLIQUE_BITS_RCU_URCU_H */
