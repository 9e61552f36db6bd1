/* ring.h — a single-producer single-consumer ring of pointers for the cross-thread
 * free benchmark (A allocates and pushes, B pops and frees).
 *
 * Invariant: 0 <= tail - head <= RING_SIZE; slot[i & RING_MASK] holds the i-th pointer
 * for head <= i < tail.  Each side caches the other side's index and reloads it only
 * when the ring looks full (producer) or empty (consumer), so in steady state each
 * push and pop touches one shared cache line of slots plus its own index. */
#ifndef OBQ_BENCH_RING_H
#define OBQ_BENCH_RING_H

#include "bench.h"

#define RING_SIZE 1024u
#define RING_MASK (RING_SIZE - 1)

struct ring {
	_Alignas(64) atomic_size_t head; /* next index the consumer pops (consumer writes) */
	size_t tail_cache;               /* consumer's last view of tail */
	_Alignas(64) atomic_size_t tail; /* next index the producer fills (producer writes) */
	size_t head_cache;               /* producer's last view of head */
	_Alignas(64) void *slot[RING_SIZE]; /* the pointers in flight */
};

static inline void ring_init(struct ring *r)
{
	atomic_store_explicit(&r->head, 0, memory_order_relaxed);
	atomic_store_explicit(&r->tail, 0, memory_order_relaxed);
	r->tail_cache = 0;
	r->head_cache = 0;
}

static inline void ring_push(struct ring *r, void *p)
{
	/* relaxed: only the producer writes tail. */
	size_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	unsigned spins = 0;
	while (t - r->head_cache == RING_SIZE) {
		/* acquire: the consumer's read of the slot happens before we overwrite it. */
		r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
		if (t - r->head_cache == RING_SIZE)
			bench_spin(&spins);
	}
	r->slot[t & RING_MASK] = p;
	/* release: the slot (and the object written before the push) is visible to the
	 * consumer that sees the new tail. */
	atomic_store_explicit(&r->tail, t + 1, memory_order_release);
}

static inline void *ring_pop(struct ring *r)
{
	/* relaxed: only the consumer writes head. */
	size_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	unsigned spins = 0;
	while (h == r->tail_cache) {
		/* acquire: pairs with the producer's release store of tail. */
		r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (h == r->tail_cache)
			bench_spin(&spins);
	}
	void *p = r->slot[h & RING_MASK];
	/* release: our read of the slot happens before the producer reuses it. */
	atomic_store_explicit(&r->head, h + 1, memory_order_release);
	return p;
}

#endif /* OBQ_BENCH_RING_H */
