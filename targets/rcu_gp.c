/* rcu_gp.c — fuzz target: grace-period guarantees, with an age oracle in the style of
 * rcutorture's reader pipe (kernel/rcu/rcutorture.c: rtort_pipe_count).
 *
 * Model.  NSLOT slots publish objects of a typesafe cache.  A writer replaces (or
 * deletes) a slot's object and retires the old one in one of three ways:
 *   cb    obq_rcu_call: the object's pipe age goes 1 (removed), and each callback —
 *         each run one grace period after it was queued — advances it and queues the
 *         next, until PIPE_LEN, when the last callback frees the object
 *         (rcutorture's rcu_torture_cb);
 *   sync  obq_rcu_synchronize, then free;
 *   now   free at once (the typesafe fast path: a reader holding it sees a FREE object
 *         of the same type, legal inside its section, and must not judge its age).
 * Readers load a slot inside a read-side section, wait some scheduling points, then
 * read the object (gen works as a sequence count, so the fields read belong to one
 * incarnation).  Every incarnation a reader can observe there was removed after its
 * section began, so:
 *   - its pipe age is <= 1: pipe 2 means a full grace period — one that started after
 *     the removal, so after this reader began — ended while the reader was inside;
 *   - if it was freed under the reader (its generation changed), it was retired
 *     "now": the retirement record (fate table) of a cb- or sync-retired object freed
 *     under a reader is a broken grace period.
 * Grace-period machinery oracles:
 *   - a callback runs only after a full grace period: obq_rcu_gp_count() at the
 *     callback >= the count at queueing + 1 (+1 more under the sim backend when a
 *     grace period was already in progress then: it cannot serve the callback);
 *   - synchronize returns only after a grace period ended (count advanced);
 *   - barrier returns only after every callback queued before it ran (callbacks run
 *     >= callbacks queued before the barrier).
 * Writers take a slot's object over with one atomic exchange (take), so of two
 * writers removing the same object only one retires it; the mutant
 * rcu_gp_take_not_atomic reads, then stores (check, then act), and two writers may
 * both retire it — through obq_rcu_call twice (checker rule rcu-head-double-queued),
 * or freed twice.
 * RCU misuse (synchronize in a section, unbalanced unlock...) is the checker's
 * business: this target commits none. */
#include <oblique/oblique.h>
#include <oblique/harness.h>
#include <oblique/testing.h> /* obq_cache_set_fuzz_geometry, obq_sim_gp_in_progress */

#include "mutant.h"

#define NSLOT 3
#define PIPE_LEN 3 /* pipe age at which the callback chain frees the object */
#define NFATE 64   /* retirement records kept (by gen % NFATE) */

enum how { HOW_LIVE = 0, HOW_CB, HOW_SYNC, HOW_NOW };

struct gobj {
	struct obq_rcu_head rh;      /* callback link (the backend's while queued) */
	unsigned long gen;           /* incarnation number (guard: survives free -> alloc) */
	unsigned long pipe;          /* 0 published; 1 removed; +1 per callback; PIPE_LEN when freed */
	unsigned long how;           /* enum how: live, or how it is being retired */
	unsigned long need;          /* gp count its queued callback needs (callback oracle) */
	unsigned long payload;       /* gen * 7 + 1 while this incarnation lives */
};

struct st {
	obq_h_cache_t *c;                  /* the object cache (typesafe) */
	obq_h_t *main;                     /* setup's view: callbacks free and report through it */
	struct gobj *slot[NSLOT];          /* published objects (__atomic builtins only) */
	_Atomic unsigned long next_gen;    /* generation allocator */
	_Atomic unsigned long calls;       /* callbacks queued (counted once queued) */
	_Atomic unsigned long done;        /* callbacks that ran */
	_Atomic unsigned long fate[NFATE]; /* gen << 2 | how, written just before the free */
};

static struct st *cur; /* the running program's state, for callbacks (one run at a time) */

static void ctor(void *p)
{
	struct gobj *o = p;
	o->rh.next = NULL;
	o->rh.func = NULL;
	o->gen = 0;
	o->pipe = 0;
	o->how = HOW_LIVE;
	o->need = 0;
	o->payload = 0;
}

