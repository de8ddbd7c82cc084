/*
 * proc_runq.c - the run queues (Go's runqput, runqget, runqsteal, globrunq*
 * in proc.go).
 *
 *   local   each P's ring of RUNQ_SIZE Gs plus runnext, the G to run next.
 *           Only the owner adds (at the tail, or into runnext); anyone takes
 *           from the head with CAS - the owner to run, a thief to steal half.
 *           The fast paths (runqput, runqget, runqempty) are inline in
 *           proc.h: every ready and every schedule takes them.
 *   global  sched.runq, a growable ring under sched.lock: the overflow of
 *           full local queues, yielded Gs, Gs readied with no P.
 *
 * This file owns the slow paths: spilling half a full local queue to the
 * global one, stealing, draining a retired P, the global queue, and the one
 * question timers ask of a queue (timer_may_ready, for time.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"
#include "timer.h"

static void globrunqputhead(G *gp);

/* ---- the local run queue ----------------------------------------------------- */

/*
 * runqputslow moves half of a full local queue, plus gp, to the global
 * queue in one batch.  Fails (returns false) if a stealer moved the head
 * meanwhile: then there is room again and the caller retries.
 */
bool runqputslow(P *pp, G *gp, uint32_t h, uint32_t t)
{
	G *batch[RUNQ_SIZE / 2 + 1];
	uint32_t n = (t - h) / 2;
	gort__assert(n == RUNQ_SIZE / 2, "runqputslow: queue is not full");
	for (uint32_t i = 0; i < n; i++)
		batch[i] = slot_load(pp, h + i);
	if (!atomic_compare_exchange_strong_explicit(&pp->runqhead, &h, h + n, memory_order_release,
	                                             memory_order_relaxed))
		return false;
	batch[n] = gp;
	gort__lock(&sched.lock);
	for (uint32_t i = 0; i <= n; i++)
		globrunqput(batch[i]);
	gort__unlock(&sched.lock);
	return true;
}

/*
 * runqgrab copies half of pp's queue into batch (a ring of RUNQ_SIZE slots
 * starting at batchHead) and commits by moving pp's head with CAS.  When
 * the queue is empty it may take runnext - but first gives pp's M a moment
 * to run it, since a G that just readied another usually blocks right
 * after, and stealing that G would only bounce it between Ps.
 */
static uint32_t runqgrab(P *pp, G *_Atomic *batch, uint32_t batchHead, bool stealRunNextG)
{
	for (;;) {
		uint32_t h = atomic_load_explicit(&pp->runqhead, memory_order_acquire);
		uint32_t t = atomic_load_explicit(&pp->runqtail, memory_order_acquire);
		uint32_t n = t - h;
		n = n - n / 2;
		if (n == 0) {
			if (!stealRunNextG)
				return 0;
			G *next = atomic_load(&pp->runnext);
			if (next == NULL)
				return 0;
			if (atomic_load(&pp->status) == Prunning) {
				struct timespec ts = {0, 3000};
				nanosleep(&ts, NULL);
			}
			if (!atomic_compare_exchange_strong(&pp->runnext, &next, NULL))
				continue;
			atomic_store_explicit(&batch[batchHead % RUNQ_SIZE], next, memory_order_relaxed);
			return 1;
		}
		if (n > RUNQ_SIZE / 2)
			continue; /* read an inconsistent h and t */
		for (uint32_t i = 0; i < n; i++)
			atomic_store_explicit(&batch[(batchHead + i) % RUNQ_SIZE], slot_load(pp, h + i),
			                      memory_order_relaxed);
		if (atomic_compare_exchange_strong_explicit(&pp->runqhead, &h, h + n, memory_order_release,
		                                            memory_order_relaxed))
			return n;
	}
}

