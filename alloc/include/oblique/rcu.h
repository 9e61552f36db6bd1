/* oblique/rcu.h — the RCU domain oblique's caches defer slab release through.
 *
 * Protocol (as liburcu's): a thread registers with obq_rcu_register_thread() before
 * its first read-side section and unregisters before it exits.  Read-side sections
 * nest.  obq_rcu_synchronize() returns after every read-side section that was in
 * progress when it was called has ended; obq_rcu_call() runs its callback after such
 * a grace period, on another thread (builtin, urcu) or as a scheduled step (sim);
 * obq_rcu_barrier() waits until every callback queued before it has run.
 * synchronize, barrier and cache destroy must not be called inside a read-side
 * section (checked builds report it).
 *
 * The backend is fixed at build time so the read side inlines:
 *   builtin — C11 atomics; on Linux membarrier(2) lets the read side run without a
 *             fence (liburcu's memb scheme), with a fenced fallback elsewhere;
 *   urcu    — liburcu's memb flavour, for programs that already use liburcu;
 *   sim     — deterministic, driven by a scheduler of virtual threads (tests). */
#ifndef OBLIQUE_RCU_H
#define OBLIQUE_RCU_H

#include <oblique/common.h>
#include <oblique/thread.h>
#include <oblique/sched.h>

OBQ_BEGIN_DECLS

struct obq_rcu_head {
	struct obq_rcu_head *next;                 /* queue link, owned by the backend */
	void (*func)(struct obq_rcu_head *head);   /* run after a grace period */
};

void obq_rcu_register_thread(void);
void obq_rcu_unregister_thread(void);

/* static inline void obq_rcu_read_lock(void);
 * static inline void obq_rcu_read_unlock(void);
 * static inline int  obq_rcu_read_ongoing(void);   -- from the backend header below */

void obq_rcu_synchronize(void);
void obq_rcu_call(struct obq_rcu_head *head, void (*func)(struct obq_rcu_head *head));
void obq_rcu_barrier(void);

/* Completed grace periods since start (diagnostics, tests, age checks). */
unsigned long obq_rcu_gp_count(void);
/* Of those, the grace periods that began with a reader inside a read-side section and
 * had to wait for it to leave (builtin, sim; always 0 for urcu, whose synchronize does
 * not tell) — rcutorture's measure of whether readers and updaters really overlapped. */
unsigned long obq_rcu_gp_reader_waits(void);

/* Name of the backend compiled in: "builtin", "urcu" or "sim" (OBQ_RCU_BACKEND_NAME). */
const char *obq_rcu_backend(void);

/* Grace-period stall bound for the checker, in milliseconds (0 disables; default
 * 10000, or the environment variable OBQ_RCU_STALL_MS).  A synchronize that waits
 * longer reports OBQ_ERR_RCU_STALL naming the readers that hold it. */
void obq_rcu_set_stall_ms(unsigned ms);

/* Publish / subscribe.  assign: release store (initialisation before publication);
 * dereference: acquire load (no compiler we support implements consume). */
#define obq_rcu_assign_pointer(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define obq_rcu_dereference(p)       __atomic_load_n(&(p), __ATOMIC_ACQUIRE)

OBQ_END_DECLS

/* The compiled-in backend's read side (oblique/bits/backends.h names it). */
#include OBQ_RCU_BACKEND_HEADER

#endif /* OBLIQUE_RCU_H */
