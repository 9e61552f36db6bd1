/* slab_api.c — fuzz target: oblique's cache API against a shadow model.
 *
 * Two caches: "slab_ts" (typesafe, ctor, 48 bytes, align 16) and "slab_plain"
 * (OBQ_POISON, 40 bytes).  Each virtual thread owns 6 handles (no sharing, so the
 * model is race-free in stress mode too); an object records its owner's fill byte in
 * its payload.  Checked, for every operation:
 *  - alloc: aligned, inside no other live object of either cache, the ctor-initialised
 *    field (magic, typesafe cache) intact across free -> alloc;
 *  - free: the payload still holds our fill (no one else wrote into our object);
 *  - bulk: all-or-nothing, distinct objects;
 *  - stats (deterministic mode): objects_live equals the model's count;
 *  - bad frees (double, interior, foreign, wrong cache) are refused through the error
 *    hook with the right rule and free nothing; bad create flags return NULL/EINVAL;
 *  - recreate (deterministic mode): with no object of the cache live or in use, shrink,
 *    destroy and create it again mid-program (a module unload / reload).  The shrink
 *    sends empty slabs back through a grace period, so destroy runs with slab releases
 *    pending: it must wait for them (class 16, destroy without the barrier) — a
 *    release callback left behind runs on the freed cache (ASan: heap-use-after-free;
 *    the harness reports callbacks still pending after the run's caches are gone).
 * Both reuse modes come from the input header.
 *
 * Under another allocator adapter (--adapter=NAME) the same model runs through the
 * harness's handles (obq_h_alloc / obq_h_free / the adapter's shrink): alloc, free,
 * bulk (as single allocations), shrink and recreate judge that allocator; stats and
 * bad_free are oblique's API and do nothing there. */
#include <errno.h>
#include <string.h>

#include <oblique/oblique.h>
#include <oblique/harness.h>
#include <oblique/testing.h> /* obq_cache_destroy_force */

#define HANDLES 6
#define MAGIC 0x5eedc0ffee0ddull

struct obj {
	uint64_t magic;           /* ctor-initialised, never written by users (guard) */
	unsigned char fill[32];   /* owner's fill byte */
};

struct st {
	obq_h_cache_t *hc[2];                                  /* 0: typesafe, 1: plain; NULL
								* while a recreate has it away */
	int native;                                            /* the adapter is oblique */
	struct obj *h[OBQ_H_MAX_THREADS * 4][HANDLES]; /* per-thread handles */
	unsigned char which[OBQ_H_MAX_THREADS * 4][HANDLES];   /* cache index of each handle */
	long transient[2];  /* objects allocated but not in a handle (mid-operation) */
	long users[2];      /* operations using the cache now (recreate waits for 0) */
};

static const size_t sizes[2] = {48, 40};
static const char *const names[2] = {"slab_ts", "slab_plain"};
static const size_t aligns[2] = {16, 0};
static const unsigned flags[2] = {OBQ_TYPESAFE_BY_RCU, OBQ_POISON};

static void ctor(void *p)
{
	((struct obj *)p)->magic = MAGIC;
}

/* Create cache ci (setup, recreate). */
static void make_cache(obq_h_t *t, struct st *s, unsigned ci)
{
	obq_h_cache_t *hc = obq_h_cache_create(t, names[ci], sizes[ci], aligns[ci], flags[ci],
					       ci == 0 ? ctor : NULL);
	if (hc && ci == 0)
		OBQ_H_GUARD(hc, OBQ_GUARD_KEY, struct obj, magic);
	/* Release: the cache is set up before other threads can pick the pointer up. */
	__atomic_store_n(&s->hc[ci], hc, __ATOMIC_RELEASE);
}

static void setup(obq_h_t *t)
{
	struct st *s = t->state;
	make_cache(t, s, 0);
	make_cache(t, s, 1);
	s->native = obq_h_cache_oblique(s->hc[0]) != NULL;
}

/* Cache ci now, or NULL while a recreate has it away.  Seq_cst (as the counters
 * recreate reads): the check "no operation uses it" and an operation's "the cache is
 * there" must not both pass on weak memory (store buffering). */
static obq_h_cache_t *cache_of(struct st *s, unsigned ci)
{
	return __atomic_load_n(&s->hc[ci], __ATOMIC_SEQ_CST);
}

/* oblique's own cache behind ci (NULL under another adapter, or while recreated). */
static obq_cache_t *native_of(struct st *s, unsigned ci)
{
	return obq_h_cache_oblique(cache_of(s, ci));
}

/* An operation starts / stops using cache ci (a recreate waits until none does). */
static void use(struct st *s, unsigned ci, long d)
{
	/* Seq_cst: see cache_of (recreate runs only in deterministic mode). */
	__atomic_add_fetch(&s->users[ci], d, __ATOMIC_SEQ_CST);
}

