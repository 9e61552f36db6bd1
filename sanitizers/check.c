/* check.c — the type-stable checker: the hooks the cache calls (oblique/bits/track.h) and the
 * checks behind every oblique/access.h call in checked builds.
 *
 * What is legal (docs/checker.md has the long form):
 *
 *   slot state      reader op (peek, pin, oblique lock)     owner op (store, set, put, lock)
 *   ALLOCATED       yes                                      yes
 *   FREE            only inside a read-side section          no  (store-to-free-object)
 *                   (free-access-outside-read-side)
 *   FREE-PENDING    as FREE                                  as FREE
 *   FREE after its  no: use-after-grace-period (rcu-debug: the deferred free completed,
 *   rcu-debug GP    a full grace period passed since the free — kmem_cache_rcu_uaf)
 *   RELEASED        never (released-access)
 *
 * plus: a lock / rwlock / seqcount of a typesafe object initialised while held or
 * contended (lock-reinit-while-held), a free whose declared refcount guard is not zero
 * (free-with-refcount: the free is refused), guard fields that changed while the slot
 * was FREE (guard-field-clobbered, checked at the next alloc), an OBQ_PEEK_TYPED
 * through the wrong cache (type-mismatch), and a cache destroyed while callbacks
 * queued with obq_rcu_call_obj / obq_rcu_call_cache are still pending
 * (destroy-with-pending-callbacks).
 *
 * A slot whose slab is still being made (the ctor runs before the checker hears of the
 * slab: obq_slot_info.check is NULL) is not checked: that is ctor time.  Addresses
 * outside every oblique slab are not checked either (the access layer also serves
 * refcounts and locks in ordinary memory).
 *
 * Threads: a check reads the slot word (allocator) and the shadow records (relaxed
 * atomics) and writes only the calling thread's own data; it takes no lock. */
#include "check_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------
 * Small helpers. */

static inline int acc_is_reader(int acc)
{
	return acc <= OBQ_ACC_LOCK_QUERY;
}

static inline struct obq_check_thread *cur_ct(struct obq_thread *t)
{
	return _obq_chk_thread(t);
}

static inline int typesafe(const struct chk_slab *cs)
{
	return (cs->flags & OBQ_TYPESAFE_BY_RCU) != 0;
}

/* Guard fields are read with relaxed atomics (a stale reader may pin or lock them
 * concurrently) and outside ASan's view (the slot may be poisoned a moment later). */
static OBQ_NO_ASAN uint64_t read_guard(const void *obj, const struct obq_guard *g)
{
	const char *p = (const char *)obj + g->offset;
	/* Relaxed: a snapshot for a diagnostic. */
	switch (g->size) {
	case 1: return __atomic_load_n((const uint8_t *)p, __ATOMIC_RELAXED);
	case 2: return __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED);
	case 4: return __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED);
	default: return __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
	}
}

/* 12 bits per guard kind except the lock (stale readers may hold it across an alloc):
 * sig = OR over kinds k != LOCK of (h(value_k) & 0xfff) << 12k, bit 63 set if any. */
static uint64_t guard_signature(const struct chk_slab *cs, const void *obj)
{
	struct obq_cache *c = __atomic_load_n(&cs->cache, __ATOMIC_RELAXED);
	if (c == NULL)
		return 0;
	const struct obq_guard *g = _obq_cache_guards(c);
	uint64_t sig = 0;
	for (unsigned k = 0; k < OBQ_GUARD_KIND_COUNT; k++) {
		if (!g[k].declared || k == OBQ_GUARD_LOCK)
			continue;
		uint64_t v = read_guard(obj, &g[k]) * 0x9e3779b97f4a7c15ull;
		sig |= ((v >> 40) & 0xfffu) << (12 * k);
		sig |= 1ull << 63;
	}
	return sig;
}

static const char *const guard_names[OBQ_GUARD_KIND_COUNT] = {
	"refcount", "lock", "key", "link", "generation"
};

/* ---------------------------------------------------------------------------------
 * Hooks called by the cache. */

