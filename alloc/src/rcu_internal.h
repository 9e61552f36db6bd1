/* rcu_internal.h — the services rcu_common.c gives the backends (rcu_<backend>.c),
 * over the backend contract (rcu_backend.h); nothing outside the rcu layer includes it. */
#ifndef OBQ_RCU_INTERNAL_H
#define OBQ_RCU_INTERNAL_H

#include "rcu_backend.h"

/* --- misuse reports (rcu_common.c), each says which thread and what to do --------- */
void _obq_rcu_report_sync_in_reader(const struct obq_thread *t, const char *call);
/* obq_rcu_call's argument check (every backend, every build): 1 if head and func are
 * usable; else reports "rcu-call-null" and returns 0 (the call then queues nothing).
 * Checked builds: also 0 after reporting "rcu-head-double-queued" when head is queued
 * already and its callback has not run; on 1 the head is tracked as queued until the
 * runner calls _obq_rcu_head_unqueued just before its function. */
int _obq_rcu_call_args_ok(const struct obq_rcu_head *head,
			  void (*func)(struct obq_rcu_head *head));
#if OBQ_CHECKED
void _obq_rcu_heads_forget(void); /* sim reset: queued callbacks dropped, never run */
#else
#define _obq_rcu_head_unqueued(head) ((void)0)
#define _obq_rcu_heads_forget() ((void)0)
#endif
void _obq_rcu_report_unbalanced(const struct obq_thread *t);
void _obq_rcu_report_unregistered(const struct obq_thread *t);
void _obq_rcu_report_exit_in_reader(const struct obq_thread *t, const char *how);

/* ids[0..n) are the blocking readers' thread ids; total may exceed n (list truncated). */
void _obq_rcu_report_stall(unsigned long waited_ms, unsigned bound_ms, const char *what,
			   const unsigned *ids, size_t n, size_t total);

/* Current stall bound in ms (0: disabled); reads OBQ_RCU_STALL_MS once. */
unsigned _obq_rcu_stall_ms(void);

/* Monotonic time in nanoseconds. */
uint64_t _obq_rcu_now_ns(void);

/* Portable bounded backoff for a waiting writer: spins first, then sched_yield, then
 * nanosleep doubling up to 1 ms.  *round starts at 0. */
void _obq_rcu_backoff(unsigned *round);

/* --- callback queue and worker (rcu_common.c; builtin and urcu backends) --------- */
#if OBQ_RCU_BACKEND != OBQ_RCU_SIM
void _obq_rcu_queue_call(struct obq_rcu_head *head, void (*func)(struct obq_rcu_head *));
void _obq_rcu_queue_barrier(void);
#endif

/* Install the common fork handlers once (idempotent; builtin and urcu). */
void _obq_rcu_common_init(void);

#endif /* OBQ_RCU_INTERNAL_H */
