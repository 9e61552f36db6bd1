/* det.c — the deterministic scheduler: virtual threads as coroutines on one OS
 * thread, every sanctioned primitive a scheduling point, the sim RCU engine a
 * schedulable pseudo-thread, and same bytes -> same run.
 *
 * A run:
 *   1. reset: reuse mode from the header, fresh per-thread contexts (one per virtual
 *      thread, one for setup/teardown, one for grace-period callbacks), each
 *      registered for RCU in its own context; the target's state zeroed;
 *   2. setup() in the main context;
 *   3. the scheduler picks a thread and switches to it; at every scheduling point
 *      (the library's OBQ_SCHED_POINT hook, the start of each operation, obq_h_point)
 *      the running thread asks decide() who runs next — itself, another runnable
 *      thread, or the sim engine (obq_sim_step, run in the callback context, then
 *      decide again).  A parked thread (the library's wait hook: a held lock, a
 *      grace period) is runnable only while its ready predicate holds.  A thread
 *      whose operations are done switches to the next; the last returns to main;
 *   4. final() and teardown() in the main context (skipped after a report: abandoned
 *      threads may hold locks; the callbacks such a run left queued then run before
 *      its caches go), contexts deleted (magazines flushed), caches force-destroyed
 *      (a clean run with a callback still pending after that is a
 *      destroy-with-pending-callbacks report), obq_sim_reset().
 *
 * Invariant: exactly one coroutine runs; run.cur == the running virtual thread (NULL
 * for main) and obq_thread_current() == run.cur ? run.cur->ctx : main context
 * (callback context while in_sim).
 *
 * Reports (library rules through the error hook, target oracles through
 * obq_h_fail, deadlock, livelock) are recorded; the first one either aborts the
 * process after printing the program and realised schedule (fuzzing) or stops the
 * run: every thread returns to main at its next scheduling point and is abandoned.
 *
 * Policies (program.h has the header layout):
 *   tape    — at each point with more than one choice, one tape byte b picks
 *             choices[b % n] (choices: runnable threads by tid, then the sim engine);
 *   pct     — PCT (Burckhardt et al., ASPLOS 2010): distinct random initial
 *             priorities (the sim engine gets one too), d-1 priority change points
 *             in [1, k] with k = 8 * ops + 16; the highest-priority runnable choice
 *             runs; at change point i the running choice drops to priority i;
 *   preempt — the running thread continues unless a tape byte < 0x20 spends one of
 *             `bound` preemptions (b % others), or b >= 0xc0 makes a sim step; a
 *             thread that cannot continue is replaced by choices[b % n].
 * Random numbers come from the tape while it lasts, then from a PRNG seeded with the
 * header's seed, so every input keeps running after its tape runs out. */
#define _GNU_SOURCE
#include "hint.h"
#include "coro.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <oblique/oblique.h>
#include <oblique/testing.h>

#define STACK_SIZE (OBQ_ASAN ? (512u << 10) : (128u << 10))
#define GP_CHOICE OBQ_H_MAX_THREADS /* index of the sim engine among choices */
#define LOG_MAX 16384               /* realised schedule entries kept */
#define H_SLAB_OBJECTS 8            /* slots per slab in deterministic runs (OBQ_SLAB_OBJECTS overrides) */
/* The per-step path (every scheduling point: sp_hook, sched_point, decide, draw,
 * log_step) touches only the scheduler's own static state, with indices bounded by
 * construction (UBSan's bounds checks still apply): ASan's checks there cost about a
 * tenth of a fuzzing run and could find nothing the target is about. */
#define H_STEP OBQ_NO_ASAN
#define H_UNLIKELY(x) __builtin_expect(!!(x), 0)

enum vt_state { VT_READY = 0, VT_PARKED, VT_DONE };

