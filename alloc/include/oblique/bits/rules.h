/* oblique/bits/rules.h — THE table of the rules oblique reports (included by
 * oblique/error.h; do not include directly).
 *
 * One row per rule, in enum order (the values are stable: tests and tools match on
 * names, programs may store kinds):
 *
 *   X(KIND, "name", hint, "anchor")
 *     KIND    the enumerator suffix: OBQ_ERR_<KIND> (enum obq_error_kind, error.h);
 *     name    the stable rule name obq_error_name() returns (alloc/src/error.c);
 *     hint    the "hint:" line of the checker's report (sanitizers/report.c), or
 *             OBQ_RULE_NO_HINT when the report's own text says all there is;
 *     anchor  the id of the rule's entry in docs/checker.md (section "Rule index");
 *             the ctest `rules-doc-anchors` fails when an anchor is missing there.
 *
 * Adding a rule: a row here, the code that detects it, and its tests (an
 * expected-failure test and a silent twin, docs/checker.md) — nothing else. */
#ifndef OBLIQUE_BITS_RULES_H
#define OBLIQUE_BITS_RULES_H

#define OBQ_RULE_NO_HINT ((const char *)0)

#define OBQ_RULES(X)                                                                      \
	/* allocator, always-on checks */                                                  \
	X(DOUBLE_FREE, "double-free", OBQ_RULE_NO_HINT, "rule-double-free")               \
	X(WRONG_CACHE, "wrong-cache", OBQ_RULE_NO_HINT, "rule-wrong-cache")               \
	X(FOREIGN_POINTER, "foreign-pointer", OBQ_RULE_NO_HINT, "rule-foreign-pointer")   \
	X(INTERIOR_POINTER, "interior-pointer", OBQ_RULE_NO_HINT, "rule-interior-pointer") \
	X(FREE_RELEASED, "free-released", OBQ_RULE_NO_HINT, "rule-free-released")         \
	X(DESTROY_BUSY, "destroy-live-objects", OBQ_RULE_NO_HINT, "rule-destroy-live-objects") \
	X(CORRUPT, "corrupt-metadata", OBQ_RULE_NO_HINT, "rule-corrupt-metadata")         \
	X(CACHE_DESTROYED, "use-of-destroyed-cache", OBQ_RULE_NO_HINT,                    \
	  "rule-use-of-destroyed-cache")                                                   \
	/* type-stable rules (checked builds) */                                           \
	X(FREE_OUTSIDE_READER, "free-access-outside-read-side",                            \
	  "touch a possibly-freed object only inside obq_rcu_read_lock()..unlock(), and "  \
	  "after the section only through a reference you pinned (obq_ref_get_not_zero) "  \
	  "or a lock you hold (bug class 18: pointer kept past read-side unlock)",          \
	  "rule-free-access-outside-read-side")                                            \
	X(FREE_PLAIN_ACCESS, "free-plain-access",                                          \
	  "read a possibly-freed object only through oblique/access.h (OBQ_PEEK, pins, "   \
	  "oblique locks) inside a read-side section, and plain fields only after "        \
	  "pinning and re-validating",                                                     \
	  "rule-free-plain-access")                                                        \
	X(RELEASED_ACCESS, "released-access",                                              \
	  "a pointer to a type-stable object is good only inside the read-side section "   \
	  "that loaded it, or while you hold a reference; this one outlived both",         \
	  "rule-released-access")                                                          \
	X(UAF_AFTER_GP, "use-after-grace-period",                                          \
	  "use after the grace period (Linux kmem_cache_rcu_uaf): the pointer was kept "   \
	  "past the read-side section that loaded it; pin it or look it up again",         \
	  "rule-use-after-grace-period")                                                   \
	X(FREE_STORE, "store-to-free-object",                                              \
	  "write only to objects you own (allocated, referenced or locked); a failed pin " \
	  "means the object may be free or another object: back off without writing "      \
	  "(bug class 10)",                                                                \
	  "rule-store-to-free-object")                                                     \
	X(LOCK_REINIT, "lock-reinit-while-held",                                           \
	  "initialise locks of a typesafe cache in its ctor (runs once per slot), never "  \
	  "after alloc: a stale reader may hold them (bug class 7); to clear an object "   \
	  "use obq_clear_except_guards",                                                   \
	  "rule-lock-reinit-while-held")                                                   \
	X(FREE_REFCOUNT, "free-with-refcount",                                             \
	  "drop every reference before freeing (the last obq_ref_put returns 1: free "     \
	  "then); a reader that pinned this object would use freed memory (bug class 5)",  \
	  "rule-free-with-refcount")                                                       \
	X(GUARD_CLOBBER, "guard-field-clobbered",                                          \
	  "fields a stale reader may read (refcount, key, link, generation) must survive " \
	  "free -> alloc: nothing may write them while the object is free (bug class 8)",  \
	  "rule-guard-field-clobbered")                                                    \
	X(DESTROY_PENDING, "destroy-with-pending-callbacks", OBQ_RULE_NO_HINT,             \
	  "rule-destroy-with-pending-callbacks")                                           \
	X(TYPE_MISMATCH, "type-mismatch",                                                  \
	  "one typesafe cache per type; re-check identity after the pin (bug class 17)",   \
	  "rule-type-mismatch")                                                            \
	/* RCU misuse */                                                                   \
	X(RCU_SYNC_IN_READER, "synchronize-in-read-side", OBQ_RULE_NO_HINT,               \
	  "rule-synchronize-in-read-side")                                                 \
	X(RCU_UNBALANCED, "unbalanced-read-unlock", OBQ_RULE_NO_HINT,                     \
	  "rule-unbalanced-read-unlock")                                                   \
	X(RCU_UNREGISTERED, "read-lock-unregistered-thread", OBQ_RULE_NO_HINT,            \
	  "rule-read-lock-unregistered-thread")                                            \
	X(RCU_EXIT_IN_READER, "thread-exit-in-read-side", OBQ_RULE_NO_HINT,               \
	  "rule-thread-exit-in-read-side")                                                 \
	X(RCU_STALL, "grace-period-stall", OBQ_RULE_NO_HINT, "rule-grace-period-stall")   \
	X(RCU_CALL_NULL, "rcu-call-null", OBQ_RULE_NO_HINT, "rule-rcu-call-null")         \
	X(RCU_HEAD_DOUBLE, "rcu-head-double-queued", OBQ_RULE_NO_HINT,                    \
	  "rule-rcu-head-double-queued")                                                   \
	/* notices: not a caller's bug; the default hook prints them and returns */       \
	X(RESOURCE_EXHAUSTED, "resource-exhausted", OBQ_RULE_NO_HINT,                     \
	  "rule-resource-exhausted")                                                       \
	/* allocator contract: the allocator (or its RCU) under test broke a guarantee it  \
	 * owes every protocol (obq_error_is_allocator_contract; docs/checker.md §9).      \
	 * Appended: the values of the rows above stay as they were. */                    \
	X(ALLOC_DOUBLE_HANDOUT, "alloc-double-handout",                                    \
	  "allocator bug: fix the allocator, not the protocol — the object was handed out " \
	  "while its previous hand-out was still live (a magazine, depot or free list "     \
	  "holds it twice)",                                                               \
	  "rule-alloc-double-handout")                                                     \
	X(ALLOC_NO_NEW_INCARNATION, "alloc-no-new-incarnation",                            \
	  "allocator bug: every alloc of a slot must advance its generation; a stale "     \
	  "reader's identity check (obq_same_incarnation, a sequence number) is blind "    \
	  "without it",                                                                    \
	  "rule-alloc-no-new-incarnation")                                                 \
	X(ALLOC_CTOR_RERUN, "alloc-ctor-rerun",                                            \
	  "allocator bug: a typesafe cache runs the ctor once per slot, when its slab is " \
	  "made; running it again re-initialises locks and refcounts a stale reader may "  \
	  "hold",                                                                          \
	  "rule-alloc-ctor-rerun")                                                         \
	X(ALLOC_WROTE_FREE_OBJECT, "alloc-wrote-free-object",                              \
	  "allocator bug: keep free-list links and other metadata outside freed typesafe " \
	  "objects (or at a declared free pointer offset no stale reader reads)",          \
	  "rule-alloc-wrote-free-object")                                                  \
	X(ALLOC_EARLY_RELEASE, "alloc-early-release",                                      \
	  "allocator bug: a typesafe slab's memory may go back only after a grace period " \
	  "that began after the last free of its last object, and only while no object "   \
	  "of it sits in a magazine or depot",                                             \
	  "rule-alloc-early-release")                                                      \
	X(ALLOC_EARLY_CALLBACK, "alloc-early-callback",                                    \
	  "RCU bug: a callback may run only after a grace period that began after its "    \
	  "obq_rcu_call",                                                                  \
	  "rule-alloc-early-callback")                                                     \
	X(ALLOC_EARLY_REUSE, "alloc-early-reuse",                                          \
	  "allocator bug (rcu-debug): a deferred free may complete only after a grace "    \
	  "period that began after the free",                                              \
	  "rule-alloc-early-reuse")                                                        \
	X(ALLOC_EARLY_GRACE_PERIOD, "alloc-early-grace-period",                            \
	  "RCU bug: a grace period may end only when every reader that was inside a "      \
	  "read-side section when it began has left it",                                   \
	  "rule-alloc-early-grace-period")                                                 \
	X(ALLOC_CONTRACT, "alloc-contract", OBQ_RULE_NO_HINT, "rule-alloc-contract")

#endif /* OBLIQUE_BITS_RULES_H */
