/* oblique/error.h — how oblique reports a caller's bug.
 *
 * Conventions (also in the README):
 *  - allocation returns NULL and sets errno (ENOMEM; EINVAL for bad arguments);
 *  - other calls return 0 on success or a negative errno (-EINVAL, -EBUSY, ...);
 *  - a bug in the caller — a bad free, a broken type-stable rule, RCU misuse — is
 *    reported through the error hook.  The default hook prints the report to stderr
 *    and aborts: continuing after a memory-safety bug would corrupt more.  A program
 *    (a test, a tool) may install a hook that records the error and returns;
 *    oblique then leaves every structure as it was before the bad call (a rejected
 *    free frees nothing).
 *  - a tool built on oblique may report bugs of its own kinds through the same hook:
 *    it names a kind of the reserved range OBQ_ERR_TOOL_FIRST..OBQ_ERR_TOOL_LAST with
 *    obq_error_register_kind() and reports it with obq_error_report().
 *  - a resource oblique needs but cannot get (a helper thread, a thread context) is
 *    not fatal either: oblique degrades and reports a notice once through the hook
 *    (kind OBQ_ERR_RESOURCE_EXHAUSTED; the default hook prints it and returns).
 *  - a refusal at create time (bad flags, size, alignment) is not a bug report: the
 *    call returns NULL with errno=EINVAL and the reason is kept for obq_last_error(). */
#ifndef OBLIQUE_ERROR_H
#define OBLIQUE_ERROR_H

#include <oblique/common.h>
#include <oblique/bits/rules.h>

OBQ_BEGIN_DECLS

/* Every rule that can be broken, allocator and checker alike (one row each in
 * oblique/bits/rules.h: kind, name, hint, doc anchor), then the range reserved for
 * tools.  Stable names: tests and tools match on obq_error_name(). */
#define OBQ__RULE_ENUM(kind, name, hint, anchor) OBQ_ERR_##kind,
enum obq_error_kind {
	OBQ_ERR_NONE = 0,
	OBQ_RULES(OBQ__RULE_ENUM)
	OBQ_ERR_KIND_COUNT,           /* the library's own kinds are those below this */
	/* Reserved for tools built on oblique: the library never reports these itself.  A
	 * tool names the kinds it uses (obq_error_register_kind) and reports them with
	 * obq_error_report(); their reports reach the error hook like the library's. */
	OBQ_ERR_TOOL_FIRST = 64,
	OBQ_ERR_TOOL_LAST = OBQ_ERR_TOOL_FIRST + 31
};
#undef OBQ__RULE_ENUM

/* One report.  Strings point into static or report-owned storage valid during the hook. */
struct obq_error {
	enum obq_error_kind kind;
	const char *rule;        /* obq_error_name(kind) */
	const char *cache;       /* cache name or NULL */
	const void *object;      /* object start (or the pointer passed) */
	const char *slot_state;  /* "ALLOCATED", "FREE", "FREE-PENDING", "RELEASED" or NULL */
	unsigned long generation;/* slot generation now (0 if unknown) */
	const char *message;     /* full multi-line human report, ends with '\n' */
};

typedef void (*obq_error_hook_fn)(const struct obq_error *err, void *arg);

/* Install a hook (NULL restores the default: print and abort).  Returns the previous. */
obq_error_hook_fn obq_set_error_hook(obq_error_hook_fn fn, void *arg);

/* The default hook: writes err->message to stderr and aborts — except for a notice
 * (obq_error_is_notice), which it writes and returns from. */
void obq_error_default_hook(const struct obq_error *err, void *arg);

/* 1 if kind is a notice rather than a bug: oblique met a resource limit (a thread it
 * could not create, memory it could not get), went on in a degraded mode and says so
 * once ("==oblique== WARNING: resource-exhausted").  Hooks that count findings should
 * skip notices. */
int obq_error_is_notice(enum obq_error_kind kind);

/* 1 if kind belongs to the "allocator contract" family (rules alloc-*): the allocator
 * or RCU implementation under test broke a guarantee it owes every protocol — the
 * report blames the allocator, never the protocol (docs/checker.md §9). */
int obq_error_is_allocator_contract(enum obq_error_kind kind);

/* Stable short name of a rule ("double-free", ...), or the name registered for a tool
 * kind; "unknown" for a kind that has none. */
const char *obq_error_name(enum obq_error_kind kind);

/* Name a kind of the tool range (OBQ_ERR_TOOL_FIRST..OBQ_ERR_TOOL_LAST): `name` becomes
 * its rule name in reports and in obq_error_name().  `name` must stay valid for the life
 * of the process (a string literal) and should be a short lowercase token such as
 * "invariant", distinct from every other rule name.  Registering a kind again with the
 * same name does nothing.  Call it before the kind is reported, typically at start-up
 * or before each run of a tool.  0; -EINVAL: kind outside the tool range, or name NULL
 * or empty; -EEXIST: the kind has another name, or another kind has this name. */
int obq_error_register_kind(enum obq_error_kind kind, const char *name);

/* Report a bug through the error hook, formatted as the library's own reports:
 *	==oblique== ERROR: <rule>
 *	  cache: <cache>   object: <object>   slot state: (n/a)   generation: 0
 *	<fmt ...>
 * kind is a library kind or a registered tool kind; cache may be NULL.  Returns when
 * the hook returns (the default hook aborts). */
void obq_error_report(enum obq_error_kind kind, const char *cache, const void *object,
		      const char *fmt, ...) OBQ_PRINTF(4, 5);

/* Why the last refused call on this thread failed (create-time refusals); "" if none. */
const char *obq_last_error(void);

/* Internal: build and deliver a report (used by every layer). */
void _obq_report(enum obq_error_kind kind, const char *cache, const void *object,
		 const char *slot_state, unsigned long generation, const char *fmt, ...)
	OBQ_PRINTF(6, 7);
void _obq_set_last_error(const char *fmt, ...) OBQ_PRINTF(1, 2);

OBQ_END_DECLS
#endif /* OBLIQUE_ERROR_H */
