/* stress.c — stress mode: the same target bodies on real pthreads over the builtin RCU.
 *
 *   <target>-stress [--threads N] [--seconds S] [--seed X] [--quiet]
 *                   [--gp-driver on|off] [--gp-interval-us N] [--slab-objects N]
 *                   [--shrink-every N] [--reuse recycle|rcu-debug|alternate] [FILE|DIR]...
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
 * thread ran (newest last), and the summary so far, and aborts.  A progress line per
 * second and a summary with the event counters (a run whose counters stay at zero
 * tested nothing).
 *
 * Grace periods and slab releases keep flowing while the readers run, as rcutorture's
 * fake writers and call_rcu flood keep them flowing — otherwise a typesafe slab would
 * never go back under a reader on real threads, and the point of the model would go
 * untested:
 *   - a grace-period driver thread (--gp-driver, default on) loops: obq_rcu_synchronize
 *     (half the time), obq_rcu_call of one of a few heads not in flight, now and then
 *     obq_rcu_barrier, with a pause of up to --gp-interval-us (default 100) between;
 *   - small slabs (--slab-objects, default 8 objects a slab, before the first cache);
 *   - at a free, a worker shrinks that cache about every --shrink-every frees
 *     (default 64; 0: never) — its magazine, the depot and empty slabs go back, a
 *     typesafe cache's through a grace period, while other workers read — and queues
 *     an obq_rcu_call of its own about every 256 frees (not with --gp-driver off,
 *     which turns every grace period of the harness's own off).  Workers never synchronize:
 *     one may hold a lock a reader inside its section waits for;
 *   - the reuse mode: recycle (the default), rcu-debug, or alternate — per input,
 *     recycle then rcu-debug then recycle ... (ci/tsan-nightly.sh runs alternate);
 * The summary counts, per run and in all: operations, grace periods ended, those that
 * waited for a reader inside a section (obq_rcu_gp_reader_waits), slabs released
 * (obq_cache_stats) and those whose grace period outwaited a reader that touched one of
 * their freed objects (checked builds), callbacks run, shrinks, and the interleaving
 * events (recycled objects met, failed pins, ...). */
#define _GNU_SOURCE
#include "hint.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <math.h>
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
	_Atomic uint64_t ring[RING];          /* last operations run, packed (ring_pack): a
					       * report on another thread reads them */
	_Atomic unsigned long ring_n;         /* operations ever put into ring */
	uint64_t free_rng;                    /* h_free_traffic's PRNG (this thread's only) */
	struct obq_rcu_head cb;               /* this worker's obq_rcu_call head */
	_Atomic int cb_busy;                  /* 1 while cb is queued */
};

/* Knobs (command line) and counters of the grace-period traffic. */
static int gp_driver = 1;                 /* --gp-driver */
static unsigned gp_interval_us = 100;     /* --gp-interval-us */
static unsigned slab_objects = 8;         /* --slab-objects (0: the library's) */
static unsigned shrink_every = 64;        /* --shrink-every (0: never) */
static int reuse_arg = OBQ_REUSE_RECYCLE; /* --reuse: -1 alternate, else the mode */
static _Atomic unsigned long n_callbacks; /* obq_rcu_call callbacks run */
static _Atomic unsigned long n_shrinks;   /* obq_cache_shrink calls by workers */
static unsigned long tot_slabs_released;  /* summed over runs, read before each destroy */
static unsigned long tot_slabs_stale;     /* of those, outwaiting a reader's stale touch */
static unsigned long tot_gp, tot_gp_reader; /* grace periods of finished runs */
static unsigned long gp0, gpw0;            /* obq_rcu_gp_count / _reader_waits at run start */

static uint64_t ring_pack(const struct prog_op *o)
{
	uint64_t v = o->opcode;
	for (unsigned a = 0; a < OBQ_H_MAX_ARGS; a++)
		v |= (uint64_t)o->arg[a] << (8 + 8 * a);
	return v;
}

