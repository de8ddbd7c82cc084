/*
 * time.c - timers and sleeping (Go's time.go; the time package's Timer,
 * Ticker, AfterFunc and Sleep).
 *
 * Each P keeps its timers in a 4-ary min-heap by when.  The scheduler runs
 * the due ones: findrunnable checks its own P's heap on every pass
 * (gort__checktimers), and its last steal pass checks the others', so the
 * timers of an idle P still run.  When no M has work, one M sleeps in
 * netpoll until the earliest timer of all (sleep_idle, proc.c), and
 * whoever adds an earlier timer wakes it (wakeNetPoller).  A due timer
 * stays in the heap while the P's local queue is full
 * (gort__timer_may_ready): the heap keeps deadline order, where a spill to
 * the global queue would not.
 *
 * The program's timers (Timer, Ticker, AfterFunc) carry a magic word, as
 * channels do: gort_timer_free marks them freed and quarantines them, so a
 * Stop, Reset, C or second free of a freed timer is a clear fatal error.
 *
 * A timer's function runs on g0 with no lock held.  For Stop and Reset to
 * be final - once they return, no value sent before can be received (Go
 * 1.23) - they bump the timer's seq under its lock and drain its channel,
 * and a firing does nothing unless the seq it was dequeued with is still
 * current.
 *
 * Lock order: a timer's mu, then a P's timerslock (Stop and Reset hold mu
 * while deltimer and addtimer take the heap's lock); never mu under
 * timerslock.  Checked: lock_timers counts the timerslocks this thread
 * holds, and lock_mu finds none.  A timer in a heap records that heap's P
 * and its index, checked wherever the heap code touches it; siftdown ends
 * with the heap order checked above the moved timer, and a GORT_DEBUG
 * build checks the whole heap after each change (check_heap).
 */
#include <stdlib.h>
#include <string.h>

#include "chan.h"
#include "det.h"
#include "timer.h"

/* ---- the locks ---------------------------------------------------------------- */

/* timerslocks this thread holds: lock_mu must find none (the lock order). */
static __thread int32_t ntimerslocks __attribute__((tls_model("initial-exec")));

static void lock_timers(P *pp)
{
	gort__spinlock(&pp->timerslock);
	ntimerslocks++;
}

static void unlock_timers(P *pp)
{
	gort__assert(ntimerslocks > 0, "timer: unlock of a timerslock this thread does not hold");
	ntimerslocks--;
	gort__spinunlock(&pp->timerslock);
}

static void lock_mu(timer *t)
{
	gort__assert(ntimerslocks == 0, "timer: mu taken under a P's timerslock (the order is mu, then timerslock)");
	gort__spinlock(&t->mu);
}

/* timer_lock, timer_unlock: lock_mu for the poller's deadline timers. */
void gort__timer_lock(timer *t)
{
	lock_mu(t);
}

void gort__timer_unlock(timer *t)
{
	gort__spinunlock(&t->mu);
}

/* ---- the 4-ary heap (holds pp->timerslock) -------------------------------- */

/* before: a fires before b - by when, and among timers due at once, in
 * deterministic mode, by a key the seed drew (addtimer); else detkey is 0
 * and the heap's order decides, as in Go. */
static inline bool before(const timer *a, const timer *b)
{
	return a->when < b->when || (a->when == b->when && a->detkey < b->detkey);
}

/* check_parent: slot i's timer fires no earlier than its parent. */
static void check_parent(P *pp, int32_t i)
{
	gort__assert(i == 0 || !before(pp->timers[i], pp->timers[(i - 1) / 4]),
	             "timer: heap order broken (a parent fires later than its child)");
}

/* check_heap (GORT_DEBUG): every timer in pp's heap knows its P and index,
 * and the heap order holds everywhere. */
static void check_heap(P *pp)
{
	assert_lock_held(&pp->timerslock);
	for (int32_t i = 0; i < pp->ntimers; i++) {
		timer *t = pp->timers[i];
		gort__assert(t->idx == i && atomic_load_explicit(&t->pp, memory_order_relaxed) == pp,
		             "timer: a heap slot's timer records another P or index");
		check_parent(pp, i);
	}
	gort__assert(atomic_load(&pp->timer0when) == (pp->ntimers > 0 ? pp->timers[0]->when : 0),
	             "timer: timer0when is not the earliest when");
}

static void heap_set(P *pp, int32_t i, timer *t)
{
	pp->timers[i] = t;
	t->idx = i;
}

/* siftup moves slot i's timer up to its place.  (Checking that the
 * children there fire no earlier reads up to four timers the sift did not
 * touch: cache misses, 8% more instructions in the timers benchmark; that
 * is left to check_heap.) */
