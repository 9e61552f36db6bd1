/* asan.c — the checker's policy towards AddressSanitizer (and the error hook every
 * checked build installs).
 *
 * Poisoning.  FREE and FREE-PENDING slots of every cache are poisoned
 * (_obq_check_slab_created poisons the whole fresh slab after the ctor ran;
 * _obq_check_freed poisons one stride; _obq_check_alloc unpoisons the object size — the
 * whole stride for OBQ_POISON caches, whose fill check reads it).  RELEASED slabs are
 * poisoned whole and kept in the quarantine (shadow.c).  So plain instrumented code that
 * touches a freed object is stopped by ASan at the faulting instruction
 * ("use-after-poison"), which a per-thread rule could never do: ASan's shadow is
 * process-wide, the read-side rule is per thread — that one lives in the access layer,
 * whose raw accesses are no_sanitize("address") (oblique/bits/access_raw.h).
 *
 * Reports.  At start-up the checker installs its own default error hook (only if the
 * program has not installed one).  It behaves as obq_error_default_hook — print, then
 * abort — with two additions:
 *   - a report that does not carry the typesafe context yet (the allocator's bad-free
 *     reports) gets it appended (report.c);
 *   - under ASan, a report about an object goes through __asan_report_error, so ASan's
 *     own machinery applies (its stack trace, halt_on_error, log_path, abort_on_error),
 *     and the oblique report follows ASan's from the report callback.
 * For ASan's own reports (plain access to poisoned memory) the report callback looks up
 * the faulting address and, when it lies in an oblique slab, prints the typesafe
 * context under the rule's name: free-plain-access (FREE / FREE-PENDING slot) or
 * released-access (RELEASED slot).
 * A program that installs its own hook (a fuzz target, a test) gets the plain report
 * and may call obq_describe_object() for the context.
 *
 * Valgrind (memcheck, OBQ_VALGRIND=1: CMake -DOBQ_VALGRIND=ON, or a variant built with
 * DEFINES OBQ_VALGRIND=1).  The same poisoning points mark FREE slots and RELEASED slabs
 * NOACCESS, so memcheck reports a plain touch of a freed object ("Invalid read of size
 * 4 ... inside a block of size N client-defined"); alloc makes the object DEFINED
 * (typesafe, ctor and poison caches: its bytes mean something) or UNDEFINED (plain
 * caches: the previous owner's bytes).  The access layer turns error reporting off
 * around its own sanctioned accesses of freed objects (OBQ__QUIET_BEGIN/END).  Both
 * tools are reached through the seam's macros (oblique/bits/track.h). */
#include "check_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Poisoning goes through the seam (oblique/bits/track.h); the report machinery below
 * is the checker's own business with ASan. */
#if OBQ_ASAN
void __asan_report_error(void *pc, void *bp, void *sp, void *addr, int is_write, size_t access_size);
void __asan_set_error_report_callback(void (*callback)(const char *));
void *__asan_get_report_address(void);
#endif
#if OBQ_ASAN || OBQ_TSAN
void __sanitizer_print_stack_trace(void);
#endif

#if OBQ_ASAN
void *__asan_region_is_poisoned(void *beg, size_t size);
size_t __asan_get_free_stack(void *addr, void **trace, size_t size, int *thread_id);
const char *__asan_locate_address(void *addr, char *name, size_t name_size,
				  void **region_address, size_t *region_size);
void __asan_describe_address(void *addr);
#endif

const char *_obq_chk_asan_released(const void *addr, size_t size)
{
#if OBQ_ASAN
	void *bad = __asan_region_is_poisoned((void *)addr, size ? size : 1);
	if (bad == NULL)
		return NULL;
	/* Poisoned: a heap block ASan saw freed has a free stack; memory a foreign
	 * allocator poisoned itself (its free typesafe objects, inside a live block) has
	 * none and is left alone, as are stack and global redzones. */
	void *pc[1];
	int tid = -1;
	if (__asan_get_free_stack(bad, pc, 1, &tid) > 0)
		return "freed heap memory (ASan: heap-use-after-free)";
	return NULL;
#else
	(void)addr;
	(void)size;
	return NULL;
#endif
}

void _obq_chk_asan_describe(const void *addr)
{
#if OBQ_ASAN
	__asan_describe_address((void *)addr);
#else
	(void)addr;
#endif
}

void _obq_chk_poison(const void *p, size_t n)
{
	OBQ_TRACK_ASAN_POISON(p, n);
	OBQ_TRACK_VG_NOACCESS(p, n);
}

void _obq_chk_unpoison(const void *p, size_t n, int defined)
{
	OBQ_TRACK_ASAN_UNPOISON(p, n);
	if (defined)
		OBQ_TRACK_VG_DEFINED(p, n);
	else
		OBQ_TRACK_VG_UNDEFINED(p, n);
}