/* runqsteal moves half of p2's queue to pp's and returns one G of it. */
G *runqsteal(P *pp, P *p2, bool stealRunNextG)
{
	uint32_t t = atomic_load_explicit(&pp->runqtail, memory_order_relaxed);
	uint32_t n = runqgrab(p2, pp->runq, t, stealRunNextG);
	if (n == 0)
		return NULL;
	gort__pcount(&pp->metrics.nstolen, n);
	n--;
	G *gp = slot_load(pp, t + n);
	if (n == 0)
		return gp;
	uint32_t h = atomic_load_explicit(&pp->runqhead, memory_order_acquire);
	gort__assert(t - h + n < RUNQ_SIZE, "runqsteal: runq overflow");
	atomic_store_explicit(&pp->runqtail, t + n, memory_order_release);
	return gp;
}

/* runqflush moves all of pp's Gs (pp is being retired) to the head of the
 * global queue, keeping their order (holds sched.lock). */
void runqflush(P *pp)
{
	assert_lock_held(&sched.lock);
	for (;;) {
		uint32_t h = atomic_load(&pp->runqhead), t = atomic_load(&pp->runqtail);
		if (h == t)
			break;
		atomic_store(&pp->runqtail, t - 1);
		globrunqputhead(slot_load(pp, t - 1));
	}
	G *next = atomic_exchange(&pp->runnext, NULL);
	if (next != NULL)
		globrunqputhead(next);
}

/* ---- what a timer may ready -------------------------------------------------- */

/*
 * runqhasroom: can one more G be readied onto pp - into runnext, the old
 * runnext moving to the tail - and the runnext still be moved to the tail
 * after, without runqputslow spilling half the queue to the global queue?
 * Owner only: nobody else adds to pp's queue, so the answer holds until
 * the owner adds.
 */
static bool runqhasroom(P *pp)
{
	uint32_t h = atomic_load_explicit(&pp->runqhead, memory_order_acquire);
	uint32_t t = atomic_load_explicit(&pp->runqtail, memory_order_relaxed);
	uint32_t n = t - h + (atomic_load_explicit(&pp->runnext, memory_order_relaxed) != NULL);
	return n < RUNQ_SIZE;
}

/* runqfull: would readying one more G onto pp spill half its queue to the
 * global queue (runnext taken, and no slot for the G it displaces)?  Owner
 * only. */
static bool runqfull(P *pp)
{
	uint32_t h = atomic_load_explicit(&pp->runqhead, memory_order_acquire);
	uint32_t t = atomic_load_explicit(&pp->runqtail, memory_order_relaxed);
	return t - h >= RUNQ_SIZE && atomic_load_explicit(&pp->runnext, memory_order_relaxed) != NULL;
}

/* runqkicknext moves pp's runnext, if any, to the tail of its queue, so it
 * waits its turn behind the Gs already queued - unless the queue is full:
 * spilling half of it to the global queue would cost far more waiting than
 * it saves.  Owner only. */
static void runqkicknext(P *pp)
{
	uint32_t h = atomic_load_explicit(&pp->runqhead, memory_order_acquire);
	uint32_t t = atomic_load_explicit(&pp->runqtail, memory_order_relaxed);
	G *next = atomic_load_explicit(&pp->runnext, memory_order_relaxed);
	if (next == NULL || t - h >= RUNQ_SIZE)
		return;
	/* Others may only clear runnext: a failed CAS means it was stolen. */
	if (atomic_compare_exchange_strong(&pp->runnext, &next, NULL))
		runqput(pp, next, false);
}

/*
 * A due timer waits in the heap while the P that would run its G has no
 * room in its local queue - as long as this (a time slice, as sysmon's);
 * after that it fires as soon as that spills nothing: a queue kept full for
 * good must not hold its timers for good.
 */
#define TIMER_HOLD_NS (10 * 1000 * 1000)

