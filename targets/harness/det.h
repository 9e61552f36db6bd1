/* det.h — what the deterministic engine's files share (not public).
 *
 *   det.c          the engine: coroutines, scheduling points, decide(), the sim engine's
 *                  steps, reports, the run loop (h_det_init, h_det_run)
 *   det_print.c    the thread states and the realised schedule as text
 *   policy_tape.c, policy_pct.c, policy_preempt.c
 *                  the scheduling policies: each a `pick` (and a `start`) over the
 *                  choices decide() gathers; det.c selects one through det_policies[]
 *
 * One run's state is one struct (struct obq_h_run), initialised as a whole by det.c's
 * run_reset(); what lives as long as the process (coroutine stacks, per-thread
 * contexts, the target-state buffer, the schedule log) is det.c's engine struct. */
#ifndef OBQ_H_DET_H
#define OBQ_H_DET_H

#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>

#include <oblique/oblique.h>
#include <oblique/testing.h>

#include "hint.h"

#define GP_CHOICE OBQ_H_MAX_THREADS /* index of the sim engine among choices */
#define LOG_MAX 16384               /* realised schedule entries kept */
/* The per-step path (every scheduling point: sp_hook, sched_point, decide, the
 * policies' pick, draw, log_step) touches only the scheduler's own state, with indices
 * bounded by construction (UBSan's bounds checks still apply): ASan's checks there cost
 * about a tenth of a fuzzing run and could find nothing the target is about. */
#define H_STEP OBQ_NO_ASAN
#define H_UNLIKELY(x) __builtin_expect(!!(x), 0)

struct coro;

enum vt_state { VT_READY = 0, VT_PARKED, VT_DONE };

struct vthread {
	obq_h_t pub;                 /* the target's view; first member */
	struct coro *co;             /* its coroutine (the engine's; NULL for main) */
	struct obq_thread *ctx;      /* its oblique per-thread context (the engine's) */
	unsigned pc;                 /* index of the current / next operation */
	int in_op;                   /* 1 while an operation body runs */
	enum vt_state st;            /* READY, PARKED, DONE */
	obq_ready_fn ready;          /* PARKED: may proceed when ready(ready_arg) */
	const void *ready_arg;       /* its argument */
	enum obq_sp_kind wait_kind;  /* PARKED: what it waits for */
	enum obq_sp_kind last_sp;    /* the scheduling point it stopped at last */
	jmp_buf op_exit;             /* obq_h_fail leaves the operation through here */
	struct h_expect expect;      /* obq_h_expect: a report of this kind is expected */
};

/* One realised step: who ran past which point (or what the sim engine did). */
struct step {
	uint8_t who;                 /* tid, or GP_CHOICE */
	uint8_t what;                /* enum obq_sp_kind for a thread; sim result for GP */
	uint8_t op;                  /* the thread's operation index (pc) */
	uint8_t preempt;             /* 1 if it switched away from a runnable thread */
	int32_t tape_idx;            /* tape byte that decided it, -1 if none / PRNG */
	int16_t stay;                /* tape value that would have kept the running thread, -1 none */
};

/* ---- policies ---- */

/* What the policies keep during a run (zero at its start, then their `start`). */
struct det_policy_state {
	unsigned preempt_left;       /* preempt: preemptions left */
	int prio[OBQ_H_MAX_THREADS + 1]; /* pct: priority of thread i, of the sim engine at
					  * GP_CHOICE (higher runs first) */
	unsigned change[8];          /* pct: change points (step numbers), sorted */
	unsigned nchange;            /* pct: how many */
	unsigned next;               /* pct: next change point index */
};

/* Who may run at a scheduling point: runnable threads by tid, then the sim engine. */
struct det_choices {
	unsigned ch[OBQ_H_MAX_THREADS + 1]; /* tids, GP_CHOICE last if the engine can step */
	unsigned n;                  /* how many (>= 1 when a policy is asked) */
	int self_idx;                /* index of the thread at the point, -1 if not runnable / none */
	int self_tid;                /* its tid, -1 when none (a thread finished, or main) */
	int can_gp;                  /* 1: ch[n - 1] is GP_CHOICE */
	unsigned steps;              /* scheduling points passed */
};

/* A policy's answer; decide() fills in {0, -1, -1} before asking. */
struct det_pick {
	unsigned idx;                /* index into ch[] */
	int32_t tidx;                /* tape byte that decided it, -1 if none / PRNG */
	int stay;                    /* tape value that would have kept the running thread, -1 none */
};

struct det_policy {
	const char *name;
	/* At the run's start, before setup (may draw). */
	void (*start)(struct det_policy_state *s, const struct program *p);
	/* Choose among c (c->n >= 1). */
	void (*pick)(struct det_policy_state *s, const struct det_choices *c, struct det_pick *out);
};
extern const struct det_policy det_policy_tape, det_policy_pct, det_policy_preempt;

