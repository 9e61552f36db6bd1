/* wmm_rt.c — the __tsan_* entry points clang's -fsanitize=thread instrumentation calls,
 * over the weak-memory model (contract: wmm_rt.h).  Signatures follow compiler-rt's
 * tsan_interface.h and tsan_interface_atomic.h (morder: the __ATOMIC_* values).
 *
 * Atomics: the operation is performed on memory with the C11 builtin of the same
 * size (relaxed: the deterministic engine runs every virtual thread on one OS
 * thread, so memory itself is sequentially consistent; the orders live in the model),
 * then reported.  A load returns the model's value; a store writes memory only when it
 * is the newest of its location (wmm_store says so); an RMW reads and writes memory,
 * which always holds the newest store. */
#include "wmm_rt.h"

#include <string.h>

/* The atomics read and write the target's memory as the target's own code would: not
 * through ASan's checks (the library poisons a free type-stable object, and the
 * access layer reaches it legally, as its raw accessors do). */
#define RT_NOASAN __attribute__((no_sanitize("address")))

typedef signed char a8;
typedef short a16;
typedef int a32;
typedef long long a64;
typedef int morder;

static struct wmm_rt_hooks hooks;
static int have_hooks;
static unsigned ignore[WMM_MAXT]; /* per thread: inside the allocator (not recorded) */

/* Constructor writes, logged until wmm_rt_ctor_end hands them to the model: a
 * constructor runs to its end without a scheduling point, so one log serves every
 * thread.  More than CLOG writes: the rest are initial state, as before. */
#define CLOG 4096
static struct cwrite {
	void *addr;
	const void *pc;
	unsigned char size, atomic, whole; /* whole: from wmm_rt_constructed */
} ctor_log[CLOG];
static unsigned nclog;
static unsigned in_ctor[WMM_MAXT]; /* per thread: inside a constructor (nested count) */
static char ctor_key; /* the sync object every constructor releases, every allocation acquires */

void wmm_rt_set(const struct wmm_rt_hooks *h)
{
	if (h) {
		hooks = *h;
		have_hooks = h->model != NULL && h->tid != NULL;
	} else {
		memset(&hooks, 0, sizeof hooks);
		have_hooks = 0;
	}
	memset(ignore, 0, sizeof ignore);
	memset(in_ctor, 0, sizeof in_ctor);
	nclog = 0;
}

/* The running thread, whether or not its accesses are ignored now. */
static unsigned raw_tid(void)
{
	if (!have_hooks)
		return WMM_RT_OFF;
	unsigned t = hooks.tid(hooks.ctx);
	return t < WMM_MAXT ? t : WMM_RT_OFF;
}

/* Per thread: the allocator may reach a scheduling point inside, and the next thread
 * to run is not inside it. */
void wmm_rt_ignore_begin(void)
{
	unsigned t = raw_tid();
	if (t != WMM_RT_OFF)
		ignore[t]++;
}

void wmm_rt_ignore_end(void)
{
	unsigned t = raw_tid();
	if (t != WMM_RT_OFF && ignore[t])
		ignore[t]--;
}

/* A slab's constructors (nested in the allocation's ignore bracket): their writes are
 * logged, not modelled one by one. */
void wmm_rt_ctor_begin(void)
{
	unsigned t = raw_tid();
	if (t == WMM_RT_OFF)
		return;
	ignore[t]++;
	if (in_ctor[t]++ == 0)
		nclog = 0;
}

static int is_coverage(const volatile void *addr);
static int is_tls(const volatile void *addr);

/* A write by the constructor running on thread t, logged as naturally aligned words of
 * 8, 4, 2 or 1 bytes (the sizes of the atomics that can read it later; the compiler
 * merges neighbouring field stores into one wider store). */
static void ctor_note(unsigned t, const volatile void *addr, size_t size, int atomic,
		      const void *pc, int whole)
{
	uintptr_t a = (uintptr_t)addr, end = a + size;
	if (!in_ctor[t] || is_coverage(addr) || is_tls(addr))
		return;
	while (a < end && nclog < CLOG) {
		unsigned w = 8;
		while (w > 1 && (a % w || a + w > end))
			w /= 2;
		ctor_log[nclog++] = (struct cwrite){(void *)a, pc, (unsigned char)w,
						    (unsigned char)atomic, (unsigned char)whole};
		a += w;
	}
}

