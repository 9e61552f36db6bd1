/* oblique/bits/tsan.h — ThreadSanitizer annotations shared by the RCU and access layers.
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
 * (OBQ_TSAN_MUTEX_*).  Without TSan every macro compiles to nothing (its arguments are
 * not evaluated), so they may sit on fast paths. */
#ifndef OBLIQUE_BITS_TSAN_H
#define OBLIQUE_BITS_TSAN_H

#include <oblique/common.h>

/* Mutex flags, same values as <sanitizer/tsan_interface.h>. */
#define OBQ_TSAN_MUTEX_LINKER_INIT      (1u << 0)  /* static storage, no constructor */
#define OBQ_TSAN_MUTEX_WRITE_REENTRANT  (1u << 1)
#define OBQ_TSAN_MUTEX_READ_REENTRANT   (1u << 2)
#define OBQ_TSAN_MUTEX_READ_LOCK        (1u << 3)  /* shared (reader) acquisition */
#define OBQ_TSAN_MUTEX_TRY_LOCK         (1u << 4)
#define OBQ_TSAN_MUTEX_TRY_LOCK_FAILED  (1u << 5)
#define OBQ_TSAN_MUTEX_NOT_STATIC       (1u << 8)  /* lives in an object: must not be used after destroy */

#if OBQ_TSAN
OBQ_BEGIN_DECLS
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
OBQ_END_DECLS

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

#endif /* OBLIQUE_BITS_TSAN_H */
