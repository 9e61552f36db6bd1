/* test_quarantine_walk.c — the checker's quarantine walks are bounded (shadow.c, "Walk
 * bound"): a slab the allocator releases twice is pushed into the quarantine twice —
 * what a magazine flush that forgets to reset its top does — and must end in a
 * corrupt-metadata report, never in an endless walk (one hung a campaign's warm-up for
 * 17 minutes).  The planted double push runs in a child under an alarm: the parent
 * asserts that the child finished (no SIGALRM), with exactly the expected reports.
 * A test build only: the shipped library is not changed, the test calls the checker's
 * internal push directly. */
#include <oblique/oblique.h>

#include "check_internal.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned n_corrupt, n_other;

static void hook(const struct obq_error *e, void *arg)
{
	(void)arg;
	if (e->kind == OBQ_ERR_CORRUPT && strstr(e->message, "released twice"))
		n_corrupt++;
	else
		n_other++;
}

/* A shadow record standing for a released slab of cache `tag` (never evicted: the
 * quarantine holds 64 slabs, the child pushes 3). */
static struct chk_slab *fake(void *tag)
{
	struct chk_slab *cs = _obq_chk_slab_alloc(1);
	if (cs == NULL) {
		fprintf(stderr, "no shadow record\n");
		exit(3);
	}
	cs->cache = tag;
	return cs;
}

static int child(void)
{
	static char cache_a, cache_b;
	obq_set_error_hook(hook, NULL);
	alarm(10); /* an endless walk dies of SIGALRM: the parent sees it */
	struct chk_slab *a = fake(&cache_a), *b = fake(&cache_b);
	_obq_chk_quarantine_push(a);
	_obq_chk_quarantine_push(b);
	_obq_chk_quarantine_push(b); /* released twice in a row: would link b to itself */
	_obq_chk_quarantine_forget_cache((struct obq_cache *)&cache_a); /* the walk */
	printf("reports: %u corrupt-metadata, %u other\n", n_corrupt, n_other);
	fflush(stdout); /* (the child leaves by _exit) */
	return n_corrupt == 1 && n_other == 0 ? 0 : 1;
}

int main(void)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0)
		_exit(child());
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) != pid) {
		perror("fork/wait");
		return 2;
	}
	if (WIFSIGNALED(st)) {
		printf("FAIL: the child died of signal %d%s\n", WTERMSIG(st),
		       WTERMSIG(st) == SIGALRM ? " (an endless quarantine walk)" : "");
		return 1;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		printf("FAIL: the child exited %d (wrong reports)\n", WEXITSTATUS(st));
		return 1;
	}
	printf("ok: a slab pushed twice is a corrupt-metadata report, no endless walk\n");
	return 0;
}
