/* fork.c — fork(2) from a multi-threaded program: the child gets the allocator with no
 * lock held by a thread that does not exist there.
 *
 * As jemalloc and mimalloc do, a prepare handler takes every allocator lock in lock
 * order, and the parent and child handlers release them (the child's copy of each
 * mutex is held by the forking thread, the only one left, so it may unlock it):
 *
 *   registry_lock (cache.c)
 *     -> per live cache: depot_lock -> pending_lock -> slab_lock (in cache-id order)
 *     -> quarantine_lock -> meta_lock (slab.c) -> region_lock (os.c) -> tool_lock (error.c)
 *
 * which is cache.h's order (registry -> depot -> slab -> quarantine and meta;
 * pending -> slab) with the leaves last.  The checker's locks (sanitizers/) are leaves
 * taken inside the allocator's: its own handlers must run after ours at prepare.
 * pthread_atfork runs prepare handlers in the reverse order of registration, and the
 * checker registers from a constructor, before main; ours is registered at the first
 * obq_cache_create — later, so it runs first.  The RCU domain's handlers
 * (rcu_common.c) are independent: no allocator lock is held across an RCU call, and
 * the callback worker runs callbacks with no RCU lock held.
 *
 * What the child has (docs/allocator.md, "fork"): every cache, usable; objects that
 * other threads had in their magazines, or allocated, at the fork stay where they were
 * — unreachable in the child unless it knows them (a cache with such live objects
 * reports them at destroy, as any leak). */
#include "internal.h"
#include "fork.h"

#include <pthread.h>

static void prepare(void)
{
	_obq_cache_fork_prepare();
	_obq_slab_fork_prepare();
	_obq_os_fork_prepare();
	_obq_error_fork_prepare();
}

/* Parent and child alike: release in the reverse order. */
static void release(void)
{
	_obq_error_fork_release();
	_obq_os_fork_release();
	_obq_slab_fork_release();
	_obq_cache_fork_release();
}

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void install(void)
{
	pthread_atfork(prepare, release, release);
}

void _obq_fork_init(void)
{
	pthread_once(&once, install);
}
