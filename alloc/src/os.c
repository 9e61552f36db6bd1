/* os.c — the primitive OS layer (see os.h): page mapping, protection, clock, thread
 * ids and the process-wide barrier.  Per-platform code lives here and nowhere else.
 *
 * Tested: Linux (glibc).  Written but untested: macOS (MAP_ANON, pthread_threadid_np,
 * no membarrier), FreeBSD (pthread_getthreadid_np), NetBSD (_lwp_self), OpenBSD
 * (getthrid); other POSIX systems take the fallbacks. */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif
#include "os.h"
#include "fork.h"

#include <stdatomic.h>
#include <oblique/common.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__)
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#elif defined(__APPLE__)
#include <pthread.h>
#elif defined(__FreeBSD__)
#include <pthread_np.h>
#elif defined(__NetBSD__)
#include <lwp.h>
#endif

#include <oblique/bits/track.h> /* ASan and Valgrind: through the seam only */
#include <string.h>

#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS MAP_ANON /* macOS, older BSDs */
#endif

static _Atomic size_t page_size_cache;

size_t _obq_os_page_size(void)
{
	/* Relaxed: every thread computes the same value; caching is an optimisation. */
	size_t ps = atomic_load_explicit(&page_size_cache, memory_order_relaxed);
	if (OBQ_UNLIKELY(ps == 0)) {
		long v = sysconf(_SC_PAGESIZE);
		ps = v > 0 ? (size_t)v : 4096;
		atomic_store_explicit(&page_size_cache, ps, memory_order_relaxed);
	}
	return ps;
}

/* Fault injection: remaining successful maps, or -1 for no limit. */
static _Atomic long map_budget = -1;

void _obq_os_map_fail_after(long n)
{
	/* Relaxed: a test sets it while no other thread maps. */
	atomic_store_explicit(&map_budget, n, memory_order_relaxed);
}

static int map_budget_take(void)
{
	/* Relaxed: only the count matters, not ordering with other memory. */
	long b = atomic_load_explicit(&map_budget, memory_order_relaxed);
	while (b >= 0) {
		if (b == 0)
			return 0;
		if (atomic_compare_exchange_weak_explicit(&map_budget, &b, b - 1, memory_order_relaxed,
						memory_order_relaxed))
			return 1;
	}
	return 1;
}

