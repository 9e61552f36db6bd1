/* wmm.h — a C11-style weak-memory model for the deterministic engine (docs/weak-memory.md).
 *
 * The deterministic harness runs every virtual thread on one real thread, so memory is
 * sequentially consistent unless something decides otherwise.  This model is that
 * something: the access layer reports each atomic access here, and a load may return
 * an older store than the latest one — any store the C11 rules still allow the thread
 * to read — as chosen by the fuzzer's input (through a chooser callback), exactly as
 * the input chooses the schedule.  Plain (non-atomic) accesses are checked for data
 * races against the happens-before order the atomics build.
 *
 * The model (per run; wmm_reset forgets everything):
 *   - a location is an address; its modification order (mo) is a list of the last
 *     WMM_HIST stores, oldest first.  A store is placed at the end of mo, or — when the
 *     chooser says so — before newer stores it is not ordered after (a relaxed or
 *     release store whose thread has not seen them), never between an RMW and the
 *     store it read, never before the first store it must follow (coherence);
 *   - every thread has a vector clock; a thread's own component (its epoch) advances
 *     after each release operation.  A store records its thread and epoch; a release
 *     store (or a relaxed store after a release fence) carries the clock it releases;
 *     an RMW continues the release sequence of the store it read (C++20 rules: only
 *     RMWs continue a release sequence);
 *   - a load of thread t may read the stores of mo from the newest store that happens
 *     before the load — written by a store that happens before it, or read by a read
 *     that happens before it (write-read and read-read coherence) — to the latest.
 *     Acquire loads join the clock released with the store they read; relaxed loads
 *     remember it for a later acquire fence;
 *   - RMWs read the latest store (they are atomic); seq_cst loads read the latest,
 *     seq_cst stores go at the end of mo, seq_cst fences are acquire+release fences
 *     that also join a global clock (conservative, as loom: some seq_cst outcomes of
 *     C11 are not produced, none forbidden is);
 *   - a value written outside the model (a plain store to an atomic location, the
 *     allocator's or the library's own accesses) is found at the next modelled access
 *     (memory differs from the newest store) and becomes a store every thread has seen;
 *   - not modelled: load buffering (loads execute in program order, so an outcome
 *     that needs a load to read a store later in program order of another thread that
 *     depends on nothing — LB — is not produced), out-of-thin-air values, mixed-size
 *     accesses to one location (a location is its address), consume (treated as
 *     acquire).
 *
 * Choices: a load with n eligible stores asks the chooser for k in [0, n): k = 0 is the
 * latest store, k the k-th older one.  A store with n eligible places asks for k: 0 is
 * the end of mo.  So an all-zero input runs sequentially consistent.
 *
 * Not thread-safe: one model per engine, used from the engine's thread only. */
#ifndef OBQ_WMM_H
#define OBQ_WMM_H

#include <stddef.h>
#include <stdint.h>

#define WMM_MAXT 8      /* threads the model tracks (virtual threads + grace-period + setup) */
#define WMM_HIST 8      /* stores kept per location (older ones can no longer be read) */
#define WMM_LOCS 1024   /* locations per run (more: modelled as sequentially consistent) */
#define WMM_SHADOW 4096 /* plain-access shadow granules per run (more: not race-checked) */
#define WMM_SYNCS 256   /* sync objects per run (more: their synchronisation is lost) */
#define WMM_CTORS 4096  /* constructor stores remembered per run (more: initial state) */

/* Memory orders: the values of __ATOMIC_RELAXED ... __ATOMIC_SEQ_CST. */
enum wmm_order {
	WMM_RELAXED = 0,
	WMM_CONSUME = 1, /* treated as acquire */
	WMM_ACQUIRE = 2,
	WMM_RELEASE = 3,
	WMM_ACQ_REL = 4,
	WMM_SEQ_CST = 5,
};

enum wmm_choice_kind {
	WMM_CHOOSE_READ = 0,  /* which store a load reads: 0 latest */
	WMM_CHOOSE_PLACE = 1, /* where in mo a store goes: 0 the end */
};

/* Returns a choice in [0, n) (n >= 2). */
typedef unsigned (*wmm_choose_fn)(void *ctx, enum wmm_choice_kind kind, unsigned n);

/* A data race between two accesses of which at least one is plain. */
struct wmm_race {
	const void *addr;       /* the granule's address */
	unsigned tid, other;    /* this access's thread, the other's */
	int write, other_write; /* 1: a write */
	const void *site, *other_site; /* code addresses given to wmm_plain (may be NULL) */
};

