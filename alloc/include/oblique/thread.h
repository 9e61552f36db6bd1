/* oblique/thread.h — the explicit per-thread context.
 *
 * Every piece of per-thread state oblique keeps — RCU read-side nesting, the cache
 * magazines, the checker's data, the sim backend's virtual-thread data — lives in one
 * struct obq_thread.  In a normal program it is found through a thread-local pointer
 * and created on first use.  A scheduler that runs many virtual threads on one OS
 * thread (a deterministic test scheduler) creates one context per virtual thread and
 * installs it with obq_thread_switch() whenever it switches coroutines.
 *
 * Protocol: a context is used by one OS thread at a time.  A thread that takes RCU
 * read-side locks must be registered (obq_rcu_register_thread) — the checker reports
 * a read lock in an unregistered thread. */
#ifndef OBLIQUE_THREAD_H
#define OBLIQUE_THREAD_H

#include <oblique/common.h>

OBQ_BEGIN_DECLS

struct obq_magazine_set;   /* alloc/src/magazine.c */
struct obq_check_thread;   /* sanitizers/ */

/* Layout is public only so the RCU read side can be inlined; touch it through the API.
 * Two cache lines: the first is written by the owning thread only (its RCU word on
 * every read lock and unlock, its magazines); the second holds the RCU registry links,
 * which grace-period writers rewrite on every scan.  Sharing one line made each scan
 * steal the reader's hot line (liburcu aligns its reader node the same way). */
struct obq_thread {
	/* --- RCU reader state (rcu layer) --- */
	_Atomic unsigned long rcu_ctr;   /* builtin: nesting | gp phase snapshot | registered bit
					  * (bits/rcu_builtin.h); urcu (checked): section counter */
	unsigned rcu_registered;         /* 1 after obq_rcu_register_thread (urcu: 2 = adopted) */
	unsigned rcu_nesting;            /* sim, urcu: read-side nesting depth (builtin keeps it in
					  * rcu_ctr); read any backend's through _obq_rcu_nesting() */
	_Atomic int rcu_waiting;         /* builtin: a synchronize waits on this reader's unlock */
	void *rcu_backend;               /* urcu: nothing; sim: per-virtual-thread sim state */
	/* --- cache layer --- */
	struct obq_magazine_set *mags;   /* per-cache magazines, indexed by cache id */
	/* --- checker --- */
	struct obq_check_thread *check;  /* checker per-thread data, NULL until first needed */
	/* --- identity --- */
	unsigned id;                     /* small unique id (reports, traces); virtual threads get their own */
	unsigned is_virtual;             /* 1: created by obq_thread_new, not tied to an OS thread */
	void *user;                      /* free for the scheduler / tool that owns the context */
	/* --- RCU registry links, written by writers under the registry lock --- */
	struct obq_thread *rcu_next __attribute__((aligned(64))); /* builtin/sim: registered readers */
	struct obq_thread *rcu_prev;     /* builtin/sim: registry list back link */
};

typedef struct obq_thread obq_thread_t;

/* The context of a thread that has none yet: all zero and read-only (a write through
 * it faults at once).  _obq_self points here, never to NULL, until the thread's own
 * context exists, so the hottest paths read _obq_self without a test: this context's
 * RCU word says "unregistered, outside any section" and its magazine set is NULL, and
 * the slow paths those values lead to create the real context (obq_thread_current). */
extern const struct obq_thread _obq_thread_none;
#define _OBQ_THREAD_NONE ((struct obq_thread *)&_obq_thread_none)

/* The context installed on this OS thread (thread-local, initial-exec);
 * _OBQ_THREAD_NONE when there is none. */
extern __thread struct obq_thread *_obq_self __attribute__((tls_model("initial-exec")));

/* Create this OS thread's own context on first use. */
struct obq_thread *_obq_thread_slow(void);

/* The current context; created lazily on first use. */
OBQ_INLINE struct obq_thread *obq_thread_current(void)
{
	struct obq_thread *t = _obq_self;
	if (OBQ_UNLIKELY(t == _OBQ_THREAD_NONE))
		t = _obq_thread_slow();
	return t;
}

/* The current context, or NULL if this thread has none (none is created). */
OBQ_INLINE struct obq_thread *_obq_thread_peek(void)
{
	struct obq_thread *t = _obq_self;
	return t == _OBQ_THREAD_NONE ? NULL : t;
}

/* A detached context for a virtual thread.  NULL and errno=ENOMEM on failure. */
struct obq_thread *obq_thread_new(void);

/* Install t as this OS thread's current context and return the previous one (may be
 * NULL).  Switching does not flush magazines and does not touch RCU state. */
struct obq_thread *obq_thread_switch(struct obq_thread *t);

/* Release a context made by obq_thread_new: its magazines go back to the depots.  It
 * must not be current anywhere, registered for RCU, nor inside a read-side section. */
void obq_thread_delete(struct obq_thread *t);

/* Called by an OS thread before it exits if it used oblique (also run automatically by
 * a pthread key destructor): flushes magazines, reports a thread that exits inside a
 * read-side section (checked builds), unregisters it from RCU. */
void obq_thread_exit(void);

OBQ_END_DECLS
#endif /* OBLIQUE_THREAD_H */
