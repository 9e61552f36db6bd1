/* runner.c — the deterministic targets' command line (the engines' entry points and
 * how a run starts are engine.c's).
 *
 *   <target> [options] [FILE|DIR]...   replay inputs (raw bytes, or .trace text)
 *   <target> decode FILE               the program as text, realised schedule, report
 *   <target> encode TRACE [-o OUT]     trace text -> canonical bytes
 *   <target> replay FILE               run with full step tracing
 *   <target> minimize FILE [-o OUT]    shrink a failing input keeping its report rule
 *   <target> roundtrip FILE|DIR...     check decode/encode round trips
 *   <target> dict                      the dictionary, from ops[] (dict.c)
 * options: --selfcheck (run each input twice, compare what happened),
 *          --adapter=NAME (oblique, malloc, registered ones; env OBQ_ADAPTER),
 *          --expect-report=RULE|any (run each input in a child; pass iff it reports),
 *          --quiet.
 * Under libFuzzer the same commands work: LLVMFuzzerInitialize runs them before
 * libFuzzer parses its flags.  Exit status: 0 ok, 1 a failure, 2 usage / bad text.
 * The arguments are parsed once (cli_parse) into a struct cli the commands read. */
#define _GNU_SOURCE
#include "hint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <oblique/oblique.h>
#include <oblique/testing.h>

static const char *const commands[] = {"decode", "encode", "replay", "minimize", "roundtrip",
				       "dict", "run", NULL};

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
		"       %s dict\n"
		"adapters: ",
		tg->name, tg->name, tg->name, tg->name, tg->name, tg->name, tg->name);
	h_adapter_list(stderr);
	return 2;
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
		if (!h_is_input_name(e->d_name))
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

/* What the command line asked for: cli_parse fills it, the commands read it. */
struct cli {
	const char *cmd;             /* decode, encode, replay, minimize, roundtrip; NULL: run */
	int selfcheck;               /* --selfcheck, or OBQ_SELFCHECK=1 */
	int quiet;                   /* --quiet */
	const char *expect;          /* --expect-report=RULE|any */
	const char *in;              /* decode, encode, replay, minimize: the input */
	const char *out;             /* encode, minimize: -o OUT */
	struct paths inputs;         /* run, roundtrip: the files, directories expanded */
};

/* The command's input as bytes (a .trace encoded); NULL: a message was printed. */
static uint8_t *load_in(const struct obq_h_target *tg, const struct cli *c, size_t *n)
{
	int tr;
	return h_load_input(tg, c->in, n, &tr);
}

