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
 * The program's timers (Timer, Ticker, AfterFunc) live in type-stable
 * slots and the program holds handles, as channels do (handle.h):
 * gort_timer_free moves the slot's generation on, so a Stop, Reset, C or
 * second free of a freed timer is a clear fatal error however many timers
 * came and went since.  Collectable timers (gort_timer_new_gc, gort_after)
 * live in the garbage-collected heap instead, reachable from their P's
 * heap while pending (timer_roots).  An AfterFunc's function runs in a goroutine of its
 * own (run_func) that counts itself in the timer while it runs: so that
 * gort_timer_stop_wait can wait for it, and so that a free while it runs
 * leaves the slot to it, released when it returns.
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
#include <stdio.h>
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

/* ---- what the collector sees (mgcmark.c, mgcleak.c) -------------------------- */

/*
 * timer_roots: Go scans a P's timers with the P; here the heap array is
 * malloc'd, so it is handed to the mark as a root: a pending gort_after
 * timer is referred to by nothing else (its channel only by it), and so
 * it and its channel stay alive until it fires or is stopped - then
 * nothing refers to it and the next collection frees it.  A pooled
 * timer's slot is malloc'd too: its AfterFunc argument is a root while it
 * is pending.  The world is stopped: the lock only keeps the rule.
 */
void gort__timer_roots(P *pp, void (*fn)(uintptr_t p, uintptr_t n, void *ctx), void *ctx)
{
	lock_timers(pp);
	if (pp->ntimers > 0)
		fn((uintptr_t)pp->timers, (uintptr_t)pp->ntimers * sizeof pp->timers[0], ctx);
	for (int32_t i = 0; i < pp->ntimers; i++) {
		timer *t = pp->timers[i];
		if (!t->gc && t->aarg != NULL)
			fn((uintptr_t)&t->aarg, sizeof t->aarg, ctx);
	}
	unlock_timers(pp);
}

