/* ci/os-shims/darwin.h — what ci/os-syntax.sh adds to glibc's headers to stand in for
 * macOS's: the Darwin-only functions os.c calls, with Apple's parameter types.
 * Force-included (-include) with __APPLE__ and __MACH__ defined and __linux__
 * undefined, so it includes no header itself (the file's own feature macros, such as
 * _GNU_SOURCE, must come first).  macOS's pthread_t is a pointer (glibc's an integer):
 * the call goes through a function taking void *. */
#define pthread_threadid_np(thread, id) _obq_shim_pthread_threadid_np((void *)(thread), (id))
int _obq_shim_pthread_threadid_np(void *thread, __UINT64_TYPE__ *thread_id);
