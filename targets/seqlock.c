/* seqlock.c — fuzz target: refscale's typesafe generation read, pinned three ways.
 *
 * Objects of a typesafe cache carry a generation `a` and `b == a * a` (invariant of
 * every object a writer has finished).  The ctor initialises the lock, the seqcount
 * and the refcount (0); alloc ("new") bumps a and recomputes b inside the object's
 * lock and a seqcount write section (a stale reader may hold either), then makes the
 * object acquirable (ref 1, release) and publishes it in a slot.  Readers load a slot
 * under RCU, snapshot a, then pin
 *   by ref:     inc-not-zero, then the fields are stable (the owner never writes a
 *               published object);
 *   by lock:    the ctor-initialised lock excludes the writer;
 *   by seqcount: begin / read / retry;
 * and check b == a * a (the oracle) — and whether a changed since the snapshot (the
 * object was recycled under the reader: an interleaving event, not a bug).
 * Slots hold one reference; "del" drops it and the last put frees. */
#include <stdatomic.h>

#include <oblique/oblique.h>
#include <oblique/harness.h>
#include "mutant.h" /* seeded bugs: docs/mutants.md (no-ops outside the mutants build) */

#define NSLOTS 3

struct gen {
	obq_refcount_t ref;      /* holders; 0 while free (guard) */
	obq_spinlock_t lock;     /* ctor-initialised; excludes the writer (guard) */
	obq_seqcount_t seq;      /* ctor-initialised (guard) */
	unsigned long a;         /* generation (guard: survives free -> alloc) */
	unsigned long b;         /* a * a once the writer is done */
};

struct st {
	obq_h_cache_t *c;                /* the typesafe cache */
	struct gen *slot[NSLOTS];       /* published objects, one reference each (__atomic only) */
};

static void ctor(void *p)
{
	struct gen *g = p;
	obq_ref_init(&g->ref);
	obq_spin_lock_init(&g->lock);
	obq_seqcount_init(&g->seq);
	g->a = 0;
	g->b = 0;
}

static void setup(obq_h_t *t)
{
	struct st *s = t->state;
	s->c = OBQ_H_CACHE_SETUP(t, "seqlock_gen", struct gen, OBQ_TYPESAFE_BY_RCU, ctor,
				 OBQ_H_GUARD_FIELD(OBQ_GUARD_REFCOUNT, struct gen, ref),
				 OBQ_H_GUARD_FIELD(OBQ_GUARD_LOCK, struct gen, lock),
				 OBQ_H_GUARD_FIELD(OBQ_GUARD_GENERATION, struct gen, a));
}

static void put(obq_h_t *t, struct gen *g)
{
	struct st *s = t->state;
	if (obq_ref_put(&g->ref))
		obq_h_free(t, s->c, g);
}

