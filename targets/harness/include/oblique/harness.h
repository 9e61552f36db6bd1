/* oblique/harness.h — write a fuzz target for a type-stable protocol in one file.
 *
 * A target is a table of operations over some per-run state.  The harness decodes
 * each fuzz input into a program — 1..4 virtual threads, each with a list of
 * operations and their argument bytes — and runs it:
 *
 *  - deterministic mode (libFuzzer, AFL++, replay, obq-trace): the virtual threads are
 *    coroutines on one OS thread; every sanctioned primitive of oblique (RCU read
 *    lock/unlock, synchronize, call, barrier, alloc, free, oblique lock/trylock, peek,
 *    store, ref get/put/set, seqcount reads) is a scheduling point where the input
 *    (under a policy: raw tape, PCT, bounded preemptions) picks who runs next, or
 *    makes the sim RCU engine take a step (start / end a grace period, run a
 *    callback — so a slab can go back at the worst moment).  Same bytes, same run.
 *    Only sequentially consistent interleavings are explored: memory-ordering bugs
 *    are stress mode's (and TSan's) job.
 *  - stress mode (<target>-stress): the same operation bodies on real pthreads over
 *    the builtin RCU, with seeded timing perturbations between operations and at
 *    obq_h_point().
 *
 * STALE POINTERS ARE THE POINT.  Operations name objects by handle (an index into
 * the target's state), but a thread keeps what it loaded in its registers
 * (t->reg[], t->val[]) across operations and scheduling points, exactly as real code
 * keeps a pointer across a preemption.  Nothing filters out an operation on an object
 * freed meanwhile: the checker and the target's oracles judge it.
 *
 * Worked example (a complete target; docs/harness.md explains each line):
 *
 *	#include <oblique/oblique.h>
 *	#include <oblique/harness.h>
 *
 *	struct obj { obq_refcount_t ref; obq_spinlock_t lock; unsigned long key; };
 *	struct st { obq_h_cache_t *c; struct obj *slot[4]; unsigned long next; }; // slots: __atomic only
 *
 *	static void ctor(void *p) { struct obj *o = p; obq_ref_init(&o->ref);
 *		obq_spin_lock_init(&o->lock); o->key = 0; }
 *
 *	static void setup(obq_h_t *t) {
 *		struct st *s = t->state;
 *		s->c = OBQ_H_CACHE_SETUP(t, "obj", struct obj, OBQ_TYPESAFE_BY_RCU, ctor,
 *				OBQ_H_GUARD_FIELD(OBQ_GUARD_REFCOUNT, struct obj, ref),
 *				OBQ_H_GUARD_FIELD(OBQ_GUARD_KEY, struct obj, key));
 *	}
 *	static void op_insert(obq_h_t *t, const uint8_t *a) {      // insert <slot>
 *		struct st *s = t->state; unsigned i = a[0] % 4;
 *		if (obq_rcu_dereference(s->slot[i])) return;        // occupied
 *		struct obj *o = obq_h_alloc(t, s->c);
 *		OBQ_STORE(o, key, (unsigned long)i << 32 | ++s->next);  // key before...
 *		obq_ref_set_release(&o->ref, 1);                   // ...the ref goes non-zero
 *		obq_rcu_assign_pointer(s->slot[i], o);
 *	}
 *	static void op_remove(obq_h_t *t, const uint8_t *a) {      // remove <slot>
 *		struct st *s = t->state; unsigned i = a[0] % 4;
 *		struct obj *o = __atomic_exchange_n(&s->slot[i], NULL, __ATOMIC_ACQ_REL);
 *		if (o && obq_ref_put(&o->ref)) obq_h_free(t, s->c, o);
 *	}
 *	static void op_lookup(obq_h_t *t, const uint8_t *a) {      // lookup <slot>
 *		struct st *s = t->state; unsigned i = a[0] % 4;
 *		obq_rcu_read_lock();
 *		struct obj *o = obq_rcu_dereference(s->slot[i]);
 *		unsigned long k = o ? OBQ_PEEK(o, key) : 0;        // may be stale: legal
 *		int pinned = o && obq_ref_get_not_zero(&o->ref);
 *		obq_rcu_read_unlock();
 *		if (!obq_h_pin(t, pinned)) return;                  // outcome -> hash, event
 *		if (OBQ_PEEK(o, key) != k) obq_h_event(t, OBQ_EV_RECYCLED);
 *		else obq_h_check(t, (k >> 32) == i, "key %lx in slot %u", k, i);
 *		if (obq_ref_put(&o->ref)) obq_h_free(t, s->c, o);
 *	}
 *	static void teardown(obq_h_t *t) {
 *		struct st *s = t->state;
 *		for (unsigned i = 0; i < 4; i++) { uint8_t a = i; op_remove(t, &a); }
 *	}
 *	static const struct obq_h_op ops[] = {
 *		{ "insert", 1, op_insert }, { "remove", 1, op_remove },
 *		{ "lookup", 1, op_lookup },
 *	};
 *	OBQ_H_TARGET_OPS("example", ops, struct st, .setup = setup, .teardown = teardown)
 *
 * Build it with CMake — find_package(oblique) and
 *	oblique_add_fuzz_target(NAME example SOURCES example.c CORPUS seeds)
 * make the standalone runner `example`, `example-libfuzzer` (clang) and
 * `example-stress` (docs/sdk.md) — or with pkg-config:
 *	cc example.c $(pkg-config --cflags --libs oblique-harness)         (runner)
 *	cc example.c $(pkg-config --cflags --libs oblique-harness-stress)  (stress)
 *
 * Rules for target authors:
 *  - Operation bodies run in a virtual thread.  Use the access layer
 *    (oblique/access.h) and the RCU API for every touch of an object another thread
 *    may free; plain accesses are fine for objects the thread owns and for
 *    t->state fields that only change in setup/teardown.  Shared mutable slots in the
 *    state must be atomics (stress mode runs the same bodies on real threads).
 *  - An operation must end every read-side section and release every lock it takes
 *    before it returns, unless the protocol under test says otherwise (the harness
 *    reports an operation that returns inside a read-side section).
 *  - Retry loops need no bound of their own: the harness's step budget turns a loop
 *    that never succeeds into a "livelock" report.  In stress mode, call
 *    obq_h_retry(t) in the loop so the budget applies there too.
 *  - Never put addresses into obq_h_observe(): the determinism self-check compares
 *    hashes across runs.
 */
