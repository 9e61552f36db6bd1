/* error.c — delivery of bug reports through the error hook, and create-time refusal
 * reasons (see oblique/error.h for the conventions). */
#include "internal.h"
#include "fork.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Rule names, from the table (oblique/bits/rules.h). */
#define RULE_NAME(kind, name, hint, anchor) [OBQ_ERR_##kind] = name,
static const char *const names[OBQ_ERR_KIND_COUNT] = {
	[OBQ_ERR_NONE] = "none",
	OBQ_RULES(RULE_NAME)
};
#undef RULE_NAME
_Static_assert(OBQ_ERR_KIND_COUNT <= OBQ_ERR_TOOL_FIRST,
	       "the rule table (oblique/bits/rules.h) overlaps the tools' kind range");

/* Hints of the allocator-contract rules: the reports the harness and the RCU layer
 * make through _obq_report carry them too (the checker's own reports add theirs). */
#define RULE_HINT(kind, name, hint, anchor) [OBQ_ERR_##kind] = hint,
static const char *const hints[OBQ_ERR_KIND_COUNT] = {
	OBQ_RULES(RULE_HINT)
};
#undef RULE_HINT

#define TOOL_KINDS (OBQ_ERR_TOOL_LAST - OBQ_ERR_TOOL_FIRST + 1)

/* Names of the tool kinds (obq_error_register_kind).  Written under tool_lock, read
 * with acquire loads: a report may be raised on any thread. */
static const char *tool_names[TOOL_KINDS];
static pthread_mutex_t tool_lock = PTHREAD_MUTEX_INITIALIZER;

const char *obq_error_name(enum obq_error_kind kind)
{
	if ((unsigned)kind < OBQ_ERR_KIND_COUNT && names[kind])
		return names[kind];
	if (kind >= OBQ_ERR_TOOL_FIRST && kind <= OBQ_ERR_TOOL_LAST) {
		const char *n = __atomic_load_n(&tool_names[kind - OBQ_ERR_TOOL_FIRST],
						__ATOMIC_ACQUIRE);
		if (n)
			return n;
	}
	return "unknown";
}

int obq_error_register_kind(enum obq_error_kind kind, const char *name)
{
	int ret = 0;

	if (kind < OBQ_ERR_TOOL_FIRST || kind > OBQ_ERR_TOOL_LAST || name == NULL ||
	    *name == 0)
		return -EINVAL;
	for (int i = 0; i < OBQ_ERR_KIND_COUNT; i++)
		if (names[i] && strcmp(names[i], name) == 0)
			return -EEXIST;
	pthread_mutex_lock(&tool_lock);
	for (int i = 0; i < TOOL_KINDS && ret == 0; i++) {
		const char *n = tool_names[i];
		if (i == (int)(kind - OBQ_ERR_TOOL_FIRST)) {
			if (n && strcmp(n, name) != 0)
				ret = -EEXIST;
		} else if (n && strcmp(n, name) == 0) {
			ret = -EEXIST;
		}
	}
	if (ret == 0)
		__atomic_store_n(&tool_names[kind - OBQ_ERR_TOOL_FIRST], name, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&tool_lock);
	return ret;
}

/* The hook and its argument are set before threads start (tests, fuzz targets) or
 * rarely; relaxed atomics keep a concurrent set free of data races. */
static obq_error_hook_fn hook_fn; /* accessed only with __atomic builtins (clang rejects them on _Atomic) */
static void *hook_arg;             /* idem */

obq_error_hook_fn obq_set_error_hook(obq_error_hook_fn fn, void *arg)
{
	obq_error_hook_fn old = __atomic_load_n(&hook_fn, __ATOMIC_RELAXED);
	__atomic_store_n(&hook_arg, arg, __ATOMIC_RELAXED);
	__atomic_store_n(&hook_fn, fn, __ATOMIC_RELAXED);
	return old ? old : obq_error_default_hook;
}

int obq_error_is_notice(enum obq_error_kind kind)
{
	return kind == OBQ_ERR_RESOURCE_EXHAUSTED;
}

int obq_error_is_allocator_contract(enum obq_error_kind kind)
{
	return kind >= OBQ_ERR_ALLOC_DOUBLE_HANDOUT && kind <= OBQ_ERR_ALLOC_CONTRACT;
}

void obq_error_default_hook(const struct obq_error *err, void *arg)
{
	(void)arg;
	/* write(2), not stdio: the report must come out even if stdio is mid-flight. */
	size_t len = strlen(err->message);
	const char *p = err->message;
	while (len > 0) {
		ssize_t n = write(2, p, len);
		if (n <= 0)
			break;
		p += n;
		len -= (size_t)n;
	}
	if (!obq_error_is_notice(err->kind))
		abort();
}

static void report_v(enum obq_error_kind kind, const char *cache, const void *object,
		     const char *slot_state, unsigned long generation, const char *fmt,
		     va_list ap)
{
	char body[3072];
	char msg[4096];
	vsnprintf(body, sizeof body, fmt, ap);
	if (obq_error_is_allocator_contract(kind) && hints[kind] && !strstr(body, "hint: ")) {
		size_t n = strlen(body);
		snprintf(body + n, sizeof body - n, "%s    hint: %s\n",
			 n && body[n - 1] != '\n' ? "\n" : "", hints[kind]);
	}
	snprintf(msg, sizeof msg,
		 "==oblique== %s: %s\n"
		 "  cache: %s   object: %p   slot state: %s   generation: %lu\n"
		 "%s%s%s",
		 obq_error_is_notice(kind) ? "WARNING" : "ERROR", obq_error_name(kind), cache ? cache : "(none)", object,
		 slot_state ? slot_state : "(n/a)", generation,
		 obq_error_is_allocator_contract(kind)
			 ? "  rule family: allocator contract — the allocator (or RCU) under test "
			   "broke a guarantee it owes every protocol; the protocol is not to blame\n"
			 : "",
		 body,
		 (body[0] && body[strlen(body) - 1] != '\n') ? "\n" : "");
	struct obq_error e = {
		.kind = kind, .rule = obq_error_name(kind), .cache = cache, .object = object,
		.slot_state = slot_state, .generation = generation, .message = msg,
	};
	obq_error_hook_fn fn = __atomic_load_n(&hook_fn, __ATOMIC_RELAXED);
	void *arg = __atomic_load_n(&hook_arg, __ATOMIC_RELAXED);
	if (fn == NULL)
		fn = obq_error_default_hook;
	int saved = errno;
	fn(&e, arg);
	errno = saved;
}

void _obq_report(enum obq_error_kind kind, const char *cache, const void *object,
		 const char *slot_state, unsigned long generation, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report_v(kind, cache, object, slot_state, generation, fmt, ap);
	va_end(ap);
}

void obq_error_report(enum obq_error_kind kind, const char *cache, const void *object,
		      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report_v(kind, cache, object, NULL, 0, fmt, ap);
	va_end(ap);
}

static __thread char last_error[256];

void _obq_set_last_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof last_error, fmt, ap);
	va_end(ap);
}

const char *obq_last_error(void)
{
	return last_error;
}

void _obq_assert_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "==oblique== assertion failed: %s (%s:%d)\n", expr, file, line);
	abort();
}

/* fork (fork.c): the tool kinds' lock, a leaf. */
void _obq_error_fork_prepare(void)
{
	pthread_mutex_lock(&tool_lock);
}

void _obq_error_fork_release(void)
{
	pthread_mutex_unlock(&tool_lock);
}
