/* contract.c — the allocator contract as the harness sees it, for every adapter
 * (oblique's, the controls, a user's): what any type-stable allocator owes every
 * protocol, checked from the alloc / free sequence the targets make through
 * obq_h_alloc / obq_h_free, the constructor calls, the sanctioned stores of the access
 * layer and the adapters' notifications — without the allocator's help.
 * (oblique's own slot generations, slab releases and deferred frees are checked
 * natively by the checker, sanitizers/check.c; docs/checker.md §9 has both halves.)
 *
 * Per object address the harness keeps a record (struct crec) in a table that is
 * emptied at each run's start:
 *   - every hand-out returns an object not already handed out: a record LIVE at a
 *     hand-out is `alloc-double-handout` (every adapter);
 *   - free-then-alloc yields a strictly newer incarnation: for an adapter with an
 *     incarnation function (oblique: the slot generation) the value at a hand-out must
 *     exceed the previous hand-out's — `alloc-no-new-incarnation`;
 *   - the ctor runs once per slot lifetime: a ctor call on an address whose record is
 *     LIVE, FREED or CTOR (its lifetime did not end: no release said so) is
 *     `alloc-ctor-rerun`;
 *   - the allocator writes nothing into a freed typesafe object: its bytes (up to
 *     SNAP_MAX) are copied at free and compared at its next hand-out, and before an
 *     oracle blames the protocol (h_contract_sweep); words the protocol itself stored
 *     while it was free, through the access layer (OBQ_STORE, a ref or lock word: the
 *     stale writers the checker judges), are excluded — `alloc-wrote-free-object`;
 *   - memory an adapter says went back (obq_h_notify_cache_released) held no live
 *     object and only objects whose grace period had passed: else
 *     `alloc-early-release`;
 *   - a grace period ends only when every reader that was inside when it began has
 *     left (the sim engine, checked at each step of det.c) — `alloc-early-grace-period`.
 * The type-stability checks (ctor, bytes, release) apply to adapters that say they are
 * type-stable and to caches created OBQ_TYPESAFE_BY_RCU; double hand-outs to all.
 *
 * Deterministic mode only (det.c enables it): one OS thread, so plain data.  Stress
 * mode leaves it off (h_contract_on = 0) and every entry point returns at once. */
#define _GNU_SOURCE 1 /* dladdr, Dl_info */
#include "hint.h"

#include <oblique/testing.h>

#include <dlfcn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define SNAP_MAX   512   /* bytes of a freed object compared (64 words: wmask) */
#define FREED_MAX  256   /* freed objects whose bytes are kept (a ring) */
#define TRAMP_MAX  32    /* caches with a ctor checked at once */

enum { CR_EMPTY = 0, CR_LIVE, CR_FREED, CR_CTOR, CR_GONE };

struct crec {
	const void *obj;             /* object start (key) */
	uint32_t run;                /* run stamp: a record of an older run is empty */
	uint8_t state;               /* CR_* */
	uint8_t snap_ok;             /* snap holds the bytes at free (a FREED ring member) */
	uint8_t checks;              /* the type-stability checks apply (see applies) */
	struct obq_h_cache *c;       /* cache at the last hand-out / free / ctor */
	uint64_t inc;                /* incarnation at the last hand-out (0: none) */
	uint64_t wmask;              /* 8-byte words the protocol stored into while FREED */
	unsigned free_tid;           /* who freed it last (OBQ_H_MAIN: setup/teardown) */
	unsigned long free_gp;       /* gp count at that free */
	unsigned long free_need;     /* gp count at which a GP begun after that free ended */
	const void *free_site;       /* the caller of obq_h_free */
	const void *alloc_site;      /* the caller of obq_h_alloc (last hand-out) */
	uint32_t nsnap;              /* bytes in snap */
	uint8_t snap[SNAP_MAX];      /* the object's bytes at free */
};

