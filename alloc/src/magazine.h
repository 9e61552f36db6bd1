/* magazine.h — per-thread magazines and the per-cache depot.
 *
 * Each thread context has one magazine set, t->mags: entries indexed by cache id.  An
 * entry holds up to c->mag_cap FREE objects of the cache whose incarnation tag it
 * carries.  The free links are the entry's pointer array: nothing is written into the
 * objects.  Alloc pops, free pushes, both without a lock or an atomic RMW.
 *
 * Cache ids are recycled, so an entry records the tag of the cache its objects belong
 * to.  The rule: an entry whose tag differs from the cache being used belongs to a
 * destroyed cache, whose slabs are gone; its pointers are dropped unread.  A thread
 * that exits flushes its entries to the depots of the caches that still exist (looked
 * up by id and tag under the registry lock).
 *
 * On overflow a thread moves its oldest c->mag_batch objects to the depot as one
 * full magazine (or to the slabs when the depot holds c->depot_max); on underflow it
 * takes one full magazine from the depot, or mag_batch objects from the slabs. */
#ifndef OBQ_MAGAZINE_H
#define OBQ_MAGAZINE_H

#include "cache.h"

#include <stdint.h>

#define OBQ_MAG_CAP 64 /* largest per-thread capacity of one cache */

struct obq_mag_entry {
	uint32_t tag;              /* tag of the cache the objects belong to; 0: never used */
	uint32_t n;                /* objects held: objs[0..n), all FREE; objs[n-1] is next */
	void *objs[OBQ_MAG_CAP];   /* the objects (pointer array: the out-of-object free links) */
};

struct obq_magazine_set {
	uint32_t cap;              /* entries in e[] */
	uint32_t pad;              /* alignment */
	struct obq_mag_entry e[];  /* indexed by cache id */
};

/* A depot magazine: a full batch of FREE objects. */
struct obq_depot_mag {
	struct obq_depot_mag *next; /* depot stack link */
	uint32_t n;                 /* objects in objs */
	uint32_t pad;               /* alignment */
	void *objs[];               /* c->mag_batch slots */
};

/* The entry of c in t's set, made (or reset from a stale tag) on demand.  NULL if the
 * set cannot grow (ENOMEM): callers then go straight to the slabs. */
struct obq_mag_entry *_obq_mag_entry(struct obq_thread *t, struct obq_cache *c);

/* Underflow: a FREE object for c (refilling t's entry from the depot or slabs), or
 * NULL with errno=ENOMEM. */
void *_obq_mag_alloc_slow(struct obq_thread *t, struct obq_cache *c);

/* Overflow: keep the FREE object p (spilling a batch to the depot or slabs). */
void _obq_mag_free_slow(struct obq_thread *t, struct obq_cache *c, void *p);

/* Return t's objects of c to the slabs (shrink, destroy). Empty slabs stay listed. */
void _obq_mag_flush(struct obq_thread *t, struct obq_cache *c);

/* Return the depot's objects to the slabs. Empty slabs stay listed. */
void _obq_depot_drain(struct obq_cache *c);

/* Free the depot's magazine structs (destroy; objects are not touched). */
void _obq_depot_free(struct obq_cache *c);

/* Fast paths: pop/push one FREE object through t's magazine, else the slow path. */
static inline struct obq_mag_entry *_obq_mag_entry_fast(struct obq_thread *t,
							struct obq_cache *c)
{
	struct obq_magazine_set *ms = t->mags;
	if (__builtin_expect(ms == NULL || c->id >= ms->cap, 0))
		return NULL;
	struct obq_mag_entry *e = &ms->e[c->id];
	if (__builtin_expect(e->tag != c->tag, 0))
		return NULL;
	return e;
}

static inline void *_obq_mag_pop(struct obq_thread *t, struct obq_cache *c)
{
	struct obq_mag_entry *e = _obq_mag_entry_fast(t, c);
	if (__builtin_expect(e != NULL && e->n > 0, 1))
		return e->objs[--e->n];
	return _obq_mag_alloc_slow(t, c);
}

static inline void _obq_mag_push(struct obq_thread *t, struct obq_cache *c, void *p)
{
	struct obq_mag_entry *e = _obq_mag_entry_fast(t, c);
	if (__builtin_expect(e != NULL && e->n < c->mag_cap, 1)) {
		e->objs[e->n++] = p;
		return;
	}
	_obq_mag_free_slow(t, c, p);
}

#endif /* OBQ_MAGAZINE_H */