static int cmd_decode(const struct obq_h_target *tg, const struct cli *c)
{
	size_t n;
	uint8_t *d = load_in(tg, c, &n);
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

static int cmd_encode(const struct obq_h_target *tg, const struct cli *c)
{
	size_t n;
	char *text = h_read_file(c->in, &n);
	if (!text)
		return 2;
	if (prog_parse(c->in, text, tg, &prog_a) < 0) {
		free(text);
		return 2;
	}
	free(text);
	uint8_t *buf = malloc(prog_encoded_max());
	size_t len = prog_encode(tg, &prog_a, prog_a.tape_len, buf);
	int rc = write_out(c->out, buf, len);
	free(buf);
	return rc;
}

static int cmd_replay(const struct obq_h_target *tg, const struct cli *c)
{
	size_t n;
	uint8_t *d = load_in(tg, c, &n);
	if (!d)
		return 2;
	prog_decode(tg, d, n, &prog_a);
	prog_print(stdout, tg, &prog_a, prog_a.tape_len);
	printf("---- replay (adapter %s)\n", h_adapter_current() ? h_adapter_current()->name : "oblique");
	fflush(stdout); /* then every step as it happens (det.c): a crash loses none */
	struct h_opts o = {.trace = stdout, .input_name = c->in};
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

/* What the minimizer's passes share: a candidate (q, its bytes in tmp) keeps the
 * current program only when it fails with the same rule. */
struct mini {
	const struct obq_h_target *tg;
	const char *rule;            /* the report rule to keep */
	uint8_t *tmp;                /* candidate bytes (prog_encoded_max() + input length) */
	struct program *q;           /* candidate program */
};

/* q's canonical bytes fail the same way. */
static int mini_keeps(const struct mini *m, const struct program *q)
{
	size_t l = canon(m->tg, q, q->tape_len, m->tmp);
	return same_failure(m->tg, m->tmp, l, m->rule);
}

/* 1. bytes: remove chunks, halving the chunk size; returns the new length of cur. */
static size_t minimize_bytes(const struct mini *m, uint8_t *cur, size_t len)
{
	uint8_t *tmp = m->tmp;
	for (size_t chunk = len / 2 ? len / 2 : 1; chunk >= 1; chunk /= 2) {
		for (size_t i = 0; i + chunk <= len;) {
			memcpy(tmp, cur, i);
			memcpy(tmp + i, cur + i + chunk, len - i - chunk);
			if (same_failure(m->tg, tmp, len - chunk, m->rule)) {
				len -= chunk;
				memcpy(cur, tmp, len);
			} else {
				i += chunk;
			}
		}
		if (chunk == 1)
			break;
	}
	return len;
}

/* 2. whole threads, then whole operations, until neither goes. */
static void minimize_program(const struct mini *m, struct program *P)
{
	struct program *Q = m->q;
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
			if (mini_keeps(m, Q)) {
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
				if (mini_keeps(m, Q)) {
					*P = *Q;
					changed = 1;
					i--;
				}
			}
	}
}

/* 3. preemptions: replace a preempting tape byte by one that keeps the thread. */
static void minimize_preemptions(const struct mini *m, struct program *P)
{
	struct program *Q = m->q;
	for (int changed = 1; changed;) {
		changed = 0;
		struct h_opts o3 = {0};
		h_run(m->tg, P, &o3, &res_a, NULL);
		struct h_preempt pre[256];
		size_t np = h_det_preemptions(pre, 256);
		for (size_t k = 0; k < np; k++) {
			*Q = *P;
			if (pre[k].tape_idx >= Q->tape_len || Q->tape[pre[k].tape_idx] == pre[k].stay)
				continue;
			Q->tape[pre[k].tape_idx] = pre[k].stay;
			if (mini_keeps(m, Q)) {
				*P = *Q;
				changed = 1;
				break;
			}
		}
	}
}

/* Shrink a failing input keeping its report rule: bytes, then (canonical) threads and
 * operations, then preemptions; the result to -o OUT (its decode text on stdout) or
 * stdout. */
static int cmd_minimize(const struct obq_h_target *tg, const struct cli *c)
{
	size_t n;
	uint8_t *d0 = load_in(tg, c, &n);
	if (!d0)
		return 2;
	struct h_opts o = {0};
	run_bytes(tg, d0, n, &o, &prog_a, &res_a, NULL);
	if (!res_a.failed) {
		fprintf(stderr, "%s: no report: nothing to minimize\n", c->in);
		free(d0);
		return 1;
	}
	char rule[48];
	snprintf(rule, sizeof rule, "%s", res_a.rule);
	size_t cap = prog_encoded_max() + n;
	uint8_t *cur = malloc(cap);
	struct mini m = {tg, rule, malloc(cap), malloc(sizeof(struct program))};
	memcpy(cur, d0, n);
	free(d0);
	size_t len = n;
	fprintf(stderr, "minimize: rule %s, %zu bytes\n", rule, len);
	len = minimize_bytes(&m, cur, len);
	fprintf(stderr, "minimize: bytes -> %zu\n", len);
	/* canonical form */
	struct h_opts o2 = {0};
	struct program *P = malloc(sizeof *P);
	run_bytes(tg, cur, len, &o2, P, &res_a, NULL);
	len = canon(tg, P, res_a.tape_used, cur);
	prog_decode(tg, cur, len, P);
	minimize_program(&m, P);
	fprintf(stderr, "minimize: %u thread(s), %u operation(s)\n", P->nthreads, prog_total_ops(P));
	minimize_preemptions(&m, P);
	struct h_opts o4 = {0};
	h_run(tg, P, &o4, &res_a, NULL);
	len = canon(tg, P, res_a.tape_used, cur);
	fprintf(stderr, "minimize: %zu bytes, %u preemption(s), %u runs; rule %s\n", len,
		res_a.preemptions, min_runs, rule);
	int rc = write_out(c->out, cur, len);
	if (c->out) {
		struct h_result r;
		decode_text(tg, cur, len, stdout, &r);
	}
	free(cur);
	free(m.tmp);
	free(P);
	free(m.q);
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

/* The options before a command, from argv[*i] on (*i moves past them).  0, or the exit
 * status (--help: 0 with *done set). */
static int cli_options(const struct obq_h_target *tg, int argc, char **argv, int *i,
		       struct cli *c, int *done)
{
	for (; *i < argc && argv[*i][0] == '-' && argv[*i][1] == '-'; (*i)++) {
		const char *a = argv[*i];
		if (strcmp(a, "--selfcheck") == 0)
			c->selfcheck = 1;
		else if (strcmp(a, "--quiet") == 0)
			c->quiet = 1;
		else if (strncmp(a, "--adapter=", 10) == 0) {
			const struct obq_h_allocator *al = h_adapter_select(a + 10);
			if (!al) {
				fprintf(stderr, "%s: unknown adapter '%s'\n", tg->name, a + 10);
				return usage(tg);
			}
			h_adapter_choose(al, "--adapter");
		} else if (strncmp(a, "--expect-report=", 16) == 0)
			c->expect = a + 16;
		else if (strcmp(a, "--help") == 0) {
			usage(tg);
			*done = 1;
			return 0;
		} else
			return usage(tg);
	}
	return 0;
}

/* The one argument parser: options (before a command), the command, its arguments.
 * 0, or the exit status to return at once (a message or the usage printed; --help: 0
 * with *done set). */
static int cli_parse(const struct obq_h_target *tg, int argc, char **argv, struct cli *c,
		     int *done)
{
	int i = 1;
	*done = 0;
	int rc = cli_options(tg, argc, argv, &i, c, done);
	if (rc != 0 || *done)
		return rc;
	if (getenv("OBQ_SELFCHECK") && strcmp(getenv("OBQ_SELFCHECK"), "1") == 0)
		c->selfcheck = 1;
	if (i < argc && h_is_command(argv[i]))
		c->cmd = argv[i++];
	if (c->cmd && strcmp(c->cmd, "run") == 0)
		c->cmd = NULL;
	if (c->cmd && strcmp(c->cmd, "dict") == 0)
		return i == argc ? 0 : usage(tg);
	if (c->cmd && (strcmp(c->cmd, "decode") == 0 || strcmp(c->cmd, "replay") == 0)) {
		if (argc - i != 1)
			return usage(tg);
		c->in = argv[i];
		return 0;
	}
	if (c->cmd && (strcmp(c->cmd, "encode") == 0 || strcmp(c->cmd, "minimize") == 0)) {
		for (; i < argc; i++) {
			if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
				c->out = argv[++i];
			else if (!c->in && argv[i][0] != '-')
				c->in = argv[i];
			else
				return usage(tg);
		}
		return c->in ? 0 : usage(tg);
	}
	/* run, roundtrip: inputs, directories expanded in order */
	for (; i < argc; i++) {
		if (!c->cmd && argv[i][0] == '-' && argv[i][1] == '-')
			return usage(tg);
		if (collect(&c->inputs, argv[i]) < 0)
			return 2;
	}
	if (c->inputs.n == 0) {
		if (!c->cmd)
			fprintf(stderr, "%s: no inputs (standalone runner: give files or directories)\n",
				tg->name);
		return usage(tg);
	}
	return 0;
}

static int cmd_roundtrip(const struct obq_h_target *tg, const struct cli *c)
{
	int bad = 0;
	for (size_t k = 0; k < c->inputs.n; k++)
		bad |= roundtrip_one(tg, c->inputs.v[k]);
	if (!c->quiet)
		printf("%s roundtrip: %zu input(s), %s\n", tg->name, c->inputs.n,
		       bad ? "FAILED" : "ok");
	return bad;
}

/* Run every input (--expect-report: each in a child that must report; --selfcheck:
 * each twice, the same hash); a summary line with the events summed. */
static int cmd_run(const struct obq_h_target *tg, const struct cli *c)
{
	const struct paths *ps = &c->inputs;
	int bad = 0;
	unsigned nfail = 0, nrun = 0;
	unsigned evsum[OBQ_EV_COUNT] = {0};
	for (size_t k = 0; k < ps->n; k++) {
		size_t n;
		int tr;
		uint8_t *d = h_load_input(tg, ps->v[k], &n, &tr);
		if (!d)
			return 2;
		nrun++;
		if (c->expect) {
			bad |= expect_one(tg, ps->v[k], d, n, c->expect, c->quiet);
			free(d);
			continue;
		}
		struct h_opts o = {.input_name = ps->v[k], .print_failure = 1};
		run_bytes(tg, d, n, &o, &prog_a, &res_a, NULL);
		for (unsigned e = 0; e < OBQ_EV_COUNT; e++)
			evsum[e] += res_a.events[e];
		if (res_a.failed) {
			fprintf(stderr, "%s: FAILED (%s)\n", ps->v[k], res_a.rule);
			nfail++;
			bad = 1;
		} else if (c->selfcheck) {
			struct h_opts o2 = {.input_name = ps->v[k]};
			run_bytes(tg, d, n, &o2, &prog_b, &res_b, NULL);
			if (res_b.hash != res_a.hash || res_b.failed != res_a.failed) {
				fprintf(stderr, "%s: SELFCHECK FAILED: hash %016llx then %016llx\n",
					ps->v[k], (unsigned long long)res_a.hash,
					(unsigned long long)res_b.hash);
				bad = 1;
				nfail++;
			}
		}
		free(d);
	}
	const struct obq_h_allocator *a = h_adapter_current();
	if (!c->quiet && !c->expect) {
		printf("%s: %u input(s), %u failed%s (adapter %s, %lu allocations through it)\n",
		       tg->name, nrun, nfail, c->selfcheck ? ", self-check on" : "",
		       a ? a->name : "oblique", h_adapter_allocs);
		print_events(stdout, "  ", evsum);
		h_weak_print_totals(stdout, "  ");
	}
	/* A target that bypasses the adapter (oblique's API directly) would pass every
	 * input on any allocator without testing it: say so, and fail. */
	if (!c->expect && nrun > 0 && h_adapter_allocs == 0 && a && a != &obq_h_allocator_oblique) {
		fprintf(stderr, "%s: no allocation went through the adapter %s in %u input(s): "
				"they tested nothing on it\n", tg->name, a->name, nrun);
		bad = 1;
	}
	return bad;
}

static const struct {
	const char *name;
	int (*fn)(const struct obq_h_target *tg, const struct cli *c);
} command_fns[] = {
	{"decode", cmd_decode}, {"encode", cmd_encode}, {"replay", cmd_replay},
	{"minimize", cmd_minimize}, {"roundtrip", cmd_roundtrip}, {"dict", h_cmd_dict},
};

int h_runner_main(const struct obq_h_target *tg, int argc, char **argv)
{
	struct cli c = {0};
	int done;
	int rc = cli_parse(tg, argc, argv, &c, &done);
	if (rc == 0 && !done) {
		int (*fn)(const struct obq_h_target *, const struct cli *) = cmd_run;
		for (size_t k = 0; c.cmd && k < sizeof command_fns / sizeof command_fns[0]; k++)
			if (strcmp(c.cmd, command_fns[k].name) == 0)
				fn = command_fns[k].fn;
		rc = fn(tg, &c);
	}
	paths_free(&c.inputs);
	return rc;
}

int obq_h_main(const struct obq_h_target *tg, int argc, char **argv)
{
	return h_runner_main(tg, argc, argv);
}
