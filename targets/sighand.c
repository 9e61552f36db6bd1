/* sighand.c — fuzz target: lock a task's sighand, then verify the owner pointer
 * (kernel/signal.c __lock_task_sighand; sighand_cachep is SLAB_TYPESAFE_BY_RCU with a
 * ctor that initialises siglock).
 *
 * Model.  NTASK task slots point at sighand objects (or NULL: no task).  A sighand is
 * shared by the tasks in its `users` mask and holds one reference per user.  The
 * owner side of task i (start, exec, exit) is serialised by the task's own lock (as
 * the task itself runs them); task->sighand and `users` change only under the
 * sighand's siglock, and a sighand is freed only after every task pointer to it has
 * gone (the last put).  So a locker that verifies sh == task->sighand under siglock
 * holds a live sighand until it unlocks.
 *   start <i> <j>   task i gets a sighand: shares task j's (CLONE_SIGHAND) when j has
 *                   one and j != i, else a new one
 *   exec <i>        de_thread/unshare: a new sighand, swapped in under the OLD lock,
 *                   the old one put (freed by its last put)
 *   exit <i>        __exit_signal: under siglock clear task->sighand, then put
 *   signal <i> <n>  lock_task_sighand (the protocol under test), use it, unlock
 *   kill_all <n>    lock every task's sighand in turn inside one read-side section, as
 *                   kill_pid_info() calls group_send_sig_info() under the pid
 *                   lookup's rcu_read_lock: lock_task_sighand's own section nests
 * lock_task_sighand:
 *	rcu_read_lock; loop: sh = rcu_dereference(task->sighand); if !sh break
 *	  spin_lock_oblique(sh->siglock)         // ctor-initialised: legal on a free sighand
 *	  if sh == task->sighand: break          // still ours: pinned, freeing needs siglock
 *	  spin_unlock(sh->siglock); retry
 *	rcu_read_unlock
 * Oracles while locked and verified: task i is among the sighand's users (owner
 * predicate), its reference count is at least the number of users, and its incarnation
 * and generation do not change across scheduling points (not freed or recycled). */
#include <oblique/oblique.h>
#include <oblique/harness.h>
#include "mutant.h" /* seeded bugs: docs/mutants.md (no-ops outside the mutants build) */

#define NTASK 3

struct sighand {
	obq_spinlock_t siglock;      /* ctor-initialised (guard) */
	obq_refcount_t count;        /* one per user task; 0 while free (guard) */
	unsigned long gen;           /* incarnation number, written under siglock at alloc (guard) */
	unsigned long users;         /* bit i: task i points here (under siglock) */
	unsigned long signals;       /* signals delivered (under siglock) */
};

struct task {
	struct sighand *sighand;     /* __atomic builtins only; changed only under the sighand's siglock */
	obq_spinlock_t tlock;        /* serialises the owner side of this task */
};

struct st {
	obq_h_cache_t *c;                /* sighand cache (typesafe) */
	struct task task[NTASK];         /* the tasks */
	_Atomic unsigned long next_gen;  /* generation allocator */
};

static void ctor(void *p)
{
	struct sighand *sh = p;
	obq_spin_lock_init(&sh->siglock);
	obq_ref_init(&sh->count);
	sh->gen = 0;
	sh->users = 0;
	sh->signals = 0;
}

static void setup(obq_h_t *t)
{
	struct st *s = t->state;
	for (unsigned i = 0; i < NTASK; i++)
		obq_spin_lock_init(&s->task[i].tlock);
	s->c = OBQ_H_CACHE_SETUP(t, "sighand_cache", struct sighand, OBQ_TYPESAFE_BY_RCU, ctor,
				 OBQ_H_GUARD_FIELD(OBQ_GUARD_LOCK, struct sighand, siglock),
				 OBQ_H_GUARD_FIELD(OBQ_GUARD_REFCOUNT, struct sighand, count),
				 OBQ_H_GUARD_FIELD(OBQ_GUARD_GENERATION, struct sighand, gen));
}

/* __cleanup_sighand: drop a user's reference; the last one frees. */
static void cleanup_sighand(obq_h_t *t, struct sighand *sh)
{
	struct st *s = t->state;
	if (obq_ref_put(&sh->count))
		obq_h_free(t, s->c, sh);
}

