/*
 * proc.c - the schedule loop (the heart of Go's proc.go).
 *
 *   G  a goroutine.      M  an OS thread.      P  a processor: the right to
 *   run goroutines, with a local run queue.  An M runs goroutines only
 *   while it holds a P; GOMAXPROCS is the number of Ps.  runtime2.h has
 *   the types; proc.h lists the scheduler's other files; READING.md the
 *   reading order and the map of Go's names.
 *
 * The design is Go's ("Scalable Go Scheduler Design", Vyukov 2012):
 *   - Every P has a 256-slot run queue that only its owner writes at the
 *     tail, plus runnext, the G to run next.  Anyone may take from the
 *     head with CAS, which is how idle Ps steal half of a busy one's queue
 *     (proc_runq.c).
 *   - A global run queue under sched.lock takes overflow and is checked
 *     every 61st schedule, so it cannot starve.
 *   - An M out of work becomes "spinning" and looks for work to steal
 *     before it sleeps.  New work wakes an idle M (wakep) only if there is
 *     an idle P and no M is already spinning: spinning Ms are bounded, and
 *     the last one to stop spinning re-checks every queue, so no work is
 *     left behind while Ps sleep.
 *   - Every transition runs on g0, the M's own stack: gopark and Gosched
 *     switch to g0 (mcall, in proc.h), change the G's status there and
 *     call schedule, which finds the next G and returns it to mcall, which
 *     switches to it.
 *
 * This file owns:
 *   schedule         one round of the scheduler, on g0: returns the G to run
 *   findrunnable     local queue, global queue, network, steal; else sleep
 *                    (sleep_idle: in netpoll, or in stopm)
 *   execute          bind a stack on first run, make the G current
 *   gopark/park_m    block the running G with a wait reason
 *   goready          make a blocked G runnable again, next on this P
 *   gosched_m        yield: to the global queue (goyield_m: to our tail)
 *   injectglist      the Gs netpoll readied, onto the run queues
 *   stealorder       the random order in which Ps are robbed
 * It calls the run queues (proc.h, proc_runq.c), Ms and Ps (proc_m.c,
 * proc_p.c), timers (time.c) and the poller (netpoll.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "det.h"
#include "proc.h"
#include "timer.h"

static G *findrunnable(M *mp, bool *inheritTime);
static G *park_m(void *arg);

schedt gort__sched;

/* The running G of this thread: gort__getg in runtime2.h reads it. */
__thread G *gort__tls_g;

/* ---- the steal order ------------------------------------------------- */

/*
 * stealOrder visits all Ps in a random order with no allocation: start at a
 * random P and step by a random stride coprime with the count, which
 * visits every P exactly once.
 */
static struct {
	uint32_t count;
	uint32_t *coprimes;
	uint32_t ncoprimes;
} stealOrder;

typedef struct randomEnum {
	uint32_t i, count, pos, inc;
} randomEnum;

