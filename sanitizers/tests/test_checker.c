/* test_checker.c — the type-stable checker's rules, one case per rule and its twin.
 *
 *   test_checker <case>          run <case> in a child (this program re-executed with
 *                                --child <case>, stderr captured) and judge it:
 *                                a firing case must die of SIGABRT with a report naming
 *                                the rule, the cache and the slot state; a silent twin
 *                                must exit 0 with nothing from oblique or a sanitizer on
 *                                stderr.  TSan cases expect TSan's exit code 66 and its
 *                                race report instead.
 *   test_checker --child <case>  run the scenario itself (for debugging by hand)
 *   test_checker --valgrind <valgrind> <case>
 *                                run the child under valgrind --error-exitcode=99
 *   test_checker unit            in-process checks with a recording error hook (tokens,
 *                                obq_clear_except_guards, describe, every rule once
 *                                more with the program going on after the report)
 *   test_checker --list          the case names
 *
 * The scenarios are the rules of docs/checker.md and the Linux KASAN tests
 * kmem_cache_rcu_uaf / kmem_cache_rcu_reuse. */
#include <oblique/oblique.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "run_capture.h" /* alloc/tests: expected-failure children */

/* ---------------------------------------------------------------------------------
 * The object the scenarios use. */

struct conn {
	obq_refcount_t ref;     /* guard: 0 while free */
	obq_spinlock_t lock;    /* guard: ctor-initialised */
	unsigned key;           /* guard: identity, re-checked after the pin */
	unsigned dead;          /* set by the owner on teardown */
	struct obq_rcu_head rcu;/* for callbacks */
	unsigned long data[4];  /* payload */
};

struct file {
	obq_refcount_t ref;     /* guard */
	unsigned key;           /* identity */
	unsigned mode;          /* payload */
};

static void conn_ctor(void *p)
{
	struct conn *c = p;
	obq_ref_init(&c->ref);
	obq_spin_lock_init(&c->lock);
}

static obq_cache_t *make_conn_cache(int with_ctor)
{
	obq_cache_t *c = obq_cache_create("conn", sizeof(struct conn), 0, OBQ_TYPESAFE_BY_RCU,
					  with_ctor ? conn_ctor : NULL);
	if (c == NULL) {
		fprintf(stderr, "cache create: %s\n", obq_last_error());
		exit(3);
	}
	OBQ_DECLARE_GUARD(c, OBQ_GUARD_REFCOUNT, struct conn, ref);
	OBQ_DECLARE_GUARD(c, OBQ_GUARD_LOCK, struct conn, lock);
	OBQ_DECLARE_GUARD(c, OBQ_GUARD_KEY, struct conn, key);
	return c;
}

static void set_mode(enum obq_reuse_mode m)
{
	if (obq_set_reuse_mode(m) != 0) {
		fprintf(stderr, "obq_set_reuse_mode failed\n");
		exit(3);
	}
}

static struct conn *alloc_conn(obq_cache_t *c, unsigned key)
{
	struct conn *p = obq_cache_alloc(c);
	if (p == NULL)
		exit(3);
	OBQ_STORE(p, key, key);
	return p;
}

/* Keep the compiler from dropping reads whose value is unused. */
static volatile unsigned long sink;

/* ---------------------------------------------------------------------------------
 * Scenarios.  Each returns normally only if nothing was reported. */

/* FREE object touched outside a read-side section (bug class 18). */
static void s_free_outside_reader(int bad)
{
	set_mode(OBQ_REUSE_RECYCLE);
	obq_cache_t *c = make_conn_cache(1);
	if (!bad)
		obq_rcu_read_lock();
	struct conn *p = alloc_conn(c, 1);
	obq_cache_free(c, p);
	sink = OBQ_PEEK(p, key); /* bad: no section */
	if (!bad)
		obq_rcu_read_unlock();
	obq_cache_destroy(c);
}

/* KASAN kmem_cache_rcu_reuse: free then alloc returns the same address; a peek at the
 * freed object outside any section is reported. */
