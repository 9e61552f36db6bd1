/* runner.c — the deterministic targets' command line and engine entry points.
 *
 *   <target> [options] [FILE|DIR]...   replay inputs (raw bytes, or .trace text)
 *   <target> decode FILE               the program as text, realised schedule, report
 *   <target> encode TRACE [-o OUT]     trace text -> canonical bytes
 *   <target> replay FILE               run with full step tracing
 *   <target> minimize FILE [-o OUT]    shrink a failing input keeping its report rule
 *   <target> roundtrip FILE|DIR...     check decode/encode round trips
 * options: --selfcheck (run each input twice, compare what happened),
 *          --adapter=NAME (oblique, malloc, registered ones; env OBQ_ADAPTER),
 *          --expect-report=RULE|any (run each input in a child; pass iff it reports),
 *          --quiet.
 * Under libFuzzer the same commands work: LLVMFuzzerInitialize runs them before
 * libFuzzer parses its flags.  Exit status: 0 ok, 1 a failure, 2 usage / bad text. */
#define _GNU_SOURCE
#include "hint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <oblique/oblique.h>
#include <oblique/testing.h>

static const char *const commands[] = {"decode", "encode", "replay", "minimize", "roundtrip",
				       "run", NULL};

int h_is_command(const char *s)
{
	for (int i = 0; commands[i]; i++)
		if (strcmp(s, commands[i]) == 0)
			return 1;
	return 0;
}

static int usage(const struct obq_h_target *tg)
{
	fprintf(stderr,
		"usage: %s [--selfcheck] [--adapter=NAME] [--expect-report=RULE|any] [--quiet] "
		"[FILE|DIR]...\n"
		"       %s decode FILE\n"
		"       %s encode TRACE [-o OUT]\n"
		"       %s replay FILE\n"
		"       %s minimize FILE [-o OUT]\n"
		"       %s roundtrip FILE|DIR...\n"
		"adapters: ",
		tg->name, tg->name, tg->name, tg->name, tg->name, tg->name);
	h_adapter_list(stderr);
	return 2;
}

static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

/* Collect input paths: files as given, directories' regular files (sorted, skipping
 * dot files and .dict / .options / .md). */
struct paths {
	char **v;     /* paths */
	size_t n, cap; /* count, capacity */
};
static void paths_add(struct paths *ps, const char *p)
{
	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? 2 * ps->cap : 64;
		ps->v = realloc(ps->v, ps->cap * sizeof *ps->v);
	}
	ps->v[ps->n++] = strdup(p);
}
static void paths_free(struct paths *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		free(ps->v[i]);
	free(ps->v);
	ps->v = NULL;
	ps->n = ps->cap = 0;
}
static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}
static int collect(struct paths *ps, const char *p)
{
	struct stat st;
	if (stat(p, &st) < 0) {
		fprintf(stderr, "%s: %s\n", p, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		paths_add(ps, p);
		return 0;
	}
	DIR *d = opendir(p);
	if (!d)
		return -1;
	struct dirent *e;
	size_t first = ps->n;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || ends_with(e->d_name, ".dict") ||
		    ends_with(e->d_name, ".options") || ends_with(e->d_name, ".md") ||
		    strcmp(e->d_name, "RULE") == 0 || strncmp(e->d_name, "README", 6) == 0)
			continue;
		char buf[4096];
		snprintf(buf, sizeof buf, "%s/%s", p, e->d_name);
		struct stat s2;
		if (stat(buf, &s2) == 0 && S_ISREG(s2.st_mode))
			paths_add(ps, buf);
	}
	closedir(d);
	if (ps->n > first) /* (an empty directory: no array to sort) */
		qsort(ps->v + first, ps->n - first, sizeof *ps->v, cmpstr);
	return 0;
}

static struct program prog_a, prog_b;
static struct h_result res_a, res_b;

