/* nulls_lookup.c — fuzz target: an rculist_nulls hash table over a typesafe cache
 * (Documentation/RCU/rculist_nulls.rst; TCP __inet_lookup_established, nf_conntrack
 * ____nf_conntrack_find).
 *
 * Model.  NCHAIN chains, each a singly linked list ending in a "nulls" marker that
 * encodes the chain's index ((index << 1) | 1: an odd value is never a pointer).
 * NKEY keys; key k lives in chain bucket[k] (initially k % NCHAIN), at most one object
 * per key.  Writers hold the chain lock(s); the table holds one reference per hashed
 * object, readers that pin hold more, the last put frees (reusable at once).
 *   insert <k>          alloc; key and link first, then set_release(ref, 1), then add
 *                       at the HEAD of chain bucket[k]
 *   remove <k>          unlink under the chain lock, put
 *   move <k> <c>        re-hash: unlink k's object from its chain, add it at the head
 *                       of chain c (another one) — a reader standing on it walks on
 *                       into chain c: the case that needs the nulls check
 *   lookup <k> <n>      the protocol under test (n extra scheduling points per node)
 *   get <k> / put_held  keep a looked-up object pinned across operations
 * Lookup (rculist_nulls.rst, the correct form):
 *	begin: rcu_read_lock; slot = bucket[k]
 *	  for obj in chain[slot]:
 *	    if obj->key == k:
 *	      if !inc_not_zero(obj->ref): rcu_read_unlock; goto begin
 *	      if obj->key != k: put(obj); rcu_read_unlock; goto begin   // recycled
 *	      found
 *	  if nulls_value(end) != slot: rcu_read_unlock; goto begin       // another chain
 *
 * Events (guidance): user0 / user1 — a lookup whose key matched on an object that was
 * freed and handed out again since the lookup reached it, and whose pin then failed /
 * held.  The pin-held case is one writer step from a refcount published before the
 * key (nulls_ref_before_key): it gives the fuzzer that interleaving's neighbourhood.
 *
 * Oracles: a key that was present when a lookup began and was neither removed nor
 * moved before it ended (per-key deletion epochs) is always found; a lookup never
 * returns an object whose key differs, and a found object keeps its key and
 * incarnation while pinned; the refcount is 0 at free (checker, declared guard). */
#include <oblique/oblique.h>
#include <oblique/harness.h>
#include "mutant.h" /* seeded bugs: docs/mutants.md (no-ops outside the mutants build) */

#define NCHAIN 3
#define NKEY 6
#define MAXT 16 /* stress mode runs up to 16 threads */

#define NULLS(slot) ((uintptr_t)(slot) << 1 | 1u)
#define IS_NULLS(v) (((uintptr_t)(v)) & 1u)
#define NULLS_VALUE(v) ((uintptr_t)(v) >> 1)

struct nobj {
	obq_refcount_t ref;          /* table + pins; 0 while free (guard) */
	unsigned long key;           /* the key (guard: stale readers compare it) */
	uintptr_t next;              /* next object, or a nulls marker (guard: stale readers follow it) */
	unsigned long gen;           /* incarnation number, set at insert */
};

struct st {
	obq_h_cache_t *c;                    /* the object cache (typesafe) */
	_Atomic uintptr_t head[NCHAIN];      /* chain heads: object pointer or nulls */
	obq_spinlock_t lock[NCHAIN];         /* chain locks (writers) */
	_Atomic unsigned bucket[NKEY];       /* chain of key k (changed by move, under both locks) */
	_Atomic unsigned present[NKEY];      /* 1 while key k is hashed (under its chain lock) */
	_Atomic unsigned long del_epoch[NKEY]; /* removals / moves of key k so far */
	_Atomic unsigned long next_gen;      /* generation allocator */
	struct nobj *held[MAXT];             /* an object pinned across operations, per thread */
	unsigned long held_key[MAXT];        /* its key */
	obq_token_t held_tok[MAXT];          /* its incarnation at pin */
};

static void ctor(void *p)
{
	struct nobj *o = p;
	obq_ref_init(&o->ref);
	o->key = ~0ul;
	o->next = NULLS(0);
	o->gen = 0;
}