static void s_kasan_rcu_reuse(int bad)
{
	set_mode(OBQ_REUSE_RECYCLE);
	obq_cache_t *c = make_conn_cache(1);
	struct conn *p = alloc_conn(c, 1);
	obq_cache_free(c, p);
	struct conn *q = alloc_conn(c, 2);
	if (q != p) {
		fprintf(stderr, "kmem_cache_rcu_reuse: free then alloc gave %p, not %p\n",
			(void *)q, (void *)p);
		exit(4);
	}
	obq_cache_free(c, q);
	if (!bad)
		obq_rcu_read_lock();
	sink = OBQ_PEEK(p, key);
	if (!bad)
		obq_rcu_read_unlock();
	obq_cache_destroy(c);
}

/* KASAN kmem_cache_rcu_uaf (rcu-debug mode): free inside a section, peek: legal; after
 * obq_rcu_barrier() the deferred free completed and a peek is a use after the GP. */
static void s_kasan_rcu_uaf(int bad)
{
	set_mode(OBQ_REUSE_RCU_DEBUG);
	obq_cache_t *c = make_conn_cache(1);
	obq_rcu_read_lock();
	struct conn *p = alloc_conn(c, 1);
	obq_cache_free(c, p);
	sink = OBQ_PEEK(p, key); /* legal: FREE-PENDING inside the section */
	obq_rcu_read_unlock();
	obq_rcu_barrier();
	if (bad) {
		obq_rcu_read_lock();
		sink = OBQ_PEEK(p, key); /* use after the grace period */
		obq_rcu_read_unlock();
	}
	obq_cache_destroy(c);
}

/* RELEASED slot touched: the slab went back after a grace period (class 19 / 18). */
static void s_released_access(int bad)
{
	set_mode(OBQ_REUSE_RECYCLE);
	obq_cache_t *c = make_conn_cache(1);
	struct conn *p = alloc_conn(c, 1);
	obq_cache_free(c, p);
	obq_rcu_read_lock();
	sink = OBQ_PEEK(p, key); /* legal: FREE inside a section */
	obq_rcu_read_unlock();
	obq_cache_shrink(c);     /* the empty slab goes back after a grace period */
	obq_rcu_barrier();
	if (bad) {
		obq_rcu_read_lock();
		sink = OBQ_PEEK(p, key); /* its slab is gone: always a report */
		obq_rcu_read_unlock();
	}
	obq_cache_destroy(c);
}

/* A failed pin that writes (class 10: the file_ref_t fix). */
static void s_free_store(int bad)
{
	set_mode(OBQ_REUSE_RECYCLE);
	obq_cache_t *c = make_conn_cache(1);
	struct conn *p = alloc_conn(c, 1);
	obq_cache_free(c, p);
	obq_rcu_read_lock();
	if (!obq_ref_get_not_zero(&p->ref)) {
		if (bad)
			OBQ_STORE(p, dead, 1); /* marks a maybe-recycled object */
	} else {
		obq_ref_put(&p->ref);
	}
	obq_rcu_read_unlock();
	obq_cache_destroy(c);
}

/* Lock initialised at alloc, not in the ctor (class 7), while a stale reader holds it. */
static void s_lock_reinit(int bad)
{
	set_mode(OBQ_REUSE_RECYCLE);
	obq_cache_t *c = make_conn_cache(!bad); /* bad: no ctor, init on alloc */
	struct conn *p = obq_cache_alloc(c);
	if (bad)
		obq_spin_lock_init(&p->lock); /* fresh slot: nobody holds it yet */
	obq_cache_free(c, p);
	obq_rcu_read_lock();
	obq_spin_lock_oblique(&p->lock); /* a stale reader locks the freed object */
	struct conn *q = obq_cache_alloc(c); /* recycled: same address */
	if (bad)
		obq_spin_lock_init(&q->lock); /* re-init under the reader */
	obq_spin_unlock(&p->lock);
	obq_rcu_read_unlock();
	obq_cache_free(c, q);
	obq_cache_destroy(c);
}

/* Free with the declared refcount not zero (class 5). */
static void s_free_refcount(int bad)
{
	set_mode(OBQ_REUSE_RECYCLE);
	obq_cache_t *c = make_conn_cache(1);
	struct conn *p = alloc_conn(c, 1);
	obq_ref_set_release(&p->ref, 1); /* published */
	if (!bad && obq_ref_put(&p->ref) != 1)
		exit(4);
	obq_cache_free(c, p);
	obq_cache_destroy(c);
}