static unsigned row(obq_h_t *t)
{
	return t->tid == OBQ_H_MAIN ? OBQ_H_MAX_THREADS * 4 - 1 : t->tid;
}

/* The model's checks compare addresses, never input bytes: tracing those comparisons
 * for libFuzzer (-fsanitize-coverage=trace-cmp, value profile) gives the fuzzer nothing
 * to steer by, at a cost per comparison (docs/benchmarks.md, issue 19).  noinline: the
 * attribute is lost if the body is inlined into an instrumented caller.  A failed
 * check is a report, so no edge here is worth keeping. */
#if defined(__clang__)
#define NO_CMP_TRACE __attribute__((noinline, no_sanitize("coverage")))
#else
#define NO_CMP_TRACE
#endif

/* Is row r of the handles one a thread of this program can fill?  Rows are the
 * threads' tids (< t->nthreads) and the main context's (row()): the others stay NULL
 * for the whole run, so check_new and stats skip them (docs/benchmarks.md, issue 19). */
static int row_used(const obq_h_t *t, unsigned r)
{
	return r < t->nthreads || r == OBQ_H_MAX_THREADS * 4 - 1;
}

NO_CMP_TRACE static void check_new(obq_h_t *t, struct st *s, unsigned ci, struct obj *o)
{
	obq_h_check(t, ((uintptr_t)o & (ci == 0 ? 15 : 7)) == 0, "misaligned object");
	if (ci == 0)
		obq_h_check(t, o->magic == MAGIC, "ctor field clobbered across free->alloc");
	/* Seq_cst: the model's table is the test's ground truth, compared with what the
	 * allocator hands out now; read stale (the weak-memory build lets a weaker load
	 * read an older store) it would hold an object its owner has freed since, and the
	 * check would report a false overlap -- a weak campaign found one. */
	for (unsigned r = 0; r < OBQ_H_MAX_THREADS * 4; r++) {
		if (!row_used(t, r))
			continue;
		for (unsigned k = 0; k < HANDLES; k++) {
			struct obj *q = __atomic_load_n(&s->h[r][k], __ATOMIC_SEQ_CST);
			if (!q || q == o)
				obq_h_check(t, q != o, "alloc returned a live object");
			else
				obq_h_check(t, (char *)o + sizes[ci] <= (char *)q ||
						       (char *)q + sizes[__atomic_load_n(&s->which[r][k], __ATOMIC_SEQ_CST)] <= (char *)o,
					    "alloc overlaps a live object");
		}
	}
}

static void op_alloc(obq_h_t *t, const uint8_t *a)
{
	struct st *s = t->state;
	unsigned ci = a[0] & 1, k = a[1] % HANDLES, r = row(t);
	if (!cache_of(s, ci) || __atomic_load_n(&s->h[r][k], __ATOMIC_RELAXED))
		return;
	use(s, ci, 1);
	__atomic_add_fetch(&s->transient[ci], 1, __ATOMIC_RELAXED);
	struct obj *o = obq_h_alloc(t, cache_of(s, ci));
	obq_h_check(t, o != NULL, "alloc failed: %s", strerror(errno));
	check_new(t, s, ci, o);
	memset(o->fill, 0x10 + (int)r * 8 + (int)k, sizeof o->fill);
	/* Relaxed: published by the release store of the handle below. */
	__atomic_store_n(&s->which[r][k], (unsigned char)ci, __ATOMIC_RELAXED);
	__atomic_store_n(&s->h[r][k], o, __ATOMIC_RELEASE);
	__atomic_sub_fetch(&s->transient[ci], 1, __ATOMIC_RELAXED);
	use(s, ci, -1);
	obq_h_observe(t, ci * 16 + k);
}

static void op_free(obq_h_t *t, const uint8_t *a)
{
	struct st *s = t->state;
	unsigned k = a[0] % HANDLES, r = row(t);
	struct obj *o = s->h[r][k];
	if (!o)
		return;
	for (unsigned i = 0; i < sizeof o->fill; i++)
		obq_h_check(t, o->fill[i] == 0x10 + r * 8 + k, "payload overwritten while live");
	unsigned ci = s->which[r][k];
	use(s, ci, 1);
	__atomic_add_fetch(&s->transient[ci], 1, __ATOMIC_RELAXED);
	__atomic_store_n(&s->h[r][k], NULL, __ATOMIC_RELEASE);
	obq_h_free(t, cache_of(s, ci), o);
	__atomic_sub_fetch(&s->transient[ci], 1, __ATOMIC_RELAXED);
	use(s, ci, -1);
}

