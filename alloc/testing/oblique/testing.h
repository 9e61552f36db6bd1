/* oblique/testing.h — what fuzzing and testing need from liboblique.
 *
 * Calls a fuzz harness, a deterministic scheduler and tests use to drive the library
 * and to put it back into the same state between runs.  They are part of liboblique
 * (every symbol below is defined in the library) but not of its programming interface
 * (oblique/oblique.h): a normal program needs none of them.  It lives with the library
 * (alloc/testing/, outside the programming interface's alloc/include/) and is installed
 * beside oblique/harness.h.  It sits at the core layer (docs/layers.md): it includes
 * no API header above oblique/thread.h, so each layer that defines its calls (rcu,
 * cache, access) can include it; include oblique/oblique.h for the rest of the API.
 *
 *   caches    per-cache small-slab geometry; destroy that drops live objects
 *   checker   empty the quarantine of released slabs
 *   regions   canonical order of the released-slab mappings between runs
 *   sim RCU   the stepping API of the deterministic RCU backend (sim variant only) */
#ifndef OBLIQUE_TESTING_H
#define OBLIQUE_TESTING_H

#include <stddef.h>
#include <oblique/common.h>
#include <oblique/thread.h>

/* As oblique/cache.h (an identical typedef may be repeated). */
typedef struct obq_cache obq_cache_t;

OBQ_BEGIN_DECLS

/* ------------------------------------------------------------------------------ */
/* Caches                                                                           */

/* Fuzzing geometry for one cache (call before its first alloc, else -EBUSY): at most
 * slab_objects objects per slab (0: unchanged), one object per thread magazine, no
 * depot and no kept empty slab — so the second free on a thread sends the first object
 * back to its slab, and a slab that empties goes back at once (a typesafe one through
 * a grace period).  Every cache keeps its own geometry: other caches, and witnesses
 * replayed against them, are unaffected.  -EINVAL: NULL cache or slab_objects above
 * 65535. */
int obq_cache_set_fuzz_geometry(obq_cache_t *c, unsigned slab_objects);

/* After obq_cache_set_fuzz_geometry, before the first alloc (else -EBUSY): keep up to
 * `slabs` empty slabs instead of none (a slab that empties beyond them goes back; a
 * shrink sends every empty one back).  -EINVAL: NULL cache or slabs above 16. */
int obq_cache_set_fuzz_keep_empty(obq_cache_t *c, unsigned slabs);

/* After obq_cache_set_fuzz_geometry, before the first alloc (else -EBUSY): thread
 * magazines of 2 * batch objects that spill `batch` objects at a time into a depot
 * keeping up to `depot` full magazines, instead of one-object magazines and no depot —
 * so frees on one thread fill the depot and another thread's refill empties it: the
 * depot paths under the fuzz geometry's small slabs.  -EINVAL: NULL cache, batch 0 or
 * above OBQ's largest depot magazine (63), depot above 16. */
int obq_cache_set_fuzz_magazines(obq_cache_t *c, unsigned batch, unsigned depot);

/* As obq_cache_destroy, but live objects are dropped silently: for harnesses that
 * reset all state between inputs. */
int obq_cache_destroy_force(obq_cache_t *c);

/* ------------------------------------------------------------------------------ */
/* Checker                                                                          */

/* Send every RELEASED slab the checker holds in quarantine back to the system now
 * (checked builds; a no-op otherwise).  For harnesses that reset state between runs. */
void obq_quarantine_flush(void);

/* ------------------------------------------------------------------------------ */
/* Resource failures                                                                */

/* Points where the system can refuse oblique a resource; tests make them fail on
 * demand to exercise the degraded paths (docs/allocator.md, "When resources run out"). */
enum obq_inject {
	OBQ_INJECT_THREAD_CREATE,   /* pthread_create of the RCU callback worker */
	OBQ_INJECT_THREAD_CONTEXT,  /* the allocation of an OS thread's own context */
	OBQ_INJECT_COUNT
};

/* The next n attempts at `what` fail as the system's refusal would (UINT_MAX: every
 * attempt until called again; 0: none).  Process-wide; any thread may call it. */
void obq_testing_inject_failures(enum obq_inject what, unsigned n);

/* ------------------------------------------------------------------------------ */
/* The allocator's hand-offs, for a tool that models memory                         */

/* A tool that tracks happens-before between threads (the harness's weak-memory mode)
 * cannot see the allocator's own synchronisation.  These say what it is: ctor_begin /
 * ctor_end around the constructor runs of a new slab (by the allocating thread, before
 * the allocation returns), constructed(obj, size) after each one (the object's bytes,
 * some written by the constructor — memset included, which no instrumentation of the
 * constructor reports), freed(obj) when a free is about to take effect,
 * allocated(obj) when an object has been handed out (a free happens before the next
 * alloc of the same object).  The constructor hooks are called in every build,
 * allocated and freed in checked builds.  NULL members are skipped; NULL uninstalls.
 * Install while no other thread uses the allocator. */
struct obq_testing_hooks {
	void (*ctor_begin)(void);
	void (*ctor_end)(void);
	void (*allocated)(const void *obj);
	void (*freed)(const void *obj);
	void (*constructed)(const void *obj, size_t size);
};
void obq_testing_set_hooks(const struct obq_testing_hooks *h);

