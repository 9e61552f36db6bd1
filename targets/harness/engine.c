/* engine.c — how every program run starts, and the fuzzing engines' entry points.
 *
 *   h_run            every run of a program (the runner's commands, the engines): the
 *                    warm-up once, the region cache in canonical order, h_det_run
 *   h_warmup         the warm-up (below): once per process, before the first run
 *   obq_h_fuzz_init  libFuzzer's LLVMFuzzerInitialize, afl_main.c before the fork
 *                    server: the runner's commands when argv names one, else set-up
 *                    (and, in the weak-memory build, the model's totals at exit)
 *   obq_h_fuzz_one   one input: decode, run (abort on a report), OBQ_SELFCHECK=1 twice
 *
 * The command line (decode, replay, minimize, ...) is runner.c's. */
#define _GNU_SOURCE
#include "hint.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__GLIBC__) || defined(__APPLE__)
#include <execinfo.h>
#define HAVE_BACKTRACE 1
#else
#define HAVE_BACKTRACE 0
#endif

#include <oblique/oblique.h>
#include <oblique/testing.h>

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
static int in_warmup;                 /* 1 while h_warmup runs (no per-run alarm then) */
static int engine_mode;               /* obq_h_fuzz_init / fuzz_one: artifacts are saved */
static char artifact_prefix[4096];    /* libFuzzer's -artifact_prefix= ("" if none) */
static char self_path[4096];          /* argv[0] under an engine, for the replay line */

/* ---- time bounds: no hang without a report ----
 *
 * The step budget (livelock) bounds what runs between scheduling points; a loop with
 * none — an endless walk in the allocator or the checker, a target spinning on plain
 * memory — it cannot see.  Three alarms cover that, each ending in a report:
 *  - the warm-up's synthetic programs and the allocator's own warm-up run in a probe
 *    child under alarm(OBQ_H_WARMUP_TIMEOUT, default 60 s): "does not finish", with
 *    the artifact, its .trace and its .report (warm_failed);
 *  - an engine's whole initialisation (obq_h_fuzz_init: libFuzzer's -timeout starts
 *    only after it) runs under alarm(OBQ_H_INIT_TIMEOUT, default 600 s): the handler
 *    writes the report and the artifact crash-init-<target> (.report beside it) and
 *    exits 70 — a backstop for what the probe does not cover;
 *  - every run of the standalone runner and its commands (decode, replay, minimize,
 *    ...) runs under alarm(OBQ_H_RUN_TIMEOUT, default 60 s): the report goes to stderr
 *    (and, for decode and replay, to the trace stream), exit 1.  Under an engine its
 *    own timeout (libFuzzer -timeout, afl-fuzz -t) bounds a run.
 * 0 turns a bound off.  The handlers only write(2) text formatted beforehand (and a
 * backtrace, preloaded at arming time) and _exit. */
static unsigned env_seconds(const char *name, unsigned dflt)
{
	const char *e = getenv(name);
	if (e == NULL || *e == 0)
		return dflt;
	char *end;
	unsigned long v = strtoul(e, &end, 10);
	return *end == 0 && v <= 86400 ? (unsigned)v : dflt;
}

static char watch_msg[3072];   /* the report, formatted when the alarm is armed */
static char watch_rep[4220];   /* init: the .report path ("" none) */
static char watch_art[4200];   /* init: the artifact path ("" none) */
static int watch_stdout;       /* run: also to fd 1 (decode / replay streams) */
static const char *volatile watch_phase = ""; /* init: what it was doing */

