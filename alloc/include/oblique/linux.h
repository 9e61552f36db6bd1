/* oblique/linux.h — the Linux kernel's names over oblique's primitives, so that
 * kernel-style code (kmem_cache_alloc, rcu_dereference, refcount_inc_not_zero,
 * spin_lock, hlist_nulls_for_each_entry_rcu, ...) compiles as it is and is checked and
 * scheduled exactly like the obq_* calls it expands to.
 *
 * Opt-in: oblique/oblique.h does not include it.  Everything here is a macro or a
 * static inline function — nothing is exported, so it cannot collide at link time
 * with liburcu or with kernel-derived code.  It DOES take the kernel's and liburcu's
 * names at compile time: never include it in a translation unit that also includes
 * liburcu's headers (urcu.h, urcu/...) or the kernel's own (linux/...).  The one
 * exception is oblique's own urcu backend, whose oblique/rcu.h includes
 * <urcu/urcu-memb.h>: this header #undefs liburcu's macros of the same names and
 * renames `struct rcu_head` (to struct obq_linux_rcu_head) so the two coexist, but
 * the TU then sees the kernel's meaning of every name below, not liburcu's.
 *
 * ============================== WARNING, in kernel terms =========================
 * SLAB_TYPESAFE_BY_RCU does not delay kmem_cache_free().  The object is reusable AT
 * ONCE — kmem_cache_free() then kmem_cache_alloc() on the same thread returns the
 * same address; only an empty slab's memory waits for a grace period.  A reader in
 * rcu_read_lock() holding a stale pointer always points at an object of the same
 * type, but maybe another one.  So: pin (refcount_inc_not_zero, or spin_lock on the
 * object's lock), THEN re-validate (re-read the key; for hlist_nulls, check that the
 * walk ended on this chain's nulls value) and retry if it changed.  Fields a stale
 * reader touches before the pin (refcount, lock, key, list node) are set up by the
 * ctor and survive free -> alloc; never zero them at alloc (hence no
 * kmem_cache_zalloc), and make the object acquirable last (refcount_set_release).
 * =================================================================================
 *
 * What maps to what (each kernel name EXPANDS to the oblique call on the right, so in
 * the sim library it is that call's scheduling point and in checked builds that
 * call's check):
 *
 *   slab      struct kmem_cache            obq_cache_t (an opaque alias)
 *             kmem_cache_create(n,s,a,f,ctor) obq_cache_create; ctor void (*)(void *);
 *                                          SLAB_POISON is dropped with
 *                                          SLAB_TYPESAFE_BY_RCU or a ctor, as SLUB does
 *             kmem_cache_alloc(c, gfp)     obq_cache_alloc (gfp ignored)
 *             kmem_cache_free(c, p)        obq_cache_free
 *             kmem_cache_destroy(c)        obq_cache_destroy (waits for typesafe
 *                                          grace-period work, like the kernel's
 *                                          rcu_barrier in kmem_cache_destroy)
 *             SLAB_TYPESAFE_BY_RCU, SLAB_HWCACHE_ALIGN, SLAB_POISON   OBQ_* flags
 *             gfp_t, GFP_KERNEL, GFP_ATOMIC, GFP_NOWAIT   accepted, ignored (0)
 *   RCU       rcu_read_lock / rcu_read_unlock  obq_rcu_read_lock / _unlock
 *             rcu_dereference(p)           OBQ_PEEK_ACQUIRE_AT(&p): an acquire load
 *                                          checked as a peek, so it may read a link
 *                                          inside a freed typesafe object (inside a
 *                                          section) and is a scheduling point
 *             rcu_dereference_raw(p), rcu_dereference_check(p, c)   the same
 *             rcu_dereference_protected(p, c), rcu_access_pointer(p)
 *                                          OBQ_PEEK_AT(&p) (relaxed: the
 *                                          updater's lock orders it; c is not
 *                                          evaluated — there is no lockdep)
 *             rcu_assign_pointer(p, v)     OBQ_STORE_RELEASE_AT(&p, v) (release;
 *                                          a store into a FREE object is reported)
 *             RCU_INIT_POINTER(p, v)       OBQ_STORE_AT(&p, v) (relaxed)
 *             synchronize_rcu()            obq_rcu_synchronize
 *             call_rcu(head, fn)           obq_rcu_call, through a trampoline: the
 *                                          kernel's fn takes a struct rcu_head *
 *             rcu_barrier()                obq_rcu_barrier
 *   refcount  refcount_t                   obq_refcount_t
 *             refcount_set(r, 0)           obq_ref_init (ctor time: no scheduling
 *                                          point, since a ctor runs inside the
 *                                          allocator)
 *             refcount_set(r, n > 0)       obq_ref_set_release (release: stronger
 *                                          than the kernel's relaxed set)
 *             refcount_set_release(r, n)   obq_ref_set_release
 *             refcount_inc_not_zero(r)     obq_ref_get_not_zero (acquire on success:
 *                                          the kernel's _acquire variant's order)
 *             refcount_inc(r)              obq_ref_get
 *             refcount_dec_and_test(r)     obq_ref_put
 *             refcount_read(r)             obq_ref_read
 *   locks     spinlock_t                   obq_spinlock_t
 *             spin_lock_init(l)            obq_spin_lock_init (ctor time for locks
 *                                          inside typesafe objects)
 *             spin_lock(l)                 obq_spin_lock_oblique — ALWAYS the oblique
 *                                          variant: kernel code takes the lock of a
 *                                          maybe-freed object inside rcu_read_lock
 *                                          (sighand, anon_vma) with plain spin_lock,
 *                                          and the oblique lock is legal on an
 *                                          allocated object too.  Cost: an owner's
 *                                          lock of an object it already freed is only
 *                                          reported outside a read-side section (the
 *                                          checked obq_spin_lock reports it anywhere;
 *                                          call it directly if you want that)
 *             spin_trylock(l)              obq_spin_trylock_oblique
 *             spin_unlock(l)               obq_spin_unlock
 *             spin_lock_bh/_irq/_irqsave and their unlocks: the same (no interrupts
 *                                          in user space; flags set to 0)
 *   access    READ_ONCE(x)                 OBQ_PEEK_AT(&x)
 *             WRITE_ONCE(x, v)             OBQ_STORE_AT(&x, v)
 *             smp_load_acquire(p)          OBQ_PEEK_ACQUIRE_AT(p)
 *             smp_store_release(p, v)      OBQ_STORE_RELEASE_AT(p, v)
 *             (x must be a plain scalar of 1, 2, 4 or 8 bytes, as for OBQ_PEEK)
 *   lists     container_of, struct hlist_nulls_head / hlist_nulls_node,
 *             INIT_HLIST_NULLS_HEAD, NULLS_MARKER, is_a_nulls, get_nulls_value,
 *             hlist_nulls_unhashed, hlist_nulls_empty, hlist_nulls_entry,
 *             hlist_nulls_add_head_rcu, hlist_nulls_del_rcu, hlist_nulls_del_init_rcu,
 *             hlist_nulls_for_each_entry_rcu (readers), hlist_nulls_for_each_entry
 *             (updaters under the chain lock): the kernel's code
 *             (include/linux/rculist_nulls.h, list_nulls.h) over the accessors above,
 *             so every link read is a checked, scheduled READ_ONCE / rcu_dereference
 *   misc      likely / unlikely (if not defined), __rcu (empty), lockdep_is_held (1)
 *
 * Deliberately missing:
 *  - kmem_cache_zalloc: zeroing at alloc clobbers the refcount, lock, key and list
 *    node that stale readers of a SLAB_TYPESAFE_BY_RCU object rely on (the kernel
 *    works around it with sk_prot_clear_nulls).  Using it is a compile-time error
 *    pointing here; zero around the guard fields with obq_clear_except_guards().
 *  - kfree / kmalloc / kfree_rcu: oblique has caches only.
 *  - refcount_dec, refcount_add, refcount_dec_not_one, ...: only the calls above.
 *  - rcu_read_lock_bh / _sched, SRCU, list_head / hlist (non-nulls) RCU lists.
 *  - gfp semantics (sleeping, __GFP_ZERO): every allocation may "sleep".
 *  - the kmem_cache_create(name, size, args, flags) form of Linux 6.12+.
 *  - lockdep, sparse annotations (__rcu is empty), WARN_ON.
 * Threads using rcu_read_lock register first: obq_rcu_register_thread() (a scheduler
 * of virtual threads does it for the threads it runs). */
