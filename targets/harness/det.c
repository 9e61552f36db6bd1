/* det.c — the deterministic scheduler: virtual threads as coroutines on one OS
 * thread, every sanctioned primitive a scheduling point, the sim RCU engine a
 * schedulable pseudo-thread, and same bytes -> same run.
 *
 * A run (h_det_run, a function a phase):
 *   1. run_reset: the run state (struct obq_h_run R) set in one assignment — every
 *      field not named there zero —, each virtual thread's view reset and its
 *      coroutine restarted on its long-lived context (the engine's, struct det_engine
 *      E: contexts, stacks, the state buffer and the schedule log live as long as the
 *      process), the target's state zeroed, the policy started; run_begin: reuse mode
 *      from the header, the error and scheduling hooks;
 *   2. run_program: setup() in the main context;
 *   3. the scheduler picks a thread and switches to it; at every scheduling point
 *      (the library's OBQ_SCHED_POINT hook, the start of each operation, obq_h_point)
 *      the running thread asks decide() who runs next — itself, another runnable
 *      thread, or the sim engine (obq_sim_step, run in the callback context, then
 *      decide again).  A parked thread (the library's wait hook: a held lock, a
 *      grace period) is runnable only while its ready predicate holds.  A thread
 *      whose operations are done switches to the next; the last returns to main;
 *   4. final() and teardown() in the main context (skipped after a report: abandoned
 *      threads may hold locks; the callbacks such a run left queued then run before
 *      its caches go); run_report: counts, schedule, failure summary; run_cleanup:
 *      contexts leave abandoned read-side sections, caches force-destroyed (a clean
 *      run with a callback still pending after that is a
 *      destroy-with-pending-callbacks report), obq_sim_reset(); run_end: hooks off.
 *
 * Invariant: exactly one coroutine runs; R.cur == the running virtual thread (NULL
 * for main) and obq_thread_current() == R.cur ? R.cur->ctx : main context
 * (callback context while in_sim).
 *
 * Reports (library rules through the error hook, target oracles through
 * obq_h_fail, deadlock, livelock) are recorded; the first one either aborts the
 * process after printing the program and realised schedule (fuzzing) or stops the
 * run: every thread returns to main at its next scheduling point and is abandoned.
 *
 * Policies (program.h has the header layout; each in its own file, det.h lists them):
 * tape, pct, preempt — at each point decide() gathers the choices (runnable threads
 * by tid, then the sim engine) and the program's policy picks one.
 * Random numbers come from the tape while it lasts, then from a PRNG seeded with the
 * header's seed, so every input keeps running after its tape runs out. */
#define _GNU_SOURCE
#include "det.h"
#include "coro.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define STACK_SIZE (OBQ_ASAN ? (512u << 10) : (128u << 10))
#define H_SLAB_OBJECTS 8            /* slots per slab in deterministic runs (OBQ_SLAB_OBJECTS overrides) */
#define CB_FIFO 1024                /* callbacks pending at once the timing oracle follows */

/* What lives as long as the process: set up once by h_det_init. */
struct det_engine {
	struct coro sched;           /* the OS thread's own stack */
	struct coro co[OBQ_H_MAX_THREADS]; /* the virtual threads' coroutines */
	/* Contexts: same ids in every run's reports, no allocation per run (h_det_init). */
	struct obq_thread *ctx[OBQ_H_MAX_THREADS]; /* the virtual threads' */
	struct obq_thread *mainctx;  /* setup / final / teardown */
	struct obq_thread *gpctx;    /* sim steps (callbacks) run in it */
	struct obq_thread *cleanctx; /* the end-of-run cache destruction runs in it */
	void *state;                 /* target state buffer */
	size_t state_cap;            /* its capacity */
	struct step log[LOG_MAX];    /* realised schedule */
	unsigned long cb_need[CB_FIFO]; /* the callback-timing FIFO (R.cb_first, R.cb_count) */
	unsigned reg_key;            /* the registration order in force (reregister) */
};

static struct det_engine E;
static struct obq_h_run R;          /* one run at a time: det mode is one OS thread */
static int inited;

/* The policies, by the program header's policy field (program.h: < POL_COUNT). */
static const struct det_policy *const det_policies[POL_COUNT] = {
	[POL_TAPE] = &det_policy_tape,
	[POL_PCT] = &det_policy_pct,
	[POL_PREEMPT] = &det_policy_preempt,
};

