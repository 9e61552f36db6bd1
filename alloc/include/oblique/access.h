/* oblique/access.h — the sanctioned ways to touch an object that may have been freed.
 *
 * An object of an OBQ_TYPESAFE_BY_RCU cache may be freed and reused at any moment
 * while a reader still holds a pointer to it (see the WARNING in oblique/cache.h).  The
 * reader may touch it only
 *   - inside an RCU read-side section (obq_rcu_read_lock .. obq_rcu_read_unlock), and
 *   - only through this header: OBQ_PEEK, obq_ref_read, obq_ref_get_not_zero,
 *     obq_spin_lock_oblique / obq_spin_trylock_oblique / obq_spin_unlock,
 *     obq_read_trylock_oblique / obq_read_unlock, obq_read_seqcount_begin / _retry,
 *     obq_incarnation / obq_same_incarnation;
 * and must re-validate identity after pinning (refcount or lock), because the object
 * may by then be another one of the same type.
 *
 * The owner of an object (it allocated it, or holds a reference / the lock) writes the
 * fields a stale reader may read with OBQ_STORE (WRITE_ONCE-like) so that a correct
 * program has no C11 data race with stale readers, and makes the object acquirable
 * LAST with obq_ref_set_release.  Locks, refcounts and seqcounts that stale readers may
 * take are initialised in the cache's ctor (obq_spin_lock_init, obq_ref_init, ...),
 * never on alloc: a stale reader may hold the lock of a just-allocated object.
 * obq_clear_except_guards() zeroes an object around its declared guard fields, as
 * Linux's sk_prot_clear_nulls does.
 *
 * Three build variants, same source:
 *  - release (OBQ_CHECKED=0): each call is the single atomic operation named in its
 *    comment (a READ_ONCE, WRITE_ONCE, CAS loop, release store, tiny inline lock) and
 *    costs nothing more;
 *  - checked (OBQ_CHECKED=1): each call first asks the type-stable checker
 *    (sanitizers/), which reports a broken rule through the error hook (oblique/error.h):
 *    a FREE object touched outside a read-side section, any touch of a RELEASED slot, a
 *    use after the grace period in rcu-debug mode, a store to a FREE object, a lock
 *    re-initialised while held or contended, an access through the wrong type;
 *  - sim (OBQ_SCHED_POINTS=1, always checked): each call is also a scheduling point for
 *    a scheduler of virtual threads, and every wait (a held lock, an odd seqcount)
 *    parks the virtual thread through OBQ_SCHED_WAIT instead of spinning.
 * Under ThreadSanitizer the locks carry __tsan_mutex_* annotations and every refcount
 * and seqcount operation is a real C11 atomic, so a correct program is quiet and a
 * missing release/acquire in user code is still reported.
 *
 * OBQ_PEEK / OBQ_STORE take plain (non-_Atomic) scalar fields of 1, 2, 4 or 8 bytes;
 * OBQ_PEEK_AT / OBQ_STORE_AT (and their _ACQUIRE / _RELEASE twins) are the same
 * operations on the scalar at an address, for code that has an lvalue rather than an
 * object and a field name (READ_ONCE / WRITE_ONCE / smp_load_acquire in
 * oblique/linux.h). */
#ifndef OBLIQUE_ACCESS_H
#define OBLIQUE_ACCESS_H

#include <sched.h>
#include <stdatomic.h>
#include <oblique/common.h>
#include <oblique/sched.h>
#include <oblique/cache.h>
#include <oblique/rcu.h>
#include <oblique/bits/track.h>
#include <oblique/bits/access_raw.h>

OBQ_BEGIN_DECLS

#if OBQ_TSAN && defined(__GNUC__) && !defined(__clang__)
/* gcc warns that TSan ignores fences.  The two seqcount fences stay (they are what
 * makes the protocol correct on weak hardware); under TSan the data they order is
 * read and written with atomics, so no race is hidden or invented. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wtsan"
#endif

/* ------------------------------------------------------------------------------ */
/* Types.  The same layout in every variant.                                        */

/* A reference count; 0 while the object is free (ctor: obq_ref_init). */
typedef struct obq_refcount {
	_Atomic unsigned count;   /* holders; 0 = free or not yet published */
} obq_refcount_t;

/* A test-and-test-and-set spin lock.  v & OBQ_SPIN_LOCKED: held; checked builds also
 * count waiters in v >> 1 (so a re-init can tell "contended"). */
typedef struct obq_spinlock {
	_Atomic unsigned v;       /* bit 0 held; bits 1..31 waiters (checked builds) */
} obq_spinlock_t;
#define OBQ_SPIN_LOCKED   1u
#define OBQ__SPIN_WAITER  2u

