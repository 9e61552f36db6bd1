/* test_wmm.c — the weak-memory model's litmus tests (targets/harness/wmm.h).
 *
 * Each litmus test is a few threads of loads, stores, RMWs and fences over locations x,
 * y, z.  The explorer runs it under every schedule and every choice the model offers
 * (which store a load reads, where a store goes in modification order), exhaustively,
 * and collects the outcomes (registers, then the final value of the locations the test
 * names).  The test passes when the set reached is exactly the set expected: every
 * outcome the C11 model allows is reached and none it forbids — except where the doc
 * (docs/weak-memory.md) states a limit of the model, which the table below marks and
 * asserts as not reached.  Plain-access variants check the race detector: a race in
 * some execution, or in none.
 *
 *   test_wmm            run the table; print one line per test; exit 1 on a mismatch
 *   test_wmm --print    also print the outcomes reached */
#include "../harness/wmm.h"
#include "explore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { X, Y, Z, NLOC };
enum { RLX = WMM_RELAXED, ACQ = WMM_ACQUIRE, REL = WMM_RELEASE, AR = WMM_ACQ_REL, SC = WMM_SEQ_CST };

struct lop {
	char kind;    /* L load, S store, A fetch_add, F fence, P plain load, W plain store,
		       * C constructor store (over the indeterminate 9), 0 end */
	int loc;
	int order;
	int val;      /* store value / add amount */
	int reg;      /* load: register written; -1 none */
	int if_reg;   /* >= 0: only if that register is non-zero (else the register stays 0) */
};

#define L(loc, o, r) {'L', loc, o, 0, r, -1}
#define LIF(loc, o, r, c) {'L', loc, o, 0, r, c}
#define S(loc, o, v) {'S', loc, o, v, -1, -1}
#define A(loc, o, v, r) {'A', loc, o, v, r, -1}
#define F(o) {'F', 0, o, 0, -1, -1}
#define PL(loc, r, c) {'P', loc, 0, 0, r, c}
#define PW(loc, v) {'W', loc, 0, v, -1, -1}
#define CT(loc, v) {'C', loc, 0, v, -1, -1}

#define MAXT 4
#define MAXOPS 4

struct litmus {
	const char *name;
	unsigned nthreads;
	struct lop ops[MAXT][MAXOPS + 1];
	unsigned nregs;
	const char *finals;     /* locations whose final value is part of the outcome: "xy" */
	const char *expect;     /* outcomes reached, space separated, sorted ("0,1;x=1" ...) */
	const char *not_modelled; /* allowed by C11 but not produced (model limit), or NULL */
	int race;               /* -1: not checked; 0: no execution races; 1: some does */
	const char *source;
};

/* ---- the explorer (explore.h) ------------------------------------------------- */

#define MAXOUT 64
struct outcomes {
	char s[MAXOUT][48];
	unsigned n;
	unsigned races;      /* executions with a race */
	unsigned long runs;
};

