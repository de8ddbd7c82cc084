/*
 * traceback.c - goroutine stack traces (Go's traceback.go): what the rest
 * of the runtime calls to print a goroutine's frames, and where each
 * goroutine's frames start; GOTRACEBACK.
 *
 * A traceback has three jobs, each in a file of its own:
 *   unwinding      from a set of registers: a parked goroutine's (the
 *                  savedctx gort__mcall left at G.sched_sp), one in a
 *                  system call's (G.syscallctx), a signal's ucontext, or
 *                  the caller's own (getcontext) - traceback_unwind.c.
 *   symbolization  function name, file:line, and the inlined calls one pc
 *                  stands for, from DWARF; symbol-table names when a module
 *                  has no debug info; the raw pc when nothing is known -
 *                  symtab.c.
 *   printing       Go's format and rules: traceback_print.c.
 * All three run on the reporter, a thread of its own started at init
 * (traceback_reporter.c says why); this file and the public API
 * (traceback_api.c) only fill a request (traceback.h) and post it.
 *
 * The library: elfutils' libdw (libdwfl), for both unwinding and
 * symbolization.  One library for CFI, DWARF lines, inlined scopes and
 * symbol tables, instead of libunwind for one and libdw for the rest.
 * (libunwind's unw_init_local is async-signal-safe, but symbolization is
 * not, so a reporter thread is needed anyway, and then libdw's unwinder is
 * enough.)
 *
 * Without libdw (gort built with -DGORT_LIBDW=OFF, or libdw-dev missing)
 * there is no unwinder: a traceback prints one line saying why, then the
 * "created by" lines with raw pcs.
 *
 * Runs on the failing thread, maybe in a signal handler: no allocation, no
 * lock the failing code could hold.  Calls traceback_reporter.c and
 * print.c.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "traceback.h"

void gort__gostart(void);

/* ---- GOTRACEBACK (Go's runtime1.go setTraceback, gotraceback) ----------- */

static int32_t tb_level = 1; /* 0 none, 1 single/all, 2 system/crash */
static bool tb_all, tb_crash;

static void settraceback(const char *s)
{
	tb_all = tb_crash = false;
	if (s == NULL || *s == '\0' || strcmp(s, "single") == 0) {
		tb_level = 1;
	} else if (strcmp(s, "none") == 0) {
		tb_level = 0;
	} else if (strcmp(s, "all") == 0) {
		tb_level = 1;
		tb_all = true;
	} else if (strcmp(s, "system") == 0) {
		tb_level = 2;
		tb_all = true;
	} else if (strcmp(s, "crash") == 0) {
		tb_level = 2;
		tb_all = tb_crash = true;
	} else {
		/* Go: a number N is level N with all; anything else, level 0 with all. */
		tb_all = true;
		tb_level = 0;
		char *end;
		long n = strtol(s, &end, 10);
		if (*end == '\0' && n >= 0 && n <= INT32_MAX)
			tb_level = (int32_t)n;
	}
}

int gort__gotraceback(bool *all, bool *crash)
{
	if (all != NULL)
		*all = tb_all;
	if (crash != NULL)
		*crash = tb_crash;
	return tb_level;
}

/* ---- Where a goroutine's frames start ------------------------------------ */

/* from_saved: the registers of a savedctx, resuming with stack pointer rsp. */
static void from_saved(unwindfrom *f, const savedctx *ctx, uint64_t rsp)
{
	memset(f->regs, 0, sizeof f->regs);
	f->regs[REG_DW_R15] = ctx->r15;
	f->regs[REG_DW_R14] = ctx->r14;
	f->regs[REG_DW_R13] = ctx->r13;
	f->regs[REG_DW_R12] = ctx->r12;
	f->regs[REG_DW_RBX] = ctx->rbx;
	f->regs[REG_DW_RBP] = ctx->rbp;
	/* Looked up at the call (ret - 1): the CFI rules there are the caller's
	 * at the call, and ret may lie past the end of a noreturn caller. */
	f->regs[REG_DW_RIP] = ctx->pc - 1;
	f->pc_is_return = true;
	f->regs[REG_DW_RSP] = rsp;
}

