/* wmm_rt_litmus.c — "target code" for test_wmm_rt.c: compiled with -fsanitize=thread
 * (only this file), linked against the harness's runtime (harness/wmm_rt.c), never
 * libtsan.  Each function is one virtual thread's part of a litmus test, written the
 * way target code is: C11 atomics and plain fields. */
#include <stdatomic.h>

struct msg {
	int data;              /* plain */
	_Atomic int adata;     /* atomic, relaxed */
};

struct msg m;
_Atomic int flag;

void lit_reset(void)
{
	m.data = 0;
	atomic_store_explicit(&m.adata, 0, memory_order_relaxed);
	atomic_store_explicit(&flag, 0, memory_order_relaxed);
}

/* publishers */
void pub_release(void)
{
	m.data = 42;
	atomic_store_explicit(&m.adata, 42, memory_order_relaxed);
	atomic_store_explicit(&flag, 1, memory_order_release);
}

void pub_relaxed(void)
{
	m.data = 42;
	atomic_store_explicit(&m.adata, 42, memory_order_relaxed);
	atomic_store_explicit(&flag, 1, memory_order_relaxed);
}

/* subscribers: -1 when the flag was not seen, else the data read */
int sub_acquire_plain(void)
{
	if (!atomic_load_explicit(&flag, memory_order_acquire))
		return -1;
	return m.data;
}

int sub_acquire_atomic(void)
{
	if (!atomic_load_explicit(&flag, memory_order_acquire))
		return -1;
	return atomic_load_explicit(&m.adata, memory_order_relaxed);
}

int sub_relaxed_atomic(void)
{
	if (!atomic_load_explicit(&flag, memory_order_relaxed))
		return -1;
	return atomic_load_explicit(&m.adata, memory_order_relaxed);
}

/* a counter bumped with an RMW, and a compare-exchange */
int bump(void)
{
	int old = 1;
	atomic_fetch_add_explicit(&flag, 1, memory_order_acq_rel);
	atomic_compare_exchange_strong_explicit(&m.adata, &old, 7, memory_order_acq_rel,
						memory_order_relaxed);
	return old;
}