static void *map_raw(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void *_obq_os_map(size_t size, size_t align)
{
	size_t ps = _obq_os_page_size();
	if (align < ps)
		align = ps;
	size = (size + ps - 1) & ~(ps - 1);
	if (!map_budget_take()) {
		errno = ENOMEM;
		return NULL;
	}
	/* First try an exact mapping: the kernel often hands out aligned addresses. */
	char *p = map_raw(size);
	if (p == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (((uintptr_t)p & (align - 1)) == 0)
		return p;
	munmap(p, size);
	/* Over-map by align and trim both ends. */
	size_t big = size + align - ps;
	if (big < size) {
		errno = ENOMEM;
		return NULL;
	}
	p = map_raw(big);
	if (p == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	uintptr_t start = ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
	size_t head = start - (uintptr_t)p;
	size_t tail = big - head - size;
	if (head)
		munmap(p, head);
	if (tail)
		munmap((char *)start + size, tail);
	return (void *)start;
}

void _obq_os_unmap(void *p, size_t size)
{
	if (p == NULL || size == 0)
		return;
	/* The checker may have poisoned slots; a later mapping here must start clean. */
	OBQ_TRACK_ASAN_UNPOISON(p, size);
	munmap(p, size);
}

/* ---------------------------------------------------------------------------------
 * Region cache (see os.h).  A small array used as a stack (the most recently released
 * region first: its pages and shadow are the warmest), under region_lock, a leaf lock
 * held for a scan of at most REGION_MAX entries.
 *
 * Decay (Linux; as jemalloc's dirty_decay_ms): a region that stayed in the cache for
 * REGION_DECAY_NS gives its pages back (madvise MADV_DONTNEED: still mapped, reads
 * zero, no longer resident; dirty = 0).  Checked at most every REGION_PURGE_EVERY_NS,
 * by a take or a release, under region_lock.  Without it the cache held up to 16 MiB
 * resident in regions of sizes no new slab asked for, and a long stress run's RSS kept
 * creeping up as the cache filled (docs/allocator.md, "Resident memory over time"). */

#define REGION_MAX       64                   /* regions kept */
#define REGION_BYTES_MAX ((size_t)16 << 20)   /* bytes kept, all regions */
#define REGION_ONE_MAX   ((size_t)1 << 20)    /* larger regions are always unmapped */
#define REGION_DECAY_NS  (10ull * 1000000000u) /* idle time after which pages go back */
#define REGION_PURGE_EVERY_NS 1000000000ull    /* at most one decay pass a second */

static pthread_mutex_t region_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	void *p;      /* the mapping */
	size_t size;  /* its bytes */
	size_t dirty; /* leading bytes that may hold old data */
	uint64_t since; /* when it entered the cache (_obq_os_now_ns) */
} regions[REGION_MAX];            /* [0, nregions), under region_lock */
static unsigned nregions;         /* under region_lock */
static size_t region_bytes;       /* sum of sizes, under region_lock */
static uint64_t region_purged_ns; /* last decay pass, under region_lock */
/* 0 only while regions[] is in canonical order (obq_sched_canonical_regions): set by
 * every take and release, so the sort is skipped when no slab came or went.  Under
 * region_lock. */
static int regions_unsorted;

/* With region_lock held: the decay pass (see above). */
static void region_decay(uint64_t now)
{
#if defined(__linux__) && defined(MADV_DONTNEED)
	if (now - region_purged_ns < REGION_PURGE_EVERY_NS)
		return;
	region_purged_ns = now;
	for (unsigned i = 0; i < nregions; i++) {
		if (regions[i].dirty == 0 || now - regions[i].since < REGION_DECAY_NS)
			continue;
		/* Linux: private anonymous pages read zero after MADV_DONTNEED. */
		if (madvise(regions[i].p, regions[i].size, MADV_DONTNEED) == 0)
			regions[i].dirty = 0;
	}
#else
	(void)now; /* elsewhere MADV_DONTNEED need not zero the pages: no decay */
#endif
}

/* fork (fork.c): the region cache's lock, a leaf. */
void _obq_os_fork_prepare(void)
{
	pthread_mutex_lock(&region_lock);
}

void _obq_os_fork_release(void)
{
	pthread_mutex_unlock(&region_lock);
}

void *_obq_os_region_take(size_t size, size_t used, size_t *dirty)
{
	void *p = NULL;
	size_t d = 0;
	uint64_t now = _obq_os_now_ns();
	pthread_mutex_lock(&region_lock);
	region_decay(now);
	for (unsigned i = nregions; i-- > 0;) {
		if (regions[i].size != size)
			continue;
		if (!map_budget_take())
			break; /* fault injection: a cached region counts as a map */
		p = regions[i].p;
		d = regions[i].dirty;
		regions[i] = regions[--nregions];
		region_bytes -= size;
		regions_unsorted = 1;
		break;
	}
	pthread_mutex_unlock(&region_lock);
	if (p == NULL)
		return NULL;
	if (used > size)
		used = size;
	/* The checker left the released slab poisoned: make the part we hand out
	 * addressable; the tail stays as it was (the checker poisons it again). */
	OBQ_TRACK_ASAN_UNPOISON(p, used);
	OBQ_TRACK_VG_UNDEFINED(p, used);
	/* As fresh as a new mapping where it matters: the bytes handed out read zero. */
	memset(p, 0, used < d ? used : d);
	*dirty = used > d ? used : d;
	return p;
}

void _obq_os_region_release(void *p, size_t size, size_t dirty)
{
	if (p == NULL || size == 0)
		return;
	if (size <= REGION_ONE_MAX) {
		int kept = 0;
		uint64_t now = _obq_os_now_ns();
		pthread_mutex_lock(&region_lock);
		region_decay(now);
		if (nregions < REGION_MAX && region_bytes + size <= REGION_BYTES_MAX) {
			regions[nregions].p = p;
			regions[nregions].size = size;
			regions[nregions].dirty = dirty < size ? dirty : size;
			regions[nregions].since = now;
			nregions++;
			region_bytes += size;
			regions_unsorted = 1;
			kept = 1;
		}
		pthread_mutex_unlock(&region_lock);
		if (kept)
			return;
	}
	_obq_os_unmap(p, size);
}

/* Determinism between runs (declared in oblique/testing.h; os.c includes no public
 * header above common.h and the seam): the cache in a canonical order — by size, then address, the
 * lowest address on top (taken first) — so which region a slab gets no longer depends
 * on the order the previous run released them in.  An insertion sort of at most
 * REGION_MAX entries, under region_lock. */
void obq_sched_canonical_regions(void)
{
	pthread_mutex_lock(&region_lock);
	if (!regions_unsorted) {
		pthread_mutex_unlock(&region_lock);
		return;
	}
	/* descending (size, address): index nregions-1 is the lowest */
#define REGION_BEFORE(a, b) ((a).size < (b).size || ((a).size == (b).size && \
				 (uintptr_t)(a).p < (uintptr_t)(b).p))
	for (unsigned i = 1; i < nregions; i++) {
		if (!REGION_BEFORE(regions[i - 1], regions[i]))
			continue; /* in place already: no copy (most entries, run after run) */
		__typeof__(regions[0]) r = regions[i];
		unsigned j = i;
		while (j > 0 && REGION_BEFORE(regions[j - 1], r)) {
			regions[j] = regions[j - 1];
			j--;
		}
		regions[j] = r;
	}
#undef REGION_BEFORE
	regions_unsorted = 0;
	pthread_mutex_unlock(&region_lock);
}

