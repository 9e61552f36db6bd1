/* trivial_afl.c — the smallest AFL++ persistent-mode target: the yardstick for the
 * harness's AFL++ exec/s (ci/bench.sh builds it with afl-clang-fast and times it
 * beside the real targets in the same run). */
#include <stddef.h>
#include <stdint.h>

static volatile uint8_t sink;

__AFL_FUZZ_INIT();

int main(void)
{
	__AFL_INIT();
	unsigned char *buf = __AFL_FUZZ_TESTCASE_BUF;
	while (__AFL_LOOP(100000)) {
		int len = __AFL_FUZZ_TESTCASE_LEN;
		if (len >= 4 && buf[0] == 'o' && buf[1] == 'b' && buf[2] == 'q')
			sink = buf[3];
	}
	return 0;
}
