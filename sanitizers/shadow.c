/* shadow.c — the checker's own shadow state: per-slab / per-slot records (who allocated,
 * freed and released each slot, and when in grace periods), a stack depot that stores
 * each distinct alloc/free stack once, the per-thread checker data, the quarantine of
 * RELEASED slabs, and the checker's options.
 *
 * Why a quarantine: a RELEASED slab's memory would go back to the system at once, and a
 * late reader touching it would crash with a bare SEGV (or, worse, read a new mapping).
 * Keeping the last few released slabs mapped — poisoned under ASan / Valgrind — means a
 * late touch through the access layer is reported as released-access with the slab's
 * history, and a plain touch gets ASan's precise report.  Bounded FIFO: at most
 * OBQ_QUARANTINE_SLABS slabs (default 64) and OBQ_QUARANTINE_MB MiB (default 64); the
 * oldest leaves first through _obq_slab_quarantine_done (unpoison, unmap).
 *
 * The stack depot (as ASan's StackDepot, much smaller): entries are immutable once
 * published; a bucket chain is pushed with a release CAS and walked after an acquire
 * load, so a reader sees every entry of the chain fully written.  Ids index chunks
 * that are allocated on demand and never freed.  A race may store one stack twice;
 * that costs an entry, never correctness.
 *
 * Locks: quarantine_lock (the FIFO), pool_lock (free chk_slab blocks).  Neither is held
 * across a call into the allocator or a report. */
#define _GNU_SOURCE 1 /* pthread_getattr_np */
#include "check_internal.h"
#include "os.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#if defined(__GLIBC__) || defined(__APPLE__)
#include <execinfo.h>
#define HAVE_BACKTRACE 1
#endif
/* Frame-pointer unwinding: only where every frame keeps one (the sanitizer builds add
 * -fno-omit-frame-pointer to every target, cmake/ObqFlags.cmake). */
#if (OBQ_ASAN || OBQ_TSAN) && (defined(__x86_64__) || defined(__aarch64__)) && defined(__GLIBC__)
#define CHK_FP_WALK 1
#include <pthread.h>
#else
#define CHK_FP_WALK 0
#endif

/* ---------------------------------------------------------------------------------
 * Options. */

static struct chk_options opts;
static pthread_once_t opts_once = PTHREAD_ONCE_INIT;

static size_t env_size(const char *name, size_t dflt, size_t max)
{
	const char *e = getenv(name);
	if (e == NULL || *e == '\0')
		return dflt;
	char *end;
	unsigned long long v = strtoull(e, &end, 10);
	if (*end != '\0')
		return dflt;
	return v > max ? max : (size_t)v;
}

static void opts_init(void)
{
	/* Default: sanitizer builds are compiled with frame pointers, so 4 frames per
	 * alloc/free cost a few loads (a frame-pointer walk, as ASan's fast unwinder).
	 * Other builds record the call site only: glibc's backtrace() costs dozens of
	 * alloc+free pairs per call (docs/benchmarks.md, "Figures quoted by the design");
	 * OBQ_CHECK_STACK=N asks for it anyway.  The
	 * sim variant runs virtual threads on coroutine stacks: call sites only. */
#if OBQ_SCHED_POINTS || !(defined(HAVE_BACKTRACE) || CHK_FP_WALK)
	unsigned depth = 0;
#elif CHK_FP_WALK
	unsigned depth = 4;
#else
	unsigned depth = 0;
#endif
	opts.stack_depth = (unsigned)env_size("OBQ_CHECK_STACK", depth, CHK_STACK_MAX);
#if !defined(HAVE_BACKTRACE) && !CHK_FP_WALK
	opts.stack_depth = 0;
#endif
	opts.quarantine_slabs = env_size("OBQ_QUARANTINE_SLABS", 64, 1u << 20);
	opts.quarantine_bytes = env_size("OBQ_QUARANTINE_MB", 64, 1u << 20) << 20;
}

const struct chk_options *_obq_chk_options(void)
{
	pthread_once(&opts_once, opts_init);
	return &opts;
}

