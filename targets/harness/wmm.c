/* wmm.c — the weak-memory model (contract and rules: wmm.h; docs/weak-memory.md).
 *
 * Invariants:
 *   - loc.hist[0 .. n) is in modification order, oldest first; its last entry's value
 *     is what memory holds (stores placed earlier never write memory);
 *   - an RMW store follows, in hist, the store it read (placements never split them);
 *   - a thread's clock component for itself is >= 1 and only grows; a store's `epoch`
 *     and a read's `read_by` entry are the thread's component when it happened, so
 *     "x happens before thread t's next step" is "x.epoch <= clock_t[x.tid]";
 *   - a constructor store (ctor[]) describes a location that does not exist yet in its
 *     run; once the location exists the entry is never consulted again;
 *   - locations and shadow granules of an older run are recognised by their `run`
 *     stamp and are free: wmm_reset is O(1). */
#include "wmm.h"

#include <stdlib.h>
#include <string.h>

typedef uint32_t vclock[WMM_MAXT];

struct store {
	uint64_t val;
	uint32_t tid;             /* writer (WMM_MAXT: the initial store, before every thread) */
	uint32_t epoch;           /* writer's epoch at the store */
	uint32_t read_by[WMM_MAXT]; /* per thread: its epoch when it first read this store (0 never) */
	vclock rel;               /* clock released with the store (valid if has_rel) */
	uint8_t has_rel;
	uint8_t rmw;              /* an RMW's store: it read the previous entry */
};

struct loc {
	const void *addr;
	uint32_t run;             /* run it belongs to (!= wmm.run: free) */
	uint32_t n;               /* stores in hist */
	struct store hist[WMM_HIST];
};

struct granule {
	uintptr_t key;            /* address / 8 */
	uint32_t run;
	uint32_t w_epoch[8];      /* per byte: the last write's epoch (0: none) ... */
	uint8_t w_tid[8];         /* ... and thread */
	uint8_t w_atomic;         /* bit b: byte b's last write was atomic */
	uint8_t r_plain[WMM_MAXT]; /* bytes read by a plain access, per thread, since its
				    * read epoch (per byte: a thread's atomic read of one
				    * field and plain read of its neighbour share a granule) */
	uint8_t r_mask[WMM_MAXT]; /* bytes read per thread since its read epoch */
	uint32_t r_epoch[WMM_MAXT]; /* last read per thread (0: none since the last write) */
	const void *w_site;
	const void *r_site[WMM_MAXT];
};

struct syncobj {
	const void *addr;
	uint32_t run;
	vclock clock;
};

struct ctorst {
	const void *addr;
	uint32_t run;
	uint32_t tid, epoch;      /* the constructing thread and its epoch then */
	uint64_t pre, val;        /* memory before the constructor (a pattern), and after */
};

struct wthread {
	vclock clock;
	vclock acq_pending;       /* released clocks read by relaxed loads (for an acquire fence) */
	vclock fence_rel;         /* clock at the last release fence (valid if has_fence_rel) */
	int has_fence_rel;
};

struct wmm {
	unsigned nthreads;
	uint32_t run;
	wmm_choose_fn choose;
	void *choose_ctx;
	const void *choosing;     /* the location a choice is asked for (wmm_choice_addr) */
	const struct loc *choosing_read; /* ... its history, when a load asks (else NULL) */
	struct wthread th[WMM_MAXT];
	vclock sc;                /* joined by every seq_cst fence */
	struct wmm_stats st;
	struct loc locs[WMM_LOCS];
	struct granule sh[WMM_SHADOW];
	struct syncobj sync[WMM_SYNCS];
	unsigned nctor;           /* constructor stores in this run (0: skip the lookup) */
	struct ctorst ctor[WMM_CTORS];
};

static void vc_join(vclock a, const vclock b)
{
	for (unsigned i = 0; i < WMM_MAXT; i++)
		if (b[i] > a[i])
			a[i] = b[i];
}

struct wmm *wmm_new(unsigned nthreads)
{
	if (nthreads == 0 || nthreads > WMM_MAXT)
		return NULL;
	struct wmm *m = calloc(1, sizeof *m);
	if (m == NULL)
		return NULL;
	m->nthreads = nthreads;
	wmm_reset(m);
	return m;
}

void wmm_free(struct wmm *m)
{
	free(m);
}

