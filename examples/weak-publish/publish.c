/* publish.c — RCU publication of a configuration object, the canonical pattern the
 * weak-memory build (<name>-weak, docs/weak-memory.md in oblique) checks: an updater
 * initialises a new object with plain stores and publishes it with
 * obq_rcu_assign_pointer (release); readers load it with obq_rcu_dereference (acquire)
 * inside a read-side section and read its fields with plain loads.
 *
 * ONE planted bug, compiled in with -DPLANTED_RELAXED_PUBLISH: the pointer is published
 * with a relaxed store.  On x86, in the deterministic harness (sequentially
 * consistent) and in stress mode it runs correctly; in the weak-memory build a reader
 * that loads the new pointer is not ordered after the initialisation, so its plain
 * reads race with the updater's plain stores (a `data-race` report naming both) and may
 * read the constructor's values (`oracle`).  witness/relaxed_publish.trace is an input
 * that shows it; the clean build is silent on it and on the seeds.
 *
 * Objects are never freed during a run (a run publishes at most NCFG of them; teardown
 * frees them), so the only question a reader's access can raise is ordering. */
#include <oblique/oblique.h>
#include <oblique/harness.h>

#define NCFG 8

struct cfg {
	unsigned long a;     /* the data: b == 3a + 1 in every published object */
	unsigned long b;
};
struct st {
	obq_h_cache_t *c;
	struct cfg *cur;         /* the published object: obq_rcu_* only */
	struct cfg *all[NCFG];   /* every object made in this run, for teardown */
	unsigned n;              /* how many: __atomic, any thread may update */
};

static void ctor(void *p)    /* once per slot: b != 3a + 1 until initialised */
{
	struct cfg *c = p;
	c->a = 0;
	c->b = 0;
}

static void setup(obq_h_t *t)
{
	struct st *s = t->state;
	s->c = obq_h_cache_setup(t, "cfg", sizeof(struct cfg), 0, ctor, NULL, 0);
}

static void op_update(obq_h_t *t, const uint8_t *arg)    /* update <value> */
{
	struct st *s = t->state;
	/* Relaxed: only claims a slot of all[]; nothing is published through it. */
	unsigned k = __atomic_fetch_add(&s->n, 1, __ATOMIC_RELAXED);
	if (k >= NCFG)
		return;
	struct cfg *c = obq_h_alloc(t, s->c);
	c->a = arg[0];
	c->b = 3ul * arg[0] + 1;
	__atomic_store_n(&s->all[k], c, __ATOMIC_RELAXED); /* teardown's list only */
#ifdef PLANTED_RELAXED_PUBLISH
	__atomic_store_n(&s->cur, c, __ATOMIC_RELAXED);     /* PLANTED BUG: needs release */
#else
	obq_rcu_assign_pointer(s->cur, c); /* release: a and b before the pointer */
#endif
}

static void op_read(obq_h_t *t, const uint8_t *arg)      /* read */
{
	struct st *s = t->state;
	(void)arg;
	obq_rcu_read_lock();
	struct cfg *c = obq_rcu_dereference(s->cur); /* acquire: pairs with the publish */
	if (c) {
		unsigned long a = c->a, b = c->b;
		obq_h_check(t, b == 3 * a + 1, "read a=%lu b=%lu", a, b);
	}
	obq_rcu_read_unlock();
}

static void teardown(obq_h_t *t)
{
	struct st *s = t->state;
	unsigned n = s->n < NCFG ? s->n : NCFG;
	for (unsigned k = 0; k < n; k++)
		obq_h_free(t, s->c, s->all[k]);
}

static const struct obq_h_op ops[] = {
	{"update", 1, op_update},
	{"read", 0, op_read},
};
OBQ_H_TARGET_OPS("publish", ops, struct st, .setup = setup, .teardown = teardown)