void *_obq_check_slab_created(struct obq_cache *c, struct obq_slab *s, void *mem,
			      size_t bytes, size_t nslots, size_t stride)
{
	_obq_chk_init_once();
	struct chk_slab *cs = _obq_chk_slab_alloc(nslots);
	if (cs == NULL)
		return NULL; /* out of memory: this slab goes unchecked */
	cs->slab = s;
	/* Relaxed: only uniqueness matters (0 is skipped: it means "no slab"). */
	static uint32_t serials;
	uint32_t serial;
	do
		serial = __atomic_add_fetch(&serials, 1, __ATOMIC_RELAXED);
	while (serial == 0);
	/* Relaxed: a shadow field (a stale lookup may read a recycled block's serial). */
	__atomic_store_n(&cs->serial, serial, __ATOMIC_RELAXED);
	/* Relaxed: published with the slab (slab.c stores s->check before the slab is
	 * handed to any other thread through its lists). */
	__atomic_store_n(&cs->cache, c, __ATOMIC_RELAXED);
	struct obq_cache_props cp;
	_obq_cache_props(c, &cp);
	size_t nl = strnlen(cp.name, sizeof cs->name - 1);
	memcpy(cs->name, cp.name, nl);
	cs->name[nl] = '\0';
	cs->flags = cp.flags;
	cs->rcu_debug = cp.rcu_debug;
	cs->has_ctor = cp.has_ctor;
	cs->mem = mem;
	cs->bytes = bytes;
	cs->stride = stride;
	cs->size = cp.size;
	/* OBQ_POISON caches fill and check the whole stride. */
	cs->unpoison = (cp.flags & OBQ_POISON) ? stride : cp.size;
	cs->nslots = nslots;
	cs->poison = 1;
	/* Relaxed: statistics flags (a recycled block may hold the last slab's). */
	__atomic_store_n(&cs->retired, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&cs->stale, 0, __ATOMIC_RELAXED);
	/* Every slot is FREE (the ctor has run): poison the whole mapping. */
	_obq_chk_poison(mem, bytes);
	return cs;
}

/* ---------------------------------------------------------------------------------
 * The allocator contract, oblique's side (docs/checker.md §9): what the allocator owes
 * every protocol, checked at the transitions it reports through the seam.  Reports
 * name the allocator (rules alloc-*), never the protocol; the "allocated by" stack of
 * the context is the allocator-side stack of the hand-out. */

/* At a hand-out of slot si (the slot word already says ALLOCATED, generation
 * advanced); fl: the record's flags before this alloc. */
static void alloc_contract(const struct obq_slot_info *si, struct chk_slab *cs,
			   struct chk_slot *r, uint32_t fl, const void *site)
{
	/* Relaxed: shadow records (check_internal.h). */
	uint64_t last = __atomic_load_n(&r->last_gen, __ATOMIC_RELAXED);
	if (__atomic_load_n(&cs->released, __ATOMIC_RELAXED))
		_obq_chk_report(OBQ_ERR_ALLOC_EARLY_RELEASE, si, si->object, cs->size, CHK_ACC_ALLOC,
				site, "obq_cache_alloc handed out slot %zu of a slab whose memory "
				"already went back (gp count %lu at its release): the object sat in "
				"a magazine or depot while its slab was released",
				si->index, (unsigned long)__atomic_load_n(&cs->released_gp,
									  __ATOMIC_RELAXED));
	else if (fl & CHK_SLOT_LIVE)
		_obq_chk_report(OBQ_ERR_ALLOC_DOUBLE_HANDOUT, si, si->object, cs->size,
				CHK_ACC_ALLOC, site, "obq_cache_alloc handed out an object that is "
				"already handed out (generation %llu, not freed since): two owners "
				"now share it", (unsigned long long)last);
	else if (fl & CHK_SLOT_PENDING)
		_obq_chk_report(OBQ_ERR_ALLOC_EARLY_REUSE, si, si->object, cs->size, CHK_ACC_ALLOC,
				site, "obq_cache_alloc (rcu-debug) handed out an object whose deferred "
				"free has not completed: it was freed at gp count %lu and must wait "
				"for a grace period that began after that free",
				(unsigned long)__atomic_load_n(&r->free_gp, __ATOMIC_RELAXED));
	else if (last != 0 && si->generation <= last)
		_obq_chk_report(OBQ_ERR_ALLOC_NO_NEW_INCARNATION, si, si->object, cs->size,
				CHK_ACC_ALLOC, site, "obq_cache_alloc handed out slot %zu again "
				"without a new incarnation: its generation is %llu, its previous "
				"hand-out's was %llu — a stale reader holding the old incarnation "
				"cannot tell it was freed and reused",
				si->index, (unsigned long long)si->generation, (unsigned long long)last);
}