static void add_outcome(struct outcomes *o, const char *s)
{
	for (unsigned i = 0; i < o->n; i++)
		if (strcmp(o->s[i], s) == 0)
			return;
	if (o->n < MAXOUT)
		snprintf(o->s[o->n++], sizeof o->s[0], "%s", s);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static void run_once(struct wmm *m, const struct litmus *lt, struct outcomes *out)
{
	uint64_t mem[NLOC] = {0};
	int reg[8] = {0};
	unsigned pc[MAXT] = {0};
	int raced = 0;
	wmm_reset(m);
	pos = 0;
	/* thread MAXT is the setup/observer: everything starts after its initial stores */
	for (unsigned t = 0; t < lt->nthreads; t++)
		wmm_sync(m, MAXT, t);
	for (;;) {
		unsigned ready[MAXT], nr = 0;
		for (unsigned t = 0; t < lt->nthreads; t++)
			if (lt->ops[t][pc[t]].kind)
				ready[nr++] = t;
		if (nr == 0)
			break;
		unsigned t = ready[pick(nr)];
		const struct lop *op = &lt->ops[t][pc[t]++];
		if (op->if_reg >= 0 && reg[op->if_reg] == 0)
			continue;
		struct wmm_race race;
		switch (op->kind) {
		case 'L':
			reg[op->reg] = (int)wmm_load(m, t, &mem[op->loc], mem[op->loc],
						       (enum wmm_order)op->order, NULL);
			raced |= wmm_access(m, t, &mem[op->loc], 8, 0, 1, NULL, &race);
			break;
		case 'S':
			raced |= wmm_access(m, t, &mem[op->loc], 8, 1, 1, NULL, &race);
			if (wmm_store(m, t, &mem[op->loc], mem[op->loc], (uint64_t)op->val,
				      (enum wmm_order)op->order))
				mem[op->loc] = (uint64_t)op->val;
			break;
		case 'A': {
			uint64_t old = mem[op->loc];
			raced |= wmm_access(m, t, &mem[op->loc], 8, 1, 1, NULL, &race);
			wmm_rmw(m, t, &mem[op->loc], old, old + (uint64_t)op->val, 1,
				(enum wmm_order)op->order);
			mem[op->loc] = old + (uint64_t)op->val;
			if (op->reg >= 0)
				reg[op->reg] = (int)old;
			break;
		}
		case 'F':
			wmm_fence(m, t, (enum wmm_order)op->order);
			break;
		case 'P':
			raced |= wmm_access(m, t, &mem[op->loc], 8, 0, 0, NULL, &race);
			reg[op->reg] = (int)mem[op->loc];
			break;
		case 'W':
			raced |= wmm_access(m, t, &mem[op->loc], 8, 1, 0, NULL, &race);
			mem[op->loc] = (uint64_t)op->val;
			break;
		case 'C': /* before any access to loc in the run (the tests make sure) */
			wmm_ctor_store(m, t, &mem[op->loc], 9, (uint64_t)op->val);
			mem[op->loc] = (uint64_t)op->val;
			break;
		}
	}
	char s[48];
	size_t n = 0;
	for (unsigned r = 0; r < lt->nregs; r++)
		n += (size_t)snprintf(s + n, sizeof s - n, "%s%d", r ? "," : "", reg[r]);
	if (lt->finals && *lt->finals) {
		/* the observer joins everyone, then reads the latest of each location */
		for (unsigned t = 0; t < lt->nthreads; t++)
			wmm_sync(m, t, MAXT);
		for (const char *f = lt->finals; *f; f++) {
			int loc = *f - 'x';
			uint64_t v = wmm_load(m, MAXT, &mem[loc], mem[loc], WMM_SEQ_CST, NULL);
			n += (size_t)snprintf(s + n, sizeof s - n, "%s%c=%d", f == lt->finals ? (lt->nregs ? ";" : "") : ",",
					      *f, (int)v);
		}
	}
	add_outcome(out, s);
	out->races += raced != 0;
	out->runs++;
}

static void explore(struct wmm *m, const struct litmus *lt, struct outcomes *out)
{
	memset(out, 0, sizeof *out);
	nch = 0;
	overflow = 0;
	do
		run_once(m, lt, out);
	while (explore_next());
	qsort(out->s, out->n, sizeof out->s[0], cmp_str);
}

/* ---- the table ------------------------------------------------------------------- */
/* Expected sets: the C11/C++20 model (herd7's c11 model, the litmus tests of
 * Batty et al., "Mathematizing C++ concurrency", POPL 2011, and the C++20 SC-fence
 * rules of P0668R5); docs/weak-memory.md lists them. */

static const struct litmus table[] = {
	/* MP: message passing. */
	{"MP+rlx", 2, {{S(X, RLX, 1), S(Y, RLX, 1)}, {L(Y, RLX, 0), L(X, RLX, 1)}}, 2, "",
	 "0,0 0,1 1,0 1,1", NULL, -1, "relaxed: the flag does not order the data"},
	{"MP+rel+acq", 2, {{S(X, RLX, 1), S(Y, REL, 1)}, {L(Y, ACQ, 0), L(X, RLX, 1)}}, 2, "",
	 "0,0 0,1 1,1", NULL, -1, "1,0 forbidden: acquire reads the release"},
	{"MP+fences", 2, {{S(X, RLX, 1), F(REL), S(Y, RLX, 1)}, {L(Y, RLX, 0), F(ACQ), L(X, RLX, 1)}},
	 2, "", "0,0 0,1 1,1", NULL, -1, "fence-fence synchronisation"},
	{"MP+sc", 2, {{S(X, SC, 1), S(Y, SC, 1)}, {L(Y, SC, 0), L(X, SC, 1)}}, 2, "",
	 "0,0 0,1 1,1", NULL, -1, "sequential consistency"},
	/* SB: store buffering. */
	{"SB+rlx", 2, {{S(X, RLX, 1), L(Y, RLX, 0)}, {S(Y, RLX, 1), L(X, RLX, 1)}}, 2, "",
	 "0,0 0,1 1,0 1,1", NULL, -1, "both stale: allowed"},
	{"SB+rel+acq", 2, {{S(X, REL, 1), L(Y, ACQ, 0)}, {S(Y, REL, 1), L(X, ACQ, 1)}}, 2, "",
	 "0,0 0,1 1,0 1,1", NULL, -1, "release/acquire does not forbid SB"},
	{"SB+fences", 2, {{S(X, RLX, 1), F(SC), L(Y, RLX, 0)}, {S(Y, RLX, 1), F(SC), L(X, RLX, 1)}},
	 2, "", "0,1 1,0 1,1", NULL, -1, "0,0 forbidden by seq_cst fences"},
	{"SB+sc", 2, {{S(X, SC, 1), L(Y, SC, 0)}, {S(Y, SC, 1), L(X, SC, 1)}}, 2, "",
	 "0,1 1,0 1,1", NULL, -1, "0,0 forbidden"},
	/* LB: load buffering. */
	{"LB+rlx", 2, {{L(X, RLX, 0), S(Y, RLX, 1)}, {L(Y, RLX, 1), S(X, RLX, 1)}}, 2, "",
	 "0,0 0,1 1,0", "1,1", -1, "1,1 allowed by C11, not produced: loads run in program order"},
	{"LB+acq+rel", 2, {{L(X, ACQ, 0), S(Y, REL, 1)}, {L(Y, ACQ, 1), S(X, REL, 1)}}, 2, "",
	 "0,0 0,1 1,0", NULL, -1, "1,1 forbidden"},
	{"LB+sc", 2, {{L(X, SC, 0), S(Y, SC, 1)}, {L(Y, SC, 1), S(X, SC, 1)}}, 2, "",
	 "0,0 0,1 1,0", NULL, -1, "1,1 forbidden"},
	/* 2+2W: two writers, final values. */
	{"2+2W+rlx", 2, {{S(X, RLX, 1), S(Y, RLX, 2)}, {S(Y, RLX, 1), S(X, RLX, 2)}}, 0, "xy",
	 "x=1,y=1 x=1,y=2 x=2,y=1 x=2,y=2", NULL, -1, "coherence orders differ: allowed"},
	{"2+2W+rel", 2, {{S(X, REL, 1), S(Y, REL, 2)}, {S(Y, REL, 1), S(X, REL, 2)}}, 0, "xy",
	 "x=1,y=1 x=1,y=2 x=2,y=1 x=2,y=2", NULL, -1, "release stores alone do not forbid it"},
	{"2+2W+fences", 2, {{S(X, RLX, 1), F(SC), S(Y, RLX, 2)}, {S(Y, RLX, 1), F(SC), S(X, RLX, 2)}},
	 0, "xy", "x=1,y=2 x=2,y=1 x=2,y=2", NULL, -1, "x=1,y=1 forbidden (C++20 SC fences)"},
	{"2+2W+sc", 2, {{S(X, SC, 1), S(Y, SC, 2)}, {S(Y, SC, 1), S(X, SC, 2)}}, 0, "xy",
	 "x=1,y=2 x=2,y=1 x=2,y=2", NULL, -1, "x=1,y=1 forbidden"},
	/* WRC: write-to-read causality. */
	{"WRC+rlx", 3, {{S(X, RLX, 1)}, {L(X, RLX, 0), S(Y, RLX, 1)}, {L(Y, RLX, 1), L(X, RLX, 2)}}, 3,
	 "", "0,0,0 0,0,1 0,1,0 0,1,1 1,0,0 1,0,1 1,1,0 1,1,1", NULL, -1, "all allowed"},
	{"WRC+rel+acq", 3, {{S(X, RLX, 1)}, {L(X, RLX, 0), S(Y, REL, 1)}, {L(Y, ACQ, 1), L(X, RLX, 2)}},
	 3, "", "0,0,0 0,0,1 0,1,0 0,1,1 1,0,0 1,0,1 1,1,1", NULL, -1,
	 "1,1,0 forbidden: read-read coherence through happens-before"},
	{"WRC+fences", 3,
	 {{S(X, RLX, 1)}, {L(X, RLX, 0), F(REL), S(Y, RLX, 1)}, {L(Y, RLX, 1), F(ACQ), L(X, RLX, 2)}},
	 3, "", "0,0,0 0,0,1 0,1,0 0,1,1 1,0,0 1,0,1 1,1,1", NULL, -1, "1,1,0 forbidden"},
	{"WRC+sc", 3, {{S(X, SC, 1)}, {L(X, SC, 0), S(Y, SC, 1)}, {L(Y, SC, 1), L(X, SC, 2)}}, 3, "",
	 "0,0,0 0,0,1 0,1,0 0,1,1 1,0,0 1,0,1 1,1,1", NULL, -1, "1,1,0 forbidden"},
	/* IRIW: independent reads of independent writes. */
	{"IRIW+rlx", 4, {{S(X, RLX, 1)}, {S(Y, RLX, 1)}, {L(X, RLX, 0), L(Y, RLX, 1)}, {L(Y, RLX, 2), L(X, RLX, 3)}},
	 4, "", NULL, NULL, -1, "all 16 allowed (checked: 1,0,1,0 reached)"},
	{"IRIW+acq", 4, {{S(X, REL, 1)}, {S(Y, REL, 1)}, {L(X, ACQ, 0), L(Y, ACQ, 1)}, {L(Y, ACQ, 2), L(X, ACQ, 3)}},
	 4, "", NULL, NULL, -1, "all 16 allowed: acquire/release is not multi-copy atomic in C11"},
	{"IRIW+fences", 4,
	 {{S(X, RLX, 1)}, {S(Y, RLX, 1)}, {L(X, RLX, 0), F(SC), L(Y, RLX, 1)}, {L(Y, RLX, 2), F(SC), L(X, RLX, 3)}},
	 4, "", NULL, NULL, -1, "1,0,1,0 forbidden (C++20 SC fences)"},
	{"IRIW+sc", 4, {{S(X, SC, 1)}, {S(Y, SC, 1)}, {L(X, SC, 0), L(Y, SC, 1)}, {L(Y, SC, 2), L(X, SC, 3)}},
	 4, "", NULL, NULL, -1, "1,0,1,0 forbidden"},
	/* RCU publish / subscribe: data at z, pointer at y (rcu_assign_pointer = release,
	 * rcu_dereference = acquire here, consume in the kernel), the reader dereferences
	 * only a non-NULL pointer.  Plain data: the race detector's cases. */
	{"RCU+pub+sub", 2, {{PW(Z, 42), S(Y, REL, 1)}, {L(Y, ACQ, 0), PL(Z, 1, 0)}}, 2, "",
	 "0,0 1,42", NULL, 0, "correct: no stale data, no race"},
	{"RCU+rlx-publish", 2, {{PW(Z, 42), S(Y, RLX, 1)}, {L(Y, ACQ, 0), PL(Z, 1, 0)}}, 2, "",
	 "0,0 1,42", NULL, 1, "publish with a relaxed store: the data read races"},
	{"RCU+rlx-deref", 2, {{S(Z, RLX, 42), S(Y, REL, 1)}, {L(Y, RLX, 0), LIF(Z, RLX, 1, 0)}}, 2, "",
	 "0,0 1,0 1,42", NULL, -1, "rcu_dereference as a relaxed load: stale data (1,0)"},
	{"RCU+rlx-deref-plain", 2, {{PW(Z, 42), S(Y, REL, 1)}, {L(Y, RLX, 0), PL(Z, 1, 0)}}, 2, "",
	 "0,0 1,42", NULL, 1, "... and with plain data it is a race"},
	/* A constructor's store (a new slab's object, wmm_ctor_store) over an indeterminate
	 * 9, then its publication: the reader dereferences only a non-NULL pointer. */
	{"CTOR+pub+sub", 2, {{CT(Z, 1), S(Y, REL, 1)}, {L(Y, ACQ, 0), LIF(Z, RLX, 1, 0)}}, 2, "",
	 "0,0 1,1", NULL, -1, "1,9 forbidden: the release publishes the constructor's store"},
	{"CTOR+rlx-publish", 2, {{CT(Z, 1), S(Y, RLX, 1)}, {L(Y, ACQ, 0), LIF(Z, RLX, 1, 0)}}, 2, "",
	 "0,0 1,1 1,9", NULL, -1, "published relaxed: the memory before the constructor (1,9)"},
	/* Release sequence through an RMW (C++20): T1's fetch_add continues T0's release. */
	{"MP+rel+rmw+acq", 3, {{S(X, RLX, 1), S(Y, REL, 1)}, {A(Y, RLX, 2, -1)}, {L(Y, ACQ, 0), L(X, RLX, 1)}},
	 2, "", "0,0 0,1 1,1 2,0 2,1 3,1", NULL, -1,
	 "3,0 forbidden: an RMW on the release (1 + 2) continues its release sequence"},
};

#define NTAB (sizeof table / sizeof table[0])

/* IRIW expected sets, built: all 16, or all but the non-multi-copy-atomic one. */
static void iriw_expect(char *buf, size_t sz, int forbid_1010)
{
	size_t n = 0;
	buf[0] = 0;
	for (unsigned v = 0; v < 16; v++) {
		unsigned a = v >> 3 & 1, b = v >> 2 & 1, c = v >> 1 & 1, d = v & 1;
		if (forbid_1010 && a == 1 && b == 0 && c == 1 && d == 0)
			continue;
		n += (size_t)snprintf(buf + n, sz - n, "%s%u,%u,%u,%u", n ? " " : "", a, b, c, d);
	}
}

int main(int argc, char **argv)
{
	int print = argc > 1 && strcmp(argv[1], "--print") == 0;
	struct wmm *m = wmm_new(MAXT + 1);
	if (m == NULL) {
		fprintf(stderr, "test_wmm: wmm_new failed\n");
		return 2;
	}
	wmm_set_chooser(m, chooser, NULL);
	int bad = 0;
	static struct outcomes out;
	for (size_t i = 0; i < NTAB; i++) {
		const struct litmus *lt = &table[i];
		char want[1024];
		if (lt->expect)
			snprintf(want, sizeof want, "%s", lt->expect);
		else
			iriw_expect(want, sizeof want, strstr(lt->name, "fences") || strstr(lt->name, "+sc"));
		explore(m, lt, &out);
		char got[1024];
		size_t n = 0;
		got[0] = 0;
		for (unsigned k = 0; k < out.n; k++)
			n += (size_t)snprintf(got + n, sizeof got - n, "%s%s", k ? " " : "", out.s[k]);
		/* sort want the same way */
		char wl[MAXOUT][48];
		unsigned wn = 0;
		char tmp[1024];
		snprintf(tmp, sizeof tmp, "%s", want);
		for (char *tok = strtok(tmp, " "); tok && wn < MAXOUT; tok = strtok(NULL, " "))
			snprintf(wl[wn++], sizeof wl[0], "%s", tok);
		qsort(wl, wn, sizeof wl[0], cmp_str);
		size_t wn2 = 0;
		want[0] = 0;
		for (unsigned k = 0; k < wn; k++)
			wn2 += (size_t)snprintf(want + wn2, sizeof want - wn2, "%s%s", k ? " " : "", wl[k]);
		int ok = strcmp(got, want) == 0 && !overflow;
		if (lt->not_modelled)
			for (unsigned k = 0; k < out.n; k++)
				if (strcmp(out.s[k], lt->not_modelled) == 0)
					ok = 0;
		if (lt->race >= 0 && (out.races > 0) != lt->race)
			ok = 0;
		printf("%-22s %s  %lu executions, %u outcomes%s%s%s\n", lt->name, ok ? "ok  " : "FAIL",
		       out.runs, out.n, lt->race >= 0 ? (out.races ? ", races" : ", no race") : "",
		       lt->not_modelled ? "; not produced (model limit): " : "",
		       lt->not_modelled ? lt->not_modelled : "");
		if (!ok || print)
			printf("    want: %s\n    got:  %s%s\n", want, got, overflow ? " (choice overflow)" : "");
		bad += !ok;
	}
	/* A value written outside the model (memory differs from the newest store) is the
	 * newest store for every thread: nothing older can be read. */
	{
		uint64_t cell = 0;
		int ok = 1;
		wmm_reset(m);
		nch = 0;
		wmm_set_chooser(m, chooser, NULL);
		do {
			pos = 0;
			wmm_reset(m);
			if (wmm_store(m, 0, &cell, 0, 1, WMM_RELAXED))
				cell = 1;
			cell = 7; /* a plain store the model does not see */
			ok &= wmm_load(m, 1, &cell, cell, WMM_RELAXED, NULL) == 7;
		} while (explore_next());
		wmm_set_chooser(m, chooser, NULL);
		printf("%-22s %s\n", "external-write", ok ? "ok  " : "FAIL");
		bad += !ok;
	}
	/* Two 4-byte fields in one 8-byte granule (a 32-bit struct: a plain `int` beside an
	 * atomic pointer).  Thread 1 reads the pointer atomically, then the int plainly;
	 * thread 0 then stores the pointer atomically, unordered: no race (the plain read
	 * touched other bytes).  Its plain store to the int is a race with the plain read.
	 * (The read's atomicity was once one flag per thread, so the later plain read of
	 * the neighbour made the earlier atomic read plain: a false data-race on i686; and a
	 * write forgot the reads of the granule's other bytes: the race below was missed.) */
	{
		static _Alignas(8) uint32_t pair[2]; /* [0]: plain field, [1]: atomic field */
		struct wmm_race race;
		wmm_reset(m);
		int r1 = wmm_access(m, 1, &pair[1], 4, 0, 1, NULL, &race);
		int r2 = wmm_access(m, 1, &pair[0], 4, 0, 0, NULL, &race);
		int r3 = wmm_access(m, 0, &pair[1], 4, 1, 1, NULL, &race);
		int ok = !r1 && !r2 && !r3;
		int r4 = wmm_access(m, 0, &pair[0], 4, 1, 0, NULL, &race);
		ok &= r4 && race.other == 1 && !race.other_write;
		printf("%-22s %s  (races: %d %d %d %d)\n", "granule-neighbours", ok ? "ok  " : "FAIL", r1, r2, r3, r4);
		bad += !ok;
	}
	wmm_free(m);
	printf("%s: %zu litmus tests, %d mismatch%s\n", bad ? "FAILED" : "ok", NTAB, bad, bad == 1 ? "" : "es");
	return bad ? 1 : 0;
}