static struct prog_op ring_unpack(uint64_t v)
{
	struct prog_op o;
	o.opcode = (uint8_t)v;
	for (unsigned a = 0; a < OBQ_H_MAX_ARGS; a++)
		o.arg[a] = (uint8_t)(v >> (8 + 8 * a));
	return o;
}

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
			/* Relaxed: a worker may be overwriting older entries; each is one word. */
			struct prog_op op = ring_unpack(
				atomic_load_explicit(&s->ring[k % RING], memory_order_relaxed));
			const struct prog_op *o = &op;
			fprintf(f, "    %s", tg->ops[o->opcode].name);
			for (unsigned a = 0; a < tg->ops[o->opcode].nargs; a++)
				fprintf(f, " %u", o->arg[a]);
			fprintf(f, "%s\n", k + 1 == n ? "   <- current" : "");
		}
	}
	fprintf(f, "  (turn these columns into a deterministic program with obq-trace encode to "
		   "search its schedules)\n");
}

static void print_summary(FILE *f, int failing);

static __thread struct h_expect expect_tls; /* obq_h_expect on this thread */

static void err_hook(const struct obq_error *e, void *arg)
{
	(void)arg;
	if (obq_error_is_notice(e->kind)) {
		obq_error_default_hook(e, NULL); /* a degraded mode, not a finding: print, go on */
		return;
	}
	if (expect_tls.kind != OBQ_ERR_NONE && e->kind == expect_tls.kind) {
		expect_tls.hits++;
		return;
	}
	pthread_mutex_lock(&report_lock);
	fprintf(stderr, "%s", e->message);
	fprintf(stderr, "==oblique== stress: target %s, %u threads; operations per thread:\n",
		tg ? tg->name : "?", nthreads);
	print_ops(stderr);
	print_summary(stderr, 1);
	fflush(stderr);
	abort();
}

/* ------------------------------------------------------------------ the mode (api.c) */

static void stress_fail(obq_h_t *t, const char *msg)
{
	obq_error_report(OBQ_H_ERR_ORACLE, NULL, NULL, "  target %s (stress), thread %s%u: %s\n",
			 tg->name, t->tid == OBQ_H_MAIN ? "main " : "T",
			 t->tid == OBQ_H_MAIN ? 0 : t->tid, msg);
}

static void stress_count(obq_h_t *t, enum obq_h_event ev)
{
	struct sthread *s = self_of(t);
	if (s) /* relaxed: a counter, summed after the join (or by a report) */
		atomic_fetch_add_explicit(&s->events[ev], 1, memory_order_relaxed);
}

static struct h_expect *stress_expect(obq_h_t *t)
{
	(void)t;
	return &expect_tls;
}

static void stress_point(obq_h_t *t)
{
	perturb(self_of(t));
}

static void stress_retry(obq_h_t *t)
{
	struct sthread *s = self_of(t);
	if (++s->retries > 1000000)
		obq_error_report(OBQ_H_ERR_LIVELOCK, NULL, NULL,
				 "  livelock: thread T%u retried one operation a million times\n",
				 t->tid);
}

/* No determinism hash, no step trace: observations and pins are not recorded. */
const struct h_mode h_mode = {
	.fail = stress_fail, .fold = NULL, .trace = NULL, .count = stress_count,
	.expect = stress_expect, .point = stress_point, .retry = stress_retry,
};

void h_adapter_point(obq_h_t *t, enum obq_sp_kind kind, const void *obj)
{
	(void)kind;
	(void)obj;
	obq_h_point(t);
}

void h_note_released(void)
{
}

struct obq_h_cache **h_run_caches(void)
{
	/* caches are created in setup (main thread), before the workers start */
	return &caches;
}

/* ------------------------------------------------------------------ grace-period traffic */

static void cb_done(struct obq_rcu_head *h)
{
	/* Relaxed: a statistic. */
	atomic_fetch_add_explicit(&n_callbacks, 1, memory_order_relaxed);
	/* Release: the head may be queued again once the callback is done with it. */
	atomic_store_explicit(&((struct sthread *)((char *)h - offsetof(struct sthread, cb)))->cb_busy,
			      0, memory_order_release);
}

/* Queue s's head if it is not queued already (acquire: the previous callback's use of
 * it is over). */
