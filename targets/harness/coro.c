/* coro.c — stackful coroutines for the deterministic scheduler (see coro.h).
 *
 * The x86-64 switch saves rbp, rbx, r12-r15 on the running stack, stores rsp in
 * `from->sp`, loads `to->sp`, pops the same registers and returns into `to`.  A fresh
 * coroutine's stack is laid out as if it had been switched away from just before
 * entry_stub, which calls coro_entry(c) with a 16-byte aligned stack.  The x87/SSE
 * control words are not saved: nothing in the harness changes them.
 *
 * The aarch64 switch is the same design under AAPCS64: it stores the callee-saved
 * x19-x28, the frame pointer x29, the link register x30 and the low halves d8-d15 of
 * v8-v15 (callee-saved for floating point; x86-64 has no callee-saved vector registers)
 * in a 160-byte frame below sp, stores sp in `from->sp`, loads `to->sp`, reloads the
 * frame and returns through x30.  A fresh coroutine's frame has x19 = c, x20 =
 * coro_entry, x29 = 0 (ends frame-pointer walks) and x30 = entry_stub, which calls
 * x20(x19).  FPCR is not saved, as on x86-64. */
#include "coro.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <oblique/common.h>

/* Valgrind: a coroutine stack is registered, so that a switch onto it is not taken for
 * a huge stack-pointer change ("client switching stacks?") and accesses to it are not
 * reported.  OBQ_VALGRIND comes with the library (a PUBLIC define of -DOBQ_VALGRIND=ON). */
#if defined(OBQ_VALGRIND) && OBQ_VALGRIND && defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define CORO_VALGRIND 1
#endif
#endif

#if OBQ_ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old,
				     size_t *size_old);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#endif
#if OBQ_TSAN
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#endif

#define STACK_SLACK 4096 /* bytes below the lowest recorded frame address also unpoisoned */

/* The context that switched to the one now resuming (one OS thread runs coroutines). */
static __thread struct coro *coro_prev;

static void coro_entry(struct coro *c)
{
#if OBQ_ASAN
	__sanitizer_finish_switch_fiber(NULL, &coro_prev->asan_bottom, &coro_prev->asan_size);
#endif
	c->fn(c->arg);
	abort(); /* an entry function must switch away for good, never return */
}

#if OBQ_H_CORO_ASM && defined(__x86_64__)
void obq_h_coro_raw_switch(void **save_sp, void *new_sp);
void obq_h_coro_entry_stub(void);
__asm__(".text\n"
	".globl obq_h_coro_raw_switch\n"
	".type obq_h_coro_raw_switch,@function\n"
	"obq_h_coro_raw_switch:\n"
	"\tpushq %rbp\n"
	"\tpushq %rbx\n"
	"\tpushq %r12\n"
	"\tpushq %r13\n"
	"\tpushq %r14\n"
	"\tpushq %r15\n"
	"\tmovq %rsp, (%rdi)\n"
	"\tmovq %rsi, %rsp\n"
	"\tpopq %r15\n"
	"\tpopq %r14\n"
	"\tpopq %r13\n"
	"\tpopq %r12\n"
	"\tpopq %rbx\n"
	"\tpopq %rbp\n"
	"\tret\n"
	".size obq_h_coro_raw_switch,.-obq_h_coro_raw_switch\n"
	".globl obq_h_coro_entry_stub\n"
	".type obq_h_coro_entry_stub,@function\n"
	"obq_h_coro_entry_stub:\n"
	"\tmovq %r12, %rdi\n"
	"\tcallq *%r13\n"
	"\tud2\n"
	".size obq_h_coro_entry_stub,.-obq_h_coro_entry_stub\n");
#elif OBQ_H_CORO_ASM && defined(__aarch64__)
void obq_h_coro_raw_switch(void **save_sp, void *new_sp);
void obq_h_coro_entry_stub(void);
#define CORO_FRAME 160 /* x19-x30 (12 words) + d8-d15 (8): the layout coro_start builds */
__asm__(".text\n"
	".globl obq_h_coro_raw_switch\n"
	".type obq_h_coro_raw_switch,%function\n"
	".p2align 4\n"
	"obq_h_coro_raw_switch:\n"
	"\tsub sp, sp, #160\n"
	"\tstp x19, x20, [sp, #0]\n"
	"\tstp x21, x22, [sp, #16]\n"
	"\tstp x23, x24, [sp, #32]\n"
	"\tstp x25, x26, [sp, #48]\n"
	"\tstp x27, x28, [sp, #64]\n"
	"\tstp x29, x30, [sp, #80]\n"
	"\tstp d8, d9, [sp, #96]\n"
	"\tstp d10, d11, [sp, #112]\n"
	"\tstp d12, d13, [sp, #128]\n"
	"\tstp d14, d15, [sp, #144]\n"
	"\tmov x9, sp\n"
	"\tstr x9, [x0]\n"
	"\tmov sp, x1\n"
	"\tldp x19, x20, [sp, #0]\n"
	"\tldp x21, x22, [sp, #16]\n"
	"\tldp x23, x24, [sp, #32]\n"
	"\tldp x25, x26, [sp, #48]\n"
	"\tldp x27, x28, [sp, #64]\n"
	"\tldp x29, x30, [sp, #80]\n"
	"\tldp d8, d9, [sp, #96]\n"
	"\tldp d10, d11, [sp, #112]\n"
	"\tldp d12, d13, [sp, #128]\n"
	"\tldp d14, d15, [sp, #144]\n"
	"\tadd sp, sp, #160\n"
	"\tret\n"
	".size obq_h_coro_raw_switch,.-obq_h_coro_raw_switch\n"
	".globl obq_h_coro_entry_stub\n"
	".type obq_h_coro_entry_stub,%function\n"
	"obq_h_coro_entry_stub:\n"
	"\tmov x0, x19\n"
	"\tblr x20\n"
	"\tbrk #0\n"
	".size obq_h_coro_entry_stub,.-obq_h_coro_entry_stub\n");