static void op_new(obq_h_t *t, const uint8_t *arg)
{
	struct st *s = t->state;
	unsigned i = arg[0] % NSLOTS;
	if (obq_rcu_dereference(s->slot[i]))
		return;
	struct gen *g = obq_h_alloc(t, s->c);
	if (!g)
		return;
	/* A stale reader may hold g's lock or read its seqcount: write inside both. */
	obq_spin_lock(&g->lock);
	obq_write_seqcount_begin(&g->seq);
	unsigned long a = OBQ_PEEK(g, a) + 1;
	OBQ_STORE(g, a, a);
	OBQ_STORE(g, b, a * a);
	obq_write_seqcount_end(&g->seq);
	obq_spin_unlock(&g->lock);
	obq_ref_set_release(&g->ref, 1); /* acquirable last */
	struct gen *old = NULL;
	if (!__atomic_compare_exchange_n(&s->slot[i], &old, g, 0,
					 OBQ_MUTANT(seqlock_publish_relaxed)
					 ? __ATOMIC_RELAXED /* mutant: publish without release */
					 : __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		put(t, g); /* another thread filled the slot (stress mode) */
}

static void op_del(obq_h_t *t, const uint8_t *arg)
{
	struct st *s = t->state;
	struct gen *g = __atomic_exchange_n(&s->slot[arg[0] % NSLOTS], NULL, __ATOMIC_ACQ_REL);
	if (g)
		put(t, g);
}

/* Load slot i under RCU and snapshot a; NULL if empty (section still held). */
static struct gen *load(obq_h_t *t, unsigned i, unsigned long *a0)
{
	struct st *s = t->state;
	struct gen *g = obq_rcu_dereference(s->slot[i]);
	if (g)
		*a0 = OBQ_PEEK(g, a);
	return g;
}

static void judge(obq_h_t *t, unsigned long a0, unsigned long a, unsigned long b, const char *how)
{
	obq_h_observe(t, a);
	obq_h_check(t, b == a * a, "pinned by %s: a=%lu b=%lu (b != a*a)", how, a, b);
	if (a != a0)
		obq_h_event(t, OBQ_EV_RECYCLED);
}

static void op_read_ref(obq_h_t *t, const uint8_t *arg)
{
	unsigned long a0 = 0;
	obq_rcu_read_lock();
	struct gen *g = load(t, arg[0] % NSLOTS, &a0);
	if (!g || !obq_h_pin(t, obq_ref_get_not_zero(&g->ref))) {
		obq_rcu_read_unlock();
		return;
	}
	obq_rcu_read_unlock();
	/* pinned: g cannot be freed, and its owner never writes a published object */
	unsigned long a = OBQ_PEEK(g, a), b = OBQ_PEEK(g, b);
	judge(t, a0, a, b, "ref");
	put(t, g);
}

static void op_read_lock(obq_h_t *t, const uint8_t *arg)
{
	unsigned long a0 = 0;
	obq_rcu_read_lock();
	struct gen *g = load(t, arg[0] % NSLOTS, &a0);
	if (g) {
		obq_spin_lock_oblique(&g->lock);
		unsigned long a = OBQ_PEEK(g, a);
		obq_h_point(t);
		unsigned long b = OBQ_PEEK(g, b);
		obq_spin_unlock(&g->lock);
		judge(t, a0, a, b, "lock");
	}
	obq_rcu_read_unlock();
}

/* read_seqcount_retry.  Mutant: __read_seqcount_retry, the kernel's variant without the
 * smp_rmb (for callers that order their reads themselves): the count is re-read
 * relaxed, not ordered after the section's data reads. */
static int seq_retry(const obq_seqcount_t *s, unsigned start)
{
	if (OBQ_MUTANT(seqlock_retry_no_rmb))
		return atomic_load_explicit(&s->seq, memory_order_relaxed) != start;
	return obq_read_seqcount_retry(s, start);
}

static void op_read_seq(obq_h_t *t, const uint8_t *arg)
{
	unsigned long a0 = 0, a, b;
	obq_rcu_read_lock();
	struct gen *g = load(t, arg[0] % NSLOTS, &a0);
	if (OBQ_MUTANT(seqlock_ptr_past_unlock)) /* mutant: the section ends, the pointer is kept */
		obq_rcu_read_unlock();
	if (g) {
		unsigned start;
		for (;;) {
			start = obq_read_seqcount_begin(&g->seq);
			a = OBQ_PEEK(g, a);
			b = OBQ_PEEK(g, b);
			if (!seq_retry(&g->seq, start))
				break;
			obq_h_retry(t);
		}
		judge(t, a0, a, b, "seqcount");
	}
	if (!OBQ_MUTANT(seqlock_ptr_past_unlock))
		obq_rcu_read_unlock();
}

/* A reader that keeps the pointer in a register across operations, and revalidates
 * it by ref next time (stale pointers are the point). */
static void op_stash(obq_h_t *t, const uint8_t *arg)
{
	unsigned long a0 = 0;
	obq_rcu_read_lock();
	t->reg[0] = load(t, arg[0] % NSLOTS, &a0);
	t->val[0] = a0;
	obq_rcu_read_unlock();
}

static void op_use_stash(obq_h_t *t, const uint8_t *arg)
{
	(void)arg;
	struct gen *g = t->reg[0];
	if (!g)
		return;
	obq_rcu_read_lock();
	/* The stashed pointer may be free or recycled; a type-stable object stays a gen,
	 * but only while its slab lives: the correct reader re-loads from the slot. */
	struct st *s = t->state;
	int found = 0;
	for (unsigned i = 0; i < NSLOTS; i++)
		if (obq_rcu_dereference(s->slot[i]) == g)
			found = 1;
	if (found && obq_h_pin(t, obq_ref_get_not_zero(&g->ref))) {
		obq_rcu_read_unlock();
		unsigned long a = OBQ_PEEK(g, a), b = OBQ_PEEK(g, b);
		judge(t, t->val[0], a, b, "ref (stashed)");
		put(t, g);
		return;
	}
	obq_rcu_read_unlock();
}

static void teardown(obq_h_t *t)
{
	for (unsigned i = 0; i < NSLOTS; i++) {
		uint8_t a = (uint8_t)i;
		op_del(t, &a);
	}
}

static const struct obq_h_op ops[] = {
	{"new", 1, op_new},           {"del", 1, op_del},
	{"read_ref", 1, op_read_ref}, {"read_lock", 1, op_read_lock},
	{"read_seq", 1, op_read_seq}, {"stash", 1, op_stash},
	{"use_stash", 0, op_use_stash},
};

OBQ_H_TARGET_OPS("seqlock", ops, struct st, .setup = setup, .teardown = teardown)