/* ---- same input, same path: whatever ran before it in this process ----
 *
 * AFL++ runs thousands of inputs in one process and counts as unstable every edge whose
 * hit count differs between two runs of the same input.  h_det_run resets the
 * harness's own state; what it cannot reset is what the allocator and the checker keep
 * for the process — pools that grow on first use and caches whose order depends on
 * history.  Two measures close the gap:
 *
 *  - warm-up (h_warmup, once, before the first real input — for AFL++ before the fork
 *    server, so every child starts warm): every pool a run can draw from is grown to
 *    what any run needs, so no run ever takes a first-time path.  Pools that grow:
 *    the region cache (a run's slab mappings: filled to its bound of 64 by one cache
 *    of 64 slabs, made and destroyed), the slab metadata pool and the checker's
 *    per-slab records (the same 64 slabs), the per-thread magazine sets and checker
 *    thread tables (one per context: synthetic programs on 4 virtual threads), cache
 *    ids (recycled from the same free list), pagemap leaves;
 *  - canonical order (h_run, before every run): the region cache sorted by address
 *    (obq_sched_canonical_regions), so the same input gets the same slab addresses and
 *    a target's address comparisons branch the same way.
 *
 * (The third source, the fork handlers the AFL++ fork server runs while a new child
 * runs its first input, is kept out of the map by cmake/fuzz-lib-coverage-ignore.txt.)
 * Both hold for the standalone runner too, so a replay runs as the fuzzer's run did.
 * OBQ_H_WARMUP=0 in the environment skips the warm-up (ci/coverage.sh: the profile is
 * then the corpus's alone; the canonical order stays).
 *
 * The synthetic programs run the target's own code, so they can meet its bug.  A crash
 * there must not take down every command of the binary, nor hide the bug from the
 * engine (libFuzzer would report "0 execs, 1 crash" with no artifact): the programs
 * run first in a child (warm_probe; deterministic mode has no thread, so fork is safe),
 * which tells the parent through shared memory which one it is running.  The child
 * exits cleanly: the parent runs the same programs itself (deterministic, so known
 * safe).  It dies (an ASan/UBSan abort, a signal) or a program reports (a checker
 * rule, an oracle, a deadlock or livelock): the parent runs without the synthetic
 * programs, says so in one line and, under an engine, saves the failing program's
 * bytes as the crash artifact crash-warmup-<target>-<k> (libFuzzer's -artifact_prefix,
 * else $OBQ_H_ARTIFACT_DIR, else the current directory). 
 * Checked with ci/afl.sh's stability figure and ci/afl-stability.sh (the corpus and
 * the queues run three times in one process: no edge differs; docs/campaigns.md). */
static int warmed;

static void h_warmup(const struct obq_h_target *tg);

/* Every program run goes through here: the warm-up happens before the first one (the
 * engines' fuzz_setup calls it earlier, before the fork server), so commands that only
 * translate inputs (encode, decode, roundtrip) never start the deterministic engine —
 * the TSan build runs them to make its corpus, and the engine's fibers are not a TSan
 * configuration (targets/CMakeLists.txt: stress mode only under TSan). */
static void h_run(const struct obq_h_target *tg, const struct program *p,
		  const struct h_opts *o, struct h_result *r, FILE *sched)
{
	h_warmup(tg); /* once; nothing after the first call (and nothing inside warm_runs) */
	obq_sched_canonical_regions();
	h_det_run(tg, p, o, r, sched);
}

#define WARM_SLABS 64 /* the region cache's bound (alloc/src/os.c REGION_MAX) */
#define WARM_RUNS 64  /* synthetic programs */

static void warm_slab_pools(void)
{
	unsigned per = obq_get_slab_max_objects();
	if (per == 0 || per > 64)
		per = 64; /* no cap: still 64 slabs' worth of small objects at most */
	size_t n = (size_t)per * WARM_SLABS;
	void **v = malloc(n * sizeof *v);
	obq_cache_t *c = obq_cache_create("obq-h-warmup", 64, 0, 0, NULL);
	if (v == NULL || c == NULL) {
		free(v);
		if (c)
			obq_cache_destroy(c);
		return; /* out of memory: runs will grow the pools themselves */
	}
	size_t k = 0;
	for (; k < n; k++)
		if ((v[k] = obq_cache_alloc(c)) == NULL)
			break;
	while (k > 0)
		obq_cache_free(c, v[--k]);
	obq_cache_destroy(c);
	obq_quarantine_flush(); /* released slabs -> region cache */
	free(v);
}

/* Synthetic programs on every virtual thread, both reuse modes, every policy: each
 * context meets caches (magazine sets, checker tables) and the sim engine runs. */
#define WARM_BYTES (PROG_HDR + 2 * OBQ_H_MAX_OPS * (1 + OBQ_H_MAX_ARGS) + 256)
#define WARM_SEED 0x7761726d2d757000ull /* fixed: the same warm-up in every process */

/* The bytes of synthetic program k, from the generator state *s (k = 0, 1, ... in turn). */
static void warm_bytes(uint64_t *s, unsigned k, uint8_t *buf)
{
	for (size_t i = 0; i < WARM_BYTES; i++)
		buf[i] = (uint8_t)prng_next(s);
	buf[0] = (uint8_t)((OBQ_H_MAX_THREADS - 1) | (k & 1) << 2 | (k >> 1) % 3 << 3 |
			   (buf[0] & 0xe0));
	buf[3] = OBQ_H_MAX_OPS;
}

/* What the probe child tells the parent (a shared anonymous mapping). */
struct warm_probe {
	volatile int k;        /* the program running now (-1: none yet) */
	volatile int reported; /* 1: program k made a report (rule) */
	char rule[48];         /* its rule */
};