void wmm_reset(struct wmm *m)
{
	if (++m->run == 0) { /* wrapped: stale stamps could match; clear for real */
		memset(m->locs, 0, sizeof m->locs);
		memset(m->sh, 0, sizeof m->sh);
		memset(m->sync, 0, sizeof m->sync);
		memset(m->ctor, 0, sizeof m->ctor);
		m->run = 1;
	}
	memset(m->th, 0, sizeof m->th);
	for (unsigned t = 0; t < WMM_MAXT; t++)
		m->th[t].clock[t] = 1;
	memset(m->sc, 0, sizeof m->sc);
	memset(&m->st, 0, sizeof m->st);
	m->nctor = 0;
}

void wmm_set_chooser(struct wmm *m, wmm_choose_fn fn, void *ctx)
{
	m->choose = fn;
	m->choose_ctx = ctx;
}

static unsigned choose(struct wmm *m, enum wmm_choice_kind kind, unsigned n)
{
	if (n < 2 || m->choose == NULL)
		return 0;
	unsigned k = m->choose(m->choose_ctx, kind, n);
	return k < n ? k : n - 1;
}

static size_t hash_ptr(uintptr_t v, size_t cap)
{
	v ^= v >> 17;
	v *= 0x9e3779b97f4a7c15ull;
	return (size_t)(v >> 20) & (cap - 1);
}

static void make_room(struct loc *l);

/* The slot of addr's constructor store: its own (run current), else the free slot it
 * would take; NULL when the probe finds neither. */
static struct ctorst *ctor_slot(struct wmm *m, const void *addr)
{
	size_t i = hash_ptr((uintptr_t)addr, WMM_CTORS);
	for (size_t probe = 0; probe < 64; probe++, i = (i + 1) & (WMM_CTORS - 1)) {
		struct ctorst *c = &m->ctor[i];
		if (c->run != m->run || c->addr == addr)
			return c;
	}
	return NULL;
}

/* A new location's history: its constructor's store over the indeterminate value before
 * it, when memory still holds what the constructor wrote; else `mem` seen by all. */
static void loc_init(struct wmm *m, struct loc *l, uint64_t mem)
{
	struct ctorst *c = m->nctor ? ctor_slot(m, l->addr) : NULL;
	memset(&l->hist[0], 0, sizeof l->hist[0]);
	l->hist[0].tid = WMM_MAXT; /* before every thread */
	l->n = 1;
	if (c == NULL || c->run != m->run || c->val != mem) {
		l->hist[0].val = mem;
		return;
	}
	l->hist[0].val = c->pre;
	struct store *s = &l->hist[1];
	memset(s, 0, sizeof *s);
	s->val = c->val;
	s->tid = c->tid;
	s->epoch = c->epoch;
	s->read_by[c->tid] = c->epoch; /* the constructing thread has seen it */
	l->n = 2;
}

/* The location of addr, created with `mem` as its initial store; NULL when full.  If
 * memory no longer holds the newest store's value, something the model does not see
 * wrote it (a plain store, the allocator, the library): that value becomes the newest
 * store, one every thread has seen — as an initial store (conservative: nothing older
 * can be read any more). */
static struct loc *loc_of(struct wmm *m, const void *addr, uint64_t mem)
{
	size_t i = hash_ptr((uintptr_t)addr, WMM_LOCS);
	for (size_t probe = 0; probe < WMM_LOCS; probe++, i = (i + 1) & (WMM_LOCS - 1)) {
		struct loc *l = &m->locs[i];
		if (l->run == m->run && l->addr == addr) {
			if (l->hist[l->n - 1].val != mem) {
				make_room(l);
				memset(&l->hist[l->n], 0, sizeof l->hist[0]);
				l->hist[l->n].val = mem;
				l->hist[l->n].tid = WMM_MAXT;
				l->n++;
				m->st.external++;
			}
			return l;
		}
		if (l->run != m->run) {
			l->run = m->run;
			l->addr = addr;
			loc_init(m, l, mem);
			return l;
		}
	}
	m->st.locs_overflow++;
	return NULL;
}

static struct loc *loc_find(struct wmm *m, const void *addr)
{
	size_t i = hash_ptr((uintptr_t)addr, WMM_LOCS);
	for (size_t probe = 0; probe < WMM_LOCS; probe++, i = (i + 1) & (WMM_LOCS - 1)) {
		struct loc *l = &m->locs[i];
		if (l->run != m->run)
			return NULL;
		if (l->addr == addr)
			return l;
	}
	return NULL;
}

void wmm_ctor_store(struct wmm *m, unsigned tid, const void *addr, uint64_t pre, uint64_t val)
{
	if (tid >= WMM_MAXT || loc_find(m, addr))
		return;
	struct ctorst *c = ctor_slot(m, addr);
	if (c == NULL)
		return; /* crowded: the constructor's store is initial state, as before */
	c->addr = addr;
	c->run = m->run;
	c->tid = tid;
	c->epoch = m->th[tid].clock[tid];
	c->pre = pre;
	c->val = val;
	m->nctor++;
	m->st.ctor_stores++;
}

