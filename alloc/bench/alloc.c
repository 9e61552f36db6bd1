/* alloc.c — fixed-size allocation benchmarks: oblique caches beside glibc malloc,
 * jemalloc, mimalloc and a trivial LIFO free list (the floor).
 *
 * Groups (SIZE = 64 or 256 bytes; value = ns per alloc+free pair):
 *   alloc.SIZE.lifo      one thread: loop { p = alloc; write p; free p }
 *   alloc.SIZE.batch     one thread: allocate 10,000 writing each, free all in order
 *   alloc.SIZE.2t-lifo   two threads at once, each doing lifo (ns per pair per thread)
 *   alloc.SIZE.2t-batch  two threads at once, each doing batch
 *   alloc.SIZE.xthread   A allocates + writes + pushes into an SPSC ring, B pops and
 *                        frees (ns per object, end to end); impl "ring" = the ring
 *                        alone with no allocation (the baseline)
 *   allocpair.SIZE.lifo / .batch  every allocator in ONE case, in ~3 ms chunks taken in
 *                        turn, median over the chunks: the paired form the goals use
 *   instr.alloc.64.lifo / .batch  fixed work for callgrind instruction counts
 *
 * How the peers coexist in one process (honestly, each through its normal entry):
 *   - jemalloc is linked first, so it IS the process malloc: malloc()/free() below are
 *     jemalloc's own fast paths (checked at start-up with dladdr; if another library
 *     won the symbol, the jemalloc column is skipped, never mislabelled);
 *   - glibc's allocator is called through pointers to libc.so.6's own malloc/free,
 *     looked up in libc's symbol table (dlopen RTLD_NOLOAD + dlsym on libc's handle),
 *     tcache included.  Not through __libc_malloc: libmimalloc exports that name too
 *     and would win it (checked at start-up with dladdr, as for jemalloc); a call
 *     through a pointer costs what a call through the PLT costs;
 *   - mimalloc through mi_malloc/mi_free (its own API; its malloc alias loses the
 *     symbol race to jemalloc, which is fine: mi_malloc is the same function);
 *   - the trivial free list is out of line (noinline) so it pays a call as every
 *     library allocator does; it is per thread and cannot free cross-thread;
 *   - oblique is the static library built in this tree (a direct call, no PLT).
 * Each object is written (one 8-byte store at offset 0) as a user would initialise it.
 *
 * This file is compiled twice: into obq_bench with every peer (BENCH_PEERS=1), and
 * into obq_bench_checked (BENCH_PEERS=0) against the checked library, where only the
 * oblique rows run, to measure the cost of checking. */
#include "bench.h"
#include "ring.h"

#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>

#ifndef BENCH_PEERS
#define BENCH_PEERS 1
#endif
#ifndef BENCH_HAVE_OBQ
#define BENCH_HAVE_OBQ 0
#endif

#if BENCH_PEERS
#include <jemalloc/jemalloc.h>
#include <mimalloc.h>
/* glibc's own malloc/free (resolved in check_symbols()). */
static void *(*glibc_malloc_fn)(size_t size);
static void (*glibc_free_fn)(void *p);
#endif
#if BENCH_HAVE_OBQ
#include <oblique/cache.h>
#include <oblique/thread.h>
#endif

#define BATCH 10000

/* ------------------------------------------------------------------------------ */
/* The trivial LIFO free list: the floor.  Link in the first word of a free object. */
struct freelist {
	void *head;        /* first free object, or NULL */
	char *bump;        /* next never-used byte of the current chunk */
	char *end;         /* end of the current chunk */
	size_t size;       /* object size (>= sizeof(void *)) */
	void **chunks;     /* chunks to release at teardown */
	size_t nchunks;    /* used entries of chunks */
	size_t cap;        /* capacity of chunks */
};

static __attribute__((noinline)) void *fl_alloc(struct freelist *f)
{
	void *p = f->head;
	if (__builtin_expect(p != NULL, 1)) {
		f->head = *(void **)p;
		return p;
	}
	if (f->bump + f->size > f->end) {
		size_t bytes = 1u << 20;
		char *c = malloc(bytes);
		if (!c)
			return NULL;
		if (f->nchunks == f->cap) {
			f->cap = f->cap ? 2 * f->cap : 16;
			f->chunks = realloc(f->chunks, f->cap * sizeof *f->chunks);
		}
		f->chunks[f->nchunks++] = c;
		f->bump = c;
		f->end = c + bytes;
	}
	p = f->bump;
	f->bump += f->size;
	return p;
}

