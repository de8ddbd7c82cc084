/*
 * mgcleak.c - leaked goroutines: a collection that finds the goroutines
 * blocked for ever (Go 1.26's goroutineleak profile, from Saioc and
 * Chabbi's proposal, golang/go#74609).
 *
 * A goroutine is live if it is not blocked on a concurrency primitive, or
 * if a primitive it waits on is reachable from a live goroutine - which
 * may yet use it to wake it.  Reachability is what the mark computes, so
 * a leak check is a collection with its roots held back (gcmark, then
 * gcleak_finish, with the world stopped):
 *   1. the candidates: goroutines blocked on a channel (send, receive, nil
 *      channel), a select (with no deadline; select {} too) or a sync
 *      object (Mutex, RWMutex, WaitGroup, Cond), not the finalizer
 *      goroutine, with no pending timer that will wake them
 *      (gcleak_prepare, gcleak_holdback);
 *   2. mark from every root but the candidates' stacks and G fields;
 *   3. a candidate waiting on an object now marked - or on one outside
 *      the heap: a malloc'd channel, a mutex in a global, on a stack or in
 *      malloc'd memory, which the collector cannot judge and so counts as
 *      reachable - is live: its stack is scanned and the mark drained;
 *   4. repeat 3 until a pass finds none (the fixed point: a chain of
 *      goroutines, each holding the next one's channel, resolves one link
 *      a pass);
 *   5. the candidates left are leaked: flagged (G.leaked - the "(leaked)"
 *      of the goroutine headers) and counted, and their stacks marked at
 *      last, so the cycle frees exactly what an ordinary one would.
 *
 * What a goroutine waits on is its sudogs (gp->waiting: a select's cases,
 * or the one of a channel operation or a semaphore wait), each naming a
 * channel (sudog.c) or a semaphore's address (sudog.addr, inside the sync
 * object).  Those sudogs live on the goroutine's stack, and the channels'
 * wait queues and the semaphore table point at them, not into the heap:
 * nothing the runtime keeps makes a primitive reachable by itself, which
 * is what Go has to mask pointers for.
 *
 * Sound, as the proposal's algorithm: a goroutine reported as leaked can
 * never be woken - as long as every reference to its primitives is one
 * the collector sees (gort.h: pointers in malloc'd memory, thread-local
 * variables or foreign threads' stacks are not).  Not complete: a
 * primitive reachable from a global or from a live goroutine that will
 * never use it again keeps its waiters "live"; and a conservative word
 * that happens to look like its address does too.
 */
#include <stdlib.h>
#include <string.h>

#include "mheap.h"
#include "proc.h"
#include "timer.h"

bool gort__gcleak_active;

enum {
	LEAK_NONE = 0,
	LEAK_TIMERWOKEN, /* a pending timer will ready it (a sleep, a select's deadline) */
	LEAK_HELD,       /* a candidate: its stack is not a root (yet) */
	LEAK_LIVE,       /* held, then found waiting on something reachable */
};

static struct {
	G **held;        /* the candidates, the live ones first once found (finish) */
	size_t n, cap;
	_Atomic int32_t last; /* leaked goroutines found by the last check */
	gort_mutex mu;   /* one leak check at a time (a goroutine mutex: it stops the world) */
} leak = {.mu = GORT_MUTEX_INIT};

static void timerwoken(G *gp, void *ctx)
{
	(void)ctx;
	gp->leakmark = LEAK_TIMERWOKEN;
}

/* gcleak_prepare: before gcmark lists its roots (it holds allglock) -
 * every mark cleared, then the goroutines a timer will wake marked so. */
void gort__gcleak_prepare(void)
{
	leak.n = 0;
	size_t n = atomic_load(&allglen);
	for (size_t i = 0; i < n; i++)
		allgs[i]->leakmark = LEAK_NONE;
	int32_t procs = atomic_load(&gomaxprocs);
	for (int32_t i = 0; i < procs; i++)
		gort__timer_wakers(allp[i], timerwoken, NULL);
}

/* blockable: does reason block on a primitive Go's leak check judges?
 * *objects: and is the primitive named by the goroutine's sudogs (not: a
 * nil channel, select {} - waits on nothing, so never woken). */
static bool blockable(uint8_t reason, bool *objects)
{
	switch (reason) {
	case waitReasonChanReceiveNilChan:
	case waitReasonChanSendNilChan:
	case waitReasonSelectNoCases:
		*objects = false;
		return true;
	case waitReasonChanReceive:
	case waitReasonChanSend:
	case waitReasonSelect:
	case waitReasonSyncMutexLock:
	case waitReasonSyncRWMutexRLock:
	case waitReasonSyncRWMutexLock:
	case waitReasonSyncWaitGroupWait:
	case waitReasonSyncCondWait:
		*objects = true;
		return true;
	default: /* sleep, I/O, the runtime's own waits: something else wakes them */
		return false;
	}
}

