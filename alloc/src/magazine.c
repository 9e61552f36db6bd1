/* magazine.c — per-thread magazines over the per-cache depot (see magazine.h).
 *
 * Fast paths (inline in magazine.h) touch only the calling thread's context.  The
 * slow paths here move whole batches between a thread's entry, the depot
 * (depot_lock) and the slabs (slab_lock), and grow a thread's magazine set.
 *
 * Invariant per entry: every object in m[0..top - m) is a FREE slot of the cache whose tag
 * the entry carries, appears nowhere else (no other entry, depot, slab free stack or
 * pending batch), and m[i].slot is its slot word.  Depot magazines hold the same
 * pairs, so a batch that cycles through the depot never touches the pagemap.  The
 * array m is the thread's own: freed when the entry changes cache (stale tag), is
 * flushed, or the thread exits.
 *   m <= top <= end;  end - m <= limit <= max(c->mag_cap, c->mag_max);
 *   m == NULL <=> top == end == NULL */
#include "magazine.h"
#include "internal.h"
#include "cache.h"
#include "mutant.h"
#include "os.h"
#include "pagemap.h"
#include "slab.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

union obq_mags_none _obq_mags_none; /* zero: see magazine.h */
__thread struct obq_magazine_set *_obq_mags
	__attribute__((tls_model("initial-exec"))) = &_obq_mags_none.set;

/* Drop the entry's array (its objects, if any, already went back or belong to a
 * destroyed cache). */
static void array_free(struct obq_mag_entry *e)
{
	free(e->m);
	e->m = e->top = e->end = NULL;
	e->limit = 0;
}

/* Grow t's magazine set to hold id (64-byte aligned, new entries zero: tag 0).  The
 * set, or NULL when out of memory. */
static struct obq_magazine_set *set_grow(struct obq_thread *t, uint32_t id)
{
	struct obq_magazine_set *ms = t->mags;
	uint32_t old = ms ? ms->cap : 0;
	uint32_t cap = old ? old : OBQ_MAG_FAST_IDS;
	while (cap <= id)
		cap *= 2;
	size_t bytes = sizeof *ms + (size_t)cap * sizeof(struct obq_mag_entry);
	void *mem = NULL;
	if (posix_memalign(&mem, 64, bytes) != 0)
		return NULL;
	struct obq_magazine_set *n = mem;
	memset(n, 0, bytes);
	if (ms != NULL)
		memcpy(n->e, ms->e, (size_t)old * sizeof(struct obq_mag_entry));
	n->cap = cap;
	t->mags = n;
	if (t == _obq_self)
		_obq_mags = n; /* the set moved: keep the fast paths' copy in step */
	free(ms);
	return n;
}

struct obq_mag_entry *_obq_mag_entry(struct obq_thread *t, struct obq_cache *c)
{
	struct obq_magazine_set *ms = t->mags;
	if (ms == NULL || c->id >= ms->cap) {
		ms = set_grow(t, c->id);
		if (ms == NULL)
			return NULL;
	}
	struct obq_mag_entry *e = &ms->e[c->id];
	if (e->tag != c->tag) {
		/* Stale: the objects belonged to a destroyed cache; drop them unread. */
		array_free(e);
		e->tag = c->tag;
	}
	if (e->m == NULL) {
		e->m = malloc((size_t)c->mag_cap * sizeof(struct obq_mag_obj));
		if (e->m == NULL)
			return NULL;
		e->top = e->m;
		e->end = e->m + c->mag_cap;
		e->limit = c->mag_cap;
	}
	return e;
}

/* With c->slab_lock held: push the objects of m[0..k) back on their slabs. */
static void put_pairs(struct obq_cache *c, const struct obq_mag_obj *m, size_t k,
		      struct obq_slab **rel)
{
	void *objs[OBQ_MAG_CAP];
	while (k > 0) {
		size_t b = k < OBQ_MAG_CAP ? k : OBQ_MAG_CAP;
		for (size_t i = 0; i < b; i++)
			objs[i] = m[i].obj;
		_obq_slabs_put(c, objs, b, rel);
		m += b;
		k -= b;
	}
}

