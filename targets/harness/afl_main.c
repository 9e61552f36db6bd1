/* afl_main.c — main() of a deterministic target for AFL++ (afl-clang-fast):
 * persistent mode with shared-memory test cases and deferred initialisation.
 *
 * Deferred init (__AFL_INIT) happens after the harness's one-time setup (coroutine
 * stacks, contexts, hooks) and its warm-up (engine.c: every pool the allocator and the
 * checker keep for the process grown to what any run needs, by synthetic programs on
 * every virtual thread), so every fork-server child starts warm and no input takes a
 * first-time path — which AFL++ would count against stability — and before any thread
 * exists: the harness never starts one in deterministic mode.  Each input then runs
 * from a canonical state (obq_h_fuzz_one: region cache sorted, harness reset).  With
 * arguments, the binary behaves as the standalone runner (replay files, decode, ...).
 * Built without afl-clang-fast it reads one input from stdin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <oblique/harness.h>

extern const struct obq_h_target *const obq_h_target_main;

#ifdef __AFL_FUZZ_TESTCASE_LEN
__AFL_FUZZ_INIT();
#endif
/* Inputs per fork-server child (-DOBQ_AFL_LOOP=N to change: a small N makes every
 * first-run-after-fork effect frequent, for stability experiments). */
#ifndef OBQ_AFL_LOOP
#define OBQ_AFL_LOOP 100000
#endif

int main(int argc, char **argv)
{
	const struct obq_h_target *tg = obq_h_target_main;
	if (argc > 1 && strcmp(argv[1], "-") != 0)
		return obq_h_main(tg, argc, argv);
	int one = 0;
	char **noargs = NULL;
	obq_h_fuzz_init(tg, &one, &noargs); /* set-up and warm-up, before the fork server */
#ifdef __AFL_FUZZ_TESTCASE_LEN
	__AFL_INIT();
	unsigned char *buf = __AFL_FUZZ_TESTCASE_BUF;
	while (__AFL_LOOP(OBQ_AFL_LOOP)) {
		int len = __AFL_FUZZ_TESTCASE_LEN;
		obq_h_fuzz_one(tg, buf, (size_t)len);
	}
#else
	static unsigned char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof buf, stdin);
	obq_h_fuzz_one(tg, buf, n);
#endif
	return 0;
}