/* A reader/writer spin lock: readers only try (as anon_vma's down_read_trylock). */
typedef struct obq_rwlock {
	_Atomic unsigned v;       /* bit 0: writer holds it; v >> 1: readers holding it */
} obq_rwlock_t;
#define OBQ__RW_WRITER 1u
#define OBQ__RW_READER 2u

/* A sequence counter: odd while a writer is inside its write section. */
typedef struct obq_seqcount {
	_Atomic unsigned seq;     /* even: stable; odd: write in progress */
} obq_seqcount_t;

/* An incarnation token: which allocation of a slot a pointer referred to.  Checked
 * builds only — it is a check for tests, not a synchronisation device: in release builds
 * obq_incarnation() returns 0 and obq_same_incarnation() returns 1.  64 bits on every
 * target, so it carries the slot's whole generation (56 bits) on 32-bit ones too. */
typedef uint64_t obq_token_t;

/* ------------------------------------------------------------------------------ */
/* Out-of-line helpers, present in every variant (alloc/src/access.c).            */

/* Zero obj (an ALLOCATED object of c) except its declared guard fields
 * (obq_cache_declare_guard: refcount, lock, key, link, generation), with relaxed
 * atomic stores so that stale readers peeking a guard do not race.  0, or -EINVAL
 * (NULL arguments). */
int obq_clear_except_guards(obq_cache_t *c, void *obj);

/* obq_rcu_call for a callback that will touch objects of obj's cache.  Checked builds
 * count it as pending on that cache until it has run, and obq_cache_destroy reports
 * OBQ_ERR_DESTROY_PENDING if any is still pending (destroy's own barrier waits only
 * for callbacks queued before it: a callback that queues another is the classic
 * case).  Release builds: exactly obq_rcu_call(head, fn). */
void obq_rcu_call_obj(const void *obj, struct obq_rcu_head *head,
		      void (*fn)(struct obq_rcu_head *head));

/* As obq_rcu_call_obj, naming the cache directly. */
void obq_rcu_call_cache(obq_cache_t *c, struct obq_rcu_head *head,
			void (*fn)(struct obq_rcu_head *head));

/* Write what the checker knows of the address p (cache, slot state, generation, who
 * allocated, freed and released it) into buf, NUL-terminated; returns the length.  A
 * recording error hook uses it to keep the typesafe context with its report. */
size_t obq_describe_object(const void *p, char *buf, size_t len);

/* Whose code an alloc or free is (checked builds; a no-op otherwise).  A runtime that
 * runs user code from inside its own frames — a scheduler of virtual threads that calls
 * each unit of user work from its own loop — installs fn: it returns the address of
 * the user function running now, or NULL.  The checker records it with every
 * alloc/free stack, and a report names it when no recorded frame is the user's own (a
 * body whose last call frees: a tail call leaves no frame of it on the stack).  NULL
 * uninstalls. */
void obq_check_set_user_fn_hook(const void *(*fn)(void));


/* The checker's entry points (_obq_check_access & co., OBQ__CHECK) and the kinds of
 * access they are told of (enum obq_access_kind) are declared in the seam,
 * oblique/bits/track.h, with the tools' annotations (TSan, Valgrind). */

/* ------------------------------------------------------------------------------ */
/* OBQ_PEEK / OBQ_STORE                                                             */

#if OBQ__RAW_OUT_OF_LINE
#define OBQ__LOAD(a) __extension__({                                              \
	union { __typeof__(*(a)) _v; unsigned char _b[sizeof *(a)]; } _obq_u;      \
	obq__raw_load(_obq_u._b, (a), sizeof *(a));                                \
	_obq_u._v; })
#define OBQ__STORE(a, val) __extension__({                                        \
	union { __typeof__(*(a)) _v; unsigned char _b[sizeof *(a)]; } _obq_u =     \
		{ ._v = (val) };                                                   \
	obq__raw_store((void *)(a), _obq_u._b, sizeof *(a)); })
/* Checked ASan builds only (never TSan, which ignores fences): the raw helpers are
 * relaxed, so a fence after / before them gives the acquire load / release store. */
#define OBQ__LOAD_ACQ(a) __extension__({                                          \
	__typeof__(*(a)) _obq_av = OBQ__LOAD(a);                                   \
	/* Acquire: later accesses stay after this load (as an acquire load). */   \
	atomic_thread_fence(memory_order_acquire);                                 \
	_obq_av; })
#define OBQ__STORE_REL(a, val) __extension__({                                    \
	__typeof__(*(a)) _obq_rv = (val);                                          \
	/* Release: earlier accesses stay before this store (as a release store). */ \
	atomic_thread_fence(memory_order_release);                                 \
	OBQ__STORE((a), _obq_rv); })
#else
/* Relaxed: READ_ONCE / WRITE_ONCE — single-copy atomic, ordered by the caller's pin,
 * lock or publication (obq_ref_set_release, obq_rcu_assign_pointer). */
