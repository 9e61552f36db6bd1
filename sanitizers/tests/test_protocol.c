/* test_protocol.c — a correct type-stable protocol under real threads must be silent.
 *
 * Writers replace the objects of a small table (alloc, initialise with OBQ_STORE and a
 * seqcount write under the object's lock, publish with obq_ref_set_release and
 * obq_rcu_assign_pointer, drop the table's reference); readers look objects up inside
 * read-side sections, peek the key, pin (obq_ref_get_not_zero), re-check the key, read
 * the value through the seqcount, or lock the object obliquely and re-check that the
 * table still points at it.  Whoever drops the last reference frees.  So readers
 * constantly meet FREE and recycled objects — the checker must stay quiet (any report
 * aborts through the default hook), TSan must see no race, and the invariant
 * value == 3 * key must hold for every validated read.
 *
 *   test_protocol [milliseconds]    default 300 */
#include <oblique/oblique.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NSLOT 8

struct node {
	obq_refcount_t ref;    /* guard: the table holds 1, pins add */
	obq_spinlock_t lock;   /* guard: ctor-initialised; serialises seq writers */
	obq_seqcount_t seq;    /* guards value */
	unsigned long key;     /* guard: identity */
	unsigned long value;   /* 3 * key, read through seq */
};

static obq_cache_t *cache;
static struct node *table[NSLOT];          /* published with obq_rcu_assign_pointer */
static pthread_mutex_t slot_lock[NSLOT];   /* serialises writers of a table slot */
static int stop;                           /* atomic */
static unsigned long pins, fails, locks, recycled, bad; /* atomic counters */

static void ctor(void *p)
{
	struct node *n = p;
	obq_ref_init(&n->ref);
	obq_spin_lock_init(&n->lock);
	obq_seqcount_init(&n->seq);
}

static void put(struct node *n)
{
	if (obq_ref_put(&n->ref))
		obq_cache_free(cache, n);
}

static void *writer(void *arg)
{
	unsigned long id = (unsigned long)(uintptr_t)arg, gen = 0;
	unsigned seed = (unsigned)id * 7919u + 1;
	obq_rcu_register_thread();
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		unsigned i = (seed = seed * 1103515245u + 12345u) >> 16 & (NSLOT - 1);
		unsigned long key = ((++gen) << 8) | (id << 4) | i;
		struct node *n = obq_cache_alloc(cache);
		if (n == NULL)
			abort();
		OBQ_STORE(n, key, key);
		obq_spin_lock(&n->lock);
		obq_write_seqcount_begin(&n->seq);
		OBQ_STORE(n, value, 3 * key);
		obq_write_seqcount_end(&n->seq);
		obq_spin_unlock(&n->lock);
		obq_ref_set_release(&n->ref, 1); /* the table's reference, set last */
		pthread_mutex_lock(&slot_lock[i]);
		struct node *old = table[i];
		obq_rcu_assign_pointer(table[i], n);
		if (old && (gen & 1)) {
			/* Update a value in place sometimes: lock, seqcount write. */
			obq_spin_lock(&n->lock);
			obq_write_seqcount_begin(&n->seq);
			OBQ_STORE(n, value, 3 * key);
			obq_write_seqcount_end(&n->seq);
			obq_spin_unlock(&n->lock);
		}
		pthread_mutex_unlock(&slot_lock[i]);
		if (old)
			put(old);
	}
	obq_rcu_unregister_thread();
	return NULL;
}

static void *reader(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg * 31u + 7;
	obq_rcu_register_thread();
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		unsigned i = (seed = seed * 1103515245u + 12345u) >> 16 & (NSLOT - 1);
		obq_rcu_read_lock();
		struct node *n = obq_rcu_dereference(table[i]);
		if (n == NULL) {
			obq_rcu_read_unlock();
			continue;
		}
		unsigned long k = OBQ_PEEK(n, key);
		if (seed & 0x100) {
			/* Lock-oblique: the ctor-initialised lock of a maybe-freed object. */
			obq_spin_lock_oblique(&n->lock);
			if (obq_rcu_dereference(table[i]) == n && OBQ_PEEK(n, key) == k) {
				if (OBQ_PEEK(n, value) != 3 * k)
					__atomic_fetch_add(&bad, 1, __ATOMIC_RELAXED);
				__atomic_fetch_add(&locks, 1, __ATOMIC_RELAXED);
			}
			obq_spin_unlock(&n->lock);
			obq_rcu_read_unlock();
			continue;
		}
		if (!obq_ref_get_not_zero(&n->ref)) {
			__atomic_fetch_add(&fails, 1, __ATOMIC_RELAXED);
			obq_rcu_read_unlock();
			continue;
		}
		obq_rcu_read_unlock();
		/* Pinned: the object cannot be freed, but it may be another one. */
		if (OBQ_PEEK(n, key) != k) {
			__atomic_fetch_add(&recycled, 1, __ATOMIC_RELAXED);
		} else {
			unsigned s;
			unsigned long v;
			do {
				s = obq_read_seqcount_begin(&n->seq);
				v = OBQ_PEEK(n, value);
			} while (obq_read_seqcount_retry(&n->seq, s));
			if (v != 3 * k)
				__atomic_fetch_add(&bad, 1, __ATOMIC_RELAXED);
			__atomic_fetch_add(&pins, 1, __ATOMIC_RELAXED);
		}
		put(n);
	}
	obq_rcu_unregister_thread();
	return NULL;
}

int main(int argc, char **argv)
{
	long ms = argc > 1 ? atol(argv[1]) : 300;
	cache = obq_cache_create("node", sizeof(struct node), 0, OBQ_TYPESAFE_BY_RCU, ctor);
	OBQ_DECLARE_GUARD(cache, OBQ_GUARD_REFCOUNT, struct node, ref);
	OBQ_DECLARE_GUARD(cache, OBQ_GUARD_LOCK, struct node, lock);
	OBQ_DECLARE_GUARD(cache, OBQ_GUARD_KEY, struct node, key);
	for (int i = 0; i < NSLOT; i++)
		pthread_mutex_init(&slot_lock[i], NULL);
	pthread_t th[4];
	for (uintptr_t t = 0; t < 4; t++)
		pthread_create(&th[t], NULL, t < 2 ? writer : reader, (void *)t);
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
	/* On a loaded machine the threads may not have run yet: go on (at most 10 s more)
	 * until readers have pinned and locked something, so the counters mean something. */
	struct timespec tick = { 0, 10 * 1000000L };
	for (int w = 0; w < 1000 && (__atomic_load_n(&pins, __ATOMIC_RELAXED) == 0 ||
				     __atomic_load_n(&locks, __ATOMIC_RELAXED) == 0); w++)
		nanosleep(&tick, NULL);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int t = 0; t < 4; t++)
		pthread_join(th[t], NULL);
	for (int i = 0; i < NSLOT; i++)
		if (table[i])
			put(table[i]);
	int rc = obq_cache_destroy(cache);
	printf("pins %lu, failed pins %lu, oblique locks %lu, recycled under a pin %lu, bad %lu\n",
	       pins, fails, locks, recycled, bad);
	if (rc != 0 || bad != 0 || pins == 0 || locks == 0) {
		fprintf(stderr, "FAIL: destroy %d, bad %lu, pins %lu, locks %lu\n", rc, bad, pins, locks);
		return 1;
	}
	return 0;
}
