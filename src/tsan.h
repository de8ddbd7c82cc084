/*
 * tsan.h - what ThreadSanitizer must be told about goroutines, and nothing
 * in any other build.
 *
 * TSan models threads.  gort runs many goroutines on one thread by
 * switching stacks, which TSan cannot see: it took every goroutine on a
 * thread for one thread with one call stack, whose pushes and pops the
 * switches scrambled until it crashed.  So under TSan every goroutine is a
 * TSan fiber - a "thread" with its own clock and call stack - and g0 is
 * the thread's own fiber:
 *
 *   create   newproc makes the goroutine's fiber, on its creator's: for
 *            TSan that is creating a thread, so the creator happens before
 *            the goroutine (Go's rule for the go statement).
 *   switch   every switch is announced just before it happens.  To g0 in
 *            mcall (proc.h); from g0 to the next G in gort__mcall
 *            (asm_amd64.S), once the scheduler's frames on g0 have
 *            returned, so that their exits are counted on g0's call stack
 *            and not on the goroutine's.
 *   reuse    a goroutine made from a dead G takes over its fiber
 *            (gort__tsan_gocreate says why).  The fiber's call stack must
 *            then be empty: goentry pops its own frame before it ends the
 *            goroutine.  One that ended from deeper (Goexit) or recovered
 *            a panic (panic.c's longjmp skips frames TSan does not see
 *            leave) has its fiber destroyed in goexit0.
 *
 * The switches synchronize (TSan's default): what a goroutine did before
 * it parked happens before the scheduler's code on g0, and that before
 * the next goroutine's.  That is what the memory really sees - the
 * scheduler is compiled with TSan like the rest, and a G's fields, its
 * M's and its P's pass between g0 and the G at each switch - and it is
 * how every hand-off the runtime makes on a program's behalf (a channel's
 * direct send to a parked receiver, an unlock that wakes a waiter, Done
 * waking Wait, a timer's function, a readied descriptor) reaches the
 * goroutine it wakes: the waker's release (its run-queue put, its lock)
 * is acquired by the M that runs the woken G, and the switch passes it
 * on.  The cost: two goroutines that run one after the other on one M
 * are ordered for TSan, as two tasks of a thread pool run by one worker
 * are; a race is reported between goroutines running at the same time on
 * different Ms (Go's race detector, which sees an uninstrumented runtime,
 * also orders nothing by the M).  README's "ThreadSanitizer" says so.
 *
 * In any other build this header defines nothing, and the calls to it
 * sit in #ifdef GORT_TSAN: no code, no data.
 */
#ifndef GORT_TSAN_H
#define GORT_TSAN_H

#if defined(__SANITIZE_THREAD__)
#define GORT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GORT_TSAN 1
#endif
#endif

#ifndef __ASSEMBLER__

#ifdef GORT_TSAN
#include <stdint.h>
#include <stdio.h>
#include <sanitizer/tsan_interface.h>

/* The running code's TSan thread or fiber: g0's, for an M. */
static inline void *gort__tsan_curfiber(void)
{
	return __tsan_get_current_fiber();
}

/* Announce a switch to fiber; the stack changes right after. */
static inline void gort__tsan_switch(void *fiber)
{
	__tsan_switch_to_fiber(fiber, 0);
}

/*
 * gocreate gives a new goroutine its fiber, named in reports as Go names
 * it.  A G reused from the free lists keeps the fiber of its last life:
 * TSan takes a fiber for a thread, and with gcc's runtime each thread
 * ever live widens every vector clock it keeps (and 8128 at most may be
 * live), so one fiber per goroutine ever made would make a test of a
 * million short goroutines crawl, where one per G costs no more than the
 * peak of live goroutines.  Nothing carries over that matters: the switch
 * into the goroutine synchronizes anyway (above), and the creator happens
 * before it through the run queue.  The cost: "created at" in a report
 * is where the G's first goroutine was made; the name is the current
 * goroutine's.
 */
/* Pop the caller's frame off the fiber's TSan call stack (goentry).  gcc
 * declares the hook as a builtin taking a pointer, which it ignores. */
static inline __attribute__((always_inline)) void gort__tsan_funcexit(void)
{
#ifdef __clang__
	void __tsan_func_exit(void);
	__tsan_func_exit();
#else
	__tsan_func_exit((void *)0);
#endif
}

static inline void gort__tsan_godestroy(void *fiber)
{
	__tsan_destroy_fiber(fiber);
}

static inline void *gort__tsan_gocreate(void *fiber, int64_t goid)
{
	if (fiber == NULL)
		fiber = __tsan_create_fiber(0);
	char name[32];
	snprintf(name, sizeof name, "goroutine %lld", (long long)goid);
	__tsan_set_fiber_name(fiber, name); /* TSan keeps a copy */
	return fiber;
}

/* What the caller did so far happens before what follows an acquire of
 * the same address: for the orderings TSan cannot see (netpoll_epoll.c). */
#define gort__tsan_release(addr) __tsan_release((void *)(addr))
#define gort__tsan_acquire(addr) __tsan_acquire((void *)(addr))

#else
#define gort__tsan_release(addr) ((void)0)
#define gort__tsan_acquire(addr) ((void)0)
#endif /* GORT_TSAN */
#endif /* !__ASSEMBLER__ */
#endif /* GORT_TSAN_H */
