/* cache.c — the object-cache API (oblique/cache.h): create with its refusals, the
 * alloc/free fast paths with their always-on checks, bulk calls, shrink, destroy,
 * stats, guard declarations, the reuse modes and the cache registry.
 *
 * Typesafe semantics (Linux SLAB_TYPESAFE_BY_RCU): a free makes the object reusable
 * at once — it goes on top of this thread's magazine, so the next alloc on the thread
 * returns the same address.  Only an empty slab's memory waits for a grace period
 * (slab.c).  The allocator never writes into a freed object of a typesafe or ctor
 * cache: free links are magazine arrays, depot arrays and slab free stacks, all
 * outside the objects; slot states and generations are in slab metadata.
 *
 * Fast paths, per alloc+free pair: one TLS load, a magazine pop and push, two pagemap
 * lookups (two dependent loads each), an index by multiplication, two relaxed slot-
 * word updates and the state check.  No lock, no atomic read-modify-write.
 *
 * rcu-debug reuse mode (CONFIG_SLUB_RCU_DEBUG analogue): a typesafe free sets the slot
 * FREE_PENDING and appends it to the cache's open batch.  At most one batch per cache
 * waits for a grace period (in flight); when it completes its objects turn FREE and
 * go back to the slabs, and the open batch (every object freed since) is queued next.
 * An object is always queued after its own free, so it waits a full grace period.
 *
 * Lock order and the no-lock-across-callouts rule: see cache.h. */
#include "cache.h"
#include "fork.h"
#include "magazine.h"
#include "os.h"
#include "pagemap.h"
#include "slab.h"

#include <stdatomic.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mutant.h"
#include <oblique/testing.h> /* obq_cache_set_fuzz_geometry, obq_cache_destroy_force */

/* ---------------------------------------------------------------------------------
 * Registry: cache ids (small, recycled) and incarnation tags (never 0, never reused
 * until 2^32 creations). */

#define OBQ_MAX_CACHES 16384

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	struct obq_cache *cache; /* live cache with this id, or NULL */
	uint32_t tag;            /* its tag */
} registry[OBQ_MAX_CACHES];  /* under registry_lock */
static uint32_t free_ids[OBQ_MAX_CACHES]; /* stack of recycled ids, under registry_lock */
static uint32_t nfree_ids;                /* depth of free_ids */
static uint32_t next_fresh_id;            /* ids never used yet start here */
static uint32_t last_tag;                 /* last tag handed out */
static size_t ncaches;                    /* live caches (reuse mode may change only at 0) */

void _obq_cache_registry_lock(void)
{
	pthread_mutex_lock(&registry_lock);
}

void _obq_cache_registry_unlock(void)
{
	pthread_mutex_unlock(&registry_lock);
}

struct obq_cache *_obq_cache_registry_find(uint32_t id, uint32_t tag)
{
	if (id >= OBQ_MAX_CACHES || tag == 0 || registry[id].tag != tag)
		return NULL;
	return registry[id].cache;
}

/* fork (fork.c): the registry, then every live cache's locks in cache-id order. */
void _obq_cache_fork_prepare(void)
{
	pthread_mutex_lock(&registry_lock);
	for (uint32_t id = 0; id < next_fresh_id; id++) {
		struct obq_cache *c = registry[id].cache;
		if (c == NULL)
			continue;
		pthread_mutex_lock(&c->depot_lock);
		pthread_mutex_lock(&c->pending_lock);
		pthread_mutex_lock(&c->slab_lock);
	}
}

void _obq_cache_fork_release(void)
{
	for (uint32_t id = next_fresh_id; id-- > 0;) {
		struct obq_cache *c = registry[id].cache;
		if (c == NULL)
			continue;
		pthread_mutex_unlock(&c->slab_lock);
		pthread_mutex_unlock(&c->pending_lock);
		pthread_mutex_unlock(&c->depot_lock);
	}
	pthread_mutex_unlock(&registry_lock);
}

/* ---------------------------------------------------------------------------------
 * Reuse mode: the environment is read once, at the first create or mode call. */

static pthread_once_t reuse_once = PTHREAD_ONCE_INIT;
static _Atomic int reuse_mode; /* enum obq_reuse_mode; written under registry_lock */

static void reuse_init(void)
{
	const char *e = getenv("OBQ_REUSE");
	int mode = OBQ_REUSE_RECYCLE;
	if (e && strcmp(e, "rcu-debug") == 0)
		mode = OBQ_REUSE_RCU_DEBUG;
	else if (e && *e && strcmp(e, "recycle") != 0)
		fprintf(stderr, "==oblique== OBQ_REUSE=%s: unknown mode (recycle|rcu-debug), "
				"using recycle\n", e);
	/* Relaxed: pthread_once orders this before every reader. */
	atomic_store_explicit(&reuse_mode, mode, memory_order_relaxed);
}

int obq_set_reuse_mode(enum obq_reuse_mode mode)
{
	pthread_once(&reuse_once, reuse_init);
	if (mode != OBQ_REUSE_RECYCLE && mode != OBQ_REUSE_RCU_DEBUG)
		return -EINVAL;
	int rc = 0;
	pthread_mutex_lock(&registry_lock);
	if (ncaches > 0)
		rc = -EBUSY;
	else
		/* Relaxed: creates read it under registry_lock; others only report it. */
		atomic_store_explicit(&reuse_mode, (int)mode, memory_order_relaxed);
	pthread_mutex_unlock(&registry_lock);
	return rc;
}

/* Slots-per-slab cap (0: the geometry's own choice); read when a cache is created.
 * Relaxed: a process-wide knob set before caches are made (harness set-up, env). */
static _Atomic unsigned slab_max_objects;
static pthread_once_t slab_max_once = PTHREAD_ONCE_INIT;

static void slab_max_init(void)
{
	const char *e = getenv("OBQ_SLAB_OBJECTS");
	if (e && *e) {
		char *end;
		unsigned long v = strtoul(e, &end, 10);
		if (*end != 0 || v > 65535)
			fprintf(stderr, "==oblique== OBQ_SLAB_OBJECTS=%s: not a number 0..65535, "
				"ignored\n", e);
		else
			atomic_store_explicit(&slab_max_objects, (unsigned)v, memory_order_relaxed);
	}
}

int obq_set_slab_max_objects(unsigned n)
{
	pthread_once(&slab_max_once, slab_max_init);
	if (n > 65535)
		return -EINVAL;
	atomic_store_explicit(&slab_max_objects, n, memory_order_relaxed);
	return 0;
}

unsigned obq_get_slab_max_objects(void)
{
	pthread_once(&slab_max_once, slab_max_init);
	return atomic_load_explicit(&slab_max_objects, memory_order_relaxed);
}

