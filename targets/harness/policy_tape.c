/* policy_tape.c — the tape policy: at each point with more than one choice, one tape
 * byte b picks choices[b % n] (choices: runnable threads by tid, then the sim engine).
 * The byte that would have kept the running thread is the stay value minimize uses. */
#include "det.h"

H_STEP static void tape_pick(struct det_policy_state *s, const struct det_choices *c,
			     struct det_pick *out)
{
	(void)s;
	if (c->n == 1)
		return; /* no choice: no byte */
	unsigned b = det_draw(&out->tidx);
	out->idx = b % c->n;
	if (c->self_idx >= 0)
		out->stay = (int)(b - b % c->n) + c->self_idx;
	if (out->stay > 255)
		out->stay = c->self_idx;
}

const struct det_policy det_policy_tape = {"tape", NULL, tape_pick};