static void queue_cb(struct sthread *s)
{
	int idle = 0;
	if (atomic_compare_exchange_strong_explicit(&s->cb_busy, &idle, 1, memory_order_acquire,
						    memory_order_relaxed))
		obq_rcu_call(&s->cb, cb_done);
}

/* Stress mode's geometry is the process's (--slab-objects): nothing per cache. */
void h_cache_made(obq_h_t *t, struct obq_h_cache *c)
{
	(void)t;
	(void)c;
}

void h_free_traffic(obq_h_t *t, struct obq_h_cache *c)
{
	struct sthread *s = self_of(t);
	if (!s)
		return; /* setup / teardown */
	uint64_t r = prng_next(&s->free_rng);
	if (c->a->shrink && shrink_every && r % shrink_every == 0) {
		c->a->shrink(c->impl); /* non-blocking: releases go through obq_rcu_call */
		atomic_fetch_add_explicit(&n_shrinks, 1, memory_order_relaxed); /* relaxed: a statistic */
	}
	if (gp_driver && ((r >> 32) & 255) == 0) /* --gp-driver off: no harness grace periods */
		queue_cb(s);
}

/* The driver: a thread that holds no lock and is never a reader, so it may wait for
 * grace periods; its heads are the slots of `drv` (one more than the workers'). */
static pthread_t driver_th;
static struct sthread drv;

static void *gp_driver_main(void *arg)
{
	(void)arg;
	obq_rcu_register_thread();
	while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
		uint64_t r = prng_next(&drv.rng);
		switch (r % 16) {
		case 0:
			obq_rcu_barrier();
			break;
		case 1: case 2: case 3: case 4: case 5: case 6: case 7:
			queue_cb(&drv);
			__attribute__((fallthrough)); /* a call, then a grace period half the time */
		default:
			if (r & 16)
				obq_rcu_synchronize();
			break;
		}
		if (gp_interval_us) {
			struct timespec ts = {0, (long)((r >> 8) % (gp_interval_us + 1)) * 1000};
			nanosleep(&ts, NULL);
		}
	}
	obq_rcu_unregister_thread();
	return NULL;
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
		/* Relaxed: only print_ops reads them, as a best-effort history. */
		atomic_store_explicit(&s->ring[n % RING], ring_pack(&o), memory_order_relaxed);
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

static unsigned run_index; /* runs so far: --reuse alternate */

static int run_program(const struct program *p, unsigned nthr, double seconds, uint64_t seed,
		       int quiet, const char *label)
{
	int mode = reuse_arg >= 0 ? reuse_arg : (int)(run_index % 2);
	run_index++;
	if (obq_set_reuse_mode((enum obq_reuse_mode)mode) != 0 && !quiet)
		fprintf(stderr, "stress %s: reuse mode unchanged (a cache still exists)\n", tg->name);
	gp0 = obq_rcu_gp_count();
	gpw0 = obq_rcu_gp_reader_waits();
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
		s->free_rng = seed * 0x2545f4914f6cdd1dull + i + 1;
		for (unsigned e = 0; e < OBQ_EV_COUNT; e++)
			atomic_store(&s->events[e], 0);
		if (pthread_create(&s->th, NULL, worker, s) != 0) {
			perror("pthread_create");
			exit(2);
		}
	}
	if (gp_driver) {
		drv.rng = seed * 0x9e3779b97f4a7c15ull + 0x64726976ull;
		if (pthread_create(&driver_th, NULL, gp_driver_main, NULL) != 0) {
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
			fprintf(stderr, "stress %s %s: %.0fs %lu ops, %lu gp (%lu under a reader)\n",
				tg->name, label, t - t0, ops, obq_rcu_gp_count() - gp0,
				obq_rcu_gp_reader_waits() - gpw0);
			next += 1.0;
		}
	}
	atomic_store(&stop_flag, 1);
	if (gp_driver)
		pthread_join(driver_th, NULL);
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
	tot_gp += obq_rcu_gp_count() - gp0;
	tot_gp_reader += obq_rcu_gp_reader_waits() - gpw0;
	pthread_mutex_lock(&cache_lock);
	/* slabs released while the workers ran (destroy below releases the rest) */
	for (struct obq_h_cache *c = caches; c; c = c->next) {
		struct obq_cache_stats st;
		obq_cache_t *oc = obq_h_cache_oblique(c);
		if (oc && obq_cache_stats(oc, &st) == 0) {
			tot_slabs_released += st.slabs_released;
			tot_slabs_stale += st.slabs_released_stale;
		}
	}
	h_caches_destroy_all(&caches);
	pthread_mutex_unlock(&cache_lock);
	/* Destroy must have waited for the grace-period work it queued on its caches: run
	 * whatever is still pending now, so a callback left on a freed cache runs while
	 * the process is still here (ASan: heap-use-after-free) instead of never. */
	obq_rcu_barrier();
	free(state);
	return 0;
}