enum obq_reuse_mode obq_get_reuse_mode(void)
{
	pthread_once(&reuse_once, reuse_init);
	/* Relaxed: a mode set before threads start, read for information. */
	return (enum obq_reuse_mode)atomic_load_explicit(&reuse_mode, memory_order_relaxed);
}

/* ---------------------------------------------------------------------------------
 * Create. */

static obq_cache_t *refuse(int err, const char *name, const char *fmt, const char *why)
{
	char buf[240];
	snprintf(buf, sizeof buf, fmt, why);
	_obq_set_last_error("obq_cache_create(\"%.47s\"): %s", name ? name : "(null)", buf);
	errno = err;
	return NULL;
}

/* Why obq_cache_create must refuse these arguments (EINVAL), or NULL when they are
 * valid.  The first reason in this order is the one reported. */
static const char *create_invalid(const char *name, size_t size, size_t align, unsigned flags,
				  obq_ctor_fn ctor)
{
	if (name == NULL)
		return "name is NULL";
	if (name[0] == '\0')
		return "name is empty (reports name the cache)";
	if (strlen(name) > OBQ_CACHE_NAME_MAX)
		return "name is longer than OBQ_CACHE_NAME_MAX (47) bytes";
	if (size == 0)
		return "size is 0";
	if (size > OBQ_CACHE_SIZE_MAX)
		return "size is larger than OBQ_CACHE_SIZE_MAX (1 MiB): use malloc";
	if (align & (align - 1))
		return "alignment is not a power of two";
	if (align > OBQ_ALIGN_MAX)
		return "alignment is larger than 4096";
	if (flags & ~OBQ_CACHE_FLAGS_ALL)
		return "unknown flags";
	if ((flags & OBQ_TYPESAFE_BY_RCU) && (flags & OBQ_POISON))
		return "OBQ_TYPESAFE_BY_RCU with OBQ_POISON: poisoning writes into freed objects "
		       "that stale RCU readers may still read (Linux drops it silently)";
	if ((flags & OBQ_TYPESAFE_BY_RCU) && (flags & OBQ_ZERO_ON_ALLOC))
		return "OBQ_TYPESAFE_BY_RCU with OBQ_ZERO_ON_ALLOC: zeroing clobbers the refcount, "
		       "lock and key that stale readers rely on";
	if ((flags & OBQ_ZERO_ON_ALLOC) && ctor)
		return "OBQ_ZERO_ON_ALLOC with a ctor: zeroing would undo what the ctor set up "
		       "once per slot";
	if ((flags & OBQ_POISON) && ctor)
		return "OBQ_POISON with a ctor: poisoning freed objects would undo what the ctor "
		       "set up once per slot";
	return NULL;
}

/* A new cache's size and layout (valid arguments; c zeroed): alignment and stride, slab
 * geometry, how many empty slabs it keeps, magazine and depot sizes; its locks. */
static void cache_size(struct obq_cache *c, const char *name, size_t size, size_t align,
		       unsigned flags, obq_ctor_fn ctor)
{
	size_t a = align;
	if (a == 0) {
		/* Natural: the largest power of two dividing the size, between 8 and 16. */
		a = (size & 15) == 0 ? 16 : 8;
	}
	if (a < 8)
		a = 8; /* ASan shadow granule; pointer-size slots */
	if ((flags & OBQ_HWCACHE_ALIGN) && a < OBQ_HWCACHE_LINE)
		a = OBQ_HWCACHE_LINE;
	size_t stride = (size + a - 1) & ~(a - 1);
	c->size = size;
	c->align = a;
	c->stride = stride;
	c->flags = flags;
	c->ctor = ctor;
	memcpy(c->name, name, strlen(name) + 1);
	_obq_slab_geometry(c);
	/* Empty slabs are kept up to the recent high-water mark of slabs (magazine.c),
	 * bounded, and go back on obq_cache_shrink or after OBQ_KEEP_DECAY_NS without a
	 * new slab (A3 in docs/benchmarks.md).  Small fuzzing slabs keep the old rule. */
	c->empty_keep_base = c->empty_keep;
	c->keep_grows = obq_get_slab_max_objects() == 0;
	uint32_t batch = c->nslots / 2;
	if (batch > OBQ_MAG_CAP / 2)
		batch = OBQ_MAG_CAP / 2;
	size_t by_bytes = ((size_t)128 << 10) / stride; /* at most ~256 KiB per thread and cache */
	if (batch > by_bytes)
		batch = (uint32_t)by_bytes;
	if (batch < 1)
		batch = 1;
	c->mag_batch = batch;
	c->mag_cap = 2 * batch;
	/* The depot keeps about 1 MiB of objects (8..1024 magazines): batch patterns of
	 * that size then never reach the slab lists. */
	size_t dm = (((size_t)1 << 20) / stride) / batch;
	c->depot_max = dm < 8 ? 8 : dm > 1024 ? 1024 : (uint32_t)dm;
	/* A thread's magazine may grow to about 1 MiB of objects (slow start, magazine.h),
	 * so what a thread frees comes back to it and two threads do not share slot-word
	 * cache lines.  Fuzzing geometries keep fixed magazines: small slabs should be
	 * emptied and released early. */
	size_t mm = ((size_t)1 << 20) / stride;
	c->mag_max = !c->keep_grows || mm < c->mag_cap ? c->mag_cap
						       : mm > (1u << 16) ? (1u << 16) : (uint32_t)mm;
	c->alloc_slow = (flags & (OBQ_POISON | OBQ_ZERO_ON_ALLOC)) != 0;
	pthread_mutex_init(&c->depot_lock, NULL);
	pthread_mutex_init(&c->slab_lock, NULL);
	pthread_mutex_init(&c->pending_lock, NULL);
}

/* Enter c in the registry: an id (a freed one first), a tag, the reuse mode it gets
 * (fixed at creation), then the fast-path fields that depend on them.  -1 when every
 * id is taken (c is not registered: the caller frees it). */
static int cache_register(struct obq_cache *c)
{
	pthread_mutex_lock(&registry_lock);
	uint32_t id;
	if (nfree_ids > 0) {
		id = free_ids[--nfree_ids];
	} else if (next_fresh_id < OBQ_MAX_CACHES) {
		id = next_fresh_id++;
	} else {
		pthread_mutex_unlock(&registry_lock);
		return -1;
	}
	if (++last_tag == 0 || last_tag == OBQ_TAG_NONE)
		last_tag = 1;
	c->id = id;
	c->tag = last_tag;
	registry[id].cache = c;
	registry[id].tag = c->tag;
	ncaches++;
	/* Relaxed: written under registry_lock, which we hold. */
	c->rcu_debug = (c->flags & OBQ_TYPESAFE_BY_RCU) &&
		       atomic_load_explicit(&reuse_mode, memory_order_relaxed) == OBQ_REUSE_RCU_DEBUG;
	pthread_mutex_unlock(&registry_lock);
	c->free_slow = (c->flags & OBQ_POISON) || c->rcu_debug;
	c->fast_tag = (c->alloc_slow || c->free_slow || c->id >= OBQ_MAG_FAST_IDS) ? OBQ_TAG_NONE
										    : c->tag;
	c->fast_off = (uint32_t)(offsetof(struct obq_magazine_set, e) +
				 (c->id < OBQ_MAG_FAST_IDS ? c->id : 0) * sizeof(struct obq_mag_entry));
	return 0;
}

