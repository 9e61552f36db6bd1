/* myslab_adapter.c — myslab behind oblique's fuzz targets: with --adapter=myslab (or
 * OBQ_ADAPTER=myslab, or obq-fuzz --adapter myslab) every cache a target creates
 * through obq_h_cache_create() is a myslab cache, so the target's protocol runs — and
 * its oracles and the checker's sanctioned-access rules judge it — over this allocator
 * instead of oblique's. */
#include <oblique/harness.h>

#include "myslab.h"

static void *a_create(const char *name, size_t size, size_t align, unsigned flags,
		      obq_ctor_fn ctor)
{
	(void)name;
	(void)flags; /* myslab is always type-stable */
	if (align > 16)
		return NULL;
	return myslab_create(size, ctor);
}
static void *a_alloc(void *c) { return myslab_alloc(c); }
static void a_free(void *c, void *o) { myslab_free(c, o); }
static void a_destroy(void *c) { myslab_destroy(c); }

static const struct obq_h_allocator myslab_adapter = {
	.name = "myslab",
	.type_stable = 1,   /* a freed object stays an object of its cache */
	.sched_points = 0,  /* the harness adds a scheduling point at alloc and free */
	.create = a_create,
	.alloc = a_alloc,
	.free = a_free,
	.destroy = a_destroy,
	.guard = NULL,      /* no guard-field checks: oblique's checker does those */
};
OBQ_H_REGISTER_ALLOCATOR(myslab_adapter)