/* The summary line (ci/tsan-nightly.sh reads it): at the end, or — failing — from the
 * report, with the operations of the run in progress counted too. */
static void print_summary(FILE *f, int failing)
{
	unsigned long ops = total_ops, ev[OBQ_EV_COUNT], gp = tot_gp, gpw = tot_gp_reader;
	memcpy(ev, total_events, sizeof ev);
	if (failing) {
		for (unsigned i = 0; i < nthreads; i++) {
			/* Relaxed: counters, read from the reporting thread. */
			ops += atomic_load_explicit(&threads[i].nrun, memory_order_relaxed);
			for (unsigned e = 0; e < OBQ_EV_COUNT; e++)
				ev[e] += atomic_load_explicit(&threads[i].events[e], memory_order_relaxed);
		}
		gp += obq_rcu_gp_count() - gp0;
		gpw += obq_rcu_gp_reader_waits() - gpw0;
	}
	fprintf(f, "stress %s: %lu operations, %lu grace periods (%lu under a reader), %lu slabs "
		   "released (%lu under a stale reader), %lu callbacks, %lu shrinks; events:",
		tg ? tg->name : "?", ops, gp, gpw, tot_slabs_released, tot_slabs_stale,
		atomic_load_explicit(&n_callbacks, memory_order_relaxed),
		atomic_load_explicit(&n_shrinks, memory_order_relaxed));
	int any = 0;
	for (unsigned e = 0; e < OBQ_EV_COUNT; e++)
		if (ev[e]) {
			fprintf(f, " %s=%lu", obq_h_event_name((enum obq_h_event)e), ev[e]);
			any = 1;
		}
	fprintf(f, "%s\n", any ? "" : " none (this run tested nothing?)");
}

/* A whole number for option `name`, or exit 2 with a message. */
static unsigned opt_uint(const char *name, const char *v)
{
	char *end;
	errno = 0;
	unsigned long n = strtoul(v, &end, 10);
	if (errno || end == v || *end || n > 100000000ul || v[0] == '-') {
		fprintf(stderr, "%s-stress: %s needs a whole number, not '%s'\n", tg->name, name, v);
		exit(2);
	}
	return (unsigned)n;
}

