/*
 * proc_sysmon.c - sysmon, the scheduler's watchdog (Go's sysmon, retake
 * and preemption in proc.go and preempt.go).
 *
 * A thread of its own, with no P, for the life of the program.  Each round
 * it asks goroutines that have run a whole time slice to yield (and, with
 * asynchronous preemption on, signals them: preempt.c), hands on the Ps of
 * long system calls, polls the network if nobody has for 10 ms, and prints
 * GODEBUG=schedtrace lines.  Also here: where a goroutine that was asked to
 * yield does so (the preemption points).
 *
 * It reads the Ps racily, takes them only by CAS from Psyscall, and calls
 * handoffp (proc_m.c), the poller (netpoll.c), preempt.c's signal and
 * schedtrace.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "det.h"
#include "proc.h"

enum {
	FORCE_PREEMPT_NS = 10 * 1000 * 1000, /* a time slice: 10 ms, as Go's */
	SYSMON_MIN_US = 20,
	SYSMON_MAX_US = 10 * 1000,
	/* While system calls are being made, or one is in progress, sysmon
	 * sleeps no longer than this: a call that blocks has its P handed on
	 * within two such ticks, and no call needs to wake sysmon.  Longer
	 * sleeps are cut short by entersyscall. */
	SYSMON_SYSCALL_US = 320,
};

/* ---- preemption points ------------------------------------------------------- */

/*
 * preemptpoint: sysmon asked gp to yield (it ran a whole time slice).  As
 * Go's preemption does, put it on the global queue and schedule: everyone
 * waiting gets a turn.  Called only at preemption points: runtime calls
 * and gort_preempt_point, never from a signal.
 */
void gort__preemptpoint(G *gp)
{
	if (gp->m->p == NULL) /* a running goroutine holds a P unless in a call */
		gort__fatal(GORT_IN_SYSCALL_MISUSE);
	if (gort__det()) { /* every point, in deterministic mode: the flag stays set */
		gort__det_point(gp);
		return;
	}
	atomic_store_explicit(&gp->preempt, false, memory_order_relaxed);
	if (gp->m->lockedg != NULL)
		return;
	if (gort__traceon())
		gort__trace_gopreempt(gp, true);
	mcall(gosched_m, false);
}

/*
 * asyncpreempt_park: the SIGURG handler found gp at an async safe point
 * (preempt.c).  gp yields as Gosched does, but stays on this thread: it is
 * stopped in the middle of arbitrary C code, which may have kept thread-
 * local addresses in registers, and its signal frame can be returned from
 * only here.  So, for the duration, it is locked to this M as by
 * lockOSThread; schedule then hands the P on and sleeps until an M
 * dequeues gp and hands this M a P back (stoplockedm, startlockedm).
 * Runs on gp's stack, inside the handler.
 */
void gort__asyncpreempt_park(G *gp)
{
	M *mp = gp->m;
	bool userlocked = gp->lockedm != NULL;
	gort__assert(!userlocked || (gp->lockedm == mp && mp->lockedg == gp),
	             "asyncpreempt: inconsistent locking");
	mp->lockedg = gp;
	gp->lockedm = mp;
	atomic_store_explicit(&gp->preempt, false, memory_order_relaxed);
	if (gort__traceon())
		gort__trace_gopreempt(gp, false); /* its stack from the signal's context */
	mcall(gosched_m, false);
	gort__assert(gort__getg() == gp && gp->m == mp && mp->lockedg == gp,
	             "asyncpreempt: resumed on another thread");
	if (!userlocked) {
		mp->lockedg = NULL;
		gp->lockedm = NULL;
	}
}

void gort_preempt_point(void)
{
	gort__checkpreempt(gort__current_goroutine("gort_preempt_point"));
}

/* ---- sysmon ------------------------------------------------------------------ */

