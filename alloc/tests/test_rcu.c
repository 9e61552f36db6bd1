/* test_rcu.c — unit tests of the RCU domain (obq_rcu_*), for every backend.
 *
 * builtin and urcu (real threads): a grace period waits for every pre-existing reader;
 * callbacks run after a grace period, never while a pre-existing reader is inside;
 * barrier waits for all callbacks; overlapping readers do not stall grace periods;
 * nesting, read_ongoing, gp_count and the backend name.
 * sim (one OS thread, virtual contexts switched by hand with obq_thread_switch): a
 * grace period never ends while a reader that was inside when it started is still
 * inside; callbacks need a full grace period; steps are deterministic.
 *
 * Arguments: none (ctest).  Exit 0 on success; every failed CHECK prints and counts. */
#include <oblique/oblique.h>
#include <oblique/testing.h> /* the sim backend's stepping API */

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int failures;

#define CHECK(name, expr)                                                              \
	do {                                                                           \
		if (!(expr)) {                                                         \
			fprintf(stderr, "FAIL %s:%d: %s: %s\n", __FILE__, __LINE__, name, #expr); \
			failures++;                                                    \
		}                                                                      \
	} while (0)

#define container_of(p, T, m) ((T *)((char *)(p) - offsetof(T, m)))

/* The backend CMake built this test for (rcu_tests.cmake passes the name it gave
 * obq_add_library): the table feeds both, and they must agree. */
static const char *expected_backend(void)
{
	return OBQ_TEST_EXPECT_BACKEND;
}

static void test_backend_name(void)
{
	CHECK("backend", strcmp(obq_rcu_backend(), expected_backend()) == 0);
}

static void test_nesting(void)
{
	CHECK("not ongoing before", !obq_rcu_read_ongoing());
	obq_rcu_read_lock();
	CHECK("ongoing depth 1", obq_rcu_read_ongoing());
	obq_rcu_read_lock();
	obq_rcu_read_lock();
	CHECK("ongoing depth 3", obq_rcu_read_ongoing());
	obq_rcu_read_unlock();
	obq_rcu_read_unlock();
	CHECK("ongoing depth 1 after nested unlocks", obq_rcu_read_ongoing());
	obq_rcu_read_unlock();
	CHECK("not ongoing after", !obq_rcu_read_ongoing());
}

static void test_gp_count(void)
{
	unsigned long before = obq_rcu_gp_count();
	obq_rcu_synchronize();
	unsigned long mid = obq_rcu_gp_count();
	obq_rcu_synchronize();
	unsigned long after = obq_rcu_gp_count();
	CHECK("gp_count grows", mid > before && after > mid);
}

/* Callbacks counting their runs. */
static _Atomic unsigned long cb_runs;

struct counted {
	struct obq_rcu_head rcu;   /* queued */
	unsigned long tag;         /* unused payload */
};

static void count_cb(struct obq_rcu_head *h)
{
	struct counted *c = container_of(h, struct counted, rcu);
	(void)c->tag;
	atomic_fetch_add_explicit(&cb_runs, 1, memory_order_relaxed); /* a counter */
}

static void test_barrier_counts(unsigned n)
{
	struct counted *v = calloc(n, sizeof *v);
	atomic_store(&cb_runs, 0);
	for (unsigned i = 0; i < n; i++)
		obq_rcu_call(&v[i].rcu, count_cb);
	obq_rcu_barrier();
	CHECK("barrier: every callback ran", atomic_load(&cb_runs) == n);
	obq_rcu_barrier(); /* an idle barrier returns */
	CHECK("barrier: no callback ran twice", atomic_load(&cb_runs) == n);
	free(v);
}

#if OBQ_RCU_BACKEND != OBQ_RCU_SIM
/* ================================ real threads ================================ */

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* A reader that enters a section, says so, stays 100 ms, sets `left` and unlocks. */
static _Atomic int reader_inside, reader_left;

static void *holding_reader(void *arg)
{
	(void)arg;
	obq_rcu_register_thread();
	obq_rcu_read_lock();
	atomic_store(&reader_inside, 1);
	sleep_ms(100);
	atomic_store(&reader_left, 1);
	obq_rcu_read_unlock();
	obq_rcu_unregister_thread();
	return NULL;
}

static void test_gp_waits_for_reader(void)
{
	pthread_t th;
	atomic_store(&reader_inside, 0);
	atomic_store(&reader_left, 0);
	pthread_create(&th, NULL, holding_reader, NULL);
	while (!atomic_load(&reader_inside))
		sleep_ms(1);
	obq_rcu_synchronize();
	CHECK("synchronize waited for the pre-existing reader", atomic_load(&reader_left) == 1);
	pthread_join(th, NULL);
}

/* The callback records whether the reader that was inside at call time had left. */
static _Atomic int cb_saw_reader_left = -1;

static void gp_cb(struct obq_rcu_head *h)
{
	(void)h;
	atomic_store(&cb_saw_reader_left, atomic_load(&reader_left));
}

static void test_callback_after_gp(void)
{
	static struct obq_rcu_head head;
	pthread_t th;
	atomic_store(&reader_inside, 0);
	atomic_store(&reader_left, 0);
	atomic_store(&cb_saw_reader_left, -1);
	pthread_create(&th, NULL, holding_reader, NULL);
	while (!atomic_load(&reader_inside))
		sleep_ms(1);
	obq_rcu_call(&head, gp_cb);
	obq_rcu_barrier();
	CHECK("callback ran", atomic_load(&cb_saw_reader_left) != -1);
	CHECK("callback ran after the pre-existing reader left",
	      atomic_load(&cb_saw_reader_left) == 1);
	pthread_join(th, NULL);
}

/* Readers with continuously overlapping sections: at any time at least one of them is
 * inside a section, yet grace periods must keep completing. */
static _Atomic int overlap_stop;
static _Atomic unsigned long overlap_sections;
static _Atomic int overlap_started;   /* readers that finished a first section */

static void *overlapping_reader(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	unsigned long n = 0;
	obq_rcu_register_thread();
	while (!atomic_load_explicit(&overlap_stop, memory_order_relaxed)) {
		obq_rcu_read_lock();
		seed = seed * 1103515245u + 12345u;
		for (volatile unsigned i = 0; i < (seed >> 20) % 512; i++) {
		}
		obq_rcu_read_unlock();
		if (n++ == 0)
			atomic_fetch_add(&overlap_started, 1);
	}
	obq_rcu_unregister_thread();
	atomic_fetch_add(&overlap_sections, n);
	return NULL;
}

static void test_overlapping_readers(void)
{
	enum { READERS = 3, GPS = 100 };
	pthread_t th[READERS];
	atomic_store(&overlap_stop, 0);
	atomic_store(&overlap_sections, 0);
	atomic_store(&overlap_started, 0);
	for (int i = 0; i < READERS; i++)
		pthread_create(&th[i], NULL, overlapping_reader, (void *)(uintptr_t)(i + 1));
	/* Wait (bounded) until every reader is reading: on a loaded machine threads may
	 * take long to be scheduled, and the test is about grace periods under readers. */
	for (int w = 0; w < 20000 && atomic_load(&overlap_started) < READERS; w++)
		sleep_ms(1);
	unsigned long before = obq_rcu_gp_count();
	double t0 = now_s();
	for (int i = 0; i < GPS; i++)
		obq_rcu_synchronize();
	double dt = now_s() - t0;
	atomic_store(&overlap_stop, 1);
	for (int i = 0; i < READERS; i++)
		pthread_join(th[i], NULL);
	CHECK("overlapping readers: 100 grace periods completed",
	      obq_rcu_gp_count() - before >= GPS);
	CHECK("overlapping readers: within 30 s (a stall would never end)", dt < 30.0);
	CHECK("overlapping readers actually read", atomic_load(&overlap_sections) > 0);
	printf("overlapping readers: %d grace periods in %.3f s (%.1f us each), %lu sections\n",
	       GPS, dt, dt * 1e6 / GPS, atomic_load(&overlap_sections));
}

/* Publish / retire under readers (what TSan must see as race-free without a suppression
 * file): readers load the published object and read its plain fields inside a section;
 * the writer swaps in a new object and, after a grace period (synchronize, or a
 * callback), writes the old object's plain fields as a free would. */
struct pub {
	struct obq_rcu_head rcu;   /* for the callback variant */
	long a, b;                 /* b == a * a while published; plain fields */
};

static struct pub *_Atomic published;
static _Atomic int pub_stop;
static _Atomic unsigned long pub_bad, pub_reads, pub_live;

static void *pub_reader(void *arg)
{
	(void)arg;
	unsigned long bad = 0, reads = 0;
	obq_rcu_register_thread();
	while (!atomic_load_explicit(&pub_stop, memory_order_relaxed)) {
		obq_rcu_read_lock();
		struct pub *p = atomic_load_explicit(&published, memory_order_acquire);
		if (p->b != p->a * p->a)
			bad++;
		reads++;
		obq_rcu_read_unlock();
		atomic_fetch_add_explicit(&pub_live, 1, memory_order_relaxed); /* progress only */
	}
	obq_rcu_unregister_thread();
	atomic_fetch_add(&pub_bad, bad);
	atomic_fetch_add(&pub_reads, reads);
	return NULL;
}

static void retire_cb(struct obq_rcu_head *h)
{
	struct pub *p = container_of(h, struct pub, rcu);
	p->a = -1; /* "poison", as a free would */
	p->b = 7;
	free(p);
}

static void test_publish_retire(void)
{
	enum { READERS = 2, ROUNDS = 300 };
	pthread_t th[READERS];
	struct pub *p = calloc(1, sizeof *p);
	p->a = 1;
	p->b = 1;
	atomic_store(&published, p);
	atomic_store(&pub_stop, 0);
	for (int i = 0; i < READERS; i++)
		pthread_create(&th[i], NULL, pub_reader, NULL);
	atomic_store(&pub_live, 0);
	while (atomic_load(&pub_live) < READERS) /* readers are running */
		sleep_ms(1);
	for (long i = 2; i < ROUNDS; i++) {
		unsigned long live = atomic_load_explicit(&pub_live, memory_order_relaxed);
		for (int w = 0; w < 100 && atomic_load_explicit(&pub_live, memory_order_relaxed) == live; w++)
			sched_yield(); /* let readers meet this object */
		struct pub *n = calloc(1, sizeof *n);
		n->a = i;
		n->b = i * i;
		struct pub *old = atomic_exchange_explicit(&published, n, memory_order_acq_rel);
		if (i % 2) {
			obq_rcu_synchronize();
			old->a = -1; /* plain writes after the grace period */
			old->b = 7;
			free(old);
		} else {
			obq_rcu_call(&old->rcu, retire_cb);
		}
	}
	atomic_store(&pub_stop, 1);
	for (int i = 0; i < READERS; i++)
		pthread_join(th[i], NULL);
	obq_rcu_barrier();
	free(atomic_load(&published));
	CHECK("publish/retire: readers never saw a retired object", atomic_load(&pub_bad) == 0);
	CHECK("publish/retire: readers read", atomic_load(&pub_reads) > 0);
}

/* Concurrent callers of call + barrier from several threads. */
static void *caller_thread(void *arg)
{
	struct counted *v = arg;
	obq_rcu_register_thread();
	for (unsigned i = 0; i < 5000; i++)
		obq_rcu_call(&v[i].rcu, count_cb);
	obq_rcu_barrier();
	obq_rcu_unregister_thread();
	return NULL;
}

static void test_concurrent_calls(void)
{
	enum { T = 3 };
	pthread_t th[T];
	struct counted *v = calloc(T * 5000, sizeof *v);
	atomic_store(&cb_runs, 0);
	for (int i = 0; i < T; i++)
		pthread_create(&th[i], NULL, caller_thread, v + i * 5000);
	for (int i = 0; i < T; i++)
		pthread_join(th[i], NULL);
	obq_rcu_barrier();
	CHECK("concurrent calls: all callbacks ran", atomic_load(&cb_runs) == T * 5000);
	free(v);
}

int main(void)
{
	obq_rcu_register_thread();
	test_backend_name();
	test_nesting();
	test_gp_count();
	test_gp_waits_for_reader();
	test_callback_after_gp();
	test_barrier_counts(10000);
	test_concurrent_calls();
	test_publish_retire();
	test_overlapping_readers();
	obq_rcu_unregister_thread();
	if (failures) {
		fprintf(stderr, "test_rcu: %d failure(s)\n", failures);
		return 1;
	}
	printf("test_rcu (%s): ok\n", obq_rcu_backend());
	return 0;
}

#else
/* ============================ sim: virtual contexts ============================ */

static _Atomic int sim_cb_ran;

static void sim_cb(struct obq_rcu_head *h)
{
	(void)h;
	atomic_fetch_add(&sim_cb_ran, 1);
}

/* Run the GP machine until it has nothing to do; return the steps in order. */
static size_t drain(enum obq_sim_step *log, size_t max)
{
	size_t n = 0;
	while (obq_sim_can_step() && n < max) {
		enum obq_sim_step s = obq_sim_step();
		log[n++] = s;
	}
	return n;
}

/* One scenario, returning a trace string so two runs can be compared. */
static void scenario(char *trace, size_t cap)
{
	size_t len = 0;
#define T(...) (len += (size_t)snprintf(trace + len, cap - len, __VA_ARGS__))
	obq_sim_reset();
	struct obq_thread *a = obq_thread_new(), *b = obq_thread_new();
	struct obq_thread *main_ctx = obq_thread_switch(a);
	obq_rcu_register_thread();
	obq_thread_switch(b);
	obq_rcu_register_thread();

	/* a enters a section before any grace period is requested. */
	obq_thread_switch(a);
	obq_rcu_read_lock();
	unsigned long a_start = obq_sim_reader_start_seq(a);
	T("a-in@%lu ", a_start);

	/* b queues a callback: this requests a grace period. */
	static struct obq_rcu_head head;
	obq_thread_switch(b);
	atomic_store(&sim_cb_ran, 0);
	obq_rcu_call(&head, sim_cb);
	CHECK("sim: callback pending", obq_sim_callbacks_pending() == 1);
	CHECK("sim: can step (start GP)", obq_sim_can_step());
	enum obq_sim_step s = obq_sim_step();
	T("step=%d ", (int)s);
	CHECK("sim: GP started", s == OBQ_SIM_GP_STARTED && obq_sim_gp_in_progress());

	/* The GP must not end while a is inside: nothing can step. */
	unsigned long seq = obq_sim_gp_seq();
	CHECK("sim: GP blocked by pre-existing reader", !obq_sim_can_step());
	CHECK("sim: step does nothing", obq_sim_step() == OBQ_SIM_NOTHING);
	CHECK("sim: no GP ended under the reader", obq_sim_gp_seq() == seq);
	CHECK("sim: callback not run under the reader", atomic_load(&sim_cb_ran) == 0);

	/* b enters a section after the GP started: it must not block the GP. */
	obq_thread_switch(b);
	obq_rcu_read_lock();
	T("b-in@%lu ", obq_sim_reader_start_seq(b));

	/* a leaves: the GP can end although b is inside (b began after it started). */
	obq_thread_switch(a);
	obq_rcu_read_unlock();
	CHECK("sim: can step after the reader left", obq_sim_can_step());
	s = obq_sim_step();
	T("step=%d ", (int)s);
	CHECK("sim: GP ended", s == OBQ_SIM_GP_ENDED && obq_sim_gp_seq() == seq + 1);
	CHECK("sim: no GP in progress after it ended", obq_sim_gp_in_progress() == 0);
	s = obq_sim_step();
	T("step=%d ", (int)s);
	CHECK("sim: callback ran after the GP", s == OBQ_SIM_CALLBACK_RAN &&
	      atomic_load(&sim_cb_ran) == 1 && obq_sim_callbacks_pending() == 0);

	/* A GP that starts while b is inside waits for b. */
	obq_thread_switch(a);
	obq_rcu_call(&head, sim_cb);
	s = obq_sim_step();
	CHECK("sim: second GP started", s == OBQ_SIM_GP_STARTED);
	CHECK("sim: second GP blocked by b", !obq_sim_can_step());
	obq_thread_switch(b);
	obq_rcu_read_unlock();
	enum obq_sim_step log[16];
	size_t n = drain(log, 16);
	for (size_t i = 0; i < n; i++)
		T("%d", (int)log[i]);
	CHECK("sim: second GP ended and callback ran", atomic_load(&sim_cb_ran) == 2);
	T(" gp=%lu", obq_sim_gp_seq());

	/* Without a scheduler, synchronize and barrier drive the machine themselves. */
	unsigned long g = obq_sim_gp_seq();
	obq_rcu_synchronize();
	CHECK("sim: synchronize drove a GP", obq_sim_gp_seq() >= g + 1);
	obq_rcu_call(&head, sim_cb);
	obq_rcu_barrier();
	CHECK("sim: barrier ran the callback", atomic_load(&sim_cb_ran) == 3);

	obq_thread_switch(a);
	obq_rcu_unregister_thread();
	obq_thread_switch(b);
	obq_rcu_unregister_thread();
	obq_thread_switch(main_ctx);
	obq_thread_delete(a);
	obq_thread_delete(b);
#undef T
}

int main(void)
{
	test_backend_name();
	obq_rcu_register_thread();
	test_nesting();
	test_gp_count();
	test_barrier_counts(1000);
	obq_rcu_unregister_thread();

	/* Autostep: with no reader inside, a call's GP and callback complete at once. */
	static struct obq_rcu_head ah;
	obq_sim_reset();
	obq_sim_set_autostep(1);
	atomic_store(&sim_cb_ran, 0);
	obq_rcu_call(&ah, sim_cb);
	CHECK("sim autostep: callback ran at the call's scheduling point",
	      atomic_load(&sim_cb_ran) == 1 && obq_sim_gp_seq() == 1);
	obq_sim_set_autostep(0);

	char t1[512], t2[512];
	scenario(t1, sizeof t1);
	scenario(t2, sizeof t2);
	printf("sim trace: %s\n", t1);
	CHECK("sim: deterministic", strcmp(t1, t2) == 0);
	if (failures) {
		fprintf(stderr, "test_rcu: %d failure(s)\n", failures);
		return 1;
	}
	printf("test_rcu (%s): ok\n", obq_rcu_backend());
	return 0;
}
#endif
