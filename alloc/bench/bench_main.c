/* bench_main.c — the case table, command line and JSON output shared by oblique's
 * bench programs (obq_bench, obq_bench_checked).
 *
 *   obq_bench [--rep N] [--quick] [--family a,b] [--only substr] [--case name] [--list] [--meta] [--bin NAME]
 *
 * Runs one repetition of every selected case, in an order shuffled by N, and prints
 * one JSON object per result on stdout (see bench.h).  Progress goes to stderr. */
#include "bench.h"

#include <math.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifndef BENCH_HAVE_OBQ
#define BENCH_HAVE_OBQ 0
#endif
#if BENCH_HAVE_OBQ
#include <oblique/rcu.h>
#endif

struct bench_opts bench_opt = { 0, 0, "main" };

#define MAX_CASES 512
static struct bench_case cases[MAX_CASES];
static size_t ncases;

void bench_register(const char *family, const char *name, void (*fn)(const void *),
		    const void *arg)
{
	if (ncases == MAX_CASES)
		BENCH_DIE("too many cases");
	cases[ncases++] = (struct bench_case){ family, name, fn, arg };
}

void bench_emit(const char *group, const char *impl, const char *metric, double value)
{
	if (!isfinite(value))
		value = -1;
	printf("{\"bin\":\"%s\",\"rep\":%d,\"group\":\"%s\",\"impl\":\"%s\",\"metric\":\"%s\",\"value\":%.6g}\n",
	       bench_opt.bin, bench_opt.rep, group, impl, metric, value);
	fflush(stdout);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double bench_percentile(double *v, size_t n, double pct)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof *v, cmp_double);
	double pos = pct / 100.0 * (double)(n - 1);
	size_t lo = (size_t)pos;
	if (lo + 1 >= n)
		return v[n - 1];
	double f = pos - (double)lo;
	return v[lo] * (1 - f) + v[lo + 1] * f;
}

double bench_median(double *v, size_t n)
{
	return bench_percentile(v, n, 50.0);
}

double bench_time_per_op(void (*fn)(void *arg, size_t n), void *arg, double target_ms)
{
	if (bench_opt.quick)
		target_ms /= 3;
	size_t n = 1000;
	for (;;) {
		uint64_t t0 = bench_now_ns();
		fn(arg, n);
		double ms = (double)(bench_now_ns() - t0) / 1e6;
		if (ms >= target_ms || n >= ((size_t)1 << 40))
			break;
		n = ms < target_ms / 16 ? n * 8 : n * 2;
	}
	double v[3];
	for (int k = 0; k < 3; k++) {
		uint64_t t0 = bench_now_ns();
		fn(arg, n);
		v[k] = (double)(bench_now_ns() - t0) / (double)n;
	}
	return bench_median(v, 3);
}

__attribute__((noinline)) void bench_instr_run(void (*fn)(void *arg), void *arg)
{
	fn(arg);
	BENCH_CLOBBER();
}

void bench_gate_init(struct bench_gate *g, int n)
{
	atomic_store(&g->arrived, 0);
	atomic_store(&g->go, 0);
	g->n = n;
}

void bench_gate_wait(struct bench_gate *g)
{
	/* seq_cst: simple and off every timed path. */
	if (atomic_fetch_add(&g->arrived, 1) + 1 == g->n)
		atomic_store(&g->go, 1);
	unsigned spins = 0;
	while (!atomic_load(&g->go))
		bench_spin(&spins);
}

/* One JSON object describing this program and the variant it was built against. */
static void print_meta(void)
{
	long mb = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0);
	int expedited = mb > 0 && (mb & MEMBARRIER_CMD_PRIVATE_EXPEDITED);
#if BENCH_HAVE_OBQ
	const char *backend = obq_rcu_backend();
	int checked = OBQ_CHECKED;
#else
	const char *backend = "none";
	int checked = -1;
#endif
	printf("{\"bin\":\"%s\",\"meta\":1,\"oblique\":%d,\"backend\":\"%s\",\"checked\":%d,"
	       "\"compiler\":\"%s\",\"membarrier_private_expedited\":%d,\"ncpu\":%ld}\n",
	       bench_opt.bin, BENCH_HAVE_OBQ, backend, checked,
#ifdef __clang__
	       "clang " __clang_version__,
#else
	       "gcc " __VERSION__,
#endif
	       expedited, sysconf(_SC_NPROCESSORS_ONLN));
}

static int in_list(const char *list, const char *word)
{
	if (!list)
		return 1;
	size_t wl = strlen(word);
	for (const char *p = list; *p;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == wl && strncmp(p, word, l) == 0)
			return 1;
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *families = NULL, *only = NULL, *exact = NULL;
	int list = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--rep") && i + 1 < argc)
			bench_opt.rep = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--quick"))
			bench_opt.quick = 1;
		else if (!strcmp(argv[i], "--family") && i + 1 < argc)
			families = argv[++i];
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "--case") && i + 1 < argc)
			exact = argv[++i];
		else if (!strcmp(argv[i], "--bin") && i + 1 < argc)
			bench_opt.bin = argv[++i];
		else if (!strcmp(argv[i], "--list"))
			list = 1;
		else if (!strcmp(argv[i], "--meta"))
			list = 2;
		else {
			fprintf(stderr, "usage: %s [--rep N] [--quick] [--family a,b] [--only substr] [--case name] [--list] [--meta] [--bin NAME]\n",
				argv[0]);
			return 2;
		}
	}
	size_t sel[MAX_CASES], nsel = 0;
	for (size_t i = 0; i < ncases; i++)
		if (in_list(families, cases[i].family) && (!only || strstr(cases[i].name, only)) &&
		    (!exact || !strcmp(cases[i].name, exact)))
			sel[nsel++] = i;
	if (list == 2) {
		print_meta();
		return 0;
	}
	if (list) {
		for (size_t i = 0; i < nsel; i++)
			printf("%s %s\n", cases[sel[i]].family, cases[sel[i]].name);
		return 0;
	}
	/* Shuffle within each family, seeded by the repetition, so no case always runs
	 * first, last or right after the same neighbour (families stay in table order). */
	uint64_t seed = 0x9e3779b97f4a7c15ull * (uint64_t)(bench_opt.rep + 1);
	size_t start = 0;
	while (start < nsel) {
		size_t end = start;
		while (end < nsel && !strcmp(cases[sel[end]].family, cases[sel[start]].family))
			end++;
		for (size_t k = end - 1; k > start; k--) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			size_t j = start + (size_t)((seed >> 33) % (k - start + 1));
			size_t t = sel[k];
			sel[k] = sel[j];
			sel[j] = t;
		}
		for (size_t k = start; k < end; k++) {
			const struct bench_case *c = &cases[sel[k]];
			fprintf(stderr, "  [%s rep %d] %s\n", bench_opt.bin, bench_opt.rep, c->name);
			c->fn(c->arg);
		}
		start = end;
	}
	return 0;
}
