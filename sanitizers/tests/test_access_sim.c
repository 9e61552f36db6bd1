/* test_access_sim.c — the access layer in the sim variant (oblique_sim): every
 * primitive is a scheduling point, and a lock wait parks through the wait hook instead
 * of spinning.  A fake scheduler counts the points; its wait hook plays the lock holder
 * (it releases the lock, as the virtual thread that holds it would when scheduled) and
 * checks that the waiter's readiness predicate then holds. */
#include <oblique/oblique.h>

#include <stdio.h>
#include <string.h>

static unsigned points[OBQ_SP_KIND_COUNT];
static unsigned waits;
static obq_spinlock_t *held_lock;   /* the lock the "other thread" holds */
static obq_seqcount_t *open_seq;    /* the seqcount the "other thread" is writing */
static int failures;

#define CHECK(what, cond) do { if (!(cond)) { fprintf(stderr, "FAIL %s: %s\n", what, #cond); failures++; } } while (0)

static void point(enum obq_sp_kind kind, const void *obj)
{
	(void)obj;
	points[kind]++;
}

static void wait_hook(enum obq_sp_kind kind, obq_ready_fn ready, const void *arg)
{
	waits++;
	CHECK("wait kind", kind == OBQ_SP_WAIT_LOCK);
	CHECK("not ready while held", !ready(arg));
	/* "Switch" to the holder: it finishes its critical section. */
	if (held_lock && arg == held_lock) {
		obq_spin_unlock(held_lock);
		held_lock = NULL;
	}
	if (open_seq && arg == open_seq) {
		obq_write_seqcount_end(open_seq);
		open_seq = NULL;
	}
	CHECK("ready after the holder ran", ready(arg));
}

struct obj {
	obq_refcount_t ref;   /* refcount */
	obq_spinlock_t lock;  /* lock */
	obq_seqcount_t seq;   /* seqcount */
	unsigned key;         /* key */
};

int main(void)
{
	CHECK("sim variant", OBQ_SCHED_POINTS == 1);
	obq_rcu_register_thread();
	obq_sched_set_hooks(point, wait_hook);
	struct obj o;
	memset(&o, 0, sizeof o);
	obq_ref_init(&o.ref);
	obq_spin_lock_init(&o.lock);
	obq_seqcount_init(&o.seq);
	CHECK("init is not a scheduling point", points[OBQ_SP_STORE] == 0);

	OBQ_STORE(&o, key, 5);
	CHECK("store point", points[OBQ_SP_STORE] == 1);
	CHECK("peek", OBQ_PEEK(&o, key) == 5 && points[OBQ_SP_PEEK] == 1);
	obq_ref_set_release(&o.ref, 1);
	CHECK("ref set point", points[OBQ_SP_REF_SET] == 1);
	CHECK("pin", obq_ref_get_not_zero(&o.ref) && points[OBQ_SP_REF_GET] == 1);
	CHECK("put", !obq_ref_put(&o.ref) && points[OBQ_SP_REF_PUT] == 1);

	/* Lock held by "another thread": the waiter parks once, then gets it. */
	obq_spin_lock(&o.lock);
	held_lock = &o.lock;
	unsigned before = waits;
	obq_spin_lock_oblique(&o.lock);
	CHECK("lock waited through the hook", waits == before + 1);
	CHECK("lock held by us now", obq_spin_is_locked(&o.lock));
	CHECK("trylock fails", !obq_spin_trylock_oblique(&o.lock));
	obq_spin_unlock(&o.lock);
	CHECK("lock points", points[OBQ_SP_LOCK] == 2 && points[OBQ_SP_TRYLOCK] == 1 &&
			      points[OBQ_SP_UNLOCK] == 2);

	/* Seqcount with a writer inside: begin parks until the write ends. */
	obq_write_seqcount_begin(&o.seq);
	open_seq = &o.seq;
	before = waits;
	unsigned s = obq_read_seqcount_begin(&o.seq);
	CHECK("seq waited through the hook", waits == before + 1 && !(s & 1));
	CHECK("no retry", !obq_read_seqcount_retry(&o.seq, s));
	CHECK("seq points", points[OBQ_SP_SEQ_READ] == 2);

	obq_sched_set_hooks(NULL, NULL);
	printf("%s: %u waits, %s\n", __FILE__, waits, failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
