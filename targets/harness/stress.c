/* stress.c — stress mode: the same target bodies on real pthreads over the builtin RCU.
 *
 *   <target>-stress [--threads N] [--seconds S] [--seed X] [--quiet] [FILE|DIR]...
 *
 * Each input (raw bytes or .trace) is decoded as in deterministic mode; thread i
 * loops over the operations of program thread i % threads (random operations with
 * random arguments when it has none, or when no input is given) until its share of
 * --seconds is spent.  The library is the `oblique` variant (OBQ_SCHED_POINTS=0), so
 * the scheduling points of the deterministic mode do not exist here: instead the
 * harness perturbs timing, seeded per thread, in the spirit of rcutorture's delays —
 *   - before every operation and at every obq_h_point() / obq_h_retry() /
 *     obq_h_alloc() / obq_h_free(): 1/8 sched_yield, 1/8 a spin of up to 256 pauses,
 *     1/128 a sleep of 1-64 us;
 * so a target that wants a window widened inside an operation calls obq_h_point().
 * A retry loop that calls obq_h_retry() a million times in one operation is a
 * "livelock" report.  Any report prints the report, then the last operations each
 * thread ran (newest last), and aborts.  A progress line per second and a summary
 * with the event counters (a run whose counters stay at zero tested nothing). */
#define _GNU_SOURCE
#include "hint.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_STRESS_THREADS 16
#define RING 16

struct sthread {
	obq_h_t pub;                          /* the target's view; first member */
	pthread_t th;                         /* the OS thread */
	uint64_t rng;                         /* perturbation / random-op PRNG */
	const struct prog_op *ops;            /* operations to loop over (NULL: random) */
	unsigned nops;                        /* how many */
	_Atomic unsigned long nrun;           /* operations run (read by the progress line) */
	_Atomic unsigned events[OBQ_EV_COUNT];/* event counts */
	unsigned long retries;                /* obq_h_retry calls in the current operation */
	struct prog_op ring[RING];            /* last operations run */
	_Atomic unsigned long ring_n;         /* operations ever put into ring */
};

static const struct obq_h_target *tg;
static struct sthread threads[MAX_STRESS_THREADS];
static unsigned nthreads;
static obq_h_t mainview;
static struct obq_h_cache *caches;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int stop_flag;
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long total_events[OBQ_EV_COUNT];
static unsigned long total_ops;

static void perturb(struct sthread *s)
{
	uint64_t r = prng_next(&s->rng);
	switch (r & 7) {
	case 0:
		sched_yield();
		break;
	case 1: {
		unsigned n = (unsigned)(r >> 8) & 255;
		for (unsigned i = 0; i < n; i++)
			__asm__ volatile("" ::: "memory");
		break;
	}
	default:
		break;
	}
	if (((r >> 16) & 127) == 0) {
		struct timespec ts = {0, (long)(1 + ((r >> 24) & 63)) * 1000};
		nanosleep(&ts, NULL);
	}
}

static struct sthread *self_of(obq_h_t *t)
{
	return t->tid == OBQ_H_MAIN ? NULL : (struct sthread *)t;
}

static void print_ops(FILE *f)
{
	for (unsigned i = 0; i < nthreads; i++) {
		struct sthread *s = &threads[i];
		unsigned long n = atomic_load_explicit(&s->ring_n, memory_order_relaxed);
		fprintf(f, "  thread %u ran %lu operation(s); the last %lu, oldest first:\n", i, n,
			n < RING ? n : RING);
		unsigned long from = n > RING ? n - RING : 0;
		for (unsigned long k = from; k < n; k++) {
			const struct prog_op *o = &s->ring[k % RING];
			fprintf(f, "    %s", tg->ops[o->opcode].name);
			for (unsigned a = 0; a < tg->ops[o->opcode].nargs; a++)
				fprintf(f, " %u", o->arg[a]);
			fprintf(f, "%s\n", k + 1 == n ? "   <- current" : "");
		}
	}
	fprintf(f, "  (turn these columns into a deterministic program with obq-trace encode to "
		   "search its schedules)\n");
}

static __thread enum obq_error_kind expect_kind; /* obq_h_expect on this thread */
static __thread unsigned expect_hits;            /* expected reports seen */

void obq_h_expect(obq_h_t *t, enum obq_error_kind kind)
{
	(void)t;
	expect_kind = kind;
	expect_hits = 0;
}

unsigned obq_h_expect_end(obq_h_t *t)
{
	(void)t;
	unsigned n = expect_hits;
	expect_kind = OBQ_ERR_NONE;
	return n;
}

static void err_hook(const struct obq_error *e, void *arg)
{
	(void)arg;
	if (expect_kind != OBQ_ERR_NONE && e->kind == expect_kind) {
		expect_hits++;
		return;
	}
	pthread_mutex_lock(&report_lock);
	fprintf(stderr, "%s", e->message);
	fprintf(stderr, "==oblique== stress: target %s, %u threads; operations per thread:\n",
		tg ? tg->name : "?", nthreads);
	print_ops(stderr);
	fflush(stderr);
	abort();
}

/* ------------------------------------------------------------------ API */

