/* test_linux.c — oblique/linux.h: kernel-style code compiled as it is, and the checks
 * each kernel name inherits from the obq_* call it expands to.
 *
 *   test_linux unit          in-process: kmem_cache_* reuse at the same address,
 *                            SLAB_POISON dropped on typesafe caches, refcount_t
 *                            semantics, READ_ONCE / WRITE_ONCE / smp_* / rcu_* on plain
 *                            memory, call_rcu, hlist_nulls add / walk / delete, stale
 *                            accesses inside rcu_read_lock() silent, and (checked
 *                            builds) the same accesses outside it reported
 *   test_linux <case>        run <case> in a child (this program with --child <case>)
 *                            and judge it: a firing case must die of SIGABRT with the
 *                            report naming its rule; an _ok twin must exit 0 silently
 *   test_linux --child <case> run the scenario itself */
#include <oblique/linux.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "run_capture.h" /* alloc/tests: expected-failure children */

/* ---------------------------------------------------------------------------------
 * Kernel-style object and cache, written as kernel code would be. */

struct conn {
	refcount_t ref;                 /* 0 while free */
	spinlock_t lock;                /* taken by stale readers too */
	unsigned int key;               /* identity, re-checked after the pin */
	struct hlist_nulls_node node;   /* on a chain; next survives free */
	unsigned long data;             /* payload */
};

static void conn_ctor(void *p)
{
	struct conn *c = p;

	refcount_set(&c->ref, 0);
	spin_lock_init(&c->lock);
	c->key = 0;
	c->node.next = (struct hlist_nulls_node *)NULLS_MARKER(0);
	c->node.pprev = NULL;
}

static struct kmem_cache *conn_cachep;

static void conn_cache_init(void)
{
	conn_cachep = kmem_cache_create("conn", sizeof(struct conn), 0,
					SLAB_TYPESAFE_BY_RCU | SLAB_HWCACHE_ALIGN, conn_ctor);
	if (!conn_cachep) {
		fprintf(stderr, "kmem_cache_create: %s\n", obq_last_error());
		exit(3);
	}
}

static struct conn *conn_new(unsigned int key)
{
	struct conn *c = kmem_cache_alloc(conn_cachep, GFP_KERNEL);

	if (!c)
		exit(3);
	WRITE_ONCE(c->key, key);
	refcount_set_release(&c->ref, 1);	/* key before the ref goes non-zero */
	return c;
}

static void conn_put(struct conn *c)
{
	if (refcount_dec_and_test(&c->ref))
		kmem_cache_free(conn_cachep, c);
}

/* Keep the compiler from dropping reads whose value is unused. */
static volatile unsigned long sink;

/* ---------------------------------------------------------------------------------
 * Child scenarios: each returns normally only if nothing was reported. */

/* A stale READ_ONCE of a freed typesafe object: legal inside rcu_read_lock only. */
static void s_stale_read_once(int bad)
{
	conn_cache_init();
	struct conn *c = conn_new(1);
	conn_put(c);
	if (!bad)
		rcu_read_lock();
	sink = READ_ONCE(c->key);
	if (!bad)
		rcu_read_unlock();
	kmem_cache_destroy(conn_cachep);
}

/* A walk over a chain whose node was freed: rcu_dereference of its link. */
static void s_stale_walk(int bad)
{
	struct hlist_nulls_head head;
	struct hlist_nulls_node *pos;
	struct conn *c, *it;

	conn_cache_init();
	INIT_HLIST_NULLS_HEAD(&head, 7);
	c = conn_new(2);
	hlist_nulls_add_head_rcu(&c->node, &head);
	pos = rcu_dereference_raw(hlist_nulls_first_rcu(&head)); /* a stale first */
	hlist_nulls_del_init_rcu(&c->node);
	conn_put(c);
	if (!bad)
		rcu_read_lock();
	/* continue the walk from the stale node, as a reader that stood on it */
	for (; !is_a_nulls(pos); pos = rcu_dereference_raw(hlist_nulls_next_rcu(pos))) {
		it = hlist_nulls_entry(pos, struct conn, node);
		sink = (unsigned long)it; /* the link read is what is checked */
	}
	sink = get_nulls_value(pos);
	if (!bad)
		rcu_read_unlock();
	kmem_cache_destroy(conn_cachep);
}

