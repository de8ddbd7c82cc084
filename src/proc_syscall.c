/*
 * proc_syscall.c - system calls that hand their P off (Go's entersyscall,
 * exitsyscall in proc.go).
 *
 * A goroutine about to block in the kernel or in a foreign library keeps
 * its M but leaves its P in Psyscall: if the call lasts, sysmon hands the P
 * to another M (retake_syscall in proc_sysmon.c) and the other goroutines
 * keep running.  On return the goroutine takes its P back if it is still
 * there, else any idle P, else it queues itself and its M sleeps.
 * gort_entersyscall itself is in asm_amd64.S: it saves its caller's
 * registers for tracebacks, then calls gort__entersyscall here.
 *
 * It calls the Ps and the world (proc_p.c), the Ms (proc_m.c) and, for a
 * goroutine with no P to return to, schedule (proc.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "det.h"
#include "proc.h"

/*
 * entersyscall: the goroutine is about to block in the kernel or in a
 * foreign library.  It keeps its M, but its P is left in Psyscall, free for
 * sysmon to take and hand to another M if the call lasts (retake_syscall),
 * so the other goroutines keep running.  If the world is stopping, the P
 * goes to the stopper at once.
 */
void gort__entersyscall(const syscallctx *ctx)
{
	if (gort__getg() == NULL)
		return; /* a thread gort did not create is outside gort already (cgocall.c) */
	G *gp = gort__current_goroutine("gort_entersyscall");
	if (gort__det())
		gort__det_syscall(gp, (uintptr_t)ctx->ctx.pc);
	M *mp = gp->m;
	P *pp = mp->p;
	gp->syscallctx = *ctx; /* for tracebacks */
	if (gort__traceon())
		gort__trace_gosyscall(gp);
	casgstatus(gp, Grunning, Gsyscall);
	gp->waitsince = gort__coarsenow();
	mp->syscalltick = atomic_load_explicit(&pp->syscalltick, memory_order_relaxed) + 1;
	atomic_store_explicit(&pp->syscalltick, mp->syscalltick, memory_order_relaxed);
	mp->oldp = pp;
	mp->p = NULL;
	atomic_store_explicit(&pp->m, NULL, memory_order_relaxed);
	atomic_store(&pp->status, Psyscall);
	/*
	 * If the call blocks, sysmon must see it within a short tick to hand
	 * our P on in well under a millisecond - without being woken for
	 * every call: a futex wake per call cost more than a read of cached
	 * data (bench/pipeline_read.c: 150 times plain read(2)'s context
	 * switches at GOMAXPROCS=1, 1.4 times its wall time at 2).  So the
	 * first call of each sysmon round marks sysmonsyscalls, and sysmon,
	 * seeing it, keeps its sleep short (proc_sysmon.c); only a sysmon
	 * already in a long sleep - the first call after a quiet spell - is
	 * woken.  Dekker's handshake: we store the mark, then read
	 * sysmonlongsleep; sysmon stores sysmonlongsleep, then takes the
	 * mark; both sequentially consistent, so one of us sees the other.
	 * A mark already there is one sysmon has yet to take: it will.
	 */
	if (atomic_load_explicit(&sched.sysmonsyscalls, memory_order_relaxed) == 0) {
		atomic_store(&sched.sysmonsyscalls, 1);
		if (atomic_load(&sched.sysmonlongsleep) && atomic_exchange(&sched.sysmonlongsleep, 0)) {
			atomic_store(&sched.sysmonwake, 1);
			gort__futexwakeup(&sched.sysmonwake, 1);
		}
	}
	if (atomic_load(&sched.gcwaiting)) {
		gort__lock(&sched.lock);
		uint32_t expect = Psyscall;
		if (sched.stopwait > 0 && atomic_compare_exchange_strong(&pp->status, &expect, Pgcstop)) {
			syscall_taken(pp);
			if (--sched.stopwait == 0)
				gort__notewakeup(&sched.stopnote);
		}
		gort__unlock(&sched.lock);
	}
}

/*
 * syscall_taken: pp was just taken from its M's system call, by a CAS from
 * Psyscall (retake, stop the world, the gcwaiting check above).  The trace
 * records the call's goroutine blocked and the P stopped; then syscalltick
 * moves on, which a returning call waits for before it records its
 * GoSysExit (sysblock_wait) - always, since tracing may begin meanwhile.
 */
void syscall_taken(P *pp)
{
	if (gort__traceon())
		gort__trace_syscall_retaken(pp);
	atomic_fetch_add(&pp->syscalltick, 1);
}

/* sysblock_wait: our call's P was taken; the GoSysExit we are about to
 * record must follow its taker's GoSysBlock, which it has written once
 * oldp's syscalltick is no longer the one our call began with. */
static void sysblock_wait(M *mp, P *oldp)
{
	if (oldp == NULL)
		return; /* a foreign thread's first call (cgocall.c): no P, no taker */
	while (atomic_load(&oldp->syscalltick) == mp->syscalltick)
		gort__osyield();
}

