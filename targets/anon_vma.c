/* anon_vma.c — fuzz target: the seed protocol, lock-oblique without a refcount
 * (mm/rmap.c page_lock_anon_vma, 2004; today folio_lock_anon_vma_read).
 *
 * Model.  Pages are owned by the target and are themselves reference counted, as
 * folios are: the owner holds one reference while a page is allocated, a reader holds
 * one for the whole walk (every caller of folio_lock_anon_vma_read holds a folio
 * reference), and a free page (reference 0) cannot be pinned.  page->mapping points
 * at the anon_vma the page was last mapped into and is NOT cleared by unmap (as in
 * Linux), so a reader can load an anon_vma that was freed -- and reused -- meanwhile.
 * Within one incarnation of a page it is only ever mapped into the same anon_vma (in
 * Linux a page is remapped only within its anon_vma's family, whose root outlives it);
 * to map it into another one the owner frees the page -- only when no reader holds it
 * -- and allocates it again for the new anon_vma: mapping first, then mapped, then the
 * reference that makes the new incarnation visible to readers.  So a reader that sees
 * its page mapped looked at the page's current anon_vma, which was live when it
 * looked.  The owner side (new / map / unmap / free / write_op) is serialised by an mm
 * lock; an anon_vma slot holds one reference, pages hold no anon_vma reference.
 *
 * Reader (lock_read, the protocol under test), holding a page reference:
 *	rcu_read_lock
 *	m = page->mapping; if !m or !page_mapped: NULL
 *	if read_trylock_oblique(m->lock)          // lock inside a maybe-free anon_vma: legal
 *		if page->mapping != m: unlock, retry  // moved meanwhile
 *		if !page_mapped: unlock, NULL         // re-check AFTER the lock
 *	else
 *		inc_not_zero(m->ref) or NULL; re-check page_mapped (else put, NULL)
 *		rcu_read_unlock; read_lock(m->lock) (may sleep: we hold a ref)
 *		re-check mapping (else unlock, put, retry); drop the ref (the last one frees)
 * Free side: the last put takes and drops the lock for write before freeing, to wait
 * out trylock holders that have no reference.
 *
 * Oracles: while the reader holds the lock the anon_vma stays allocated — `live` is 1
 * and `gen` (its incarnation, set at alloc) does not change across scheduling points;
 * a mapped page's anon_vma is live with a non-zero refcount (owner side); every
 * refcount is 0 at free (the checker, through the declared guard). */
#include <oblique/oblique.h>
#include <oblique/harness.h>
#include "mutant.h" /* seeded bugs: docs/mutants.md (no-ops outside the mutants build) */

#define NPAGES 3
#define NAV 3

struct anon_vma {
	obq_rwlock_t lock;           /* the (root) lock; ctor-initialised (guard) */
	obq_refcount_t ref;          /* the slot's reference + pins; 0 while free (guard) */
	unsigned long gen;           /* incarnation number, written at alloc under the write lock */
	unsigned long live;          /* 1 from alloc to free (oracle) */
};

struct page {
	struct anon_vma *mapping;    /* last anon_vma mapped into; unmap leaves it (__atomic only) */
	int mapcount;                /* > 0: mapped (__atomic only) */
	int ref;                     /* 0: free; owner 1 while allocated, + readers (__atomic only) */
};

struct st {
	obq_h_cache_t *c;                 /* anon_vma cache (typesafe) */
	obq_spinlock_t mm;                /* serialises the owner side */
	struct anon_vma *av[NAV];         /* owned anon_vmas (one reference each) */
	struct page pages[NPAGES];        /* pages (never freed) */
	unsigned long next_gen;           /* incarnation counter (under mm) */
};

static void ctor(void *p)
{
	struct anon_vma *a = p;
	obq_rwlock_init(&a->lock);
	obq_ref_init(&a->ref);
	a->gen = 0;
	a->live = 0;
}

static void setup(obq_h_t *t)
{
	struct st *s = t->state;
	obq_spin_lock_init(&s->mm);
	s->c = OBQ_H_CACHE_SETUP(t, "anon_vma", struct anon_vma, OBQ_TYPESAFE_BY_RCU, ctor,
				 OBQ_H_GUARD_FIELD(OBQ_GUARD_LOCK, struct anon_vma, lock),
				 OBQ_H_GUARD_FIELD(OBQ_GUARD_REFCOUNT, struct anon_vma, ref));
}

static int page_mapped(struct page *pg)
{
	return __atomic_load_n(&pg->mapcount, __ATOMIC_ACQUIRE) > 0;
}

/* Drop a reference; the last one frees after the lock handshake. */
static void put_anon_vma(obq_h_t *t, struct anon_vma *a)
{
	struct st *s = t->state;
	if (!obq_ref_put(&a->ref))
		return;
	/* anon_vma_free: wait out trylock holders that have no reference */
	obq_write_lock(&a->lock);
	OBQ_STORE(a, live, 0);
	obq_write_unlock(&a->lock);
	obq_h_free(t, s->c, a);
}

