/* hint.h — declarations shared by the harness runtime's files (not public). */
#ifndef OBQ_H_HINT_H
#define OBQ_H_HINT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <oblique/harness.h>

#include "program.h"

/* ---- PRNG (splitmix64: tiny, good enough, seedable from 16 bits) ---- */
static inline uint64_t prng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* ---- determinism hash: one multiply-xorshift round per 64-bit word (order-sensitive;
 * every scheduling step folds one word in, so it must cost a few instructions) ---- */
static inline uint64_t hmix(uint64_t h, uint64_t v)
{
	h = (h ^ v) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

/* ---- caches behind the allocator adapter (adapter.c) ---- */
struct obq_h_cache {
	const struct obq_h_allocator *a; /* adapter */
	void *impl;                      /* the adapter's cache */
	size_t size;                     /* object size */
	unsigned flags;                  /* OBQ_* flags it was created with */
	obq_ctor_fn ctor;                /* the target's ctor (the adapter gets a checked wrapper) */
	int tramp;                       /* contract.c's ctor wrapper in use, or -1 */
	char name[48];                   /* cache name */
	unsigned frees;                  /* frees through the harness (shrink points) */
	struct obq_h_cache *next;        /* run's cache list */
};
/* What adapter.c calls in the mode the binary runs in (det.c or stress.c defines them):
 * a scheduling point for an adapter without its own, a release notification, the
 * run's cache list, and at each free (stress mode keeps slabs going back there). */
void h_adapter_point(obq_h_t *t, enum obq_sp_kind kind, const void *obj);
void h_note_released(void);
/* 1 while obq_h_free runs a foreign adapter's free on this thread (thread-local:
 * stress workers free concurrently; only deterministic mode reads it). */
extern _Thread_local int h_in_adapter_free;
struct obq_h_cache **h_run_caches(void);
void h_free_traffic(obq_h_t *t, struct obq_h_cache *c);
/* A cache was just created (before its first alloc): the mode may set its geometry. */
void h_cache_made(obq_h_t *t, struct obq_h_cache *c);
/* The weak-memory mode's view of the allocator (weak.c; no-ops in other builds): what
 * an allocator does inside alloc and free is its own business, synchronised by means
 * the model cannot see (enter / leave: not recorded) — except oblique's constructors,
 * whose writes it reports (wmm_rt.h) — and a free happens before the next alloc of the
 * same object (free: release on obj; leave(obj): acquire on it).  print_totals: the
 * model's counts summed over the runs so far, one line (the runner's summary). */
#if OBQ_H_WEAK
void h_weak_enter_allocator(void);
void h_weak_leave_allocator(const void *acquire_obj);
void h_weak_free(const void *obj);
void h_weak_print_totals(FILE *f, const char *indent);
#else
static inline void h_weak_enter_allocator(void) {}
static inline void h_weak_leave_allocator(const void *obj) { (void)obj; }
static inline void h_weak_free(const void *obj) { (void)obj; }
static inline void h_weak_print_totals(FILE *f, const char *indent) { (void)f; (void)indent; }
#endif
const struct obq_h_allocator *h_adapter_select(const char *name); /* NULL: unknown */
/* The adapter OBQ_ADAPTER names (oblique when unset); an unknown name exits 2. */
const struct obq_h_allocator *h_adapter_from_env(void);
const struct obq_h_allocator *h_adapter_current(void);
void h_adapter_set(const struct obq_h_allocator *a);
/* The user's choice (how: "--adapter", for messages): a trace naming another adapter
 * is refused. */
void h_adapter_choose(const struct obq_h_allocator *a, const char *how);
/* "--adapter=NAME " for a foreign current adapter, "" for oblique: for every printed
 * reproduce / replay command line. */
const char *h_adapter_arg(void);
/* Allocations made through obq_h_alloc since the start (the runner's summary: inputs
 * that allocated nothing on a foreign adapter tested nothing on it). */
extern unsigned long h_adapter_allocs;
void h_adapter_list(FILE *f);
/* Destroy every cache of the run (force). */
void h_caches_destroy_all(struct obq_h_cache **list);

/* ---- the allocator contract (contract.c; deterministic mode only) ---- */
extern int h_contract_on;
void h_contract_enable(void);                 /* det.c, once */
void h_contract_run_begin(void);              /* each run: forget the last run's objects */
void h_contract_run_reset_threads(void);
/* A hand-out / a free about to happen (site: the target's call). */
void h_contract_alloc(obq_h_t *t, struct obq_h_cache *c, void *p, const void *site);
/* The same for an alloc made in a tail call (oblique's): checked when the checker's
 * hand-out hook names the object. */
void h_contract_expect_handout(obq_h_t *t, struct obq_h_cache *c, const void *site);
void h_contract_free(obq_h_t *t, struct obq_h_cache *c, void *p, const void *site);
/* A sanctioned access of kind at addr (det.c's scheduling point): stores are excluded
 * from the freed-bytes check. */
void h_contract_access(enum obq_sp_kind kind, const void *addr);
/* Before an oracle blames the protocol: 1 if a freed object's bytes changed (reported). */
int h_contract_sweep(void);
/* Memory went back: an adapter's notification (c: its cache, may be NULL). */
void h_contract_released(const struct obq_h_cache *c, const void *mem, size_t bytes);
/* The ctor to give the adapter for cache c (c->ctor checked), and its release. */
obq_ctor_fn h_contract_wrap_ctor(struct obq_h_cache *c);
/* c is destroyed: forget its objects. */
void h_contract_cache_gone(const struct obq_h_cache *c);
void h_contract_unwrap_ctor(struct obq_h_cache *c);
/* The sim engine: an outermost read-side section of T<tid> begins; a step was taken
 * (what: enum obq_sim_step) with nesting[i] the section depth of T<i> after it. */
void h_contract_section_enter(unsigned tid);
void h_contract_gp_step(int what, const unsigned *nesting, unsigned nthreads);
/* The run's cache whose adapter cache is impl (NULL if none). */
struct obq_h_cache *h_contract_cache_of(const void *impl);
/* What the harness knows of p (cache, hand-out, free): 1 and buf filled if known. */
int h_contract_describe(const void *p, char *buf, size_t len, const char **cache);
/* Is p the start of an object this run handed out and then freed (not handed out
 * again)?  weak.c's guidance: a stale read that returns such a pointer. */
int h_contract_freed(const void *p);

/* ---- released ranges (deterministic mode; adapter notifications) ---- */
void h_released_clear(void);
/* 1 if p lies in memory an adapter said is no longer objects of its cache. */
int h_released_contains(const void *p);
extern size_t h_released_count;
/* 1 (default): notifications are recorded; stress mode, which never reads them and
 * notifies from several threads, sets 0. */
extern int h_released_tracking;

/* ---- the mode the binary runs in ----
 * The harness API (obq_h_fail ... obq_h_retry, api.c) is written once; what differs
 * between the deterministic runtime (det.c) and stress mode (stress.c) is this table,
 * which each of them defines as h_mode. */
struct h_expect {
	enum obq_error_kind kind;           /* obq_h_expect: reports of this kind are expected */
	unsigned hits;                      /* expected reports seen */
};
struct h_mode {
	/* obq_h_fail's report of the formatted msg; in deterministic mode it does not
	 * return for a virtual thread (the operation is left, the run stops). */
	void (*fail)(obq_h_t *t, const char *msg);
	/* Fold a word into the run's determinism hash (NULL: the mode has none). */
	void (*fold)(uint64_t v);
	/* The step trace stream, or NULL (NULL function: never any). */
	FILE *(*trace)(void);
	/* Count an interleaving event (ev < OBQ_EV_COUNT). */
	void (*count)(obq_h_t *t, enum obq_h_event ev);
	/* t's expectation (obq_h_expect). */
	struct h_expect *(*expect)(obq_h_t *t);
	/* A virtual thread's (never main's) scheduling point: obq_h_point. */
	void (*point)(obq_h_t *t);
	/* A virtual thread's retry, before its point: the mode's retry budget (NULL: the
	 * step budget of point covers it). */
	void (*retry)(obq_h_t *t);
};
extern const struct h_mode h_mode;

/* ---- the deterministic runtime (det.c) ---- */
struct h_opts {
	int abort_on_report;    /* 1: first report -> print everything, abort() */
	FILE *trace;            /* non-NULL: full step tracing (replay) */
	const char *input_name; /* for the reproduce line */
	int quiet;              /* no per-input lines */
	int print_failure;      /* print report, program, schedule and states on a failure */
	int live_schedule;      /* h_det_run's `schedule` stream gets each step as it happens
				 * (flushed; decode), not the whole schedule at the end */
};
/* h_det_run starts it with h_result_reset: every field zero (the message last, so a
 * new field goes before it and is reset with the rest). */
struct h_result {
	uint64_t hash;                       /* determinism hash of what happened */
	int failed;                          /* a report was made */
	enum obq_error_kind kind;            /* first report's kind (OBQ_ERR_NONE: 0) */
	char rule[48];                       /* its rule name */
	unsigned events[OBQ_EV_COUNT];       /* event counts */
	size_t tape_used;                    /* tape bytes consumed */
	unsigned steps;                      /* scheduling decisions */
	unsigned preemptions;                /* switches away from a runnable thread */
	char message[4096];                  /* the first report's text: last (see above) */
};
/* Every field before the message zeroed, and the message empty (its 4 KiB are not
 * cleared: a run writes only its first byte or a whole string). */
static inline void h_result_reset(struct h_result *r)
{
	memset(r, 0, offsetof(struct h_result, message) + 1);
}
void h_det_init(const struct obq_h_target *tg);
/* Run one program; the result is filled in.  `schedule` (may be NULL) gets the
 * realised schedule as text lines prefixed with "# " (at the end, or step by step with
 * o->live_schedule). */
void h_det_run(const struct obq_h_target *tg, const struct program *p, const struct h_opts *o,
	       struct h_result *res, FILE *schedule);
/* Tape positions of preemptions of the last run and the byte that would have kept
 * the running thread instead (for minimize). */
struct h_preempt { size_t tape_idx; uint8_t stay; };
size_t h_det_preemptions(struct h_preempt *out, size_t cap);

/* ---- how runs start, and the engines' entry points (engine.c) ---- */
/* Every run of a program: the warm-up the first time, then the region cache in
 * canonical order, then h_det_run. */
void h_run(const struct obq_h_target *tg, const struct program *p, const struct h_opts *o,
	   struct h_result *r, FILE *sched);
/* The warm-up (engine.c explains it): once per process; nothing after the first call. */
void h_warmup(const struct obq_h_target *tg);

/* ---- feedback (feedback.c) ---- */
void h_feedback(const unsigned events[OBQ_EV_COUNT]);

/* ---- the command line (runner.c) ---- */
int h_runner_main(const struct obq_h_target *tg, int argc, char **argv);
/* 1 if s is one of the runner's commands (decode, encode, replay, ...). */
int h_is_command(const char *s);
/* Load an input: raw bytes, or a .trace text encoded to canonical bytes.  Returns
 * malloc'd bytes (caller frees) or NULL (message printed). */
char *h_read_file(const char *path, size_t *len); /* malloc'd, NUL-terminated */
/* 1 if a directory entry of this name is an input (not a dot file, .dict, .options,
 * .md, RULE or README*): the runner expands directories with it. */
int h_is_input_name(const char *name);
/* 1 if path names a readable trace (it ends in .trace): h_load_input encodes it. */
int h_is_trace_path(const char *path);
uint8_t *h_load_input(const struct obq_h_target *tg, const char *path, size_t *len, int *is_trace);

#endif