#ifndef OBLIQUE_HARNESS_H
#define OBLIQUE_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <oblique/oblique.h>

OBQ_BEGIN_DECLS

/* ---------------------------------------------------------------------------------
 * Limits of a decoded program. */
#define OBQ_H_MAX_THREADS   4   /* virtual threads per program */
#define OBQ_H_MAX_OPS       48  /* operations per program, all threads together */
#define OBQ_H_MAX_THREAD_OPS 16 /* operations per thread */
#define OBQ_H_MAX_ARGS      4   /* argument bytes per operation */
#define OBQ_H_MAX_OPCODES   64  /* operations a target may declare */
#define OBQ_H_NREGS         8   /* pointer and value registers per virtual thread */
#define OBQ_H_MAIN          0xffu /* tid of the setup / teardown / final context */

/* ---------------------------------------------------------------------------------
 * The view of a virtual thread an operation body gets. */
struct obq_h_run;                    /* one execution of one program (opaque) */
struct obq_h_cache;                  /* a cache behind the allocator adapter (opaque) */
typedef struct obq_h_cache obq_h_cache_t;

typedef struct obq_h_thread {
	struct obq_h_run *run;       /* the run this thread belongs to */
	void *state;                 /* the target's per-run state: state_size bytes, zeroed before setup */
	unsigned tid;                /* 0..threads-1, or OBQ_H_MAIN in setup/teardown/final */
	unsigned nthreads;           /* virtual threads in this program (1..OBQ_H_MAX_THREADS) */
	void *reg[OBQ_H_NREGS];      /* pointer registers: kept across operations and scheduling points; zero at start */
	uint64_t val[OBQ_H_NREGS];   /* value registers (snapshots, tokens, keys): same lifetime as reg */
	int type_stable;             /* 1 if the allocator adapter keeps freed objects type-stable */
	int stress;                  /* 1 in stress mode (real threads), 0 in deterministic mode */
} obq_h_t;