#define OBQ__LOAD(a) __extension__({                                              \
	OBQ__QUIET_BEGIN();                                                        \
	__typeof__(*(a)) _obq_v = __atomic_load_n((a), __ATOMIC_RELAXED);          \
	OBQ__QUIET_END();                                                          \
	_obq_v; })
#define OBQ__STORE(a, val) __extension__({                                        \
	__typeof__(*(a)) _obq_sv = (val);                                          \
	OBQ__QUIET_BEGIN();                                                        \
	__atomic_store_n((a), _obq_sv, __ATOMIC_RELAXED);                          \
	OBQ__QUIET_END(); })
/* Acquire / release: smp_load_acquire / smp_store_release (and rcu_dereference /
 * rcu_assign_pointer in oblique/linux.h) — real C11 orderings, so TSan sees them. */
#define OBQ__LOAD_ACQ(a) __extension__({                                          \
	OBQ__QUIET_BEGIN();                                                        \
	__typeof__(*(a)) _obq_av = __atomic_load_n((a), __ATOMIC_ACQUIRE);         \
	OBQ__QUIET_END();                                                          \
	_obq_av; })
#define OBQ__STORE_REL(a, val) __extension__({                                    \
	__typeof__(*(a)) _obq_rv = (val);                                          \
	OBQ__QUIET_BEGIN();                                                        \
	__atomic_store_n((a), _obq_rv, __ATOMIC_RELEASE);                          \
	OBQ__QUIET_END(); })
#endif

#if OBQ_CHECKED || OBQ_SCHED_POINTS
/* OBQ_PEEK_AT(a): relaxed load of the scalar *a (READ_ONCE), legal on a FREE object
 * of a typesafe cache inside a read-side section.  A scheduling point; checked as
 * OBQ_PEEK (memory outside oblique's caches is never reported). */
#define OBQ_PEEK_AT(a) __extension__({                                            \
	__typeof__(&*(a)) _obq_pa = (a);                                           \
	OBQ_SCHED_POINT(OBQ_SP_PEEK, _obq_pa);                                     \
	OBQ__CHECK(_obq_pa, sizeof *_obq_pa, OBQ_ACC_PEEK);                        \
	OBQ__LOAD(_obq_pa); })
/* OBQ_PEEK_ACQUIRE_AT(a): the same, an acquire load (smp_load_acquire). */
#define OBQ_PEEK_ACQUIRE_AT(a) __extension__({                                    \
	__typeof__(&*(a)) _obq_qa = (a);                                           \
	OBQ_SCHED_POINT(OBQ_SP_PEEK, _obq_qa);                                     \
	OBQ__CHECK(_obq_qa, sizeof *_obq_qa, OBQ_ACC_PEEK);                        \
	OBQ__LOAD_ACQ(_obq_qa); })
/* OBQ_STORE_AT(a, v): relaxed store to *a (WRITE_ONCE) by the object's owner; a store
 * to a FREE object is reported.  A scheduling point; checked as OBQ_STORE. */
#define OBQ_STORE_AT(a, v) __extension__({                                        \
	__typeof__(&*(a)) _obq_sa = (a);                                           \
	OBQ_SCHED_POINT(OBQ_SP_STORE, _obq_sa);                                    \
	OBQ__CHECK(_obq_sa, sizeof *_obq_sa, OBQ_ACC_STORE);                       \
	OBQ__STORE(_obq_sa, (v)); })
/* OBQ_STORE_RELEASE_AT(a, v): the same, a release store (smp_store_release). */
#define OBQ_STORE_RELEASE_AT(a, v) __extension__({                                \
	__typeof__(&*(a)) _obq_ra = (a);                                           \
	OBQ_SCHED_POINT(OBQ_SP_STORE, _obq_ra);                                    \
	OBQ__CHECK(_obq_ra, sizeof *_obq_ra, OBQ_ACC_STORE);                       \
	OBQ__STORE_REL(_obq_ra, (v)); })
#else
/* Relaxed: READ_ONCE / WRITE_ONCE; the ordering comes from the pin or the lock. */
#define OBQ_PEEK_AT(a) __atomic_load_n((a), __ATOMIC_RELAXED)
#define OBQ_STORE_AT(a, v) __atomic_store_n((a), (v), __ATOMIC_RELAXED)
/* Acquire / release: smp_load_acquire / smp_store_release. */
#define OBQ_PEEK_ACQUIRE_AT(a) __atomic_load_n((a), __ATOMIC_ACQUIRE)
#define OBQ_STORE_RELEASE_AT(a, v) __atomic_store_n((a), (v), __ATOMIC_RELEASE)
#endif

/* OBQ_PEEK(p, field): relaxed load of p->field, legal on a FREE object of a typesafe
 * cache inside a read-side section (OBQ_PEEK_AT(&(p)->field)). */
