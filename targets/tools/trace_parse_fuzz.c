/* trace_parse_fuzz.c — a fuzz target over the trace parser (targets/harness/program.c):
 * trace text comes from users (obq-trace encode, every target's runner), so any text
 * must give a program or a located error, never a crash, a leak or unbounded memory.
 *
 * Property checked on every input that parses: parse -> print -> parse gives the same
 * program, and printing that program again gives the same text (the round trip
 * decode(encode(text)) == text that the <target>-roundtrip ctests check on the corpus,
 * here on whatever the fuzzer makes).  A violation aborts (a crash for the engine).
 *
 * The parser needs a target for the operation names: this file has one whose name is
 * the input's own "target" line (any name is accepted) and whose operations are those
 * of every target of targets/targets.list (names and argument counts; "read" takes 2
 * argument bytes for rcu_gp and 1 elsewhere, as in the targets), so the committed
 * traces of every target are seeds.  Keep the table in step when a target gains an
 * operation (a trace that stops parsing is still an input, only a poorer seed).
 *
 * Built in the libFuzzer configuration (OBQ_FUZZ_ENGINE=libfuzzer: the engine's main)
 * and in every other one with the small main below, which runs the files and
 * directories given (one level) — the ctest `trace-parse-fuzz-seeds` over corpus/. */
#include "../harness/program.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define INPUT_MAX 65536 /* longer texts are cut: the parser's cost is linear */

#define OP(n, a) { n, a, NULL }
static struct obq_h_op ops[] = {
	OP("alloc", 2), OP("bad_create", 1), OP("bad_free", 1), OP("barrier", 0),
	OP("bulk", 1), OP("close", 1), OP("del", 1), OP("delete", 2), OP("drop_held", 0),
	OP("dup", 2), OP("exec", 1), OP("exit", 1), OP("free", 1), OP("get", 1),
	OP("hold", 1), OP("insert", 1), OP("kill_all", 1), OP("lock_read", 1),
	OP("lookup", 2), OP("map", 2), OP("move", 2), OP("new", 1), OP("open", 2),
	OP("put_held", 0), OP("read", 1), OP("read_lock", 1), OP("read_nested", 1),
	OP("read_ref", 1), OP("read_seq", 1), OP("read_slow", 2), OP("recreate", 1),
	OP("release", 0), OP("remove", 1), OP("replace", 2), OP("shrink", 1),
	OP("signal", 2), OP("start", 2), OP("stash", 1), OP("stats", 1), OP("sync", 0),
	OP("unmap", 1), OP("use_held", 0), OP("use_stash", 0), OP("write", 1),
};
#define NOPS (sizeof ops / sizeof ops[0])

static char tname[64];
static struct obq_h_target tg = { .name = tname, .ops = ops, .nops = NOPS };

static struct program p1, p2; /* large: static */
static int last_parsed;       /* the last input parsed (and round-tripped) */

/* Print p into a malloc'd string (NULL if out of memory). */
static char *print_str(const struct program *p, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (f == NULL)
		return NULL;
	prog_print(f, &tg, p, p->tape_len);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > INPUT_MAX)
		size = INPUT_MAX;
	char *text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (prog_text_target(text, tname, sizeof tname) != 0 || tname[0] == '\0')
		snprintf(tname, sizeof tname, "rcu_gp");
	for (size_t i = 0; i < NOPS; i++)
		if (strcmp(ops[i].name, "read") == 0)
			ops[i].nargs = strcmp(tname, "rcu_gp") == 0 ? 2 : 1;
	last_parsed = prog_parse("input", text, &tg, &p1) == 0;
	if (last_parsed) {
		size_t l1 = 0, l2 = 0;
		char *t1 = print_str(&p1, &l1);
		if (t1 == NULL)
			abort();
		if (prog_parse("printed", t1, &tg, &p2) != 0) {
			fprintf(stderr, "trace_parse_fuzz: the printed program does not parse:\n%s", t1);
			abort();
		}
		if (memcmp(&p1, &p2, sizeof p1) != 0) {
			fprintf(stderr, "trace_parse_fuzz: parse(print(p)) != p; printed:\n%s", t1);
			abort();
		}
		char *t2 = print_str(&p2, &l2);
		if (t2 == NULL)
			abort();
		if (l1 != l2 || memcmp(t1, t2, l1) != 0) {
			fprintf(stderr, "trace_parse_fuzz: print(parse(print(p))) != print(p):\n%s---\n%s",
				t1, t2);
			abort();
		}
		free(t1);
		free(t2);
	}
	free(text);
	return 0;
}

#ifndef OBQ_TRACE_PARSE_LIBFUZZER
/* Without libFuzzer: run each file, and each regular file of each directory given; a
 * file named *.trace (a committed trace) must parse. */
static unsigned nparsed;

static int run_file(const char *path, unsigned *n)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		perror(path);
		return 1;
	}
	static uint8_t buf[INPUT_MAX];
	size_t len = fread(buf, 1, sizeof buf, f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	(*n)++;
	nparsed += (unsigned)last_parsed;
	size_t pl = strlen(path);
	if (!last_parsed && pl > 6 && strcmp(path + pl - 6, ".trace") == 0) {
		fprintf(stderr, "trace_parse_fuzz: %s: a committed trace does not parse\n", path);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned n = 0;
	int bad = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			perror(argv[i]);
			return 2;
		}
		if (!S_ISDIR(st.st_mode)) {
			bad |= run_file(argv[i], &n);
			continue;
		}
		DIR *d = opendir(argv[i]);
		if (d == NULL) {
			perror(argv[i]);
			return 2;
		}
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
				bad |= run_file(path, &n);
		}
		closedir(d);
	}
	printf("trace_parse_fuzz: %u input(s), %u parsed and round-tripped\n", n, nparsed);
	return bad || n == 0;
}
#endif
