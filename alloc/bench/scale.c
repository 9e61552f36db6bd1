/* scale.c — how allocation cost and memory grow with the number of live objects.
 *
 * For N = 1, 10, ..., 1,000,000 live 64-byte objects and every allocator of alloc.c:
 *   scale.ns.N     ns per alloc+free pair: rounds of { allocate N writing each, free
 *                  the N in allocation order }, about 2M pairs per sample;
 *   scale.bytes.N  (family scalemem: run.py runs each case in a fresh process, so a
 *                  process-wide allocator starts clean) bytes held from the system per
 *                  live object at the peak: the delta of the allocator's own counter
 *                  around one fill of N objects (N >= 1000; below that one slab or chunk
 *                  dominates): obq_cache_stats() bytes_mapped for oblique, mallinfo2
 *                  arena+hblkhd for glibc, jemalloc stats.resident, mimalloc committed
 *                  bytes, chunks for the free list;
 *   scale.bytes-meta.N  oblique only: the same plus its out-of-object metadata, which
 *                  bytes_mapped does not count (per slot an 8-byte slot word and a
 *                  2-byte free index, per slab a header: estimated as 256 bytes). */
#include "alloc_impl.h"

#if BENCH_HAVE_OBQ
#include <oblique/cache.h>
#endif

#define SCALE_SIZE 64

struct scase {
	struct alloc_impl *impl;  /* who */
	size_t n;                 /* live objects */
};

static void run_scase(const void *arg)
{
	const struct scase *c = arg;
	struct alloc_impl *im = c->impl;
	if (!im->available)
		return;
	size_t n = c->n;
	size_t total = bench_iters(2000000u);
	size_t rounds = total / n ? total / n : 1;
	void **arr = malloc(n * sizeof *arr);
	void *ctx = im->setup(SCALE_SIZE);
	void *tctx = im->thread_ctx(ctx, SCALE_SIZE);
	char g[64];

	im->batch(tctx, SCALE_SIZE, 1, n, arr); /* warm-up */
	uint64_t t0 = bench_now_ns();
	im->batch(tctx, SCALE_SIZE, rounds, n, arr);
	double ns = (double)(bench_now_ns() - t0) / (double)(rounds * n);
	if (tctx != ctx)
		im->thread_done(ctx, tctx);
	im->teardown(ctx);
	free(arr);
	snprintf(g, sizeof g, "scale.ns.%zu", n);
	bench_emit(g, im->name, "ns", ns);
}

/* Memory at the peak (meant to run first in a fresh process). */
static void run_smem(const void *arg)
{
	const struct scase *c = arg;
	struct alloc_impl *im = c->impl;
	size_t n = c->n;
	if (!im->available || !im->mapped)
		return;
	void **arr = malloc(n * sizeof *arr);
	void *ctx = im->setup(SCALE_SIZE);
	void *tctx = im->thread_ctx(ctx, SCALE_SIZE);
	char g[64];
	size_t before = im->mapped(tctx);
	im->fill(tctx, SCALE_SIZE, n, arr);
	size_t after = im->mapped(tctx);
#if BENCH_HAVE_OBQ
	if (!strncmp(im->name, "obq-", 4)) {
		struct obq_cache_stats st;
		if (obq_cache_stats((obq_cache_t *)ctx, &st) == 0) {
			double meta = (double)st.slabs * (256.0 + 10.0 * (double)st.objects_per_slab);
			snprintf(g, sizeof g, "scale.bytes-meta.%zu", n);
			bench_emit(g, im->name, "B/obj", ((double)(after - before) + meta) / (double)n);
		}
	}
#endif
	im->drain(tctx, n, arr);
	if (after > before) {
		snprintf(g, sizeof g, "scale.bytes.%zu", n);
		bench_emit(g, im->name, "B/obj", (double)(after - before) / (double)n);
	}
	if (tctx != ctx)
		im->thread_done(ctx, tctx);
	im->teardown(ctx);
	free(arr);
}

#define NSIZES 7
static struct scase scases[16 * NSIZES];
static char scase_names[16 * NSIZES][48];
static char smem_names[16 * NSIZES][48];

__attribute__((constructor)) static void scale_register(void)
{
	struct alloc_impl *impls;
	size_t nim = bench_alloc_impls(&impls), k = 0;
	size_t n = 1;
	for (int s = 0; s < NSIZES; s++, n *= 10)
		for (size_t i = 0; i < nim && k < sizeof scases / sizeof scases[0]; i++, k++) {
			scases[k] = (struct scase){ &impls[i], n };
			snprintf(scase_names[k], sizeof scase_names[k], "scale.%zu/%s", n, impls[i].name);
			bench_register("scale", scase_names[k], run_scase, &scases[k]);
			if (n >= 1000 && impls[i].mapped) {
				snprintf(smem_names[k], sizeof smem_names[k], "scalemem.%zu/%s", n,
					 impls[i].name);
				bench_register("scalemem", smem_names[k], run_smem, &scases[k]);
			}
		}
}