#define OBQ_PEEK(p, field) OBQ_PEEK_AT(&(p)->field)
/* OBQ_STORE(p, field, v): relaxed store (WRITE_ONCE) by the object's owner. */
#define OBQ_STORE(p, field, v) OBQ_STORE_AT(&(p)->field, (v))

/* OBQ_PEEK_TYPED(cache, p, field): OBQ_PEEK that also asserts (checked builds) that p
 * is an object of `cache` — catches two types sharing one typesafe cache or a pointer
 * into the wrong cache (OBQ_ERR_TYPE_MISMATCH). */
#if OBQ_CHECKED
#define OBQ_PEEK_TYPED(cache, p, field) __extension__({                           \
	__typeof__(&(p)->field) _obq_ta = &(p)->field;                             \
	OBQ_SCHED_POINT(OBQ_SP_PEEK, _obq_ta);                                     \
	_obq_check_access_typed((cache), _obq_ta, sizeof *_obq_ta, OBQ_ACC_PEEK);  \
	OBQ__LOAD(_obq_ta); })
#else
#define OBQ_PEEK_TYPED(cache, p, field) ((void)(cache), OBQ_PEEK(p, field))
#endif

/* ------------------------------------------------------------------------------ */
/* Reference counts                                                                 */

/* Ctor-time: count = 0. */
OBQ_INLINE void obq_ref_init(obq_refcount_t *r)
{
#if OBQ_CHECKED
	if (!_obq_check_init(r, sizeof *r, OBQ_ACC_INIT, 0))
		return;
#endif
	OBQ__QUIET_BEGIN();
	/* Relaxed: ctor-time; the slab's publication orders it before any reader. */
	obq__raw_word_store(&r->count, 0, memory_order_relaxed);
	OBQ__QUIET_END();
}

/* The current count (a relaxed load: a snapshot, not a pin). */
OBQ_INLINE unsigned obq_ref_read(const obq_refcount_t *r)
{
	OBQ_SCHED_POINT(OBQ_SP_PEEK, r);
	OBQ__CHECK(r, sizeof *r, OBQ_ACC_REF_READ);
	OBQ__QUIET_BEGIN();
	/* Relaxed: a snapshot for decisions that are re-validated under a pin. */
	unsigned v = obq__raw_word_load(&r->count, memory_order_relaxed);
	OBQ__QUIET_END();
	return v;
}

/* Pin: increment unless zero.  1 on success (the caller now holds a reference and
 * must re-validate identity), 0 if the count was zero (free or being freed: the object
 * is untouched).  Acquire on success: pairs with obq_ref_set_release, so the fields
 * the publisher initialised are visible to the re-check. */
OBQ_INLINE int obq_ref_get_not_zero(obq_refcount_t *r)
{
	OBQ_SCHED_POINT(OBQ_SP_REF_GET, r);
	OBQ__CHECK(r, sizeof *r, OBQ_ACC_PIN);
	OBQ__QUIET_BEGIN();
	int ok = obq__raw_inc_not_zero(&r->count);
	OBQ__QUIET_END();
	return ok;
}

/* Take another reference when the caller already holds one. */
OBQ_INLINE void obq_ref_get(obq_refcount_t *r)
{
	OBQ_SCHED_POINT(OBQ_SP_REF_GET, r);
	OBQ__CHECK(r, sizeof *r, OBQ_ACC_REF_GET);
	/* Relaxed: the reference the caller holds already orders its accesses
	 * (Linux refcount_inc). */
	obq__raw_word_add(&r->count, 1, memory_order_relaxed);
}

/* Drop a reference; returns 1 when the count dropped to 0 (the caller then owns the
 * object and frees it). */
OBQ_INLINE int obq_ref_put(obq_refcount_t *r)
{
	OBQ_SCHED_POINT(OBQ_SP_REF_PUT, r);
	OBQ__CHECK(r, sizeof *r, OBQ_ACC_REF_PUT);
	OBQ__QUIET_BEGIN();
#if OBQ_TSAN
	/* Acq_rel: TSan does not model fences, so the acquire of the last put is folded
	 * into the RMW (same guarantee as the release + fence below). */
	unsigned old = obq__raw_word_sub(&r->count, 1, memory_order_acq_rel);
#else
	/* Release: this holder's accesses happen before the last holder frees it. */
	unsigned old = obq__raw_word_sub(&r->count, 1, memory_order_release);
	if (old == 1)
		/* Acquire: the last holder sees every other holder's accesses before it
		 * frees the object (Linux refcount_dec_and_test). */
		atomic_thread_fence(memory_order_acquire);
#endif
	OBQ__QUIET_END();
	return old == 1;
}

/* Publish: set the count (usually 1) after every other field of a new object is
 * initialised.  Release: the initialising stores happen before a reader's successful
 * obq_ref_get_not_zero (acquire) — "set f_count last". */