static void siftup(P *pp, int32_t i)
{
	timer *t = pp->timers[i];
	while (i > 0) {
		int32_t parent = (i - 1) / 4;
		if (!before(t, pp->timers[parent]))
			break;
		heap_set(pp, i, pp->timers[parent]);
		i = parent;
	}
	heap_set(pp, i, t);
}

/* siftdown moves slot i's timer down to its place.  If it moved, its new
 * parent - the child it swapped with, still in cache - fires no later:
 * checked.  (If not, heap_remove's siftup follows.) */
static void siftdown(P *pp, int32_t i)
{
	timer *t = pp->timers[i];
	int32_t n = pp->ntimers, start = i;
	for (;;) {
		int32_t c = 4 * i + 1, best = -1;
		for (int32_t k = c; k < c + 4 && k < n; k++)
			if (best < 0 || before(pp->timers[k], pp->timers[best]))
				best = k;
		if (best < 0 || !before(pp->timers[best], t))
			break;
		heap_set(pp, i, pp->timers[best]);
		i = best;
	}
	heap_set(pp, i, t);
	if (i != start)
		check_parent(pp, i);
}

static void update_timer0(P *pp)
{
	atomic_store(&pp->timer0when, pp->ntimers > 0 ? pp->timers[0]->when : 0);
}

static void heap_push(P *pp, timer *t)
{
	assert_lock_held(&pp->timerslock);
	gort__assert(atomic_load_explicit(&t->pp, memory_order_relaxed) == NULL, "timer: added to a heap while in one");
	if (pp->ntimers == pp->timerscap) {
		int32_t cap = pp->timerscap ? pp->timerscap * 2 : 64;
		timer **a = realloc(pp->timers, (size_t)cap * sizeof *a);
		if (a == NULL)
			gort__throw("out of memory adding a timer");
		pp->timers = a;
		pp->timerscap = cap;
	}
	heap_set(pp, pp->ntimers++, t);
	siftup(pp, t->idx);
	atomic_store_explicit(&t->pp, pp, memory_order_release);
	update_timer0(pp);
	if (GORT_DEBUG)
		check_heap(pp);
}

static void heap_remove(P *pp, timer *t)
{
	assert_lock_held(&pp->timerslock);
	gort__assert(atomic_load_explicit(&t->pp, memory_order_relaxed) == pp && t->idx < pp->ntimers &&
	                     pp->timers[t->idx] == t,
	             "timer: removed from a heap slot that does not hold it");
	int32_t i = t->idx, last = --pp->ntimers;
	if (i != last) {
		heap_set(pp, i, pp->timers[last]);
		siftdown(pp, i);
		siftup(pp, pp->timers[i]->idx);
	}
	atomic_store_explicit(&t->pp, NULL, memory_order_release);
	update_timer0(pp);
	if (GORT_DEBUG)
		check_heap(pp);
}

/* ---- adding and removing --------------------------------------------------- */

/* addtimer puts t on the current P's heap, and makes sure a sleeping poller
 * wakes in time for it. */
static void addtimer(timer *t)
{
	P *pp = gort__getm()->p;
	gort__assert(pp != NULL, "addtimer: no P");
	/* Read before t is on the heap: from then on it may fire, and a
	 * sleeper's t, on its stack, be gone (ThreadSanitizer caught it). */
	int64_t when = t->when;
	if (gort__det())
		t->detkey = gort__det_rand();
	lock_timers(pp);
	heap_push(pp, t);
	unlock_timers(pp);
	gort__wakeNetPoller(when);
}

/* deltimer takes t off whatever heap holds it; false if none did.  The P
 * can change under us (a P being retired moves its timers), so look again
 * after taking the lock. */
static bool deltimer(timer *t)
{
	for (;;) {
		P *pp = atomic_load_explicit(&t->pp, memory_order_acquire);
		if (pp == NULL)
			return false;
		lock_timers(pp);
		if (atomic_load_explicit(&t->pp, memory_order_relaxed) == pp) {
			heap_remove(pp, t);
			unlock_timers(pp);
			return true;
		}
		unlock_timers(pp);
	}
}

static int64_t when_after(int64_t d)
{
	int64_t now = gort__nanotime();
	if (d > INT64_MAX - now)
		return INT64_MAX;
	return now + (d > 0 ? d : 0);
}

/* ---- running ---------------------------------------------------------------- */

/*
 * runtimers fires pp's timers that are due at now; the Gs they ready go to
 * the current P, home.  Steps:
 *   1. take the earliest due timer off the heap (a ticker goes back in at
 *      its next period) under the lock, with the seq it has then;
 *   2. run its function with the lock dropped: it readies at most one G,
 *      into home's runnext, the previous runnext moving to the tail - as
 *      Go's goready does;
 *   3. repeat while timers are due and home's queue has room; when it
 *      runs out of room with timers still due, home's runnext - the last
 *      G readied - moves to the tail as well.  The run queue decides both
 *      (gort__timer_may_ready, in proc_runq.c, which says why).
 */
