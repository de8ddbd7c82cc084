/*
 * proc_m.c - Ms, the OS threads that run goroutines (Go's startm, stopm,
 * handoffp, wakep, newm, mstart, mexit, lockOSThread's stoplockedm and
 * startlockedm, and checkdead, in proc.go).
 *
 *   idle Ms     sched.midle, under sched.lock: an M with no P parks on its
 *               note (stopm) until startm hands it one in m->nextp
 *   spinning    an M looking for work to steal holds one count of
 *               sched.nmspinning: becomespinning takes it, stopspinning
 *               gives it back.  wakep and handoffp claim a count for an M
 *               they are about to start (claimspinning), which startm hands
 *               to that M, or gives back when no P is idle after all
 *   start, exit newm makes a thread; mstart runs the scheduler on it; mexit
 *               ends it after its locked goroutine exited
 *   locked Gs   an M wired to a G sleeps while its G cannot run
 *   checkdead   the last M going idle asks: can anything ever run again?
 *
 * It calls the Ps (proc_p.c) and schedule (proc.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "det.h"
#include "proc.h"

M m0;
M *allm;                    /* every M; guarded by sched.lock */
static int64_t nmfreed;     /* Ms that have exited; guarded by sched.lock */
static uint64_t randseed;   /* every M's generator starts from it */

/* ---- the idle list ----------------------------------------------------------- */

int64_t mcount(void)
{
	return sched.mnext - nmfreed;
}

/* mput puts mp on the idle list (holds sched.lock); the last M to go idle
 * runs the deadlock check. */
static void mput(M *mp)
{
	assert_lock_held(&sched.lock);
	mp->schedlink = sched.midle;
	sched.midle = mp;
	sched.nmidle++;
	checkdead();
}

static M *mget(void)
{
	assert_lock_held(&sched.lock);
	M *mp = sched.midle;
	if (mp != NULL) {
		sched.midle = mp->schedlink;
		sched.nmidle--;
	}
	return mp;
}

static void mpark(M *mp)
{
	gort__notesleep(&mp->park);
	gort__noteclear(&mp->park);
}

/* stopm puts mp to sleep until startm hands it a P (in mp->nextp). */
void stopm(M *mp)
{
	assert_on_g0(mp);
	gort__assert(mp->p == NULL, "stopm holding p");
	gort__assert(!mp->spinning, "stopm spinning");
	gort__lock(&sched.lock);
	mput(mp);
	gort__unlock(&sched.lock);
	mpark(mp);
	acquirep(mp, mp->nextp);
	mp->nextp = NULL;
}

/* ---- spinning ---------------------------------------------------------------- */

/*
 * sched.nmspinning counts the Ms looking for work, and changes only here:
 *   becomespinning, stopspinning   an M starts or stops looking;
 *   claimspinning                  wakep and handoffp reserve the count for
 *                                  an M they are about to start - only
 *                                  while no M spins (0 -> 1), so that one
 *                                  wakeup at a time is in flight.  startm
 *                                  hands the claim to the M it starts
 *                                  (m->spinning, set before the M runs), or
 *                                  drops it (dropspinclaim) when no P is
 *                                  idle after all.
 * An idle M never spins (stopm checks), so a world with every M idle has
 * none spinning and no claim pending (checkdead checks).
 */
static void nmspinning_add(int32_t delta)
{
	int32_t n = atomic_fetch_add(&sched.nmspinning, delta) + delta;
	gort__assert(n >= 0, "negative nmspinning");
}

/* becomespinning counts mp among the Ms looking for work (Go's
 * m.becomeSpinning). */
void becomespinning(M *mp)
{
	gort__assert(!mp->spinning, "becomespinning: already spinning");
	mp->spinning = true;
	nmspinning_add(1);
}

/* stopspinning: mp found work, or gives up looking. */
void stopspinning(M *mp)
{
	gort__assert(mp->spinning, "stopspinning: not a spinning m");
	mp->spinning = false;
	nmspinning_add(-1);
}

/* claimspinning reserves the spinning count for an M about to be started,
 * if no M spins: true means the caller must pass it to startm. */
static bool claimspinning(void)
{
	int32_t zero = 0;
	return atomic_compare_exchange_strong(&sched.nmspinning, &zero, 1);
}

/* dropspinclaim gives back a claim that found no M to start. */
static void dropspinclaim(void)
{
	nmspinning_add(-1);
}

