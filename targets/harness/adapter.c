/* adapter.c — the allocator behind the targets: the adapter registry, oblique's cache
 * (the default), the malloc control, and the memory adapters say is no longer
 * objects of their caches ("released ranges").
 *
 * The malloc control is deliberately NOT type-stable: alloc returns fresh memory
 * (zeroed, ctor run on every alloc, as kmalloc + init would), free fills the object
 * with 0x6b and keeps it unusable until the run ends (so a stale access reads poison
 * instead of crashing, in every build) and tells the harness the range is released:
 * in deterministic mode every sanctioned access into it is then a "released-access"
 * report.  A correct type-stable protocol therefore reports on this adapter whenever
 * a schedule makes a reader touch a freed object — the proof that the targets
 * exercise stale accesses. */
#include "hint.h"

#include <oblique/testing.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ registry */

#define MAX_ADAPTERS 8
static const struct obq_h_allocator *adapters[MAX_ADAPTERS];
static unsigned nadapters;
static const struct obq_h_allocator *current;

void obq_h_register_allocator(const struct obq_h_allocator *a)
{
	for (unsigned i = 0; i < nadapters; i++)
		if (adapters[i] == a)
			return;
	if (nadapters < MAX_ADAPTERS)
		adapters[nadapters++] = a;
}

const struct obq_h_allocator *h_adapter_select(const char *name)
{
	if (name == NULL || !*name || strcmp(name, "oblique") == 0)
		return &obq_h_allocator_oblique;
	if (strcmp(name, "malloc") == 0)
		return &obq_h_allocator_malloc;
	if (strcmp(name, "leaky") == 0)
		return &obq_h_allocator_leaky;
	for (unsigned i = 0; i < nadapters; i++)
		if (strcmp(adapters[i]->name, name) == 0)
			return adapters[i];
	return NULL;
}

/* The adapter the user chose (--adapter=NAME, or OBQ_ADAPTER) and how: a trace that
 * names another one is then refused rather than silently run on the wrong allocator. */
static const struct obq_h_allocator *chosen;
static const char *chosen_how;

const struct obq_h_allocator *h_adapter_from_env(void)
{
	const char *name = getenv("OBQ_ADAPTER");
	const struct obq_h_allocator *a = h_adapter_select(name);
	if (a == NULL) {
		fprintf(stderr, "oblique harness: OBQ_ADAPTER=%s: unknown adapter; known: ", name);
		h_adapter_list(stderr); /* ends the line */
		exit(2);
	}
	if (name && *name && !chosen) {
		chosen = a;
		chosen_how = "OBQ_ADAPTER";
	}
	return a;
}

void h_adapter_choose(const struct obq_h_allocator *a, const char *how)
{
	chosen = a;
	chosen_how = how;
	h_adapter_set(a);
}

/* prog_input_adapter (program.h): the adapter an input runs on.  A trace's "adapter"
 * line selects it, unless the user chose another (an error: exit 2 from the caller);
 * an input without one runs on the chosen adapter, else on oblique. */
static int input_adapter(const char *name, const char *path)
{
	if (current == NULL)
		h_adapter_set(h_adapter_from_env());
	if (name == NULL) {
		h_adapter_set(chosen ? chosen : &obq_h_allocator_oblique);
		return 0;
	}
	const struct obq_h_allocator *a = h_adapter_select(name);
	if (a == NULL) {
		fprintf(stderr, "%s: recorded on the allocator adapter '%s', which this binary "
				"does not have; it has: ", path, name);
		h_adapter_list(stderr);
		return -1;
	}
	if (chosen && chosen != a) {
		fprintf(stderr, "%s: recorded on the allocator adapter '%s', but %s selects '%s' "
				"(drop one)\n", path, name, chosen_how, chosen->name);
		return -1;
	}
	h_adapter_set(a);
	return 0;
}

__attribute__((constructor)) static void input_adapter_install(void)
{
	prog_input_adapter = input_adapter;
}

void h_adapter_list(FILE *f)
{
	fprintf(f, "oblique malloc leaky");
	for (unsigned i = 0; i < nadapters; i++)
		fprintf(f, " %s", adapters[i]->name);
	fprintf(f, "\n");
}

const struct obq_h_allocator *h_adapter_current(void)
{
	return current;
}

void h_adapter_set(const struct obq_h_allocator *a)
{
	current = a;
	prog_adapter = a ? a->name : NULL; /* traces printed from now on name it */
}

