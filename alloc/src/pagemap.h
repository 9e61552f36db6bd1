/* pagemap.h — lock-free map from an address to the slab that contains it.
 *
 * Slabs are mapped at multiples of OBQ_PAGEMAP_GRANULE (64 KiB) and span a whole
 * number of granules.  The map is a two-level radix tree over the granule number of a
 * 48-bit address: a static root of 2^16 leaf pointers, each leaf 2^16 slab pointers
 * (512 KiB, mapped on first use and never unmapped, so a lookup never touches freed
 * memory).  Every granule of a slab points at the slab's metadata.
 *
 *   lookup(p) = root[p >> 32][(p >> 16) & 0xffff]    (NULL: not an oblique slab)
 *
 * Writers (slab creation and final release) serialise per granule by construction —
 * a granule belongs to at most one live mapping — so entries need no lock: a release
 * store publishes a slab whose metadata is fully initialised, and lookups acquire. */
#ifndef OBQ_PAGEMAP_H
#define OBQ_PAGEMAP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct obq_slab;

#define OBQ_PAGEMAP_SHIFT   16                          /* log2 of the granule */
#define OBQ_PAGEMAP_GRANULE ((size_t)1 << OBQ_PAGEMAP_SHIFT)
#define OBQ_PAGEMAP_VA_BITS 48                          /* addresses above are never ours */
#define OBQ_PAGEMAP_LEAF_BITS 16
#define OBQ_PAGEMAP_ROOT_BITS (OBQ_PAGEMAP_VA_BITS - OBQ_PAGEMAP_SHIFT - OBQ_PAGEMAP_LEAF_BITS)

typedef struct obq_slab *_Atomic obq_pagemap_leaf_t[1u << OBQ_PAGEMAP_LEAF_BITS];

/* Root: leaf pointers, published with a release CAS once the leaf is zeroed. */
extern obq_pagemap_leaf_t *_Atomic _obq_pagemap_root[1u << OBQ_PAGEMAP_ROOT_BITS];

/* Point every granule of [base, base + bytes) at s (base granule-aligned).  0, or
 * -ENOMEM (a leaf could not be mapped; nothing was set) or -EINVAL (above the
 * supported address range). */
int _obq_pagemap_set(uintptr_t base, size_t bytes, struct obq_slab *s);

/* Forget [base, base + bytes). */
void _obq_pagemap_clear(uintptr_t base, size_t bytes);

/* The slab containing p, or NULL.  Never dereferences p. */
static inline struct obq_slab *_obq_pagemap_get(const void *p)
{
	uint64_t a = (uint64_t)(uintptr_t)p;
	if (__builtin_expect(a >> OBQ_PAGEMAP_VA_BITS, 0))
		return NULL;
	/* Acquire: the leaf was zeroed before its release CAS into the root. */
	obq_pagemap_leaf_t *leaf = atomic_load_explicit(
		&_obq_pagemap_root[a >> (OBQ_PAGEMAP_SHIFT + OBQ_PAGEMAP_LEAF_BITS)], memory_order_acquire);
	if (__builtin_expect(leaf == NULL, 0))
		return NULL;
	/* Acquire: pairs with the release store in _obq_pagemap_set, so the slab's
	 * metadata (mem, nslots, slot words) is visible before we read it. */
	return atomic_load_explicit(&(*leaf)[(a >> OBQ_PAGEMAP_SHIFT) & ((1u << OBQ_PAGEMAP_LEAF_BITS) - 1)],
			       memory_order_acquire);
}

#endif /* OBQ_PAGEMAP_H */
