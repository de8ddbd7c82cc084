/*
 * select.c - select (Go's select.go).
 *
 * selectgo, in Go's four steps:
 *   1. Orders.  pollorder: the cases in a random permutation, so that no
 *      ready case can starve another.  lockorder: the cases sorted by
 *      channel address, so that two selects over overlapping channels lock
 *      them in the same order and cannot deadlock (cases on one channel
 *      in random order: pass 2 queues them so).  Cases on nil channels
 *      are left out of both: they never fire.
 *   2. Pass 1: lock every channel; take the first case, in poll order, that
 *      can proceed now.  None and a default: unlock and return -1.
 *   3. Pass 2: enqueue a sudog on every channel and park once; the unlock
 *      function releases the channels after the goroutine is waiting.
 *   4. Pass 3: woken by one channel - the waker claimed us (selectDone) and
 *      said which sudog in g->param.  Lock everything again and take our
 *      other sudogs off the other channels' queues.
 * The orders and the sudogs live on the caller's stack (up to STACK_CASES
 * cases; more are allocated).
 *
 * A select with a deadline (gort_select_deadline, _timeout) adds no case:
 * it parks with a runtime timer on its own stack, which the last step of
 * pass 2 arms while every channel is still locked.  The timer is one more
 * waker racing for selectDone: the first of it and the channels to claim
 * the goroutine wins, so a case that becomes ready as the deadline passes
 * is either taken (the channel won) or left in its channel for someone
 * else (the timer won) - never both, never lost.  Pass 3 disarms the timer
 * and waits out a firing in flight before the stack frame that holds it
 * can go.  No allocation, no timer the program sees.
 *
 * Checked as it goes: sellock and selparkcommit meet the channels in
 * ascending address order (duplicates adjacent, locked once); pass 2
 * queues on channels whose opposite queue pass 1 emptied; pass 3 is woken
 * through one of its own sudogs.  A GORT_DEBUG build also checks that the
 * poll order is a permutation and that the parked sudog list is the lock
 * order (check_orders, check_waiting).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chan.h"
#include "det.h"
#include "timer.h"

enum { STACK_CASES = 16 }; /* cases whose orders and sudogs fit on the stack */

/* chans[i] is case i's channel, NULL for a nil channel: runselect checks
 * each case's handle once (chanof, handle.h) and the passes below use
 * what it names. */
static uintptr_t key(hchan **chans, uint16_t i)
{
	return (uintptr_t)chans[i];
}

static void sift_down(hchan **chans, uint16_t *order, int root, int n)
{
	for (;;) {
		int child = 2 * root + 1;
		if (child >= n)
			return;
		if (child + 1 < n && key(chans, order[child + 1]) > key(chans, order[child]))
			child++;
		if (key(chans, order[root]) >= key(chans, order[child]))
			return;
		uint16_t t = order[root];
		order[root] = order[child];
		order[child] = t;
		root = child;
	}
}

/*
 * sort_by_channel sorts the lock order by channel address: insertion sort
 * for the few cases most selects have (it was a third of select4's time as
 * a heapsort), heapsort beyond, so that a huge select stays O(n log n).
 * Returns whether two cases may share a channel: the insertion sort sees
 * it for free (an element stops next to its equal), the heapsort says
 * maybe.
 */
static bool sort_by_channel(hchan **chans, uint16_t *order, int n)
{
	if (n <= 16) {
		bool dups = false;
		for (int i = 1; i < n; i++) {
			uint16_t x = order[i];
			uintptr_t kx = key(chans, x), kprev = 0;
			int j = i;
			for (; j > 0 && (kprev = key(chans, order[j - 1])) > kx; j--)
				order[j] = order[j - 1];
			order[j] = x;
			dups |= j > 0 && kprev == kx;
		}
		return dups;
	}
	for (int i = n / 2 - 1; i >= 0; i--)
		sift_down(chans, order, i, n);
	for (int end = n - 1; end > 0; end--) {
		uint16_t t = order[0];
		order[0] = order[end];
		order[end] = t;
		sift_down(chans, order, 0, end);
	}
	return true;
}

/* randn maps a random r to [0, n) by multiplying, as Go's fastrandn does:
 * the division of r % n was a quarter of selectgo's time in select4.
 * (Deterministic mode keeps r % n: a seed's recorded schedules replay.) */
static inline uint32_t randn(uint32_t r, uint32_t n)
{
	return (uint32_t)(((uint64_t)r * n) >> 32);
}

