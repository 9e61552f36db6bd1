/* myslab.c — the project's own type-stable allocator (contract in myslab.h). */
#include "myslab.h"

#include <pthread.h>
#include <stdlib.h>

struct slab {
	struct slab *next;          /* the cache's slabs */
	/* MYSLAB_PER_SLAB objects of c->size bytes, 16-byte aligned as the adapter
	 * promises (at offset 8, after `next`, they were not: slab_api over myslab found it) */
	_Alignas(16) unsigned char mem[];
};

struct myslab {
	pthread_mutex_t lock;       /* protects everything below */
	size_t size;                /* object size, rounded up to 16 */
	void (*ctor)(void *);       /* once per slot, when its slab is made */
	struct slab *slabs;         /* every slab ever made */
	void **free;                /* stack of free slots (outside the objects) */
	size_t nfree, cap;          /* stack depth and capacity (cap >= nslots: every slot
				     * may be free at once) */
	size_t nslots;              /* slots of every slab made */
};

struct myslab *myslab_create(size_t size, void (*ctor)(void *))
{
	struct myslab *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	c->size = (size + 15) & ~(size_t)15;
	c->ctor = ctor;
	return c;
}

static int grow(struct myslab *c)
{
	struct slab *s = aligned_alloc(16, (sizeof *s + MYSLAB_PER_SLAB * c->size + 15) & ~(size_t)15);
	if (!s)
		return -1;
	/* The stack must hold every slot, not only the free ones of now: sized by the free
	 * count, it overflowed once 64 objects were live and all came back (rcu_gp's
	 * stress binary over myslab found it: frees beyond the capacity wrote past it). */
	if (c->nslots + MYSLAB_PER_SLAB > c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		void **v = realloc(c->free, cap * sizeof *v);
		if (!v) {
			free(s);
			return -1;
		}
		c->free = v;
		c->cap = cap;
	}
	s->next = c->slabs;
	c->slabs = s;
	c->nslots += MYSLAB_PER_SLAB;
	for (unsigned i = MYSLAB_PER_SLAB; i-- > 0;) {
		void *o = s->mem + i * c->size;
		if (c->ctor)
			c->ctor(o);
		c->free[c->nfree++] = o;
	}
	return 0;
}

void *myslab_alloc(struct myslab *c)
{
	void *o = NULL;
	pthread_mutex_lock(&c->lock);
	if (c->nfree || grow(c) == 0)
		o = c->free[--c->nfree];
	pthread_mutex_unlock(&c->lock);
	return o;
}

void myslab_free(struct myslab *c, void *obj)
{
	pthread_mutex_lock(&c->lock);
	c->free[c->nfree++] = obj; /* cannot overflow: at most every slot is free */
	pthread_mutex_unlock(&c->lock);
}

void myslab_destroy(struct myslab *c)
{
	while (c->slabs) {
		struct slab *s = c->slabs;
		c->slabs = s->next;
		free(s);
	}
	free(c->free);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
