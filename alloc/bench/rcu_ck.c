/* rcu_ck.c — Concurrency Kit's ck_epoch in the RCU benchmark: ck_epoch_begin/end as the
 * read side (inline), ck_epoch_synchronize, and ck_epoch_call + ck_epoch_barrier (the
 * barrier dispatches the callbacks on the calling thread).  Each thread owns a record,
 * recycled from unregistered ones so repeated cases do not grow the record list. */
#include "bench.h"

#include <ck_epoch.h>

static ck_epoch_t ck_global;
static __thread ck_epoch_record_t *ck_rec;

static void ck_register(void)
{
	ck_epoch_record_t *r = ck_epoch_recycle(&ck_global, NULL);
	if (!r) {
		r = aligned_alloc(64, (sizeof *r + 63) / 64 * 64);
		ck_epoch_register(&ck_global, r, NULL);
	}
	ck_rec = r;
}

static void ck_unregister(void)
{
	ck_epoch_barrier(ck_rec); /* nothing may stay queued on a recycled record */
	ck_epoch_unregister(ck_rec);
	ck_rec = NULL;
}

__attribute__((constructor)) static void ck_init_global(void)
{
	ck_epoch_init(&ck_global);
}


#define FL_NAME "ck-epoch"
#define FL_PREFIX(x) ck_##x
#define FL_REGISTER() ck_register()
#define FL_UNREGISTER() ck_unregister()
#define FL_READ_LOCK() ck_epoch_begin(ck_rec, NULL)
#define FL_READ_UNLOCK() ck_epoch_end(ck_rec, NULL)
#define FL_DEREF(p) ck_pr_load_ptr(&(p))
#define FL_READER_QS() ((void)0)
#define FL_SYNC() ck_epoch_synchronize(ck_rec) /* needs the caller's own record */
#define FL_WRITER_REGISTER() ck_register()
#define FL_WRITER_UNREGISTER() ck_unregister()
#define FL_HAS_CALL 1
#define FL_HEAD_T ck_epoch_entry_t
#define FL_CALL(h, fn) ck_epoch_call(ck_rec, (h), (fn))
#define FL_BARRIER() ck_epoch_barrier(ck_rec)
#include "rcu_cases.h"
