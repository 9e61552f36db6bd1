/* kernel_nulls.c — fuzz target written in kernel style against oblique/linux.h: the
 * rculist_nulls lookup / insert / remove of Documentation/RCU/rculist_nulls.rst
 * (SLAB_TYPESAFE_BY_RCU objects on hlist_nulls chains, as nf_conntrack and the TCP
 * established hash use them).
 *
 * Model.  NR_CHAINS hlist_nulls chains; chain i ends in the nulls value i.  NR_KEYS
 * keys; key k always hashes to chain k % NR_CHAINS, at most one object per key.  An
 * object comes from a SLAB_TYPESAFE_BY_RCU cache: removed and freed, it can be
 * reallocated AT ONCE for another key and inserted at the head of another chain while
 * a reader still stands on it — that reader then walks on into the other chain and
 * ends on the other chain's nulls value.  Updaters hold the chain's spinlock; the
 * chain holds one reference per hashed object, pinning readers hold more, the last
 * put frees.
 *   insert <k>        alloc; key first, then refcount_set_release(1) ("key before
 *                     refcnt"), then hlist_nulls_add_head_rcu under the chain lock
 *   remove <k>        hlist_nulls_del_rcu under the chain lock, then put
 *   lookup <k> <n>    the protocol under test (n extra scheduling points per node),
 *                     put at once
 *   hold <k>          lookup and keep the reference across operations (one per
 *                     thread) — the key must not change while it is held
 *   release           drop the held reference (may be the last: frees)
 * Lookup (rculist_nulls.rst):
 *	begin: rcu_read_lock()
 *	  hlist_nulls_for_each_entry_rcu(obj, node, &chain[slot], obj_node)
 *	    if READ_ONCE(obj->key) == key:
 *	      if !refcount_inc_not_zero(&obj->refcnt): rcu_read_unlock(); goto begin
 *	      if READ_ONCE(obj->key) != key: put(obj); rcu_read_unlock(); goto begin
 *	      rcu_read_unlock(); return obj
 *	  if get_nulls_value(node) != slot: rcu_read_unlock(); goto begin
 *	rcu_read_unlock(); return NULL
 *
 * Oracles: a lookup never returns an object whose key is not the one looked up; a
 * held object keeps its key; a key that was hashed when a lookup began and was not
 * removed before it ended (per-key removal epochs) is found; the refcount is 0 at
 * free (checker, declared guard).
 *
 * Kernel style: the protocol uses only oblique/linux.h names (kmem_cache flags,
 * refcount_t, spinlock_t, READ_ONCE / WRITE_ONCE, rcu_*, hlist_nulls_*), plus the
 * harness API (oblique/harness.h) for the operation table, events and oracles.
 * Allocation and free go through obq_h_alloc / obq_h_free instead of
 * kmem_cache_alloc / kmem_cache_free (obj_alloc / obj_free below), so that the
 * harness's allocator adapter — the malloc control above all — can sit behind the
 * cache: linux.h's kmem_cache_* call oblique's cache directly.  The removal-epoch
 * bookkeeping of the oracle is C11 atomics (test machinery, not protocol). */
#include <oblique/linux.h>
#include <oblique/harness.h>

#define NR_CHAINS 3
#define NR_KEYS 6
#define MAXT 16 /* stress mode runs up to 16 threads */

struct obj {
	refcount_t refcnt;                  /* chain + pins; 0 while free (guard) */
	unsigned int key;                   /* identity: stale readers compare it (guard) */
	struct hlist_nulls_node obj_node;   /* next survives free -> alloc (guard) */
};

struct table {
	obq_h_cache_t *cachep;                      /* SLAB_TYPESAFE_BY_RCU */
	struct hlist_nulls_head chain[NR_CHAINS];   /* chain i ends in nulls value i */
	spinlock_t lock[NR_CHAINS];                 /* updaters of chain i */
	unsigned int hashed[NR_KEYS];               /* oracle: 1 while key k is on its chain */
	unsigned long epoch[NR_KEYS];               /* oracle: odd while k is being removed */
	struct obj *held[MAXT];                     /* hold / release, per thread */
	unsigned int held_key[MAXT];
};

static void obj_ctor(void *p)
{
	struct obj *obj = p;

	refcount_set(&obj->refcnt, 0);
	obj->key = ~0u;
	obj->obj_node.next = (struct hlist_nulls_node *)NULLS_MARKER(NR_CHAINS);
	obj->obj_node.pprev = NULL;
}

