/* record_hook.h — a recording error hook for the allocator's tests: install it with
 * obq_set_error_hook(record_hook, &rec); each report is counted and the last one kept,
 * so a test can assert on the rule, cache, slot state and message and carry on. */
#ifndef OBQ_TEST_RECORD_HOOK_H
#define OBQ_TEST_RECORD_HOOK_H

#include <oblique/error.h>
#include <stdio.h>
#include <string.h>

struct rec {
	int count;               /* reports seen */
	enum obq_error_kind kind;/* last report's kind */
	char cache[64];          /* last report's cache name */
	const void *object;      /* last report's object */
	char state[32];          /* last report's slot state */
	unsigned long generation;/* last report's generation */
	char message[4096];      /* last report's message */
};
static struct rec rec;

static void record_hook(const struct obq_error *e, void *arg)
{
	struct rec *r = arg;
	r->count++;
	r->kind = e->kind;
	snprintf(r->cache, sizeof r->cache, "%s", e->cache ? e->cache : "");
	r->object = e->object;
	snprintf(r->state, sizeof r->state, "%s", e->slot_state ? e->slot_state : "");
	r->generation = e->generation;
	snprintf(r->message, sizeof r->message, "%s", e->message);
}

static void rec_reset(void)
{
	memset(&rec, 0, sizeof rec);
}

#endif /* OBQ_TEST_RECORD_HOOK_H */