/*
 * randbatch: many small random ranges from one 64-bit draw (Lemire's
 * batched ranged integers).  next(n) takes the high word of r*n as the
 * result and keeps the low word as the next r; each range used this way
 * spends log2(n) of r's 64 bits.  A new draw is made once the product of
 * the ranges since the last would pass 2^32, so every result still rests
 * on 32 random bits - as fair as randn's.  A 4-case select makes one draw
 * instead of four.
 */
typedef struct randbatch {
	M *mp;
	uint64_t r;
	uint64_t spent; /* the product of the ranges drawn from r */
} randbatch;

static inline uint32_t randbatch_next(randbatch *b, uint32_t n)
{
	if (b->spent * n > ((uint64_t)1 << 32)) { /* spent <= 2^33, n < 2^16: no overflow */
		b->r = gort__fastrand64(b->mp);
		b->spent = 1;
	}
	b->spent *= n;
	__uint128_t t = (__uint128_t)b->r * n;
	b->r = (uint64_t)t;
	return (uint32_t)(t >> 64);
}

/*
 * pollorders makes the random poll order (inserting each case at a random
 * place of the permutation so far) and the lock order still to be sorted,
 * leaving out the nil-channel cases; returns their number.  The places
 * come from randbatch, or in deterministic mode from the seed's generator:
 * two copies of the loop, so that the usual one has no branch on the mode.
 */
static inline __attribute__((always_inline)) int pollorders(M *mp, hchan **chans, int n, uint16_t *pollorder,
                                                             uint16_t *lockorder, bool det)
{
	randbatch rb = {.mp = mp, .spent = (uint64_t)1 << 33}; /* the first range draws */
	int norder = 0;
	for (int i = 0; i < n; i++) {
		if (chans[i] == NULL)
			continue;
		uint32_t places = (uint32_t)(norder + 1);
		int j = (int)(det ? gort__det_rand() % places : randbatch_next(&rb, places));
		pollorder[norder] = pollorder[j];
		pollorder[j] = (uint16_t)i;
		lockorder[norder] = (uint16_t)i;
		norder++;
	}
	return norder;
}

static __attribute__((noinline, cold)) int pollorders_det(hchan **chans, int n, uint16_t *pollorder,
                                                          uint16_t *lockorder)
{
	return pollorders(NULL, chans, n, pollorder, lockorder, true);
}

/*
 * shuffle_duplicates puts each run of cases on one channel in the sorted
 * lock order into a random order.  Pass 2 enqueues a select's sudogs in
 * lock order, and the first of them in a channel's queue is the one a
 * partner takes: without this, a parked select with two cases on one
 * channel would always fire the first-listed (Go sorts from the random
 * poll order, "to permute cases on the same channel"; TestPseudoRandomSend
 * with an unbuffered channel checks it).
 */
static void shuffle_duplicates(M *mp, hchan **chans, uint16_t *order, int n)
{
	for (int start = 0; start < n;) {
		int end = start + 1;
		while (end < n && key(chans, order[end]) == key(chans, order[start]))
			end++;
		for (int i = end - 1; i > start; i--) { /* Fisher-Yates over [start, end) */
			uint32_t n = (uint32_t)(i - start + 1);
			int j = start + (int)(gort__det() ? gort__det_rand() % n : randn(gort__fastrand(mp), n));
			uint16_t t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
		start = end;
	}
}

/* sellock locks each distinct channel in lock order. */
static void sellock(hchan **chans, uint16_t *lockorder, int n)
{
	M *alone = chan_alone();
	hchan *last = NULL;
	for (int i = 0; i < n; i++) {
		hchan *c = chans[lockorder[i]];
		gort__assert((uintptr_t)c >= (uintptr_t)last, "select: lock order not sorted by channel address");
		if (c != last)
			chan_lock_as(c, alone);
		last = c;
	}
}

/* check_orders (GORT_DEBUG): pollorder holds each non-nil case exactly
 * once, and lockorder the same cases. */
static void check_orders(hchan **chans, int n, uint16_t *pollorder, uint16_t *lockorder, int norder)
{
	/* n is 0 for a select with a deadline and no cases: one byte anyway,
	 * as calloc(0) may return NULL */
	uint8_t *seen = calloc(n > 0 ? (size_t)n : 1, 1);
	if (seen == NULL)
		gort__throw("out of memory in select");
	for (int k = 0; k < norder; k++) {
		gort__assert(pollorder[k] < n && chans[pollorder[k]] != NULL && !(seen[pollorder[k]] & 1),
		             "select: poll order is not a permutation of the non-nil cases");
		seen[pollorder[k]] |= 1;
		gort__assert(lockorder[k] < n && !(seen[lockorder[k]] & 2),
		             "select: lock order is not a permutation of the non-nil cases");
		seen[lockorder[k]] |= 2;
	}
	for (int i = 0; i < n; i++)
		gort__assert(chans[i] == NULL || seen[i] == 3, "select: a non-nil case is missing from an order");
	free(seen);
}

/* check_waiting (GORT_DEBUG): gp->waiting lists the sudogs of the cases in
 * lock order, each queued on its case's channel. */
static void check_waiting(G *gp, hchan **chans, uint16_t *lockorder, int norder, sudog *sgs)
{
	sudog *sg = gp->waiting;
	for (int k = 0; k < norder; k++, sg = sg->waitlink) {
		int i = lockorder[k];
		gort__assert(sg == &sgs[i] && sg->g == gp && sg->c == chans[i] && sg->isSelect,
		             "select: the waiting list is not the cases' sudogs in lock order");
	}
	gort__assert(sg == NULL, "select: the waiting list is longer than the cases");
}

static void selunlock(hchan **chans, uint16_t *lockorder, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		hchan *c = chans[lockorder[i]];
		if (i > 0 && c == chans[lockorder[i - 1]])
			continue; /* unlock a duplicate once, at its first place */
		chan_unlock(c);
	}
}