struct wmm_stats {
	unsigned long loads, stale_loads;     /* modelled loads; those that read an older store */
	unsigned long stores, placed_early;   /* modelled stores; those not placed at the end */
	unsigned long rmws, fences;
	unsigned long locs_overflow;          /* accesses to locations past WMM_LOCS */
	unsigned long external;               /* values found written outside the model */
	unsigned long ctor_stores;            /* constructor stores recorded (wmm_ctor_store) */
};

struct wmm;

/* A model for nthreads threads (<= WMM_MAXT); NULL if out of memory or too many. */
struct wmm *wmm_new(unsigned nthreads);
void wmm_free(struct wmm *m);
/* Forget every location and clock: the start of a run.  O(1). */
void wmm_reset(struct wmm *m);
void wmm_set_chooser(struct wmm *m, wmm_choose_fn fn, void *ctx);

/* An atomic load by thread tid of the location at addr, whose memory holds `mem` now
 * (the latest store: used as the initial store of a location seen for the first time).
 * Returns the value read; *stale (if not NULL) gets how many newer stores it skipped. */
uint64_t wmm_load(struct wmm *m, unsigned tid, const void *addr, uint64_t mem,
		  enum wmm_order order, unsigned *stale);
/* An atomic store of val; mem is what memory holds before it.  Returns 1 if the store
 * is the newest in mo (the caller writes memory), 0 if it was placed before a newer
 * store (memory keeps the newer value). */
int wmm_store(struct wmm *m, unsigned tid, const void *addr, uint64_t mem, uint64_t val,
	      enum wmm_order order);
/* A read-modify-write that read `old` (the latest: what memory held) and — if wrote —
 * stored val.  A failed compare-exchange is wrote = 0 with its failure order. */
void wmm_rmw(struct wmm *m, unsigned tid, const void *addr, uint64_t old, uint64_t val,
	     int wrote, enum wmm_order order);
void wmm_fence(struct wmm *m, unsigned tid, enum wmm_order order);

/* A constructor's store of val at addr by thread tid (a slab made during the run): until
 * then memory held `pre`, an indeterminate value (the caller's pattern).  The location
 * is created lazily, at its first modelled access: if memory still holds val then, its
 * modification order is [pre (initial), val (tid's relaxed store)], so a thread that
 * does not happen after the constructor may still read pre — what a reader sees on a
 * real machine when an object reached it through a publication without release.
 * Ignored if the location already exists in this run. */
void wmm_ctor_store(struct wmm *m, unsigned tid, const void *addr, uint64_t pre, uint64_t val);

/* Thread `to` now happens after everything `from` did so far (a spawn, a join, a
 * lock handed over outside the model). */
void wmm_sync(struct wmm *m, unsigned from, unsigned to);
/* Full barrier across threads: thread tid happens after every thread's past, and every
 * thread after tid's present (a grace period's end: synchronize_rcu orders everything). */
void wmm_barrier_all(struct wmm *m, unsigned tid);

/* Synchronisation the model cannot see in the accesses (an allocator handing an object
 * from its freeing thread to its next owner, TSan annotations): wmm_release_at joins
 * the thread's clock into a sync object keyed by addr, wmm_acquire_at joins it back. */
void wmm_release_at(struct wmm *m, unsigned tid, const void *addr);
void wmm_acquire_at(struct wmm *m, unsigned tid, const void *addr);

/* A plain access of size bytes (checked per 8-byte granule).  Returns 1 and fills *race
 * if it races with an earlier access not ordered by happens-before; atomic = 1 for the
 * accesses the model also sees through wmm_load/store/rmw (races need a plain side). */
int wmm_access(struct wmm *m, unsigned tid, const void *addr, size_t size, int write,
	       int atomic, const void *site, struct wmm_race *race);

void wmm_get_stats(const struct wmm *m, struct wmm_stats *out);
/* Inside a chooser: the address of the location the choice is for; for a load's
 * choice, whether choice k would read a value other than the latest's (0 for a store's
 * choice), and the value choice k would read (0 for a store's choice). */
const void *wmm_choice_addr(const struct wmm *m);
int wmm_choice_differs(const struct wmm *m, unsigned k);
uint64_t wmm_choice_value(const struct wmm *m, unsigned k);

#endif /* OBQ_WMM_H */
