/*
 * preempt.c - asynchronous preemption: a goroutine that runs on without
 * reaching a preemption point is stopped by a signal (Go's preempt.go and
 * signal_unix.go's doSigPreempt).  Off by default; GODEBUG=asyncpreemptoff=0
 * turns it on (runtime1.c).
 *
 *   1. sysmon (retake, proc_sysmon.c) asks a goroutine that has run a whole time
 *      slice (10 ms) to yield: gp->preempt.  Its next preemption point
 *      yields (cooperative preemption, gort__preemptpoint).
 *   2. If at sysmon's next look the same slice still runs and the request
 *      still stands, sysmon sends SIGURG to the M's thread (preemptm).  Go's
 *      signal: programs rarely use it, and by default it is ignored.  Only
 *      on the second look, so that a goroutine with preemption points never
 *      costs a signal.
 *   3. The handler (signal_unix.c) calls dosigpreempt, which checks that the
 *      thread stopped at an async safe point (isasyncsafepoint, below).  If
 *      not, it returns; the request stands and sysmon signals again later.
 *   4. At a safe point the goroutine yields without leaving its thread:
 *      gort__asyncpreempt_park (proc_sysmon.c) wires it to its M as lockOSThread
 *      does and yields as Gosched does (gosched_m: to the global queue);
 *      schedule sees the wired M and hands its P on (stoplockedm).  When an
 *      M dequeues the goroutine it gives this M its P (startlockedm); the
 *      goroutine resumes inside the handler, unwires itself, and the
 *      handler returns: sigreturn restores every register.
 *
 * Why it is safe
 * --------------
 * A. What a goroutine must not be stopped in the middle of:
 *    - the runtime: it may hold sched.lock, a channel's spinlock or a P's
 *      timers lock, or be half-way through a status change.  Another
 *      goroutine on the P would spin or block on the lock while the holder
 *      waits in a run queue behind it: a deadlock on one P.
 *    - libc, or any shared library: malloc's arena lock, stdio's FILE
 *      locks, the dynamic loader's lock - the same deadlock.  And the
 *      handler itself calls into libc (futex, malloc, pthread_create when
 *      handing the P to a new M), which is only safe if libc is not
 *      half-way through something on this thread.
 *    - a signal handler, which may have interrupted either of those.
 *
 * B. isasyncsafepoint checks, and why each suffices:
 *    1. The thread is an M running a goroutine: getg() is the M's curg, not
 *       g0.  Sysmon and threads gort did not create have no G; on g0 the
 *       thread runs the scheduler.
 *    2. The request stands, and the goroutine runs with a P: gp->preempt,
 *       status Grunning, P Prunning.  In a system call (GORT_SYSCALL) it is
 *       Gsyscall, without a P, and holds nothing anyone waits for.  These
 *       fields are read on the goroutine's own thread, which is the only
 *       one that changes them while it runs.
 *    3. The interrupted instruction is in the main executable's code and
 *       not in gort's.  This is a whitelist, so whatever else the PC may be
 *       in - libc, ld.so, the vDSO, gort's own shared library, a library
 *       loaded later with dlopen - is refused.  Every runtime lock is taken
 *       and released by gort's code and held only while gort's code or
 *       libc runs: the runtime never calls user code with one held (user
 *       functions start at the bottom of a goroutine, and gort_once_do's
 *       runs under a gort_mutex, a goroutine-level lock; timer callbacks are
 *       the runtime's own, on g0).  So a PC in user code means: no runtime
 *       lock held, not inside the runtime, not inside libc.  gort's code in
 *       the executable is found through the section gort_text, which the
 *       build gives all of libgort.a's code (CMakeLists.txt); preemptinit
 *       checks that it really covers gort's functions, and that libc is not
 *       linked into the executable (a static program), or stays off.
 *    4. The interrupted code runs with the thread's ordinary signal mask.
 *       A signal handler runs with at least its own signal blocked, so user
 *       code that is itself a handler is refused.
 *    5. The handler runs on the goroutine's own stack, with room to spare.
 *       It is installed without SA_ONSTACK, so the kernel puts the signal
 *       frame on the interrupted stack: that frame must outlive the switch
 *       to g0 and back, and the M's alternate signal stack must stay free
 *       meanwhile for the stack-overflow handler and any other signal.
 *
 * C. What the stopped goroutine relies on, and why it holds:
 *    - Its thread.  Compiled C keeps thread-local addresses (errno's, a
 *      __thread variable's) in registers across any instruction, and a
 *      signal frame may only be returned from on the thread that took it.
 *      The goroutine stays wired to its M until it has resumed there (if
 *      the user had wired it with gort_lock_os_thread, it stays so).
 *    - Its registers: the kernel saves all of them - general, flags, and
 *      the whole x87/SSE/AVX state (xsave) - in the signal frame, and
 *      sigreturn restores them; the scheduler may use any in between.
 *    - errno: the handler saves it and restores it (signal_unix.c).
 *    - Its signal mask: sigreturn restores it.  Until then SIGURG stays
 *      blocked on the thread, so preemptions never nest.
 *
 * D. What it cannot protect: user-level locks.  A goroutine stopped while
 *    holding a pthread mutex, or its own spinlock, keeps it while queued;
 *    another goroutine that blocks its thread on that lock keeps its P, and
 *    with GOMAXPROCS=1 that is a deadlock.  The same holds for user code
 *    that libc calls back while holding a lock of its own (dl_iterate_phdr's
 *    callback, a pthread_once initializer).  Go code never meets this - its
 *    locks are goroutine-aware; C code shared between goroutines must use
 *    gort_mutex.  That is why this is opt-in (gort.h).
 */