/* Oblique access through the wrong type (class 17). */
static void s_type_mismatch(int bad)
{
	set_mode(OBQ_REUSE_RECYCLE);
	obq_cache_t *cc = make_conn_cache(1);
	obq_cache_t *fc = obq_cache_create("file", sizeof(struct file), 0, OBQ_TYPESAFE_BY_RCU, NULL);
	struct file *f = obq_cache_alloc(fc);
	struct conn *p = alloc_conn(cc, 1);
	struct conn *stale = bad ? (struct conn *)(void *)f : p;
	obq_rcu_read_lock();
	sink = OBQ_PEEK_TYPED(cc, stale, key);
	obq_rcu_read_unlock();
	obq_cache_free(fc, f);
	obq_cache_free(cc, p);
	obq_cache_destroy(fc);
	obq_cache_destroy(cc);
}

/* Destroy while callbacks that touch the cache's objects are pending (class 16): a
 * callback that re-arms itself, as a periodic RCU-deferred job does. */
static obq_cache_t *tick_cache;
static struct conn *tick_obj;
static int tick_rearm;  /* atomic */
static int tick_runs;   /* atomic */

static void tick(struct obq_rcu_head *h)
{
	__atomic_fetch_add(&tick_runs, 1, __ATOMIC_RELAXED);
	if (__atomic_load_n(&tick_rearm, __ATOMIC_ACQUIRE))
		obq_rcu_call_obj(tick_obj, h, tick);
}

static void s_destroy_pending(int bad)
{
	set_mode(OBQ_REUSE_RECYCLE);
	tick_cache = make_conn_cache(1);
	tick_obj = alloc_conn(tick_cache, 7);
	__atomic_store_n(&tick_rearm, 1, __ATOMIC_RELEASE);
	static struct obq_rcu_head head;
	obq_rcu_call_obj(tick_obj, &head, tick);
	obq_cache_free(tick_cache, tick_obj);
	while (__atomic_load_n(&tick_runs, __ATOMIC_RELAXED) < 2)
		obq_rcu_barrier();
	if (!bad) {
		/* The fix: stop re-arming, then a barrier per generation of callbacks. */
		__atomic_store_n(&tick_rearm, 0, __ATOMIC_RELEASE);
		obq_rcu_barrier();
		obq_rcu_barrier();
	}
	obq_cache_destroy(tick_cache);
	__atomic_store_n(&tick_rearm, 0, __ATOMIC_RELEASE);
	obq_rcu_barrier();
	obq_rcu_barrier();
}

/* A guard field written while the object was free (class 8), caught at the next alloc.
 * Plain write: under ASan it is stopped earlier (free-plain-access), so this case is
 * registered in non-ASan builds only. */
static void s_guard_clobber(int bad)
{
	set_mode(OBQ_REUSE_RECYCLE);
	obq_cache_t *c = make_conn_cache(1);
	struct conn *p = alloc_conn(c, 5);
	obq_cache_free(c, p);
	if (bad)
		((volatile struct conn *)p)->key = 6; /* e.g. allocator metadata over the key */
	struct conn *q = obq_cache_alloc(c);
	obq_cache_free(c, q);
	obq_cache_destroy(c);
}

/* Plain (uninstrumented-by-oblique) read of a FREE object: ASan stops it at the
 * instruction; the twin reads the same object through OBQ_PEEK inside a section. */
static void s_free_plain_access(int bad)
{
	set_mode(OBQ_REUSE_RECYCLE);
	obq_cache_t *c = make_conn_cache(1);
	struct conn *p = alloc_conn(c, 1);
	obq_cache_free(c, p);
	obq_rcu_read_lock();
	if (bad)
		sink = ((volatile struct conn *)p)->data[1];
	else
		sink = OBQ_PEEK(p, data[1]);
	obq_rcu_read_unlock();
	obq_cache_destroy(c);
}

/* ASan: an access-layer pin of heap memory another allocator (here malloc) gave back:
 * released-access, asked of ASan's shadow (docs/checker.md §9). */
static void s_foreign_released(int bad)
{
	struct obj { obq_refcount_t ref; uint64_t key; } *o = calloc(1, sizeof *o);
	if (o == NULL)
		abort();
	obq_ref_init(&o->ref);
	o->key = 7;
	obq_ref_set_release(&o->ref, 1);
	struct obj *stale = o;
	if (bad)
		free(o);
	obq_rcu_read_lock();
	sink = OBQ_PEEK(stale, key);
	obq_rcu_read_unlock();
	if (!bad)
		free(o);
}

