/*
 * proc.h - what the scheduler's files share with one another.
 *
 * Go keeps its whole scheduler in proc.go; gort cuts it along the lines a
 * reader asks about, one file each:
 *
 *   proc.c          the schedule loop: schedule, execute, findrunnable and
 *                   the idle path (steal, poll, sleep); park, ready, yield
 *   proc_runq.c     the run queues: a P's local ring with runnext, the
 *                   global queue; stealing; what timers may ready
 *   proc_g.c        goroutines: status, allgs, allocation and free lists,
 *                   newproc, exit
 *   proc_m.c        Ms: the idle list, wakep/startm/stopm/handoffp, spinning,
 *                   thread start and exit, locked goroutines, checkdead
 *   proc_p.c        Ps: acquire/release, the idle list, procresize, and
 *                   stopping and starting the world
 *   proc_syscall.c  entersyscall/exitsyscall: the P handed off in a call
 *   proc_sysmon.c   sysmon: retake, preemption requests, the network check
 *   proc_det.c      deterministic mode (GODEBUG=detseed): one P, the seed's
 *                   choices, virtual time (its hooks elsewhere: det.h)
 *   proc_api.c      start-up (gort_main) and the public calls of runtime.*
 *   schedtrace.c    GODEBUG=schedtrace, and the counts dump.c and
 *                   metrics.c read
 *
 * This header is their shared vocabulary: the state more than one of them
 * touches, the verbs one file calls in another, and - inline, because every
 * goroutine switch takes them - the stack switch (mcall), the status check
 * (casgstatus) and the fast paths of the local run queue.  Nothing outside
 * the scheduler's files includes it; the rest of the runtime sees only the
 * gort__ calls in runtime2.h.
 *
 * Names.  In the source, the verbs keep Go's names (runqput, wakep, stopm);
 * the #defines below give their symbols the gort__ prefix, because a C
 * program linking libgort.a statically must not find the library's wakep
 * in the way of a function of its own by that name.
 */
#ifndef GORT_PROC_H
#define GORT_PROC_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime2.h"
#include "trace.h"

#ifdef GORT_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

#define sched gort__sched
#define allp gort__allp
#define gomaxprocs gort__gomaxprocs

enum {
	GOID_BATCH = 16,   /* goroutine ids a P takes from sched.goidgen at once */
	GSLAB = 64,        /* Gs made together when the free lists are empty */
	STEAL_TRIES = 4,   /* passes over all Ps before giving up */
	MAX_MCOUNT = 10000,
};

/* ---- shared state ---------------------------------------------------------- */

/* Every G ever made, dead or alive (proc_g.c): for gort_numgoroutine,
 * checkdead, the dump.  allgs only grows; its entries never change. */
#define allglock gort__allglock
#define allgs gort__allgs
#define allglen gort__allglen
extern mutex allglock;
extern G **allgs;
extern _Atomic size_t allglen;

/* m0 is the main thread's M; allm lists every M (guarded by sched.lock). */
#define m0 gort__m0
#define allm gort__allm
extern M m0;
extern M *allm;

/* Set once goroutine 1 runs: from then on, new work wakes idle Ps. */
#define mainStarted gort__mainStarted
extern _Atomic bool mainStarted;

/* ---- the schedule loop (proc.c) ------------------------------------------- */

#define schedule gort__schedule
#define execute gort__execute
#define gosched_m gort__gosched_m
#define injectglist gort__injectglist
#define stealorder_reset gort__stealorder_reset
G *schedule(M *mp);
G *execute(M *mp, G *gp, bool inheritTime);
G *gosched_m(void *arg);
void injectglist(P *pp, gList *list);
void stealorder_reset(uint32_t count);

/* Set on sysmon's thread while it counts as a running M (sysmon_netpoll),
 * which is what lets it ready Gs (injectglist). */
#define countedrunning gort__countedrunning
extern __thread bool countedrunning;

/* ---- Gs (proc_g.c) ---------------------------------------------------------- */

#define newproc gort__newproc
#define goexit1 gort__goexit1
#define gfpurge gort__gfpurge
int64_t newproc(M *mp, int64_t parentgoid, uintptr_t pc, gort_func fn, void *arg,
                const void *args, size_t size, size_t stacksize);
