/* coro.h — minimal stackful coroutines for the deterministic scheduler.
 *
 * x86-64 and aarch64: a hand-written switch that saves the callee-saved registers and
 * the stack pointer (no system call); elsewhere a ucontext fallback (which saves and
 * restores the signal mask with a system call per switch; docs/benchmarks.md, "The
 * fuzz harness's coroutine switch", has the costs of both).  Under ASan every switch
 * is announced with __sanitizer_start_switch_fiber / __sanitizer_finish_switch_fiber,
 * under TSan with __tsan_switch_to_fiber.  Stacks are mapped once and reused; a
 * coroutine may be abandoned mid-way (the run stopped on a report) and restarted:
 * coro_start() resets its stack (and, under ASan, unpoisons the part the previous
 * run's frames could have left poisoned). */
#ifndef OBQ_H_CORO_H
#define OBQ_H_CORO_H

#include <stddef.h>

#if (defined(__x86_64__) || defined(__aarch64__)) && defined(__ELF__) && \
	!defined(OBQ_H_CORO_UCONTEXT)
#define OBQ_H_CORO_ASM 1
#else
#define OBQ_H_CORO_ASM 0
#include <ucontext.h>
#endif

struct coro {
#if OBQ_H_CORO_ASM
	void *sp;                   /* saved stack pointer while not running */
#else
	ucontext_t uc;              /* saved context while not running */
#endif
	void *stack;                /* stack base (lowest address), NULL for the OS thread's own stack */
	size_t stack_size;          /* bytes of stack */
	void (*fn)(void *);         /* entry: must never return (switch away for good instead) */
	void *arg;                  /* entry argument */
	void *asan_fake;            /* ASan fake-stack handle saved across a switch */
	const void *asan_bottom;    /* ASan: bottom of this coroutine's stack as ASan knows it */
	size_t asan_size;           /* ASan: its size */
	void *tsan_fiber;           /* TSan fiber handle (NULL: not created / the OS thread) */
	char *low;                  /* lowest frame address seen at a switch away since coro_start (ASan) */
	unsigned vg_stack;          /* Valgrind's id of the registered stack (OBQ_VALGRIND builds) */
};

/* The OS thread's own context (the scheduler).  Call once per OS thread. */
void coro_init_main(struct coro *m);
/* Map a stack of `size` bytes for c (once). 0 or -1 (errno). */
int coro_alloc(struct coro *c, size_t size);
void coro_free(struct coro *c);
/* Prepare c to run fn(arg) from the top of its stack at the next switch to it. */
void coro_start(struct coro *c, void (*fn)(void *), void *arg);
/* Save the running context into `from`, resume `to`. */
void coro_switch(struct coro *from, struct coro *to);

#endif