/* Run the synthetic programs; in the probe child (probe != NULL) a report ends it. */
static void warm_runs(const struct obq_h_target *tg, struct warm_probe *probe)
{
	static uint8_t buf[WARM_BYTES];
	static struct program p;
	static struct h_result r;
	struct h_opts o = {0};
	uint64_t s = WARM_SEED;
	for (unsigned k = 0; k < WARM_RUNS; k++) {
		warm_bytes(&s, k, buf);
		prog_decode(tg, buf, sizeof buf, &p);
		if (probe)
			probe->k = (int)k;
		h_run(tg, &p, &o, &r, NULL);
		if (probe && r.failed) {
			snprintf(probe->rule, sizeof probe->rule, "%s", r.rule);
			probe->reported = 1;
			_exit(3);
		}
	}
}

static int engine_mode;               /* obq_h_fuzz_init / fuzz_one: artifacts are saved */
static char artifact_prefix[4096];    /* libFuzzer's -artifact_prefix= ("" if none) */
static char self_path[4096];          /* argv[0] under an engine, for the replay line */

/* The warm-up program k failed (`what`): under an engine, save its bytes as a crash
 * artifact; say so in one line. */
static void warm_failed(const struct obq_h_target *tg, unsigned k, const char *what)
{
	if (!engine_mode) {
		fprintf(stderr, "==oblique== harness: warm-up program %u of target %s %s; running "
				"without the warm-up (under a fuzzing engine it is saved as "
				"crash-warmup-%s-%u)\n", k, tg->name, what, tg->name, k);
		return;
	}
	uint8_t buf[WARM_BYTES];
	uint64_t s = WARM_SEED;
	for (unsigned j = 0; j <= k; j++)
		warm_bytes(&s, j, buf);
	char path[8192];
	const char *dir = getenv("OBQ_H_ARTIFACT_DIR");
	if (artifact_prefix[0])
		snprintf(path, sizeof path, "%scrash-warmup-%s-%u", artifact_prefix, tg->name, k);
	else if (dir && *dir)
		snprintf(path, sizeof path, "%s/crash-warmup-%s-%u", dir, tg->name, k);
	else
		snprintf(path, sizeof path, "crash-warmup-%s-%u", tg->name, k);
	FILE *f = fopen(path, "wb");
	int saved = f && fwrite(buf, 1, sizeof buf, f) == sizeof buf;
	if (f && fclose(f) != 0)
		saved = 0;
	if (saved)
		fprintf(stderr, "==oblique== harness: CRASH in warm-up: program %u of target %s %s; "
				"saved as %s; fuzzing continues WITHOUT the warm-up; reproduce: %s "
				"replay %s\n", k, tg->name, what, path,
			self_path[0] ? self_path : tg->name, path);
	else
		fprintf(stderr, "==oblique== harness: CRASH in warm-up: program %u of target %s %s; "
				"could not save it as %s (%s); fuzzing continues WITHOUT the "
				"warm-up\n", k, tg->name, what, path, strerror(errno));
}

/* Run the synthetic programs in a child first.  0: they are safe to run here. */
static int warm_probe(const struct obq_h_target *tg)
{
	struct warm_probe *pr = mmap(NULL, sizeof *pr, PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (pr == MAP_FAILED)
		return -1; /* cannot tell: no synthetic programs */
	pr->k = -1;
	pr->reported = 0;
	pr->rule[0] = 0;
	FILE *cap = tmpfile(); /* the child's stderr: the first error line goes in our line */
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		if (cap)
			dup2(fileno(cap), 2);
		alarm(60); /* a program that never returns to the scheduler */
		warm_runs(tg, pr);
		_exit(0);
	}
	int st = 0;
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	int rc = 0;
	if (pid < 0) {
		rc = -1;
	} else if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
		char what[400], line[512], first[256] = "";
		if (cap) {
			rewind(cap);
			while (fgets(line, sizeof line, cap))
				if (strstr(line, "ERROR:") || strstr(line, "runtime error:")) {
					line[strcspn(line, "\n")] = 0;
					snprintf(first, sizeof first, ": %.200s", line);
					break;
				}
		}
		if (pr->reported)
			snprintf(what, sizeof what, "reports %s", pr->rule);
		else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
			snprintf(what, sizeof what, "does not finish (killed after 60 s)");
		else if (WIFSIGNALED(st))
			snprintf(what, sizeof what, "crashes (signal %d, %s%s)", WTERMSIG(st),
				 strsignal(WTERMSIG(st)), first);
		else
			snprintf(what, sizeof what, "crashes (exit status %d%s)", WEXITSTATUS(st), first);
		warm_failed(tg, pr->k < 0 ? 0 : (unsigned)pr->k, what);
		rc = -1;
	}
	if (cap)
		fclose(cap);
	munmap(pr, sizeof *pr);
	return rc;
}