void wmm_rt_constructed(const void *obj, size_t size)
{
	unsigned t = raw_tid();
	if (t != WMM_RT_OFF)
		ctor_note(t, obj, size, 0, __builtin_return_address(0), 1);
}

/* What the constructor left at a (size bytes).  Relaxed: every virtual thread runs on
 * this one OS thread, so this reads back the constructor's own stores. */
RT_NOASAN static uint64_t mem_of(const void *a, unsigned size)
{
	switch (size) {
	case 1: return __atomic_load_n((const uint8_t *)a, __ATOMIC_RELAXED);
	case 2: return __atomic_load_n((const uint16_t *)a, __ATOMIC_RELAXED);
	case 4: return __atomic_load_n((const uint32_t *)a, __ATOMIC_RELAXED);
	default: return __atomic_load_n((const uint64_t *)a, __ATOMIC_RELAXED);
	}
}

void wmm_rt_ctor_end(void)
{
	unsigned t = raw_tid();
	if (t == WMM_RT_OFF || !in_ctor[t])
		return;
	if (ignore[t])
		ignore[t]--;
	if (--in_ctor[t])
		return;
	uint64_t pattern = 0x0101010101010101ull * WMM_RT_UNINIT;
	/* the whole objects first, then the reported writes (a location's entry and a
	 * byte's shadow are the last ones given) */
	for (int pass = 1; pass >= 0; pass--)
		for (unsigned i = 0; i < nclog; i++) {
			const struct cwrite *w = &ctor_log[i];
			if (w->whole != pass)
				continue;
			uint64_t pre = w->size == 8 ? pattern
						    : pattern & ((1ull << (8 * w->size)) - 1);
			wmm_ctor_store(hooks.model, t, w->addr, pre, mem_of(w->addr, w->size));
			/* the race shadow: a write of t (a race here would be the allocator's:
			 * not ours to report from inside it) */
			struct wmm_race r;
			(void)wmm_access(hooks.model, t, w->addr, w->size, 1, w->atomic, w->pc, &r);
		}
	nclog = 0;
	wmm_release_at(hooks.model, t, &ctor_key);
}

/* The allocator hands out slabs under its own locks: an allocation happens after every
 * constructor run before it, and after obj's last free. */
void wmm_rt_alloc_end(const void *obj)
{
	wmm_rt_acquire(&ctor_key);
	if (obj)
		wmm_rt_acquire(obj);
}

static const void *site; /* the atomic access being modelled (wmm_rt_site) */

const void *wmm_rt_site(void)
{
	return site;
}

/* The running virtual thread, or WMM_RT_OFF when nothing is modelled. */
static unsigned cur(void)
{
	unsigned t = raw_tid();
	return t != WMM_RT_OFF && ignore[t] ? WMM_RT_OFF : t;
}

void wmm_rt_release(const void *addr)
{
	unsigned t = cur();
	if (t != WMM_RT_OFF)
		wmm_release_at(hooks.model, t, addr);
}

void wmm_rt_acquire(const void *addr)
{
	unsigned t = cur();
	if (t != WMM_RT_OFF)
		wmm_acquire_at(hooks.model, t, addr);
}

/* libFuzzer's coverage counters: the instrumentation bumps them in every function of
 * the target, and -fsanitize=thread instruments those bumps like the target's own
 * writes.  They are the fuzzer's, not the program's: never a race.  (Weak: absent
 * without coverage.) */
extern char __start___sancov_cntrs[] __attribute__((weak));
extern char __stop___sancov_cntrs[] __attribute__((weak));

static int is_coverage(const volatile void *addr)
{
	const char *p = (const char *)addr;
	return __start___sancov_cntrs && p >= __start___sancov_cntrs && p < __stop___sancov_cntrs;
}

/* Thread-local storage (errno, the allocator's per-thread state...): every virtual
 * thread runs on the one OS thread and shares it, where each real thread would have
 * its own, so accesses to it are never a race between virtual threads.  The static TLS
 * block sits just below the thread pointer (x86-64, variant II) or just above it
 * (aarch64 and others, variant I): 64 KiB either side of it. */
