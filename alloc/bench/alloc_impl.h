/* alloc_impl.h — the allocator descriptors of the allocation benchmark (alloc.c
 * defines them, scale.c reuses them).  The loops are instantiated per allocator, so
 * every allocator is called directly inside its loop, never through a pointer; only
 * the loop itself is reached through these pointers, once per timed chunk. */
#ifndef OBQ_BENCH_ALLOC_IMPL_H
#define OBQ_BENCH_ALLOC_IMPL_H

#include "bench.h"

struct ring;
/* loop { p = alloc; write p; free p } iters times */
typedef void (*lifo_fn)(void *ctx, size_t size, size_t iters);
/* rounds times: allocate n writing each into arr[], then free arr[0..n) in order */
typedef void (*batch_fn)(void *ctx, size_t size, size_t rounds, size_t n, void **arr);
/* allocate n writing each into arr[] / free arr[0..n) (memory measurements) */
typedef void (*fill_fn)(void *ctx, size_t size, size_t n, void **arr);
typedef void (*drain_fn)(void *ctx, size_t n, void **arr);
/* cross-thread: the producer allocates n and pushes, the consumer pops n and frees */
typedef void (*prod_fn)(void *ctx, size_t size, size_t n, struct ring *r);
typedef void (*cons_fn)(void *ctx, size_t n, struct ring *r);

struct alloc_impl {
	const char *name;                  /* impl column */
	void *(*setup)(size_t size);       /* shared context for a run */
	void (*teardown)(void *ctx);       /* after every object is freed */
	void *(*thread_ctx)(void *shared, size_t size); /* per-thread context (2t cases) */
	void (*thread_done)(void *shared, void *tctx);  /* end of a thread's use */
	lifo_fn lifo;                      /* the loops, instantiated per allocator */
	batch_fn batch;
	fill_fn fill;
	drain_fn drain;
	prod_fn prod;                      /* NULL: cannot free cross-thread */
	cons_fn cons;
	size_t (*mapped)(void *ctx);       /* bytes this allocator holds from the system
					      (process-wide where it cannot tell), 0: unknown */
	int available;                     /* 0: skipped (reason printed once) */
};

/* The allocators of this program (peers, then oblique). */
size_t bench_alloc_impls(struct alloc_impl **out);

#endif /* OBQ_BENCH_ALLOC_IMPL_H */