static void op_bulk(obq_h_t *t, const uint8_t *a)
{
	struct st *s = t->state;
	unsigned ci = a[0] & 1, n = 1 + a[0] % 7;
	void *v[8];
	if (!cache_of(s, ci))
		return;
	use(s, ci, 1);
	__atomic_add_fetch(&s->transient[ci], n, __ATOMIC_RELAXED);
	size_t got = 0;
	if (s->native) {
		got = obq_cache_alloc_bulk(native_of(s, ci), n, v);
	} else { /* no bulk call in the adapter interface: n single allocations */
		while (got < n && (v[got] = obq_h_alloc(t, cache_of(s, ci))) != NULL)
			got++;
	}
	obq_h_check(t, got == n, "bulk alloc of %u returned %zu", n, got);
	for (unsigned i = 0; i < got; i++) {
		check_new(t, s, ci, v[i]);
		for (unsigned j = 0; j < i; j++)
			obq_h_check(t, v[i] != v[j], "bulk alloc returned one object twice");
	}
	obq_h_observe(t, got);
	if (s->native)
		obq_cache_free_bulk(native_of(s, ci), got, v);
	else
		for (unsigned i = 0; i < got; i++)
			obq_h_free(t, cache_of(s, ci), v[i]);
	__atomic_sub_fetch(&s->transient[ci], n, __ATOMIC_RELAXED);
	use(s, ci, -1);
}

static void op_shrink(obq_h_t *t, const uint8_t *a)
{
	struct st *s = t->state;
	unsigned ci = a[0] & 1;
	if (!cache_of(s, ci))
		return;
	use(s, ci, 1);
	obq_h_observe(t, obq_h_cache_shrink(cache_of(s, ci)) >= 0);
	use(s, ci, -1);
}

static void op_stats(obq_h_t *t, const uint8_t *a)
{
	struct st *s = t->state;
	unsigned ci = a[0] & 1;
	struct obq_cache_stats st;
	if (!native_of(s, ci) || t->stress)
		return;
	obq_h_check(t, obq_cache_stats(native_of(s, ci), &st) == 0, "stats failed");
	/* objects mid-operation in other threads (transient) may or may not be live yet.
	 * Seq_cst: the model is compared with the cache's counters as they are now, so it
	 * must not be read stale (deterministic mode: its weak-memory build too). */
	size_t slack = (size_t)__atomic_load_n(&s->transient[ci], __ATOMIC_SEQ_CST), live = 0;
	for (unsigned r = 0; r < OBQ_H_MAX_THREADS * 4; r++)
		for (unsigned k = 0; k < HANDLES && row_used(t, r); k++) /* see row_used */
			live += __atomic_load_n(&s->h[r][k], __ATOMIC_SEQ_CST) &&
				__atomic_load_n(&s->which[r][k], __ATOMIC_SEQ_CST) == ci;
	obq_h_check(t, st.objects_live >= live && st.objects_live <= live + slack,
		    "stats: %zu live, model has %zu (+%zu in flight)", st.objects_live, live, slack);
	obq_h_check(t, st.object_size == sizes[ci], "stats: object size %zu", st.object_size);
	obq_h_observe(t, live);
}

/* Bad frees: refused through the error hook, freeing nothing. */
static void op_bad_free(obq_h_t *t, const uint8_t *a)
{
	struct st *s = t->state;
	unsigned ci = a[0] & 1, r = row(t);
	if (!native_of(s, 0) || !native_of(s, 1))
		return; /* oblique's error hook judges these: not under another adapter */
	static const enum obq_error_kind kinds[4] = {OBQ_ERR_DOUBLE_FREE, OBQ_ERR_INTERIOR_POINTER,
						     OBQ_ERR_FOREIGN_POINTER, OBQ_ERR_WRONG_CACHE};
	unsigned kind = (a[0] >> 1) % 4;
	/* A double free is only unambiguous alone: with other threads, the slot may be
	 * reallocated between the two frees (the second then frees their object). */
	if (kind == 0 && (t->nthreads > 1 || t->stress))
		kind = 1;
	use(s, 0, 1);
	use(s, 1, 1);
	__atomic_add_fetch(&s->transient[ci], 1, __ATOMIC_RELAXED);
	struct obj *o = obq_cache_alloc(native_of(s, ci));
	if (!o) {
		__atomic_sub_fetch(&s->transient[ci], 1, __ATOMIC_RELAXED);
		use(s, 0, -1);
		use(s, 1, -1);
		return;
	}
	check_new(t, s, ci, o);
	obq_h_expect(t, kinds[kind]);
	switch (kind) {
	case 0:
		/* Inside a read-side section: no grace period ends between the two frees, so
		 * the slot's slab cannot go back in between (with one-object slabs and no kept
		 * empty slab — the input's shape — it would, and the second free would be a
		 * free-released report instead). */
		obq_rcu_read_lock();
		obq_cache_free(native_of(s, ci), o);
		obq_cache_free(native_of(s, ci), o);
		obq_rcu_read_unlock();
		break;
	case 1:
		obq_cache_free(native_of(s, ci), (char *)o + 8);
		break;
	case 2: {
		unsigned long local[8];
		obq_cache_free(native_of(s, ci), local);
		break;
	}
	case 3:
		obq_cache_free(native_of(s, ci ^ 1), o);
		break;
	}
	unsigned n = obq_h_expect_end(t);
	obq_h_check(t, n == 1, "bad free (%s) made %u report(s), expected 1",
		    obq_error_name(kinds[kind]), n);
	if (kind != 0)
		obq_cache_free(native_of(s, ci), o);
	__atomic_sub_fetch(&s->transient[ci], 1, __ATOMIC_RELAXED);
	use(s, 0, -1);
	use(s, 1, -1);
	(void)r;
}

