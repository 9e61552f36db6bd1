/* mutant.h — the targets' seeded-bug switch (docs/mutants.md; not part of the harness
 * SDK: only the targets of this tree use it).
 *
 * A mutation site in a target reads
 *	if (OBQ_MUTANT(name)) { buggy } else { correct }
 * In every normal build (OBQ_MUTANTS undefined or 0) OBQ_MUTANT(name) is the constant
 * 0: the buggy branch is dead code the compiler drops, so the clean targets carry no
 * trace of the catalog.  In the mutants build (compile definition OBQ_MUTANTS=1, which
 * the mutant library variants of mutants/CMakeLists.txt pass on to the targets built
 * against them) it tests a process-global selection read once, before main, from the
 * environment variable OBQ_MUTANT=<name> (mutants/select.c, which also knows the
 * library's list, alloc/src/mutant.h: an unknown name aborts at start-up).
 *
 * The names are the X-macro list below: a site naming a mutant that is not listed does
 * not compile in the mutants build.  mutants/catalog.tsv documents each. */
#ifndef OBQ_TARGETS_MUTANT_H
#define OBQ_TARGETS_MUTANT_H

/* X(name): one line per mutant whose site is in a target (targets/<target>.c). */
#define OBQ_TARGET_MUTANT_LIST(X)                                                  \
	X(file_no_reload)                                                          \
	X(nulls_check_before_pin)                                                  \
	X(file_mode_before_pin)                                                    \
	X(nulls_ref_before_key)                                                    \
	X(nulls_free_with_ref)                                                     \
	X(sighand_lock_init_in_alloc)                                              \
	X(file_retry_livelock)                                                     \
	X(file_failed_pin_writes)                                                  \
	X(nulls_no_nulls_check)                                                    \
	X(sighand_no_recheck)                                                      \
	X(seqlock_ptr_past_unlock)                                                 \
	X(anon_mapped_before_mapping)                                              \
	X(nulls_ref_set_plain)                                                     \
	X(file_slot_plain_load)                                                    \
	X(rcu_gp_take_not_atomic)                                                  \
	X(nulls_head_relaxed)                                                      \
	X(file_install_relaxed)                                                    \
	X(seqlock_publish_relaxed)                                                 \
	X(seqlock_retry_no_rmb)                                                    \
	X(anon_page_ref_relaxed)                                                   \
	X(sighand_assign_relaxed)

#if defined(OBQ_MUTANTS) && OBQ_MUTANTS

#define _OBQ_TARGET_MUTANT_ENUM(n) _OBQ_TARGET_MUTANT_##n,
enum _obq_target_mutant {
	_OBQ_TARGET_MUTANT_NONE = 0,
	OBQ_TARGET_MUTANT_LIST(_OBQ_TARGET_MUTANT_ENUM)
	_OBQ_TARGET_MUTANT_COUNT
};
#undef _OBQ_TARGET_MUTANT_ENUM

#ifdef __cplusplus
extern "C" {
#endif
/* The selected target mutant (enum _obq_target_mutant; 0: none), defined by
 * mutants/select.c: written once by a constructor before main, read-only afterwards. */
extern int _obq_target_mutant_selected;
#ifdef __cplusplus
}
#endif

#define OBQ_MUTANT(name) \
	__builtin_expect(_obq_target_mutant_selected == _OBQ_TARGET_MUTANT_##name, 0)

#else /* clean build */

#define OBQ_MUTANT(name) 0

#endif
#endif /* OBQ_TARGETS_MUTANT_H */
