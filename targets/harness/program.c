/* program.c — fuzz input <-> program <-> trace text (layout in program.h).
 *
 * Text form, as obq-trace decode prints it and encode reads it:
 *
 *	target anon_vma
 *	threads 2
 *	reuse recycle               (or rcu-debug)
 *	policy pct depth=3          (or: tape | preempt bound=2)
 *	seed 0x00a1
 *	alloc slab=1 keep=0 shrink=2 order=1   (absent: all 0, the default allocator shape)
 *	ops
 *	  T0            | T1
 *	  map 1 0       | lookup 1
 *	  unmap 1       |
 *	end
 *	tape 03 ff 10               (schedule bytes in consumption order; may repeat)
 *
 * '#' starts a comment; blank lines are ignored. */
#include "hint.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <errno.h>

static const char *const pol_names[POL_COUNT] = {"tape", "pct", "preempt"};

/* Header byte 4 (program.h).  Index 0 of each is the allocator as it was before the
 * byte existed, so a shape byte of 0 runs every older trace unchanged.  The small
 * geometries are obq_cache_set_fuzz_geometry's (one-object magazines, no depot): with
 * keep_empty 0 an empty slab goes back (through a grace period) as soon as it empties.
 * The last has magazines and a depot, small ones, so that frees fill the depot and
 * refills take from it (the depot's paths; it replaced `8 keep=1`, which no committed
 * trace used). */
const struct h_geometry h_geometries[8] = {
	{0, 0, 0}, {1, 0, 0}, {1, 1, 0}, {2, 0, 0}, {2, 1, 0}, {4, 0, 0}, {8, 0, 0}, {4, 0, 1},
};
const unsigned h_shrink_periods[8] = {0, 1, 2, 3, 4, 6, 8, 16};

const char *prog_adapter;
int (*prog_input_adapter)(const char *name, const char *path);

static void stamp_adapter(struct program *p)
{
	p->adapter[0] = 0;
	if (prog_adapter && strcmp(prog_adapter, "oblique") != 0)
		snprintf(p->adapter, sizeof p->adapter, "%s", prog_adapter);
}

const char *policy_name(unsigned p)
{
	return p < POL_COUNT ? pol_names[p] : "?";
}

unsigned prog_total_ops(const struct program *p)
{
	unsigned n = 0;
	for (unsigned t = 0; t < p->nthreads; t++)
		n += p->nops[t] & 0xfff; /* prog_parse marks ended columns with 0x1000 */
	return n;
}

void prog_decode(const struct obq_h_target *tg, const uint8_t *data, size_t size,
		 struct program *p)
{
	size_t pos = 0;
#define BYTE() (pos < size ? data[pos++] : 0)
	uint8_t b0 = BYTE();
	p->nthreads = (b0 & 3) + 1;
	p->reuse = (b0 >> 2) & 1;
	p->policy = (b0 >> 3) & 3;
	if (p->policy >= POL_COUNT)
		p->policy = POL_TAPE;
	p->param = b0 >> 5;
	p->seed = BYTE();
	p->seed |= (unsigned)BYTE() << 8;
	unsigned n = BYTE() % (OBQ_H_MAX_OPS + 1);
	p->shape = BYTE();
	stamp_adapter(p);
	memset(p->nops, 0, sizeof p->nops);
	for (unsigned i = 0; i < n && pos < size; i++) {
		uint8_t c = BYTE();
		unsigned t = (c >> 6) % p->nthreads;
		unsigned op = (c & 63) % tg->nops;
		struct prog_op tmp = {.opcode = (uint8_t)op};
		for (unsigned a = 0; a < tg->ops[op].nargs && a < OBQ_H_MAX_ARGS; a++)
			tmp.arg[a] = BYTE();
		if (p->nops[t] < OBQ_H_MAX_THREAD_OPS)
			p->ops[t][p->nops[t]++] = tmp;
	}
#undef BYTE
	size_t rest = pos < size ? size - pos : 0;
	if (rest > PROG_MAX_TAPE)
		rest = PROG_MAX_TAPE;
	p->tape_len = rest;
	for (size_t i = 0; i < rest; i++)
		p->tape[i] = data[size - 1 - i];
}

size_t prog_encoded_max(void)
{
	return PROG_HDR + OBQ_H_MAX_OPS * (1 + OBQ_H_MAX_ARGS) + PROG_MAX_TAPE;
}

