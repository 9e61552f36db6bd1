/* sessions.c — a user's type-stable protocol as an oblique fuzz target, in one file
 * that uses only the installed headers.
 *
 * The protocol: a table of 4 session slots.  A session object carries a refcount, a
 * lock and an id (slot << 32 | serial) and lives in a type-stable cache, so a reader
 * holding a stale pointer inside a read-side section always points at *a* session,
 * maybe not the one it looked up.
 *   open <slot>    allocate a session, set its id, then make it acquirable
 *                  (refcount 0 -> 1 with release), publish it in the slot
 *   close <slot>   unpublish the slot, drop the table's reference; the last
 *                  reference frees the session (reusable at once, same address)
 *   touch <slot>   lockless lookup: read the slot and the id, pin with inc-not-zero,
 *                  leave the section, then bump the session's use count under its lock
 *   reopen <slot>  close then open: frees and allocates back to back, the recycling
 *                  that makes stale pointers meet new sessions
 * The oracle: a session touched through slot i has an id of slot i (checked under the
 * session's lock, where the id cannot change).
 *
 * PLANTED BUG (the one this example exists to find): touch() trusts the id it read
 * *before* the pin.  Between that read and the pin the session can be closed and
 * reused — opened again in another slot — and inc-not-zero then pins the new session.
 * The correct code re-reads the id after the pin and retries when it changed (see the
 * comment in op_touch).  The fuzzer finds a schedule that shows it within seconds;
 * the report is an "oracle" failure with the interleaving in its trace. */
#include <oblique/oblique.h>
#include <oblique/harness.h>

struct sess {
	obq_refcount_t ref;   /* guard: 0 while free; set to 1 last by open */
	obq_spinlock_t lock;  /* guard: ctor-initialised, protects uses */
	uint64_t id;          /* guard: slot << 32 | serial */
	uint64_t uses;        /* under lock */
};

struct st {
	obq_h_cache_t *c;     /* the sessions' cache, behind the allocator adapter */
	struct sess *slot[4]; /* published sessions: __atomic / obq_rcu_* only */
	uint64_t serial;      /* next serial (atomic: stress mode runs the ops on threads) */
};

static void sess_ctor(void *p)
{
	struct sess *s = p;
	obq_ref_init(&s->ref);
	obq_spin_lock_init(&s->lock);
	s->id = 0;
	s->uses = 0;
}

static void setup(obq_h_t *t)
{
	struct st *st = t->state;
	st->c = OBQ_H_CACHE_SETUP(t, "session", struct sess, OBQ_TYPESAFE_BY_RCU, sess_ctor,
				  OBQ_H_GUARD_FIELD(OBQ_GUARD_REFCOUNT, struct sess, ref),
				  OBQ_H_GUARD_FIELD(OBQ_GUARD_KEY, struct sess, id));
}

static void sess_put(obq_h_t *t, struct st *st, struct sess *s)
{
	if (obq_ref_put(&s->ref))
		obq_h_free(t, st->c, s);
}

static void op_open(obq_h_t *t, const uint8_t *a)
{
	struct st *st = t->state;
	unsigned i = a[0] % 4;
	if (obq_rcu_dereference(st->slot[i]))
		return;                                             /* occupied */
	struct sess *s = obq_h_alloc(t, st->c);
	if (!s)
		return;
	uint64_t serial = __atomic_add_fetch(&st->serial, 1, __ATOMIC_RELAXED);
	OBQ_STORE(s, id, (uint64_t)i << 32 | serial);              /* the id first ... */
	obq_ref_set_release(&s->ref, 1);                           /* ... then acquirable */
	struct sess *old = NULL;
	/* publish only into an empty slot (another thread may have filled it meanwhile) */
	if (!__atomic_compare_exchange_n(&st->slot[i], &old, s, 0, __ATOMIC_RELEASE,
					 __ATOMIC_RELAXED))
		sess_put(t, st, s);
}

static void op_close(obq_h_t *t, const uint8_t *a)
{
	struct st *st = t->state;
	unsigned i = a[0] % 4;
	struct sess *s = __atomic_exchange_n(&st->slot[i], NULL, __ATOMIC_ACQ_REL);
	if (s)
		sess_put(t, st, s);
}

static void op_touch(obq_h_t *t, const uint8_t *a)
{
	struct st *st = t->state;
	unsigned i = a[0] % 4;
	obq_rcu_read_lock();
	struct sess *s = obq_rcu_dereference(st->slot[i]);
	uint64_t id = s ? OBQ_PEEK(s, id) : 0;                     /* may be stale: legal */
	int pinned = s && obq_ref_get_not_zero(&s->ref);
	obq_rcu_read_unlock();
	if (!obq_h_pin(t, pinned))
		return;
	/* PLANTED BUG: the correct code re-validates here —
	 *	if (OBQ_PEEK(s, id) != id) { obq_h_event(t, OBQ_EV_RECYCLED); sess_put(t, st, s); return; }
	 * — because the pin may have caught a session reused after `id` was read. */
	(void)id;
	obq_spin_lock(&s->lock);
	uint64_t now = s->id;
	obq_h_check(t, now >> 32 == i, "touch(%u) pinned session %llx of slot %llu", i,
		    (unsigned long long)now, (unsigned long long)(now >> 32));
	s->uses++;
	obq_spin_unlock(&s->lock);
	sess_put(t, st, s);
}

static void op_reopen(obq_h_t *t, const uint8_t *a)
{
	op_close(t, a);
	op_open(t, a);
}

static void teardown(obq_h_t *t)
{
	for (unsigned i = 0; i < 4; i++) {
		uint8_t a = (uint8_t)i;
		op_close(t, &a);
	}
}

static const struct obq_h_op ops[] = {
	{"open", 1, op_open},
	{"close", 1, op_close},
	{"touch", 1, op_touch},
	{"reopen", 1, op_reopen},
};
OBQ_H_TARGET_OPS("sessions", ops, struct st, .setup = setup, .teardown = teardown)
