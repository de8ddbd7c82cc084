/*
 * netpoll.c - goroutines waiting for file descriptors (Go's netpoll.go).
 *
 * Every descriptor the net API polls has a pollDesc.  For each direction
 * it holds one word, rg (read) or wg (write), which is one of:
 *
 *     pdNil    nothing has happened, nobody waits
 *     pdReady  the descriptor became ready (an edge from epoll), nobody
 *              has consumed that yet
 *     pdWait   a goroutine is about to park on it
 *     G *      that goroutine, parked (waitReasonIOWait)
 *
 * A reader tries its system call first; only on EAGAIN does it call
 * pollwait, which consumes a pdReady or parks.  (Two exceptions park
 * first: a read after one that emptied a stream, with no edge since -
 * read_start, net.c - and gort_fd_wait, which polls the descriptor itself.)  The poller (netpoll, in
 * netpoll_epoll.c) turns each edge into pdReady or hands back the parked
 * G; a deadline timer or a close does the same with an error bit set in
 * info, so the woken goroutine knows why.  All the transitions are CASes
 * on the one word, so an edge can race with the goroutine going to sleep
 * and neither is lost.
 *
 * pollDescs are never freed, only reused (pollcache): an event for a
 * descriptor that was just closed can still be in flight in another M's
 * netpoll, and must land on memory that is still a pollDesc.  fdseq, in
 * the event's tag, tells such a stale event from a live one; the poller
 * compares them and applies the event under pd->evlock, and pollfree moves
 * fdseq on under the same lock, so a stale event is always dropped and
 * never marks a free or reused pollDesc.  Hence the invariant pollalloc
 * asserts: a pollDesc is reused with no waiter and no edge left.
 */
#include <stdlib.h>

#include "netpoll.h"

enum {
	pdNil = 0,
	pdReady = 1,
	pdWait = 2,
};

/* Goroutines parked in pollwait: while there are some, the last M to go
 * idle waits in netpoll for them rather than sleeping (sleep_idle, proc.c). */
_Atomic int32_t gort__netpollWaiters;

/* ---- the cache of pollDescs ------------------------------------------------- */

static struct {
	spinlock lock;
	pollDesc *free;
} pollcache;

enum { POLLCACHE_CHUNK = 64 };

static void deadline_fire(timer *t, uint64_t seq, int64_t now);

pollDesc *gort__pollalloc(void)
{
	gort__spinlock(&pollcache.lock);
	if (pollcache.free == NULL) {
		pollDesc *chunk = calloc(POLLCACHE_CHUNK, sizeof *chunk);
		if (chunk == NULL)
			gort__throw("out of memory allocating a pollDesc");
		for (int i = 0; i < POLLCACHE_CHUNK; i++) {
			chunk[i].rt.f = chunk[i].wt.f = deadline_fire;
			chunk[i].rt.aarg = chunk[i].wt.aarg = &chunk[i];
			chunk[i].link = pollcache.free;
			pollcache.free = &chunk[i];
		}
	}
	pollDesc *pd = pollcache.free;
	pollcache.free = pd->link;
	gort__spinunlock(&pollcache.lock);

	/* pollfree left both words pdNil, and stale events cannot touch a
	 * free pollDesc (see the top of this file). */
	gort__assert(atomic_load(&pd->rg) == pdNil && atomic_load(&pd->wg) == pdNil &&
	                 !atomic_load(&pd->hup),
	             "pollalloc: descriptor still has a waiter");
	atomic_store(&pd->info, 0);
	pd->any = false;
	return pd;
}

/*
 * pollfree returns pd to the cache.  The descriptor is already out of the
 * poller and nobody waits on it; its deadline timers are stopped so that
 * none fires into the next user of pd.  Moving fdseq on, under evlock,
 * makes every event still in flight for it stale: a poller applying one
 * now waits for the lock, then sees the new fdseq and drops it.
 */
void gort__pollfree(pollDesc *pd)
{
	gort__pollsetdeadline(pd, 'r' + 'w', 0);
	gort__spinlock(&pd->evlock);
	gort__assert(atomic_load(&pd->rg) <= pdReady && atomic_load(&pd->wg) <= pdReady,
	             "pollfree: descriptor still has a waiter");
	atomic_store(&pd->rg, pdNil);
	atomic_store(&pd->wg, pdNil);
	atomic_store(&pd->hup, false);
	atomic_fetch_add(&pd->fdseq, 1);
	gort__spinunlock(&pd->evlock);
	gort__spinlock(&pollcache.lock);
	pd->link = pollcache.free;
	pollcache.free = pd;
	gort__spinunlock(&pollcache.lock);
}

