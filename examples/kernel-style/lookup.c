/* lookup.c — example out-of-tree fuzz target in kernel style (oblique/linux.h): a
 * table of sessions, each a SLAB_TYPESAFE_BY_RCU object found locklessly and pinned
 * by taking its own spinlock (the sighand / anon_vma pattern: lock, then re-check).
 * It carries ONE planted bug (search for PLANTED BUG); EXPECT names the report.
 *
 * Model.  NR_SLOTS table slots, each an __rcu pointer to a session or NULL.  A
 * session's lock, slot and live fields are set up by the ctor and survive free ->
 * alloc, so a stale reader may lock a freed (or reused) session inside
 * rcu_read_lock(); only a session locked AND re-checked (still live, still the one in
 * its slot) is pinned: close() takes the same lock before it unpublishes and frees.
 *   open <i>       alloc; under its lock slot = i, live = 1; publish in slot i
 *   close <i>      under the session's lock: unpublish, live = 0; unlock; free
 *   use <i> <n>    the protocol under test: look up slot i, lock, re-check, use the
 *                  session for n scheduling points, unlock
 * Oracle: a session used under its lock is live and belongs to slot i.
 *
 * Allocation goes through the harness's adapter (obq_h_alloc / obq_h_free) rather
 * than kmem_cache_alloc / kmem_cache_free, so that the malloc control can sit behind
 * the cache; everything else is linux.h. */
#include <oblique/linux.h>
#include <oblique/harness.h>

#define NR_SLOTS 3

struct session {
	spinlock_t lock;        /* ctor-initialised: stale readers take it */
	unsigned int slot;      /* slot it is published in (under lock) */
	unsigned int live;      /* 1 from open to close (under lock) */
	unsigned long uses;     /* payload (under lock) */
};

struct table {
	obq_h_cache_t *cachep;                       /* SLAB_TYPESAFE_BY_RCU */
	struct session __rcu *slot[NR_SLOTS];        /* published sessions */
	spinlock_t slot_lock;                        /* serialises open / close */
};

static void session_ctor(void *p)
{
	struct session *s = p;

	spin_lock_init(&s->lock);
	s->slot = ~0u;
	s->live = 0;
	s->uses = 0;
}

static void setup(obq_h_t *t)
{
	struct table *tbl = t->state;

	spin_lock_init(&tbl->slot_lock);
	tbl->cachep = OBQ_H_CACHE_SETUP(t, "session", struct session, SLAB_TYPESAFE_BY_RCU,
					session_ctor,
					OBQ_H_GUARD_FIELD(OBQ_GUARD_LOCK, struct session, lock),
					OBQ_H_GUARD_FIELD(OBQ_GUARD_KEY, struct session, slot));
}

static void op_open(obq_h_t *t, const uint8_t *arg)
{
	struct table *tbl = t->state;
	unsigned int i = arg[0] % NR_SLOTS;
	struct session *s;

	spin_lock(&tbl->slot_lock);
	if (!rcu_dereference_protected(tbl->slot[i], lockdep_is_held(&tbl->slot_lock)) &&
	    (s = obq_h_alloc(t, tbl->cachep)) != NULL) {
		spin_lock(&s->lock); /* a stale reader may hold it: wait for it */
		WRITE_ONCE(s->slot, i);
		WRITE_ONCE(s->live, 1);
		WRITE_ONCE(s->uses, 0);
		spin_unlock(&s->lock);
		rcu_assign_pointer(tbl->slot[i], s);
	}
	spin_unlock(&tbl->slot_lock);
}

static void op_close(obq_h_t *t, const uint8_t *arg)
{
	struct table *tbl = t->state;
	unsigned int i = arg[0] % NR_SLOTS;
	struct session *s;

	spin_lock(&tbl->slot_lock);
	s = rcu_dereference_protected(tbl->slot[i], lockdep_is_held(&tbl->slot_lock));
	if (s) {
		spin_lock(&s->lock); /* users hold it: wait for them */
		RCU_INIT_POINTER(tbl->slot[i], NULL);
		WRITE_ONCE(s->live, 0);
		spin_unlock(&s->lock);
	}
	spin_unlock(&tbl->slot_lock);
	if (s)
		obq_h_free(t, tbl->cachep, s); /* reusable at once */
}

/* Slot i's session, locked and re-checked, or NULL. */
static struct session *session_lock(obq_h_t *t, unsigned int i)
{
	struct table *tbl = t->state;
	struct session *s;

	rcu_read_lock();
	for (;;) {
		s = rcu_dereference(tbl->slot[i]);
		if (!s)
			break;
		spin_lock(&s->lock); /* legal on a freed session: ctor-initialised */
		/* PLANTED BUG: no re-check after the lock.  The session may have been closed
		 * (and freed, and reopened for another slot) between the rcu_dereference and
		 * spin_lock; the fix is:
		 *	if (READ_ONCE(s->live) && READ_ONCE(s->slot) == i)
		 *		break;
		 *	spin_unlock(&s->lock);
		 *	obq_h_retry(t);
		 *	continue;
		 */
		(void)t;
		break;
	}
	rcu_read_unlock();
	return s;
}

static void op_use(obq_h_t *t, const uint8_t *arg)
{
	unsigned int i = arg[0] % NR_SLOTS, n = arg[1] % 3;
	struct session *s;

	/* The use stays inside rcu_read_lock() (sections nest) so that the oracle may
	 * read a session that a wrong lookup failed to pin: it reports "oracle" rather
	 * than the checker's free-access-outside-read-side. */
	rcu_read_lock();
	s = session_lock(t, i);
	obq_h_observe(t, s != NULL);
	if (s) {
		unsigned int live = READ_ONCE(s->live), slot = READ_ONCE(s->slot);
		obq_h_check(t, live && slot == i, "session locked for slot %u is %s (slot %u)",
			    i, live ? "live" : "closed", slot);
		for (unsigned int k = 0; k < n; k++)
			obq_h_point(t);
		WRITE_ONCE(s->uses, READ_ONCE(s->uses) + 1);
		spin_unlock(&s->lock);
	}
	rcu_read_unlock();
}

static void teardown(obq_h_t *t)
{
	for (unsigned int i = 0; i < NR_SLOTS; i++) {
		uint8_t a = (uint8_t)i;
		op_close(t, &a);
	}
}

static const struct obq_h_op ops[] = {
	{"open", 1, op_open}, {"close", 1, op_close}, {"use", 2, op_use},
};

OBQ_H_TARGET_OPS("kernel_style", ops, struct table, .setup = setup, .teardown = teardown)