/* timer_wakers: the goroutines pp's pending timers will ready. */
void gort__timer_wakers(P *pp, void (*fn)(G *gp, void *ctx), void *ctx)
{
	lock_timers(pp);
	for (int32_t i = 0; i < pp->ntimers; i++)
		if (pp->timers[i]->g != NULL)
			fn(pp->timers[i]->g, ctx);
	unlock_timers(pp);
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

/* One run of an AfterFunc's function, on its goroutine's stack, linked
 * into t->running while it runs (under t->mu). */
struct afrun {
	timer *t;
	G *g;
	struct afrun *next;
};

static slotpool timers = SLOTPOOL_INIT(timer, "timer");

static void run_func(void *arg);

/* AfterFunc: start the function in its own goroutine, counted as a run
 * under mu - before the firing lets go of t, so that a Stop that comes
 * after finds it counted (stop_wait) and a free finds it (free waits for
 * inflight first). */
static void fire_func(timer *t, uint64_t seq, int64_t now)
{
	lock_mu(t);
	if (atomic_load(&t->seq) == seq) {
		t->runs++;
		gort__spawn(run_func, t);
		t->armed = false;
	}
	gort__spinunlock(&t->mu);
	atomic_fetch_sub(&t->inflight, 1);
}

/* run_end: a run of t's function is over - it returned, or its goroutine
 * exited (a deferred call, so gort_goexit counts too).  The last run wakes
 * the stop_waits, or, if the timer was freed meanwhile, releases the slot.
 * It counts itself in inflight from before it stops counting in runs
 * until its last touch of t: a free that finds runs at 0 waits for that
 * before it releases the slot (TSan caught the broadcast after). */
static void run_end(void *arg)
{
	struct afrun *me = arg;
	timer *t = me->t;
	atomic_fetch_add(&t->inflight, 1);
	lock_mu(t);
	struct afrun **pp = &t->running;
	while (*pp != me)
		pp = &(*pp)->next;
	*pp = me->next;
	gort__assert(t->runs > 0, "timer: a run ended that was never counted");
	bool last = --t->runs == 0;
	bool release = last && t->freed;
	gort__spinunlock(&t->mu);
	if (last && !release) {
		gort_mutex_lock(&t->wmu);
		gort_cond_broadcast(&t->wdone);
		gort_mutex_unlock(&t->wmu);
	}
	atomic_fetch_sub(&t->inflight, 1); /* the last touch, unless the slot is ours to release */
	if (release && !t->gc)
		gort__slot_release(&timers, &t->hdr);
}

static void run_func(void *arg)
{
	GORT_FRAME_VOID;
	timer *t = arg;
	struct afrun me = {.t = t, .g = gort__getg()};
	lock_mu(t);
	me.next = t->running;
	t->running = &me;
	gort__spinunlock(&t->mu);
	gort_defer(run_end, &me);
	t->afunc(t->aarg);
}

/* others_running: runs of t's function under way in goroutines other than
 * me (a function that stops its own timer does not wait for itself). */
static bool others_running(timer *t, G *me)
{
	lock_mu(t);
	int32_t n = t->runs;
	for (struct afrun *r = t->running; r != NULL; r = r->next)
		if (r->g == me)
			n--;
	gort__spinunlock(&t->mu);
	return n > 0;
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

/* usertimer: the timer h names, if it is a live timer of the program's,
 * called from a goroutine (api names the call); otherwise a fatal error. */
static timer *usertimer(gort_timer *h, const char *api)
{
	gort__current_goroutine(api);
	if (h == NULL) {
		char msg[120];
		snprintf(msg, sizeof msg, "gort: %s of a nil timer", api);
		gort__fatal(msg);
	}
	if (__builtin_expect(!handle_live(h), 0))
		gort__badhandle(h, "timer", "gort_timer");
	return (timer *)handle_slot(h);
}

/* arm puts t on the heap to fire at when (holds t->mu, or t is new). */
static void arm(timer *t, int64_t when)
{
	t->when = when;
	t->armed = true;
	addtimer(t);
}

/* newtimer: a program's timer, in a slot of the pool - or, collectable,
 * in the heap (handle.h) - and its channel, if it has one, of the same
 * kind; *h its handle. */
static timer *newtimer(int64_t d, int64_t period, void (*f)(timer *, uint64_t, int64_t), bool gc, void **h)
{
	gort__current_goroutine("gort_timer_new");
	timer *t = gc ? (timer *)gort__heapslot_new(sizeof(timer), h) : (timer *)gort__slot_alloc(&timers, h);
	memset((char *)t + sizeof t->hdr, 0, sizeof *t - sizeof t->hdr);
	t->f = f;
	t->period = period;
	t->when = when_after(d);
	t->wdone = (gort_cond)GORT_COND_INIT(&t->wmu);
	t->gc = gc;
	if (f == fire_chan)
		t->c = gc ? gort_chan_make_gc(sizeof(int64_t), 1) : gort_chan_make(sizeof(int64_t), 1);
	return t;
}

static gort_timer *timer_new(int64_t d, bool gc)
{
	void *h;
	timer *t = newtimer(d, 0, fire_chan, gc, &h);
	arm(t, t->when);
	return h;
}

static gort_timer *ticker_new(int64_t d, bool gc)
{
	if (d <= 0)
		gort_panic_value("non-positive interval for NewTicker", &gort_error_type);
	void *h;
	timer *t = newtimer(d, d, fire_chan, gc, &h);
	arm(t, t->when);
	return h;
}

static gort_timer *afterfunc(int64_t d, gort_func f, void *arg, bool gc)
{
	if (f == NULL)
		gort__fatal("go of nil func value");
	void *h;
	timer *t = newtimer(d, 0, fire_func, gc, &h);
	t->afunc = f;
	t->aarg = arg;
	arm(t, t->when);
	return h;
}

gort_timer *gort_timer_new(int64_t d)
{
	return timer_new(d, false);
}

gort_timer *gort_ticker_new(int64_t d)
{
	return ticker_new(d, false);
}

gort_timer *gort_afterfunc(int64_t d, gort_func f, void *arg)
{
	return afterfunc(d, f, arg, false);
}

/*
 * The collectable forms: Go's NewTimer, NewTicker, AfterFunc and After,
 * with nothing to free.  While pending, a timer is referred to by its P's
 * timer heap (timer_roots); once it has fired or been stopped, by whatever
 * the program keeps - the handle, or for gort_after the channel, which
 * the timer refers to and not the other way round.
 */
gort_timer *gort_timer_new_gc(int64_t d)
{
	return timer_new(d, true);
}

gort_timer *gort_ticker_new_gc(int64_t d)
{
	return ticker_new(d, true);
}

gort_timer *gort_afterfunc_gc(int64_t d, gort_func f, void *arg)
{
	return afterfunc(d, f, arg, true);
}

gort_chan *gort_after(int64_t d)
{
	void *h;
	timer *t = newtimer(d, 0, fire_chan, true, &h);
	arm(t, t->when);
	return t->c;
}

gort_chan *gort_timer_c(gort_timer *h)
{
	return usertimer(h, "gort_timer_c")->c;
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


bool gort_timer_stop(gort_timer *h)
{
	timer *t = usertimer(h, "gort_timer_stop");
	lock_mu(t);
	bool pending = stop(t);
	gort__spinunlock(&t->mu);
	return pending;
}

/*
 * gort_timer_stop_wait: Stop, then wait until no run of an AfterFunc's
 * function is under way, except in the caller's own goroutine.  After
 * the stop no new run can start (a firing already dequeued finds the seq
 * moved on), and every run that started was counted under mu before it,
 * so what others_running sees can only shrink.  The check is made under
 * wmu, which the last run takes to broadcast: no wake-up is lost.
 */
bool gort_timer_stop_wait(gort_timer *h)
{
	timer *t = usertimer(h, "gort_timer_stop_wait");
	lock_mu(t);
	bool pending = stop(t);
	gort__spinunlock(&t->mu);
	G *me = gort__getg();
	gort_mutex_lock(&t->wmu);
	while (others_running(t, me))
		gort_cond_wait(&t->wdone);
	gort_mutex_unlock(&t->wmu);
	return pending;
}

bool gort_timer_reset(gort_timer *h, int64_t d)
{
	timer *t = usertimer(h, "gort_timer_reset");
	lock_mu(t);
	bool pending = stop(t);
	arm(t, when_after(d));
	gort__spinunlock(&t->mu);
	return pending;
}

void gort_ticker_reset(gort_timer *h, int64_t d)
{
	timer *t = usertimer(h, "gort_ticker_reset");
	if (d <= 0)
		gort_panic("non-positive interval for Ticker.Reset");
	lock_mu(t);
	stop(t);
	t->period = d;
	arm(t, when_after(d));
	gort__spinunlock(&t->mu);
}

/*
 * gort_timer_free: the handle dies at once (the generation moves on: of
 * two frees racing, one finds the other's), the timer is stopped, and its
 * channel freed once no firing is under way.  The slot goes back to the
 * pool now - or, if a run of an AfterFunc's function is under way, when
 * the last run ends (run_end), so that freeing never waits for a
 * function, not even from inside it.
 */
void gort_timer_free(gort_timer *h)
{
	if (h == NULL)
		return;
	timer *t = usertimer(h, "gort_timer_free");
	lock_mu(t);
	if (!(t->gc ? gort__heapslot_kill(h) : gort__slot_kill(h))) {
		gort__spinunlock(&t->mu);
		gort__badhandle(h, "timer", "gort_timer");
	}
	stop(t);
	gort__spinunlock(&t->mu);
	/* A firing dequeued before the stop may still be running f. */
	while (atomic_load(&t->inflight) != 0)
		gort_gosched();
	if (t->c != NULL)
		gort_chan_free(t->c);
	lock_mu(t);
	bool release = t->runs == 0;
	t->freed = !release;
	gort__spinunlock(&t->mu);
	if (release) {
		while (atomic_load(&t->inflight) != 0)
			gort_gosched(); /* the last run_end, still waking stop_waits */
		if (!t->gc) /* a collectable timer's memory is the collector's */
			gort__slot_release(&timers, &t->hdr);
	}
}

/* ---- runtime timers (the poller's deadlines) -------------------------------- */

void gort__modtimer(timer *t, int64_t when)
{
	stop(t);
	if (when != 0)
		arm(t, when);
}
