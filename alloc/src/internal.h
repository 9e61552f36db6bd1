/* internal.h — symbols shared between liboblique's own files (prefix _obq_), at the
 * core layer: it includes the public headers of its layer and below only (error,
 * thread, the seam), never the API above it (rcu, cache, access).  The layer order is
 * docs/layers.md; ci/layers.sh (ctest `layers`) keeps the include graph to it. */
#ifndef OBQ_INTERNAL_H
#define OBQ_INTERNAL_H

#include <oblique/common.h>
#include <oblique/error.h>
#include <oblique/thread.h>
#include <oblique/bits/track.h>
#include <oblique/testing.h> /* core layer too (docs/layers.md) */

/* The hooks of obq_testing_set_hooks (testing_hooks.c). */
extern struct obq_testing_hooks _obq_testing_hooks;
extern void (*_obq_testing_release_hook)(const void *mem, size_t bytes);
extern void (*_obq_testing_handout_hook)(const void *obj);
extern int (*_obq_testing_describe_hook)(const void *p, char *buf, size_t len, const char **cache);

/* Two assertion tiers (as snmalloc): OBQ_ASSERT is debug-only (file:line, abort);
 * OBQ_CHECK-style always-on checks report through the error hook (see error.h). */
#ifndef NDEBUG
#define OBQ_ASSERT(x) ((x) ? (void)0 : _obq_assert_fail(#x, __FILE__, __LINE__))
#else
#define OBQ_ASSERT(x) ((void)0)
#endif
OBQ_COLD void _obq_assert_fail(const char *expr, const char *file, int line) __attribute__((noreturn));

/* Thread lifecycle hooks, called by thread.c in this order when a context goes away. */
void _obq_mag_thread_exit(struct obq_thread *t);   /* magazine.c: flush magazines to depots */
void _obq_rcu_thread_exit(struct obq_thread *t);   /* rcu_*.c: report exit inside a section, unregister */
/* ... then the checker's _obq_check_thread_exit (oblique/bits/track.h). */

/* rcu layer, for the allocator's own deferred work (rcu_common.c).
 * _obq_rcu_callbacks_flowing: 1 if obq_rcu_call's callbacks will run without help —
 * the callback worker runs or was just started (always 1 with the sim backend); 0 if
 * it cannot be started now (resource exhaustion).
 * _obq_rcu_on_callback_thread: 1 on the thread running callbacks (the worker, or an
 * obq_rcu_barrier caller draining the queue without one). */
int _obq_rcu_callbacks_flowing(void);
int _obq_rcu_on_callback_thread(void);

#if OBQ_CHECKED
/* rcu_common.c, the queued-head set behind rule rcu-head-double-queued (checked
 * builds).  _obq_rcu_head_track: 1 if head (non-NULL, with func) is not queued — it is
 * now; 0 after reporting that it is.  _obq_rcu_head_unqueued: head's callback is about
 * to run (its runner calls it just before func).  obq_rcu_call tracks its own heads; a
 * wrapper that queues another head in place of the caller's tracks the caller's. */
int _obq_rcu_head_track(const struct obq_rcu_head *head, void (*func)(struct obq_rcu_head *));
void _obq_rcu_head_unqueued(const struct obq_rcu_head *head);
#endif

/* The obq_rcu_gp_count() value at which a grace period that starts after now has
 * completed (sim: exact — the next GP, or the one after a running one; builtin and
 * urcu: the count + 1, a lower bound, since they do not say whether a GP is running).
 * The allocator-contract checks compare it with the count when the deferred work ran. */
unsigned long _obq_rcu_gp_target(void);

/* inject.c: 1 if a test asked this attempt at `what` (enum obq_inject of
 * oblique/testing.h) to fail as if the system refused it. */
int _obq_inject_fail(int what);

/* Small unique thread ids (1, 2, ...). */
unsigned _obq_next_thread_id(void);

#endif /* OBQ_INTERNAL_H */
