/* dict.c — `<target> dict`: the target's libFuzzer / AFL++ dictionary, from its ops[].
 *
 * Every byte of an entry comes from prog_encode (program.h's layout), so a dictionary
 * printed from the binary always matches the target it was printed from: reordering,
 * adding or renaming an operation changes the output, and the committed
 * corpus/<target>.dict of oblique's own targets is compared with it by ctest
 * (dict-<target>, targets/CMakeLists.txt).  Regenerate with
 *	build/default/targets/<target> dict > corpus/<target>.dict
 *
 * What it prints (deterministic: a function of ops[] and the layout only):
 *  - header tokens: 2..4 threads x reuse (recycle, rcu-debug) x policy (tape, pct depth
 *    3, preempt bound 3), seed 1, an operation count of 8;
 *  - per operation (a comment names it, its opcode index and argument count): on every
 *    thread, the operation with zero argument bytes; on threads 0 and 1, with argument
 *    bytes 1, 2, ... (distinct handles) when it takes any. */
#include "program.h"

#include <stdlib.h>
#include <string.h>

static void print_entry(const char *name, const uint8_t *b, size_t n)
{
	printf("%s=\"", name);
	for (size_t i = 0; i < n; i++)
		printf("\\x%02x", b[i]);
	printf("\"\n");
}

/* One operation `op` on thread `tid` with argument bytes `arg`: its bytes after the
 * header of a 4-thread program (4 threads, so that every thread number is valid). */
static void print_op(const struct obq_h_target *tg, struct program *p, uint8_t *buf,
		     unsigned op, unsigned tid, const uint8_t *arg)
{
	memset(p, 0, sizeof *p);
	p->nthreads = OBQ_H_MAX_THREADS;
	p->nops[tid] = 1;
	p->ops[tid][0].opcode = (uint8_t)op;
	memcpy(p->ops[tid][0].arg, arg, OBQ_H_MAX_ARGS);
	size_t n = prog_encode(tg, p, 0, buf);
	char name[96];
	int k = snprintf(name, sizeof name, "op_%s_t%u", tg->ops[op].name, tid);
	for (unsigned a = 0; a < tg->ops[op].nargs && k > 0 && (size_t)k < sizeof name; a++)
		k += snprintf(name + k, sizeof name - (size_t)k, "_%u", arg[a]);
	print_entry(name, buf + PROG_HDR, n - PROG_HDR);
}

int h_cmd_dict(const struct obq_h_target *tg, const struct cli *c)
{
	(void)c;
	struct program *p = malloc(sizeof *p);
	uint8_t *buf = malloc(prog_encoded_max());
	if (!p || !buf) {
		free(p);
		free(buf);
		fprintf(stderr, "%s dict: out of memory\n", tg->name);
		return 2;
	}
	printf("# %s.dict — libFuzzer / AFL++ dictionary for the %s target, printed by\n"
	       "# `%s dict` from its ops[] (targets/harness/dict.c): do not edit, regenerate.\n"
	       "# Header tokens (byte 0: threads-1 | reuse<<2 | policy<<3 | param<<5; bytes 1-2\n"
	       "# seed; byte 3 op count; byte 4 allocator shape), then single operations\n"
	       "# (opcode byte: thread<<6 | operation index; argument bytes).\n",
	       tg->name, tg->name, tg->name);
	static const struct { unsigned policy, param; const char *name; } pol[] = {
		{POL_TAPE, 0, "tape"}, {POL_PCT, 2, "pct3"}, {POL_PREEMPT, 3, "preempt3"},
	};
	for (unsigned th = 2; th <= OBQ_H_MAX_THREADS; th++)
		for (unsigned reuse = 0; reuse < 2; reuse++)
			for (size_t k = 0; k < sizeof pol / sizeof pol[0]; k++) {
				memset(p, 0, sizeof *p);
				p->nthreads = th;
				p->reuse = reuse;
				p->policy = pol[k].policy;
				p->param = pol[k].param;
				p->seed = 1;
				prog_encode(tg, p, 0, buf);
				buf[3] = 8; /* an op count, without the operations: the fuzzer adds them */
				char name[64];
				snprintf(name, sizeof name, "hdr_t%u_%s_%s", th,
					 reuse ? "rcudebug" : "recycle", pol[k].name);
				print_entry(name, buf, PROG_HDR);
			}
	for (unsigned op = 0; op < tg->nops; op++) {
		unsigned na = tg->ops[op].nargs;
		printf("# op %u: %s (%u argument byte%s)\n", op, tg->ops[op].name, na,
		       na == 1 ? "" : "s");
		uint8_t zero[OBQ_H_MAX_ARGS] = {0}, seq[OBQ_H_MAX_ARGS];
		for (unsigned a = 0; a < OBQ_H_MAX_ARGS; a++)
			seq[a] = (uint8_t)(a + 1);
		for (unsigned tid = 0; tid < OBQ_H_MAX_THREADS; tid++)
			print_op(tg, p, buf, op, tid, zero);
		for (unsigned tid = 0; na && tid < 2; tid++)
			print_op(tg, p, buf, op, tid, seq);
	}
	free(p);
	free(buf);
	return fflush(stdout) == 0 ? 0 : 1;
}