static void h_warmup(const struct obq_h_target *tg)
{
	if (warmed)
		return;
	warmed = 1;
	h_det_init(tg);
	/* OBQ_H_WARMUP=0: none (a coverage profile of the corpus alone, ci/coverage.sh) */
	const char *e = getenv("OBQ_H_WARMUP");
	if (e && strcmp(e, "0") == 0)
		return;
	warm_slab_pools(); /* the allocator alone: no target code */
	if (warm_probe(tg) == 0)
		warm_runs(tg, NULL);
}

static void run_bytes(const struct obq_h_target *tg, const uint8_t *d, size_t n,
		      const struct h_opts *o, struct program *p, struct h_result *r, FILE *sched)
{
	prog_decode(tg, d, n, p);
	h_run(tg, p, o, r, sched);
}

static void print_events(FILE *f, const char *prefix, const unsigned *ev)
{
	int any = 0;
	fprintf(f, "%sevents:", prefix);
	for (unsigned e = 0; e < OBQ_EV_COUNT; e++)
		if (ev[e]) {
			fprintf(f, " %s=%u", obq_h_event_name((enum obq_h_event)e), ev[e]);
			any = 1;
		}
	fprintf(f, "%s\n", any ? "" : " none");
}

/* How many tape bytes the run of p consumes, from a probe run in a child process (so
 * that decode can print the program before running it, as the run will print it):
 * *crashed is set, and the whole tape returned, if the child dies on the way (an ASan
 * or UBSan abort, a signal).  Deterministic mode has no threads: fork is safe. */
