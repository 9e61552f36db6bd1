/* feedback.c — interleaving events as extra coverage.
 *
 * After each run every event with a non-zero count becomes one (event, bucket) pair,
 * bucket = AFL's hit-count classes (1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+).  The
 * pair is fed to the fuzzer twice:
 *  - libFuzzer: a byte in __libfuzzer_extra_counters (cleared by libFuzzer before
 *    every run, read after it);
 *  - any engine that instruments this file (libFuzzer's -fsanitize=fuzzer-no-link,
 *    afl-clang-fast): a switch with one distinct basic block per pair, so a new pair
 *    is a new edge.  Each case holds a distinct asm statement so no compiler can merge
 *    the cases into a table.
 *
 * Self-contained (only the public harness header), because it is also glue: the
 * installed SDK ships it, and oblique_add_fuzz_target() compiles it into each AFL++
 * binary so afl-clang-fast instruments the switch (the installed library's copy was
 * not built by afl-clang-fast).  The binary's own definition then wins over the
 * library's. */
#include <oblique/harness.h>

void h_feedback(const unsigned events[OBQ_EV_COUNT]); /* also in hint.h */

#define NPAIRS (OBQ_EV_COUNT * 8)

#if defined(OBQ_H_LIBFUZZER)
__attribute__((section("__libfuzzer_extra_counters"), used))
static uint8_t extra_counters[NPAIRS];
#endif

static unsigned bucket(unsigned n)
{
	if (n <= 3)
		return n - 1;
	if (n < 8)
		return 3;
	if (n < 16)
		return 4;
	if (n < 32)
		return 5;
	if (n < 128)
		return 6;
	return 7;
}

#define C1(k) case k: __asm__ volatile("# obq feedback " #k ::: "memory"); break;
#define C8(k) C1(k##0) C1(k##1) C1(k##2) C1(k##3) C1(k##4) C1(k##5) C1(k##6) C1(k##7)

__attribute__((noinline)) static void edge(unsigned pair)
{
	/* pair = event * 8 + bucket, events < 16: octal-style digits keep names distinct */
	switch (pair) {
	C8(0) C8(1) C8(2) C8(3) C8(4) C8(5) C8(6) C8(7)
	C8(8) C8(9) C8(10) C8(11) C8(12) C8(13) C8(14) C8(15)
	default: break;
	}
}

void h_feedback(const unsigned events[OBQ_EV_COUNT])
{
	for (unsigned e = 0; e < OBQ_EV_COUNT; e++) {
		if (!events[e])
			continue;
		unsigned b = bucket(events[e]);
		/* case labels are written as decimal digit strings: event e, bucket b -> "eb" */
		edge(e * 10 + b);
#if defined(OBQ_H_LIBFUZZER)
		extra_counters[e * 8 + b] = 1;
#endif
	}
}
