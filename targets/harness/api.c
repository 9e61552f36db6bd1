/* api.c — the harness API a target's operations call (oblique/harness.h: oracles,
 * observations, events, pins, expectations, scheduling points), written once for both
 * modes.  What a mode does differently is its h_mode table (hint.h): det.c's folds
 * into the determinism hash, traces, and switches virtual threads at a point;
 * stress.c's counts per OS thread and perturbs timing.
 *
 * Contract: t is the view the harness passed to the running operation (or to
 * setup / final / teardown: tid OBQ_H_MAIN, where points are no-ops). */
#include "hint.h"

#include <stdarg.h>

void obq_h_fail(obq_h_t *t, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* An oracle is about to blame the protocol: first ask whether the allocator wrote
	 * into a freed object (contract.c; then that report comes first). */
	h_contract_sweep();
	h_mode.fail(t, msg);
}

void obq_h_expect(obq_h_t *t, enum obq_error_kind kind)
{
	struct h_expect *x = h_mode.expect(t);
	x->kind = kind;
	x->hits = 0;
}

unsigned obq_h_expect_end(obq_h_t *t)
{
	struct h_expect *x = h_mode.expect(t);
	unsigned n = x->hits;
	x->kind = OBQ_ERR_NONE;
	x->hits = 0;
	if (h_mode.fold)
		h_mode.fold(0xee00 + n);
	return n;
}

/* A line of the step trace (replay), flushed: every line survives a crash. */
static FILE *trace_stream(void)
{
	return h_mode.trace ? h_mode.trace() : NULL;
}

void obq_h_observe(obq_h_t *t, uint64_t value)
{
	if (h_mode.fold)
		h_mode.fold(value ^ ((uint64_t)t->tid << 56));
	FILE *f = trace_stream();
	if (f) {
		fprintf(f, "  observe T%u: %llu\n", t->tid, (unsigned long long)value);
		fflush(f);
	}
}

void obq_h_event(obq_h_t *t, enum obq_h_event ev)
{
	if ((unsigned)ev < OBQ_EV_COUNT)
		h_mode.count(t, ev);
	FILE *f = trace_stream();
	if (f) {
		fprintf(f, "  event T%u: %s\n", t->tid, obq_h_event_name(ev));
		fflush(f);
	}
}

int obq_h_pin(obq_h_t *t, int ok)
{
	ok = ok != 0;
	if (h_mode.fold)
		h_mode.fold(0x9100 + (unsigned)ok);
	if (!ok)
		obq_h_event(t, OBQ_EV_PIN_FAILED);
	return ok;
}

void obq_h_point(obq_h_t *t)
{
	if (t->tid != OBQ_H_MAIN)
		h_mode.point(t);
}

void obq_h_retry(obq_h_t *t)
{
	obq_h_event(t, OBQ_EV_RETRY);
	if (t->tid == OBQ_H_MAIN)
		return;
	if (h_mode.retry)
		h_mode.retry(t);
	h_mode.point(t);
}