/* gort_go_int's goroutines start in go_int_entry, which calls a.fn(a.arg)
 * from the copied block; newproc shows them as a.fn. */
typedef struct goIntArgs {
	gort_func_int fn;
	intptr_t arg;
} goIntArgs;
void gort__go_int_entry(void *p);
__attribute__((noreturn)) void goexit1(void);
void gfpurge(P *pp);

#define casgstatus_fail gort__casgstatus_fail
__attribute__((noreturn, cold)) void casgstatus_fail(G *gp, uint32_t oldval, uint32_t newval,
                                                     uint32_t cur);

/*
 * casgstatus moves gp from status oldval to newval.  Every transition has a
 * single writer (the M running the G, or the one that took it from a run
 * queue), so a store suffices; the check is what matters: a G found in the
 * wrong status means the scheduler is about to run it twice or lose it.
 */
static inline void casgstatus(G *gp, uint32_t oldval, uint32_t newval)
{
	uint32_t cur = atomic_load_explicit(&gp->atomicstatus, memory_order_relaxed);
	if (__builtin_expect(cur != oldval, 0))
		casgstatus_fail(gp, oldval, newval, cur);
	atomic_store_explicit(&gp->atomicstatus, newval, memory_order_release);
}

/*
 * lat_stamp: gp was just made runnable on pp.  One ready in SCHEDLAT_SAMPLE
 * per P is timed - the clock read costs ~20 ns, a hand-off ~11 ns - and
 * execute adds the time it waited to the running P's histogram.  (Go's
 * runtime/metrics /sched/latencies samples too: every 8th transition.)
 */
static inline void lat_stamp(P *pp, G *gp)
{
	if (__builtin_expect(++pp->metrics.readytick % SCHEDLAT_SAMPLE != 0, 1))
		return;
	gp->runnablesince = gort__nanotime();
	gp->latsample = true;
}

/* ---- stack switches ----------------------------------------------------------- */

/*
 * Under AddressSanitizer every switch of stacks is announced, so that it
 * checks each goroutine against the right stack bounds.  Elsewhere these
 * compile to nothing.
 */
static inline void fiber_leave(void **fakestack, uintptr_t lo, uintptr_t hi)
{
#ifdef GORT_ASAN
	__sanitizer_start_switch_fiber(fakestack, (const void *)lo, hi - lo);
#else
	(void)fakestack, (void)lo, (void)hi;
#endif
}

static inline void fiber_arrive(void *fakestack)
{
#ifdef GORT_ASAN
	__sanitizer_finish_switch_fiber(fakestack, NULL, NULL);
#else
	(void)fakestack;
#endif
}

/*
 * mcall switches from the running G to its M's g0 stack and calls fn(gp)
 * there; fn returns the G to run next and the switch goes to it.  This G
 * resumes from here when some M later runs it.  g0 starts from its top
 * every time: nothing on g0 survives a switch back to a G.
 */
static inline void mcall(G *(*fn)(void *), bool exiting)
{
	G *gp = gort__getg();
	M *mp = gp->m;
	gort__assert(gp != &mp->g0, "mcall called on g0");
	fiber_leave(exiting ? NULL : &gp->asan_fakestack, mp->g0_lo, (uintptr_t)mp->g0_sp);
#ifdef GORT_TSAN
	gort__tsan_switch(mp->g0.tsan_fiber); /* back: in gort__mcall (tsan.h) */
#endif
	gort__mcall(&gp->sched_sp, mp->g0_sp, fn, gp);
	fiber_arrive(gp->asan_fakestack);
}

/* enter_g0 opens every function mcall runs: it makes g0 the current G. */
static inline M *enter_g0(G *gp)
{
	M *mp = gp->m;
	fiber_arrive(NULL);
	gort__setg(&mp->g0);
	if (gp->stack_canary && !gort__stack_canary_ok(gp->stack))
		gort__stackoverflow_canary(gp);
	return mp;
}

/*
 * dropg: on g0, the G that was running leaves its M: it moves from
 * Grunning to status (runnable, waiting or dead) and curg is cleared.
 */
static inline void dropg(M *mp, G *gp, uint32_t status)
{
	assert_on_g0(mp);
	gort__assert(mp->curg == gp, "dropg: not the M's current G");
	casgstatus(gp, Grunning, status);
	atomic_store_explicit(&mp->curg, NULL, memory_order_relaxed);
	gp->m = NULL;
}