/*
 * selparkcommit arms the deadline timer, if any, and unlocks the channels
 * of a parked select, on g0.  It walks
 * the goroutine's sudogs (in lock order) rather than the case array: the
 * moment the last channel is unlocked a waker may run the goroutine, whose
 * stack holds both.  A channel is unlocked only after its last sudog has
 * been passed, and nothing is touched after the final unlock.
 */
static bool selparkcommit(G *gp, void *deadline_timer)
{
	timer *t = deadline_timer;
	if (t != NULL) { /* armed before any channel is unlocked: see selectgo */
		gort__timer_lock(t);
		gort__modtimer(t, t->when);
		gort__timer_unlock(t);
	}
	hchan *last = NULL;
	for (sudog *sg = gp->waiting; sg != NULL; sg = sg->waitlink) {
		gort__assert((uintptr_t)sg->c >= (uintptr_t)last, "select: sudogs not in lock order");
		if (sg->c != last && last != NULL)
			chan_unlock(last);
		last = sg->c;
	}
	if (last != NULL)
		chan_unlock(last);
	return true;
}

static void set_ok(gort_case *cas, bool ok)
{
	if (cas->ok != NULL)
		*cas->ok = ok;
}

/* Pass 1 for one case: proceed now if it can (holds every lock). */
static bool try_case(gort_case *cases, hchan **chans, uint16_t *lockorder, int norder, int i)
{
	gort_case *cas = &cases[i];
	hchan *c = chans[i];
	sudog *sg;
	if (cas->dir == GORT_RECV) {
		if (c->sendq.first != NULL && (sg = gort__waitq_dequeue(&c->sendq)) != NULL) {
			gort__chan_recv_from(c, sg, cas->elem);
			selunlock(chans, lockorder, norder);
			gort__goready(sg->g);
			set_ok(cas, true);
			return true;
		}
		if (c->qcount > 0) {
			gort__chan_bufrecv(c, cas->elem);
			selunlock(chans, lockorder, norder);
			set_ok(cas, true);
			return true;
		}
		if (c->closed) {
			selunlock(chans, lockorder, norder);
			gort__memclr(cas->elem, c->elemsize);
			set_ok(cas, false);
			return true;
		}
		return false;
	}
	if (c->closed) {
		selunlock(chans, lockorder, norder);
		gort__panic("send on closed channel");
	}
	if (c->recvq.first != NULL && (sg = gort__waitq_dequeue(&c->recvq)) != NULL) {
		gort__chan_send_to(c, sg, cas->elem);
		selunlock(chans, lockorder, norder);
		gort__goready(sg->g);
		return true;
	}
	if (c->qcount < c->dataqsiz) {
		gort__chan_bufsend(c, cas->elem);
		selunlock(chans, lockorder, norder);
		return true;
	}
	return false;
}

/*
 * fire_select: a select's deadline passed (on g0, with a P).  Claim the
 * goroutine as a channel would; if a channel claimed it first, do nothing:
 * its case proceeds.  t lives on the goroutine's stack, so the inflight
 * count comes down before the goroutine can be readied and last touches
 * t; pass 3 waits for it (disarm).
 */
