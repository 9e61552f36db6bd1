/* bench.h — shared helpers of oblique's benchmark programs (alloc/bench/).
 *
 * A bench program holds a table of cases (struct bench_case).  One invocation runs
 * ONE repetition of every selected case, in an order rotated by the repetition number
 * so no case always runs first or last, and prints one JSON object per result line on
 * stdout.  The driver (run.py) calls the programs round-robin for each repetition, so
 * oblique and every peer are measured side by side in the same run, and computes
 * medians and per-repetition ratios.
 *
 * Result line:
 *   {"group":"alloc.64.lifo","impl":"mimalloc","metric":"ns","value":5.1,"bin":"main"}
 * group: what is measured (same group = comparable); impl: who; metric: the unit
 * ("ns" per operation, "us" latency, "Mops" throughput, "bytes", ...). */
#ifndef OBQ_BENCH_H
#define OBQ_BENCH_H

#define _GNU_SOURCE 1
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sched.h>

/* Options every case sees. */
struct bench_opts {
	int rep;          /* repetition number (seeds the case order) */
	int quick;        /* 1: shorter runs (ci/bench.sh --quick) */
	const char *bin;  /* "main" or "checked": which program printed the line */
};
extern struct bench_opts bench_opt;

/* One case: fn runs it once and prints its results with bench_emit(). */
struct bench_case {
	const char *family;   /* selection key: alloc, rcu, checked, scale, gpmem */
	const char *name;     /* unique, for --only / --list */
	void (*fn)(const void *arg);
	const void *arg;      /* case parameters, owned by the defining file */
};

/* Cases are registered by each file into one table at start-up (constructors). */
void bench_register(const char *family, const char *name, void (*fn)(const void *),
		    const void *arg);

/* Print one result line. */
void bench_emit(const char *group, const char *impl, const char *metric, double value);

/* Monotonic nanoseconds. */
static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Keep the compiler from deleting or hoisting work whose result is unused. */
#define BENCH_ESCAPE(p) __asm__ volatile("" : : "g"(p) : "memory")
#define BENCH_CLOBBER() __asm__ volatile("" : : : "memory")

static inline void bench_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

/* Spin politely: pause, and yield the CPU now and then (2 cores, other jobs). */
static inline void bench_spin(unsigned *n)
{
	if (++*n % 256 == 0)
		sched_yield();
	else
		bench_pause();
}

/* Median and percentile of a sample array (sorts it). */
double bench_median(double *v, size_t n);
double bench_percentile(double *v, size_t n, double pct);

/* ns per operation of fn(arg, n) (which does n operations): n is doubled until one
 * call takes target_ms, then the median of three timed calls is returned. */
double bench_time_per_op(void (*fn)(void *arg, size_t n), void *arg, double target_ms);

/* Instruction counts (family "instr"): run.py runs each such case under
 * valgrind --tool=callgrind --toggle-collect=bench_instr_run, so only what fn(arg)
 * executes is counted; the case emits the number of operations fn performs (metric
 * "ops") and run.py divides.  Deterministic, unlike times on a shared machine. */
void bench_instr_run(void (*fn)(void *arg), void *arg);

/* Scale an iteration count down in --quick mode. */
static inline size_t bench_iters(size_t n)
{
	return bench_opt.quick ? n / 3 + 1 : n;
}

/* A start barrier for N threads (spinning; sense not reused). */
struct bench_gate {
	atomic_int arrived;   /* threads arrived so far */
	atomic_int go;        /* 1 once all arrived */
	int n;                /* threads expected */
};
void bench_gate_init(struct bench_gate *g, int n);
void bench_gate_wait(struct bench_gate *g);

/* Abort with a message. */
#define BENCH_DIE(...) do { fprintf(stderr, "bench: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

#endif /* OBQ_BENCH_H */