/* The access a checker report is about (set just before _obq_report, same thread). */
static __thread struct {
	const void *addr;   /* accessed address */
	size_t size;        /* bytes */
	int is_write;       /* 1 for stores */
	const void *site;   /* caller's PC */
} note;

void _obq_chk_asan_note_access(const void *addr, size_t size, int is_write, const void *site)
{
	note.addr = addr;
	note.size = size;
	note.is_write = is_write;
	note.site = site;
}

static void write_all(const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(2, p, len);
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static void write_str(const char *s)
{
	write_all(s, strlen(s));
}

#if OBQ_ASAN
/* The oblique report to print after ASan's (set by the hook, read by the callback on
 * the same thread, inside the same report). */
static __thread const char *pending_msg;

static void asan_report_callback(const char *report)
{
	(void)report;
	if (pending_msg) {
		write_str(pending_msg);
		return;
	}
	void *a = __asan_get_report_address();
	struct obq_slot_info si;
	if (a == NULL || !_obq_slot_lookup(a, &si))
		return;
	const char *rule = NULL;
	if (si.state == OBQ_SLOT_FREE || si.state == OBQ_SLOT_FREE_PENDING)
		rule = obq_error_name(OBQ_ERR_FREE_PLAIN_ACCESS);
	else if (si.state == OBQ_SLOT_RELEASED)
		rule = obq_error_name(OBQ_ERR_RELEASED_ACCESS);
	static char msg[4096]; /* under ASan's report lock: one report at a time */
	const char *cname = si.check ? ((struct chk_slab *)si.check)->name
				     : si.cache ? obq_cache_name(si.cache) : "(none)";
	int k = snprintf(msg, sizeof msg,
			 "==oblique== ERROR: %s\n"
			 "  cache: %s   object: %p   slot state: %s   generation: %llu\n"
			 "ASan stopped a plain (not oblique/access.h) access at %p (object +%zu) of "
			 "a %s slot%s\n",
			 rule ? rule : "(no oblique rule: ASan's report stands)", cname, si.object,
			 _obq_slot_state_name(si.state), (unsigned long long)si.generation, a, si.offset,
			 _obq_slot_state_name(si.state),
			 si.state == OBQ_SLOT_RELEASED ? ": its slab went back after a grace period"
			 : rule ? ": freed objects may be read only through oblique/access.h, "
				  "inside a read-side section"
				: "");
	if (k > 0 && (size_t)k < sizeof msg)
		_obq_chk_context(a, &si, msg + k, sizeof msg - (size_t)k);
	write_str(msg);
	write_str("    hint: read a possibly-freed object only through oblique/access.h "
		  "(OBQ_PEEK, pins, oblique locks) inside a read-side section, and plain "
		  "fields only after pinning and re-validating\n");
}
#endif

/* The checker's default hook: print (+context, +ASan machinery) and abort. */
static void check_hook(const struct obq_error *e, void *arg)
{
	(void)arg;
	if (obq_error_is_notice(e->kind)) {
		obq_error_default_hook(e, NULL); /* prints and returns */
		return;
	}
	static __thread char full[8192];
	const char *msg = e->message;
	if (e->object && strstr(msg, CHK_CONTEXT_MARK) == NULL) {
		size_t k = (size_t)snprintf(full, sizeof full, "%s", msg);
		if (k < sizeof full)
			_obq_chk_context(e->object, NULL, full + k, sizeof full - k);
		msg = full;
	}
#if OBQ_ASAN
	if (e->object) {
		const void *addr = note.addr ? note.addr : e->object;
		pending_msg = msg;
		__asan_report_error((void *)(note.site ? note.site : __builtin_return_address(0)),
				    __builtin_frame_address(0), __builtin_frame_address(0),
				    (void *)addr, note.is_write, note.size ? note.size : 1);
		/* Only reached with halt_on_error=0 (ASan recover mode): still a bug. */
		pending_msg = NULL;
		note.addr = NULL;
		abort();
	}
#endif
	note.addr = NULL;
	write_str(msg);
#if OBQ_ASAN || OBQ_TSAN
	if (strstr(msg, "access stack:") == NULL) {
		write_str("  report stack:\n");
		__sanitizer_print_stack_trace();
	}
#endif
	abort();
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init(void)
{
	/* Take over the default hook only: a hook the program installed stays. */
	obq_error_hook_fn prev = obq_set_error_hook(check_hook, NULL);
	if (prev != obq_error_default_hook)
		obq_set_error_hook(prev, NULL);
#if OBQ_ASAN
	__asan_set_error_report_callback(asan_report_callback);
#endif
	(void)_obq_chk_options();
	_obq_chk_check_atfork();
	_obq_chk_shadow_atfork();
}

void _obq_chk_init_once(void)
{
	pthread_once(&init_once, init);
}

__attribute__((constructor)) static void chk_ctor(void)
{
	_obq_chk_init_once();
}