/* An operation body.  `arg` holds the operation's nargs argument bytes (the decoder
 * supplies zeros when the input runs out); reduce them modulo your handle counts. */
typedef void (*obq_h_op_fn)(obq_h_t *t, const uint8_t *arg);

struct obq_h_op {
	const char *name;            /* one word [a-z0-9_]: used by traces, dictionaries and reports */
	unsigned nargs;              /* argument bytes, 0..OBQ_H_MAX_ARGS */
	obq_h_op_fn fn;              /* the body */
};

struct obq_h_target {
	const char *name;            /* target name [a-z0-9_]: corpus/<name>/, traces' "target" line */
	const struct obq_h_op *ops;  /* operations; the opcode byte selects ops[byte % nops] */
	unsigned nops;               /* 1..OBQ_H_MAX_OPCODES */
	size_t state_size;           /* bytes of per-run state (t->state), zeroed before setup */
	void (*setup)(obq_h_t *t);   /* optional: create caches, publish initial objects (tid OBQ_H_MAIN) */
	void (*final)(obq_h_t *t);   /* optional: end-of-run oracles, after all threads finished */
	void (*teardown)(obq_h_t *t);/* optional: free what is left; caches are force-destroyed after */
	unsigned max_steps;          /* scheduling-point budget per run (0: 20000); exceeding it is a livelock */
};

/* The number of operations of an ops[] array, for .nops. */
#define OBQ_H_NOPS(ops) ((unsigned)(sizeof(ops) / sizeof((ops)[0])))

/* The usual trailer of a target file: the target `name` (a string) with the
 * operations array `ops`, per-run state of type `state`, and any further fields
 * (.setup = setup, .teardown = teardown, ...), then OBQ_H_TARGET:
 *	OBQ_H_TARGET_OPS("example", ops, struct st, .setup = setup, .teardown = teardown)
 */
#define OBQ_H_TARGET_OPS(name_, ops_, state_, ...)                                     \
	static const struct obq_h_target obq_h_target_def_ = {                        \
		.name = (name_), .ops = (ops_), .nops = OBQ_H_NOPS(ops_),             \
		.state_size = sizeof(state_), __VA_ARGS__};                          \
	OBQ_H_TARGET(obq_h_target_def_)

/* Define the engine entry points (LLVMFuzzerTestOneInput, LLVMFuzzerInitialize) and
 * the symbol the standalone / AFL++ / stress mains run.  One per target file. */
#define OBQ_H_TARGET(tgt)                                                            \
	const struct obq_h_target *const obq_h_target_main = &(tgt);                  \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);                  \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                   \
	{ return obq_h_fuzz_one(&(tgt), data, size); }                                \
	int LLVMFuzzerInitialize(int *argc, char ***argv);                             \
	int LLVMFuzzerInitialize(int *argc, char ***argv)                              \
	{ return obq_h_fuzz_init(&(tgt), argc, argv); }

int obq_h_fuzz_one(const struct obq_h_target *tgt, const uint8_t *data, size_t size);
int obq_h_fuzz_init(const struct obq_h_target *tgt, int *argc, char ***argv);
/* The standalone runner / AFL++ / stress main (provided by the harness library). */
int obq_h_main(const struct obq_h_target *tgt, int argc, char **argv);

/* ---------------------------------------------------------------------------------
 * Oracles, observations and events. */

/* The harness's own verdicts: error kinds of the range oblique/error.h reserves for
 * tools, reported through the error hook like the library's rules (a run registers
 * their names with obq_error_register_kind before it starts).  Their rule names are
 * stable: corpus RULE files and --expect-report= match on them. */