/*
 * retake_syscall: pp's M is in a system call.  Once the call has lasted a
 * whole sysmon tick, take the P back and hand it to another M - at once if
 * there is work for it (or nobody else to find any), else after 10 ms, so
 * that a long call never keeps a P idle for good.  The CAS from Psyscall
 * decides the race with the call returning (exitsyscall).
 */
static int retake_syscall(P *pp, int64_t now)
{
	uint32_t t = atomic_load_explicit(&pp->syscalltick, memory_order_relaxed);
	if (pp->sysmonsyscalltick != t) {
		pp->sysmonsyscalltick = t;
		pp->sysmonsyscallwhen = now;
		return 0;
	}
	if (runqempty(pp) && atomic_load(&sched.nmspinning) + atomic_load(&sched.npidle) > 0 &&
	    now - pp->sysmonsyscallwhen < FORCE_PREEMPT_NS)
		return 0;
	/* Between the CAS and handoffp the P is nobody's: count one more M
	 * running, or a call returning just then - no P to take back, none
	 * idle - would stop its M and checkdead find its G runnable with
	 * every M idle. */
	incidlelocked(-1);
	uint32_t expect = Psyscall;
	bool took = atomic_compare_exchange_strong(&pp->status, &expect, Pidle);
	if (took) {
		syscall_taken(pp);
		handoffp(pp);
	}
	incidlelocked(1);
	return took;
}

/*
 * retake looks at every P: one whose M has run the same time slice (the
 * same schedtick) for FORCE_PREEMPT_NS gets its goroutine asked to yield -
 * and, with asynchronous preemption on, a signal if it was asked at an
 * earlier look already and has not yielded (preempt.c); one in a long
 * system call is handed on.  Returns how many Ps were handed
 * on - only that keeps sysmon waking every 20 us, as in Go: counting
 * preemption requests too kept it spinning through every CPU-bound run,
 * taking CPU from the Ps (mutex at GOMAXPROCS=2 went from 0.86 to 1.16 of
 * Go's time).
 */
static int retake(int64_t now, bool *insyscall)
{
	int n = 0;
	*insyscall = false;
	P **ps = allp;
	int32_t np = atomic_load(&gomaxprocs);
	for (int32_t i = 0; i < np; i++) {
		P *pp = ps[i];
		uint32_t status = atomic_load(&pp->status);
		if (status == Psyscall) {
			*insyscall = true;
			n += retake_syscall(pp, now);
			continue;
		}
		if (status != Prunning)
			continue;
		uint32_t tick = atomic_load_explicit(&pp->schedtick, memory_order_relaxed);
		if (pp->sysmontick != tick) {
			pp->sysmontick = tick;
			pp->sysmonwhen = now;
			continue;
		}
		if (now - pp->sysmonwhen < FORCE_PREEMPT_NS)
			continue;
		/* A hint, as in Go: the P may have moved on since.  Gs are
		 * never freed, so a stale one is still a G to ask. */
		M *mp = atomic_load_explicit(&pp->m, memory_order_relaxed);
		G *gp = mp != NULL ? atomic_load_explicit(&mp->curg, memory_order_relaxed) : NULL;
		if (gp == NULL)
			continue;
		if (atomic_load_explicit(&gp->preempt, memory_order_relaxed) &&
		    atomic_load_explicit(&gort__asyncpreempt, memory_order_relaxed))
			gort__preemptm(mp);
		atomic_store_explicit(&gp->preempt, true, memory_order_relaxed);
	}
	return n;
}

/*
 * sysmon_netpoll: if no M has looked at the network for 10 ms (all busy
 * running goroutines), look for it, so that I/O waiters are not starved
 * by CPU-bound work.  The readied Gs go to the global queue.
 *
 * From before it polls until the Gs are queued and an M started for them,
 * sysmon counts as a running M (one idle locked M fewer, as Go's sysmon
 * does).  Without that, this interleaving lost them (net_eof at
 * GOMAXPROCS=1): sysmon takes the only I/O waiter G from netpoll, which
 * drops netpollWaiters to 0, and marks G runnable; the one M, out of work,
 * gives up its P, sees no timer and no I/O waiter, so sleeps in stopm
 * rather than in netpoll, and - every M idle - its checkdead finds G
 * runnable before sysmon has queued it.  (Counting only from the readying
 * on would leave the same window, while G is still Gwaiting but already
 * out of the poller: a false "all goroutines are asleep".)
 */