static size_t probe_tape_used(const struct obq_h_target *tg, const struct program *p,
			      int *crashed, char *why, size_t whylen)
{
	*crashed = 0;
	int pfd[2];
	if (pipe(pfd) < 0)
		return p->tape_len;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return p->tape_len;
	}
	if (pid == 0) {
		close(pfd[0]);
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2); /* the real run reports what the probe meets */
		}
		struct h_opts o = {0};
		h_run(tg, p, &o, &res_b, NULL);
		uint64_t used = res_b.tape_used;
		ssize_t w = write(pfd[1], &used, sizeof used);
		_exit(w == (ssize_t)sizeof used ? 0 : 1);
	}
	close(pfd[1]);
	uint64_t used = 0;
	ssize_t got = 0;
	for (ssize_t k; got < (ssize_t)sizeof used; got += k) {
		k = read(pfd[0], (char *)&used + got, sizeof used - (size_t)got);
		if (k <= 0)
			break;
	}
	close(pfd[0]);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (got == (ssize_t)sizeof used && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return used < p->tape_len ? (size_t)used : p->tape_len;
	*crashed = 1;
	if (WIFSIGNALED(st))
		snprintf(why, whylen, "killed by signal %d, %s", WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(why, whylen, "exit status %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return p->tape_len;
}

/* The decode text of bytes: the program (a complete trace: encode gives bytes that run
 * the same), flushed before it runs; then comments — the realised schedule, written
 * and flushed step by step as the program runs, events and report.  So a run that
 * crashes (an ASan/UBSan abort, a signal) still leaves a trace that reproduces it: its
 * tape is the whole input tape, since how much of it the run consumes is unknown
 * (a probe run in a child finds that out for the runs that do not crash). */
static void decode_text(const struct obq_h_target *tg, const uint8_t *d, size_t n, FILE *out,
			struct h_result *r)
{
	h_warmup(tg); /* before the probe's fork: the child and this run start alike */
	prog_decode(tg, d, n, &prog_a);
	int crashed;
	char why[96];
	size_t tape = probe_tape_used(tg, &prog_a, &crashed, why, sizeof why);
	prog_print(out, tg, &prog_a, tape);
	if (crashed)
		fprintf(out, "# the run of this program crashes (a probe run in a child: %s): "
			     "every tape byte is kept; the schedule below ends where it crashed\n",
			why);
	fprintf(out, "# ---- realised schedule (Tthread.op:point, GP:step, ! = preemption); "
		     "not read by encode\n");
	fflush(out);
	struct h_opts o = {.live_schedule = 1};
	h_run(tg, &prog_a, &o, r, out);
	print_events(out, "# ", r->events);
	if (r->failed) {
		fprintf(out, "# REPORT: %s\n", r->rule);
		const char *m = r->message;
		while (*m) {
			const char *e = strchr(m, '\n');
			size_t l = e ? (size_t)(e - m) : strlen(m);
			fprintf(out, "#   %.*s\n", (int)l, m);
			m += l + (e ? 1 : 0);
		}
	} else {
		fprintf(out, "# no report\n");
	}
	fflush(out);
}

static int cmd_decode(const struct obq_h_target *tg, int argc, char **argv)
{
	if (argc != 1)
		return usage(tg);
	size_t n;
	int tr;
	uint8_t *d = h_load_input(tg, argv[0], &n, &tr);
	if (!d)
		return 2;
	struct h_result r;
	decode_text(tg, d, n, stdout, &r);
	free(d);
	return 0;
}

static int write_out(const char *out, const uint8_t *d, size_t n)
{
	FILE *f = out ? fopen(out, "wb") : stdout;
	if (!f) {
		fprintf(stderr, "%s: %s\n", out, strerror(errno));
		return 1;
	}
	fwrite(d, 1, n, f);
	if (out)
		fclose(f);
	else
		fflush(f);
	return 0;
}

static int cmd_encode(const struct obq_h_target *tg, int argc, char **argv)
{
	const char *in = NULL, *out = NULL;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (!in && argv[i][0] != '-')
			in = argv[i];
		else
			return usage(tg);
	}
	if (!in)
		return usage(tg);
	size_t n;
	char *text = h_read_file(in, &n);
	if (!text)
		return 2;
	if (prog_parse(in, text, tg, &prog_a) < 0) {
		free(text);
		return 2;
	}
	free(text);
	uint8_t *buf = malloc(prog_encoded_max());
	size_t len = prog_encode(tg, &prog_a, prog_a.tape_len, buf);
	int rc = write_out(out, buf, len);
	free(buf);
	return rc;
}

static int cmd_replay(const struct obq_h_target *tg, int argc, char **argv)
{
	if (argc != 1)
		return usage(tg);
	size_t n;
	int tr;
	uint8_t *d = h_load_input(tg, argv[0], &n, &tr);
	if (!d)
		return 2;
	prog_decode(tg, d, n, &prog_a);
	prog_print(stdout, tg, &prog_a, prog_a.tape_len);
	printf("---- replay (adapter %s)\n", h_adapter_current() ? h_adapter_current()->name : "oblique");
	fflush(stdout); /* then every step as it happens (det.c): a crash loses none */
	struct h_opts o = {.trace = stdout, .input_name = argv[0]};
	h_run(tg, &prog_a, &o, &res_a, NULL);
	print_events(stdout, "", res_a.events);
	printf("hash %016llx, %u steps, %zu tape bytes used\n", (unsigned long long)res_a.hash,
	       res_a.steps, res_a.tape_used);
	if (res_a.failed) {
		printf("REPORT: %s\n%s", res_a.rule, res_a.message);
		free(d);
		return 1;
	}
	printf("no report\n");
	free(d);
	return 0;
}

/* ---- minimize ---- */

static unsigned min_runs;

static int same_failure(const struct obq_h_target *tg, const uint8_t *d, size_t n,
			const char *rule)
{
	struct h_opts o = {0};
	min_runs++;
	run_bytes(tg, d, n, &o, &prog_b, &res_b, NULL);
	return res_b.failed && strcmp(res_b.rule, rule) == 0;
}

static size_t canon(const struct obq_h_target *tg, const struct program *p, size_t tape_used,
		    uint8_t *buf)
{
	return prog_encode(tg, p, tape_used, buf);
}

static int cmd_minimize(const struct obq_h_target *tg, int argc, char **argv)
{
	const char *in = NULL, *out = NULL;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (!in && argv[i][0] != '-')
			in = argv[i];
		else
			return usage(tg);
	}
	if (!in)
		return usage(tg);
	size_t n;
	int tr;
	uint8_t *d0 = h_load_input(tg, in, &n, &tr);
	if (!d0)
		return 2;
	struct h_opts o = {0};
	run_bytes(tg, d0, n, &o, &prog_a, &res_a, NULL);
	if (!res_a.failed) {
		fprintf(stderr, "%s: no report: nothing to minimize\n", in);
		free(d0);
		return 1;
	}
	char rule[48];
	snprintf(rule, sizeof rule, "%s", res_a.rule);
	size_t cap = prog_encoded_max() + n;
	uint8_t *cur = malloc(cap), *tmp = malloc(cap);
	memcpy(cur, d0, n);
	free(d0);
	size_t len = n;
	fprintf(stderr, "minimize: rule %s, %zu bytes\n", rule, len);
	/* 1. bytes: remove chunks, halving the chunk size */
	for (size_t chunk = len / 2 ? len / 2 : 1; chunk >= 1; chunk /= 2) {
		for (size_t i = 0; i + chunk <= len;) {
			memcpy(tmp, cur, i);
			memcpy(tmp + i, cur + i + chunk, len - i - chunk);
			if (same_failure(tg, tmp, len - chunk, rule)) {
				len -= chunk;
				memcpy(cur, tmp, len);
			} else {
				i += chunk;
			}
		}
		if (chunk == 1)
			break;
	}
	fprintf(stderr, "minimize: bytes -> %zu\n", len);
	/* canonical form */
	struct h_opts o2 = {0};
	struct program *P = malloc(sizeof *P), *Q = malloc(sizeof *Q);
	run_bytes(tg, cur, len, &o2, P, &res_a, NULL);
	len = canon(tg, P, res_a.tape_used, cur);
	prog_decode(tg, cur, len, P);
	/* 2. whole threads, then whole operations */
	for (int changed = 1; changed;) {
		changed = 0;
		for (unsigned t = 0; P->nthreads > 1 && t < P->nthreads; t++) {
			*Q = *P;
			for (unsigned u = t; u + 1 < Q->nthreads; u++) {
				Q->nops[u] = Q->nops[u + 1];
				memcpy(Q->ops[u], Q->ops[u + 1], sizeof Q->ops[u]);
			}
			Q->nops[Q->nthreads - 1] = 0;
			Q->nthreads--;
			size_t l = canon(tg, Q, Q->tape_len, tmp);
			if (same_failure(tg, tmp, l, rule)) {
				*P = *Q;
				changed = 1;
				t--;
			}
		}
		for (unsigned t = 0; t < P->nthreads; t++)
			for (unsigned i = 0; i < P->nops[t]; i++) {
				*Q = *P;
				memmove(&Q->ops[t][i], &Q->ops[t][i + 1],
					(Q->nops[t] - i - 1) * sizeof Q->ops[t][0]);
				Q->nops[t]--;
				size_t l = canon(tg, Q, Q->tape_len, tmp);
				if (same_failure(tg, tmp, l, rule)) {
					*P = *Q;
					changed = 1;
					i--;
				}
			}
	}
	fprintf(stderr, "minimize: %u thread(s), %u operation(s)\n", P->nthreads, prog_total_ops(P));
	/* 3. preemptions: replace a preempting tape byte by one that keeps the thread */
	for (int changed = 1; changed;) {
		changed = 0;
		struct h_opts o3 = {0};
		h_run(tg, P, &o3, &res_a, NULL);
		struct h_preempt pre[256];
		size_t np = h_det_preemptions(pre, 256);
		for (size_t k = 0; k < np; k++) {
			*Q = *P;
			if (pre[k].tape_idx >= Q->tape_len || Q->tape[pre[k].tape_idx] == pre[k].stay)
				continue;
			Q->tape[pre[k].tape_idx] = pre[k].stay;
			size_t l = canon(tg, Q, Q->tape_len, tmp);
			if (same_failure(tg, tmp, l, rule)) {
				*P = *Q;
				changed = 1;
				break;
			}
		}
	}
	struct h_opts o4 = {0};
	h_run(tg, P, &o4, &res_a, NULL);
	len = canon(tg, P, res_a.tape_used, cur);
	fprintf(stderr, "minimize: %zu bytes, %u preemption(s), %u runs; rule %s\n", len,
		res_a.preemptions, min_runs, rule);
	int rc = write_out(out, cur, len);
	if (out) {
		struct h_result r;
		decode_text(tg, cur, len, stdout, &r);
	}
	free(cur);
	free(tmp);
	free(P);
	free(Q);
	return rc;
}

