/* oblique/bits/track.h — the one seam between oblique and the tools that watch its
 * memory (as mimalloc's track.h): AddressSanitizer, Valgrind (memcheck),
 * ThreadSanitizer, and oblique's own type-stable checker (sanitizers/).  Do not
 * include directly: oblique/access.h, the RCU read sides and liboblique's sources do.
 *
 * The allocator (alloc/src), its OS layer (os.c) and the access layer (oblique/access.h)
 * reach those tools only through this header: none of them includes a sanitizer or
 * Valgrind header, calls an __asan_* / __tsan_* function or a VALGRIND_* request, or
 * declares a checker entry point.  Each tool is a switch:
 *   ASan       OBQ_ASAN (compiler: -fsanitize=address)
 *   TSan       OBQ_TSAN (compiler: -fsanitize=thread)
 *   Valgrind   OBQ_VALGRIND=1 and <valgrind/memcheck.h> found (OBQ_TRACK_VALGRIND)
 *   checker    OBQ_CHECKED=1 (the library variant)
 * and without it each macro below compiles to nothing (its arguments are not
 * evaluated, so they may sit on fast paths), and each checker entry point to its
 * unchecked behaviour.
 *
 * Sections: 1 ASan, 2 Valgrind, 3 TSan, 4 the checker's entry points (the cache, the
 * thread layer and the access layer call them; sanitizers/ defines them), 5 the
 * sanitizer default options. */
#ifndef OBLIQUE_BITS_TRACK_H
#define OBLIQUE_BITS_TRACK_H

#include <oblique/common.h>

OBQ_BEGIN_DECLS

/* ---------------------------------------------------------------------------------
 * 1. AddressSanitizer: poisoning (declared here rather than by including
 * <sanitizer/asan_interface.h> so gcc and clang builds see the same prototypes). */
#if OBQ_ASAN
void __asan_poison_memory_region(void const volatile *addr, size_t size);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#define OBQ_TRACK_ASAN_POISON(p, n)   __asan_poison_memory_region((p), (n))
#define OBQ_TRACK_ASAN_UNPOISON(p, n) __asan_unpoison_memory_region((p), (n))
#else
#define OBQ_TRACK_ASAN_POISON(p, n)   ((void)0)
#define OBQ_TRACK_ASAN_UNPOISON(p, n) ((void)0)
#endif

/* ---------------------------------------------------------------------------------
 * 2. Valgrind (memcheck) client requests, with OBQ_VALGRIND=1 (CMake -DOBQ_VALGRIND=ON,
 * or a variant built with DEFINES OBQ_VALGRIND=1).  Without Valgrind running a request
 * costs a few instructions.
 *   OBQ_TRACK_VG_NOACCESS / _DEFINED / _UNDEFINED (p, n)   memcheck's states of a range
 *   OBQ_TRACK_VG_RUNNING()                                 1 under Valgrind
 *   OBQ__QUIET_BEGIN() / OBQ__QUIET_END()                  checked builds: this thread's
 *       error reporting off around the access layer's sanctioned access of a FREE
 *       (NOACCESS) object; other threads' plain accesses are still reported. */
#if defined(OBQ_VALGRIND) && OBQ_VALGRIND && defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define OBQ_TRACK_VALGRIND 1
#endif
#endif
#ifdef OBQ_TRACK_VALGRIND
#define OBQ_TRACK_VG_NOACCESS(p, n)  ((void)VALGRIND_MAKE_MEM_NOACCESS((p), (n)))
#define OBQ_TRACK_VG_DEFINED(p, n)   ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#define OBQ_TRACK_VG_UNDEFINED(p, n) ((void)VALGRIND_MAKE_MEM_UNDEFINED((p), (n)))
#define OBQ_TRACK_VG_RUNNING()       (RUNNING_ON_VALGRIND != 0)
#else
#define OBQ_TRACK_VG_NOACCESS(p, n)  ((void)0)
#define OBQ_TRACK_VG_DEFINED(p, n)   ((void)0)
#define OBQ_TRACK_VG_UNDEFINED(p, n) ((void)0)
#define OBQ_TRACK_VG_RUNNING()       0
#endif
#if OBQ_CHECKED && defined(OBQ_TRACK_VALGRIND)
#define OBQ__QUIET_BEGIN() VALGRIND_DISABLE_ERROR_REPORTING
#define OBQ__QUIET_END()   VALGRIND_ENABLE_ERROR_REPORTING
#else
#define OBQ__QUIET_BEGIN() ((void)0)
#define OBQ__QUIET_END()   ((void)0)
#endif