obq_cache_t *obq_cache_create(const char *name, size_t size, size_t align, unsigned flags,
			      obq_ctor_fn ctor)
{
	pthread_once(&reuse_once, reuse_init);
	_obq_fork_init();
	const char *why = create_invalid(name, size, align, flags, ctor);
	if (why)
		return refuse(EINVAL, name, "%s", why);
	struct obq_cache *c = NULL;
	if (posix_memalign((void **)&c, 64, sizeof *c) != 0 || c == NULL)
		return refuse(ENOMEM, name, "%s", "out of memory");
	memset(c, 0, sizeof *c);
	cache_size(c, name, size, align, flags, ctor);
	if (cache_register(c) < 0) {
		pthread_mutex_destroy(&c->depot_lock);
		pthread_mutex_destroy(&c->slab_lock);
		pthread_mutex_destroy(&c->pending_lock);
		free(c);
		return refuse(ENOMEM, name, "%s", "too many caches (16384 exist)");
	}
	return c;
}

/* The fuzz tunables (oblique/testing.h) in one place: each changes how a cache's
 * objects are laid out and cached, so each is refused with -EBUSY once the cache has
 * a slab (its magazines and slabs would keep the old geometry).  A field applies when
 * its `set_` flag is. */
struct fuzz_tune {
	int set_geometry, set_magazines, set_keep;
	unsigned slab_objects;  /* set_geometry */
	unsigned batch, depot;  /* set_magazines */
	unsigned keep_empty;    /* set_keep */
};

static int fuzz_tune(obq_cache_t *c, const struct fuzz_tune *t)
{
	int rc = 0;
	pthread_mutex_lock(&c->slab_lock);
	if (c->nslabs > 0) {
		rc = -EBUSY;
	} else {
		if (t->set_geometry) { /* one-object magazines, no depot, no kept empty slab */
			_obq_slab_cap(c, t->slab_objects);
			c->mag_batch = 1;
			c->mag_cap = 1;
			c->depot_max = 0;
			c->mag_max = 1;
			c->empty_keep = c->empty_keep_base = 0;
			c->keep_grows = 0;
		}
		if (t->set_magazines) { /* as cache_size's: a depot magazine holds mag_batch,
					 * a thread's twice that */
			c->mag_batch = t->batch;
			c->mag_cap = c->mag_max = 2 * t->batch;
			c->depot_max = t->depot;
		}
		if (t->set_keep)
			c->empty_keep = c->empty_keep_base = t->keep_empty;
	}
	pthread_mutex_unlock(&c->slab_lock);
	return rc;
}

int obq_cache_set_fuzz_geometry(obq_cache_t *c, unsigned slab_objects)
{
	if (c == NULL || slab_objects > 65535)
		return -EINVAL;
	return fuzz_tune(c, &(struct fuzz_tune){.set_geometry = 1, .slab_objects = slab_objects});
}

int obq_cache_set_fuzz_magazines(obq_cache_t *c, unsigned batch, unsigned depot)
{
	if (c == NULL || batch == 0 || batch > OBQ_MAG_CAP / 2 || depot > 16)
		return -EINVAL;
	return fuzz_tune(c, &(struct fuzz_tune){.set_magazines = 1, .batch = batch, .depot = depot});
}

int obq_cache_set_fuzz_keep_empty(obq_cache_t *c, unsigned slabs)
{
	if (c == NULL || slabs > 16)
		return -EINVAL;
	return fuzz_tune(c, &(struct fuzz_tune){.set_keep = 1, .keep_empty = slabs});
}

const char *obq_cache_name(const obq_cache_t *c)
{
	return c ? c->name : NULL;
}

unsigned obq_cache_flags(const obq_cache_t *c)
{
	return c ? c->flags : 0;
}

/* ---------------------------------------------------------------------------------
 * Slot helpers. */

/* The slot index of byte offset `off` of slab s, if off is exactly a slot start
 * (Lemire's divisibility test: with recip = ceil(2^64 / stride) and off < 2^32,
 * stride | off  <=>  (off * recip mod 2^64) < recip; the high half is the index).
 * One multiplication gives both halves.  An off >= 2^32 (no slab is that large; only
 * p < s->mem could give it) yields idx >= 2^32 / stride > nslots, which callers reject. */
static inline int slot_index_exact(const struct obq_slab *s, size_t off, size_t *idx)
{
#ifdef __SIZEOF_INT128__
	unsigned __int128 prod = (unsigned __int128)s->recip * off;
	*idx = (size_t)(prod >> 64);
	return (uint64_t)prod < s->recip;
#else
	*idx = off / s->stride;
	return *idx * s->stride == off;
#endif
}

static inline _Atomic uint64_t *slot_of(struct obq_slab *s, const void *p, size_t *idx)
{
	*idx = _obq_slab_index(s, (size_t)((const char *)p - s->mem));
	return &s->slot[*idx];
}

#if OBQ_CHECKED
static inline void fill_info(struct obq_slot_info *si, struct obq_cache *c, struct obq_slab *s,
			     void *p, size_t idx, uint64_t w)
{
	si->cache = c;
	si->slab = s;
	si->object = p;
	si->index = idx;
	si->offset = 0;
	si->state = (unsigned)(w & OBQ_SLOT_STATE_MASK);
	si->generation = w >> OBQ_SLOT_GEN_SHIFT;
	si->check = s->check;
}
#endif

/* Mark an object FREE (from ALLOCATED or FREE_PENDING) and tell the checker. */
static inline void set_free(struct obq_cache *c, struct obq_slab *s, void *p, size_t idx,
			    _Atomic uint64_t *slot, uint64_t w)
{
	w = (w & ~(uint64_t)OBQ_SLOT_STATE_MASK) | OBQ_SLOT_FREE;
	/* Relaxed: the slot word is published to other threads by whatever hands the
	 * object over (magazine: same thread; depot/slab: their mutexes). */
	atomic_store_explicit(slot, w, memory_order_relaxed);
#if OBQ_CHECKED
	struct obq_slot_info si;
	fill_info(&si, c, s, p, idx, w);
	_obq_check_freed(&si);
#else
	(void)c; (void)s; (void)p; (void)idx;
#endif
}

