/* rcu_memb.c — liburcu memb flavour (membarrier-based; _LGPL_SOURCE so the read side
 * inlines) in the RCU benchmark: read side, synchronize, call_rcu + rcu_barrier. */
#include "bench.h"

#define _LGPL_SOURCE 1
#include <urcu/urcu-memb.h>

#define FL_NAME "urcu-memb"
#define FL_PREFIX(x) memb_##x
#define FL_REGISTER() urcu_memb_register_thread()
#define FL_UNREGISTER() urcu_memb_unregister_thread()
#define FL_READ_LOCK() urcu_memb_read_lock()
#define FL_READ_UNLOCK() urcu_memb_read_unlock()
#define FL_DEREF(p) rcu_dereference(p)
#define FL_READER_QS() ((void)0)
#define FL_SYNC() urcu_memb_synchronize_rcu()
#define FL_HAS_CALL 1
#define FL_HEAD_T struct rcu_head
#define FL_CALL(h, fn) urcu_memb_call_rcu((h), (fn))
#define FL_BARRIER() urcu_memb_barrier()
#include "rcu_cases.h"
