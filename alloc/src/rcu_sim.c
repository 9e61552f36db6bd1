/* rcu_sim.c — the deterministic RCU backend driven by the fuzz harness (API and model
 * in oblique/bits/rcu_sim.h).
 *
 * Everything runs on one OS thread, so the state is plain data.  The GP machine:
 *
 *   idle --(request pending: gp_needed > gp_seq)--> GP_STARTED --(blockers == 0)--> idle
 *                                                                   gp_seq++
 *
 * At GP start every registered context inside a section is marked (t->rcu_waiting = 1)
 * and counted in `blockers`; its outermost unlock (or forced exit) unmarks it.  So
 *     blockers == |{ t : t->rcu_waiting }|  and  t->rcu_waiting => t->rcu_nesting > 0,
 * and a GP ends only when blockers == 0: the invariant "a GP never ends under a reader
 * that was inside when it started" holds by construction (and is asserted).
 *
 * A request that needs "a GP that starts after now" targets
 *     gp_seq + 1 + in_progress
 * (if a GP runs, it started before us: we need the next one).  The target never
 * decreases over time (2*gp_seq + in_progress only grows), so callbacks, queued FIFO,
 * have non-decreasing targets and are kept as segments {count, target} — at most one
 * ready segment (target <= gp_seq, merged at each GP end), one for gp_seq+1, one for
 * gp_seq+2.  Callbacks run one per step, in queue order.
 *
 * t->rcu_ctr holds gp_seq at the start of t's outermost section
 * (obq_sim_reader_start_seq). */
#include "rcu_internal.h"

#include "mutant.h"
#include <oblique/testing.h> /* the stepping API (obq_sim_*) */

#include <stdatomic.h>
#include <stdio.h>

#define MAX_SEGS 4          /* ready, +1, +2, and one spare */
#define AUTOSTEP_MAX 1000   /* steps per scheduling point in autostep mode */

struct seg {
	size_t n;               /* callbacks in this segment */
	unsigned long target;   /* gp_seq they need */
};

static struct {
	unsigned long gp_seq;           /* completed GPs since reset */
	unsigned long gp_needed;        /* GPs requested up to this seq */
	int in_progress;                /* 1 while a GP runs */
	unsigned blockers;              /* readers holding the current GP */
	int had_blockers;               /* the current GP started with a reader inside */
	unsigned long reader_waits;     /* GPs since reset that had blockers (gp_reader_waits) */
	struct obq_rcu_head *cb_head;   /* FIFO of pending callbacks */
	struct obq_rcu_head **cb_tail;  /* &last->next, or &cb_head */
	struct seg segs[MAX_SEGS];      /* targets of the FIFO, front first */
	size_t nsegs;                   /* used entries of segs */
	unsigned long cb_queued;        /* callbacks queued since reset */
	unsigned long cb_invoked;       /* callbacks run since reset; <= cb_queued */
	int stepping;                   /* 1 while a step (a callback) runs: steps don't nest */
	int autostep;                   /* obq_sim_set_autostep */
} sim = { .cb_tail = &sim.cb_head };

/* Registered contexts in registration order (sentinel). */
static struct obq_thread registry = { .rcu_next = &registry, .rcu_prev = &registry };

/* ------------------------------------------------------------------------------ */
/* registry                                                                        */

void _obq_rcu_backend_register(struct obq_thread *t)
{
	if (t->rcu_registered)
		return;
	t->rcu_registered = 1;
	t->rcu_next = &registry; /* append: deterministic order */
	t->rcu_prev = registry.rcu_prev;
	registry.rcu_prev->rcu_next = t;
	registry.rcu_prev = t;
}

/* t's outermost section ended: it no longer holds the current GP. */
static void leave(struct obq_thread *t)
{
	/* Relaxed everywhere in this file: one OS thread, plain data behind atomics. */
	if (atomic_load_explicit(&t->rcu_waiting, memory_order_relaxed)) {
		atomic_store_explicit(&t->rcu_waiting, 0, memory_order_relaxed);
		OBQ_ASSERT(sim.blockers > 0);
		sim.blockers--;
	}
}