/* kmem_cache_alloc / kmem_cache_free through the harness's allocator adapter. */
static struct obj *obj_alloc(obq_h_t *t)
{
	struct table *tbl = t->state;

	return obq_h_alloc(t, tbl->cachep);
}

static void obj_free(obq_h_t *t, struct obj *obj)
{
	struct table *tbl = t->state;

	obq_h_free(t, tbl->cachep, obj);
}

static void obj_put(obq_h_t *t, struct obj *obj)
{
	if (refcount_dec_and_test(&obj->refcnt))
		obj_free(t, obj);
}

static unsigned int key_slot(unsigned int key)
{
	return key % NR_CHAINS;
}

static void setup(obq_h_t *t)
{
	struct table *tbl = t->state;

	for (unsigned int i = 0; i < NR_CHAINS; i++) {
		INIT_HLIST_NULLS_HEAD(&tbl->chain[i], i);
		spin_lock_init(&tbl->lock[i]);
	}
	tbl->cachep = OBQ_H_CACHE_SETUP(
		t, "kernel_nulls_obj", struct obj, SLAB_TYPESAFE_BY_RCU, obj_ctor,
		OBQ_H_GUARD_FIELD(OBQ_GUARD_REFCOUNT, struct obj, refcnt),
		OBQ_H_GUARD_FIELD(OBQ_GUARD_KEY, struct obj, key),
		OBQ_H_GUARD_FIELD(OBQ_GUARD_LINK, struct obj, obj_node.next));
}

/* Under the chain lock: key's object, or NULL. */
static struct obj *find_locked(struct table *tbl, unsigned int key)
{
	struct hlist_nulls_node *node;
	struct obj *obj;

	hlist_nulls_for_each_entry(obj, node, &tbl->chain[key_slot(key)], obj_node)
		if (READ_ONCE(obj->key) == key)
			return obj;
	return NULL;
}

static void op_insert(obq_h_t *t, const uint8_t *arg)
{
	struct table *tbl = t->state;
	unsigned int key = arg[0] % NR_KEYS, slot = key_slot(key);
	struct obj *obj;

	spin_lock(&tbl->lock[slot]);
	if (!find_locked(tbl, key) && (obj = obj_alloc(t)) != NULL) {
		WRITE_ONCE(obj->key, key);
		refcount_set_release(&obj->refcnt, 1); /* key before refcnt */
		hlist_nulls_add_head_rcu(&obj->obj_node, &tbl->chain[slot]);
		/* Seq_cst (oracle): after the add, a lookup that reads 1 must find it. */
		__atomic_store_n(&tbl->hashed[key], 1, __ATOMIC_SEQ_CST);
	}
	spin_unlock(&tbl->lock[slot]);
}

static void op_remove(obq_h_t *t, const uint8_t *arg)
{
	struct table *tbl = t->state;
	unsigned int key = arg[0] % NR_KEYS, slot = key_slot(key);
	struct obj *obj;

	spin_lock(&tbl->lock[slot]);
	obj = find_locked(tbl, key);
	if (obj) {
		/* Seq_cst (oracle): odd before the unlink, ordered with the lookups' reads. */
		__atomic_fetch_add(&tbl->epoch[key], 1, __ATOMIC_SEQ_CST);
		__atomic_store_n(&tbl->hashed[key], 0, __ATOMIC_SEQ_CST);
		/* Release (oracle): the odd epoch before the unlinking link store, paired with
		 * the lookup's acquire fence — a lookup that missed k sees the epoch move. */
		__atomic_thread_fence(__ATOMIC_RELEASE);
		hlist_nulls_del_rcu(&obj->obj_node);
		__atomic_fetch_add(&tbl->epoch[key], 1, __ATOMIC_SEQ_CST);
	}
	spin_unlock(&tbl->lock[slot]);
	if (obj)
		obj_put(t, obj); /* the chain's reference: frees unless a reader holds one */
}