static int is_tls(const volatile void *addr)
{
	uintptr_t tp = (uintptr_t)__builtin_thread_pointer(), a = (uintptr_t)addr;
	return a + 65536 >= tp && a < tp + 65536;
}

static void note_access(const volatile void *addr, size_t size, int write, int atomic,
		   const void *pc)
{
	unsigned t = cur();
	if (t == WMM_RT_OFF && write && have_hooks) {
		unsigned r = raw_tid();
		if (r != WMM_RT_OFF)
			ctor_note(r, addr, size, atomic, pc, 0);
	}
	if (t == WMM_RT_OFF || is_coverage(addr) || (!atomic && is_tls(addr)))
		return;
	struct wmm_race r;
	if (wmm_access(hooks.model, t, (const void *)addr, size, write, atomic, pc, &r) &&
	    hooks.race)
		hooks.race(hooks.ctx, &r);
}

/* ---- plain accesses ---- */

#define PLAIN(n)                                                                      \
	void __tsan_read##n(void *a);                                                 \
	void __tsan_write##n(void *a);                                                \
	void __tsan_unaligned_read##n(const void *a);                                 \
	void __tsan_unaligned_write##n(void *a);                                      \
	void __tsan_read##n##_pc(void *a, void *pc);                                  \
	void __tsan_write##n##_pc(void *a, void *pc);                                 \
	void __tsan_read##n(void *a) { note_access(a, n, 0, 0, __builtin_return_address(0)); } \
	void __tsan_write##n(void *a) { note_access(a, n, 1, 0, __builtin_return_address(0)); } \
	void __tsan_unaligned_read##n(const void *a)                                  \
	{                                                                             \
		note_access(a, n, 0, 0, __builtin_return_address(0));                      \
	}                                                                             \
	void __tsan_unaligned_write##n(void *a)                                       \
	{                                                                             \
		note_access(a, n, 1, 0, __builtin_return_address(0));                      \
	}                                                                             \
	void __tsan_read##n##_pc(void *a, void *pc) { note_access(a, n, 0, 0, pc); }       \
	void __tsan_write##n##_pc(void *a, void *pc) { note_access(a, n, 1, 0, pc); }
PLAIN(1)
PLAIN(2)
PLAIN(4)
PLAIN(8)
PLAIN(16)

void __tsan_read_range(void *a, unsigned long size);
void __tsan_write_range(void *a, unsigned long size);
void __tsan_read_range(void *a, unsigned long size)
{
	note_access(a, size, 0, 0, __builtin_return_address(0));
}
void __tsan_write_range(void *a, unsigned long size)
{
	note_access(a, size, 1, 0, __builtin_return_address(0));
}

void *__tsan_memcpy(void *d, const void *s, size_t n);
void *__tsan_memmove(void *d, const void *s, size_t n);
void *__tsan_memset(void *d, int c, size_t n);
void *__tsan_memcpy(void *d, const void *s, size_t n)
{
	note_access(s, n, 0, 0, __builtin_return_address(0));
	note_access(d, n, 1, 0, __builtin_return_address(0));
	return memcpy(d, s, n);
}
void *__tsan_memmove(void *d, const void *s, size_t n)
{
	note_access(s, n, 0, 0, __builtin_return_address(0));
	note_access(d, n, 1, 0, __builtin_return_address(0));
	return memmove(d, s, n);
}
void *__tsan_memset(void *d, int c, size_t n)
{
	note_access(d, n, 1, 0, __builtin_return_address(0));
	return memset(d, c, n);
}

/* ---- bookkeeping the instrumentation emits: nothing to do ---- */

void __tsan_init(void);
void __tsan_func_entry(void *pc);
void __tsan_func_exit(void);
void __tsan_vptr_update(void **p, void *v);
void __tsan_vptr_read(void **p);
void __tsan_atomic_signal_fence(morder mo);
void __tsan_init(void) {}
void __tsan_func_entry(void *pc) { (void)pc; }
void __tsan_func_exit(void) {}
void __tsan_vptr_update(void **p, void *v) { (void)p; (void)v; }
void __tsan_vptr_read(void **p) { (void)p; }
void __tsan_atomic_signal_fence(morder mo) { (void)mo; }

