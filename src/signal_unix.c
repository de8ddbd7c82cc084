/*
 * signal_unix.c - signals (Go's signal_unix.go): faults (SIGSEGV, SIGBUS),
 * which become Go's reports or panics instead of a silent death, and
 * SIGURG, which preempts (only with GODEBUG=asyncpreemptoff=0; preempt.c).
 *
 * Every M handles faults and SIGQUIT on its own alternate stack
 * (sigaltstack), so a goroutine that has run off the end of its stack can
 * still be reported.  (SIGURG is handled on the goroutine's stack:
 * sigpreempt says why.)
 * A fault in a goroutine is, in this order:
 *   1. a stack overflow, if its address or the stack pointer lies in the
 *      goroutine's guard region: Go's three lines, the goroutine, exit 2;
 *   2. a panic, if the goroutine asked for it (gort_set_panic_on_fault)
 *      and the faulting code is its own, not gort's (gort's code may hold a
 *      runtime lock, which a recovery would never release): the handler
 *      makes the goroutine call sigpanic where it faulted - the faulting pc
 *      pushed as a return address, rip set to gort__sigpanic_tramp - so the
 *      panic runs on the goroutine's own stack once the handler returns
 *      (Go's sigpanic injection, sigctxt.preparePanic);
 *   3. otherwise Go's report: below address 0x1000 the nil-dereference
 *      panic's ("panic: runtime error: invalid memory address or nil
 *      pointer dereference"), elsewhere "unexpected fault address" and
 *      "fatal error: fault"; then "[signal SIGSEGV: segmentation violation
 *      code=... addr=... pc=...]" and the goroutine; exit 2.
 * A fault outside any goroutine (a thread gort does not own, or the
 * scheduler's g0) is not ours: it goes to the handler that was installed
 * before gort_main, or kills the process as it would have.
 *
 * SIGQUIT (kill -QUIT, or Ctrl-\ at a terminal) dumps every goroutine and
 * exits 2, as in Go (dump.c) - unless the program set its own disposition
 * before gort_main.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "runtime2.h"

enum { SIGALTSTACK_SIZE = 64 << 10 };

static struct sigaction old_segv, old_bus, old_urg;
static void initsigquit(void);
static sigset_t initsigmask; /* the mask of the thread that called gort_main */
static sigset_t ordinarymask; /* an M's mask while it runs a goroutine */

/* stackoverflow prints Go's report for gp and exits; in a signal handler. */
__attribute__((noreturn)) static void stackoverflow(G *gp, uintptr_t sp)
{
	gort__printf("runtime: goroutine stack exceeds %lu-byte limit\n",
	             (unsigned long)(gp->stack.hi - gp->stack.lo));
	gort__printf("runtime: sp=%p stack=[%p, %p]\n", (void *)sp, (void *)gp->stack.lo,
	             (void *)gp->stack.hi);
	gort__printf("fatal error: stack overflow\n");
	gort__printgoroutines(gp);
	gort__exit(2);
}

static void forward(int sig, siginfo_t *info, void *ctx)
{
	struct sigaction *old = sig == SIGSEGV ? &old_segv : &old_bus;
	if ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction != NULL) {
		old->sa_sigaction(sig, info, ctx);
		return;
	}
	if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN && old->sa_handler != NULL) {
		old->sa_handler(sig);
		return;
	}
	/* Restore the default and return: the fault strikes again and kills us. */
	signal(sig, SIG_DFL);
}

/* in_gort_text: is pc in gort's own code?  If that is not known, every pc
 * counts as gort's: a fault there is never turned into a panic. */
static bool in_gort_text(uintptr_t pc)
{
	return !gort__gorttext_known() || gort__in_gort_text(pc);
}

/*
 * preparepanic makes the interrupted goroutine call sigpanic as if the
 * faulting instruction had called it (Go's preparePanic).  A pc of 0 is a
 * call through a NULL function pointer: the return address the call
 * pushed already names the caller.  Returns false if there is no room.
 */
static bool preparepanic(G *gp, ucontext_t *uc, uintptr_t pc)
{
	uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
	if (pc != 0) {
		if (sp - 8 < gp->stack.lo + 256 || sp > gp->stack.hi)
			return false;
		sp -= 8;
		*(uintptr_t *)sp = pc;
	}
	uc->uc_mcontext.gregs[REG_RSP] = (greg_t)sp;
	uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)gort__sigpanic_tramp;
	return true;
}

/* sighandler: SIGSEGV and SIGBUS (Go's sighandler for a synchronous signal). */
static void sighandler(int sig, siginfo_t *info, void *ctx)
{
	G *gp = gort__getg();
	if (gp == NULL || gp->m == NULL || gp == &gp->m->g0) {
		forward(sig, info, ctx);
		return;
	}
	ucontext_t *uc = ctx;
	uintptr_t addr = (uintptr_t)info->si_addr;
	uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
	uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	if (gort__stack_guard_contains(gp, addr) || gort__stack_guard_contains(gp, sp))
		stackoverflow(gp, sp);

	gp->sig = sig;
	gp->sigcode0 = (uintptr_t)(uint32_t)info->si_code;
	gp->sigcode1 = addr;
	gp->sigpc = pc;
	if (gp->paniconfault && info->si_code > 0 && !in_gort_text(pc) && preparepanic(gp, uc, pc))
		return; /* sigreturn: the goroutine calls sigpanic */
	/* Go's sigpanic: which faults are the nil dereference panic. */
	int code = info->si_code;
	bool nil = addr < 0x1000 && (sig == SIGSEGV ? code == 0 || code == SEGV_MAPERR || code == SEGV_ACCERR
	                                            : code == BUS_ADRERR);
	gort__fatalsignal(gp, ctx, nil);
}

