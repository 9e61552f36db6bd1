/* magazine.h — per-thread magazines and the per-cache depot.
 *
 * Each thread context has one magazine set, t->mags: entries indexed by cache id.  An
 * entry's array m[0..end - m) holds FREE objects of the cache whose incarnation
 * tag it carries, each beside the address of its slot word (so alloc needs no pagemap
 * lookup).  The free links are the entry's array: nothing is written into the
 * objects.  Alloc pops, free pushes, both without a lock or an atomic RMW.
 * Invariant: for every (obj, slot) held, slot == &slab(obj)->slot[index(obj)].
 *
 * Cache ids are recycled, so an entry records the tag of the cache its objects belong
 * to.  The rule: an entry whose tag differs from the cache being used belongs to a
 * destroyed cache, whose slabs are gone; its pointers are dropped unread.  A thread
 * that exits flushes its entries to the slabs of the caches that still exist (looked
 * up by id and tag under the registry lock).
 *
 * The fast paths keep a stack pointer, not a count: alloc pops *--top, free pushes
 * *top++, so a pair's address depends on one load from the entry (with a count and a
 * base it depended on two: a longer chain of dependent loads on the fast path).
 *
 * Capacity.  An entry's array starts at c->mag_cap pairs and may grow, by doubling, up
 * to its limit; the limit starts at c->mag_cap and doubles, up to c->mag_max (about
 * 1 MiB of objects), each time the thread refills an empty magazine (slow start, as
 * TCMalloc sizes its per-thread free lists).  On overflow (top == end) the array grows
 * if the limit allows; otherwise the top c->mag_batch objects move to the depot as one
 * full magazine (or to the slabs when the depot holds c->depot_max).  On underflow the
 * thread takes one full magazine from the depot, or mag_batch objects from the slabs.
 *
 * Why a magazine that grows rather than a fixed one over the shared depot: a thread's
 * slot words sit beside its neighbours' in the slab metadata (8 per cache line).
 * Through a shared depot, two threads that each allocate and free batches soon hold
 * neighbouring objects, and every alloc and free then misses on a slot-word line the
 * other CPU just wrote.  And a batch that fits the array never copies pairs to and
 * from the depot.  (The figures of both: docs/benchmarks.md, finding A8.)  The slow
 * start keeps a consumer that only frees what another thread allocated at the
 * initial capacity: it never refills, so its frees reach the depot where the producer
 * takes them (a large array from the start made it hoard what the producer needed). */
#ifndef OBQ_MAGAZINE_H
#define OBQ_MAGAZINE_H

#include "cache.h"

#include <stdint.h>

#define OBQ_MAG_CAP 126 /* largest initial capacity (c->mag_cap) and depot magazine (2 * mag_batch) */

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

/* A depot magazine: a full batch of FREE objects with their slot words. */
struct obq_depot_mag {
	struct obq_depot_mag *next; /* stack link */
	uint32_t n;                 /* objects in objs */
	uint32_t pad;               /* alignment */
	struct obq_mag_obj objs[];  /* c->mag_batch entries */
};

/* One cache's magazine in one thread's set, one cache line.  The fast paths read tag,
 * top and m (alloc) or end (free): a pair's address is top itself, one load from the
 * entry. */
struct obq_mag_entry {
	uint32_t tag;              /* tag of the cache the objects belong to; 0: never used */
	uint32_t limit;            /* end - m may grow to this: c->mag_cap .. c->mag_max */
	struct obq_mag_obj *top;   /* next free place: m[0..top - m) are held, top[-1] is next */
	struct obq_mag_obj *m;     /* the array (out-of-object free links); the thread's own */
	struct obq_mag_obj *end;   /* m + capacity; NULL while m is */
	/* one cache line per entry, whatever the pointer size (32 bytes of fields on
	 * 64-bit targets, 20 on 32-bit ones) */
	char pad[64 - 2 * sizeof(uint32_t) - 3 * sizeof(struct obq_mag_obj *)];
};

/* Objects held by e. */
static inline uint32_t _obq_mag_n(const struct obq_mag_entry *e)
{
	return (uint32_t)(e->top - e->m);
}

/* Pairs e's array can hold. */
static inline uint32_t _obq_mag_capacity(const struct obq_mag_entry *e)
{
	return (uint32_t)(e->end - e->m);
}

_Static_assert(sizeof(struct obq_mag_entry) == 64, "a magazine entry is one cache line");

/* Every magazine set has at least this many entries, so the fast paths of caches with
 * smaller ids index it without a bound test (c->fast_off). */
#define OBQ_MAG_FAST_IDS 32

struct obq_magazine_set {
	uint32_t cap;              /* entries in e[]: >= OBQ_MAG_FAST_IDS */
	uint32_t pad[15];          /* the entries start on a cache line (the set is 64-aligned) */
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

/* The entry of c in t's set with an array, made (or reset from a stale tag) on demand.
 * NULL if the set or the array cannot be allocated (ENOMEM): callers then go straight
 * to the slabs. */
struct obq_mag_entry *_obq_mag_entry(struct obq_thread *t, struct obq_cache *c);

/* The slot word of the object p (a pagemap lookup; p must be a slot of a live slab). */
_Atomic uint64_t *_obq_slot_word(const void *p);

/* Underflow: a FREE object for c (refilling t's entry from the depot or slabs) and its
 * slot word in *slotp, or NULL with errno=ENOMEM. */
void *_obq_mag_alloc_slow(struct obq_thread *t, struct obq_cache *c, _Atomic uint64_t **slotp);

/* Overflow: keep the FREE object p whose slot word is slot (growing the array, or
 * spilling a batch to the depot or slabs). */
void _obq_mag_free_slow(struct obq_thread *t, struct obq_cache *c, void *p, _Atomic uint64_t *slot);

/* Return t's objects of c to the slabs and free its array (shrink, destroy).  Empty
 * slabs stay listed. */
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
	if (__builtin_expect(e != NULL && e->top != e->m, 1)) {
		struct obq_mag_obj *o = --e->top;
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
	if (__builtin_expect(e != NULL && e->top != e->end, 1)) {
		struct obq_mag_obj *o = e->top++;
		o->obj = p;
		o->slot = slot;
		return;
	}
	_obq_mag_free_slow(t, c, p, slot);
}

#endif /* OBQ_MAGAZINE_H */