/* ---- roundtrip ---- */

static int roundtrip_one(const struct obq_h_target *tg, const char *path)
{
	size_t n;
	int tr;
	uint8_t *d = h_load_input(tg, path, &n, &tr);
	if (!d)
		return 1;
	char *t1 = NULL, *t2 = NULL;
	size_t l1 = 0, l2 = 0;
	struct h_result r1, r2, r3;
	FILE *f = open_memstream(&t1, &l1);
	decode_text(tg, d, n, f, &r1);
	fclose(f);
	/* encode(decode(bytes)) */
	struct program *P = malloc(sizeof *P);
	if (prog_parse(path, t1, tg, P) < 0) {
		fprintf(stderr, "%s: decode output does not parse\n", path);
		return 1;
	}
	uint8_t *b2 = malloc(prog_encoded_max());
	size_t n2 = prog_encode(tg, P, P->tape_len, b2);
	/* decode(encode(text)) == text */
	f = open_memstream(&t2, &l2);
	decode_text(tg, b2, n2, f, &r2);
	fclose(f);
	int bad = 0;
	if (l1 != l2 || memcmp(t1, t2, l1) != 0) {
		fprintf(stderr, "%s: decode(encode(text)) != text\n--- text\n%s--- again\n%s", path,
			t1, t2);
		bad = 1;
	}
	if (r1.hash != r2.hash || r1.failed != r2.failed) {
		fprintf(stderr, "%s: canonical bytes run differently (hash %016llx vs %016llx)\n",
			path, (unsigned long long)r1.hash, (unsigned long long)r2.hash);
		bad = 1;
	}
	/* canonical bytes are a fixpoint */
	struct program *P3 = malloc(sizeof *P3);
	prog_parse(path, t2, tg, P3);
	uint8_t *b3 = malloc(prog_encoded_max());
	size_t n3 = prog_encode(tg, P3, P3->tape_len, b3);
	if (n3 != n2 || memcmp(b2, b3, n2) != 0) {
		fprintf(stderr, "%s: encode(decode(canonical)) != canonical\n", path);
		bad = 1;
	}
	(void)r3;
	free(t1);
	free(t2);
	free(b2);
	free(b3);
	free(P);
	free(P3);
	free(d);
	return bad;
}

