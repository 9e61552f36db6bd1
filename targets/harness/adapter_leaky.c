/* adapter_leaky.c — the second control adapter, "leaky": an allocator that claims to
 * be type-stable and is not, and says nothing about it.
 *
 * Modelled on the kind of userspace kmem_cache test suites use (accepting
 * OBQ_TYPESAFE_BY_RCU and ignoring it), written for this harness:
 *   - a cache keeps at most LEAKY_KEEP freed objects on a LIFO free list whose link is
 *     stored inside the freed object (at offset 8 when the object has room, else 0),
 *     and free()s every object freed beyond that — memory goes back to the system
 *     at once, with no grace period;
 *   - alloc pops the free list (no ctor: the object is "constructed") or mallocs a
 *     fresh object and runs the ctor;
 *   - it makes no notification call (obq_h_notify_*) and declares no guard.
 * So every target that frees objects under readers meets an allocator that breaks the
 * contract in three ways the harness must see on its own (docs/checker.md §9): a link
 * written into a freed typesafe object (alloc-wrote-free-object, at the next hand-out
 * or before an oracle would blame the protocol), memory freed under a reader
 * (released-access under ASan, which knows the block is freed), and the ctor run again
 * on an address the system handed back (alloc-ctor-rerun).  The test command fuzzes
 * targets over it and expects those reports (targets/tests/CMakeLists.txt).
 *
 * One OS thread per cache at a time (the deterministic harness); no lock. */
#include "hint.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LEAKY_KEEP 10 /* freed objects a cache keeps; the rest go back to free() */

struct leaky_cache {
	size_t size;          /* object size (at least a pointer) */
	size_t align;         /* alignment (at least 16) */
	size_t link_off;      /* where a freed object holds the free-list link */
	obq_ctor_fn ctor;     /* run on fresh objects only */
	void *free_list;      /* LIFO of kept freed objects, linked through link_off */
	unsigned nfree;       /* objects on free_list (<= LEAKY_KEEP) */
	void **live;          /* objects handed out and not freed (destroy frees them) */
	size_t nlive, caplive;
};

static void *l_create(const char *name, size_t size, size_t align, unsigned flags,
		      obq_ctor_fn ctor)
{
	(void)name;
	(void)flags; /* OBQ_TYPESAFE_BY_RCU accepted, and ignored */
	struct leaky_cache *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->size = size < sizeof(void *) ? sizeof(void *) : size;
	c->align = align < 16 ? 16 : align;
	c->link_off = c->size >= 8 + sizeof(void *) ? 8 : 0;
	c->ctor = ctor;
	return c;
}

static void **link_of(const struct leaky_cache *c, void *obj)
{
	return (void **)((char *)obj + c->link_off);
}

static int live_add(struct leaky_cache *c, void *p)
{
	if (c->nlive == c->caplive) {
		size_t n = c->caplive ? 2 * c->caplive : 64;
		void **a = realloc(c->live, n * sizeof *a);
		if (a == NULL)
			return -1;
		c->live = a;
		c->caplive = n;
	}
	c->live[c->nlive++] = p;
	return 0;
}

static void live_del(struct leaky_cache *c, void *p)
{
	for (size_t i = c->nlive; i-- > 0;)
		if (c->live[i] == p) {
			c->live[i] = c->live[--c->nlive];
			return;
		}
}

static void *l_alloc(void *cache)
{
	struct leaky_cache *c = cache;
	void *p = c->free_list;
	if (p != NULL) {
		c->free_list = *link_of(c, p);
		c->nfree--;
	} else {
		size_t sz = (c->size + c->align - 1) & ~(c->align - 1);
		p = aligned_alloc(c->align, sz);
		if (p == NULL) {
			errno = ENOMEM;
			return NULL;
		}
		if (c->ctor)
			c->ctor(p);
	}
	if (live_add(c, p) < 0) {
		free(p);
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

static void l_free(void *cache, void *obj)
{
	struct leaky_cache *c = cache;
	if (obj == NULL)
		return;
	live_del(c, obj);
	if (c->nfree < LEAKY_KEEP) {
		*link_of(c, obj) = c->free_list; /* the link lives in the freed object */
		c->free_list = obj;
		c->nfree++;
	} else {
		free(obj); /* back to the system at once: no grace period */
	}
}

static void l_destroy(void *cache)
{
	struct leaky_cache *c = cache;
	while (c->free_list) {
		void *p = c->free_list;
		c->free_list = *link_of(c, p);
		free(p);
	}
	for (size_t i = 0; i < c->nlive; i++)
		free(c->live[i]);
	free(c->live);
	free(c);
}

const struct obq_h_allocator obq_h_allocator_leaky = {
	.name = "leaky", .type_stable = 1 /* claimed, not true */, .sched_points = 0,
	.create = l_create, .alloc = l_alloc, .free = l_free, .destroy = l_destroy,
	.guard = NULL, .incarnation = NULL,
};
