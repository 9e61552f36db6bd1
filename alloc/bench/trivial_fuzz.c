/* trivial_fuzz.c — the smallest useful libFuzzer target: the yardstick the harness's
 * exec/s are compared with (ci/bench.sh builds it with -fsanitize=fuzzer, with and
 * without ASan, and times it beside the real targets in the same run). */
#include <stddef.h>
#include <stdint.h>

static volatile uint8_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size >= 4 && data[0] == 'o' && data[1] == 'b' && data[2] == 'q')
		sink = data[3];
	return 0;
}
