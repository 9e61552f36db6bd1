/* oblique/sched.h — scheduling points for the deterministic harness.
 *
 * In the sim variant of the library (OBQ_SCHED_POINTS=1) every sanctioned primitive —
 * RCU read lock/unlock, synchronize, call, barrier, alloc, free, oblique lock and
 * trylock, peek, store, ref get/put/set, seqcount reads — calls the scheduler hook
 * *before* it acts, so a scheduler of virtual threads may switch to another thread
 * there.  A primitive that must wait (a held lock, a grace period) calls the wait
 * hook with a readiness predicate: the scheduler parks the thread until the predicate
 * holds, and reports a deadlock if no thread can run.  With no hook installed the
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

/* Deterministic harnesses run many inputs in one process, and the same input must
 * take the same path whatever ran before it (AFL++ measures this as stability).  The
 * allocator keeps the mappings of released slabs for reuse and hands out the most
 * recently released first, so a run's slab addresses — and every branch that compares
 * them — would follow the order in which the previous run released its slabs.  This
 * sorts that cache by address (lowest handed out first).  Call it between runs, when
 * no other thread makes or releases slabs; it does nothing else. */
void obq_sched_canonical_regions(void);

#if OBQ_SCHED_POINTS
#define OBQ_SCHED_POINT(kind, obj) \
	do { if (_obq_sched_hook) _obq_sched_hook((kind), (obj)); } while (0)
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