int _obq_check_slab_releasing(void *check, unsigned dropping)
{
	struct chk_slab *cs = check;
	if (cs == NULL)
		return 1;
	/* Relaxed: shadow records; the releasing thread owns the slab now. */
	if (__atomic_load_n(&cs->released, __ATOMIC_RELAXED)) {
		_obq_report(OBQ_ERR_ALLOC_EARLY_RELEASE, cs->name, cs->mem, "RELEASED", 0,
			    "  the allocator released the slab %p (%zu slots) of cache \"%s\" a "
			    "second time: it went back\n  at gp count %lu already.  Objects of it "
			    "were still listed somewhere (a magazine or\n  depot flushed twice, a "
			    "slab list left unreset).  The second release was refused.\n",
			    (void *)cs->mem, cs->nslots, cs->name,
			    (unsigned long)__atomic_load_n(&cs->released_gp, __ATOMIC_RELAXED));
		return 0;
	}
	if (!typesafe(cs))
		return 1;
	unsigned long now = _obq_chk_gp_now(), need = 0;
	size_t worst = 0;
	for (size_t i = 0; i < cs->nslots; i++) {
		/* Relaxed: shadow records. */
		if (!dropping && (__atomic_load_n(&cs->recs[i].flags, __ATOMIC_RELAXED) & CHK_SLOT_LIVE)) {
			struct obq_slot_info si;
			if (!_obq_slot_lookup(cs->mem + i * cs->stride, &si))
				return 1;
			_obq_chk_report(OBQ_ERR_ALLOC_EARLY_RELEASE, &si, si.object, cs->size,
					CHK_ACC_FREE, NULL, "the allocator is releasing the slab of this "
					"slot (cache \"%s\", %zu slots) while the object is handed out "
					"and not freed: its owner would use released memory.  The release "
					"was refused", cs->name, cs->nslots);
			return 0;
		}
		unsigned long n = (unsigned long)__atomic_load_n(&cs->recs[i].free_need,
								 __ATOMIC_RELAXED);
		if (n > need) {
			need = n;
			worst = i;
		}
	}
	if (now < need) {
		struct obq_slot_info si;
		if (!_obq_slot_lookup(cs->mem + worst * cs->stride, &si))
			return 1;
		_obq_chk_report(OBQ_ERR_ALLOC_EARLY_RELEASE, &si, si.object, cs->size, CHK_ACC_FREE,
				NULL, "the allocator is releasing the slab of this slot (cache \"%s\", "
				"%zu slots) before the grace period its last free owes: that free "
				"was at gp count %lu, a grace period that began after it ends at "
				"count %lu, and the count is %lu — a reader that loaded the object "
				"before the free may still hold it.  The release was refused",
				cs->name, cs->nslots,
				(unsigned long)__atomic_load_n(&cs->recs[worst].free_gp, __ATOMIC_RELAXED),
				need, now);
		return 0;
	}
	return 1;
}

/* The shadow record of si's slot, or NULL when its slab has none (an unchecked slab,
 * or an index past the slab's records). */
static struct chk_slot *slot_rec(const struct obq_slot_info *si)
{
	struct chk_slab *cs = si->check;
	if (cs == NULL || si->index >= cs->nslots)
		return NULL;
	return &cs->recs[si->index];
}

void _obq_check_pending_abandoned(const struct obq_slot_info *si)
{
	struct chk_slot *r = slot_rec(si);
	if (r == NULL)
		return;
	/* Relaxed: a shadow record of the freeing thread. */
	__atomic_store_n(&r->flags, __atomic_load_n(&r->flags, __ATOMIC_RELAXED) & ~CHK_SLOT_PENDING,
			 __ATOMIC_RELAXED);
}