static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: %s-stress [--threads N] [--seconds S] [--seed X] [--quiet]\n"
			"         [--gp-driver on|off] [--gp-interval-us N] [--slab-objects N]\n"
			"         [--shrink-every N] [--reuse recycle|rcu-debug|alternate]\n"
			"         [--adapter NAME] [FILE|DIR]...\n"
			"adapters: ",
		tg->name);
	h_adapter_list(stderr);
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
		else if (strcmp(a, "--seconds") == 0 && i + 1 < argc) {
			char *end;
			seconds = strtod(argv[++i], &end);
			if (end == argv[i] || *end || !isfinite(seconds) || seconds <= 0) {
				fprintf(stderr, "%s-stress: --seconds needs a positive number, not '%s'\n",
					tg->name, argv[i]);
				return 2;
			}
		} else if (strcmp(a, "--gp-driver") == 0 && i + 1 < argc) {
			const char *v = argv[++i];
			if (strcmp(v, "on") && strcmp(v, "off")) {
				fprintf(stderr, "%s-stress: --gp-driver on|off, not '%s'\n", tg->name, v);
				return 2;
			}
			gp_driver = strcmp(v, "on") == 0;
		} else if (strcmp(a, "--gp-interval-us") == 0 && i + 1 < argc)
			gp_interval_us = opt_uint(a, argv[++i]);
		else if (strcmp(a, "--slab-objects") == 0 && i + 1 < argc)
			slab_objects = opt_uint(a, argv[++i]);
		else if (strcmp(a, "--shrink-every") == 0 && i + 1 < argc)
			shrink_every = opt_uint(a, argv[++i]);
		else if (strcmp(a, "--reuse") == 0 && i + 1 < argc) {
			const char *v = argv[++i];
			if (strcmp(v, "recycle") == 0)
				reuse_arg = OBQ_REUSE_RECYCLE;
			else if (strcmp(v, "rcu-debug") == 0)
				reuse_arg = OBQ_REUSE_RCU_DEBUG;
			else if (strcmp(v, "alternate") == 0)
				reuse_arg = -1;
			else {
				fprintf(stderr, "%s-stress: --reuse recycle|rcu-debug|alternate, not '%s'\n",
					tg->name, v);
				return 2;
			}
		}
		else if ((strcmp(a, "--adapter") == 0 && i + 1 < argc) ||
			 strncmp(a, "--adapter=", 10) == 0) {
			const char *v = a[9] == '=' ? a + 10 : argv[++i];
			const struct obq_h_allocator *al = h_adapter_select(v);
			if (!al) {
				fprintf(stderr, "%s-stress: unknown adapter '%s'\n", tg->name, v);
				return usage();
			}
			h_adapter_choose(al, "--adapter");
		}
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
	if (nthr > MAX_STRESS_THREADS)
		return usage();
	/* Small slabs so that frees empty them and shrinks send them back (OBQ_SLAB_OBJECTS
	 * in the environment wins). */
	if (slab_objects && !getenv("OBQ_SLAB_OBJECTS") && obq_set_slab_max_objects(slab_objects) != 0) {
		fprintf(stderr, "%s-stress: --slab-objects %u refused\n", tg->name, slab_objects);
		return 2;
	}
	h_register_verdicts();
	obq_set_error_hook(err_hook, NULL);
	if (h_adapter_current() == NULL)
		h_adapter_set(h_adapter_from_env()); /* an unknown OBQ_ADAPTER exits 2 */
	h_released_tracking = 0; /* no stress-mode check reads them: do not grow the list */
	static struct program p;
	double per = ninputs ? seconds / (double)ninputs : seconds;
	if (per < 0.02)
		per = 0.02;
	if (!quiet)
		fprintf(stderr, "stress %s: %zu input(s), %.2fs each, seed %llu, RCU %s, adapter %s\n",
			tg->name, ninputs, per, (unsigned long long)seed, obq_rcu_backend(),
			h_adapter_current()->name);
	if (ninputs == 0) {
		run_program(NULL, nthr ? nthr : 2, per, seed, quiet, "(random ops)");
	}
	for (size_t k = 0; k < ninputs; k++) {
		size_t n;
		int tr;
		uint8_t *d = h_load_input(tg, inputs[k], &n, &tr);
		if (!d) { /* (the message is printed) */
			for (size_t j = k; j < ninputs; j++)
				free(inputs[j]);
			return 2;
		}
		prog_decode(tg, d, n, &p);
		free(d);
		run_program(&p, nthr ? nthr : p.nthreads, per, seed + k, quiet, inputs[k]);
		free(inputs[k]);
	}
	if (!quiet)
		fprintf(stderr, "stress %s: gp driver %s, %u objects a slab, shrink every ~%u frees "
				"(0: never), reuse %s\n", tg->name, gp_driver ? "on" : "off",
			obq_get_slab_max_objects(), shrink_every,
			reuse_arg < 0 ? "alternating" : reuse_arg ? "rcu-debug" : "recycle");
	print_summary(stdout, 0);
	return 0;
}

/* The stress binary's main (targets define obq_h_target_main with OBQ_H_TARGET). */
extern const struct obq_h_target *const obq_h_target_main;
int main(int argc, char **argv)
{
	return obq_h_main(obq_h_target_main, argc, argv);
}
