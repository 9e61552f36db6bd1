/* test_stress.c — seeded multi-threaded stress of a typesafe cache under real RCU
 * readers (the typesafe pattern of Linux's kernel/rcu/refscale.c).
 *
 * Objects: { ref, lock (ctor), key, a (generation), b == a * a }.  A table of
 * published pointers.  Writers own table slots; each round a writer unpublishes its
 * slot's object and drops the table's reference (the last put frees it: a reader may
 * be the one), allocates a fresh object (typesafe: often the same address, reused at
 * once), sets a = a + 1 and b = a * a under the object's lock, key = slot, then makes
 * it acquirable (obq_ref_set_release) and publishes it (obq_rcu_assign_pointer).
 * Writers also churn bursts of objects and shrink, so empty slabs go back through
 * grace periods while readers run.
 *
 * Readers, inside obq_rcu_read_lock: pick a slot, obq_rcu_dereference it, snapshot a,
 * (sometimes wait a little, widening the window), then pin either with
 * obq_ref_get_not_zero (count failures) or with the ctor-initialised lock
 * (obq_spin_lock_oblique), re-validate identity (the table still points to the object
 * and its key is the slot; a still equals the snapshot), and check b == a * a under
 * the pin.  Recycled objects met (identity or generation changed) and failed pins are
 * counted and printed; a run where both stay 0 proves nothing and fails.
 *
 * Arguments: --smoke (ctest: 1.5 s, 2 readers + 2 writers, extended up to 10 s on a
 * slow machine until 20 recycled objects or failed pins were met) | --seconds S |
 * --threads N (readers + writers, at least 2) | --seed X.  Exit 0 on success. */
#include <oblique/oblique.h>

#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define NSLOTS 64  /* published objects */
#define CHURN  1500 /* objects per churn burst */
#define MIN_EVENTS 20 /* recycled objects met + failed pins wanted before stopping */

struct sobj {
	obq_refcount_t ref;   /* holders: the table (1) + pinned readers; 0 while free */
	obq_spinlock_t lock;  /* ctor-initialised; a and b change only under it */
	unsigned long key;    /* table slot the object is published in */
	unsigned long a;      /* generation: +1 per allocation of this slot */
	unsigned long b;      /* a * a */
	unsigned long pad[3]; /* make it 64 bytes */
};

static obq_cache_t *cache;
static struct sobj *table[NSLOTS]; /* published pointers (obq_rcu_assign_pointer) */
static _Atomic int stop;           /* 1: threads finish */
static _Atomic unsigned long events; /* recycled objects met + failed pins, live (relaxed) */
static unsigned nwriters;          /* writers; writer w owns slots i % nwriters == w */

/* Counters, summed over threads (relaxed: read after the joins). */
static _Atomic unsigned long n_reads, n_empty, n_pins, n_failed_pins, n_lock_pins,
	n_recycled_identity, n_recycled_generation, n_bad, n_allocs, n_frees, n_shrunk,
	n_churn, n_enomem;

static void count(_Atomic unsigned long *c, unsigned long v)
{
	/* Relaxed: totals read after pthread_join. */
	atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}

static void sobj_ctor(void *p)
{
	struct sobj *o = p;
	obq_ref_init(&o->ref);
	obq_spin_lock_init(&o->lock);
	o->key = ~0ul;
	o->a = 0;
	o->b = 0;
}

