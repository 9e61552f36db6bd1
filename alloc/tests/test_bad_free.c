/* test_bad_free.c — the allocator's always-on free checks: double free (FREE and, in
 * rcu-debug mode, FREE-PENDING), foreign pointers (malloc'd, stack, static), interior
 * pointers (inside an object and in a slab's unused tail), the wrong cache, a free of
 * a released slab.  Each goes through a recording hook: the report names the rule,
 * the cache and the slot state, the free changes nothing (stats identical, the cache
 * still hands out every object exactly once).  Then one double free goes through the
 * default hook in a child process (this program re-executed with --child-double-free),
 * which must die of SIGABRT with a report naming the rule and the cache.  Last, the
 * tool kinds: a kind of the reserved range is named with obq_error_register_kind and
 * reported with obq_error_report through the same hook.
 *
 * Arguments: none (ctest); --child-double-free is the child's role. */
#include <oblique/oblique.h>

#include "check.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The recording error hook: record_hook, rec, rec_reset (record_hook.h). */
#include "record_hook.h"

static int stats_same(obq_cache_t *c, const struct obq_cache_stats *before)
{
	struct obq_cache_stats now;
	obq_cache_stats(c, &now);
	return memcmp(&now, before, sizeof now) == 0;
}

/* One bad free: exactly one report of `kind` naming `cache`, stats unchanged. */
static void expect_bad_free(const char *what, obq_cache_t *c, void *p, enum obq_error_kind kind,
			    const char *state)
{
	struct obq_cache_stats before;
	obq_cache_stats(c, &before);
	rec_reset();
	obq_cache_free(c, p);
	CHECK(what, rec.count == 1);
	CHECK(what, rec.kind == kind);
	if (rec.kind != kind)
		fprintf(stderr, "  %s: got %s, wanted %s\n%s", what, obq_error_name(rec.kind),
			obq_error_name(kind), rec.message);
	CHECK(what, strcmp(rec.cache, obq_cache_name(c)) == 0);
	CHECK(what, rec.object == p);
	CHECK(what, strstr(rec.message, obq_error_name(kind)) != NULL);
	CHECK(what, strstr(rec.message, obq_cache_name(c)) != NULL);
	if (state)
		CHECK(what, strcmp(rec.state, state) == 0);
	CHECK(what, stats_same(c, &before));
}

static int static_thing;