static bool runtimers(P *pp, int64_t now)
{
	P *home = gort__getm()->p;
	bool ran = false;
	for (;;) {
		lock_timers(pp);
		if (pp->ntimers == 0 || pp->timers[0]->when > now) {
			unlock_timers(pp);
			return ran;
		}
		timer *t = pp->timers[0];
		if (!gort__timer_may_ready(home, now - t->when, ran)) {
			unlock_timers(pp);
			return ran;
		}
		/* Count the firing and read its seq before t can be seen off the
		 * heap: a Stop or free that finds pp NULL takes no heap lock, and
		 * must find the firing counted (free waits for it) and holding
		 * the old seq (Stop's new one cancels it). */
		atomic_fetch_add(&t->inflight, 1);
		uint64_t seq = atomic_load(&t->seq);
		if (t->period > 0) {
			/* Skip the periods missed, as Go's tickers drop ticks. */
			t->when += t->period * (1 + (now - t->when) / t->period);
			siftdown(pp, 0);
			update_timer0(pp);
			if (GORT_DEBUG)
				check_heap(pp);
		} else {
			heap_remove(pp, t);
		}
		unlock_timers(pp);
		t->f(t, seq, now);
		ran = true;
	}
}

/*
 * checktimers runs pp's due timers (the caller holds some P) and returns
 * the when of pp's next timer, 0 if none.  No clock read when pp has no
 * timers: the park/ready path stays free of them.
 */
int64_t gort__checktimers(P *pp, int64_t now, bool *ran)
{
	int64_t next = atomic_load(&pp->timer0when);
	if (next == 0)
		return 0;
	if (now == 0)
		now = gort__nanotime();
	if (next > now)
		return next;
	if (runtimers(pp, now) && ran != NULL)
		*ran = true;
	return atomic_load(&pp->timer0when);
}

/* movetimers moves every timer of a retired P to another (world stopped). */
void gort__movetimers(P *to, P *from)
{
	lock_timers(from);
	lock_timers(to);
	while (from->ntimers > 0) {
		timer *t = from->timers[from->ntimers - 1];
		heap_remove(from, t);
		heap_push(to, t);
	}
	unlock_timers(to);
	unlock_timers(from);
}

/* ---- the timer functions (on g0, no locks held) ---------------------------- */

/* sleep: ready the sleeper.  t lives on its stack: the last touch is here. */
static void fire_sleep(timer *t, uint64_t seq, int64_t now)
{
	gort__goready(t->g);
}

/* Timer and Ticker: a non-blocking send of the time on the channel. */
static void fire_chan(timer *t, uint64_t seq, int64_t now)
{
	lock_mu(t);
	/* Two Ms may fire successive periods of a ticker; the earlier firing
	 * must not send last: drop it, as a tick for a slow receiver is. */
	if (atomic_load(&t->seq) == seq && now > t->lastsent) {
		gort__chan_send_nb(t->c, &now);
		t->lastsent = now;
		t->armed = t->period > 0;
	}
	gort__spinunlock(&t->mu);
	atomic_fetch_sub(&t->inflight, 1); /* the last touch: free may proceed */
}

/* AfterFunc: start the function in its own goroutine. */
static void fire_func(timer *t, uint64_t seq, int64_t now)
{
	lock_mu(t);
	if (atomic_load(&t->seq) == seq) {
		gort__spawn(t->afunc, t->aarg);
		t->armed = false;
	}
	gort__spinunlock(&t->mu);
	atomic_fetch_sub(&t->inflight, 1);
}

/* ---- Sleep ---------------------------------------------------------------- */

/* The timer goes on a heap only once the sleeper is parked, so that it
 * cannot fire - and ready a G still running - any earlier. */
static bool sleep_commit(G *gp, void *arg)
{
	addtimer(arg);
	return true;
}

void gort_sleep(int64_t d)
{
	G *gp = gort__current_goroutine("gort_sleep");
	gort__checkpreempt(gp);
	if (d <= 0)
		return;
	timer t;
	memset(&t, 0, sizeof t);
	t.f = fire_sleep;
	t.g = gp;
	t.when = when_after(d);
	gort__gopark(sleep_commit, &t, waitReasonSleep);
}

int64_t gort_nanotime(void)
{
	return gort__nanotime();
}

/* ---- Timer, Ticker, AfterFunc ----------------------------------------------- */

enum {
	TIMER_LIVE = 0x74696d72,  /* "timr" */
	TIMER_FREED = 0x64656164, /* "dead" */
};

