/* myslab.h — the project's own allocator: a minimal type-stable slab allocator.
 *
 * Objects of one cache live in slabs of MYSLAB_PER_SLAB slots that are never given back
 * before myslab_destroy(): a freed object stays an object of its cache for the cache's
 * whole life (type-stable, and stricter than SLAB_TYPESAFE_BY_RCU, which may return an
 * empty slab after a grace period).  Free slots are reused LIFO — the most recently
 * freed object is the next one allocated, at the same address.  The constructor runs
 * once per slot, when its slab is made; alloc and free never write into the object.
 * Thread-safe (one mutex per cache). */
#ifndef MYSLAB_H
#define MYSLAB_H
#include <stddef.h>

#define MYSLAB_PER_SLAB 8

struct myslab;
struct myslab *myslab_create(size_t size, void (*ctor)(void *));
void *myslab_alloc(struct myslab *c);       /* NULL when out of memory */
void myslab_free(struct myslab *c, void *obj);
void myslab_destroy(struct myslab *c);      /* every slab, live objects included */
#endif
