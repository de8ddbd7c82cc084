/*
 * proc_p.c - Ps, the right to run goroutines, and stopping the world (Go's
 * acquirep, releasep, pidleput, pidleget, procresize, stopTheWorld and
 * startTheWorld in proc.go).
 *
 *   allp        the Ps; allp[0..gomaxprocs) are in use.  An M runs Go code
 *               only while it holds one (acquirep); a P without an M waits
 *               on sched.pidle
 *   procresize  GOMAXPROCS changes, with the world stopped: Ps made,
 *               revived or retired (pdestroy), their work passed on
 *   the world   stoptheworld takes every P - idle ones at once, running
 *               ones as their Ms next pass through the scheduler (gcstopm),
 *               ones in system calls from under them; starttheworld hands
 *               them out again
 *
 * It calls the run queues (proc_runq.c), Ms (proc_m.c), timers and stacks
 * for a retired P's leftovers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"
#include "timer.h"

/* allp[0..gomaxprocs) are the Ps in use.  Read with the world running only by
 * Ms that hold a P (procresize runs with the world stopped), or through a
 * snapshot taken while holding one. */
P **_Atomic gort__allp;
static int32_t allpcap;
/* The arrays allp outgrew: never freed (see procresize), but kept here so
 * that they stay reachable, not leaked (LeakSanitizer).  The capacity at
 * least doubles each time, so 32 slots outlast any int32_t count. */
static P **retired_allp[32];
static int nretired_allp;
_Atomic int32_t gort__gomaxprocs;
static mutex worldlock;      /* one stop-the-world at a time */

/* ---- Ps ---------------------------------------------------------------------- */

void acquirep(M *mp, P *pp)
{
	gort__assert(mp->p == NULL, "acquirep: already in go");
	gort__assert(pp->m == NULL && atomic_load(&pp->status) == Pidle, "acquirep: invalid p state");
	mp->p = pp;
	atomic_store_explicit(&pp->m, mp, memory_order_relaxed);
	atomic_store(&pp->status, Prunning);
	if (gort__traceon())
		gort__trace_procstart(pp, mp);
}

P *releasep(M *mp)
{
	P *pp = mp->p;
	gort__assert(pp != NULL, "releasep: no p");
	gort__assert(pp->m == mp && atomic_load(&pp->status) == Prunning, "releasep: invalid p state");
	if (gort__traceon())
		gort__trace_procstop(pp);
	mp->p = NULL;
	atomic_store_explicit(&pp->m, NULL, memory_order_relaxed);
	atomic_store(&pp->status, Pidle);
	return pp;
}

/* pidleput puts pp on the idle list (holds sched.lock); it must have no work. */
void pidleput(P *pp)
{
	assert_lock_held(&sched.lock);
	gort__assert(runqempty(pp), "pidleput: P has non-empty run queue");
	pp->link = sched.pidle;
	sched.pidle = pp;
	atomic_fetch_add(&sched.npidle, 1);
}

P *pidleget(void)
{
	assert_lock_held(&sched.lock);
	P *pp = sched.pidle;
	if (pp != NULL) {
		sched.pidle = pp->link;
		atomic_fetch_sub(&sched.npidle, 1);
	}
	return pp;
}

/* pmetrics_fold adds the counters of from to sum. */
void pmetrics_fold(pmetrics *sum, pmetrics *from)
{
	gort__pcount(&sum->nswitch, atomic_load_explicit(&from->nswitch, memory_order_relaxed));
	gort__pcount(&sum->nspawn, atomic_load_explicit(&from->nspawn, memory_order_relaxed));
	gort__pcount(&sum->nsteal, atomic_load_explicit(&from->nsteal, memory_order_relaxed));
	gort__pcount(&sum->nstolen, atomic_load_explicit(&from->nstolen, memory_order_relaxed));
	for (int i = 0; i < SCHEDLAT_BUCKETS; i++)
		gort__pcount(&sum->schedlat[i],
		             atomic_load_explicit(&from->schedlat[i], memory_order_relaxed));
}

