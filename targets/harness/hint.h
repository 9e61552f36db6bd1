/* hint.h — declarations shared by the harness runtime's files (not public). */
#ifndef OBQ_H_HINT_H
#define OBQ_H_HINT_H

#include <stdint.h>
#include <stdio.h>

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
	char name[48];                   /* cache name */
	struct obq_h_cache *next;        /* run's cache list */
};
/* What adapter.c calls in the mode the binary runs in (det.c or stress.c defines them):
 * a scheduling point for an adapter without its own, a release notification, the
 * run's cache list, and at each free (stress mode keeps slabs going back there). */
void h_adapter_point(obq_h_t *t, enum obq_sp_kind kind, const void *obj);
void h_note_released(void);
struct obq_h_cache **h_run_caches(void);
void h_free_traffic(obq_h_t *t, struct obq_h_cache *c);
const struct obq_h_allocator *h_adapter_select(const char *name); /* NULL: unknown */
const struct obq_h_allocator *h_adapter_current(void);
void h_adapter_set(const struct obq_h_allocator *a);
void h_adapter_list(FILE *f);
/* Destroy every cache of the run (force). */
void h_caches_destroy_all(struct obq_h_cache **list);

/* ---- released ranges (deterministic mode; adapter notifications) ---- */
void h_released_clear(void);
/* 1 if p lies in memory an adapter said is no longer objects of its cache. */
int h_released_contains(const void *p);
extern size_t h_released_count;

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
/* h_det_run resets each field (keep it in step when adding one). */
struct h_result {
	uint64_t hash;                       /* determinism hash of what happened */
	int failed;                          /* a report was made */
	enum obq_error_kind kind;            /* first report's kind */
	char rule[48];                       /* its rule name */
	char message[4096];                  /* its text */
	unsigned events[OBQ_EV_COUNT];       /* event counts */
	size_t tape_used;                    /* tape bytes consumed */
	unsigned steps;                      /* scheduling decisions */
	unsigned preemptions;                /* switches away from a runnable thread */
};
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

/* ---- feedback (feedback.c) ---- */
void h_feedback(const unsigned events[OBQ_EV_COUNT]);

/* ---- runner (runner.c) ---- */
int h_runner_main(const struct obq_h_target *tg, int argc, char **argv);
int h_is_command(const char *s);
/* Load an input: raw bytes, or a .trace text encoded to canonical bytes.  Returns
 * malloc'd bytes (caller frees) or NULL (message printed). */
char *h_read_file(const char *path, size_t *len); /* malloc'd, NUL-terminated */
uint8_t *h_load_input(const struct obq_h_target *tg, const char *path, size_t *len, int *is_trace);

#endif
