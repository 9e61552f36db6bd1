/* afl_main.c — main() of a deterministic target for AFL++ (afl-clang-fast):
 * persistent mode with shared-memory test cases and deferred initialisation.
 *
 * Deferred init (__AFL_INIT) happens after the harness's one-time setup (coroutine
 * stacks, hooks) and before any thread exists — the harness never starts one in
 * deterministic mode.  With arguments, the binary behaves as the standalone runner
 * (replay files, decode, ...).  Built without afl-clang-fast it reads one input from
 * stdin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <oblique/harness.h>

extern const struct obq_h_target *const obq_h_target_main;

#ifdef __AFL_FUZZ_TESTCASE_LEN
__AFL_FUZZ_INIT();
#endif

int main(int argc, char **argv)
{
	const struct obq_h_target *tg = obq_h_target_main;
	if (argc > 1 && strcmp(argv[1], "-") != 0)
		return obq_h_main(tg, argc, argv);
	int one = 0;
	char **noargs = NULL;
	obq_h_fuzz_init(tg, &one, &noargs); /* one-time setup before the fork server */
#ifdef __AFL_FUZZ_TESTCASE_LEN
	__AFL_INIT();
	unsigned char *buf = __AFL_FUZZ_TESTCASE_BUF;
	while (__AFL_LOOP(100000)) {
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
