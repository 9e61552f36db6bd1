/* file_ref.c — fuzz target: struct file's get-then-reload (typesafe files since Linux
 * 6.7: get_file_rcu, __fget_files_rcu; init_file sets f_count LAST).
 *
 * Model.  An fd table of NFD slots points at file objects of a typesafe cache.  A slot
 * holds one reference; a reader that pins a file holds another; the last put frees.
 *   open <fd> <mode>     if the slot is empty: alloc, initialise every field, set the
 *                        refcount LAST (release), install with a CAS
 *   close <fd>           clear the slot, put
 *   dup <src> <dst>      get_file_rcu(src), install into dst (dup2: replaces, puts the
 *                        old file)
 *   replace <fd> <mode>  open a new file and exchange it into the slot (put the old)
 *   read <fd>            get_file_rcu, then use the fields (the oracles), put
 *   read_slow <fd> <n>   get_file_rcu with n extra scheduling points between the load,
 *                        the pin and the reload, then use, put
 *   hold <fd> / use_held / drop_held   keep a pinned file across operations
 * get_file_rcu (the protocol under test):
 *	rcu_read_lock
 *	loop: f = load(slot); if !f: NULL
 *	      if !inc_not_zero(f->ref): retry            (being freed; reload)
 *	      if f != load(slot): put(f); retry          (recycled under us)
 *	rcu_read_unlock; fields of f may be read only now
 *
 * Oracles (at use, with the file pinned):
 *  - identity: the file was installed in the slot it was reached through at some time
 *    (bit fd of f_slots, set by the installer before publication) — a reader that did
 *    not reload could hold a recycled file that never was in that slot;
 *  - consistency: f_sum == f_ino * 31 + f_mode (written before the refcount);
 *  - incarnation: obq_same_incarnation(f, token at pin) across scheduling points (a
 *    pinned file is never freed) and f_ino unchanged;
 *  - the refcount is 0 at free (checker, declared guard). */
#include <oblique/oblique.h>
#include <oblique/harness.h>
#include "mutant.h" /* seeded bugs: docs/mutants.md (no-ops outside the mutants build) */

#define NFD 4
#define MAXT 16 /* stress mode runs up to 16 threads */

struct file {
	obq_refcount_t ref;          /* f_count: slots + pins; 0 while free (guard) */
	obq_spinlock_t lock;         /* ctor-initialised; serialises f_slots updates (guard) */
	unsigned long f_ino;         /* identity of this incarnation (unique per open) */
	unsigned long f_mode;        /* 1 read, 2 write (decisions are made after the pin) */
	unsigned long f_sum;         /* f_ino * 31 + f_mode once initialised (oracle) */
	unsigned long f_slots;       /* bit i: installed in fd slot i during this incarnation */
};

struct st {
	obq_h_cache_t *c;                     /* the file cache (typesafe) */
	struct file *fd[NFD];                 /* the fd table (__atomic builtins only); each non-NULL slot holds a ref */
	_Atomic unsigned long next_ino;       /* ino allocator */
	struct file *held[MAXT];              /* a file pinned across operations, per thread */
	unsigned long held_ino[MAXT];         /* its f_ino at pin */
	obq_token_t held_tok[MAXT];           /* its incarnation at pin */
};

static void ctor(void *p)
{
	struct file *f = p;
	obq_ref_init(&f->ref);
	obq_spin_lock_init(&f->lock);
	f->f_ino = 0;
	f->f_mode = 0;
	f->f_sum = 0;
	f->f_slots = 0;
}

static void setup(obq_h_t *t)
{
	struct st *s = t->state;
	s->c = OBQ_H_CACHE_SETUP(t, "file_ref_file", struct file, OBQ_TYPESAFE_BY_RCU, ctor,
				 OBQ_H_GUARD_FIELD(OBQ_GUARD_REFCOUNT, struct file, ref),
				 OBQ_H_GUARD_FIELD(OBQ_GUARD_LOCK, struct file, lock));
}

static void fput(obq_h_t *t, struct file *f)
{
	struct st *s = t->state;
	if (obq_ref_put(&f->ref))
		obq_h_free(t, s->c, f);
}

/* Mark f (pinned or fresh: ALLOCATED) as installed in slot i, before publishing it. */
static void mark_slot(struct file *f, unsigned i)
{
	obq_spin_lock(&f->lock);
	OBQ_STORE(f, f_slots, OBQ_PEEK(f, f_slots) | 1ul << i);
	obq_spin_unlock(&f->lock);
}