#define _GNU_SOURCE
#include <link.h>
#include <signal.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "runtime2.h"

enum {
	MAXTEXT = 8,              /* executable segments of the main program */
	PREEMPT_STACK_ROOM = 4096, /* free stack the handler needs below its frame */
};

typedef struct textRange {
	uintptr_t lo, hi;
} textRange;

/* Written once by preemptinit, before the handler is installed; read-only after. */
static textRange usertext[MAXTEXT]; /* the main executable's code */
static int nusertext;

_Atomic bool gort__asyncpreempt;

/* Counters for tests and debugging (read with gort__preemptstats). */
static _Atomic uint64_t nsent, ntaken, nrefused;

/* in_user_text: is pc in the main executable's code, and not in gort's? */
static bool in_user_text(uintptr_t pc)
{
	if (gort__in_gort_text(pc))
		return false;
	for (int i = 0; i < nusertext; i++)
		if (pc >= usertext[i].lo && pc < usertext[i].hi)
			return true;
	return false;
}

/*
 * find_main_text is dl_iterate_phdr's callback: the first object is the
 * main program.  Records its executable segments; *arg is set if it is
 * dynamically linked (it has an interpreter, so libc is another object).
 */
static int find_main_text(struct dl_phdr_info *info, size_t size, void *arg)
{
	bool *dynamic = arg;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_INTERP)
			*dynamic = true;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && nusertext < MAXTEXT) {
			uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
			usertext[nusertext++] = (textRange){lo, lo + ph->p_memsz};
		}
	}
	return 1; /* the main program only */
}

/*
 * preemptinit finds the code that may be preempted (check 3), before the
 * handler is installed.  Returns false, having said why, if it cannot be
 * sure which code is gort's or libc's: then preemption stays cooperative.
 */
bool gort__preemptinit(void)
{
	bool dynamic = false;
	dl_iterate_phdr(find_main_text, &dynamic);
	const char *why = NULL;
	if (!dynamic)
		why = "the program is statically linked (libc's code is not told apart)";
	/* one function from each kind of object: C, hand-written assembly, locks */
	uintptr_t ours[] = {(uintptr_t)gort__dosigpreempt, (uintptr_t)gort__mcall,
	                    (uintptr_t)gort__lock, (uintptr_t)gort__spinlock_slow};
	for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++)
		if (in_user_text(ours[i]))
			why = "gort's code is not in section gort_text (link libgort.a or libgort.so)";
	if (why != NULL) {
		gort__printf("gort: GODEBUG=asyncpreemptoff=0 ignored: %s\n", why);
		return false;
	}
	atomic_store(&gort__asyncpreempt, true);
	return true;
}

/*
 * preemptm asks mp's thread to stop at an async safe point (Go's preemptM).
 * One signal at a time: until the handler has run, more would only merge
 * with the pending one.
 */
void gort__preemptm(M *mp)
{
	int32_t tid = mp->tid; /* racy, as sysmon's reads of the Ms are: a hint */
	uint32_t zero = 0;
	if (tid == 0 || !atomic_compare_exchange_strong(&mp->signalpending, &zero, 1))
		return;
	atomic_fetch_add_explicit(&nsent, 1, memory_order_relaxed);
	syscall(SYS_tgkill, getpid(), tid, SIGURG);
}

/* wantasyncpreempt: does gp, running on this thread, still have to yield? */
static bool wantasyncpreempt(G *gp, M *mp)
{
	return gp == mp->curg && atomic_load_explicit(&gp->preempt, memory_order_relaxed) &&
	       gort__readgstatus(gp) == Grunning && mp->p != NULL &&
	       atomic_load_explicit(&mp->p->status, memory_order_relaxed) == Prunning;
}

/* isasyncsafepoint: checks 3 to 5 of the argument at the top (1 and 2 are
 * wantasyncpreempt's). */
static bool isasyncsafepoint(G *gp, const ucontext_t *uc)
{
	uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
	uintptr_t here = (uintptr_t)__builtin_frame_address(0);
	return in_user_text(pc) && gort__sigctx_ordinary_mask(uc) && sp <= gp->stack.hi &&
	       here < sp && here >= gp->stack.lo + PREEMPT_STACK_ROOM;
}

/*
 * dosigpreempt runs in the SIGURG handler on a thread that has a G (Go's
 * doSigPreempt).  If gp has to yield and may do so here, it does, and
 * returns when it has been scheduled again - on this same thread.
 */
void gort__dosigpreempt(G *gp, ucontext_t *uc)
{
	M *mp = gp->m;
	if (mp == NULL)
		return;
	atomic_store(&mp->signalpending, 0);
	if (gp == &mp->g0 || !wantasyncpreempt(gp, mp))
		return;
	if (!isasyncsafepoint(gp, uc)) {
		atomic_fetch_add_explicit(&nrefused, 1, memory_order_relaxed);
		return;
	}
	atomic_fetch_add_explicit(&ntaken, 1, memory_order_relaxed);
	gort__asyncpreempt_park(gp);
}

/* preemptstats: signals sent, preemptions taken, and refused (not at a
 * safe point).  Internal: for tests and debugging. */
void gort__preemptstats(uint64_t *sent, uint64_t *taken, uint64_t *refused)
{
	*sent = atomic_load(&nsent);
	*taken = atomic_load(&ntaken);
	*refused = atomic_load(&nrefused);
}