static void fire_select(timer *t, uint64_t seq, int64_t now)
{
	G *gp = t->g;
	uint32_t zero = 0;
	bool won = atomic_load(&t->seq) == seq && atomic_compare_exchange_strong(&gp->selectDone, &zero, 1);
	if (won)
		gp->param = (sudog *)(void *)t; /* no sudog but a mark: pass 3 compares it with its timer */
	atomic_fetch_sub(&t->inflight, 1);
	if (won)
		gort__goready(gp);
}

/* disarm: takes a woken select's timer off its heap and waits for a
 * firing already under way to let go of it (before selectDone is reset,
 * so that such a firing cannot claim the goroutine again). */
static void disarm(timer *t)
{
	gort__timer_lock(t);
	gort__modtimer(t, 0);
	gort__timer_unlock(t);
	while (atomic_load(&t->inflight) != 0)
		gort__osyield(); /* fire_select is a few instructions from done */
}

/*
 * selectgo runs the select; deadline_timer, if not NULL, is an unarmed
 * timer whose when is the deadline.  Returns the case chosen, -1 (not
 * block, nothing ready) or GORT_SELECT_TIMEDOUT.
 */
static int selectgo(G *gp, gort_case *cases, hchan **chans, int n, bool block, timer *deadline_timer,
                    uint16_t *pollorder, uint16_t *lockorder, sudog *sgs)
{
	/* 1. the orders, without the nil-channel cases */
	M *mp = gp->m;
	int norder = __builtin_expect(gort__det(), 0) ? pollorders_det(chans, n, pollorder, lockorder)
	                                               : pollorders(mp, chans, n, pollorder, lockorder, false);
	/* Sorted from the cases' own order, not the random poll order: the
	 * same select then sorts the same input each time, and the sort's
	 * branches become predictable.  Only cases on one channel then need
	 * their order made random. */
	if (sort_by_channel(chans, lockorder, norder))
		shuffle_duplicates(mp, chans, lockorder, norder);
	if (GORT_DEBUG)
		check_orders(chans, n, pollorder, lockorder, norder);

	/* 2. pass 1: anything ready? */
	sellock(chans, lockorder, norder);
	for (int k = 0; k < norder; k++)
		if (try_case(cases, chans, lockorder, norder, pollorder[k]))
			return pollorder[k];
	if (!block) {
		selunlock(chans, lockorder, norder);
		return -1;
	}
	if (deadline_timer != NULL && deadline_timer->when <= gort__nanotime()) {
		selunlock(chans, lockorder, norder);
		return GORT_SELECT_TIMEDOUT;
	}

	/* 3. pass 2: wait on every channel, park once */
	atomic_store(&gp->selectDone, 0);
	gp->param = NULL;
	sudog **link = &gp->waiting;
	for (int k = 0; k < norder; k++) {
		int i = lockorder[k];
		sudog *sg = &sgs[i];
		hchan *c = chans[i];
		gort__sudog_chan_init(sg, gp, cases[i].elem, c, true);
		*link = sg;
		link = &sg->waitlink;
		/* pass 1 emptied the opposite queue: only our own sudogs are there */
		waitq *q = cases[i].dir == GORT_SEND ? &c->sendq : &c->recvq;
		waitq *opp = cases[i].dir == GORT_SEND ? &c->recvq : &c->sendq;
		gort__assert(opp->first == NULL || opp->first->g == gp,
		             "select: a channel has waiters to match, yet pass 1 found none");
		gort__waitq_enqueue(q, sg);
		if (cases[i].dir == GORT_SEND)
			gort__chan_receivable(c);
	}
	*link = NULL;
	if (GORT_DEBUG)
		check_waiting(gp, chans, lockorder, norder, sgs);
	gort__gopark(selparkcommit, deadline_timer, waitReasonSelect);

	/* 4. pass 3: woken - by a channel, or by the timer; leave every queue
	 * but the winner's */
	if (deadline_timer != NULL)
		disarm(deadline_timer);
	sellock(chans, lockorder, norder);
	atomic_store(&gp->selectDone, 0);
	bool timedout = deadline_timer != NULL && (void *)gp->param == (void *)deadline_timer;
	sudog *won = timedout ? NULL : gp->param;
	gp->param = NULL;
	gort__assert(timedout || (won != NULL && won->g == gp && won->isSelect),
	             "selectgo: woken without one of its sudogs or its timer");
	if (GORT_DEBUG)
		check_waiting(gp, chans, lockorder, norder, sgs);
	int casi = -1;
	for (int k = 0; k < norder; k++) {
		int i = lockorder[k];
		sudog *sg = &sgs[i];
		if (sg == won) {
			casi = i;
			continue;
		}
		hchan *c = chans[i];
		gort__waitq_remove(cases[i].dir == GORT_SEND ? &c->sendq : &c->recvq, sg);
	}
	gp->waiting = NULL;
	if (timedout) {
		selunlock(chans, lockorder, norder);
		return GORT_SELECT_TIMEDOUT;
	}
	gort__assert(casi >= 0, "selectgo: bad wakeup");
	gort__assert(won->c == chans[casi] && won->elem == NULL,
	             "selectgo: the winning sudog does not match its case");
	selunlock(chans, lockorder, norder);
	if (cases[casi].dir == GORT_SEND) {
		if (!won->success)
			gort__panic("send on closed channel");
	} else {
		set_ok(&cases[casi], won->success);
	}
	return casi;
}

