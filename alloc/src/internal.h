/* internal.h — symbols shared between liboblique's own files (prefix _obq_).
 * Layer order (lower never includes higher): os -> rcu -> cache -> access -> check. */
#ifndef OBQ_INTERNAL_H
#define OBQ_INTERNAL_H

#include <oblique/oblique.h>

/* Two assertion tiers (as snmalloc): OBQ_ASSERT is debug-only (file:line, abort);
 * OBQ_CHECK-style always-on checks report through the error hook (see error.h). */
#ifndef NDEBUG
#define OBQ_ASSERT(x) ((x) ? (void)0 : _obq_assert_fail(#x, __FILE__, __LINE__))
#else
#define OBQ_ASSERT(x) ((void)0)
#endif
OBQ_COLD void _obq_assert_fail(const char *expr, const char *file, int line) __attribute__((noreturn));

/* Thread lifecycle hooks, called by thread.c in this order when a context goes away. */
void _obq_mag_thread_exit(struct obq_thread *t);   /* magazine.c: flush magazines to depots */
void _obq_rcu_thread_exit(struct obq_thread *t);   /* rcu_*.c: report exit inside a section, unregister */
#if OBQ_CHECKED
void _obq_check_thread_exit(struct obq_thread *t); /* sanitizers/: free per-thread checker data */
#else
#define _obq_check_thread_exit(t) ((void)0)
#endif

/* Small unique thread ids (1, 2, ...). */
unsigned _obq_next_thread_id(void);

#endif /* OBQ_INTERNAL_H */
