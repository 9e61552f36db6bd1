/* select.c — the mutants build's run-time selection of one seeded bug (compiled only
 * into the library variants mutants/CMakeLists.txt builds with OBQ_MUTANTS=1).
 *
 * OBQ_MUTANT=<name> picks one mutant for the whole process, from the library's list
 * (alloc/src/mutant.h) or the targets' list (targets/mutant.h); it is read once by a
 * constructor, before main and before any thread.  An unknown name aborts, so a typo
 * never silently benchmarks the clean code; OBQ_MUTANT=list prints every name and
 * exits; unset, empty or "none" selects nothing (the clean behaviour). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mutant.h" /* alloc/src: the library's list */
#undef OBQ_MUTANT
#include "../targets/mutant.h" /* the targets' list */

#if !(defined(OBQ_MUTANTS) && OBQ_MUTANTS)
#error "mutants/select.c belongs to the mutants build (OBQ_MUTANTS=1)"
#endif

int _obq_lib_mutant_selected;    /* enum _obq_lib_mutant; 0: none */
int _obq_target_mutant_selected; /* enum _obq_target_mutant; 0: none */

#define NAME_STR(n) #n,
static const char *const lib_names[] = {"", OBQ_LIB_MUTANT_LIST(NAME_STR)};
static const char *const target_names[] = {"", OBQ_TARGET_MUTANT_LIST(NAME_STR)};
#undef NAME_STR

static int find(const char *const *names, int count, const char *e)
{
	for (int i = 1; i < count; i++)
		if (strcmp(e, names[i]) == 0)
			return i;
	return 0;
}

__attribute__((constructor)) static void mutant_select(void)
{
	const char *e = getenv("OBQ_MUTANT");
	if (e == NULL || *e == 0 || strcmp(e, "none") == 0)
		return;
	if (strcmp(e, "list") == 0) {
		for (int i = 1; i < _OBQ_TARGET_MUTANT_COUNT; i++)
			printf("%s\n", target_names[i]);
		for (int i = 1; i < _OBQ_LIB_MUTANT_COUNT; i++)
			printf("%s\n", lib_names[i]);
		exit(0);
	}
	int l = find(lib_names, _OBQ_LIB_MUTANT_COUNT, e);
	int t = find(target_names, _OBQ_TARGET_MUTANT_COUNT, e);
	if (l == 0 && t == 0) {
		fprintf(stderr, "==oblique== OBQ_MUTANT=%s: no such mutant (OBQ_MUTANT=list lists them)\n", e);
		abort();
	}
	_obq_lib_mutant_selected = l;
	_obq_target_mutant_selected = t;
	if (getenv("OBQ_MUTANT_VERBOSE"))
		fprintf(stderr, "==oblique== mutant %s selected\n", e);
}
