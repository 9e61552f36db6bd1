/* rcu_qsbr.c — liburcu qsbr flavour (read side is free; readers report quiescent
 * states) in the RCU benchmark: read side and synchronize (a spinning reader reports a
 * quiescent state after each section, the best case for qsbr). */
#include "bench.h"

#define _LGPL_SOURCE 1
#include <urcu/urcu-qsbr.h>

#define FL_NAME "urcu-qsbr"
#define FL_PREFIX(x) qsbr_##x
#define FL_REGISTER() urcu_qsbr_register_thread()
#define FL_UNREGISTER() urcu_qsbr_unregister_thread()
#define FL_READ_LOCK() urcu_qsbr_read_lock()
#define FL_READ_UNLOCK() urcu_qsbr_read_unlock()
#define FL_DEREF(p) rcu_dereference(p)
#define FL_READER_QS() urcu_qsbr_quiescent_state()
#define FL_SYNC() urcu_qsbr_synchronize_rcu()
#define FL_HAS_CALL 0
#include "rcu_cases.h"