/* ---------------------------------------------------------------------------------
 * 3. ThreadSanitizer annotations, shared by the RCU and access layers.
 *
 * TSan models C11 atomics and pthread primitives but not fences, membarrier(2) or
 * inline asm, so the happens-before edges RCU relies on (a reader's section ends ->
 * the grace period that waited for it ends; obq_rcu_call -> its callback runs) are
 * invisible to it.  These macros state those edges explicitly:
 *
 *   OBQ_TSAN_RELEASE(addr)  everything this thread did so far happens before ...
 *   OBQ_TSAN_ACQUIRE(addr)  ... everything this thread does next, if the release on
 *                           the same addr came first in real time.
 *
 * and wrap TSan's custom-mutex annotations for the in-object locks of the access layer
 * (OBQ_TSAN_MUTEX_*). */

/* Mutex flags, same values as <sanitizer/tsan_interface.h>. */
#define OBQ_TSAN_MUTEX_LINKER_INIT      (1u << 0)  /* static storage, no constructor */
#define OBQ_TSAN_MUTEX_WRITE_REENTRANT  (1u << 1)
#define OBQ_TSAN_MUTEX_READ_REENTRANT   (1u << 2)
#define OBQ_TSAN_MUTEX_READ_LOCK        (1u << 3)  /* shared (reader) acquisition */
#define OBQ_TSAN_MUTEX_TRY_LOCK         (1u << 4)
#define OBQ_TSAN_MUTEX_TRY_LOCK_FAILED  (1u << 5)
#define OBQ_TSAN_MUTEX_NOT_STATIC       (1u << 8)  /* lives in an object: must not be used after destroy */

#if OBQ_TSAN
/* Declared here rather than by including <sanitizer/tsan_interface.h> so that gcc and
 * clang builds see the same prototypes; identical redeclarations are harmless. */
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
void __tsan_mutex_create(void *addr, unsigned flags);
void __tsan_mutex_destroy(void *addr, unsigned flags);
void __tsan_mutex_pre_lock(void *addr, unsigned flags);
void __tsan_mutex_post_lock(void *addr, unsigned flags, int recursion);
int __tsan_mutex_pre_unlock(void *addr, unsigned flags);
void __tsan_mutex_post_unlock(void *addr, unsigned flags);

#define OBQ_TSAN_ACQUIRE(addr) __tsan_acquire((void *)(addr))
#define OBQ_TSAN_RELEASE(addr) __tsan_release((void *)(addr))
#define OBQ_TSAN_MUTEX_CREATE(addr, flags)  __tsan_mutex_create((void *)(addr), (flags))
#define OBQ_TSAN_MUTEX_DESTROY(addr, flags) __tsan_mutex_destroy((void *)(addr), (flags))
#define OBQ_TSAN_MUTEX_PRE_LOCK(addr, flags) __tsan_mutex_pre_lock((void *)(addr), (flags))
#define OBQ_TSAN_MUTEX_POST_LOCK(addr, flags) __tsan_mutex_post_lock((void *)(addr), (flags), 0)
#define OBQ_TSAN_MUTEX_PRE_UNLOCK(addr, flags) ((void)__tsan_mutex_pre_unlock((void *)(addr), (flags)))
#define OBQ_TSAN_MUTEX_POST_UNLOCK(addr, flags) __tsan_mutex_post_unlock((void *)(addr), (flags))
#else
#define OBQ_TSAN_ACQUIRE(addr) ((void)0)
#define OBQ_TSAN_RELEASE(addr) ((void)0)
#define OBQ_TSAN_MUTEX_CREATE(addr, flags) ((void)0)
#define OBQ_TSAN_MUTEX_DESTROY(addr, flags) ((void)0)
#define OBQ_TSAN_MUTEX_PRE_LOCK(addr, flags) ((void)0)
#define OBQ_TSAN_MUTEX_POST_LOCK(addr, flags) ((void)0)
#define OBQ_TSAN_MUTEX_PRE_UNLOCK(addr, flags) ((void)0)
#define OBQ_TSAN_MUTEX_POST_UNLOCK(addr, flags) ((void)0)
#endif

