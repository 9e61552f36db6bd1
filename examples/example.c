/* example.c — the README's worked example: a fuzz target for your own type-stable
 * protocol in one file, using only public headers (oblique/oblique.h,
 * oblique/harness.h).  An object with a refcount and a key lives in a typesafe cache;
 * `insert` publishes it in a slot, `remove` unpublishes and drops the slot's
 * reference, `lookup` pins with inc-not-zero and re-checks the key.  The harness
 * decodes each fuzz input into a 1..4-thread program of these operations and a
 * schedule; the checker and the oracle below judge every run. */
#include <oblique/oblique.h>
#include <oblique/harness.h>

struct obj {
	obq_refcount_t ref;      /* guard: 0 while free, set last on insert */
	obq_spinlock_t lock;     /* guard: ctor-initialised (unused here) */
	uint64_t key;            /* guard: slot << 32 | serial */
};
struct st {
	obq_h_cache_t *c;        /* the typesafe cache, behind the allocator adapter */
	struct obj *slot[4];     /* published pointers: __atomic / obq_rcu_* only */
	uint64_t next;           /* serial numbers (deterministic mode: one thread runs at a time) */
};

static void ctor(void *p)       /* once per slot, when its slab is made */
{
	struct obj *o = p;
	obq_ref_init(&o->ref);
	obq_spin_lock_init(&o->lock);
	o->key = 0;
}

static void setup(obq_h_t *t)
{
	struct st *s = t->state;
	s->c = OBQ_H_CACHE_SETUP(t, "obj", struct obj, OBQ_TYPESAFE_BY_RCU, ctor,
				 OBQ_H_GUARD_FIELD(OBQ_GUARD_REFCOUNT, struct obj, ref),
				 OBQ_H_GUARD_FIELD(OBQ_GUARD_KEY, struct obj, key));
}

static void op_insert(obq_h_t *t, const uint8_t *a)    /* insert <slot> */
{
	struct st *s = t->state;
	unsigned i = a[0] % 4;
	if (obq_rcu_dereference(s->slot[i]))
		return;                                        /* occupied */
	struct obj *o = obq_h_alloc(t, s->c);
	OBQ_STORE(o, key, (uint64_t)i << 32 | ++s->next); /* key before ... */
	obq_ref_set_release(&o->ref, 1);                      /* ... the ref goes non-zero */
	obq_rcu_assign_pointer(s->slot[i], o);
}

static void op_remove(obq_h_t *t, const uint8_t *a)    /* remove <slot> */
{
	struct st *s = t->state;
	unsigned i = a[0] % 4;
	struct obj *o = __atomic_exchange_n(&s->slot[i], NULL, __ATOMIC_ACQ_REL);
	if (o && obq_ref_put(&o->ref))
		obq_h_free(t, s->c, o);
}

static void op_lookup(obq_h_t *t, const uint8_t *a)    /* lookup <slot> */
{
	struct st *s = t->state;
	unsigned i = a[0] % 4;
	obq_rcu_read_lock();
	struct obj *o = obq_rcu_dereference(s->slot[i]);
	uint64_t k = o ? OBQ_PEEK(o, key) : 0;               /* may be stale: legal */
	int pinned = o && obq_ref_get_not_zero(&o->ref);
	obq_rcu_read_unlock();
	if (!obq_h_pin(t, pinned))                            /* outcome -> hash, event */
		return;
	if (OBQ_PEEK(o, key) != k)                            /* recycled before the pin */
		obq_h_event(t, OBQ_EV_RECYCLED);
	else
		obq_h_check(t, (k >> 32) == i, "key %llx in slot %u", (unsigned long long)k, i);
	if (obq_ref_put(&o->ref))
		obq_h_free(t, s->c, o);
}

static void teardown(obq_h_t *t)
{
	for (unsigned i = 0; i < 4; i++) {
		uint8_t a = (uint8_t)i;
		op_remove(t, &a);
	}
}

static const struct obq_h_op ops[] = {
	{"insert", 1, op_insert},
	{"remove", 1, op_remove},
	{"lookup", 1, op_lookup},
};
OBQ_H_TARGET_OPS("example", ops, struct st, .setup = setup, .teardown = teardown)