/* ---------------------------------------------------------------------------------
 * Alloc. */

static OBQ_COLD void alloc_post(struct obq_cache *c, void *p)
{
	if (c->flags & OBQ_ZERO_ON_ALLOC) {
		memset(p, 0, c->size);
		return;
	}
	if (c->flags & OBQ_POISON) {
		const unsigned char *b = p;
		for (size_t i = 0; i < c->stride; i++) {
			if (b[i] != 0x6b) {
				struct obq_slot_info si;
				unsigned long gen = 0;
				if (_obq_slot_lookup(p, &si))
					gen = si.generation;
				_obq_report(OBQ_ERR_CORRUPT, c->name, p, "ALLOCATED", gen,
					    "obq_cache_alloc(cache \"%s\"): the freed object %p was written "
					    "after its free: byte %zu is 0x%02x, the poison is 0x6b "
					    "(use after free)\n", c->name, p, i, b[i]);
				break;
			}
		}
	}
}

/* Release fast paths (below) are compiled only where nothing else must run on each
 * call: no checker hooks, no scheduling points, no mutation sites. */
#if !OBQ_CHECKED && !OBQ_SCHED_POINTS && !(defined(OBQ_MUTANTS) && OBQ_MUTANTS)
#define FAST_PATHS 1
#else
#define FAST_PATHS 0
#endif

/* Slot-word deltas of the two fast transitions (the generation counts allocs):
 *   FREE -> ALLOCATED:  w + ALLOC_DELTA  (generation + 1, state FREE -> ALLOCATED)
 *   ALLOCATED -> FREE:  w + FREE_DELTA */
#define ALLOC_DELTA (((uint64_t)1 << OBQ_SLOT_GEN_SHIFT) + OBQ_SLOT_ALLOCATED - OBQ_SLOT_FREE)
#define FREE_DELTA  ((uint64_t)(OBQ_SLOT_FREE - OBQ_SLOT_ALLOCATED))

/* The object p (FREE, just taken from a magazine, slot word `slot`) becomes ALLOCATED. */
static inline void *commit_alloc(struct obq_cache *c, void *p, _Atomic uint64_t *slot,
				 const void *site)
{
	/* Relaxed: see set_free; alloc is the slot's only writer while it is ours. */
	uint64_t w = atomic_load_explicit(slot, memory_order_relaxed);
	if (OBQ_MUTANT(gen_not_advanced) && (w >> OBQ_SLOT_GEN_SHIFT) != 0)
		w = (w & ~(uint64_t)OBQ_SLOT_STATE_MASK) | OBQ_SLOT_ALLOCATED; /* mutant: a recycled slot keeps its generation */
	else
		w = ((w & ~(uint64_t)OBQ_SLOT_STATE_MASK) + ((uint64_t)1 << OBQ_SLOT_GEN_SHIFT)) |
		    OBQ_SLOT_ALLOCATED;
	atomic_store_explicit(slot, w, memory_order_relaxed);
#if OBQ_CHECKED
	struct obq_slab *s = _obq_pagemap_get(p);
	struct obq_slot_info si;
	fill_info(&si, c, s, p, (size_t)(slot - s->slot), w);
	_obq_check_alloc(&si, site);
#else
	(void)site;
#endif
	if (OBQ_MUTANT(zero_on_alloc) && (c->flags & OBQ_TYPESAFE_BY_RCU))
		memset(p, 0, c->size); /* mutant: kzalloc on a typesafe cache */
	if (OBQ_MUTANT(ctor_on_alloc) && c->ctor)
		c->ctor(p); /* mutant: the ctor run on every alloc */
	if (OBQ_UNLIKELY(c->alloc_slow))
		alloc_post(c, p);
	return p;
}

/* Every alloc the fast path does not finish: argument check, magazine refill, the
 * checker, alloc_post. */
/* ---------------------------------------------------------------------------------
 * Calls on a destroyed cache (checked builds).  A checked build does not free a
 * destroyed cache's struct at once: it marks it destroyed (its fast_tag never matches
 * a magazine, so alloc takes the slow path) and keeps the last DESTROYED_KEEP of them
 * in a ring, freeing the oldest — so a later alloc, shrink, stats or destroy on the
 * dangling pointer is reported ("use-of-destroyed-cache") instead of reading freed
 * memory.  A release build frees at once: such a call is undefined, as a free's is. */
#define DESTROYED_KEEP 64

#if OBQ_CHECKED
static pthread_mutex_t destroyed_lock = PTHREAD_MUTEX_INITIALIZER;
static struct obq_cache *destroyed_ring[DESTROYED_KEEP]; /* under destroyed_lock */
static unsigned destroyed_next;                          /* under destroyed_lock */
#endif

static void cache_release(struct obq_cache *c)
{
#if OBQ_CHECKED
	/* Relaxed: a later call on c is a bug in any case; this only makes it visible. */
	atomic_store_explicit(&c->destroyed, 1, memory_order_relaxed);
	c->fast_tag = OBQ_TAG_NONE;
	pthread_mutex_lock(&destroyed_lock);
	struct obq_cache *old = destroyed_ring[destroyed_next];
	destroyed_ring[destroyed_next] = c;
	destroyed_next = (destroyed_next + 1) % DESTROYED_KEEP;
	pthread_mutex_unlock(&destroyed_lock);
	free(old);
#else
	free(c);
#endif
}

/* 1 (reported) if c was destroyed; checked builds only, 0 otherwise. */
static int is_destroyed(const struct obq_cache *c, const char *fn)
{
#if OBQ_CHECKED
	if (OBQ_UNLIKELY(atomic_load_explicit(&c->destroyed, memory_order_relaxed))) {
		_obq_report(OBQ_ERR_CACHE_DESTROYED, c->name, c, NULL, 0,
			    "%s(cache \"%s\", %p): the cache was destroyed; the pointer is dangling "
			    "(nothing was done)\n", fn, c->name, (const void *)c);
		return 1;
	}
#else
	(void)c;
	(void)fn;
#endif
	return 0;
}

static OBQ_NOINLINE void *alloc_generic(struct obq_cache *c, const void *site)
{
	if (OBQ_UNLIKELY(c == NULL || is_destroyed(c, "obq_cache_alloc"))) {
		errno = EINVAL;
		return NULL;
	}
	OBQ_SCHED_POINT(OBQ_SP_ALLOC, c);
	_Atomic uint64_t *slot;
	void *p = _obq_mag_pop(obq_thread_current(), c, &slot);
	if (OBQ_UNLIKELY(p == NULL))
		return NULL; /* errno = ENOMEM */
	return commit_alloc(c, p, slot, site);
}