/* alloc + init_file: every field first, f_count last.  NULL if out of memory. */
static struct file *alloc_file(obq_h_t *t, unsigned mode)
{
	struct st *s = t->state;
	struct file *f = obq_h_alloc(t, s->c);
	if (!f)
		return NULL;
	/* Relaxed: a unique number; the file's publication orders it. */
	unsigned long ino = atomic_fetch_add_explicit(&s->next_ino, 1, memory_order_relaxed) + 1;
	mode = 1 + mode % 3;
	/* a stale reader may peek these: OBQ_STORE, and the lock for f_slots */
	OBQ_STORE(f, f_ino, ino);
	OBQ_STORE(f, f_mode, (unsigned long)mode);
	OBQ_STORE(f, f_sum, ino * 31 + mode);
	obq_spin_lock(&f->lock);
	OBQ_STORE(f, f_slots, 0ul);
	obq_spin_unlock(&f->lock);
	obq_ref_set_release(&f->ref, 1); /* "we're SLAB_TYPESAFE_BY_RCU so initialize f_count last" */
	return f;
}

/* get_file_rcu: the file in slot i with a reference, or NULL. */
static struct file *get_file_rcu(obq_h_t *t, unsigned i, unsigned extra)
{
	struct st *s = t->state;
	struct file *f = NULL;
	obq_rcu_read_lock();
	for (;;) {
		if (!(OBQ_MUTANT(file_retry_livelock) && f)) /* mutant: retries on a copy nobody clears */
			f = OBQ_MUTANT(file_slot_plain_load) ? s->fd[i] /* mutant: plain load */
							      : obq_rcu_dereference(s->fd[i]);
		if (!f)
			break;
		if (OBQ_MUTANT(file_mode_before_pin)) /* mutant: a decision field read before the pin */
			t->val[7] = OBQ_PEEK(f, f_mode);
		for (unsigned k = 0; k < extra; k++)
			obq_h_point(t);
		if (!obq_h_pin(t, obq_ref_get_not_zero(&f->ref))) {
			if (OBQ_MUTANT(file_failed_pin_writes)) /* mutant: marks the object it failed to pin */
				OBQ_STORE(f, f_mode, 0ul);
			obq_h_retry(t); /* being freed: the slot changes soon */
			continue;
		}
		for (unsigned k = 0; k < extra; k++)
			obq_h_point(t);
		if (!OBQ_MUTANT(file_no_reload) && f != obq_rcu_dereference(s->fd[i])) {
			obq_h_event(t, OBQ_EV_RECYCLED);
			fput(t, f);
			obq_h_retry(t);
			continue;
		}
		break;
	}
	obq_rcu_read_unlock();
	return f;
}

/* The oracles on a pinned file reached through slot i (i >= NFD: no slot check). */
static void check_file(obq_h_t *t, struct file *f, unsigned i, const char *what)
{
	unsigned long ino = OBQ_PEEK(f, f_ino), mode = OBQ_PEEK(f, f_mode);
	if (OBQ_MUTANT(file_mode_before_pin) && i < NFD) /* mutant: uses the value read before the pin */
		mode = t->val[7];
	unsigned long sum = OBQ_PEEK(f, f_sum), slots = OBQ_PEEK(f, f_slots);
	obq_h_check(t, sum == ino * 31 + mode, "%s: file ino %lu mode %lu sum %lu (uninitialised "
		    "or recycled file pinned)", what, ino, mode, sum);
	if (i < NFD)
		obq_h_check(t, slots & (1ul << i), "%s: file ino %lu was never installed in fd %u "
			    "(slots %#lx): pinned a recycled file without reloading the slot",
			    what, ino, i, slots);
	obq_h_observe(t, mode);
}

static void install(obq_h_t *t, unsigned i, struct file *f)
{
	struct st *s = t->state;
	mark_slot(f, i);
	struct file *old = __atomic_exchange_n(&s->fd[i], f, __ATOMIC_ACQ_REL);
	if (old)
		fput(t, old);
}