struct vthread {
	obq_h_t pub;                 /* the target's view; first member */
	struct coro co;              /* its coroutine */
	struct obq_thread *ctx;      /* its oblique per-thread context */
	unsigned pc;                 /* index of the current / next operation */
	int in_op;                   /* 1 while an operation body runs */
	enum vt_state st;            /* READY, PARKED, DONE */
	obq_ready_fn ready;          /* PARKED: may proceed when ready(ready_arg) */
	const void *ready_arg;       /* its argument */
	enum obq_sp_kind wait_kind;  /* PARKED: what it waits for */
	enum obq_sp_kind last_sp;    /* the scheduling point it stopped at last */
	int prio;                    /* PCT priority (higher runs first) */
	jmp_buf op_exit;             /* obq_h_fail leaves the operation through here */
	enum obq_error_kind expect;  /* obq_h_expect: a report of this kind is expected */
	unsigned expect_hits;        /* expected reports seen */
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

struct obq_h_run {
	const struct obq_h_target *tg; /* the target */
	const struct program *prog;  /* the program being run */
	const struct h_opts *opts;   /* options of this run */
	struct vthread vt[OBQ_H_MAX_THREADS]; /* virtual threads */
	struct vthread mainvt;       /* the setup / final / teardown view */
	struct coro sched;           /* the OS thread's own stack */
	struct obq_thread *gpctx;    /* context sim steps (callbacks) run in */
	struct obq_thread *cleanctx; /* context the end-of-run cache destruction runs in */
	struct obq_thread *osctx;    /* the OS thread's context before the run */
	struct vthread *cur;         /* running virtual thread; NULL: main */
	int active;                  /* 1 between reset and the end of cleanup */
	int in_sim;                  /* 1 inside obq_sim_step */
	int stop;                    /* a report stopped the run: no new operations start */
	int abandon;                 /* threads go back to main at their next point (stuck while stopping) */
	unsigned nthreads;           /* prog->nthreads */
	unsigned live;               /* bit i: vt[i].st != VT_DONE */
	unsigned parked;             /* bit i: vt[i].st == VT_PARKED (so live) */
	size_t tape_pos;             /* tape bytes consumed */
	uint64_t rng;                /* PRNG state after the tape */
	unsigned steps;              /* scheduling points passed */
	unsigned max_steps;          /* budget (livelock above) */
	unsigned preempt_left;       /* preempt policy: preemptions left */
	unsigned pct_change[8];      /* PCT change points (step numbers), sorted */
	unsigned pct_nchange;        /* how many */
	unsigned pct_next;           /* next change point index */
	int gp_prio;                 /* PCT priority of the sim engine */
	uint64_t hash;               /* determinism hash */
	struct h_result *res;        /* result being filled */
	struct obq_h_cache *caches;  /* caches created this run */
	void *state;                 /* target state buffer */
	size_t state_cap;            /* its capacity */
	struct step log[LOG_MAX];    /* realised schedule */
	size_t nlog;                 /* entries (may exceed LOG_MAX: later ones dropped) */
	FILE *sched_live;            /* non-NULL: each step is written here as it happens */
	int sched_col;               /* its current column (0: at a line start) */
};

static struct obq_h_run R;          /* one run at a time: det mode is one OS thread */
static int inited;
static const struct obq_h_target *the_target;

/* ------------------------------------------------------------------ sim engine */

static const char *sim_result_name(int r)
{
	switch (r) {
	case OBQ_SIM_NOTHING: return "nothing";
	case OBQ_SIM_GP_STARTED: return "gp-start";
	case OBQ_SIM_GP_ENDED: return "gp-end";
	case OBQ_SIM_CALLBACK_RAN: return "callback";
	default: return "?";
	}
}

static int any_reader(void)
{
	for (unsigned i = 0; i < R.prog->nthreads; i++)
		if (R.vt[i].ctx && R.vt[i].ctx->rcu_nesting > 0 && R.vt[i].st != VT_DONE)
			return 1;
	return 0;
}

H_STEP static void count_event(enum obq_h_event ev)
{
	R.res->events[ev]++;
}

static size_t slabs_waiting(void)
{
	size_t n = 0;
	for (struct obq_h_cache *c = R.caches; c; c = c->next) {
		obq_cache_t *oc = obq_h_cache_oblique(c);
		struct obq_cache_stats st;
		if (oc && obq_cache_stats(oc, &st) == 0)
			n += st.slabs_waiting_gp;
	}
	return n;
}

static void sched_live_step(const struct step *s);

H_STEP static void log_step(unsigned who, unsigned what, unsigned op, int preempt, int32_t tidx,
		     int stay)
{
	if (R.nlog < LOG_MAX) {
		R.log[R.nlog] = (struct step){(uint8_t)who, (uint8_t)what, (uint8_t)op,
					     (uint8_t)preempt, tidx, (int16_t)stay};
		if (H_UNLIKELY(R.sched_live != NULL))
			sched_live_step(&R.log[R.nlog]);
	}
	R.nlog++;
	R.hash = hmix(R.hash, (uint64_t)who << 16 | (uint64_t)what << 8 | op);
}

static void do_sim_step(int32_t tidx)
{
	struct obq_thread *prev = obq_thread_switch(R.gpctx);
	int readers = any_reader();
	size_t waiting = readers ? slabs_waiting() : 0;
	R.in_sim = 1;
	int r = obq_sim_step();
	R.in_sim = 0;
	obq_thread_switch(prev);
	log_step(GP_CHOICE, (unsigned)r, 0, 0, tidx, -1);
	if (r == OBQ_SIM_GP_ENDED && readers)
		count_event(OBQ_EV_GP_UNDER_READER);
	if (r == OBQ_SIM_CALLBACK_RAN) {
		count_event(OBQ_EV_CALLBACK);
		if (readers && slabs_waiting() < waiting) {
			count_event(OBQ_EV_SLAB_RELEASED);
			count_event(OBQ_EV_SLAB_RELEASED_UNDER_READER);
		}
	}
	if (R.opts->trace) {
		fprintf(R.opts->trace, "  step %5u  GP  %s (gp seq %lu)\n", R.steps,
			sim_result_name(r), (unsigned long)obq_sim_gp_seq());
		fflush(R.opts->trace);
	}
}

/* ------------------------------------------------------------------ reports */

static void print_states(FILE *f);
static void print_schedule(FILE *f, const char *prefix);

static void fail_print_all(void)
{
	FILE *f = stderr;
	fprintf(f, "%s", R.res->message);
	fprintf(f, "==oblique== harness: target %s, first report above; the program:\n",
		R.tg->name);
	prog_print(f, R.tg, R.prog, R.tape_pos);
	fprintf(f, "==oblique== realised schedule (%u steps):\n", R.steps);
	print_schedule(f, "  ");
	fprintf(f, "==oblique== thread states:\n");
	print_states(f);
	if (R.opts->input_name)
		fprintf(f, "==oblique== reproduce: obq-trace replay --target %s %s\n", R.tg->name,
			R.opts->input_name);
	else
		fprintf(f, "==oblique== reproduce: obq-trace replay --target %s <crash input>  "
			   "(or: %s replay <crash input>)\n", R.tg->name, R.tg->name);
	fflush(f);
}

static void err_hook(const struct obq_error *e, void *arg)
{
	(void)arg;
	if (!R.active) {
		/* Outside a run (never expected): behave as the default hook. */
		obq_error_default_hook(e, NULL);
		return;
	}
	R.hash = hmix(R.hash, 0xe000 + (unsigned)e->kind);
	struct vthread *ev = R.cur ? R.cur : &R.mainvt;
	if (ev->expect != OBQ_ERR_NONE && e->kind == ev->expect) {
		ev->expect_hits++;
		return;
	}
	if (R.res->failed)
		return;
	R.res->failed = 1;
	R.res->kind = e->kind;
	snprintf(R.res->rule, sizeof R.res->rule, "%s", e->rule);
	snprintf(R.res->message, sizeof R.res->message, "%s", e->message);
	if (R.opts->trace) {
		fprintf(R.opts->trace, "  REPORT %s\n", e->rule);
		fflush(R.opts->trace);
	}
	if (R.opts->abort_on_report) {
		fail_print_all();
		abort();
	}
	R.stop = 1;
}

/* ------------------------------------------------------------------ switching */

static void switch_to(struct vthread *from, struct vthread *to)
{
	R.cur = to;
	obq_thread_switch(to->ctx);
	coro_switch(&from->co, &to->co);
	/* resumed: whoever switched to us set R.cur = us */
}

/* Leave for good: back to the scheduler.  Never returns (a finished or abandoned
 * thread is never resumed), but is not declared noreturn: under ASan a call to a
 * noreturn function costs __asan_handle_no_return (a sigaltstack system call and a
 * stack unpoisoning) on every run; coro_start unpoisons what the frames left.  Every
 * call is followed by H_GONE. */
static void go_main(struct vthread *v)
{
	R.cur = NULL;
	obq_thread_switch(R.mainvt.ctx);
	coro_switch(&v->co, &R.sched);
}
#define H_GONE() abort()

/* ------------------------------------------------------------------ policies */

H_STEP static unsigned draw(int32_t *tidx)
{
	if (R.tape_pos < R.prog->tape_len) {
		if (tidx)
			*tidx = (int32_t)R.tape_pos;
		return R.prog->tape[R.tape_pos++];
	}
	if (tidx)
		*tidx = -1;
	return (unsigned)(prng_next(&R.rng) & 0xff);
}

/* Bit i set: vt[i] may run now (READY, or PARKED with its predicate holding). */
H_STEP static unsigned runnable_mask(void)
{
	unsigned m = R.live & ~R.parked;
	for (unsigned p = R.parked; p; p &= p - 1) {
		unsigned i = (unsigned)__builtin_ctz(p);
		/* A lock waiter whose lock went away under it (an adapter released the
		 * memory: the malloc control) may run: it wakes up to the report wait_hook
		 * makes, instead of waiting on freed bytes for ever (a false "deadlock"). */
		if (H_UNLIKELY(h_released_count) && R.vt[i].wait_kind == OBQ_SP_WAIT_LOCK &&
		    h_released_contains(R.vt[i].ready_arg))
			m |= 1u << i;
		else if (R.vt[i].ready(R.vt[i].ready_arg))
			m |= 1u << i;
	}
	return m;
}

static void report_stuck(enum obq_error_kind kind, const char *why)
{
	char buf[3000];
	FILE *f = fmemopen(buf, sizeof buf, "w");
	if (f) {
		fprintf(f, "%s (target %s, %u scheduling steps); thread states:\n", why, R.tg->name,
			R.steps);
		print_states(f);
		fclose(f);
	} else {
		snprintf(buf, sizeof buf, "%s", why);
	}
	buf[sizeof buf - 1] = 0;
	obq_error_report(kind, NULL, NULL, "%s", buf);
	R.stop = 1;
	R.abandon = 1;
}

/* Choose who runs after `self` (NULL when self finished or from main).  May run sim
 * steps.  Returns NULL when every thread is done or the run stops. */
H_STEP static struct vthread *decide(struct vthread *self)
{
	for (;;) {
		if (R.abandon)
			return NULL;
		if (R.live == 0)
			return NULL; /* every thread is done */
		/* choices: runnable threads by tid, then the sim engine */
		unsigned ch[OBQ_H_MAX_THREADS + 1], n = 0;
		int self_idx = -1;
		unsigned self_bit = self ? 1u << self->pub.tid : 0;
		for (unsigned m = runnable_mask(); m; m &= m - 1) {
			if (m & self_bit & -m)
				self_idx = (int)n;
			ch[n++] = (unsigned)__builtin_ctz(m);
		}
		int can_gp = obq_sim_can_step();
		if (can_gp)
			ch[n++] = GP_CHOICE;
		if (n == 0) {
			report_stuck(OBQ_H_ERR_DEADLOCK,
				     "deadlock: no virtual thread can run and the grace-period engine "
				     "has nothing to do");
			return NULL;
		}
		unsigned pick;
		int32_t tidx = -1;
		int stay = -1, preempt = 0;
		if (R.prog->policy == POL_PCT) {
			/* change point: the running choice drops below every initial priority */
			if (R.pct_next < R.pct_nchange && R.steps >= R.pct_change[R.pct_next]) {
				if (self)
					self->prio = (int)R.pct_next;
				R.pct_next++;
			}
			int best = -1;
			pick = 0;
			for (unsigned k = 0; k < n; k++) {
				int pr = ch[k] == GP_CHOICE ? R.gp_prio : R.vt[ch[k]].prio;
				if (pr > best) {
					best = pr;
					pick = k;
				}
			}
		} else if (n == 1) {
			pick = 0;
		} else if (R.prog->policy == POL_PREEMPT && self_idx >= 0) {
			unsigned b = draw(&tidx);
			stay = 0x20; /* a value that keeps self */
			if (b >= 0xc0 && can_gp) {
				pick = n - 1;
			} else if (b < 0x20 && R.preempt_left > 0) {
				unsigned others = n - 1 - (can_gp ? 1 : 0);
				if (others == 0) {
					pick = (unsigned)self_idx;
				} else {
					unsigned k = b % others, j = 0;
					for (pick = 0; pick < n; pick++) {
						if ((int)pick == self_idx || ch[pick] == GP_CHOICE)
							continue;
						if (j++ == k)
							break;
					}
					R.preempt_left--;
				}
			} else {
				pick = (unsigned)self_idx;
			}
		} else {
			unsigned b = draw(&tidx);
			pick = b % n;
			if (self_idx >= 0)
				stay = (int)(b - b % n) + self_idx;
			if (stay > 255)
				stay = self_idx;
		}
		if (ch[pick] == GP_CHOICE) {
			R.steps++;
			do_sim_step(tidx);
			if (R.steps > R.max_steps) {
				report_stuck(OBQ_H_ERR_LIVELOCK,
					     "livelock: scheduling-step budget spent");
				return NULL;
			}
			continue;
		}
		struct vthread *nx = &R.vt[ch[pick]];
		if (self && self_idx >= 0 && nx != self) {
			preempt = 1;
			R.res->preemptions++;
			count_event(OBQ_EV_PREEMPT);
		}
		log_step(ch[pick], nx->last_sp, nx->pc, preempt, tidx, preempt ? stay : -1);
		if (R.opts->trace) {
			fprintf(R.opts->trace, "  step %5u  T%u  %-15s op %u%s\n", R.steps, ch[pick],
				obq_sp_name(nx->last_sp), nx->pc, preempt ? "  (preempt)" : "");
			fflush(R.opts->trace); /* replay: every step survives a crash */
		}
		return nx;
	}
}

/* A scheduling point of the running thread v. */
H_STEP static void sched_point(struct vthread *v, enum obq_sp_kind kind)
{
	v->last_sp = kind;
	if (R.abandon) {
		go_main(v);
		H_GONE();
	}
	if (++R.steps > R.max_steps + (R.stop ? 5000 : 0)) {
		report_stuck(OBQ_H_ERR_LIVELOCK, "livelock: scheduling-step budget spent (a retry "
					       "loop that never succeeds?)");
		go_main(v);
		H_GONE();
	}
	struct vthread *nx = decide(v);
	if (nx == NULL) {
		go_main(v);
		H_GONE();
	}
	if (nx != v)
		switch_to(v, nx);
	if (R.abandon) {
		go_main(v);
		H_GONE();
	}
}

/* 1 (and a released-access report) if obj lies in memory an adapter released. */
static int check_released(struct vthread *v, enum obq_sp_kind kind, const void *obj)
{
	if (obj && h_released_count && h_released_contains(obj)) {
		_obq_report(OBQ_ERR_RELEASED_ACCESS, NULL, obj, "RELEASED", 0,
			    "  %s by T%u (operation %u '%s') into memory the %s allocator adapter "
			    "no longer holds as an object of its cache\n"
			    "  (adapter is %stype-stable)\n",
			    obq_sp_name(kind), v->pub.tid, v->pc, R.tg->ops[R.prog->ops[v->pub.tid][v->pc].opcode].name,
			    h_adapter_current()->name, h_adapter_current()->type_stable ? "" : "NOT ");
		return 1;
	}
	return 0;
}

H_STEP static void sp_hook(enum obq_sp_kind kind, const void *obj)
{
	struct vthread *v = R.cur;
	if (v == NULL || R.in_sim || !R.active)
		return;
	sched_point(v, kind);
	/* The access follows the point: check after the thread resumes, since whatever
	 * ran meanwhile may have freed obj (a check before the switch would let a thread
	 * touch memory freed while it was switched away). */
	if (obj && h_released_count)
		check_released(v, kind, obj);
}

/* Park the main context's wait by stepping the sim engine (setup, teardown, reset). */
static void main_wait(obq_ready_fn ready, const void *arg)
{
	unsigned guard = 0;
	while (!ready(arg)) {
		if (!obq_sim_can_step() || ++guard > 1000000) {
			fprintf(stderr, "==oblique== harness: the main context waits for something "
					"no step can bring (target %s)\n",
				R.tg ? R.tg->name : "?");
			abort();
		}
		int32_t none = -1;
		R.steps++;
		do_sim_step(none);
	}
}

static void wait_hook(enum obq_sp_kind kind, obq_ready_fn ready, const void *arg)
{
	struct vthread *v = R.cur;
	if (v == NULL || R.in_sim || !R.active) {
		main_wait(ready, arg);
		return;
	}
	if (!ready(arg))
		count_event(kind == OBQ_SP_WAIT_GP ? OBQ_EV_GP_WAIT : OBQ_EV_LOCK_WAIT);
	v->st = VT_PARKED;
	v->ready = ready;
	v->ready_arg = arg;
	v->wait_kind = kind;
	R.parked |= 1u << v->pub.tid;
	sched_point(v, kind);
	/* decide() only picks a parked thread whose predicate holds, or a lock waiter
	 * whose lock was released meanwhile: the wait touches the lock word again */
	R.parked &= ~(1u << v->pub.tid);
	v->st = VT_READY;
	v->ready = NULL;
	if (kind == OBQ_SP_WAIT_LOCK && arg && h_released_count && check_released(v, kind, arg)) {
		/* The run stops (recorded report): this thread could only spin on the freed
		 * lock word until the step budget; it goes back to main for good. */
		go_main(v);
		H_GONE();
	}
}

/* ------------------------------------------------------------------ threads */

static void vt_entry(void *arg)
{
	struct vthread *v = arg;
	const struct program *p = R.prog;
	unsigned tid = v->pub.tid;
	for (v->pc = 0; v->pc < p->nops[tid] && !R.stop; v->pc++) {
		const struct prog_op *o = &p->ops[tid][v->pc];
		sched_point(v, OBQ_SP_USER);
		if (R.stop)
			break;
		v->in_op = 1;
		if (setjmp(v->op_exit) != 0) {
			v->in_op = 0; /* obq_h_fail: the operation is left; the run is stopping */
			break;
		}
		R.tg->ops[o->opcode].fn(&v->pub, o->arg);
		v->in_op = 0;
		if (v->ctx->rcu_nesting != 0 && !R.stop) {
			obq_h_fail(&v->pub, "operation '%s' returned inside an RCU read-side "
					    "section (nesting %u)",
				   R.tg->ops[o->opcode].name, v->ctx->rcu_nesting);
		}
	}
	v->st = VT_DONE;
	R.live &= ~(1u << tid);
	struct vthread *nx = decide(NULL);
	if (nx == NULL) {
		go_main(v);
		H_GONE();
	}
	R.cur = nx;
	obq_thread_switch(nx->ctx);
	coro_switch(&v->co, &nx->co);
	abort();
}

static void print_states(FILE *f)
{
	for (unsigned i = 0; i < R.prog->nthreads; i++) {
		struct vthread *v = &R.vt[i];
		const char *st = v->st == VT_DONE ? "done" : v->st == VT_PARKED ? "parked" : "runnable";
		fprintf(f, "  T%u: %s", i, st);
		if (v->st != VT_DONE && v->pc < R.prog->nops[i]) {
			const struct prog_op *o = &R.prog->ops[i][v->pc];
			fprintf(f, ", operation %u/%u '%s", v->pc, R.prog->nops[i],
				R.tg->ops[o->opcode].name);
			for (unsigned a = 0; a < R.tg->ops[o->opcode].nargs; a++)
				fprintf(f, " %u", o->arg[a]);
			fprintf(f, "'%s", v->in_op ? "" : " (not started)");
		}
		fprintf(f, ", last point %s", obq_sp_name(v->last_sp));
		if (v->ctx)
			fprintf(f, ", %s", v->ctx->rcu_nesting ? "IN read-side section" :
								  "not in a read-side section");
		if (v->st == VT_PARKED)
			fprintf(f, ", waiting on %s (%s)", obq_sp_name(v->wait_kind),
				v->ready(v->ready_arg) ? "ready" : "not ready");
		fprintf(f, "\n");
	}
	fprintf(f, "  GP engine: gp seq %lu, %s, %zu callback(s) pending\n",
		(unsigned long)obq_sim_gp_seq(), obq_sim_gp_in_progress() ? "grace period in progress" : "idle",
		(size_t)obq_sim_callbacks_pending());
}

/* One schedule entry in the text form ("T1.2:peek ", "!T0.0:user ", "GP:gp-end "),
 * wrapped after 90 columns; *col is the column (0: at a line start). */
static void put_step(FILE *f, const char *prefix, const struct step *s, int *col)
{
	char buf[48];
	if (s->who == GP_CHOICE)
		snprintf(buf, sizeof buf, "GP:%s", sim_result_name(s->what));
	else
		snprintf(buf, sizeof buf, "%sT%u.%u:%s", s->preempt ? "!" : "", s->who, s->op,
			 obq_sp_name((enum obq_sp_kind)s->what));
	if (*col == 0)
		*col = fprintf(f, "%s", prefix);
	*col += fprintf(f, "%s ", buf);
	if (*col > 90) {
		fprintf(f, "\n");
		*col = 0;
	}
}

/* The end of a schedule: the entries beyond LOG_MAX counted, the last line ended. */
static void end_schedule(FILE *f, const char *prefix, int col)
{
	if (R.nlog > LOG_MAX)
		fprintf(f, "%s... (%zu more)", col ? "" : prefix, R.nlog - LOG_MAX), col = 1;
	if (col)
		fprintf(f, "\n");
}

static void print_schedule(FILE *f, const char *prefix)
{
	size_t n = R.nlog < LOG_MAX ? R.nlog : LOG_MAX;
	int col = 0;
	for (size_t i = 0; i < n; i++)
		put_step(f, prefix, &R.log[i], &col);
	end_schedule(f, prefix, col);
}

/* Live schedule (decode): the text print_schedule would write at the end, written and
 * flushed step by step, so what ran before a crash (an ASan abort, a signal) is on
 * the stream.  Off the fuzzing path: log_step calls it only when sched_live is set. */
static OBQ_NOINLINE void sched_live_step(const struct step *s)
{
	put_step(R.sched_live, "# ", s, &R.sched_col);
	fflush(R.sched_live);
}

size_t h_det_preemptions(struct h_preempt *out, size_t cap)
{
	size_t n = 0, m = R.nlog < LOG_MAX ? R.nlog : LOG_MAX;
	for (size_t i = 0; i < m && n < cap; i++)
		if (R.log[i].preempt && R.log[i].tape_idx >= 0 && R.log[i].stay >= 0)
			out[n++] = (struct h_preempt){(size_t)R.log[i].tape_idx, (uint8_t)R.log[i].stay};
	return n;
}

/* ------------------------------------------------------------------ public API */

void obq_h_fail(obq_h_t *t, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	struct vthread *v = (struct vthread *)t;
	if (t->tid == OBQ_H_MAIN) {
		obq_error_report(OBQ_H_ERR_ORACLE, NULL, NULL, "  target %s, %s: %s\n",
				 R.tg->name, "setup/final/teardown", msg);
		return;
	}
	const struct prog_op *o = &R.prog->ops[t->tid][v->pc < R.prog->nops[t->tid] ? v->pc : 0];
	obq_error_report(OBQ_H_ERR_ORACLE, NULL, NULL,
			 "  target %s, thread T%u, operation %u '%s': %s\n", R.tg->name, t->tid,
			 v->pc, R.tg->ops[o->opcode].name, msg);
	R.stop = 1;
	longjmp(v->op_exit, 1);
}

void obq_h_expect(obq_h_t *t, enum obq_error_kind kind)
{
	struct vthread *v = (struct vthread *)t;
	v->expect = kind;
	v->expect_hits = 0;
}

unsigned obq_h_expect_end(obq_h_t *t)
{
	struct vthread *v = (struct vthread *)t;
	unsigned n = v->expect_hits;
	v->expect = OBQ_ERR_NONE;
	v->expect_hits = 0;
	R.hash = hmix(R.hash, 0xee00 + n);
	return n;
}

void obq_h_observe(obq_h_t *t, uint64_t value)
{
	R.hash = hmix(R.hash, value ^ ((uint64_t)t->tid << 56));
	if (R.opts->trace) {
		fprintf(R.opts->trace, "  observe T%u: %llu\n", t->tid, (unsigned long long)value);
		fflush(R.opts->trace);
	}
}

void obq_h_event(obq_h_t *t, enum obq_h_event ev)
{
	if ((unsigned)ev < OBQ_EV_COUNT)
		count_event(ev);
	if (R.opts->trace) {
		fprintf(R.opts->trace, "  event T%u: %s\n", t->tid, obq_h_event_name(ev));
		fflush(R.opts->trace);
	}
}

int obq_h_pin(obq_h_t *t, int ok)
{
	ok = ok != 0;
	R.hash = hmix(R.hash, 0x9100 + (unsigned)ok);
	if (!ok)
		obq_h_event(t, OBQ_EV_PIN_FAILED);
	return ok;
}

void obq_h_point(obq_h_t *t)
{
	if (t->tid != OBQ_H_MAIN && R.cur == (struct vthread *)t)
		sched_point((struct vthread *)t, OBQ_SP_USER);
}

void obq_h_retry(obq_h_t *t)
{
	obq_h_event(t, OBQ_EV_RETRY);
	obq_h_point(t);
}

/* Scheduling points for adapters without their own (adapter.c calls these). */
void h_adapter_point(obq_h_t *t, enum obq_sp_kind kind, const void *obj)
{
	(void)t;
	sp_hook(kind, obj);
}
/* Deterministic mode: slabs go back when the input's schedule says (sim steps). */
void h_free_traffic(obq_h_t *t, struct obq_h_cache *c)
{
	(void)t;
	(void)c;
}

void h_note_released(void)
{
	if (R.active && !R.in_sim && R.cur)
		return; /* a free by a thread (malloc control): not a slab release */
	if (R.active) {
		count_event(OBQ_EV_SLAB_RELEASED);
		if (any_reader())
			count_event(OBQ_EV_SLAB_RELEASED_UNDER_READER);
	}
}
struct obq_h_cache **h_run_caches(void)
{
	return &R.caches;
}

/* ------------------------------------------------------------------ run */

static struct obq_thread *new_ctx(void)
{
	struct obq_thread *c = obq_thread_new();
	if (c == NULL) {
		fprintf(stderr, "==oblique== harness: out of memory\n");
		abort();
	}
	struct obq_thread *prev = obq_thread_switch(c);
	obq_rcu_register_thread();
	obq_thread_switch(prev);
	return c;
}

/* End of run: a context an abandoned thread left inside a read-side section leaves
 * it (unregister and register again: the sim engine stops counting it as a reader), so
 * the caches' destruction can wait for grace periods. */
static void quiesce_ctx(struct obq_thread *c)
{
	if (c == NULL || c->rcu_nesting == 0)
		return;
	struct obq_thread *prev = obq_thread_switch(c);
	c->rcu_nesting = 0;
	obq_rcu_unregister_thread();
	obq_rcu_register_thread();
	obq_thread_switch(prev == c ? NULL : prev);
}

/* End of a run a report stopped (teardown skipped): run the callbacks it left queued
 * — a target's own chains among them — while their caches still exist, so none is
 * dropped unrun (the checker's record of it would leak) or left to run on a destroyed
 * cache.  Bounded: a callback that re-queues itself for ever stops at the guard. */
static void drain_callbacks(void)
{
	struct obq_thread *prev = obq_thread_switch(R.gpctx);
	R.in_sim = 1;
	for (unsigned guard = 0; guard < 100000 && obq_sim_callbacks_pending() > 0 &&
				 obq_sim_can_step(); guard++)
		obq_sim_step();
	R.in_sim = 0;
	obq_thread_switch(prev);
}

/* The checker's user-function hook (obq_check_set_user_fn_hook): the body of the
 * operation running now, so that an alloc or free an operation makes in a tail call
 * (no frame of the body left) is still attributed to the user's code. */
static const void *running_op_fn(void)
{
	const struct vthread *v = R.cur;
	if (!R.active || v == NULL || R.in_sim || !v->in_op)
		return NULL;
	return (const void *)R.tg->ops[R.prog->ops[v->pub.tid][v->pc].opcode].fn;
}

void h_det_init(const struct obq_h_target *tg)
{
	if (inited)
		return;
	inited = 1;
	the_target = tg;
	h_register_verdicts();
	coro_init_main(&R.sched);
	for (unsigned i = 0; i < OBQ_H_MAX_THREADS; i++)
		if (coro_alloc(&R.vt[i].co, STACK_SIZE) < 0) {
			perror("oblique harness: coroutine stack");
			abort();
		}
	/* Contexts live as long as the process (same ids in every run's reports, no
	 * allocation per run).  What a run leaves in them is harmless to the next: their
	 * magazine entries carry the tags of caches destroyed at the end of the run (so
	 * they are dropped unread), quiesce_ctx ends abandoned read-side sections, and the
	 * checker's per-thread table is keyed by slab incarnation. */
	for (unsigned i = 0; i < OBQ_H_MAX_THREADS; i++)
		R.vt[i].ctx = new_ctx();
	R.mainvt.ctx = new_ctx();
	R.gpctx = new_ctx();
	R.cleanctx = new_ctx();
	obq_sim_set_autostep(0);
	obq_check_set_user_fn_hook(running_op_fn);
	/* Small slabs (OBQ_SLAB_OBJECTS overrides): a run touches a few objects, so a
	 * 64 KiB slab of ctor'd slots costs far more than the run itself, and few frees
	 * empty a slab.  Set before the first cache exists; the standalone runner, the
	 * engines and obq-trace all pass here, so an input runs the same everywhere. */
	const char *so = getenv("OBQ_SLAB_OBJECTS");
	if (so == NULL || *so == 0)
		obq_set_slab_max_objects(H_SLAB_OBJECTS);
	if (h_adapter_current() == NULL)
		h_adapter_set(h_adapter_select(getenv("OBQ_ADAPTER")));
}

void h_det_run(const struct obq_h_target *tg, const struct program *p, const struct h_opts *o,
	       struct h_result *res, FILE *schedule)
{
	h_det_init(tg);
	/* Field by field: the 4 KiB message needs only its first byte cleared. */
	res->hash = 0;
	res->failed = 0;
	res->kind = OBQ_ERR_NONE;
	res->rule[0] = 0;
	res->message[0] = 0;
	memset(res->events, 0, sizeof res->events);
	res->tape_used = 0;
	res->steps = 0;
	res->preemptions = 0;
	R.tg = tg;
	R.prog = p;
	R.opts = o;
	R.res = res;
	R.cur = NULL;
	R.in_sim = 0;
	R.stop = 0;
	R.abandon = 0;
	R.tape_pos = 0;
	R.rng = 0x6f626c6971756500ull ^ p->seed;
	R.steps = 0;
	R.max_steps = tg->max_steps ? tg->max_steps : 20000;
	R.nthreads = p->nthreads;
	R.live = (1u << p->nthreads) - 1;
	R.parked = 0;
	R.preempt_left = p->policy == POL_PREEMPT ? p->param : 0;
	R.hash = 0xcbf29ce484222325ull;
	R.nlog = 0;
	R.sched_live = o->live_schedule ? schedule : NULL;
	R.sched_col = 0;
	R.caches = NULL;
	R.mainvt.expect = OBQ_ERR_NONE;
	h_released_clear();

