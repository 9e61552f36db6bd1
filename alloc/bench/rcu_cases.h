/* rcu_cases.h — RCU benchmark bodies, instantiated once per flavour.
 *
 * Each rcu_<flavour>.c defines the macros below and then includes this file, so the
 * read side of every flavour is inlined into the same loop shape:
 *   FL_NAME              impl column ("obq-builtin", "urcu-memb", ...)
 *   FL_PREFIX(x)         unique names per flavour
 *   FL_REGISTER() / FL_UNREGISTER()   per-thread registration
 *   FL_READ_LOCK() / FL_READ_UNLOCK() / FL_DEREF(p)
 *   FL_READER_QS()       what a spinning reader does between sections (qsbr: report a
 *                        quiescent state; others: nothing)
 *   FL_SYNC()            wait for a grace period
 *   FL_WRITER_REGISTER() / FL_WRITER_UNREGISTER()  around a writer's synchronize
 *                        loop, for flavours whose synchronize needs a record (ck)
 *   FL_HAS_CALL, FL_HEAD_T, FL_CALL(h, fn), FL_BARRIER(), FL_HEAD_OF(h)
 *
 * Groups:
 *   rcu.read             ns per { read_lock; p = dereference(gp); sum += p->val; read_unlock }
 *   rcu.sync.Nr.p50/.p99 us per synchronize with N (0,1,2) readers spinning in sections
 *   rcu.call.Nr          M callbacks/s: N_CB call()s then one barrier(), N readers spinning
 *   rcu.call-enqueue.Nr  ns per call() (the enqueue alone, same run)
 * and exports FL_PREFIX(pair_*) for the paired synchronize case (rcu_paired.c). */
#include <pthread.h>

#ifndef FL_WRITER_REGISTER
#define FL_WRITER_REGISTER() ((void)0)
#define FL_WRITER_UNREGISTER() ((void)0)
#endif

struct FL_PREFIX(node) {
	unsigned long val;  /* what readers read */
};

static struct FL_PREFIX(node) FL_PREFIX(n0) = { 1 };
static struct FL_PREFIX(node) *FL_PREFIX(gp) = &FL_PREFIX(n0);
static volatile unsigned long FL_PREFIX(sink);

static __attribute__((noinline)) void FL_PREFIX(read_loop)(size_t n)
{
	unsigned long sum = 0;
	for (size_t i = 0; i < n; i++) {
		FL_READ_LOCK();
		struct FL_PREFIX(node) *p = FL_DEREF(FL_PREFIX(gp));
		sum += p->val;
		FL_READ_UNLOCK();
	}
	FL_PREFIX(sink) = sum;
}

static void FL_PREFIX(read_case)(const void *arg)
{
	(void)arg;
	size_t n = bench_iters(30000000u);
	FL_REGISTER();
	FL_PREFIX(read_loop)(n / 10);
	double v[3];
	for (int k = 0; k < 3; k++) {
		uint64_t t0 = bench_now_ns();
		FL_PREFIX(read_loop)(n);
		v[k] = (double)(bench_now_ns() - t0) / (double)n;
	}
	FL_UNREGISTER();
	bench_emit("rcu.read", FL_NAME, "ns", bench_median(v, 3));
}

static void FL_PREFIX(instr_body)(void *arg)
{
	FL_PREFIX(read_loop)((size_t)(uintptr_t)arg);
}

static void FL_PREFIX(instr_case)(const void *arg)
{
	(void)arg;
	FL_REGISTER();
	FL_PREFIX(read_loop)(1000); /* warm-up */
	bench_instr_run(FL_PREFIX(instr_body), (void *)(uintptr_t)100000);
	FL_UNREGISTER();
	bench_emit("instr.rcu.read", FL_NAME, "ops", 100000);
}

/* Spinning readers for the sync and call cases. */
struct FL_PREFIX(readers) {
	atomic_int stop;            /* 1: readers exit */
	struct bench_gate gate;     /* readers registered and running + the writer */
	pthread_t th[2];            /* the reader threads */
	int n;                      /* how many */
};

static void *FL_PREFIX(reader)(void *arg)
{
	struct FL_PREFIX(readers) *r = arg;
	unsigned long sum = 0;
	FL_REGISTER();
	bench_gate_wait(&r->gate);
	/* relaxed: the flag only ends the loop; nothing is published through it. */
	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		for (int i = 0; i < 64; i++) {
			FL_READ_LOCK();
			struct FL_PREFIX(node) *p = FL_DEREF(FL_PREFIX(gp));
			sum += p->val;
			FL_READ_UNLOCK();
			FL_READER_QS();
		}
	}
	FL_PREFIX(sink) = sum;
	FL_UNREGISTER();
	return NULL;
}

static void FL_PREFIX(readers_start)(struct FL_PREFIX(readers) *r, int n)
{
	atomic_store(&r->stop, 0);
	r->n = n;
	bench_gate_init(&r->gate, n + 1);
	for (int i = 0; i < n; i++)
		if (pthread_create(&r->th[i], NULL, FL_PREFIX(reader), r))
			BENCH_DIE("pthread_create");
	bench_gate_wait(&r->gate);
}

static void FL_PREFIX(readers_stop)(struct FL_PREFIX(readers) *r)
{
	atomic_store(&r->stop, 1);
	for (int i = 0; i < r->n; i++)
		pthread_join(r->th[i], NULL);
}

