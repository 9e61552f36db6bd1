/* mutant.h — the library's seeded-bug switch (internal, not installed; docs/mutants.md).
 *
 * A mutation site in the library reads
 *	if (OBQ_MUTANT(name)) { buggy } else { correct }
 * In every normal build (OBQ_MUTANTS undefined or 0) OBQ_MUTANT(name) is the constant
 * 0: the buggy branch is dead code the compiler drops, so the clean library carries no
 * trace of the catalog.  In the mutants build (compile definition OBQ_MUTANTS=1:
 * mutants/CMakeLists.txt) it tests a process-global selection read once, before main,
 * from the environment variable OBQ_MUTANT=<name> (mutants/select.c, which also knows
 * the targets' list, targets/mutant.h: an unknown name aborts at start-up).
 *
 * The names are the X-macro list below: a site naming a mutant that is not listed does
 * not compile in the mutants build.  mutants/catalog.tsv documents each. */
#ifndef OBQ_SRC_MUTANT_H
#define OBQ_SRC_MUTANT_H

/* X(name): one line per mutant whose site is in the library (alloc/src). */
#define OBQ_LIB_MUTANT_LIST(X)                                                     \
	X(zero_on_alloc)                                                           \
	X(slab_release_no_gp)                                                      \
	X(destroy_no_barrier)                                                      \
	X(freeptr_in_object)                                                       \
	X(ctor_on_alloc)                                                           \
	X(sim_gp_early)                                                            \
	X(builtin_gp_early)                                                        \
	X(gen_not_advanced)                                                        \
	X(mag_flush_no_reset)                                                      \
	X(mag_refill_ctor)                                                         \
	X(depot_refill_keeps)                                                      \
	X(slab_take_twice)                                                         \
	X(slab_release_early)                                                      \
	X(rcu_debug_join_inflight)                                                 \
	X(sim_skip_last_ctx)                                                       \
	X(sim_cb_early)

#if defined(OBQ_MUTANTS) && OBQ_MUTANTS

#define _OBQ_LIB_MUTANT_ENUM(n) _OBQ_LIB_MUTANT_##n,
enum _obq_lib_mutant {
	_OBQ_LIB_MUTANT_NONE = 0,
	OBQ_LIB_MUTANT_LIST(_OBQ_LIB_MUTANT_ENUM)
	_OBQ_LIB_MUTANT_COUNT
};
#undef _OBQ_LIB_MUTANT_ENUM

/* The selected library mutant (enum _obq_lib_mutant; 0: none): written once by a
 * constructor before main (and before any thread exists), read-only afterwards — so
 * reading it is race-free. */
extern int _obq_lib_mutant_selected;

#define OBQ_MUTANT(name) __builtin_expect(_obq_lib_mutant_selected == _OBQ_LIB_MUTANT_##name, 0)

#else /* clean build */

#define OBQ_MUTANT(name) 0

#endif
#endif /* OBQ_SRC_MUTANT_H */