/* A new sighand for task i (not yet published), or NULL. */
static struct sighand *new_sighand(obq_h_t *t, unsigned i)
{
	struct st *s = t->state;
	struct sighand *sh = obq_h_alloc(t, s->c);
	if (!sh)
		return NULL;
	/* Relaxed: a unique number; the sighand's publication orders it. */
	unsigned long g = atomic_fetch_add_explicit(&s->next_gen, 1, memory_order_relaxed) + 1;
	if (OBQ_MUTANT(sighand_lock_init_in_alloc)) /* mutant: lock init at alloc, not in the ctor */
		obq_spin_lock_init(&sh->siglock);
	/* a stale locker may hold siglock of this recycled object: initialise under it */
	obq_spin_lock(&sh->siglock);
	OBQ_STORE(sh, gen, g);
	OBQ_STORE(sh, users, 1ul << i);
	OBQ_STORE(sh, signals, 0ul);
	obq_spin_unlock(&sh->siglock);
	obq_ref_set_release(&sh->count, 1);
	return sh;
}

/* __lock_task_sighand: task i's sighand locked and verified, or NULL. */
static struct sighand *lock_task_sighand(obq_h_t *t, unsigned i, unsigned extra)
{
	struct st *s = t->state;
	struct task *tk = &s->task[i];
	struct sighand *sh;
	obq_rcu_read_lock();
	for (;;) {
		sh = obq_rcu_dereference(tk->sighand);
		if (!sh)
			break;
		for (unsigned k = 0; k < extra; k++)
			obq_h_point(t);
		obq_spin_lock_oblique(&sh->siglock);
		if (OBQ_MUTANT(sighand_no_recheck) || /* mutant: lock, no owner re-check */
		    sh == obq_rcu_dereference(tk->sighand))
			break; /* still ours: pinned — freeing needs siglock */
		obq_spin_unlock(&sh->siglock);
		obq_h_event(t, OBQ_EV_RECYCLED);
		obq_h_retry(t);
	}
	obq_rcu_read_unlock();
	return sh;
}

/* The oracles on task i's locked, verified sighand. */
static void check_owned(obq_h_t *t, struct sighand *sh, unsigned i, const char *what)
{
	unsigned long users = OBQ_PEEK(sh, users);
	unsigned count = obq_ref_read(&sh->count);
	obq_h_check(t, users & (1ul << i), "%s: locked sighand (gen %lu) is not task %u's "
		    "(users %#lx)", what, OBQ_PEEK(sh, gen), i, users);
	obq_h_check(t, count >= (unsigned)__builtin_popcountl(users) && count > 0,
		    "%s: locked sighand (gen %lu) has %u references for users %#lx", what,
		    OBQ_PEEK(sh, gen), count, users);
}

static void op_start(obq_h_t *t, const uint8_t *arg)
{
	struct st *s = t->state;
	unsigned i = arg[0] % NTASK, j = arg[1] % NTASK;
	struct task *tk = &s->task[i];
	obq_spin_lock(&tk->tlock);
	if (__atomic_load_n(&tk->sighand, __ATOMIC_RELAXED)) {
		obq_spin_unlock(&tk->tlock);
		return; /* already running */
	}
	struct sighand *sh = j != i ? lock_task_sighand(t, j, 0) : NULL;
	if (sh) {
		/* CLONE_SIGHAND: share j's, which we hold locked (live) */
		check_owned(t, sh, j, "start");
		obq_ref_get(&sh->count);
		OBQ_STORE(sh, users, OBQ_PEEK(sh, users) | 1ul << i);
		obq_rcu_assign_pointer(tk->sighand, sh);
		obq_spin_unlock(&sh->siglock);
	} else {
		sh = new_sighand(t, i);
		if (sh && OBQ_MUTANT(sighand_assign_relaxed)) /* mutant: published relaxed */
			__atomic_store_n(&tk->sighand, sh, __ATOMIC_RELAXED);
		else if (sh)
			obq_rcu_assign_pointer(tk->sighand, sh);
	}
	obq_spin_unlock(&tk->tlock);
}