/* The lock of a freed object, taken by a stale reader (spin_lock is the oblique lock). */
static void s_stale_spin_lock(int bad)
{
	conn_cache_init();
	struct conn *c = conn_new(3);
	conn_put(c);
	if (!bad)
		rcu_read_lock();
	spin_lock(&c->lock);
	spin_unlock(&c->lock);
	if (!bad)
		rcu_read_unlock();
	kmem_cache_destroy(conn_cachep);
}

/* A failed pin that writes: WRITE_ONCE into a freed object, even inside a section. */
static void s_write_once_free(int bad)
{
	conn_cache_init();
	struct conn *c = conn_new(4);
	conn_put(c);
	rcu_read_lock();
	if (!refcount_inc_not_zero(&c->ref)) {
		if (bad)
			WRITE_ONCE(c->data, 1);
	} else {
		conn_put(c);
	}
	rcu_read_unlock();
	kmem_cache_destroy(conn_cachep);
}

/* A reference dropped once too often, then the count read outside a section. */
static void s_refcount_after_put(int bad)
{
	conn_cache_init();
	struct conn *c = conn_new(5);
	rcu_read_lock();
	int pinned = refcount_inc_not_zero(&c->ref);
	rcu_read_unlock();
	conn_put(c); /* the table's reference */
	if (pinned && bad) {
		/* kept a reference: the object is still allocated — but drop it twice */
		conn_put(c);
		sink = refcount_read(&c->ref); /* freed by the put above: outside a section */
	} else if (pinned) {
		conn_put(c);
	}
	kmem_cache_destroy(conn_cachep);
}

/* ---------------------------------------------------------------------------------
 * Case table. */

struct tcase {
	const char *name;
	void (*fn)(int bad);
	int bad;
	const char *rule;          /* bad: the rule the report must name */
};

static const struct tcase cases[] = {
	{ "stale_read_once", s_stale_read_once, 1, "free-access-outside-read-side" },
	{ "stale_read_once_ok", s_stale_read_once, 0, NULL },
	{ "stale_walk", s_stale_walk, 1, "free-access-outside-read-side" },
	{ "stale_walk_ok", s_stale_walk, 0, NULL },
	{ "stale_spin_lock", s_stale_spin_lock, 1, "free-access-outside-read-side" },
	{ "stale_spin_lock_ok", s_stale_spin_lock, 0, NULL },
	{ "write_once_free", s_write_once_free, 1, "store-to-free-object" },
	{ "write_once_free_ok", s_write_once_free, 0, NULL },
	{ "refcount_after_put", s_refcount_after_put, 1, "free-access-outside-read-side" },
	{ "refcount_after_put_ok", s_refcount_after_put, 0, NULL },
};
#define NCASES (sizeof cases / sizeof cases[0])

/* ---------------------------------------------------------------------------------
 * In-process checks. */

static int nreports;
static enum obq_error_kind last_kind;

static void record(const struct obq_error *e, void *arg)
{
	(void)arg;
	last_kind = e->kind;
	nreports++;
}

struct cb_obj {
	int ran;
	struct rcu_head rcu;
};

static void cb(struct rcu_head *head)
{
	struct cb_obj *o = container_of(head, struct cb_obj, rcu);
	WRITE_ONCE(o->ran, o->ran + 1);
}

static struct conn *global_ptr;
static unsigned long plain;

