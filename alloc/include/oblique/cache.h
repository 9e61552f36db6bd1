/* oblique/cache.h — kmem_cache-style object caches, with a type-stable mode.
 *
 * ============================== WARNING READ THIS ==============================
 * OBQ_TYPESAFE_BY_RCU (Linux: SLAB_TYPESAFE_BY_RCU, née SLAB_DESTROY_BY_RCU) does
 * NOT delay the free of an object.  obq_cache_free() makes the object reusable at
 * once — a free followed by an alloc on the same thread returns the same address.
 * Only the memory of an *empty slab* waits for an RCU grace period before it goes
 * back to the system.  So a reader inside obq_rcu_read_lock() holding a stale
 * pointer always points at an object of the same type (or a free slot of the same
 * cache), but maybe a different object than the one it looked up.
 *
 * The reader must therefore pin the object and then re-check that it is still the
 * right one:
 *
 *	again:
 *	obq_rcu_read_lock();
 *	obj = lockless_lookup(key);
 *	if (obj) {
 *		if (!obq_ref_get_not_zero(&obj->ref)) {   // or obq_spin_lock_oblique(&obj->lock)
 *			obq_rcu_read_unlock();
 *			goto again;
 *		}
 *		if (OBQ_PEEK(obj, key) != key) {           // recycled under us
 *			put_ref(obj);
 *			obq_rcu_read_unlock();
 *			goto again;
 *		}
 *	}
 *	obq_rcu_read_unlock();
 *
 * Fields a stale reader may touch without a pin (refcount, lock, key, list link,
 * generation) must survive free -> alloc: initialise them in the ctor, which runs
 * once per slot when its slab is made and never on alloc; the allocator never writes
 * into a freed object of a typesafe or ctor cache.  A writer initialises an object
 * fully before making it acquirable (obq_ref_set_release, see oblique/access.h).
 * ===============================================================================
 *
 * Error conventions: see oblique/error.h.  Allocation returns NULL with errno set;
 * other calls return 0 or a negative errno; bad frees go to the error hook. */
#ifndef OBLIQUE_CACHE_H
#define OBLIQUE_CACHE_H

#include <oblique/common.h>

OBQ_BEGIN_DECLS

typedef struct obq_cache obq_cache_t;
typedef void (*obq_ctor_fn)(void *obj);

/* Cache flags. */
#define OBQ_TYPESAFE_BY_RCU  0x1u  /* free reuses at once; empty slabs wait a grace period */
#define OBQ_POISON           0x2u  /* fill freed objects with 0x6b, check on alloc (not with typesafe) */
#define OBQ_HWCACHE_ALIGN    0x4u  /* align objects to the cache line (64 bytes) */
#define OBQ_ZERO_ON_ALLOC    0x8u  /* zero each object on alloc (not with typesafe or a ctor) */
#define OBQ_CACHE_FLAGS_ALL  0xfu

#define OBQ_CACHE_NAME_MAX   47        /* longer names are refused */
#define OBQ_CACHE_SIZE_MAX   (1u << 20) /* larger objects are refused: use malloc */

/* Create a cache of objects of `size` bytes aligned to `align` (0: natural, at least
 * 8; must be a power of two and at most 4096).  `ctor`, if given, runs once per slot
 * when its slab is made.  Returns NULL with errno=EINVAL (reason in obq_last_error())
 * for: NULL or over-long name, size 0 or > OBQ_CACHE_SIZE_MAX, a bad alignment,
 * unknown flags, OBQ_TYPESAFE_BY_RCU with OBQ_POISON or OBQ_ZERO_ON_ALLOC,
 * OBQ_ZERO_ON_ALLOC with a ctor; errno=ENOMEM if out of memory. */
obq_cache_t *obq_cache_create(const char *name, size_t size, size_t align,
			      unsigned flags, obq_ctor_fn ctor);

/* One object, or NULL with errno=ENOMEM.  Never runs the ctor; never writes into
 * the object of a typesafe or ctor cache (OBQ_ZERO_ON_ALLOC caches are zeroed). */
void *obq_cache_alloc(obq_cache_t *c);

/* Free obj to c.  NULL is ignored.  A double free, a pointer from another cache, an
 * interior or foreign pointer is reported through the error hook and frees nothing. */
void obq_cache_free(obq_cache_t *c, void *obj);

/* All or nothing: fills objs[0..n) and returns n, or returns 0 with errno=ENOMEM
 * having allocated nothing. */
size_t obq_cache_alloc_bulk(obq_cache_t *c, size_t n, void **objs);

/* obq_cache_free on each of objs[0..n) (each checked as obq_cache_free does). */
void obq_cache_free_bulk(obq_cache_t *c, size_t n, void **objs);

/* Return every cached free object of this thread (its magazine, which grows to about
 * 1 MiB per cache for a thread that allocates in batches), the depot and empty slabs to
 * the system (typesafe: through a grace period).  Other threads' magazines are theirs:
 * they go back when those threads shrink or exit.  Returns the number of slabs released or queued for
 * release. */