#else
static void uc_entry(unsigned lo, unsigned hi)
{
	coro_entry((struct coro *)(uintptr_t)(((uint64_t)hi << 32) | lo));
}
#endif

void coro_init_main(struct coro *m)
{
	memset(m, 0, sizeof *m);
#if OBQ_TSAN
	m->tsan_fiber = __tsan_get_current_fiber();
#endif
}

int coro_alloc(struct coro *c, size_t size)
{
	memset(c, 0, sizeof *c);
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	c->stack = p;
	c->stack_size = size;
	c->asan_bottom = p;
	c->asan_size = size;
#ifdef CORO_VALGRIND
	c->vg_stack = VALGRIND_STACK_REGISTER(p, (char *)p + size);
#endif
#if OBQ_TSAN
	c->tsan_fiber = __tsan_create_fiber(0);
#endif
	return 0;
}

void coro_free(struct coro *c)
{
#ifdef CORO_VALGRIND
	if (c->stack)
		VALGRIND_STACK_DEREGISTER(c->vg_stack);
#endif
	if (c->stack)
		munmap(c->stack, c->stack_size);
#if OBQ_TSAN
	if (c->tsan_fiber)
		__tsan_destroy_fiber(c->tsan_fiber);
#endif
	c->stack = NULL;
}

void coro_start(struct coro *c, void (*fn)(void *), void *arg)
{
	c->fn = fn;
	c->arg = arg;
	c->asan_fake = NULL;
#if OBQ_ASAN
	/* Frames that were live when the coroutine last switched away (for good: it
	 * finished or was abandoned) left their redzones poisoned; frames that returned
	 * cleared theirs.  Every switch away records its frame address in c->low, so
	 * [c->low - STACK_SLACK, top) covers them, with room for the frames of the switch
	 * itself (coro_switch's locals and the sanitizer calls below its frame address).
	 * Unpoisoning the whole stack instead costs 64 KiB of shadow writes per start. */
	char *stack_top = (char *)c->stack + c->stack_size;
	char *from = (char *)c->stack; /* nothing recorded yet: the whole stack */
	if (c->low != NULL && c->low - from > STACK_SLACK)
		from = c->low - STACK_SLACK;
	__asan_unpoison_memory_region(from, (size_t)(stack_top - from));
	c->low = stack_top;
#endif
#if OBQ_H_CORO_ASM && defined(__x86_64__)
	uintptr_t top = ((uintptr_t)c->stack + c->stack_size) & ~(uintptr_t)15;
	void **sp = (void **)(top - 72);
	sp[0] = 0;                            /* r15 */
	sp[1] = 0;                            /* r14 */
	sp[2] = (void *)coro_entry;           /* r13: function entry_stub calls */
	sp[3] = c;                            /* r12: its argument */
	sp[4] = 0;                            /* rbx */
	sp[5] = 0;                            /* rbp: ends frame-pointer walks */
	sp[6] = (void *)obq_h_coro_entry_stub; /* return address of the first switch */
	c->sp = sp;
#elif OBQ_H_CORO_ASM && defined(__aarch64__)
	uintptr_t top = ((uintptr_t)c->stack + c->stack_size) & ~(uintptr_t)15;
	void **sp = (void **)(top - CORO_FRAME); /* 16-byte aligned, as AAPCS64 wants sp */
	memset(sp, 0, CORO_FRAME);               /* x21-x28, d8-d15 */
	sp[0] = c;                               /* x19: coro_entry's argument */
	sp[1] = (void *)coro_entry;              /* x20: the function entry_stub calls */
	sp[10] = 0;                              /* x29: ends frame-pointer walks */
	sp[11] = (void *)obq_h_coro_entry_stub;  /* x30: where the first switch returns */
	c->sp = sp;
#else
	getcontext(&c->uc);
	c->uc.uc_stack.ss_sp = c->stack;
	c->uc.uc_stack.ss_size = c->stack_size;
	c->uc.uc_link = NULL;
	makecontext(&c->uc, (void (*)(void))uc_entry, 2, (unsigned)(uintptr_t)c,
		    (unsigned)((uint64_t)(uintptr_t)c >> 32));
#endif
}

void coro_switch(struct coro *from, struct coro *to)
{
#if OBQ_ASAN
	char *fp = __builtin_frame_address(0);
	if (from->stack && fp < from->low)
		from->low = fp;
	__sanitizer_start_switch_fiber(&from->asan_fake, to->asan_bottom, to->asan_size);
#endif
	coro_prev = from;
#if OBQ_TSAN
	__tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
#if OBQ_H_CORO_ASM
	obq_h_coro_raw_switch(&from->sp, to->sp);
#else
	swapcontext(&from->uc, &to->uc);
#endif
#if OBQ_ASAN
	__sanitizer_finish_switch_fiber(from->asan_fake, &coro_prev->asan_bottom,
					&coro_prev->asan_size);
#endif
}