static void setup(obq_h_t *t)
{
	struct st *s = t->state;
	cur = s;
	s->main = t;
	s->c = OBQ_H_CACHE_SETUP(t, "rcu_gp_obj", struct gobj, OBQ_TYPESAFE_BY_RCU, ctor,
				 OBQ_H_GUARD_FIELD(OBQ_GUARD_GENERATION, struct gobj, gen));
	if (!s->c)
		return;
	/* One object per slab, one per magazine, no depot, no kept empty slab: the second
	 * free on a thread sends the first object's slab back (through a grace period), so
	 * a reader still holding that object inside its section is exactly the case the
	 * slab's grace period protects (class 19: slab released without a grace period). */
	obq_cache_t *oc = obq_h_cache_oblique(s->c);
	if (oc && obq_cache_set_fuzz_geometry(oc, 1) != 0)
		obq_h_fail(t, "fuzz geometry refused");
}

/* The grace-period count a callback queued now must wait for. */
static unsigned long gp_need(void)
{
	unsigned long n = obq_rcu_gp_count() + 1;
#if OBQ_RCU_BACKEND == OBQ_RCU_SIM
	/* a grace period already running started before the call: it cannot serve it */
	n += (unsigned long)obq_sim_gp_in_progress();
#endif
	return n;
}

static void record_fate(struct st *s, struct gobj *o, enum how how)
{
	unsigned long g = OBQ_PEEK(o, gen);
	/* Seq_cst: before the free, so a reader that sees the object freed sees its fate. */
	atomic_store(&s->fate[g % NFATE], g << 2 | how);
}

static void gp_cb(struct obq_rcu_head *h)
{
	struct gobj *o = (struct gobj *)((char *)h - offsetof(struct gobj, rh));
	struct st *s = cur;
	unsigned long now = obq_rcu_gp_count(), need = OBQ_PEEK(o, need);
	unsigned long pipe = OBQ_PEEK(o, pipe) + 1;
	if (now < need)
		obq_h_fail(s->main, "callback for object gen %lu ran at gp count %lu, before the "
			   "grace period it needs (%lu) ended", OBQ_PEEK(o, gen), now, need);
	if (pipe < PIPE_LEN) {
		OBQ_STORE(o, pipe, pipe);
		OBQ_STORE(o, need, gp_need());
		obq_rcu_call_obj(o, &o->rh, gp_cb); /* one more grace period of age */
		/* Seq_cst: counted once queued, before this callback counts itself done. */
		atomic_fetch_add(&s->calls, 1);
	} else {
		OBQ_STORE(o, pipe, (unsigned long)PIPE_LEN);
		record_fate(s, o, HOW_CB);
		obq_h_free(s->main, s->c, o);
	}
	/* Seq_cst: read by the barrier oracle after obq_rcu_barrier returns. */
	atomic_fetch_add(&s->done, 1);
}

/* Retire an unpublished object (the caller removed it from its slot). */
static void retire(obq_h_t *t, struct gobj *o, unsigned how)
{
	struct st *s = t->state;
	switch (how % 3) {
	case 0: /* cb */
		OBQ_STORE(o, how, (unsigned long)HOW_CB);
		OBQ_STORE(o, pipe, 1ul);
		OBQ_STORE(o, need, gp_need());
		obq_rcu_call_obj(o, &o->rh, gp_cb);
		/* Seq_cst: counted after it is queued (the barrier oracle reads it before). */
		atomic_fetch_add(&s->calls, 1);
		break;
	case 1: { /* sync */
		OBQ_STORE(o, how, (unsigned long)HOW_SYNC);
		OBQ_STORE(o, pipe, 1ul);
		unsigned long s0 = obq_rcu_gp_count();
		obq_rcu_synchronize();
		unsigned long s1 = obq_rcu_gp_count();
		obq_h_check(t, s1 >= s0 + 1, "synchronize returned with gp count %lu -> %lu", s0, s1);
		OBQ_STORE(o, pipe, (unsigned long)PIPE_LEN);
		record_fate(s, o, HOW_SYNC);
		obq_h_free(t, s->c, o);
		break;
	}
	default: /* now: type-safe readers only */
		OBQ_STORE(o, how, (unsigned long)HOW_NOW);
		record_fate(s, o, HOW_NOW);
		obq_h_free(t, s->c, o);
		break;
	}
}