unsigned long _obq_chk_gp_now(void)
{
	return obq_rcu_gp_count();
}

/* ---------------------------------------------------------------------------------
 * Per-thread data. */

struct obq_check_thread *_obq_chk_thread(struct obq_thread *t)
{
	if (OBQ_LIKELY(t->check != NULL))
		return t->check;
	t->check = calloc(1, sizeof *t->check);
	return t->check;
}

void _obq_check_thread_exit(struct obq_thread *t)
{
	free(t->check);
	t->check = NULL;
}

static inline unsigned seen_index(const void *obj)
{
	uintptr_t a = (uintptr_t)obj;
	return (unsigned)((a >> 4) ^ (a >> 10) ^ (a >> 16)) & (CHK_SEEN - 1);
}

static inline uint32_t seen_serial(const struct obq_slot_info *si)
{
	/* Relaxed: a shadow field (check_internal.h). */
	return si->check ? __atomic_load_n(&((const struct chk_slab *)si->check)->serial,
					   __ATOMIC_RELAXED) : 0;
}

void _obq_chk_seen_note(struct obq_check_thread *ct, const struct obq_slot_info *si)
{
	unsigned i = seen_index(si->object);
	ct->seen[i].obj = si->object;
	ct->seen[i].gen = si->generation;
	ct->seen[i].serial = seen_serial(si);
}

int _obq_chk_seen_get(struct obq_check_thread *ct, const struct obq_slot_info *si,
		      uint64_t *gen)
{
	unsigned i = seen_index(si->object);
	if (ct->seen[i].obj != si->object || ct->seen[i].serial != seen_serial(si))
		return 0;
	*gen = ct->seen[i].gen;
	return 1;
}

/* ---------------------------------------------------------------------------------
 * chk_slab pool: blocks by power-of-two capacity, mapped, recycled, never unmapped
 * (see check_internal.h: stale lookups may still read them). */

#define POOL_MIN_SHIFT 4
#define POOL_MAX_SHIFT 20
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct chk_slab *pool_free[POOL_MAX_SHIFT + 1]; /* under pool_lock */

static unsigned pool_class(size_t nslots)
{
	unsigned k = POOL_MIN_SHIFT;
	while (((size_t)1 << k) < nslots && k < POOL_MAX_SHIFT)
		k++;
	return k;
}

struct chk_slab *_obq_chk_slab_alloc(size_t nslots)
{
	unsigned k = pool_class(nslots);
	size_t cap = (size_t)1 << k;
	if (cap < nslots)
		return NULL;
	pthread_mutex_lock(&pool_lock);
	struct chk_slab *cs = pool_free[k];
	if (cs)
		pool_free[k] = cs->pool_next;
	pthread_mutex_unlock(&pool_lock);
	if (cs == NULL) {
		/* Mapped, not malloc'd: the only pointer to a block lives in the allocator's
		 * slab metadata, which is mapped memory LeakSanitizer does not scan. */
		size_t pg = _obq_os_page_size();
		size_t bytes = (sizeof *cs + cap * sizeof(struct chk_slot) + pg - 1) & ~(pg - 1);
		cs = _obq_os_map(bytes, 0);
		if (cs == NULL)
			return NULL;
	} else {
		memset(cs, 0, sizeof *cs + cap * sizeof(struct chk_slot));
	}
	cs->cap = cap;
	return cs;
}

static void pool_put(struct chk_slab *cs)
{
	unsigned k = pool_class(cs->cap);
	pthread_mutex_lock(&pool_lock);
	cs->pool_next = pool_free[k];
	pool_free[k] = cs;
	pthread_mutex_unlock(&pool_lock);
}

/* ---------------------------------------------------------------------------------
 * Stack depot. */

#define DEPOT_CHUNK_SHIFT 14
#define DEPOT_CHUNK       (1u << DEPOT_CHUNK_SHIFT)
#define DEPOT_CHUNKS      256
#define DEPOT_BUCKETS     (1u << 14)

struct depot_ent {
	uint32_t next;                /* older entry in the bucket (immutable once published) */
	uint32_t hash;                /* hash of the frames */
	uint32_t n;                   /* frames */
	uint32_t pad;                 /* alignment */
	void *pc[CHK_STACK_MAX];      /* the frames, innermost first */
};