/* ---- run / selfcheck / expect-report ---- */

static int expect_one(const struct obq_h_target *tg, const char *path, const uint8_t *d,
		      size_t n, const char *rule, int quiet)
{
	int pfd[2];
	if (pipe(pfd) < 0)
		return 1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		dup2(pfd[1], 2);
		struct h_opts o = {.abort_on_report = 1, .input_name = path};
		run_bytes(tg, d, n, &o, &prog_a, &res_a, NULL);
		_exit(0); /* no report */
	}
	close(pfd[1]);
	char *out = NULL;
	size_t cap = 0, len = 0;
	for (;;) {
		if (len + 4096 > cap) {
			cap = cap ? 2 * cap : 65536;
			out = realloc(out, cap + 1);
		}
		ssize_t k = read(pfd[0], out + len, cap - len);
		if (k <= 0)
			break;
		len += (size_t)k;
	}
	close(pfd[0]);
	out = out ? out : malloc(1);
	out[len] = 0;
	int st;
	waitpid(pid, &st, 0);
	char want[96];
	snprintf(want, sizeof want, "ERROR: %s\n", rule);
	int reported = strstr(out, "==oblique== ERROR: ") != NULL;
	int ok = WIFSIGNALED(st) && reported && (strcmp(rule, "any") == 0 || strstr(out, want));
	if (!ok || !quiet)
		fprintf(stderr, "%s: %s (expected report %s; child %s)\n", path,
			ok ? "reported as expected" : "NOT reported as expected", rule,
			WIFSIGNALED(st) ? "aborted" : "exited");
	if (!ok)
		fprintf(stderr, "---- child's stderr:\n%s----\n", out);
	free(out);
	return ok ? 0 : 1;
}

int h_runner_main(const struct obq_h_target *tg, int argc, char **argv)
{
	int selfcheck = 0, quiet = 0;
	const char *expect = NULL;
	struct paths ps = {0};
	int i = 1;
	/* options may precede a command */
	for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		if (strcmp(argv[i], "--selfcheck") == 0)
			selfcheck = 1;
		else if (strcmp(argv[i], "--quiet") == 0)
			quiet = 1;
		else if (strncmp(argv[i], "--adapter=", 10) == 0) {
			const struct obq_h_allocator *a = h_adapter_select(argv[i] + 10);
			if (!a) {
				fprintf(stderr, "%s: unknown adapter '%s'\n", tg->name, argv[i] + 10);
				return usage(tg);
			}
			h_adapter_set(a);
		} else if (strncmp(argv[i], "--expect-report=", 16) == 0)
			expect = argv[i] + 16;
		else if (strcmp(argv[i], "--help") == 0) {
			usage(tg);
			return 0;
		} else
			return usage(tg);
	}
	if (getenv("OBQ_SELFCHECK") && strcmp(getenv("OBQ_SELFCHECK"), "1") == 0)
		selfcheck = 1;
	if (i < argc && h_is_command(argv[i])) {
		const char *c = argv[i++];
		if (strcmp(c, "decode") == 0)
			return cmd_decode(tg, argc - i, argv + i);
		if (strcmp(c, "encode") == 0)
			return cmd_encode(tg, argc - i, argv + i);
		if (strcmp(c, "replay") == 0)
			return cmd_replay(tg, argc - i, argv + i);
		if (strcmp(c, "minimize") == 0)
			return cmd_minimize(tg, argc - i, argv + i);
		if (strcmp(c, "roundtrip") == 0) {
			for (; i < argc; i++)
				if (collect(&ps, argv[i]) < 0)
					return 2;
			if (ps.n == 0)
				return usage(tg);
			int bad = 0;
			for (size_t k = 0; k < ps.n; k++)
				bad |= roundtrip_one(tg, ps.v[k]);
			if (!quiet)
				printf("%s roundtrip: %zu input(s), %s\n", tg->name, ps.n,
				       bad ? "FAILED" : "ok");
			paths_free(&ps);
			return bad;
		}
		/* "run" falls through */
	}
	for (; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1] == '-')
			return usage(tg);
		if (collect(&ps, argv[i]) < 0)
			return 2;
	}
	if (ps.n == 0) {
		fprintf(stderr, "%s: no inputs (standalone runner: give files or directories)\n",
			tg->name);
		return usage(tg);
	}
	int bad = 0;
	unsigned nfail = 0, nrun = 0;
	unsigned evsum[OBQ_EV_COUNT] = {0};
	for (size_t k = 0; k < ps.n; k++) {
		size_t n;
		int tr;
		uint8_t *d = h_load_input(tg, ps.v[k], &n, &tr);
		if (!d) {
			paths_free(&ps);
			return 2;
		}
		nrun++;
		if (expect) {
			bad |= expect_one(tg, ps.v[k], d, n, expect, quiet);
			free(d);
			continue;
		}
		struct h_opts o = {.input_name = ps.v[k], .print_failure = 1};
		run_bytes(tg, d, n, &o, &prog_a, &res_a, NULL);
		for (unsigned e = 0; e < OBQ_EV_COUNT; e++)
			evsum[e] += res_a.events[e];
		if (res_a.failed) {
			fprintf(stderr, "%s: FAILED (%s)\n", ps.v[k], res_a.rule);
			nfail++;
			bad = 1;
		} else if (selfcheck) {
			struct h_opts o2 = {.input_name = ps.v[k]};
			run_bytes(tg, d, n, &o2, &prog_b, &res_b, NULL);
			if (res_b.hash != res_a.hash || res_b.failed != res_a.failed) {
				fprintf(stderr, "%s: SELFCHECK FAILED: hash %016llx then %016llx\n",
					ps.v[k], (unsigned long long)res_a.hash,
					(unsigned long long)res_b.hash);
				bad = 1;
				nfail++;
			}
		}
		free(d);
	}
	if (!quiet && !expect) {
		printf("%s: %u input(s), %u failed%s (adapter %s)\n", tg->name, nrun, nfail,
		       selfcheck ? ", self-check on" : "", h_adapter_current()->name);
		print_events(stdout, "  ", evsum);
	}
	paths_free(&ps);
	return bad;
}

