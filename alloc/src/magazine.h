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
 * On overflow a thread moves its top c->mag_batch objects as one full magazine to its
 * own stash (entry->stash, up to c->stash_max magazines), else to the shared depot,
 * else (the depot holds c->depot_max) to the slabs; on underflow it takes one full
 * magazine from its stash, else from the depot, else mag_batch objects from the slabs.
 *
 * Why a private stash before the shared depot: a thread's slot words sit beside its
 * neighbours' in the slab metadata (8 per cache line).  Through a shared depot, two
 * threads that each allocate and free batches soon hold neighbouring objects, and
 * every alloc and free then misses on a slot-word line the other CPU just wrote
 * (measured, two threads each cycling 10,000 64-byte objects: 61 ns per alloc+free
 * through the depot, 9 ns with the stash).  What a thread freed comes back to it.
 *
 * Slow start (as TCMalloc sizes its per-thread free lists): a stash may hold only
 * stash_cap magazines, 0 at first, doubled up to c->stash_max each time the thread
 * refills from an empty stash.  A thread that allocates in batches grows its stash in
 * its first batch; a thread that only frees what others allocate (a consumer) never
 * refills, keeps no stash, and its frees reach the depot where the producer finds
 * them (with a full-size stash from the start the producer made new slabs instead
 * while the consumer hoarded: cross-thread free 30-50 -> 60-80 ns per object). */
#ifndef OBQ_MAGAZINE_H
#define OBQ_MAGAZINE_H

#include "cache.h"

#include <stdint.h>

#define OBQ_MAG_CAP 126 /* largest per-thread capacity of one cache (entry = 2048 bytes) */

/* One FREE object with the address of its slot word: alloc flips the slot word
 * through it without a pagemap lookup (free, which has just looked the slot up, and
 * refills, which look it up once per object, fill it in). */
struct obq_mag_obj {
	void *obj;                 /* the FREE object */
	_Atomic uint64_t *slot;    /* &slab->slot[index of obj]: its slot word */
};

/* The magazine set of the current context, for the release fast paths: _obq_self->mags,
 * or _obq_mags_none when that is NULL, so the fast paths load it in one TLS read and
 * test nothing but the entry's tag.  thread.c keeps it in step with _obq_self (every
 * switch) and magazine.c with t->mags (growth, thread exit).
 * Invariant: _obq_mags == (_obq_self->mags ? _obq_self->mags : &_obq_mags_none.set). */
struct obq_magazine_set;
extern __thread struct obq_magazine_set *_obq_mags __attribute__((tls_model("initial-exec")));

/* A depot or stash magazine: a full batch of FREE objects with their slot words. */
struct obq_depot_mag {
	struct obq_depot_mag *next; /* stack link */
	uint32_t n;                 /* objects in objs */
	uint32_t pad;               /* alignment */
	struct obq_mag_obj objs[];  /* c->mag_batch entries */
};

struct obq_mag_entry {
	uint32_t tag;              /* tag of the cache the objects belong to; 0: never used */
	uint32_t n;                /* objects held: m[0..n), all FREE; m[n-1] is next */
	struct obq_depot_mag *stash; /* this thread's full magazines of the cache (nstash) */
	struct obq_depot_mag *spare; /* this thread's empty magazine structs (nspare) */
	uint16_t nstash;           /* magazines on stash: <= stash_cap */
	uint16_t nspare;           /* structs on spare: nstash + nspare <= c->stash_max */
	uint16_t stash_cap;        /* magazines the stash may hold now: 0, then doubled (to
				    * c->stash_max) by each refill that found it empty */
	uint16_t pad;              /* keeps sizeof == 2048 (a shift indexes the set) */
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

/* The set of a context without magazines: OBQ_MAG_FAST_IDS entries, all tag 0 (no
 * cache's tag), zero objects.  Never written: no tag matches, so every fast path that
 * reads it falls to the slow path, which makes the real set. */
union obq_mags_none {
	struct obq_magazine_set set;
	char bytes[sizeof(struct obq_magazine_set) + OBQ_MAG_FAST_IDS * sizeof(struct obq_mag_entry)];
};
extern union obq_mags_none _obq_mags_none;

/* The set to install in _obq_mags for a context whose set is ms (may be NULL). */
static inline struct obq_magazine_set *_obq_mags_for(struct obq_magazine_set *ms)
{
	return ms != NULL ? ms : &_obq_mags_none.set;
}

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

/* Return t's objects of c (magazine and stash) to the slabs and free its magazine
 * structs (shrink, destroy). Empty slabs stay listed. */
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
