/* oblique/bits/mutant.h — the seeded-bug switch (mutants/catalog.md, docs/mutants.md).
 *
 * A mutation site reads
 *	if (OBQ_MUTANT(name)) { buggy } else { correct }
 * In every normal build (OBQ_MUTANTS undefined or 0) OBQ_MUTANT(name) is the constant
 * 0: the buggy branch is dead code the compiler drops, so the clean library and the
 * clean targets carry no trace of the catalog.  In the mutants build (compile
 * definition OBQ_MUTANTS=1: mutants/CMakeLists.txt) it tests a process-global
 * selection read once, before main, from the environment variable OBQ_MUTANT=<name>
 * (unset or empty: no mutant — the build then behaves as the clean one).  An unknown
 * name aborts at start-up, so a typo never silently benchmarks the clean code.
 *
 * The names are the X-macro list below: a site naming a mutant that is not listed does
 * not compile in the mutants build. */
#ifndef OBLIQUE_BITS_MUTANT_H
#define OBLIQUE_BITS_MUTANT_H

/* X(name): one line per mutant; mutants/catalog.tsv documents each. */
#define OBQ_MUTANT_LIST(X)                                                         \
	X(file_no_reload)                                                          \
	X(nulls_check_before_pin)                                                  \
	X(file_mode_before_pin)                                                    \
	X(nulls_ref_before_key)                                                    \
	X(nulls_free_with_ref)                                                     \
	X(zero_on_alloc)                                                           \
	X(sighand_lock_init_in_alloc)                                              \
	X(file_retry_livelock)                                                     \
	X(file_failed_pin_writes)                                                  \
	X(nulls_no_nulls_check)                                                    \
	X(sighand_no_recheck)                                                      \
	X(seqlock_ptr_past_unlock)                                                 \
	X(anon_mapped_before_mapping)                                              \
	X(slab_release_no_gp)                                                      \
	X(destroy_no_barrier)                                                      \
	X(freeptr_in_object)                                                       \
	X(ctor_on_alloc)                                                           \
	X(sim_gp_early)                                                            \
	X(builtin_gp_early)                                                        \
	X(nulls_ref_set_plain)                                                \
	X(file_slot_plain_load)

#if defined(OBQ_MUTANTS) && OBQ_MUTANTS

#define OBQ__MUTANT_ENUM(n) OBQ_MUTANT_ID_##n,
enum obq_mutant_id {
	OBQ_MUTANT_ID_NONE = 0,
	OBQ_MUTANT_LIST(OBQ__MUTANT_ENUM)
	OBQ_MUTANT_ID_COUNT
};
#undef OBQ__MUTANT_ENUM

#ifdef __cplusplus
extern "C" {
#endif
/* The selected mutant: written once by a constructor before main (and before any
 * thread exists), read-only afterwards — so reading it is race-free. */
extern int _obq_mutant_selected;
/* The selected mutant's name ("" if none). */
const char *obq_mutant_name(void);
#ifdef __cplusplus
}
#endif

#define OBQ_MUTANT(name) __builtin_expect(_obq_mutant_selected == OBQ_MUTANT_ID_##name, 0)

#else /* clean build */

#define OBQ_MUTANT(name) 0

#endif
#endif /* OBLIQUE_BITS_MUTANT_H */