static void put(int fd, const char *s)
{
	size_t n = strlen(s);
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void put_backtrace(int fd)
{
#if HAVE_BACKTRACE
	void *pcs[48];
	int n = backtrace(pcs, 48);
	put(fd, "==oblique== where it was (innermost first):\n");
	backtrace_symbols_fd(pcs, n, fd);
#else
	(void)fd;
#endif
}

static void on_alarm(int sig)
{
	(void)sig;
	put(2, watch_msg);
	put(2, watch_phase);
	put(2, "\n");
	put_backtrace(2);
	if (watch_stdout) {
		put(1, "\n# REPORT: run-timeout\n# ");
		put(1, watch_msg);
		put(1, "\n");
	}
	if (watch_rep[0]) {
		int fd = open(watch_rep, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			put(fd, watch_msg);
			put(fd, watch_phase);
			put(fd, "\n");
			put_backtrace(fd);
			close(fd);
		}
	}
	if (watch_art[0]) {
		int fd = open(watch_art, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0)
			close(fd); /* the empty input: any run of the binary starts the same way */
	}
	_exit(watch_rep[0] ? 70 : 1);
}

/* The warm-up probe child's alarm: where it hung (into the captured stderr, which
 * becomes the artifact's .report), then the default action — the parent reads the
 * signal. */
static void on_probe_alarm(int sig)
{
	put(2, "==oblique== warm-up: the program did not finish; where it was:\n");
	put_backtrace(2);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void watch_arm(unsigned seconds)
{
#if HAVE_BACKTRACE
	void *pc[1];
	backtrace(pc, 1); /* loads the unwinder now, not in the handler */
#endif
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm(seconds);
}

static void watch_disarm(void)
{
	alarm(0);
	signal(SIGALRM, SIG_DFL);
	watch_rep[0] = watch_art[0] = 0;
	watch_stdout = 0;
}


/* Every program run goes through here: the warm-up happens before the first one (the
 * engines' fuzz_setup calls it earlier, before the fork server), so commands that only
 * translate inputs (encode, decode, roundtrip) never start the deterministic engine —
 * the TSan build runs them to make its corpus, and the engine's fibers are not a TSan
 * configuration (targets/CMakeLists.txt: stress mode only under TSan). */
void h_run(const struct obq_h_target *tg, const struct program *p, const struct h_opts *o,
	   struct h_result *r, FILE *sched)
{
	h_warmup(tg); /* once; nothing after the first call (and nothing inside warm_runs) */
	obq_sched_canonical_regions();
	unsigned limit = engine_mode || in_warmup ? 0 : env_seconds("OBQ_H_RUN_TIMEOUT", 60);
	if (limit) {
		snprintf(watch_msg, sizeof watch_msg,
			 "==oblique== ERROR: run-timeout: target %s, input %s%s: the run did not "
			 "finish in %u s (OBQ_H_RUN_TIMEOUT) — a loop without a scheduling point, "
			 "in the allocator, the checker or the target, which the step budget "
			 "cannot see", tg->name, o->input_name ? o->input_name : "(bytes)",
			 h_adapter_arg()[0] ? " on a foreign adapter" : "", limit);
		watch_phase = "";
		watch_stdout = o->live_schedule || o->trace;
		watch_arm(limit);
	}
	h_det_run(tg, p, o, r, sched);
	if (limit)
		watch_disarm();
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
#define WARM_POOLS (-2)        /* warm_probe.k while the allocator's own warm-up runs */
struct warm_probe {
	volatile int k;        /* the program running now (-1: none yet; WARM_POOLS) */
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

/* Where an engine's artifact `name` goes: libFuzzer's -artifact_prefix, else
 * $OBQ_H_ARTIFACT_DIR, else the current directory. */
static void artifact_path(char *path, size_t cap, const char *name)
{
	const char *dir = getenv("OBQ_H_ARTIFACT_DIR");
	if (artifact_prefix[0])
		snprintf(path, cap, "%s%s", artifact_prefix, name);
	else if (dir && *dir)
		snprintf(path, cap, "%s/%s", dir, name);
	else
		snprintf(path, cap, "%s", name);
}

/* Beside the artifact: its .trace (the program, which replays it) and its .report
 * (what the probe child printed), as a fuzzing run's crash has them. */
static void warm_side_files(const struct obq_h_target *tg, const char *path, const uint8_t *buf,
			    size_t n, const char *what, FILE *cap)
{
	char side[8300];
	static struct program p;
	snprintf(side, sizeof side, "%s.trace", path);
	FILE *f = fopen(side, "w");
	if (f) {
		prog_decode(tg, buf, n, &p);
		prog_print(f, tg, &p, p.tape_len);
		fprintf(f, "# the harness's warm-up ran this program and it %s\n", what);
		fclose(f);
	}
	snprintf(side, sizeof side, "%s.report", path);
	f = fopen(side, "w");
	if (f) {
		/* A hang has no report of its own: name it, as a rule, for crash grouping.
		 * Nor need a report the child's error hook took (`reports <rule>`): the
		 * captured text may not hold it, so the rule heads the file as a report's
		 * first line does (obq-crash-group, ci/mutants.sh read that line). */
		if (strncmp(what, "does not finish", 15) == 0)
			fprintf(f, "==oblique== ERROR: warmup-timeout: target %s: the warm-up %s\n",
				tg->name, what);
		else if (strncmp(what, "reports ", 8) == 0)
			fprintf(f, "==oblique== ERROR: %s (the harness's warm-up, target %s)\n",
				what + 8, tg->name);
		else
			fprintf(f, "==oblique== warm-up: target %s: %s\n", tg->name, what);
		if (cap) {
			char line[1024];
			rewind(cap);
			while (fgets(line, sizeof line, cap))
				fputs(line, f);
		}
		fclose(f);
	}
}

/* The warm-up program k (WARM_POOLS: the allocator's own warm-up) failed (`what`):
 * under an engine, save its bytes as a crash artifact with its .trace and .report; say
 * so in one line. */
static void warm_failed(const struct obq_h_target *tg, int k, const char *what, FILE *cap)
{
	char kname[16];
	if (k == WARM_POOLS)
		snprintf(kname, sizeof kname, "pools");
	else
		snprintf(kname, sizeof kname, "%d", k);
	if (!engine_mode) {
		fprintf(stderr, "==oblique== harness: warm-up %s %s of target %s %s; running "
				"without the warm-up (under a fuzzing engine it is saved as "
				"crash-warmup-%s-%s)\n", k == WARM_POOLS ? "of the allocator," : "program",
			kname, tg->name, what, tg->name, kname);
		return;
	}
	/* The allocator's own warm-up has no program: program 0 stands for it (any run of
	 * the binary starts with the warm-up, which meets it again). */
	uint8_t buf[WARM_BYTES];
	uint64_t s = WARM_SEED;
	for (int j = 0; j <= (k < 0 ? 0 : k); j++)
		warm_bytes(&s, (unsigned)j, buf);
	char path[8192], name[256];
	snprintf(name, sizeof name, "crash-warmup-%s-%s", tg->name, kname);
	artifact_path(path, sizeof path, name);
	FILE *f = fopen(path, "wb");
	int saved = f && fwrite(buf, 1, sizeof buf, f) == sizeof buf;
	if (f && fclose(f) != 0)
		saved = 0;
	if (saved)
		warm_side_files(tg, path, buf, sizeof buf, what, cap);
	if (saved)
		fprintf(stderr, "==oblique== harness: CRASH in warm-up: program %s of target %s %s; "
				"saved as %s (.trace, .report beside it); fuzzing continues WITHOUT "
				"the warm-up; reproduce: %s %sreplay %s\n", kname, tg->name, what, path,
			self_path[0] ? self_path : tg->name, h_adapter_arg(), path);
	else
		fprintf(stderr, "==oblique== harness: CRASH in warm-up: program %s of target %s %s; "
				"could not save it as %s (%s); fuzzing continues WITHOUT the "
				"warm-up\n", kname, tg->name, what, path, strerror(errno));
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
	unsigned limit = env_seconds("OBQ_H_WARMUP_TIMEOUT", 60);
	if (pid == 0) {
		if (cap)
			dup2(fileno(cap), 2);
#if HAVE_BACKTRACE
		void *pc[1];
		backtrace(pc, 1); /* loads the unwinder now, not in the handler */
#endif
		signal(SIGALRM, on_probe_alarm); /* (not the init watchdog's: the parent reports) */
		alarm(limit); /* a loop that never returns to the scheduler */
		pr->k = WARM_POOLS;
		warm_slab_pools();
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
			snprintf(what, sizeof what, "does not finish (killed after %u s, "
				 "OBQ_H_WARMUP_TIMEOUT): a loop without a scheduling point", limit);
		else if (WIFSIGNALED(st))
			snprintf(what, sizeof what, "crashes (signal %d, %s%s)", WTERMSIG(st),
				 strsignal(WTERMSIG(st)), first);
		else
			snprintf(what, sizeof what, "crashes (exit status %d%s)", WEXITSTATUS(st), first);
		warm_failed(tg, pr->k == -1 ? 0 : pr->k, what, cap);
		rc = -1;
	}
	if (cap)
		fclose(cap);
	munmap(pr, sizeof *pr);
	return rc;
}

void h_warmup(const struct obq_h_target *tg)
{
	if (warmed)
		return;
	warmed = 1;
	h_det_init(tg);
	/* OBQ_H_WARMUP=0: none (a coverage profile of the corpus alone, ci/coverage.sh) */
	const char *e = getenv("OBQ_H_WARMUP");
	if (e && strcmp(e, "0") == 0)
		return;
	in_warmup = 1;
	watch_phase = " (phase: the warm-up's probe child)";
	if (warm_probe(tg) == 0) {
		watch_phase = " (phase: the allocator's warm-up)";
		warm_slab_pools(); /* the allocator alone: no target code */
		watch_phase = " (phase: the warm-up's synthetic programs)";
		warm_runs(tg, NULL);
	}
	watch_phase = "";
	in_warmup = 0;
}

/* ------------------------------------------------------------------ engines */

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

#if OBQ_H_WEAK
static void weak_totals_at_exit(void)
{
	h_weak_print_totals(stderr, "");
}
#endif

/* Is every argument a readable trace (a path ending in .trace, no engine flag)? */
static int only_traces(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (argv[i][0] == '-' || !h_is_trace_path(argv[i]))
			return 0;
	return argc >= 2;
}

int obq_h_fuzz_init(const struct obq_h_target *tg, int *argc, char ***argv)
{
	/* Our commands and options work under libFuzzer too: run them, exit.  So do bare
	 * readable traces: libFuzzer would run a trace's text as bytes, another program,
	 * silently; the runner replays it as the standalone binary does (its report, its
	 * reproduce line, its exit status; a bad trace is exit 2). */
	if (*argc >= 2 && (h_is_command((*argv)[1]) || strncmp((*argv)[1], "--", 2) == 0 ||
			   only_traces(*argc, *argv)))
		exit(h_runner_main(tg, *argc, *argv));
	/* where libFuzzer puts its artifacts: a warm-up crash goes there too */
	for (int i = 1; *argv && i < *argc; i++)
		if (strncmp((*argv)[i], "-artifact_prefix=", 17) == 0)
			snprintf(artifact_prefix, sizeof artifact_prefix, "%s", (*argv)[i] + 17);
	if (*argv && *argc >= 1 && (*argv)[0])
		snprintf(self_path, sizeof self_path, "%s", (*argv)[0]);
	/* The whole initialisation under an alarm (libFuzzer's -timeout starts after it):
	 * a hang becomes a report and an artifact, not a silent job. */
	unsigned limit = env_seconds("OBQ_H_INIT_TIMEOUT", 600);
	if (limit) {
		char name[256];
		snprintf(name, sizeof name, "crash-init-%s", tg->name);
		artifact_path(watch_art, sizeof watch_art, name);
		snprintf(watch_rep, sizeof watch_rep, "%.4200s.report", watch_art);
		snprintf(watch_msg, sizeof watch_msg,
			 "==oblique== ERROR: init-timeout: target %s did not finish its "
			 "initialisation (LLVMFuzzerInitialize / the AFL++ set-up) in %u s "
			 "(OBQ_H_INIT_TIMEOUT); saved as %.1000s (the empty input: every run of the "
			 "binary starts this way) with %.1000s", tg->name, limit, watch_art, watch_rep);
		watch_phase = " (phase: set-up)";
		watch_arm(limit);
	}
	fuzz_setup(tg);
	if (limit)
		watch_disarm();
#if OBQ_H_WEAK
	/* A campaign of the weak-memory build ends (libFuzzer's exit after -runs or
	 * -max_total_time) with what the model saw, on stderr beside libFuzzer's final
	 * lines: the runner's summary line, so a user sees the atomics reach the model. */
	atexit(weak_totals_at_exit);
#endif
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