static uint64_t rnd(uint64_t *s)
{
	/* xorshift64* */
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* rcutorture-style perturbation: mostly nothing, sometimes a short spin or a yield. */
static void perturb(uint64_t *s)
{
	uint64_t r = rnd(s);
	if ((r & 7) == 0) {
		for (volatile unsigned i = 0, n = (unsigned)(r >> 8) % 200; i < n; i++) {
		}
	} else if ((r & 0xff) == 1) {
		sched_yield();
	}
}

static void put_obj(struct sobj *o, unsigned long *frees)
{
	if (obq_ref_put(&o->ref)) {
		obq_cache_free(cache, o);
		(*frees)++;
	}
}

struct targ {
	unsigned idx;  /* thread index among readers or writers */
	uint64_t seed; /* per-thread seed */
};

static void *writer(void *arg)
{
	struct targ *ta = arg;
	uint64_t s = ta->seed;
	unsigned long allocs = 0, frees = 0, shrunk = 0, churn = 0, enomem = 0;
	void **burst = calloc(CHURN, sizeof *burst);
	/* Relaxed: a stop flag, polled. */
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint64_t r = rnd(&s);
		if ((r & 1023) == 0) {
			/* Churn: a burst of objects nobody publishes, then free and shrink, so
			 * slabs empty and go back through grace periods under the readers. */
			size_t k = 0;
			while (k < CHURN && (burst[k] = obq_cache_alloc(cache)) != NULL)
				k++;
			obq_cache_free_bulk(cache, k, burst);
			int rel = obq_cache_shrink(cache);
			shrunk += rel > 0 ? (unsigned long)rel : 0;
			churn++;
			continue;
		}
		unsigned i = ta->idx + nwriters * (unsigned)((r >> 10) % (NSLOTS / nwriters));
		struct sobj *old = obq_rcu_dereference(table[i]);
		obq_rcu_assign_pointer(table[i], NULL);
		if (old)
			put_obj(old, &frees); /* the table's reference */
		perturb(&s);
		struct sobj *n = obq_cache_alloc(cache);
		if (n == NULL) {
			enomem++;
			continue;
		}
		allocs++;
		obq_spin_lock(&n->lock);
		unsigned long a = OBQ_PEEK(n, a) + 1;
		OBQ_STORE(n, a, a);
		OBQ_STORE(n, b, a * a);
		OBQ_STORE(n, key, (unsigned long)i);
		obq_spin_unlock(&n->lock);
		obq_ref_set_release(&n->ref, 1); /* acquirable last */
		obq_rcu_assign_pointer(table[i], n);
	}
	free(burst);
	count(&n_allocs, allocs);
	count(&n_frees, frees);
	count(&n_shrunk, shrunk);
	count(&n_churn, churn);
	count(&n_enomem, enomem);
	return NULL;
}

static void *reader(void *arg)
{
	struct targ *ta = arg;
	uint64_t s = ta->seed;
	unsigned long reads = 0, empty = 0, pins = 0, failed = 0, lock_pins = 0, rec_id = 0,
		      rec_gen = 0, bad = 0, frees = 0;
	obq_rcu_register_thread();
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint64_t r = rnd(&s);
		unsigned i = (unsigned)(r % NSLOTS);
		obq_rcu_read_lock();
		reads++;
		struct sobj *o = obq_rcu_dereference(table[i]);
		if (o == NULL) {
			empty++;
			obq_rcu_read_unlock();
			continue;
		}
		unsigned long a0 = OBQ_PEEK(o, a);
		perturb(&s);
		if (r & 0x10000) {
			/* Pin with the refcount, then re-validate. */
			if (!obq_ref_get_not_zero(&o->ref)) {
				failed++;
				count(&events, 1);
				obq_rcu_read_unlock();
				continue;
			}
			pins++;
			unsigned long a = OBQ_PEEK(o, a), b = OBQ_PEEK(o, b), key = OBQ_PEEK(o, key);
			if (b != a * a)
				bad++;
			if (obq_rcu_dereference(table[i]) != o || key != i)
				rec_id++, count(&events, 1);
			else if (a != a0)
				rec_gen++, count(&events, 1);
			put_obj(o, &frees);
		} else {
			/* Pin with the ctor-initialised lock (sighand / anon_vma style). */
			obq_spin_lock_oblique(&o->lock);
			lock_pins++;
			unsigned long a = OBQ_PEEK(o, a), b = OBQ_PEEK(o, b), key = OBQ_PEEK(o, key);
			if (b != a * a)
				bad++;
			if (obq_rcu_dereference(table[i]) != o || key != i)
				rec_id++, count(&events, 1);
			else if (a != a0)
				rec_gen++, count(&events, 1);
			obq_spin_unlock(&o->lock);
		}
		obq_rcu_read_unlock();
	}
	obq_rcu_unregister_thread();
	count(&n_reads, reads);
	count(&n_empty, empty);
	count(&n_pins, pins);
	count(&n_failed_pins, failed);
	count(&n_lock_pins, lock_pins);
	count(&n_recycled_identity, rec_id);
	count(&n_recycled_generation, rec_gen);
	count(&n_bad, bad);
	count(&n_frees, frees);
	return NULL;
}