int obq_cache_shrink(obq_cache_t *c);

/* Destroy a cache.  -EBUSY if objects are still live (the error hook is called with
 * OBQ_ERR_DESTROY_BUSY naming them) and the cache stays usable.  A typesafe cache
 * waits for pending grace-period work (obq_rcu_barrier) and sends every slab it still
 * holds through a grace period before returning.  Calling it inside a read-side
 * section is RCU misuse (reported).  NULL: -EINVAL. */
int obq_cache_destroy(obq_cache_t *c);

struct obq_cache_stats {
	size_t object_size;        /* requested size */
	size_t stride;             /* bytes between objects in a slab */
	size_t objects_per_slab;   /* slots per slab */
	size_t objects_live;       /* allocated and not yet freed */
	size_t objects_free_pending; /* rcu-debug: freed, waiting a grace period */
	size_t slabs;              /* slabs owned (partial + full + empty), not counting waiting */
	size_t slabs_waiting_gp;   /* empty typesafe slabs queued behind a grace period */
	size_t bytes_mapped;       /* memory mapped for slabs, including waiting ones */
	size_t slabs_released;     /* slabs given back to the system since create (a typesafe
				    * cache's after their grace period) */
	size_t slabs_released_stale; /* of those, slabs whose grace period outwaited a reader
				      * that touched one of their freed objects (a stale
				      * pointer); counted by the checker: 0 unless checked */
};

/* Memory waiting for grace periods, all typesafe caches together: the bytes of empty
 * slabs queued behind a grace period (obq_gp_backlog_bytes) are kept under a bound,
 * obq_gp_backlog_max() (default 32 MiB; the environment variable OBQ_GP_BACKLOG_MAX
 * sets the initial value, in bytes with an optional k/m/g suffix; 0: no bound).  A
 * thread whose frees or shrink would pass it waits a grace period itself and releases
 * its empty slabs at once, instead of queueing them: a writer that outruns the grace
 * periods is slowed to their pace.  Threads inside a read-side section never wait, so
 * the bound can be passed by one release (a few slabs) per such thread.
 * obq_gp_backlog_helps counts the releases done that way since the start. */
size_t obq_gp_backlog_max(void);
void obq_set_gp_backlog_max(size_t bytes);
size_t obq_gp_backlog_bytes(void);
unsigned long obq_gp_backlog_helps(void);

/* Snapshot of c's counters (exact when no other thread is using c). */
int obq_cache_stats(obq_cache_t *c, struct obq_cache_stats *out);

const char *obq_cache_name(const obq_cache_t *c);
unsigned obq_cache_flags(const obq_cache_t *c);

/* Guard fields: the fields a stale reader may touch (refcount, lock, key, link,
 * generation).  Declaring them lets the checker verify that free happens with the
 * refcount at 0, that they survive free -> alloc, and that the allocator places
 * nothing over them.  `size` is 1, 2, 4 or 8. -EINVAL on a bad offset/size. */
enum obq_guard_kind {
	OBQ_GUARD_REFCOUNT = 0,
	OBQ_GUARD_LOCK,
	OBQ_GUARD_KEY,
	OBQ_GUARD_LINK,
	OBQ_GUARD_GENERATION,
	OBQ_GUARD_KIND_COUNT
};
int obq_cache_declare_guard(obq_cache_t *c, enum obq_guard_kind kind, size_t offset,
			    size_t size);
#define OBQ_DECLARE_GUARD(c, kind, type, field) \
	obq_cache_declare_guard((c), (kind), offsetof(type, field), sizeof(((type *)0)->field))

/* Reuse modes (per process, switchable per run; the environment variable
 * OBQ_REUSE=recycle|rcu-debug sets the initial mode):
 *  - recycle: LIFO, immediate reuse, no quarantine — exposes missing re-validation;
 *  - rcu-debug: each free of a typesafe object is deferred by a grace period (slot
 *    state FREE-PENDING) before the slot becomes FREE and reusable — the
 *    CONFIG_SLUB_RCU_DEBUG analogue; a touch after that is a use after the GP. */
enum obq_reuse_mode { OBQ_REUSE_RECYCLE = 0, OBQ_REUSE_RCU_DEBUG = 1 };
int obq_set_reuse_mode(enum obq_reuse_mode mode); /* -EBUSY while any cache exists */
enum obq_reuse_mode obq_get_reuse_mode(void);

/* Cap the objects per slab of caches created afterwards (0: the allocator's own
 * choice, about 64 KiB of objects; the environment variable OBQ_SLAB_OBJECTS sets the
 * initial value).  Small slabs make empty slabs — and their release after a grace
 * period — frequent: with 4-8 objects a handful of frees can send a slab back under a
 * reader.  Costs memory; for tests.  -EINVAL above 65535. */
int obq_set_slab_max_objects(unsigned n);
unsigned obq_get_slab_max_objects(void);

OBQ_END_DECLS
#endif /* OBLIQUE_CACHE_H */