/* ---- blocking and unblocking ------------------------------------------------ */

static _Atomic uintptr_t *gpp_of(pollDesc *pd, int mode)
{
	gort__assert(mode == 'r' || mode == 'w', "netpoll: bad mode");
	return mode == 'r' ? &pd->rg : &pd->wg;
}

/* checkerr: why a wait in this direction must not (or no longer) block. */
static int checkerr(pollDesc *pd, int mode)
{
	uint32_t info = atomic_load(&pd->info);
	if (info & pollClosing)
		return pollErrClosing;
	if (info & (mode == 'r' ? pollInterruptRead : pollInterruptWrite))
		return pollErrInterrupt;
	if (info & (mode == 'r' ? pollExpiredRead : pollExpiredWrite))
		return pollErrTimeout;
	return pollNoError;
}

/* On g0, after gp is marked waiting: publish it in the word, unless an
 * edge or a deadline got there first (then the word is no longer pdWait
 * and gp runs on at once). */
static bool blockcommit(G *gp, void *arg)
{
	_Atomic uintptr_t *gpp = arg;
	uintptr_t expect = pdWait;
	if (!atomic_compare_exchange_strong(gpp, &expect, (uintptr_t)gp))
		return false;
	atomic_fetch_add(&gort__netpollWaiters, 1);
	return true;
}

/*
 * netpollblock returns true if the descriptor became ready in this
 * direction, false if the goroutine was woken for another reason (a
 * deadline or a close: see checkerr).  Steps:
 *   1. consume a pdReady if there is one (no parking at all), else claim
 *      the word with pdWait;
 *   2. unless an error is already pending, park: blockcommit swaps pdWait
 *      for the G, and netpollunblock swaps it back out to wake it;
 *   3. whatever woke us left pdReady (an edge) or pdNil (anything else).
 */
static bool netpollblock(pollDesc *pd, int mode)
{
	_Atomic uintptr_t *gpp = gpp_of(pd, mode);
	for (;;) {
		uintptr_t old = pdReady;
		if (atomic_compare_exchange_strong(gpp, &old, pdNil))
			return true;
		if (old == pdNil && atomic_compare_exchange_strong(gpp, &old, pdWait))
			break;
		if (old != pdNil && old != pdReady)
			gort__fatal("net: two goroutines wait on one descriptor in the same direction");
	}
	if (checkerr(pd, mode) == pollNoError)
		gort__gopark(blockcommit, gpp, waitReasonIOWait);
	uintptr_t old = atomic_exchange(gpp, pdNil);
	gort__assert(old <= pdWait, "netpollblock: corrupted state");
	return old == pdReady;
}

/*
 * netpollunblock moves the word on: to pdReady for an edge (ioready), to
 * pdNil for a deadline or close.  Returns the parked G it displaced, for
 * the caller to ready, or NULL.
 */
G *gort__netpollunblock(pollDesc *pd, int mode, bool ioready)
{
	_Atomic uintptr_t *gpp = gpp_of(pd, mode);
	for (;;) {
		uintptr_t old = atomic_load(gpp);
		if (old == pdReady)
			return NULL;
		if (old == pdNil && !ioready)
			return NULL;
		uintptr_t new = ioready ? pdReady : pdNil;
		if (!atomic_compare_exchange_weak(gpp, &old, new))
			continue;
		if (old == pdNil || old == pdWait)
			return NULL;
		atomic_fetch_sub(&gort__netpollWaiters, 1);
		return (G *)old;
	}
}

/* ---- the operations the net API uses (Go's poll_runtime_poll*) -------------- */

/* pollreset starts an operation: forget an edge already consumed by the
 * system call that is about to run.  (One goroutine per direction: the
 * net API serializes them.) */
int gort__pollreset(pollDesc *pd, int mode)
{
	int err = checkerr(pd, mode);
	if (err != pollNoError)
		return err;
	uintptr_t ready = pdReady;
	atomic_compare_exchange_strong(gpp_of(pd, mode), &ready, pdNil);
	return pollNoError;
}

/*
 * pollquiet: no edge in this direction since the last pollreset or
 * pollwait consumed one (the word is pdNil), and never a hang-up or error.
 * Those are states, not arrivals: a read that consumed the end of stream
 * (or returned data before a pending error) leaves no edge to come, so
 * their event, once seen, must keep readers trying the call.  (The flag is
 * set before the event's edge is stored, so a reader whose reset took that
 * edge sees the flag too.)
 */