void *obq_cache_alloc(obq_cache_t *c)
{
#if FAST_PATHS
	/* Fast path: pop (object, slot word) off this thread's magazine, flip the slot
	 * word FREE -> ALLOCATED.  c->fast_tag never matches for caches with alloc or
	 * free work (poison, zero, rcu-debug). */
	struct obq_magazine_set *ms = _obq_mags; /* _obq_mags_none (no tag matches) if none yet */
	if (OBQ_LIKELY(c != NULL)) {
		struct obq_mag_entry *e = (struct obq_mag_entry *)((char *)ms + c->fast_off);
		struct obq_mag_obj *o = e->top;
		if (OBQ_LIKELY(e->tag == c->fast_tag && o != e->m)) {
			o--;
			e->top = o;
			/* Relaxed: as commit_alloc. */
			atomic_store_explicit(o->slot,
					      atomic_load_explicit(o->slot, memory_order_relaxed) +
						      ALLOC_DELTA,
					      memory_order_relaxed);
			return o->obj;
		}
	}
	return alloc_generic(c, NULL);
#else
	return alloc_generic(c, __builtin_return_address(0));
#endif
}

size_t obq_cache_alloc_bulk(obq_cache_t *c, size_t n, void **objs)
{
	if (c == NULL || (n > 0 && objs == NULL) || is_destroyed(c, "obq_cache_alloc_bulk")) {
		errno = EINVAL;
		return 0;
	}
	OBQ_SCHED_POINT(OBQ_SP_ALLOC, c);
	struct obq_thread *t = obq_thread_current();
	/* Gather first (slot states untouched), commit only when all n are there.  The
	 * slot words wait in the objs array's place: commit re-derives them. */
	for (size_t i = 0; i < n; i++) {
		_Atomic uint64_t *slot;
		void *p = _obq_mag_pop(t, c, &slot);
		if (p == NULL) {
			while (i > 0) {
				void *q = objs[--i];
				_obq_mag_push(t, c, q, _obq_slot_word(q));
			}
			errno = ENOMEM;
			return 0;
		}
		objs[i] = p;
	}
	const void *site = __builtin_return_address(0);
	for (size_t i = 0; i < n; i++)
		commit_alloc(c, objs[i], _obq_slot_word(objs[i]), site);
	return n;
}

/* ---------------------------------------------------------------------------------
 * Free: always-on checks, then the magazine. */

/* A rejected free: find out what p is and report it.  Changes nothing. */
static OBQ_COLD void bad_free(struct obq_cache *c, void *p, const char *fn)
{
	const char *cname = c ? c->name : NULL;
	struct obq_slab *s = _obq_pagemap_get(p);
	if (s == NULL) {
		_obq_report(OBQ_ERR_FOREIGN_POINTER, cname, p, NULL, 0,
			    "%s(cache \"%s\", %p): the pointer is not from any oblique cache "
			    "(heap, stack or static memory, or a slab already given back)\n",
			    fn, cname ? cname : "(null)", p);
		return;
	}
	struct obq_cache *owner = atomic_load_explicit(&s->cache, memory_order_relaxed);
	const char *oname = owner ? owner->name : "(destroyed cache)";
	uint32_t n = atomic_load_explicit(&s->nslots, memory_order_relaxed);
	size_t off = (size_t)((char *)p - s->mem);
	size_t idx = _obq_slab_index(s, off);
	if (idx >= n) {
		_obq_report(OBQ_ERR_INTERIOR_POINTER, cname, p, NULL, 0,
			    "%s(cache \"%s\", %p): the pointer lies in the unused tail of a slab "
			    "of cache \"%s\" (slab %p, %u slots of %u bytes), not at an object\n",
			    fn, cname ? cname : "(null)", p, oname, (void *)s->mem, n, s->stride);
		return;
	}
	uint64_t w = atomic_load_explicit(&s->slot[idx], memory_order_relaxed);
	unsigned st = (unsigned)(w & OBQ_SLOT_STATE_MASK);
	unsigned long gen = (unsigned long)(w >> OBQ_SLOT_GEN_SHIFT);
	const char *sname = _obq_slot_state_name(st);
	void *obj = s->mem + idx * s->stride;
	if (off != idx * s->stride) {
		_obq_report(OBQ_ERR_INTERIOR_POINTER, cname, p, sname, gen,
			    "%s(cache \"%s\", %p): interior pointer, %zu bytes into the object %p "
			    "(slot %zu of a slab of cache \"%s\", %s, generation %lu)\n",
			    fn, cname ? cname : "(null)", p, off - idx * s->stride, obj, idx, oname,
			    sname, gen);
		return;
	}
	if (st == OBQ_SLOT_RELEASED) {
		_obq_report(OBQ_ERR_FREE_RELEASED, cname, p, sname, gen,
			    "%s(cache \"%s\", %p): free of a slot whose slab was released after a "
			    "grace period (cache \"%s\", generation %lu): the object was freed long "
			    "ago\n", fn, cname ? cname : "(null)", p, oname, gen);
		return;
	}
	if (owner != c) {
		_obq_report(OBQ_ERR_WRONG_CACHE, cname, p, sname, gen,
			    "%s(cache \"%s\", %p): the object belongs to cache \"%s\" "
			    "(slot %zu, %s, generation %lu)\n",
			    fn, cname ? cname : "(null)", p, oname, idx, sname, gen);
		return;
	}
	if (st == OBQ_SLOT_FREE || st == OBQ_SLOT_FREE_PENDING) {
		_obq_report(OBQ_ERR_DOUBLE_FREE, cname, p, sname, gen,
			    "%s(cache \"%s\", %p): double free of an object already %s "
			    "(generation %lu)\n", fn, cname, p, sname, gen);
		return;
	}
	_obq_report(OBQ_ERR_CORRUPT, cname, p, sname, gen,
		    "%s(cache \"%s\", %p): slot %zu has an impossible state word 0x%llx\n",
		    fn, cname, p, idx, (unsigned long long)w);
}

struct obq_pending {
	struct obq_rcu_head rcu;  /* queued with obq_rcu_call when the batch closes */
	struct obq_cache *cache;  /* owner */
	size_t n;                 /* FREE_PENDING objects in objs */
	size_t cap;               /* capacity of objs */
	void **objs;              /* the objects (out-of-object list) */
};

static void pending_gp_done(struct obq_rcu_head *head);

/* With pending_lock held: if nothing is in flight, queue the open batch.  Returns the
 * batch to pass to obq_rcu_call once the lock is dropped, or NULL. */
static struct obq_pending *pending_close(struct obq_cache *c)
{
	if (c->pend_inflight || c->pend_open == NULL || c->pend_open->n == 0)
		return NULL;
	c->pend_inflight = c->pend_open;
	c->pend_open = NULL;
	return c->pend_inflight;
}

