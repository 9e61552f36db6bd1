/* magazine.c — per-thread magazines over the per-cache depot (see magazine.h).
 *
 * Fast paths (inline in magazine.h) touch only the calling thread's context.  The
 * slow paths here move whole batches between a thread's entry, the depot
 * (depot_lock) and the slabs (slab_lock), and grow a thread's magazine set.
 *
 * Invariant per entry: every pointer in objs[0..n) is a FREE slot of the cache whose
 * tag the entry carries, and appears nowhere else (no other entry, depot, slab free
 * stack or pending batch). */
#include "magazine.h"
#include "cache.h"
#include "slab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct obq_mag_entry *_obq_mag_entry(struct obq_thread *t, struct obq_cache *c)
{
	struct obq_magazine_set *ms = t->mags;
	if (ms == NULL || c->id >= ms->cap) {
		uint32_t old = ms ? ms->cap : 0;
		uint32_t cap = old ? old : 8;
		while (cap <= c->id)
			cap *= 2;
		struct obq_magazine_set *n =
			realloc(ms, sizeof *ms + (size_t)cap * sizeof(struct obq_mag_entry));
		if (n == NULL)
			return NULL;
		/* New entries: tag 0 (never used), no objects.  Only the header fields and
		 * counts need clearing; the pointer arrays are read only below n. */
		for (uint32_t i = old; i < cap; i++) {
			n->e[i].tag = 0;
			n->e[i].n = 0;
		}
		n->cap = cap;
		t->mags = ms = n;
	}
	struct obq_mag_entry *e = &ms->e[c->id];
	if (e->tag != c->tag) {
		/* Stale: the objects belonged to a destroyed cache; drop them unread. */
		e->tag = c->tag;
		e->n = 0;
	}
	return e;
}

/* Move the batch objs[0..k) to the slabs; release what became surplus empty. */
static void put_to_slabs(struct obq_cache *c, void *const *objs, size_t k)
{
	struct obq_slab *rel = NULL;
	pthread_mutex_lock(&c->slab_lock);
	_obq_slabs_put(c, objs, k, &rel);
	pthread_mutex_unlock(&c->slab_lock);
	if (rel)
		_obq_slab_release_list(c, rel, 0);
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
	got = _obq_slabs_take(c, out, n);
	pthread_mutex_unlock(&c->slab_lock);
	return got;
}

void *_obq_mag_alloc_slow(struct obq_thread *t, struct obq_cache *c)
{
	struct obq_mag_entry *e = _obq_mag_entry(t, c);
	if (e == NULL) {
		/* No magazine (out of memory for the set): one object straight from a slab. */
		void *p = NULL;
		if (take_from_slabs(c, &p, 1) == 0) {
			errno = ENOMEM;
			return NULL;
		}
		return p;
	}
	if (e->n > 0)
		return e->objs[--e->n];
	/* Depot first: one full magazine. */
	pthread_mutex_lock(&c->depot_lock);
	struct obq_depot_mag *m = c->depot_full;
	if (m) {
		c->depot_full = m->next;
		c->depot_nfull--;
		memcpy(e->objs, m->objs, m->n * sizeof(void *));
		e->n = m->n;
		m->next = c->depot_spare;
		c->depot_spare = m;
	}
	pthread_mutex_unlock(&c->depot_lock);
	if (e->n == 0) {
		e->n = (uint32_t)take_from_slabs(c, e->objs, c->mag_batch);
		if (e->n == 0) {
			errno = ENOMEM;
			return NULL;
		}
	}
	return e->objs[--e->n];
}

void _obq_mag_free_slow(struct obq_thread *t, struct obq_cache *c, void *p)
{
	struct obq_mag_entry *e = _obq_mag_entry(t, c);
	if (e == NULL) {
		put_to_slabs(c, &p, 1);
		return;
	}
	if (e->n >= c->mag_cap) {
		/* Spill the oldest batch (bottom of the entry) to the depot or the slabs. */
		uint32_t k = c->mag_batch;
		int spilled = 0;
		pthread_mutex_lock(&c->depot_lock);
		if (c->depot_nfull < c->depot_max) {
			struct obq_depot_mag *m = c->depot_spare;
			if (m)
				c->depot_spare = m->next;
			else
				m = malloc(sizeof *m + (size_t)c->mag_batch * sizeof(void *));
			if (m) {
				memcpy(m->objs, e->objs, k * sizeof(void *));
				m->n = k;
				m->next = c->depot_full;
				c->depot_full = m;
				c->depot_nfull++;
				spilled = 1;
			}
		}
		pthread_mutex_unlock(&c->depot_lock);
		if (!spilled)
			put_to_slabs(c, e->objs, k);
		memmove(e->objs, e->objs + k, (e->n - k) * sizeof(void *));
		e->n -= k;
	}
	e->objs[e->n++] = p;
}

void _obq_mag_flush(struct obq_thread *t, struct obq_cache *c)
{
	struct obq_magazine_set *ms = t->mags;
	if (ms == NULL || c->id >= ms->cap)
		return;
	struct obq_mag_entry *e = &ms->e[c->id];
	if (e->tag != c->tag || e->n == 0)
		return;
	pthread_mutex_lock(&c->slab_lock);
	_obq_slabs_put(c, e->objs, e->n, NULL);
	pthread_mutex_unlock(&c->slab_lock);
	e->n = 0;
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
		_obq_slabs_put(c, m->objs, m->n, NULL);
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
		if (e->n == 0)
			continue;
		struct obq_cache *c = _obq_cache_registry_find(id, e->tag);
		if (c) {
			pthread_mutex_lock(&c->slab_lock);
			_obq_slabs_put(c, e->objs, e->n, NULL);
			pthread_mutex_unlock(&c->slab_lock);
		}
		e->n = 0;
	}
	_obq_cache_registry_unlock();
	t->mags = NULL;
	free(ms);
}