OBQ_INLINE void obq_ref_set_release(obq_refcount_t *r, unsigned v)
{
	OBQ_SCHED_POINT(OBQ_SP_REF_SET, r);
	OBQ__CHECK(r, sizeof *r, OBQ_ACC_REF_SET);
	obq__raw_word_store(&r->count, v, memory_order_release);
}

/* ------------------------------------------------------------------------------ */
/* The steps every lock primitive takes                                              */

/* Between two failed attempts of a lock primitive: wait until ready(obj) (a hint; the
 * caller's next attempt decides).  Under the deterministic scheduler the thread parks
 * (a scheduling point); otherwise it spins with a pause, yielding every 128 rounds
 * since the machine may have fewer cores than threads. */
OBQ_INLINE void obq__lock_wait(int (*ready)(const void *), const void *obj)
{
#if OBQ_SCHED_POINTS
	OBQ_SCHED_WAIT(OBQ_SP_WAIT_LOCK, ready, obj);
#else
	unsigned spins = 0;
	while (!ready(obj)) {
		if (++spins < 128) {
			obq__cpu_relax();
		} else {
			spins = 0;
			sched_yield();
		}
	}
#endif
}

/* A lock primitive on the lock at `obj` in five steps: the scheduling point `sp`, the
 * checker's access check `acc`, TSan's pre-annotation (flags `pre`), the operation
 * `op` with Valgrind's reports off (the word may be in a FREE object), TSan's
 * post-annotation (flags `post`, evaluated after op: a trylock's outcome).  The
 * access check comes first so that a broken rule is reported before the word is
 * touched; the TSan annotations bracket exactly the operation. */
#define OBQ__LOCK_STEPS(obj, sp, acc, pre, op, post)                                 \
	do {                                                                          \
		OBQ_SCHED_POINT((sp), (obj));                                        \
		OBQ__CHECK((obj), sizeof *(obj), (acc));                             \
		OBQ_TSAN_MUTEX_PRE_LOCK((obj), (pre));                               \
		OBQ__QUIET_BEGIN();                                                  \
		op;                                                                  \
		OBQ__QUIET_END();                                                    \
		OBQ_TSAN_MUTEX_POST_LOCK((obj), (post));                             \
	} while (0)
/* The same for an unlock (TSan's unlock annotations, `flags` on both). */
#define OBQ__UNLOCK_STEPS(obj, sp, acc, flags, op)                                   \
	do {                                                                          \
		OBQ_SCHED_POINT((sp), (obj));                                        \
		OBQ__CHECK((obj), sizeof *(obj), (acc));                             \
		OBQ_TSAN_MUTEX_PRE_UNLOCK((obj), (flags));                           \
		OBQ__QUIET_BEGIN();                                                  \
		op;                                                                  \
		OBQ__QUIET_END();                                                    \
		OBQ_TSAN_MUTEX_POST_UNLOCK((obj), (flags));                          \
	} while (0)
/* A trylock's TSan flags after the attempt. */
#define OBQ__TRY_FLAGS(flags, ok) ((flags) | ((ok) ? 0 : OBQ_TSAN_MUTEX_TRY_LOCK_FAILED))

/* ------------------------------------------------------------------------------ */
/* Spin locks                                                                       */

/* Readiness predicate for OBQ_SCHED_WAIT: the lock is free. */
OBQ__RAW int obq__spin_ready(const void *l)
{
	/* Relaxed: a hint; the CAS that follows decides. */
	return !(atomic_load_explicit(&((obq_spinlock_t *)l)->v, memory_order_relaxed) &
		 OBQ_SPIN_LOCKED);
}

/* One test-and-test-and-set attempt on a lock word: while none of the `busy` bits is
 * set, add `delta` (a bit that is clear, or a reader count); 1 if it was added. */
OBQ__RAW int obq__word_try_add(_Atomic unsigned *w, unsigned busy, unsigned delta)
{
	/* Relaxed: the test before the CAS; the CAS carries the ordering. */
	unsigned v = atomic_load_explicit(w, memory_order_relaxed);
	while (!(v & busy)) {
		/* Acquire: the section the lock opens happens after the previous holder's
		 * unlock (release).  Relaxed on failure: nothing acquired, v reloaded. */
		if (atomic_compare_exchange_weak_explicit(w, &v, v + delta, memory_order_acquire,
							  memory_order_relaxed))
			return 1;
	}
	return 0;
}

/* One attempt; 1 if the lock is now ours (LOCKED is clear when added: v + LOCKED is
 * v | LOCKED, the waiter count of checked builds untouched). */
OBQ__RAW int obq__spin_try(obq_spinlock_t *l)
{
	return obq__word_try_add(&l->v, OBQ_SPIN_LOCKED, OBQ_SPIN_LOCKED);
}