int h_contract_on;                  /* det.c: 1 while deterministic runs go */
static uint32_t run_stamp = 1;
/* An alloc through oblique's cache in a tail call (adapter.c): the checker's hand-out
 * hook (obq_testing_set_handout_hook) names the object.  One expectation per thread
 * context: the alloc has scheduling points of its own, so before its hand-out another
 * virtual thread may run and allocate directly from an oblique cache (slab_api's bulk
 * and bad_free do): that hand-out is not this one (one shared slot once took it, and
 * the object was later reported as handed out twice). */
#define PENDING_MAX (OBQ_H_MAX_THREADS + 2)
static struct pending {
	const struct obq_thread *ctx; /* the context that expects it */
	obq_h_t *t;
	struct obq_h_cache *c;        /* NULL: no hand-out expected */
	const void *site;
} pendings[PENDING_MAX];

/* The current context's expectation (create: a free slot for it), or NULL. */
static struct pending *pending_of(int create)
{
	const struct obq_thread *me = obq_thread_current();
	struct pending *spare = NULL;
	for (unsigned i = 0; i < PENDING_MAX; i++) {
		if (pendings[i].c && pendings[i].ctx == me)
			return &pendings[i];
		if (!pendings[i].c && !spare)
			spare = &pendings[i];
	}
	if (create && spare)
		spare->ctx = me;
	return create ? spare : NULL;
}
static struct crec *tab;            /* open addressing (linear probing), never shrinks */
static size_t tab_cap, tab_used;    /* capacity (power of two) and non-empty entries */
/* This run's records, so that the walks (a release, a cache's end, a description) cost
 * what the run touched, not the table's size.  Invariant: run_recs[0, run_n) holds
 * every record stamped run_stamp, each once; run_n <= tab_used <= tab_cap / 2 <
 * run_cap, so an append never needs room (grow() makes it with the table). */
static struct crec **run_recs;
static size_t run_n, run_cap;
static struct crec *freed[FREED_MAX]; /* ring of FREED records with snapshots ... */
static uintptr_t freed_lo[FREED_MAX];   /* ... and each one's [obj, obj + nsnap), so */
static uintptr_t freed_hi[FREED_MAX];   /* that a store's scan reads no record */
static unsigned freed_next, freed_used; /* ... next slot; slots [0, freed_used) filled
					  * this run (the ring starts at 0 each run) */

/* ------------------------------------------------------------------ the table */

static size_t hash_ptr(const void *p)
{
	uint64_t x = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ull;
	return (size_t)(x >> 20);
}

static int live_entry(const struct crec *r)
{
	return r->obj != NULL && r->run == run_stamp && r->state != CR_EMPTY;
}

static struct crec *find(const void *p)
{
	if (tab_cap == 0)
		return NULL;
	size_t m = tab_cap - 1;
	for (size_t i = hash_ptr(p) & m;; i = (i + 1) & m) {
		struct crec *r = &tab[i];
		if (r->obj == NULL)
			return NULL;
		if (r->obj == p)
			return r->run == run_stamp ? r : NULL;
	}
}

static int grow(void)
{
	size_t cap = tab_cap ? 2 * tab_cap : 1024;
	struct crec *n = calloc(cap, sizeof *n), *old = tab;
	struct crec **recs = malloc((cap / 2 + 1) * sizeof *recs);
	if (n == NULL || recs == NULL) {
		free(n);
		free(recs);
		return 0;
	}
	size_t ocap = tab_cap;
	tab = n;
	tab_cap = cap;
	tab_used = 0;
	free(run_recs);
	run_recs = recs;
	run_cap = cap / 2 + 1;
	run_n = 0;
	memset(freed, 0, sizeof freed); /* ring pointers point into the old table */
	freed_next = freed_used = 0;
	for (size_t i = 0; i < ocap; i++)
		if (live_entry(&old[i])) {
			size_t m = cap - 1, j = hash_ptr(old[i].obj) & m;
			while (tab[j].obj != NULL)
				j = (j + 1) & m;
			tab[j] = old[i];
			tab[j].snap_ok = 0;
			tab_used++;
			run_recs[run_n++] = &tab[j]; /* only this run's entries are live */
		}
	free(old);
	return 1;
}

