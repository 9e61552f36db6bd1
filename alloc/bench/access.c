/* access.c — the cost of oblique's access layer (oblique/access.h), release against
 * checked: compiled into obq_bench (release library) and obq_bench_checked (checked
 * library) under the same group names, so run.py pairs them repetition by repetition.
 *
 * Groups (impl "obq"; ns per operation):
 *   access.peek          OBQ_PEEK of an allocated object's key, inside a read section
 *   access.lock          obq_spin_lock + obq_spin_unlock of an allocated object's lock
 *   access.lookup-lock   the typesafe lookup: read_lock; p = dereference; lock oblique;
 *                        re-check key (OBQ_PEEK); unlock; read_unlock
 *   access.lookup-ref    the same with obq_ref_get_not_zero + re-check + obq_ref_put
 *   access.read-section  read_lock + dereference + read_unlock alone (the RCU part) */
#include "bench.h"

#include <oblique/access.h>
#include <oblique/cache.h>
#include <oblique/rcu.h>

struct aobj {
	obq_spinlock_t lock;   /* ctor-initialised, taken by lookups */
	obq_refcount_t ref;    /* 1 while published */
	unsigned long key;     /* identity, re-checked after the pin */
	char pad[48];          /* to 64 bytes */
};

static void aobj_ctor(void *p)
{
	struct aobj *o = p;
	obq_spin_lock_init(&o->lock);
	obq_ref_init(&o->ref);
}

static obq_cache_t *acache;
static struct aobj *aobj_gp;          /* published object */
static volatile unsigned long asink;  /* defeats dead-code elimination */

static void loop_peek(void *arg, size_t n)
{
	struct aobj *o = arg;
	unsigned long s = 0;
	obq_rcu_read_lock();
	for (size_t i = 0; i < n; i++) {
		s += OBQ_PEEK(o, key);
		BENCH_CLOBBER();
	}
	obq_rcu_read_unlock();
	asink = s;
}

static void loop_lock(void *arg, size_t n)
{
	struct aobj *o = arg;
	for (size_t i = 0; i < n; i++) {
		obq_spin_lock(&o->lock);
		obq_spin_unlock(&o->lock);
	}
}

static void loop_lookup_lock(void *arg, size_t n)
{
	unsigned long key = (unsigned long)(uintptr_t)arg, s = 0;
	for (size_t i = 0; i < n; i++) {
		obq_rcu_read_lock();
		struct aobj *p = obq_rcu_dereference(aobj_gp);
		obq_spin_lock_oblique(&p->lock);
		s += OBQ_PEEK(p, key) == key;
		obq_spin_unlock(&p->lock);
		obq_rcu_read_unlock();
	}
	asink = s;
}

static void loop_lookup_ref(void *arg, size_t n)
{
	unsigned long key = (unsigned long)(uintptr_t)arg, s = 0;
	for (size_t i = 0; i < n; i++) {
		obq_rcu_read_lock();
		struct aobj *p = obq_rcu_dereference(aobj_gp);
		if (obq_ref_get_not_zero(&p->ref)) {
			s += OBQ_PEEK(p, key) == key;
			obq_ref_put(&p->ref);
		}
		obq_rcu_read_unlock();
	}
	asink = s;
}

static void loop_section(void *arg, size_t n)
{
	(void)arg;
	unsigned long s = 0;
	for (size_t i = 0; i < n; i++) {
		obq_rcu_read_lock();
		struct aobj *p = obq_rcu_dereference(aobj_gp);
		s += (uintptr_t)p;
		obq_rcu_read_unlock();
	}
	asink = s;
}

static void access_case(const void *arg)
{
	const char *which = arg;
	obq_rcu_register_thread();
	acache = obq_cache_create("bench_access", sizeof(struct aobj), 0, OBQ_TYPESAFE_BY_RCU,
				  aobj_ctor);
	if (!acache)
		BENCH_DIE("obq_cache_create");
	struct aobj *o = obq_cache_alloc(acache);
	OBQ_STORE(o, key, 42ul);
	obq_ref_set_release(&o->ref, 1);
	obq_rcu_assign_pointer(aobj_gp, o);
	double v = 0;
	if (!strcmp(which, "peek"))
		v = bench_time_per_op(loop_peek, o, 40);
	else if (!strcmp(which, "lock"))
		v = bench_time_per_op(loop_lock, o, 40);
	else if (!strcmp(which, "lookup-lock"))
		v = bench_time_per_op(loop_lookup_lock, (void *)42ul, 40);
	else if (!strcmp(which, "lookup-ref"))
		v = bench_time_per_op(loop_lookup_ref, (void *)42ul, 40);
	else
		v = bench_time_per_op(loop_section, NULL, 40);
	obq_rcu_assign_pointer(aobj_gp, NULL);
	obq_ref_put(&o->ref);
	obq_cache_free(acache, o);
	obq_cache_destroy(acache);
	obq_rcu_unregister_thread();
	char g[48];
	snprintf(g, sizeof g, "access.%s", which);
	bench_emit(g, "obq", "ns", v);
}

__attribute__((constructor)) static void access_register(void)
{
	static const char *const w[] = { "peek", "lock", "lookup-lock", "lookup-ref", "read-section" };
	static char names[5][48];
	for (int i = 0; i < 5; i++) {
		snprintf(names[i], sizeof names[i], "access.%s/obq", w[i]);
		bench_register("checked", names[i], access_case, w[i]);
	}
}