const char *h_adapter_arg(void)
{
	static char buf[64];
	if (current == NULL || current == &obq_h_allocator_oblique)
		return "";
	snprintf(buf, sizeof buf, "--adapter=%s ", current->name);
	return buf;
}

/* ------------------------------------------------------------------ oblique */

static void *obl_create(const char *name, size_t size, size_t align, unsigned flags,
			obq_ctor_fn ctor)
{
	return obq_cache_create(name, size, align, flags, ctor);
}
static void *obl_alloc(void *c)
{
	return obq_cache_alloc(c);
}
static void obl_free(void *c, void *obj)
{
	obq_cache_free(c, obj);
}
static void obl_destroy(void *c)
{
	obq_cache_destroy_force(c);
}
static int obl_guard(void *c, enum obq_guard_kind kind, size_t off, size_t size)
{
	return obq_cache_declare_guard(c, kind, off, size);
}
static int obl_shrink(void *c)
{
	return obq_cache_shrink(c);
}
static uint64_t obl_incarnation(void *c, const void *obj)
{
	(void)c;
	return obq_testing_slot_generation(obj);
}

const struct obq_h_allocator obq_h_allocator_oblique = {
	.name = "oblique", .type_stable = 1, .sched_points = 1,
	.create = obl_create, .alloc = obl_alloc, .free = obl_free, .destroy = obl_destroy,
	.guard = obl_guard, .shrink = obl_shrink, .incarnation = obl_incarnation,
};

/* ------------------------------------------------------------------ malloc control */

struct mblock {
	struct mblock *next;   /* all blocks of the cache, live and freed */
	void *obj;             /* the object */
};
struct mcache {
	pthread_mutex_t lock;  /* blocks (stress mode allocates on several threads) */
	size_t size;           /* object size */
	size_t align;          /* alignment */
	obq_ctor_fn ctor;      /* run on every alloc */
	struct mblock *blocks; /* every block handed out (freed ones kept until destroy) */
};

