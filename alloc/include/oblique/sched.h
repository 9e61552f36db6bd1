/* oblique/sched.h — scheduling points for a scheduler of virtual threads.
 *
 * In the sim variant of the library (OBQ_SCHED_POINTS=1) every sanctioned primitive —
 * RCU read lock/unlock, synchronize, call, barrier, alloc, free, oblique lock and
 * trylock, peek, store, ref get/put/set, seqcount reads — calls the scheduler hook
 * *before* it acts, so a scheduler of virtual threads may switch to another thread
 * there.  A primitive that must wait (a held lock, a grace period) calls the wait
 * hook with a readiness predicate: the scheduler parks the thread until the predicate
 * holds (what it does when no thread can run is its own business).  With no hook installed the
 * points cost a predictable branch; in other variants they compile to nothing. */
#ifndef OBLIQUE_SCHED_H
#define OBLIQUE_SCHED_H

#include <oblique/common.h>

OBQ_BEGIN_DECLS

enum obq_sp_kind {
	OBQ_SP_READ_LOCK = 0, OBQ_SP_READ_UNLOCK, OBQ_SP_SYNCHRONIZE, OBQ_SP_CALL,
	OBQ_SP_BARRIER, OBQ_SP_ALLOC, OBQ_SP_FREE, OBQ_SP_LOCK, OBQ_SP_TRYLOCK,
	OBQ_SP_UNLOCK, OBQ_SP_PEEK, OBQ_SP_STORE, OBQ_SP_REF_GET, OBQ_SP_REF_PUT,
	OBQ_SP_REF_SET, OBQ_SP_SEQ_READ, OBQ_SP_WAIT_LOCK, OBQ_SP_WAIT_GP, OBQ_SP_USER,
	OBQ_SP_KIND_COUNT
};

typedef void (*obq_sched_hook_fn)(enum obq_sp_kind kind, const void *obj);
/* ready(arg) != 0 when the waiter may proceed; it must not have side effects. */
typedef int (*obq_ready_fn)(const void *arg);
typedef void (*obq_sched_wait_fn)(enum obq_sp_kind kind, obq_ready_fn ready, const void *arg);

extern obq_sched_hook_fn _obq_sched_hook;
extern obq_sched_wait_fn _obq_sched_wait;

/* Install the hooks (NULL, NULL removes them). */
void obq_sched_set_hooks(obq_sched_hook_fn point, obq_sched_wait_fn wait);

const char *obq_sp_name(enum obq_sp_kind kind);

/* A scheduling point: the installed hook, if any (sched.c).  Out of line on purpose:
 * the test and the indirect call stay out of the code that expands OBQ_SCHED_POINT,
 * which a scheduler's client may build with comparison and indirect-call coverage
 * tracing; traced there, both cost at every sanctioned access (docs/benchmarks.md). */
void _obq_sched_point(enum obq_sp_kind kind, const void *obj);

#if OBQ_SCHED_POINTS
#define OBQ_SCHED_POINT(kind, obj) _obq_sched_point((kind), (obj))
/* Wait until ready(arg): parks under a scheduler, spins (with a pause) without one. */
#define OBQ_SCHED_WAIT(kind, ready, arg) \
	do { if (_obq_sched_wait) _obq_sched_wait((kind), (ready), (arg)); \
	     else while (!(ready)(arg)) { } } while (0)
#else
#define OBQ_SCHED_POINT(kind, obj) do { } while (0)
#define OBQ_SCHED_WAIT(kind, ready, arg) do { } while (0)
#endif

OBQ_END_DECLS
#endif /* OBLIQUE_SCHED_H */