#ifndef OBLIQUE_LINUX_H
#define OBLIQUE_LINUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <oblique/oblique.h>

OBQ_BEGIN_DECLS

/* Under the urcu backend oblique/rcu.h has included liburcu, which defines some of
 * these names as macros (rcu_read_lock -> urcu_memb_read_lock, ...): ours win. */
#undef rcu_read_lock
#undef rcu_read_unlock
#undef rcu_dereference
#undef rcu_dereference_raw
#undef rcu_dereference_check
#undef rcu_dereference_protected
#undef rcu_access_pointer
#undef rcu_assign_pointer
#undef RCU_INIT_POINTER
#undef synchronize_rcu
#undef call_rcu
#undef rcu_barrier
#undef rcu_head
#undef READ_ONCE
#undef WRITE_ONCE
#undef smp_load_acquire
#undef smp_store_release
#undef container_of
#undef __rcu

/* ------------------------------------------------------------------------------ */
/* Misc                                                                             */

#ifndef likely
#define likely(x)   OBQ_LIKELY(x)
#endif
#ifndef unlikely
#define unlikely(x) OBQ_UNLIKELY(x)
#endif
#define __rcu                   /* sparse annotation: nothing to check here */
#define lockdep_is_held(l)      ((void)(l), 1)

#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* ------------------------------------------------------------------------------ */
/* Access: READ_ONCE / WRITE_ONCE / acquire-release                                  */

