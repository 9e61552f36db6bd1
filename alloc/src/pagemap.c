/* pagemap.c — the address -> slab radix map (see pagemap.h for the layout and the
 * ordering rules).  Leaves are mapped on demand and kept for the process lifetime. */
#include "pagemap.h"
#include "os.h"

#include <stdatomic.h>
#include <errno.h>

obq_pagemap_leaf_t *_Atomic _obq_pagemap_root[1u << OBQ_PAGEMAP_ROOT_BITS];

#define LEAF_MASK ((1u << OBQ_PAGEMAP_LEAF_BITS) - 1)

static obq_pagemap_leaf_t *leaf_get_or_make(uint64_t a)
{
	size_t r = (size_t)(a >> (OBQ_PAGEMAP_SHIFT + OBQ_PAGEMAP_LEAF_BITS));
	/* Acquire: see the zeroed leaf another thread published. */
	obq_pagemap_leaf_t *leaf = atomic_load_explicit(&_obq_pagemap_root[r], memory_order_acquire);
	if (leaf)
		return leaf;
	obq_pagemap_leaf_t *fresh = _obq_os_map(sizeof(obq_pagemap_leaf_t), 0);
	if (fresh == NULL)
		return NULL;
	obq_pagemap_leaf_t *expected = NULL;
	/* Release on success: the (zero) leaf contents before its publication;
	 * acquire on failure: we use the winner's leaf. */
	if (atomic_compare_exchange_strong_explicit(&_obq_pagemap_root[r], &expected, fresh,
						    memory_order_acq_rel, memory_order_acquire))
		return fresh;
	_obq_os_unmap(fresh, sizeof(obq_pagemap_leaf_t));
	return expected;
}

int _obq_pagemap_set(uintptr_t base, size_t bytes, struct obq_slab *s)
{
	uint64_t a = (uint64_t)base;
	uint64_t end = a + bytes;
	if ((end - 1) >> OBQ_PAGEMAP_VA_BITS)
		return -EINVAL;
	/* Make every leaf first so a failure leaves nothing half-set. */
	for (uint64_t g = a; g < end; g += OBQ_PAGEMAP_GRANULE)
		if (leaf_get_or_make(g) == NULL)
			return -ENOMEM;
	for (uint64_t g = a; g < end; g += OBQ_PAGEMAP_GRANULE) {
		obq_pagemap_leaf_t *leaf = leaf_get_or_make(g);
		/* Release: the slab's metadata is initialised before lookups find it. */
		atomic_store_explicit(&(*leaf)[(g >> OBQ_PAGEMAP_SHIFT) & LEAF_MASK], s, memory_order_release);
	}
	return 0;
}

void _obq_pagemap_clear(uintptr_t base, size_t bytes)
{
	uint64_t a = (uint64_t)base;
	for (uint64_t g = a; g < a + bytes; g += OBQ_PAGEMAP_GRANULE) {
		if (g >> OBQ_PAGEMAP_VA_BITS)
			break; /* never set (see _obq_pagemap_set) */
		obq_pagemap_leaf_t *leaf = atomic_load_explicit(
			&_obq_pagemap_root[g >> (OBQ_PAGEMAP_SHIFT + OBQ_PAGEMAP_LEAF_BITS)],
			memory_order_acquire);
		if (leaf)
			/* Release: orders our last reads of the slab before the entry goes;
			 * the metadata is recycled only through the type-stable meta pool. */
			atomic_store_explicit(&(*leaf)[(g >> OBQ_PAGEMAP_SHIFT) & LEAF_MASK], NULL,
					 memory_order_release);
	}
}