/* ---- starting Ms for Ps ------------------------------------------------------ */

/*
 * startm runs pp (an idle P if NULL) on an idle M, or on a new one.  With
 * spinning, the caller claimed the spinning count (claimspinning) and the
 * M started gets it; with no idle P, nothing starts and the claim is
 * dropped.
 */
void startm(P *pp, bool spinning)
{
	gort__lock(&sched.lock);
	if (pp == NULL) {
		pp = pidleget();
		if (pp == NULL) {
			gort__unlock(&sched.lock);
			if (spinning)
				dropspinclaim();
			return;
		}
	}
	M *nmp = mget();
	gort__unlock(&sched.lock);
	if (nmp == NULL) {
		newm(pp, spinning);
		return;
	}
	gort__assert(!nmp->spinning, "startm: m is spinning");
	gort__assert(nmp->nextp == NULL, "startm: m has p");
	gort__assert(!spinning || runqempty(pp), "startm: p has runnable gs");
	nmp->spinning = spinning;
	nmp->nextp = pp;
	gort__notewakeup(&nmp->park);
}

/* wakep_slow: wakep (proc.h) saw an idle P and no spinning M. */
void wakep_slow(void)
{
	if (claimspinning())
		startm(NULL, true);
}

/*
 * handoffp finds a home for the P of an M that is about to block (or
 * exit): an M to run its work, or a spinning M if nobody looks for work,
 * or the stopper if the world is stopping, or else the idle list.
 */
void handoffp(P *pp)
{
	/* (deterministic mode keeps the runnable Gs in its pool: det.h) */
	if (!runqempty(pp) || atomic_load(&sched.runqsize) != 0 || (gort__det() && gort__det_runnable())) {
		startm(pp, false);
		return;
	}
	if (atomic_load(&sched.nmspinning) + atomic_load(&sched.npidle) == 0 && claimspinning()) {
		startm(pp, true);
		return;
	}
	gort__lock(&sched.lock);
	if (atomic_load(&sched.gcwaiting)) {
		pstopped(pp);
		gort__unlock(&sched.lock);
		return;
	}
	if (sched.runqsize != 0) {
		gort__unlock(&sched.lock);
		startm(pp, false);
		return;
	}
	/* The last P going idle while goroutines wait on descriptors and no
	 * M polls: an M must take it, to sleep in netpoll for them. */
	if (atomic_load(&sched.npidle) == atomic_load(&gomaxprocs) - 1 &&
	    atomic_load(&sched.lastpoll) != 0 && atomic_load(&gort__netpollWaiters) > 0) {
		gort__unlock(&sched.lock);
		startm(pp, false);
		return;
	}
	pidleput(pp);
	gort__unlock(&sched.lock);
}

/* ---- thread start and exit --------------------------------------------------- */

/* mcommoninit numbers a new M and links it on allm (holds sched.lock). */
void mcommoninit(M *mp, int64_t id)
{
	mp->id = id;
	mp->g0.m = mp;
	mp->g0.goid = 0;
	atomic_store(&mp->g0.atomicstatus, Grunning);
	mp->rand = randseed ^ ((uint64_t)(id + 1) * 0x9e3779b97f4a7c15ull);
	gort__fastrand(mp);
	mp->alllink = allm;
	allm = mp;
}

/* m0init makes the main thread m0, the first M; seed starts every M's
 * generator (GORT_SEED fixes them all). */
void m0init(uint64_t seed)
{
	randseed = seed;
	sched.maxmcount = MAX_MCOUNT;
	gort__lock(&sched.lock);
	mcommoninit(&m0, sched.mnext++);
	gort__unlock(&sched.lock);
}

/* mstart1 is the first function on an M's g0; it returns the first G to run. */
static G *mstart1(void *arg)
{
	M *mp = arg;
	gort__setg(&mp->g0);
	atomic_store_explicit(&mp->tid, gort__gettid(), memory_order_relaxed);
	gort__minit_os();
	gort__minitsignals(mp, mp != &m0);
	gort__pprof_minit(mp);
	if (mp->nextp != NULL) {
		acquirep(mp, mp->nextp);
		mp->nextp = NULL;
	}
	return schedule(mp);
}

/* thread_stack_lo: the low end of the calling thread's stack, for the
 * sanitizers. */
