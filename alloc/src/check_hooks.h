/* check_hooks.h — the small low-level interface between the cache and the checker
 * (as mimalloc's track.h).  The cache calls only these declarations; sanitizers/
 * implements them.  In unchecked builds (OBQ_CHECKED=0) they compile to nothing.
 *
 * Slot states (always kept by the cache, in its out-of-object slab metadata):
 *   ALLOCATED     — handed out by alloc, not yet freed;
 *   FREE          — freed, type-stable: still an object of this cache, reusable;
 *   FREE_PENDING  — rcu-debug mode: freed, waiting a grace period before reuse;
 *   RELEASED      — its slab went back after a grace period (quarantined slabs only).
 * A slot's generation is incremented by every alloc of it. */
#ifndef OBQ_CHECK_HOOKS_H
#define OBQ_CHECK_HOOKS_H

#include <oblique/common.h>
#include <oblique/cache.h>

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

#if OBQ_CHECKED
/* A slab was made: its slots are FREE (ctor already run); returns the checker's
 * per-slab data, stored by the cache and handed back in obq_slot_info.check. */
void *_obq_check_slab_created(struct obq_cache *c, struct obq_slab *s, void *mem,
			      size_t bytes, size_t nslots, size_t stride);
/* The slot turned ALLOCATED (generation already incremented). site: caller's PC. */
void _obq_check_alloc(const struct obq_slot_info *si, const void *site);
/* About to free: return 0 to refuse (a rule fired and was reported), 1 to proceed. */
int _obq_check_free(const struct obq_slot_info *si, const void *site);
/* The slot turned FREE_PENDING (rcu-debug) or FREE. */
void _obq_check_freed(const struct obq_slot_info *si);
/* An empty slab's memory went back after a grace period: all its slots are RELEASED.
 * The checker may quarantine it; it calls _obq_slab_quarantine_done(s) when the
 * cache may unmap the memory and free the metadata. */
void _obq_check_slab_released(struct obq_cache *c, struct obq_slab *s, void *check);
/* A cache is being destroyed (after its barrier). */
void _obq_check_cache_destroy(struct obq_cache *c);
/* An empty typesafe slab was queued to go back after a grace period (check: its
 * per-slab data).  From now on a reader's legal touch of one of its freed objects
 * marks it stale. */
void _obq_check_slab_retired(void *check);
/* 1 if a reader inside a read-side section touched one of the slab's freed objects
 * after _obq_check_slab_retired: the grace period outwaited a stale pointer. */
int _obq_check_slab_stale(void *check);
#else
#define _obq_check_slab_created(c, s, mem, bytes, n, stride) ((void)0, (void *)0)
#define _obq_check_alloc(si, site) ((void)0)
#define _obq_check_free(si, site) (1)
#define _obq_check_freed(si) ((void)0)
#define _obq_check_slab_released(c, s, chk) _obq_slab_quarantine_done(s)
#define _obq_check_cache_destroy(c) ((void)0)
#define _obq_check_slab_retired(chk) ((void)0)
#define _obq_check_slab_stale(chk) (0)
#endif

/* Unmap a released slab's memory and free its metadata (called by the checker when
 * the slab leaves quarantine, or directly in unchecked builds). */
void _obq_slab_quarantine_done(struct obq_slab *s);

/* Guard-field declarations of a cache (for the checker). */
struct obq_guard {
	unsigned declared;   /* 1 if this kind was declared */
	size_t offset;       /* byte offset in the object */
	size_t size;         /* 1, 2, 4 or 8 */
};
const struct obq_guard *_obq_cache_guards(const struct obq_cache *c); /* [OBQ_GUARD_KIND_COUNT] */
size_t _obq_cache_object_size(const struct obq_cache *c);

#endif /* OBQ_CHECK_HOOKS_H */
