/* bugs.c — a test target whose operations are bugs on purpose, one of each kind a
 * report can come from, for the harness's own tests (targets/tests/CMakeLists.txt):
 *
 *   nop               a scheduling point, nothing else
 *   uaf_plain <i>     free an object, then a plain read of it after rcu_read_unlock
 *                     (ASan: heap-use-after-free; other builds see nothing)
 *   peek_freed <i>    the same through OBQ_PEEK: free-access-outside-read-side
 *   oracle            obq_h_fail
 *   deadlock          takes an object's lock twice
 *   livelock          a retry loop that never succeeds
 *   ubsan <b>         a signed overflow (UBSan: runtime error)
 *   keep <i>, drop, peek_kept   allocate into t->reg[0]; free it as the operation's
 *                     last call (a tail call: no frame of op_drop stays on the stack);
 *                     OBQ_PEEK it outside a read-side section (a report naming op_drop)
 *
 * Allocation and free go through this file's own functions bugs_make() and
 * bugs_put() (never inlined), which the checker's report must name as the sites.
 * Built with -DBUGS_IN_SETUP (target bugs_setup), setup itself peeks at a freed object:
 * every run reports, the synthetic warm-up programs included.  Built with
 * -DBUGS_HANG_IN_SETUP (target bugs_hang), setup walks a list whose last node links to
 * itself — the endless walk a slab released twice made of the checker's quarantine —
 * with no scheduling point: every run hangs, and only the harness's time bounds
 * (engine.c) end it, each with a report. */
#include <limits.h>

#include <oblique/oblique.h>
#include <oblique/harness.h>

struct obj {
	obq_refcount_t ref;      /* guard */
	obq_spinlock_t lock;     /* guard: ctor-initialised */
	unsigned long key;       /* plain field */
};
struct st {
	obq_h_cache_t *c;        /* typesafe cache */
};

static void ctor(void *p)
{
	struct obj *o = p;
	obq_ref_init(&o->ref);
	obq_spin_lock_init(&o->lock);
	o->key = 0;
}

__attribute__((noinline)) struct obj *bugs_make(obq_h_t *t, unsigned long key);
__attribute__((noinline)) struct obj *bugs_make(obq_h_t *t, unsigned long key)
{
	struct st *s = t->state;
	struct obj *o = obq_h_alloc(t, s->c);
	OBQ_STORE(o, key, key);
	__asm__ volatile("" ::: "memory"); /* no tail call: this frame stays on the stack */
	return o;
}

__attribute__((noinline)) void bugs_put(obq_h_t *t, struct obj *o);
__attribute__((noinline)) void bugs_put(obq_h_t *t, struct obj *o)
{
	struct st *s = t->state;
	obq_h_free(t, s->c, o);
	__asm__ volatile("" ::: "memory");
}

static void setup(obq_h_t *t)
{
	struct st *s = t->state;
	s->c = obq_h_cache_create(t, "bugs", sizeof(struct obj), 0, OBQ_TYPESAFE_BY_RCU, ctor);
	OBQ_H_GUARD(s->c, OBQ_GUARD_REFCOUNT, struct obj, ref);
#ifdef BUGS_IN_SETUP
	struct obj *o = bugs_make(t, 1);
	bugs_put(t, o);
	obq_h_observe(t, OBQ_PEEK(o, key)); /* outside any read-side section: a report */
#endif
#ifdef BUGS_HANG_IN_SETUP
	/* A list with a cycle (b links to itself), walked to its end: volatile, so the
	 * compiler may not assume the loop ends. */
	struct node { struct node *volatile next; } a, b;
	a.next = &b;
	b.next = &b;
	unsigned long n = 0;
	for (struct node *volatile p = &a; p; p = p->next)
		n++;
	obq_h_observe(t, n);
#endif
}

static void op_nop(obq_h_t *t, const uint8_t *a)
{
	(void)a;
	obq_h_point(t);
}

static void op_uaf_plain(obq_h_t *t, const uint8_t *a)
{
	struct obj *o = bugs_make(t, a[0]);
	obq_rcu_read_lock();
	bugs_put(t, o);
	obq_rcu_read_unlock();
	obq_h_observe(t, *(volatile unsigned long *)&o->key); /* the bug: a plain read */
}

static void op_peek_freed(obq_h_t *t, const uint8_t *a)
{
	struct obj *o = bugs_make(t, a[0]);
	bugs_put(t, o);
	obq_h_observe(t, OBQ_PEEK(o, key)); /* outside any read-side section */
}

static void op_oracle(obq_h_t *t, const uint8_t *a)
{
	(void)a;
	obq_h_fail(t, "the oracle of the bugs target fails on purpose");
}

static void op_deadlock(obq_h_t *t, const uint8_t *a)
{
	struct obj *o = bugs_make(t, a[0]);
	obq_spin_lock(&o->lock);
	obq_spin_lock(&o->lock); /* never granted */
	obq_spin_unlock(&o->lock);
	obq_spin_unlock(&o->lock);
	bugs_put(t, o);
}

static void op_livelock(obq_h_t *t, const uint8_t *a)
{
	(void)a;
	for (;;)
		obq_h_retry(t);
}

static void op_ubsan(obq_h_t *t, const uint8_t *a)
{
	volatile int x = INT_MAX - (int)a[0];
	int y = x + 1 + (int)a[0]; /* signed overflow */
	obq_h_observe(t, (uint64_t)(unsigned)y);
}

static void op_keep(obq_h_t *t, const uint8_t *a)
{
	t->reg[0] = bugs_make(t, a[0]);
}

static void op_drop(obq_h_t *t, const uint8_t *a)
{
	struct st *s = t->state;
	(void)a;
	if (t->reg[0])
		obq_h_free(t, s->c, t->reg[0]); /* the last call */
}

static void op_peek_kept(obq_h_t *t, const uint8_t *a)
{
	(void)a;
	struct obj *o = t->reg[0];
	if (o)
		obq_h_observe(t, OBQ_PEEK(o, key));
}

static void teardown(obq_h_t *t)
{
	(void)t; /* the harness destroys the caches */
}

static const struct obq_h_op ops[] = {
	{"nop", 0, op_nop},         {"uaf_plain", 1, op_uaf_plain},
	{"peek_freed", 1, op_peek_freed}, {"oracle", 0, op_oracle},
	{"deadlock", 1, op_deadlock}, {"livelock", 0, op_livelock},
	{"ubsan", 1, op_ubsan},     {"keep", 1, op_keep},
	{"drop", 0, op_drop},       {"peek_kept", 0, op_peek_kept},
};
static const struct obq_h_target target = {
#if defined(BUGS_IN_SETUP)
	.name = "bugs_setup",
#elif defined(BUGS_HANG_IN_SETUP)
	.name = "bugs_hang",
#else
	.name = "bugs",
#endif
	.ops = ops, .nops = sizeof ops / sizeof ops[0], .state_size = sizeof(struct st),
	.setup = setup, .teardown = teardown, .max_steps = 2000,
};
OBQ_H_TARGET(target)
