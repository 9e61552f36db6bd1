/* test_cache.c — unit tests of the object-cache API (oblique/cache.h): every call and
 * every refusal, typesafe same-address reuse (KASAN's kmem_cache_rcu_reuse), ctor once
 * per slot, the allocator never writing into freed typesafe or ctor objects, bulk
 * all-or-nothing, shrink, stats, the grace-period path of empty typesafe slabs,
 * destroy (EBUSY with a recording hook, inside a read-side section, typesafe), reuse
 * modes, guards, caches destroyed while another thread holds magazines for them, and
 * the fuzz geometry's magazines and depot (obq_cache_set_fuzz_magazines).
 *
 * Arguments: none.  Exit 0 on success. */
#include <stdatomic.h>
#include <oblique/oblique.h>
#include <oblique/testing.h> /* obq_cache_destroy_force */

#include "check.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Fault injection from the OS layer (alloc/src/os.h): maps after the next n fail. */
void _obq_os_map_fail_after(long n);

/* ---------------------------------------------------------------------------------
 * A recording error hook. */

/* The recording error hook: record_hook, rec, rec_reset (record_hook.h). */
#include "record_hook.h"

/* Read a byte of memory the checker may have poisoned (a freed object): ASan off. */
static OBQ_NO_ASAN OBQ_NOINLINE unsigned char raw_byte(const void *p, size_t i)
{
	return ((const volatile unsigned char *)p)[i];
}

static OBQ_NO_ASAN OBQ_NOINLINE void raw_write(void *p, size_t i, unsigned char v)
{
	((volatile unsigned char *)p)[i] = v;
}

static size_t live_of(obq_cache_t *c)
{
	struct obq_cache_stats st;
	obq_cache_stats(c, &st);
	return st.objects_live;
}

/* ---------------------------------------------------------------------------------
 * Create: refusals and geometry. */

static void expect_refused(const char *what, const char *name, size_t size, size_t align,
			   unsigned flags, obq_ctor_fn ctor, const char *reason_word)
{
	errno = 0;
	obq_cache_t *c = obq_cache_create(name, size, align, flags, ctor);
	CHECK(what, c == NULL);
	CHECK(what, errno == EINVAL);
	CHECK(what, strstr(obq_last_error(), reason_word) != NULL);
	if (strstr(obq_last_error(), reason_word) == NULL)
		fprintf(stderr, "  reason was: %s\n", obq_last_error());
	if (c)
		obq_cache_destroy(c);
}

static void ctor_nop(void *obj)
{
	(void)obj;
}

static void test_create_refusals(void)
{
	char longname[64];
	memset(longname, 'x', 48);
	longname[48] = '\0';
	expect_refused("NULL name", NULL, 64, 0, 0, NULL, "name is NULL");
	expect_refused("empty name", "", 64, 0, 0, NULL, "empty");
	expect_refused("name of 48 bytes", longname, 64, 0, 0, NULL, "OBQ_CACHE_NAME_MAX");
	expect_refused("size 0", "t", 0, 0, 0, NULL, "size is 0");
	expect_refused("size too large", "t", OBQ_CACHE_SIZE_MAX + 1, 0, 0, NULL, "OBQ_CACHE_SIZE_MAX");
	expect_refused("absurd size", "t", SIZE_MAX, 0, 0, NULL, "OBQ_CACHE_SIZE_MAX");
	expect_refused("align 3", "t", 64, 3, 0, NULL, "power of two");
	expect_refused("align 24", "t", 64, 24, 0, NULL, "power of two");
	expect_refused("align 8192", "t", 64, 8192, 0, NULL, "4096");
	expect_refused("unknown flags", "t", 64, 0, 0x100, NULL, "unknown flags");
	expect_refused("typesafe + poison", "t", 64, 0, OBQ_TYPESAFE_BY_RCU | OBQ_POISON, NULL,
		       "OBQ_POISON");
	expect_refused("typesafe + zero", "t", 64, 0, OBQ_TYPESAFE_BY_RCU | OBQ_ZERO_ON_ALLOC, NULL,
		       "OBQ_ZERO_ON_ALLOC");
	expect_refused("zero + ctor", "t", 64, 0, OBQ_ZERO_ON_ALLOC, ctor_nop, "ctor");
	expect_refused("poison + ctor", "t", 64, 0, OBQ_POISON, ctor_nop, "ctor");
	/* The reason names the cache. */
	obq_cache_create("named-cache", 0, 0, 0, NULL);
	CHECK("reason names the cache", strstr(obq_last_error(), "named-cache") != NULL);
}

