/* rcu_backend.h — the backend contract: what an RCU backend must define, and what
 * rcu_common.c gives it.  One backend per library variant, chosen by OBQ_RCU_BACKEND
 * (the table: oblique/bits/backends.h).  Nothing outside the rcu layer includes it.
 *
 * A backend <name> is
 *   oblique/bits/rcu_<name>.h  the inline read side, included by oblique/rcu.h:
 *       static inline obq_rcu_read_lock(), obq_rcu_read_unlock(),
 *       obq_rcu_read_ongoing(), and _obq_rcu_nesting(t) (t's section depth, 0
 *       outside; read by rcu_common.c and the checker);
 *   alloc/src/rcu_<name>.c     the out-of-line part: every function declared below
 *       under "every backend", and under "threaded backends" unless it is sim;
 *   alloc/src/rcu_<name>.cmake (optional) its build dependencies (see rcu_urcu.cmake).
 * rcu_common.c defines, for every backend, registration (obq_rcu_register_thread,
 * obq_rcu_unregister_thread, _obq_rcu_thread_exit over the hooks below), obq_rcu_backend
 * (the table's name), the misuse reports and the stall bound; for threaded backends
 * also the callback queue and its worker thread, obq_rcu_call, obq_rcu_barrier and the
 * grace-period count (obq_rcu_gp_count, advanced by _obq_rcu_gp_completed).
 *
 * Invariants every backend keeps (tests: alloc/tests/test_rcu.c runs on each):
 *  - obq_rcu_synchronize returns after every section that was in progress when it was
 *    called has ended, and reports synchronize-in-read-side instead inside a section;
 *  - the reader's section end happens before (TSan: OBQ_TSAN_RELEASE/ACQUIRE) the end
 *    of the grace period that waited for it;
 *  - a thread's context t is registered iff t->rcu_registered != 0. */
#ifndef OBQ_RCU_BACKEND_H
#define OBQ_RCU_BACKEND_H

#include "internal.h"
#include <oblique/rcu.h>

/* --- every backend ----------------------------------------------------------------- */

/* Add t (the calling thread's context) to the backend's readers; idempotent. */
void _obq_rcu_backend_register(struct obq_thread *t);
/* Remove t from the backend's readers; idempotent. */
void _obq_rcu_backend_unregister(struct obq_thread *t);
/* End t's abandoned read-side section (after a report), so grace periods are not held
 * forever. */
void _obq_rcu_backend_force_exit(struct obq_thread *t);
/* The public calls a backend implements itself (oblique/rcu.h): obq_rcu_synchronize,
 * obq_rcu_gp_reader_waits; sim also obq_rcu_call, obq_rcu_barrier, obq_rcu_gp_count. */

/* --- threaded backends (every backend but sim) ------------------------------------- */
#if OBQ_RCU_BACKEND != OBQ_RCU_SIM
/* Called by obq_rcu_barrier before it queues its marker: whatever the backend must
 * have set up before a callback can run (may be empty). */
void _obq_rcu_backend_init(void);
/* Fork hooks called by rcu_common.c's pthread_atfork handlers, after (prepare) or
 * before (parent, child) the common locks.  child: only the forking thread survives. */
void _obq_rcu_backend_fork_prepare(void);
void _obq_rcu_backend_fork_parent(void);
void _obq_rcu_backend_fork_child(void);

/* Given by rcu_common.c: a grace period completed (obq_rcu_gp_count() + 1).  Called
 * by obq_rcu_synchronize after the grace period's effects, once per grace period. */
void _obq_rcu_gp_completed(void);
#endif

#endif /* OBQ_RCU_BACKEND_H */