/* Take slot i's object over, leaving nv there: the caller alone retires what it got. */
static struct gobj *take(obq_h_t *t, unsigned i, struct gobj *nv)
{
	struct st *s = t->state;
	if (OBQ_MUTANT(rcu_gp_take_not_atomic)) {
		/* Acquire/release as rcu_dereference/rcu_assign_pointer, but a preemption
		 * between them lets another writer take the same object. */
		struct gobj *old = __atomic_load_n(&s->slot[i], __ATOMIC_ACQUIRE);
		obq_h_point(t);
		__atomic_store_n(&s->slot[i], nv, __ATOMIC_RELEASE);
		return old;
	}
	/* Acq_rel: publish nv (rcu_assign_pointer) and take the old one over. */
	return __atomic_exchange_n(&s->slot[i], nv, __ATOMIC_ACQ_REL);
}

static void op_replace(obq_h_t *t, const uint8_t *arg)
{
	struct st *s = t->state;
	struct gobj *o = obq_h_alloc(t, s->c);
	if (!o)
		return;
	/* Relaxed: a unique number; the publication below orders it. */
	unsigned long g = atomic_fetch_add_explicit(&s->next_gen, 1, memory_order_relaxed) + 1;
	/* gen works as a sequence count for stale readers of a recycled object: 0 while
	 * the fields change, then the new (unique) generation */
	OBQ_STORE(o, gen, 0ul);
	/* Release: gen = 0 before the field stores (seqcount write_begin's smp_wmb). */
	atomic_thread_fence(memory_order_release);
	OBQ_STORE(o, payload, g * 7 + 1);
	OBQ_STORE(o, pipe, 0ul);
	OBQ_STORE(o, how, (unsigned long)HOW_LIVE);
	/* Release: the field stores before the new gen (write_end's smp_wmb). */
	atomic_thread_fence(memory_order_release);
	OBQ_STORE(o, gen, g);
	struct gobj *old = take(t, arg[0] % NSLOT, o);
	if (old)
		retire(t, old, arg[1]);
}

static void op_delete(obq_h_t *t, const uint8_t *arg)
{
	struct gobj *old = take(t, arg[0] % NSLOT, NULL);
	if (old)
		retire(t, old, arg[1]);
}

/* Inside a section: judge object o, loaded from a slot earlier in this section.
 * Every incarnation of o the reader can observe was removed after the section began
 * (the one it loaded was published at the load; later ones were allocated after), so
 * no grace period that could free it, or age it past pipe 1, may end before the
 * section does.  gen is read as a sequence count: g0 == g1 != 0 means the fields
 * read in between belong to incarnation g0. */
static void judge(obq_h_t *t, struct gobj *o)
{
	unsigned long g0 = OBQ_PEEK(o, gen);
	/* Acquire: the field reads after the gen read (read_seqcount_begin). */
	atomic_thread_fence(memory_order_acquire);
	unsigned long pipe = OBQ_PEEK(o, pipe), pay = OBQ_PEEK(o, payload);
	unsigned long how = OBQ_PEEK(o, how);
	/* Acquire: the field reads before the gen re-read (read_seqcount_retry). */
	atomic_thread_fence(memory_order_acquire);
	unsigned long g1 = OBQ_PEEK(o, gen);
	if (g0 == 0 || g1 != g0) {
		obq_h_event(t, OBQ_EV_RECYCLED); /* re-initialised under us */
		obq_h_observe(t, 1001);
		return;
	}
	obq_h_check(t, pipe <= 1, "reader saw object gen %lu at pipe age %lu: a grace period "
		    "that began after its removal ended under the reader", g0, pipe);
	obq_h_check(t, pay == g0 * 7 + 1, "object gen %lu payload %lu", g0, pay);
	obq_h_observe(t, pipe);
	if (how == HOW_NOW) /* it may be FREE (type-stable): legal in a section */
		obq_h_event(t, OBQ_EV_STALE_READ);
}