void _obq_check_alloc(const struct obq_slot_info *si, const void *site)
{
	struct chk_slab *cs = si->check;
	struct chk_slot *r = slot_rec(si);
	if (r == NULL)
		return;
	/* Contents are meaningful for typesafe, ctor and poison caches (Valgrind: DEFINED);
	 * a plain cache hands out the previous owner's bytes (UNDEFINED). */
	int defined = (cs->flags & (OBQ_TYPESAFE_BY_RCU | OBQ_POISON)) || cs->has_ctor;
	_obq_chk_unpoison(si->object, cs->unpoison, defined);
	struct obq_thread *t = obq_thread_current();
	/* Relaxed everywhere below: shadow records (see check_internal.h). */
	uint32_t fl = __atomic_load_n(&r->flags, __ATOMIC_RELAXED);
	alloc_contract(si, cs, r, fl, site);
	if ((fl & CHK_SLOT_SIG) && (typesafe(cs) || cs->has_ctor)) {
		uint64_t then = __atomic_load_n(&r->guard_sig, __ATOMIC_RELAXED);
		uint64_t now = guard_signature(cs, si->object);
		if (then != now) {
			char which[96] = "";
			size_t len = 0;
			for (unsigned k = 0; k < OBQ_GUARD_KIND_COUNT; k++)
				if (((then >> (12 * k)) & 0xfff) != ((now >> (12 * k)) & 0xfff))
					len += (size_t)snprintf(which + len, sizeof which - len, "%s%s",
								len ? ", " : "", guard_names[k]);
			_obq_chk_report(OBQ_ERR_GUARD_CLOBBER, si, si->object, cs->size, CHK_ACC_ALLOC, site,
					"obq_cache_alloc: guard field%s %s of this slot changed while it "
					"was FREE (between its last free and this alloc): something wrote "
					"into a freed type-stable object — allocator metadata over a guard, "
					"or a stale writer",
					strchr(which, ',') ? "s" : "", which[0] ? which : "(unknown)");
		}
	}
	__atomic_store_n(&r->alloc_tid, t->id, __ATOMIC_RELAXED);
	__atomic_store_n(&r->alloc_stack, _obq_chk_stack_save(site, 0), __ATOMIC_RELAXED);
	__atomic_store_n(&r->last_gen, si->generation, __ATOMIC_RELAXED);
	__atomic_store_n(&r->flags, CHK_SLOT_LIVE, __ATOMIC_RELAXED);
	struct obq_check_thread *ct = cur_ct(t);
	if (ct)
		_obq_chk_seen_note(ct, si);
	if (_obq_testing_hooks.allocated)
		_obq_testing_hooks.allocated(si->object);
	if (_obq_testing_handout_hook)
		_obq_testing_handout_hook(si->object);
}

int _obq_check_free(const struct obq_slot_info *si, const void *site)
{
	struct chk_slab *cs = si->check;
	struct obq_thread *t = obq_thread_current();
	struct obq_check_thread *ct = cur_ct(t);
	if (ct)
		ct->last_stack = 0;
	if (cs == NULL || si->state != OBQ_SLOT_ALLOCATED || si->cache == NULL)
		return 1; /* the allocator's own checks report bad frees */
	const struct obq_guard *g = _obq_cache_guards(si->cache);
	if (g[OBQ_GUARD_REFCOUNT].declared) {
		uint64_t v = read_guard(si->object, &g[OBQ_GUARD_REFCOUNT]);
		if (v != 0) {
			_obq_chk_report(OBQ_ERR_FREE_REFCOUNT, si, (const char *)si->object +
					g[OBQ_GUARD_REFCOUNT].offset, g[OBQ_GUARD_REFCOUNT].size, CHK_ACC_FREE, site,
					"obq_cache_free: the object's declared refcount (offset %zu) is "
					"%llu, not 0: someone still holds a reference (or pinned it) and "
					"would use a freed object; the free was refused",
					g[OBQ_GUARD_REFCOUNT].offset, (unsigned long long)v);
			return 0;
		}
	}
	if (ct)
		ct->last_stack = _obq_chk_stack_save(site, 0);
	if (_obq_testing_hooks.freed)
		_obq_testing_hooks.freed(si->object);
	return 1;
}