/*
 * trace_reacquired: we took our P back from Psyscall, but it had been
 * taken from our call and handed on, and another goroutine's call had left
 * it in Psyscall again: in the trace, that call blocks now (GoSysBlock),
 * ours returns (GoSysExit) and we run on (GoStart).  Its syscalltick moves
 * on, so that the other call's return sees its P was taken.  Go's
 * exitsyscallfast_reacquired.
 */
static void trace_reacquired(M *mp, P *pp, G *gp)
{
	if (mp->syscalltick == atomic_load(&pp->syscalltick)) {
		gp->tracesys = false; /* the common case: nothing happened to it */
		return;
	}
	gort__trace_gosysblock(pp);
	gort__trace_gosysexit(pp, gp, 0);
	gort__trace_gostart(pp, gp);
	atomic_fetch_add(&pp->syscalltick, 1);
}

/* exitsyscall0: no P to be had; on g0, queue the G and stop this M. */
static G *exitsyscall0(void *arg)
{
	G *gp = arg;
	M *mp = enter_g0(gp);
	casgstatus(gp, Gsyscall, Grunnable);
	atomic_store_explicit(&mp->curg, NULL, memory_order_relaxed);
	gp->m = NULL;
	gort__lock(&sched.lock);
	P *pp = atomic_load(&sched.gcwaiting) ? NULL : pidleget();
	if (pp == NULL)
		globrunqput(gp);
	gort__unlock(&sched.lock);
	if (pp != NULL) {
		acquirep(mp, pp);
		return execute(mp, gp, false);
	}
	if (mp->lockedg != NULL) {
		/* Locked to us: wait until another M hands us gp and a P. */
		stoplockedm(mp);
		return execute(mp, gp, false);
	}
	stopm(mp);
	return schedule(mp);
}

/* trace_exit_idlep: we return on an idle P, not ours: the call returns
 * and we start on it. */
static void trace_exit_idlep(P *pp, G *gp)
{
	if (gp->tracesys)
		gort__trace_gosysexit(pp, gp, 0);
	gort__trace_gostart(pp, gp);
}

/*
 * set_errno: errno on the thread we are on now.  errno is a call to
 * __errno_location, which glibc declares const, so within one function the
 * compiler looks the address up once - and after exitsyscall0 has moved
 * us to another M, that address is the old thread's: the call's errno went
 * to a thread the goroutine had left (syscall.c, 1 run in ~1000 with both
 * CPUs busy: the P retaken from an fsync(-1), the goroutine resumed
 * elsewhere).  Out of line, the address is looked up afresh.
 */
#if defined(__clang__)
__attribute__((noinline))
#else
__attribute__((noinline, noipa))
#endif
static void set_errno(int e)
{
	errno = e;
}

/*
 * exitsyscall: the call returned.  Steps:
 *   1. our P is still in Psyscall: take it back (the CAS beats sysmon);
 *   2. else an idle P;
 *   3. else queue the goroutine and stop this M (exitsyscall0): it will
 *      resume on whichever M runs it next.
 * errno is the call's on return, even after a move to another thread.
 */
void gort_exitsyscall(void)
{
	if (gort__getg() == NULL)
		return; /* a thread gort did not create: see gort__entersyscall */
	int saved = errno;
	G *gp = gort__current_goroutine("gort_exitsyscall");
	M *mp = gp->m;
	gort__assert(gort__readgstatus(gp) == Gsyscall, "exitsyscall: not in a system call");
	if (gort__det())
		gort__det_syscall_exit();
	P *oldp = mp->oldp;
	mp->oldp = NULL;
	uint32_t expect = Psyscall;
	if (oldp != NULL && atomic_compare_exchange_strong(&oldp->status, &expect, Prunning)) {
		mp->p = oldp;
		atomic_store_explicit(&oldp->m, mp, memory_order_relaxed);
		if (gort__traceon())
			trace_reacquired(mp, oldp, gp);
		casgstatus(gp, Gsyscall, Grunning);
		errno = saved;
		return;
	}
	if (!atomic_load(&sched.gcwaiting) && atomic_load(&sched.npidle) > 0) {
		gort__lock(&sched.lock);
		P *pp = atomic_load(&sched.gcwaiting) ? NULL : pidleget();
		gort__unlock(&sched.lock);
		if (pp != NULL) {
			if (gort__traceon() && gp->tracesys)
				sysblock_wait(mp, oldp);
			acquirep(mp, pp);
			if (gort__traceon())
				trace_exit_idlep(pp, gp);
			casgstatus(gp, Gsyscall, Grunning);
			errno = saved;
			return;
		}
	}
	if (gort__traceon() && gp->tracesys) {
		/* execute records the exit, on the P it finds: now is when it was */
		sysblock_wait(mp, oldp);
		gp->sysexitticks = gort__trace_ticks();
		gp->tracesysexit = true;
		gp->tracesys = false;
	}
	mcall(exitsyscall0, false);
	set_errno(saved); /* not errno = saved: we may be on another thread */
}