/* ------------------------------------------------------------------ engines */

int obq_h_main(const struct obq_h_target *tg, int argc, char **argv)
{
	return h_runner_main(tg, argc, argv);
}

static int fuzz_selfcheck = -1; /* OBQ_SELFCHECK=1: run twice, abort if anything differs */

/* One-time set-up of the engines: everything an input's run would otherwise do the
 * first time.  From obq_h_fuzz_init (libFuzzer's LLVMFuzzerInitialize, afl_main.c
 * before the fork server), or from the first input of an engine that skipped it. */
static void fuzz_setup(const struct obq_h_target *tg)
{
	engine_mode = 1;
	if (fuzz_selfcheck < 0) {
		const char *e = getenv("OBQ_SELFCHECK");
		fuzz_selfcheck = e && strcmp(e, "1") == 0;
	}
	h_warmup(tg);
}

int obq_h_fuzz_init(const struct obq_h_target *tg, int *argc, char ***argv)
{
	/* Our commands and options work under libFuzzer too: run them, exit. */
	if (*argc >= 2 && (h_is_command((*argv)[1]) || strncmp((*argv)[1], "--", 2) == 0))
		exit(h_runner_main(tg, *argc, *argv));
	/* where libFuzzer puts its artifacts: a warm-up crash goes there too */
	for (int i = 1; *argv && i < *argc; i++)
		if (strncmp((*argv)[i], "-artifact_prefix=", 17) == 0)
			snprintf(artifact_prefix, sizeof artifact_prefix, "%s", (*argv)[i] + 17);
	if (*argv && *argc >= 1 && (*argv)[0])
		snprintf(self_path, sizeof self_path, "%s", (*argv)[0]);
	fuzz_setup(tg);
	return 0;
}

int obq_h_fuzz_one(const struct obq_h_target *tg, const uint8_t *data, size_t size)
{
	static struct program p;
	static struct h_result r;
	static struct h_opts o = {.abort_on_report = 1};
	fuzz_setup(tg); /* does nothing after the first call */
	prog_decode(tg, data, size, &p);
	h_run(tg, &p, &o, &r, NULL);
	if (fuzz_selfcheck) {
		static struct h_result r2;
		uint64_t h1 = r.hash;
		h_run(tg, &p, &o, &r2, NULL);
		if (r2.hash != h1) {
			fprintf(stderr, "==oblique== ERROR: self-check: the same input ran differently "
					"(hash %016llx then %016llx): a target or the harness is not "
					"deterministic\n", (unsigned long long)h1,
				(unsigned long long)r2.hash);
			abort();
		}
	}
	return 0;
}
