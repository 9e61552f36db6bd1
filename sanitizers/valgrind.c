/* valgrind.c — Valgrind (memcheck) client requests for the checker, with OBQ_VALGRIND=1
 * (CMake: -DOBQ_VALGRIND=ON, or a library variant built with DEFINES OBQ_VALGRIND=1).
 *
 * FREE slots and RELEASED slabs are NOACCESS, so memcheck reports a plain touch of a
 * freed object ("Invalid read of size 4 ... inside a block of size N client-defined");
 * alloc makes the object DEFINED (typesafe, ctor and poison caches: its bytes mean
 * something) or UNDEFINED (plain caches: the previous owner's bytes).  The access layer
 * turns error reporting off around its own sanctioned accesses of freed objects
 * (OBQ__QUIET_BEGIN/END in oblique/bits/access_raw.h).  Without Valgrind running the
 * requests cost a few instructions; without OBQ_VALGRIND they compile to nothing. */
#include "check_internal.h"

#if defined(OBQ_VALGRIND) && OBQ_VALGRIND && defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define HAVE_VG 1
#endif
#endif

void _obq_vg_noaccess(const void *p, size_t n)
{
#ifdef HAVE_VG
	VALGRIND_MAKE_MEM_NOACCESS(p, n);
#else
	(void)p;
	(void)n;
#endif
}

void _obq_vg_defined(const void *p, size_t n)
{
#ifdef HAVE_VG
	VALGRIND_MAKE_MEM_DEFINED(p, n);
#else
	(void)p;
	(void)n;
#endif
}

void _obq_vg_undefined(const void *p, size_t n)
{
#ifdef HAVE_VG
	VALGRIND_MAKE_MEM_UNDEFINED(p, n);
#else
	(void)p;
	(void)n;
#endif
}

int _obq_vg_running(void)
{
#ifdef HAVE_VG
	return RUNNING_ON_VALGRIND != 0;
#else
	return 0;
#endif
}