static uintptr_t thread_stack_lo(void)
{
	pthread_attr_t attr;
	void *addr = NULL;
	size_t size = 0;
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		pthread_attr_getstack(&attr, &addr, &size);
		pthread_attr_destroy(&attr);
	}
	return (uintptr_t)addr;
}

/*
 * mstart runs an M on the calling thread.  g0 is the thread's own stack,
 * from a little below this frame: mcall restarts it from that top every
 * time.  The context saved here is where mexit returns to, so that the
 * thread's start function returns normally and the thread ends cleanly.
 */
__attribute__((noinline)) void mstart(M *mp)
{
	uintptr_t top = ((uintptr_t)__builtin_frame_address(0) - 4096) & ~(uintptr_t)15;
	mp->g0_sp = (void *)top;
	mp->g0_lo = thread_stack_lo();
	mp->g0.stack = (stack){mp->g0_lo, top};
#ifdef GORT_TSAN
	mp->g0.tsan_fiber = gort__tsan_curfiber(); /* g0 is the thread itself */
#endif
	gort__mcall(&mp->exit_sp, mp->g0_sp, mstart1, mp);
}

/*
 * Exited Ms wait on freem for sysmon to free them (freems): retake reads
 * a P's M and that M's curg as hints, with no lock, and may hold an M
 * that has just exited.  Freeing it at once made that read a use after
 * free (ThreadSanitizer saw it); sysmon frees them between its rounds,
 * when it holds no hint.  (Go's Ms are the collector's, and sched.freem
 * waits for the thread to be gone.)  Linked through schedlink.
 */
static M *_Atomic freem;

static void *mstart_thread(void *arg)
{
	M *mp = arg;
	mstart(mp);
	/* Back from mexit: this M is gone. */
	gort__pprof_mexit(mp);
	gort__setg(NULL);
	M *old = atomic_load_explicit(&freem, memory_order_relaxed);
	do
		mp->schedlink = old;
	while (!atomic_compare_exchange_weak_explicit(&freem, &old, mp, memory_order_release,
	                                              memory_order_relaxed));
	return NULL;
}

/* freems frees the Ms that exited (sysmon only, between rounds).  Their
 * Ps were released before (mexit), so a hint read after this sees no
 * freed M. */
void freems(void)
{
	if (atomic_load_explicit(&freem, memory_order_relaxed) == NULL)
		return;
	M *mp = atomic_exchange_explicit(&freem, NULL, memory_order_acquire);
	while (mp != NULL) {
		M *next = mp->schedlink;
		free(mp);
		mp = next;
	}
}

/* newm creates an M to run pp, on a new OS thread. */
void newm(P *pp, bool spinning)
{
	M *mp = calloc(1, sizeof(M));
	gort__assert(mp != NULL, "out of memory");
	/* the threadcreate profile's stack: who made this thread (from a
	 * goroutine, unwound; on g0, the scheduler's call alone) - before
	 * mcommoninit puts the M on allm, where the profile reads it */
	G *gp = gort__getg();
	if (gp != NULL && gp != &gp->m->g0) {
		mp->ncreatestk = gort__prof_callers(mp->createstk, 16);
	} else {
		mp->createstk[0] = (uintptr_t)__builtin_return_address(0);
		mp->ncreatestk = 1;
	}
	gort__lock(&sched.lock);
	if (mcount() >= sched.maxmcount) {
		gort__printf("runtime: program exceeds %d-thread limit\n", sched.maxmcount);
		gort__throw("thread exhaustion");
	}
	mcommoninit(mp, sched.mnext++);
	gort__unlock(&sched.lock);
	mp->nextp = pp;
	mp->spinning = spinning;
	gort__newosproc(mstart_thread, mp);
}

/*
 * mexit ends mp after its locked goroutine exited.  Its P is handed off.
 * The main thread cannot end without ending the process, so m0 is wedged
 * instead, asleep for good, as in Go.
 */
void mexit(M *mp)
{
	assert_on_g0(mp);
	handoffp(releasep(mp));
	gort__lock(&sched.lock);
	if (mp == &m0) {
		sched.nmidlelocked++; /* counts as idle for checkdead */
		checkdead();
		gort__unlock(&sched.lock);
		mpark(mp);
		gort__throw("locked m0 woke up");
	}
	for (M **pm = &allm; *pm != NULL; pm = &(*pm)->alllink) {
		if (*pm == mp) {
			*pm = mp->alllink;
			break;
		}
	}
	nmfreed++;
	checkdead();
	gort__unlock(&sched.lock);
	gort__unminitsignals(mp);
	gort__gogo(mp->exit_sp);
}