/*
 * runselect checks the arguments, finds room for the orders and sudogs and
 * runs selectgo.  With a deadline (deadline_timer), no cases wait for the
 * deadline alone, as Go's select with only a time.After case does.
 */
static inline __attribute__((always_inline)) int runselect(G *gp, const char *api, gort_case *cases, int n,
                                                           bool block, timer *deadline_timer)
{
	gort__checkpreempt(gp);
	if (n < 0 || (n > 0 && cases == NULL) || n > UINT16_MAX) {
		char msg[160];
		snprintf(msg, sizeof msg, "gort: %s: bad case array (NULL, or a count below 0 or above 65535)", api);
		gort__fatal(msg);
	}
	if (n == 0 && deadline_timer == NULL) {
		if (!block)
			return -1;
		gort__gopark(NULL, NULL, waitReasonSelectNoCases);
		gort__throw("unreachable");
	}
	uint16_t pollbuf[STACK_CASES], lockbuf[STACK_CASES];
	sudog sgbuf[STACK_CASES];
	hchan *chanbuf[STACK_CASES];
	uint16_t *pollorder = pollbuf, *lockorder = lockbuf;
	sudog *sgs = sgbuf;
	hchan **chans = chanbuf;
	if (n > STACK_CASES) {
		pollorder = malloc((size_t)n * sizeof *pollorder);
		lockorder = malloc((size_t)n * sizeof *lockorder);
		sgs = malloc((size_t)n * sizeof *sgs);
		chans = malloc((size_t)n * sizeof *chans);
		if (pollorder == NULL || lockorder == NULL || sgs == NULL || chans == NULL)
			gort__throw("out of memory in select");
	}
	for (int i = 0; i < n; i++) {
		chans[i] = chanof(cases[i].chan); /* a freed channel's handle is a fatal error */
		if (cases[i].dir != GORT_SEND && cases[i].dir != GORT_RECV &&
		    (cases[i].dir != 0 || cases[i].chan != NULL)) {
			char msg[160];
			snprintf(msg, sizeof msg, "gort: %s: a case's dir is neither GORT_SEND nor GORT_RECV", api);
			gort__fatal(msg);
		}
	}
	int chosen = selectgo(gp, cases, chans, n, block, deadline_timer, pollorder, lockorder, sgs);
	if (n > STACK_CASES) {
		free(pollorder);
		free(lockorder);
		free(sgs);
		free(chans);
	}
	return chosen;
}

int gort_select(gort_case *cases, int n, bool block)
{
	G *gp = gort__current_goroutine("gort_select");
	return runselect(gp, "gort_select", cases, n, block, NULL);
}

/* The deadline's timer lives in this frame: selectgo disarms it, and waits
 * for any firing of it to finish, before it returns. */
static int select_until(G *gp, const char *api, gort_case *cases, int n, int64_t deadline)
{
	timer t;
	memset(&t, 0, sizeof t);
	t.f = fire_select;
	t.g = gp;
	t.when = deadline;
	return runselect(gp, api, cases, n, true, &t);
}

int gort_select_deadline(gort_case *cases, int n, int64_t deadline)
{
	G *gp = gort__current_goroutine("gort_select_deadline");
	if (deadline == 0)
		return runselect(gp, "gort_select_deadline", cases, n, true, NULL);
	return select_until(gp, "gort_select_deadline", cases, n, deadline);
}

int gort_select_timeout(gort_case *cases, int n, int64_t timeout)
{
	G *gp = gort__current_goroutine("gort_select_timeout");
	int64_t now = gort__nanotime();
	int64_t deadline = timeout <= 0 ? now : timeout > INT64_MAX - now ? INT64_MAX : now + timeout;
	return select_until(gp, "gort_select_timeout", cases, n, deadline);
}