/* from_sched: the savedctx gort__mcall left on a parked G's stack;
 * gort__gogo would pop it, so the G resumes with rsp just above it. */
static void from_sched(unwindfrom *f, G *gp)
{
	const savedctx *ctx = gp->sched_sp;
	from_saved(f, ctx, (uint64_t)(uintptr_t)(ctx + 1));
}

/* in_syscall_traceable: gp is in a system call entered through
 * gort_entersyscall, which saved its caller's context (Go's syscallsp). */
static bool in_syscall_traceable(G *gp, uint32_t status)
{
	return status == Gsyscall && gp->syscallctx.ctx.pc != 0;
}

static void from_syscall(unwindfrom *f, G *gp)
{
	from_saved(f, &gp->syscallctx.ctx, gp->syscallctx.sp);
}

/* not_started: gp has never run - no stack yet, or gort__gostartframe's
 * context still waiting for gort__gogo. */
static bool not_started(G *gp)
{
	return gp->stack.lo == 0 || gp->sched_sp == NULL ||
	       ((const savedctx *)gp->sched_sp)->pc == (uintptr_t)gort__gostart;
}

void gort__unwindfrom_ucontext(unwindfrom *f, const void *ucontext)
{
	const greg_t *g = ((const ucontext_t *)ucontext)->uc_mcontext.gregs;
	f->regs[0] = g[REG_RAX];
	f->regs[1] = g[REG_RDX];
	f->regs[2] = g[REG_RCX];
	f->regs[3] = g[REG_RBX];
	f->regs[4] = g[REG_RSI];
	f->regs[5] = g[REG_RDI];
	f->regs[6] = g[REG_RBP];
	f->regs[7] = g[REG_RSP];
	f->regs[8] = g[REG_R8];
	f->regs[9] = g[REG_R9];
	f->regs[10] = g[REG_R10];
	f->regs[11] = g[REG_R11];
	f->regs[12] = g[REG_R12];
	f->regs[13] = g[REG_R13];
	f->regs[14] = g[REG_R14];
	f->regs[15] = g[REG_R15];
	f->regs[16] = g[REG_RIP];
	f->pc_is_return = false;
}

/* ---- Posting a goroutine's report ----------------------------------------- */

static void print_createdby_raw(G *gp)
{
	if (gp->gopc == 0)
		return;
	if (gp->parentgoid != 0)
		gort__printf("created by ? in goroutine %lld\n\tpc=%p\n", (long long)gp->parentgoid,
		             (void *)gp->gopc);
	else
		gort__printf("created by ?\n\tpc=%p\n", (void *)gp->gopc);
}

/* post_report: have the reporter serve r, a report about gp, or say why not. */
static void post_report(request *r, G *gp, printbuf *out, int64_t patience)
{
	if (gort__reporter_call(r, patience) || !out->tostderr)
		return;
	if (HAVE_LIBDW)
		gort__printf("\t(no frames: the traceback reporter is unavailable)\n");
	else
		gort__printf("\t(no frames: gort was built without libdw; apt-get install libdw-dev, then rebuild)\n");
	print_createdby_raw(gp);
}

/*
 * traceback_g writes gp's frames and creator.  uc: a signal's context in
 * gp; else gp is the caller (its registers from getcontext here) or not
 * running (the context it saved).  noinline: frame 0 of the caller's own
 * stack is this function, still live while the reporter reads it.
 */
