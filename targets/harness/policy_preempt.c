/* policy_preempt.c — bounded preemptions: the running thread continues unless a tape
 * byte < 0x20 spends one of `bound` preemptions (the program's parameter) to switch to
 * another runnable thread (b % others), or a byte >= 0xc0 makes a sim step; a thread
 * that cannot continue (finished, parked) is replaced as the tape policy would. */
#include "det.h"

static void preempt_start(struct det_policy_state *s, const struct program *p)
{
	s->preempt_left = p->param;
}

/* The k-th choice other than the running thread and the sim engine. */
H_STEP static unsigned other(const struct det_choices *c, unsigned k)
{
	unsigned pick, j = 0;
	for (pick = 0; pick < c->n; pick++) {
		if ((int)pick == c->self_idx || c->ch[pick] == GP_CHOICE)
			continue;
		if (j++ == k)
			break;
	}
	return pick;
}

H_STEP static void preempt_pick(struct det_policy_state *s, const struct det_choices *c,
				struct det_pick *out)
{
	if (c->n == 1 || c->self_idx < 0) {
		det_policy_tape.pick(s, c, out);
		return;
	}
	unsigned b = det_draw(&out->tidx);
	out->stay = 0x20; /* a value that keeps self */
	out->idx = (unsigned)c->self_idx;
	if (b >= 0xc0 && c->can_gp) {
		out->idx = c->n - 1;
	} else if (b < 0x20 && s->preempt_left > 0) {
		unsigned others = c->n - 1 - (c->can_gp ? 1 : 0);
		if (others > 0) {
			out->idx = other(c, b % others);
			s->preempt_left--;
		}
	}
}

const struct det_policy det_policy_preempt = {"preempt", preempt_start, preempt_pick};
