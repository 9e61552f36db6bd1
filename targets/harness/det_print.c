/* det_print.c — the deterministic engine's state as text: the thread states of a
 * report (deadlock, livelock, a failure's summary) and the realised schedule (decode,
 * the failure summary, the live schedule). */
#include "det.h"

const char *det_sim_result_name(int r)
{
	switch (r) {
	case OBQ_SIM_NOTHING: return "nothing";
	case OBQ_SIM_GP_STARTED: return "gp-start";
	case OBQ_SIM_GP_ENDED: return "gp-end";
	case OBQ_SIM_CALLBACK_RAN: return "callback";
	default: return "?";
	}
}

/* "operation 1/3 'name 4 2'" of thread i, while it has one. */
static void print_op(FILE *f, const struct obq_h_run *r, unsigned i)
{
	const struct vthread *v = &r->vt[i];
	const struct prog_op *o = &r->prog->ops[i][v->pc];
	fprintf(f, ", operation %u/%u '%s", v->pc, r->prog->nops[i], r->tg->ops[o->opcode].name);
	for (unsigned a = 0; a < r->tg->ops[o->opcode].nargs; a++)
		fprintf(f, " %u", o->arg[a]);
	fprintf(f, "'%s", v->in_op ? "" : " (not started)");
}

void det_print_states(FILE *f, const struct obq_h_run *r)
{
	for (unsigned i = 0; i < r->prog->nthreads; i++) {
		const struct vthread *v = &r->vt[i];
		const char *st = v->st == VT_DONE ? "done" : v->st == VT_PARKED ? "parked" : "runnable";
		fprintf(f, "  T%u: %s", i, st);
		if (v->st != VT_DONE && v->pc < r->prog->nops[i])
			print_op(f, r, i);
		fprintf(f, ", last point %s", obq_sp_name(v->last_sp));
		if (v->ctx)
			fprintf(f, ", %s", v->ctx->rcu_nesting ? "IN read-side section" :
								  "not in a read-side section");
		if (v->st == VT_PARKED)
			fprintf(f, ", waiting on %s (%s)", obq_sp_name(v->wait_kind),
				v->ready(v->ready_arg) ? "ready" : "not ready");
		fprintf(f, "\n");
	}
	fprintf(f, "  GP engine: gp seq %lu, %s, %zu callback(s) pending\n",
		(unsigned long)obq_sim_gp_seq(), obq_sim_gp_in_progress() ? "grace period in progress" : "idle",
		(size_t)obq_sim_callbacks_pending());
}

/* One schedule entry in the text form ("T1.2:peek ", "!T0.0:user ", "GP:gp-end ", a weak
 * read "T1.2:read~1"),
 * wrapped after 90 columns. */
void det_put_step(FILE *f, const char *prefix, const struct step *s, int *col)
{
	char buf[48];
	if (STEP_IS_WEAK(s->what) && s->who == GP_CHOICE)
		snprintf(buf, sizeof buf, "GP:%s~%u",
			 (s->what & 0xF0) == STEP_WEAK_READ ? "read" : "place", s->what & 0x0F);
	else if (STEP_IS_WEAK(s->what))
		snprintf(buf, sizeof buf, "T%u.%u:%s~%u", s->who, s->op,
			 (s->what & 0xF0) == STEP_WEAK_READ ? "read" : "place", s->what & 0x0F);
	else if (s->who == GP_CHOICE)
		snprintf(buf, sizeof buf, "GP:%s", det_sim_result_name(s->what));
	else
		snprintf(buf, sizeof buf, "%sT%u.%u:%s", s->preempt ? "!" : "", s->who, s->op,
			 obq_sp_name((enum obq_sp_kind)s->what));
	if (*col == 0)
		*col = fprintf(f, "%s", prefix);
	*col += fprintf(f, "%s ", buf);
	if (*col > 90) {
		fprintf(f, "\n");
		*col = 0;
	}
}

void det_end_schedule(FILE *f, const struct obq_h_run *r, const char *prefix, int col)
{
	if (r->nlog > LOG_MAX)
		fprintf(f, "%s... (%zu more)", col ? "" : prefix, r->nlog - LOG_MAX), col = 1;
	if (col)
		fprintf(f, "\n");
}

void det_print_schedule(FILE *f, const struct obq_h_run *r, const char *prefix)
{
	size_t n = r->nlog < LOG_MAX ? r->nlog : LOG_MAX;
	int col = 0;
	for (size_t i = 0; i < n; i++)
		det_put_step(f, prefix, &r->log[i], &col);
	det_end_schedule(f, r, prefix, col);
}