/* ---- the run queues (proc_runq.c; the local queue's fast paths here) ------- */

#define runqputslow gort__runqputslow
#define runqsteal gort__runqsteal
#define runqflush gort__runqflush
#define globrunqput gort__globrunqput
#define globrunqget gort__globrunqget
bool runqputslow(P *pp, G *gp, uint32_t h, uint32_t t);
G *runqsteal(P *pp, P *p2, bool stealRunNextG);
void runqflush(P *pp);
void globrunqput(G *gp);
G *globrunqget(P *pp, int32_t max);

static inline G *slot_load(P *pp, uint32_t i)
{
	return atomic_load_explicit(&pp->runq[i % RUNQ_SIZE], memory_order_relaxed);
}

static inline void slot_store(P *pp, uint32_t i, G *gp)
{
	atomic_store_explicit(&pp->runq[i % RUNQ_SIZE], gp, memory_order_relaxed);
}

/* runqempty: is pp's queue empty, runnext included?  A G moving from
 * runnext into runq must not make both look empty, hence the re-read. */
static inline bool runqempty(P *pp)
{
	for (;;) {
		uint32_t head = atomic_load(&pp->runqhead);
		uint32_t tail = atomic_load(&pp->runqtail);
		G *next = atomic_load(&pp->runnext);
		if (tail == atomic_load(&pp->runqtail))
			return head == tail && next == NULL;
	}
}

/*
 * runqput puts gp on pp's queue; with next, into runnext, kicking the old
 * runnext to the tail.  Only pp's owner calls it.  A full queue spills
 * half to the global queue (runqputslow).
 */
static inline void runqput(P *pp, G *gp, bool next)
{
	if (next) {
		G *old;
		if (atomic_load_explicit(&gomaxprocs, memory_order_relaxed) == 1) {
			/* One P: no thief (see runqget), and no idle P for
			 * wakep to find, so plain loads and stores do - no
			 * locked instruction on the hand-off path. */
			old = atomic_load_explicit(&pp->runnext, memory_order_relaxed);
			atomic_store_explicit(&pp->runnext, gp, memory_order_release);
		} else {
			/* A thief may take the old runnext under us: an
			 * exchange.  Its full barrier is also the #StoreLoad
			 * between adding the G and wakep's reading of
			 * nmspinning, which a spinning M that stops relies on
			 * (it drops nmspinning, then looks at every queue). */
			old = atomic_exchange(&pp->runnext, gp);
		}
		if (old == NULL)
			return;
		gp = old;
	}
	for (;;) {
		uint32_t h = atomic_load_explicit(&pp->runqhead, memory_order_acquire);
		uint32_t t = atomic_load_explicit(&pp->runqtail, memory_order_relaxed);
		if (t - h < RUNQ_SIZE) {
			slot_store(pp, t, gp);
			atomic_store_explicit(&pp->runqtail, t + 1, memory_order_release);
			return;
		}
		if (runqputslow(pp, gp, h, t))
			return;
	}
}

/* runqget takes the next G from pp's queue: runnext first.  Owner only. */
static inline G *runqget(P *pp, bool *inheritTime)
{
	/* Thieves may only clear runnext and move the head, so a failed CAS
	 * means they took the G.  With one P there is no thief - a thief
	 * holds another P, and a second P appears only in procresize, with
	 * the world (and so this P) stopped - so stores take what CASes
	 * would. */
	bool one_p = atomic_load_explicit(&gomaxprocs, memory_order_relaxed) == 1;
	G *next = atomic_load_explicit(&pp->runnext, memory_order_relaxed);
	if (next != NULL) {
		if (one_p)
			atomic_store_explicit(&pp->runnext, NULL, memory_order_relaxed);
		if (one_p || atomic_compare_exchange_strong(&pp->runnext, &next, NULL)) {
			*inheritTime = true;
			return next;
		}
	}
	*inheritTime = false;
	for (;;) {
		uint32_t h = atomic_load_explicit(&pp->runqhead, memory_order_acquire);
		uint32_t t = atomic_load_explicit(&pp->runqtail, memory_order_relaxed);
		if (t == h)
			return NULL;
		G *gp = slot_load(pp, h);
		if (one_p)
			atomic_store_explicit(&pp->runqhead, h + 1, memory_order_release);
		else if (!atomic_compare_exchange_weak_explicit(&pp->runqhead, &h, h + 1, memory_order_release,
		                                                memory_order_relaxed))
			continue;
		/* Start fetching the next G while this one runs: it was most
		 * likely written by another CPU.  The slot may be stale; a
		 * prefetch of any address is harmless. */
		if (h + 1 != t) {
			G *after = slot_load(pp, h + 1);
			__builtin_prefetch(after, 1);
			__builtin_prefetch((char *)after + 64, 1);
		}
		return gp;
	}
}