static void sched_point(struct vthread *v, enum obq_sp_kind kind);
static void sp_hook(enum obq_sp_kind kind, const void *obj);
static void wait_hook(enum obq_sp_kind kind, obq_ready_fn ready, const void *arg);
static void vt_entry(void *arg);

/* ------------------------------------------------------------------ sim engine */

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

/* Bytes of empty typesafe slabs waiting for a grace period, every cache together: one
 * relaxed load (a sum of obq_cache_stats over the run's caches at every step cost
 * rcu_gp 12 % of its run time). */
static size_t slabs_waiting(void)
{
	return obq_gp_backlog_bytes();
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

/* Live schedule (decode): the text det_print_schedule would write at the end, written
 * and flushed step by step, so what ran before a crash (an ASan abort, a signal) is on
 * the stream.  Off the fuzzing path: log_step calls it only when sched_live is set. */
static OBQ_NOINLINE void sched_live_step(const struct step *s)
{
	det_put_step(R.sched_live, "# ", s, &R.sched_col);
	fflush(R.sched_live);
}

/* The interleaving events a sim step made: r what it did, readers/waiting how things
 * stood before it.  Every slab a callback sends back is a slab-released event (under
 * a reader or not); the releases of the end-of-run destruction are not the run's. */
static void count_sim_events(int r, int readers, size_t waiting)
{
	if (r == OBQ_SIM_GP_ENDED && readers)
		count_event(OBQ_EV_GP_UNDER_READER);
	if (r == OBQ_SIM_CALLBACK_RAN) {
		count_event(OBQ_EV_CALLBACK);
		if (!R.cleaning && waiting && slabs_waiting() < waiting) {
			count_event(OBQ_EV_SLAB_RELEASED);
			if (readers)
				count_event(OBQ_EV_SLAB_RELEASED_UNDER_READER);
		}
	}
}

/* ---- the callback-timing oracle ----
 * The sim backend runs callbacks in the order they were queued (oblique/testing.h),
 * each only after a grace period that started after its obq_rcu_call.  The harness
 * checks that against its own record: at every obq_rcu_call — the target's, the
 * allocator's slab releases and rcu-debug batches alike — the grace-period count the
 * callback needs (the next grace period to start: count + 1, + 1 more while one is in
 * progress, since that one started before the call) joins a FIFO; each callback run
 * takes the oldest entry and must find the count there.  So every target that queues
 * a callback, and every run in which the allocator does, judges callback timing. */
H_STEP static void cb_queued(void)
{
	if (R.cb_count == CB_FIFO) {
		R.cb_lost = 1; /* more pending than followed: no verdict this run */
		return;
	}
	E.cb_need[(R.cb_first + R.cb_count++) % CB_FIFO] =
		obq_sim_gp_seq() + 1 + (unsigned long)obq_sim_gp_in_progress();
}

static void cb_ran(void)
{
	if (R.cb_count == 0) {
		if (!R.cb_lost)
			obq_error_report(OBQ_H_ERR_ORACLE, NULL, NULL,
					 "  target %s: the RCU backend ran a callback nobody queued "
					 "(callback-timing oracle: %lu grace periods so far)\n",
					 R.tg->name, obq_sim_gp_seq());
		return;
	}
	unsigned long need = E.cb_need[R.cb_first];
	R.cb_first = (R.cb_first + 1) % CB_FIFO;
	R.cb_count--;
	unsigned long now = obq_sim_gp_seq();
	if (now < need && !R.cb_lost)
		obq_error_report(OBQ_H_ERR_ORACLE, NULL, NULL,
				 "  target %s: the RCU backend ran a callback at grace-period count "
				 "%lu, before the grace period it needs (%lu) ended (callback-timing "
				 "oracle: callbacks run in queue order, each after a grace period "
				 "that started after its obq_rcu_call)\n", R.tg->name, now, need);
}

static void do_sim_step(int32_t tidx)
{
	struct obq_thread *prev = obq_thread_switch(E.gpctx);
	int readers = any_reader();
	size_t waiting = R.cleaning ? 0 : slabs_waiting();
	R.in_sim = 1;
	int r = obq_sim_step();
	R.in_sim = 0;
	obq_thread_switch(prev);
	if (r == OBQ_SIM_CALLBACK_RAN)
		cb_ran();
	if (r == OBQ_SIM_GP_STARTED || r == OBQ_SIM_GP_ENDED) {
		unsigned nest[OBQ_H_MAX_THREADS] = {0};
		for (unsigned i = 0; i < R.prog->nthreads; i++)
			nest[i] = R.vt[i].ctx && R.vt[i].st != VT_DONE ? R.vt[i].ctx->rcu_nesting : 0;
		h_contract_gp_step(r, nest, R.prog->nthreads);
	}
	if (r == OBQ_SIM_GP_STARTED || r == OBQ_SIM_GP_ENDED)
		h_weak_gp_step();
	log_step(GP_CHOICE, (unsigned)r, 0, 0, tidx, -1);
	count_sim_events(r, readers, waiting);
	if (R.opts->trace) {
		fprintf(R.opts->trace, "  step %5u  GP  %s (gp seq %lu)\n", R.steps,
			det_sim_result_name(r), (unsigned long)obq_sim_gp_seq());
		fflush(R.opts->trace);
	}
}

/* ------------------------------------------------------------------ reports */

static void fail_print_all(void)
{
	FILE *f = stderr;
	fprintf(f, "%s", R.res->message);
	fprintf(f, "==oblique== harness: target %s, first report above; the program:\n",
		R.tg->name);
	prog_print(f, R.tg, R.prog, R.tape_pos);
	fprintf(f, "==oblique== realised schedule (%u steps):\n", R.steps);
	det_print_schedule(f, &R, "  ");
	fprintf(f, "==oblique== thread states:\n");
	det_print_states(f, &R);
	/* The adapter is part of the command: the same bytes on another allocator are
	 * another run. */
	const char *ad = h_adapter_arg();
	if (R.opts->input_name)
		fprintf(f, "==oblique== reproduce: obq-trace replay %s--target %s %s\n", ad,
			R.tg->name, R.opts->input_name);
	else
		fprintf(f, "==oblique== reproduce: obq-trace replay %s--target %s <crash input>  "
			   "(or: %s %sreplay <crash input>)\n", ad, R.tg->name, R.tg->name, ad);
	fflush(f);
}

static void err_hook(const struct obq_error *e, void *arg)
{
	(void)arg;
	if (obq_error_is_notice(e->kind)) {
		obq_error_default_hook(e, NULL); /* a degraded mode, not a finding: print, go on */
		return;
	}
	if (!R.active) {
		/* Outside a run (never expected): behave as the default hook. */
		obq_error_default_hook(e, NULL);
		return;
	}
	R.hash = hmix(R.hash, 0xe000 + (unsigned)e->kind);
	struct vthread *ev = R.cur ? R.cur : &R.mainvt;
	if (ev->expect.kind != OBQ_ERR_NONE && e->kind == ev->expect.kind) {
		ev->expect.hits++;
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

static void report_stuck(enum obq_error_kind kind, const char *why)
{
	char buf[3000];
	FILE *f = fmemopen(buf, sizeof buf, "w");
	if (f) {
		fprintf(f, "%s (target %s, %u scheduling steps); thread states:\n", why, R.tg->name,
			R.steps);
		det_print_states(f, &R);
		fclose(f);
	} else {
		snprintf(buf, sizeof buf, "%s", why);
	}
	buf[sizeof buf - 1] = 0;
	obq_error_report(kind, NULL, NULL, "%s", buf);
	R.stop = 1;
	R.abandon = 1;
}

/* ------------------------------------------------------------------ switching */

static void switch_to(struct vthread *from, struct vthread *to)
{
	R.cur = to;
	obq_thread_switch(to->ctx);
	coro_switch(from->co, to->co);
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
	coro_switch(v->co, &E.sched);
}
#define H_GONE() abort()

/* ------------------------------------------------------------------ decide */

H_STEP unsigned det_draw(int32_t *tidx)
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
/* Does a parked thread's predicate hold?  Evaluated by the engine, not by the thread:
 * the weak-memory mode reads the latest values here (in_pred). */
H_STEP static int pred_holds(obq_ready_fn ready, const void *arg)
{
	R.in_pred++;
	int r = ready(arg);
	R.in_pred--;
	return r;
}

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
		else if (pred_holds(R.vt[i].ready, R.vt[i].ready_arg))
			m |= 1u << i;
	}
	return m;
}

/* Who may run after `self` (NULL when self finished or from main). */
H_STEP static void gather_choices(const struct vthread *self, struct det_choices *c)
{
	c->n = 0;
	c->self_idx = -1;
	c->self_tid = self ? (int)self->pub.tid : -1;
	unsigned self_bit = self ? 1u << self->pub.tid : 0;
	for (unsigned m = runnable_mask(); m; m &= m - 1) {
		if (m & self_bit & -m)
			c->self_idx = (int)c->n;
		c->ch[c->n++] = (unsigned)__builtin_ctz(m);
	}
	c->can_gp = obq_sim_can_step();
	if (c->can_gp)
		c->ch[c->n++] = GP_CHOICE;
	c->steps = R.steps;
}

/* The sim engine was picked: one step.  0, or -1 when it spent the step budget (a
 * livelock report). */
H_STEP static int gp_chosen(int32_t tidx)
{
	R.steps++;
	do_sim_step(tidx);
	if (R.steps > R.max_steps) {
		report_stuck(OBQ_H_ERR_LIVELOCK, "livelock: scheduling-step budget spent");
		return -1;
	}
	return 0;
}

/* Thread tid was picked to run after self: count a preemption, log and trace the step. */
H_STEP static struct vthread *thread_chosen(const struct vthread *self, int self_runnable,
					    unsigned tid, const struct det_pick *pk)
{
	struct vthread *nx = &R.vt[tid];
	int preempt = 0;
	if (self && self_runnable && nx != self) {
		preempt = 1;
		R.res->preemptions++;
		count_event(OBQ_EV_PREEMPT);
	}
	log_step(tid, nx->last_sp, nx->pc, preempt, pk->tidx, preempt ? pk->stay : -1);
	if (R.opts->trace) {
		fprintf(R.opts->trace, "  step %5u  T%u  %-15s op %u%s\n", R.steps, tid,
			obq_sp_name(nx->last_sp), nx->pc, preempt ? "  (preempt)" : "");
		fflush(R.opts->trace); /* replay: every step survives a crash */
	}
	return nx;
}

/* Choose who runs after `self` (NULL when self finished or from main): the policy
 * picks among the choices; a pick of the sim engine makes a step and asks again.
 * Returns NULL when every thread is done or the run stops. */
H_STEP static struct vthread *decide(struct vthread *self)
{
	for (;;) {
		if (R.abandon || R.live == 0)
			return NULL; /* stopping, or every thread is done */
		struct det_choices c;
		gather_choices(self, &c);
		if (c.n == 0) {
			report_stuck(OBQ_H_ERR_DEADLOCK,
				     "deadlock: no virtual thread can run and the grace-period engine "
				     "has nothing to do");
			return NULL;
		}
		struct det_pick pk = {0, -1, -1};
		R.policy->pick(&R.pol, &c, &pk);
		if (c.ch[pk.idx] != GP_CHOICE)
			return thread_chosen(self, c.self_idx >= 0, c.ch[pk.idx], &pk);
		if (gp_chosen(pk.tidx) < 0)
			return NULL;
	}
}

/* ------------------------------------------------------------------ scheduling points */

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
		char what[1200] = "";
		const char *cache = NULL;
		h_contract_describe(obj, what, sizeof what, &cache);
		_obq_report(OBQ_ERR_RELEASED_ACCESS, cache, obj, "RELEASED", 0,
			    "  %s by T%u (operation %u '%s') into memory the %s allocator adapter "
			    "no longer holds as an object of its cache\n"
			    "  (adapter is %stype-stable)\n%s",
			    obq_sp_name(kind), v->pub.tid, v->pc, R.tg->ops[R.prog->ops[v->pub.tid][v->pc].opcode].name,
			    h_adapter_current()->name, h_adapter_current()->type_stable ? "" : "NOT ",
			    what);
		return 1;
	}
	return 0;
}

