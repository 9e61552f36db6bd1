/* thread.c — the explicit per-thread context (see oblique/thread.h).
 *
 * An OS thread's own context is created on first use and torn down by a pthread key
 * destructor (or obq_thread_exit).  Virtual-thread contexts are created and deleted
 * by their scheduler and installed with obq_thread_switch.
 *
 * Out of memory for an OS thread's context (the thread cannot go on without one: every
 * alloc, free and read-side section needs it): the thread takes one of RESERVE static
 * contexts, given back when it exits; if every one is taken it retries the allocation
 * and the reserve, sleeping 1 ms between tries, until one succeeds.  The first time
 * either happens a "resource-exhausted" notice goes through the error hook. */
#include "internal.h"
#include "magazine.h"

#include "os.h"

#include <oblique/testing.h> /* OBQ_INJECT_THREAD_CONTEXT */

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

const struct obq_thread _obq_thread_none; /* all zero: see oblique/thread.h */
__thread struct obq_thread *_obq_self __attribute__((tls_model("initial-exec"))) = _OBQ_THREAD_NONE;

/* Install t as the current context: _obq_self and the fast paths' copy of its
 * magazine set (magazine.h: _obq_mags) change together. */
static inline void set_self(struct obq_thread *t)
{
	_obq_self = t;
	_obq_mags = _obq_mags_for(t->mags);
}

static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static unsigned next_id; /* accessed only with __atomic builtins (clang rejects them on _Atomic) */

unsigned _obq_next_thread_id(void)
{
	/* Only uniqueness matters: relaxed. */
	return __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
}

static void teardown(struct obq_thread *t)
{
	_obq_mag_thread_exit(t);
	_obq_rcu_thread_exit(t);
	_obq_check_thread_exit(t);
}

/* Reserve contexts for OS threads whose context could not be allocated.  A slot is
 * taken with an acquire CAS of its flag and given back with a release store (the
 * context's last use by the exiting thread happens before its next owner's first). */
#define RESERVE 16
static struct obq_thread reserve[RESERVE];
static int reserve_used[RESERVE]; /* __atomic builtins */
static int notice_done;           /* __atomic builtins: the notice was sent */

static int is_reserve(const struct obq_thread *t)
{
	return t >= reserve && t < reserve + RESERVE;
}

static void context_free(struct obq_thread *t)
{
	if (is_reserve(t))
		__atomic_store_n(&reserve_used[t - reserve], 0, __ATOMIC_RELEASE);
	else
		free(t);
}

static void exit_destructor(void *arg)
{
	struct obq_thread *t = arg;
	/* The thread may have switched to a virtual context; tear down its own. */
	struct obq_thread *prev = _obq_self;
	set_self(t);
	teardown(t);
	set_self(prev == t ? _OBQ_THREAD_NONE : prev);
	context_free(t);
}

/* A zeroed context, aligned as its type asks (calloc guarantees only 16 bytes). */
static struct obq_thread *context_alloc(void)
{
	void *p = NULL;
	if (OBQ_UNLIKELY(_obq_inject_fail(OBQ_INJECT_THREAD_CONTEXT)))
		return NULL;
	if (posix_memalign(&p, _Alignof(struct obq_thread), sizeof(struct obq_thread)) != 0)
		return NULL;
	return memset(p, 0, sizeof(struct obq_thread));
}

static void make_key(void)
{
	pthread_key_create(&exit_key, exit_destructor);
}

static struct obq_thread *reserve_take(void)
{
	for (int i = 0; i < RESERVE; i++) {
		int zero = 0;
		/* Relaxed pre-check, acquire CAS: see the reserve's comment. */
		if (__atomic_load_n(&reserve_used[i], __ATOMIC_RELAXED) == 0 &&
		    __atomic_compare_exchange_n(&reserve_used[i], &zero, 1, 0, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return memset(&reserve[i], 0, sizeof reserve[i]);
	}
	return NULL;
}

/* The allocation failed: a reserve context, else wait for memory or a reserve slot.
 * *waited: 1 if all the reserve was taken at first. */
static OBQ_NOINLINE struct obq_thread *context_degraded(int *waited)
{
	struct obq_thread *t = reserve_take();
	*waited = t == NULL;
	while (t == NULL) {
		_obq_os_sleep_ns(1000000);
		t = context_alloc();
		if (t == NULL)
			t = reserve_take();
	}
	return t;
}

/* Once the degraded thread has its context (a hook may use oblique). */
static OBQ_NOINLINE void context_notice(int waited)
{
	/* Relaxed exchange: only "once" matters. */
	if (__atomic_exchange_n(&notice_done, 1, __ATOMIC_RELAXED))
		return;
	_obq_report(OBQ_ERR_RESOURCE_EXHAUSTED, NULL, NULL, NULL, 0,
		    "  no memory for a thread's oblique context (%zu bytes): the thread %s\n"
		    "  (%d reserve contexts in all).  oblique went on; this notice is given once.\n",
		    sizeof(struct obq_thread),
		    waited ? "waited for memory or a free reserve context (all were taken)"
			   : "took a reserve context, given back when it exits",
		    RESERVE);
}

struct obq_thread *_obq_thread_slow(void)
{
	struct obq_thread *t = context_alloc();
	int degraded = 0, waited = 0;
	if (OBQ_UNLIKELY(t == NULL)) {
		t = context_degraded(&waited);
		degraded = 1;
	}
	t->id = _obq_next_thread_id();
	pthread_once(&exit_once, make_key);
	pthread_setspecific(exit_key, t);
	set_self(t);
	if (OBQ_UNLIKELY(degraded))
		context_notice(waited);
	return t;
}

struct obq_thread *obq_thread_new(void)
{
	struct obq_thread *t = context_alloc();
	if (t == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	t->id = _obq_next_thread_id();
	t->is_virtual = 1;
	return t;
}

struct obq_thread *obq_thread_switch(struct obq_thread *t)
{
	struct obq_thread *prev = _obq_thread_peek();
	set_self(t != NULL ? t : _OBQ_THREAD_NONE);
	return prev;
}

void obq_thread_delete(struct obq_thread *t)
{
	if (t == NULL)
		return;
	struct obq_thread *prev = obq_thread_switch(t);
	teardown(t);
	obq_thread_switch(prev == t ? NULL : prev);
	free(t);
}

void obq_thread_exit(void)
{
	struct obq_thread *t = _obq_thread_peek();
	if (t == NULL || t->is_virtual)
		return;
	teardown(t);
	pthread_setspecific(exit_key, NULL);
	set_self(_OBQ_THREAD_NONE);
	context_free(t);
}