/* ---- Ms (proc_m.c) ----------------------------------------------------------- */

#define startm gort__startm
#define stopm gort__stopm
#define handoffp gort__handoffp
#define wakep_slow gort__wakep_slow
#define newm gort__newm
#define mexit gort__mexit
#define mstart gort__mstart
#define mcount gort__mcount
#define m0init gort__m0init
#define stoplockedm gort__stoplockedm
#define startlockedm gort__startlockedm
#define incidlelocked gort__incidlelocked
#define becomespinning gort__becomespinning
#define stopspinning gort__stopspinning
void startm(P *pp, bool spinning);
void stopm(M *mp);
void handoffp(P *pp);
void wakep_slow(void);
void newm(P *pp, bool spinning);
__attribute__((noreturn)) void mexit(M *mp);
void mstart(M *mp);
int64_t mcount(void);
void m0init(uint64_t seed);
void stoplockedm(M *mp);
void startlockedm(M *mp, G *gp);
void incidlelocked(int32_t v);
void becomespinning(M *mp);
void stopspinning(M *mp);

/*
 * wakep starts a spinning M if there is an idle P and no M spins already.
 * One spinning M suffices: when it finds work it calls wakep again.  The
 * test is inline: every ready calls wakep, and mostly there is nothing to
 * do.
 */
static inline void wakep(void)
{
	if (atomic_load_explicit(&sched.npidle, memory_order_relaxed) == 0 ||
	    atomic_load_explicit(&sched.nmspinning, memory_order_relaxed) != 0)
		return;
	wakep_slow();
}

/* ---- Ps and the world (proc_p.c) ------------------------------------------- */

#define acquirep gort__acquirep
#define releasep gort__releasep
#define pidleput gort__pidleput
#define pidleget gort__pidleget
#define procresize gort__procresize
#define pstopped gort__pstopped
#define gcstopm gort__gcstopm
#define stoptheworld gort__stoptheworld_m
#define starttheworld gort__starttheworld_m
#define pmetrics_fold gort__pmetrics_fold
void acquirep(M *mp, P *pp);
P *releasep(M *mp);
void pidleput(P *pp);
P *pidleget(void);
P *procresize(M *mp, int32_t nprocs);
void pstopped(P *pp);
void gcstopm(M *mp);
void stoptheworld(M *mp);
void starttheworld(M *mp, int32_t nprocs);
void pmetrics_fold(pmetrics *sum, pmetrics *from);

/* ---- system calls (proc_syscall.c) ---------------------------------------- */

#define syscall_taken gort__syscall_taken
void syscall_taken(P *pp);

/* ---- sysmon (proc_sysmon.c) -------------------------------------------------- */

#define sysmon gort__sysmon
void *sysmon(void *arg); /* the body of its thread, started with goroutine 1 */
#define freems gort__freems
void freems(void); /* proc_m.c: free the Ms that exited; sysmon's */

/* ---- extra Ms: calls from threads gort did not create (cgocall.c) -------- */

#define mcommoninit gort__mcommoninit
#define allgadd gort__allgadd
#define extram_count gort__extram_count
void mcommoninit(M *mp, int64_t id); /* holds sched.lock */
void allgadd(G *gs, int n);
extern _Atomic int32_t extram_count; /* extra Ms ever made */
int64_t gort__extram_idle(void);     /* their Gs not in a call (Gdead) */

/* ---- the deadlock detector (proc_m.c) -------------------------------------- */

#define checkdead gort__checkdead
void checkdead(void);

#endif