#define READ_ONCE(x)             OBQ_PEEK_AT(&(x))
#define WRITE_ONCE(x, v)         OBQ_STORE_AT(&(x), (v))
#define smp_load_acquire(p)      OBQ_PEEK_ACQUIRE_AT(p)
#define smp_store_release(p, v)  OBQ_STORE_RELEASE_AT((p), (v))

/* ------------------------------------------------------------------------------ */
/* Slab                                                                             */

struct kmem_cache;               /* never defined: an alias of struct obq_cache */
typedef unsigned int gfp_t;
typedef unsigned int slab_flags_t;

#define GFP_KERNEL  ((gfp_t)0)   /* gfp flags: accepted and ignored */
#define GFP_ATOMIC  ((gfp_t)0)
#define GFP_NOWAIT  ((gfp_t)0)

#define SLAB_TYPESAFE_BY_RCU ((slab_flags_t)OBQ_TYPESAFE_BY_RCU)
#define SLAB_HWCACHE_ALIGN   ((slab_flags_t)OBQ_HWCACHE_ALIGN)
#define SLAB_POISON          ((slab_flags_t)OBQ_POISON)

static inline obq_cache_t *obq__kmem(struct kmem_cache *c)
{
	return (obq_cache_t *)(void *)c;
}

/* NULL on failure (errno, and obq_last_error() says why).  SLUB never poisons objects
 * of a typesafe or ctor cache; oblique refuses the combination, so it is dropped. */
static inline struct kmem_cache *kmem_cache_create(const char *name, unsigned int size,
						   unsigned int align, slab_flags_t flags,
						   void (*ctor)(void *))
{
	if ((flags & SLAB_TYPESAFE_BY_RCU) || ctor)
		flags &= ~SLAB_POISON;
	return (struct kmem_cache *)(void *)obq_cache_create(name, size, align, flags, ctor);
}

static inline void *kmem_cache_alloc(struct kmem_cache *c, gfp_t gfp)
{
	(void)gfp;
	return obq_cache_alloc(obq__kmem(c));
}

static inline void kmem_cache_free(struct kmem_cache *c, void *obj)
{
	obq_cache_free(obq__kmem(c), obj);
}

/* Live objects make it fail (reported through the error hook, the cache stays). */
static inline void kmem_cache_destroy(struct kmem_cache *c)
{
	if (c)
		(void)obq_cache_destroy(obq__kmem(c));
}