/* Inside a section: an object whose generation changed under the reader was freed
 * (and reused); only an object retired "now" may be (its fate record says how). */
static void judge_fate(obq_h_t *t, unsigned long g0)
{
	struct st *s = t->state;
	/* Seq_cst: pairs with record_fate's store before the free we observed. */
	unsigned long f = atomic_load(&s->fate[g0 % NFATE]);
	if (g0 != 0 && f >> 2 == g0)
		obq_h_check(t, (f & 3) == HOW_NOW, "object gen %lu retired through a grace period "
			    "(%s) was freed while a reader that saw it was inside its section",
			    g0, (f & 3) == HOW_CB ? "callback" : "synchronize");
}

static void op_read(obq_h_t *t, const uint8_t *arg)
{
	struct st *s = t->state;
	unsigned n = arg[1] % 4;
	obq_rcu_read_lock();
	struct gobj *o = obq_rcu_dereference(s->slot[arg[0] % NSLOT]);
	if (o) {
		unsigned long g0 = OBQ_PEEK(o, gen);
		for (unsigned k = 0; k < n; k++)
			obq_h_point(t);
		judge(t, o);
		if (OBQ_PEEK(o, gen) != g0)
			judge_fate(t, g0);
	} else {
		obq_h_observe(t, 0);
	}
	obq_rcu_read_unlock();
}

/* Nested sections: the outer one alone must hold the grace period. */
static void op_read_nested(obq_h_t *t, const uint8_t *arg)
{
	struct st *s = t->state;
	obq_rcu_read_lock();
	obq_rcu_read_lock();
	struct gobj *o = obq_rcu_dereference(s->slot[arg[0] % NSLOT]);
	unsigned long g0 = o ? OBQ_PEEK(o, gen) : 0;
	obq_rcu_read_unlock();
	obq_h_point(t);
	obq_h_point(t);
	if (o) {
		judge(t, o);
		if (OBQ_PEEK(o, gen) != g0)
			judge_fate(t, g0);
	}
	obq_rcu_read_unlock();
}

static void op_sync(obq_h_t *t, const uint8_t *arg)
{
	(void)arg;
	unsigned long s0 = obq_rcu_gp_count();
	obq_rcu_synchronize();
	unsigned long s1 = obq_rcu_gp_count();
	obq_h_check(t, s1 >= s0 + 1, "synchronize returned with gp count %lu -> %lu", s0, s1);
}

static void op_barrier(obq_h_t *t, const uint8_t *arg)
{
	(void)arg;
	struct st *s = t->state;
	/* Seq_cst: callbacks counted here were queued before the barrier call. */
	unsigned long c0 = atomic_load(&s->calls);
	obq_rcu_barrier();
	/* Seq_cst: the callbacks the barrier waited for counted themselves before. */
	unsigned long d = atomic_load(&s->done);
	obq_h_check(t, d >= c0, "barrier returned after %lu callbacks ran; %lu were queued "
		    "before it", d, c0);
	obq_h_observe(t, d - c0);
}

static void teardown(obq_h_t *t)
{
	struct st *s = t->state;
	for (unsigned i = 0; i < NSLOT; i++) {
		uint8_t a[2] = {(uint8_t)i, 1}; /* retire by synchronize */
		op_delete(t, a);
	}
	/* callbacks queue their successors: barrier until none is left */
	/* Seq_cst: done first, then calls; a callback counts its successor before itself,
	 * so done == calls means nothing is queued. */
	while (atomic_load(&s->done) != atomic_load(&s->calls))
		obq_rcu_barrier();
}

static const struct obq_h_op ops[] = {
	{"replace", 2, op_replace}, {"delete", 2, op_delete},
	{"read", 2, op_read},       {"read_nested", 1, op_read_nested},
	{"sync", 0, op_sync},       {"barrier", 0, op_barrier},
};

OBQ_H_TARGET_OPS("rcu_gp", ops, struct st, .setup = setup, .teardown = teardown)
