/*
 * timer.h - the runtime's timers (Go's time.go): the type, and every call
 * the rest of the runtime makes into time.c.
 *
 *   the scheduler   runs each P's due timers (checktimers: findrunnable
 *                   for its own P, the last steal pass and the idle poller
 *                   for the others') and moves a retired P's timers to an
 *                   heir (movetimers, procresize)
 *   the poller      keeps read and write deadlines as timers on a pollDesc
 *                   (netpoll.c): timer_lock, modtimer, timer_unlock
 *   time.c          asks the scheduler one question: may a due timer ready
 *                   its G onto this P's run queue now (timer_may_ready,
 *                   proc_runq.c)?
 *
 * Lock order: a timer's mu, then a P's timerslock - never mu under
 * timerslock (time.c checks it, as gort__timer_lock does for the poller).
 */
#ifndef GORT_TIMER_H
#define GORT_TIMER_H

#include "handle.h"
#include "runtime2.h"

/*
 * A timer: in one P's heap from when it is set until it fires or is
 * stopped.  f runs on an M's g0 with a P (from findrunnable), after the
 * timer has left the heap or been re-queued (tickers), with the seq it had
 * then; f takes mu and does nothing if seq has moved on (a Stop or Reset
 * came in between).  Lock order: mu, then the P's timerslock (below).
 */
struct timer {
	slot hdr;              /* the program's timers: a slot of time.c's pool (handle.h) */
	spinlock mu;           /* guards seq, the channel, and heap changes from Stop/Reset */
	_Atomic uint64_t seq;
	int64_t when;          /* nanotime at which to fire */
	int64_t period;        /* > 0: a ticker */
	void (*f)(struct timer *t, uint64_t seq, int64_t now);
	P *_Atomic pp;         /* the P whose heap holds it, or NULL */
	int32_t idx;           /* its index in that heap */
	_Atomic int32_t inflight; /* f calls and run_ends (time.c) under way: gort_timer_free waits for 0 */
	bool armed;            /* set and not yet delivered (guarded by mu) */
	int64_t lastsent;      /* the last time sent on c (guarded by mu) */
	G *g;                  /* gort_sleep: the sleeper */
	struct gort_chan *c;   /* Timer and Ticker: the channel (a handle) */
	gort_func afunc;       /* AfterFunc */
	void *aarg;
	uint32_t detkey;       /* deterministic mode: orders timers due at once (else 0) */
	/* AfterFunc's runs of afunc (time.c's run_func), guarded by wmu: */
	gort_mutex wmu;
	gort_cond wdone;       /* broadcast when runs drops to 0 */
	int32_t runs;          /* started and not yet returned */
	struct afrun *running; /* one record per run, on its goroutine's stack */
	bool freed;            /* gort_timer_free came while runs > 0: the last run releases the slot */
	bool gc;               /* collectable: in the heap, not the pool (gort_timer_new_gc) */
};
/* checktimers runs pp's timers due at now (0: read the clock if any may be
 * due), readying their Gs onto the current P; *ran (if not NULL) says
 * whether any ran.  Returns the next when, or 0.  Holds a P. */
int64_t gort__checktimers(P *pp, int64_t now, bool *ran);

/* movetimers moves every timer of from (being retired) into to's heap
 * (holds sched.lock, the world stopped). */
void gort__movetimers(P *to, P *from);

/* timer_lock, timer_unlock: a runtime timer's mu, taken in the lock order. */
void gort__timer_lock(timer *t);
void gort__timer_unlock(timer *t);

/* modtimer (re)arms a runtime timer at when, or just stops it (when 0);
 * the caller holds t->mu (gort__timer_lock). */
void gort__modtimer(timer *t, int64_t when);

/* timer_roots, timer_wakers (the collector, the world stopped): what
 * pp's timer heap holds that the mark must see - the heap array, which
 * holds the only reference to a pending collectable timer, and each
 * pooled timer's AfterFunc argument - and the goroutines its timers will
 * wake (a sleep, a select's deadline: never leaked, mgcleak.c). */
void gort__timer_roots(P *pp, void (*fn)(uintptr_t p, uintptr_t n, void *ctx), void *ctx);
void gort__timer_wakers(P *pp, void (*fn)(G *gp, void *ctx), void *ctx);

/* timer_may_ready (proc_runq.c): may a timer due late_ns ago ready its G
 * onto home now?  fired: this round already readied some, whose last one
 * then queues behind the others.  Owner of home only. */
bool gort__timer_may_ready(P *home, int64_t late_ns, bool fired);

#endif