__attribute__((noinline)) static void traceback_g(G *gp, const ucontext_t *uc, int level, printbuf *out,
                                                  int64_t patience, const char *skipto)
{
	G *self = gort__getg();
	report rep = {.out = out, .gopc = gp->gopc, .parentgoid = gp->parentgoid};
	request r = {.kind = REQ_TRACEBACK,
	             .traceback = {.report = rep, .level = level, .skipto = gp == self ? skipto : NULL}};
	unwindfrom *from = &r.traceback.from;
	from->stacklo = gp->stack.lo;
	from->stackhi = gp->stack.hi;
	uint32_t status = gort__readgstatus(gp);
	if (uc != NULL) {
		gort__unwindfrom_ucontext(from, uc);
	} else if (gp == self) {
		ucontext_t ctx;
		getcontext(&ctx);
		gort__unwindfrom_ucontext(from, &ctx);
	} else if (self != NULL && self->m != NULL && gp == self->m->curg && gp->sched_sp != NULL) {
		/* on g0 after mcall: gp's context is saved, though it still says running */
		from_sched(from, gp);
	} else if (in_syscall_traceable(gp, status)) {
		from_syscall(from, gp); /* from the call: its frames above are still */
	} else if (status == Grunning || status == Gsyscall) {
		/* Go: stack unavailable while another thread runs it */
		gort__printstring(out, "\tgoroutine running on other thread; stack unavailable\n");
		gort__printflush(out);
		r = (request){.kind = REQ_CREATEDBY, .createdby = rep};
	} else if (not_started(gp)) {
		r = (request){.kind = REQ_ENTRY, .entry = {.report = rep, .fn = gp->startpc}};
	} else {
		from_sched(from, gp);
	}
	post_report(&r, gp, out, patience);
	if (gp == self)
		__asm__ volatile("" ::: "memory"); /* keep this frame until the reporter is done */
}

/* traceback_into is traceback_g for gort_stack: into out, waiting as long
 * as it takes, from skipto's caller if gp is the caller. */
void gort__traceback_into(G *gp, int level, printbuf *out, const char *skipto)
{
	traceback_g(gp, NULL, level, out, 0, skipto);
}

enum { FAIL_PATIENCE_NS = 2000LL * 1000 * 1000 };

void gort__traceback(G *gp)
{
	if (tb_level == 0 || gp == NULL)
		return;
	char buf[1024];
	printbuf out = gort__printbuf_stderr(buf, sizeof buf);
	traceback_g(gp, NULL, tb_level, &out, FAIL_PATIENCE_NS, NULL);
}

void gort__traceback_ctx(G *gp, const void *ucontext)
{
	if (tb_level == 0 || gp == NULL)
		return;
	char buf[1024];
	printbuf out = gort__printbuf_stderr(buf, sizeof buf);
	traceback_g(gp, ucontext, tb_level, &out, FAIL_PATIENCE_NS, NULL);
}

/*
 * tracebackpcs fills pcs with the return addresses of gp's frames - gp
 * parked, with a saved context - and returns how many (0: none to be had:
 * running, not started, or no libdw).  For the SIGQUIT dump's summary,
 * which buckets goroutines by stack.
 */
int gort__tracebackpcs(G *gp, uintptr_t *pcs, int n)
{
	uint32_t status = gort__readgstatus(gp);
	bool syscall = in_syscall_traceable(gp, status);
	if (n <= 0 || status == Grunning || (status == Gsyscall && !syscall) || gp->stack.lo == 0 ||
	    (!syscall && not_started(gp)))
		return 0;
	request r = {.kind = REQ_CALLERS, .callers = {.pcs = pcs, .max = n}};
	unwindfrom *from = &r.callers.from;
	if (syscall)
		from_syscall(from, gp);
	else
		from_sched(from, gp);
	from->stacklo = gp->stack.lo;
	from->stackhi = gp->stack.hi;
	return gort__reporter_call(&r, FAIL_PATIENCE_NS) ? r.callers.n : 0;
}

/* traceback_init reads GOTRACEBACK and starts the reporter (schedinit). */
void gort__traceback_init(void)
{
	settraceback(getenv("GOTRACEBACK"));
	gort__reporter_start();
}