static void FL_PREFIX(sync_case)(const void *arg)
{
	int nreaders = (int)(intptr_t)arg;
	size_t max = bench_opt.quick ? 400 : 1500;
	uint64_t budget = (bench_opt.quick ? 80 : 250) * 1000000ull;
	double *lat = malloc(max * sizeof *lat);
	struct FL_PREFIX(readers) r;
	FL_PREFIX(readers_start)(&r, nreaders);
	FL_WRITER_REGISTER();
	for (int i = 0; i < 20; i++)
		FL_SYNC(); /* warm-up */
	size_t n = 0;
	uint64_t start = bench_now_ns();
	while (n < max && (n < 50 || bench_now_ns() - start < budget)) {
		uint64_t t0 = bench_now_ns();
		FL_SYNC();
		lat[n++] = (double)(bench_now_ns() - t0) / 1000.0;
	}
	FL_WRITER_UNREGISTER();
	FL_PREFIX(readers_stop)(&r);
	char g[64];
	double p99 = bench_percentile(lat, n, 99.0); /* sorts lat */
	snprintf(g, sizeof g, "rcu.sync.%dr.p50", nreaders);
	bench_emit(g, FL_NAME, "us", bench_median(lat, n));
	snprintf(g, sizeof g, "rcu.sync.%dr.p99", nreaders);
	bench_emit(g, FL_NAME, "us", p99);
	free(lat);
}

/* Entry points for the paired synchronize case (rcu_paired.c), which runs readers of
 * every flavour in the same threads and alternates the flavours' synchronize calls, so
 * each sample of one flavour has a sample of the other beside it, taken under the
 * same scheduling (on a loaded 2-CPU machine, whether a reader is on a CPU decides
 * between ~1 and ~20 us). */
void FL_PREFIX(pair_register)(void) { FL_REGISTER(); }
void FL_PREFIX(pair_unregister)(void) { FL_UNREGISTER(); }
__attribute__((noinline)) void FL_PREFIX(pair_section)(void)
{
	FL_READ_LOCK();
	struct FL_PREFIX(node) *p = FL_DEREF(FL_PREFIX(gp));
	FL_PREFIX(sink) += p->val;
	FL_READ_UNLOCK();
	FL_READER_QS();
}
void FL_PREFIX(pair_writer_begin)(void) { FL_WRITER_REGISTER(); }
void FL_PREFIX(pair_writer_end)(void) { FL_WRITER_UNREGISTER(); }
void FL_PREFIX(pair_sync)(void) { FL_SYNC(); }

#if FL_HAS_CALL
static atomic_ulong FL_PREFIX(cb_count);

static void FL_PREFIX(cb)(FL_HEAD_T *h)
{
	(void)h;
	/* relaxed: a counter read after the barrier, which orders it. */
	atomic_fetch_add_explicit(&FL_PREFIX(cb_count), 1, memory_order_relaxed);
}

static void FL_PREFIX(call_case)(const void *arg)
{
	int nreaders = (int)(intptr_t)arg;
	size_t n = 200000u; /* fixed, also in --quick: barrier cost is amortised over n */
	FL_HEAD_T *heads = calloc(n, sizeof *heads);
	struct FL_PREFIX(readers) r;
	FL_REGISTER();
	/* warm-up: start the backend's callback thread */
	atomic_store(&FL_PREFIX(cb_count), 0);
	for (size_t i = 0; i < 1000; i++)
		FL_CALL(&heads[i], FL_PREFIX(cb));
	FL_BARRIER();
	FL_PREFIX(readers_start)(&r, nreaders);
	atomic_store(&FL_PREFIX(cb_count), 0);
	uint64_t t0 = bench_now_ns();
	for (size_t i = 0; i < n; i++)
		FL_CALL(&heads[i], FL_PREFIX(cb));
	uint64_t t1 = bench_now_ns();
	FL_BARRIER();
	uint64_t t2 = bench_now_ns();
	FL_PREFIX(readers_stop)(&r);
	FL_UNREGISTER();
	if (atomic_load(&FL_PREFIX(cb_count)) != n)
		BENCH_DIE("%s: %lu callbacks ran after the barrier, expected %zu", FL_NAME,
			  (unsigned long)atomic_load(&FL_PREFIX(cb_count)), n);
	free(heads);
	char g[64];
	snprintf(g, sizeof g, "rcu.call.%dr", nreaders);
	bench_emit(g, FL_NAME, "Mops", (double)n / ((double)(t2 - t0) / 1000.0));
	snprintf(g, sizeof g, "rcu.call-enqueue.%dr", nreaders);
	bench_emit(g, FL_NAME, "ns", (double)(t1 - t0) / (double)n);
}
#endif

__attribute__((constructor)) static void FL_PREFIX(register_cases)(void)
{
	bench_register("rcu", "rcu.read/" FL_NAME, FL_PREFIX(read_case), NULL);
	bench_register("instr", "instr.rcu.read/" FL_NAME, FL_PREFIX(instr_case), NULL);
	bench_register("rcu", "rcu.sync.0r/" FL_NAME, FL_PREFIX(sync_case), (void *)0);
	bench_register("rcu", "rcu.sync.1r/" FL_NAME, FL_PREFIX(sync_case), (void *)1);
	bench_register("rcu", "rcu.sync.2r/" FL_NAME, FL_PREFIX(sync_case), (void *)2);
#if FL_HAS_CALL
	bench_register("rcu", "rcu.call.0r/" FL_NAME, FL_PREFIX(call_case), (void *)0);
	bench_register("rcu", "rcu.call.1r/" FL_NAME, FL_PREFIX(call_case), (void *)1);
#endif
}