void _obq_rcu_backend_unregister(struct obq_thread *t)
{
	if (!t->rcu_registered)
		return;
	leave(t);
	t->rcu_prev->rcu_next = t->rcu_next;
	t->rcu_next->rcu_prev = t->rcu_prev;
	t->rcu_next = t->rcu_prev = NULL;
	t->rcu_registered = 0;
}

void _obq_rcu_backend_force_exit(struct obq_thread *t)
{
	t->rcu_nesting = 0;
	leave(t);
}


/* ------------------------------------------------------------------------------ */
/* the GP machine                                                                  */

static void request(unsigned long target)
{
	if (target > sim.gp_needed)
		sim.gp_needed = target;
}

static unsigned long next_target(void)
{
	return sim.gp_seq + 1 + (unsigned long)sim.in_progress;
}

static int callback_ready(void)
{
	return sim.nsegs > 0 && sim.segs[0].target <= sim.gp_seq;
}

int obq_sim_can_step(void)
{
	if (sim.stepping)
		return 0;
	if (sim.in_progress && sim.blockers == 0)
		return 1;
	if (!sim.in_progress && sim.gp_needed > sim.gp_seq)
		return 1;
	return callback_ready();
}

static void start_gp(void)
{
	sim.in_progress = 1;
	sim.blockers = 0;
	for (struct obq_thread *t = registry.rcu_next; t != &registry; t = t->rcu_next) {
		if (OBQ_MUTANT(sim_skip_last_ctx) && t->rcu_next == &registry)
			break; /* mutant: the last registered context is not scanned */
		/* mutant: a reader inside a nested section is not waited for */
		if (t->rcu_nesting > 0 && !(OBQ_MUTANT(sim_gp_early) && t->rcu_nesting > 1)) {
			atomic_store_explicit(&t->rcu_waiting, 1, memory_order_relaxed);
			sim.blockers++;
		}
	}
	sim.had_blockers = sim.blockers > 0;
}

static void end_gp(void)
{
#ifndef NDEBUG
	for (struct obq_thread *t = registry.rcu_next; t != &registry; t = t->rcu_next)
		OBQ_ASSERT(!atomic_load_explicit(&t->rcu_waiting, memory_order_relaxed));
#endif
	sim.in_progress = 0;
	sim.gp_seq++;
	sim.reader_waits += sim.had_blockers;
	/* Merge the ready prefix of segments into one. */
	size_t k = 0;
	while (k < sim.nsegs && sim.segs[k].target <= sim.gp_seq)
		k++;
	if (k > 1) {
		size_t n = 0;
		for (size_t i = 0; i < k; i++)
			n += sim.segs[i].n;
		sim.segs[0].n = n;
		sim.segs[0].target = sim.gp_seq;
		for (size_t i = k; i < sim.nsegs; i++)
			sim.segs[1 + i - k] = sim.segs[i];
		sim.nsegs -= k - 1;
	}
}

static void run_one_callback(void)
{
	struct obq_rcu_head *h = sim.cb_head;
	sim.cb_head = h->next;
	if (sim.cb_head == NULL)
		sim.cb_tail = &sim.cb_head;
	if (--sim.segs[0].n == 0) {
		for (size_t i = 1; i < sim.nsegs; i++)
			sim.segs[i - 1] = sim.segs[i];
		sim.nsegs--;
	}
	sim.cb_invoked++;
	sim.stepping = 1;
	_obq_rcu_head_unqueued(h);
	h->func(h);
	sim.stepping = 0;
}