static int unit(void)
{
	int bad = 0;
#define U(name, cond) do { if (!(cond)) { fprintf(stderr, "FAIL unit %s: %s\n", name, #cond); bad++; } } while (0)
	obq_set_error_hook(record, NULL);
	if (obq_set_reuse_mode(OBQ_REUSE_RECYCLE) != 0)
		return 3;
	conn_cache_init();
	U("typesafe flag", obq_cache_flags((obq_cache_t *)(void *)conn_cachep) & OBQ_TYPESAFE_BY_RCU);

	/* kmem_cache_*: SLAB_TYPESAFE_BY_RCU reuse is immediate, at the same address. */
	struct conn *a = conn_new(10);
	conn_put(a);
	struct conn *b = conn_new(11);
	U("same-address reuse", a == b);
	U("ctor state survives", refcount_read(&b->ref) == 1 && READ_ONCE(b->key) == 11);

	/* SLAB_POISON is dropped with a ctor or typesafe (SLUB), kept otherwise. */
	struct kmem_cache *p1 = kmem_cache_create("p1", 32, 0, SLAB_POISON | SLAB_TYPESAFE_BY_RCU, NULL);
	struct kmem_cache *p2 = kmem_cache_create("p2", 32, 0, SLAB_POISON, NULL);
	U("poison+typesafe created", p1 != NULL);
	U("poison dropped", p1 && !(obq_cache_flags((obq_cache_t *)(void *)p1) & OBQ_POISON));
	U("poison kept", p2 && (obq_cache_flags((obq_cache_t *)(void *)p2) & OBQ_POISON));
	kmem_cache_destroy(p1);
	kmem_cache_destroy(p2);
	kmem_cache_destroy(NULL);

	/* refcount_t. */
	refcount_t r;
	refcount_set(&r, 0);
	U("inc_not_zero on 0 fails", !refcount_inc_not_zero(&r) && refcount_read(&r) == 0);
	refcount_set_release(&r, 1);
	U("inc_not_zero on 1", refcount_inc_not_zero(&r) && refcount_read(&r) == 2);
	refcount_inc(&r);
	U("inc", refcount_read(&r) == 3);
	U("dec 3->2", !refcount_dec_and_test(&r));
	U("dec 2->1", !refcount_dec_and_test(&r));
	U("dec 1->0", refcount_dec_and_test(&r));
	refcount_set(&r, 5);
	U("set 5", refcount_read(&r) == 5);

	/* Accessors on plain memory (never reported: not in a cache). */
	WRITE_ONCE(plain, 42);
	U("READ_ONCE", READ_ONCE(plain) == 42);
	smp_store_release(&plain, 43);
	U("smp_load_acquire", smp_load_acquire(&plain) == 43);
	rcu_assign_pointer(global_ptr, b);
	rcu_read_lock();
	U("rcu_dereference", rcu_dereference(global_ptr) == b);
	rcu_read_unlock();
	U("rcu_dereference_protected", rcu_dereference_protected(global_ptr, 1) == b);
	U("rcu_access_pointer", rcu_access_pointer(global_ptr) == b);
	RCU_INIT_POINTER(global_ptr, NULL);
	U("RCU_INIT_POINTER", rcu_access_pointer(global_ptr) == NULL);

	/* spinlock_t. */
	spin_lock(&b->lock);
	U("trylock held", !spin_trylock(&b->lock));
	spin_unlock(&b->lock);
	U("trylock free", spin_trylock(&b->lock));
	spin_unlock(&b->lock);
	unsigned long flags;
	spin_lock_irqsave(&b->lock, flags);
	spin_unlock_irqrestore(&b->lock, flags);

	/* call_rcu / synchronize_rcu / rcu_barrier. */
	struct cb_obj *co = calloc(1, sizeof *co);
	call_rcu(&co->rcu, cb);
	synchronize_rcu();
	rcu_barrier();
	U("call_rcu ran once", READ_ONCE(co->ran) == 1);
	free(co);

	/* hlist_nulls: add at the head, walk, delete; the walk ends on the nulls value. */
	struct hlist_nulls_head head;
	struct hlist_nulls_node *pos;
	struct conn *it, *n[3];
	INIT_HLIST_NULLS_HEAD(&head, 5);
	U("empty", hlist_nulls_empty(&head) && get_nulls_value(head.first) == 5);
	n[0] = b;
	n[1] = conn_new(12);
	n[2] = conn_new(13);
	for (int i = 0; i < 3; i++)
		hlist_nulls_add_head_rcu(&n[i]->node, &head);
	unsigned long keys = 0;
	rcu_read_lock();
	hlist_nulls_for_each_entry_rcu(it, pos, &head, node)
		keys = keys * 100 + READ_ONCE(it->key);
	U("walk order (LIFO)", keys == 131211);
	U("walk ends on the nulls value", is_a_nulls(pos) && get_nulls_value(pos) == 5);
	rcu_read_unlock();
	hlist_nulls_del_rcu(&n[1]->node);
	U("del_rcu keeps next", n[1]->node.next == &n[0]->node);
	keys = 0;
	hlist_nulls_for_each_entry(it, pos, &head, node)
		keys = keys * 100 + READ_ONCE(it->key);
	U("walk after del", keys == 1311);
	U("del_init: hashed before", !hlist_nulls_unhashed(&n[2]->node));
	hlist_nulls_del_init_rcu(&n[2]->node);
	U("del_init: unhashed after", hlist_nulls_unhashed(&n[2]->node));
	hlist_nulls_del_init_rcu(&n[2]->node); /* twice: a no-op */
	U("head now n[0]", head.first == &n[0]->node);

	/* Stale accesses: legal inside rcu_read_lock(), reported outside (checked). */
	conn_put(n[1]);
	nreports = 0;
	rcu_read_lock();
	sink = READ_ONCE(n[1]->key);
	U("stale pin fails", !refcount_inc_not_zero(&n[1]->ref));
	spin_lock(&n[1]->lock);
	spin_unlock(&n[1]->lock);
	pos = rcu_dereference_raw(hlist_nulls_next_rcu(&n[1]->node));
	U("freed node's next survives", pos == &n[0]->node);
	rcu_read_unlock();
	U("stale accesses inside rcu_read_lock are legal", nreports == 0);
#if OBQ_CHECKED
	sink = READ_ONCE(n[1]->key);
	U("stale READ_ONCE outside: reported",
	  nreports == 1 && last_kind == OBQ_ERR_FREE_OUTSIDE_READER);
	rcu_read_lock();
	WRITE_ONCE(n[1]->data, 1);
	U("WRITE_ONCE to a freed object: reported",
	  nreports == 2 && last_kind == OBQ_ERR_FREE_STORE);
	rcu_read_unlock();
	/* kmem_cache_destroy with live objects: reported, the cache stays */
	kmem_cache_destroy(conn_cachep);
	U("destroy with live objects: reported",
	  nreports == 3 && last_kind == OBQ_ERR_DESTROY_BUSY);
#endif
	hlist_nulls_del_init_rcu(&n[0]->node);
	conn_put(n[0]);
	conn_put(n[2]);
	nreports = 0;
	kmem_cache_destroy(conn_cachep);
	U("destroy when empty: silent", nreports == 0);
	obq_set_error_hook(NULL, NULL);
	printf("unit: %s\n", bad ? "FAILED" : "ok");
	return bad ? 1 : 0;
}

