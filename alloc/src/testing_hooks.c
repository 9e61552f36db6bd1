/* testing_hooks.c — the allocator's hand-offs made visible to a tool that models
 * memory (oblique/testing.h: obq_testing_set_hooks; the weak-memory mode of the
 * deterministic harness uses them).  The calls are made by slab.c (constructors) and
 * by the checker's alloc/free entry points (checked builds). */
#include "internal.h"

#include <string.h>

#include <oblique/testing.h>

struct obq_testing_hooks _obq_testing_hooks;
void (*_obq_testing_release_hook)(const void *mem, size_t bytes);
void (*_obq_testing_handout_hook)(const void *obj);

void obq_testing_set_handout_hook(void (*handout)(const void *obj))
{
	_obq_testing_handout_hook = handout;
}
int (*_obq_testing_describe_hook)(const void *p, char *buf, size_t len, const char **cache);

void obq_testing_set_release_hook(void (*release)(const void *mem, size_t bytes))
{
	_obq_testing_release_hook = release;
}

void obq_testing_set_describe_hook(int (*describe)(const void *p, char *buf, size_t len,
						   const char **cache))
{
	_obq_testing_describe_hook = describe;
}

void obq_testing_set_hooks(const struct obq_testing_hooks *h)
{
	if (h)
		_obq_testing_hooks = *h;
	else
		memset(&_obq_testing_hooks, 0, sizeof _obq_testing_hooks);
}
