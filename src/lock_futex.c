/*
 * lock_futex.c - the runtime's locks and notes, on Linux futexes
 * (Go's lock_futex.go), and the spinlock for channels.
 *
 * A mutex word is MUTEX_UNLOCKED, MUTEX_LOCKED, or MUTEX_SLEEPING (locked,
 * and some thread may sleep in the kernel waiting for it).  Lock tries an
 * atomic exchange, spins a little (the holder is running on another CPU and
 * sections are short), yields, and only then sleeps.  Unlock wakes a sleeper
 * only if the word said there might be one, so an uncontended pair is two
 * atomic instructions and no system call.
 *
 * These locks block the thread, not the goroutine: hold them only for
 * short sections that never park.
 */
#include <time.h>

#include "runtime2.h"

/* The counting build counts at the call sites, under these names (count.h);
 * here they are the functions themselves. */
#undef gort__lock
#undef gort__trylock

enum {
	MUTEX_UNLOCKED = 0,
	MUTEX_LOCKED = 1,
	MUTEX_SLEEPING = 2,

	ACTIVE_SPIN = 4,      /* rounds of busy spinning */
	ACTIVE_SPIN_CNT = 30, /* pause instructions per round */
	PASSIVE_SPIN = 1,     /* rounds of sched_yield */
	SPIN_POLLS_MAX = 100000, /* spinlock: polls before yielding regardless */
	SPIN_LOST_MAX = 1,    /* spinlock: races lost before backing off */
	BACKOFF_NS = 10000,
};

/*
 * backoff takes a waiter that keeps losing a spinlock off the CPU for a
 * while.  Yielding is not enough: sched_yield returns at once when nothing
 * else wants the CPU, and the waiter goes back to contending.  Asleep, it
 * lets the holder's CPU run the lock's users without cache-line fights -
 * what the futex sleep of Go's runtime lock achieves.
 */
static void backoff(void)
{
	struct timespec ts = {0, BACKOFF_NS};
	nanosleep(&ts, NULL);
}

static inline void procyield(int n)
{
	while (n-- > 0)
		__builtin_ia32_pause();
}

static void set_owner(mutex *l)
{
	G *gp = gort__getg();
	atomic_store_explicit(&l->owner, gp ? gp->m : NULL, memory_order_relaxed);
}

bool gort__trylock(mutex *l)
{
	uint32_t unlocked = MUTEX_UNLOCKED;
	if (!atomic_compare_exchange_strong(&l->key, &unlocked, MUTEX_LOCKED))
		return false;
	set_owner(l);
	return true;
}

void gort__lock(mutex *l)
{
	uint32_t v = atomic_exchange(&l->key, MUTEX_LOCKED);
	if (v == MUTEX_UNLOCKED)
		goto locked;

	/*
	 * v is what we overwrote: if it was SLEEPING we must leave SLEEPING
	 * behind when we finally get the lock, or a sleeper would be lost.
	 */
	uint32_t wait = v;
	for (;;) {
		for (int i = 0; i < ACTIVE_SPIN; i++) {
			for (uint32_t cur = atomic_load(&l->key); cur == MUTEX_UNLOCKED;
			     cur = atomic_load(&l->key)) {
				if (atomic_compare_exchange_weak(&l->key, &cur, wait))
					goto locked;
			}
			procyield(ACTIVE_SPIN_CNT);
		}
		for (int i = 0; i < PASSIVE_SPIN; i++) {
			for (uint32_t cur = atomic_load(&l->key); cur == MUTEX_UNLOCKED;
			     cur = atomic_load(&l->key)) {
				if (atomic_compare_exchange_weak(&l->key, &cur, wait))
					goto locked;
			}
			gort__osyield();
		}
		/* Sleep, announcing ourselves as a possible sleeper. */
		v = atomic_exchange(&l->key, MUTEX_SLEEPING);
		if (v == MUTEX_UNLOCKED)
			goto locked;
		wait = MUTEX_SLEEPING;
		gort__futexsleep(&l->key, MUTEX_SLEEPING);
	}
locked:
	set_owner(l);
}

void gort__unlock(mutex *l)
{
	atomic_store_explicit(&l->owner, NULL, memory_order_relaxed);
	uint32_t v = atomic_exchange(&l->key, MUTEX_UNLOCKED);
	gort__assert(v != MUTEX_UNLOCKED, "unlock of unlocked lock");
	if (v == MUTEX_SLEEPING)
		gort__futexwakeup(&l->key, 1);
}

/*
 * spinlock_slow: wait with plain loads, which leave the line shared until
 * it is released, pausing between them: a waiter that polls too often
 * keeps pulling the line away from the holder.  A waiter that has lost the
 * race for a released lock once - another CPU re-took it at once: it is
 * hammering the lock - or has polled for some milliseconds (the holder's
 * thread may have been descheduled), backs off between polls, leaving that
 * CPU to run the lock's users without cache-line fights.  Measured on
 * chan_mpmc (8 goroutines, GOMAXPROCS=2): spinning alone, 40 ns a message;
 * yielding the thread instead of sleeping, 85 ns; sleeping 10 us after four
 * lost races, 19 ns in some runs and 40-90 in others (the waiter often
 * won before its fourth loss, and the two CPUs went on trading the line);
 * after one, 18-24 ns in most runs.  pingpong, select4, ring and chan_spsc
 * at GOMAXPROCS=2 did not move.
 */
void gort__spinlock_slow(spinlock *l)
{
	long polls = 0;
	for (int lost = 0;; lost++) {
		while (atomic_load_explicit(&l->key, memory_order_relaxed) != 0) {
			if (lost < SPIN_LOST_MAX && polls++ < SPIN_POLLS_MAX)
				procyield(ACTIVE_SPIN_CNT);
			else
				backoff();
		}
		if (atomic_exchange_explicit(&l->key, 1, memory_order_acquire) == 0)
			return;
	}
}

/* A note's key is 0 until notewakeup sets it to 1, once. */

void gort__noteclear(note *n)
{
	atomic_store(&n->key, 0);
}

void gort__notewakeup(note *n)
{
	uint32_t old = atomic_exchange(&n->key, 1);
	gort__assert(old == 0, "notewakeup - double wakeup");
	gort__futexwakeup(&n->key, 1);
}

void gort__notesleep(note *n)
{
	while (atomic_load(&n->key) == 0)
		gort__futexsleep(&n->key, 0);
}