size_t prog_encode(const struct obq_h_target *tg, const struct program *p, size_t tape_used,
		   uint8_t *buf)
{
	size_t n = 0;
	buf[n++] = (uint8_t)((p->nthreads - 1) | (p->reuse << 2) | (p->policy << 3) |
			     ((p->policy == POL_TAPE ? 0 : p->param) << 5));
	buf[n++] = (uint8_t)(p->seed & 0xff);
	buf[n++] = (uint8_t)(p->seed >> 8);
	buf[n++] = (uint8_t)prog_total_ops(p);
	buf[n++] = (uint8_t)p->shape;
	for (unsigned t = 0; t < p->nthreads; t++)
		for (unsigned i = 0; i < p->nops[t]; i++) {
			const struct prog_op *o = &p->ops[t][i];
			buf[n++] = (uint8_t)((t << 6) | o->opcode);
			for (unsigned a = 0; a < tg->ops[o->opcode].nargs; a++)
				buf[n++] = o->arg[a];
		}
	if (tape_used > p->tape_len)
		tape_used = p->tape_len;
	for (size_t i = 0; i < tape_used; i++)
		buf[n + tape_used - 1 - i] = p->tape[i];
	return n + tape_used;
}

/* ---- text output ---- */

static int cell_text(const struct obq_h_target *tg, const struct prog_op *o, char *buf,
		     size_t cap)
{
	int n = snprintf(buf, cap, "%s", tg->ops[o->opcode].name);
	for (unsigned a = 0; a < tg->ops[o->opcode].nargs; a++)
		n += snprintf(buf + n, cap - n, " %u", o->arg[a]);
	return n;
}

void prog_print(FILE *f, const struct obq_h_target *tg, const struct program *p,
		size_t tape_used)
{
	fprintf(f, "target %s\n", tg->name);
	if (p->adapter[0])
		fprintf(f, "adapter %s\n", p->adapter);
	fprintf(f, "threads %u\n", p->nthreads);
	fprintf(f, "reuse %s\n", p->reuse ? "rcu-debug" : "recycle");
	if (p->policy == POL_PCT)
		fprintf(f, "policy pct depth=%u\n", p->param + 1);
	else if (p->policy == POL_PREEMPT)
		fprintf(f, "policy preempt bound=%u\n", p->param);
	else
		fprintf(f, "policy tape\n");
	fprintf(f, "seed 0x%04x\n", p->seed);
	if (p->shape) {
		const struct h_geometry *g = &h_geometries[PROG_GEOM(p->shape)];
		if (g->slab_objects && g->mag_batch)
			fprintf(f, "alloc slab=%u keep=%u mag=%u", g->slab_objects, g->keep_empty,
				2 * g->mag_batch);
		else if (g->slab_objects)
			fprintf(f, "alloc slab=%u keep=%u", g->slab_objects, g->keep_empty);
		else
			fprintf(f, "alloc slab=default");
		fprintf(f, " shrink=%u order=%u\n", h_shrink_periods[PROG_SHRINK(p->shape)],
			PROG_ORDER(p->shape));
	}
	fprintf(f, "ops\n");
	int w[OBQ_H_MAX_THREADS];
	unsigned rows = 0;
	char cell[96];
	for (unsigned t = 0; t < p->nthreads; t++) {
		w[t] = 2;
		for (unsigned i = 0; i < p->nops[t]; i++) {
			int n = cell_text(tg, &p->ops[t][i], cell, sizeof cell);
			if (n > w[t])
				w[t] = n;
		}
		if (p->nops[t] > rows)
			rows = p->nops[t];
	}
	for (unsigned r = 0; r <= rows; r++) {
		char line[OBQ_H_MAX_THREADS * 100];
		int n = snprintf(line, sizeof line, " ");
		for (unsigned t = 0; t < p->nthreads; t++) {
			if (r == 0)
				snprintf(cell, sizeof cell, "T%u", t);
			else if (r - 1 < p->nops[t])
				cell_text(tg, &p->ops[t][r - 1], cell, sizeof cell);
			else
				cell[0] = 0;
			n += snprintf(line + n, sizeof line - n, " %-*s", w[t], cell);
			if (t + 1 < p->nthreads)
				n += snprintf(line + n, sizeof line - n, " |");
		}
		while (n > 0 && line[n - 1] == ' ')
			line[--n] = 0;
		fprintf(f, "%s\n", line);
	}
	fprintf(f, "end\n");
	if (tape_used > p->tape_len)
		tape_used = p->tape_len;
	for (size_t i = 0; i < tape_used; i += 24) {
		fprintf(f, "tape");
		for (size_t j = i; j < tape_used && j < i + 24; j++)
			fprintf(f, " %02x", p->tape[j]);
		fprintf(f, "\n");
	}
}