static void setup(obq_h_t *t)
{
	struct st *s = t->state;
	for (unsigned c = 0; c < NCHAIN; c++) {
		atomic_store_explicit(&s->head[c], NULLS(c), memory_order_relaxed);
		obq_spin_lock_init(&s->lock[c]);
	}
	for (unsigned k = 0; k < NKEY; k++)
		atomic_store_explicit(&s->bucket[k], k % NCHAIN, memory_order_relaxed);
	s->c = OBQ_H_CACHE_SETUP(t, "nulls_obj", struct nobj, OBQ_TYPESAFE_BY_RCU, ctor,
				 OBQ_H_GUARD_FIELD(OBQ_GUARD_REFCOUNT, struct nobj, ref),
				 OBQ_H_GUARD_FIELD(OBQ_GUARD_KEY, struct nobj, key),
				 OBQ_H_GUARD_FIELD(OBQ_GUARD_LINK, struct nobj, next));
}

static void put(obq_h_t *t, struct nobj *o)
{
	struct st *s = t->state;
	if (obq_ref_put(&o->ref))
		obq_h_free(t, s->c, o);
}

/* Follow a link read from a node (hlist_nulls_next_rcu): OBQ_PEEK, then an acquire
 * fence so the next node's fields are read after its publication (the writers store
 * links after a release fence, or with rcu_assign_pointer). */
static uintptr_t next_of(struct nobj *o)
{
	uintptr_t v = OBQ_PEEK(o, next);
	/* Acquire: pairs with the writer's release before the link store (rcu_dereference). */
	atomic_thread_fence(memory_order_acquire);
	return v;
}

/* Lock chain c of key k with bucket[k] == c re-checked under the lock; returns c. */
static unsigned lock_key_chain(struct st *s, unsigned k)
{
	for (;;) {
		/* Relaxed: re-checked under the lock (move changes it under both locks). */
		unsigned c = atomic_load_explicit(&s->bucket[k], memory_order_relaxed);
		obq_spin_lock(&s->lock[c]);
		if (atomic_load_explicit(&s->bucket[k], memory_order_relaxed) == c)
			return c;
		obq_spin_unlock(&s->lock[c]);
	}
}

/* Under chain c's lock: key k's object (NULL: absent) and its predecessor in the
 * chain (*prev; NULL when it is the head). */
static struct nobj *find_locked(struct st *s, unsigned c, unsigned k, struct nobj **prev)
{
	/* Relaxed: we hold the chain lock; the chain does not change under us. */
	uintptr_t v = atomic_load_explicit(&s->head[c], memory_order_relaxed);
	*prev = NULL;
	while (!IS_NULLS(v)) {
		struct nobj *o = (struct nobj *)v;
		if (OBQ_PEEK(o, key) == k)
			return o;
		*prev = o;
		v = OBQ_PEEK(o, next);
	}
	return NULL;
}

/* Under the lock(s): make chain c's head (prev == NULL) or prev's link point at v. */
static void set_link(struct st *s, unsigned c, struct nobj *prev, uintptr_t v)
{
	if (!prev) {
		/* Release: the linked node's initialisation before a reader's load. */
		atomic_store_explicit(&s->head[c], v, OBQ_MUTANT(nulls_head_relaxed)
				      ? memory_order_relaxed /* mutant: publish without release */
				      : memory_order_release);
		return;
	}
	/* Release (fence, then the relaxed OBQ_STORE): pairs with next_of's acquire fence. */
	atomic_thread_fence(memory_order_release);
	OBQ_STORE(prev, next, v);
}

/* Deletion epochs: odd while a remove or move of the key is in progress. */
static void epoch_bump(struct st *s, unsigned k)
{
	/* Seq_cst: totally ordered with the lookups' epoch and presence reads. */
	atomic_fetch_add(&s->del_epoch[k], 1);
}

static void op_insert(obq_h_t *t, const uint8_t *arg)
{
	struct st *s = t->state;
	unsigned k = arg[0] % NKEY;
	unsigned c = lock_key_chain(s, k);
	struct nobj *prev;
	if (find_locked(s, c, k, &prev) == NULL) {
		struct nobj *o = obq_h_alloc(t, s->c);
		if (o) {
			/* Relaxed: a unique number, published with the object. */
			unsigned long g = atomic_fetch_add_explicit(&s->next_gen, 1,
								    memory_order_relaxed) + 1;
			/* key first, then the link; a stale reader standing on o walks on
			 * into chain c and ends at c's nulls */
			if (OBQ_MUTANT(nulls_ref_before_key)) /* mutant: acquirable before the key */
				obq_ref_set_release(&o->ref, 1);
			OBQ_STORE(o, key, (unsigned long)k);
			OBQ_STORE(o, gen, g);
			/* Relaxed: under the chain lock. */
			/* Release (fence): a stale reader standing on o's previous incarnation
			 * follows this link without reading the head that publishes o, so what
			 * this writer saw of the chain must be visible to it (see move). */
			atomic_thread_fence(memory_order_release);
			OBQ_STORE(o, next, atomic_load_explicit(&s->head[c], memory_order_relaxed));
			if (OBQ_MUTANT(nulls_ref_set_plain)) /* mutant: plain store, no release */
				*(volatile unsigned *)&o->ref.count = 1;
			else if (!OBQ_MUTANT(nulls_ref_before_key))
				obq_ref_set_release(&o->ref, 1); /* acquirable after key and link */
			set_link(s, c, NULL, (uintptr_t)o);
			/* Seq_cst: after the link, lookups that see it must find the key. */
			atomic_store(&s->present[k], 1);
		}
	}
	obq_spin_unlock(&s->lock[c]);
}

