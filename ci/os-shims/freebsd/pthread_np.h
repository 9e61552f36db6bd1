/* ci/os-shims/freebsd/pthread_np.h — stands in for FreeBSD's <pthread_np.h> in
 * ci/os-syntax.sh: the declaration os.c uses, as FreeBSD's header has it. */
#include <pthread.h>
int pthread_getthreadid_np(void);