/* Plain read of a RELEASED slot (ASan, quarantine keeps it mapped and poisoned). */
static void s_released_plain_access(int bad)
{
	set_mode(OBQ_REUSE_RECYCLE);
	obq_cache_t *c = make_conn_cache(1);
	struct conn *p = alloc_conn(c, 1);
	obq_cache_free(c, p);
	obq_cache_shrink(c);
	obq_rcu_barrier();
	if (bad)
		sink = ((volatile struct conn *)p)->key;
	obq_cache_destroy(c);
}

/* The quarantine is bounded (the parent runs this child with OBQ_QUARANTINE_SLABS=2):
 * of five released slabs the three oldest go back to the system (unknown to the
 * lookup), the two newest stay (RELEASED). */
static void s_quarantine_bounded(int bad)
{
	(void)bad;
	set_mode(OBQ_REUSE_RECYCLE);
	obq_cache_t *c = obq_cache_create("big", 16384, 0, OBQ_TYPESAFE_BY_RCU, NULL);
	struct obq_cache_stats st;
	obq_cache_stats(c, &st);
	enum { NSLAB = 5 };
	size_t per = st.objects_per_slab, n = per * NSLAB;
	void **objs = calloc(n, sizeof *objs);
	if (obq_cache_alloc_bulk(c, n, objs) != n)
		exit(6);
	obq_cache_free_bulk(c, n, objs);
	obq_cache_shrink(c);
	obq_rcu_barrier();
	unsigned gone = 0, released = 0;
	char buf[4096];
	for (size_t i = 0; i < n; i += per) {
		obq_describe_object(objs[i], buf, sizeof buf);
		if (strstr(buf, "not in any oblique cache"))
			gone++;
		else if (strstr(buf, "state RELEASED"))
			released++;
	}
	if (gone != NSLAB - 2 || released != 2) {
		fprintf(stderr, "quarantine: %u slabs unmapped, %u quarantined (want 3, 2)\n",
			gone, released);
		exit(6);
	}
	free(objs);
	obq_cache_destroy(c);
}

/* The allocator's double free, enriched with the typesafe context. */
static void s_double_free(int bad)
{
	set_mode(OBQ_REUSE_RECYCLE);
	obq_cache_t *c = make_conn_cache(1);
	struct conn *p = alloc_conn(c, 1);
	obq_cache_free(c, p);
	if (bad)
		obq_cache_free(c, p);
	obq_cache_destroy(c);
}

/* Valgrind: a plain read of a FREE object is an invalid read; the twin's OBQ_PEEK in a
 * section is quiet. */
static void s_vg_plain_read(int bad)
{
	s_free_plain_access(bad);
}

/* ---- TSan cases: multi-threaded publication ---- */

struct pub {
	obq_refcount_t ref;  /* published last */
	unsigned long data;  /* plain payload */
	obq_spinlock_t lock; /* protects counter */
	unsigned long counter; /* plain, under lock */
};

static struct pub *pub_obj;
static int pub_bad;

static void *pub_reader(void *arg)
{
	(void)arg;
	obq_rcu_register_thread();
	while (!obq_ref_get_not_zero(&pub_obj->ref))
		sched_yield();
	sink = pub_obj->data; /* plain read after the pin: needs the publisher's release */
	obq_ref_put(&pub_obj->ref);
	for (int i = 0; i < 1000; i++) {
		obq_spin_lock(&pub_obj->lock);
		pub_obj->counter++;
		obq_spin_unlock(&pub_obj->lock);
	}
	obq_rcu_unregister_thread();
	return NULL;
}

/* The publisher sets the refcount last: with obq_ref_set_release (twin) or with a
 * relaxed store (bad: class 4, publish before init) — TSan must see the race. */
static void s_tsan_publish(int bad)
{
	static struct pub obj;
	pub_obj = &obj;
	pub_bad = bad;
	obq_ref_init(&obj.ref);
	obq_spin_lock_init(&obj.lock);
	pthread_t th;
	pthread_create(&th, NULL, pub_reader, NULL);
	obj.data = 42;
	if (bad)
		__atomic_store_n((unsigned *)&obj.ref.count, 1, __ATOMIC_RELAXED); /* missing release */
	else
		obq_ref_set_release(&obj.ref, 1);
	for (int i = 0; i < 1000; i++) {
		obq_spin_lock(&obj.lock);
		obj.counter++;
		obq_spin_unlock(&obj.lock);
	}
	pthread_join(th, NULL);
	if (obj.counter != 2000)
		exit(5);
}