static void test_create_geometry(void)
{
	char name47[48];
	memset(name47, 'n', 47);
	name47[47] = '\0';
	obq_cache_t *c = obq_cache_create(name47, 1, 0, 0, NULL);
	CHECK("47-byte name accepted", c != NULL);
	CHECK("name kept", c && strcmp(obq_cache_name(c), name47) == 0);
	struct obq_cache_stats st;
	CHECK("stats ok", obq_cache_stats(c, &st) == 0);
	CHECK("size 1: stride 8", st.stride == 8 && st.object_size == 1);
	CHECK("slab holds objects", st.objects_per_slab >= 4);
	CHECK("nothing mapped before the first alloc", st.slabs == 0 && st.bytes_mapped == 0);
	CHECK("destroy", obq_cache_destroy(c) == 0);

	struct { size_t size, align; unsigned flags; } cases[] = {
		{ 24, 0, 0 }, { 40, 16, 0 }, { 100, 256, 0 }, { 64, 0, OBQ_HWCACHE_ALIGN },
		{ 72, 0, OBQ_HWCACHE_ALIGN | OBQ_TYPESAFE_BY_RCU }, { 3000, 4096, 0 },
		{ OBQ_CACHE_SIZE_MAX, 0, 0 }, { 13, 1, 0 }, { 32, 0, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		c = obq_cache_create("geom", cases[i].size, cases[i].align, cases[i].flags, NULL);
		CHECK("geometry case created", c != NULL);
		if (!c)
			continue;
		CHECK("flags kept", obq_cache_flags(c) == cases[i].flags);
		obq_cache_stats(c, &st);
		size_t want = cases[i].align < 8 ? 8 : cases[i].align;
		if (cases[i].flags & OBQ_HWCACHE_ALIGN)
			want = 64;
		CHECK("stride multiple of 8", st.stride % 8 == 0);
		CHECK("stride multiple of the alignment", st.stride % want == 0);
		CHECK("stride holds the object", st.stride >= cases[i].size);
		void *p[5];
		for (int k = 0; k < 5; k++) {
			p[k] = obq_cache_alloc(c);
			CHECK("alloc", p[k] != NULL);
			CHECK("object aligned", ((uintptr_t)p[k] % want) == 0);
			if (p[k])
				memset(p[k], 0xab, cases[i].size);
		}
		for (int k = 0; k < 5; k++)
			obq_cache_free(c, p[k]);
		CHECK("destroy", obq_cache_destroy(c) == 0);
	}
	/* Natural alignment of 16-multiples is 16, as malloc's. */
	c = obq_cache_create("nat16", 48, 0, 0, NULL);
	obq_cache_stats(c, &st);
	CHECK("size 48 natural alignment 16", st.stride % 16 == 0);
	obq_cache_destroy(c);
}

/* ---------------------------------------------------------------------------------
 * Typesafe semantics. */

static void test_rcu_reuse(void)
{
	/* KASAN's kmem_cache_rcu_reuse: free then alloc returns the same address. */
	obq_cache_t *c = obq_cache_create("rcu_reuse", 64, 0, OBQ_TYPESAFE_BY_RCU, NULL);
	void *p = obq_cache_alloc(c);
	CHECK("alloc", p != NULL);
	obq_cache_free(c, p);
	void *q = obq_cache_alloc(c);
	CHECK("kmem_cache_rcu_reuse: same address at once", p == q);
	/* Also within a read-side section (reuse does not wait for readers). */
	obq_rcu_register_thread();
	obq_rcu_read_lock();
	obq_cache_free(c, q);
	void *r = obq_cache_alloc(c);
	obq_rcu_read_unlock();
	CHECK("same address inside a read-side section", r == p);
	obq_cache_free(c, r);
	CHECK("destroy", obq_cache_destroy(c) == 0);
	obq_rcu_unregister_thread();
}

static _Atomic unsigned long ctor_calls;

static void counting_ctor(void *obj)
{
	/* Relaxed: a counter read by this thread only. */
	atomic_fetch_add_explicit(&ctor_calls, 1, memory_order_relaxed);
	memset(obj, 0x5c, 32);
}

static void test_ctor_once_per_slot(void)
{
	ctor_calls = 0;
	obq_cache_t *c = obq_cache_create("ctor_once", 32, 0, OBQ_TYPESAFE_BY_RCU, counting_ctor);
	struct obq_cache_stats st;
	obq_cache_stats(c, &st);
	size_t per = st.objects_per_slab;
	CHECK("no ctor before the first slab", ctor_calls == 0);
	void *p = obq_cache_alloc(c);
	CHECK("ctor ran on every slot of the new slab", ctor_calls == per);
	CHECK("object as the ctor left it", ((unsigned char *)p)[0] == 0x5c);
	void **v = calloc(per, sizeof *v);
	v[0] = p;
	for (size_t i = 1; i < per; i++)
		v[i] = obq_cache_alloc(c);
	CHECK("allocating the whole slab runs no ctor", ctor_calls == per);
	for (size_t i = 0; i < per; i++)
		obq_cache_free(c, v[i]);
	for (size_t i = 0; i < per; i++)
		v[i] = obq_cache_alloc(c);
	CHECK("free + realloc runs no ctor", ctor_calls == per);
	void *extra = obq_cache_alloc(c);
	CHECK("a second slab runs the ctor once per slot", ctor_calls == 2 * per);
	obq_cache_free(c, extra);
	for (size_t i = 0; i < per; i++)
		obq_cache_free(c, v[i]);
	free(v);
	CHECK("destroy", obq_cache_destroy(c) == 0);
}

/* Each object carries a pattern derived from its own address; after free and
 * realloc (through magazine, depot and slab levels) every object must still carry
 * its pattern: the allocator wrote nothing into it. */
static unsigned char pat(const void *p, size_t i)
{
	return (unsigned char)(((uintptr_t)p >> 3) * 31 + i * 7 + 1);
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;
	return x < y ? -1 : x > y;
}

static void no_writes_case(const char *name, unsigned flags, obq_ctor_fn ctor)
{
	enum { SZ = 48 };
	obq_cache_t *c = obq_cache_create(name, SZ, 0, flags, ctor);
	struct obq_cache_stats st;
	obq_cache_stats(c, &st);
	size_t n = 3 * st.objects_per_slab + 300; /* spills magazines, depot and slabs */
	void **v = calloc(n, sizeof *v);
	for (size_t i = 0; i < n; i++) {
		v[i] = obq_cache_alloc(c);
		for (size_t k = 0; k < SZ; k++)
			((unsigned char *)v[i])[k] = pat(v[i], k);
	}
	/* One object checked while freed (raw read: the checker may poison it). */
	void *first = v[0];
	obq_cache_free(c, first);
	int intact = 1;
	for (size_t k = 0; k < SZ; k++)
		intact &= raw_byte(first, k) == pat(first, k);
	CHECK("freed object untouched right after free", intact);
	for (size_t i = 1; i < n; i++)
		obq_cache_free(c, v[i]);
	/* Realloc: objects that were freed must come back intact; never-used slots
	 * (the rest of the last slab) carry no pattern and are skipped. */
	qsort(v, n, sizeof *v, cmp_ptr);
	void **w = calloc(n, sizeof *w);
	size_t bad = 0, reused = 0;
	for (size_t i = 0; i < n; i++) {
		w[i] = obq_cache_alloc(c);
		if (!bsearch(&w[i], v, n, sizeof *v, cmp_ptr))
			continue;
		reused++;
		for (size_t k = 0; k < SZ; k++)
			bad += ((unsigned char *)w[i])[k] != pat(w[i], k);
	}
	CHECK("most objects reused", reused > n / 2);
	CHECK("no byte of any freed object was written by the allocator", bad == 0);
	memcpy(v, w, n * sizeof *v);
	free(w);
	for (size_t i = 0; i < n; i++)
		obq_cache_free(c, v[i]);
	free(v);
	CHECK("destroy", obq_cache_destroy(c) == 0);
}

static void test_no_writes_into_freed(void)
{
	no_writes_case("nowrite_typesafe", OBQ_TYPESAFE_BY_RCU, NULL);
	no_writes_case("nowrite_ctor", 0, ctor_nop);
	no_writes_case("nowrite_plain", 0, NULL);
}

/* ---------------------------------------------------------------------------------
 * Bulk, shrink, stats. */

static void test_bulk(void)
{
	obq_cache_t *c = obq_cache_create("bulk", 64, 0, OBQ_TYPESAFE_BY_RCU, NULL);
	struct obq_cache_stats st;
	obq_cache_stats(c, &st);
	size_t per = st.objects_per_slab;
	void *v[300];
	CHECK("bulk alloc 300", obq_cache_alloc_bulk(c, 300, v) == 300);
	int distinct = 1;
	for (int i = 0; i < 300; i++)
		for (int j = 0; j < i; j++)
			distinct &= v[i] != v[j];
	CHECK("bulk objects distinct", distinct);
	CHECK("live 300", live_of(c) == 300);
	obq_cache_free_bulk(c, 300, v);
	CHECK("live 0 after bulk free", live_of(c) == 0);
	CHECK("bulk of 0", obq_cache_alloc_bulk(c, 0, v) == 0);
	errno = 0;
	CHECK("bulk with NULL array", obq_cache_alloc_bulk(c, 1, NULL) == 0 && errno == EINVAL);

	/* All or nothing: with every slab full and mapping failing, a bulk that needs a
	 * new slab allocates nothing. */
	obq_cache_shrink(c);
	obq_rcu_barrier();
	void **w = calloc(2 * per + 1, sizeof *w);
	/* One slab, all but 10 objects allocated: the next bulk gathers 10, then fails. */
	CHECK("fill most of one slab", obq_cache_alloc_bulk(c, per - 10, w) == per - 10);
	obq_cache_stats(c, &st);
	size_t slabs_before = st.slabs;
	_obq_os_map_fail_after(0);
	errno = 0;
	size_t got = obq_cache_alloc_bulk(c, per + 1, w + per - 10);
	int e = errno;
	_obq_os_map_fail_after(-1);
	CHECK("bulk that cannot complete returns 0", got == 0);
	CHECK("bulk failure sets ENOMEM", e == ENOMEM);
	obq_cache_stats(c, &st);
	CHECK("failed bulk allocated nothing", st.objects_live == per - 10);
	CHECK("failed bulk kept the slab count", st.slabs == slabs_before);
	CHECK("bulk works again", obq_cache_alloc_bulk(c, per + 11, w + per - 10) == per + 11);
	CHECK("live after", live_of(c) == 2 * per + 1);
	/* Single allocs fail cleanly too once the slabs are exhausted. */
	_obq_os_map_fail_after(0);
	errno = 0;
	void **extra = calloc(2 * per, sizeof *extra);
	size_t k = 0;
	while (k < 2 * per && (extra[k] = obq_cache_alloc(c)) != NULL)
		k++;
	int e2 = errno;
	_obq_os_map_fail_after(-1);
	CHECK("single alloc fails with ENOMEM when maps fail", k < 2 * per && e2 == ENOMEM);
	obq_cache_free_bulk(c, k, extra);
	free(extra);
	obq_cache_free_bulk(c, 2 * per + 1, w);
	free(w);
	CHECK("destroy", obq_cache_destroy(c) == 0);
}

static void test_shrink_and_stats(void)
{
	obq_cache_t *c = obq_cache_create("shrink_plain", 200, 0, 0, NULL);
	struct obq_cache_stats st;
	obq_cache_stats(c, &st);
	size_t per = st.objects_per_slab, n = 4 * per + 3;
	void **v = calloc(n, sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = obq_cache_alloc(c);
	obq_cache_stats(c, &st);
	CHECK("stats: live", st.objects_live == n);
	CHECK("stats: slabs hold the live objects", st.slabs * st.objects_per_slab >= n);
	CHECK("stats: slabs 5", st.slabs == 5);
	CHECK("stats: bytes cover the slabs", st.bytes_mapped >= st.slabs * per * st.stride);
	CHECK("stats: nothing pending or waiting", st.objects_free_pending == 0 && st.slabs_waiting_gp == 0);
	for (size_t i = 0; i < n; i++)
		obq_cache_free(c, v[i]);
	obq_cache_stats(c, &st);
	CHECK("stats: live 0 after freeing all", st.objects_live == 0);
	int k = obq_cache_shrink(c);
	CHECK("shrink released slabs", k > 0);
	obq_cache_stats(c, &st);
	CHECK("shrink: a plain cache's slabs go at once", st.slabs == 0 && st.slabs_waiting_gp == 0);
	CHECK("shrink: nothing mapped", st.bytes_mapped == 0);
	CHECK("shrink of an empty cache", obq_cache_shrink(c) == 0);
	void *p = obq_cache_alloc(c);
	CHECK("alloc after shrink", p != NULL && live_of(c) == 1);
	obq_cache_free(c, p);
	free(v);
	CHECK("destroy", obq_cache_destroy(c) == 0);
}

static void test_typesafe_slab_waits_gp(void)
{
	obq_rcu_register_thread();
	obq_cache_t *c = obq_cache_create("shrink_typesafe", 64, 0, OBQ_TYPESAFE_BY_RCU, NULL);
	struct obq_cache_stats st;
	obq_cache_stats(c, &st);
	size_t n = 3 * st.objects_per_slab;
	void **v = calloc(n, sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = obq_cache_alloc(c);
	/* Stay in a read-side section so the grace period cannot end under our checks. */
	obq_rcu_read_lock();
	for (size_t i = 0; i < n; i++)
		obq_cache_free(c, v[i]);
	int k = obq_cache_shrink(c);
	obq_cache_stats(c, &st);
	CHECK("typesafe shrink queued slabs", k >= 3);
	CHECK("typesafe: slabs_waiting_gp > 0 while a reader is inside", st.slabs_waiting_gp == (size_t)k);
	CHECK("typesafe: waiting slabs are not owned", st.slabs == 0);
	CHECK("typesafe: waiting slabs still mapped", st.bytes_mapped > 0);
	obq_rcu_read_unlock();
	obq_rcu_barrier();
	obq_cache_stats(c, &st);
	CHECK("typesafe: slabs_waiting_gp back to 0 after obq_rcu_barrier", st.slabs_waiting_gp == 0);
	CHECK("typesafe: memory gone after the grace period", st.bytes_mapped == 0);
	free(v);
	CHECK("destroy", obq_cache_destroy(c) == 0);
	obq_rcu_unregister_thread();
}

static void test_zero_and_poison(void)
{
	obq_cache_t *z = obq_cache_create("zeroed", 40, 0, OBQ_ZERO_ON_ALLOC, NULL);
	unsigned char *p = obq_cache_alloc(z);
	memset(p, 0xff, 40);
	obq_cache_free(z, p);
	unsigned char *q = obq_cache_alloc(z);
	int zero = q == p;
	for (int i = 0; i < 40; i++)
		zero &= q[i] == 0;
	CHECK("OBQ_ZERO_ON_ALLOC zeroes the reused object", zero);
	obq_cache_free(z, q);
	CHECK("destroy", obq_cache_destroy(z) == 0);

	obq_error_hook_fn old = obq_set_error_hook(record_hook, &rec);
	rec_reset();
	obq_cache_t *c = obq_cache_create("poisoned", 40, 0, OBQ_POISON, NULL);
	p = obq_cache_alloc(c);
	memset(p, 0x11, 40);
	obq_cache_free(c, p);
	CHECK("OBQ_POISON fills the freed object", raw_byte(p, 0) == 0x6b && raw_byte(p, 39) == 0x6b);
	q = obq_cache_alloc(c);
	CHECK("untouched poison: no report", rec.count == 0 && q == p);
	obq_cache_free(c, q);
	raw_write(q, 5, 0x42); /* use after free */
	p = obq_cache_alloc(c);
	CHECK("write after free reported on alloc", rec.count == 1 && rec.kind == OBQ_ERR_CORRUPT);
	CHECK("report names the cache", strcmp(rec.cache, "poisoned") == 0);
	CHECK("report names the byte", strstr(rec.message, "byte 5") != NULL);
	obq_cache_free(c, p);
	CHECK("destroy", obq_cache_destroy(c) == 0);
	obq_set_error_hook(old, NULL);
}

/* ---------------------------------------------------------------------------------
 * Destroy. */

static obq_cache_t *deferred_cache; /* cache of the deferred free */
static void *deferred_obj;          /* object it frees */
static _Atomic int deferred_ran;    /* 1 once the callback ran */

static void deferred_free(struct obq_rcu_head *h)
{
	(void)h;
	obq_cache_free(deferred_cache, deferred_obj);
	atomic_store(&deferred_ran, 1);
}

static void test_destroy(void)
{
	CHECK("destroy NULL", obq_cache_destroy(NULL) == -EINVAL);
	CHECK("destroy_force NULL", obq_cache_destroy_force(NULL) == -EINVAL);
	CHECK("stats NULL", obq_cache_stats(NULL, NULL) == -EINVAL);
	CHECK("shrink NULL", obq_cache_shrink(NULL) == -EINVAL);
	errno = 0;
	CHECK("alloc NULL", obq_cache_alloc(NULL) == NULL && errno == EINVAL);

	obq_error_hook_fn old = obq_set_error_hook(record_hook, &rec);
	const unsigned flagsets[2] = { 0, OBQ_TYPESAFE_BY_RCU };
	for (int f = 0; f < 2; f++) {
		rec_reset();
		obq_cache_t *c = obq_cache_create("busy", 64, 0, flagsets[f], NULL);
		void *v[11];
		for (int i = 0; i < 11; i++)
			v[i] = obq_cache_alloc(c);
		obq_cache_free(c, v[10]); /* free objects in magazines do not count */
		CHECK("destroy with live objects: -EBUSY", obq_cache_destroy(c) == -EBUSY);
		CHECK("destroy-live-objects reported once", rec.count == 1);
		CHECK("kind", rec.kind == OBQ_ERR_DESTROY_BUSY);
		CHECK("cache named", strcmp(rec.cache, "busy") == 0);
		CHECK("count named", strstr(rec.message, "10 objects") != NULL);
		CHECK("and 2 more", strstr(rec.message, "and 2 more") != NULL);
		char addr[32];
		snprintf(addr, sizeof addr, "%p", rec.object);
		CHECK("first object listed", strstr(rec.message, addr) != NULL);
		int listed = 0;
		for (int i = 0; i < 10; i++) {
			snprintf(addr, sizeof addr, "%p ", v[i]);
			listed += strstr(rec.message, addr) != NULL;
		}
		CHECK("8 objects listed", listed == 8);
		CHECK("rule name in the message", strstr(rec.message, "destroy-live-objects") != NULL);
		/* Still usable. */
		void *p = obq_cache_alloc(c);
		CHECK("usable after EBUSY", p != NULL && live_of(c) == 11);
		obq_cache_free(c, p);
		for (int i = 0; i < 10; i++)
			obq_cache_free(c, v[i]);
		CHECK("destroy after freeing all", obq_cache_destroy(c) == 0);
		CHECK("no further report", rec.count == 1);
	}

	/* Destroy inside a read-side section: refused and reported, nothing destroyed. */
	obq_rcu_register_thread();
	rec_reset();
	obq_cache_t *c = obq_cache_create("in_reader", 64, 0, OBQ_TYPESAFE_BY_RCU, NULL);
	void *p = obq_cache_alloc(c);
	obq_cache_free(c, p);
	obq_rcu_read_lock();
	CHECK("destroy in a reader: -EDEADLK", obq_cache_destroy(c) == -EDEADLK);
	obq_rcu_read_unlock();
	CHECK("synchronize-in-read-side reported", rec.count == 1 && rec.kind == OBQ_ERR_RCU_SYNC_IN_READER);
	CHECK("report names the cache", strcmp(rec.cache, "in_reader") == 0);
	CHECK("cache survived", obq_cache_alloc(c) == p);
	obq_cache_free(c, p);
	CHECK("destroy outside the reader", obq_cache_destroy(c) == 0);
	obq_rcu_unregister_thread();

	/* A typesafe destroy first waits for pending callbacks: a free deferred with
	 * obq_rcu_call completes before the live-object check. */
	rec_reset();
	deferred_cache = obq_cache_create("deferred", 64, 0, OBQ_TYPESAFE_BY_RCU, NULL);
	deferred_obj = obq_cache_alloc(deferred_cache);
	static struct obq_rcu_head head;
	deferred_ran = 0;
	obq_rcu_call(&head, deferred_free);
	CHECK("typesafe destroy waits for the deferred free", obq_cache_destroy(deferred_cache) == 0);
	CHECK("the deferred free ran before destroy returned", deferred_ran == 1);
	CHECK("no report", rec.count == 0);

	/* destroy_force drops live objects silently. */
	rec_reset();
	c = obq_cache_create("forced", 64, 0, OBQ_TYPESAFE_BY_RCU, NULL);
	for (int i = 0; i < 100; i++)
		obq_cache_alloc(c);
	CHECK("destroy_force with live objects", obq_cache_destroy_force(c) == 0);
	CHECK("destroy_force reports nothing", rec.count == 0);
	obq_set_error_hook(old, NULL);
}

/* ---------------------------------------------------------------------------------
 * Reuse modes. */

static void test_reuse_modes(void)
{
	if (getenv("OBQ_REUSE") == NULL)
		CHECK("default mode recycle", obq_get_reuse_mode() == OBQ_REUSE_RECYCLE);
	CHECK("bad mode", obq_set_reuse_mode((enum obq_reuse_mode)7) == -EINVAL);
	obq_cache_t *c = obq_cache_create("mode_guard", 64, 0, 0, NULL);
	CHECK("mode change refused while a cache exists",
	      obq_set_reuse_mode(OBQ_REUSE_RCU_DEBUG) == -EBUSY);
	obq_cache_destroy(c);
	CHECK("rcu-debug set", obq_set_reuse_mode(OBQ_REUSE_RCU_DEBUG) == 0);
	CHECK("rcu-debug read back", obq_get_reuse_mode() == OBQ_REUSE_RCU_DEBUG);

	obq_rcu_register_thread();
	c = obq_cache_create("rcu_debug", 64, 0, OBQ_TYPESAFE_BY_RCU, NULL);
	obq_cache_t *plain = obq_cache_create("rcu_debug_plain", 64, 0, 0, NULL);
	struct obq_cache_stats st;
	obq_cache_stats(c, &st);
	size_t per = st.objects_per_slab;
	void *p = obq_cache_alloc(c);
	memset(p, 0x77, 64);
	obq_rcu_read_lock(); /* hold the grace period */
	obq_cache_free(c, p);
	obq_cache_stats(c, &st);
	CHECK("rcu-debug: objects_free_pending counts the free", st.objects_free_pending == 1);
	CHECK("rcu-debug: not live", st.objects_live == 0);
	void **v = calloc(per, sizeof *v);
	int seen = 0;
	for (size_t i = 0; i < per; i++) {
		v[i] = obq_cache_alloc(c);
		seen |= v[i] == p;
	}
	CHECK("rcu-debug: not reused before a grace period", !seen);
	obq_rcu_read_unlock();
	obq_rcu_barrier();
	obq_cache_stats(c, &st);
	CHECK("rcu-debug: pending 0 after the grace period", st.objects_free_pending == 0);
	CHECK("rcu-debug: the object was not written", raw_byte(p, 0) == 0x77 && raw_byte(p, 63) == 0x77);
	for (size_t i = 0; i < per; i++)
		obq_cache_free(c, v[i]);
	obq_rcu_barrier();
	/* p is FREE on a slab now: it comes back within a few slabs' worth of allocs.  (No
	 * shrink here: it may release p's slab, and a released slab's address is not
	 * reused while it sits in the checker's quarantine.) */
	size_t m = 4 * per;
	void **u = calloc(m, sizeof *u);
	seen = 0;
	size_t got = 0;
	while (got < m && !seen) {
		u[got] = obq_cache_alloc(c);
		seen |= u[got++] == p;
	}
	CHECK("rcu-debug: reusable after the grace period", seen);
	obq_cache_free_bulk(c, got, u);
	free(u);
	/* A non-typesafe cache is not deferred. */
	void *a = obq_cache_alloc(plain);
	obq_cache_free(plain, a);
	CHECK("rcu-debug leaves plain caches alone", obq_cache_alloc(plain) == a);
	obq_cache_free(plain, a);
	/* Destroy waits for pending frees. */
	void *b = obq_cache_alloc(c);
	obq_cache_free(c, b);
	CHECK("destroy with frees pending", obq_cache_destroy(c) == 0);
	CHECK("destroy plain", obq_cache_destroy(plain) == 0);
	free(v);
	obq_rcu_unregister_thread();
	CHECK("back to recycle", obq_set_reuse_mode(OBQ_REUSE_RECYCLE) == 0);
}

/* ---------------------------------------------------------------------------------
 * Guards. */

struct gobj {
	unsigned ref;        /* refcount */
	unsigned char lock;  /* lock byte */
	unsigned long key;   /* key */
};

static void test_guards(void)
{
	obq_cache_t *c = obq_cache_create("guards", sizeof(struct gobj), 0, OBQ_TYPESAFE_BY_RCU, NULL);
	CHECK("guard refcount", OBQ_DECLARE_GUARD(c, OBQ_GUARD_REFCOUNT, struct gobj, ref) == 0);
	CHECK("guard lock (1 byte)", OBQ_DECLARE_GUARD(c, OBQ_GUARD_LOCK, struct gobj, lock) == 0);
	CHECK("guard key", OBQ_DECLARE_GUARD(c, OBQ_GUARD_KEY, struct gobj, key) == 0);
	CHECK("guard size 3 refused", obq_cache_declare_guard(c, OBQ_GUARD_LINK, 0, 3) == -EINVAL);
	CHECK("guard size 16 refused", obq_cache_declare_guard(c, OBQ_GUARD_LINK, 0, 16) == -EINVAL);
	CHECK("guard past the end refused",
	      obq_cache_declare_guard(c, OBQ_GUARD_LINK, sizeof(struct gobj) - 4, 8) == -EINVAL);
	CHECK("guard offset huge refused",
	      obq_cache_declare_guard(c, OBQ_GUARD_LINK, SIZE_MAX - 2, 4) == -EINVAL);
	CHECK("guard bad kind refused",
	      obq_cache_declare_guard(c, OBQ_GUARD_KIND_COUNT, 0, 4) == -EINVAL);
	CHECK("guard NULL cache refused", obq_cache_declare_guard(NULL, OBQ_GUARD_KEY, 0, 4) == -EINVAL);
	CHECK("guard at the very end", obq_cache_declare_guard(c, OBQ_GUARD_GENERATION,
							       sizeof(struct gobj) - 8, 8) == 0);
	CHECK("destroy", obq_cache_destroy(c) == 0);
}

/* ---------------------------------------------------------------------------------
 * Threads: cross-thread frees, thread exit, caches destroyed under other threads'
 * magazines. */

struct xarg {
	obq_cache_t *c;   /* cache to use */
	void **objs;      /* objects to free */
	size_t n;         /* how many */
};

static void *free_all_thread(void *arg)
{
	struct xarg *x = arg;
	for (size_t i = 0; i < x->n; i++)
		obq_cache_free(x->c, x->objs[i]);
	return NULL; /* thread exit flushes this thread's magazine */
}

static pthread_mutex_t gate_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_step;           /* 0 -> 1 (worker holds magazine) -> 2 (main destroyed) -> 3 */
static obq_cache_t *gate_cache; /* the cache of step 2 */
static void *gate_obj;          /* what the worker allocated at step 2 */

static void gate_wait(int step)
{
	pthread_mutex_lock(&gate_m);
	while (gate_step < step)
		pthread_cond_wait(&gate_cv, &gate_m);
	pthread_mutex_unlock(&gate_m);
}

static void gate_set(int step)
{
	pthread_mutex_lock(&gate_m);
	gate_step = step;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_m);
}

static void *holder_thread(void *arg)
{
	obq_cache_t *x = arg;
	enum { H = 2000 }; /* more than a magazine's first capacity: its array grew */
	void **v = calloc(H, sizeof *v);
	for (int i = 0; i < H; i++)
		v[i] = obq_cache_alloc(x);
	for (int i = 0; i < H; i++)
		obq_cache_free(x, v[i]); /* now in this thread's (grown) magazine */
	free(v);
	gate_set(1);
	gate_wait(2);
	/* x is gone; its id may now belong to gate_cache.  Our stale entry must not leak
	 * x's pointers into gate_cache. */
	gate_obj = obq_cache_alloc(gate_cache);
	gate_set(3);
	return NULL;
}

/* Growing magazines (magazine.h): what a thread that allocates in batches frees stays
 * its own; a thread that only frees (a consumer) keeps no more than a magazine. */
enum { OWN_N = 4000 };        /* 250 KiB of 64-byte objects: within a magazine's limit */
static obq_cache_t *own_cache;
static void *own_first[OWN_N], *own_again[OWN_N], *own_main[OWN_N];

static int ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;
	return x < y ? -1 : x > y;
}

static int in_set(void *const *sorted, size_t n, void *p)
{
	return bsearch(&p, sorted, n, sizeof p, ptr_cmp) != NULL;
}

static void *batch_thread(void *arg)
{
	(void)arg;
	for (int i = 0; i < OWN_N; i++)
		own_first[i] = obq_cache_alloc(own_cache);
	for (int i = 0; i < OWN_N; i++)
		obq_cache_free(own_cache, own_first[i]);
	gate_set(1);
	gate_wait(2); /* main allocates OWN_N meanwhile */
	for (int i = 0; i < OWN_N; i++)
		own_again[i] = obq_cache_alloc(own_cache);
	for (int i = 0; i < OWN_N; i++)
		obq_cache_free(own_cache, own_again[i]);
	return NULL; /* exit: the magazine goes back to the slabs */
}

static void *consumer_thread(void *arg)
{
	(void)arg;
	for (int i = 0; i < OWN_N; i++)
		obq_cache_free(own_cache, own_first[i]);
	gate_set(1);
	gate_wait(2); /* stay alive (an exit would flush everything) while main allocates */
	return NULL;
}

static void test_thread_magazines(void)
{
	own_cache = obq_cache_create("own-batch", 64, 0, OBQ_TYPESAFE_BY_RCU, NULL);
	gate_step = 0;
	pthread_t th;
	pthread_create(&th, NULL, batch_thread, NULL);
	gate_wait(1);
	CHECK("the worker freed everything", live_of(own_cache) == 0);
	for (int i = 0; i < OWN_N; i++)
		own_main[i] = obq_cache_alloc(own_cache);
	gate_set(2);
	pthread_join(th, NULL);
	qsort(own_first, OWN_N, sizeof(void *), ptr_cmp);
	size_t taken = 0, kept = 0;
	for (int i = 0; i < OWN_N; i++) {
		taken += in_set(own_first, OWN_N, own_main[i]);
		kept += in_set(own_first, OWN_N, own_again[i]);
	}
	/* Through a shared depot main would have taken the worker's objects, and the two
	 * threads would share slot-word cache lines from then on. */
	CHECK("another thread gets none of what a thread freed", taken == 0);
	/* All but what sat under the freed objects in its magazine (the rest of the last
	 * refill batch: fewer than a magazine's capacity, 126). */
	CHECK("the freeing thread gets what it freed back", kept >= OWN_N - 126);
	struct obq_cache_stats st;
	obq_cache_stats(own_cache, &st);
	CHECK("live: main's only", st.objects_live == OWN_N);
	for (int i = 0; i < OWN_N; i++)
		obq_cache_free(own_cache, own_main[i]);
	CHECK("main's magazine returns on shrink; the exited worker's went at exit: all slabs go",
	      obq_cache_shrink(own_cache) > 0);
	obq_rcu_barrier();
	obq_cache_stats(own_cache, &st);
	CHECK("nothing left after shrink + barrier", st.slabs == 0 && st.bytes_mapped == 0);
	CHECK("destroy", obq_cache_destroy(own_cache) == 0);

	/* A consumer: frees what main allocated and stays alive.  Its frees must reach the
	 * depot (it never refilled, so its magazine never grew), where main finds them. */
	own_cache = obq_cache_create("consumer", 64, 0, OBQ_TYPESAFE_BY_RCU, NULL);
	for (int i = 0; i < OWN_N; i++)
		own_first[i] = obq_cache_alloc(own_cache);
	gate_step = 0;
	pthread_create(&th, NULL, consumer_thread, NULL);
	gate_wait(1);
	for (int i = 0; i < OWN_N; i++)
		own_again[i] = obq_cache_alloc(own_cache);
	gate_set(2);
	pthread_join(th, NULL);
	qsort(own_first, OWN_N, sizeof(void *), ptr_cmp);
	size_t reused = 0;
	for (int i = 0; i < OWN_N; i++)
		reused += in_set(own_first, OWN_N, own_again[i]);
	/* All but the consumer's magazine (its first capacity, at most 126) and what was
	 * left in main's own (at most 126). */
	CHECK("a consumer keeps no more than a magazine: the producer gets the rest back",
	      reused >= OWN_N - 2 * 126);
	for (int i = 0; i < OWN_N; i++)
		obq_cache_free(own_cache, own_again[i]);
	CHECK("destroy consumer cache", obq_cache_destroy(own_cache) == 0);
}

static void test_threads(void)
{
	/* Cross-thread frees land in the freeing thread's magazine; its exit flushes them. */
	obq_cache_t *c = obq_cache_create("xthread", 64, 0, OBQ_TYPESAFE_BY_RCU, NULL);
	enum { N = 5000 };
	void **v = calloc(N, sizeof *v);
	for (int i = 0; i < N; i++)
		v[i] = obq_cache_alloc(c);
	struct xarg xa = { c, v, N };
	pthread_t th;
	pthread_create(&th, NULL, free_all_thread, &xa);
	pthread_join(th, NULL);
	CHECK("cross-thread frees: live 0", live_of(c) == 0);
	CHECK("thread exit flushed to the slabs: shrink releases them all", obq_cache_shrink(c) > 0);
	obq_rcu_barrier();
	struct obq_cache_stats st;
	obq_cache_stats(c, &st);
	CHECK("nothing left after shrink + barrier", st.slabs == 0 && st.bytes_mapped == 0);
	CHECK("destroy", obq_cache_destroy(c) == 0);
	free(v);

	/* A cache destroyed while another thread holds its objects in a magazine. */
	obq_cache_t *x = obq_cache_create("doomed", 64, 0, OBQ_TYPESAFE_BY_RCU, NULL);
	gate_step = 0;
	pthread_create(&th, NULL, holder_thread, x);
	gate_wait(1);
	CHECK("destroy while another thread's magazine holds free objects", obq_cache_destroy(x) == 0);
	gate_cache = obq_cache_create("reborn", 64, 0, OBQ_TYPESAFE_BY_RCU, NULL);
	gate_set(2);
	gate_wait(3);
	pthread_join(th, NULL);
	CHECK("other thread allocated from the new cache", gate_obj != NULL);
	obq_cache_stats(gate_cache, &st);
	CHECK("the object is a live object of the new cache", st.objects_live == 1);
	obq_error_hook_fn old = obq_set_error_hook(record_hook, &rec);
	rec_reset();
	obq_cache_free(gate_cache, gate_obj);
	CHECK("freeing it to the new cache is clean", rec.count == 0 && live_of(gate_cache) == 0);
	obq_set_error_hook(old, NULL);
	CHECK("destroy new", obq_cache_destroy(gate_cache) == 0);
}

/* Heap bytes in use: the sanitizer allocator's count under ASan or TSan (they replace
 * malloc), glibc's otherwise. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TC_SAN_ALLOCATOR 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TC_SAN_ALLOCATOR 1
#endif
#ifdef TC_SAN_ALLOCATOR
#include <sanitizer/allocator_interface.h>
static size_t heap_in_use(void)
{
	return __sanitizer_get_current_allocated_bytes();
}
#else
#include <malloc.h>
static size_t heap_in_use(void)
{
	return mallinfo2().uordblks;
}
#endif

/* obq_testing_thread_trim: a context's magazine array of a destroyed cache is freed by
 * the trim (heap bytes in use fall), one of a live cache is kept (the context goes on
 * allocating from it). */
static void test_thread_trim(void)
{
	obq_testing_thread_trim(NULL); /* nothing to do */
	obq_thread_t *t = obq_thread_new();
	CHECK_FATAL("trim: context", t != NULL);
	obq_cache_t *live = obq_cache_create("trim-live", 64, 0, 0, NULL);
	obq_cache_t *dead = obq_cache_create("trim-dead", 64, 0, 0, NULL);
	CHECK_FATAL("trim: create", live != NULL && dead != NULL);
	obq_thread_t *prev = obq_thread_switch(t);
	void *a = obq_cache_alloc(live), *b = obq_cache_alloc(dead);
	CHECK_FATAL("trim: alloc", a != NULL && b != NULL);
	obq_cache_free(live, a);
	obq_cache_free(dead, b);
	obq_thread_switch(prev);
	CHECK("trim: destroy (an object still in the context's magazine)",
	      obq_cache_destroy(dead) == 0);
	size_t before = heap_in_use();
	obq_testing_thread_trim(t);
	size_t after = heap_in_use();
	CHECK("trim: the destroyed cache's magazine array is freed", after < before);
	before = heap_in_use();
	obq_testing_thread_trim(t);
	CHECK("trim: a second trim frees nothing more", heap_in_use() == before);
	obq_thread_switch(t);
	a = obq_cache_alloc(live);
	CHECK("trim: the live cache's magazine still serves", a != NULL);
	obq_cache_free(live, a);
	obq_thread_switch(prev);
	obq_thread_delete(t);
	CHECK("trim: destroy the live cache", obq_cache_destroy(live) == 0);
}

/* obq_cache_set_fuzz_magazines: refusals, and a depot that really holds objects — eight
 * frees on one thread leave two in its magazine and two in the depot (4-object slabs:
 * at least one slab stays) until a shrink returns them and every slab goes back. */
static void test_fuzz_magazines(void)
{
	CHECK("magazines: NULL cache", obq_cache_set_fuzz_magazines(NULL, 1, 2) == -EINVAL);
	obq_cache_t *c = obq_cache_create("fuzz-mags", 64, 0, 0, NULL);
	CHECK_FATAL("magazines: create", c != NULL);
	CHECK("magazines: batch 0", obq_cache_set_fuzz_magazines(c, 0, 2) == -EINVAL);
	CHECK("magazines: batch 64", obq_cache_set_fuzz_magazines(c, 64, 2) == -EINVAL);
	CHECK("magazines: depot 17", obq_cache_set_fuzz_magazines(c, 1, 17) == -EINVAL);
	CHECK("magazines: geometry", obq_cache_set_fuzz_geometry(c, 4) == 0);
	CHECK("magazines: set", obq_cache_set_fuzz_magazines(c, 1, 2) == 0);
	void *v[8];
	for (unsigned i = 0; i < 8; i++) {
		v[i] = obq_cache_alloc(c);
		CHECK_FATAL("magazines: alloc", v[i] != NULL);
	}
	CHECK("magazines: busy after alloc", obq_cache_set_fuzz_magazines(c, 1, 2) == -EBUSY);
	for (unsigned i = 0; i < 8; i++)
		obq_cache_free(c, v[i]);
	struct obq_cache_stats st;
	obq_cache_stats(c, &st);
	CHECK("magazines: magazine and depot hold objects", st.slabs >= 1);
	obq_cache_shrink(c);
	obq_cache_stats(c, &st);
	CHECK("magazines: a shrink returns them all", st.slabs == 0);
	CHECK("magazines: destroy", obq_cache_destroy(c) == 0);
}

int main(void)
{
	test_create_refusals();
	test_create_geometry();
	test_rcu_reuse();
	test_ctor_once_per_slot();
	test_no_writes_into_freed();
	test_bulk();
	test_shrink_and_stats();
	test_typesafe_slab_waits_gp();
	test_zero_and_poison();
	test_destroy();
	test_reuse_modes();
	test_guards();
	test_threads();
	test_thread_magazines();
	test_fuzz_magazines();
	test_thread_trim();
	return CHECK_DONE();
}
