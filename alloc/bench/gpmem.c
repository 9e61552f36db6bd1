/* gpmem.c — how much memory waits for grace periods under a continuous stream of long,
 * overlapping readers (the perfbook hazard: if a grace period needed a moment with no
 * reader at all, overlapping readers would keep empty slabs from ever going back).
 *
 * Two reader threads each loop { obq_rcu_read_lock(); spin SECTION_US;
 * obq_rcu_read_unlock(); } and start half a section apart, so at every instant at
 * least one reader is inside a section.  The writer (this thread) churns a typesafe
 * cache: allocate ROUND objects (many slabs), free them all, obq_cache_shrink() so the
 * now-empty slabs are queued behind a grace period; it samples obq_cache_stats() after
 * every round.  Reported (group gpmem.*, impl obq-typesafe):
 *   peak_waiting_bytes      max over the run of slabs_waiting_gp * slab bytes
 *   peak_waiting_1st/2nd    the same max over the first and the second half of the run
 *   peak_mapped_bytes       max bytes_mapped (owned + waiting)
 *   round_bytes             bytes of slabs one round empties (ROUND objects)
 *   gps                     grace periods completed during the run (obq_rcu_gp_count)
 *   gp_ms                   mean grace-period length = run time / gps
 *   expect_bytes            what a bound of "two mean grace periods of churn + 2 rounds"
 *                           would allow (a yardstick: grace periods vary, the mean hides
 *                           the long ones)
 *   after_barrier_bytes     waiting bytes once readers stop and obq_rcu_barrier() returns
 *   backlog_max_bytes       the allocator's bound on memory waiting (obq_gp_backlog_max)
 *   helps                   releases the writer did itself after a grace period of its
 *                           own because the backlog would have passed that bound
 *   bounded                 1 if gps > 0, peak_waiting_2nd <= max(1.5*1st, 1st + 4 rounds)
 *                           and after_barrier_bytes == 0 (0: unbounded — an allocator/RCU bug:
 *                           memory that waits for grace periods growing with time) */
#include "bench.h"

#include <pthread.h>
#include <oblique/cache.h>
#include <oblique/rcu.h>
#include <oblique/thread.h>

#define OBJ_SIZE 256
#define ROUND 20000u
#define SECTION_US 1000u

struct gpm {
	atomic_int stop;            /* readers exit */
	struct bench_gate gate;     /* readers registered + writer */
	atomic_ulong sections;      /* read-side sections completed (both readers) */
};

static void spin_us(uint64_t us)
{
	uint64_t end = bench_now_ns() + us * 1000u;
	while (bench_now_ns() < end)
		bench_pause();
}

struct gpm_reader_arg {
	struct gpm *g;  /* shared state */
	int index;      /* 0 or 1: reader 1 starts half a section late */
};

static void *gpm_reader(void *arg)
{
	struct gpm_reader_arg *a = arg;
	struct gpm *g = a->g;
	obq_rcu_register_thread();
	bench_gate_wait(&g->gate);
	if (a->index)
		spin_us(SECTION_US / 2);
	/* relaxed: the flag only ends the loop. */
	while (!atomic_load_explicit(&g->stop, memory_order_relaxed)) {
		obq_rcu_read_lock();
		spin_us(SECTION_US);
		obq_rcu_read_unlock();
		atomic_fetch_add_explicit(&g->sections, 1, memory_order_relaxed);
	}
	obq_rcu_unregister_thread();
	obq_thread_exit();
	return NULL;
}

static size_t waiting_bytes(const struct obq_cache_stats *st)
{
	size_t slabs = st->slabs + st->slabs_waiting_gp;
	if (slabs == 0)
		return 0;
	return st->bytes_mapped / slabs * st->slabs_waiting_gp;
}