/* recreate <cache>: shrink, destroy and create the cache again when no object of it
 * is live and no operation is using it; else nothing.  While it is gone s->hc[ci] is
 * NULL: other threads' operations on it do nothing meanwhile (destroy waits for grace
 * periods, so they run).  Deterministic mode only: stress-mode threads load s->hc[ci]
 * with no lock around its lifetime. */
static void op_recreate(obq_h_t *t, const uint8_t *a)
{
	struct st *s = t->state;
	unsigned ci = a[0] & 1;
	obq_h_cache_t *c = cache_of(s, ci);
	if (t->stress || !c || __atomic_load_n(&s->users[ci], __ATOMIC_SEQ_CST) != 0 ||
	    __atomic_load_n(&s->transient[ci], __ATOMIC_SEQ_CST) != 0) {
		obq_h_observe(t, 0);
		return;
	}
	/* Seq_cst: as in check_new, the model's table as it is now (a stale empty slot
	 * would let the cache be destroyed under a live object). */
	for (unsigned r = 0; r < OBQ_H_MAX_THREADS * 4; r++)
		for (unsigned k = 0; k < HANDLES; k++)
			if (__atomic_load_n(&s->h[r][k], __ATOMIC_SEQ_CST) &&
			    __atomic_load_n(&s->which[r][k], __ATOMIC_SEQ_CST) == ci) {
				obq_h_observe(t, 1);
				return;
			}
	use(s, ci, 1);
	/* Gone for the others before the first scheduling point (the shrink's): an
	 * operation that starts from here on finds no cache and does nothing. */
	__atomic_store_n(&s->hc[ci], NULL, __ATOMIC_SEQ_CST);
	/* empty slabs go back through a grace period: destroy must wait for them */
	obq_h_observe(t, 2 + (obq_h_cache_shrink(c) > 0));
	obq_h_cache_destroy(t, c);
	make_cache(t, s, ci);
	obq_h_check(t, cache_of(s, ci) != NULL, "re-create of cache %s failed", names[ci]);
	use(s, ci, -1);
}

static void op_bad_create(obq_h_t *t, const uint8_t *a)
{
	static const struct { unsigned flags; size_t size, align; int ctor; } bad[6] = {
		{OBQ_TYPESAFE_BY_RCU | OBQ_POISON, 32, 0, 0},
		{OBQ_TYPESAFE_BY_RCU | OBQ_ZERO_ON_ALLOC, 32, 0, 0},
		{OBQ_ZERO_ON_ALLOC, 32, 0, 1},
		{0x100, 32, 0, 0},
		{0, 32, 3, 0},
		{0, 0, 0, 0},
	};
	unsigned i = a[0] % 6;
	errno = 0;
	obq_cache_t *c = obq_cache_create("bad", bad[i].size, bad[i].align, bad[i].flags,
					  bad[i].ctor ? ctor : NULL);
	obq_h_check(t, c == NULL && errno == EINVAL, "bad create #%u accepted (errno %d)", i, errno);
	if (c)
		obq_cache_destroy_force(c);
	obq_h_observe(t, i);
}

static void teardown(obq_h_t *t)
{
	struct st *s = t->state;
	for (unsigned r = 0; r < OBQ_H_MAX_THREADS * 4; r++)
		for (unsigned k = 0; k < HANDLES; k++)
			if (s->h[r][k]) {
				obq_h_free(t, cache_of(s, s->which[r][k]), s->h[r][k]);
				s->h[r][k] = NULL;
			}
}

static const struct obq_h_op ops[] = {
	{"alloc", 2, op_alloc},         {"free", 1, op_free},
	{"bulk", 1, op_bulk},           {"shrink", 1, op_shrink},
	{"stats", 1, op_stats},         {"bad_free", 1, op_bad_free},
	{"bad_create", 1, op_bad_create}, {"recreate", 1, op_recreate},
};

OBQ_H_TARGET_OPS("slab_api", ops, struct st, .setup = setup, .teardown = teardown)
