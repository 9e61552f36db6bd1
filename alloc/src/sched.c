/* sched.c — the scheduling-point hooks (see oblique/sched.h).  Plain globals: the
 * deterministic harness installs them once, before any virtual thread runs, and all
 * virtual threads run on the one OS thread that installed them. */
#include <oblique/sched.h>

obq_sched_hook_fn _obq_sched_hook;
obq_sched_wait_fn _obq_sched_wait;

void _obq_sched_point(enum obq_sp_kind kind, const void *obj)
{
	obq_sched_hook_fn h = _obq_sched_hook; /* plain: see above */
	if (h)
		h(kind, obj);
}

void obq_sched_set_hooks(obq_sched_hook_fn point, obq_sched_wait_fn wait)
{
	_obq_sched_hook = point;
	_obq_sched_wait = wait;
}

static const char *const sp_names[OBQ_SP_KIND_COUNT] = {
	[OBQ_SP_READ_LOCK] = "rcu_read_lock",   [OBQ_SP_READ_UNLOCK] = "rcu_read_unlock",
	[OBQ_SP_SYNCHRONIZE] = "synchronize",   [OBQ_SP_CALL] = "rcu_call",
	[OBQ_SP_BARRIER] = "rcu_barrier",       [OBQ_SP_ALLOC] = "alloc",
	[OBQ_SP_FREE] = "free",                 [OBQ_SP_LOCK] = "lock",
	[OBQ_SP_TRYLOCK] = "trylock",           [OBQ_SP_UNLOCK] = "unlock",
	[OBQ_SP_PEEK] = "peek",                 [OBQ_SP_STORE] = "store",
	[OBQ_SP_REF_GET] = "ref_get",           [OBQ_SP_REF_PUT] = "ref_put",
	[OBQ_SP_REF_SET] = "ref_set",           [OBQ_SP_SEQ_READ] = "seq_read",
	[OBQ_SP_WAIT_LOCK] = "wait_lock",       [OBQ_SP_WAIT_GP] = "wait_gp",
	[OBQ_SP_USER] = "user",
};

const char *obq_sp_name(enum obq_sp_kind kind)
{
	if ((unsigned)kind >= OBQ_SP_KIND_COUNT)
		return "?";
	return sp_names[kind];
}