void obq_h_fail(obq_h_t *t, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	obq_error_report(OBQ_H_ERR_ORACLE, NULL, NULL, "  target %s (stress), thread %s%u: %s\n",
			 tg->name, t->tid == OBQ_H_MAIN ? "main " : "T",
			 t->tid == OBQ_H_MAIN ? 0 : t->tid, msg);
}

void obq_h_observe(obq_h_t *t, uint64_t value)
{
	(void)t;
	(void)value;
}

void obq_h_event(obq_h_t *t, enum obq_h_event ev)
{
	struct sthread *s = self_of(t);
	if (s && (unsigned)ev < OBQ_EV_COUNT)
		atomic_fetch_add_explicit(&s->events[ev], 1, memory_order_relaxed);
}

int obq_h_pin(obq_h_t *t, int ok)
{
	if (!ok)
		obq_h_event(t, OBQ_EV_PIN_FAILED);
	return ok != 0;
}

void obq_h_point(obq_h_t *t)
{
	struct sthread *s = self_of(t);
	if (s)
		perturb(s);
}

void obq_h_retry(obq_h_t *t)
{
	struct sthread *s = self_of(t);
	obq_h_event(t, OBQ_EV_RETRY);
	if (!s)
		return;
	if (++s->retries > 1000000)
		obq_error_report(OBQ_H_ERR_LIVELOCK, NULL, NULL,
				 "  livelock: thread T%u retried one operation a million times\n",
				 t->tid);
	perturb(s);
}

void h_adapter_point(obq_h_t *t, enum obq_sp_kind kind, const void *obj);
void h_adapter_point(obq_h_t *t, enum obq_sp_kind kind, const void *obj)
{
	(void)kind;
	(void)obj;
	obq_h_point(t);
}

void h_note_released(void);
void h_note_released(void)
{
}

struct obq_h_cache **h_run_caches(void);
struct obq_h_cache **h_run_caches(void)
{
	/* caches are created in setup (main thread), before the workers start */
	return &caches;
}

int obq_h_fuzz_one(const struct obq_h_target *t, const uint8_t *data, size_t size)
{
	(void)t;
	(void)data;
	(void)size;
	return 0;
}

int obq_h_fuzz_init(const struct obq_h_target *t, int *argc, char ***argv)
{
	(void)t;
	(void)argc;
	(void)argv;
	return 0;
}

/* ------------------------------------------------------------------ workers */

static void *worker(void *arg)
{
	struct sthread *s = arg;
	obq_rcu_register_thread();
	unsigned k = 0;
	while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
		struct prog_op o;
		if (s->ops) {
			o = s->ops[k];
			k = (k + 1) % s->nops;
		} else {
			uint64_t r = prng_next(&s->rng);
			o.opcode = (uint8_t)(r % tg->nops);
			for (unsigned a = 0; a < OBQ_H_MAX_ARGS; a++)
				o.arg[a] = (uint8_t)(r >> (8 + 8 * a));
		}
		unsigned long n = atomic_load_explicit(&s->ring_n, memory_order_relaxed);
		s->ring[n % RING] = o;
		atomic_store_explicit(&s->ring_n, n + 1, memory_order_relaxed);
		perturb(s);
		s->retries = 0;
		tg->ops[o.opcode].fn(&s->pub, o.arg);
		if (obq_rcu_read_ongoing())
			obq_h_fail(&s->pub, "operation '%s' returned inside an RCU read-side section",
				   tg->ops[o.opcode].name);
		atomic_fetch_add_explicit(&s->nrun, 1, memory_order_relaxed);
	}
	obq_rcu_unregister_thread();
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int run_program(const struct program *p, unsigned nthr, double seconds, uint64_t seed,
		       int quiet, const char *label)
{
	void *state = calloc(1, tg->state_size ? tg->state_size : 1);
	nthreads = nthr;
	mainview = (obq_h_t){.run = NULL, .state = state, .tid = OBQ_H_MAIN, .nthreads = nthr,
			     .type_stable = 1, .stress = 1};
	if (tg->setup)
		tg->setup(&mainview);
	atomic_store(&stop_flag, 0);
	for (unsigned i = 0; i < nthr; i++) {
		struct sthread *s = &threads[i];
		memset(&s->pub, 0, sizeof s->pub);
		s->pub = (obq_h_t){.run = NULL, .state = state, .tid = i, .nthreads = nthr,
				   .type_stable = 1, .stress = 1};
		s->rng = seed * 0x9e3779b97f4a7c15ull + i + 1;
		unsigned pt = p ? i % p->nthreads : 0;
		s->ops = p && p->nops[pt] ? p->ops[pt] : NULL;
		s->nops = p ? p->nops[pt] : 0;
		atomic_store(&s->nrun, 0);
		atomic_store(&s->ring_n, 0);
		for (unsigned e = 0; e < OBQ_EV_COUNT; e++)
			atomic_store(&s->events[e], 0);
		if (pthread_create(&s->th, NULL, worker, s) != 0) {
			perror("pthread_create");
			exit(2);
		}
	}
	double t0 = now_s(), next = t0 + 1.0;
	for (;;) {
		double t = now_s();
		if (t - t0 >= seconds)
			break;
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
		if (!quiet && t >= next) {
			unsigned long ops = 0;
			for (unsigned i = 0; i < nthr; i++)
				ops += atomic_load_explicit(&threads[i].nrun, memory_order_relaxed);
			fprintf(stderr, "stress %s %s: %.0fs %lu ops, %lu gp\n", tg->name, label, t - t0,
				ops, obq_rcu_gp_count());
			next += 1.0;
		}
	}
	atomic_store(&stop_flag, 1);
	for (unsigned i = 0; i < nthr; i++) {
		pthread_join(threads[i].th, NULL);
		total_ops += atomic_load(&threads[i].nrun);
		for (unsigned e = 0; e < OBQ_EV_COUNT; e++)
			total_events[e] += atomic_load(&threads[i].events[e]);
	}
	if (tg->final)
		tg->final(&mainview);
	if (tg->teardown)
		tg->teardown(&mainview);
	pthread_mutex_lock(&cache_lock);
	h_caches_destroy_all(&caches);
	pthread_mutex_unlock(&cache_lock);
	/* Destroy must have waited for the grace-period work it queued on its caches: run
	 * whatever is still pending now, so a callback left on a freed cache runs while
	 * the process is still here (ASan: heap-use-after-free) instead of never. */
	obq_rcu_barrier();
	free(state);
	return 0;
}