/* ---------------------------------------------------------------------------------
 * 4. The checker's entry points: every function the library calls in sanitizers/,
 * declared here and nowhere else.  In unchecked builds (OBQ_CHECKED=0) they are
 * macros with the unchecked behaviour; sanitizers/ is not linked.  What the checker
 * may ask of the cache in return is alloc/src/slot.h (slot lookup and cache
 * accessors): the checker never reads the cache's structures. */

struct obq_cache;
struct obq_slab;
struct obq_thread;
struct obq_slot_info;   /* alloc/src/slot.h */
struct obq_rcu_head;    /* oblique/rcu.h */

/* What an access-layer call is, as the checker is told (oblique/access.h). */
enum obq_access_kind {
	/* reader operations: legal on a FREE object inside a read-side section */
	OBQ_ACC_PEEK = 0,        /* OBQ_PEEK */
	OBQ_ACC_REF_READ,        /* obq_ref_read */
	OBQ_ACC_PIN,             /* obq_ref_get_not_zero */
	OBQ_ACC_LOCK_OBLIQUE,    /* obq_spin_lock_oblique */
	OBQ_ACC_TRYLOCK_OBLIQUE, /* obq_spin_trylock_oblique */
	OBQ_ACC_UNLOCK,          /* obq_spin_unlock */
	OBQ_ACC_READ_TRYLOCK,    /* obq_read_trylock_oblique */
	OBQ_ACC_READ_UNLOCK,     /* obq_read_unlock */
	OBQ_ACC_SEQ_READ,        /* obq_read_seqcount_begin / _retry */
	OBQ_ACC_INCARNATION,     /* obq_incarnation / obq_same_incarnation */
	OBQ_ACC_LOCK_QUERY,      /* obq_spin_is_locked */
	/* owner operations: the object must be ALLOCATED (a store to a FREE one is reported) */
	OBQ_ACC_STORE,           /* OBQ_STORE */
	OBQ_ACC_REF_SET,         /* obq_ref_set_release */
	OBQ_ACC_REF_GET,         /* obq_ref_get (caller already holds a reference) */
	OBQ_ACC_REF_PUT,         /* obq_ref_put */
	OBQ_ACC_LOCK,            /* obq_spin_lock */
	OBQ_ACC_READ_LOCK,       /* obq_read_lock */
	OBQ_ACC_WRITE_LOCK,      /* obq_write_lock / obq_write_trylock */
	OBQ_ACC_WRITE_UNLOCK,    /* obq_write_unlock */
	OBQ_ACC_SEQ_WRITE,       /* obq_write_seqcount_begin / _end */
	OBQ_ACC_CLEAR,           /* obq_clear_except_guards */
	/* initialisation (ctor time) */
	OBQ_ACC_INIT,            /* obq_ref_init */
	OBQ_ACC_LOCK_INIT,       /* obq_spin_lock_init / obq_rwlock_init / obq_seqcount_init */
	OBQ_ACC_KIND_COUNT
};

#if OBQ_CHECKED
/* --- the cache (cache.c, slab.c) --- */
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
 * The checker may quarantine it; it calls _obq_slab_quarantine_done(s) (slot.h) when
 * the cache may unmap the memory and free the metadata. */
void _obq_check_slab_released(struct obq_cache *c, struct obq_slab *s, void *check);
/* The slab's memory is about to go back (s->check: its per-slab data): 1 to proceed,
 * 0 if an allocator-contract rule fired — released twice, with an object handed out
 * (unless dropping: a forced destroy), or before the grace period its last free owes
 * (typesafe caches) — and the release must not happen. */
