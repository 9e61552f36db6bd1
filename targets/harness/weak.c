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
 *     and allocated by another (adapter.c: release at free, acquire at alloc; the
 *     allocator's own accesses are not recorded), a slab's constructors (their writes
 *     are the allocating thread's stores over an indeterminate content, wmm_rt.h; every
 *     later allocation happens after them) and a grace period's start and end (every thread's past happens before every
 *     thread's future: RCU's guarantee — what an updater did before it asked for the
 *     grace period is seen by every section that begins after the grace period
 *     began, and a section that ended before it ended is seen by what follows —
 *     made coarse).
 *   - A data race is a `data-race` report with both accesses, and ends the operation
 *     like an oracle failure.
 *   - Guidance: each choice offered and each stale choice taken is a feature of the
 *     run for the fuzzer (libFuzzer's extra counters), keyed by the access's code
 *     address, and a pair of stale choices of one operation by both addresses — so an
 *     input that opens a window for a stale read, or takes one, is kept and mutated
 *     further, as new coverage is.  Features never change a run. */
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

static const void *stale_site[GP_TID + 1]; /* ... and the site of its last one */

/* Features for libFuzzer (read after each run, cleared before the next by libFuzzer;
 * plain data in a build without it): [0, 1024) a choice offered at a site (by kind,
 * whether an older store holds another value than the latest: a stale read there
 * could change what the program sees, and whether one holds a dangling pointer),
 * [1024, 2048) a stale choice taken at a site (by kind, distance 1, 2, 3+, whether the
 * value read differs from the latest and whether it is dangling), [2048, 4096) two
 * stale choices of one operation, by both sites and whether the second is dangling.
 *
 * A dangling value is the address of an object this run freed and has not handed out
 * again (contract.c's records): a reader that may load it holds the typesafe hazard in
 * its hands -- every bug of a relaxed publication of a recycled object starts there
 * (a page's stale mapping to a freed anon_vma, a stale table slot).  Whether a value is
 * a pointer at all is not known; an integer that equals a freed object's address is a
 * harmless extra feature. */
#define NFEAT 4096
__attribute__((section("__libfuzzer_extra_counters"), used))
static uint8_t weak_features[NFEAT];

static unsigned feat_hash(uintptr_t a, uintptr_t b)
{
	uint64_t v = (uint64_t)a * 0x9e3779b97f4a7c15ull ^ (uint64_t)b * 0xc2b2ae3d27d4eb4full;
	return (unsigned)(v >> 40);
}

static void feature(unsigned i)
{
	if (weak_features[i] != 0xff)
		weak_features[i]++;
}

/* Would a load's choice k read a dangling pointer (above)? */
static unsigned is_dangling(unsigned k)
{
	return (unsigned)h_contract_freed((const void *)(uintptr_t)wmm_choice_value(model, k));
}

static unsigned rt_choose(void *ctx, enum wmm_choice_kind kind, unsigned n)
{
	(void)ctx;
	unsigned tid = det_weak_tid(GP_TID), op = det_weak_op() + 1;
	if (tid > GP_TID)
		return 0;
	uintptr_t site = (uintptr_t)wmm_rt_site();
	unsigned other = 0, dangling = 0; /* an older store with another value; dangling */
	for (unsigned j = 1; j < n && !dangling; j++)
		if (wmm_choice_differs(model, j)) {
			other = 1;
			dangling = is_dangling(j);
		}
	feature(feat_hash(site, kind * 4 + other + 2 * dangling) % 1024);
	if (stale_op[tid] != op) {
		stale_op[tid] = op;
		stale_left[tid] = WEAK_STALE_PER_OP;
		stale_site[tid] = NULL;
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
	unsigned differs = (unsigned)wmm_choice_differs(model, k);
	dangling = differs && is_dangling(k);
	feature(1024 + feat_hash(site, (kind * 4 + (k < 3 ? k : 3)) * 4 + differs +
					 2 * dangling) % 1024);
	if (stale_site[tid])
		feature(2048 + feat_hash((uintptr_t)stale_site[tid], site * 2 + dangling) % 2048);
	stale_site[tid] = (const void *)site;
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
						     wmm_rt_alloc_end, wmm_rt_release,
						     wmm_rt_constructed};
	obq_testing_set_hooks(&lib);
}

static struct wmm_stats totals; /* summed over runs (h_weak_totals) */

void h_weak_run_end(void)
{
	obq_testing_set_hooks(NULL);
	wmm_rt_set(NULL);
	struct wmm_stats st;
	wmm_get_stats(model, &st);
	totals.loads += st.loads;
	totals.stale_loads += st.stale_loads;
	totals.stores += st.stores;
	totals.placed_early += st.placed_early;
	totals.ctor_stores += st.ctor_stores;
}

void h_weak_print_totals(FILE *f, const char *indent)
{
	fprintf(f, "%sweak memory: %lu modelled loads, %lu stale reads; %lu stores, %lu placed "
		   "early; %lu constructor stores\n", indent, totals.loads, totals.stale_loads,
		totals.stores, totals.placed_early, totals.ctor_stores);
}

void h_weak_gp_step(void)
{
	if (model)
		wmm_barrier_all(model, GP_TID);
}

void h_weak_enter_allocator(void)
{
	wmm_rt_ignore_begin();
}

void h_weak_leave_allocator(const void *obj)
{
	wmm_rt_ignore_end();
	wmm_rt_alloc_end(obj);
}

void h_weak_free(const void *obj)
{
	wmm_rt_release(obj);
}

#endif /* OBQ_H_WEAK */