bool gort__pollquiet(pollDesc *pd, int mode)
{
	return atomic_load(gpp_of(pd, mode)) == pdNil && !atomic_load(&pd->hup);
}

/* pollwait blocks until the descriptor is ready in this direction (after
 * its system call said EAGAIN), or returns why it cannot be. */
int gort__pollwait(pollDesc *pd, int mode)
{
	int err = checkerr(pd, mode);
	if (err != pollNoError)
		return err;
	while (!netpollblock(pd, mode)) {
		err = checkerr(pd, mode);
		if (err != pollNoError)
			return err;
		/* Woken with nothing to report (a deadline that was then moved
		 * on): wait again. */
	}
	return pollNoError;
}

static void wake(G *gp)
{
	if (gp != NULL)
		gort__goready(gp);
}

/* pollevict: the descriptor is being closed; wake both directions with
 * pollErrClosing.  Later operations fail at once. */
void gort__pollevict(pollDesc *pd)
{
	atomic_fetch_or(&pd->info, pollClosing);
	wake(gort__netpollunblock(pd, 'r', false));
	wake(gort__netpollunblock(pd, 'w', false));
}

/* ---- deadlines -------------------------------------------------------------- */

static uint32_t expired_bit(timer *t, pollDesc *pd)
{
	return t == &pd->rt ? pollExpiredRead : pollExpiredWrite;
}

/* A deadline timer fired (on g0, with a P): mark the direction expired and
 * wake its waiter, unless a newer SetDeadline or a close moved seq on. */
static void deadline_fire(timer *t, uint64_t seq, int64_t now)
{
	pollDesc *pd = t->aarg; /* set by pollalloc */
	int mode = t == &pd->rt ? 'r' : 'w';
	G *gp = NULL;
	gort__timer_lock(t);
	if (atomic_load(&t->seq) == seq) {
		t->armed = false;
		atomic_fetch_or(&pd->info, expired_bit(t, pd));
		gp = gort__netpollunblock(pd, mode, false);
	}
	gort__timer_unlock(t);
	atomic_fetch_sub(&t->inflight, 1);
	wake(gp);
}

/* setdeadline1 sets one direction's deadline (holds nothing; takes t->mu).
 * Returns the G to wake if the deadline is already past. */
static G *setdeadline1(pollDesc *pd, int mode, int64_t d)
{
	timer *t = mode == 'r' ? &pd->rt : &pd->wt;
	uint32_t bit = expired_bit(t, pd);
	G *gp = NULL;
	gort__timer_lock(t);
	gort__modtimer(t, 0);
	if (d == 0) {
		atomic_fetch_and(&pd->info, ~bit);
	} else if (d <= gort__nanotime()) {
		atomic_fetch_or(&pd->info, bit);
		gp = gort__netpollunblock(pd, mode, false);
	} else {
		atomic_fetch_and(&pd->info, ~bit);
		gort__modtimer(t, d);
	}
	gort__timer_unlock(t);
	return gp;
}

/*
 * pollsetdeadline sets the deadline of mode 'r', 'w' or both ('r'+'w'):
 * d is a nanotime, 0 for none; one already past expires the direction at
 * once, waking its waiter (Go's poll_runtime_pollSetDeadline).
 */
void gort__pollsetdeadline(pollDesc *pd, int mode, int64_t d)
{
	if (mode == 'r' || mode == 'r' + 'w')
		wake(setdeadline1(pd, 'r', d));
	if (mode == 'w' || mode == 'r' + 'w')
		wake(setdeadline1(pd, 'w', d));
}

/* ---- interrupts (the context-aware calls of net.c) ---------------------------- */

/*
 * pollinterrupt, on: the operation under way in this direction must
 * return - its context is done - so make it fail with pollErrInterrupt and
 * wake it if parked; off: the operation is over, clear that.  Unlike an
 * expired deadline, it leaves the deadline the program set alone.
 */
void gort__pollinterrupt(pollDesc *pd, int mode, bool on)
{
	uint32_t bit = mode == 'r' ? pollInterruptRead : pollInterruptWrite;
	if (!on) {
		atomic_fetch_and(&pd->info, ~bit);
		return;
	}
	atomic_fetch_or(&pd->info, bit);
	wake(gort__netpollunblock(pd, mode, false));
}