static __attribute__((noinline)) void fl_free(struct freelist *f, void *p)
{
	*(void **)p = f->head;
	f->head = p;
}

static void *fl_new(size_t size)
{
	struct freelist *f = calloc(1, sizeof *f);
	f->size = size;
	return f;
}

static void fl_delete(void *ctx)
{
	struct freelist *f = ctx;
	for (size_t i = 0; i < f->nchunks; i++)
		free(f->chunks[i]);
	free(f->chunks);
	free(f);
}

/* ------------------------------------------------------------------------------ */
/* Allocator descriptors.  The loops are instantiated per allocator (macros below)
 * so each calls its allocator directly, never through a function pointer. */
#include "alloc_impl.h"

#define WRITE_OBJ(p, v) (*(volatile uint64_t *)(p) = (uint64_t)(v))

#define DEF_LOOPS(N, ALLOC, FREE)                                                   \
	static __attribute__((unused)) void N##_lifo(void *ctx, size_t size, size_t iters)                  \
	{                                                                           \
		(void)ctx; (void)size;                                              \
		for (size_t i = 0; i < iters; i++) {                                \
			void *p = ALLOC;                                            \
			if (__builtin_expect(p == NULL, 0))                         \
				BENCH_DIE(#N ": out of memory");                    \
			WRITE_OBJ(p, i);                                            \
			FREE;                                                       \
		}                                                                   \
	}                                                                           \
	static __attribute__((unused)) void N##_batch(void *ctx, size_t size, size_t rounds, size_t n,      \
			      void **arr)                                           \
	{                                                                           \
		(void)ctx; (void)size;                                              \
		for (size_t r = 0; r < rounds; r++) {                               \
			for (size_t i = 0; i < n; i++) {                            \
				void *p = ALLOC;                                    \
				if (__builtin_expect(p == NULL, 0))                 \
					BENCH_DIE(#N ": out of memory");            \
				WRITE_OBJ(p, i);                                    \
				arr[i] = p;                                         \
			}                                                           \
			for (size_t i = 0; i < n; i++) {                            \
				void *p = arr[i];                                   \
				FREE;                                               \
			}                                                           \
		}                                                                   \
	}                                                                           \
	static __attribute__((unused)) void N##_fill(void *ctx, size_t size, size_t n, void **arr)          \
	{                                                                           \
		(void)ctx; (void)size;                                              \
		for (size_t i = 0; i < n; i++) {                                    \
			void *p = ALLOC;                                            \
			if (__builtin_expect(p == NULL, 0))                         \
				BENCH_DIE(#N ": out of memory");                    \
			WRITE_OBJ(p, i);                                            \
			arr[i] = p;                                                 \
		}                                                                   \
	}                                                                           \
	static __attribute__((unused)) void N##_drain(void *ctx, size_t n, void **arr)                      \
	{                                                                           \
		(void)ctx;                                                          \
		for (size_t i = 0; i < n; i++) {                                    \
			void *p = arr[i];                                           \
			FREE;                                                       \
		}                                                                   \
	}                                                                           \
	static __attribute__((unused)) void N##_prod(void *ctx, size_t size, size_t n, struct ring *rg)     \
	{                                                                           \
		(void)ctx; (void)size;                                              \
		for (size_t i = 0; i < n; i++) {                                    \
			void *p = ALLOC;                                            \
			if (__builtin_expect(p == NULL, 0))                         \
				BENCH_DIE(#N ": out of memory");                    \
			WRITE_OBJ(p, i);                                            \
			ring_push(rg, p);                                           \
		}                                                                   \
	}                                                                           \
	static __attribute__((unused)) void N##_cons(void *ctx, size_t n, struct ring *rg)                  \
	{                                                                           \
		(void)ctx;                                                          \
		for (size_t i = 0; i < n; i++) {                                    \
			void *p = ring_pop(rg);                                     \
			FREE;                                                       \
		}                                                                   \
	}

static void *shared_ctx(void *shared, size_t size) { (void)size; return shared; }
static void shared_done(void *shared, void *tctx) { (void)shared; (void)tctx; }
static void *no_setup(size_t size) { (void)size; return NULL; }
static void no_teardown(void *ctx) { (void)ctx; }

/* freelist: per-thread lists (it is not thread-safe); no cross-thread column. */
DEF_LOOPS(fl, fl_alloc((struct freelist *)ctx), fl_free((struct freelist *)ctx, p))
static __attribute__((unused)) void *fl_thread_ctx(void *shared, size_t size) { (void)shared; return fl_new(size); }
static __attribute__((unused)) void fl_thread_done(void *shared, void *tctx) { (void)shared; fl_delete(tctx); }

/* ring alone: the producer pushes a pointer to one static object, the consumer drops it. */
static uint64_t ring_obj[64];
#define RING_ALLOC ((void *)ring_obj)
#define RING_FREE BENCH_ESCAPE(p)
DEF_LOOPS(ringonly, RING_ALLOC, RING_FREE)

#if BENCH_PEERS
DEF_LOOPS(glibc, glibc_malloc_fn(size), glibc_free_fn(p))
DEF_LOOPS(je, malloc(size), free(p))
DEF_LOOPS(mi, mi_malloc(size), mi_free(p))
#endif

#if BENCH_HAVE_OBQ
static void *obq_setup_ts(size_t size)
{
	obq_cache_t *c = obq_cache_create("bench_typesafe", size, 0, OBQ_TYPESAFE_BY_RCU, NULL);
	if (!c)
		BENCH_DIE("obq_cache_create(typesafe) failed");
	return c;
}
static void *obq_setup_plain(size_t size)
{
	obq_cache_t *c = obq_cache_create("bench_plain", size, 0, 0, NULL);
	if (!c)
		BENCH_DIE("obq_cache_create(plain) failed");
	return c;
}
static void obq_teardown(void *ctx)
{
	int rc = obq_cache_destroy((obq_cache_t *)ctx);
	if (rc != 0)
		BENCH_DIE("obq_cache_destroy: %d", rc);
}
static void obq_thread_done(void *shared, void *tctx)
{
	(void)shared; (void)tctx;
	obq_thread_exit();
}
DEF_LOOPS(obq, obq_cache_alloc((obq_cache_t *)ctx), obq_cache_free((obq_cache_t *)ctx, p))
#endif

/* Bytes each allocator holds from the system (deltas around a fill are what count). */
static __attribute__((unused)) size_t fl_mapped(void *ctx)
{
	return ((struct freelist *)ctx)->nchunks << 20;
}
#define MAPPED_fl fl_mapped
#if BENCH_PEERS
static size_t glibc_mapped(void *ctx)
{
	(void)ctx;
	struct mallinfo2 mi = mallinfo2(); /* glibc's own arenas: only this benchmark uses them */
	return mi.arena + mi.hblkhd;
}
static size_t je_mapped(void *ctx)
{
	(void)ctx;
	uint64_t epoch = 1;
	size_t sz = sizeof epoch, mapped = 0, msz = sizeof mapped;
	mallctl("epoch", &epoch, &sz, &epoch, sz); /* refresh the statistics */
	if (mallctl("stats.resident", &mapped, &msz, NULL, 0) != 0)
		return 0;
	return mapped; /* process-wide (jemalloc is the process malloc): use deltas */
}
static size_t mi_mapped(void *ctx)
{
	(void)ctx;
	size_t elapsed, user, sys, rss, peak_rss, commit = 0, peak_commit, faults;
	mi_process_info(&elapsed, &user, &sys, &rss, &peak_rss, &commit, &peak_commit, &faults);
	return commit; /* mimalloc's committed bytes */
}
#define MAPPED_glibc glibc_mapped
#define MAPPED_je je_mapped
#define MAPPED_mi mi_mapped
#endif
#if BENCH_HAVE_OBQ
static size_t obq_mapped(void *ctx)
{
	struct obq_cache_stats st;
	if (obq_cache_stats((obq_cache_t *)ctx, &st) != 0)
		return 0;
	return st.bytes_mapped;
}
#define MAPPED_obq obq_mapped
#endif

static struct alloc_impl impls[] = {
#if BENCH_PEERS
	{ "glibc", no_setup, no_teardown, shared_ctx, shared_done,
	  glibc_lifo, glibc_batch, glibc_fill, glibc_drain,
	  glibc_prod, glibc_cons, MAPPED_glibc, 1 },
	{ "jemalloc", no_setup, no_teardown, shared_ctx, shared_done,
	  je_lifo, je_batch, je_fill, je_drain,
	  je_prod, je_cons, MAPPED_je, 1 },
	{ "mimalloc", no_setup, no_teardown, shared_ctx, shared_done,
	  mi_lifo, mi_batch, mi_fill, mi_drain,
	  mi_prod, mi_cons, MAPPED_mi, 1 },
	{ "freelist", fl_new, fl_delete, fl_thread_ctx, fl_thread_done,
	  fl_lifo, fl_batch, fl_fill, fl_drain,
	  NULL, NULL, MAPPED_fl, 1 },
#endif
#if BENCH_HAVE_OBQ
	{ "obq-typesafe", obq_setup_ts, obq_teardown, shared_ctx, obq_thread_done,
	  obq_lifo, obq_batch, obq_fill, obq_drain,
	  obq_prod, obq_cons, MAPPED_obq, 1 },
	{ "obq-plain", obq_setup_plain, obq_teardown, shared_ctx, obq_thread_done,
	  obq_lifo, obq_batch, obq_fill, obq_drain,
	  obq_prod, obq_cons, MAPPED_obq, 1 },
#endif
};
#define NIMPLS (sizeof impls / sizeof impls[0])

static struct alloc_impl ring_impl = { "ring", no_setup, no_teardown, shared_ctx, shared_done,
				       ringonly_lifo, ringonly_batch, ringonly_fill, ringonly_drain,
	  ringonly_prod, ringonly_cons, NULL, 1 };

/* ------------------------------------------------------------------------------ */
/* Case bodies. */
enum akind { K_LIFO, K_BATCH, K_2T_LIFO, K_2T_BATCH, K_XTHREAD };
static const char *const kind_name[] = { "lifo", "batch", "2t-lifo", "2t-batch", "xthread" };

struct acase {
	struct alloc_impl *impl;  /* who */
	size_t size;              /* object size */
	enum akind kind;          /* what */
};

/* Work per timed chunk (full mode); three chunks per sample, the median kept. */
#define LIFO_ITERS   2000000u
#define BATCH_ROUNDS 100u
#define XT_ITERS     200000u

static double time_lifo(const struct alloc_impl *im, void *ctx, size_t size, size_t iters)
{
	uint64_t t0 = bench_now_ns();
	im->lifo(ctx, size, iters);
	return (double)(bench_now_ns() - t0) / (double)iters;
}

static double time_batch(const struct alloc_impl *im, void *ctx, size_t size, size_t rounds,
			 void **arr)
{
	uint64_t t0 = bench_now_ns();
	im->batch(ctx, size, rounds, BATCH, arr);
	return (double)(bench_now_ns() - t0) / (double)(rounds * BATCH);
}

/* Iterations so one timed chunk lasts about target_ms at ns_per_op, within [lo, max]:
 * the release library hits max (the fixed counts above); the checked library, far
 * slower, gets a proportionally shorter run. */
static size_t fit_iters(double ns_per_op, size_t max, double target_ms, size_t lo)
{
	double n = target_ms * 1e6 / (ns_per_op > 0.1 ? ns_per_op : 0.1);
	if (n > (double)max)
		return max;
	return n < (double)lo ? lo : (size_t)n;
}

/* Three chunks, median of them: one sample. */
static double sample_1t(const struct alloc_impl *im, void *ctx, size_t size, int batch)
{
	double v[3];
	if (!batch) {
		double est = time_lifo(im, ctx, size, 2000); /* calibration + warm-up */
		size_t it = fit_iters(est, bench_iters(LIFO_ITERS), 30, 2000);
		time_lifo(im, ctx, size, it / 10 + 1); /* warm-up */
		for (int k = 0; k < 3; k++)
			v[k] = time_lifo(im, ctx, size, it);
	} else {
		void **arr = malloc(BATCH * sizeof *arr);
		double est = time_batch(im, ctx, size, 1, arr); /* calibration + warm-up */
		size_t rounds = fit_iters(est * BATCH, bench_iters(BATCH_ROUNDS), 30, 1);
		time_batch(im, ctx, size, 1, arr); /* warm-up */
		for (int k = 0; k < 3; k++)
			v[k] = time_batch(im, ctx, size, rounds, arr);
		free(arr);
	}
	return bench_median(v, 3);
}

struct t2arg {
	const struct alloc_impl *im;  /* allocator */
	void *shared;                 /* shared context */
	size_t size;                  /* object size */
	int batch;                    /* 0 lifo, 1 batch */
	size_t iters;                 /* lifo iterations or batch rounds */
	struct bench_gate *gate;      /* start together */
	double result;                /* ns per pair, this thread */
};

static void *t2_body(void *p)
{
	struct t2arg *a = p;
	void *ctx = a->im->thread_ctx(a->shared, a->size);
	void **arr = malloc(BATCH * sizeof *arr);
	/* warm-up before the gate so the timed part measures steady state */
	if (a->batch)
		time_batch(a->im, ctx, a->size, 1, arr);
	else
		time_lifo(a->im, ctx, a->size, a->iters / 10 + 1);
	bench_gate_wait(a->gate);
	if (a->batch)
		a->result = time_batch(a->im, ctx, a->size, a->iters, arr);
	else
		a->result = time_lifo(a->im, ctx, a->size, a->iters);
	free(arr);
	a->im->thread_done(a->shared, ctx);
	return NULL;
}

static double sample_2t(const struct alloc_impl *im, void *shared, size_t size, int batch)
{
	/* calibrate on this thread (its own context) */
	void *cal = im->thread_ctx(shared, size);
	size_t iters;
	if (batch) {
		void **arr = malloc(BATCH * sizeof *arr);
		double est = time_batch(im, cal, size, 1, arr);
		iters = fit_iters(est * BATCH, bench_iters(3 * BATCH_ROUNDS), 90, 1);
		free(arr);
	} else {
		double est = time_lifo(im, cal, size, 2000);
		iters = fit_iters(est, bench_iters(3 * LIFO_ITERS), 90, 2000);
	}
	if (cal != shared)
		im->thread_done(shared, cal);
	struct bench_gate gate;
	bench_gate_init(&gate, 2);
	struct t2arg a[2];
	pthread_t th[2];
	for (int i = 0; i < 2; i++) {
		a[i] = (struct t2arg){ im, shared, size, batch, iters, &gate, 0 };
		if (pthread_create(&th[i], NULL, t2_body, &a[i]))
			BENCH_DIE("pthread_create");
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	return (a[0].result + a[1].result) / 2;
}

struct xtarg {
	const struct alloc_impl *im;  /* allocator */
	void *ctx;                    /* shared context */
	size_t size;                  /* object size */
	size_t n;                     /* objects to move */
	struct ring *ring;            /* the SPSC ring */
	struct bench_gate *gate;      /* start together */
	uint64_t done_ns;             /* consumer: time its last free finished */
};

static void *xt_consumer(void *p)
{
	struct xtarg *a = p;
	bench_gate_wait(a->gate);
	a->im->cons(a->ctx, a->n, a->ring);
	a->done_ns = bench_now_ns();
	a->im->thread_done(a->ctx, a->ctx);
	return NULL;
}

static double xt_once(const struct alloc_impl *im, void *ctx, size_t size, size_t n,
		      struct ring *ring)
{
	struct bench_gate gate;
	bench_gate_init(&gate, 2);
	ring_init(ring);
	struct xtarg a = { im, ctx, size, n, ring, &gate, 0 };
	pthread_t th;
	if (pthread_create(&th, NULL, xt_consumer, &a))
		BENCH_DIE("pthread_create");
	bench_gate_wait(&gate);
	uint64_t t0 = bench_now_ns();
	im->prod(ctx, size, n, ring);
	pthread_join(th, NULL);
	return (double)(a.done_ns - t0) / (double)n;
}

static double sample_xt(const struct alloc_impl *im, void *ctx, size_t size)
{
	struct ring *ring = aligned_alloc(64, sizeof *ring);
	double v[3];
	double est = xt_once(im, ctx, size, 2000, ring); /* calibration + warm-up */
	size_t n = fit_iters(est, bench_iters(XT_ITERS), 30, 2000);
	xt_once(im, ctx, size, n / 10 + 1, ring); /* warm-up */
	for (int k = 0; k < 3; k++)
		v[k] = xt_once(im, ctx, size, n, ring);
	free(ring);
	return bench_median(v, 3);
}

static void run_acase(const void *arg)
{
	const struct acase *c = arg;
	const struct alloc_impl *im = c->impl;
	if (!im->available)
		return;
	char group[64];
	snprintf(group, sizeof group, "alloc.%zu.%s", c->size, kind_name[c->kind]);
	void *ctx = im->setup(c->size);
	void *tctx = im->thread_ctx(ctx, c->size);
	double v = 0;
	switch (c->kind) {
	case K_LIFO: v = sample_1t(im, tctx, c->size, 0); break;
	case K_BATCH: v = sample_1t(im, tctx, c->size, 1); break;
	case K_2T_LIFO: v = sample_2t(im, ctx, c->size, 0); break;
	case K_2T_BATCH: v = sample_2t(im, ctx, c->size, 1); break;
	case K_XTHREAD: v = sample_xt(im, ctx, c->size); break;
	}
	if (tctx != ctx)
		im->thread_done(ctx, tctx);
	im->teardown(ctx);
	bench_emit(group, im->name, "ns", v);
}

/* Paired single-thread case: every allocator in one case, in short chunks taken in
 * turn (the first allocator rotating), so a slow phase of a loaded machine (they last
 * milliseconds to seconds) hits every allocator alike.  Group allocpair.SIZE.KIND,
 * value = median over the chunks. */
struct pcase {
	size_t size;   /* object size */
	int batch;     /* 0 lifo, 1 batch */
};

static void run_pcase(const void *arg)
{
	const struct pcase *c = arg;
	size_t rounds = bench_opt.quick ? 7 : 15;
	void *ctx[NIMPLS], *tctx[NIMPLS];
	double *v[NIMPLS];
	size_t iters[NIMPLS];
	void **arr = malloc(BATCH * sizeof *arr);
	for (size_t i = 0; i < NIMPLS; i++) {
		v[i] = calloc(rounds, sizeof(double));
		if (!impls[i].available)
			continue;
		ctx[i] = impls[i].setup(c->size);
		tctx[i] = impls[i].thread_ctx(ctx[i], c->size);
		/* about 3 ms per chunk, calibrated on a warm-up */
		if (c->batch) {
			double est = time_batch(&impls[i], tctx[i], c->size, 1, arr);
			iters[i] = fit_iters(est * BATCH, 20, 3, 1);
		} else {
			double est = time_lifo(&impls[i], tctx[i], c->size, 20000);
			iters[i] = fit_iters(est, 1000000, 3, 2000);
		}
	}
	for (size_t r = 0; r < rounds; r++)
		for (size_t k = 0; k < NIMPLS; k++) {
			size_t i = (r + k) % NIMPLS;
			if (!impls[i].available)
				continue;
			v[i][r] = c->batch ? time_batch(&impls[i], tctx[i], c->size, iters[i], arr)
					   : time_lifo(&impls[i], tctx[i], c->size, iters[i]);
		}
	char g[64];
	snprintf(g, sizeof g, "allocpair.%zu.%s", c->size, c->batch ? "batch" : "lifo");
	for (size_t i = 0; i < NIMPLS; i++) {
		if (impls[i].available) {
			if (tctx[i] != ctx[i])
				impls[i].thread_done(ctx[i], tctx[i]);
			impls[i].teardown(ctx[i]);
			bench_emit(g, impls[i].name, "ns", bench_median(v[i], rounds));
		}
		free(v[i]);
	}
	free(arr);
}

#define MAX_ACASES 128
static struct acase acases[MAX_ACASES];
static char acase_names[MAX_ACASES][64];
static size_t nacases;

static void add_acase(struct alloc_impl *im, size_t size, enum akind kind)
{
	if (kind == K_XTHREAD && !im->prod)
		return;
	struct acase *c = &acases[nacases];
	*c = (struct acase){ im, size, kind };
	snprintf(acase_names[nacases], sizeof acase_names[0], "alloc.%zu.%s/%s", size,
		 kind_name[kind], im->name);
	bench_register(BENCH_PEERS ? "alloc" : "checked", acase_names[nacases], run_acase, c);
	nacases++;
}

static __attribute__((unused)) void disable_impl(const char *name)
{
	for (size_t i = 0; i < NIMPLS; i++)
		if (!strcmp(impls[i].name, name))
			impls[i].available = 0;
}

/* Each peer column must measure the allocator it names (see the top of the file). */
/* Instruction counts: one lifo run and one batch run of a fixed size, after a warm-up. */
#define INSTR_OPS 100000u
struct iarg {
	const struct alloc_impl *im;  /* allocator */
	void *ctx;                    /* its context */
	void **arr;                   /* batch array */
	int batch;                    /* 0 lifo, 1 batch */
};

static void instr_body(void *p)
{
	struct iarg *a = p;
	if (a->batch)
		a->im->batch(a->ctx, 64, INSTR_OPS / BATCH, BATCH, a->arr);
	else
		a->im->lifo(a->ctx, 64, INSTR_OPS);
}

static void run_icase(const void *arg)
{
	const struct acase *c = arg;
	const struct alloc_impl *im = c->impl;
	if (!im->available)
		return;
	int batch = c->kind == K_BATCH;
	void *ctx = im->setup(64);
	void *tctx = im->thread_ctx(ctx, 64);
	struct iarg a = { im, tctx, malloc(BATCH * sizeof(void *)), batch };
	instr_body(&a); /* warm-up: same work, not counted */
	bench_instr_run(instr_body, &a);
	free(a.arr);
	if (tctx != ctx)
		im->thread_done(ctx, tctx);
	im->teardown(ctx);
	bench_emit(batch ? "instr.alloc.64.batch" : "instr.alloc.64.lifo", im->name, "ops", INSTR_OPS);
}

static struct acase icases[2 * 8];
static char icase_names[2 * 8][64];

static void check_symbols(void)
{
#if BENCH_PEERS
	Dl_info info;
	if (!dladdr((void *)&malloc, &info) || !info.dli_fname || !strstr(info.dli_fname, "jemalloc")) {
		fprintf(stderr, "bench: malloc resolves to %s, not jemalloc: jemalloc column skipped "
				"(link libjemalloc first)\n", info.dli_fname ? info.dli_fname : "?");
		disable_impl("jemalloc");
	}
	void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
	if (libc) {
		glibc_malloc_fn = (void *(*)(size_t))dlsym(libc, "malloc");
		glibc_free_fn = (void (*)(void *))dlsym(libc, "free");
	}
	if (!glibc_malloc_fn || !glibc_free_fn || !dladdr((void *)glibc_malloc_fn, &info) ||
	    !info.dli_fname || !strstr(info.dli_fname, "libc.so")) {
		fprintf(stderr, "bench: cannot reach glibc's own malloc: glibc column skipped\n");
		disable_impl("glibc");
	}
	if (!dladdr((void *)&mi_malloc, &info) || !info.dli_fname || !strstr(info.dli_fname, "mimalloc")) {
		fprintf(stderr, "bench: mi_malloc is not mimalloc's: mimalloc column skipped\n");
		disable_impl("mimalloc");
	}
#endif
}

__attribute__((constructor)) static void alloc_register(void)
{
	static const size_t sizes[] = { 64, 256 };
	check_symbols();
	for (size_t s = 0; s < 2; s++)
		for (int k = K_LIFO; k <= K_XTHREAD; k++) {
			for (size_t i = 0; i < NIMPLS; i++)
				add_acase(&impls[i], sizes[s], (enum akind)k);
			if (k == K_XTHREAD && BENCH_PEERS)
				add_acase(&ring_impl, sizes[s], K_XTHREAD);
		}
	static const struct pcase pcases[] = { { 64, 0 }, { 64, 1 }, { 256, 0 }, { 256, 1 } };
	static const char *const pnames[] = { "allocpair.64.lifo", "allocpair.64.batch",
					      "allocpair.256.lifo", "allocpair.256.batch" };
	for (size_t i = 0; i < 4; i++)
		bench_register(BENCH_PEERS ? "alloc" : "checked", pnames[i], run_pcase, &pcases[i]);
	size_t k = 0;
	for (size_t i = 0; i < NIMPLS && k + 2 <= sizeof icases / sizeof icases[0]; i++)
		for (int b = 0; b < 2; b++, k++) {
			icases[k] = (struct acase){ &impls[i], 64, b ? K_BATCH : K_LIFO };
			snprintf(icase_names[k], sizeof icase_names[k], "instr.alloc.64.%s/%s",
				 b ? "batch" : "lifo", impls[i].name);
			bench_register(BENCH_PEERS ? "instr" : "instr-checked", icase_names[k], run_icase,
				       &icases[k]);
		}
}

/* Exported for scale.c: the same allocators at a growing number of live objects. */
size_t bench_alloc_impls(struct alloc_impl **out)
{
	*out = impls;
	return NIMPLS;
}