/* TSan annotations (oblique's access layer emits them under -fsanitize=thread). */
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
void __tsan_mutex_create(void *addr, unsigned flags);
void __tsan_mutex_destroy(void *addr, unsigned flags);
void __tsan_mutex_pre_lock(void *addr, unsigned flags);
void __tsan_mutex_post_lock(void *addr, unsigned flags, int recursion);
int __tsan_mutex_pre_unlock(void *addr, unsigned flags);
void __tsan_mutex_post_unlock(void *addr, unsigned flags);
void __tsan_acquire(void *addr) { wmm_rt_acquire(addr); }
void __tsan_release(void *addr) { wmm_rt_release(addr); }
void __tsan_mutex_create(void *addr, unsigned flags) { (void)addr; (void)flags; }
void __tsan_mutex_destroy(void *addr, unsigned flags) { (void)addr; (void)flags; }
void __tsan_mutex_pre_lock(void *addr, unsigned flags) { (void)addr; (void)flags; }
void __tsan_mutex_post_lock(void *addr, unsigned flags, int recursion)
{
	(void)addr;
	(void)flags;
	(void)recursion;
}
int __tsan_mutex_pre_unlock(void *addr, unsigned flags)
{
	(void)addr;
	(void)flags;
	return 0;
}
void __tsan_mutex_post_unlock(void *addr, unsigned flags) { (void)addr; (void)flags; }

/* ---- atomics ---- */

void __tsan_atomic_thread_fence(morder mo);
void __tsan_atomic_thread_fence(morder mo)
{
	unsigned t = cur();
	if (t != WMM_RT_OFF)
		wmm_fence(hooks.model, t, (enum wmm_order)mo);
}