/*
 * sigpreempt handles SIGURG (Go's sighandler for sigPreempt).  It runs on
 * the interrupted stack - no SA_ONSTACK: if this is a goroutine stopped at
 * an async safe point, the goroutine yields right here, and the signal
 * frame must wait on its own stack until it runs again (preempt.c, check
 * 5).  A SIGURG handler installed before gort_main sees every SIGURG first,
 * ours included, as a Go program's signal.Notify does.
 */
static void sigpreempt(int sig, siginfo_t *info, void *ctx)
{
	int saved_errno = errno;
	if ((old_urg.sa_flags & SA_SIGINFO) && old_urg.sa_sigaction != NULL)
		old_urg.sa_sigaction(sig, info, ctx);
	else if (old_urg.sa_handler != SIG_DFL && old_urg.sa_handler != SIG_IGN)
		old_urg.sa_handler(sig);
	G *gp = gort__getg();
	if (gp != NULL)
		gort__dosigpreempt(gp, ctx);
	errno = saved_errno;
}

/*
 * sigquit handles SIGQUIT: the goroutine dump (dump.c).  On the M's signal
 * stack, every signal blocked: the dumper must not be interrupted, and the
 * other threads, which it freezes with a SIGQUIT each, wait in here.
 */
static void sigquit(int sig, siginfo_t *info, void *ctx)
{
	gort__sigquit_dump(sig, info, ctx);
}

/*
 * initsigquit installs sigquit unless the program installed a handler of
 * its own before gort_main: that one stays (Go keeps a C program's
 * handlers only in c-archive and c-shared builds; a library keeps them
 * always).  An ignored SIGQUIT is taken over, as Go does (it respects an
 * inherited SIG_IGN only for SIGHUP and SIGINT): a shell script starts its
 * background jobs with SIGQUIT ignored, and `prog & kill -QUIT $!` must
 * still dump.
 */
static void initsigquit(void)
{
	struct sigaction cur;
	if (sigaction(SIGQUIT, NULL, &cur) != 0 ||
	    ((cur.sa_flags & SA_SIGINFO) ? cur.sa_sigaction != NULL
	                                 : cur.sa_handler != SIG_DFL && cur.sa_handler != SIG_IGN))
		return;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = sigquit;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigfillset(&sa.sa_mask);
	sigaction(SIGQUIT, &sa, NULL);
}

/*
 * sigctx_ordinary_mask: did the interrupted code run with an M's ordinary
 * signal mask?  A signal handler runs with its own signal blocked at least
 * (preempt.c, check 4).
 */
bool gort__sigctx_ordinary_mask(const ucontext_t *uc)
{
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(&uc->uc_sigmask, sig) == 1 && sigismember(&ordinarymask, sig) != 1)
			return false;
	return true;
}

/* initsig installs the handlers, once, from gort_main or gort_start. */
void gort__initsig(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = sighandler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigfillset(&sa.sa_mask);
	pthread_sigmask(SIG_SETMASK, NULL, &initsigmask);
	ordinarymask = initsigmask;
	sigdelset(&ordinarymask, SIGURG);
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	/* Embedded (gort_start), the program's SIGQUIT stays its own, as a
	 * Go library installs handlers for synchronous signals only. */
	if (!gort__islibrary)
		initsigquit();

	if (gort__debug.asyncpreemptoff != 0 || !gort__preemptinit())
		return;
	/* Block nothing more than SIGURG itself while it is handled: the
	 * goroutine may wait in the handler for a while, and its thread must
	 * still take a SIGSEGV (stack overflow) or the user's signals. */
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = sigpreempt;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGURG, &sa, &old_urg);
}

/*
 * minitsignals gives the calling thread (M) its signal stack and, for
 * threads gort created (setmask), the signal mask of gort_main's thread.
 */
void gort__minitsignals(M *mp, bool setmask)
{
	void *p = mmap(NULL, SIGALTSTACK_SIZE, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		gort__throw("cannot allocate signal stack");
	stack_t ss = {.ss_sp = p, .ss_size = SIGALTSTACK_SIZE, .ss_flags = 0};
	sigaltstack(&ss, NULL);
	mp->sigaltstack = p;
	if (setmask)
		pthread_sigmask(SIG_SETMASK, &initsigmask, NULL);
	if (atomic_load(&gort__asyncpreempt)) {
		sigset_t urg;
		sigemptyset(&urg);
		sigaddset(&urg, SIGURG);
		pthread_sigmask(SIG_UNBLOCK, &urg, NULL);
	}
}

/* unminitsignals undoes minitsignals on a thread that is about to exit. */
void gort__unminitsignals(M *mp)
{
	stack_t ss = {.ss_flags = SS_DISABLE};
	sigaltstack(&ss, NULL);
	munmap(mp->sigaltstack, SIGALTSTACK_SIZE);
	mp->sigaltstack = NULL;
}

/* The stack overflow of a goroutine without a guard, found at a switch. */
void gort__stackoverflow_canary(G *gp)
{
	stackoverflow(gp, (uintptr_t)gp->sched_sp);
}
