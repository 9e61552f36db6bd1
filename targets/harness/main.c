/* main.c — main() of a deterministic target without a fuzzing engine
 * (OBQ_FUZZ_ENGINE=none): the standalone runner (see runner.c: the command line). */
#include <oblique/harness.h>

extern const struct obq_h_target *const obq_h_target_main;

int main(int argc, char **argv)
{
	return obq_h_main(obq_h_target_main, argc, argv);
}
