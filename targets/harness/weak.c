/* weak.c — the deterministic engine's weak-memory mode (docs/weak-memory.md): the glue
 * between the engine (det.c) and the model behind the harness's own __tsan_* runtime
 * (wmm.h, wmm_rt.h).  Built into the `weak` variant of the deterministic harness only
 * (OBQ_H_WEAK=1), whose targets are compiled with -fsanitize=thread and linked without
 * libtsan; in every other variant the calls below are empty inlines (det.h).
 *
 *   - Threads: virtual thread i is the model's thread i, the sim engine (grace periods,
 *     callbacks) is thread OBQ_H_MAX_THREADS; setup, final and teardown run unmodelled
 *     (their stores are the initial state every thread sees).
 *   - Choices: a load with older stores it may still read, or a store that may go
 *     before newer ones, draws one byte from the program's tape (then the PRNG), as a
 *     scheduling point does: a tape byte below 0x80 (a PRNG byte below 0xf0) the latest
 *     (sequential consistency), else one
 *     of the others.  A stale choice is a step of the realised schedule
 *     ("T1.2:read~1": the store one older than the latest) and of the determinism
 *     hash; minimize drops the unneeded ones as it drops preemptions (its stay byte
 *     is 0).
 *   - Synchronisation the target's code does not show: an object freed by one thread
 *     and allocated by another (api.c: release at free, acquire at alloc; the
 *     allocator's accesses, the constructor included, are the object's initial state)
 *     and a grace period's start and end (every thread's past happens before every
 *     thread's future: RCU's guarantee — what an updater did before it asked for the
 *     grace period is seen by every section that begins after the grace period
 *     began, and a section that ended before it ended is seen by what follows —
 *     made coarse).
 *   - A data race is a `data-race` report with both accesses, and ends the operation
 *     like an oracle failure. */
#include "det.h"

#if OBQ_H_WEAK

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oblique/testing.h>

#include "wmm_rt.h"

#define GP_TID OBQ_H_MAX_THREADS

/* The checker's symbolizer (sanitizers/): "function+offset (file)" of a return address. */
void _obq_chk_symbolize(const void *pc, char *buf, size_t len);

static struct wmm *model;

static unsigned rt_tid(void *ctx)
{
	(void)ctx;
	return det_weak_tid(GP_TID);
}

/* Staleness is bounded: at most WEAK_STALE_PER_OP stale choices per operation of a
 * thread (C11 promises that a store becomes visible in finite time; a retry loop that
 * read stale for ever would be a livelock no real machine shows).  Bytes from the tape
 * choose a stale read half the time, bytes from the PRNG (an input whose tape ran out)
 * one time in 16, so that the weak behaviours an input asks for come from its bytes. */
#define WEAK_STALE_PER_OP 8
static unsigned stale_left[GP_TID + 1]; /* per model thread: stale choices left ... */
static unsigned stale_op[GP_TID + 1];   /* ... in this operation (its index + 1) */

static unsigned rt_choose(void *ctx, enum wmm_choice_kind kind, unsigned n)
{
	(void)ctx;
	unsigned tid = det_weak_tid(GP_TID), op = det_weak_op() + 1;
	if (tid > GP_TID)
		return 0;
	if (stale_op[tid] != op) {
		stale_op[tid] = op;
		stale_left[tid] = WEAK_STALE_PER_OP;
	}
	if (stale_left[tid] == 0)
		return 0;
	int32_t tidx;
	unsigned b = det_draw(&tidx);
	if (b < (tidx >= 0 ? 0x80u : 0xf0u))
		return 0;
	stale_left[tid]--;
	b &= 0x7f;
	unsigned k = 1 + b % (n - 1);
	det_weak_step(kind == WMM_CHOOSE_READ ? STEP_WEAK_READ : STEP_WEAK_PLACE, k, tidx,
		      wmm_choice_addr(model));
	return k;
}

static void rt_race(void *ctx, const struct wmm_race *r)
{
	(void)ctx;
	char here[256], there[256];
	_obq_chk_symbolize(r->site, here, sizeof here);
	_obq_chk_symbolize(r->other_site, there, sizeof there);
	char who[16];
	if (r->other == GP_TID)
		snprintf(who, sizeof who, "the GP engine");
	else
		snprintf(who, sizeof who, "T%u", r->other);
	char msg[1024];
	snprintf(msg, sizeof msg, "  %s by T%u at %p (%s)\n"
			       "  and an earlier %s by %s (%s)\n"
			       "  are not ordered by happens-before, and one of them is a plain "
			       "access: a data race\n"
			       "  hint: publish with a release (obq_rcu_assign_pointer, "
			       "obq_ref_set_release, an unlock) and read through the matching "
			       "acquire (obq_rcu_dereference, a pin, a lock), or make both "
			       "accesses atomic\n",
		 r->write ? "a write" : "a read", r->tid, r->addr, here,
		 r->other_write ? "write" : "read", who, there);
	det_weak_race(msg);
}

void h_weak_run_begin(void)
{
	if (model == NULL) {
		model = wmm_new(OBQ_H_MAX_THREADS + 1);
		if (model == NULL) {
			fprintf(stderr, "oblique harness: no memory for the weak-memory model\n");
			abort();
		}
	}
	wmm_reset(model);
	memset(stale_op, 0, sizeof stale_op);
	wmm_set_chooser(model, rt_choose, NULL);
	struct wmm_rt_hooks h = {model, NULL, rt_tid, rt_race, NULL};
	wmm_rt_set(&h);
	/* oblique's own hand-offs (other allocators: adapter.c brackets their calls) */
	static const struct obq_testing_hooks lib = {wmm_rt_ctor_begin, wmm_rt_ctor_end,
						     wmm_rt_acquire, wmm_rt_release};
	obq_testing_set_hooks(&lib);
}

void h_weak_run_end(void)
{
	obq_testing_set_hooks(NULL);
	wmm_rt_set(NULL);
}

void h_weak_gp_step(void)
{
	if (model)
		wmm_barrier_all(model, GP_TID);
}

void h_weak_enter_allocator(void)
{
	wmm_rt_ctor_begin();
}

void h_weak_leave_allocator(const void *obj)
{
	wmm_rt_ctor_end();
	if (obj)
		wmm_rt_acquire(obj);
}

void h_weak_free(const void *obj)
{
	wmm_rt_release(obj);
}

#endif /* OBQ_H_WEAK */
