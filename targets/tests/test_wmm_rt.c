/* test_wmm_rt.c — the harness's __tsan_* runtime (harness/wmm_rt.c) over instrumented
 * code (wmm_rt_litmus.c, compiled with -fsanitize=thread, linked without libtsan).
 *
 * Two virtual threads run one after the other (publisher, then subscriber) under
 * every choice the model offers, exhaustively; the test asserts what instrumented code
 * can see through the runtime: a stale relaxed read through a relaxed publish, none
 * through a release/acquire one; a data race on the plain field with a relaxed
 * publish, none with a release one; RMWs and compare-exchange performed for real. */
#include "../harness/wmm_rt.h"
#include "explore.h"

#include <stdio.h>
#include <string.h>

void lit_reset(void);
void pub_release(void);
void pub_relaxed(void);
int sub_acquire_plain(void);
int sub_acquire_atomic(void);
int sub_relaxed_atomic(void);
int bump(void);

static unsigned tid_now;
static unsigned races, stales;

static unsigned get_tid(void *ctx)
{
	(void)ctx;
	return tid_now;
}

static void on_race(void *ctx, const struct wmm_race *r)
{
	(void)ctx;
	(void)r;
	races++;
}

static void on_stale(void *ctx, const void *addr, unsigned back, uint64_t got, uint64_t latest)
{
	(void)ctx;
	(void)addr;
	(void)back;
	(void)got;
	(void)latest;
	stales++;
}

struct result {
	unsigned seen[3]; /* subscriber results: -1, 0 (stale), 42 */
	unsigned race_runs, stale_runs, runs;
};

static void explore(struct wmm *m, void (*pub)(void), int (*sub)(void), struct result *res)
{
	memset(res, 0, sizeof *res);
	nch = 0;
	do {
		pos = 0;
		races = stales = 0;
		tid_now = WMM_RT_OFF;
		lit_reset();              /* setup: unmodelled */
		wmm_reset(m);
		tid_now = 0;
		pub();
		tid_now = 1;
		int r = sub();
		tid_now = WMM_RT_OFF;
		res->seen[r < 0 ? 0 : r == 0 ? 1 : 2]++;
		res->race_runs += races != 0;
		res->stale_runs += stales != 0;
		res->runs++;
	} while (explore_next());
}

int main(void)
{
	struct wmm *m = wmm_new(2);
	if (!m)
		return 2;
	wmm_set_chooser(m, chooser, NULL);
	struct wmm_rt_hooks h = {m, NULL, get_tid, on_race, on_stale};
	wmm_rt_set(&h);
	int bad = 0;
	struct result r;
#define CHECK(name, cond)                                                              \
	do {                                                                           \
		int ok_ = (cond);                                                      \
		printf("%-44s %s  (runs %u: flag unseen %u, stale %u, 42 %u; races in %u, stale reads in %u)\n", \
		       name, ok_ ? "ok  " : "FAIL", r.runs, r.seen[0], r.seen[1], r.seen[2], \
		       r.race_runs, r.stale_runs);                                     \
		bad += !ok_;                                                           \
	} while (0)
	explore(m, pub_release, sub_acquire_plain, &r);
	CHECK("release publish, acquire, plain data", r.seen[2] > 0 && r.seen[1] == 0 && r.race_runs == 0);
	explore(m, pub_relaxed, sub_acquire_plain, &r);
	CHECK("relaxed publish, acquire, plain data: race", r.seen[2] > 0 && r.race_runs > 0);
	explore(m, pub_release, sub_acquire_atomic, &r);
	CHECK("release publish, acquire, atomic data", r.seen[2] > 0 && r.seen[1] == 0 && r.race_runs == 0);
	explore(m, pub_relaxed, sub_acquire_atomic, &r);
	CHECK("relaxed publish, acquire: stale data", r.seen[1] > 0 && r.seen[2] > 0 && r.stale_runs > 0);
	explore(m, pub_release, sub_relaxed_atomic, &r);
	CHECK("release publish, relaxed load: stale data", r.seen[1] > 0 && r.seen[2] > 0);
	/* RMWs are performed for real (unmodelled, then modelled) */
	tid_now = WMM_RT_OFF;
	lit_reset();
	int old = bump();
	int ok = old == 0; /* adata was 0: the CAS failed and returned it */
	wmm_reset(m);
	tid_now = 0;
	pub_release();
	old = bump();
	ok = ok && old == 42; /* adata 42: CAS failed, returned 42 */
	tid_now = WMM_RT_OFF;
	printf("%-44s %s\n", "fetch_add / compare_exchange performed", ok ? "ok  " : "FAIL");
	bad += !ok;
	wmm_rt_set(NULL);
	wmm_free(m);
	printf("%s: %d failure%s\n", bad ? "FAILED" : "ok", bad, bad == 1 ? "" : "s");
	return bad ? 1 : 0;
}