static void op_remove(obq_h_t *t, const uint8_t *arg)
{
	struct st *s = t->state;
	unsigned k = arg[0] % NKEY;
	unsigned c = lock_key_chain(s, k);
	struct nobj *prev, *o = find_locked(s, c, k, &prev);
	if (o) {
		epoch_bump(s, k); /* odd: removal in progress */
		/* Seq_cst: ordered with the lookups' presence reads. */
		atomic_store(&s->present[k], 0);
		set_link(s, c, prev, OBQ_PEEK(o, next));
		epoch_bump(s, k); /* even: done */
	}
	obq_spin_unlock(&s->lock[c]);
	if (o && OBQ_MUTANT(nulls_free_with_ref)) /* mutant: frees without dropping to zero */
		obq_h_free(t, s->c, o);
	else if (o)
		put(t, o); /* the table's reference; the last put frees */
}

static void op_move(obq_h_t *t, const uint8_t *arg)
{
	struct st *s = t->state;
	unsigned k = arg[0] % NKEY;
	for (;;) {
		/* Relaxed: re-checked under both locks. */
		unsigned c = atomic_load_explicit(&s->bucket[k], memory_order_relaxed);
		unsigned d = arg[1] % NCHAIN;
		if (d == c)
			d = (c + 1) % NCHAIN;
		unsigned lo = c < d ? c : d, hi = c < d ? d : c;
		obq_spin_lock(&s->lock[lo]);
		obq_spin_lock(&s->lock[hi]);
		if (atomic_load_explicit(&s->bucket[k], memory_order_relaxed) != c) {
			obq_spin_unlock(&s->lock[hi]);
			obq_spin_unlock(&s->lock[lo]);
			continue;
		}
		struct nobj *prev, *o = find_locked(s, c, k, &prev);
		epoch_bump(s, k); /* odd: a move may hide k from a lookup */
		if (o) {
			set_link(s, c, prev, OBQ_PEEK(o, next));
			obq_h_point(t); /* o is unlinked; readers standing on it go on in c */
			/* Relaxed: under d's lock. */
			/* Release (fence): a reader standing on o follows this link into chain
			 * d without reading d's head, so the objects of d this writer saw (their
			 * keys and links) must be visible to it.  Linux's hlist_nulls_add_head_rcu
			 * uses WRITE_ONCE here and relies on address dependencies; in C11 terms
			 * it takes a release (the weak-memory build reads d's objects stale
			 * without it: docs/weak-memory.md). */
			atomic_thread_fence(memory_order_release);
			OBQ_STORE(o, next, atomic_load_explicit(&s->head[d], memory_order_relaxed));
			set_link(s, d, NULL, (uintptr_t)o);
		}
		/* Seq_cst: before the closing epoch bump a lookup synchronises with. */
		atomic_store(&s->bucket[k], d);
		epoch_bump(s, k); /* even: done */
		obq_spin_unlock(&s->lock[hi]);
		obq_spin_unlock(&s->lock[lo]);
		return;
	}
}

/* The lookup: k's object with a reference, or NULL.  `extra` points per node. */
static struct nobj *lookup(obq_h_t *t, unsigned k, unsigned extra)
{
	struct st *s = t->state;
begin:
	obq_rcu_read_lock();
	/* Relaxed: a hint; the nulls check catches a walk that ends in another chain. */
	unsigned slot = atomic_load_explicit(&s->bucket[k], memory_order_relaxed);
	uintptr_t v = atomic_load_explicit(&s->head[slot], memory_order_acquire);
	while (!IS_NULLS(v)) {
		struct nobj *o = (struct nobj *)v;
		/* Guidance, not protocol: the incarnation o had when this reader reached it */
		uint64_t inc = obq_h_incarnation(s->c, o);
		for (unsigned i = 0; i < extra; i++)
			obq_h_point(t);
		if (OBQ_PEEK(o, key) == k) {
			int pinned = obq_ref_get_not_zero(&o->ref);
			if (obq_h_incarnation(s->c, o) != inc) /* freed and handed out again since */
				obq_h_event(t, pinned ? OBQ_EV_USER1 : OBQ_EV_USER0);
			if (!obq_h_pin(t, pinned)) {
				obq_rcu_read_unlock();
				obq_h_retry(t);
				goto begin;
			}
			if (!OBQ_MUTANT(nulls_check_before_pin) && OBQ_PEEK(o, key) != k) {
				obq_h_event(t, OBQ_EV_RECYCLED);
				put(t, o);
				obq_rcu_read_unlock();
				obq_h_retry(t);
				goto begin;
			}
			obq_rcu_read_unlock();
			return o;
		}
		v = next_of(o);
	}
	if (!OBQ_MUTANT(nulls_no_nulls_check) && NULLS_VALUE(v) != slot) {
		obq_h_event(t, OBQ_EV_STALE_READ); /* walked into another chain */
		obq_rcu_read_unlock();
		obq_h_retry(t);
		goto begin;
	}
	obq_rcu_read_unlock();
	return NULL;
}