static void gpmem_case(const void *arg)
{
	(void)arg;
	const char *I = "obq-typesafe";
	double seconds = bench_opt.quick ? 1.0 : 2.5;
	const char *env_s = getenv("OBQ_BENCH_GPMEM_SECONDS"); /* longer runs (docs/benchmarks.md) */
	if (env_s && atof(env_s) > 0)
		seconds = atof(env_s);
	obq_cache_t *c = obq_cache_create("bench_gpmem", OBJ_SIZE, 0, OBQ_TYPESAFE_BY_RCU, NULL);
	if (!c)
		BENCH_DIE("obq_cache_create");
	void **arr = malloc(ROUND * sizeof *arr);
	struct gpm g;
	atomic_store(&g.stop, 0);
	atomic_store(&g.sections, 0);
	bench_gate_init(&g.gate, 3);
	pthread_t th[2];
	struct gpm_reader_arg ra[2] = { { &g, 0 }, { &g, 1 } };
	for (int i = 0; i < 2; i++)
		if (pthread_create(&th[i], NULL, gpm_reader, &ra[i]))
			BENCH_DIE("pthread_create");
	bench_gate_wait(&g.gate);

	struct obq_cache_stats st;
	size_t peak_wait[2] = { 0, 0 }, peak_mapped = 0, round_bytes = 0, rounds = 0;
	unsigned long gp0 = obq_rcu_gp_count();
	unsigned long helps0 = obq_gp_backlog_helps();
	uint64_t t0 = bench_now_ns(), dur = (uint64_t)(seconds * 1e9), now;
	while ((now = bench_now_ns()) - t0 < dur) {
		int half = (now - t0) * 2 >= dur;
		for (size_t i = 0; i < ROUND; i++) {
			arr[i] = obq_cache_alloc(c);
			if (!arr[i])
				BENCH_DIE("obq_cache_alloc: out of memory after %zu rounds", rounds);
			*(volatile uint64_t *)arr[i] = i;
		}
		obq_cache_stats(c, &st);
		if (st.bytes_mapped > peak_mapped)
			peak_mapped = st.bytes_mapped;
		if (!round_bytes && st.slabs)
			round_bytes = st.bytes_mapped / (st.slabs + st.slabs_waiting_gp) *
				      ((ROUND + st.objects_per_slab - 1) / st.objects_per_slab);
		for (size_t i = 0; i < ROUND; i++)
			obq_cache_free(c, arr[i]);
		obq_cache_shrink(c);
		obq_cache_stats(c, &st);
		size_t w = waiting_bytes(&st);
		if (w > peak_wait[half])
			peak_wait[half] = w;
		if (st.bytes_mapped > peak_mapped)
			peak_mapped = st.bytes_mapped;
		rounds++;
	}
	double elapsed = (double)(bench_now_ns() - t0) / 1e9;
	unsigned long gps = obq_rcu_gp_count() - gp0;
	unsigned long helps = obq_gp_backlog_helps() - helps0;
	atomic_store(&g.stop, 1);
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	obq_rcu_barrier();
	obq_cache_shrink(c);
	obq_rcu_barrier();
	obq_cache_stats(c, &st);
	size_t after = waiting_bytes(&st);
	unsigned long sections = atomic_load(&g.sections);
	double gp_ms = gps ? elapsed * 1000.0 / (double)gps : -1;
	/* churn: round_bytes per round; a slab waits about two grace periods at most
	 * (queued during one, released after the next completes) */
	double rounds_per_s = (double)rounds / elapsed;
	double bound = round_bytes * (rounds_per_s * 2.0 * (gp_ms > 0 ? gp_ms : 0) / 1000.0 + 2.0);
	size_t first = peak_wait[0], second = peak_wait[1];
	int bounded = gps > 0 && after == 0 &&
		      ((double)second <= 1.5 * (double)first || second <= first + 4 * round_bytes);
	free(arr);
	obq_cache_destroy(c);

	bench_emit("gpmem.section_us", I, "us", SECTION_US);
	bench_emit("gpmem.reader_sections", I, "count", (double)sections);
	bench_emit("gpmem.seconds", I, "s", elapsed);
	bench_emit("gpmem.rounds", I, "count", (double)rounds);
	bench_emit("gpmem.round_bytes", I, "bytes", (double)round_bytes);
	bench_emit("gpmem.gps", I, "count", (double)gps);
	bench_emit("gpmem.gp_ms", I, "ms", gp_ms);
	bench_emit("gpmem.peak_waiting_bytes", I, "bytes", (double)(first > second ? first : second));
	bench_emit("gpmem.peak_waiting_1st", I, "bytes", (double)first);
	bench_emit("gpmem.peak_waiting_2nd", I, "bytes", (double)second);
	bench_emit("gpmem.peak_mapped_bytes", I, "bytes", (double)peak_mapped);
	bench_emit("gpmem.expect_bytes", I, "bytes", bound);
	bench_emit("gpmem.after_barrier_bytes", I, "bytes", (double)after);
	bench_emit("gpmem.bounded", I, "bool", bounded);
	bench_emit("gpmem.backlog_max_bytes", I, "bytes", (double)obq_gp_backlog_max());
	bench_emit("gpmem.helps", I, "count", (double)helps);
}

__attribute__((constructor)) static void gpmem_register(void)
{
	bench_register("gpmem", "gpmem/obq-typesafe", gpmem_case, NULL);
}
