/* access.c — the out-of-line part of oblique/access.h, compiled into every library
 * variant (release builds too): zeroing an object around its guard fields, queuing a
 * callback that references a cache's objects, describing an address, and flushing the
 * checker's quarantine.  In release builds these do their job without any checking;
 * checked builds reach the checker through the seam (oblique/bits/track.h) and the
 * cache through slot.h only. */
#include "internal.h"
#include "slot.h"
#include <oblique/access.h>
#include <oblique/testing.h> /* obq_quarantine_flush */

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Relaxed byte-range zeroing: a stale reader may OBQ_PEEK a neighbouring guard (or,
 * buggy, this very field) concurrently; atomics keep that free of data races. */
static OBQ_NO_ASAN void zero_range(char *p, size_t n)
{
	while (n > 0 && ((uintptr_t)p & 7)) {
		__atomic_store_n((uint8_t *)p, 0, __ATOMIC_RELAXED);
		p++;
		n--;
	}
	while (n >= 8) {
		__atomic_store_n((uint64_t *)p, 0, __ATOMIC_RELAXED);
		p += 8;
		n -= 8;
	}
	while (n > 0) {
		__atomic_store_n((uint8_t *)p, 0, __ATOMIC_RELAXED);
		p++;
		n--;
	}
}

int obq_clear_except_guards(obq_cache_t *c, void *obj)
{
	if (c == NULL || obj == NULL)
		return -EINVAL;
	size_t size = _obq_cache_object_size(c);
#if OBQ_CHECKED
	_obq_check_access(obj, size, OBQ_ACC_CLEAR);
#endif
	const struct obq_guard *g = _obq_cache_guards(c);
	/* Walk the object, skipping each declared guard: at most OBQ_GUARD_KIND_COUNT
	 * ranges, found by repeatedly taking the lowest guard at or after `at`. */
	size_t at = 0;
	while (at < size) {
		size_t next = size, next_end = size;
		for (unsigned k = 0; k < OBQ_GUARD_KIND_COUNT; k++) {
			if (!g[k].declared)
				continue;
			size_t b = g[k].offset, e = g[k].offset + g[k].size;
			if (e > at && b < next) {
				next = b < at ? at : b;
				next_end = e;
			}
		}
		if (next > at)
			zero_range((char *)obj + at, next - at);
		at = next_end > next ? next_end : size;
	}
	return 0;
}

static void call_tracked(struct obq_cache *c, struct obq_rcu_head *head,
			 void (*fn)(struct obq_rcu_head *head), const void *site)
{
#if OBQ_CHECKED
	_obq_check_rcu_call(c, head, fn, site);
#else
	(void)c;
	(void)site;
	obq_rcu_call(head, fn);
#endif
}

void obq_rcu_call_obj(const void *obj, struct obq_rcu_head *head,
		      void (*fn)(struct obq_rcu_head *head))
{
	struct obq_cache *c = NULL;
#if OBQ_CHECKED
	struct obq_slot_info si;
	if (obj && _obq_slot_lookup(obj, &si))
		c = si.cache;
#else
	(void)obj;
#endif
	call_tracked(c, head, fn, __builtin_return_address(0));
}

void obq_rcu_call_cache(obq_cache_t *c, struct obq_rcu_head *head,
			void (*fn)(struct obq_rcu_head *head))
{
	call_tracked(c, head, fn, __builtin_return_address(0));
}

size_t obq_describe_object(const void *p, char *buf, size_t len)
{
	if (buf == NULL || len == 0)
		return 0;
#if OBQ_CHECKED
	return _obq_check_describe(p, buf, len);
#else
	struct obq_slot_info si;
	int n;
	if (_obq_slot_lookup(p, &si))
		n = snprintf(buf, len, "  %p: slot %zu of cache \"%s\", state %s, generation %llu "
			     "(release build: no alloc/free history)\n", p, si.index,
			     si.cache ? obq_cache_name(si.cache) : "(destroyed)",
			     _obq_slot_state_name(si.state), (unsigned long long)si.generation);
	else
		n = snprintf(buf, len, "  %p is not in any oblique cache's slab\n", p);
	if (n < 0)
		return 0;
	return (size_t)n < len ? (size_t)n : len - 1;
#endif
}

void obq_check_set_user_fn_hook(const void *(*fn)(void))
{
#if OBQ_CHECKED
	_obq_check_set_user_fn(fn);
#else
	(void)fn;
#endif
}

void obq_quarantine_flush(void)
{
#if OBQ_CHECKED
	_obq_check_quarantine_flush();
#endif
}
