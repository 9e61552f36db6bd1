/* fork.h (internal) — the allocator's fork(2) handlers (fork.c) and the per-module
 * halves they call: *_prepare takes the module's locks in lock order, *_release
 * drops them (in the parent, and in the child where the forking thread holds them). */
#ifndef OBQ_FORK_H
#define OBQ_FORK_H

void _obq_fork_init(void); /* install the handlers once (obq_cache_create) */

void _obq_cache_fork_prepare(void); /* cache.c: registry, then each live cache's locks */
void _obq_cache_fork_release(void);
void _obq_slab_fork_prepare(void);  /* slab.c: quarantine, meta pool */
void _obq_slab_fork_release(void);
void _obq_os_fork_prepare(void);    /* os.c: region cache */
void _obq_os_fork_release(void);
void _obq_error_fork_prepare(void); /* error.c: tool kinds' names */
void _obq_error_fork_release(void);

#endif /* OBQ_FORK_H */