static uint32_t gcd(uint32_t a, uint32_t b)
{
	while (b != 0) {
		uint32_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

void stealorder_reset(uint32_t count)
{
	free(stealOrder.coprimes);
	stealOrder.coprimes = malloc(count * sizeof(uint32_t));
	gort__assert(stealOrder.coprimes != NULL, "out of memory");
	stealOrder.count = count;
	stealOrder.ncoprimes = 0;
	for (uint32_t i = 1; i <= count; i++)
		if (gcd(i, count) == 1)
			stealOrder.coprimes[stealOrder.ncoprimes++] = i;
}

static randomEnum stealorder_start(uint32_t r)
{
	return (randomEnum){0, stealOrder.count, r % stealOrder.count,
	                    stealOrder.coprimes[r % stealOrder.ncoprimes]};
}

static bool enum_done(randomEnum *e)
{
	return e->i == e->count;
}

static void enum_next(randomEnum *e)
{
	e->i++;
	e->pos = (e->pos + e->inc) % e->count;
}


/* ---- the schedule loop ------------------------------------------------------- */

static __attribute__((noinline)) void lat_record(P *pp, G *gp)
{
	gp->latsample = false;
	uint64_t lat = (uint64_t)(gort__nanotime() - gp->runnablesince);
	int b = 0;
	if (lat >= 256) {
		b = 64 - __builtin_clzll(lat) - 8;
		if (b > SCHEDLAT_BUCKETS - 1)
			b = SCHEDLAT_BUCKETS - 1;
	}
	gort__pcount(&pp->metrics.schedlat[b], 1);
}

/*
 * resetspinning: a spinning M found work.  It stops spinning, and wakes
 * another M, since it may have been the one spinner whose job was to
 * notice work that needs a P.
 */
static void resetspinning(M *mp)
{
	stopspinning(mp);
	wakep();
}

/*
 * schedule runs one round of the scheduler on g0: it finds a runnable G
 * and returns it, ready to run; mcall switches to it.  (Go's schedule
 * switches itself and never returns; returning keeps every call on g0
 * matched by a ret - see gort__mcall.)
 *   1. An M wired to a G (lockOSThread) runs only that G: hand the P on
 *      and sleep until the G is runnable again.
 *   2. findrunnable blocks until it has a G (and this M holds a P).
 *   3. A spinning M that found work stops spinning, and may wake another.
 *   4. A G wired to another M is handed to that M, with our P.
 */
G *schedule(M *mp)
{
	assert_on_g0(mp);
	gort__assert(mp->curg == NULL, "schedule: holding a G");
	if (mp->lockedg != NULL) {
		stoplockedm(mp);
		return execute(mp, mp->lockedg, false);
	}
	for (;;) {
		bool inheritTime;
		G *gp = findrunnable(mp, &inheritTime);
		if (mp->spinning)
			resetspinning(mp);
		if (gp->lockedm != NULL) {
			startlockedm(mp, gp);
			continue;
		}
		return execute(mp, gp, inheritTime);
	}
}

/* trace_execute: gp starts on pp - after a system call that lost its P,
 * first its GoSysExit, which waited for a P to be recorded on. */
static __attribute__((noinline, cold)) void trace_execute(P *pp, G *gp)
{
	if (gp->tracesysexit) {
		gp->tracesysexit = false;
		gort__trace_gosysexit(pp, gp, gp->sysexitticks);
	}
	gort__trace_gostart(pp, gp);
}

/*
 * execute readies gp to run on mp: mark it running, bind a stack if this
 * is its first run, make it the thread's current G.  Returns gp, for
 * mcall to switch to.  inheritTime: gp takes over the current time slice
 * (it came from runnext) instead of starting a new scheduling tick.
 */
G *execute(M *mp, G *gp, bool inheritTime)
{
	assert_on_g0(mp);
	atomic_store_explicit(&mp->curg, gp, memory_order_relaxed);
	gp->m = mp;
	casgstatus(gp, Grunnable, Grunning);
	if (gort__traceon())
		trace_execute(mp->p, gp);
	gort__pcount(&mp->p->metrics.nswitch, 1);
	if (__builtin_expect(gp->latsample, 0))
		lat_record(mp->p, gp);
	if (!inheritTime)
		atomic_store_explicit(&mp->p->schedtick,
		                      atomic_load_explicit(&mp->p->schedtick, memory_order_relaxed) + 1,
		                      memory_order_relaxed);
	if (gp->stack.lo == 0) {
		gp->stack = gort__stackalloc(mp->p, gp->stacksize);
		gp->stack_canary = gort__stack_needs_canary();
		gp->sched_sp = gort__gostartframe(gp->stack.hi, gp);
	}
	gort__setg(gp);
	fiber_leave(NULL, gp->stack.lo, gp->stack.hi);
	return gp;
}

/* ---- finding work ------------------------------------------------------------ */

/* checkrunqs_nop looks for work after this M gave up its P (see findrunnable).
 * Returns an idle P to run it with, or NULL. */
static P *checkrunqs_nop(P **allpsnap, int32_t n)
{
	for (int32_t i = 0; i < n; i++) {
		if (runqempty(allpsnap[i]))
			continue;
		gort__lock(&sched.lock);
		P *pp = pidleget();
		gort__unlock(&sched.lock);
		return pp;
	}
	return NULL;
}

/*
 * stealwork tries every P, in random order, STEAL_TRIES times; the last
 * pass also runs the due timers of the others (an idle P's timers have no
 * one else to run them) and may take a victim's runnext.  *stop is set if
 * the world is stopping or timers readied Gs onto our queue: the caller
 * starts over.
 */
static G *stealwork(M *mp, int64_t now, bool *stop)
{
	P *pp = mp->p;
	*stop = false;
	for (int i = 0; i < STEAL_TRIES; i++) {
		bool lastpass = i == STEAL_TRIES - 1;
		for (randomEnum e = stealorder_start(gort__fastrand(mp)); !enum_done(&e); enum_next(&e)) {
			if (atomic_load(&sched.gcwaiting)) {
				*stop = true;
				return NULL;
			}
			P *p2 = allp[e.pos];
			if (p2 == pp)
				continue;
			if (lastpass) {
				bool ran = false;
				gort__checktimers(p2, now, &ran);
				if (ran && !runqempty(pp)) {
					*stop = true; /* the timers readied Gs here */
					return NULL;
				}
			}
			G *gp = runqsteal(pp, p2, lastpass);
			if (gp != NULL) {
				gort__pcount(&pp->metrics.nsteal, 1);
				return gp;
			}
		}
	}
	return NULL;
}

/* run_all_timers runs the due timers of every P (the caller holds a P,
 * which receives the Gs they ready). */
static void run_all_timers(P **ps, int32_t n, int64_t now)
{
	for (int32_t i = 0; i < n; i++)
		gort__checktimers(ps[i], now, NULL);
}

/* earliest_timer: the earliest when over all Ps' timers, 0 if none. */
static int64_t earliest_timer(P **ps, int32_t n)
{
	int64_t first = 0;
	for (int32_t i = 0; i < n; i++) {
		int64_t w = atomic_load(&ps[i]->timer0when);
		if (w != 0 && (first == 0 || w < first))
			first = w;
	}
	return first;
}

/*
 * wakeNetPoller: a timer due at when was just added.  If an M sleeps in
 * netpoll past that, cut its sleep short; if none sleeps there, make sure
 * an M comes looking (it will sleep in netpoll until when).
 */
void gort__wakeNetPoller(int64_t when)
{
	if (atomic_load(&sched.lastpoll) == 0) {
		int64_t until = atomic_load(&sched.pollUntil);
		if (until == 0 || until > when)
			gort__netpollBreak();
	} else {
		wakep();
	}
}

/* Set on sysmon's thread while it counts as a running M (sysmon_netpoll). */
__thread bool countedrunning;

/*
 * injectglist makes runnable the Gs that netpoll handed back (still
 * Gwaiting).  With no P, they all go on the global queue.  With a P, one
 * goes to the global queue for each idle P, so the Ms started for those Ps
 * find work at once; the rest stay on our local queue.
 *
 * The Gs are runnable before they are on a queue, and with no P before an
 * M is started for them: in that window the caller must count as a running
 * M, or checkdead, run by the last M going idle, would find them runnable
 * with every M idle.  An M does (it is not on the idle list while it runs
 * code); sysmon, no M, must say so (countedrunning).
 */
void injectglist(P *pp, gList *list)
{
	if (list->n == 0)
		return;
	gort__assert(pp != NULL || gort__getm() != NULL || countedrunning,
	             "injectglist: readying Gs from a thread checkdead does not count as running");
	if (pp == NULL)
		gort__trace_noplock(); /* see trace.c's state_dump */
	for (G *gp = list->head; gp != NULL; gp = gp->schedlink) {
		casgstatus(gp, Gwaiting, Grunnable);
		if (gort__traceon())
			gort__trace_gounpark(pp, gp);
	}
	if (pp == NULL)
		gort__trace_nopunlock();
	int32_t idle = atomic_load(&sched.npidle);
	int32_t nglobal = pp == NULL ? list->n : (idle < list->n ? idle : list->n);
	gort__lock(&sched.lock);
	for (int32_t i = 0; i < nglobal; i++)
		globrunqput(gort__glist_pop(list));
	gort__unlock(&sched.lock);
	for (int32_t i = 0; i < nglobal && atomic_load(&sched.npidle) > 0; i++)
		startm(NULL, false);
	G *gp;
	while ((gp = gort__glist_pop(list)) != NULL)
		runqput(pp, gp, false);
	/* A P may have gone idle after we counted the idle ones: one more
	 * spinning M, if none looks already, rather than Gs left waiting
	 * behind ours (Go's injectglist hedges the same way). */
	wakep();
}

/*
 * pollnetwork looks at the network without blocking; it returns one G
 * whose descriptor became ready (runnable, for the caller to run) and
 * queues the others.  Worth a system call only while goroutines wait on
 * descriptors and no M is blocked in netpoll (that one gets the events).
 */
static G *pollnetwork(M *mp)
{
	if (atomic_load_explicit(&gort__netpollWaiters, memory_order_relaxed) == 0 ||
	    atomic_load_explicit(&sched.lastpoll, memory_order_relaxed) == 0)
		return NULL;
	gList list = {0};
	if (gort__netpoll(0, &list) == 0)
		return NULL;
	G *gp = gort__glist_pop(&list);
	injectglist(mp->p, &list);
	casgstatus(gp, Gwaiting, Grunnable);
	if (gort__traceon())
		gort__trace_gounpark(mp->p, gp);
	return gp;
}

/*
 * netpoll_block: this M, with no P, is the poller (it set sched.lastpoll to
 * 0).  Steps:
 *   1. sleep in netpoll until the earliest timer (pollUntil), or until
 *      I/O or a break if there is none;
 *   2. take an idle P; without one, the readied Gs go to the global queue
 *      for the Ps that are busy, and the caller stops;
 *   3. with one, run every P's due timers - we slept for them, whatever
 *      our right to steal, or we would poll again at once for the same
 *      timers - and return a readied G, or NULL to look for work again.
 */
static G *netpoll_block(M *mp, int64_t pollUntil, bool wasSpinning)
{
	gort__assert(mp->p == NULL, "netpoll_block: holding a P");
	atomic_store(&sched.pollUntil, pollUntil);
	int64_t delay = -1;
	if (pollUntil != 0) {
		delay = pollUntil - gort__nanotime();
		if (delay < 0)
			delay = 0;
	}
	gList list = {0};
	gort__netpoll(delay, &list);
	atomic_store(&sched.pollUntil, 0);
	atomic_store(&sched.lastpoll, gort__nanotime());

	gort__lock(&sched.lock);
	P *pp = atomic_load(&sched.gcwaiting) ? NULL : pidleget();
	gort__unlock(&sched.lock);
	if (pp == NULL) {
		injectglist(NULL, &list);
		return NULL;
	}
	acquirep(mp, pp); /* holding a P: allp cannot change under us */
	run_all_timers(allp, atomic_load(&gomaxprocs), gort__nanotime());
	if (wasSpinning)
		becomespinning(mp);
	G *gp = gort__glist_pop(&list);
	if (gp == NULL)
		return NULL;
	injectglist(mp->p, &list);
	casgstatus(gp, Gwaiting, Grunnable);
	if (gort__traceon())
		gort__trace_gounpark(mp->p, gp);
	return gp;
}

/*
 * sleep_idle is findrunnable's last step, for an M that gave up its P with
 * nothing to run: timers pending or goroutines waiting on descriptors, and
 * no M polling yet - this one becomes the poller (netpoll_block); else
 * it makes sure the poller wakes for the earliest timer, and sleeps in
 * stopm.  Returns a G the poller readied, or NULL once this M holds a P
 * again and should look for work.
 */
static G *sleep_idle(M *mp, P **allpsnap, int32_t nsnap, bool wasSpinning)
{
	gort__assert(mp->p == NULL, "sleep_idle: holding a P");
	int64_t pollUntil = earliest_timer(allpsnap, nsnap);
	bool iowait = atomic_load(&gort__netpollWaiters) > 0;
	if ((pollUntil != 0 || iowait) && atomic_exchange(&sched.lastpoll, 0) != 0) {
		G *gp = netpoll_block(mp, pollUntil, wasSpinning);
		if (gp != NULL || mp->p != NULL)
			return gp;
	} else if (pollUntil != 0) {
		int64_t until = atomic_load(&sched.pollUntil);
		if (until == 0 || until > pollUntil)
			gort__netpollBreak(); /* the poller must wake earlier */
	}
	stopm(mp);
	return NULL;
}

/*
 * findrunnable returns a G to run, blocking until there is one.  Steps:
 *   1. if the world is stopping, stop (gcstopm) and start over;
 *   2. run this P's due timers: they may ready Gs onto our queue;
 *   3. every 61st tick, one G from the global queue, so it cannot starve;
 *   4. the local queue (runnext first);
 *   5. the global queue;
 *   6. the network, without blocking (pollnetwork);
 *   7. steal from other Ps, if not too many Ms spin already;
 *   8. nothing: under sched.lock, a last look at the global queue, then
 *      give the P back;
 *   9. if we were spinning, look at every queue once more, since work
 *      submitted while we were spinning woke nobody (the submitter saw us
 *      spinning);
 *  10. sleep (sleep_idle): in netpoll if timers are pending or goroutines
 *      wait on descriptors and no other M polls already (until the first
 *      timer, or until I/O if there is none), else in stopm until woken.
 * Steps 7 to 10 may start over: the world stopping, timers readying Gs
 * onto our queue, or a P found for the work seen in step 9.
 */
static __attribute__((noinline)) G *findrunnable_slow(M *mp, bool *inheritTime);

static inline G *findrunnable(M *mp, bool *inheritTime)
{
	assert_on_g0(mp);
	/* The common case, first and inline: nothing stops the world, no
	 * deterministic mode, no timers on this P, not the 61st tick -
	 * steps 1 to 3 have nothing to do - and the local queue has a G (a
	 * hand-off's, in runnext).  The rest out of line, where schedule's
	 * frame does not pay for it. */
	P *pp = mp->p;
	if (!atomic_load_explicit(&sched.gcwaiting, memory_order_relaxed) && !gort__det() &&
	    atomic_load_explicit(&pp->timer0when, memory_order_relaxed) == 0 &&
	    atomic_load_explicit(&pp->schedtick, memory_order_relaxed) % 61 != 0) {
		G *gp = runqget(pp, inheritTime);
		if (gp != NULL)
			return gp;
	}
	return findrunnable_slow(mp, inheritTime);
}

static G *findrunnable_slow(M *mp, bool *inheritTime)
{
	for (;;) {
		P *pp = mp->p;
		G *gp;
		/* 1. the world stopping */
		if (atomic_load(&sched.gcwaiting)) {
			gcstopm(mp);
			continue;
		}
		*inheritTime = false;

		/* deterministic mode: the strategy picks (proc_det.c); NULL
		 * only when nothing can run until the outside acts */
		if (gort__det() && (gp = gort__det_next(mp)) != NULL)
			return gp;

		/* 2. due timers (no clock read unless this P has timers) */
		if (atomic_load_explicit(&pp->timer0when, memory_order_relaxed) != 0)
			gort__checktimers(pp, 0, NULL);

		/* 3. fairness to the global queue */
		if (atomic_load_explicit(&pp->schedtick, memory_order_relaxed) % 61 == 0 &&
		    atomic_load_explicit(&sched.runqsize, memory_order_relaxed) > 0) {
			gort__lock(&sched.lock);
			gp = globrunqget(pp, 1);
			gort__unlock(&sched.lock);
			if (gp != NULL)
				return gp;
		}

		/* 4. the local queue */
		if ((gp = runqget(pp, inheritTime)) != NULL)
			return gp;

		/* 5. the global queue */
		if (atomic_load_explicit(&sched.runqsize, memory_order_relaxed) != 0) {
			gort__lock(&sched.lock);
			gp = globrunqget(pp, 0);
			gort__unlock(&sched.lock);
			if (gp != NULL)
				return gp;
		}

		/* 6. the network */
		if ((gp = pollnetwork(mp)) != NULL)
			return gp;

		/* 7. steal */
		int32_t procs = atomic_load(&gomaxprocs);
		if (mp->spinning || 2 * atomic_load(&sched.nmspinning) < procs - atomic_load(&sched.npidle)) {
			if (!mp->spinning)
				becomespinning(mp);
			bool stop;
			gp = stealwork(mp, gort__nanotime(), &stop);
			if (gp != NULL)
				return gp;
			if (stop)
				continue;
		}

		/* 8. give the P back.  Snapshot allp while we still hold it:
		 * procresize cannot run meanwhile. */
		P **allpsnap = allp;
		int32_t nsnap = procs;
		gort__lock(&sched.lock);
		if (atomic_load(&sched.gcwaiting)) {
			gort__unlock(&sched.lock);
			continue;
		}
		if (sched.runqsize != 0) {
			gp = globrunqget(pp, 0);
			gort__unlock(&sched.lock);
			return gp;
		}
		gort__assert(releasep(mp) == pp, "findrunnable: wrong p");
		pidleput(pp);
		gort__unlock(&sched.lock);

		/* 9. the spinning M's last look */
		bool wasSpinning = mp->spinning;
		if (wasSpinning) {
			stopspinning(mp);
			pp = checkrunqs_nop(allpsnap, nsnap);
			if (pp != NULL) {
				acquirep(mp, pp);
				becomespinning(mp);
				continue;
			}
		}

		/* 10. sleep */
		if ((gp = sleep_idle(mp, allpsnap, nsnap, wasSpinning)) != NULL)
			return gp;
	}
}

/* ---- parking and readying ---------------------------------------------------- */

/*
 * gopark blocks the running goroutine with a wait reason.  On g0, after
 * the G is marked waiting, unlockf(gp, lock) runs: it releases whatever
 * lock protected the decision to block, so a waker cannot see the G before
 * it is really parked.  If unlockf returns false the G resumes at once.
 * Every blocking primitive is built on this and goready.
 */
static bool blockprofiled(waitReason r)
{
	return r == waitReasonChanReceive || r == waitReasonChanSend || r == waitReasonSelect ||
	       r == waitReasonSyncCondWait;
}

void gort__gopark(unlockFunc unlockf, void *lock, waitReason reason)
{
	G *gp = gort__getg();
	M *mp = gp->m;
	gort__assert(gp != &mp->g0, "gopark on g0");
	gort__assert(atomic_load_explicit(&gp->atomicstatus, memory_order_relaxed) == Grunning,
	             "gopark: bad g status");
	mp->waitlock = lock;
	mp->waitunlockf = unlockf;
	gp->waitreason = (uint8_t)reason;
	gp->waitsince = gort__coarsenow();
	if (gort__traceon())
		gort__trace_gopark(gp, reason); /* here, where its stack is */
	/* the block profile (mprof.c): channels, select and sync.Cond are
	 * timed here; the semaphores time their whole wait in semacquire */
	int64_t t0 = gort__blockprofiling() && blockprofiled(reason) ? gort__nanotime() : 0;
	mcall(park_m, false);
	if (t0 != 0)
		gort__blockevent(gort__nanotime() - t0);
}

static G *park_m(void *arg)
{
	G *gp = arg;
	M *mp = enter_g0(gp);
	dropg(mp, gp, Gwaiting);
	unlockFunc fn = mp->waitunlockf;
	if (fn != NULL) {
		bool ok = fn(gp, mp->waitlock);
		mp->waitunlockf = NULL;
		mp->waitlock = NULL;
		if (!ok) {
			casgstatus(gp, Gwaiting, Grunnable);
			if (gort__traceon())
				gort__trace_gounpark(mp->p, gp);
			return execute(mp, gp, true);
		}
	}
	return schedule(mp);
}

/* goready makes gp runnable, next on the current P: the readier's time
 * slice passes to it, as in a channel handoff. */
void gort__goready(G *gp)
{
	M *mp = gort__getm();
	gort__assert(mp->p != NULL, "goready: no P");
	casgstatus(gp, Gwaiting, Grunnable);
	if (gort__traceon())
		gort__trace_gounpark(mp->p, gp);
	lat_stamp(mp->p, gp);
	runqput(mp->p, gp, true);
	wakep();
}

G *gosched_m(void *arg)
{
	G *gp = arg;
	M *mp = enter_g0(gp);
	dropg(mp, gp, Grunnable);
	lat_stamp(mp->p, gp);
	gort__lock(&sched.lock);
	globrunqput(gp);
	gort__unlock(&sched.lock);
	wakep();
	return schedule(mp);
}

/* goyield_m: like gosched_m, but to the back of the local queue, so the G
 * this one just readied (in runnext) runs now, on this P. */
static G *goyield_m(void *arg)
{
	G *gp = arg;
	M *mp = enter_g0(gp);
	dropg(mp, gp, Grunnable);
	runqput(mp->p, gp, false);
	return schedule(mp);
}

void gort__goyield(void)
{
	if (gort__traceon())
		gort__trace_gopreempt(gort__getg(), true); /* as Go's goyield records it */
	mcall(goyield_m, false);
}

/*
 * sync_canspin: may sync.Mutex spin for a lock instead of parking?  Only a
 * few times, on a multicore machine, while some other P is running (the
 * holder, with luck) and our own queue is empty: spinning bets that the
 * holder lets go sooner than a park and wake would take.
 */
bool gort__sync_canspin(int iter)
{
	if (iter >= 4 || gort__ncpu <= 1)
		return false;
	if (atomic_load(&gomaxprocs) <= atomic_load(&sched.npidle) + atomic_load(&sched.nmspinning) + 1)
		return false;
	return runqempty(gort__getm()->p);
}

void gort__sync_dospin(void)
{
	for (int i = 0; i < 30; i++)
		__builtin_ia32_pause();
}
