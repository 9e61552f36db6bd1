/* slab.c — slabs: geometry, creation (ctor per slot), the free stacks, the slab lists,
 * the typesafe release path (obq_rcu_call -> RELEASED -> checker quarantine ->
 * _obq_slab_quarantine_done -> the os layer's region cache or unmap), the type-stable metadata pool, and the
 * lock-free slot lookup the checker uses.  See slab.h for the layout and invariants.
 *
 * Locks: the owning cache's slab_lock protects lists and free stacks; quarantine_lock
 * protects every cache's quarantine list and slab->cache detachment; meta_lock the
 * metadata pool.  Order: slab_lock -> quarantine_lock -> meta_lock. */
#include "slab.h"
#include "cache.h"
#include "fork.h"
#include "os.h"
#include "pagemap.h"

#include "mutant.h"

#include <stdatomic.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------
 * Metadata pool: power-of-two blocks, carved from 1 MiB chunks (larger classes are
 * mapped one by one), recycled per class and never unmapped (see slab.h: lookups may
 * read a block while it is being recycled). */

#define META_MIN_SHIFT   8
#define META_MAX_SHIFT   24
#define META_CHUNK       ((size_t)1 << 20)

static pthread_mutex_t meta_lock = PTHREAD_MUTEX_INITIALIZER;
static struct obq_slab *meta_free_list[META_MAX_SHIFT + 1]; /* per class, under meta_lock */
static char *meta_bump;                                      /* chunk carve point */
static char *meta_bump_end;                                  /* end of the current chunk */

static unsigned meta_class_of(size_t bytes)
{
	unsigned k = META_MIN_SHIFT;
	while (((size_t)1 << k) < bytes)
		k++;
	return k;
}

static struct obq_slab *meta_alloc(size_t bytes)
{
	unsigned k = meta_class_of(bytes);
	if (k > META_MAX_SHIFT)
		return NULL;
	size_t sz = (size_t)1 << k;
	struct obq_slab *s = NULL;
	pthread_mutex_lock(&meta_lock);
	if (meta_free_list[k]) {
		s = meta_free_list[k];
		meta_free_list[k] = s->meta_next;
	} else if (sz >= META_CHUNK) {
		s = _obq_os_map(sz, 0);
	} else {
		if (meta_bump == NULL || (size_t)(meta_bump_end - meta_bump) < sz) {
			/* The tail of the old chunk is abandoned: at most one block. */
			char *chunk = _obq_os_map(META_CHUNK, 0);
			if (chunk) {
				meta_bump = chunk;
				meta_bump_end = chunk + META_CHUNK;
			}
		}
		if (meta_bump && (size_t)(meta_bump_end - meta_bump) >= sz) {
			s = (struct obq_slab *)meta_bump;
			meta_bump += sz;
		}
	}
	pthread_mutex_unlock(&meta_lock);
	if (s)
		s->meta_class = k;
	return s;
}

static void meta_free(struct obq_slab *s)
{
	/* Relaxed: lookups racing with this recycle see 0 slots and stop (slab.h). */
	atomic_store_explicit(&s->nslots, 0, memory_order_relaxed);
	pthread_mutex_lock(&meta_lock);
	s->meta_next = meta_free_list[s->meta_class];
	meta_free_list[s->meta_class] = s;
	pthread_mutex_unlock(&meta_lock);
}

/* ---------------------------------------------------------------------------------
 * Geometry. */

void _obq_slab_geometry(struct obq_cache *c)
{
	/* Small objects: one 64 KiB granule.  Large ones: at least 4 slots per slab. */
	size_t bytes = OBQ_PAGEMAP_GRANULE;
	while (bytes / c->stride < 4)
		bytes <<= 1;
	c->slab_bytes = bytes;
	c->nslots = (uint32_t)(bytes / c->stride);
	/* A test harness may cap the slots per slab (obq_set_slab_max_objects): the tail of
	 * the mapping stays unused and untouched (never faulted in). */
	_obq_slab_cap(c, obq_get_slab_max_objects());
	/* Keep about 1 MiB of empty slabs (at least 2) so batch patterns do not churn. */
	size_t keep = ((size_t)1 << 20) / bytes;
	c->empty_keep = keep < 2 ? 2 : keep > 16 ? 16 : (uint32_t)keep;
}