H_STEP static void sp_hook(enum obq_sp_kind kind, const void *obj)
{
	struct vthread *v = R.cur;
	if (v == NULL || R.in_sim || !R.active) {
		if (kind == OBQ_SP_CALL && R.active)
			cb_queued(); /* setup, teardown, a callback, the cleanup */
		return;
	}
	sched_point(v, kind);
	/* After the point: the call queues now, against the grace-period state the
	 * thread resumes into. */
	if (kind == OBQ_SP_CALL)
		cb_queued();
	/* The access follows the point: check after the thread resumes, since whatever
	 * ran meanwhile may have freed obj (a check before the switch would let a thread
	 * touch memory freed while it was switched away). */
	if (obj && h_released_count)
		check_released(v, kind, obj);
	/* The allocator contract: a store the protocol makes into a freed object is the
	 * protocol's (excluded from the freed-bytes check); a section begins (the
	 * grace-period check). */
	if (obj)
		h_contract_access(kind, obj);
	else if (kind == OBQ_SP_READ_LOCK && v->ctx && v->ctx->rcu_nesting == 0)
		h_contract_section_enter(v->pub.tid);
}

/* Park the main context's wait by stepping the sim engine (setup, teardown, reset). */
static void main_wait(obq_ready_fn ready, const void *arg)
{
	unsigned guard = 0;
	while (!pred_holds(ready, arg)) {
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
	if (!pred_holds(ready, arg))
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
	/* A lock waiter resumes and writes the lock word (waiter count, the lock) with no
	 * further point: a protocol store, even if the object was freed while it waited. */
	if (kind == OBQ_SP_WAIT_LOCK && arg)
		h_contract_access(OBQ_SP_LOCK, arg);
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
	coro_switch(v->co, nx->co);
	abort();
}

/* ------------------------------------------------------------------ weak memory (weak.c) */

unsigned det_weak_tid(unsigned gp_tid)
{
	if (!R.active || R.in_pred)
		return ~0u;
	if (R.in_sim)
		return gp_tid;
	return R.cur ? R.cur->pub.tid : ~0u;
}

unsigned det_weak_op(void)
{
	return R.cur && !R.in_sim ? R.cur->pc : 0;
}

void det_weak_step(unsigned kind, unsigned k, int32_t tidx, const void *addr)
{
	unsigned who = R.in_sim || !R.cur ? GP_CHOICE : R.cur->pub.tid;
	unsigned op = R.cur && !R.in_sim ? R.cur->pc : 0;
	log_step(who, kind | (k < 15 ? k : 15), op, 1, tidx, 0);
	if (R.opts->trace) {
		fprintf(R.opts->trace, "  step %5u  %s%u  %s %u back (%p)\n", R.steps,
			who == GP_CHOICE ? "GP" : "T", who == GP_CHOICE ? 0 : who,
			kind == STEP_WEAK_READ ? "weak read: the store" : "weak store: placed", k,
			addr);
		fflush(R.opts->trace);
	}
}

void det_weak_race(const char *msg)
{
	obq_error_report(OBQ_H_ERR_DATA_RACE, NULL, NULL, "%s", msg);
	R.stop = 1;
	if (R.cur && !R.in_sim)
		longjmp(R.cur->op_exit, 1);
}

size_t h_det_preemptions(struct h_preempt *out, size_t cap)
{
	size_t n = 0, m = R.nlog < LOG_MAX ? R.nlog : LOG_MAX;
	for (size_t i = 0; i < m && n < cap; i++)
		if (R.log[i].preempt && R.log[i].tape_idx >= 0 && R.log[i].stay >= 0)
			out[n++] = (struct h_preempt){(size_t)R.log[i].tape_idx, (uint8_t)R.log[i].stay};
	return n;
}

/* ------------------------------------------------------------------ the mode (api.c) */

static void det_fail(obq_h_t *t, const char *msg)
{
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

static void det_fold(uint64_t v)
{
	R.hash = hmix(R.hash, v);
}

static FILE *det_trace(void)
{
	return R.opts->trace;
}

static void det_count(obq_h_t *t, enum obq_h_event ev)
{
	(void)t;
	count_event(ev);
}

static struct h_expect *det_expect(obq_h_t *t)
{
	return &((struct vthread *)t)->expect;
}

static void det_point(obq_h_t *t)
{
	if (R.cur == (struct vthread *)t)
		sched_point((struct vthread *)t, OBQ_SP_USER);
}

const struct h_mode h_mode = {
	.fail = det_fail, .fold = det_fold, .trace = det_trace, .count = det_count,
	.expect = det_expect, .point = det_point, .retry = NULL, /* sched_point's step budget */
};

/* Scheduling points for adapters without their own (adapter.c calls these). */
void h_adapter_point(obq_h_t *t, enum obq_sp_kind kind, const void *obj)
{
	(void)t;
	sp_hook(kind, obj);
}
/* Deterministic mode: slabs go back when the input's schedule says (sim steps), and
 * at the shrink points the program's shape byte sets: every k-th free of a cache
 * shrinks it first (its magazine of the freeing context, the depot, every empty slab:
 * a typesafe cache's through a grace period, while other threads may read). */
void h_free_traffic(obq_h_t *t, struct obq_h_cache *c)
{
	(void)t;
	if (!R.active || R.cleaning || c->a->shrink == NULL)
		return;
	unsigned k = h_shrink_periods[PROG_SHRINK(R.prog->shape)];
	if (k && ++c->frees % k == 0)
		c->a->shrink(c->impl);
}

/* Deterministic mode: the program's geometry for each cache it creates (oblique's;
 * other adapters keep their own).  A target that sets a geometry itself after
 * creating the cache (rcu_gp) overrides it. */
void h_cache_made(obq_h_t *t, struct obq_h_cache *c)
{
	obq_cache_t *oc = obq_h_cache_oblique(c);
	if (!R.active || oc == NULL)
		return;
	const struct h_geometry *g = &h_geometries[PROG_GEOM(R.prog->shape)];
	if (g->slab_objects == 0)
		return;
	if ((obq_cache_set_fuzz_geometry(oc, g->slab_objects) != 0 ||
	     obq_cache_set_fuzz_keep_empty(oc, g->keep_empty) != 0 ||
	     (g->mag_batch && obq_cache_set_fuzz_magazines(oc, g->mag_batch, 2) != 0)) && t)
		obq_h_fail(t, "cache %s: the program's geometry (slab=%u keep=%u mag=%u) refused",
			   c->name, g->slab_objects, g->keep_empty, 2 * g->mag_batch);
}

void h_note_released(void)
{
	if (h_in_adapter_free)
		return; /* an object freed (malloc control), not a slab going back */
	if (R.active && !R.cleaning) { /* destroy's drop of everything is not an event */
		count_event(OBQ_EV_SLAB_RELEASED);
		if (any_reader())
			count_event(OBQ_EV_SLAB_RELEASED_UNDER_READER);
	}
}
struct obq_h_cache **h_run_caches(void)
{
	return &R.caches;
}

/* ------------------------------------------------------------------ init */

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
	(void)tg;
	if (inited)
		return;
	inited = 1;
	h_register_verdicts();
	h_contract_enable();
	coro_init_main(&E.sched);
	for (unsigned i = 0; i < OBQ_H_MAX_THREADS; i++)
		if (coro_alloc(&E.co[i], STACK_SIZE) < 0) {
			perror("oblique harness: coroutine stack");
			abort();
		}
	/* Contexts live as long as the process (same ids in every run's reports, no
	 * allocation per run).  What a run leaves in them is harmless to the next: their
	 * magazine arrays go at the end of the run (run_cleanup), quiesce_ctx ends
	 * abandoned read-side sections, and the checker's per-thread table is keyed by
	 * slab incarnation. */
	for (unsigned i = 0; i < OBQ_H_MAX_THREADS; i++)
		E.ctx[i] = new_ctx();
	E.mainctx = new_ctx();
	E.gpctx = new_ctx();
	E.cleanctx = new_ctx();
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
		h_adapter_set(h_adapter_from_env());
}

/* ------------------------------------------------------------------ run */

/* The target's state buffer for this run, zeroed (grown when a target needs more). */
static void *fresh_state(size_t size)
{
	if (size > E.state_cap) {
		free(E.state);
		E.state = malloc(size);
		E.state_cap = size;
		if (E.state == NULL) {
			fprintf(stderr, "==oblique== harness: out of memory\n");
			abort();
		}
	}
	if (size)
		memset(E.state, 0, size);
	return E.state;
}

/* Thread i's view and its coroutine, ready to run its operations from the start. */
static void vthread_reset(struct vthread *v, unsigned tid, unsigned nthreads, int type_stable)
{
	v->pub = (obq_h_t){.run = &R, .state = R.state, .tid = tid, .nthreads = nthreads,
			   .type_stable = type_stable};
	v->st = VT_READY;
	v->last_sp = OBQ_SP_USER;
	v->expect.kind = OBQ_ERR_NONE;
	if (tid == OBQ_H_MAIN) {
		v->ctx = E.mainctx;
		return;
	}
	v->co = &E.co[tid];
	v->ctx = E.ctx[tid];
	coro_start(v->co, vt_entry, v);
}

/* The whole run state in one step: R is zeroed and set for program p, the threads
 * made ready, the policy started (PCT draws its priorities from the tape). */
static void run_reset(const struct obq_h_target *tg, const struct program *p,
		      const struct h_opts *o, struct h_result *res, FILE *schedule)
{
	R = (struct obq_h_run){
		.tg = tg,
		.prog = p,
		.opts = o,
		.res = res,
		.rng = 0x6f626c6971756500ull ^ p->seed,
		.max_steps = tg->max_steps ? tg->max_steps : 20000,
		.live = (1u << p->nthreads) - 1,
		.policy = det_policies[p->policy],
		.hash = 0xcbf29ce484222325ull,
		.state = fresh_state(tg->state_size),
		.log = E.log,
		.sched_live = o->live_schedule ? schedule : NULL,
	};
	int type_stable = h_adapter_current()->type_stable;
	vthread_reset(&R.mainvt, OBQ_H_MAIN, p->nthreads, type_stable);
	for (unsigned i = 0; i < p->nthreads; i++)
		vthread_reset(&R.vt[i], i, p->nthreads, type_stable);
	if (R.policy->start)
		R.policy->start(&R.pol, p);
}

/* The RCU registration order of the program's shape (header byte 4, bits 6-7: r):
 * the unused virtual threads' contexts, cleanup, GP engine, main, then the program's
 * threads from T(r+1) round to T(r % threads), which registers last.  A backend that
 * walks its registry (the sim's grace-period start) then meets every virtual thread
 * in every place of it across inputs — a walk that skips the last context skips a
 * reader.  Re-registering only when the order changes keeps runs of the same shape
 * free of it; the order never changes what a correct backend does. */
static void reregister(const struct program *p)
{
	unsigned r = PROG_ORDER(p->shape) % p->nthreads;
	unsigned key = p->nthreads << 2 | r;
	if (E.reg_key == key + 1)
		return;
	E.reg_key = key + 1;
	struct obq_thread *order[OBQ_H_MAX_THREADS + 3];
	unsigned n = 0;
	for (unsigned i = p->nthreads; i < OBQ_H_MAX_THREADS; i++)
		order[n++] = E.ctx[i];
	order[n++] = E.cleanctx;
	order[n++] = E.gpctx;
	order[n++] = E.mainctx;
	for (unsigned i = 1; i <= p->nthreads; i++)
		order[n++] = E.ctx[(r + i) % p->nthreads];
	struct obq_thread *prev = obq_thread_switch(NULL);
	for (unsigned i = 0; i < n; i++) {
		obq_thread_switch(order[i]);
		obq_rcu_unregister_thread();
	}
	for (unsigned i = 0; i < n; i++) {
		obq_thread_switch(order[i]);
		obq_rcu_register_thread();
	}
	obq_thread_switch(prev);
}

/* Hand the library to the run: reuse mode, error and scheduling hooks, no context. */
static obq_error_hook_fn run_begin(const struct program *p)
{
	reregister(p);
	h_released_clear();
	h_contract_run_begin();
	h_contract_run_reset_threads();
	obq_set_reuse_mode(p->reuse ? OBQ_REUSE_RCU_DEBUG : OBQ_REUSE_RECYCLE);
	obq_error_hook_fn prev_hook = obq_set_error_hook(err_hook, NULL);
	obq_sched_set_hooks(sp_hook, wait_hook);
	R.osctx = obq_thread_switch(NULL);
	R.active = 1;
	h_weak_run_begin();
	return prev_hook;
}

/* setup, the virtual threads until every one is done or the run stops, final and
 * teardown (skipped after a report: abandoned threads may hold locks). */
static void run_program(void)
{
	obq_thread_switch(R.mainvt.ctx);
	if (R.tg->setup)
		R.tg->setup(&R.mainvt.pub);
	if (!R.stop) {
		struct vthread *first = decide(NULL);
		if (first) {
			R.cur = first;
			obq_thread_switch(first->ctx);
			coro_switch(&E.sched, first->co);
		}
	}
	/* back in main: every thread finished, or the run stopped */
	R.cur = NULL;
	obq_thread_switch(R.mainvt.ctx);
	if (!R.stop && R.tg->final)
		R.tg->final(&R.mainvt.pub);
	if (!R.stop && R.tg->teardown)
		R.tg->teardown(&R.mainvt.pub);
}

/* What the run did, before the cleanup: the result's counts, the trace's last line,
 * the schedule, the failure's summary. */
static void run_report(FILE *schedule)
{
	struct h_result *res = R.res;
	res->tape_used = R.tape_pos;
	res->steps = R.steps;
	if (R.opts->trace)
		fprintf(R.opts->trace, "  end: %u steps, %zu tape bytes used%s\n", R.steps,
			R.tape_pos, res->failed ? ", FAILED" : "");
	if (R.sched_live) {
		det_end_schedule(R.sched_live, &R, "# ", R.sched_col);
		R.sched_live = NULL; /* the cleanup's steps are not the program's */
	} else if (schedule) {
		det_print_schedule(schedule, &R, "# ");
	}
	if (res->failed && R.opts->print_failure)
		fail_print_all();
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
	struct obq_thread *prev = obq_thread_switch(E.gpctx);
	R.in_sim = 1;
	for (unsigned guard = 0; guard < 100000 && obq_sim_callbacks_pending() > 0 &&
				 obq_sim_can_step(); guard++)
		if (obq_sim_step() == OBQ_SIM_CALLBACK_RAN)
			cb_ran();
	R.in_sim = 0;
	obq_thread_switch(prev);
}

/* Cleanup: no context stays inside a section, then caches (objects still in the
 * virtual threads' magazines are FREE: destroy releases their slabs), then sim. */
static void run_cleanup(void)
{
	obq_thread_switch(NULL);
	for (unsigned i = 0; i < R.prog->nthreads; i++)
		quiesce_ctx(R.vt[i].ctx);
	quiesce_ctx(R.mainvt.ctx);
	quiesce_ctx(E.gpctx);
	obq_thread_switch(E.cleanctx);
	R.stop = 1; /* reports during cleanup: recorded, never stop anything */
	R.abandon = 1;
	int failed_before = R.res->failed;
	if (failed_before)
		drain_callbacks();
	R.cleaning = 1;
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
	/* The contexts' magazine arrays of this run's caches go now, not when the next run
	 * touches a cache with the same id: a run's mallocs then match its frees, so
	 * libFuzzer's leak detection (which re-runs and scans the heap after any run with
	 * more mallocs than frees) stays quiet.  Only this run's threads can hold any:
	 * every run ends here. */
	for (unsigned i = 0; i < R.prog->nthreads; i++)
		obq_testing_thread_trim(R.vt[i].ctx);
	obq_testing_thread_trim(E.mainctx);
	obq_testing_thread_trim(E.gpctx);
	obq_testing_thread_trim(E.cleanctx);
	obq_sim_reset();
	h_released_clear();
}

/* Give the library back: no hooks, the OS thread's context, the previous error hook. */
static void run_end(obq_error_hook_fn prev_hook)
{
	R.active = 0;
	obq_sched_set_hooks(NULL, NULL);
	obq_thread_switch(R.osctx);
	obq_set_error_hook(prev_hook == obq_error_default_hook ? NULL : prev_hook, NULL);
}

void h_det_run(const struct obq_h_target *tg, const struct program *p, const struct h_opts *o,
	       struct h_result *res, FILE *schedule)
{
	h_det_init(tg);
	h_result_reset(res);
	run_reset(tg, p, o, res, schedule);
	obq_error_hook_fn prev_hook = run_begin(p);
	run_program();
	h_weak_run_end();
	run_report(schedule);
	run_cleanup();
	run_end(prev_hook);
	res->hash = R.hash;
	h_feedback(res->events);
}
