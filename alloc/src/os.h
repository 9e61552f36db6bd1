/* os.h — the primitive OS layer: the only place (with os.c) that knows which platform
 * it runs on.  Everything above it (rcu, cache, checker) calls these functions and
 * never #ifdefs on the OS.
 *
 * Supported: Linux (tested), macOS and the BSDs (written to their documented APIs,
 * untested on this project's machines), with a plain POSIX fallback. */
#ifndef OBQ_OS_H
#define OBQ_OS_H

#include <stddef.h>
#include <stdint.h>

#include <oblique/common.h>

/* Page size of the system (cached after the first call). */
size_t _obq_os_page_size(void);

/* Map `size` bytes of zeroed, readable and writable memory whose start is a multiple
 * of `align` (a power of two; page size or more).  NULL and errno=ENOMEM on failure. */
void *_obq_os_map(size_t size, size_t align);

/* Give a mapping made by _obq_os_map back to the system (under ASan its shadow is
 * unpoisoned first, so a later mapping at the same address starts clean). */
void _obq_os_unmap(void *p, size_t size);

/* Region cache: a bounded, process-wide set of slab mappings kept after their slab
 * went back (instead of unmapping them), handed out again for slabs of the same size.
 * It saves a map, an unmap and the page faults of fresh zero pages per slab — the bulk
 * of a fuzz harness run that makes and destroys its caches every time.
 *
 * A region is `size` bytes of which the first `dirty` may hold old data (the rest has
 * never been written since it was mapped).  _obq_os_region_take returns a region of
 * exactly `size` bytes whose first `used` bytes are zero and addressable (ASan
 * unpoisoned, Valgrind undefined-then-zeroed) and stores in *dirty how many bytes may
 * hold old data (>= used), or NULL when none is cached (or map fault injection says
 * fail).  Its tail beyond `used` keeps whatever sanitizer state it had.
 * _obq_os_region_release keeps the region (at most 64 regions, 16 MiB, 1 MiB each)
 * or unmaps it with _obq_os_unmap. */
void *_obq_os_region_take(size_t size, size_t used, size_t *dirty);
void _obq_os_region_release(void *p, size_t size, size_t dirty);

/* Access rights of a page-aligned range. 0 or -errno. */
enum obq_os_prot { OBQ_OS_NOACCESS = 0, OBQ_OS_READ = 1, OBQ_OS_READWRITE = 3 };
int _obq_os_protect(void *p, size_t size, enum obq_os_prot prot);

/* Let the system reclaim the physical pages of a page-aligned range; the range stays
 * mapped and reads back as zero (Linux) or as unspecified contents (elsewhere). */
void _obq_os_decommit(void *p, size_t size);

/* Monotonic clock in nanoseconds. */
uint64_t _obq_os_now_ns(void);

/* Sleep for about `ns` nanoseconds. */
void _obq_os_sleep_ns(uint64_t ns);

/* Give the CPU to another thread. */
void _obq_os_yield(void);

/* The OS's id of the calling thread (for reports). */
unsigned long _obq_os_thread_id(void);

/* Process-wide memory barrier (membarrier(2) MEMBARRIER_CMD_PRIVATE_EXPEDITED on
 * Linux): after it returns, every other running thread of the process has executed a
 * full memory barrier.  _obq_os_membarrier_init() registers the process and returns 1
 * when the facility exists, 0 when it does not (callers then use fences on both
 * sides).  _obq_os_membarrier() returns 0 or -errno. */
int _obq_os_membarrier_init(void);
int _obq_os_membarrier(void);

/* Futex-style wait/wake on a 32-bit word shared by the threads of this process
 * (Linux FUTEX_*_PRIVATE).  _obq_os_futex_supported() is 1 where they work; elsewhere
 * wait returns at once and wake does nothing, so callers must loop with a backoff.
 * wait: sleeps while *addr == val, at most timeout_ns (0: no limit); spurious wakeups
 * happen.  wake: wakes up to n waiters. */
int _obq_os_futex_supported(void);
void _obq_os_futex_wait(_Atomic int *addr, int val, uint64_t timeout_ns);
void _obq_os_futex_wake(_Atomic int *addr, int n);

/* Fault injection for tests: the next `n` successful _obq_os_map calls succeed, then
 * every later one fails with ENOMEM until the limit is reset with n = -1 (default). */
void _obq_os_map_fail_after(long n);

/* Busy-wait hint: the one definition is obq__cpu_relax (oblique/common.h, which the
 * inline lock primitives of oblique/access.h need too). */
#define _obq_os_cpu_relax() obq__cpu_relax()

#endif /* OBQ_OS_H */