static void op_exec(obq_h_t *t, const uint8_t *arg)
{
	struct st *s = t->state;
	unsigned i = arg[0] % NTASK;
	struct task *tk = &s->task[i];
	obq_spin_lock(&tk->tlock);
	/* Relaxed: only this task's owner side (we hold tlock) changes the pointer. */
	struct sighand *old = __atomic_load_n(&tk->sighand, __ATOMIC_RELAXED);
	if (old) {
		struct sighand *sh = new_sighand(t, i);
		if (sh) {
			obq_h_point(t);
			obq_spin_lock(&old->siglock); /* ours: task i holds a reference */
			OBQ_STORE(old, users, OBQ_PEEK(old, users) & ~(1ul << i));
			obq_rcu_assign_pointer(tk->sighand, sh);
			obq_spin_unlock(&old->siglock);
			cleanup_sighand(t, old);
		}
	}
	obq_spin_unlock(&tk->tlock);
}

static void op_exit(obq_h_t *t, const uint8_t *arg)
{
	struct st *s = t->state;
	unsigned i = arg[0] % NTASK;
	struct task *tk = &s->task[i];
	obq_spin_lock(&tk->tlock);
	/* Relaxed: only this task's owner side (we hold tlock) changes the pointer. */
	struct sighand *sh = __atomic_load_n(&tk->sighand, __ATOMIC_RELAXED);
	if (sh) {
		obq_spin_lock(&sh->siglock);
		OBQ_STORE(sh, users, OBQ_PEEK(sh, users) & ~(1ul << i));
		obq_rcu_assign_pointer(tk->sighand, (struct sighand *)NULL);
		obq_spin_unlock(&sh->siglock);
		cleanup_sighand(t, sh);
	}
	obq_spin_unlock(&tk->tlock);
}

/* Use a locked, verified sighand across `points` scheduling points. */
static void use_locked(obq_h_t *t, struct sighand *sh, unsigned i, unsigned points)
{
	check_owned(t, sh, i, "signal");
	obq_token_t tok = obq_incarnation(sh);
	unsigned long gen = OBQ_PEEK(sh, gen);
	OBQ_STORE(sh, signals, OBQ_PEEK(sh, signals) + 1);
	for (unsigned k = 0; k < points; k++)
		obq_h_point(t);
	obq_h_check(t, obq_same_incarnation(sh, tok) && OBQ_PEEK(sh, gen) == gen,
		    "sighand (gen %lu) of task %u freed or reused while its siglock was held "
		    "(gen now %lu)", gen, i, OBQ_PEEK(sh, gen));
	check_owned(t, sh, i, "signal (after points)");
	obq_h_observe(t, OBQ_PEEK(sh, users));
	obq_spin_unlock(&sh->siglock);
}

static void op_signal(obq_h_t *t, const uint8_t *arg)
{
	unsigned i = arg[0] % NTASK, n = arg[1] % 4;
	struct sighand *sh = lock_task_sighand(t, i, n);
	if (!sh) {
		obq_h_observe(t, 0);
		return;
	}
	use_locked(t, sh, i, 1 + n);
}

static void op_kill_all(obq_h_t *t, const uint8_t *arg)
{
	unsigned n = arg[0] % 3;
	obq_rcu_read_lock(); /* the outer section: nested ones must be waited for too */
	for (unsigned i = 0; i < NTASK; i++) {
		struct sighand *sh = lock_task_sighand(t, i, n);
		if (sh)
			use_locked(t, sh, i, n);
	}
	obq_rcu_read_unlock();
}

static void teardown(obq_h_t *t)
{
	for (unsigned i = 0; i < NTASK; i++) {
		uint8_t a = (uint8_t)i;
		op_exit(t, &a);
	}
}

static const struct obq_h_op ops[] = {
	{"start", 2, op_start},   {"exec", 1, op_exec},         {"exit", 1, op_exit},
	{"signal", 2, op_signal}, {"kill_all", 1, op_kill_all},
};

OBQ_H_TARGET_OPS("sighand", ops, struct st, .setup = setup, .teardown = teardown)