void _obq_check_freed(const struct obq_slot_info *si)
{
	struct chk_slab *cs = si->check;
	struct chk_slot *r = slot_rec(si);
	if (r == NULL)
		return;
	struct obq_thread *t = obq_thread_current();
	/* Relaxed everywhere below: shadow records. */
	uint32_t fl = __atomic_load_n(&r->flags, __ATOMIC_RELAXED);
	if (si->state == OBQ_SLOT_FREE && (fl & CHK_SLOT_PENDING)) {
		/* rcu-debug: the deferred free completed.  Only a completed grace period makes
		 * later touches a use after the GP (the allocator's out-of-memory fallback
		 * turns a FREE_PENDING slot FREE at once). */
		unsigned long now = _obq_chk_gp_now();
		int gp = now != (unsigned long)__atomic_load_n(&r->free_gp, __ATOMIC_RELAXED);
		unsigned long need = (unsigned long)__atomic_load_n(&r->free_need, __ATOMIC_RELAXED);
		if (now < need)
			_obq_chk_report(OBQ_ERR_ALLOC_EARLY_REUSE, si, si->object, cs->size,
					CHK_ACC_FREE, NULL, "rcu-debug: the allocator completed the "
					"deferred free of this object at gp count %lu, before the grace "
					"period it owes (freed at count %lu, a grace period that began "
					"after the free ends at %lu): the free joined a batch already "
					"waiting, and a reader that loaded the object may still hold it",
					now, (unsigned long)__atomic_load_n(&r->free_gp, __ATOMIC_RELAXED),
					need);
		__atomic_store_n(&r->done_gp, now, __ATOMIC_RELAXED);
		__atomic_store_n(&r->done_tid, t->id, __ATOMIC_RELAXED);
		__atomic_store_n(&r->flags, (fl & ~CHK_SLOT_PENDING) | (gp ? CHK_SLOT_GP_DONE : 0),
				 __ATOMIC_RELAXED);
		return; /* already poisoned at FREE_PENDING */
	}
	struct obq_check_thread *ct = cur_ct(t);
	__atomic_store_n(&r->free_tid, t->id, __ATOMIC_RELAXED);
	__atomic_store_n(&r->free_stack, ct ? ct->last_stack : 0, __ATOMIC_RELAXED);
	__atomic_store_n(&r->free_gp, _obq_chk_gp_now(), __ATOMIC_RELAXED);
	__atomic_store_n(&r->free_need, _obq_rcu_gp_target(), __ATOMIC_RELAXED);
	uint32_t nfl = si->state == OBQ_SLOT_FREE_PENDING ? CHK_SLOT_PENDING : 0;
	uint64_t sig = guard_signature(cs, si->object);
	if (sig) {
		__atomic_store_n(&r->guard_sig, sig, __ATOMIC_RELAXED);
		nfl |= CHK_SLOT_SIG;
	}
	__atomic_store_n(&r->flags, nfl, __ATOMIC_RELAXED);
	if (ct)
		_obq_chk_seen_note(ct, si);
	_obq_chk_poison(si->object, cs->stride);
}

void _obq_check_slab_released(struct obq_cache *c, struct obq_slab *s, void *check)
{
	struct chk_slab *cs = check;
	if (cs == NULL) {
		_obq_slab_quarantine_done(s);
		return;
	}
	struct obq_thread *t = obq_thread_current();
	/* Relaxed: shadow records. */
	__atomic_store_n(&cs->released_tid, t->id, __ATOMIC_RELAXED);
	__atomic_store_n(&cs->released_stack, _obq_chk_stack_save(NULL, 2), __ATOMIC_RELAXED);
	__atomic_store_n(&cs->released_gp, _obq_chk_gp_now(), __ATOMIC_RELAXED);
	__atomic_store_n(&cs->released, 1, __ATOMIC_RELAXED);
	if (_obq_testing_release_hook)
		_obq_testing_release_hook(cs->mem, cs->bytes);
	_obq_chk_poison(cs->mem, cs->bytes);
	_obq_chk_quarantine_push(cs);
}

void _obq_check_slab_retired(void *check)
{
	struct chk_slab *cs = check;
	if (cs)
		__atomic_store_n(&cs->retired, 1, __ATOMIC_RELAXED); /* relaxed: a statistic */
}

int _obq_check_slab_stale(void *check)
{
	struct chk_slab *cs = check;
	return cs && __atomic_load_n(&cs->stale, __ATOMIC_RELAXED); /* relaxed: a statistic */
}

/* ---------------------------------------------------------------------------------
 * Callbacks that reference a cache's objects (obq_rcu_call_obj / _cache). */

#define PEND_MAX 16384 /* indexed by cache id (cache.c recycles ids below this) */

static struct {
	uint32_t tag;        /* tag of the cache that owns the counter */
	long n;              /* callbacks queued and not yet finished */
	void (*last_fn)(struct obq_rcu_head *); /* last callback queued */
	const void *last_site;                  /* where it was queued */
	uint32_t last_tid;                      /* by which thread */
} pend[PEND_MAX];
static pthread_mutex_t pend_lock = PTHREAD_MUTEX_INITIALIZER; /* claims a counter for a new tag */

static void pend_fork_prepare(void)
{
	pthread_mutex_lock(&pend_lock);
}

static void pend_fork_done(void)
{
	pthread_mutex_unlock(&pend_lock);
}

void _obq_chk_check_atfork(void)
{
	pthread_atfork(pend_fork_prepare, pend_fork_done, pend_fork_done);
}

struct pend_wrap {
	struct obq_rcu_head rh;                 /* what the backend queues */
	struct obq_rcu_head *user;              /* the caller's head */
	void (*fn)(struct obq_rcu_head *head);  /* the caller's callback */
	uint32_t id;                            /* counter index */
	uint32_t tag;                           /* counter owner when queued */
};