	obq_set_reuse_mode(p->reuse ? OBQ_REUSE_RCU_DEBUG : OBQ_REUSE_RECYCLE);
	obq_error_hook_fn prev_hook = obq_set_error_hook(err_hook, NULL);
	obq_sched_set_hooks(sp_hook, wait_hook);
	R.osctx = obq_thread_switch(NULL);
	R.active = 1;

	if (tg->state_size > R.state_cap) {
		free(R.state);
		R.state = malloc(tg->state_size);
		R.state_cap = tg->state_size;
		if (R.state == NULL) {
			fprintf(stderr, "==oblique== harness: out of memory\n");
			abort();
		}
	}
	if (tg->state_size)
		memset(R.state, 0, tg->state_size);
	const struct obq_h_allocator *a = h_adapter_current();
	memset(&R.mainvt.pub, 0, sizeof R.mainvt.pub);
	R.mainvt.pub = (obq_h_t){.run = &R, .state = R.state, .tid = OBQ_H_MAIN,
				 .nthreads = p->nthreads, .type_stable = a->type_stable};
	for (unsigned i = 0; i < p->nthreads; i++) {
		struct vthread *v = &R.vt[i];
		v->pub = (obq_h_t){.run = &R, .state = R.state, .tid = i, .nthreads = p->nthreads,
				   .type_stable = a->type_stable};
		v->pc = 0;
		v->in_op = 0;
		v->st = VT_READY;
		v->ready = NULL;
		v->last_sp = OBQ_SP_USER;
		v->expect = OBQ_ERR_NONE;
		coro_start(&v->co, vt_entry, v);
	}
	/* PCT: priorities p->nthreads+d .. ; change points */
	if (p->policy == POL_PCT) {
		unsigned d = p->param + 1;
		unsigned n = p->nthreads + 1; /* + the sim engine */
		int prios[OBQ_H_MAX_THREADS + 1];
		for (unsigned i = 0; i < n; i++)
			prios[i] = (int)(d + i);
		for (unsigned i = n - 1; i > 0; i--) { /* Fisher-Yates from the tape */
			unsigned j = draw(NULL) % (i + 1);
			int tmp = prios[i];
			prios[i] = prios[j];
			prios[j] = tmp;
		}
		for (unsigned i = 0; i < p->nthreads; i++)
			R.vt[i].prio = prios[i];
		R.gp_prio = prios[p->nthreads];
		unsigned k = 8 * prog_total_ops(p) + 16;
		R.pct_nchange = d - 1;
		for (unsigned i = 0; i < R.pct_nchange; i++)
			R.pct_change[i] = 1 + ((draw(NULL) << 8 | draw(NULL)) % k);
		for (unsigned i = 1; i < R.pct_nchange; i++) /* insertion sort */
			for (unsigned j = i; j > 0 && R.pct_change[j - 1] > R.pct_change[j]; j--) {
				unsigned tmp = R.pct_change[j];
				R.pct_change[j] = R.pct_change[j - 1];
				R.pct_change[j - 1] = tmp;
			}
		R.pct_next = 0;
	}

