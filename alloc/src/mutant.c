/* mutant.c — the mutants build's run-time selection (compiled only into the libraries
 * mutants/CMakeLists.txt builds with OBQ_MUTANTS=1; see oblique/bits/mutant.h).
 *
 * OBQ_MUTANT=<name> picks one mutant of OBQ_MUTANT_LIST for the whole process; it is
 * read once by a constructor, before main and before any thread.  OBQ_MUTANT=list
 * prints the names and exits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oblique/bits/mutant.h>

int _obq_mutant_selected; /* enum obq_mutant_id; 0: none */

#define NAME_STR(n) #n,
static const char *const names[] = {"", OBQ_MUTANT_LIST(NAME_STR)};
#undef NAME_STR

const char *obq_mutant_name(void)
{
	return names[_obq_mutant_selected];
}

__attribute__((constructor)) static void mutant_select(void)
{
	const char *e = getenv("OBQ_MUTANT");
	if (e == NULL || *e == 0 || strcmp(e, "none") == 0)
		return;
	if (strcmp(e, "list") == 0) {
		for (int i = 1; i < OBQ_MUTANT_ID_COUNT; i++)
			printf("%s\n", names[i]);
		exit(0);
	}
	for (int i = 1; i < OBQ_MUTANT_ID_COUNT; i++)
		if (strcmp(e, names[i]) == 0) {
			_obq_mutant_selected = i;
			if (getenv("OBQ_MUTANT_VERBOSE"))
				fprintf(stderr, "==oblique== mutant %s selected\n", names[i]);
			return;
		}
	fprintf(stderr, "==oblique== OBQ_MUTANT=%s: no such mutant (OBQ_MUTANT=list lists them)\n", e);
	abort();
}