/* For a tool that checks the allocator contract from outside (the harness, for every
 * allocator adapter; docs/checker.md §9), checked builds:
 *  - release(mem, bytes): a slab's memory [mem, mem+bytes) went back (after a grace
 *    period): what the tool knew of objects there is void — a new slab may take the
 *    address and run its ctors again;
 *  - describe(p, buf, len, &cache): the checker met an access-layer touch of p, an
 *    address in no oblique slab, that AddressSanitizer knows is freed
 *    heap (a released-access report): the tool writes what it knows of p into buf
 *    (who handed it out and freed it, whether a grace period had passed) and its cache
 *    name into *cache; returns 1 if it knows p, 0 if not.
 * NULL uninstalls.  Install while no other thread uses the allocator. */
/* The generation of the slot at p (checked builds: incremented by each alloc of it;
 * 0 if p is in no oblique slab, and in unchecked builds when nothing says). */
uint64_t obq_testing_slot_generation(const void *p);
void obq_testing_set_release_hook(void (*release)(const void *mem, size_t bytes));
/* handout(obj): an object was handed out (checked builds, after the checker's own
 * hand-out checks; the object is addressable) — for a caller that reaches the allocator
 * in a tail call and so cannot look at the result itself. */
void obq_testing_set_handout_hook(void (*handout)(const void *obj));
void obq_testing_set_describe_hook(int (*describe)(const void *p, char *buf, size_t len,
						   const char **cache));

/* ------------------------------------------------------------------------------ */
/* Determinism between runs                                                         */

/* Deterministic harnesses run many inputs in one process, and the same input must
 * take the same path whatever ran before it (AFL++ measures this as stability).  The
 * allocator keeps the mappings of released slabs for reuse and hands out the most
 * recently released first, so a run's slab addresses — and every branch that compares
 * them — would follow the order in which the previous run released its slabs.  This
 * sorts that cache by address (lowest handed out first).  Call it between runs, when
 * no other thread makes or releases slabs; it does nothing else. */
void obq_sched_canonical_regions(void);

/* Drop the magazine arrays that context t keeps for caches that no longer exist.  A
 * context keeps one until it next touches a cache with the same id (it holds no
 * object: destroy took every object back), so a harness that destroys every cache at
 * the end of a run and runs the next input on the same contexts would malloc and free
 * those arrays a run apart — and a fuzzer that compares a run's mallocs with its frees
 * (libFuzzer's leak detection) would then check for leaks after every run that touched
 * more caches than the one before.  Call it between runs, when t is current nowhere
 * and no cache is being destroyed; it changes nothing a run can see. */
void obq_testing_thread_trim(struct obq_thread *t);

/* ------------------------------------------------------------------------------ */
/* The sim RCU backend's stepping API (oblique/bits/rcu_sim.h has the model)        */

#if OBQ_RCU_BACKEND == OBQ_RCU_SIM

/* Drop all sim state: GP counters, requests, pending callbacks (not run), autostep
 * stays as set.  Registered contexts stay registered.  Call between fuzz inputs; the
 * caller guarantees that no context is inside a section or waiting. */
void obq_sim_reset(void);

enum obq_sim_step {
	OBQ_SIM_NOTHING = 0,    /* nothing could be done */
	OBQ_SIM_GP_STARTED,     /* a requested GP started: current readers now hold it */
	OBQ_SIM_GP_ENDED,       /* the current GP ended: its pre-existing readers had all left */
	OBQ_SIM_CALLBACK_RAN    /* one callback whose GP had ended ran */
};

/* 1 if obq_sim_step() would do something now.  A scheduler of virtual threads must
 * treat it as "something can still happen" when it looks for a deadlock. */
int obq_sim_can_step(void);

/* One step of the GP machine, the first that applies of: end the current GP if every
 * reader that was inside when it started has left; start a GP if one was requested
 * (by synchronize or call) and none is running; run ONE callback whose GP has ended
 * (callbacks run in the order they were queued). */
enum obq_sim_step obq_sim_step(void);

/* Completed GPs since the last reset (obq_rcu_gp_count() returns the same). */
unsigned long obq_sim_gp_seq(void);

/* 1 between OBQ_SIM_GP_STARTED and OBQ_SIM_GP_ENDED. */
int obq_sim_gp_in_progress(void);

/* Callbacks queued and not yet run. */
size_t obq_sim_callbacks_pending(void);

/* obq_sim_gp_seq() when t's current outermost section began (meaningful only while t
 * is inside a section).  A GP that ends with gp_seq > this value ended under the
 * reader; one whose start preceded the section could not have ended (invariant). */
unsigned long obq_sim_reader_start_seq(const struct obq_thread *t);

/* 1: the GP machine advances by itself at every RCU scheduling point (before and after
 * each read lock/unlock, call, synchronize, barrier), up to 1000 steps each time — for
 * simple unit tests.  0 (default): only obq_sim_step() advances it. */
void obq_sim_set_autostep(int on);

#endif /* OBQ_RCU_BACKEND == OBQ_RCU_SIM */

OBQ_END_DECLS
#endif /* OBLIQUE_TESTING_H */