static struct depot_ent *depot_chunks[DEPOT_CHUNKS]; /* chunk table, filled on demand */
static uint32_t depot_top = 1;                       /* next free id; 0 means "none" */
static uint32_t depot_bucket[DEPOT_BUCKETS];         /* chain heads (ids) */

static struct depot_ent *depot_ent(uint32_t id)
{
	/* Acquire: pairs with the release CAS that installed the chunk. */
	struct depot_ent *ch = __atomic_load_n(&depot_chunks[id >> DEPOT_CHUNK_SHIFT], __ATOMIC_ACQUIRE);
	return ch ? &ch[id & (DEPOT_CHUNK - 1)] : NULL;
}

static uint32_t depot_hash(void *const *pc, unsigned n)
{
	uint64_t h = 1469598103934665603ull;
	for (unsigned i = 0; i < n; i++) {
		h ^= (uint64_t)(uintptr_t)pc[i];
		h *= 1099511628211ull;
	}
	return (uint32_t)(h ^ (h >> 32));
}

static uint32_t depot_put(void *const *pc, unsigned n)
{
	uint32_t h = depot_hash(pc, n);
	uint32_t *b = &depot_bucket[h & (DEPOT_BUCKETS - 1)];
	/* Acquire: entries reachable from the head were fully written before their
	 * release CAS (RMWs on the head form one release sequence). */
	for (uint32_t id = __atomic_load_n(b, __ATOMIC_ACQUIRE); id; ) {
		struct depot_ent *e = depot_ent(id);
		if (e == NULL)
			break;
		if (e->hash == h && e->n == n && memcmp(e->pc, pc, n * sizeof(void *)) == 0)
			return id;
		id = e->next;
	}
	/* Relaxed: only uniqueness of the id matters. */
	uint32_t id = __atomic_fetch_add(&depot_top, 1, __ATOMIC_RELAXED);
	unsigned ci = id >> DEPOT_CHUNK_SHIFT;
	if (ci >= DEPOT_CHUNKS)
		return 0; /* full: stacks are no longer recorded */
	if (__atomic_load_n(&depot_chunks[ci], __ATOMIC_ACQUIRE) == NULL) {
		struct depot_ent *ch = calloc(DEPOT_CHUNK, sizeof *ch);
		if (ch == NULL)
			return 0;
		struct depot_ent *expect = NULL;
		/* Release: the zeroed chunk before its publication; acquire on failure: we
		 * use the winner's chunk. */
		if (!__atomic_compare_exchange_n(&depot_chunks[ci], &expect, ch, 0, __ATOMIC_RELEASE,
						 __ATOMIC_ACQUIRE))
			free(ch);
	}
	struct depot_ent *e = depot_ent(id);
	e->hash = h;
	e->n = n;
	memcpy(e->pc, pc, n * sizeof(void *));
	/* Relaxed: the CAS below re-reads it. */
	uint32_t head = __atomic_load_n(b, __ATOMIC_RELAXED);
	do {
		e->next = head;
		/* Release: the entry's fields before its publication in the chain. */
	} while (!__atomic_compare_exchange_n(b, &head, id, 1, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
	return id;
}

#if CHK_FP_WALK
/* This thread's stack bounds, for the frame-pointer walk (0/0: unknown). */
static __thread uintptr_t stack_lo, stack_hi;

static OBQ_NO_ASAN OBQ_NOINLINE int fp_walk(void **pc, int max)
{
	if (stack_hi == 0) {
		pthread_attr_t a;
		void *base;
		size_t size;
		stack_hi = 1; /* tried */
		if (pthread_getattr_np(pthread_self(), &a) == 0) {
			if (pthread_attr_getstack(&a, &base, &size) == 0) {
				stack_lo = (uintptr_t)base;
				stack_hi = (uintptr_t)base + size;
			}
			pthread_attr_destroy(&a);
		}
	}
	uintptr_t fp = (uintptr_t)__builtin_frame_address(0);
	int n = 0;
	/* Each frame: fp[0] = caller's fp, fp[1] = return address.  Stop at anything
	 * outside this thread's stack, misaligned or not strictly increasing (a frame
	 * without a frame pointer, a coroutine stack, the outermost frame). */
	while (n < max && fp >= stack_lo && fp + 2 * sizeof(void *) <= stack_hi && !(fp & 7)) {
		void *ret = ((void **)fp)[1];
		uintptr_t next = ((uintptr_t *)fp)[0];
		if (ret == NULL)
			break;
		pc[n++] = ret;
		if (next <= fp)
			break;
		fp = next;
	}
	return n;
}
#endif

/* The user-function hook (obq_check_set_user_fn_hook): accessed only with __atomic
 * builtins. */
static const void *(*user_fn)(void);

void _obq_check_set_user_fn(const void *(*fn)(void))
{
	/* Release: a hook is read (acquire) by any thread that records a stack. */
	__atomic_store_n(&user_fn, fn, __ATOMIC_RELEASE);
}

uint32_t _obq_chk_stack_save(const void *site, unsigned skip)
{
	void *pc[CHK_STACK_MAX + 8];
	unsigned n = 0;
	unsigned depth = _obq_chk_options()->stack_depth;
	/* Acquire: pairs with obq_check_set_user_fn_hook. */
	const void *(*ufn)(void) = __atomic_load_n(&user_fn, __ATOMIC_ACQUIRE);
	const void *user = ufn ? ufn() : NULL;
	if (user && depth > CHK_STACK_MAX - 2)
		depth = CHK_STACK_MAX - 2; /* room for NULL, user */
#if CHK_FP_WALK || defined(HAVE_BACKTRACE)
	if (depth > 0) {
#if CHK_FP_WALK
		int got = fp_walk(pc, (int)(sizeof pc / sizeof pc[0]));
#else
		int got = backtrace(pc, (int)(sizeof pc / sizeof pc[0]));
#endif
		/* Start at the caller's frame (the return address the allocator passed). */
		int from = site ? -1 : (int)skip + 1; /* +1: this function's own frame */
		for (int i = 0; site && i < got; i++)
			if (pc[i] == site) {
				from = i;
				break;
			}
		if (from >= 0) {
			for (int i = from; i < got && n < depth; i++)
				pc[n++] = pc[i];
		}
	}
#endif
	if (n == 0 && site) {
		pc[0] = (void *)site;
		n = 1;
	}
	if (user) {
		pc[n++] = NULL;
		pc[n++] = (void *)user;
	}
	if (n == 0)
		return 0;
	return depot_put(pc, n);
}

unsigned _obq_chk_stack_get(uint32_t id, void **pcs, unsigned max)
{
	if (id == 0)
		return 0;
	/* Relaxed: ids handed out are below depot_top; the entry itself was published
	 * through the bucket chain before the id was stored anywhere we read it from. */
	if (id >= __atomic_load_n(&depot_top, __ATOMIC_RELAXED))
		return 0;
	struct depot_ent *e = depot_ent(id);
	if (e == NULL)
		return 0;
	unsigned n = e->n < max ? e->n : max;
	memcpy(pcs, e->pc, n * sizeof(void *));
	return n;
}

/* ---------------------------------------------------------------------------------
 * Quarantine of RELEASED slabs. */

static pthread_mutex_t quarantine_lock = PTHREAD_MUTEX_INITIALIZER;
static struct chk_slab *q_head, *q_tail;  /* FIFO, oldest at q_head (under quarantine_lock) */
static size_t q_count, q_bytes;           /* slabs and bytes held (under quarantine_lock) */

/* Walk bound.  Invariant: the FIFO from q_head holds exactly q_count slabs, so no walk
 * of it takes more steps.  A slab the allocator releases twice is pushed twice: pushed
 * again as the tail it links to itself, elsewhere it cuts the FIFO — either way a walk
 * could run for ever (the checker's quarantine walk hung a campaign's warm-up for 17
 * minutes).  A walk that passes the bound stops, empties the FIFO (its slabs are then
 * never unmapped: the list cannot be trusted) and reports corrupt-metadata once the
 * lock is dropped. */
static void walk_corrupt(const char *where, size_t steps)
{
	_obq_report(OBQ_ERR_CORRUPT, NULL, NULL, NULL, 0,
		    "  the checker's quarantine of released slabs is not a list (%s: more than "
		    "%zu steps): a slab was released twice — the allocator's release path "
		    "broke, not the caller's code; the quarantine was emptied (its slabs stay "
		    "mapped)\n", where, steps);
}

/* Evict a detached list of n slabs; 0, or -1 if it had more (a cycle: stopped). */
static int evict(struct chk_slab *list, size_t n)
{
	for (size_t k = 0; list; k++) {
		if (k == n)
			return -1;
		struct chk_slab *cs = list;
		list = cs->q_next;
		cs->q_next = NULL;
		/* The allocator unpoisons (ASan shadow) and unmaps the memory. */
		_obq_slab_quarantine_done(cs->slab);
		pool_put(cs);
	}
	return 0;
}

void _obq_chk_quarantine_push(struct chk_slab *cs)
{
	const struct chk_options *o = _obq_chk_options();
	struct chk_slab *out = NULL, **outp = &out;
	size_t nout = 0;
	pthread_mutex_lock(&quarantine_lock);
	if (cs == q_tail) { /* released twice in a row: linking it would make a cycle */
		pthread_mutex_unlock(&quarantine_lock);
		walk_corrupt("the same slab pushed twice", q_count);
		return;
	}
	cs->q_next = NULL;
	if (q_tail)
		q_tail->q_next = cs;
	else
		q_head = cs;
	q_tail = cs;
	q_count++;
	q_bytes += cs->bytes;
	while (q_head && q_count > 0 &&
	       (q_count > o->quarantine_slabs || q_bytes > o->quarantine_bytes)) {
		struct chk_slab *old = q_head;
		q_head = old->q_next;
		if (q_head == NULL)
			q_tail = NULL;
		q_count--;
		q_bytes -= old->bytes;
		old->q_next = NULL;
		*outp = old;
		outp = &old->q_next;
		nout++;
	}
	pthread_mutex_unlock(&quarantine_lock);
	if (evict(out, nout) < 0)
		walk_corrupt("eviction", nout);
}

void _obq_chk_quarantine_forget_cache(struct obq_cache *c)
{
	size_t k = 0, n;
	int cycle = 0;
	pthread_mutex_lock(&quarantine_lock);
	n = q_count;
	for (struct chk_slab *cs = q_head; cs; cs = cs->q_next, k++) {
		if (k == n) { /* past the bound: a cycle */
			q_head = q_tail = NULL;
			q_count = q_bytes = 0;
			cycle = 1;
			break;
		}
		/* Relaxed: readers only compare it or use it as "cache still exists". */
		if (__atomic_load_n(&cs->cache, __ATOMIC_RELAXED) == c)
			__atomic_store_n(&cs->cache, NULL, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&quarantine_lock);
	if (cycle)
		walk_corrupt("a destroyed cache's slabs", n);
}

/* fork(2): no checker lock may be held by a thread that does not exist in the child.
 * All are leaves (never held across a call into the allocator or RCU), so taking
 * them all in prepare cannot deadlock. */
static void fork_prepare(void)
{
	pthread_mutex_lock(&pool_lock);
	pthread_mutex_lock(&quarantine_lock);
}

static void fork_done(void)
{
	pthread_mutex_unlock(&quarantine_lock);
	pthread_mutex_unlock(&pool_lock);
}

void _obq_chk_shadow_atfork(void)
{
	pthread_atfork(fork_prepare, fork_done, fork_done);
}

void _obq_check_quarantine_flush(void)
{
	pthread_mutex_lock(&quarantine_lock);
	struct chk_slab *out = q_head;
	size_t n = q_count;
	q_head = q_tail = NULL;
	q_count = q_bytes = 0;
	pthread_mutex_unlock(&quarantine_lock);
	if (evict(out, n) < 0)
		walk_corrupt("flush", n);
}
