/* options.c — default sanitizer options compiled into every program that links
 * liboblique (ASan, UBSan, TSan read these before main; the environment's
 * ASAN_OPTIONS / UBSAN_OPTIONS / TSAN_OPTIONS still override them).
 *
 * This object defines nothing a program calls, so a static library would leave it
 * out: oblique/bits/track.h makes every file that includes it (sanitizer builds only)
 * reference _obq_sanitizer_options_anchor, which pulls this object in.
 *
 * Choices:
 *   ASan   abort_on_error=1      a report ends in SIGABRT, like oblique's own reports,
 *                                so a test's parent sees one kind of death;
 *          detect_stack_use_after_return=0  the fuzz harness runs coroutines on their
 *                                own stacks, which fake stacks do not follow;
 *          check_initialization_order=1, strict_init_order=1, print_summary=1.
 *   UBSan  print_stacktrace=1, halt_on_error=1 (the build also uses
 *          -fno-sanitize-recover=undefined).
 *   TSan   halt_on_error=0 (every race of a run is printed; the exit code is still 66),
 *          second_deadlock_stack=1, die_after_fork=0: the RCU backend restarts its
 *          callback thread in a forked child, and the tests re-exec themselves rather
 *          than fork, so a fork never leaves TSan in a state it cannot model. */
#include <oblique/common.h>

const int _obq_sanitizer_options_anchor = 1;

#if OBQ_ASAN
OBQ_EXPORT const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "abort_on_error=1:detect_stack_use_after_return=0:check_initialization_order=1:"
	       "strict_init_order=1:print_summary=1";
}
#endif

OBQ_EXPORT const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "print_stacktrace=1:halt_on_error=1";
}

#if OBQ_TSAN
OBQ_EXPORT const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
	return "halt_on_error=0:second_deadlock_stack=1:die_after_fork=0";
}
#endif