/* Contended path: wait for the lock to look free, then try again (obq__lock_wait). */
static inline void obq__spin_acquire_slow(obq_spinlock_t *l)
{
#if OBQ_CHECKED
	/* Relaxed: a waiter count read only by the re-init check. */
	obq__raw_word_add(&l->v, OBQ__SPIN_WAITER, memory_order_relaxed);
#endif
	while (!obq__spin_try(l))
		obq__lock_wait(obq__spin_ready, l);
#if OBQ_CHECKED
	/* Relaxed: see above. */
	obq__raw_word_sub(&l->v, OBQ__SPIN_WAITER, memory_order_relaxed);
#endif
}

/* Take the lock (the op of OBQ__LOCK_STEPS: Valgrind's reports are off). */
OBQ_INLINE void obq__spin_acquire(obq_spinlock_t *l)
{
	if (OBQ_UNLIKELY(!obq__spin_try(l)))
		obq__spin_acquire_slow(l);
}

/* Ctor-time init (never on alloc: a stale reader may hold the lock of an object that
 * was just allocated — checked builds report OBQ_ERR_LOCK_REINIT). */
/* Ctor-time init shared by the in-object locks (spinlock, rwlock, seqcount): in
 * checked builds a word with any busy_mask bit set (held, waited on, writer inside)
 * makes the init a reported re-init and nothing is written.  1 if the word was zeroed. */
OBQ_INLINE int obq__lock_word_init(void *lock, size_t size, _Atomic unsigned *w,
				   unsigned busy_mask)
{
	(void)lock;
	(void)size;
	(void)busy_mask;
#if OBQ_CHECKED
	OBQ__QUIET_BEGIN();
	/* Relaxed: a diagnostic read; a busy lock makes the init a bug. */
	unsigned busy = obq__raw_word_load(w, memory_order_relaxed) & busy_mask;
	OBQ__QUIET_END();
	if (!_obq_check_init(lock, size, OBQ_ACC_LOCK_INIT, busy))
		return 0;
#endif
	OBQ__QUIET_BEGIN();
	/* Relaxed: ctor-time; the object's publication orders it before any locker. */
	obq__raw_word_store(w, 0, memory_order_relaxed);
	OBQ__QUIET_END();
	return 1;
}

OBQ_INLINE void obq_spin_lock_init(obq_spinlock_t *l)
{
	if (obq__lock_word_init(l, sizeof *l, &l->v, ~0u))
		OBQ_TSAN_MUTEX_CREATE(l, 0);
}

/* Lock a lock inside an object that may be FREE (legal inside a read-side section):
 * the ctor-initialised lock of a type-stable object.  Re-check identity after it. */
OBQ_INLINE void obq_spin_lock_oblique(obq_spinlock_t *l)
{
	OBQ__LOCK_STEPS(l, OBQ_SP_LOCK, OBQ_ACC_LOCK_OBLIQUE, 0, obq__spin_acquire(l), 0);
}

/* One attempt; 1 if taken. */
OBQ_INLINE int obq_spin_trylock_oblique(obq_spinlock_t *l)
{
	int ok;
	OBQ__LOCK_STEPS(l, OBQ_SP_TRYLOCK, OBQ_ACC_TRYLOCK_OBLIQUE, OBQ_TSAN_MUTEX_TRY_LOCK,
			ok = obq__spin_try(l), OBQ__TRY_FLAGS(OBQ_TSAN_MUTEX_TRY_LOCK, ok));
	return ok;
}

/* Lock the lock of an object the caller owns (ALLOCATED; a FREE one is reported). */
OBQ_INLINE void obq_spin_lock(obq_spinlock_t *l)
{
	OBQ__LOCK_STEPS(l, OBQ_SP_LOCK, OBQ_ACC_LOCK, 0, obq__spin_acquire(l), 0);
}

/* Release the lock (the op of OBQ__UNLOCK_STEPS). */
OBQ_INLINE void obq__spin_release(obq_spinlock_t *l)
{
#if OBQ_CHECKED
	/* Release: the critical section happens before the next holder's acquire.  An
	 * RMW, not a store: waiters count themselves in the same word. */
	obq__raw_word_and(&l->v, ~OBQ_SPIN_LOCKED, memory_order_release);
#else
	/* Release: the critical section happens before the next holder's acquire. */
	obq__raw_word_store(&l->v, 0, memory_order_release);
#endif
}

OBQ_INLINE void obq_spin_unlock(obq_spinlock_t *l)
{
	OBQ__UNLOCK_STEPS(l, OBQ_SP_UNLOCK, OBQ_ACC_UNLOCK, 0, obq__spin_release(l));
}

/* 1 if held (a relaxed snapshot; e.g. a free path that waits out oblique holders). */
OBQ_INLINE int obq_spin_is_locked(const obq_spinlock_t *l)
{
	OBQ_SCHED_POINT(OBQ_SP_PEEK, l);
	OBQ__CHECK(l, sizeof *l, OBQ_ACC_LOCK_QUERY);
	OBQ__QUIET_BEGIN();
	/* Relaxed: a snapshot, not a synchronisation. */
	int held = (obq__raw_word_load(&l->v, memory_order_relaxed) & OBQ_SPIN_LOCKED) != 0;
	OBQ__QUIET_END();
	return held;
}