static void pending_gp_done(struct obq_rcu_head *head)
{
	struct obq_pending *b = (struct obq_pending *)((char *)head - offsetof(struct obq_pending, rcu));
	struct obq_cache *c = b->cache;
	/* A grace period has passed since every object of b was freed: reusable now. */
	for (size_t i = 0; i < b->n; i++) {
		void *p = b->objs[i];
		struct obq_slab *s = _obq_pagemap_get(p);
		size_t idx;
		_Atomic uint64_t *slot = slot_of(s, p, &idx);
		/* Relaxed: the batch owns these slots; the slab lock below publishes. */
		set_free(c, s, p, idx, slot, atomic_load_explicit(slot, memory_order_relaxed));
	}
	struct obq_slab *rel = NULL;
	pthread_mutex_lock(&c->slab_lock);
	_obq_slabs_put(c, b->objs, b->n, &rel);
	pthread_mutex_unlock(&c->slab_lock);
	/* Queue slab releases while we still count as in flight: destroy waits for
	 * pend_inflight == NULL and then for slabs_waiting == 0. */
	if (rel)
		_obq_slab_release_list(c, rel, 0);
	pthread_mutex_lock(&c->pending_lock);
	c->npending -= b->n;
	b->n = 0;
	c->pend_inflight = NULL;
	struct obq_pending *next = pending_close(c);
	if (c->pend_spare == NULL) {
		c->pend_spare = b;
		b = NULL;
	}
	pthread_mutex_unlock(&c->pending_lock);
	if (b) {
		free(b->objs);
		free(b);
	}
	/* c may be gone from here on unless next is queued (destroy waits for it). */
	if (next)
		_obq_defer_gp(&next->rcu, pending_gp_done);
}

/* rcu-debug: defer the free of p by a grace period. */
static OBQ_NOINLINE void pending_free(struct obq_cache *c, struct obq_slab *s, void *p, size_t idx,
				      _Atomic uint64_t *slot, uint64_t w)
{
	uint64_t wp = (w & ~(uint64_t)OBQ_SLOT_STATE_MASK) | OBQ_SLOT_FREE_PENDING;
	/* Relaxed: as set_free. */
	atomic_store_explicit(slot, wp, memory_order_relaxed);
#if OBQ_CHECKED
	struct obq_slot_info si;
	fill_info(&si, c, s, p, idx, wp);
	_obq_check_freed(&si);
#endif
	pthread_mutex_lock(&c->pending_lock);
	struct obq_pending *b = c->pend_open;
	if (OBQ_MUTANT(rcu_debug_join_inflight) && c->pend_inflight)
		b = c->pend_inflight; /* mutant: the free joins the batch already waiting */
	else if (b == NULL) {
		b = c->pend_spare;
		if (b)
			c->pend_spare = NULL;
		else if ((b = calloc(1, sizeof *b)) != NULL)
			b->cache = c;
		c->pend_open = b;
	}
	if (b && b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		void **objs = realloc(b->objs, cap * sizeof(void *));
		if (objs) {
			b->objs = objs;
			b->cap = cap;
		}
	}
	int queued = 0;
	struct obq_pending *submit = NULL;
	if (b && b->n < b->cap) {
		b->objs[b->n++] = p;
		c->npending++;
		queued = 1;
		submit = pending_close(c);
	}
	pthread_mutex_unlock(&c->pending_lock);
	if (submit)
		_obq_defer_gp(&submit->rcu, pending_gp_done);
	if (!queued) {
		/* Out of memory for the batch: fall back to an immediate (recycle) free. */
#if OBQ_CHECKED
		_obq_check_pending_abandoned(&si);
#endif
		set_free(c, s, p, idx, slot, wp);
		_obq_mag_push(obq_thread_current(), c, p, slot);
	}
}

static OBQ_NOINLINE void free_slow(struct obq_cache *c, struct obq_slab *s, void *p, size_t idx,
				   _Atomic uint64_t *slot, uint64_t w)
{
	if (c->flags & OBQ_POISON)
		memset(p, 0x6b, c->stride);
	if (c->rcu_debug) {
		pending_free(c, s, p, idx, slot, w);
		return;
	}
	set_free(c, s, p, idx, slot, w);
	_obq_mag_push(obq_thread_current(), c, p, slot);
}

static inline __attribute__((always_inline)) void free_one(struct obq_cache *c, void *p,
							  const void *site, const char *fn)
{
	if (OBQ_UNLIKELY(p == NULL))
		return;
	OBQ_SCHED_POINT(OBQ_SP_FREE, p);
	struct obq_slab *s = _obq_pagemap_get(p);
	/* Relaxed: slab->cache is set before the slab's (release) publication. */
	if (OBQ_UNLIKELY(s == NULL || c == NULL ||
			 atomic_load_explicit(&s->cache, memory_order_relaxed) != c)) {
		bad_free(c, p, fn);
		return;
	}
	/* The release fast path relies on the metadata layout (slab.h). */
	OBQ_ASSERT(s->slot == (_Atomic uint64_t *)(s + 1));
	size_t off = (size_t)((char *)p - s->mem);
	size_t idx;
	if (OBQ_UNLIKELY(!slot_index_exact(s, off, &idx) || idx >= c->nslots)) {
		bad_free(c, p, fn);
		return;
	}
	_Atomic uint64_t *slot = &s->slot[idx];
	/* Relaxed: an ALLOCATED slot is written only by its owner, which is us now. */
	uint64_t w = atomic_load_explicit(slot, memory_order_relaxed);
	if (OBQ_UNLIKELY((w & OBQ_SLOT_STATE_MASK) != OBQ_SLOT_ALLOCATED)) {
		bad_free(c, p, fn);
		return;
	}
#if OBQ_CHECKED
	struct obq_slot_info si;
	fill_info(&si, c, s, p, idx, w);
	if (!_obq_check_free(&si, site))
		return; /* a rule fired and was reported: free nothing */
#else
	(void)site;
#endif
	if (OBQ_MUTANT(freeptr_in_object) && (c->flags & OBQ_TYPESAFE_BY_RCU))
		memcpy(p, &s, sizeof s); /* mutant: free-list metadata in the object's first word */
	if (OBQ_UNLIKELY(c->free_slow)) {
		free_slow(c, s, p, idx, slot, w);
		return;
	}
	set_free(c, s, p, idx, slot, w);
	_obq_mag_push(obq_thread_current(), c, p, slot);
}

/* Every free the fast path does not finish (bad pointers, full magazine, poison,
 * rcu-debug, checked builds). */