static P *newP(int32_t id)
{
	P *pp = aligned_alloc(64, (sizeof(P) + 63) & ~(size_t)63);
	gort__assert(pp != NULL, "out of memory");
	memset(pp, 0, sizeof *pp);
	pp->id = id;
	pp->mcache = gort__allocmcache();
	atomic_store(&pp->status, Pgcstop);
	return pp;
}

/* pdestroy retires a P that GOMAXPROCS no longer covers: its runnable Gs go
 * to the head of the global queue in order, its timers to heir, its caches
 * to the global ones. */
static void pdestroy(P *pp, P *heir)
{
	assert_lock_held(&sched.lock);
	gort__movetimers(heir, pp);
	runqflush(pp);
	gfpurge(pp);
	gort__stackcache_flush(pp);
	gort__mcache_retire(pp);
	gort__slotcache_flush(pp);
	gort__trace_procfree(pp);
	pmetrics_fold(&sched.retired, &pp->metrics);
	memset(&pp->metrics, 0, sizeof pp->metrics);
	atomic_store(&pp->status, Pdead);
}

/*
 * procresize changes the number of Ps to nprocs, with the world stopped
 * (or at start-up) and sched.lock held.  Steps:
 *   1. grow allp and make or revive the Ps it now covers;
 *   2. keep this M's P if it survives, else take allp[0];
 *   3. retire the Ps beyond nprocs (pdestroy);
 *   4. idle every other P with an empty queue; return those with work,
 *      linked through p->link, each with an idle M if there is one.
 */
P *procresize(M *mp, int32_t nprocs)
{
	assert_lock_held(&sched.lock);
	int32_t old = atomic_load(&gomaxprocs);
	gort__assert(nprocs > 0, "procresize: invalid arg");
	if (gort__traceon())
		gort__trace_gomaxprocs(mp->p, nprocs);

	if (nprocs > allpcap) {
		/* The old array is not freed: an M that gave up its P may still
		 * be reading its snapshot of it (checkrunqs_nop). */
		int32_t cap = allpcap ? allpcap : 4;
		while (cap < nprocs)
			cap = cap > INT32_MAX / 2 ? nprocs : cap * 2;
		P **a = calloc((size_t)cap, sizeof(P *));
		gort__assert(a != NULL, "out of memory");
		if (allp != NULL) {
			memcpy(a, allp, (size_t)allpcap * sizeof(P *));
			gort__assert(nretired_allp < 32, "procresize: too many allp arrays");
			retired_allp[nretired_allp++] = allp;
		}
		allp = a;
		allpcap = cap;
	}
	for (int32_t i = old; i < nprocs; i++) {
		if (allp[i] == NULL)
			allp[i] = newP(i);
		atomic_store(&allp[i]->status, Pgcstop);
	}

	if (mp->p != NULL && mp->p->id < nprocs) {
		atomic_store(&mp->p->status, Prunning);
	} else {
		/* Our P is retired: the trace has the caller yield on it and
		 * start again on allp[0], as Go's procresize records it. */
		bool traced = gort__traceon() && mp->p != NULL && mp->curg != NULL;
		if (traced) {
			gort__trace_gosched(mp->curg);
			gort__trace_procstop(mp->p);
		}
		if (mp->p != NULL)
			atomic_store_explicit(&mp->p->m, NULL, memory_order_relaxed);
		mp->p = NULL;
		P *pp = allp[0];
		atomic_store_explicit(&pp->m, NULL, memory_order_relaxed);
		atomic_store(&pp->status, Pidle);
		acquirep(mp, pp);
		if (traced)
			gort__trace_gostart(pp, mp->curg);
	}

	for (int32_t i = nprocs; i < old; i++)
		pdestroy(allp[i], mp->p);
	atomic_store(&gomaxprocs, nprocs);

	P *runnable = NULL;
	for (int32_t i = nprocs - 1; i >= 0; i--) {
		P *pp = allp[i];
		if (mp->p == pp)
			continue;
		atomic_store(&pp->status, Pidle);
		if (runqempty(pp)) {
			pidleput(pp);
		} else {
			M *idle = sched.midle;
			if (idle != NULL) {
				sched.midle = idle->schedlink;
				sched.nmidle--;
			}
			atomic_store_explicit(&pp->m, idle, memory_order_relaxed);
			pp->link = runnable;
			runnable = pp;
		}
	}
	stealorder_reset((uint32_t)nprocs);
	return runnable;
}

