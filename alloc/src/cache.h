/* cache.h (internal) — struct obq_cache: one kmem_cache-style object cache.
 *
 * Three tiers (Bonwick's magazines and vmem depot, simplified):
 *   per-thread magazine  t->mags->e[c->id]: c->mag_cap .. c->mag_max FREE objects, no lock;
 *   depot                full magazines of c->mag_batch objects, c->depot_lock;
 *   slabs                free stacks in out-of-object metadata, c->slab_lock.
 *
 * Lock order: registry_lock (cache.c) -> depot_lock -> slab_lock -> quarantine and
 * meta-pool locks (slab.c).  pending_lock -> slab_lock.  No lock is ever held across
 * an obq_rcu_* call, the ctor, an error report or a scheduling point: under the sim
 * backend those may switch to another virtual thread on the same OS thread.
 *
 * Object accounting (slot states, summed over the cache's slabs):
 *   ALLOCATED + FREE + FREE_PENDING == slabs * nslots
 *   FREE == sum(nfree) + |objects in magazines of every thread| + |objects in depot|
 *   FREE_PENDING == npending (rcu-debug batches) */
#ifndef OBQ_CACHE_INTERNAL_H
#define OBQ_CACHE_INTERNAL_H

#include "internal.h"
#include "slot.h"
#include "slab.h"

#include <pthread.h>
#include <stdint.h>

struct obq_pending;   /* cache.c: one rcu-debug batch */
struct obq_depot_mag; /* magazine.h */

struct obq_cache {
	/* --- hot, read-only after create --- */
	uint32_t id;                /* index into per-thread magazine sets and the registry */
	uint32_t tag;               /* incarnation tag (never 0): a magazine entry with another tag is stale */
	uint32_t fast_tag;          /* tag the release fast paths compare: tag, or OBQ_TAG_NONE when
				     * alloc_slow || free_slow (no entry ever matches: slow path) */
	uint32_t fast_off;          /* byte offset of this cache's entry in a magazine set, for the
				     * fast paths: every set has >= OBQ_MAG_FAST_IDS entries, so no
				     * bound test (id >= OBQ_MAG_FAST_IDS: entry 0, fast_tag NONE) */
	uint32_t mag_cap;           /* a thread magazine's initial capacity (<= OBQ_MAG_CAP) */
	uint32_t mag_batch;         /* objects per depot magazine (mag_cap / 2) */
	unsigned free_slow;         /* 1: free must poison or defer (OBQ_POISON or rcu-debug) */
	unsigned alloc_slow;        /* 1: alloc must zero or check poison */
	unsigned rcu_debug;         /* 1: typesafe cache created in rcu-debug reuse mode */
	unsigned dropping;          /* 1: a forced destroy releases its slabs, live objects dropped */
	unsigned flags;             /* OBQ_* cache flags */
	size_t size;                /* requested object size */
	size_t align;               /* object alignment */
	size_t stride;              /* bytes between slots: multiple of 8 and of align, >= size */
	obq_ctor_fn ctor;           /* runs once per slot when its slab is made */
	/* --- slab geometry --- */
	size_t slab_bytes;          /* mapping per slab (multiple of the pagemap granule) */
	uint32_t nslots;            /* slots per slab */
	uint32_t empty_keep;        /* empty slabs kept before releasing more (slab_lock): the
				     * recent high-water mark of slabs, at least empty_keep_base */
	uint32_t empty_keep_base;   /* the geometry's choice (about 1 MiB); shrink and decay return to it */
	unsigned keep_grows;        /* 1: empty_keep follows the high-water mark (0 under
				     * obq_set_slab_max_objects: fuzzing wants slabs released early) */
	uint32_t depot_max;         /* full magazines the depot keeps before spilling to slabs */
	uint32_t mag_max;           /* a thread magazine may grow to this (about 1 MiB of objects;
				     * mag_cap under obq_set_slab_max_objects / fuzz geometry) */
	size_t meta_bytes;          /* metadata block per slab */
	char name[OBQ_CACHE_NAME_MAX + 1]; /* NUL-terminated copy of the name */
	struct obq_guard guards[OBQ_GUARD_KIND_COUNT]; /* declared guard fields */
	/* --- depot (depot_lock) --- */
	pthread_mutex_t depot_lock;       /* protects the depot fields below */
	struct obq_depot_mag *depot_full; /* stack of full magazines (mag_batch objects each) */
	size_t depot_nfull;               /* magazines on depot_full */
	struct obq_depot_mag *depot_spare;/* empty magazine structs kept for reuse */
	/* --- slabs (slab_lock) --- */
	pthread_mutex_t slab_lock;  /* protects the slab lists and every slab's free stack */
	struct obq_slab *partial;   /* list of PARTIAL slabs */
	struct obq_slab *full;      /* list of FULL slabs */
	struct obq_slab *empty;     /* list of EMPTY slabs */
	size_t nslabs;              /* slabs on the three lists */
	size_t nempty;              /* slabs on the empty list */
	uint64_t keep_stamp_ns;     /* when a new slab last raised the high-water mark (decay clock) */
	_Atomic size_t slabs_waiting; /* typesafe slabs queued behind a grace period (relaxed) */
	_Atomic size_t bytes_mapped;  /* bytes of owned + waiting slabs (relaxed) */
	_Atomic size_t slabs_released;/* slabs ever given back to the system (relaxed) */
	_Atomic size_t slabs_released_stale;/* of those, stale-touched while waiting (relaxed) */
	/* --- rcu-debug deferred frees (pending_lock) --- */
	pthread_mutex_t pending_lock;       /* protects the batch pointers and npending */
	struct obq_pending *pend_open;      /* batch collecting frees, not yet queued */
	struct obq_pending *pend_inflight;  /* batch queued with obq_rcu_call, or NULL */
	struct obq_pending *pend_spare;     /* a drained batch kept for reuse */
	size_t npending;                    /* FREE_PENDING objects in the two batches */
	/* --- quarantine (slab.c's quarantine lock) --- */
	struct obq_slab *quarantined; /* released slabs the checker still holds */
	/* --- after destroy --- */
	_Atomic unsigned destroyed; /* 1 once destroyed: checked builds keep the struct a while
				     * (cache.c, destroyed ring) to report a later call (relaxed) */
};

/* The cache registry (cache.c): id -> (cache, tag).  A cache stays registered from
 * create until destroy has decided to go ahead; thread exit flushes magazines under
 * the registry lock, so a registered cache cannot vanish under it. */
void _obq_cache_registry_lock(void);
void _obq_cache_registry_unlock(void);
struct obq_cache *_obq_cache_registry_find(uint32_t id, uint32_t tag); /* lock held */

/* The allocator's internal constants. */
#define OBQ_TAG_NONE     UINT32_MAX /* never handed out as a tag; never in a magazine entry */
#define OBQ_HWCACHE_LINE 64        /* OBQ_HWCACHE_ALIGN alignment */
#define OBQ_ALIGN_MAX    4096      /* largest alignment accepted */

#endif /* OBQ_CACHE_INTERNAL_H */