/*
 * timer_may_ready is the one question time.c's runtimers asks of a run
 * queue: may a timer due late_ns ago ready its G onto home (the current
 * P) now, or should it wait in the heap?  Owner only.
 *
 * Readying onto a full queue makes runqputslow move the oldest half of it -
 * Gs that have waited longest, most of them timer Gs themselves - to the
 * tail of the global queue, behind everything there (a spawn storm: tens of
 * thousands), where they wait hundreds of ms while every later timer runs
 * before them.  In the heap, the due timers wait in deadline order and fire
 * as the queue drains.  (The timers benchmark, 100,000 goroutines, one P:
 * p99 oversleep 370 ms -> 3-15 ms; Go 1.19's is 230 ms.)  A timer held
 * TIMER_HOLD_NS fires once runnext can take its G without a spill: firing
 * it into a spill, on a loaded machine, sent 128 Gs behind the global queue
 * each time, and p99 back to 400 ms.
 *
 * fired: this round already fired timers onto home.  When the answer is
 * no, the last G they readied - in runnext - first moves to the tail, so
 * the batch queues behind the Gs already waiting instead of jumping them
 * (else, on a queue kept full, each schedule would fire one timer into
 * runnext and run it, and the queue would never move).  That takes no
 * lock, so runtimers may ask holding its heap's.
 */
bool gort__timer_may_ready(P *home, int64_t late_ns, bool fired)
{
	if (runqhasroom(home))
		return true;
	if (late_ns >= TIMER_HOLD_NS && !runqfull(home))
		return true;
	if (fired)
		runqkicknext(home);
	return false;
}

/* ---- the global run queue (holds sched.lock) --------------------------------- */

static void gqueue_grow(gQueue *q)
{
	uint32_t cap = q->cap ? q->cap * 2 : 1024;
	G **buf = malloc(cap * sizeof(G *));
	gort__assert(buf != NULL, "out of memory");
	for (uint32_t i = 0; i < q->len; i++)
		buf[i] = q->buf[(q->head + i) & (q->cap - 1)];
	free(q->buf);
	q->buf = buf;
	q->cap = cap;
	q->head = 0;
}

void globrunqput(G *gp)
{
	assert_lock_held(&sched.lock);
	gQueue *q = &sched.runq;
	if (q->len == q->cap)
		gqueue_grow(q);
	q->buf[(q->head + q->len++) & (q->cap - 1)] = gp;
	atomic_store_explicit(&sched.runqsize, (int32_t)q->len, memory_order_relaxed);
}

static void globrunqputhead(G *gp)
{
	assert_lock_held(&sched.lock);
	gQueue *q = &sched.runq;
	if (q->len == q->cap)
		gqueue_grow(q);
	q->head = (q->head - 1) & (q->cap - 1);
	q->buf[q->head] = gp;
	q->len++;
	atomic_store_explicit(&sched.runqsize, (int32_t)q->len, memory_order_relaxed);
}

static G *globrunqpop(void)
{
	gQueue *q = &sched.runq;
	G *gp = q->buf[q->head];
	q->head = (q->head + 1) & (q->cap - 1);
	q->len--;
	atomic_store_explicit(&sched.runqsize, (int32_t)q->len, memory_order_relaxed);
	return gp;
}

/*
 * globrunqget takes a fair share of the global queue (its length over
 * GOMAXPROCS, plus one; at most max if max > 0, and at most half a local
 * queue) into pp's local queue, and returns one G of it.
 */
G *globrunqget(P *pp, int32_t max)
{
	assert_lock_held(&sched.lock);
	int32_t size = sched.runqsize;
	if (size == 0)
		return NULL;
	int32_t n = size / atomic_load(&gomaxprocs) + 1;
	if (n > size)
		n = size;
	if (max > 0 && n > max)
		n = max;
	if (n > RUNQ_SIZE / 2)
		n = RUNQ_SIZE / 2;
	G *gp = globrunqpop();
	while (--n > 0)
		runqput(pp, globrunqpop(), false);
	return gp;
}
