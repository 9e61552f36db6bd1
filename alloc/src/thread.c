/* thread.c — the explicit per-thread context (see oblique/thread.h).
 *
 * An OS thread's own context is created on first use and torn down by a pthread key
 * destructor (or obq_thread_exit).  Virtual-thread contexts are created and deleted
 * by their scheduler and installed with obq_thread_switch. */
#include "internal.h"
#include "magazine.h"

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

static void exit_destructor(void *arg)
{
	struct obq_thread *t = arg;
	/* The thread may have switched to a virtual context; tear down its own. */
	struct obq_thread *prev = _obq_self;
	set_self(t);
	teardown(t);
	set_self(prev == t ? _OBQ_THREAD_NONE : prev);
	free(t);
}

/* A zeroed context, aligned as its type asks (calloc guarantees only 16 bytes). */
static struct obq_thread *context_alloc(void)
{
	void *p = NULL;
	if (posix_memalign(&p, _Alignof(struct obq_thread), sizeof(struct obq_thread)) != 0)
		return NULL;
	return memset(p, 0, sizeof(struct obq_thread));
}

static void make_key(void)
{
	pthread_key_create(&exit_key, exit_destructor);
}

struct obq_thread *_obq_thread_slow(void)
{
	struct obq_thread *t = context_alloc();
	if (t == NULL) {
		/* Without a context nothing can proceed safely. */
		_obq_assert_fail("per-thread context allocation", __FILE__, __LINE__);
	}
	t->id = _obq_next_thread_id();
	pthread_once(&exit_once, make_key);
	pthread_setspecific(exit_key, t);
	set_self(t);
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
	free(t);
}
