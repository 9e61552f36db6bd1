/* wmm_rt.h — the harness's own ThreadSanitizer runtime (docs/weak-memory.md).
 *
 * Target code compiled with clang's -fsanitize=thread but linked WITHOUT libtsan calls
 * __tsan_read4, __tsan_atomic64_load, __tsan_atomic_thread_fence ... for its memory
 * accesses — the instrumentation the Linux kernel reuses for KCSAN with a runtime of
 * its own.  wmm_rt.c is such a runtime: it performs each access and reports it to the
 * weak-memory model (wmm.h) of the running virtual thread, so that
 *   - an atomic load may return an older store (the model's choice, i.e. the input's),
 *   - a store may be ordered before a newer one in its location's modification order,
 *   - plain accesses are checked for data races against happens-before.
 * Only the target's own translation units are instrumented: the allocator, the RCU
 * backend and the harness run uninstrumented, so their accesses are sequentially
 * consistent and invisible here; the engine states their synchronisation with
 * wmm_rt_release / wmm_rt_acquire (an object freed by one thread and allocated by
 * another, a grace period's end).
 *
 * With no hooks installed, or while hooks.tid() says WMM_RT_OFF (setup, the warm-up,
 * code outside a run), every access is performed plainly, unmodelled.  Not
 * thread-safe: the deterministic engine runs every virtual thread on one OS thread. */
#ifndef OBQ_WMM_RT_H
#define OBQ_WMM_RT_H

#include "wmm.h"

#define WMM_RT_OFF (~0u)

struct wmm_rt_hooks {
	struct wmm *model;
	void *ctx;
	/* The running virtual thread, or WMM_RT_OFF. */
	unsigned (*tid)(void *ctx);
	/* A data race between two accesses (the engine reports it and ends the run). */
	void (*race)(void *ctx, const struct wmm_race *r);
	/* An atomic load that read a store `back` places older than the latest (>= 1). */
	void (*stale)(void *ctx, const void *addr, unsigned back, uint64_t got, uint64_t latest);
};

/* Install (or, with NULL, remove) the hooks. */
void wmm_rt_set(const struct wmm_rt_hooks *h);

/* Synchronisation outside the instrumented code, for the current thread (no-ops when
 * off): everything it did happens before whoever acquires addr afterwards. */
void wmm_rt_release(const void *addr);
void wmm_rt_acquire(const void *addr);

/* The allocator's own work for the current thread (wmm_rt_ignore_begin/end, nested):
 * its accesses are not recorded.  Inside it, a constructor (wmm_rt_ctor_begin/end,
 * called by the allocator around the constructors of a slab it makes): its writes are
 * the constructing thread's stores over the memory's indeterminate content before it
 * (WMM_RT_UNINIT in every byte, SLUB's POISON_INUSE), kept by wmm_ctor_store; a thread
 * that does not happen after the constructor can read that content or race with the
 * writes.  Every allocation happens after every constructor run before it
 * (wmm_rt_alloc_end: the allocator's locks hand its slabs over). */
#define WMM_RT_UNINIT 0x5a
void wmm_rt_ignore_begin(void);
void wmm_rt_ignore_end(void);
void wmm_rt_ctor_begin(void);
void wmm_rt_ctor_end(void);
/* Inside a constructor bracket: the constructor of the object at obj (size bytes) ran.
 * Its bytes count as written by the constructor (plain writes), then the writes the
 * instrumentation reported (atomic ones stay atomic): a compiler turns neighbouring
 * field stores into a memset, which the instrumentation does not report. */
void wmm_rt_constructed(const void *obj, size_t size);
/* An allocation returned obj (NULL: none) to the current thread: it acquires obj's
 * previous free and every constructor run so far. */
void wmm_rt_alloc_end(const void *obj);

/* The code address of the atomic access the model is asking a choice for (NULL if
 * none): the site a stale read or an early store happens at. */
const void *wmm_rt_site(void);

#endif /* OBQ_WMM_RT_H */