/* The lockless lookup: key's object with a reference taken, or NULL. */
static struct obj *lookup(obq_h_t *t, unsigned int key, unsigned int extra)
{
	struct table *tbl = t->state;
	unsigned int slot = key_slot(key);
	struct hlist_nulls_node *node;
	struct obj *obj;

begin:
	rcu_read_lock();
	hlist_nulls_for_each_entry_rcu(obj, node, &tbl->chain[slot], obj_node) {
		for (unsigned int i = 0; i < extra; i++)
			obq_h_point(t);
		if (READ_ONCE(obj->key) != key)
			continue;
		if (!obq_h_pin(t, refcount_inc_not_zero(&obj->refcnt))) {
			rcu_read_unlock(); /* being freed, or free */
			obq_h_retry(t);
			goto begin;
		}
		if (unlikely(READ_ONCE(obj->key) != key)) {
			obq_h_event(t, OBQ_EV_RECYCLED); /* freed and reused for another key */
			obj_put(t, obj);
			rcu_read_unlock();
			obq_h_retry(t);
			goto begin;
		}
		rcu_read_unlock();
		return obj;
	}
	if (get_nulls_value(node) != slot) {
		obq_h_event(t, OBQ_EV_STALE_READ); /* walked into another chain */
		rcu_read_unlock();
		obq_h_retry(t);
		goto begin;
	}
	rcu_read_unlock();
	return NULL;
}

/* lookup() with the oracles on what it returns. */
static struct obj *checked_lookup(obq_h_t *t, unsigned int key, unsigned int extra)
{
	struct table *tbl = t->state;
	/* Seq_cst (oracle): the epoch, then whether k is hashed (remove: odd first). */
	unsigned long e0 = __atomic_load_n(&tbl->epoch[key], __ATOMIC_SEQ_CST);
	unsigned int was_hashed = __atomic_load_n(&tbl->hashed[key], __ATOMIC_SEQ_CST);
	struct obj *obj = lookup(t, key, extra);
	/* Acquire (oracle): the walk's link reads before the epoch re-read. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	unsigned long e1 = __atomic_load_n(&tbl->epoch[key], __ATOMIC_SEQ_CST);

	obq_h_check(t, obj || !was_hashed || (e0 & 1) || e0 != e1,
		    "key %u was hashed when the lookup began and not removed since "
		    "(epoch %lu), yet the lookup did not find it", key, e0);
	if (obj) {
		unsigned int k = READ_ONCE(obj->key);
		obq_h_check(t, k == key, "lookup of key %u returned the object of key %u",
			    key, k);
	}
	obq_h_observe(t, obj != NULL);
	return obj;
}

static void op_lookup(obq_h_t *t, const uint8_t *arg)
{
	unsigned int key = arg[0] % NR_KEYS;
	struct obj *obj = checked_lookup(t, key, arg[1] % 3);

	if (obj)
		obj_put(t, obj);
}

static void op_hold(obq_h_t *t, const uint8_t *arg)
{
	struct table *tbl = t->state;
	unsigned int me = t->tid % MAXT, key = arg[0] % NR_KEYS;
	struct obj *obj;

	if (tbl->held[me])
		return;
	obj = checked_lookup(t, key, 0);
	if (!obj)
		return;
	tbl->held[me] = obj;
	tbl->held_key[me] = key;
}

static void op_release(obq_h_t *t, const uint8_t *arg)
{
	struct table *tbl = t->state;
	unsigned int me = t->tid % MAXT;
	struct obj *obj = tbl->held[me];

	(void)arg;
	if (!obj)
		return;
	tbl->held[me] = NULL;
	unsigned int k = READ_ONCE(obj->key);
	obq_h_check(t, k == tbl->held_key[me],
		    "held object of key %u changed to key %u while referenced",
		    tbl->held_key[me], k);
	obj_put(t, obj); /* removed meanwhile: the last reference, frees */
}

static void teardown(obq_h_t *t)
{
	struct table *tbl = t->state;

	for (unsigned int me = 0; me < MAXT; me++)
		if (tbl->held[me]) {
			obj_put(t, tbl->held[me]);
			tbl->held[me] = NULL;
		}
	for (unsigned int k = 0; k < NR_KEYS; k++) {
		uint8_t a = (uint8_t)k;
		op_remove(t, &a);
	}
}

static const struct obq_h_op ops[] = {
	{"insert", 1, op_insert}, {"remove", 1, op_remove}, {"lookup", 2, op_lookup},
	{"hold", 1, op_hold},     {"release", 0, op_release},
};

OBQ_H_TARGET_OPS("kernel_nulls", ops, struct table, .setup = setup, .teardown = teardown)
