/* engine_main.c — main() of a harness test binary that starts the way a fuzzing
 * engine does (libFuzzer's LLVMFuzzerInitialize, afl_main.c before its fork server):
 * obq_h_fuzz_init with the command line — the one-time set-up and the warm-up, with a
 * warm-up crash saved as an artifact (-artifact_prefix=, $OBQ_H_ARTIFACT_DIR, or the
 * current directory) — then it prints one line and exits.  Commands (replay, decode,
 * ...) run as under libFuzzer: obq_h_fuzz_init runs them and exits. */
#include <stdio.h>

#include <oblique/harness.h>

extern const struct obq_h_target *const obq_h_target_main;

int main(int argc, char **argv)
{
	obq_h_fuzz_init(obq_h_target_main, &argc, &argv);
	printf("engine: initialised\n");
	return 0;
}
