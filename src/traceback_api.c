/*
 * traceback_api.c - the public face of tracebacks (include/gort.h):
 *
 *   gort_stack                 Go's runtime.Stack: the caller's goroutine,
 *                              or all, in the format of a fatal error
 *   gort_callers               Go's runtime.Callers: return addresses
 *   gort_frame_info            Go's runtime.CallersFrames: what a pc means
 *   gort_traceback_symbolized  whether the calls above have libdw behind them
 *
 * Each fills a request (traceback.h) and waits for the reporter as long as
 * it takes: unlike a dying thread, a caller of the API can wait.  Calls
 * traceback.c, traceback_reporter.c, print.c and the scheduler's
 * stop-the-world (gort_stack of all goroutines).
 */
#define _GNU_SOURCE
#include <ucontext.h>

#include "traceback.h"

typedef struct stackall {
	printbuf *s;
	G *self;
	int level;
} stackall;

static void stack_other(G *gp, void *arg)
{
	stackall *sa = arg;
	if (gp == sa->self)
		return;
	if (sa->level < 2 && gp->goid == 0)
		return;
	gort__printchar(sa->s, '\n');
	gort__goroutineheader_put(sa->s, gp, gort__nanotime());
	gort__traceback_into(gp, sa->level, sa->s, NULL);
}

int gort_stack(char *buf, size_t n, bool all)
{
	G *gp = gort__current_goroutine("gort_stack");
	printbuf s = gort__printbuf_array(buf, n);
	int level = gort__gotraceback(NULL, NULL);
	if (level < 1)
		level = 1;
	if (all)
		gort__stoptheworld();
	gort__goroutineheader_put(&s, gp, gort__nanotime());
	gort__traceback_into(gp, level, &s, "gort_stack"); /* from its caller, as Go */
	if (all) {
		stackall sa = {&s, gp, level};
		while (!gort__forEachG(stack_other, &sa))
			gort__osyield();
		gort__starttheworld();
	}
	return (int)(s.len < n ? s.len : n);
}

/* noinline, and getcontext here: frame 0 is gort_callers's own (Go: skip 0
 * is Callers itself, 1 its caller), still live while the reporter reads it. */
__attribute__((noinline)) int gort_callers(int skip, uintptr_t *pcs, int n)
{
	if (n <= 0)
		return 0;
	request r = {.kind = REQ_CALLERS, .callers = {.skip = skip, .pcs = pcs, .max = n}};
	ucontext_t ctx;
	getcontext(&ctx);
	gort__unwindfrom_ucontext(&r.callers.from, &ctx);
	G *gp = gort__getg();
	if (gp != NULL && gp->m != NULL && gp != &gp->m->g0) {
		r.callers.from.stacklo = gp->stack.lo;
		r.callers.from.stackhi = gp->stack.hi;
	}
	if (!gort__reporter_call(&r, 0))
		return 0;
	__asm__ volatile("" ::: "memory"); /* keep this frame until the reporter is done */
	return r.callers.n;
}

int gort_frame_info(uintptr_t pc, gort_frame *frames, int n)
{
	request r = {.kind = REQ_FRAMES, .frames = {.pc = pc, .frames = frames, .max = n}};
	if (!gort__reporter_call(&r, 0))
		return 0;
	return r.frames.n;
}

bool gort_traceback_symbolized(void)
{
	return gort__reporter_loaded();
}
