/* check_internal.h — what the checker's files (the .c files of sanitizers/) share.  Nothing outside
 * sanitizers/ includes it: the library reaches the checker through the entry points of
 * the seam (oblique/bits/track.h), and the checker sees the cache through slot.h's
 * functions only (slot lookup, _obq_cache_props, guards) — never cache.h or slab.h.
 *
 * Shadow state, per slab of every cache (struct chk_slab, made by
 * _obq_check_slab_created and never unmapped: blocks are recycled per size class, so a
 * racing lookup through a stale obq_slab.check pointer reads stale-but-mapped data):
 *   - a copy of the cache's name and flags (reports outlive a destroyed cache);
 *   - per slot (struct chk_slot): the thread and stack of its last alloc and free, the
 *     grace-period count at the free and, in rcu-debug mode, when the deferred free
 *     completed; a signature of its guard fields taken at free;
 *   - when and by whom the slab was released, and the quarantine link.
 * Slot state and generation are the allocator's (the slot word, read through
 * _obq_slot_lookup); the checker never keeps a second copy that could disagree.
 *
 * Every shadow field is written by the thread that performs the transition it
 * describes (alloc, free, release) and may be read by any thread that reports: each
 * is accessed only with relaxed __atomic builtins (plain types, as the allocator's:
 * clang rejects those builtins on _Atomic objects).  A report may mix two
 * transitions' data; it never tears a word and never races in the C11 sense. */
#ifndef OBQ_CHECK_INTERNAL_H
#define OBQ_CHECK_INTERNAL_H

#include "internal.h"
#include "slot.h"
#include <oblique/oblique.h>

#include <stdint.h>

#define CHK_STACK_MAX 8           /* frames kept per alloc/free/release stack */

/* chk_slot.flags */
#define CHK_SLOT_PENDING  0x1u    /* last free went to FREE_PENDING (rcu-debug) */
#define CHK_SLOT_GP_DONE  0x2u    /* rcu-debug: the deferred free completed (FREE after a GP) */
#define CHK_SLOT_SIG      0x4u    /* guard_sig holds the guards' signature at free */
#define CHK_SLOT_LIVE     0x8u    /* handed out and not freed since (alloc-double-handout) */

struct chk_slot {
	uint32_t alloc_tid;   /* obq thread id of the last alloc (0: never allocated) */
	uint32_t alloc_stack; /* stack-depot id of the last alloc (0: none) */
	uint32_t free_tid;    /* obq thread id of the last free (0: never freed) */
	uint32_t free_stack;  /* stack-depot id of the last free */
	uint64_t free_gp;     /* obq_rcu_gp_count() at the last free */
	uint64_t done_gp;     /* rcu-debug: gp count when the deferred free completed */
	uint32_t flags;       /* CHK_SLOT_* */
	uint32_t done_tid;    /* rcu-debug: thread that completed the deferred free */
	uint64_t guard_sig;   /* per-guard 12-bit hashes at free (see guard_signature) */
	uint64_t last_gen;    /* generation of the last alloc (0: never): the next must exceed it */
	uint64_t free_need;   /* _obq_rcu_gp_target() at the last free: the gp count a release
			       * of its slab (or an rcu-debug reuse of it) must have reached */
};

struct chk_slab {
	struct obq_slab *slab;            /* the allocator's slab */
	struct obq_cache *cache;  /* owner; NULL once the cache is destroyed */
	char name[OBQ_CACHE_NAME_MAX + 1];/* copy of the cache name */
	unsigned flags;                   /* copy of the cache flags */
	unsigned rcu_debug;               /* cache was made in rcu-debug reuse mode */
	unsigned has_ctor;                /* the cache has a ctor (contents meaningful at alloc) */
	unsigned poison;                  /* 1: FREE slots are poisoned (ASan/Valgrind) */
	char *mem;                        /* first slot */
	size_t bytes;                     /* mapping size */
	size_t stride;                    /* bytes between slots */
	size_t size;                      /* object size */
	size_t unpoison;                  /* bytes made addressable on alloc (size or stride) */
	size_t nslots;                    /* slots in use */
	size_t cap;                       /* capacity of recs[] (pool size class) */
	uint32_t serial;          /* which slab this block shadows: unique per _obq_check_slab_created (never 0) */
	uint32_t released;        /* 1 once the slab's memory went back (RELEASED) */
	uint32_t released_tid;    /* thread that released it */
	uint32_t released_stack;  /* stack-depot id of the release */
	uint64_t released_gp;     /* gp count at the release */
	uint32_t retired;         /* 1 once queued to go back after a grace period */
	uint32_t stale;           /* 1: a reader touched a freed slot of it since (statistic) */
	struct chk_slab *q_next;          /* quarantine FIFO link (under the quarantine lock) */
	struct chk_slab *pool_next;       /* pool free-list link (unused blocks) */
	struct chk_slot recs[];           /* [cap] per-slot records */
};