/* ------------------------------------------------------------------------------ */
/* Reader/writer locks                                                              */

OBQ__RAW int obq__rw_free_ready(const void *rw)
{
	/* Relaxed: a hint; the CAS that follows decides. */
	return atomic_load_explicit(&((obq_rwlock_t *)rw)->v, memory_order_relaxed) == 0;
}

OBQ__RAW int obq__rw_nowriter_ready(const void *rw)
{
	/* Relaxed: a hint; the CAS that follows decides. */
	return !(atomic_load_explicit(&((obq_rwlock_t *)rw)->v, memory_order_relaxed) &
		 OBQ__RW_WRITER);
}

/* One attempt at a shared hold: one more reader unless a writer is inside. */
OBQ__RAW int obq__rw_read_try(obq_rwlock_t *rw)
{
	return obq__word_try_add(&rw->v, OBQ__RW_WRITER, OBQ__RW_READER);
}

OBQ__RAW int obq__rw_write_try(obq_rwlock_t *rw)
{
	unsigned v = 0;
	/* Acquire: the write section happens after the previous holders' releases. */
	return atomic_compare_exchange_strong_explicit(&rw->v, &v, OBQ__RW_WRITER,
						       memory_order_acquire,
						       memory_order_relaxed);
}

OBQ_INLINE void obq_rwlock_init(obq_rwlock_t *rw)
{
	if (obq__lock_word_init(rw, sizeof *rw, &rw->v, ~0u))
		OBQ_TSAN_MUTEX_CREATE(rw, 0);
}

/* Shared trylock of an in-object rwlock that may be FREE (anon_vma's
 * down_read_trylock); 1 if taken.  Re-check identity after it. */
OBQ_INLINE int obq_read_trylock_oblique(obq_rwlock_t *rw)
{
#define OBQ__RD_TRY (OBQ_TSAN_MUTEX_READ_LOCK | OBQ_TSAN_MUTEX_TRY_LOCK)
	int ok;
	OBQ__LOCK_STEPS(rw, OBQ_SP_TRYLOCK, OBQ_ACC_READ_TRYLOCK, OBQ__RD_TRY,
			ok = obq__rw_read_try(rw), OBQ__TRY_FLAGS(OBQ__RD_TRY, ok));
#undef OBQ__RD_TRY
	return ok;
}

/* Shared lock of an object the caller owns (waits for the writer). */
OBQ_INLINE void obq_read_lock(obq_rwlock_t *rw)
{
	OBQ__LOCK_STEPS(rw, OBQ_SP_LOCK, OBQ_ACC_READ_LOCK, OBQ_TSAN_MUTEX_READ_LOCK,
			while (!obq__rw_read_try(rw)) obq__lock_wait(obq__rw_nowriter_ready, rw),
			OBQ_TSAN_MUTEX_READ_LOCK);
}

OBQ_INLINE void obq_read_unlock(obq_rwlock_t *rw)
{
	/* Release: the read section happens before a later writer's acquire. */
	OBQ__UNLOCK_STEPS(rw, OBQ_SP_UNLOCK, OBQ_ACC_READ_UNLOCK, OBQ_TSAN_MUTEX_READ_LOCK,
			  obq__raw_word_sub(&rw->v, OBQ__RW_READER, memory_order_release));
}

/* Exclusive lock of an object the caller owns (waits for readers and the writer). */
OBQ_INLINE void obq_write_lock(obq_rwlock_t *rw)
{
	OBQ__LOCK_STEPS(rw, OBQ_SP_LOCK, OBQ_ACC_WRITE_LOCK, 0,
			while (!obq__rw_write_try(rw)) obq__lock_wait(obq__rw_free_ready, rw), 0);
}

OBQ_INLINE int obq_write_trylock(obq_rwlock_t *rw)
{
	int ok;
	OBQ__LOCK_STEPS(rw, OBQ_SP_TRYLOCK, OBQ_ACC_WRITE_LOCK, OBQ_TSAN_MUTEX_TRY_LOCK,
			ok = obq__rw_write_try(rw), OBQ__TRY_FLAGS(OBQ_TSAN_MUTEX_TRY_LOCK, ok));
	return ok;
}

OBQ_INLINE void obq_write_unlock(obq_rwlock_t *rw)
{
	/* Release: the write section happens before the next holder's acquire.  A plain
	 * store suffices: readers never add themselves while the writer bit is set. */
	OBQ__UNLOCK_STEPS(rw, OBQ_SP_UNLOCK, OBQ_ACC_WRITE_UNLOCK, 0,
			  obq__raw_word_store(&rw->v, 0, memory_order_release));
}