static void op_new(obq_h_t *t, const uint8_t *arg)
{
	struct st *s = t->state;
	unsigned i = arg[0] % NAV;
	obq_spin_lock(&s->mm);
	if (!__atomic_load_n(&s->av[i], __ATOMIC_RELAXED)) {
		struct anon_vma *a = obq_h_alloc(t, s->c);
		if (a) {
			/* a stale reader may hold a's lock: initialise under it */
			obq_write_lock(&a->lock);
			OBQ_STORE(a, gen, ++s->next_gen);
			OBQ_STORE(a, live, 1);
			obq_write_unlock(&a->lock);
			obq_ref_set_release(&a->ref, 1);
			__atomic_store_n(&s->av[i], a, __ATOMIC_RELEASE);
		}
	}
	obq_spin_unlock(&s->mm);
}

/* Pin a page for a walk (folio_try_get): fails on a free page.  The acquire pairs with
 * the release that allocated this incarnation, so its mapping is visible. */
static int page_get(struct page *pg)
{
	int r = __atomic_load_n(&pg->ref, __ATOMIC_RELAXED);
	while (r > 0)
		if (__atomic_compare_exchange_n(&pg->ref, &r, r + 1, 0, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return 1;
	return 0;
}

/* Drop a reader's pin (never the last reference: the owner's stays until it frees). */
static void page_put(struct page *pg)
{
	__atomic_fetch_sub(&pg->ref, 1, __ATOMIC_RELEASE);
}

/* Allocate page incarnation for a (under mm): mapping, then mapped, then the reference
 * that lets readers pin it -- each a release, so a reader that pins the page sees the
 * mapping of this incarnation. */
static void page_alloc_for(obq_h_t *t, struct page *pg, struct anon_vma *a)
{
	if (OBQ_MUTANT(anon_mapped_before_mapping)) { /* mutant: pinnable and mapped before reachable */
		__atomic_store_n(&pg->ref, 1, __ATOMIC_RELEASE);
		__atomic_store_n(&pg->mapcount, 1, __ATOMIC_RELEASE);
	}
	obq_h_check(t, OBQ_PEEK(a, live) == 1 && obq_ref_read(&a->ref) > 0,
		    "owner maps a dead anon_vma");
	obq_rcu_assign_pointer(pg->mapping, a);
	__atomic_store_n(&pg->mapcount, 1, __ATOMIC_RELEASE);
	/* mutant: the new incarnation made pinnable without release */
	__atomic_store_n(&pg->ref, 1, OBQ_MUTANT(anon_page_ref_relaxed) ? __ATOMIC_RELAXED
									  : __ATOMIC_RELEASE);
}

/* Map a page into anon_vma slot arg[1]: a free page is allocated for it; an unmapped
 * page of the same anon_vma is mapped again; an unmapped page of another one is freed
 * and allocated again -- unless a reader holds it (folio_ref_freeze 1 -> 0 fails), in
 * which case nothing happens (Linux would use another page). */
static void op_map(obq_h_t *t, const uint8_t *arg)
{
	struct st *s = t->state;
	struct page *pg = &s->pages[arg[0] % NPAGES];
	obq_spin_lock(&s->mm);
	struct anon_vma *a = __atomic_load_n(&s->av[arg[1] % NAV], __ATOMIC_RELAXED);
	if (a && !page_mapped(pg)) {
		int owner = 1;
		if (__atomic_load_n(&pg->ref, __ATOMIC_RELAXED) == 0)
			page_alloc_for(t, pg, a);
		else if (__atomic_load_n(&pg->mapping, __ATOMIC_RELAXED) == a)
			__atomic_store_n(&pg->mapcount, 1, __ATOMIC_RELEASE);
		/* free the page: only if the owner's is the one reference (no walker holds it);
		 * relaxed: the page's fields are only rewritten by page_alloc_for's releases */
		else if (__atomic_compare_exchange_n(&pg->ref, &owner, 0, 0, __ATOMIC_RELAXED,
						     __ATOMIC_RELAXED))
			page_alloc_for(t, pg, a);
	}
	obq_spin_unlock(&s->mm);
}

static void op_unmap(obq_h_t *t, const uint8_t *arg)
{
	struct st *s = t->state;
	struct page *pg = &s->pages[arg[0] % NPAGES];
	obq_spin_lock(&s->mm);
	__atomic_store_n(&pg->mapcount, 0, __ATOMIC_RELEASE); /* mapping stays */
	obq_spin_unlock(&s->mm);
}

static void op_free(obq_h_t *t, const uint8_t *arg)
{
	struct st *s = t->state;
	unsigned i = arg[0] % NAV;
	obq_spin_lock(&s->mm);
	struct anon_vma *a = __atomic_load_n(&s->av[i], __ATOMIC_RELAXED);
	int busy = 0;
	for (unsigned p = 0; a && p < NPAGES; p++)
		if (page_mapped(&s->pages[p]) &&
		    __atomic_load_n(&s->pages[p].mapping, __ATOMIC_RELAXED) == a)
			busy = 1;
	if (a && !busy) {
		__atomic_store_n(&s->av[i], NULL, __ATOMIC_RELAXED);
		put_anon_vma(t, a);
	}
	obq_spin_unlock(&s->mm);
}

/* An owner operation under the write lock (anon_vma_clone, unlink...): makes the
 * readers' trylock fail, so they take the refcount path. */
static void op_write(obq_h_t *t, const uint8_t *arg)
{
	struct st *s = t->state;
	obq_spin_lock(&s->mm);
	struct anon_vma *a = __atomic_load_n(&s->av[arg[0] % NAV], __ATOMIC_RELAXED);
	if (a) {
		obq_write_lock(&a->lock);
		obq_h_point(t);
		obq_write_unlock(&a->lock);
	}
	obq_spin_unlock(&s->mm);
}

/* folio_lock_anon_vma_read: the anon_vma of the page, read-locked, or NULL. */
static struct anon_vma *lock_anon_vma_read(obq_h_t *t, struct page *pg)
{
	for (;;) {
		obq_rcu_read_lock();
		struct anon_vma *m = obq_rcu_dereference(pg->mapping);
		if (!m || !page_mapped(pg)) {
			obq_rcu_read_unlock();
			return NULL;
		}
		if (obq_read_trylock_oblique(&m->lock)) {
			if (obq_rcu_dereference(pg->mapping) != m) {
				obq_read_unlock(&m->lock);
				obq_rcu_read_unlock();
				obq_h_retry(t);
				continue;
			}
			if (!page_mapped(pg)) { /* re-check after the lock */
				obq_read_unlock(&m->lock);
				obq_rcu_read_unlock();
				obq_h_event(t, OBQ_EV_STALE_READ);
				return NULL;
			}
			obq_rcu_read_unlock();
			return m;
		}
		obq_h_pin(t, 0); /* trylock failed */
		if (!obq_h_pin(t, obq_ref_get_not_zero(&m->ref))) {
			obq_rcu_read_unlock();
			return NULL;
		}
		if (!page_mapped(pg)) {
			obq_rcu_read_unlock();
			put_anon_vma(t, m);
			return NULL;
		}
		obq_rcu_read_unlock();
		obq_read_lock(&m->lock); /* we hold a reference: m stays allocated */
		if (obq_rcu_dereference(pg->mapping) != m) {
			obq_h_event(t, OBQ_EV_RECYCLED);
			obq_read_unlock(&m->lock);
			put_anon_vma(t, m);
			obq_h_retry(t);
			continue;
		}
		if (obq_ref_put(&m->ref)) {
			/* we held the last reference: release the lock and free */
			obq_read_unlock(&m->lock);
			obq_ref_set_release(&m->ref, 1);
			put_anon_vma(t, m);
			return NULL;
		}
		return m;
	}
}

/* A walk of one page: pin it (a free page has nothing to walk), lock its anon_vma,
 * check it stays put under the lock, unlock, drop the page. */
static void op_lock_read(obq_h_t *t, const uint8_t *arg)
{
	struct st *s = t->state;
	struct page *pg = &s->pages[arg[0] % NPAGES];
	if (!page_get(pg)) {
		obq_h_observe(t, 0);
		return;
	}
	struct anon_vma *a = lock_anon_vma_read(t, pg);
	if (!a) {
		page_put(pg);
		obq_h_observe(t, 0);
		return;
	}
	unsigned long gen = OBQ_PEEK(a, gen);
	obq_h_check(t, OBQ_PEEK(a, live) == 1, "locked anon_vma (gen %lu) is not live", gen);
	obq_h_observe(t, gen);
	obq_h_point(t);
	obq_h_point(t);
	obq_h_check(t, OBQ_PEEK(a, live) == 1 && OBQ_PEEK(a, gen) == gen,
		    "anon_vma freed or reused under its read lock (gen %lu -> %lu, live %lu)", gen,
		    OBQ_PEEK(a, gen), OBQ_PEEK(a, live));
	obq_read_unlock(&a->lock);
	page_put(pg);
}

static void teardown(obq_h_t *t)
{
	struct st *s = t->state;
	for (unsigned p = 0; p < NPAGES; p++)
		__atomic_store_n(&s->pages[p].mapcount, 0, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < NAV; i++) {
		uint8_t a = (uint8_t)i;
		op_free(t, &a);
	}
}

static const struct obq_h_op ops[] = {
	{"new", 1, op_new},     {"map", 2, op_map},     {"unmap", 1, op_unmap},
	{"free", 1, op_free},   {"write", 1, op_write}, {"lock_read", 1, op_lock_read},
};

OBQ_H_TARGET_OPS("anon_vma", ops, struct st, .setup = setup, .teardown = teardown)