/* Per-thread data (struct obq_thread.check). */
#define CHK_SEEN 64                       /* direct-mapped: objects this thread touched */
struct obq_check_thread {
	struct {
		const void *obj;          /* object start */
		uint64_t gen;             /* its generation when this thread last touched it */
		uint32_t serial;          /* chk_slab.serial of its slab then (an address reused by a later slab never matches) */
	} seen[CHK_SEEN];
	unsigned in_check;                /* >0 while the checker reports (no re-entry) */
	uint32_t last_stack;              /* scratch */
};

/* ---- options (shadow.c), read once from the environment ---- */
struct chk_options {
	unsigned stack_depth;     /* OBQ_CHECK_STACK: frames recorded per alloc/free (0..8) */
	size_t quarantine_slabs;  /* OBQ_QUARANTINE_SLABS: released slabs kept (default 64) */
	size_t quarantine_bytes;  /* OBQ_QUARANTINE_MB: ... and at most this many bytes */
};
const struct chk_options *_obq_chk_options(void);

/* ---- shadow.c ---- */
struct obq_check_thread *_obq_chk_thread(struct obq_thread *t); /* created on demand; may be NULL (ENOMEM) */
struct chk_slab *_obq_chk_slab_alloc(size_t nslots);
/* Record the current stack from the frame whose return address is `site` (or, with
 * site NULL, skipping `skip` frames) into the depot; 0 if nothing was recorded. */
uint32_t _obq_chk_stack_save(const void *site, unsigned skip);
unsigned _obq_chk_stack_get(uint32_t id, void **pcs, unsigned max);
/* A stack saved while the user-function hook (_obq_check_set_user_fn) returns f ends
 * in the pair NULL, f (the frames before the NULL are return addresses; f is a
 * function's entry). */
/* This thread's last touch of the object of si (keyed by object and slab incarnation). */
void _obq_chk_seen_note(struct obq_check_thread *ct, const struct obq_slot_info *si);
int _obq_chk_seen_get(struct obq_check_thread *ct, const struct obq_slot_info *si, uint64_t *gen);
void _obq_chk_quarantine_push(struct chk_slab *cs);
void _obq_chk_quarantine_forget_cache(struct obq_cache *c);
void _obq_chk_shadow_atfork(void);   /* fork handlers for shadow.c's locks */
void _obq_chk_check_atfork(void);    /* ... and for check.c's */
unsigned long _obq_chk_gp_now(void);

/* ---- report.c ---- */
/* Report a broken rule found at an access (addr, size, kind) of the slot si. */
void _obq_chk_report(enum obq_error_kind kind, const struct obq_slot_info *si, const void *addr,
		     size_t size, int acc, const void *site, const char *fmt, ...)
	OBQ_PRINTF(7, 8);
/* The typesafe context of the slot si (or of address p when si is NULL). */
size_t _obq_chk_context(const void *p, const struct obq_slot_info *si, char *buf, size_t len);
/* "sym+0x12 (module+0x345)" for pc. */
void _obq_chk_symbolize(const void *pc, char *buf, size_t len);    /* a return address */
void _obq_chk_symbolize_fn(const void *fn, char *buf, size_t len); /* a function address */
const char *_obq_chk_access_name(int acc);
#define CHK_ACC_ALLOC (-1)   /* report "access" kinds beyond enum obq_access_kind */
#define CHK_ACC_FREE  (-2)
#define CHK_CONTEXT_MARK "-- typesafe context --"

/* ---- asan.c ---- */
void _obq_chk_poison(const void *p, size_t n);    /* ASan poison + Valgrind NOACCESS */
void _obq_chk_unpoison(const void *p, size_t n, int defined); /* ASan unpoison + Valgrind (UN)DEFINED */
void _obq_chk_asan_note_access(const void *addr, size_t size, int is_write, const void *site);
void _obq_chk_init_once(void);
/* ASan builds: a reason string if [addr, addr+size) holds heap memory ASan knows is
 * freed (NULL otherwise, and always in other builds); its description
 * (allocated / freed by which thread, where) printed to stderr. */
const char *_obq_chk_asan_released(const void *addr, size_t size);
void _obq_chk_asan_describe(const void *addr);

#endif /* OBQ_CHECK_INTERNAL_H */