/* ------------------------------------------------------------------------------ */
/* Sequence counters (kernel seqcount_t, C11 mapping after Boehm 2012).  Fields read
 * between begin and retry must be read with OBQ_PEEK, written with OBQ_STORE.      */

OBQ__RAW int obq__seq_even_ready(const void *s)
{
	/* Relaxed: a hint; begin re-reads with acquire. */
	return !(atomic_load_explicit(&((obq_seqcount_t *)s)->seq, memory_order_relaxed) & 1u);
}

OBQ_INLINE void obq_seqcount_init(obq_seqcount_t *s)
{
	(void)obq__lock_word_init(s, sizeof *s, &s->seq, 1u); /* odd: a writer is inside */
}

/* Wait for an even count and return it. */
OBQ_INLINE unsigned obq_read_seqcount_begin(const obq_seqcount_t *s)
{
	OBQ_SCHED_POINT(OBQ_SP_SEQ_READ, s);
	OBQ__CHECK(s, sizeof *s, OBQ_ACC_SEQ_READ);
	OBQ__QUIET_BEGIN();
	unsigned v;
	/* Acquire: the section's data reads happen after this read (kernel: smp_rmb
	 * after the load); it synchronises with write_seqcount_end's release. */
	while ((v = obq__raw_word_load(&s->seq, memory_order_acquire)) & 1u)
		obq__lock_wait(obq__seq_even_ready, s);
	OBQ__QUIET_END();
	return v;
}

/* 1 if a writer ran since begin returned start: the reads must be retried. */
OBQ_INLINE int obq_read_seqcount_retry(const obq_seqcount_t *s, unsigned start)
{
	OBQ_SCHED_POINT(OBQ_SP_SEQ_READ, s);
	OBQ__CHECK(s, sizeof *s, OBQ_ACC_SEQ_READ);
	/* Acquire fence: the section's (relaxed) data reads happen before the re-read
	 * below (kernel: smp_rmb in read_seqcount_retry). */
	atomic_thread_fence(memory_order_acquire);
	OBQ__QUIET_BEGIN();
	/* Relaxed: ordered by the fence above. */
	unsigned v = obq__raw_word_load(&s->seq, memory_order_relaxed);
	OBQ__QUIET_END();
	return v != start;
}

/* Writers are serialised by the caller (a lock of the object they own). */
OBQ_INLINE void obq_write_seqcount_begin(obq_seqcount_t *s)
{
	OBQ_SCHED_POINT(OBQ_SP_STORE, s);
	OBQ__CHECK(s, sizeof *s, OBQ_ACC_SEQ_WRITE);
	/* Relaxed: only this (serialised) writer stores the count. */
	unsigned v = obq__raw_word_load(&s->seq, memory_order_relaxed);
	obq__raw_word_store(&s->seq, v + 1, memory_order_relaxed);
	/* Release fence: the odd count is ordered before the section's data stores
	 * (kernel: smp_wmb after the increment), so a reader that sees a new datum sees
	 * the odd count at its retry. */
	atomic_thread_fence(memory_order_release);
}

OBQ_INLINE void obq_write_seqcount_end(obq_seqcount_t *s)
{
	OBQ_SCHED_POINT(OBQ_SP_STORE, s);
	OBQ__CHECK(s, sizeof *s, OBQ_ACC_SEQ_WRITE);
	/* Relaxed: only this writer stores the count. */
	unsigned v = obq__raw_word_load(&s->seq, memory_order_relaxed);
	/* Release: the section's data stores happen before a reader's acquire of the new
	 * even count (kernel: smp_wmb before the increment). */
	obq__raw_word_store(&s->seq, v + 1, memory_order_release);
}

/* ------------------------------------------------------------------------------ */
/* Incarnation tokens (checked builds: identity checks for tests)                   */

/* The incarnation of the object at obj now: its slot's generation if ALLOCATED, 0 if
 * it is not a live object.  Release builds: always 0. */
OBQ_INLINE obq_token_t obq_incarnation(const void *obj)
{
	OBQ_SCHED_POINT(OBQ_SP_PEEK, obj);
#if OBQ_CHECKED
	return _obq_check_incarnation(obj);
#else
	(void)obj;
	return 0;
#endif
}

/* 1 if obj is still the live object whose token was tok (not freed, not recycled
 * since).  Memory that is not an oblique slot counts as the same.  Release builds:
 * always 1. */
OBQ_INLINE int obq_same_incarnation(const void *obj, obq_token_t tok)
{
	OBQ_SCHED_POINT(OBQ_SP_PEEK, obj);
#if OBQ_CHECKED
	return _obq_check_same_incarnation(obj, tok);
#else
	(void)obj;
	(void)tok;
	return 1;
#endif
}

#if OBQ_TSAN && defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

OBQ_END_DECLS
#endif /* OBLIQUE_ACCESS_H */
