/* rcu_obq.c — oblique's RCU domain (the backend this tree was built with: builtin by
 * default) in the RCU benchmark: inlined read side, obq_rcu_synchronize, and
 * obq_rcu_call + obq_rcu_barrier. */
#include "bench.h"

#include <oblique/rcu.h>

#define FL_NAME "obq-" OBQ_RCU_BACKEND_NAME /* the backend table's name (bits/backends.h) */
#define FL_PREFIX(x) bobq_##x /* not obq_: that prefix is the library's */
#define FL_REGISTER() obq_rcu_register_thread()
#define FL_UNREGISTER() obq_rcu_unregister_thread()
#define FL_READ_LOCK() obq_rcu_read_lock()
#define FL_READ_UNLOCK() obq_rcu_read_unlock()
#define FL_DEREF(p) obq_rcu_dereference(p)
#define FL_READER_QS() ((void)0)
#define FL_SYNC() obq_rcu_synchronize()
#define FL_HAS_CALL 1
#define FL_HEAD_T struct obq_rcu_head
#define FL_CALL(h, fn) obq_rcu_call((h), (fn))
#define FL_BARRIER() obq_rcu_barrier()
#include "rcu_cases.h"