static OBQ_NOINLINE __attribute__((unused)) void free_generic(struct obq_cache *c, void *p,
								const void *site)
{
	free_one(c, p, site, "obq_cache_free");
}

#if FAST_PATHS
/* _obq_pagemap_get without its address-range test: the root index is masked, so an
 * address at or above 2^48 looks up the slab (if any) of its low 48 bits.  Such a p
 * lies 2^48 bytes or more past that slab's mem, so its slot index is far beyond
 * nslots and the fast path hands it to free_generic, which looks it up properly. */
static inline struct obq_slab *pagemap_get_masked(const void *p)
{
	uint64_t a = (uint64_t)(uintptr_t)p;
	/* Acquire: as _obq_pagemap_get. */
	obq_pagemap_leaf_t *leaf = atomic_load_explicit(
		&_obq_pagemap_root[(a >> (OBQ_PAGEMAP_SHIFT + OBQ_PAGEMAP_LEAF_BITS)) &
				   ((1u << OBQ_PAGEMAP_ROOT_BITS) - 1)],
		memory_order_acquire);
	if (OBQ_UNLIKELY(leaf == NULL))
		return NULL;
	/* Acquire: as _obq_pagemap_get. */
	return atomic_load_explicit(
		&(*leaf)[(a >> OBQ_PAGEMAP_SHIFT) & ((1u << OBQ_PAGEMAP_LEAF_BITS) - 1)],
		memory_order_acquire);
}
#endif

void obq_cache_free(obq_cache_t *c, void *p)
{
#if FAST_PATHS
	/* Fast path: the always-on checks (oblique slab, owner cache, exact slot, state
	 * ALLOCATED), then flip the slot word and push (object, slot word).  Anything
	 * unusual goes to free_generic, which repeats the checks and reports.  A NULL p
	 * finds no slab (granule 0 is never mapped) and ends there too. */
	struct obq_slab *s = pagemap_get_masked(p);
	/* Relaxed: slab->cache is set before the slab's (release) publication. */
	if (OBQ_LIKELY(s != NULL && c != NULL &&
		       atomic_load_explicit(&s->cache, memory_order_relaxed) == c)) {
		size_t idx;
		if (OBQ_LIKELY(slot_index_exact(s, (size_t)((char *)p - s->mem), &idx) &&
			       idx < c->nslots)) {
			/* The slot words follow the header in the metadata block (slab.h:
			 * s->slot == (uint64 *)(s + 1)): no load of s->slot on the way. */
			_Atomic uint64_t *slot = (_Atomic uint64_t *)(s + 1) + idx;
			/* Relaxed: an ALLOCATED slot is written only by its owner. */
			uint64_t w = atomic_load_explicit(slot, memory_order_relaxed);
			/* _obq_mags_none (no tag matches) if this thread has no set yet. */
			struct obq_magazine_set *ms = _obq_mags;
			if (OBQ_LIKELY((w & OBQ_SLOT_STATE_MASK) == OBQ_SLOT_ALLOCATED)) {
				struct obq_mag_entry *e =
					(struct obq_mag_entry *)((char *)ms + c->fast_off);
				struct obq_mag_obj *o = e->top;
				if (OBQ_LIKELY(e->tag == c->fast_tag && o != e->end)) {
					/* Relaxed: as set_free. */
					atomic_store_explicit(slot, w + FREE_DELTA,
							      memory_order_relaxed);
					o->obj = p;
					o->slot = slot;
					e->top = o + 1;
					return;
				}
			}
		}
	}
	free_generic(c, p, NULL);
#else
	free_one(c, p, __builtin_return_address(0), "obq_cache_free");
#endif
}

void obq_cache_free_bulk(obq_cache_t *c, size_t n, void **objs)
{
	if (objs == NULL)
		return;
	const void *site = __builtin_return_address(0);
	for (size_t i = 0; i < n; i++)
		free_one(c, objs[i], site, "obq_cache_free_bulk");
}

/* ---------------------------------------------------------------------------------
 * Shrink, destroy, stats. */

/* Queue the open rcu-debug batch if nothing is in flight. */
static void pending_kick(struct obq_cache *c)
{
	pthread_mutex_lock(&c->pending_lock);
	struct obq_pending *submit = pending_close(c);
	pthread_mutex_unlock(&c->pending_lock);
	if (submit)
		_obq_defer_gp(&submit->rcu, pending_gp_done);
}

int obq_cache_shrink(obq_cache_t *c)
{
	if (c == NULL || is_destroyed(c, "obq_cache_shrink"))
		return -EINVAL;
	_obq_mag_flush(obq_thread_current(), c);
	_obq_depot_drain(c);
	pending_kick(c);
	struct obq_slab *rel = NULL;
	pthread_mutex_lock(&c->slab_lock);
	size_t k = _obq_slabs_take_empty(c, &rel);
	c->empty_keep = c->empty_keep_base; /* the high-water mark starts again */
	pthread_mutex_unlock(&c->slab_lock);
	_obq_slab_release_list(c, rel, 0);
	return (int)k;
}

/* Wait until no rcu-debug batch and no slab release of c is pending. */
static void drain_rcu_work(struct obq_cache *c)
{
	for (;;) {
		pthread_mutex_lock(&c->pending_lock);
		struct obq_pending *submit = pending_close(c);
		int busy = c->pend_inflight != NULL;
		pthread_mutex_unlock(&c->pending_lock);
		if (submit)
			_obq_defer_gp(&submit->rcu, pending_gp_done);
		/* Acquire: pairs with the release decrement in slab.c's callback, whose last
		 * touch of c then happens before we free c. */
		if (!busy && atomic_load_explicit(&c->slabs_waiting, memory_order_acquire) == 0)
			break;
		obq_rcu_barrier();
	}
}

#define BUSY_LIST_MAX 8