/* Empty slabs kept (A3): a cache keeps up to its high-water mark of slabs, at most
 * OBQ_KEEP_MAX_BYTES of them, so a working set that shrinks and grows again re-maps
 * nothing; OBQ_KEEP_DECAY_NS after the last new slab the mark falls back to the base
 * (about 1 MiB) and the next frees that empty a slab release it.  obq_cache_shrink
 * releases every empty slab and resets the mark.
 *   empty_keep_base <= empty_keep <= max(base, OBQ_KEEP_MAX_BYTES / slab_bytes) */
#define OBQ_KEEP_MAX_BYTES ((size_t)256 << 20)
#define OBQ_KEEP_DECAY_NS  (10ull * 1000 * 1000 * 1000)

/* With c->slab_lock held: a new slab was linked. */
static void keep_raise(struct obq_cache *c)
{
	if (!c->keep_grows)
		return;
	size_t max = OBQ_KEEP_MAX_BYTES / c->slab_bytes;
	size_t want = c->nslabs < max ? c->nslabs : max;
	if (want > c->empty_keep)
		c->empty_keep = (uint32_t)want;
	c->keep_stamp_ns = _obq_os_now_ns();
}

/* With c->slab_lock held: about to put objects back; let an old mark decay. */
static void keep_decay(struct obq_cache *c)
{
	if (c->empty_keep > c->empty_keep_base &&
	    _obq_os_now_ns() - c->keep_stamp_ns > OBQ_KEEP_DECAY_NS)
		c->empty_keep = c->empty_keep_base;
}

/* Move the batch m[0..k) to the slabs; release what became surplus empty. */
static void put_to_slabs(struct obq_cache *c, const struct obq_mag_obj *m, size_t k)
{
	struct obq_slab *rel = NULL;
	pthread_mutex_lock(&c->slab_lock);
	keep_decay(c);
	put_pairs(c, m, k, &rel);
	pthread_mutex_unlock(&c->slab_lock);
	if (rel)
		_obq_slab_release_list(c, rel, 0);
}

_Atomic uint64_t *_obq_slot_word(const void *p)
{
	struct obq_slab *s = _obq_pagemap_get(p);
	return &s->slot[_obq_slab_index(s, (size_t)((const char *)p - s->mem))];
}

/* Pair each of objs[0..n) (fresh from the slab free stacks) with its slot word: one
 * pagemap lookup per run of objects from the same slab. */
static void fill_pairs(struct obq_mag_obj *m, void *const *objs, size_t n)
{
	struct obq_slab *s = NULL;
	for (size_t i = 0; i < n; i++) {
		char *p = objs[i];
		if (s == NULL || (uintptr_t)(p - s->mem) >= s->bytes)
			s = _obq_pagemap_get(p);
		m[i].obj = p;
		m[i].slot = &s->slot[_obq_slab_index(s, (size_t)(p - s->mem))];
	}
}

/* Fill out[0..n) with FREE objects from the slabs, making a slab if none has any.
 * Returns how many (0 only when out of memory). */
static size_t take_from_slabs(struct obq_cache *c, void **out, size_t n)
{
	pthread_mutex_lock(&c->slab_lock);
	size_t got = _obq_slabs_take(c, out, n);
	pthread_mutex_unlock(&c->slab_lock);
	if (got > 0)
		return got;
	/* Make a slab outside the lock: the ctor is the caller's code. */
	struct obq_slab *s = _obq_slab_new(c);
	if (s == NULL)
		return 0;
	pthread_mutex_lock(&c->slab_lock);
	_obq_slab_link_new(c, s);
	keep_raise(c);
	got = _obq_slabs_take(c, out, n);
	pthread_mutex_unlock(&c->slab_lock);
	return got;
}