/* gcleak_holdback: is gp a candidate?  If so it is listed, and gcmark
 * leaves its stack out of the roots. */
bool gort__gcleak_holdback(G *gp)
{
	bool objects;
	if (gort__readgstatus(gp) != Gwaiting || gort__issystemg(gp) || gp->leakmark == LEAK_TIMERWOKEN ||
	    !blockable(gp->waitreason, &objects))
		return false;
	if (objects && gp->waiting == NULL)
		return false; /* a wait whose object is not recorded: cannot be judged */
	if (leak.n == leak.cap) {
		leak.cap = leak.cap ? 2 * leak.cap : 256;
		leak.held = realloc(leak.held, leak.cap * sizeof *leak.held);
		if (leak.held == NULL)
			gort__throw("runtime: out of memory listing the leak check's goroutines");
	}
	leak.held[leak.n++] = gp;
	gp->leakmark = LEAK_HELD;
	return true;
}

/* waits_on_reachable: is a primitive gp waits on marked, or outside the
 * heap (gort__ismarked's answer there: never collected, so reachable)? */
static bool waits_on_reachable(G *gp)
{
	for (sudog *sg = gp->waiting; sg != NULL; sg = sg->waitlink) {
		uintptr_t obj = sg->c != NULL ? (uintptr_t)sg->c : (uintptr_t)sg->addr;
		if (obj != 0 && gort__ismarked(obj))
			return true;
	}
	return false;
}

/* gcleak_finish: steps 3 to 5 of the top, after gcmark's drain (the
 * world stopped, the helpers done: serial). */
void gort__gcleak_finish(void)
{
	gort__assert(gort__gcleak_active, "gcleak_finish outside a leak check");
	size_t live = 0; /* held[0, live): found live */
	for (bool more = true; more;) {
		more = false;
		for (size_t i = live; i < leak.n; i++) {
			G *gp = leak.held[i];
			if (!waits_on_reachable(gp))
				continue;
			gp->leakmark = LEAK_LIVE;
			gort__scanstack_serial(gp);
			leak.held[i] = leak.held[live];
			leak.held[live++] = gp;
			more = true;
		}
		if (more)
			gort__markdrain_serial();
	}
	gort__lock(&allglock);
	size_t n = atomic_load(&allglen);
	for (size_t i = 0; i < n; i++)
		allgs[i]->leaked = false;
	gort__unlock(&allglock);
	for (size_t i = live; i < leak.n; i++) {
		G *gp = leak.held[i];
		gort__assert(gp->leakmark == LEAK_HELD, "gcleak: a leaked goroutine was found live");
		gp->leaked = true;
		gort__scanstack_serial(gp); /* what it holds is not garbage: nothing may free it */
	}
	gort__markdrain_serial();
	atomic_store(&leak.last, (int32_t)(leak.n - live));
	leak.n = 0;
	gort__gcleak_active = false;
}

/* ---- the API ------------------------------------------------------------------ */

int gort_goroutine_leaks(void)
{
	gort__current_goroutine("gort_goroutine_leaks");
	gort_mutex_lock(&leak.mu);
	gort__gc_start_leak();
	while (gort__sweepone()) /* as gort_gc: the cycle swept when it returns */
		;
	int n = atomic_load(&leak.last);
	gort_mutex_unlock(&leak.mu);
	return n;
}

/* gcleak_count: what the last check found (Profile.Count of "goroutineleak"). */
int gort__gcleak_count(void)
{
	return atomic_load(&leak.last);
}

/*
 * gcleak_exit: GODEBUG=goroutineleak=1, as main returns - a leak check,
 * then each leaked goroutine's traceback on stderr, as a dump prints it
 * ("goroutine 7 [chan receive (leaked)]:"); nothing if there is none.
 */
void gort__gcleak_exit(void)
{
	if (gort_goroutine_leaks() == 0)
		return;
	gort__stoptheworld();
	gort__lock(&allglock);
	size_t n = atomic_load(&allglen), k = 0;
	G **gs = malloc(n * sizeof *gs);
	for (size_t i = 0; gs != NULL && i < n; i++)
		if (allgs[i]->leaked && gort__readgstatus(allgs[i]) == Gwaiting)
			gs[k++] = allgs[i];
	gort__unlock(&allglock);
	for (size_t i = 0; i < k; i++) { /* traceback may look goroutines up: no lock held */
		gort__printf("\n");
		gort__goroutineheader(gs[i]);
		gort__traceback(gs[i]);
	}
	free(gs);
	gort__starttheworld();
}