/* "oracle": a target's own invariant failed (obq_h_fail, obq_h_check) */
#define OBQ_H_ERR_ORACLE   ((enum obq_error_kind)(OBQ_ERR_TOOL_FIRST + 0))
/* "deadlock": no runnable virtual thread and no grace-period step possible */
#define OBQ_H_ERR_DEADLOCK ((enum obq_error_kind)(OBQ_ERR_TOOL_FIRST + 1))
/* "livelock": the step budget (deterministic) or the retry budget (stress) spent */
#define OBQ_H_ERR_LIVELOCK ((enum obq_error_kind)(OBQ_ERR_TOOL_FIRST + 2))
/* A data race between two accesses, one of them plain, that no happens-before orders:
 * the weak-memory build's "data-race" report (docs/weak-memory.md). */
#define OBQ_H_ERR_DATA_RACE ((enum obq_error_kind)(OBQ_ERR_TOOL_FIRST + 3))

/* A target invariant failed: an "oracle" report (OBQ_H_ERR_ORACLE) naming the thread,
 * its current operation and the message.  In a virtual thread it does not return
 * (the run stops; fuzzing engines see a crash).  In setup/final/teardown it returns. */
void obq_h_fail(obq_h_t *t, const char *fmt, ...) OBQ_PRINTF(2, 3);
#define obq_h_check(t, cond, ...) \
	do { if (OBQ_UNLIKELY(!(cond))) obq_h_fail((t), "check failed: " #cond ": " __VA_ARGS__); } while (0)

/* Fold a value read (never an address) into the run's determinism hash and trace. */
void obq_h_observe(obq_h_t *t, uint64_t value);

/* Interleaving events: counted per run, fed to the fuzzer as extra coverage
 * (bucketed counts), shown by replay and summed by stress mode. */
enum obq_h_event {
	OBQ_EV_GP_UNDER_READER = 0,  /* harness: a grace period ended while a virtual thread was in a read-side section */
	OBQ_EV_SLAB_RELEASED,        /* harness: a slab went back (a callback step freed cache memory) */
	OBQ_EV_SLAB_RELEASED_UNDER_READER, /* harness: ... while some virtual thread was in a read-side section */
	OBQ_EV_CALLBACK,             /* harness: an obq_rcu_call callback ran */
	OBQ_EV_LOCK_WAIT,            /* harness: a thread parked on a held lock */
	OBQ_EV_GP_WAIT,              /* harness: a thread parked waiting for a grace period */
	OBQ_EV_PREEMPT,              /* harness: a runnable thread was switched away from */
	OBQ_EV_PIN_FAILED,           /* target: inc-not-zero / trylock / seqcount pin failed */
	OBQ_EV_RECYCLED,             /* target: a reader met a recycled object (identity check failed after the pin) */
	OBQ_EV_RETRY,                /* target: re-validation failed and the reader retried */
	OBQ_EV_STALE_READ,           /* target: a value read without a pin turned out stale */
	OBQ_EV_USER0, OBQ_EV_USER1, OBQ_EV_USER2, OBQ_EV_USER3, /* target-defined */
	OBQ_EV_COUNT
};
void obq_h_event(obq_h_t *t, enum obq_h_event ev);
const char *obq_h_event_name(enum obq_h_event ev);

/* Record a pin's outcome (hash + OBQ_EV_PIN_FAILED when !ok); returns ok. */
int obq_h_pin(obq_h_t *t, int ok);

/* A retry loop iteration: OBQ_EV_RETRY, a scheduling point, and the step budget
 * (livelock) in both modes. */
void obq_h_retry(obq_h_t *t);

/* Bad calls on purpose (an allocator API target): the next report of `kind` made by
 * this thread is expected — recorded, not a failure — until obq_h_expect_end(), which
 * returns how many such reports came and clears the expectation. */
void obq_h_expect(obq_h_t *t, enum obq_error_kind kind);
unsigned obq_h_expect_end(obq_h_t *t);

/* An explicit scheduling point (OBQ_SP_USER) for code between primitives; a seeded
 * perturbation in stress mode. */
void obq_h_point(obq_h_t *t);

/* ---------------------------------------------------------------------------------
 * The allocator behind the targets.  Targets allocate through these wrappers so
 * that another type-stable allocator — or the malloc control — can sit behind every
 * target.  Caches are destroyed (live objects dropped) after teardown. */
obq_h_cache_t *obq_h_cache_create(obq_h_t *t, const char *name, size_t size, size_t align,
				  unsigned flags, obq_ctor_fn ctor);
void *obq_h_alloc(obq_h_t *t, obq_h_cache_t *c);      /* NULL only if out of memory */
void obq_h_free(obq_h_t *t, obq_h_cache_t *c, void *obj);
int obq_h_cache_guard(obq_h_cache_t *c, enum obq_guard_kind kind, size_t offset, size_t size);
/* The incarnation of the memory at obj, live or freed, as c's adapter counts it: a
 * number that changes each time that memory is handed out again (oblique's slot
 * generation); 0 when the adapter does not say.  No scheduling point.  For guidance
 * only — an event for a reader that stood on an object across its free and reuse
 * (targets/nulls_lookup.c) — never for the protocol's own decisions, which a real
 * reader could not make. */
uint64_t obq_h_incarnation(obq_h_cache_t *c, const void *obj);
/* The adapter's shrink of c (0 when it has none): what c caches beyond its live objects
 * goes back, without waiting. */
int obq_h_cache_shrink(obq_h_cache_t *c);
/* Destroy c before the run ends (a target that tests destroy / create cycles): the
 * adapter's destroy (live objects dropped), and the handle is gone.  Deterministic
 * mode, or stress mode before the workers start: the run's cache list has no lock. */
void obq_h_cache_destroy(obq_h_t *t, obq_h_cache_t *c);
#define OBQ_H_GUARD(c, kind, type, field) \
	obq_h_cache_guard((c), (kind), offsetof(type, field), sizeof(((type *)0)->field))

/* setup's usual first step in one call: create a cache of `type` objects (natural
 * alignment) and declare its guard fields, each an OBQ_H_GUARD_FIELD:
 *	s->c = OBQ_H_CACHE_SETUP(t, "obj", struct obj, OBQ_TYPESAFE_BY_RCU, ctor,
 *				 OBQ_H_GUARD_FIELD(OBQ_GUARD_REFCOUNT, struct obj, ref),
 *				 OBQ_H_GUARD_FIELD(OBQ_GUARD_KEY, struct obj, key));
 * A failed create is an "oracle" report ("cache create failed") and NULL: setup
 * returns.  A guard the adapter refuses is an "oracle" report too. */
struct obq_h_guard {
	enum obq_guard_kind kind;
	size_t offset;               /* of the field in the object */
	size_t size;                 /* of the field */
};
#define OBQ_H_GUARD_FIELD(kind, type, field) \
	{ (kind), offsetof(type, field), sizeof(((type *)0)->field) }
obq_h_cache_t *obq_h_cache_setup(obq_h_t *t, const char *name, size_t size, unsigned flags,
				 obq_ctor_fn ctor, const struct obq_h_guard *guards, size_t nguards);
#define OBQ_H_CACHE_SETUP(t, name, type, flags, ctor, ...)                              \
	obq_h_cache_setup((t), (name), sizeof(type), (flags), (ctor),                  \
			  (const struct obq_h_guard[]){__VA_ARGS__},                   \
			  sizeof((const struct obq_h_guard[]){__VA_ARGS__}) /          \
				  sizeof(struct obq_h_guard))
/* The oblique cache behind c (NULL under another adapter): for targets that test
 * oblique's own API. */
obq_cache_t *obq_h_cache_oblique(obq_h_cache_t *c);

/* An allocator adapter.  oblique's cache is the default ("oblique"); "malloc" and
 * "leaky" are the controls: "malloc" is not type-stable and says so (every free makes
 * the memory another thing and is notified, so every protocol target must report the
 * stale accesses its schedules produce); "leaky" claims to be type-stable and is not
 * (it keeps ten freed objects per cache with a free-list link written into them and
 * free()s the rest, and notifies nothing), so the allocator contract checker must
 * find it on its own.  Select with OBQ_ADAPTER=<name> or the runner's --adapter=<name>.
 *
 * The allocator contract (docs/checker.md §9) is checked for every adapter from what
 * the harness sees — the alloc/free sequence, ctor calls, the access layer's stores,
 * the notifications below: a hand-out of an object already handed out, a ctor run
 * twice in a slot's lifetime, bytes of a freed typesafe object changed by anything but
 * the protocol's sanctioned stores, memory notified released too early, and (with
 * `incarnation`) a hand-out without a newer incarnation are reports of the rule
 * family "allocator contract" (rules alloc-*), which blame the allocator. */
struct obq_h_allocator {
	const char *name;            /* selection name */
	int type_stable;             /* 1: freed objects stay objects of their cache until their slab passes a GP */
	int sched_points;            /* 1: alloc/free already call OBQ_SCHED_POINT (oblique); 0: the harness adds them */
	void *(*create)(const char *name, size_t size, size_t align, unsigned flags, obq_ctor_fn ctor);
	void *(*alloc)(void *cache);               /* one object (ctor-initialised when created fresh) */
	void (*free)(void *cache, void *obj);       /* reusable at once if type_stable */
	void (*destroy)(void *cache);              /* drop everything, live objects included */
	int (*guard)(void *cache, enum obq_guard_kind kind, size_t off, size_t size); /* may be NULL */
	/* May be NULL.  Give back what the cache holds beyond its live objects (per-thread
	 * caches, empty slabs — a type-stable allocator's through a grace period) without
	 * waiting; the harness calls it at the shrink points the input chooses. */
	int (*shrink)(void *cache);
	/* May be NULL: the incarnation of obj (a slot generation, a sequence number) if the
	 * allocator keeps one; each hand-out after a free must return a larger value. */
	uint64_t (*incarnation)(void *cache, const void *obj);
};
extern const struct obq_h_allocator obq_h_allocator_oblique;
extern const struct obq_h_allocator obq_h_allocator_malloc;
extern const struct obq_h_allocator obq_h_allocator_leaky;
/* Make an adapter selectable by name (call before the first run, e.g. from a
 * constructor: OBQ_H_REGISTER_ALLOCATOR(my_adapter)). */
void obq_h_register_allocator(const struct obq_h_allocator *a);
#define OBQ_H_REGISTER_ALLOCATOR(a) \
	__attribute__((constructor)) static void obq_h_reg_##a(void) { obq_h_register_allocator(&(a)); }
/* Notifications from an adapter that is not oblique (oblique's checker needs none),
 * an extra signal beside what the harness sees by itself: the memory [mem, mem+bytes)
 * of the adapter's cache `cache` (its own handle, as create returned it) stopped being
 * objects of it — a slab went back after a grace period, or (not type-stable) an
 * object was freed.  In deterministic mode any sanctioned access into such memory is
 * then a "released-access" report naming the cache, who freed the object and whether
 * a grace period had passed; for a type-stable adapter, a release of memory that holds
 * a live object, or before a grace period begun after the last free in it has ended,
 * is itself an "alloc-early-release" report. */
void obq_h_notify_cache_released(void *cache, const void *mem, size_t bytes);
/* ... and [mem, mem+bytes) holds objects of `cache` again (a new slab, a new block). */
void obq_h_notify_cache_reused(void *cache, const void *mem, size_t bytes);
/* The same without the cache (reports then say "cache: (none)"); kept for adapters
 * written before the cache argument. */
void obq_h_notify_released(const void *mem, size_t bytes);
void obq_h_notify_reused(const void *mem, size_t bytes);
/* An adapter's own finding about its allocator (a broken invariant it checks): a
 * report of the "allocator contract" family on `cache` (the adapter's handle, may be
 * NULL).  kind is one of the alloc-* rules (OBQ_ERR_ALLOC_DOUBLE_HANDOUT ...
 * OBQ_ERR_ALLOC_EARLY_GRACE_PERIOD), or OBQ_ERR_ALLOC_CONTRACT ("alloc-contract") for
 * anything else; any other kind is reported as alloc-contract.  Returns when the error
 * hook returns (deterministic mode: the run stops, the input is a crash). */
void obq_h_report_allocator(void *cache, enum obq_error_kind kind, const char *fmt, ...)
	OBQ_PRINTF(3, 4);

OBQ_END_DECLS
#endif /* OBLIQUE_HARNESS_H */