void *_obq_mag_alloc_slow(struct obq_thread *t, struct obq_cache *c, _Atomic uint64_t **slotp)
{
	struct obq_mag_entry *e = _obq_mag_entry(t, c);
	if (e == NULL) {
		/* No magazine (out of memory for the set): one object straight from a slab. */
		void *p = NULL;
		if (take_from_slabs(c, &p, 1) == 0) {
			errno = ENOMEM;
			return NULL;
		}
		*slotp = _obq_slot_word(p);
		return p;
	}
	if (e->top == e->m && e->limit < c->mag_max) {
		/* Refilling an empty magazine: this thread allocates in batches; let it keep
		 * more of what it frees (slow start, magazine.h). */
		uint32_t lim = 2u * e->limit;
		e->limit = lim < c->mag_max ? lim : c->mag_max;
	}
	if (e->top == e->m) {
		/* The depot: one full magazine. */
		pthread_mutex_lock(&c->depot_lock);
		struct obq_depot_mag *m = c->depot_full;
		if (m && OBQ_MUTANT(depot_refill_keeps)) {
			/* mutant: the magazine is copied out but stays in the depot */
			memcpy(e->m, m->objs, m->n * sizeof(struct obq_mag_obj));
			e->top = e->m + m->n;
		} else if (m) {
			c->depot_full = m->next;
			c->depot_nfull--;
			memcpy(e->m, m->objs, m->n * sizeof(struct obq_mag_obj));
			e->top = e->m + m->n;
			m->next = c->depot_spare;
			c->depot_spare = m;
		}
		pthread_mutex_unlock(&c->depot_lock);
	}
	if (e->top == e->m) {
		void *objs[OBQ_MAG_CAP];
		size_t got = take_from_slabs(c, objs, c->mag_batch);
		if (got == 0) {
			errno = ENOMEM;
			return NULL;
		}
		if (OBQ_MUTANT(mag_refill_ctor) && c->ctor)
			for (size_t i = 0; i < got; i++)
				c->ctor(objs[i]); /* mutant: the ctor run on every magazine refill */
		fill_pairs(e->m, objs, got);
		e->top = e->m + got;
	}
	struct obq_mag_obj *o = --e->top;
	*slotp = o->slot;
	return o->obj;
}

void _obq_mag_free_slow(struct obq_thread *t, struct obq_cache *c, void *p, _Atomic uint64_t *slot)
{
	struct obq_mag_entry *e = _obq_mag_entry(t, c);
	if (e == NULL) {
		struct obq_mag_obj one = { p, slot };
		put_to_slabs(c, &one, 1);
		return;
	}
	uint32_t have = _obq_mag_capacity(e);
	if (e->top == e->end && have < e->limit) {
		/* Grow (doubling, up to the limit): what this thread frees stays its own. */
		uint32_t cap = 2u * have < e->limit ? 2u * have : e->limit;
		struct obq_mag_obj *m = realloc(e->m, (size_t)cap * sizeof(struct obq_mag_obj));
		if (m != NULL) {
			e->top = m + (e->top - e->m);
			e->end = m + cap;
			e->m = m;
		}
	}
	if (e->top == e->end) {
		/* Spill the top batch to the depot or the slabs (no memmove; p still goes on
		 * top afterwards, so free(p); alloc() == p holds). */
		uint32_t k = c->mag_batch;
		struct obq_mag_obj *top = e->top - k;
		int spilled = 0;
		pthread_mutex_lock(&c->depot_lock);
		if (c->depot_nfull < c->depot_max) {
			struct obq_depot_mag *m = c->depot_spare;
			if (m)
				c->depot_spare = m->next;
			else
				m = malloc(sizeof *m + (size_t)c->mag_batch * sizeof(struct obq_mag_obj));
			if (m) {
				memcpy(m->objs, top, k * sizeof(struct obq_mag_obj));
				m->n = k;
				m->next = c->depot_full;
				c->depot_full = m;
				c->depot_nfull++;
				spilled = 1;
			}
		}
		pthread_mutex_unlock(&c->depot_lock);
		if (!spilled)
			put_to_slabs(c, top, k);
		e->top -= k;
	}
	struct obq_mag_obj *o = e->top++;
	o->obj = p;
	o->slot = slot;
}