/* The record of p, made (state CR_EMPTY) if there is none; NULL if out of memory. */
static struct crec *get(const void *p)
{
	struct crec *r = find(p);
	if (r)
		return r;
	if ((tab_used + 1) * 2 > tab_cap && !grow())
		return NULL;
	size_t m = tab_cap - 1;
	for (size_t i = hash_ptr(p) & m;; i = (i + 1) & m) {
		r = &tab[i];
		if (r->obj == NULL) {
			tab_used++;
			break;
		}
		if (r->obj == p)
			break; /* a record of an older run: reused */
	}
	r->obj = p;
	r->run = run_stamp;
	run_recs[run_n++] = r; /* find() missed: not yet stamped this run */
	r->state = CR_EMPTY;
	r->snap_ok = 0;
	r->inc = 0;
	r->wmask = 0;
	r->c = NULL;
	return r;
}

void h_contract_run_begin(void)
{
	if (++run_stamp == 0)
		run_stamp = 1;
	/* Entries of older runs are empty by their stamp; a table full of them is
	 * cleared so that probe chains stay short. */
	if (tab_used * 4 > tab_cap * 3 / 2 && tab_cap) {
		memset(tab, 0, tab_cap * sizeof *tab);
		tab_used = 0;
	}
	run_n = 0;
	freed_next = freed_used = 0;
	memset(pendings, 0, sizeof pendings);
}

/* ------------------------------------------------------------------ helpers */

static unsigned long gp_now(void)
{
	return obq_rcu_gp_count();
}

/* The count at which a grace period that begins after now has ended (sim). */
static unsigned long gp_target(void)
{
#if OBQ_RCU_BACKEND == OBQ_RCU_SIM
	return obq_sim_gp_seq() + 1 + (unsigned long)obq_sim_gp_in_progress();
#else
	return obq_rcu_gp_count() + 1;
#endif
}

static int applies(const struct obq_h_cache *c)
{
	return c && c->a->type_stable && (c->flags & OBQ_TYPESAFE_BY_RCU);
}

#if OBQ_ASAN || OBQ_TSAN
void __sanitizer_symbolize_pc(void *pc, const char *fmt, char *out_buf, size_t out_buf_size);
#endif

/* "sym+0x12" for a code address (the sanitizer's symbolizer: function file:line;
 * else dladdr: exported symbols, or module+offset for addr2line), or the address. */
static void symbolize(const void *pc, char *buf, size_t len)
{
#if OBQ_ASAN || OBQ_TSAN
	if (pc) {
		buf[0] = '\0';
		__sanitizer_symbolize_pc((void *)pc, "%f %L", buf, len);
		if (buf[0] && strncmp(buf, "<null>", 6) != 0)
			return;
	}
#endif
	Dl_info di;
	if (pc && dladdr(pc, &di) && di.dli_sname)
		snprintf(buf, len, "%s+0x%lx", di.dli_sname,
			 (unsigned long)((const char *)pc - (const char *)di.dli_saddr));
	else if (pc && dladdr(pc, &di) && di.dli_fname)
		snprintf(buf, len, "%p (%s+0x%lx)", pc, strrchr(di.dli_fname, '/') ?
			 strrchr(di.dli_fname, '/') + 1 : di.dli_fname,
			 (unsigned long)((const char *)pc - (const char *)di.dli_fbase));
	else
		snprintf(buf, len, "%p", pc);
}

/* The allocator-side "stack" of a hand-out or free: the adapter function that did it,
 * called from the target code at site. */
static int put_alloc_side(char *buf, size_t len, const struct obq_h_cache *c, int is_free,
			  const void *site)
{
	char fn[256], at[256];
	const void *f = c ? (is_free ? (const void *)c->a->free : (const void *)c->a->alloc) : NULL;
	/* A function's entry, not a return address: the symbolizers look one byte back. */
	symbolize(f ? (const char *)f + 1 : NULL, fn, sizeof fn);
	symbolize(site, at, sizeof at);
	return snprintf(buf, len, "    allocator-side stack (adapter \"%s\"):\n"
			"      #0 %s  (the adapter's %s)\n      #1 obq_h_%s\n      #2 %s\n",
			c ? c->a->name : "?", fn, is_free ? "free" : "alloc",
			is_free ? "free" : "alloc", at);
}