static void pend_trampoline(struct obq_rcu_head *rh)
{
	struct pend_wrap *w = (struct pend_wrap *)((char *)rh - offsetof(struct pend_wrap, rh));
	_obq_rcu_head_unqueued(w->user); /* tracked in _obq_chk_rcu_call */
	w->fn(w->user);
	/* Relaxed: a counter read by destroy's check; a late callback of a destroyed
	 * cache (tag changed) does not touch the new owner's count. */
	if (__atomic_load_n(&pend[w->id].tag, __ATOMIC_RELAXED) == w->tag)
		__atomic_fetch_sub(&pend[w->id].n, 1, __ATOMIC_RELAXED);
	free(w);
}

void _obq_check_rcu_call(struct obq_cache *c, struct obq_rcu_head *head,
		       void (*fn)(struct obq_rcu_head *head), const void *site)
{
	struct pend_wrap *w = c && head && fn ? malloc(sizeof *w) : NULL;
	if (w == NULL) {
		obq_rcu_call(head, fn); /* untracked here (obq_rcu_call checks its arguments) */
		return;
	}
	/* The caller's head is the one that must not be queued twice (rule
	 * rcu-head-double-queued), though w->rh is what the queue holds. */
	if (!_obq_rcu_head_track(head, fn)) {
		free(w);
		return;
	}
	struct obq_cache_props cp;
	_obq_cache_props(c, &cp);
	w->user = head;
	w->fn = fn;
	w->id = cp.id % PEND_MAX;
	w->tag = cp.tag;
	pthread_mutex_lock(&pend_lock);
	/* Relaxed under the lock: the lock orders claims; the trampoline only compares. */
	if (__atomic_load_n(&pend[w->id].tag, __ATOMIC_RELAXED) != w->tag) {
		__atomic_store_n(&pend[w->id].tag, w->tag, __ATOMIC_RELAXED);
		__atomic_store_n(&pend[w->id].n, 0, __ATOMIC_RELAXED);
	}
	__atomic_fetch_add(&pend[w->id].n, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&pend[w->id].last_fn, fn, __ATOMIC_RELAXED);
	__atomic_store_n(&pend[w->id].last_site, site, __ATOMIC_RELAXED);
	__atomic_store_n(&pend[w->id].last_tid, obq_thread_current()->id, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&pend_lock);
	obq_rcu_call(&w->rh, pend_trampoline);
}

void _obq_check_cache_destroy(struct obq_cache *c)
{
	struct obq_cache_props cp;
	_obq_cache_props(c, &cp);
	uint32_t id = cp.id % PEND_MAX;
	/* Relaxed: the counter is exact once the callbacks it counts ran (their barrier). */
	if (__atomic_load_n(&pend[id].tag, __ATOMIC_RELAXED) == cp.tag) {
		long n = __atomic_load_n(&pend[id].n, __ATOMIC_RELAXED);
		if (n > 0) {
			char fnb[256], siteb[256];
			_obq_chk_symbolize_fn((const void *)__atomic_load_n(&pend[id].last_fn, __ATOMIC_RELAXED),
					      fnb, sizeof fnb);
			_obq_chk_symbolize(__atomic_load_n(&pend[id].last_site, __ATOMIC_RELAXED), siteb,
					   sizeof siteb);
			_obq_report(OBQ_ERR_DESTROY_PENDING, cp.name, NULL, "(cache)", 0,
				    "obq_cache_destroy(cache \"%s\"): %ld callback%s queued with "
				    "obq_rcu_call_obj/obq_rcu_call_cache on this cache's objects %s still "
				    "pending; when %s, %s touch%s objects of a destroyed cache.\n"
				    "  last queued: callback %s by thread %u at %s\n"
				    "  hint: stop queuing new callbacks, then obq_rcu_barrier() (twice if "
				    "callbacks queue callbacks), then destroy — as Linux "
				    "kmem_cache_destroy needs rcu_barrier().\n",
				    cp.name, n, n == 1 ? "" : "s", n == 1 ? "is" : "are",
				    n == 1 ? "it runs" : "they run", n == 1 ? "it" : "they",
				    n == 1 ? "es" : "", fnb,
				    __atomic_load_n(&pend[id].last_tid, __ATOMIC_RELAXED), siteb);
		}
		__atomic_store_n(&pend[id].tag, 0, __ATOMIC_RELAXED);
	}
	_obq_chk_quarantine_forget_cache(c);
}

/* ---------------------------------------------------------------------------------
 * Access checks. */

/* An access-layer touch of addr, which lies in no oblique slab, into heap memory ASan
 * says is freed (`why`): the memory went back to the system under a
 * reader — whatever allocator handed it out (an adapter's, seen without its help). */