/* ---------------------------------------------------------------------------------
 * Parent: re-execute ourselves with --child and judge the child. */


static int judge(const struct tcase *tc)
{
	char self[4096];
	ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
	if (k <= 0)
		return 2;
	self[k] = '\0';
	char *argv[] = { self, "--child", (char *)tc->name, NULL };
	char *err = NULL;
	int st = run_capture(argv, &err);
	int fail = 0;
	if (tc->bad) {
		char want[160];
		snprintf(want, sizeof want, "==oblique== ERROR: %s\n", tc->rule);
		if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT)) {
			fprintf(stderr, "FAIL %s: child did not die of SIGABRT\n", tc->name);
			fail = 1;
		}
		if (!strstr(err, want)) {
			fprintf(stderr, "FAIL %s: report does not name %s\n", tc->name, tc->rule);
			fail = 1;
		}
		if (!strstr(err, "cache: conn ")) {
			fprintf(stderr, "FAIL %s: report does not name the cache\n", tc->name);
			fail = 1;
		}
	} else {
		if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
			fprintf(stderr, "FAIL %s: child did not exit 0\n", tc->name);
			fail = 1;
		}
		if (strstr(err, "==oblique==") || strstr(err, "Sanitizer")) {
			fprintf(stderr, "FAIL %s: unexpected report\n", tc->name);
			fail = 1;
		}
	}
	if (fail)
		fprintf(stderr, "---- child status 0x%x, output:\n%s---- end\n", st, err);
	else
		printf("%sPASS %s\n", err, tc->name);
	free(err);
	return fail;
}

int main(int argc, char **argv)
{
	obq_rcu_register_thread();
	if (argc == 2 && strcmp(argv[1], "unit") == 0)
		return unit();
	const char *name = argc == 3 && strcmp(argv[1], "--child") == 0 ? argv[2]
			 : argc == 2 ? argv[1] : NULL;
	const struct tcase *tc = NULL;
	for (size_t i = 0; name && i < NCASES; i++)
		if (strcmp(cases[i].name, name) == 0)
			tc = &cases[i];
	if (!tc) {
		fprintf(stderr, "usage: %s unit | <case> | --child <case>\n", argv[0]);
		return 2;
	}
	if (argc == 3) {
		if (obq_set_reuse_mode(OBQ_REUSE_RECYCLE) != 0)
			return 3;
		tc->fn(tc->bad);
		obq_rcu_unregister_thread();
		return 0;
	}
	return judge(tc);
}