#define kmem_cache_zalloc(c, gfp) __extension__({                                  \
	_Static_assert(0, "kmem_cache_zalloc is not provided by oblique/linux.h: zeroing " \
		       "at alloc clobbers what stale SLAB_TYPESAFE_BY_RCU readers use; "   \
		       "use kmem_cache_alloc + obq_clear_except_guards()");               \
	(void *)0; })

/* ------------------------------------------------------------------------------ */
/* RCU                                                                              */

#define rcu_read_lock()          obq_rcu_read_lock()
#define rcu_read_unlock()        obq_rcu_read_unlock()
#define synchronize_rcu()        obq_rcu_synchronize()
#define rcu_barrier()            obq_rcu_barrier()

#define rcu_dereference(p)              OBQ_PEEK_ACQUIRE_AT(&(p))
#define rcu_dereference_raw(p)          OBQ_PEEK_ACQUIRE_AT(&(p))
#define rcu_dereference_check(p, c)     OBQ_PEEK_ACQUIRE_AT(&(p))
#define rcu_dereference_protected(p, c) OBQ_PEEK_AT(&(p))
#define rcu_access_pointer(p)           OBQ_PEEK_AT(&(p))
#define rcu_assign_pointer(p, v)        ((void)OBQ_STORE_RELEASE_AT(&(p), (v)))
#define RCU_INIT_POINTER(p, v)          ((void)OBQ_STORE_AT(&(p), (v)))

/* struct rcu_head is renamed so that it cannot meet liburcu's (urcu backend). */
#define rcu_head obq_linux_rcu_head
struct obq_linux_rcu_head {
	struct obq_rcu_head obq;                      /* what oblique's backend queues */
	void (*func)(struct obq_linux_rcu_head *head); /* the kernel-style callback */
};
typedef void (*rcu_callback_t)(struct obq_linux_rcu_head *head);

static inline void obq__linux_rcu_trampoline(struct obq_rcu_head *h)
{
	struct obq_linux_rcu_head *r = container_of(h, struct obq_linux_rcu_head, obq);
	r->func(r);
}

static inline void call_rcu(struct obq_linux_rcu_head *head, rcu_callback_t func)
{
	head->func = func;
	obq_rcu_call(&head->obq, obq__linux_rcu_trampoline);
}

/* ------------------------------------------------------------------------------ */
/* refcount_t                                                                       */

typedef obq_refcount_t refcount_t;

/* 0: the ctor-time init; n > 0: publication (release, "set the count last"). */
static inline void refcount_set(refcount_t *r, int n)
{
	if (n == 0)
		obq_ref_init(r);
	else
		obq_ref_set_release(r, (unsigned)n);
}

static inline void refcount_set_release(refcount_t *r, int n)
{
	obq_ref_set_release(r, (unsigned)n);
}

static inline bool refcount_inc_not_zero(refcount_t *r)
{
	return obq_ref_get_not_zero(r) != 0;
}

static inline void refcount_inc(refcount_t *r)
{
	obq_ref_get(r);
}

static inline bool refcount_dec_and_test(refcount_t *r)
{
	return obq_ref_put(r) != 0;
}

static inline unsigned int refcount_read(const refcount_t *r)
{
	return obq_ref_read(r);
}

/* ------------------------------------------------------------------------------ */
/* spinlock_t                                                                       */

typedef obq_spinlock_t spinlock_t;

#define spin_lock_init(l)    obq_spin_lock_init(l)
#define spin_lock(l)         obq_spin_lock_oblique(l)
#define spin_trylock(l)      obq_spin_trylock_oblique(l)
#define spin_unlock(l)       obq_spin_unlock(l)
#define spin_lock_bh(l)      obq_spin_lock_oblique(l)
#define spin_unlock_bh(l)    obq_spin_unlock(l)
#define spin_lock_irq(l)     obq_spin_lock_oblique(l)
#define spin_unlock_irq(l)   obq_spin_unlock(l)
#define spin_lock_irqsave(l, flags) \
	do { (flags) = 0; obq_spin_lock_oblique(l); } while (0)
#define spin_unlock_irqrestore(l, flags) \
	do { (void)(flags); obq_spin_unlock(l); } while (0)

/* ------------------------------------------------------------------------------ */
/* hlist_nulls (include/linux/list_nulls.h, rculist_nulls.h)                         */