static int put_free_info(char *buf, size_t len, const struct crec *r)
{
	char at[256];
	symbolize(r->free_site, at, sizeof at);
	unsigned long now = gp_now();
	char who[16];
	if (r->free_tid == OBQ_H_MAIN)
		snprintf(who, sizeof who, "main");
	else
		snprintf(who, sizeof who, "T%u", r->free_tid);
	return snprintf(buf, len, "    freed by %s at %s, gp count %lu (now %lu: %s)\n", who, at,
			r->free_gp, now,
			now >= r->free_need ? "a grace period begun after the free has ended"
					    : "NO grace period begun after the free has ended");
}

/* Report an allocator-contract violation on object obj of cache c. */
static void report(enum obq_error_kind kind, const struct obq_h_cache *c, const void *obj,
		   const char *state, const char *fmt, ...) OBQ_PRINTF(5, 6);
static void report(enum obq_error_kind kind, const struct obq_h_cache *c, const void *obj,
		   const char *state, const char *fmt, ...)
{
	char body[2600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof body, fmt, ap);
	va_end(ap);
	_obq_report(kind, c ? c->name : NULL, obj, state, 0, "%s", body);
}

/* ------------------------------------------------------------------ hand-outs */

void h_contract_alloc(obq_h_t *t, struct obq_h_cache *c, void *p, const void *site)
{
	(void)t;
	if (!h_contract_on || p == NULL)
		return;
	struct crec *r = get(p);
	if (r == NULL)
		return;
	char extra[1200];
	int k = 0;
	if (r->state == CR_LIVE) {
		k += put_alloc_side(extra + k, sizeof extra - (size_t)k, c, 0, site);
		char prev[256];
		symbolize(r->alloc_site, prev, sizeof prev);
		report(OBQ_ERR_ALLOC_DOUBLE_HANDOUT, c, p, "ALLOCATED",
		       "  the allocator behind adapter \"%s\" handed out %p, which it had handed "
		       "out before (at %s)\n  and which was not freed since: two owners now "
		       "share one object.\n%s", c->a->name, p, prev, extra);
		r->alloc_site = site;
		return;
	}
	if (r->state == CR_FREED && r->checks && r->snap_ok) {
		const unsigned char *now = p;
		for (uint32_t i = 0; i < r->nsnap; i++) {
			if (now[i] == r->snap[i] || (r->wmask >> (i / 8) & 1))
				continue;
			uint32_t w = i & ~7u;
			uint64_t before = 0, after = 0;
			for (uint32_t b = 0; b < 8 && w + b < r->nsnap; b++) {
				before |= (uint64_t)r->snap[w + b] << (8 * b);
				after |= (uint64_t)now[w + b] << (8 * b);
			}
			k += put_free_info(extra + k, sizeof extra - (size_t)k, r);
			k += put_alloc_side(extra + k, sizeof extra - (size_t)k, c, 0, site);
			report(OBQ_ERR_ALLOC_WROTE_FREE_OBJECT, c, p, "ALLOCATED (checked at hand-out)",
			       "  between its free and this hand-out, something other than the "
			       "protocol's sanctioned\n  stores wrote into the freed typesafe object "
			       "%p (cache \"%s\", %u bytes compared):\n  byte %u (word +%u: "
			       "0x%016llx at the free, 0x%016llx now).  The allocator behind\n  "
			       "adapter \"%s\" (or what it gave the memory back to) wrote into an "
			       "object a stale\n  reader may still be reading: a free-list link or "
			       "other metadata in the object.\n%s",
			       p, c->name, r->nsnap, i, w, (unsigned long long)before,
			       (unsigned long long)after, c->a->name, extra);
			break;
		}
	}
	if (c->a->incarnation) {
		uint64_t g = c->a->incarnation(c->impl, p);
		if (r->state == CR_FREED && r->inc != 0 && g <= r->inc && applies(c)) {
			k += put_alloc_side(extra + k, sizeof extra - (size_t)k, c, 0, site);
			report(OBQ_ERR_ALLOC_NO_NEW_INCARNATION, c, p, "ALLOCATED",
			       "  adapter \"%s\" handed out %p again, freed since its last hand-out, "
			       "without a new\n  incarnation: %llu now, %llu at the last hand-out.  "
			       "A stale reader's identity check\n  cannot tell the object was "
			       "recycled.\n%s", c->a->name, p, (unsigned long long)g,
			       (unsigned long long)r->inc, extra);
		}
		r->inc = g;
	}
	r->state = CR_LIVE;
	r->c = c;
	r->snap_ok = 0;
	r->wmask = 0;
	r->alloc_site = site;
}


