/* slot.h — what the cache tells the tools about its memory: the slot an address lies
 * in (state, generation, owner) and a cache's properties, through functions only.
 * The checker (sanitizers/) and the access layer's out-of-line part use these; they
 * never include cache.h or slab.h nor read struct obq_cache or struct obq_slab.  The
 * other direction — the cache calling the checker — goes through the seam,
 * oblique/bits/track.h.
 *
 * Slot states (always kept by the cache, in its out-of-object slab metadata):
 *   ALLOCATED     — handed out by alloc, not yet freed;
 *   FREE          — freed, type-stable: still an object of this cache, reusable;
 *   FREE_PENDING  — rcu-debug mode: freed, waiting a grace period before reuse;
 *   RELEASED      — its slab went back after a grace period (quarantined slabs only).
 * A slot's generation is incremented by every alloc of it. */
#ifndef OBQ_SLOT_H
#define OBQ_SLOT_H

#include <oblique/common.h>
#include <oblique/cache.h>
#include <oblique/bits/track.h>

struct obq_slab;

enum obq_slot_state {
	OBQ_SLOT_NONE = 0,          /* not an oblique slot */
	OBQ_SLOT_ALLOCATED = 1,
	OBQ_SLOT_FREE = 2,
	OBQ_SLOT_FREE_PENDING = 3,
	OBQ_SLOT_RELEASED = 4,
};

const char *_obq_slot_state_name(unsigned state);

/* What the cache knows of an address. */
struct obq_slot_info {
	struct obq_cache *cache;    /* owning cache */
	struct obq_slab *slab;      /* owning slab (metadata lives outside the slab memory) */
	void *object;               /* start of the slot containing the address */
	size_t index;               /* slot index in its slab */
	size_t offset;              /* address - object */
	unsigned state;             /* enum obq_slot_state */
	uint64_t generation;        /* incremented by each alloc of the slot (56 bits) */
	void *check;                /* the checker's per-slab data (see _obq_check_slab_created) */
};

/* Lock-free and safe against concurrent alloc/free/release: 1 and *out filled if p
 * lies in a slab of some oblique cache, including a RELEASED slab still in quarantine;
 * 0 otherwise.  Never dereferences p. */
int _obq_slot_lookup(const void *p, struct obq_slot_info *out);


/* Unmap a released slab's memory and free its metadata (called by the checker when
 * the slab leaves quarantine, or directly in unchecked builds). */
void _obq_slab_quarantine_done(struct obq_slab *s);

/* A cache's properties, for the checker and the access layer (cache.c).  c must be
 * live (not destroyed).  The name is the cache's own NUL-terminated copy. */
struct obq_cache_props {
	const char *name;     /* NUL-terminated, at most OBQ_CACHE_NAME_MAX bytes */
	unsigned flags;       /* OBQ_* cache flags */
	unsigned rcu_debug;   /* 1: typesafe cache created in rcu-debug reuse mode */
	unsigned has_ctor;    /* 1: a ctor runs once per slot */
	size_t size;          /* requested object size */
	uint32_t id;          /* registry index (reused after destroy) */
	uint32_t tag;         /* incarnation tag: (id, tag) names one cache for ever */
};
void _obq_cache_props(const struct obq_cache *c, struct obq_cache_props *out);

/* Guard-field declarations of a cache (for the checker). */
struct obq_guard {
	unsigned declared;   /* 1 if this kind was declared */
	size_t offset;       /* byte offset in the object */
	size_t size;         /* 1, 2, 4 or 8 */
};
const struct obq_guard *_obq_cache_guards(const struct obq_cache *c); /* [OBQ_GUARD_KIND_COUNT] */
size_t _obq_cache_object_size(const struct obq_cache *c);

#endif /* OBQ_SLOT_H */