/* ---------------------------------------------------------------------------------
 * The case table. */

enum expect { SILENT, FIRES, TSAN_RACE, VG_ERROR, VG_SILENT };

struct tcase {
	const char *name;         /* ctest case name */
	void (*fn)(int bad);      /* scenario */
	int bad;                  /* 1: break the rule */
	enum expect expect;       /* what the parent asserts */
	const char *rule;         /* FIRES: obq_error_name of the rule */
	const char *cache;        /* FIRES: cache named in the report */
	const char *state;        /* FIRES: slot state named in the report */
	const char *extra;        /* FIRES: one more string the report must contain, or NULL */
};

static const struct tcase cases[] = {
	{ "free_outside_reader", s_free_outside_reader, 1, FIRES, "free-access-outside-read-side", "conn", "FREE", "read-side section: no" },
	{ "free_outside_reader_ok", s_free_outside_reader, 0, SILENT, 0, 0, 0, 0 },
	{ "kasan_rcu_reuse", s_kasan_rcu_reuse, 1, FIRES, "free-access-outside-read-side", "conn", "FREE", "freed by thread" },
	{ "kasan_rcu_reuse_ok", s_kasan_rcu_reuse, 0, SILENT, 0, 0, 0, 0 },
	{ "kasan_rcu_uaf", s_kasan_rcu_uaf, 1, FIRES, "use-after-grace-period", "conn", "FREE", "deferred free completed" },
	{ "kasan_rcu_uaf_ok", s_kasan_rcu_uaf, 0, SILENT, 0, 0, 0, 0 },
	{ "released_access", s_released_access, 1, FIRES, "released-access", "conn", "RELEASED", "slab released" },
	{ "released_access_ok", s_released_access, 0, SILENT, 0, 0, 0, 0 },
	{ "free_store", s_free_store, 1, FIRES, "store-to-free-object", "conn", "FREE", "OBQ_STORE" },
	{ "free_store_ok", s_free_store, 0, SILENT, 0, 0, 0, 0 },
	{ "lock_reinit", s_lock_reinit, 1, FIRES, "lock-reinit-while-held", "conn", "ALLOCATED", "held" },
	{ "lock_reinit_ok", s_lock_reinit, 0, SILENT, 0, 0, 0, 0 },
	{ "free_refcount", s_free_refcount, 1, FIRES, "free-with-refcount", "conn", "ALLOCATED", "refused" },
	{ "free_refcount_ok", s_free_refcount, 0, SILENT, 0, 0, 0, 0 },
	{ "type_mismatch", s_type_mismatch, 1, FIRES, "type-mismatch", "file", "ALLOCATED", "expected an object of cache \"conn\"" },
	{ "type_mismatch_ok", s_type_mismatch, 0, SILENT, 0, 0, 0, 0 },
	{ "destroy_pending", s_destroy_pending, 1, FIRES, "destroy-with-pending-callbacks", "conn", "(cache)", "tick" },
	{ "destroy_pending_ok", s_destroy_pending, 0, SILENT, 0, 0, 0, 0 },
	{ "guard_clobber", s_guard_clobber, 1, FIRES, "guard-field-clobbered", "conn", "ALLOCATED", "key" },
	{ "guard_clobber_ok", s_guard_clobber, 0, SILENT, 0, 0, 0, 0 },
	{ "free_plain_access", s_free_plain_access, 1, FIRES, "free-plain-access", "conn", "FREE", "use-after-poison" },
	{ "free_plain_access_ok", s_free_plain_access, 0, SILENT, 0, 0, 0, 0 },
	{ "released_plain_access", s_released_plain_access, 1, FIRES, "released-access", "conn", "RELEASED", "use-after-poison" },
	{ "released_plain_access_ok", s_released_plain_access, 0, SILENT, 0, 0, 0, 0 },
	{ "foreign_released", s_foreign_released, 1, FIRES, "released-access", "(none)", "RELEASED", "freed heap memory" },
	{ "foreign_released_ok", s_foreign_released, 0, SILENT, 0, 0, 0, 0 },
	{ "double_free_context", s_double_free, 1, FIRES, "double-free", "conn", "FREE", "-- typesafe context --" },
	{ "double_free_context_ok", s_double_free, 0, SILENT, 0, 0, 0, 0 },
	{ "quarantine_bounded", s_quarantine_bounded, 0, SILENT, 0, 0, 0, 0 },
	{ "tsan_missing_release", s_tsan_publish, 1, TSAN_RACE, 0, 0, 0, 0 },
	{ "tsan_publish_ok", s_tsan_publish, 0, SILENT, 0, 0, 0, 0 },
	{ "vg_plain_read", s_vg_plain_read, 1, VG_ERROR, 0, 0, 0, 0 },
	{ "vg_peek_ok", s_vg_plain_read, 0, VG_SILENT, 0, 0, 0, 0 },
};
#define NCASES (sizeof cases / sizeof cases[0])

