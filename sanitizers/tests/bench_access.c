/* bench_access.c — what the access layer costs: ns per call of OBQ_PEEK, oblique
 * lock/unlock, ref get_not_zero/put, beside a plain relaxed load, single-threaded on an
 * ALLOCATED object of a typesafe cache (the common case), and OBQ_PEEK of a FREE object
 * inside a read-side section.  Built twice: bench_access (this build's variant, checked
 * by default) and bench_access_release (OBQ_CHECKED=0).  Not run by ctest.
 *
 *   bench_access [iterations]      default 20000000 */
#include <oblique/oblique.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct obj {
	obq_refcount_t ref;   /* refcount */
	obq_spinlock_t lock;  /* lock */
	unsigned key;         /* key */
	unsigned pad;         /* padding */
};

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void ctor(void *p)
{
	struct obj *o = p;
	obq_ref_init(&o->ref);
	obq_spin_lock_init(&o->lock);
}

static volatile unsigned long sink;

#define BENCH(label, body)                                                             \
	do {                                                                           \
		unsigned long acc = 0;                                                 \
		double t0 = now_ns();                                                  \
		for (long i = 0; i < n; i++) {                                         \
			body;                                                          \
			__asm__ __volatile__("" ::: "memory");                         \
		}                                                                      \
		double t1 = now_ns();                                                  \
		sink = acc;                                                            \
		printf("  %-34s %7.2f ns\n", label, (t1 - t0) / (double)n);            \
	} while (0)

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000000L;
	obq_rcu_register_thread();
	obq_cache_t *c = obq_cache_create("bench", sizeof(struct obj), 0, OBQ_TYPESAFE_BY_RCU, ctor);
	struct obj *o = obq_cache_alloc(c);
	struct obj *f = obq_cache_alloc(c);
	OBQ_STORE(o, key, 1);
	obq_ref_set_release(&o->ref, 1);
	obq_cache_free(c, f);
	unsigned plain = 1;
	printf("access layer, %s build (OBQ_CHECKED=%d), %ld iterations:\n",
	       OBQ_CHECKED ? "checked" : "release", OBQ_CHECKED, n);
	BENCH("plain relaxed load", acc += __atomic_load_n(&plain, __ATOMIC_RELAXED));
	BENCH("OBQ_PEEK (allocated)", acc += OBQ_PEEK(o, key));
	obq_rcu_read_lock();
	BENCH("OBQ_PEEK (FREE, in section)", acc += OBQ_PEEK(f, key));
	obq_rcu_read_unlock();
	BENCH("obq_spin_lock_oblique + unlock", { obq_spin_lock_oblique(&o->lock); obq_spin_unlock(&o->lock); });
	BENCH("obq_ref_get_not_zero + put", { acc += obq_ref_get_not_zero(&o->ref); acc += obq_ref_put(&o->ref); });
	BENCH("OBQ_STORE", OBQ_STORE(o, key, (unsigned)i));
	BENCH("rcu_read_lock + unlock", { obq_rcu_read_lock(); obq_rcu_read_unlock(); });
	obq_ref_put(&o->ref);
	obq_cache_free(c, o);
	obq_cache_destroy(c);
	return 0;
}
