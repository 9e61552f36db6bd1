/* test_coro.c — the deterministic scheduler's coroutines (targets/harness/coro.c).
 *
 *   obq_test_coro [--bench N]
 *
 * Without arguments: two coroutines and the main context pass control around a ring
 * 100000 times, each keeping integer and floating-point values live across every
 * switch (the compiler keeps them in callee-saved registers: x86-64 rbx/r12-r15,
 * aarch64 x19-x28 and d8-d15), and check them after each switch; a coroutine is then
 * abandoned mid-way and restarted (what the harness does after a report).  Exit 0, or
 * 1 with the first difference.
 *
 * --bench N: N round trips main -> coroutine -> main; prints the switch's mechanism
 * (asm or ucontext) and nanoseconds per switch, wall clock and the thread's CPU time
 * (docs/benchmarks.md).  Built twice:
 * obq_test_coro (the build's own switch) and obq_test_coro_uc (OBQ_H_CORO_UCONTEXT). */
#include "coro.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUNDS 100000

static struct coro mainc, co[2];
static volatile unsigned long rounds_done[2];
static int failed;

static void fail(const char *what, unsigned k, unsigned long i)
{
	if (!failed)
		fprintf(stderr, "FAIL: coroutine %u, round %lu: %s\n", k, i, what);
	failed = 1;
}

/* Many values live across each switch: more than the caller-saved registers hold. */
static void ring(void *arg)
{
	unsigned k = (unsigned)(uintptr_t)arg;
	uint64_t a = 0x9e3779b97f4a7c15ull * (k + 1), b = a ^ 0xdeadbeef, c = a + 7, d = ~a;
	uint64_t e = a * 3, f = b * 5, g = c * 11, h = d * 13;
	double x = 1.5 + k, y = 2.25 * (k + 1), z = 0.125, w = -3.0;
	for (unsigned long i = 0;; i++) {
		/* volatile: recomputed after the switch from the registers, compared with
		 * memory (otherwise the compiler folds the comparison away) */
		volatile uint64_t sum = a + b + c + d + e + f + g + h;
		volatile double fs = x + y + z + w;
		coro_switch(&co[k], k == 0 ? &co[1] : &mainc); /* main -> 0 -> 1 -> main */
		if (a + b + c + d + e + f + g + h != sum)
			fail("an integer kept across the switch changed", k, i);
		if (x + y + z + w != fs)
			fail("a floating-point value kept across the switch changed", k, i);
		a += 1, b ^= a, c += b, d -= c, e += d, f ^= e, g += f, h -= g;
		x *= 1.0000001, y += 0.5, z -= 0.25, w *= -1.0;
		rounds_done[k] = i + 1;
	}
}

/* Switches back to main once, then never returns (abandoned). */
static void once(void *arg)
{
	(void)arg;
	volatile char buf[512];
	memset((char *)buf, 0x5a, sizeof buf);
	coro_switch(&co[0], &mainc);
	abort(); /* never resumed */
}

static void pingpong(void *arg)
{
	(void)arg;
	for (;;)
		coro_switch(&co[0], &mainc);
}

static double now_ns(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	coro_init_main(&mainc);
	if (coro_alloc(&co[0], 64 * 1024) != 0 || coro_alloc(&co[1], 64 * 1024) != 0) {
		perror("coro_alloc");
		return 2;
	}
	if (argc == 3 && strcmp(argv[1], "--bench") == 0) {
		long n = atol(argv[2]);
		coro_start(&co[0], pingpong, NULL);
		coro_switch(&mainc, &co[0]); /* warm */
		double t0 = now_ns(CLOCK_MONOTONIC), c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
		for (long i = 0; i < n; i++)
			coro_switch(&mainc, &co[0]);
		double t1 = now_ns(CLOCK_MONOTONIC), c1 = now_ns(CLOCK_THREAD_CPUTIME_ID);
		/* CPU time too: on a loaded machine the wall clock counts other processes */
		printf("coro %s: %ld round trips, %.1f ns per switch (%.1f ns of this thread's CPU time)\n",
		       OBQ_H_CORO_ASM ? "asm" : "ucontext", n, (t1 - t0) / (2.0 * (double)n),
		       (c1 - c0) / (2.0 * (double)n));
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: %s [--bench N]\n", argv[0]);
		return 2;
	}
	/* Abandon a coroutine mid-way, then reuse its stack for the ring. */
	coro_start(&co[0], once, NULL);
	coro_switch(&mainc, &co[0]);
	coro_start(&co[0], ring, (void *)(uintptr_t)0);
	coro_start(&co[1], ring, (void *)(uintptr_t)1);
	uint64_t m = 12345;
	double mf = 0.75;
	for (unsigned long i = 0; i < ROUNDS && !failed; i++) {
		volatile uint64_t keep = m * 31;
		volatile double keepf = mf * 2.0;
		coro_switch(&mainc, &co[0]);
		if (keep != m * 31 || keepf != mf * 2.0)
			fail("main's values changed", 2, i);
		m += i, mf += 0.5;
	}
	if (!failed && (rounds_done[0] < ROUNDS - 1 || rounds_done[1] < ROUNDS - 1))
		fail("the ring did not run every round", 2, rounds_done[0]);
	coro_free(&co[0]);
	coro_free(&co[1]);
	if (failed)
		return 1;
	printf("ok: %d rounds of 3 contexts (%s switch), values kept, abandoned coroutine restarted\n",
	       ROUNDS, OBQ_H_CORO_ASM ? "asm" : "ucontext");
	return 0;
}
