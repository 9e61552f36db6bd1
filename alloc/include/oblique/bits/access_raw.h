/* oblique/bits/access_raw.h — the raw memory operations under oblique/access.h (do not
 * include directly).
 *
 * Every load, store and read-modify-write the access layer performs on an object that
 * may be freed goes through one of the obq__raw_* helpers below, for two reasons:
 *  - checked ASan builds poison FREE objects of typesafe caches, and a sanctioned
 *    access (an OBQ_PEEK inside a read-side section) must not trip ASan: the helpers
 *    are no_sanitize("address") there.  A no_sanitize function cannot be inlined into
 *    an instrumented one, so in those builds they are ordinary static functions — the
 *    price of the checked ASan variant, never of a release build;
 *  - checked Valgrind builds mark FREE objects NOACCESS: OBQ__QUIET_BEGIN/END (the seam,
 *    oblique/bits/track.h) turn
 *    Valgrind's error reporting off for this thread around the sanctioned access.
 * ThreadSanitizer is deliberately NOT disabled here: it must see every atomic so that
 * a missing release/acquire in user code is still reported.
 *
 * Memory-order reasons are written at each use site in access.h; these helpers take
 * the order as an argument where more than one is used. */
#ifndef OBLIQUE_BITS_ACCESS_RAW_H
#define OBLIQUE_BITS_ACCESS_RAW_H

#include <stdatomic.h>
#include <string.h>
#include <oblique/common.h>

#if OBQ_CHECKED && OBQ_ASAN
#define OBQ__RAW static inline OBQ_NO_ASAN __attribute__((unused))
#define OBQ__RAW_OUT_OF_LINE 1
#else
#define OBQ__RAW OBQ_INLINE
#define OBQ__RAW_OUT_OF_LINE 0
#endif

/* OBQ__QUIET_BEGIN/END (Valgrind): oblique/bits/track.h, included by oblique/access.h first. */

/* ---- generic relaxed load / store of 1, 2, 4 or 8 bytes (OBQ_PEEK, OBQ_STORE) ---- */

/* Relaxed (READ_ONCE / WRITE_ONCE): single-copy atomic, no ordering — the callers'
 * pins and locks provide the ordering. Other sizes fall back to byte-wise relaxed
 * accesses (not single-copy atomic; OBQ_PEEK documents the supported sizes). */
OBQ__RAW void obq__raw_load(void *dst, const void *src, size_t n)
{
	switch (n) {
	case 1: { uint8_t v = __atomic_load_n((const uint8_t *)src, __ATOMIC_RELAXED); memcpy(dst, &v, 1); break; }
	case 2: { uint16_t v = __atomic_load_n((const uint16_t *)src, __ATOMIC_RELAXED); memcpy(dst, &v, 2); break; }
	case 4: { uint32_t v = __atomic_load_n((const uint32_t *)src, __ATOMIC_RELAXED); memcpy(dst, &v, 4); break; }
	case 8: { uint64_t v = __atomic_load_n((const uint64_t *)src, __ATOMIC_RELAXED); memcpy(dst, &v, 8); break; }
	default:
		for (size_t i = 0; i < n; i++)
			((uint8_t *)dst)[i] = __atomic_load_n((const uint8_t *)src + i, __ATOMIC_RELAXED);
	}
}

OBQ__RAW void obq__raw_store(void *dst, const void *src, size_t n)
{
	switch (n) {
	case 1: { uint8_t v; memcpy(&v, src, 1); __atomic_store_n((uint8_t *)dst, v, __ATOMIC_RELAXED); break; }
	case 2: { uint16_t v; memcpy(&v, src, 2); __atomic_store_n((uint16_t *)dst, v, __ATOMIC_RELAXED); break; }
	case 4: { uint32_t v; memcpy(&v, src, 4); __atomic_store_n((uint32_t *)dst, v, __ATOMIC_RELAXED); break; }
	case 8: { uint64_t v; memcpy(&v, src, 8); __atomic_store_n((uint64_t *)dst, v, __ATOMIC_RELAXED); break; }
	default:
		for (size_t i = 0; i < n; i++)
			__atomic_store_n((uint8_t *)dst + i, ((const uint8_t *)src)[i], __ATOMIC_RELAXED);
	}
}

/* ---- one 32-bit atomic word (refcount, lock, rwlock, seqcount) ---- */

OBQ__RAW unsigned obq__raw_word_load(const _Atomic unsigned *w, memory_order mo)
{
	return atomic_load_explicit((_Atomic unsigned *)w, mo);
}

OBQ__RAW void obq__raw_word_store(_Atomic unsigned *w, unsigned v, memory_order mo)
{
	atomic_store_explicit(w, v, mo);
}

OBQ__RAW unsigned obq__raw_word_add(_Atomic unsigned *w, unsigned v, memory_order mo)
{
	return atomic_fetch_add_explicit(w, v, mo);
}

OBQ__RAW unsigned obq__raw_word_sub(_Atomic unsigned *w, unsigned v, memory_order mo)
{
	return atomic_fetch_sub_explicit(w, v, mo);
}

OBQ__RAW unsigned obq__raw_word_and(_Atomic unsigned *w, unsigned v, memory_order mo)
{
	return atomic_fetch_and_explicit(w, v, mo);
}

/* Weak CAS: callers loop.  On failure *expected holds the current value. */
OBQ__RAW int obq__raw_word_cas(_Atomic unsigned *w, unsigned *expected, unsigned desired,
			       memory_order success, memory_order failure)
{
	return atomic_compare_exchange_weak_explicit(w, expected, desired, success, failure);
}

/* Increment unless zero; returns 1 on success.  Acquire on success so that the
 * caller's re-validation reads (key, identity) happen after the pin, pairing with the
 * writer's obq_ref_set_release; relaxed on failure: nothing was acquired. */
OBQ__RAW int obq__raw_inc_not_zero(_Atomic unsigned *w)
{
	/* Relaxed: only the value is needed; the CAS below carries the ordering. */
	unsigned v = atomic_load_explicit(w, memory_order_relaxed);
	do {
		if (v == 0)
			return 0;
	} while (!atomic_compare_exchange_weak_explicit(w, &v, v + 1, memory_order_acquire,
							 memory_order_relaxed));
	return 1;
}

#endif /* OBLIQUE_BITS_ACCESS_RAW_H */