/* Does store s happen before thread t's next step, or was it read by a read that does?
 * Then t may not read (or place a store before) anything older than s. */
static int floor_of(const struct store *s, const struct wthread *t)
{
	if (s->tid == WMM_MAXT || s->epoch <= t->clock[s->tid])
		return 1;
	for (unsigned u = 0; u < WMM_MAXT; u++)
		if (s->read_by[u] && s->read_by[u] <= t->clock[u])
			return 1;
	return 0;
}

/* Index of the newest store of l that thread t must not read past (coherence). */
static unsigned coherence_floor(const struct loc *l, const struct wthread *t)
{
	for (unsigned i = l->n; i-- > 1;)
		if (floor_of(&l->hist[i], t))
			return i;
	return 0;
}

static void note_read(struct store *s, unsigned tid, const struct wthread *t)
{
	if (s->read_by[tid] == 0)
		s->read_by[tid] = t->clock[tid];
}

/* Import what the store read releases: now (acquire) or at the next acquire fence. */
static void import_rel(struct wthread *t, const struct store *s, int acquire)
{
	if (!s->has_rel)
		return;
	vc_join(acquire ? t->clock : t->acq_pending, s->rel);
}

static int is_acquire(enum wmm_order o)
{
	return o == WMM_CONSUME || o == WMM_ACQUIRE || o == WMM_ACQ_REL || o == WMM_SEQ_CST;
}

static int is_release(enum wmm_order o)
{
	return o == WMM_RELEASE || o == WMM_ACQ_REL || o == WMM_SEQ_CST;
}

uint64_t wmm_load(struct wmm *m, unsigned tid, const void *addr, uint64_t mem,
		  enum wmm_order order, unsigned *stale)
{
	struct wthread *t = &m->th[tid];
	struct loc *l = loc_of(m, addr, mem);
	if (stale)
		*stale = 0;
	if (l == NULL)
		return mem;
	m->st.loads++;
	unsigned last = l->n - 1, k = 0;
	m->choosing = addr;
	m->choosing_read = l;
	if (order != WMM_SEQ_CST)
		k = choose(m, WMM_CHOOSE_READ, last - coherence_floor(l, t) + 1);
	m->choosing_read = NULL;
	struct store *s = &l->hist[last - k];
	if (k) {
		m->st.stale_loads++;
		if (stale)
			*stale = k;
	}
	note_read(s, tid, t);
	import_rel(t, s, is_acquire(order));
	return s->val;
}

/* Room for one more store: drop the oldest (nobody may read past a newer one anyway
 * once it is gone; the loss is behaviours, never soundness of what is produced). */
static void make_room(struct loc *l)
{
	if (l->n < WMM_HIST)
		return;
	memmove(&l->hist[0], &l->hist[1], (WMM_HIST - 1) * sizeof l->hist[0]);
	l->n--;
	l->hist[0].rmw = 0; /* its predecessor is gone */
}

/* Fill in a new store of thread tid: its epoch and the clock it releases. */
static void make_store(struct store *s, unsigned tid, struct wthread *t, uint64_t val,
		       enum wmm_order order)
{
	memset(s, 0, sizeof *s);
	s->val = val;
	s->tid = tid;
	s->epoch = t->clock[tid];
	s->read_by[tid] = t->clock[tid]; /* the writer has "seen" it (read-own-write) */
	if (is_release(order)) {
		memcpy(s->rel, t->clock, sizeof s->rel);
		s->has_rel = 1;
	} else if (t->has_fence_rel) {
		memcpy(s->rel, t->fence_rel, sizeof s->rel);
		s->has_rel = 1;
	}
}

/* After a release, later events of the thread are not covered by what it released. */
static void after_release(struct wthread *t, unsigned tid, enum wmm_order order)
{
	if (is_release(order))
		t->clock[tid]++;
}

