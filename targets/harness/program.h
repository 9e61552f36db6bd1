/* program.h — the decoded form of a fuzz input, its byte encoding and its text form.
 *
 * Byte layout (every byte string is a valid program; missing bytes read as 0):
 *
 *   byte 0   bits 0-1  virtual threads - 1                    (1..4)
 *            bit  2    reuse mode: 0 recycle, 1 rcu-debug
 *            bits 3-4  policy: 0 tape, 1 pct, 2 preempt (3 reads as tape)
 *            bits 5-7  policy parameter p: pct depth = p + 1; preempt bound = p
 *   byte 1-2 PRNG seed (little endian), continues the tape when it runs out
 *   byte 3   number of operations n (mod OBQ_H_MAX_OPS + 1)
 *   byte 4   the allocator's shape for this run (0: as before this byte existed):
 *            bits 0-2  slab geometry, an index into h_geometries[] (program.c): 0 the
 *                      default (8 objects per slab, magazines, depot, kept empty slabs);
 *                      1.. small slabs of 1, 2, 4 or 8 objects with one-object magazines
 *                      and no depot, some keeping one empty slab, the others none;
 *                      7: slabs of 4, magazines of 2 spilling into a depot of 2
 *            bits 3-5  shrink period, an index into h_shrink_periods[]: every k-th free
 *                      of a cache first shrinks it (0: never)
 *            bits 6-7  registration order r: the RCU contexts register (again) at the
 *                      start of the run with virtual thread r % threads last
 *   then n operations, front to back: an opcode byte c — thread (c >> 6) % threads,
 *            operation (c & 63) % nops — followed by that operation's argument bytes
 *            (an operation beyond a thread's OBQ_H_MAX_THREAD_OPS is dropped)
 *   the rest is the schedule tape, consumed from the LAST byte backwards while the
 *            program runs (as libFuzzer's FuzzedDataProvider takes integers from the
 *            tail), so growing the program leaves the early schedule alone.
 *
 * Canonical bytes (encode): header, the operations thread by thread, and the tape
 * bytes the run actually consumed, reversed. */
#ifndef OBQ_H_PROGRAM_H
#define OBQ_H_PROGRAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <oblique/harness.h>

#define PROG_HDR 5             /* header bytes */
#define PROG_MAX_TAPE 8192     /* tape bytes kept (the rest is ignored) */

enum policy { POL_TAPE = 0, POL_PCT = 1, POL_PREEMPT = 2, POL_COUNT = 3 };

struct prog_op {
	uint8_t opcode;                   /* index into the target's ops */
	uint8_t arg[OBQ_H_MAX_ARGS];      /* argument bytes (unused ones 0) */
};

struct program {
	unsigned nthreads;                /* 1..OBQ_H_MAX_THREADS */
	unsigned reuse;                   /* enum obq_reuse_mode */
	unsigned policy;                  /* enum policy */
	unsigned param;                   /* policy parameter 0..7 */
	unsigned seed;                    /* 16-bit PRNG seed */
	unsigned shape;                   /* header byte 4: geometry, shrink period, order */
	char adapter[32];                 /* text only (trace line "adapter NAME"; never in the
					   * bytes): the allocator adapter the program ran on;
					   * "" for oblique or unknown */
	unsigned nops[OBQ_H_MAX_THREADS]; /* operations per thread */
	struct prog_op ops[OBQ_H_MAX_THREADS][OBQ_H_MAX_THREAD_OPS]; /* per-thread operations */
	size_t tape_len;                  /* tape bytes available, in consumption order */
	uint8_t tape[PROG_MAX_TAPE];      /* tape[i] = i-th schedule byte consumed */
};

const char *policy_name(unsigned p);

/* The allocator shape byte (header byte 4) and its three fields. */
#define PROG_GEOM(shape) ((shape) & 7u)
#define PROG_SHRINK(shape) (((shape) >> 3) & 7u)
#define PROG_ORDER(shape) (((shape) >> 6) & 3u)
struct h_geometry {
	unsigned slab_objects;            /* objects per slab (0: the default geometry) */
	unsigned keep_empty;              /* empty slabs kept (small geometries only) */
	unsigned mag_batch;               /* 0: one-object magazines, no depot; else
					   * obq_cache_set_fuzz_magazines(batch, 2) */
};
extern const struct h_geometry h_geometries[8];
extern const unsigned h_shrink_periods[8];

/* The adapter prog_decode stamps on what it decodes (h_adapter_set keeps it; NULL or
 * "oblique": none), so that every trace printed of a run names its allocator. */
extern const char *prog_adapter;
/* Called by h_load_input with a trace's "adapter" line (NULL: none) before its bytes
 * are returned; < 0 refuses the input (message printed).  adapter.c installs it; NULL
 * (a tool without adapters): the line is only parsed. */
extern int (*prog_input_adapter)(const char *name, const char *path);

/* Decode any byte string. */
void prog_decode(const struct obq_h_target *tg, const uint8_t *data, size_t size,
		 struct program *p);
/* Canonical bytes of p with its first `tape_used` tape bytes; returns the length
 * written (buf must hold prog_encoded_max() bytes). */
size_t prog_encode(const struct obq_h_target *tg, const struct program *p, size_t tape_used,
		   uint8_t *buf);
size_t prog_encoded_max(void);

/* Text form.  prog_print writes the program part (header lines, the per-thread
 * operation columns, the tape); prog_parse reads it back (comments '#' ignored).
 * On a syntax error prog_parse prints "file:line:col: message" and returns -1. */
void prog_print(FILE *f, const struct obq_h_target *tg, const struct program *p,
		size_t tape_used);
int prog_parse(const char *fname, const char *text, const struct obq_h_target *tg,
	       struct program *p);
/* The "target NAME" line of a trace text ("" if absent): for the obq-trace dispatcher. */
int prog_text_target(const char *text, char *name, size_t cap);

/* `<target> dict`: the target's dictionary from its ops[] on stdout (dict.c); the
 * command takes no arguments (the runner's parser checks).  Exit status as the
 * runner's. */
struct cli;
int h_cmd_dict(const struct obq_h_target *tg, const struct cli *c);

/* Total operations. */
unsigned prog_total_ops(const struct program *p);

/* Name the harness's verdicts (OBQ_H_ERR_ORACLE, ...) in oblique's error reports;
 * idempotent, called before runs in both modes. */
void h_register_verdicts(void);

#endif
