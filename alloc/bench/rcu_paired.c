/* rcu_paired.c — synchronize latency of every RCU flavour measured pairwise: the same
 * reader threads run a read-side section of each flavour in turn, and the writer calls
 * each flavour's synchronize in turn (the first flavour rotating), so the samples of
 * oblique and of liburcu memb are taken microseconds apart under the same scheduling.
 * On a loaded 2-CPU machine a synchronize costs ~1 us when its readers are off-CPU and
 * ~20 us when one is running (membarrier IPIs), so unpaired cases can compare a lucky
 * run with an unlucky one; this one cannot.
 *
 * Groups: rcu.syncpair.Nr.p50 / .p99 (us), N = 1, 2 readers; impl = flavour. */
#include "bench.h"

#include <pthread.h>

#ifndef BENCH_HAVE_OBQ
#define BENCH_HAVE_OBQ 0
#endif

#define DECL(P)                                                                     \
	void P##_pair_register(void);                                               \
	void P##_pair_unregister(void);                                             \
	void P##_pair_section(void);                                                \
	void P##_pair_writer_begin(void);                                           \
	void P##_pair_writer_end(void);                                             \
	void P##_pair_sync(void);
DECL(memb)
DECL(qsbr)
DECL(ck)
#if BENCH_HAVE_OBQ
DECL(bobq)
#include <oblique/rcu.h>
#endif

struct flavour {
	const char *name;                /* impl column */
	void (*reg)(void);               /* reader thread registration */
	void (*unreg)(void);
	void (*section)(void);           /* one read-side section (+ quiescent state for qsbr) */
	void (*wbegin)(void);            /* writer setup (ck: its record) */
	void (*wend)(void);
	void (*sync)(void);              /* wait for a grace period */
};

#define FLAV(P, NAME) { NAME, P##_pair_register, P##_pair_unregister, P##_pair_section, \
			P##_pair_writer_begin, P##_pair_writer_end, P##_pair_sync }
static const struct flavour flavours[] = {
#if BENCH_HAVE_OBQ
	FLAV(bobq, "obq-" OBQ_RCU_BACKEND_NAME), /* the backend table's name */
#endif
	FLAV(memb, "urcu-memb"),
	FLAV(qsbr, "urcu-qsbr"),
	FLAV(ck, "ck-epoch"),
};
#define NFL (sizeof flavours / sizeof flavours[0])

struct preaders {
	atomic_int stop;          /* readers exit */
	struct bench_gate gate;   /* readers registered + writer */
};

static void *preader(void *arg)
{
	struct preaders *r = arg;
	for (size_t f = 0; f < NFL; f++)
		flavours[f].reg();
	bench_gate_wait(&r->gate);
	/* relaxed: the flag only ends the loop. */
	while (!atomic_load_explicit(&r->stop, memory_order_relaxed))
		for (int i = 0; i < 16; i++)
			for (size_t f = 0; f < NFL; f++)
				flavours[f].section();
	for (size_t f = 0; f < NFL; f++)
		flavours[f].unreg();
	return NULL;
}

static void syncpair_case(const void *arg)
{
	int nreaders = (int)(intptr_t)arg;
	size_t max = bench_opt.quick ? 300 : 1000;
	uint64_t budget = (bench_opt.quick ? 150 : 400) * 1000000ull;
	double *lat[NFL];
	for (size_t f = 0; f < NFL; f++)
		lat[f] = malloc(max * sizeof(double));
	struct preaders r;
	atomic_store(&r.stop, 0);
	bench_gate_init(&r.gate, nreaders + 1);
	pthread_t th[2];
	for (int i = 0; i < nreaders; i++)
		if (pthread_create(&th[i], NULL, preader, &r))
			BENCH_DIE("pthread_create");
	bench_gate_wait(&r.gate);
	for (size_t f = 0; f < NFL; f++)
		flavours[f].wbegin();
	for (size_t f = 0; f < NFL; f++)
		for (int i = 0; i < 10; i++)
			flavours[f].sync(); /* warm-up */
	size_t n = 0;
	uint64_t start = bench_now_ns();
	while (n < max && (n < 30 || bench_now_ns() - start < budget)) {
		for (size_t k = 0; k < NFL; k++) {
			size_t f = (n + k) % NFL;
			uint64_t t0 = bench_now_ns();
			flavours[f].sync();
			lat[f][n] = (double)(bench_now_ns() - t0) / 1000.0;
		}
		n++;
	}
	for (size_t f = 0; f < NFL; f++)
		flavours[f].wend();
	atomic_store(&r.stop, 1);
	for (int i = 0; i < nreaders; i++)
		pthread_join(th[i], NULL);
	char g[64];
	for (size_t f = 0; f < NFL; f++) {
		double p99 = bench_percentile(lat[f], n, 99.0);
		snprintf(g, sizeof g, "rcu.syncpair.%dr.p50", nreaders);
		bench_emit(g, flavours[f].name, "us", bench_median(lat[f], n));
		snprintf(g, sizeof g, "rcu.syncpair.%dr.p99", nreaders);
		bench_emit(g, flavours[f].name, "us", p99);
		free(lat[f]);
	}
}

__attribute__((constructor)) static void syncpair_register(void)
{
	bench_register("rcu", "rcu.syncpair.1r", syncpair_case, (void *)1);
	bench_register("rcu", "rcu.syncpair.2r", syncpair_case, (void *)2);
}