static void test_recorded(void)
{
	obq_error_hook_fn old = obq_set_error_hook(record_hook, &rec);
	obq_cache_t *c = obq_cache_create("victim", 48, 0, OBQ_TYPESAFE_BY_RCU, NULL);
	obq_cache_t *other = obq_cache_create("other", 48, 0, OBQ_TYPESAFE_BY_RCU, NULL);

	/* Double free. */
	void *p = obq_cache_alloc(c);
	void *spare = obq_cache_alloc(c);
	obq_cache_free(c, p);
	expect_bad_free("double free", c, p, OBQ_ERR_DOUBLE_FREE, "FREE");
	CHECK("double free: generation reported", rec.generation == 1);
	CHECK("double free: message", strstr(rec.message, "double free of an object already FREE (generation 1)") != NULL);
	void *a = obq_cache_alloc(c);
	void *b = obq_cache_alloc(c);
	CHECK("after a rejected double free the object comes back once", a == p && b != p);
	obq_cache_free(c, b);

	/* Foreign pointers. */
	void *m = malloc(48);
	expect_bad_free("malloc'd pointer", c, m, OBQ_ERR_FOREIGN_POINTER, "");
	free(m);
	int on_stack = 0;
	expect_bad_free("stack pointer", c, &on_stack, OBQ_ERR_FOREIGN_POINTER, "");
	expect_bad_free("static pointer", c, &static_thing, OBQ_ERR_FOREIGN_POINTER, "");
	expect_bad_free("high pointer", c, (void *)(uintptr_t)0xffff800000001000ull,
			OBQ_ERR_FOREIGN_POINTER, "");

	/* Interior pointers. */
	expect_bad_free("interior pointer", c, (char *)a + 8, OBQ_ERR_INTERIOR_POINTER, "ALLOCATED");
	CHECK("interior: names the object", strstr(rec.message, "8 bytes into") != NULL);
	expect_bad_free("interior pointer, last byte", c, (char *)a + 47, OBQ_ERR_INTERIOR_POINTER,
			"ALLOCATED");
	/* The unused tail of a slab: 64 KiB slabs of 48-byte slots leave 16 bytes. */
	struct obq_cache_stats st;
	obq_cache_stats(c, &st);
	char *base = (char *)((uintptr_t)a & ~(uintptr_t)0xffff);
	if (st.objects_per_slab * st.stride < 65536)
		expect_bad_free("slab tail", c, base + st.objects_per_slab * st.stride,
				OBQ_ERR_INTERIOR_POINTER, NULL);

	/* Wrong cache. */
	expect_bad_free("wrong cache", other, a, OBQ_ERR_WRONG_CACHE, "ALLOCATED");
	CHECK("wrong cache: names the owner", strstr(rec.message, "belongs to cache \"victim\"") != NULL);
	CHECK("freeing it to its own cache still works", (obq_cache_free(c, a), rec.count == 1));
	/* Wrong cache of an already free object: the wrong cache wins (it is the bug). */
	expect_bad_free("wrong cache of a free object", other, a, OBQ_ERR_WRONG_CACHE, "FREE");

	/* free_bulk checks each element. */
	void *v[3] = { obq_cache_alloc(c), m = malloc(8), obq_cache_alloc(c) };
	rec_reset();
	obq_cache_free_bulk(c, 3, v);
	CHECK("bulk: the bad element reported", rec.count == 1 && rec.kind == OBQ_ERR_FOREIGN_POINTER);
	obq_cache_stats(c, &st);
	CHECK("bulk: the good elements freed", st.objects_live == 1); /* spare */
	free(m);

	/* NULL is not an error. */
	rec_reset();
	obq_cache_free(c, NULL);
	CHECK("free(NULL) is silent", rec.count == 0);

	/* A free of a slot whose slab went back: foreign once unmapped, free-released while
	 * the checker quarantines it. */
	obq_cache_t *r = obq_cache_create("released", 64, 0, 0, NULL);
	void *q = obq_cache_alloc(r);
	obq_cache_free(r, q);
	CHECK("slab released", obq_cache_shrink(r) == 1);
	rec_reset();
	obq_cache_free(r, q);
	CHECK("free of a released slot reported",
	      rec.count == 1 && (rec.kind == OBQ_ERR_FOREIGN_POINTER || rec.kind == OBQ_ERR_FREE_RELEASED));
	obq_cache_destroy(r);

	/* Still a working cache. */
	void *x = obq_cache_alloc(c);
	CHECK("victim still allocates", x != NULL);
	obq_cache_free(c, x);
	obq_cache_free(c, spare);
	rec_reset();
	CHECK("victim destroys cleanly", obq_cache_destroy(c) == 0 && rec.count == 0);
	CHECK("other destroys cleanly", obq_cache_destroy(other) == 0 && rec.count == 0);

	/* rcu-debug: a second free while the first waits its grace period. */
	CHECK("rcu-debug mode", obq_set_reuse_mode(OBQ_REUSE_RCU_DEBUG) == 0);
	obq_cache_t *d = obq_cache_create("pending", 64, 0, OBQ_TYPESAFE_BY_RCU, NULL);
	obq_rcu_register_thread();
	void *y = obq_cache_alloc(d);
	obq_rcu_read_lock();
	obq_cache_free(d, y);
	expect_bad_free("double free of a FREE-PENDING object", d, y, OBQ_ERR_DOUBLE_FREE, "FREE-PENDING");
	obq_rcu_read_unlock();
	obq_rcu_barrier();
	expect_bad_free("double free after the grace period", d, y, OBQ_ERR_DOUBLE_FREE, "FREE");
	CHECK("pending destroys cleanly", obq_cache_destroy(d) == 0);
	obq_rcu_unregister_thread();
	CHECK("recycle mode", obq_set_reuse_mode(OBQ_REUSE_RECYCLE) == 0);
	obq_set_error_hook(old, NULL);
}

/* The child: a double free through the default hook. */
static int child_double_free(void)
{
	obq_set_error_hook(NULL, NULL);
	obq_cache_t *c = obq_cache_create("child-cache", 64, 0, OBQ_TYPESAFE_BY_RCU, NULL);
	void *p = obq_cache_alloc(c);
	obq_cache_free(c, p);
	obq_cache_free(c, p); /* must not return */
	fprintf(stderr, "child: the default hook returned\n");
	return 3;
}

