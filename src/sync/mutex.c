/*
 * mutex.c - sync.Mutex (Go's sync/mutex.go).
 *
 * state packs the lock bit, the "woken" bit (a waiter is awake and
 * competing, so Unlock need not wake another), the "starving" bit and the
 * number of waiters above them.  Two modes:
 *   normal:   a woken waiter competes with newly arriving goroutines, which
 *             usually win (they are already running); throughput is best.
 *   starving: once a waiter has waited over 1 ms, Unlock hands the mutex
 *             straight to the first waiter, and newcomers queue at the back.
 *             The mode ends when the last waiter, or one that waited under
 *             1 ms, gets the lock.
 * Lock and Unlock without contention are one atomic instruction each,
 * inline in gort/impl.h, and never enter the runtime.
 */
#include "../det.h"
#include "../runtime2.h"

enum {
	mutexLocked = GORT__MUTEX_LOCKED, /* the inline fast paths' bit */
	mutexWoken = 2,
	mutexStarving = 4,
	mutexWaiterShift = 3,
	starvationThresholdNs = 1000000,
};

static int32_t load_state(gort_mutex *m)
{
	return __atomic_load_n(&m->state, __ATOMIC_RELAXED);
}

static bool cas_state(gort_mutex *m, int32_t old, int32_t new)
{
	return __atomic_compare_exchange_n(&m->state, &old, new, false, __ATOMIC_ACQ_REL,
	                                   __ATOMIC_RELAXED);
}

/*
 * lockslow: the mutex was not free (gort_mutex_lock, inline in gort/impl.h,
 * tried the CAS from 0).  Loop:
 *   1. locked, not starving, and spinning makes sense: spin a little, and
 *      set "woken" so that Unlock does not wake anyone while we are here;
 *   2. compute the new state: take the lock if it is not starving, else
 *      count ourselves a waiter; turn starving on if we have starved;
 *   3. CAS it in.  If that took the lock, done.  Otherwise park on the
 *      semaphore (at the front if we have waited before), and when woken:
 *      in starving mode the lock was handed to us - fix up the count and
 *      maybe leave starving mode; in normal mode compete again.
 */
void gort__mutex_lockslow(gort_mutex *m)
{
	int64_t wait_start = 0;
	bool starving = false, awoke = false;
	int iter = 0;
	if (gort__det()) /* every lock is a scheduling point; the fast path sent us here */
		gort__det_point(gort__current_goroutine("gort_mutex_lock"));
	int32_t old = load_state(m);
	for (;;) {
		if ((old & (mutexLocked | mutexStarving)) == mutexLocked && gort__sync_canspin(iter)) {
			if (!awoke && !(old & mutexWoken) && (old >> mutexWaiterShift) != 0 &&
			    cas_state(m, old, old | mutexWoken))
				awoke = true;
			gort__sync_dospin();
			iter++;
			old = load_state(m);
			continue;
		}
		int32_t new = old;
		if (!(old & mutexStarving))
			new |= mutexLocked; /* starving: newcomers do not grab it */
		if (old & (mutexLocked | mutexStarving))
			new += 1 << mutexWaiterShift;
		if (starving && (old & mutexLocked))
			new |= mutexStarving;
		if (awoke) {
			if (!(new & mutexWoken))
				gort__throw("sync: inconsistent mutex state");
			new &= ~mutexWoken;
		}
		if (!cas_state(m, old, new)) {
			/* Lost a race for the state word: let the winner's change
			 * land before reading it again, rather than fighting over
			 * the cache line. */
			__builtin_ia32_pause();
			old = load_state(m);
			continue;
		}
		if (!(old & (mutexLocked | mutexStarving)))
			return; /* the CAS took the lock */
		gort__assert(new >= 0, "sync: mutex waiter count overflowed");

		bool lifo = wait_start != 0;
		if (wait_start == 0)
			wait_start = gort__nanotime();
		gort__semacquire(&m->sema, lifo, waitReasonSyncMutexLock);
		starving = starving || gort__nanotime() - wait_start > starvationThresholdNs;
		old = load_state(m);
		if (old & mutexStarving) {
			/* Handed to us: the lock bit is ours to set, and we are no
			 * longer a waiter. */
			if ((old & (mutexLocked | mutexWoken)) || (old >> mutexWaiterShift) == 0)
				gort__throw("sync: inconsistent mutex state");
			int32_t delta = mutexLocked - (1 << mutexWaiterShift);
			if (!starving || (old >> mutexWaiterShift) == 1)
				delta -= mutexStarving; /* the last waiter, or not starved */
			__atomic_fetch_add(&m->state, delta, __ATOMIC_ACQ_REL);
			return;
		}
		awoke = true;
		iter = 0;
	}
}

bool gort_mutex_trylock(gort_mutex *m)
{
	int32_t old = load_state(m);
	if (old & (mutexLocked | mutexStarving))
		return false;
	return cas_state(m, old, old | mutexLocked);
}

/*
 * unlockslow: gort_mutex_unlock (inline in gort/impl.h) dropped the lock bit
 * and found waiters or flags left.  Normal mode: wake one waiter,
 * unless none waits, or the lock was already retaken, or a waiter is
 * already awake, or starving began.  Starving mode: hand the lock to the
 * first waiter and let it run now.
 */
void gort__mutex_unlockslow(gort_mutex *m, int32_t new)
{
	if (!((new + mutexLocked) & mutexLocked))
		gort__fatal("sync: unlock of unlocked mutex");
	if (new & mutexStarving) {
		/* starving is set by a counted waiter, and cleared by the last */
		gort__assert((new >> mutexWaiterShift) > 0, "sync: mutex starving with no waiter");
		gort__semrelease(&m->sema, true);
		return;
	}
	int32_t old = new;
	for (;;) {
		if ((old >> mutexWaiterShift) == 0 || (old & (mutexLocked | mutexWoken | mutexStarving)))
			return;
		new = (old - (1 << mutexWaiterShift)) | mutexWoken;
		if (cas_state(m, old, new)) {
			gort__semrelease(&m->sema, false);
			return;
		}
		old = load_state(m);
	}
}
