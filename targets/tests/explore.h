/* explore.h — the exhaustive explorer the weak-memory tests share (test_wmm.c,
 * test_wmm_rt.c): every choice point of a run (a schedule, which store a load reads,
 * where a store goes) takes its next value from an odometer of choice vectors, so that
 * re-running until explore_next() returns 0 visits every combination once.
 *
 *   nch = 0; do { pos = 0; <run, calling pick(n) / the model's chooser>; } while (explore_next());
 *
 * State is per test program (static); overflow is set when a run makes more than
 * EXPLORE_MAXCH choices (the rest take 0: the exploration is then incomplete). */
#ifndef OBQ_TESTS_EXPLORE_H
#define OBQ_TESTS_EXPLORE_H

#include "../harness/wmm.h"

#define EXPLORE_MAXCH 64
static unsigned ch[EXPLORE_MAXCH], nopt[EXPLORE_MAXCH], nch, pos, overflow;

/* The choice among n at this point of the run (0 when n < 2). */
static unsigned pick(unsigned n)
{
	if (n < 2)
		return 0;
	if (pos >= EXPLORE_MAXCH) {
		overflow = 1;
		return 0;
	}
	if (pos == nch) {
		ch[nch] = 0;
		nopt[nch] = n;
		nch++;
	}
	return ch[pos++];
}

/* The weak-memory model's chooser over pick. */
static unsigned chooser(void *ctx, enum wmm_choice_kind kind, unsigned n)
{
	(void)ctx;
	(void)kind;
	return pick(n);
}

/* Next choice vector (odometer, last position first); 0 when all were run. */
static int explore_next(void)
{
	while (nch > 0) {
		if (ch[nch - 1] + 1 < nopt[nch - 1]) {
			ch[nch - 1]++;
			return 1;
		}
		nch--;
	}
	return 0;
}

#endif