int wmm_store(struct wmm *m, unsigned tid, const void *addr, uint64_t mem, uint64_t val,
	      enum wmm_order order)
{
	struct wthread *t = &m->th[tid];
	struct loc *l = loc_of(m, addr, mem);
	if (l == NULL)
		return 1;
	m->st.stores++;
	make_room(l);
	/* Places: after hist[p] for p in [floor, n-1], except right before an RMW's store
	 * (it must stay right after the store it read).  Choice 0: the end. */
	unsigned floor = coherence_floor(l, t), places[WMM_HIST], np = 0;
	for (unsigned p = l->n; p-- > floor;)
		if (p == l->n - 1 || !l->hist[p + 1].rmw)
			places[np++] = p;
	m->choosing = addr;
	unsigned k = order == WMM_SEQ_CST ? 0 : choose(m, WMM_CHOOSE_PLACE, np);
	unsigned at = places[k] + 1;
	memmove(&l->hist[at + 1], &l->hist[at], (l->n - at) * sizeof l->hist[0]);
	l->n++;
	make_store(&l->hist[at], tid, t, val, order);
	after_release(t, tid, order);
	if (at != l->n - 1) {
		m->st.placed_early++;
		return 0;
	}
	return 1;
}

void wmm_rmw(struct wmm *m, unsigned tid, const void *addr, uint64_t old, uint64_t val,
	     int wrote, enum wmm_order order)
{
	struct wthread *t = &m->th[tid];
	struct loc *l = loc_of(m, addr, old);
	if (l == NULL)
		return;
	m->st.rmws++;
	struct store *prev = &l->hist[l->n - 1]; /* RMWs read the latest */
	note_read(prev, tid, t);
	import_rel(t, prev, is_acquire(order));
	if (!wrote)
		return;
	vclock seq;               /* the release sequence it continues */
	int has_seq = prev->has_rel;
	if (has_seq)
		memcpy(seq, prev->rel, sizeof seq);
	make_room(l);
	struct store *s = &l->hist[l->n];
	make_store(s, tid, t, val, order);
	if (has_seq) {
		if (!s->has_rel)
			memcpy(s->rel, seq, sizeof s->rel);
		else
			vc_join(s->rel, seq);
		s->has_rel = 1;
	}
	s->rmw = l->n > 0; /* follows the store it read (unless that one was just dropped) */
	l->n++;
	after_release(t, tid, order);
}

void wmm_fence(struct wmm *m, unsigned tid, enum wmm_order order)
{
	struct wthread *t = &m->th[tid];
	m->st.fences++;
	if (is_acquire(order))
		vc_join(t->clock, t->acq_pending);
	if (order == WMM_SEQ_CST) {
		vc_join(t->clock, m->sc);
		vc_join(m->sc, t->clock);
	}
	if (is_release(order)) {
		memcpy(t->fence_rel, t->clock, sizeof t->fence_rel);
		t->has_fence_rel = 1;
		t->clock[tid]++;
	}
}

void wmm_sync(struct wmm *m, unsigned from, unsigned to)
{
	vc_join(m->th[to].clock, m->th[from].clock);
	m->th[from].clock[from]++;
}

void wmm_barrier_all(struct wmm *m, unsigned tid)
{
	struct wthread *t = &m->th[tid];
	for (unsigned u = 0; u < m->nthreads; u++)
		vc_join(t->clock, m->th[u].clock);
	for (unsigned u = 0; u < m->nthreads; u++)
		if (u != tid)
			vc_join(m->th[u].clock, t->clock);
	vc_join(m->sc, t->clock);
	for (unsigned u = 0; u < m->nthreads; u++)
		m->th[u].clock[u]++;
}

static struct syncobj *sync_of(struct wmm *m, const void *addr, int create)
{
	size_t i = hash_ptr((uintptr_t)addr, WMM_SYNCS);
	for (size_t probe = 0; probe < WMM_SYNCS; probe++, i = (i + 1) & (WMM_SYNCS - 1)) {
		struct syncobj *so = &m->sync[i];
		if (so->run == m->run && so->addr == addr)
			return so;
		if (so->run != m->run) {
			if (!create)
				return NULL;
			memset(so, 0, sizeof *so);
			so->run = m->run;
			so->addr = addr;
			return so;
		}
	}
	return NULL;
}

void wmm_release_at(struct wmm *m, unsigned tid, const void *addr)
{
	struct syncobj *so = sync_of(m, addr, 1);
	if (so)
		vc_join(so->clock, m->th[tid].clock);
	m->th[tid].clock[tid]++;
}

void wmm_acquire_at(struct wmm *m, unsigned tid, const void *addr)
{
	struct syncobj *so = sync_of(m, addr, 0);
	if (so)
		vc_join(m->th[tid].clock, so->clock);
}

static struct granule *granule_of(struct wmm *m, uintptr_t key)
{
	size_t i = hash_ptr(key, WMM_SHADOW);
	for (size_t probe = 0; probe < 64; probe++, i = (i + 1) & (WMM_SHADOW - 1)) {
		struct granule *g = &m->sh[i];
		if (g->run == m->run && g->key == key)
			return g;
		if (g->run != m->run) {
			memset(g, 0, sizeof *g);
			g->run = m->run;
			g->key = key;
			return g;
		}
	}
	return NULL; /* crowded: this granule goes unchecked */
}