	obq_thread_switch(R.mainvt.ctx);
	if (tg->setup)
		tg->setup(&R.mainvt.pub);
	if (!R.stop) {
		struct vthread *first = decide(NULL);
		if (first) {
			R.cur = first;
			obq_thread_switch(first->ctx);
			coro_switch(&R.sched, &first->co);
		}
	}
	/* back in main: every thread finished, or the run stopped */
	R.cur = NULL;
	obq_thread_switch(R.mainvt.ctx);
	if (!R.stop && tg->final)
		tg->final(&R.mainvt.pub);
	if (!R.stop && tg->teardown)
		tg->teardown(&R.mainvt.pub);
	res->tape_used = R.tape_pos;
	res->steps = R.steps;
	if (o->trace)
		fprintf(o->trace, "  end: %u steps, %zu tape bytes used%s\n", R.steps, R.tape_pos,
			res->failed ? ", FAILED" : "");
	if (R.sched_live) {
		end_schedule(R.sched_live, "# ", R.sched_col);
		R.sched_live = NULL; /* the cleanup's steps are not the program's */
	} else if (schedule) {
		print_schedule(schedule, "# ");
	}
	if (res->failed && o->print_failure)
		fail_print_all();

	/* cleanup: no context stays inside a section, then caches (objects still in the
	 * virtual threads' magazines are FREE: destroy releases their slabs), then sim */
	obq_thread_switch(NULL);
	for (unsigned i = 0; i < p->nthreads; i++)
		quiesce_ctx(R.vt[i].ctx);
	quiesce_ctx(R.mainvt.ctx);
	quiesce_ctx(R.gpctx);
	obq_thread_switch(R.cleanctx);
	R.stop = 1; /* reports during cleanup: recorded, never stop anything */
	R.abandon = 1;
	int failed_before = res->failed;
	if (failed_before)
		drain_callbacks();
	h_caches_destroy_all(&R.caches);
	/* Destroy waits for the work it left to grace periods (its barrier, the drain of
	 * pending slab releases): after every cache of a clean run is gone, nothing may
	 * be queued.  A callback still pending would run on a freed cache (under ASan a
	 * heap-use-after-free; without, silent corruption), so it is reported here;
	 * obq_sim_reset below drops it unrun.  After a report the run was abandoned
	 * (teardown skipped): what it left queued is not judged. */
	size_t left = obq_sim_callbacks_pending();
	if (left > 0 && !failed_before)
		_obq_report(OBQ_ERR_DESTROY_PENDING, NULL, NULL, NULL, 0,
			    "  target %s: %zu RCU callback(s) still pending after every cache of the "
			    "run was destroyed (obq_cache_destroy returned with work queued on its "
			    "cache: each would run on freed cache memory)\n", R.tg->name, left);
	/* Nothing can touch this run's released slabs any more: hand them back now (to
	 * the allocator's region cache, so the next run's slabs fault in nothing). */
	obq_quarantine_flush();
	obq_thread_switch(NULL);
	obq_sim_reset();
	h_released_clear();
	R.active = 0;
	obq_sched_set_hooks(NULL, NULL);
	obq_thread_switch(R.osctx);
	obq_set_error_hook(prev_hook == obq_error_default_hook ? NULL : prev_hook, NULL);
	res->hash = R.hash;
	h_feedback(res->events);
}

const struct obq_h_run *h_current_run(void);
const struct obq_h_run *h_current_run(void)
{
	return &R;
}