/* The failure order of a compare-exchange is what its load does when it fails. */
#define ATOMICS(n, T, U)                                                              \
	T __tsan_atomic##n##_load(const volatile T *a, morder mo);                    \
	void __tsan_atomic##n##_store(volatile T *a, T v, morder mo);                 \
	T __tsan_atomic##n##_exchange(volatile T *a, T v, morder mo);                 \
	T __tsan_atomic##n##_fetch_add(volatile T *a, T v, morder mo);                \
	T __tsan_atomic##n##_fetch_sub(volatile T *a, T v, morder mo);                \
	T __tsan_atomic##n##_fetch_and(volatile T *a, T v, morder mo);                \
	T __tsan_atomic##n##_fetch_or(volatile T *a, T v, morder mo);                 \
	T __tsan_atomic##n##_fetch_xor(volatile T *a, T v, morder mo);                \
	T __tsan_atomic##n##_fetch_nand(volatile T *a, T v, morder mo);               \
	int __tsan_atomic##n##_compare_exchange_strong(volatile T *a, T *c, T v, morder mo, \
						       morder fmo);                   \
	int __tsan_atomic##n##_compare_exchange_weak(volatile T *a, T *c, T v, morder mo, \
						     morder fmo);                     \
	T __tsan_atomic##n##_compare_exchange_val(volatile T *a, T c, T v, morder mo,  \
						  morder fmo);                        \
	RT_NOASAN T __tsan_atomic##n##_load(const volatile T *a, morder mo)           \
	{                                                                             \
		T mem = __atomic_load_n(a, __ATOMIC_RELAXED);                         \
		unsigned t = cur();                                                   \
		if (t == WMM_RT_OFF)                                                  \
			return mem;                                                   \
		note_access(a, n / 8, 0, 1, __builtin_return_address(0));                  \
		unsigned back = 0;                                                    \
		site = __builtin_return_address(0);                                   \
		T v = (T)(U)wmm_load(hooks.model, t, (const void *)a, (U)mem,          \
				     (enum wmm_order)mo, &back);                      \
		if (back && hooks.stale)                                              \
			hooks.stale(hooks.ctx, (const void *)a, back, (U)v, (U)mem);   \
		return v;                                                             \
	}                                                                             \
	RT_NOASAN void __tsan_atomic##n##_store(volatile T *a, T v, morder mo)        \
	{                                                                             \
		unsigned t = cur();                                                   \
		if (t == WMM_RT_OFF) {                                                \
			note_access(a, n / 8, 1, 1, __builtin_return_address(0));    \
			__atomic_store_n(a, v, __ATOMIC_RELAXED);                     \
			return;                                                       \
		}                                                                     \
		note_access(a, n / 8, 1, 1, __builtin_return_address(0));                  \
		T mem = __atomic_load_n(a, __ATOMIC_RELAXED);                         \
		site = __builtin_return_address(0);                                   \
		if (wmm_store(hooks.model, t, (const void *)a, (U)mem, (U)v,          \
			      (enum wmm_order)mo))                                    \
			__atomic_store_n(a, v, __ATOMIC_RELAXED);                     \
	}                                                                             \
	RT_NOASAN static T rmw##n(volatile T *a, T v, morder mo, int op)                        \
	{                                                                             \
		T old = __atomic_load_n(a, __ATOMIC_RELAXED), nv;                     \
		switch (op) {                                                         \
		case 0: nv = v; break;                                                \
		case 1: nv = (T)((U)old + (U)v); break;                               \
		case 2: nv = (T)((U)old - (U)v); break;                               \
		case 3: nv = old & v; break;                                          \
		case 4: nv = old | v; break;                                          \
		case 5: nv = old ^ v; break;                                          \
		default: nv = (T)~(old & v); break;                                   \
		}                                                                     \
		__atomic_store_n(a, nv, __ATOMIC_RELAXED);                            \
		unsigned t = cur();                                                   \
		if (t != WMM_RT_OFF) {                                                \
			note_access(a, n / 8, 1, 1, __builtin_return_address(0));          \
			wmm_rmw(hooks.model, t, (const void *)a, (U)old, (U)nv, 1,     \
				(enum wmm_order)mo);                                  \
		}                                                                     \
		return old;                                                           \
	}                                                                             \
	T __tsan_atomic##n##_exchange(volatile T *a, T v, morder mo) { return rmw##n(a, v, mo, 0); } \
	T __tsan_atomic##n##_fetch_add(volatile T *a, T v, morder mo) { return rmw##n(a, v, mo, 1); } \
	T __tsan_atomic##n##_fetch_sub(volatile T *a, T v, morder mo) { return rmw##n(a, v, mo, 2); } \
	T __tsan_atomic##n##_fetch_and(volatile T *a, T v, morder mo) { return rmw##n(a, v, mo, 3); } \
	T __tsan_atomic##n##_fetch_or(volatile T *a, T v, morder mo) { return rmw##n(a, v, mo, 4); } \
	T __tsan_atomic##n##_fetch_xor(volatile T *a, T v, morder mo) { return rmw##n(a, v, mo, 5); } \
	T __tsan_atomic##n##_fetch_nand(volatile T *a, T v, morder mo) { return rmw##n(a, v, mo, 6); } \
	RT_NOASAN static int cas##n(volatile T *a, T *c, T v, morder mo, morder fmo)            \
	{                                                                             \
		T old = __atomic_load_n(a, __ATOMIC_RELAXED);                         \
		int ok = old == *c;                                                   \
		if (ok)                                                               \
			__atomic_store_n(a, v, __ATOMIC_RELAXED);                     \
		unsigned t = cur();                                                   \
		if (t != WMM_RT_OFF) {                                                \
			note_access(a, n / 8, ok, 1, __builtin_return_address(0));         \
			wmm_rmw(hooks.model, t, (const void *)a, (U)old, (U)v, ok,     \
				(enum wmm_order)(ok ? mo : fmo));                     \
		}                                                                     \
		if (!ok)                                                              \
			*c = old;                                                     \
		return ok;                                                            \
	}                                                                             \
	int __tsan_atomic##n##_compare_exchange_strong(volatile T *a, T *c, T v, morder mo, \
						       morder fmo)                    \
	{                                                                             \
		return cas##n(a, c, v, mo, fmo);                                      \
	}                                                                             \
	int __tsan_atomic##n##_compare_exchange_weak(volatile T *a, T *c, T v, morder mo, \
						     morder fmo)                      \
	{                                                                             \
		return cas##n(a, c, v, mo, fmo);                                      \
	}                                                                             \
	T __tsan_atomic##n##_compare_exchange_val(volatile T *a, T c, T v, morder mo,  \
						  morder fmo)                         \
	{                                                                             \
		cas##n(a, &c, v, mo, fmo);                                            \
		return c;                                                             \
	}
ATOMICS(8, a8, uint8_t)
ATOMICS(16, a16, uint16_t)
ATOMICS(32, a32, uint32_t)
ATOMICS(64, a64, uint64_t)