static OBQ_NOINLINE __attribute__((unused)) void foreign_released(const void *addr, size_t size, int acc,
					  const void *site, const char *why)
{
	struct obq_check_thread *ct = cur_ct(obq_thread_current());
	if (ct && ct->in_check)
		return;
	char ctx[1400] = "";
	const char *cache = NULL;
	if (_obq_testing_describe_hook)
		_obq_testing_describe_hook(addr, ctx, sizeof ctx, &cache);
	char sym[320];
	_obq_chk_symbolize(site, sym, sizeof sym);
	_obq_chk_asan_describe(addr); /* ASan's own account: who allocated and freed it */
	_obq_report(OBQ_ERR_RELEASED_ACCESS, cache, addr, "RELEASED (not an oblique slab)", 0,
		    "%s of %zu byte%s at %p, in no oblique slab: %s.  The memory went back to "
		    "the system while a reader could still reach it.\n"
		    "    access: %s at %s, read-side section: %s\n%s%s"
		    "    hint: if the allocator under test says it is type-stable, it released "
		    "memory without a grace period (allocator contract: alloc-early-release); "
		    "if not, the stale access is the protocol's\n",
		    _obq_chk_access_name(acc), size, size == 1 ? "" : "s", addr, why,
		    _obq_chk_access_name(acc), sym,
		    _obq_rcu_nesting(obq_thread_current()) ? "yes" : "no", ctx,
		    ctx[0] && ctx[strlen(ctx) - 1] != '\n' ? "\n" : "");
}

static OBQ_NOINLINE void check_access(const obq_cache_t *want, const void *addr, size_t size,
				      int acc, const void *site)
{
	struct obq_slot_info si;
	if (!_obq_slot_lookup(addr, &si)) {
#if OBQ_ASAN
		const char *why = _obq_chk_asan_released(addr, size);
		if (OBQ_UNLIKELY(why != NULL)) {
			foreign_released(addr, size, acc, site, why);
			return;
		}
#endif
		if (want)
			_obq_chk_report(OBQ_ERR_TYPE_MISMATCH, NULL, addr, size, acc, site,
					"OBQ_PEEK_TYPED expected an object of cache \"%s\", but %p is not "
					"in any oblique cache", obq_cache_name(want), addr);
		return;
	}
	struct chk_slab *cs = si.check;
	if (cs == NULL || si.index >= cs->nslots)
		return; /* slab being made: ctor time */
	struct obq_thread *t = obq_thread_current();
	struct obq_check_thread *ct = cur_ct(t);
	if (ct && ct->in_check)
		return;
	switch (si.state) {
	case OBQ_SLOT_ALLOCATED:
		if (want && si.cache != want)
			goto mismatch;
		break;
	case OBQ_SLOT_FREE:
	case OBQ_SLOT_FREE_PENDING: {
		if (want && si.cache != want)
			goto mismatch;
		struct chk_slot *r = &cs->recs[si.index];
		/* Relaxed: a shadow record. */
		uint32_t fl = __atomic_load_n(&r->flags, __ATOMIC_RELAXED);
		if (si.state == OBQ_SLOT_FREE && (fl & CHK_SLOT_GP_DONE)) {
			_obq_chk_report(OBQ_ERR_UAF_AFTER_GP, &si, addr, size, acc, site,
					"%s of an object whose deferred free completed: a full grace "
					"period passed since it was freed (rcu-debug mode), so no reader "
					"may still hold it — the pointer was kept across a grace period "
					"(had the grace period itself ended under this reader, or the free "
					"completed early, the allocator contract would have been reported "
					"first: alloc-early-grace-period, alloc-early-reuse)",
					_obq_chk_access_name(acc));
		} else if (!acc_is_reader(acc)) {
			_obq_chk_report(OBQ_ERR_FREE_STORE, &si, addr, size, acc, site,
					"%s writes to a %s object: only pins (obq_ref_get_not_zero) and "
					"oblique lock operations may touch a freed object, and a failed "
					"pin must not write to it",
					_obq_chk_access_name(acc), _obq_slot_state_name(si.state));
		} else if (!typesafe(cs)) {
			_obq_chk_report(OBQ_ERR_FREE_OUTSIDE_READER, &si, addr, size, acc, site,
					"%s of a %s object of cache \"%s\", which is not "
					"OBQ_TYPESAFE_BY_RCU: its freed objects may not be touched at all, "
					"not even inside a read-side section",
					_obq_chk_access_name(acc), _obq_slot_state_name(si.state), cs->name);
		} else if (_obq_rcu_nesting(t) == 0) {
			_obq_chk_report(OBQ_ERR_FREE_OUTSIDE_READER, &si, addr, size, acc, site,
					"%s of a %s object outside any RCU read-side section: a freed "
					"type-stable object may be touched only between obq_rcu_read_lock "
					"and obq_rcu_read_unlock (the pointer was kept past the section, or "
					"used without a pin)",
					_obq_chk_access_name(acc), _obq_slot_state_name(si.state));
		} else if (__atomic_load_n(&cs->retired, __ATOMIC_RELAXED) &&
			   !__atomic_load_n(&cs->stale, __ATOMIC_RELAXED)) {
			/* A legal stale touch of a slab on its way back (relaxed: a statistic;
			 * a touch racing the retire may be missed or counted). */
			__atomic_store_n(&cs->stale, 1, __ATOMIC_RELAXED);
		}
		break;
	}
	case OBQ_SLOT_RELEASED:
		_obq_chk_report(OBQ_ERR_RELEASED_ACCESS, &si, addr, size, acc, site,
				"%s of a slot whose slab went back to the system after a grace period "
				"(kept in the checker's quarantine so this is a report, not a crash): "
				"the pointer outlived every read-side section that could hold it",
				_obq_chk_access_name(acc));
		return;
	default:
		return;
	}
	if (ct)
		_obq_chk_seen_note(ct, &si);
	return;
mismatch:
	_obq_chk_report(OBQ_ERR_TYPE_MISMATCH, &si, addr, size, acc, site,
			"OBQ_PEEK_TYPED expected an object of cache \"%s\", but %p is in a slot "
			"(%s) of cache \"%s\" (two types in one typesafe cache, or a pointer into "
			"the wrong cache)", obq_cache_name(want), addr,
			_obq_slot_state_name(si.state), cs->name);
}

