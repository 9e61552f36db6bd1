/* testing_hooks.c — the allocator's hand-offs made visible to a tool that models
 * memory (oblique/testing.h: obq_testing_set_hooks; the weak-memory mode of the
 * deterministic harness uses them).  The calls are made by slab.c (constructors) and
 * by the checker's alloc/free entry points (checked builds). */
#include "internal.h"

#include <string.h>

#include <oblique/testing.h>

struct obq_testing_hooks _obq_testing_hooks;

void obq_testing_set_hooks(const struct obq_testing_hooks *h)
{
	if (h)
		_obq_testing_hooks = *h;
	else
		memset(&_obq_testing_hooks, 0, sizeof _obq_testing_hooks);
}