static void op_open(obq_h_t *t, const uint8_t *arg)
{
	struct st *s = t->state;
	unsigned i = arg[0] % NFD;
	if (obq_rcu_dereference(s->fd[i]))
		return; /* EBADF-ish: the slot is in use */
	struct file *f = alloc_file(t, arg[1]);
	if (!f)
		return;
	mark_slot(f, i);
	struct file *none = NULL;
	/* Release: the file's initialisation happens before a reader's load of the slot. */
	if (!__atomic_compare_exchange_n(&s->fd[i], &none, f, 0,
					 OBQ_MUTANT(file_install_relaxed)
					 ? __ATOMIC_RELAXED /* mutant: install without release */
					 : __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		fput(t, f); /* another thread took the slot */
}

static void op_close(obq_h_t *t, const uint8_t *arg)
{
	struct st *s = t->state;
	struct file *f = __atomic_exchange_n(&s->fd[arg[0] % NFD], NULL, __ATOMIC_ACQ_REL);
	if (f)
		fput(t, f);
}

static void op_dup(obq_h_t *t, const uint8_t *arg)
{
	unsigned src = arg[0] % NFD, dst = arg[1] % NFD;
	struct file *f = get_file_rcu(t, src, 0);
	if (!f)
		return;
	check_file(t, f, src, "dup");
	if (src == dst) {
		fput(t, f);
		return;
	}
	install(t, dst, f); /* our reference moves into the slot */
}

static void op_replace(obq_h_t *t, const uint8_t *arg)
{
	struct file *f = alloc_file(t, arg[1]);
	if (f)
		install(t, arg[0] % NFD, f);
}

static void use_file(obq_h_t *t, struct file *f, unsigned i, unsigned points)
{
	check_file(t, f, i, "read");
	obq_token_t tok = obq_incarnation(f);
	unsigned long ino = OBQ_PEEK(f, f_ino);
	for (unsigned k = 0; k < points; k++)
		obq_h_point(t);
	obq_h_check(t, obq_same_incarnation(f, tok) && OBQ_PEEK(f, f_ino) == ino,
		    "pinned file ino %lu freed or reused under its reference (ino now %lu)", ino,
		    OBQ_PEEK(f, f_ino));
	check_file(t, f, i, "read (after points)");
	fput(t, f);
}

static void op_read(obq_h_t *t, const uint8_t *arg)
{
	unsigned i = arg[0] % NFD;
	struct file *f = get_file_rcu(t, i, 0);
	if (!f) {
		obq_h_observe(t, 0);
		return;
	}
	use_file(t, f, i, 1);
}

static void op_read_slow(obq_h_t *t, const uint8_t *arg)
{
	unsigned i = arg[0] % NFD, n = 1 + arg[1] % 3;
	struct file *f = get_file_rcu(t, i, n);
	if (!f) {
		obq_h_observe(t, 0);
		return;
	}
	use_file(t, f, i, n);
}

static void op_hold(obq_h_t *t, const uint8_t *arg)
{
	struct st *s = t->state;
	unsigned me = t->tid % MAXT, i = arg[0] % NFD;
	if (s->held[me])
		return;
	struct file *f = get_file_rcu(t, i, 0);
	if (!f)
		return;
	check_file(t, f, i, "hold");
	s->held[me] = f;
	s->held_ino[me] = OBQ_PEEK(f, f_ino);
	s->held_tok[me] = obq_incarnation(f);
}

static void op_use_held(obq_h_t *t, const uint8_t *arg)
{
	(void)arg;
	struct st *s = t->state;
	unsigned me = t->tid % MAXT;
	struct file *f = s->held[me];
	if (!f)
		return;
	obq_h_check(t, obq_same_incarnation(f, s->held_tok[me]) &&
			       OBQ_PEEK(f, f_ino) == s->held_ino[me],
		    "held file ino %lu was freed or reused while pinned", s->held_ino[me]);
	check_file(t, f, NFD, "use_held");
}

static void op_drop_held(obq_h_t *t, const uint8_t *arg)
{
	(void)arg;
	struct st *s = t->state;
	unsigned me = t->tid % MAXT;
	struct file *f = s->held[me];
	if (!f)
		return;
	s->held[me] = NULL;
	fput(t, f);
}

static void teardown(obq_h_t *t)
{
	struct st *s = t->state;
	for (unsigned me = 0; me < MAXT; me++)
		if (s->held[me]) {
			fput(t, s->held[me]);
			s->held[me] = NULL;
		}
	for (unsigned i = 0; i < NFD; i++) {
		uint8_t a = (uint8_t)i;
		op_close(t, &a);
	}
}

static const struct obq_h_op ops[] = {
	{"open", 2, op_open},         {"close", 1, op_close},
	{"dup", 2, op_dup},           {"replace", 2, op_replace},
	{"read", 1, op_read},         {"read_slow", 2, op_read_slow},
	{"hold", 1, op_hold},         {"use_held", 0, op_use_held},
	{"drop_held", 0, op_drop_held},
};

OBQ_H_TARGET_OPS("file_ref", ops, struct st, .setup = setup, .teardown = teardown)