int _obq_os_protect(void *p, size_t size, enum obq_os_prot prot)
{
	int pr = PROT_NONE;
	if (prot & OBQ_OS_READ)
		pr |= PROT_READ;
	if (prot & 2)
		pr |= PROT_WRITE;
	return mprotect(p, size, pr) == 0 ? 0 : -errno;
}

void _obq_os_decommit(void *p, size_t size)
{
#if defined(__linux__)
	madvise(p, size, MADV_DONTNEED);
#elif defined(MADV_FREE)
	madvise(p, size, MADV_FREE);
#else
	posix_madvise(p, size, POSIX_MADV_DONTNEED);
#endif
}

uint64_t _obq_os_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void _obq_os_sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
			       .tv_nsec = (long)(ns % 1000000000u) };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

void _obq_os_yield(void)
{
	sched_yield();
}

unsigned long _obq_os_thread_id(void)
{
#if defined(__linux__)
	return (unsigned long)syscall(SYS_gettid);
#elif defined(__APPLE__)
	uint64_t id = 0;
	pthread_threadid_np(NULL, &id);
	return (unsigned long)id;
#elif defined(__FreeBSD__)
	return (unsigned long)pthread_getthreadid_np();
#elif defined(__NetBSD__)
	return (unsigned long)_lwp_self();
#elif defined(__OpenBSD__)
	return (unsigned long)getthrid();
#else
	return (unsigned long)(uintptr_t)pthread_self();
#endif
}

int _obq_os_membarrier_init(void)
{
#if defined(__linux__) && defined(SYS_membarrier)
	long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0);
	if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED))
		return 0;
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0) != 0)
		return 0;
	return 1;
#else
	return 0;
#endif
}

int _obq_os_membarrier(void)
{
#if defined(__linux__) && defined(SYS_membarrier)
	return syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) == 0 ? 0 : -errno;
#else
	return -ENOSYS;
#endif
}

int _obq_os_futex_supported(void)
{
#if defined(__linux__) && defined(SYS_futex)
	return 1;
#else
	return 0;
#endif
}

void _obq_os_futex_wait(_Atomic int *addr, int val, uint64_t timeout_ns)
{
#if defined(__linux__) && defined(SYS_futex)
	struct timespec ts = { .tv_sec = (time_t)(timeout_ns / 1000000000u),
			       .tv_nsec = (long)(timeout_ns % 1000000000u) };
	/* EAGAIN (value changed), EINTR and ETIMEDOUT all just return. */
	syscall(SYS_futex, (int *)addr, FUTEX_WAIT_PRIVATE, val, timeout_ns ? &ts : NULL, NULL, 0);
#else
	(void)addr; (void)val; (void)timeout_ns;
#endif
}

void _obq_os_futex_wake(_Atomic int *addr, int n)
{
#if defined(__linux__) && defined(SYS_futex)
	syscall(SYS_futex, (int *)addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
#else
	(void)addr; (void)n;
#endif
}