static unsigned long get(_Atomic unsigned long *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

int main(int argc, char **argv)
{
	double seconds = 1.5, max_seconds = 10;
	unsigned threads = 4;
	uint64_t seed = (uint64_t)time(NULL);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--smoke") == 0) {
			seconds = 1.5;
			threads = 4;
		} else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
			seconds = atof(argv[++i]);
			max_seconds = seconds + 10;
		} else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
			threads = (unsigned)atoi(argv[++i]);
		} else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
			seed = strtoull(argv[++i], NULL, 0);
		} else {
			fprintf(stderr, "usage: %s [--smoke] [--seconds S] [--threads N] [--seed X]\n",
				argv[0]);
			return 2;
		}
	}
	if (threads < 2)
		threads = 2;
	nwriters = threads / 2;
	while (NSLOTS % nwriters)
		nwriters--;
	unsigned nreaders = threads - nwriters;
	printf("stress: seed %llu, %.1f s, %u readers, %u writers, %s RCU, reuse %s\n",
	       (unsigned long long)seed, seconds, nreaders, nwriters, obq_rcu_backend(),
	       obq_get_reuse_mode() == OBQ_REUSE_RCU_DEBUG ? "rcu-debug" : "recycle");
	fflush(stdout);

	cache = obq_cache_create("stress_obj", sizeof(struct sobj), 0, OBQ_TYPESAFE_BY_RCU, sobj_ctor);
	CHECK_FATAL("create", cache != NULL);
	CHECK("guard ref", OBQ_DECLARE_GUARD(cache, OBQ_GUARD_REFCOUNT, struct sobj, ref) == 0);
	CHECK("guard lock", OBQ_DECLARE_GUARD(cache, OBQ_GUARD_LOCK, struct sobj, lock) == 0);
	CHECK("guard key", OBQ_DECLARE_GUARD(cache, OBQ_GUARD_KEY, struct sobj, key) == 0);
	CHECK("guard a", OBQ_DECLARE_GUARD(cache, OBQ_GUARD_GENERATION, struct sobj, a) == 0);

	pthread_t *th = calloc(threads, sizeof *th);
	struct targ *ta = calloc(threads, sizeof *ta);
	for (unsigned t = 0; t < threads; t++) {
		ta[t].idx = t < nwriters ? t : t - nwriters;
		ta[t].seed = seed * 0x9E3779B97F4A7C15ull + t + 1;
		pthread_create(&th[t], NULL, t < nwriters ? writer : reader, &ta[t]);
	}
	/* Run `seconds`; then, on a slow machine (sanitizers, load), go on until the run has
	 * met MIN_EVENTS recycled objects or failed pins, up to max_seconds. */
	struct timespec t0, now, tick = { 0, 50 * 1000 * 1000 };
	clock_gettime(CLOCK_MONOTONIC, &t0);
	double elapsed = 0;
	for (;;) {
		nanosleep(&tick, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
		elapsed = (double)(now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9;
		if (elapsed >= max_seconds)
			break;
		/* Relaxed: a progress estimate. */
		if (elapsed >= seconds &&
		    atomic_load_explicit(&events, memory_order_relaxed) >= MIN_EVENTS)
			break;
	}
	/* Relaxed: the joins below order everything else. */
	atomic_store_explicit(&stop, 1, memory_order_relaxed);
	for (unsigned t = 0; t < threads; t++)
		pthread_join(th[t], NULL);

	/* Unpublish and drop the table's references. */
	unsigned long frees = 0;
	for (unsigned i = 0; i < NSLOTS; i++) {
		struct sobj *o = table[i];
		table[i] = NULL;
		if (o)
			put_obj(o, &frees);
	}
	count(&n_frees, frees);

	unsigned long recycled = get(&n_recycled_identity) + get(&n_recycled_generation);
	printf("stress: ran %.2f s\n", elapsed);
	printf("stress: reads %lu (empty slot %lu), ref pins %lu, failed pins %lu, lock pins %lu\n",
	       get(&n_reads), get(&n_empty), get(&n_pins), get(&n_failed_pins), get(&n_lock_pins));
	printf("stress: recycled objects met %lu (identity changed %lu, generation changed %lu), "
	       "b != a*a %lu\n", recycled, get(&n_recycled_identity), get(&n_recycled_generation),
	       get(&n_bad));
	printf("stress: allocs %lu, frees %lu, churn bursts %lu, slabs released by shrink %lu, "
	       "ENOMEM %lu\n", get(&n_allocs), get(&n_frees), get(&n_churn), get(&n_shrunk),
	       get(&n_enomem));

	CHECK("readers read", get(&n_reads) > 0);
	CHECK("writers wrote", get(&n_allocs) > 0);
	CHECK("b == a*a under every pin", get(&n_bad) == 0);
	CHECK("every allocation freed", get(&n_allocs) == get(&n_frees));
	CHECK("the run met recycled objects or failed pins (else it proved nothing)",
	      recycled > 0 || get(&n_failed_pins) > 0);
	CHECK("no allocation failed", get(&n_enomem) == 0);
	struct obq_cache_stats st;
	obq_cache_stats(cache, &st);
	CHECK("no live object left", st.objects_live == 0);
	CHECK("destroy", obq_cache_destroy(cache) == 0);
	free(th);
	free(ta);
	return CHECK_DONE();
}
