/* oblique/common.h — compiler helpers and the build-variant switches shared by every
 * public header.  Nothing here allocates or synchronises. */
#ifndef OBLIQUE_COMMON_H
#define OBLIQUE_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <oblique/config.h>

#ifdef __cplusplus
#define OBQ_BEGIN_DECLS extern "C" {
#define OBQ_END_DECLS }
#else
#define OBQ_BEGIN_DECLS
#define OBQ_END_DECLS
#endif

#ifndef OBQ_RCU_BACKEND
#error "oblique/config.h must define OBQ_RCU_BACKEND"
#endif
/* RCU backends (chosen at build time so the read side inlines): the table. */
#include <oblique/bits/backends.h>
#ifndef OBQ_CHECKED
#define OBQ_CHECKED 0 /* 1: the access layer and the cache call the type-stable checker */
#endif
#ifndef OBQ_SCHED_POINTS
#define OBQ_SCHED_POINTS 0 /* 1: every sanctioned primitive is a scheduling point (sim) */
#endif

/* Variant check.  The inline read side, the access layer and the scheduling points
 * compile differently per variant, so code compiled for one variant must link that
 * variant.  Each library variant defines the symbol named after its switches
 * (alloc/src/error.c), and every translation unit that includes oblique's headers
 * references the one it was compiled for: a mismatch is a link error naming it, e.g.
 * "undefined reference to `_obq_variant_rcu3_checked1_sched1'" — compiled for the
 * deterministic (sim) variant, linked without it. */
#define OBQ__VARIANT_SYM(b, c, s) _obq_variant_rcu##b##_checked##c##_sched##s
#define OBQ__VARIANT_SYM2(b, c, s) OBQ__VARIANT_SYM(b, c, s)
#define OBQ_VARIANT_SYMBOL OBQ__VARIANT_SYM2(OBQ_RCU_BACKEND, OBQ_CHECKED, OBQ_SCHED_POINTS)
#ifdef __cplusplus
extern "C" const char OBQ_VARIANT_SYMBOL;
#else
extern const char OBQ_VARIANT_SYMBOL;
#endif
__attribute__((used)) static const char *const _obq_variant_ref = &OBQ_VARIANT_SYMBOL;

#define OBQ_LIKELY(x)   __builtin_expect(!!(x), 1)
#define OBQ_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define OBQ_INLINE      static inline __attribute__((always_inline))
#define OBQ_NOINLINE    __attribute__((noinline))
#define OBQ_EXPORT      __attribute__((visibility("default")))
#define OBQ_COLD        __attribute__((cold, noinline))
#define OBQ_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Sanitizer detection (clang: __has_feature; gcc: __SANITIZE_*__). */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OBQ_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define OBQ_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(OBQ_ASAN)
#define OBQ_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__) && !defined(OBQ_TSAN)
#define OBQ_TSAN 1
#endif
#ifndef OBQ_ASAN
#define OBQ_ASAN 0
#endif
#ifndef OBQ_TSAN
#define OBQ_TSAN 0
#endif

#if OBQ_ASAN
#define OBQ_NO_ASAN __attribute__((no_sanitize("address")))
#else
#define OBQ_NO_ASAN
#endif
#if OBQ_TSAN
#define OBQ_NO_TSAN __attribute__((no_sanitize("thread")))
#else
#define OBQ_NO_TSAN
#endif

/* Busy-wait hint (x86 pause, arm yield) for spin loops: the access layer's lock
 * primitives in non-sim builds, and the library's own waits (os.h). */
OBQ_INLINE void obq__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("pause" ::: "memory");
#elif defined(__aarch64__) || (defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

#endif /* OBLIQUE_COMMON_H */