/* ---- locked goroutines ------------------------------------------------------- */

void incidlelocked(int32_t v)
{
	gort__lock(&sched.lock);
	sched.nmidlelocked += v;
	if (v > 0)
		checkdead();
	gort__unlock(&sched.lock);
}

/* stoplockedm: mp's locked G is not runnable; hand off the P and sleep until
 * startlockedm gives us one with the G runnable again. */
void stoplockedm(M *mp)
{
	gort__assert(mp->lockedg != NULL && mp->lockedg->lockedm == mp, "stoplockedm: inconsistent locking");
	if (mp->p != NULL)
		handoffp(releasep(mp));
	incidlelocked(1);
	mpark(mp);
	gort__assert(gort__readgstatus(mp->lockedg) == Grunnable, "stoplockedm: not runnable");
	acquirep(mp, mp->nextp);
	mp->nextp = NULL;
}

/* startlockedm: we dequeued gp, which is locked to another M: give that M
 * our P and wake it, and stop. */
void startlockedm(M *mp, G *gp)
{
	M *lm = gp->lockedm;
	gort__assert(lm != mp, "startlockedm: locked to me");
	gort__assert(lm->nextp == NULL, "startlockedm: m has p");
	incidlelocked(-1);
	lm->nextp = releasep(mp);
	gort__notewakeup(&lm->park);
	stopm(mp);
}

/* ---- the deadlock detector --------------------------------------------------- */

/*
 * checkdead runs when an M goes idle (holds sched.lock).  If no M is
 * running, no goroutine can ever run again: report Go's deadlock.  A G
 * found runnable then means the scheduler lost a wakeup: a bug, thrown.
 * A goroutine in a system call keeps its M running, and an M waiting in
 * netpoll - for a timer or for I/O - is not idle, so neither lets this
 * fire; sleeping timers are checked below, for the M about to become the
 * poller.
 */
void checkdead(void)
{
	assert_lock_held(&sched.lock);
	/* Go's rule for a library (islibrary): the host program is assumed
	 * running, and may call in at any time.  And for a program whose
	 * foreign threads have called in (cgo's): one may call again -
	 * Go keeps a spare extra M for it, which always counts as running;
	 * gort counts the extra Ms made (cgocall.c). */
	if (gort__islibrary || atomic_load(&extram_count) > 0)
		return;
	int64_t run = mcount() - sched.nmidle - sched.nmidlelocked;
	if (run > 0)
		return;
	if (run < 0) {
		gort__printf("runtime: checkdead: nmidle=%d nmidlelocked=%d mcount=%lld\n", sched.nmidle,
		             sched.nmidlelocked, (long long)mcount());
		gort__throw("checkdead: inconsistent counts");
	}
	gort__assert(atomic_load(&sched.nmspinning) == 0, "checkdead: every M idle, yet one spinning");
	int waiting = 0;
	gort__lock(&allglock);
	size_t n = atomic_load(&allglen);
	for (size_t i = 0; i < n; i++) {
		G *gp = allgs[i];
		uint32_t s = gort__readgstatus(gp);
		if (s == Gwaiting && gort__issystemg(gp)) {
			continue; /* waiting for finalizers: not one the program waits on (Go) */
		} else if (s == Gwaiting) {
			waiting++;
		} else if (s == Grunnable || s == Grunning || s == Gsyscall) {
			gort__printf("runtime: checkdead: find g %lld in status %u\n", (long long)gp->goid, s);
			gort__throw("checkdead: runnable g");
		}
	}
	gort__unlock(&allglock);
	if (waiting == 0) {
		gort__unlock(&sched.lock);
		gort__fatal("no goroutines (main called runtime.Goexit) - deadlock!");
	}
	/* A pending timer will wake someone (an M waiting in netpoll is not
	 * idle, so this is reached only in a race with one going to sleep). */
	for (int32_t i = 0; i < atomic_load(&gomaxprocs); i++)
		if (atomic_load(&allp[i]->timer0when) != 0)
			return;
	gort__unlock(&sched.lock);
	gort__fatal("all goroutines are asleep - deadlock!");
}
