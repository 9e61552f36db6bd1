/* slab.h — slabs and their out-of-object metadata.
 *
 * A slab is one mapping of c->slab_bytes (a multiple of the 64 KiB pagemap granule)
 * cut into c->nslots slots of c->stride bytes.  Everything the allocator knows about a
 * slab and its slots lives OUTSIDE the slab memory, in one metadata block:
 *
 *   [struct obq_slab][slot words: uint64 x nslots][free stack: uint16 x nslots]
 *
 * so the allocator never writes into a freed object (the typesafe rule), and the
 * checker may protect or poison the whole slab memory.
 *
 * Slot word:  generation << 8 | state      (state: enum obq_slot_state)
 * Generation: incremented by each alloc of the slot (0 until the first alloc).
 *
 * Metadata blocks come from a type-stable pool (slab.c): a block is reused only as a
 * slab header of the same size class and is never unmapped, so a lock-free lookup that
 * races with a slab's final release reads stale-but-mapped memory, never freed memory
 * (its nslots is 0 while the block is unused, so indices stay inside the block).
 *
 * Per slab, at any time (ALLOCATED/FREE/... count slot words in that state):
 *   ALLOCATED + FREE + FREE_PENDING == nslots       (until released: then RELEASED == nslots)
 *   nfree == |free stack| <= FREE                   (the rest of FREE sits in magazines/depot)
 *   every index on the free stack is a FREE slot, and appears once.
 *
 * Lists (under the owning cache's slab_lock):
 *   FULL: nfree == 0 (slots allocated or in magazines)   EMPTY: nfree == nslots
 *   PARTIAL: 0 < nfree < nslots
 *   WAITING: typesafe, queued behind a grace period (not on any list)
 *   RELEASED: slots RELEASED, in the checker's quarantine or about to be unmapped.
 *
 * Memory: a slab's mapping comes from the os layer's region cache when one of the same
 * size is there (zeroed where slots will live, os.h), else from a fresh mapping; after
 * the quarantine it goes back to that cache (or is unmapped when the cache is full).
 * A region in the cache has no pagemap entry: it is not a slab, as an unmapped range. */
#ifndef OBQ_SLAB_H
#define OBQ_SLAB_H

#include "internal.h"
#include "slot.h"
#include <oblique/rcu.h>

#include <stdint.h>

struct obq_cache;

#define OBQ_SLOT_STATE_MASK 0xffu
#define OBQ_SLOT_GEN_SHIFT  8
#define OBQ_SLOT_WORD(gen, state) (((uint64_t)(gen) << OBQ_SLOT_GEN_SHIFT) | (uint64_t)(state))

enum obq_slab_list {
	OBQ_SLAB_NONE = 0,    /* being made */
	OBQ_SLAB_PARTIAL,     /* some slots on the free stack */
	OBQ_SLAB_FULL,        /* free stack empty */
	OBQ_SLAB_EMPTY,       /* every slot on the free stack */
	OBQ_SLAB_WAITING,     /* typesafe: empty, waiting for a grace period */
	OBQ_SLAB_RELEASED,    /* slots RELEASED; quarantined or being unmapped */
};

struct obq_slab {
	/* --- read on every alloc/free via the pagemap; set before publication --- */
	struct obq_cache *_Atomic cache; /* owner (relaxed loads); NULL once detached from a destroyed cache */
	char *mem;                       /* first slot, granule-aligned */
	_Atomic uint64_t *slot;          /* slot words [nslots], inside this metadata block */
	uint64_t recip;                  /* ceil(2^64 / stride): index = (off * recip) >> 64 */
	uint32_t stride;                 /* bytes between slots (copy of the cache's) */
	_Atomic uint32_t nslots;         /* slots; 0 while the block sits unused in the pool */
	/* --- under the owner's slab_lock --- */
	uint32_t nfree;                  /* free-stack depth */
	uint32_t list;                   /* enum obq_slab_list */
	uint16_t *free_idx;              /* free stack of slot indices [nslots], inside this block */
	struct obq_slab *next;           /* list link (also: release list link) */
	struct obq_slab *prev;           /* list back link */
	/* --- lifetime --- */
	size_t bytes;                    /* mapping size */
	size_t dirty;                    /* leading bytes of the mapping that may be non-zero (region cache, os.h) */
	void *check;                     /* the checker's per-slab data (NULL in unchecked builds) */
	struct obq_rcu_head rcu;         /* typesafe: final release after a grace period */
	struct obq_slab *q_next;         /* quarantine list of the owner (under the quarantine lock) */
	struct obq_slab *q_prev;         /* quarantine back link */
	uint32_t meta_class;             /* size class of this block in the meta pool */
	uint32_t meta_pad;               /* keeps the slot words 8-byte aligned */
	struct obq_slab *meta_next;      /* meta pool free-list link (unused blocks only) */
};