enum obq_sim_step obq_sim_step(void)
{
	if (sim.stepping)
		return OBQ_SIM_NOTHING;
	if (sim.in_progress && sim.blockers == 0) {
		end_gp();
		return OBQ_SIM_GP_ENDED;
	}
	if (!sim.in_progress && sim.gp_needed > sim.gp_seq) {
		start_gp();
		return OBQ_SIM_GP_STARTED;
	}
	if (callback_ready()) {
		run_one_callback();
		return OBQ_SIM_CALLBACK_RAN;
	}
	return OBQ_SIM_NOTHING;
}

static void autostep(void)
{
	if (!sim.autostep)
		return;
	for (int i = 0; i < AUTOSTEP_MAX && obq_sim_can_step(); i++)
		obq_sim_step();
}

/* A scheduling point of this backend: the scheduler may switch contexts, then the
 * GP machine may advance (autostep). */
static void sim_point(enum obq_sp_kind kind, const void *obj)
{
	OBQ_SCHED_POINT(kind, obj);
	(void)kind;
	(void)obj;
	autostep();
}

/* No scheduler to park us: list the contexts that hold the GP. */
static void report_stuck(const char *call)
{
	unsigned ids[32];
	size_t n = 0, total = 0;
	char list[256];
	size_t len = 0;
	for (struct obq_thread *t = registry.rcu_next; t != &registry; t = t->rcu_next) {
		if (atomic_load_explicit(&t->rcu_waiting, memory_order_relaxed)) {
			if (n < 32)
				ids[n++] = t->id;
			total++;
		}
	}
	list[0] = '\0';
	for (size_t i = 0; i < n && len + 16 < sizeof list; i++)
		len += (size_t)snprintf(list + len, sizeof list - len, "%s%u", i ? ", " : "", ids[i]);
	_obq_report(OBQ_ERR_RCU_STALL, NULL, NULL, NULL, 0,
		    "  %s on the sim backend with no scheduler installed cannot end the grace\n"
		    "  period: %zu context(s) inside a read-side section that began before it:\n"
		    "  thread(s) %s.  Without a scheduler only the calling context runs; install\n"
		    "  the harness's scheduler (obq_sched_set_hooks) or leave those sections first.\n"
		    "  The call returned without waiting.\n",
		    call, total, n ? list : "(none: a callback is stepping)");
}

/* Wait until ready(arg): park under the scheduler, or drive the machine ourselves. */
static void wait_for(obq_ready_fn ready, const void *arg, const char *call)
{
	autostep();
	if (ready(arg))
		return;
#if OBQ_SCHED_POINTS
	if (_obq_sched_wait != NULL) {
		_obq_sched_wait(OBQ_SP_WAIT_GP, ready, arg);
		return;
	}
#endif
	while (!ready(arg)) {
		if (obq_sim_step() == OBQ_SIM_NOTHING) {
			report_stuck(call);
			return;
		}
	}
}

/* ------------------------------------------------------------------------------ */
/* read side                                                                       */

void _obq_sim_read_lock(void)
{
	sim_point(OBQ_SP_READ_LOCK, NULL);
	struct obq_thread *t = obq_thread_current();
	if (t->rcu_nesting == 0) {
		if (OBQ_UNLIKELY(!t->rcu_registered)) {
#if OBQ_CHECKED
			_obq_rcu_report_unregistered(t);
#endif
			_obq_rcu_backend_register(t);
		}
		atomic_store_explicit(&t->rcu_ctr, sim.gp_seq, memory_order_relaxed); /* one thread */
	}
	t->rcu_nesting++;
	autostep();
}

void _obq_sim_read_unlock(void)
{
	sim_point(OBQ_SP_READ_UNLOCK, NULL);
	struct obq_thread *t = obq_thread_current();
	if (OBQ_UNLIKELY(t->rcu_nesting == 0)) {
		_obq_rcu_report_unbalanced(t);
		return;
	}
	if (--t->rcu_nesting == 0)
		leave(t);
	autostep();
}

/* ------------------------------------------------------------------------------ */
/* update side                                                                     */

static int gp_done(const void *arg)
{
	return sim.gp_seq >= *(const unsigned long *)arg;
}

