/* policy_pct.c — PCT (Burckhardt et al., ASPLOS 2010): distinct random initial
 * priorities (the sim engine gets one too), d-1 priority change points in [1, k] with
 * k = 8 * ops + 16; the highest-priority runnable choice runs; at change point i the
 * running thread drops to priority i (below every initial priority, which start at d).
 * Depth d = the program's parameter + 1. */
#include "det.h"

static void pct_start(struct det_policy_state *s, const struct program *p)
{
	unsigned d = p->param + 1;
	unsigned n = p->nthreads + 1; /* + the sim engine */
	int prios[OBQ_H_MAX_THREADS + 1];
	for (unsigned i = 0; i < n; i++)
		prios[i] = (int)(d + i);
	for (unsigned i = n - 1; i > 0; i--) { /* Fisher-Yates from the tape */
		unsigned j = det_draw(NULL) % (i + 1);
		int tmp = prios[i];
		prios[i] = prios[j];
		prios[j] = tmp;
	}
	for (unsigned i = 0; i < p->nthreads; i++)
		s->prio[i] = prios[i];
	s->prio[GP_CHOICE] = prios[p->nthreads];
	unsigned k = 8 * prog_total_ops(p) + 16;
	s->nchange = d - 1;
	for (unsigned i = 0; i < s->nchange; i++)
		s->change[i] = 1 + ((det_draw(NULL) << 8 | det_draw(NULL)) % k);
	for (unsigned i = 1; i < s->nchange; i++) /* insertion sort */
		for (unsigned j = i; j > 0 && s->change[j - 1] > s->change[j]; j--) {
			unsigned tmp = s->change[j];
			s->change[j] = s->change[j - 1];
			s->change[j - 1] = tmp;
		}
	s->next = 0;
}

H_STEP static void pct_pick(struct det_policy_state *s, const struct det_choices *c,
			    struct det_pick *out)
{
	/* change point: the running thread drops below every initial priority */
	if (s->next < s->nchange && c->steps >= s->change[s->next]) {
		if (c->self_tid >= 0)
			s->prio[c->self_tid] = (int)s->next;
		s->next++;
	}
	int best = -1;
	for (unsigned k = 0; k < c->n; k++) {
		int pr = s->prio[c->ch[k]];
		if (pr > best) {
			best = pr;
			out->idx = k;
		}
	}
}

const struct det_policy det_policy_pct = {"pct", pct_start, pct_pick};