/* usertimer: t, if it is a live timer of the program's, called from a
 * goroutine (api names the call); otherwise a fatal error. */
static timer *usertimer(gort_timer *t, const char *api)
{
	gort__current_goroutine(api);
	uint32_t magic = atomic_load_explicit(&t->magic, memory_order_relaxed);
	if (__builtin_expect(magic == TIMER_LIVE, 1))
		return t;
	gort__badmagic(magic == TIMER_FREED, "freed", "timer", "gort_timer");
}

/* arm puts t on the heap to fire at when (holds t->mu, or t is new). */
static void arm(timer *t, int64_t when)
{
	t->when = when;
	t->armed = true;
	addtimer(t);
}

static timer *newtimer(int64_t d, int64_t period, void (*f)(timer *, uint64_t, int64_t))
{
	gort__current_goroutine("gort_timer_new");
	timer *t = calloc(1, sizeof *t);
	if (t == NULL)
		gort__throw("out of memory allocating a timer");
	t->f = f;
	t->period = period;
	t->when = when_after(d);
	atomic_store_explicit(&t->magic, TIMER_LIVE, memory_order_relaxed);
	return t;
}

gort_timer *gort_timer_new(int64_t d)
{
	timer *t = newtimer(d, 0, fire_chan);
	t->c = gort_chan_make(sizeof(int64_t), 1);
	arm(t, t->when);
	return t;
}

gort_timer *gort_ticker_new(int64_t d)
{
	if (d <= 0)
		gort_panic_value("non-positive interval for NewTicker", &gort_error_type);
	timer *t = newtimer(d, d, fire_chan);
	t->c = gort_chan_make(sizeof(int64_t), 1);
	arm(t, t->when);
	return t;
}

gort_timer *gort_afterfunc(int64_t d, gort_func f, void *arg)
{
	if (f == NULL)
		gort__fatal("go of nil func value");
	timer *t = newtimer(d, 0, fire_func);
	t->afunc = f;
	t->aarg = arg;
	arm(t, t->when);
	return t;
}

gort_chan *gort_timer_c(gort_timer *t)
{
	return usertimer(t, "gort_timer_c")->c;
}

/*
 * stop takes t off its heap and makes any firing in flight a no-op (seq);
 * a value already sent and not received is taken back.  Holds t->mu.
 * Returns whether t had not yet delivered: still armed (in the heap, or
 * dequeued by a firing that will now do nothing), or its value unreceived.
 */
static bool stop(timer *t)
{
	assert_lock_held(&t->mu);
	/* Off the heap first, then the new seq: a firing dequeued it (and read
	 * its seq, under the heap lock) before deltimer, so it sees the change.
	 * The other order let runtimers re-queue a ticker and read the new seq
	 * in between, and fire after Stop had returned. */
	deltimer(t);
	atomic_fetch_add(&t->seq, 1);
	bool pending = t->armed;
	t->armed = false;
	if (t->c != NULL && gort__chan_recv_nb(t->c, NULL))
		pending = true;
	return pending;
}


bool gort_timer_stop(gort_timer *t)
{
	usertimer(t, "gort_timer_stop");
	lock_mu(t);
	bool pending = stop(t);
	gort__spinunlock(&t->mu);
	return pending;
}

bool gort_timer_reset(gort_timer *t, int64_t d)
{
	usertimer(t, "gort_timer_reset");
	lock_mu(t);
	bool pending = stop(t);
	arm(t, when_after(d));
	gort__spinunlock(&t->mu);
	return pending;
}

void gort_ticker_reset(gort_timer *t, int64_t d)
{
	usertimer(t, "gort_ticker_reset");
	if (d <= 0)
		gort_panic("non-positive interval for Ticker.Reset");
	lock_mu(t);
	stop(t);
	t->period = d;
	arm(t, when_after(d));
	gort__spinunlock(&t->mu);
}

void gort_timer_free(gort_timer *t)
{
	if (t == NULL)
		return;
	usertimer(t, "gort_timer_free");
	lock_mu(t);
	uint32_t live = TIMER_LIVE; /* two frees racing: one of them finds it freed */
	if (!atomic_compare_exchange_strong(&t->magic, &live, TIMER_FREED)) {
		gort__spinunlock(&t->mu);
		gort__badmagic(true, "freed", "timer", "gort_timer");
	}
	stop(t);
	gort__spinunlock(&t->mu);
	/* A firing dequeued before the stop may still be running f. */
	while (atomic_load(&t->inflight) != 0)
		gort_gosched();
	if (t->c != NULL)
		gort_chan_free(t->c);
	gort__quarantine(t);
}

/* ---- runtime timers (the poller's deadlines) -------------------------------- */

void gort__modtimer(timer *t, int64_t when)
{
	stop(t);
	if (when != 0)
		arm(t, when);
}