/* Lookup k with the never-deleted-is-found oracle; returns the pinned object. */
static struct nobj *checked_lookup(obq_h_t *t, unsigned k, unsigned extra)
{
	struct st *s = t->state;
	/* Seq_cst: the epoch, then presence (writers: odd epoch before they unlink). */
	unsigned long e0 = atomic_load(&s->del_epoch[k]);
	unsigned p0 = atomic_load(&s->present[k]);
	struct nobj *o = lookup(t, k, extra);
	/* Acquire: the lookup's relaxed link reads happen before the epoch re-read. */
	atomic_thread_fence(memory_order_acquire);
	/* Seq_cst: a removal or move that hid the key bumped the epoch before it. */
	unsigned long e1 = atomic_load(&s->del_epoch[k]);
	obq_h_check(t, o || !p0 || (e0 & 1) || e0 != e1,
		    "key %u was present when the lookup began and was never removed or moved "
		    "(epoch %lu), yet the lookup did not find it", k, e0);
	if (o) {
		unsigned long key = OBQ_PEEK(o, key);
		obq_h_check(t, key == k, "lookup of key %u returned an object with key %lu", k, key);
	}
	obq_h_observe(t, o != NULL);
	return o;
}

static void op_lookup(obq_h_t *t, const uint8_t *arg)
{
	unsigned k = arg[0] % NKEY, extra = arg[1] % 3;
	struct nobj *o = checked_lookup(t, k, extra);
	if (!o)
		return;
	obq_token_t tok = obq_incarnation(o);
	obq_h_point(t);
	obq_h_check(t, obq_same_incarnation(o, tok) && OBQ_PEEK(o, key) == k,
		    "object of key %u freed or reused while pinned (key now %lu)", k,
		    OBQ_PEEK(o, key));
	put(t, o);
}

static void op_get(obq_h_t *t, const uint8_t *arg)
{
	struct st *s = t->state;
	unsigned me = t->tid % MAXT, k = arg[0] % NKEY;
	if (s->held[me])
		return;
	struct nobj *o = checked_lookup(t, k, 0);
	if (!o)
		return;
	s->held[me] = o;
	s->held_key[me] = k;
	s->held_tok[me] = obq_incarnation(o);
}

static void op_put_held(obq_h_t *t, const uint8_t *arg)
{
	(void)arg;
	struct st *s = t->state;
	unsigned me = t->tid % MAXT;
	struct nobj *o = s->held[me];
	if (!o)
		return;
	s->held[me] = NULL;
	obq_h_check(t, obq_same_incarnation(o, s->held_tok[me]) &&
			       OBQ_PEEK(o, key) == s->held_key[me],
		    "held object of key %lu freed or reused while pinned (key now %lu)",
		    s->held_key[me], OBQ_PEEK(o, key));
	put(t, o); /* may be the last reference (removed meanwhile): frees */
}

static void teardown(obq_h_t *t)
{
	struct st *s = t->state;
	for (unsigned me = 0; me < MAXT; me++)
		if (s->held[me]) {
			put(t, s->held[me]);
			s->held[me] = NULL;
		}
	for (unsigned k = 0; k < NKEY; k++) {
		uint8_t a = (uint8_t)k;
		op_remove(t, &a);
	}
}

static const struct obq_h_op ops[] = {
	{"insert", 1, op_insert}, {"remove", 1, op_remove}, {"move", 2, op_move},
	{"lookup", 2, op_lookup}, {"get", 1, op_get},       {"put_held", 0, op_put_held},
};

OBQ_H_TARGET_OPS("nulls_lookup", ops, struct st, .setup = setup, .teardown = teardown)