/* Accesses conflict only on bytes both touch (mask: the bytes of the 8-byte granule):
 * neighbouring fields of different threads are not a race. */
static int check_granule(struct wmm *m, unsigned tid, struct granule *g, uint8_t mask,
			 int write, int atomic, const void *site, struct wmm_race *race)
{
	const struct wthread *t = &m->th[tid];
	int found = 0;
	/* a write before us to one of our bytes, unordered, with at least one side plain */
	for (unsigned b = 0; b < 8 && !found; b++)
		if ((mask >> b & 1) && g->w_epoch[b] && g->w_tid[b] != tid &&
		    g->w_epoch[b] > t->clock[g->w_tid[b]] && !(atomic && (g->w_atomic >> b & 1))) {
			race->other = g->w_tid[b];
			race->other_write = 1;
			race->other_site = g->w_site;
			found = 1;
		}
	if (!found && write)
		for (unsigned u = 0; u < WMM_MAXT; u++)
			if (u != tid && g->r_epoch[u] && (g->r_mask[u] & mask) &&
			    g->r_epoch[u] > t->clock[u] &&
			    (!atomic || (g->r_plain[u] & g->r_mask[u] & mask))) {
				race->other = u;
				race->other_write = 0;
				race->other_site = g->r_site[u];
				found = 1;
				break;
			}
	if (found) {
		race->addr = (const void *)(g->key * 8);
		race->tid = tid;
		race->write = write;
		race->site = site;
	}
	if (write) {
		for (unsigned b = 0; b < 8; b++)
			if (mask >> b & 1) {
				g->w_tid[b] = (uint8_t)tid;
				g->w_epoch[b] = t->clock[tid];
			}
		g->w_atomic = (uint8_t)(atomic ? g->w_atomic | mask : g->w_atomic & ~mask);
		g->w_site = site; /* the last write's (the other bytes' may be older) */
		/* the written bytes' reads are now ordered before a write they raced with or
		 * not (reported above); reads of the granule's other bytes stay */
		for (unsigned u = 0; u < WMM_MAXT; u++) {
			g->r_mask[u] &= (uint8_t)~mask;
			g->r_plain[u] &= (uint8_t)~mask;
			if (g->r_mask[u] == 0)
				g->r_epoch[u] = 0;
		}
	} else {
		if (g->r_epoch[tid] != t->clock[tid])
			g->r_mask[tid] = g->r_plain[tid] = 0;
		g->r_mask[tid] |= mask;
		if (!atomic) /* a byte read both ways counts as plain: the stricter */
			g->r_plain[tid] |= mask;
		g->r_epoch[tid] = t->clock[tid];
		g->r_site[tid] = site;
	}
	return found;
}

int wmm_access(struct wmm *m, unsigned tid, const void *addr, size_t size, int write,
	       int atomic, const void *site, struct wmm_race *race)
{
	if (size == 0)
		return 0;
	uintptr_t lo = (uintptr_t)addr, hi = lo + size; /* [lo, hi) */
	uintptr_t first = lo / 8, last = (hi - 1) / 8;
	int found = 0;
	for (uintptr_t k = first; k <= last; k++) {
		unsigned b0 = k == first ? (unsigned)(lo % 8) : 0;
		unsigned b1 = k == last ? (unsigned)((hi - 1) % 8) : 7;
		uint8_t mask = (uint8_t)((0xffu >> (7 - b1)) & (0xffu << b0));
		struct granule *g = granule_of(m, k);
		if (g && check_granule(m, tid, g, mask, write, atomic, site, race))
			found = 1;
		if (found)
			break;
	}
	return found;
}

const void *wmm_choice_addr(const struct wmm *m)
{
	return m->choosing;
}

int wmm_choice_differs(const struct wmm *m, unsigned k)
{
	const struct loc *l = m->choosing_read;
	if (l == NULL || k >= l->n)
		return 0;
	return l->hist[l->n - 1 - k].val != l->hist[l->n - 1].val;
}

uint64_t wmm_choice_value(const struct wmm *m, unsigned k)
{
	const struct loc *l = m->choosing_read;
	if (l == NULL || k >= l->n)
		return 0;
	return l->hist[l->n - 1 - k].val;
}

void wmm_get_stats(const struct wmm *m, struct wmm_stats *out)
{
	*out = m->st;
}
