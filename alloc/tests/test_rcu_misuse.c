/* test_rcu_misuse.c — RCU misuse is reported (checked builds).
 *
 * Each rule runs in a child process (fork) with the default error hook: the child must
 * die of SIGABRT and its stderr must name the rule.  Its silent twin — the same calls
 * used correctly — must exit 0 with nothing on stderr.  A last child installs a
 * recording hook and checks that the program can go on after each report (the unlock
 * ignored, the thread registered, synchronize returning without waiting).
 *
 * Arguments: none (ctest).  Exit 0 on success. */
#include <oblique/oblique.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failures;

#define CHECK(name, expr)                                                              \
	do {                                                                           \
		if (!(expr)) {                                                         \
			fprintf(stderr, "FAIL %s:%d: %s: %s\n", __FILE__, __LINE__, name, #expr); \
			failures++;                                                    \
		}                                                                      \
	} while (0)

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------------------------ */
/* scenarios (run in the child)                                                    */

static void sync_in_reader(void)
{
	obq_rcu_register_thread();
	obq_rcu_read_lock();
	obq_rcu_synchronize(); /* misuse */
	obq_rcu_read_unlock();
}

static void barrier_in_reader(void)
{
	obq_rcu_register_thread();
	obq_rcu_read_lock();
	obq_rcu_barrier(); /* misuse */
	obq_rcu_read_unlock();
}

static void unbalanced(void)
{
	obq_rcu_register_thread();
	obq_rcu_read_lock();
	obq_rcu_read_unlock();
	obq_rcu_read_unlock(); /* misuse */
}

static void unregistered(void)
{
	obq_rcu_unregister_thread(); /* in case the context was registered */
	obq_rcu_read_lock();         /* misuse */
	obq_rcu_read_unlock();
}

static void *exiting_reader(void *arg)
{
	int bad = arg != NULL;
	obq_rcu_register_thread();
	obq_rcu_read_lock();
	if (!bad)
		obq_rcu_read_unlock();
	return NULL; /* thread exit (key destructor) inside the section if bad */
}

static void exit_in_reader(void)
{
	pthread_t th;
	pthread_create(&th, NULL, exiting_reader, (void *)1);
	pthread_join(th, NULL);
}

static _Atomic int stall_inside;

static void *stalling_reader(void *arg)
{
	long ms = (long)(intptr_t)arg;
	obq_rcu_register_thread();
	obq_rcu_read_lock();
	atomic_store(&stall_inside, 1);
	sleep_ms(ms);
	obq_rcu_read_unlock();
	obq_rcu_unregister_thread();
	return NULL;
}

static void stall(void)
{
	pthread_t th;
	obq_rcu_set_stall_ms(100);
	obq_rcu_register_thread();
	pthread_create(&th, NULL, stalling_reader, (void *)(intptr_t)5000);
	while (!atomic_load(&stall_inside))
		sleep_ms(1);
	obq_rcu_synchronize(); /* waits past the bound: report */
	pthread_join(th, NULL);
}

static struct obq_rcu_head twin_head;
static void twin_cb(struct obq_rcu_head *h)
{
	(void)h;
}

/* Every call above, used correctly: no report. */
static void silent_twin(void)
{
	pthread_t th;
	obq_rcu_set_stall_ms(2000);
	obq_rcu_register_thread();
	obq_rcu_read_lock();
	obq_rcu_read_lock();
	obq_rcu_read_unlock();
	obq_rcu_read_unlock();
	obq_rcu_synchronize();
	obq_rcu_call(&twin_head, twin_cb);
	obq_rcu_barrier();
	pthread_create(&th, NULL, exiting_reader, NULL);
	pthread_join(th, NULL);
	atomic_store(&stall_inside, 0);
	pthread_create(&th, NULL, stalling_reader, (void *)(intptr_t)50);
	while (!atomic_load(&stall_inside))
		sleep_ms(1);
	obq_rcu_synchronize(); /* waits 50 ms < bound */
	pthread_join(th, NULL);
	obq_rcu_unregister_thread();
}

/* A recording hook: every report is kept and the program goes on. */
static enum obq_error_kind seen[16];
static int nseen;

static void record(const struct obq_error *e, void *arg)
{
	(void)arg;
	if (nseen < 16)
		seen[nseen++] = e->kind;
}

static void recording(void)
{
	obq_set_error_hook(record, NULL);
	obq_rcu_unregister_thread();
	obq_rcu_read_unlock(); /* unbalanced: ignored */
	CHECK("unbalanced reported", nseen == 1 && seen[0] == OBQ_ERR_RCU_UNBALANCED);
	CHECK("unbalanced ignored", !obq_rcu_read_ongoing());
	obq_rcu_read_lock(); /* unregistered: reported, then registered */
	CHECK("unregistered reported", nseen == 2 && seen[1] == OBQ_ERR_RCU_UNREGISTERED);
	CHECK("section entered", obq_rcu_read_ongoing());
	unsigned long g = obq_rcu_gp_count();
	obq_rcu_synchronize(); /* in a section: reported, returns at once */
	CHECK("sync in reader reported", nseen == 3 && seen[2] == OBQ_ERR_RCU_SYNC_IN_READER);
	CHECK("sync in reader did not run a GP", obq_rcu_gp_count() == g);
	obq_rcu_read_unlock();
	obq_rcu_read_lock(); /* registered now: no report */
	obq_rcu_read_unlock();
	obq_rcu_synchronize();
	CHECK("no more reports", nseen == 3);
	CHECK("GP ran after the section", obq_rcu_gp_count() > g);
	obq_rcu_unregister_thread();
	obq_set_error_hook(NULL, NULL);
	if (failures)
		exit(1);
}

/* A thread whose first oblique calls are the read side: before them it has no
 * context (_obq_self is the read-only _obq_thread_none), so each call below takes the
 * path that creates one.  Misuse on such a thread is reported like on any other. */
static void *fresh_thread_body(void *arg)
{
	(void)arg;
	CHECK("fresh: not in a section", !obq_rcu_read_ongoing());
	obq_rcu_read_unlock(); /* unbalanced, before any context exists */
	CHECK("fresh: unbalanced reported", nseen == 1 && seen[0] == OBQ_ERR_RCU_UNBALANCED);
	CHECK("fresh: still not in a section", !obq_rcu_read_ongoing());
	obq_rcu_read_lock(); /* unregistered: reported, registered, section entered */
	CHECK("fresh: unregistered reported", nseen == 2 && seen[1] == OBQ_ERR_RCU_UNREGISTERED);
	CHECK("fresh: section entered", obq_rcu_read_ongoing());
	obq_rcu_read_lock(); /* nested */
	obq_rcu_read_unlock();
	CHECK("fresh: still inside after the nested unlock", obq_rcu_read_ongoing());
	obq_rcu_read_unlock();
	CHECK("fresh: section ended", !obq_rcu_read_ongoing());
	CHECK("fresh: no other report", nseen == 2);
	obq_rcu_unregister_thread();
	return NULL;
}

static void fresh_thread(void)
{
	obq_set_error_hook(record, NULL);
	pthread_t th;
	if (pthread_create(&th, NULL, fresh_thread_body, NULL) != 0)
		exit(2);
	pthread_join(th, NULL);
	obq_rcu_synchronize(); /* the thread left no reader behind */
	CHECK("fresh: synchronize after the thread, no report", nseen == 2);
	obq_set_error_hook(NULL, NULL);
	if (failures)
		exit(1);
}

/* ------------------------------------------------------------------------------ */
/* parent                                                                          */

struct scenario {
	const char *name;       /* printed */
	void (*fn)(void);       /* run in the child */
	const char *rule;       /* expected rule in stderr; NULL: silent, exit 0 */
	const char *also;       /* another string stderr must contain, or NULL */
};

static void noop_cb(struct obq_rcu_head *h)
{
	(void)h;
}

static void call_null_head(void)
{
	obq_rcu_call(NULL, noop_cb); /* misuse */
}

static void call_null_func(void)
{
	static struct obq_rcu_head h;
	obq_rcu_call(&h, NULL); /* misuse */
	obq_rcu_barrier();
}

/* The same head queued twice before its callback ran (CONFIG_DEBUG_OBJECTS_RCU_HEAD's
 * case): reported, and the second call queues nothing — the callback runs once. */
static atomic_int dq_runs;

static void dq_cb(struct obq_rcu_head *h)
{
	(void)h;
	atomic_fetch_add(&dq_runs, 1);
}

static void double_queue(void)
{
	static struct obq_rcu_head h;
	obq_rcu_register_thread();
	obq_rcu_read_lock(); /* the callback cannot run before the second call */
	obq_rcu_call(&h, dq_cb);
	obq_rcu_call(&h, dq_cb); /* misuse */
	obq_rcu_read_unlock();
	obq_rcu_barrier();
}

static void dq_record(const struct obq_error *e, void *arg)
{
	(void)arg;
	CHECK("double queue: the rule", strcmp(e->rule, "rcu-head-double-queued") == 0);
	nseen++;
}

/* Recording hook: one report, the callback ran once; re-queueing a head from its own
 * callback, or after it ran, is legal and silent. */
static struct obq_rcu_head rq_head;
static atomic_int rq_runs;

static void rq_cb(struct obq_rcu_head *h)
{
	if (atomic_fetch_add(&rq_runs, 1) + 1 < 3)
		obq_rcu_call(h, rq_cb); /* legal: the head left the queue before we ran */
}

static void double_queue_recorded(void)
{
	static struct obq_rcu_head h;
	obq_set_error_hook(dq_record, NULL);
	obq_rcu_register_thread();
	for (int i = 0; i < 3; i++) {
		obq_rcu_read_lock(); /* the callback cannot run before the second call */
		obq_rcu_call(&h, dq_cb);
		obq_rcu_call(&h, dq_cb); /* misuse, refused */
		obq_rcu_read_unlock();
		obq_rcu_barrier();
	}
	CHECK("double queue: one report per misuse", nseen == 3);
	CHECK("double queue: each callback ran once", atomic_load(&dq_runs) == 3);
	obq_rcu_call(&rq_head, rq_cb);
	for (int i = 0; i < 3; i++)
		obq_rcu_barrier();
	CHECK("requeue from the callback: silent", nseen == 3);
	CHECK("requeue from the callback: ran 3 times", atomic_load(&rq_runs) == 3);
	obq_set_error_hook(NULL, NULL);
	if (failures)
		exit(1);
}

static const struct scenario scenarios[] = {
	{ "sync_in_reader", sync_in_reader, "synchronize-in-read-side", "obq_rcu_synchronize()" },
	{ "barrier_in_reader", barrier_in_reader, "synchronize-in-read-side", "obq_rcu_barrier()" },
	{ "unbalanced", unbalanced, "unbalanced-read-unlock", "obq_rcu_read_unlock()" },
	{ "unregistered", unregistered, "read-lock-unregistered-thread", "obq_rcu_register_thread()" },
	{ "exit_in_reader", exit_in_reader, "thread-exit-in-read-side", "is exiting" },
	{ "stall", stall, "grace-period-stall", "thread(s) " },
	{ "call_null_head", call_null_head, "rcu-call-null", "with a NULL head" },
	{ "call_null_func", call_null_func, "rcu-call-null", "with a NULL function" },
	{ "double_queue", double_queue, "rcu-head-double-queued", "already queued" },
	{ "double_queue_rec", double_queue_recorded, NULL, NULL },
	{ "silent_twin", silent_twin, NULL, NULL },
	{ "recording", recording, NULL, NULL },
	{ "fresh_thread", fresh_thread, NULL, NULL },
};

static void run(const struct scenario *s)
{
	int fds[2];
	if (pipe(fds) != 0) {
		perror("pipe");
		exit(2);
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		s->fn();
		fflush(NULL);
		_exit(failures ? 1 : 0);
	}
	close(fds[1]);
	char out[8192];
	size_t len = 0;
	ssize_t r;
	while ((r = read(fds[0], out + len, sizeof out - 1 - len)) > 0)
		len += (size_t)r;
	out[len] = '\0';
	close(fds[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	int ok;
	if (s->rule) {
		ok = WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && strstr(out, s->rule) &&
		     (!s->also || strstr(out, s->also));
	} else {
		ok = WIFEXITED(st) && WEXITSTATUS(st) == 0 && len == 0;
	}
	printf("%-18s %s (%s)\n", s->name, ok ? "ok" : "FAILED",
	       WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "exited");
	if (!ok) {
		fprintf(stderr, "FAIL %s: expected %s; child stderr:\n%s\n", s->name,
			s->rule ? s->rule : "silence and exit 0", out);
		failures++;
	}
}

int main(void)
{
	for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
		run(&scenarios[i]);
	if (failures) {
		fprintf(stderr, "test_rcu_misuse: %d failure(s)\n", failures);
		return 1;
	}
	printf("test_rcu_misuse (%s): ok\n", obq_rcu_backend());
	return 0;
}