/* The next random byte: the tape's while it lasts (*tidx = its index), then the PRNG's
 * (*tidx = -1).  tidx may be NULL. */
unsigned det_draw(int32_t *tidx);

/* ---- one run ---- */

struct obq_h_run {
	const struct obq_h_target *tg; /* the target */
	const struct program *prog;  /* the program being run */
	const struct h_opts *opts;   /* options of this run */
	struct h_result *res;        /* result being filled */
	struct vthread vt[OBQ_H_MAX_THREADS]; /* virtual threads */
	struct vthread mainvt;       /* the setup / final / teardown view */
	struct obq_thread *osctx;    /* the OS thread's context before the run */
	struct vthread *cur;         /* running virtual thread; NULL: main */
	int active;                  /* 1 between the hooks' installation and the end of cleanup */
	int in_sim;                  /* 1 inside obq_sim_step */
	int in_pred;                 /* >0 while the engine evaluates a wait's predicate */
	int stop;                    /* a report stopped the run: no new operations start */
	int abandon;                 /* threads go back to main at their next point (stuck while stopping) */
	unsigned live;               /* bit i: vt[i].st != VT_DONE */
	unsigned parked;             /* bit i: vt[i].st == VT_PARKED (so live) */
	size_t tape_pos;             /* tape bytes consumed */
	uint64_t rng;                /* PRNG state after the tape */
	unsigned steps;              /* scheduling points passed */
	unsigned max_steps;          /* budget (livelock above) */
	const struct det_policy *policy; /* prog->policy's */
	struct det_policy_state pol; /* its state */
	uint64_t hash;               /* determinism hash */
	struct obq_h_cache *caches;  /* caches created this run */
	void *state;                 /* target state buffer (the engine's, zeroed) */
	struct step *log;            /* realised schedule (the engine's LOG_MAX entries) */
	size_t nlog;                 /* entries (may exceed LOG_MAX: later ones dropped) */
	FILE *sched_live;            /* non-NULL: each step is written here as it happens */
	int sched_col;               /* its current column (0: at a line start) */
	int cleaning;                /* run_cleanup runs: destroy's slab releases are not events */
	/* The callback-timing oracle's FIFO (det.c, cb_queued / cb_ran): the grace-period
	 * count each queued callback needs, in queue order (the engine's array). */
	unsigned cb_first;           /* index of the oldest entry */
	unsigned cb_count;           /* entries */
	int cb_lost;                 /* the FIFO overflowed: no timing verdict this run */
};

/* ---- the weak-memory mode (weak.c; OBQ_H_WEAK builds, no-ops otherwise) ---- */
/* step.what of a weak-memory choice (a thread's step, not a scheduling point): the
 * kind ORed with how far from the latest, capped at 15.  Logged with preempt = 1 and
 * stay = 0 so that minimize tries each without it, as it tries a preemption. */
#define STEP_WEAK_READ 0xE0          /* a load read the k-th older store */
#define STEP_WEAK_PLACE 0xF0         /* a store went k places before the newest */
#define STEP_IS_WEAK(what) ((what) >= STEP_WEAK_READ)
/* det.c, for weak.c: the model's thread id now (gp_tid in the sim engine; ~0u outside
 * a virtual thread); log a weak choice; report a data race (ends the operation). */
unsigned det_weak_tid(unsigned gp_tid);
unsigned det_weak_op(void); /* the running thread's operation index (0 in the sim engine) */
void det_weak_step(unsigned kind, unsigned k, int32_t tidx, const void *addr);
void det_weak_race(const char *msg);
#if OBQ_H_WEAK
void h_weak_run_begin(void);
void h_weak_run_end(void);
void h_weak_gp_step(void); /* a grace period started or ended */
#else
static inline void h_weak_run_begin(void) {}
static inline void h_weak_run_end(void) {}
static inline void h_weak_gp_step(void) {}
#endif

/* ---- text (det_print.c) ---- */
const char *det_sim_result_name(int r);
/* Each virtual thread's state and the sim engine's, a line each. */
void det_print_states(FILE *f, const struct obq_h_run *r);
/* The realised schedule, wrapped, each line prefixed. */
void det_print_schedule(FILE *f, const struct obq_h_run *r, const char *prefix);
/* One entry of it; *col is the column (0: at a line start). */
void det_put_step(FILE *f, const char *prefix, const struct step *s, int *col);
/* The end of a schedule written step by step: the dropped entries counted, the last
 * line ended. */
void det_end_schedule(FILE *f, const struct obq_h_run *r, const char *prefix, int col);

#endif