/* Slot index of the object at byte offset `off` of a slab (exact for off < 2^32). */
static inline size_t _obq_slab_index(const struct obq_slab *s, size_t off)
{
#ifdef __SIZEOF_INT128__
	return (size_t)(((unsigned __int128)s->recip * off) >> 64);
#else
	return off / s->stride;
#endif
}

static inline uint64_t _obq_stride_recip(size_t stride)
{
	return UINT64_MAX / stride + 1;
}

/* Geometry of a cache's slabs: fills c->slab_bytes, c->nslots, c->meta_bytes. */
void _obq_slab_geometry(struct obq_cache *c);
/* At most cap slots per slab (0: unchanged); recomputes c->meta_bytes.  Before the
 * cache's first slab only. */
void _obq_slab_cap(struct obq_cache *c, unsigned cap);

/* Make a slab for c: map it, run the ctor on every slot (POISON caches: fill), tell
 * the checker, publish it in the pagemap.  Called with no lock held.  The slab is on
 * no list yet.  NULL and errno=ENOMEM on failure. */
struct obq_slab *_obq_slab_new(struct obq_cache *c);

/* With c->slab_lock held: put a new slab on the EMPTY list. */
void _obq_slab_link_new(struct obq_cache *c, struct obq_slab *s);

/* With c->slab_lock held: pop up to n FREE slots off the slab free stacks into out
 * (their states stay FREE: they now sit in a magazine).  Returns how many. */
size_t _obq_slabs_take(struct obq_cache *c, void **out, size_t n);

/* With c->slab_lock held: push n FREE objects back on their slabs' free stacks.
 * Slabs that become empty beyond c->empty_keep are unlinked and chained on *rel
 * (through ->next) for _obq_slab_release_list once the lock is dropped. */
void _obq_slabs_put(struct obq_cache *c, void *const *objs, size_t n, struct obq_slab **rel);

/* With c->slab_lock held: unlink every EMPTY slab onto *rel; returns how many. */
size_t _obq_slabs_take_empty(struct obq_cache *c, struct obq_slab **rel);

/* With c->slab_lock held: unlink every slab (any list) onto *rel; returns how many. */
size_t _obq_slabs_take_all(struct obq_cache *c, struct obq_slab **rel);

/* With no lock held: release each slab of the list.  Typesafe caches: through
 * obq_rcu_call (c->slabs_waiting counts them) unless `after_gp` says the caller
 * already waited a grace period; others: at once.  A typesafe list is released by the
 * calling thread after a grace period of its own (obq_rcu_synchronize) when the
 * grace-period backlog would pass obq_gp_backlog_max() or no callback worker can be
 * started, if the thread may wait (not in a read-side section, not the callback
 * thread); see slab.c. */
void _obq_slab_release_list(struct obq_cache *c, struct obq_slab *rel, int after_gp);

/* The allocator's own deferred work: obq_rcu_call(head, func), or, when no callback
 * worker can be started and this thread may wait (as above), a grace period on this
 * thread and func(head) at once.  With no allocator lock held. */
void _obq_defer_gp(struct obq_rcu_head *head, void (*func)(struct obq_rcu_head *));

/* Destroyed cache: forget c in every slab still in the checker's quarantine. */
void _obq_slab_detach_quarantine(struct obq_cache *c);

#endif /* OBQ_SLAB_H */