static const struct tcase *find_case(const char *name)
{
	for (size_t i = 0; i < NCASES; i++)
		if (strcmp(cases[i].name, name) == 0)
			return &cases[i];
	return NULL;
}

/* ---------------------------------------------------------------------------------
 * Parent: re-execute ourselves and judge the child. */

static int failures;
#define EXPECT(what, cond)                                                             \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "FAIL %s: %s (%s)\n", tc->name, what, #cond);  \
			failures++;                                                    \
		}                                                                      \
	} while (0)


static char self_path[4096];

static int judge(const struct tcase *tc, const char *valgrind)
{
	char *argv[12];
	int a = 0;
	if (valgrind) {
		argv[a++] = (char *)valgrind;
		argv[a++] = "--error-exitcode=99";
		argv[a++] = "-q";
		argv[a++] = "--trace-children=no";
	}
	argv[a++] = self_path;
	argv[a++] = "--child";
	argv[a++] = (char *)tc->name;
	argv[a] = NULL;
	char *err = NULL;
	if (strcmp(tc->name, "quarantine_bounded") == 0)
		setenv("OBQ_QUARANTINE_SLABS", "2", 1);
	int st = run_capture(argv, &err);
	switch (tc->expect) {
	case FIRES: {
		EXPECT("child dies of SIGABRT", WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
		char want[160];
		snprintf(want, sizeof want, "==oblique== ERROR: %s\n", tc->rule);
		EXPECT("report names the rule", strstr(err, want) != NULL);
		snprintf(want, sizeof want, "cache: %s ", tc->cache);
		EXPECT("report names the cache", strstr(err, want) != NULL);
		snprintf(want, sizeof want, "slot state: %s ", tc->state);
		EXPECT("report names the slot state", strstr(err, want) != NULL);
		if (tc->extra)
			EXPECT("report has the detail", strstr(err, tc->extra) != NULL);
		break;
	}
	case SILENT:
	case VG_SILENT:
		EXPECT("child exits 0", WIFEXITED(st) && WEXITSTATUS(st) == 0);
		EXPECT("no oblique report", strstr(err, "==oblique==") == NULL);
		EXPECT("no sanitizer report", strstr(err, "Sanitizer") == NULL);
		if (tc->expect == VG_SILENT)
			EXPECT("no valgrind error", strstr(err, "Invalid") == NULL);
		break;
	case TSAN_RACE:
		EXPECT("TSan exit code 66", WIFEXITED(st) && WEXITSTATUS(st) == 66);
		EXPECT("TSan data race report", strstr(err, "WARNING: ThreadSanitizer: data race") != NULL);
		break;
	case VG_ERROR:
		EXPECT("valgrind error exit 99", WIFEXITED(st) && WEXITSTATUS(st) == 99);
		EXPECT("memcheck invalid read", strstr(err, "Invalid read") != NULL);
		break;
	}
	if (failures) {
		fprintf(stderr, "---- child status 0x%x, output:\n%s---- end of child output\n", st, err);
	} else {
		/* Show the report once (ctest -V): it is what a user would read. */
		fprintf(stdout, "%s", err);
		fprintf(stdout, "PASS %s\n", tc->name);
	}
	free(err);
	return failures ? 1 : 0;
}

/* ---------------------------------------------------------------------------------
 * In-process unit checks with a recording hook. */

static enum obq_error_kind last_kind;
static char last_msg[8192];
static int nreports;

static void record(const struct obq_error *e, void *arg)
{
	(void)arg;
	last_kind = e->kind;
	snprintf(last_msg, sizeof last_msg, "%s", e->message);
	nreports++;
}

static int unit(void)
{
	int bad = 0;
#define U(name, cond) do { if (!(cond)) { fprintf(stderr, "FAIL unit %s: %s\n", name, #cond); bad++; } } while (0)
	obq_set_error_hook(record, NULL);
	set_mode(OBQ_REUSE_RECYCLE);
	obq_cache_t *c = make_conn_cache(1);

	/* Incarnation tokens. */
	struct conn *p = alloc_conn(c, 1);
	obq_token_t t = obq_incarnation(p);
#if OBQ_CHECKED
	U("token of a live object", t != 0);
	U("same while live", obq_same_incarnation(p, t));
	obq_cache_free(c, p);
	U("not same once freed", !obq_same_incarnation(p, t));
	struct conn *q = alloc_conn(c, 2);
	U("recycled", q == p);
	U("not same once recycled", !obq_same_incarnation(q, t));
	U("new token differs", obq_incarnation(q) != t);
	int x;
	U("ordinary memory: same", obq_same_incarnation(&x, obq_incarnation(&x)));
#else
	U("release: token 0", t == 0);
	U("release: same", obq_same_incarnation(p, 12345));
	struct conn *q = p;
#endif

	/* obq_clear_except_guards keeps ref, lock, key and zeroes the rest. */
	obq_ref_set_release(&q->ref, 3);
	OBQ_STORE(q, key, 77);
	OBQ_STORE(q, dead, 9);
	q->data[0] = q->data[3] = 0x5555;
	U("clear", obq_clear_except_guards(c, q) == 0);
	U("clear keeps ref", obq_ref_read(&q->ref) == 3);
	U("clear keeps key", OBQ_PEEK(q, key) == 77);
	U("clear zeroes dead", q->dead == 0);
	U("clear zeroes data", q->data[0] == 0 && q->data[3] == 0);
	U("clear EINVAL", obq_clear_except_guards(NULL, q) == -EINVAL);
	obq_ref_set_release(&q->ref, 0);

	/* Describe. */
	char buf[4096];
	size_t n = obq_describe_object(q, buf, sizeof buf);
	U("describe non-empty", n > 0 && strlen(buf) == n);
#if OBQ_CHECKED
	U("describe names the cache", strstr(buf, "\"conn\"") != NULL);
	U("describe names the state", strstr(buf, "ALLOCATED") != NULL);
	U("describe has the alloc site", strstr(buf, "allocated (generation") != NULL);
#endif
	n = obq_describe_object(buf, buf, sizeof buf);
	U("describe foreign", strstr(buf, "not in any oblique cache") != NULL);

	/* Seqcount and rwlock, single-threaded semantics. */
	obq_seqcount_t sq;
	obq_seqcount_init(&sq);
	unsigned s0 = obq_read_seqcount_begin(&sq);
	U("seq no retry", !obq_read_seqcount_retry(&sq, s0));
	obq_write_seqcount_begin(&sq);
	obq_write_seqcount_end(&sq);
	U("seq retry after a write", obq_read_seqcount_retry(&sq, s0));
	obq_rwlock_t rw;
	obq_rwlock_init(&rw);
	U("read trylock", obq_read_trylock_oblique(&rw));
	U("read trylock twice", obq_read_trylock_oblique(&rw));
	U("write trylock fails under readers", !obq_write_trylock(&rw));
	obq_read_unlock(&rw);
	obq_read_unlock(&rw);
	obq_write_lock(&rw);
	U("read trylock fails under the writer", !obq_read_trylock_oblique(&rw));
	obq_write_unlock(&rw);
	obq_spinlock_t sl;
	obq_spin_lock_init(&sl);
	U("trylock", obq_spin_trylock_oblique(&sl));
	U("trylock held", !obq_spin_trylock_oblique(&sl) && obq_spin_is_locked(&sl));
	obq_spin_unlock(&sl);
	U("unlocked", !obq_spin_is_locked(&sl));
	obq_refcount_t r;
	obq_ref_init(&r);
	U("pin 0 fails", !obq_ref_get_not_zero(&r));
	obq_ref_set_release(&r, 1);
	U("pin 1", obq_ref_get_not_zero(&r) && obq_ref_read(&r) == 2);
	obq_ref_get(&r);
	U("put 3->2", !obq_ref_put(&r));
	U("put 2->1", !obq_ref_put(&r));
	U("put 1->0", obq_ref_put(&r));

#if OBQ_CHECKED
	/* Rules with a recording hook: the program goes on after each report. */
	obq_cache_free(c, q);
	nreports = 0;
	sink = OBQ_PEEK(q, key);
	U("outside reader reported", nreports == 1 && last_kind == OBQ_ERR_FREE_OUTSIDE_READER);
	obq_rcu_read_lock();
	sink = OBQ_PEEK(q, key);
	U("inside reader silent", nreports == 1);
	OBQ_STORE(q, dead, 1);
	U("store reported", nreports == 2 && last_kind == OBQ_ERR_FREE_STORE);
	obq_rcu_read_unlock();
	struct conn *o = alloc_conn(c, 3);
	obq_ref_set_release(&o->ref, 1);
	obq_cache_free(c, o);
	U("free with ref refused", nreports == 3 && last_kind == OBQ_ERR_FREE_REFCOUNT);
	U("... and the object stays live", obq_same_incarnation(o, obq_incarnation(o)));
	U("report has the rule", strstr(last_msg, "free-with-refcount") != NULL);
	obq_ref_put(&o->ref);
	obq_cache_free(c, o);
	U("then freed", nreports == 3 && !obq_same_incarnation(o, 1));
	obq_spin_lock(&o->lock);
	U("owner lock of a FREE object reported", nreports == 4 && last_kind == OBQ_ERR_FREE_STORE);
	obq_spin_unlock(&o->lock);
#else
	obq_cache_free(c, q);
#endif
	obq_set_error_hook(NULL, NULL);
	obq_cache_destroy(c);

	/* slabs_released_stale: a slab counts when a reader touched one of its freed
	 * objects after it was queued to go back, and only then. */
	for (int touch = 0; touch <= 1; touch++) {
		obq_cache_t *sc = make_conn_cache(1);
		struct conn *so = alloc_conn(sc, 1);
		obq_rcu_read_lock();
		obq_cache_free(sc, so);
		obq_cache_shrink(sc);          /* the empty slab waits for a grace period */
		if (touch)
			sink = OBQ_PEEK(so, key); /* legal: a stale reader inside its section */
		obq_rcu_read_unlock();
		obq_rcu_barrier();
		struct obq_cache_stats st;
		U("stats", obq_cache_stats(sc, &st) == 0);
		U("the slab went back", st.slabs_released == 1);
		if (touch)
			U("counted under a stale reader", st.slabs_released_stale == OBQ_CHECKED);
		else
			U("not counted without a touch", st.slabs_released_stale == 0);
		obq_cache_destroy(sc);
	}
	printf("unit: %s\n", bad ? "FAILED" : "ok");
	return bad ? 1 : 0;
}

/* ---------------------------------------------------------------------------------
 * Main. */

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--list") == 0) {
		for (size_t i = 0; i < NCASES; i++)
			printf("%s\n", cases[i].name);
		return 0;
	}
	obq_rcu_register_thread();
	if (argc >= 3 && strcmp(argv[1], "--child") == 0) {
		const struct tcase *tc = find_case(argv[2]);
		if (tc == NULL)
			return 2;
		tc->fn(tc->bad);
		obq_rcu_unregister_thread();
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "unit") == 0)
		return unit();
	const char *vg = NULL;
	const char *name = argc == 2 ? argv[1] : NULL;
	if (argc == 4 && strcmp(argv[1], "--valgrind") == 0) {
		vg = argv[2];
		name = argv[3];
	}
	const struct tcase *tc = name ? find_case(name) : NULL;
	if (tc == NULL) {
		fprintf(stderr, "usage: %s <case> | --child <case> | --valgrind <vg> <case> | unit | --list\n",
			argv[0]);
		return 2;
	}
	ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
	if (n <= 0)
		snprintf(self_path, sizeof self_path, "%s", argv[0]);
	else
		self_path[n] = '\0';
	return judge(tc, vg);
}