struct hlist_nulls_head {
	struct hlist_nulls_node *first;
};
struct hlist_nulls_node {
	struct hlist_nulls_node *next, **pprev;
};

#define NULLS_MARKER(value) (1UL | (((unsigned long)(value)) << 1))
#define INIT_HLIST_NULLS_HEAD(ptr, nulls) \
	((ptr)->first = (struct hlist_nulls_node *)NULLS_MARKER(nulls))
#define hlist_nulls_entry(ptr, type, member) container_of(ptr, type, member)
#define hlist_nulls_first_rcu(head) ((head)->first)
#define hlist_nulls_next_rcu(node)  ((node)->next)
#define LIST_POISON2 ((void *)0x122)

static inline int is_a_nulls(const struct hlist_nulls_node *ptr)
{
	return ((uintptr_t)ptr & 1);
}

static inline unsigned long get_nulls_value(const struct hlist_nulls_node *ptr)
{
	return (unsigned long)((uintptr_t)ptr >> 1);
}

static inline int hlist_nulls_unhashed(const struct hlist_nulls_node *h)
{
	return !READ_ONCE(h->pprev);
}

static inline int hlist_nulls_empty(const struct hlist_nulls_head *h)
{
	return is_a_nulls(READ_ONCE(h->first));
}

/* Updaters hold the chain's lock.  n's next is set before n is published (release),
 * so a reader that reaches n — or stands on a recycled n — walks on into this chain. */
static inline void hlist_nulls_add_head_rcu(struct hlist_nulls_node *n,
					    struct hlist_nulls_head *h)
{
	struct hlist_nulls_node *first = READ_ONCE(h->first);

	WRITE_ONCE(n->next, first);
	WRITE_ONCE(n->pprev, &h->first);
	rcu_assign_pointer(hlist_nulls_first_rcu(h), n);
	if (!is_a_nulls(first))
		WRITE_ONCE(first->pprev, &n->next);
}

static inline void __hlist_nulls_del(struct hlist_nulls_node *n)
{
	struct hlist_nulls_node *next = READ_ONCE(n->next);
	struct hlist_nulls_node **pprev = READ_ONCE(n->pprev);

	WRITE_ONCE(*pprev, next);
	if (!is_a_nulls(next))
		WRITE_ONCE(next->pprev, pprev);
}

/* n->next is left as it is: a reader standing on n walks on (rculist_nulls.rst). */
static inline void hlist_nulls_del_rcu(struct hlist_nulls_node *n)
{
	__hlist_nulls_del(n);
	WRITE_ONCE(n->pprev, (struct hlist_nulls_node **)LIST_POISON2);
}

static inline void hlist_nulls_del_init_rcu(struct hlist_nulls_node *n)
{
	if (!hlist_nulls_unhashed(n)) {
		__hlist_nulls_del(n);
		WRITE_ONCE(n->pprev, NULL);
	}
}

/* Readers, inside rcu_read_lock(): every link is an rcu_dereference, legal on a
 * node of a freed typesafe object.  The walk may end on ANOTHER chain's nulls value
 * (the node it stood on was freed and re-inserted elsewhere): check
 * get_nulls_value(pos) after the loop and restart if it is not this chain's. */
#define hlist_nulls_for_each_entry_rcu(tpos, pos, head, member)                    \
	for (pos = rcu_dereference_raw(hlist_nulls_first_rcu(head));               \
	     (!is_a_nulls(pos)) &&                                                  \
	     ({ tpos = hlist_nulls_entry(pos, __typeof__(*tpos), member); 1; });    \
	     pos = rcu_dereference_raw(hlist_nulls_next_rcu(pos)))

/* Updaters, under the chain's lock (relaxed READ_ONCE: the lock orders them). */
#define hlist_nulls_for_each_entry(tpos, pos, head, member)                        \
	for (pos = READ_ONCE((head)->first);                                       \
	     (!is_a_nulls(pos)) &&                                                  \
	     ({ tpos = hlist_nulls_entry(pos, __typeof__(*tpos), member); 1; });    \
	     pos = READ_ONCE(pos->next))

OBQ_END_DECLS
#endif /* OBLIQUE_LINUX_H */