void _obq_slab_cap(struct obq_cache *c, unsigned cap)
{
	if (cap != 0 && c->nslots > cap)
		c->nslots = cap;
	/* header, then one slot word and one free-stack entry per slot (slab.h) */
	c->meta_bytes = sizeof(struct obq_slab) + (size_t)c->nslots * (sizeof(uint64_t) + sizeof(uint16_t));
}

/* ---------------------------------------------------------------------------------
 * Creation. */

static void release_now(struct obq_cache *c, struct obq_slab *s);

struct obq_slab *_obq_slab_new(struct obq_cache *c)
{
	struct obq_slab *s = meta_alloc(c->meta_bytes);
	if (s == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	uint32_t n = c->nslots;
	size_t used = (size_t)n * c->stride, dirty = used;
	/* Regions are granule-aligned: they were slabs of this size. */
	char *mem = _obq_os_region_take(c->slab_bytes, used, &dirty);
	if (mem == NULL)
		mem = _obq_os_map(c->slab_bytes, OBQ_PAGEMAP_GRANULE);
	if (mem == NULL) {
		meta_free(s);
		errno = ENOMEM;
		return NULL;
	}
	atomic_store_explicit(&s->cache, c, memory_order_relaxed); /* published by the pagemap's release */
	s->mem = mem;
	s->slot = (_Atomic uint64_t *)(s + 1);
	s->recip = _obq_stride_recip(c->stride);
	s->stride = (uint32_t)c->stride;
	s->nfree = n;
	s->list = OBQ_SLAB_NONE;
	s->free_idx = (uint16_t *)(s->slot + n);
	s->next = s->prev = NULL;
	s->bytes = c->slab_bytes;
	s->dirty = dirty;
	s->check = NULL;
	s->q_next = s->q_prev = NULL;
	for (uint32_t i = 0; i < n; i++) {
		/* Relaxed: not yet published (the pagemap store below releases it). */
		atomic_store_explicit(&s->slot[i], OBQ_SLOT_WORD(0, OBQ_SLOT_FREE), memory_order_relaxed);
		s->free_idx[i] = (uint16_t)(n - 1 - i); /* slot 0 on top */
	}
	if (c->flags & OBQ_POISON)
		memset(mem, 0x6b, (size_t)n * c->stride);
	if (c->ctor) {
		if (_obq_testing_hooks.ctor_begin)
			_obq_testing_hooks.ctor_begin();
		for (uint32_t i = 0; i < n; i++) {
			c->ctor(mem + (size_t)i * c->stride);
			if (_obq_testing_hooks.constructed)
				_obq_testing_hooks.constructed(mem + (size_t)i * c->stride, c->size);
		}
		if (_obq_testing_hooks.ctor_end)
			_obq_testing_hooks.ctor_end();
	}
	/* Relaxed: the pagemap publication below is the release. */
	atomic_store_explicit(&s->nslots, n, memory_order_relaxed);
	/* The checker's data is in place before lock-free lookups can find the slab. */
	s->check = _obq_check_slab_created(c, s, mem, s->bytes, n, c->stride);
	/* Relaxed: a statistic. */
	atomic_fetch_add_explicit(&c->bytes_mapped, s->bytes, memory_order_relaxed);
	if (_obq_pagemap_set((uintptr_t)mem, s->bytes, s) != 0) {
		/* Undo through the normal path so the checker sees the slab go. */
		release_now(c, s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

/* ---------------------------------------------------------------------------------
 * Lists (slab_lock held). */

static struct obq_slab **list_head(struct obq_cache *c, unsigned list)
{
	switch (list) {
	case OBQ_SLAB_PARTIAL: return &c->partial;
	case OBQ_SLAB_FULL: return &c->full;
	case OBQ_SLAB_EMPTY: return &c->empty;
	default: return NULL;
	}
}

static void list_unlink(struct obq_cache *c, struct obq_slab *s)
{
	struct obq_slab **h = list_head(c, s->list);
	if (h == NULL)
		return;
	if (s->prev)
		s->prev->next = s->next;
	else
		*h = s->next;
	if (s->next)
		s->next->prev = s->prev;
	if (s->list == OBQ_SLAB_EMPTY)
		c->nempty--;
	s->next = s->prev = NULL;
	s->list = OBQ_SLAB_NONE;
}

static void list_push(struct obq_cache *c, struct obq_slab *s, unsigned list)
{
	struct obq_slab **h = list_head(c, list);
	s->list = list;
	s->prev = NULL;
	s->next = *h;
	if (*h)
		(*h)->prev = s;
	*h = s;
	if (list == OBQ_SLAB_EMPTY)
		c->nempty++;
}

static void list_move(struct obq_cache *c, struct obq_slab *s, unsigned list)
{
	if (s->list == list)
		return;
	list_unlink(c, s);
	list_push(c, s, list);
}

void _obq_slab_link_new(struct obq_cache *c, struct obq_slab *s)
{
	list_push(c, s, OBQ_SLAB_EMPTY);
	c->nslabs++;
}

size_t _obq_slabs_take(struct obq_cache *c, void **out, size_t n)
{
	size_t got = 0;
	while (got < n) {
		struct obq_slab *s = c->partial ? c->partial : c->empty;
		if (s == NULL)
			break;
		while (got < n && s->nfree > 0) {
			/* mutant: the first object is taken without being popped (and again) */
			uint16_t idx = OBQ_MUTANT(slab_take_twice) && got == 0 && s->nfree > 1 && n > 1
					       ? s->free_idx[s->nfree - 1]
					       : s->free_idx[--s->nfree];
			out[got++] = s->mem + (size_t)idx * c->stride;
		}
		list_move(c, s, s->nfree == 0 ? OBQ_SLAB_FULL : OBQ_SLAB_PARTIAL);
	}
	/* Magazines pop from the end: reverse so objects go out in free-stack order. */
	for (size_t i = 0, j = got; i + 1 < j; i++, j--) {
		void *t = out[i];
		out[i] = out[j - 1];
		out[j - 1] = t;
	}
	return got;
}

/* 1 if slot idx is on s's free stack (a linear search: small slabs only). */
static int on_free_stack(const struct obq_slab *s, size_t idx)
{
	for (uint32_t k = 0; k < s->nfree; k++)
		if (s->free_idx[k] == idx)
			return 1;
	return 0;
}

void _obq_slabs_put(struct obq_cache *c, void *const *objs, size_t n, struct obq_slab **rel)
{
	struct obq_slab *s = NULL;
	for (size_t i = 0; i < n; i++) {
		/* Neighbours in a batch usually share a slab: skip the pagemap then. */
		if (s == NULL || (uintptr_t)((char *)objs[i] - s->mem) >= s->bytes)
			s = _obq_pagemap_get(objs[i]);
		OBQ_ASSERT(s != NULL && atomic_load_explicit(&s->cache, memory_order_relaxed) == c);
		if (OBQ_UNLIKELY(s->list == OBQ_SLAB_RELEASED)) {
			/* Allocator contract: an object of a slab that already went back was still
			 * in a magazine or depot.  Putting it back would link a released slab
			 * into the lists (a cycle: destroy's walk never ends); it is left out. */
			_obq_report(OBQ_ERR_ALLOC_EARLY_RELEASE, c->name, objs[i], "RELEASED", 0,
				    "  the allocator put %p back on its slab (cache \"%s\"), but that "
				    "slab's memory already\n  went back: the object sat in a magazine or "
				    "depot while its slab was released\n  (a flush or spill that left "
				    "objects behind).  The object was left out of the slab lists.\n",
				    objs[i], c->name);
			continue;
		}
		size_t idx = _obq_slab_index(s, (size_t)((char *)objs[i] - s->mem));
		if (OBQ_UNLIKELY(s->nfree >= s->nslots || (s->nslots <= 64 && on_free_stack(s, idx)))) {
			/* Allocator contract: the object is on its slab's free stack already (a
			 * flush or spill that left it in a magazine).  A second entry would hand
			 * it out twice, and past nslots it would overrun the stack into the
			 * metadata (list cycles: destroy's walk never ended).  Small slabs (the
			 * fuzz geometry) are searched; every slab is bounded. */
			_obq_report(OBQ_ERR_ALLOC_DOUBLE_HANDOUT, c->name, objs[i], "FREE", 0,
				    "  the allocator put %p back on its slab (cache \"%s\") a second "
				    "time: it is on the\n  slab's free stack already and would be handed "
				    "out twice (a magazine or depot\n  kept it after returning it).  The "
				    "second entry was left out.\n", objs[i], c->name);
			continue;
		}
		s->free_idx[s->nfree++] = (uint16_t)idx;
		/* mutant: a slab with one object still out counts as empty */
		if (s->nfree == s->nslots ||
		    (OBQ_MUTANT(slab_release_early) && s->nslots > 1 && s->nfree + 1 == s->nslots)) {
			list_move(c, s, OBQ_SLAB_EMPTY);
			if (c->nempty > c->empty_keep && rel) {
				list_unlink(c, s);
				c->nslabs--;
				s->next = *rel;
				*rel = s;
			}
		} else if (s->list != OBQ_SLAB_PARTIAL) {
			list_move(c, s, OBQ_SLAB_PARTIAL);
		}
	}
}

static size_t take_list(struct obq_cache *c, unsigned list, struct obq_slab **rel)
{
	size_t k = 0;
	struct obq_slab **h = list_head(c, list);
	while (*h) {
		struct obq_slab *s = *h;
		list_unlink(c, s);
		c->nslabs--;
		s->next = *rel;
		*rel = s;
		k++;
	}
	return k;
}

size_t _obq_slabs_take_empty(struct obq_cache *c, struct obq_slab **rel)
{
	return take_list(c, OBQ_SLAB_EMPTY, rel);
}

size_t _obq_slabs_take_all(struct obq_cache *c, struct obq_slab **rel)
{
	return take_list(c, OBQ_SLAB_EMPTY, rel) + take_list(c, OBQ_SLAB_PARTIAL, rel) +
	       take_list(c, OBQ_SLAB_FULL, rel);
}

/* ---------------------------------------------------------------------------------
 * Release: RELEASED -> checker quarantine -> unmap. */

static pthread_mutex_t quarantine_lock = PTHREAD_MUTEX_INITIALIZER;

static void release_now(struct obq_cache *c, struct obq_slab *s)
{
	if (!_obq_check_slab_releasing(s->check, c->dropping)) {
		/* Released twice, or early: reported (allocator contract) and refused.  The
		 * slab stays out of every list for good (its memory is leaked): objects of it
		 * put back later are refused too (_obq_slabs_put). */
		s->list = OBQ_SLAB_RELEASED;
		return;
	}
	uint32_t n = s->nslots;
	for (uint32_t i = 0; i < n; i++) {
		/* Relaxed: lookups read slot words without ordering; the generation stays. */
		uint64_t w = atomic_load_explicit(&s->slot[i], memory_order_relaxed);
		atomic_store_explicit(&s->slot[i], (w & ~(uint64_t)OBQ_SLOT_STATE_MASK) | OBQ_SLOT_RELEASED,
				 memory_order_relaxed);
	}
	s->list = OBQ_SLAB_RELEASED;
	/* Relaxed: statistics. */
	atomic_fetch_sub_explicit(&c->bytes_mapped, s->bytes, memory_order_relaxed);
	atomic_fetch_add_explicit(&c->slabs_released, 1, memory_order_relaxed);
	if (_obq_check_slab_stale(s->check))
		atomic_fetch_add_explicit(&c->slabs_released_stale, 1, memory_order_relaxed);
	pthread_mutex_lock(&quarantine_lock);
	s->q_prev = NULL;
	s->q_next = c->quarantined;
	if (c->quarantined)
		c->quarantined->q_prev = s;
	c->quarantined = s;
	pthread_mutex_unlock(&quarantine_lock);
	_obq_check_slab_released(c, s, s->check);
}

/* ---------------------------------------------------------------------------------
 * The grace-period backlog bound (docs/allocator.md, "Memory waiting for grace periods").
 *
 * `backlog` counts the bytes of empty typesafe slabs queued behind a grace period, all
 * caches together (added when a slab is queued, subtracted when its callback released
 * it).  A thread about to queue a release list that would take the backlog past
 * backlog_max waits a grace period itself and releases the list at once ("helps"): a
 * writer that outruns the callback worker is slowed to the pace of grace periods
 * instead of piling memory up.  A thread that may not wait (inside a read-side section;
 * the callback thread) queues anyway, so the bound is backlog_max plus one release
 * list per such thread and per thread that checked at the same moment.  The sim
 * backend (deterministic fuzzing) has no bound: its grace periods are steps of the
 * schedule, and a wait there would change the program being fuzzed. */

#define BACKLOG_DEFAULT ((size_t)32 << 20)
#define BACKLOG_UNSET ((size_t)-1)

static size_t backlog;                        /* __atomic builtins, relaxed: a statistic and a threshold */
static unsigned long backlog_helps;           /* __atomic builtins, relaxed: a statistic */
static size_t backlog_max = BACKLOG_UNSET;    /* __atomic builtins, relaxed: a setting */

/* OBQ_GP_BACKLOG_MAX: bytes, with an optional k/m/g suffix (powers of 1024); 0 = none. */
static size_t backlog_env(void)
{
	const char *e = getenv("OBQ_GP_BACKLOG_MAX");
	if (e == NULL || *e == '\0')
		return BACKLOG_DEFAULT;
	char *end;
	unsigned long long v = strtoull(e, &end, 10);
	unsigned shift = 0;
	if (*end == 'k' || *end == 'K')
		shift = 10, end++;
	else if (*end == 'm' || *end == 'M')
		shift = 20, end++;
	else if (*end == 'g' || *end == 'G')
		shift = 30, end++;
	if (end == e || *end != '\0' || v > (SIZE_MAX >> shift) - 1)
		return BACKLOG_DEFAULT;
	return (size_t)v << shift;
}

size_t obq_gp_backlog_max(void)
{
	size_t v = __atomic_load_n(&backlog_max, __ATOMIC_RELAXED);
	if (OBQ_LIKELY(v != BACKLOG_UNSET))
		return v;
	size_t want = backlog_env(), expect = BACKLOG_UNSET;
	/* Relaxed CAS: a concurrent obq_set_gp_backlog_max wins over the environment. */
	if (!__atomic_compare_exchange_n(&backlog_max, &expect, want, 0, __ATOMIC_RELAXED,
					 __ATOMIC_RELAXED))
		return expect;
	return want;
}

void obq_set_gp_backlog_max(size_t bytes)
{
	if (bytes == BACKLOG_UNSET)
		bytes--;
	__atomic_store_n(&backlog_max, bytes, __ATOMIC_RELAXED); /* a setting: see above */
}

size_t obq_gp_backlog_bytes(void)
{
	return __atomic_load_n(&backlog, __ATOMIC_RELAXED);
}

unsigned long obq_gp_backlog_helps(void)
{
	return __atomic_load_n(&backlog_helps, __ATOMIC_RELAXED);
}

/* This thread may wait for a grace period: outside any read-side section and not the
 * thread that runs callbacks (it would delay every other callback). */
static int may_wait_gp(void)
{
	struct obq_thread *t = _obq_thread_peek();
	return (t == NULL || _obq_rcu_nesting(t) == 0) && !_obq_rcu_on_callback_thread();
}

void _obq_defer_gp(struct obq_rcu_head *head, void (*func)(struct obq_rcu_head *))
{
	if (OBQ_LIKELY(_obq_rcu_callbacks_flowing()) || !may_wait_gp()) {
		obq_rcu_call(head, func); /* no worker and we may not wait: queued, see rcu_common.c */
		return;
	}
	obq_rcu_synchronize();
	func(head);
}

static void slab_gp_done(struct obq_rcu_head *head)
{
	struct obq_slab *s = (struct obq_slab *)((char *)head - offsetof(struct obq_slab, rcu));
	struct obq_cache *c = atomic_load_explicit(&s->cache, memory_order_relaxed);
	size_t bytes = s->bytes;
	release_now(c, s);
	__atomic_fetch_sub(&backlog, bytes, __ATOMIC_RELAXED); /* a statistic: see backlog */
	/* Release: our last touch of c.  destroy acquires the count before freeing c (it
	 * may see 0 without having waited in a barrier for this callback). */
	atomic_fetch_sub_explicit(&c->slabs_waiting, 1, memory_order_release);
}

/* 1 if the typesafe list `rel` (of `bytes`) should be released by this thread after a
 * grace period of its own rather than queued: no callback worker can be had, or the
 * backlog bound would be passed (not with the sim backend). */
static int release_here(size_t bytes)
{
	if (!may_wait_gp())
		return 0;
	if (OBQ_UNLIKELY(!_obq_rcu_callbacks_flowing()))
		return 1;
#if OBQ_RCU_BACKEND == OBQ_RCU_SIM
	(void)bytes;
	return 0;
#else
	size_t max = obq_gp_backlog_max();
	return max != 0 && __atomic_load_n(&backlog, __ATOMIC_RELAXED) + bytes > max;
#endif
}

void _obq_slab_release_list(struct obq_cache *c, struct obq_slab *rel, int after_gp)
{
	if ((c->flags & OBQ_TYPESAFE_BY_RCU) && !after_gp && !OBQ_MUTANT(slab_release_no_gp) &&
	    rel != NULL) {
		size_t bytes = 0;
		for (struct obq_slab *s = rel; s; s = s->next)
			bytes += s->bytes;
		if (OBQ_UNLIKELY(release_here(bytes))) {
			for (struct obq_slab *s = rel; s; s = s->next)
				_obq_check_slab_retired(s->check); /* as when queued, below */
			obq_rcu_synchronize(); /* every reader that could see these slabs is gone */
			__atomic_fetch_add(&backlog_helps, 1, __ATOMIC_RELAXED); /* a statistic */
			after_gp = 1;
		}
	}
	while (rel) {
		struct obq_slab *s = rel;
		rel = s->next;
		s->next = s->prev = NULL;
		if ((c->flags & OBQ_TYPESAFE_BY_RCU) && !after_gp && !OBQ_MUTANT(slab_release_no_gp)) {
			s->list = OBQ_SLAB_WAITING;
			/* Relaxed: a statistic; destroy waits with obq_rcu_barrier. */
			atomic_fetch_add_explicit(&c->slabs_waiting, 1, memory_order_relaxed);
			_obq_check_slab_retired(s->check);
			__atomic_fetch_add(&backlog, s->bytes, __ATOMIC_RELAXED); /* see backlog */
			obq_rcu_call(&s->rcu, slab_gp_done);
		} else {
			release_now(c, s);
		}
	}
}

void _obq_slab_quarantine_done(struct obq_slab *s)
{
	pthread_mutex_lock(&quarantine_lock);
	struct obq_cache *c = atomic_load_explicit(&s->cache, memory_order_relaxed);
	if (c) {
		if (s->q_prev)
			s->q_prev->q_next = s->q_next;
		else
			c->quarantined = s->q_next;
		if (s->q_next)
			s->q_next->q_prev = s->q_prev;
		/* Relaxed: lookups that still find the slab only read it. */
		atomic_store_explicit(&s->cache, NULL, memory_order_relaxed);
	}
	s->q_next = s->q_prev = NULL;
	pthread_mutex_unlock(&quarantine_lock);
	_obq_pagemap_clear((uintptr_t)s->mem, s->bytes);
	/* Not a slab any more (no pagemap entry): the region may be reused or unmapped. */
	_obq_os_region_release(s->mem, s->bytes, s->dirty);
	meta_free(s);
}

void _obq_slab_detach_quarantine(struct obq_cache *c)
{
	pthread_mutex_lock(&quarantine_lock);
	for (struct obq_slab *s = c->quarantined; s; ) {
		struct obq_slab *next = s->q_next;
		/* Relaxed: detached slabs report no cache (the name is gone with it). */
		atomic_store_explicit(&s->cache, NULL, memory_order_relaxed);
		s->q_next = s->q_prev = NULL;
		s = next;
	}
	c->quarantined = NULL;
	pthread_mutex_unlock(&quarantine_lock);
}

/* ---------------------------------------------------------------------------------
 * Checker interface. */

const char *_obq_slot_state_name(unsigned state)
{
	switch (state) {
	case OBQ_SLOT_ALLOCATED: return "ALLOCATED";
	case OBQ_SLOT_FREE: return "FREE";
	case OBQ_SLOT_FREE_PENDING: return "FREE-PENDING";
	case OBQ_SLOT_RELEASED: return "RELEASED";
	default: return "NONE";
	}
}

int _obq_slot_lookup(const void *p, struct obq_slot_info *out)
{
	struct obq_slab *s = _obq_pagemap_get(p);
	if (s == NULL)
		return 0;
	/* Relaxed loads: the pagemap's acquire ordered the slab's initialisation; a slab
	 * being recycled concurrently yields nslots 0 or a failed re-check below. */
	uint32_t n = atomic_load_explicit(&s->nslots, memory_order_relaxed);
	uintptr_t base = (uintptr_t)s->mem;
	uintptr_t a = (uintptr_t)p;
	if (n == 0 || a < base || a - base >= (uintptr_t)n * s->stride)
		return 0;
	size_t off = (size_t)(a - base);
	size_t idx = _obq_slab_index(s, off);
	if (idx >= n)
		return 0;
	uint64_t w = atomic_load_explicit(&s->slot[idx], memory_order_relaxed);
	out->cache = atomic_load_explicit(&s->cache, memory_order_relaxed);
	out->slab = s;
	out->object = s->mem + idx * s->stride;
	out->index = idx;
	out->offset = off - idx * s->stride;
	out->state = (unsigned)(w & OBQ_SLOT_STATE_MASK);
	out->generation = w >> OBQ_SLOT_GEN_SHIFT;
	out->check = s->check;
	/* Still the same slab?  (Acquire-free: a best-effort guard for buggy callers.) */
	return _obq_pagemap_get(p) == s;
}

/* fork (fork.c): quarantine_lock -> meta_lock, the leaves of the allocator's order. */
void _obq_slab_fork_prepare(void)
{
	pthread_mutex_lock(&quarantine_lock);
	pthread_mutex_lock(&meta_lock);
}

void _obq_slab_fork_release(void)
{
	pthread_mutex_unlock(&meta_lock);
	pthread_mutex_unlock(&quarantine_lock);
}

uint64_t obq_testing_slot_generation(const void *p)
{
	struct obq_slot_info si;
	return _obq_slot_lookup(p, &si) ? si.generation : 0;
}