static int callbacks_done(const void *arg)
{
	return sim.cb_invoked >= *(const unsigned long *)arg;
}

void obq_rcu_synchronize(void)
{
	sim_point(OBQ_SP_SYNCHRONIZE, NULL);
	struct obq_thread *self = _obq_thread_peek();
	if (self != NULL && self->rcu_nesting != 0) {
		_obq_rcu_report_sync_in_reader(self, "obq_rcu_synchronize()");
		return;
	}
	unsigned long target = next_target();
	request(target);
	wait_for(gp_done, &target, "obq_rcu_synchronize()");
	autostep();
}

void obq_rcu_call(struct obq_rcu_head *head, void (*func)(struct obq_rcu_head *head))
{
	if (!_obq_rcu_call_args_ok(head, func))
		return;
	sim_point(OBQ_SP_CALL, head);
	/* mutant: the callback waits for the running GP (begun before the call) only */
	unsigned long target = OBQ_MUTANT(sim_cb_early) ? sim.gp_seq + (unsigned long)sim.in_progress
						       : next_target();
	head->func = func;
	head->next = NULL;
	*sim.cb_tail = head;
	sim.cb_tail = &head->next;
	if (sim.nsegs > 0 && sim.segs[sim.nsegs - 1].target == target) {
		sim.segs[sim.nsegs - 1].n++;
	} else {
		OBQ_ASSERT(sim.nsegs < MAX_SEGS);
		sim.segs[sim.nsegs].n = 1;
		sim.segs[sim.nsegs].target = target;
		sim.nsegs++;
	}
	sim.cb_queued++;
	request(target);
	autostep();
}

void obq_rcu_barrier(void)
{
	sim_point(OBQ_SP_BARRIER, NULL);
	struct obq_thread *self = _obq_thread_peek();
	if (self != NULL && self->rcu_nesting != 0) {
		_obq_rcu_report_sync_in_reader(self, "obq_rcu_barrier()");
		return;
	}
	unsigned long target = sim.cb_queued;
	wait_for(callbacks_done, &target, "obq_rcu_barrier()");
	autostep();
}

unsigned long obq_rcu_gp_count(void)
{
	return sim.gp_seq;
}

unsigned long _obq_rcu_gp_target(void)
{
	return next_target();
}

unsigned long obq_rcu_gp_reader_waits(void)
{
	return sim.reader_waits;
}

/* ------------------------------------------------------------------------------ */
/* harness API                                                                     */

void obq_sim_reset(void)
{
	for (struct obq_thread *t = registry.rcu_next; t != &registry; t = t->rcu_next)
		atomic_store_explicit(&t->rcu_waiting, 0, memory_order_relaxed);
	int keep_autostep = sim.autostep;
	sim.gp_seq = 0;
	sim.gp_needed = 0;
	sim.in_progress = 0;
	sim.blockers = 0;
	sim.had_blockers = 0;
	sim.reader_waits = 0;
	sim.cb_head = NULL;
	sim.cb_tail = &sim.cb_head;
	sim.nsegs = 0;
	sim.cb_queued = 0;
	sim.cb_invoked = 0;
	_obq_rcu_heads_forget(); /* the dropped callbacks' heads are not queued any more */
	sim.stepping = 0;
	sim.autostep = keep_autostep;
}

unsigned long obq_sim_gp_seq(void)
{
	return sim.gp_seq;
}

int obq_sim_gp_in_progress(void)
{
	return sim.in_progress;
}

size_t obq_sim_callbacks_pending(void)
{
	return (size_t)(sim.cb_queued - sim.cb_invoked);
}

unsigned long obq_sim_reader_start_seq(const struct obq_thread *t)
{
	return atomic_load_explicit(&((struct obq_thread *)t)->rcu_ctr, memory_order_relaxed);
}

void obq_sim_set_autostep(int on)
{
	sim.autostep = on != 0;
}
