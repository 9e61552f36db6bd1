/* magazine.h — per-thread magazines and the per-cache depot.
 *
 * Each thread context has one magazine set, t->mags: entries indexed by cache id.  An
 * entry holds up to c->mag_cap FREE objects of the cache whose incarnation tag it
 * carries, each beside the address of its slot word (so alloc needs no pagemap
 * lookup).  The free links are the entry's array: nothing is written into the
 * objects.  Alloc pops, free pushes, both without a lock or an atomic RMW.
 * Invariant: for every (obj, slot) held, slot == &slab(obj)->slot[index(obj)].
 *
 * Cache ids are recycled, so an entry records the tag of the cache its objects belong
 * to.  The rule: an entry whose tag differs from the cache being used belongs to a
 * destroyed cache, whose slabs are gone; its pointers are dropped unread.  A thread
 * that exits flushes its entries to the depots of the caches that still exist (looked
 * up by id and tag under the registry lock).
 *
 * On overflow a thread moves its top c->mag_batch objects to the depot as one
 * full magazine (or to the slabs when the depot holds c->depot_max); on underflow it
 * takes one full magazine from the depot, or mag_batch objects from the slabs. */
#ifndef OBQ_MAGAZINE_H
#define OBQ_MAGAZINE_H

#include "cache.h"

#include <stdint.h>

#define OBQ_MAG_CAP 127 /* largest per-thread capacity of one cache (entry = 2048 bytes) */

/* One FREE object with the address of its slot word: alloc flips the slot word
 * through it without a pagemap lookup (free, which has just looked the slot up, and
 * refills, which look it up once per object, fill it in). */
struct obq_mag_obj {
	void *obj;                 /* the FREE object */
	_Atomic uint64_t *slot;    /* &slab->slot[index of obj]: its slot word */
};

struct obq_mag_entry {
	uint32_t tag;              /* tag of the cache the objects belong to; 0: never used */
	uint32_t n;                /* objects held: m[0..n), all FREE; m[n-1] is next */
	uint64_t pad;              /* keeps sizeof == 2048 (a shift indexes the set) */
	struct obq_mag_obj m[OBQ_MAG_CAP]; /* the objects (out-of-object free links) */
};

_Static_assert(sizeof(struct obq_mag_entry) == 2048, "magazine entry is indexed by a shift");

/* Every magazine set has at least this many entries, so the fast paths of caches with
 * smaller ids index it without a bound test (c->fast_off). */
#define OBQ_MAG_FAST_IDS 32

struct obq_magazine_set {
	uint32_t cap;              /* entries in e[]: >= OBQ_MAG_FAST_IDS */
	uint32_t pad;              /* alignment */
	struct obq_mag_entry e[];  /* indexed by cache id */
};

/* A depot magazine: a full batch of FREE objects with their slot words. */
struct obq_depot_mag {
	struct obq_depot_mag *next; /* depot stack link */
	uint32_t n;                 /* objects in objs */
	uint32_t pad;               /* alignment */
	struct obq_mag_obj objs[];  /* c->mag_batch entries */
};

/* The entry of c in t's set, made (or reset from a stale tag) on demand.  NULL if the
 * set cannot grow (ENOMEM): callers then go straight to the slabs. */
struct obq_mag_entry *_obq_mag_entry(struct obq_thread *t, struct obq_cache *c);

/* The slot word of the object p (a pagemap lookup; p must be a slot of a live slab). */
_Atomic uint64_t *_obq_slot_word(const void *p);

/* Underflow: a FREE object for c (refilling t's entry from the depot or slabs) and its
 * slot word in *slotp, or NULL with errno=ENOMEM. */
void *_obq_mag_alloc_slow(struct obq_thread *t, struct obq_cache *c, _Atomic uint64_t **slotp);

/* Overflow: keep the FREE object p whose slot word is slot (spilling a batch to the
 * depot or slabs). */
void _obq_mag_free_slow(struct obq_thread *t, struct obq_cache *c, void *p, _Atomic uint64_t *slot);

/* Return t's objects of c to the slabs (shrink, destroy). Empty slabs stay listed. */
void _obq_mag_flush(struct obq_thread *t, struct obq_cache *c);

/* Return the depot's objects to the slabs. Empty slabs stay listed. */
void _obq_depot_drain(struct obq_cache *c);

/* Free the depot's magazine structs (destroy; objects are not touched). */
void _obq_depot_free(struct obq_cache *c);

/* The entry of c in t's set if it exists and carries c's tag, else NULL.  `tag` is
 * c->tag (generic paths) or c->fast_tag (release fast paths: never matches for caches
 * whose alloc or free must take the slow path). */
static inline struct obq_mag_entry *_obq_mag_entry_fast(struct obq_thread *t,
							struct obq_cache *c, uint32_t tag)
{
	struct obq_magazine_set *ms = t->mags;
	if (__builtin_expect(ms == NULL || c->id >= ms->cap, 0))
		return NULL;
	struct obq_mag_entry *e = &ms->e[c->id];
	if (__builtin_expect(e->tag != tag, 0))
		return NULL;
	return e;
}

/* Pop one FREE object (and its slot word) through t's magazine, else the slow path. */
static inline void *_obq_mag_pop(struct obq_thread *t, struct obq_cache *c,
				 _Atomic uint64_t **slotp)
{
	struct obq_mag_entry *e = _obq_mag_entry_fast(t, c, c->tag);
	if (__builtin_expect(e != NULL && e->n > 0, 1)) {
		struct obq_mag_obj *o = &e->m[--e->n];
		*slotp = o->slot;
		return o->obj;
	}
	return _obq_mag_alloc_slow(t, c, slotp);
}

/* Push one FREE object with its slot word, else the slow path. */
static inline void _obq_mag_push(struct obq_thread *t, struct obq_cache *c, void *p,
				 _Atomic uint64_t *slot)
{
	struct obq_mag_entry *e = _obq_mag_entry_fast(t, c, c->tag);
	if (__builtin_expect(e != NULL && e->n < c->mag_cap, 1)) {
		struct obq_mag_obj *o = &e->m[e->n++];
		o->obj = p;
		o->slot = slot;
		return;
	}
	_obq_mag_free_slow(t, c, p, slot);
}

#endif /* OBQ_MAGAZINE_H */