static void sysmon_netpoll(int64_t now)
{
	int64_t last = atomic_load(&sched.lastpoll);
	if (last == 0 || now - last < FORCE_PREEMPT_NS ||
	    atomic_load(&gort__netpollWaiters) == 0 ||
	    !atomic_compare_exchange_strong(&sched.lastpoll, &last, now))
		return;
	incidlelocked(-1);
	countedrunning = true;
	gList list = {0};
	if (gort__netpoll(0, &list) > 0)
		injectglist(NULL, &list);
	countedrunning = false;
	incidlelocked(1);
}

/*
 * sysmon runs on its own thread, without a P, for the life of the
 * program: it sleeps 20 us, and after 50 rounds with nothing to do doubles
 * that, up to 10 ms - as Go's - but no longer than 320 us while system
 * calls are being made (and a call starting cuts a long sleep short: Go
 * would leave a call that blocks then holding its P for up to 10 ms); each
 * round it asks goroutines that have run a whole time slice to yield,
 * takes back the Ps of long system calls (retake), and polls the network
 * if nobody has for 10 ms.  It reads the world racily, as Go's does:
 * what it finds is a hint to act on, never a fact to rely on.
 */
_Atomic int32_t gort__sysmontid;


void *sysmon(void *arg)
{
	uint32_t delay = SYSMON_MIN_US;
	int idle = 0;
	int64_t lasttrace = 0;
	bool insyscall = false; /* a P was in a system call at the last round */
	atomic_store(&gort__sysmontid, gort__gettid());
	for (;;) {
		if (idle == 0)
			delay = SYSMON_MIN_US;
		else if (idle > 50 && delay < SYSMON_MAX_US)
			delay *= 2;
		if (delay > SYSMON_MAX_US)
			delay = SYSMON_MAX_US;
		/* Calls made since the last round, or one still in progress: a
		 * short sleep, so that one that blocks is seen in time.  The
		 * long-sleep flag is stored before the calls' mark is taken:
		 * entersyscall's side of the handshake (proc_syscall.c). */
		bool longsleep = delay > SYSMON_SYSCALL_US;
		if (longsleep)
			atomic_store(&sched.sysmonlongsleep, 1);
		bool calls = atomic_exchange(&sched.sysmonsyscalls, 0) != 0;
		if (longsleep && (calls || insyscall)) {
			atomic_store(&sched.sysmonlongsleep, 0);
			delay = SYSMON_SYSCALL_US;
		}
		gort__futexsleep_timeout(&sched.sysmonwake, 0, (int64_t)delay * 1000);
		atomic_store(&sched.sysmonlongsleep, 0);
		bool kicked = atomic_exchange(&sched.sysmonwake, 0) != 0;
		int64_t now = gort__nanotime();
		atomic_store_explicit(&sched.coarsenow, now, memory_order_relaxed);
		freems(); /* before retake reads Ms as hints */
		sysmon_netpoll(now); /* does not count as activity, as in Go */
		gort__scavenge_tick(now); /* free heap pages back to the OS (mheap.c) */
		if (retake(now, &insyscall) != 0 || kicked)
			idle = 0;
		else
			idle++;
		if (gort__debug.schedtrace > 0 && atomic_load(&gort__dying) == 0 &&
		    (lasttrace == 0 || lasttrace + (int64_t)gort__debug.schedtrace * 1000000 <= now)) {
			lasttrace = now;
			gort__schedtrace(gort__debug.scheddetail > 0);
		}
	}
	return NULL;
}