/* ---- stop the world ---------------------------------------------------------- */

/* pstopped counts pp as stopped for stoptheworld, waking the stopper when
 * it is the last (holds sched.lock). */
void pstopped(P *pp)
{
	assert_lock_held(&sched.lock);
	atomic_store(&pp->status, Pgcstop);
	if (--sched.stopwait == 0)
		gort__notewakeup(&sched.stopnote);
}

/* gcstopm: the world is stopping; give our P to the stopper and sleep. */
void gcstopm(M *mp)
{
	gort__assert(atomic_load(&sched.gcwaiting), "gcstopm: not waiting for gc");
	if (mp->spinning)
		stopspinning(mp);
	P *pp = releasep(mp);
	gort__lock(&sched.lock);
	pstopped(pp);
	gort__unlock(&sched.lock);
	stopm(mp);
}

/*
 * stoptheworld stops every P but the caller's.  Idle Ps are taken at once;
 * running ones stop when their M next enters the scheduler (findrunnable
 * sees gcwaiting); the last one wakes us.  A goroutine that never yields
 * delays this, unless preemption by signal is on (preempt.c).
 */
void stoptheworld(M *mp)
{
	/* A second stopper must keep passing through the scheduler, or its
	 * P could never be stopped: so it yields instead of sleeping. */
	while (!gort__trylock(&worldlock)) {
		gort_gosched();
		mp = gort__getm();
	}
	gort__lock(&sched.lock);
	sched.stopwait = atomic_load(&gomaxprocs);
	atomic_store(&sched.gcwaiting, 1);
	atomic_store(&mp->p->status, Pgcstop);
	sched.stopwait--;
	/* Ps in system calls stop at once; their calls return to no P. */
	for (int32_t i = 0; i < atomic_load(&gomaxprocs); i++) {
		uint32_t expect = Psyscall;
		if (atomic_compare_exchange_strong(&allp[i]->status, &expect, Pgcstop)) {
			syscall_taken(allp[i]);
			sched.stopwait--;
		}
	}
	P *pp;
	while ((pp = pidleget()) != NULL) {
		atomic_store(&pp->status, Pgcstop);
		sched.stopwait--;
	}
	bool wait = sched.stopwait > 0;
	gort__unlock(&sched.lock);
	if (wait) {
		gort__notesleep(&sched.stopnote);
		gort__noteclear(&sched.stopnote);
	}
	gort__assert(sched.stopwait == 0, "stoptheworld: not stopped");
	for (int32_t i = 0; i < atomic_load(&gomaxprocs); i++)
		gort__assert(atomic_load(&allp[i]->status) == Pgcstop, "stoptheworld: not stopped");
}

/* starttheworld restarts the Ps stopped by stoptheworld - nprocs of them,
 * or as many as before if nprocs is 0 - handing each one with work to an
 * M. */
void starttheworld(M *mp, int32_t nprocs)
{
	gort__lock(&sched.lock);
	P *p1 = procresize(mp, nprocs != 0 ? nprocs : atomic_load(&gomaxprocs));
	atomic_store(&sched.gcwaiting, 0);
	gort__unlock(&sched.lock);
	while (p1 != NULL) {
		P *pp = p1;
		p1 = p1->link;
		M *nmp = pp->m;
		if (nmp != NULL) {
			atomic_store_explicit(&pp->m, NULL, memory_order_relaxed);
			gort__assert(nmp->nextp == NULL, "starttheworld: inconsistent mp->nextp");
			nmp->nextp = pp;
			gort__notewakeup(&nmp->park);
		} else {
			newm(pp, false);
		}
	}
	gort__unlock(&worldlock);
	wakep();
}