static void *m_create(const char *name, size_t size, size_t align, unsigned flags,
		      obq_ctor_fn ctor)
{
	(void)name;
	(void)flags;
	struct mcache *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	m->size = size ? size : 1;
	m->align = align < 16 ? 16 : align;
	m->ctor = ctor;
	return m;
}
static void *m_alloc(void *c)
{
	struct mcache *m = c;
	struct mblock *b = malloc(sizeof *b);
	size_t sz = (m->size + m->align - 1) & ~(m->align - 1);
	void *p = b ? aligned_alloc(m->align, sz) : NULL;
	if (!p) {
		free(b);
		errno = ENOMEM;
		return NULL;
	}
	memset(p, 0, m->size);
	if (m->ctor)
		m->ctor(p);
	b->obj = p;
	pthread_mutex_lock(&m->lock);
	b->next = m->blocks;
	m->blocks = b;
	pthread_mutex_unlock(&m->lock);
	obq_h_notify_cache_reused(m, p, m->size);
	return p;
}
static void m_free(void *c, void *obj)
{
	struct mcache *m = c;
	if (!obj)
		return;
	memset(obj, 0x6b, m->size);
	obq_h_notify_cache_released(m, obj, m->size);
}
static void m_destroy(void *c)
{
	struct mcache *m = c;
	struct mblock *b = m->blocks;
	while (b) {
		struct mblock *n = b->next;
		free(b->obj);
		free(b);
		b = n;
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

const struct obq_h_allocator obq_h_allocator_malloc = {
	.name = "malloc", .type_stable = 0, .sched_points = 0,
	.create = m_create, .alloc = m_alloc, .free = m_free, .destroy = m_destroy,
	.guard = NULL,
};

/* ------------------------------------------------------------------ released ranges */

struct range {
	uintptr_t lo, hi;      /* [lo, hi) */
};
static struct range *ranges;
static size_t nranges, capranges;
size_t h_released_count;

void h_released_clear(void)
{
	nranges = 0;
	h_released_count = 0;
}

int h_released_contains(const void *p)
{
	uintptr_t a = (uintptr_t)p;
	for (size_t i = 0; i < nranges; i++)
		if (a >= ranges[i].lo && a < ranges[i].hi)
			return 1;
	return 0;
}


int h_released_tracking = 1;

void obq_h_notify_cache_released(void *cache, const void *mem, size_t bytes)
{
	if (h_contract_on) /* deterministic mode only: the run's cache list is walked */
		h_contract_released(cache ? h_contract_cache_of(cache) : NULL, mem, bytes);
	obq_h_notify_released(mem, bytes);
}

void obq_h_notify_cache_reused(void *cache, const void *mem, size_t bytes)
{
	(void)cache;
	obq_h_notify_reused(mem, bytes);
}

void obq_h_notify_released(const void *mem, size_t bytes)
{
	if (!h_released_tracking) {
		h_note_released();
		return;
	}
	if (nranges == capranges) {
		size_t nc = capranges ? 2 * capranges : 64;
		struct range *r = realloc(ranges, nc * sizeof *r);
		if (!r)
			return;
		ranges = r;
		capranges = nc;
	}
	ranges[nranges++] = (struct range){(uintptr_t)mem, (uintptr_t)mem + bytes};
	h_released_count = nranges;
	h_note_released();
}

void obq_h_notify_reused(const void *mem, size_t bytes)
{
	uintptr_t lo = (uintptr_t)mem, hi = lo + bytes;
	for (size_t i = 0; i < nranges;) {
		if (ranges[i].lo < hi && lo < ranges[i].hi)
			ranges[i] = ranges[--nranges];
		else
			i++;
	}
	h_released_count = nranges;
}

/* ------------------------------------------------------------------ wrappers */

_Thread_local int h_in_adapter_free; /* per thread: stress workers free concurrently */


/* Cache handles of finished runs, kept for the next ones (every run creates its caches
 * again; a malloc per handle is measurable under ASan).  Deterministic mode is one OS
 * thread; stress mode creates its caches once: no lock. */
#define SPARE_MAX 16
static struct obq_h_cache *spare;  /* list through ->next */
static unsigned nspare;            /* its length (<= SPARE_MAX) */

/* Destroy c's cache and keep the handle for the next run (or free it). */
static void cache_release(struct obq_h_cache *c)
{
	c->a->destroy(c->impl);
	h_contract_unwrap_ctor(c);
	h_contract_cache_gone(c);
	if (nspare < SPARE_MAX) {
		c->next = spare;
		spare = c;
		nspare++;
	} else {
		free(c);
	}
}

obq_h_cache_t *obq_h_cache_create(obq_h_t *t, const char *name, size_t size, size_t align,
				  unsigned flags, obq_ctor_fn ctor)
{
	const struct obq_h_allocator *a = current ? current : &obq_h_allocator_oblique;
	struct obq_h_cache *c = spare;
	if (c) {
		spare = c->next;
		nspare--;
		memset(c, 0, sizeof *c);
	} else if ((c = calloc(1, sizeof *c)) == NULL) {
		return NULL;
	}
	c->a = a;
	c->size = size;
	c->flags = flags;
	c->ctor = ctor;
	c->impl = a->create(name, size, align, flags, h_contract_wrap_ctor(c));
	if (!c->impl) {
		int e = errno;
		h_contract_unwrap_ctor(c);
		free(c);
		errno = e;
		return NULL;
	}
	snprintf(c->name, sizeof c->name, "%s", name ? name : "?");
	struct obq_h_cache **list = h_run_caches();
	c->next = *list;
	*list = c;
	h_cache_made(t, c);
	return c;
}

unsigned long h_adapter_allocs;

void *obq_h_alloc(obq_h_t *t, obq_h_cache_t *c)
{
	/* Relaxed: a count for the runner's summary (stress workers add concurrently). */
	__atomic_fetch_add(&h_adapter_allocs, 1, __ATOMIC_RELAXED);
	if (!c->a->sched_points)
		h_adapter_point(t, OBQ_SP_ALLOC, NULL);
	h_weak_enter_allocator();
#if !OBQ_H_WEAK
	if (c->a == &obq_h_allocator_oblique) {
		/* A tail call, so that a checked build records the caller of obq_h_alloc (the
		 * target's own function) as the alloc site: the contract's hand-out check runs
		 * from the checker's hand-out hook instead (contract.c). */
		if (h_contract_on)
			h_contract_expect_handout(t, c, __builtin_return_address(0));
		return c->a->alloc(c->impl);
	}
#endif
	void *p = c->a->alloc(c->impl);
	h_weak_leave_allocator(p);
	if (h_contract_on)
		h_contract_alloc(t, c, p, __builtin_return_address(0));
	return p;
}

void obq_h_free(obq_h_t *t, obq_h_cache_t *c, void *obj)
{
	if (!c->a->sched_points)
		h_adapter_point(t, OBQ_SP_FREE, obj);
	h_weak_free(obj);
	h_free_traffic(t, c);
	if (h_contract_on)
		h_contract_free(t, c, obj, __builtin_return_address(0));
#if OBQ_H_WEAK
	h_weak_enter_allocator();
	c->a->free(c->impl, obj);
	h_weak_leave_allocator(NULL);
	return;
#endif
	if (c->a != &obq_h_allocator_oblique) {
		/* What the adapter notifies inside its free is a freed object, not a slab
		 * going back: not a slab-released event (h_note_released). */
		h_in_adapter_free = 1;
		c->a->free(c->impl, obj);
		h_in_adapter_free = 0;
		return;
	}
	/* Last, as a tail call: a checked build records the caller of obq_h_free (the
	 * target's own put()/close()) as the free site. */
	c->a->free(c->impl, obj);
}

uint64_t obq_h_incarnation(obq_h_cache_t *c, const void *obj)
{
	return c->a->incarnation ? c->a->incarnation(c->impl, obj) : 0;
}

int obq_h_cache_guard(obq_h_cache_t *c, enum obq_guard_kind kind, size_t offset, size_t size)
{
	if (!c->a->guard)
		return 0;
	return c->a->guard(c->impl, kind, offset, size);
}

int obq_h_cache_shrink(obq_h_cache_t *c)
{
	return c && c->a->shrink ? c->a->shrink(c->impl) : 0;
}

obq_h_cache_t *obq_h_cache_setup(obq_h_t *t, const char *name, size_t size, unsigned flags,
				 obq_ctor_fn ctor, const struct obq_h_guard *guards, size_t nguards)
{
	obq_h_cache_t *c = obq_h_cache_create(t, name, size, 0, flags, ctor);
	if (!c) {
		obq_h_fail(t, "cache create failed");
		return NULL;
	}
	for (size_t i = 0; i < nguards; i++) {
		int rc = obq_h_cache_guard(c, guards[i].kind, guards[i].offset, guards[i].size);
		if (rc != 0)
			obq_h_fail(t, "cache %s: guard %zu (offset %zu, %zu bytes) refused: %d", name,
				   i, guards[i].offset, guards[i].size, rc);
	}
	return c;
}

obq_cache_t *obq_h_cache_oblique(obq_h_cache_t *c)
{
	return c && c->a == &obq_h_allocator_oblique ? (obq_cache_t *)c->impl : NULL;
}

void obq_h_cache_destroy(obq_h_t *t, obq_h_cache_t *c)
{
	(void)t;
	if (c == NULL)
		return;
	for (struct obq_h_cache **pp = h_run_caches(); *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	cache_release(c);
}

void h_caches_destroy_all(struct obq_h_cache **list)
{
	struct obq_h_cache *c = *list;
	while (c) {
		struct obq_h_cache *n = c->next;
		cache_release(c);
		c = n;
	}
	*list = NULL;
}

static const char *const ev_names[OBQ_EV_COUNT] = {
	[OBQ_EV_GP_UNDER_READER] = "gp-end-under-reader",
	[OBQ_EV_SLAB_RELEASED] = "slab-released",
	[OBQ_EV_SLAB_RELEASED_UNDER_READER] = "slab-released-under-reader",
	[OBQ_EV_CALLBACK] = "callback-ran",
	[OBQ_EV_LOCK_WAIT] = "lock-wait",
	[OBQ_EV_GP_WAIT] = "gp-wait",
	[OBQ_EV_PREEMPT] = "preempt",
	[OBQ_EV_PIN_FAILED] = "pin-failed",
	[OBQ_EV_RECYCLED] = "recycled-seen",
	[OBQ_EV_RETRY] = "revalidate-retry",
	[OBQ_EV_STALE_READ] = "stale-read",
	[OBQ_EV_USER0] = "user0",
	[OBQ_EV_USER1] = "user1",
	[OBQ_EV_USER2] = "user2",
	[OBQ_EV_USER3] = "user3",
};

const char *obq_h_event_name(enum obq_h_event ev)
{
	return (unsigned)ev < OBQ_EV_COUNT ? ev_names[ev] : "?";
}