/* ---- text input ---- */

struct lex {
	const char *fname;   /* for messages */
	const char *s;       /* whole text */
	const char *line;    /* start of the current line */
	unsigned lineno;     /* 1-based */
};

static int perr(const struct lex *L, const char *at, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s:%u:%u: ", L->fname, L->lineno, (unsigned)(at - L->line) + 1);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* Copy the current line (without comment and newline) into buf; advance.  0 at EOF,
 * -1 (reported) for a line that does not fit: nothing is silently cut off. */
static int next_line(struct lex *L, const char **cur, char *buf, size_t cap, const char **start)
{
	if (**cur == 0)
		return 0;
	const char *b = *cur;
	const char *e = strchr(b, '\n');
	if (e == NULL)
		e = b + strlen(b);
	size_t n = (size_t)(e - b);
	const char *hash = memchr(b, '#', n);
	if (hash)
		n = (size_t)(hash - b);
	if (n >= cap) {
		fprintf(stderr, "%s:%u:%zu: line longer than %zu bytes (a trace line holds at most "
				"that much)\n", L->fname, L->lineno + 1, cap, cap - 1);
		return -1;
	}
	memcpy(buf, b, n);
	buf[n] = 0;
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = 0;
	L->line = b;
	*start = b;
	*cur = *e ? e + 1 : e;
	return 1;
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

/* Parse an unsigned number (decimal or 0x hex) at p; returns end or NULL. */
static const char *parse_num(const char *p, unsigned long *v, int hex_only)
{
	char *end;
	if (hex_only)
		*v = strtoul(p, &end, 16);
	else
		*v = strtoul(p, &end, 0);
	if (end == p || (*end && !isspace((unsigned char)*end) && *end != '|'))
		return NULL;
	return end;
}

static int parse_cell(struct lex *L, const struct obq_h_target *tg, const char *lb,
		      const char *lstart, char *cell, struct prog_op *o)
{
	/* cell points into lb (a copy of the line at lstart) */
#define AT(q) (lstart + ((q) - lb))
	char *p = (char *)skip_ws(cell);
	char *e = p;
	while (*e && !isspace((unsigned char)*e))
		e++;
	char save = *e;
	*e = 0;
	unsigned op;
	for (op = 0; op < tg->nops; op++)
		if (strcmp(tg->ops[op].name, p) == 0)
			break;
	if (op == tg->nops) {
		perr(L, AT(p), "unknown operation '%s' for target %s", p, tg->name);
		return -1;
	}
	*e = save;
	memset(o, 0, sizeof *o);
	o->opcode = (uint8_t)op;
	const char *q = e;
	for (unsigned a = 0; a < tg->ops[op].nargs; a++) {
		q = skip_ws(q);
		if (!*q)
			return perr(L, AT(q), "operation '%s' takes %u argument byte(s)",
				    tg->ops[op].name, tg->ops[op].nargs);
		unsigned long v;
		const char *qe = parse_num(q, &v, 0);
		if (qe == NULL || v > 255)
			return perr(L, AT(q), "argument must be a number 0..255");
		o->arg[a] = (uint8_t)v;
		q = qe;
	}
	q = skip_ws(q);
	if (*q)
		return perr(L, AT(q), "operation '%s' takes %u argument byte(s)", tg->ops[op].name,
			    tg->ops[op].nargs);
	return 0;
#undef AT
}

/* The "alloc" line: slab=default|N [keep=K] [mag=M] shrink=P order=R, fields in any
 * order, each optional (absent: 0).  (slab, keep, mag: a thread magazine's objects,
 * 0 for one-object magazines) must be a row of h_geometries, P one of
 * h_shrink_periods. */
static int parse_shape(struct lex *L, const char *arg, const char *ls, const char *lb,
		       unsigned *shape)
{
#define AT(q) (ls + ((q) - lb))
	unsigned long slab = 0, keep = 0, mag = 0, shrink = 0, order = 0;
	int dflt = 0;
	const char *q = arg;
	while (*(q = skip_ws(q))) {
		unsigned long *v = NULL;
		const char *val;
		if (strncmp(q, "slab=default", 12) == 0 && (!q[12] || isspace((unsigned char)q[12]))) {
			dflt = 1;
			q += 12;
			continue;
		}
		if (strncmp(q, "slab=", 5) == 0)
			v = &slab, val = q + 5;
		else if (strncmp(q, "keep=", 5) == 0)
			v = &keep, val = q + 5;
		else if (strncmp(q, "mag=", 4) == 0)
			v = &mag, val = q + 4;
		else if (strncmp(q, "shrink=", 7) == 0)
			v = &shrink, val = q + 7;
		else if (strncmp(q, "order=", 6) == 0)
			v = &order, val = q + 6;
		else
			return perr(L, AT(q), "alloc takes slab=default|N keep=K mag=M shrink=P order=R");
		const char *e = parse_num(val, v, 0);
		if (!e)
			return perr(L, AT(val), "a number");
		q = e;
	}
	unsigned g = 8, s = 8;
	if (dflt && (slab || keep || mag))
		return perr(L, AT(arg), "slab=default takes no slab size, keep nor mag");
	for (unsigned i = 0; i < 8; i++)
		if (h_geometries[i].slab_objects == slab && h_geometries[i].keep_empty == keep &&
		    2 * h_geometries[i].mag_batch == mag)
			g = i;
	if (g == 8)
		return perr(L, AT(arg), "no geometry slab=%lu keep=%lu mag=%lu (slab=default, 1 keep=0|1, "
			    "2 keep=0|1, 4 keep=0, 8 keep=0, 4 keep=0 mag=2)", slab, keep, mag);
	for (unsigned i = 0; i < 8; i++)
		if (h_shrink_periods[i] == shrink)
			s = i;
	if (s == 8)
		return perr(L, AT(arg), "shrink must be 0, 1, 2, 3, 4, 6, 8 or 16");
	if (order > 3)
		return perr(L, AT(arg), "order must be 0..3");
	*shape = g | s << 3 | (unsigned)order << 6;
	return 0;
#undef AT
}

int prog_text_target(const char *text, char *name, size_t cap)
{
	const char *p = text;
	while (*p) {
		p = skip_ws(p);
		if (strncmp(p, "target", 6) == 0 && (p[6] == ' ' || p[6] == '\t')) {
			p = skip_ws(p + 6);
			size_t n = 0;
			while (p[n] && !isspace((unsigned char)p[n]) && p[n] != '#')
				n++;
			if (n >= cap)
				n = cap - 1;
			memcpy(name, p, n);
			name[n] = 0;
			return 0;
		}
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	name[0] = 0;
	return -1;
}

int prog_parse(const char *fname, const char *text, const struct obq_h_target *tg,
	       struct program *p)
{
	struct lex L = {.fname = fname, .s = text, .line = text, .lineno = 0};
	const char *cur = text, *ls;
	char lb[1024];
	int seen_target = 0, seen_threads = 0, in_ops = 0, done_ops = 0, header_row = 0;
	memset(p, 0, sizeof *p);
	p->nthreads = 1;
	int nl;
	while ((nl = next_line(&L, &cur, lb, sizeof lb, &ls)) > 0) {
		L.lineno++;
#define AT(q) (ls + ((q) - lb))
		const char *s = skip_ws(lb);
		if (!*s)
			continue;
		if (in_ops) {
			if (strcmp(s, "end") == 0) {
				in_ops = 0;
				done_ops = 1;
				if (!header_row)
					return perr(&L, AT(s), "missing the T0 | T1 ... header row");
				continue;
			}
			/* split on '|' */
			char *cells[OBQ_H_MAX_THREADS + 1];
			unsigned nc = 0;
			char *c = (char *)s;
			cells[nc++] = c;
			for (; *c; c++)
				if (*c == '|') {
					*c = 0;
					if (nc > OBQ_H_MAX_THREADS)
						return perr(&L, AT(c), "too many columns");
					cells[nc++] = c + 1;
				}
			if (nc != p->nthreads)
				return perr(&L, AT(s), "%u column(s), expected %u (threads)", nc,
					    p->nthreads);
			if (!header_row) {
				for (unsigned t = 0; t < nc; t++) {
					char want[8];
					snprintf(want, sizeof want, "T%u", t);
					const char *q = skip_ws(cells[t]);
					size_t l = strlen(q);
					while (l && isspace((unsigned char)q[l - 1]))
						l--;
					if (l != strlen(want) || strncmp(q, want, l) != 0)
						return perr(&L, AT(q), "expected column header '%s'", want);
				}
				header_row = 1;
				continue;
			}
			for (unsigned t = 0; t < nc; t++) {
				const char *q = skip_ws(cells[t]);
				if (!*q) {
					p->nops[t] |= 0x1000; /* column ended */
					continue;
				}
				if (p->nops[t] & 0x1000)
					return perr(&L, AT(q), "operation after an empty cell in column T%u", t);
				if ((p->nops[t] & 0xfff) >= OBQ_H_MAX_THREAD_OPS)
					return perr(&L, AT(q), "more than %d operations in thread T%u",
						    OBQ_H_MAX_THREAD_OPS, t);
				if (prog_total_ops(p) >= OBQ_H_MAX_OPS)
					return perr(&L, AT(q), "more than %d operations", OBQ_H_MAX_OPS);
				if (parse_cell(&L, tg, lb, ls, cells[t], &p->ops[t][p->nops[t]]) < 0)
					return -1;
				p->nops[t]++;
			}
			continue;
		}
		const char *kw = s;
		const char *e = s;
		while (*e && !isspace((unsigned char)*e))
			e++;
		size_t kl = (size_t)(e - kw);
		const char *arg = skip_ws(e);
#define KW(x) (kl == strlen(x) && strncmp(kw, x, kl) == 0)
		if (KW("target")) {
			if (strcmp(arg, tg->name) != 0)
				return perr(&L, AT(arg), "trace is for target '%s', this is '%s'", arg,
					    tg->name);
			seen_target = 1;
		} else if (KW("threads")) {
			unsigned long v;
			if (!parse_num(arg, &v, 0) || v < 1 || v > OBQ_H_MAX_THREADS)
				return perr(&L, AT(arg), "threads must be 1..%d", OBQ_H_MAX_THREADS);
			if (done_ops)
				return perr(&L, AT(kw), "'threads' must come before 'ops'");
			p->nthreads = (unsigned)v;
			seen_threads = 1;
		} else if (KW("reuse")) {
			if (strcmp(arg, "recycle") == 0)
				p->reuse = 0;
			else if (strcmp(arg, "rcu-debug") == 0)
				p->reuse = 1;
			else
				return perr(&L, AT(arg), "reuse must be 'recycle' or 'rcu-debug'");
		} else if (KW("policy")) {
			if (strcmp(arg, "tape") == 0) {
				p->policy = POL_TAPE;
				p->param = 0;
			} else if (strncmp(arg, "pct depth=", 10) == 0) {
				unsigned long v;
				if (!parse_num(arg + 10, &v, 0) || v < 1 || v > 8)
					return perr(&L, AT(arg + 10), "pct depth must be 1..8");
				p->policy = POL_PCT;
				p->param = (unsigned)v - 1;
			} else if (strncmp(arg, "preempt bound=", 14) == 0) {
				unsigned long v;
				if (!parse_num(arg + 14, &v, 0) || v > 7)
					return perr(&L, AT(arg + 14), "preempt bound must be 0..7");
				p->policy = POL_PREEMPT;
				p->param = (unsigned)v;
			} else {
				return perr(&L, AT(arg),
					    "policy must be 'tape', 'pct depth=N' or 'preempt bound=N'");
			}
		} else if (KW("seed")) {
			unsigned long v;
			if (!parse_num(arg, &v, 0) || v > 0xffff)
				return perr(&L, AT(arg), "seed must be 0..0xffff");
			p->seed = (unsigned)v;
		} else if (KW("adapter")) {
			size_t l = strlen(arg);
			if (l == 0 || l >= sizeof p->adapter ||
			    strspn(arg, "abcdefghijklmnopqrstuvwxyz0123456789_-") != l)
				return perr(&L, AT(arg), "adapter: a name of at most %zu characters "
					    "[a-z0-9_-]", sizeof p->adapter - 1);
			memcpy(p->adapter, arg, l + 1);
			if (strcmp(p->adapter, "oblique") == 0)
				p->adapter[0] = 0; /* the default: printed as no line */
		} else if (KW("alloc")) {
			if (parse_shape(&L, arg, ls, lb, &p->shape) < 0)
				return -1;
		} else if (KW("ops")) {
			if (*arg)
				return perr(&L, AT(arg), "unexpected text after 'ops'");
			if (done_ops)
				return perr(&L, AT(kw), "a second 'ops' section");
			in_ops = 1;
		} else if (KW("tape")) {
			const char *q = arg;
			while (*(q = skip_ws(q))) {
				unsigned long v;
				const char *qe = parse_num(q, &v, 1);
				if (!qe || v > 255 || qe - q != 2)
					return perr(&L, AT(q), "tape bytes are two hex digits");
				if (p->tape_len >= PROG_MAX_TAPE)
					return perr(&L, AT(q), "tape longer than %d bytes", PROG_MAX_TAPE);
				p->tape[p->tape_len++] = (uint8_t)v;
				q = qe;
			}
		} else {
			return perr(&L, AT(kw), "unknown keyword '%.*s'", (int)kl, kw);
		}
#undef KW
#undef AT
	}
	if (nl < 0)
		return -1;
	L.lineno++;
	L.line = cur;
	if (in_ops)
		return perr(&L, cur, "missing 'end' after 'ops'");
	if (!seen_target)
		return perr(&L, cur, "missing 'target' line");
	(void)seen_threads;
	for (unsigned t = 0; t < OBQ_H_MAX_THREADS; t++)
		p->nops[t] &= 0xfff;
	return 0;
}

/* ---- loading inputs (runner and stress) ---- */

/* The largest input read: a program needs a few hundred bytes (OBQ_H_MAX_OPS operations
 * and their schedule); a bigger file is a mistake (or /dev/zero), not an input. */
#define INPUT_MAX ((size_t)16 << 20)

char *h_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fprintf(stderr, "%s: is a directory (this command takes one input file)\n", path);
		fclose(f);
		return NULL;
	}
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	for (;;) {
		if (buf == NULL) {
			fprintf(stderr, "%s: out of memory reading it\n", path);
			fclose(f);
			return NULL;
		}
		if (n == cap) {
			if (cap >= INPUT_MAX) {
				fprintf(stderr, "%s: larger than %zu MiB: not an input\n", path,
					INPUT_MAX >> 20);
				free(buf);
				fclose(f);
				return NULL;
			}
			cap *= 2;
			char *nb = realloc(buf, cap + 1);
			if (nb == NULL)
				free(buf);
			buf = nb;
			continue;
		}
		size_t k = fread(buf + n, 1, cap - n, f);
		if (k == 0)
			break;
		n += k;
	}
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

static int ends_with_(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

int h_is_input_name(const char *name)
{
	return !(name[0] == '.' || ends_with_(name, ".dict") || ends_with_(name, ".options") ||
		 ends_with_(name, ".md") || strcmp(name, "RULE") == 0 ||
		 strncmp(name, "README", 6) == 0);
}

int h_is_trace_path(const char *path)
{
	return ends_with_(path, ".trace");
}

uint8_t *h_load_input(const struct obq_h_target *tg, const char *path, size_t *len, int *is_trace)
{
	size_t n;
	char *text = h_read_file(path, &n);
	if (!text)
		return NULL;
	*is_trace = h_is_trace_path(path);
	if (!*is_trace) {
		if (prog_input_adapter && prog_input_adapter(NULL, path) < 0) {
			free(text);
			return NULL;
		}
		*len = n;
		return (uint8_t *)text;
	}
	static struct program p;
	if (prog_parse(path, text, tg, &p) < 0) {
		free(text);
		return NULL;
	}
	free(text);
	if (prog_input_adapter && prog_input_adapter(p.adapter[0] ? p.adapter : NULL, path) < 0)
		return NULL;
	uint8_t *buf = malloc(prog_encoded_max());
	*len = prog_encode(tg, &p, p.tape_len, buf);
	return buf;
}

void h_register_verdicts(void)
{
	static const struct { enum obq_error_kind kind; const char *name; } v[] = {
		{ OBQ_H_ERR_ORACLE, "oracle" },
		{ OBQ_H_ERR_DEADLOCK, "deadlock" },
		{ OBQ_H_ERR_LIVELOCK, "livelock" },
		{ OBQ_H_ERR_DATA_RACE, "data-race" },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		if (obq_error_register_kind(v[i].kind, v[i].name) != 0) {
			fprintf(stderr, "oblique harness: cannot name error kind %d \"%s\"\n",
				(int)v[i].kind, v[i].name);
			abort();
		}
}