void _obq_check_access(const void *addr, size_t size, enum obq_access_kind kind)
{
	check_access(NULL, addr, size, (int)kind, __builtin_return_address(0));
}

void _obq_check_access_typed(const obq_cache_t *c, const void *addr, size_t size,
			     enum obq_access_kind kind)
{
	check_access(c, addr, size, (int)kind, __builtin_return_address(0));
}

int _obq_check_init(const void *addr, size_t size, enum obq_access_kind kind, unsigned busy)
{
	const void *site = __builtin_return_address(0);
	struct obq_slot_info si;
	if (!_obq_slot_lookup(addr, &si))
		return 1;
	struct chk_slab *cs = si.check;
	if (cs == NULL || si.index >= cs->nslots)
		return 1; /* ctor time */
	struct obq_check_thread *ct = cur_ct(obq_thread_current());
	if (ct && ct->in_check)
		return 1;
	if (si.state == OBQ_SLOT_RELEASED) {
		_obq_chk_report(OBQ_ERR_RELEASED_ACCESS, &si, addr, size, kind, site,
				"%s on a slot whose slab went back after a grace period",
				_obq_chk_access_name(kind));
		return 0;
	}
	if (busy && typesafe(cs)) {
		_obq_chk_report(OBQ_ERR_LOCK_REINIT, &si, addr, size, kind, site,
				"%s of a lock that is %s (lock word 0x%x): in a typesafe cache a "
				"stale reader may hold the lock of an object that was just freed or "
				"allocated; re-initialising it breaks that reader's critical section",
				_obq_chk_access_name(kind),
				(busy & OBQ_SPIN_LOCKED) ? "held" : "contended", busy);
		return 0;
	}
	if (si.state == OBQ_SLOT_FREE || si.state == OBQ_SLOT_FREE_PENDING) {
		_obq_chk_report(OBQ_ERR_FREE_STORE, &si, addr, size, kind, site,
				"%s of a %s object after its slab was made: initialise in the ctor",
				_obq_chk_access_name(kind), _obq_slot_state_name(si.state));
		return 0;
	}
	return 1;
}

obq_token_t _obq_check_incarnation(const void *obj)
{
	struct obq_slot_info si;
	if (!_obq_slot_lookup(obj, &si))
		return 1;
	check_access(NULL, obj, 1, OBQ_ACC_INCARNATION, __builtin_return_address(0));
	return si.state == OBQ_SLOT_ALLOCATED ? (obq_token_t)si.generation : 0;
}

int _obq_check_same_incarnation(const void *obj, obq_token_t tok)
{
	struct obq_slot_info si;
	if (!_obq_slot_lookup(obj, &si))
		return 1;
	return tok != 0 && si.state == OBQ_SLOT_ALLOCATED && (obq_token_t)si.generation == tok;
}