void h_contract_expect_handout(obq_h_t *t, struct obq_h_cache *c, const void *site)
{
	struct pending *p = pending_of(1);
	if (p == NULL)
		return; /* more contexts than virtual threads: not checked */
	p->t = t;
	p->c = c;
	p->site = site;
}

static void handout(const void *obj)
{
	struct pending *p = pending_of(0);
	if (p == NULL)
		return; /* an alloc the harness did not make (a target's own cache) */
	struct obq_h_cache *c = p->c;
	p->c = NULL;
	h_contract_alloc(p->t, c, (void *)obj, p->site);
}

void h_contract_free(obq_h_t *t, struct obq_h_cache *c, void *p, const void *site)
{
	struct pending *pd = pending_of(0);
	if (pd)
		pd->c = NULL;
	if (!h_contract_on || p == NULL)
		return;
	struct crec *r = get(p);
	if (r == NULL)
		return;
	r->state = CR_FREED;
	r->c = c;
	r->free_tid = t ? t->tid : OBQ_H_MAIN;
	r->free_gp = gp_now();
	r->free_need = gp_target();
	r->free_site = site;
	r->wmask = 0;
	r->checks = (uint8_t)applies(c);
	r->snap_ok = 0;
	if (!r->checks)
		return;
	r->nsnap = (uint32_t)(c->size < SNAP_MAX ? c->size : SNAP_MAX);
	memcpy(r->snap, p, r->nsnap); /* still allocated: the adapter's free follows */
	struct crec *old = freed_next < freed_used ? freed[freed_next] : NULL; /* this run's */
	if (old && old != r && old->state == CR_FREED)
		old->snap_ok = 0; /* the ring forgets the oldest */
	freed[freed_next] = r;
	freed_lo[freed_next] = (uintptr_t)p;
	freed_hi[freed_next] = (uintptr_t)p + r->nsnap;
	freed_next = (freed_next + 1) % FREED_MAX;
	if (freed_used < FREED_MAX)
		freed_used++;
	r->snap_ok = 1;
}

/* ------------------------------------------------------------------ sanctioned stores */

void h_contract_access(enum obq_sp_kind kind, const void *addr)
{
	if (!h_contract_on || addr == NULL)
		return;
	switch (kind) {
	case OBQ_SP_STORE: case OBQ_SP_REF_SET: case OBQ_SP_REF_PUT: case OBQ_SP_REF_GET:
	case OBQ_SP_LOCK: case OBQ_SP_TRYLOCK: case OBQ_SP_UNLOCK:
		break;
	default:
		return; /* reads */
	}
	uintptr_t a = (uintptr_t)addr;
	for (unsigned i = 0; i < freed_used; i++) {
		if (a < freed_lo[i] || a >= freed_hi[i])
			continue;
		struct crec *r = freed[i];
		uintptr_t o = (uintptr_t)r->obj;
		if (r->run == run_stamp && r->state == CR_FREED && r->snap_ok && a >= o &&
		    a < o + r->nsnap)
			r->wmask |= 1ull << ((a - o) / 8);
	}
}

/* ------------------------------------------------------------------ before an oracle */

/* Compare without ASan's view: the object is free (oblique poisons it). */
static OBQ_NO_ASAN size_t first_diff(const struct crec *r)
{
	const volatile unsigned char *now = r->obj;
	for (uint32_t i = 0; i < r->nsnap; i++)
		if (now[i] != r->snap[i] && !(r->wmask >> (i / 8) & 1))
			return i;
	return SIZE_MAX;
}