static int destroy(struct obq_cache *c, int force, const char *fn)
{
	if (c == NULL || is_destroyed(c, fn))
		return -EINVAL;
	struct obq_thread *t = obq_thread_current();
	if (_obq_rcu_nesting(t) > 0) {
		_obq_report(OBQ_ERR_RCU_SYNC_IN_READER, c->name, NULL, NULL, 0,
			    "%s(cache \"%s\") inside an RCU read-side section (nesting %u): destroy "
			    "waits for grace periods, which cannot end while this thread is a "
			    "reader; the cache was not destroyed\n", fn, c->name, _obq_rcu_nesting(t));
		return -EDEADLK;
	}
	/* As Linux's kmem_cache_destroy: callbacks queued before us (the caller's frees
	 * deferred with obq_rcu_call, our slab releases) run before we count live objects. */
	if ((c->flags & OBQ_TYPESAFE_BY_RCU) && !OBQ_MUTANT(destroy_no_barrier))
		obq_rcu_barrier();
	_obq_mag_flush(t, c);
	_obq_depot_drain(c);
	if (!force) {
		void *objs[BUSY_LIST_MAX];
		unsigned long gens[BUSY_LIST_MAX];
		size_t live = 0;
		pthread_mutex_lock(&c->slab_lock);
		struct obq_slab *lists[2] = { c->partial, c->full };
		for (int l = 0; l < 2; l++)
			for (struct obq_slab *s = lists[l]; s; s = s->next)
				for (uint32_t i = 0; i < s->nslots; i++) {
					/* Relaxed: a snapshot; the caller promised no concurrent use. */
					uint64_t w = atomic_load_explicit(&s->slot[i], memory_order_relaxed);
					if ((w & OBQ_SLOT_STATE_MASK) != OBQ_SLOT_ALLOCATED)
						continue;
					if (live < BUSY_LIST_MAX) {
						objs[live] = s->mem + (size_t)i * s->stride;
						gens[live] = (unsigned long)(w >> OBQ_SLOT_GEN_SHIFT);
					}
					live++;
				}
		pthread_mutex_unlock(&c->slab_lock);
		if (live > 0) {
			char list[BUSY_LIST_MAX * 48 + 64];
			size_t len = 0;
			size_t shown = live < BUSY_LIST_MAX ? live : BUSY_LIST_MAX;
			for (size_t i = 0; i < shown; i++)
				len += (size_t)snprintf(list + len, sizeof list - len, "%s%p (generation %lu)",
							i ? ", " : "", objs[i], gens[i]);
			if (live > shown)
				snprintf(list + len, sizeof list - len, " and %zu more", live - shown);
			_obq_report(OBQ_ERR_DESTROY_BUSY, c->name, objs[0], "ALLOCATED", gens[0],
				    "%s(cache \"%s\"): %zu object%s still live: %s; the cache was not "
				    "destroyed and stays usable\n", fn, c->name, live, live == 1 ? " is" : "s are",
				    list);
			return -EBUSY;
		}
	}
	/* Going ahead: unregister, so thread exits stop flushing into c. */
	pthread_mutex_lock(&registry_lock);
	registry[c->id].cache = NULL;
	registry[c->id].tag = 0;
	free_ids[nfree_ids++] = c->id;
	ncaches--;
	pthread_mutex_unlock(&registry_lock);
	/* Pending grace-period work still references c. */
	if (!OBQ_MUTANT(destroy_no_barrier))
		drain_rcu_work(c);
	struct obq_slab *rel = NULL;
	pthread_mutex_lock(&c->slab_lock);
	size_t k = _obq_slabs_take_all(c, &rel);
	pthread_mutex_unlock(&c->slab_lock);
	/* Readers may still be inside sections that saw these typesafe slabs. */
	if (k > 0 && (c->flags & OBQ_TYPESAFE_BY_RCU))
		obq_rcu_synchronize();
	c->dropping = 1; /* the checker: live objects go with the slabs, on purpose */
	_obq_slab_release_list(c, rel, 1);
	_obq_check_cache_destroy(c);
	_obq_slab_detach_quarantine(c);
	_obq_depot_free(c);
	struct obq_pending *bs[3] = { c->pend_open, c->pend_inflight, c->pend_spare };
	for (int i = 0; i < 3; i++)
		if (bs[i]) {
			free(bs[i]->objs);
			free(bs[i]);
		}
	/* Our own entry is empty; drop its tag so a later cache with the id starts fresh. */
	if (t->mags && c->id < t->mags->cap)
		t->mags->e[c->id].tag = 0;
	pthread_mutex_destroy(&c->depot_lock);
	pthread_mutex_destroy(&c->slab_lock);
	pthread_mutex_destroy(&c->pending_lock);
	cache_release(c);
	return 0;
}

int obq_cache_destroy(obq_cache_t *c)
{
	return destroy(c, 0, "obq_cache_destroy");
}

int obq_cache_destroy_force(obq_cache_t *c)
{
	return destroy(c, 1, "obq_cache_destroy_force");
}

int obq_cache_stats(obq_cache_t *c, struct obq_cache_stats *out)
{
	if (c == NULL || out == NULL || is_destroyed(c, "obq_cache_stats"))
		return -EINVAL;
	memset(out, 0, sizeof *out);
	out->object_size = c->size;
	out->stride = c->stride;
	out->objects_per_slab = c->nslots;
	pthread_mutex_lock(&c->slab_lock);
	struct obq_slab *lists[3] = { c->partial, c->full, c->empty };
	for (int l = 0; l < 3; l++)
		for (struct obq_slab *s = lists[l]; s; s = s->next)
			for (uint32_t i = 0; i < s->nslots; i++) {
				/* Relaxed: a snapshot (exact when c is otherwise idle). */
				unsigned st = (unsigned)(atomic_load_explicit(&s->slot[i], memory_order_relaxed) &
							 OBQ_SLOT_STATE_MASK);
				out->objects_live += st == OBQ_SLOT_ALLOCATED;
				out->objects_free_pending += st == OBQ_SLOT_FREE_PENDING;
			}
	out->slabs = c->nslabs;
	pthread_mutex_unlock(&c->slab_lock);
	/* Relaxed: statistics. */
	out->slabs_waiting_gp = atomic_load_explicit(&c->slabs_waiting, memory_order_relaxed);
	out->bytes_mapped = atomic_load_explicit(&c->bytes_mapped, memory_order_relaxed);
	out->slabs_released = atomic_load_explicit(&c->slabs_released, memory_order_relaxed);
	out->slabs_released_stale =
		atomic_load_explicit(&c->slabs_released_stale, memory_order_relaxed);
	return 0;
}

/* ---------------------------------------------------------------------------------
 * Guards (for the checker). */

int obq_cache_declare_guard(obq_cache_t *c, enum obq_guard_kind kind, size_t offset, size_t size)
{
	if (c == NULL || (unsigned)kind >= OBQ_GUARD_KIND_COUNT)
		return -EINVAL;
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return -EINVAL;
	if (offset > c->size || size > c->size - offset)
		return -EINVAL;
	c->guards[kind].declared = 1;
	c->guards[kind].offset = offset;
	c->guards[kind].size = size;
	return 0;
}

const struct obq_guard *_obq_cache_guards(const struct obq_cache *c)
{
	return c->guards;
}

size_t _obq_cache_object_size(const struct obq_cache *c)
{
	return c->size;
}

void _obq_cache_props(const struct obq_cache *c, struct obq_cache_props *out)
{
	out->name = c->name;
	out->flags = c->flags;
	out->rcu_debug = c->rcu_debug;
	out->has_ctor = c->ctor != NULL;
	out->size = c->size;
	out->id = c->id;
	out->tag = c->tag;
}