void _obq_mag_flush(struct obq_thread *t, struct obq_cache *c)
{
	struct obq_magazine_set *ms = t->mags;
	if (ms == NULL || c->id >= ms->cap)
		return;
	struct obq_mag_entry *e = &ms->e[c->id];
	if (e->tag != c->tag)
		return;
	if (e->top != e->m) {
		pthread_mutex_lock(&c->slab_lock);
		put_pairs(c, e->m, _obq_mag_n(e), NULL);
		pthread_mutex_unlock(&c->slab_lock);
	}
	if (OBQ_MUTANT(mag_flush_no_reset))
		return; /* mutant: the flushed objects stay in the magazine (top not reset) */
	array_free(e); /* and the slow start begins again */
}

void _obq_depot_drain(struct obq_cache *c)
{
	pthread_mutex_lock(&c->depot_lock);
	struct obq_depot_mag *list = c->depot_full;
	c->depot_full = NULL;
	c->depot_nfull = 0;
	pthread_mutex_unlock(&c->depot_lock);
	if (list == NULL)
		return;
	pthread_mutex_lock(&c->slab_lock);
	for (struct obq_depot_mag *m = list; m; m = m->next)
		put_pairs(c, m->objs, m->n, NULL);
	pthread_mutex_unlock(&c->slab_lock);
	pthread_mutex_lock(&c->depot_lock);
	while (list) {
		struct obq_depot_mag *m = list;
		list = m->next;
		m->next = c->depot_spare;
		c->depot_spare = m;
	}
	pthread_mutex_unlock(&c->depot_lock);
}

void _obq_depot_free(struct obq_cache *c)
{
	struct obq_depot_mag *lists[2] = { c->depot_full, c->depot_spare };
	for (int i = 0; i < 2; i++) {
		while (lists[i]) {
			struct obq_depot_mag *m = lists[i];
			lists[i] = m->next;
			free(m);
		}
	}
	c->depot_full = c->depot_spare = NULL;
	c->depot_nfull = 0;
}

void obq_testing_thread_trim(struct obq_thread *t)
{
	struct obq_magazine_set *ms = t ? t->mags : NULL;
	if (ms == NULL)
		return;
	/* Under the registry lock no cache is made or destroyed while we look. */
	_obq_cache_registry_lock();
	for (uint32_t id = 0; id < ms->cap; id++) {
		struct obq_mag_entry *e = &ms->e[id];
		if (e->m != NULL && (e->tag == 0 || _obq_cache_registry_find(id, e->tag) == NULL)) {
			array_free(e); /* a destroyed cache's: nothing in it (see above) */
			e->tag = 0;
		}
	}
	_obq_cache_registry_unlock();
}

void _obq_mag_thread_exit(struct obq_thread *t)
{
	struct obq_magazine_set *ms = t->mags;
	if (ms == NULL)
		return;
	/* Under the registry lock no cache can be destroyed, so each live (id, tag) stays
	 * valid while we hand its objects back.  Empty slabs are not released here (the
	 * cache's next shrink, free overflow or destroy does it). */
	_obq_cache_registry_lock();
	for (uint32_t id = 0; id < ms->cap; id++) {
		struct obq_mag_entry *e = &ms->e[id];
		if (e->top != e->m) {
			struct obq_cache *c = _obq_cache_registry_find(id, e->tag);
			if (c) {
				pthread_mutex_lock(&c->slab_lock);
				put_pairs(c, e->m, _obq_mag_n(e), NULL);
				pthread_mutex_unlock(&c->slab_lock);
			}
		}
		array_free(e);
	}
	_obq_cache_registry_unlock();
	t->mags = NULL;
	if (t == _obq_self)
		_obq_mags = &_obq_mags_none.set;
	free(ms);
}