int _obq_check_slab_releasing(void *check, unsigned dropping);
/* rcu-debug, out of memory for the batch: the FREE_PENDING slot si turns FREE at once
 * (the degraded immediate free), not after a grace period: not an early reuse. */
void _obq_check_pending_abandoned(const struct obq_slot_info *si);
/* A cache is being destroyed (after its barrier). */
void _obq_check_cache_destroy(struct obq_cache *c);
/* An empty typesafe slab was queued to go back after a grace period (check: its
 * per-slab data).  From now on a reader's legal touch of one of its freed objects
 * marks it stale. */
void _obq_check_slab_retired(void *check);
/* 1 if a reader inside a read-side section touched one of the slab's freed objects
 * after _obq_check_slab_retired: the grace period outwaited a stale pointer. */
int _obq_check_slab_stale(void *check);
/* --- the thread layer (thread.c) --- */
/* A context goes away: free its checker data. */
void _obq_check_thread_exit(struct obq_thread *t);
/* --- the access layer (oblique/access.h and its out-of-line part, access.c) --- */
/* Check an access of `size` bytes at addr (the call site is the caller's PC).  Reports
 * a broken rule through the error hook; returns when the hook returns. */
void _obq_check_access(const void *addr, size_t size, enum obq_access_kind kind);
/* Same, and the slot must belong to cache c (OBQ_ERR_TYPE_MISMATCH otherwise). */
void _obq_check_access_typed(const struct obq_cache *c, const void *addr, size_t size,
			     enum obq_access_kind kind);
/* An init of a lock / refcount / seqcount at addr whose current word is held or
 * contended (busy != 0).  Returns 1 to proceed, 0 if a rule fired (skip the init). */
int _obq_check_init(const void *addr, size_t size, enum obq_access_kind kind, unsigned busy);
/* The slot generation of an ALLOCATED obj (0 otherwise); 1 while obj is still the
 * allocation tok was taken from. */
uint64_t _obq_check_incarnation(const void *obj); /* obq_token_t */
int _obq_check_same_incarnation(const void *obj, uint64_t tok);
/* obq_rcu_call on behalf of a callback that touches objects of c (counted pending
 * until it has run; c may be NULL). */
void _obq_check_rcu_call(struct obq_cache *c, struct obq_rcu_head *head,
			 void (*fn)(struct obq_rcu_head *head), const void *site);
/* What the checker knows of p, into buf (NUL-terminated); returns the length. */
size_t _obq_check_describe(const void *p, char *buf, size_t len);
/* Install the "user function running now" hook (obq_check_set_user_fn_hook). */
void _obq_check_set_user_fn(const void *(*fn)(void));
/* Send every quarantined RELEASED slab back now (obq_quarantine_flush). */
void _obq_check_quarantine_flush(void);
#define OBQ__CHECK(addr, size, kind) _obq_check_access((addr), (size), (kind))
#else
#define _obq_check_slab_created(c, s, mem, bytes, n, stride) ((void)0, (void *)0)
#define _obq_check_alloc(si, site) ((void)0)
#define _obq_check_free(si, site) (1)
#define _obq_check_freed(si) ((void)0)
#define _obq_check_slab_released(c, s, chk) _obq_slab_quarantine_done(s)
#define _obq_check_slab_releasing(chk, dropping) (1)
#define _obq_check_pending_abandoned(si) ((void)0)
#define _obq_check_cache_destroy(c) ((void)0)
#define _obq_check_slab_retired(chk) ((void)0)
#define _obq_check_slab_stale(chk) (0)
#define _obq_check_thread_exit(t) ((void)0)
#define OBQ__CHECK(addr, size, kind) ((void)0)
#endif

/* ---------------------------------------------------------------------------------
 * 5. Sanitizer builds: reference alloc/src/options.c (__asan_default_options & co.) so
 * that every program linking the static library gets the project's defaults. */
#if OBQ_ASAN || OBQ_TSAN
extern const int _obq_sanitizer_options_anchor;
static const int *const obq__sanitizer_options_ref __attribute__((used, unused)) =
	&_obq_sanitizer_options_anchor;
#endif

OBQ_END_DECLS

#endif /* OBLIQUE_BITS_TRACK_H */