static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: %s-stress [--threads N] [--seconds S] [--seed X] [--quiet] "
			"[FILE|DIR]...\n", tg->name);
	return 2;
}

int obq_h_main(const struct obq_h_target *target, int argc, char **argv)
{
	tg = target;
	unsigned nthr = 0;
	double seconds = 2.0;
	uint64_t seed = 1;
	int quiet = 0;
	char *inputs[4096];
	size_t ninputs = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--threads") == 0 && i + 1 < argc)
			nthr = (unsigned)atoi(argv[++i]);
		else if (strcmp(a, "--seconds") == 0 && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (strcmp(a, "--seed") == 0 && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (strcmp(a, "--quiet") == 0)
			quiet = 1;
		else if (a[0] == '-')
			return usage();
		else {
			struct stat st;
			if (stat(a, &st) < 0) {
				fprintf(stderr, "%s: %s\n", a, strerror(errno));
				return 2;
			}
			if (S_ISDIR(st.st_mode)) {
				DIR *d = opendir(a);
				struct dirent *e;
				while (d && (e = readdir(d)) && ninputs < 4096) {
					if (e->d_name[0] == '.' || ends_with(e->d_name, ".dict") ||
					    ends_with(e->d_name, ".options") || ends_with(e->d_name, ".md") ||
		    strcmp(e->d_name, "RULE") == 0 || strncmp(e->d_name, "README", 6) == 0)
						continue;
					char buf[4096];
					snprintf(buf, sizeof buf, "%s/%s", a, e->d_name);
					struct stat s2;
					if (stat(buf, &s2) == 0 && S_ISREG(s2.st_mode))
						inputs[ninputs++] = strdup(buf);
				}
				if (d)
					closedir(d);
			} else if (ninputs < 4096) {
				inputs[ninputs++] = strdup(a);
			}
		}
	}
	if (nthr > MAX_STRESS_THREADS || seconds <= 0)
		return usage();
	h_register_verdicts();
	obq_set_error_hook(err_hook, NULL);
	h_adapter_set(&obq_h_allocator_oblique);
	static struct program p;
	double per = ninputs ? seconds / (double)ninputs : seconds;
	if (per < 0.02)
		per = 0.02;
	if (!quiet)
		fprintf(stderr, "stress %s: %zu input(s), %.2fs each, seed %llu, RCU %s\n", tg->name,
			ninputs, per, (unsigned long long)seed, obq_rcu_backend());
	if (ninputs == 0) {
		run_program(NULL, nthr ? nthr : 2, per, seed, quiet, "(random ops)");
	}
	for (size_t k = 0; k < ninputs; k++) {
		size_t n;
		int tr;
		uint8_t *d = h_load_input(tg, inputs[k], &n, &tr);
		if (!d)
			return 2;
		prog_decode(tg, d, n, &p);
		free(d);
		run_program(&p, nthr ? nthr : p.nthreads, per, seed + k, quiet, inputs[k]);
		free(inputs[k]);
	}
	printf("stress %s: %lu operations, %lu grace periods; events:", tg->name, total_ops,
	       obq_rcu_gp_count());
	int any = 0;
	for (unsigned e = 0; e < OBQ_EV_COUNT; e++)
		if (total_events[e]) {
			printf(" %s=%lu", obq_h_event_name((enum obq_h_event)e), total_events[e]);
			any = 1;
		}
	printf("%s\n", any ? "" : " none (this run tested nothing?)");
	return 0;
}

/* The stress binary's main (targets define obq_h_target_main with OBQ_H_TARGET). */
extern const struct obq_h_target *const obq_h_target_main;
int main(int argc, char **argv)
{
	return obq_h_main(obq_h_target_main, argc, argv);
}