int h_contract_sweep(void)
{
	if (!h_contract_on)
		return 0;
	for (unsigned i = 0; i < freed_used; i++) {
		struct crec *r = freed[i];
		if (r == NULL || r->run != run_stamp || r->state != CR_FREED || !r->snap_ok)
			continue;
		size_t d = first_diff(r);
		if (d == SIZE_MAX)
			continue;
		char extra[600];
		put_free_info(extra, sizeof extra, r);
		report(OBQ_ERR_ALLOC_WROTE_FREE_OBJECT, r->c, r->obj, "FREE",
		       "  a target's oracle was about to fail, and the freed typesafe object %p "
		       "(cache \"%s\")\n  changed since its free at byte %zu, not through the "
		       "access layer: the allocator behind\n  adapter \"%s\" (or what it gave "
		       "the memory back to) wrote into it while a stale reader\n  could read "
		       "it.  The oracle's failure follows from that write, not from the "
		       "protocol.\n%s", r->obj, r->c ? r->c->name : "?", d,
		       r->c ? r->c->a->name : "?", extra);
		return 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ releases */

/* The record r lies in memory [mem, hi) that went back: judge the release (a
 * type-stable adapter's: check), then forget what r knew. */
static void release_one(const struct obq_h_cache *c, struct crec *r, const void *mem,
			uintptr_t hi, int check)
{
	if (r->state == CR_GONE || r->state == CR_EMPTY)
		return;
	if (check && r->state == CR_LIVE) {
		report(OBQ_ERR_ALLOC_EARLY_RELEASE, c, r->obj, "ALLOCATED",
		       "  adapter \"%s\" said the memory [%p, %p) of cache \"%s\" went back, "
		       "but the object\n  %p in it is handed out and not freed.\n",
		       c->a->name, mem, (const void *)hi, c->name, r->obj);
	} else if (check && r->state == CR_FREED && gp_now() < r->free_need) {
		char extra[600];
		put_free_info(extra, sizeof extra, r);
		report(OBQ_ERR_ALLOC_EARLY_RELEASE, c, r->obj, "FREE",
		       "  adapter \"%s\" said the memory [%p, %p) of cache \"%s\" went back "
		       "before a grace\n  period that began after the last free of the "
		       "object %p in it had ended.\n%s",
		       c->a->name, mem, (const void *)hi, c->name, r->obj, extra);
	}
	r->state = CR_GONE;
	r->snap_ok = 0;
}

/* The adapter (or oblique's checker: c NULL) says [mem, mem+bytes) went back. */
void h_contract_released(const struct obq_h_cache *c, const void *mem, size_t bytes)
{
	if (!h_contract_on || tab_cap == 0)
		return;
	uintptr_t lo = (uintptr_t)mem, hi = lo + bytes;
	int check = c != NULL && applies(c);
	if (c && bytes <= c->size) { /* one object (the malloc control's free) */
		struct crec *r = find(mem);
		if (r)
			release_one(c, r, mem, hi, check);
		return;
	}
	for (size_t i = 0; i < run_n; i++) {
		struct crec *r = run_recs[i];
		if (live_entry(r) && (uintptr_t)r->obj >= lo && (uintptr_t)r->obj < hi)
			release_one(c, r, mem, hi, check);
	}
}

static void oblique_released(const void *mem, size_t bytes)
{
	h_contract_released(NULL, mem, bytes);
}

/* A cache is destroyed: its objects' records end (a new cache may take the same
 * memory, and the same handle, and run its ctors there). */
void h_contract_cache_gone(const struct obq_h_cache *c)
{
	if (!h_contract_on)
		return;
	for (size_t i = 0; i < run_n; i++)
		if (live_entry(run_recs[i]) && run_recs[i]->c == c) {
			run_recs[i]->state = CR_GONE;
			run_recs[i]->snap_ok = 0;
		}
	for (unsigned i = 0; i < PENDING_MAX; i++)
		if (pendings[i].c == c)
			pendings[i].c = NULL;
}

/* ------------------------------------------------------------------ ctors */

static struct obq_h_cache *bound[TRAMP_MAX]; /* the cache each trampoline serves */

static void ctor_ran(unsigned i, void *p)
{
	struct obq_h_cache *c = bound[i];
	if (c == NULL)
		return;
	if (h_contract_on && applies(c)) {
		struct crec *r = get(p);
		if (r && (r->state == CR_LIVE || r->state == CR_FREED || r->state == CR_CTOR)) {
			static const char *const names[] = {"?", "handed out", "free", "constructed"};
			report(OBQ_ERR_ALLOC_CTOR_RERUN, c, p, r->state == CR_LIVE ? "ALLOCATED" : "FREE",
			       "  the allocator behind adapter \"%s\" ran the ctor of cache \"%s\" "
			       "again on %p, a slot\n  already %s in this lifetime (no release of its "
			       "memory came between): its locks\n  and refcounts, which a stale "
			       "reader may hold, were re-initialised.  (A memory block\n  given back "
			       "to the system without a grace period and handed out again looks the "
			       "same.)\n", c->a->name, c->name, p, names[r->state]);
			return; /* not run again: the slot keeps what a stale reader may hold */
		} else if (r && r->state != CR_LIVE) {
			r->state = CR_CTOR;
			r->c = c;
		}
	}
	c->ctor(p);
}

#define TRAMP(i) static void tramp_##i(void *p) { ctor_ran(i, p); }
TRAMP(0) TRAMP(1) TRAMP(2) TRAMP(3) TRAMP(4) TRAMP(5) TRAMP(6) TRAMP(7)
TRAMP(8) TRAMP(9) TRAMP(10) TRAMP(11) TRAMP(12) TRAMP(13) TRAMP(14) TRAMP(15)
TRAMP(16) TRAMP(17) TRAMP(18) TRAMP(19) TRAMP(20) TRAMP(21) TRAMP(22) TRAMP(23)
TRAMP(24) TRAMP(25) TRAMP(26) TRAMP(27) TRAMP(28) TRAMP(29) TRAMP(30) TRAMP(31)
#undef TRAMP
static const obq_ctor_fn tramps[TRAMP_MAX] = {
	tramp_0, tramp_1, tramp_2, tramp_3, tramp_4, tramp_5, tramp_6, tramp_7,
	tramp_8, tramp_9, tramp_10, tramp_11, tramp_12, tramp_13, tramp_14, tramp_15,
	tramp_16, tramp_17, tramp_18, tramp_19, tramp_20, tramp_21, tramp_22, tramp_23,
	tramp_24, tramp_25, tramp_26, tramp_27, tramp_28, tramp_29, tramp_30, tramp_31,
};

obq_ctor_fn h_contract_wrap_ctor(struct obq_h_cache *c)
{
	c->tramp = -1;
	if (!h_contract_on || c->ctor == NULL)
		return c->ctor;
	for (int i = 0; i < TRAMP_MAX; i++)
		if (bound[i] == NULL) {
			bound[i] = c;
			c->tramp = i;
			return tramps[i];
		}
	return c->ctor; /* all in use: this cache's ctor goes unchecked */
}

void h_contract_unwrap_ctor(struct obq_h_cache *c)
{
	if (c->tramp >= 0 && c->tramp < TRAMP_MAX && bound[c->tramp] == c)
		bound[c->tramp] = NULL;
	c->tramp = -1;
}

/* ------------------------------------------------------------------ grace periods */

static unsigned section_serial[OBQ_H_MAX_THREADS]; /* outermost sections entered */
static unsigned gp_holders;                        /* bit i: T<i> was inside at GP start */

void h_contract_section_enter(unsigned tid)
{
	if (tid < OBQ_H_MAX_THREADS)
		section_serial[tid]++;
}

void h_contract_gp_step(int what, const unsigned *nesting, unsigned nthreads)
{
#if OBQ_RCU_BACKEND != OBQ_RCU_SIM
	(void)what;
	(void)nesting;
	(void)nthreads;
}
#else
	static unsigned gp_serial[OBQ_H_MAX_THREADS]; /* section serial of T<i> at GP start */
	static unsigned long gp_start_seq;            /* gp count when it began */
	if (!h_contract_on)
		return;
	if (what == OBQ_SIM_GP_STARTED) {
		gp_holders = 0;
		gp_start_seq = obq_sim_gp_seq();
		for (unsigned i = 0; i < nthreads && i < OBQ_H_MAX_THREADS; i++)
			if (nesting[i]) {
				gp_holders |= 1u << i;
				gp_serial[i] = section_serial[i];
			}
		return;
	}
	if (what != OBQ_SIM_GP_ENDED)
		return;
	for (unsigned i = 0; i < nthreads && i < OBQ_H_MAX_THREADS; i++)
		if ((gp_holders >> i & 1) && nesting[i] && gp_serial[i] == section_serial[i]) {
			report(OBQ_ERR_ALLOC_EARLY_GRACE_PERIOD, NULL, NULL, NULL,
			       "  the RCU implementation (backend %s) ended the grace period that "
			       "began at gp count %lu\n  while thread T%u was still inside the "
			       "read-side section it was in when the grace\n  period began: every "
			       "object freed before the grace period may now go back under\n  that "
			       "reader.  An RCU bug (the grace period's reader scan), not the "
			       "protocol's.\n", obq_rcu_backend(), gp_start_seq, i);
			break;
		}
	gp_holders = 0;
}
#endif

void h_contract_run_reset_threads(void)
{
	memset(section_serial, 0, sizeof section_serial);
	gp_holders = 0;
}

/* ------------------------------------------------------------------ descriptions */

/* What the harness knows of p (an address in no oblique slab), for the checker's
 * released-access report under ASan. */
int h_contract_describe(const void *p, char *buf, size_t len, const char **cache)
{
	uintptr_t a = (uintptr_t)p;
	for (size_t i = 0; i < run_n; i++) {
		struct crec *r = run_recs[i];
		if (!live_entry(r) || r->c == NULL)
			continue;
		uintptr_t o = (uintptr_t)r->obj;
		if (a < o || a >= o + r->c->size)
			continue;
		*cache = r->c->name;
		int k = snprintf(buf, len, "    object %p +%zu of cache \"%s\" (adapter \"%s\", %s), "
				 "%s\n", r->obj, (size_t)(a - o), r->c->name, r->c->a->name,
				 r->c->a->type_stable ? "says it is type-stable"
						      : "not type-stable",
				 r->state == CR_LIVE ? "handed out" : "freed");
		if (r->state == CR_FREED || r->state == CR_GONE)
			put_free_info(buf + k, len - (size_t)k, r);
		return 1;
	}
	return 0;
}

int h_contract_freed(const void *p)
{
	if (!h_contract_on || p == NULL)
		return 0;
	const struct crec *r = find(p);
	return r != NULL && (r->state == CR_FREED || r->state == CR_GONE);
}

void h_contract_enable(void)
{
	h_contract_on = 1;
	obq_testing_set_release_hook(oblique_released);
	obq_testing_set_handout_hook(handout);
	obq_testing_set_describe_hook(h_contract_describe);
}

/* ------------------------------------------------------------------ public */

struct obq_h_cache *h_contract_cache_of(const void *impl)
{
	for (struct obq_h_cache *c = *h_run_caches(); c; c = c->next)
		if (c->impl == impl)
			return c;
	return NULL;
}

void obq_h_report_allocator(void *cache, enum obq_error_kind kind, const char *fmt, ...)
{
	struct obq_h_cache *c = cache ? h_contract_cache_of(cache) : NULL;
	if (!obq_error_is_allocator_contract(kind))
		kind = OBQ_ERR_ALLOC_CONTRACT;
	char body[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof body, fmt, ap);
	va_end(ap);
	_obq_report(kind, c ? c->name : NULL, NULL, NULL, 0,
		    "  reported by the allocator adapter \"%s\" itself: %s%s",
		    c ? c->a->name : h_adapter_current() ? h_adapter_current()->name : "?", body,
		    body[0] && body[strlen(body) - 1] != '\n' ? "\n" : "");
}