static void test_default_hook(const char *self)
{
	int fd[2];
	CHECK_FATAL("pipe", pipe(fd) == 0);
	pid_t pid = fork();
	CHECK_FATAL("fork", pid >= 0);
	if (pid == 0) {
		dup2(fd[1], 2);
		close(fd[0]);
		close(fd[1]);
		execl(self, self, "--child-double-free", (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	char out[8192];
	size_t len = 0;
	ssize_t k;
	while (len < sizeof out - 1 && (k = read(fd[0], out + len, sizeof out - 1 - len)) > 0)
		len += (size_t)k;
	out[len] = '\0';
	close(fd[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	CHECK("child died of SIGABRT", WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	CHECK("child's report names the rule", strstr(out, "double-free") != NULL);
	CHECK("child's report names the cache", strstr(out, "child-cache") != NULL);
	CHECK("child's report names the slot state", strstr(out, "FREE") != NULL);
	if (!(WIFSIGNALED(status) && strstr(out, "double-free")))
		fprintf(stderr, "child status 0x%x, stderr:\n%s\n", status, out);
}

/* A tool's own kinds: registration rules, and a report through the hook. */
static void test_tool_kinds(void)
{
	const enum obq_error_kind k = OBQ_ERR_TOOL_FIRST + 3;
	const enum obq_error_kind k2 = OBQ_ERR_TOOL_FIRST + 4;

	CHECK("tool: unnamed kind", strcmp(obq_error_name(k), "unknown") == 0);
	CHECK("tool: library kind refused", obq_error_register_kind(OBQ_ERR_DOUBLE_FREE, "x") == -EINVAL);
	CHECK("tool: below the range", obq_error_register_kind(OBQ_ERR_KIND_COUNT, "x") == -EINVAL);
	CHECK("tool: above the range", obq_error_register_kind(OBQ_ERR_TOOL_LAST + 1, "x") == -EINVAL);
	CHECK("tool: empty name", obq_error_register_kind(k, "") == -EINVAL);
	CHECK("tool: NULL name", obq_error_register_kind(k, NULL) == -EINVAL);
	CHECK("tool: a library rule's name", obq_error_register_kind(k, "double-free") == -EEXIST);
	CHECK("tool: register", obq_error_register_kind(k, "tool-invariant") == 0);
	CHECK("tool: again, same name", obq_error_register_kind(k, "tool-invariant") == 0);
	CHECK("tool: another name", obq_error_register_kind(k, "other") == -EEXIST);
	CHECK("tool: name taken", obq_error_register_kind(k2, "tool-invariant") == -EEXIST);
	CHECK("tool: last of the range", obq_error_register_kind(OBQ_ERR_TOOL_LAST, "tool-last") == 0);
	CHECK("tool: name", strcmp(obq_error_name(k), "tool-invariant") == 0);
	CHECK("tool: library names unchanged", strcmp(obq_error_name(OBQ_ERR_DOUBLE_FREE), "double-free") == 0);

	obq_error_hook_fn old = obq_set_error_hook(record_hook, &rec);
	rec_reset();
	int x;
	obq_error_report(k, "things", &x, "  thing %d broke\n", 7);
	CHECK("tool: one report", rec.count == 1);
	CHECK("tool: kind", rec.kind == k);
	CHECK("tool: cache", strcmp(rec.cache, "things") == 0);
	CHECK("tool: object", rec.object == &x);
	CHECK("tool: header", strncmp(rec.message, "==oblique== ERROR: tool-invariant\n", 34) == 0);
	CHECK("tool: body", strstr(rec.message, "  thing 7 broke\n") != NULL);
	obq_set_error_hook(old == obq_error_default_hook ? NULL : old, NULL);
}

/* Calls on a destroyed cache (checked builds: reported as use-of-destroyed-cache and
 * refused; a release build frees the struct at once, and such a call is undefined). */
static void test_destroyed(void)
{
#if OBQ_CHECKED
	rec_reset();
	obq_error_hook_fn prev = obq_set_error_hook(record_hook, &rec);
	obq_cache_t *c = obq_cache_create("gone", 64, 0, OBQ_TYPESAFE_BY_RCU, NULL);
	CHECK_FATAL("create", c != NULL);
	void *p = obq_cache_alloc(c);
	obq_cache_free(c, p);
	CHECK("first destroy", obq_cache_destroy(c) == 0 && rec.count == 0);
	CHECK("destroy twice: refused", obq_cache_destroy(c) == -EINVAL);
	CHECK("destroy twice: reported", rec.count == 1 && rec.kind == OBQ_ERR_CACHE_DESTROYED &&
					      strcmp(rec.cache, "gone") == 0);
	errno = 0;
	CHECK("alloc after destroy: NULL", obq_cache_alloc(c) == NULL && errno == EINVAL);
	CHECK("alloc after destroy: reported", rec.count == 2 && rec.kind == OBQ_ERR_CACHE_DESTROYED);
	struct obq_cache_stats st;
	CHECK("stats after destroy", obq_cache_stats(c, &st) == -EINVAL && rec.count == 3);
	CHECK("shrink after destroy", obq_cache_shrink(c) == -EINVAL && rec.count == 4);
	void *v[2];
	CHECK("bulk after destroy", obq_cache_alloc_bulk(c, 2, v) == 0 && rec.count == 5);
	CHECK("rule name", strcmp(obq_error_name(OBQ_ERR_CACHE_DESTROYED), "use-of-destroyed-cache") == 0);
	obq_set_error_hook(prev, NULL);
#endif
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--child-double-free") == 0)
		return child_double_free();
	test_default_hook(argv[0]);
	test_recorded();
	test_tool_kinds();
	test_destroyed();
	return CHECK_DONE();
}
