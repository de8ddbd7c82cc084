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
 * Checked as it goes: sellock and selparkcommit meet the channels in
 * ascending address order (duplicates adjacent, locked once); pass 2
 * queues on channels whose opposite queue pass 1 emptied; pass 3 is woken
 * through one of its own sudogs.  A GORT_DEBUG build also checks that the
 * poll order is a permutation and that the parked sudog list is the lock
 * order (check_orders, check_waiting).
 */
#include <stdlib.h>
#include <string.h>

#include "chan.h"

enum { STACK_CASES = 16 }; /* cases whose orders and sudogs fit on the stack */

static uintptr_t key(gort_case *cases, uint16_t i)
{
	return (uintptr_t)cases[i].chan;
}

static void sift_down(gort_case *cases, uint16_t *order, int root, int n)
{
	for (;;) {
		int child = 2 * root + 1;
		if (child >= n)
			return;
		if (child + 1 < n && key(cases, order[child + 1]) > key(cases, order[child]))
			child++;
		if (key(cases, order[root]) >= key(cases, order[child]))
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
static bool sort_by_channel(gort_case *cases, uint16_t *order, int n)
{
	if (n <= 16) {
		bool dups = false;
		for (int i = 1; i < n; i++) {
			uint16_t x = order[i];
			uintptr_t kx = key(cases, x), kprev = 0;
			int j = i;
			for (; j > 0 && (kprev = key(cases, order[j - 1])) > kx; j--)
				order[j] = order[j - 1];
			order[j] = x;
			dups |= j > 0 && kprev == kx;
		}
		return dups;
	}
	for (int i = n / 2 - 1; i >= 0; i--)
		sift_down(cases, order, i, n);
	for (int end = n - 1; end > 0; end--) {
		uint16_t t = order[0];
		order[0] = order[end];
		order[end] = t;
		sift_down(cases, order, 0, end);
	}
	return true;
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
static void shuffle_duplicates(M *mp, gort_case *cases, uint16_t *order, int n)
{
	for (int start = 0; start < n;) {
		int end = start + 1;
		while (end < n && key(cases, order[end]) == key(cases, order[start]))
			end++;
		for (int i = end - 1; i > start; i--) { /* Fisher-Yates over [start, end) */
			int j = start + (int)(gort__fastrand(mp) % (uint32_t)(i - start + 1));
			uint16_t t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
		start = end;
	}
}

/* sellock locks each distinct channel in lock order. */
static void sellock(gort_case *cases, uint16_t *lockorder, int n)
{
	hchan *last = NULL;
	for (int i = 0; i < n; i++) {
		hchan *c = cases[lockorder[i]].chan;
		gort__assert((uintptr_t)c >= (uintptr_t)last, "select: lock order not sorted by channel address");
		if (c != last)
			gort__spinlock(&c->lock);
		last = c;
	}
}

/* check_orders (GORT_DEBUG): pollorder holds each non-nil case exactly
 * once, and lockorder the same cases. */
static void check_orders(gort_case *cases, int n, uint16_t *pollorder, uint16_t *lockorder, int norder)
{
	uint8_t *seen = calloc((size_t)n, 1);
	if (seen == NULL)
		gort__throw("out of memory in select");
	for (int k = 0; k < norder; k++) {
		gort__assert(pollorder[k] < n && cases[pollorder[k]].chan != NULL && !(seen[pollorder[k]] & 1),
		             "select: poll order is not a permutation of the non-nil cases");
		seen[pollorder[k]] |= 1;
		gort__assert(lockorder[k] < n && !(seen[lockorder[k]] & 2),
		             "select: lock order is not a permutation of the non-nil cases");
		seen[lockorder[k]] |= 2;
	}
	for (int i = 0; i < n; i++)
		gort__assert(cases[i].chan == NULL || seen[i] == 3, "select: a non-nil case is missing from an order");
	free(seen);
}

/* check_waiting (GORT_DEBUG): gp->waiting lists the sudogs of the cases in
 * lock order, each queued on its case's channel. */
static void check_waiting(G *gp, gort_case *cases, uint16_t *lockorder, int norder, sudog *sgs)
{
	sudog *sg = gp->waiting;
	for (int k = 0; k < norder; k++, sg = sg->waitlink) {
		int i = lockorder[k];
		gort__assert(sg == &sgs[i] && sg->g == gp && sg->c == cases[i].chan && sg->isSelect,
		             "select: the waiting list is not the cases' sudogs in lock order");
	}
	gort__assert(sg == NULL, "select: the waiting list is longer than the cases");
}

static void selunlock(gort_case *cases, uint16_t *lockorder, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		hchan *c = cases[lockorder[i]].chan;
		if (i > 0 && c == cases[lockorder[i - 1]].chan)
			continue; /* unlock a duplicate once, at its first place */
		gort__spinunlock(&c->lock);
	}
}

/*
 * selparkcommit unlocks the channels of a parked select, on g0.  It walks
 * the goroutine's sudogs (in lock order) rather than the case array: the
 * moment the last channel is unlocked a waker may run the goroutine, whose
 * stack holds both.  A channel is unlocked only after its last sudog has
 * been passed, and nothing is touched after the final unlock.
 */
static bool selparkcommit(G *gp, void *unused)
{
	hchan *last = NULL;
	for (sudog *sg = gp->waiting; sg != NULL; sg = sg->waitlink) {
		gort__assert((uintptr_t)sg->c >= (uintptr_t)last, "select: sudogs not in lock order");
		if (sg->c != last && last != NULL)
			gort__spinunlock(&last->lock);
		last = sg->c;
	}
	if (last != NULL)
		gort__spinunlock(&last->lock);
	return true;
}

static void set_ok(gort_case *cas, bool ok)
{
	if (cas->ok != NULL)
		*cas->ok = ok;
}

/* Pass 1 for one case: proceed now if it can (holds every lock). */
static bool try_case(gort_case *cases, uint16_t *lockorder, int norder, int i)
{
	gort_case *cas = &cases[i];
	hchan *c = cas->chan;
	sudog *sg;
	if (cas->dir == GORT_RECV) {
		if ((sg = gort__waitq_dequeue(&c->sendq)) != NULL) {
			gort__chan_recv_from(c, sg, cas->elem);
			selunlock(cases, lockorder, norder);
			gort__goready(sg->g);
			set_ok(cas, true);
			return true;
		}
		if (c->qcount > 0) {
			gort__chan_bufrecv(c, cas->elem);
			selunlock(cases, lockorder, norder);
			set_ok(cas, true);
			return true;
		}
		if (c->closed) {
			selunlock(cases, lockorder, norder);
			gort__memclr(cas->elem, c->elemsize);
			set_ok(cas, false);
			return true;
		}
		return false;
	}
	if (c->closed) {
		selunlock(cases, lockorder, norder);
		gort__panic("send on closed channel");
	}
	if ((sg = gort__waitq_dequeue(&c->recvq)) != NULL) {
		gort__chan_send_to(c, sg, cas->elem);
		selunlock(cases, lockorder, norder);
		gort__goready(sg->g);
		return true;
	}
	if (c->qcount < c->dataqsiz) {
		gort__chan_bufsend(c, cas->elem);
		selunlock(cases, lockorder, norder);
		return true;
	}
	return false;
}

static int selectgo(G *gp, gort_case *cases, int n, bool block, uint16_t *pollorder,
                    uint16_t *lockorder, sudog *sgs)
{
	/* 1. the orders, without the nil-channel cases */
	M *mp = gp->m;
	int norder = 0;
	for (int i = 0; i < n; i++) {
		if (cases[i].chan == NULL)
			continue;
		/* insert i at a random place j of the permutation so far */
		int j = (int)(gort__fastrand(mp) % (uint32_t)(norder + 1));
		pollorder[norder] = pollorder[j];
		pollorder[j] = (uint16_t)i;
		lockorder[norder] = (uint16_t)i;
		norder++;
	}
	/* Sorted from the cases' own order, not the random poll order: the
	 * same select then sorts the same input each time, and the sort's
	 * branches become predictable.  Only cases on one channel then need
	 * their order made random. */
	if (sort_by_channel(cases, lockorder, norder))
		shuffle_duplicates(mp, cases, lockorder, norder);
	if (GORT_DEBUG)
		check_orders(cases, n, pollorder, lockorder, norder);

	/* 2. pass 1: anything ready? */
	sellock(cases, lockorder, norder);
	for (int k = 0; k < norder; k++)
		if (try_case(cases, lockorder, norder, pollorder[k]))
			return pollorder[k];
	if (!block) {
		selunlock(cases, lockorder, norder);
		return -1;
	}

	/* 3. pass 2: wait on every channel, park once */
	atomic_store(&gp->selectDone, 0);
	gp->param = NULL;
	sudog **link = &gp->waiting;
	for (int k = 0; k < norder; k++) {
		int i = lockorder[k];
		sudog *sg = &sgs[i];
		hchan *c = cases[i].chan;
		*sg = (sudog){.g = gp, .elem = cases[i].elem, .c = c, .isSelect = true};
		*link = sg;
		link = &sg->waitlink;
		/* pass 1 emptied the opposite queue: only our own sudogs are there */
		waitq *q = cases[i].dir == GORT_SEND ? &c->sendq : &c->recvq;
		waitq *opp = cases[i].dir == GORT_SEND ? &c->recvq : &c->sendq;
		gort__assert(opp->first == NULL || opp->first->g == gp,
		             "select: a channel has waiters to match, yet pass 1 found none");
		gort__waitq_enqueue(q, sg);
	}
	*link = NULL;
	if (GORT_DEBUG)
		check_waiting(gp, cases, lockorder, norder, sgs);
	gort__gopark(selparkcommit, NULL, waitReasonSelect);

	/* 4. pass 3: woken; leave every other queue */
	sellock(cases, lockorder, norder);
	atomic_store(&gp->selectDone, 0);
	sudog *won = gp->param;
	gp->param = NULL;
	gort__assert(won != NULL && won->g == gp && won->isSelect, "selectgo: woken without one of its sudogs");
	if (GORT_DEBUG)
		check_waiting(gp, cases, lockorder, norder, sgs);
	int casi = -1;
	for (int k = 0; k < norder; k++) {
		int i = lockorder[k];
		sudog *sg = &sgs[i];
		if (sg == won) {
			casi = i;
			continue;
		}
		hchan *c = cases[i].chan;
		gort__waitq_remove(cases[i].dir == GORT_SEND ? &c->sendq : &c->recvq, sg);
	}
	gp->waiting = NULL;
	gort__assert(casi >= 0, "selectgo: bad wakeup");
	gort__assert(won->c == cases[casi].chan && won->elem == NULL,
	             "selectgo: the winning sudog does not match its case");
	selunlock(cases, lockorder, norder);
	if (cases[casi].dir == GORT_SEND) {
		if (!won->success)
			gort__panic("send on closed channel");
	} else {
		set_ok(&cases[casi], won->success);
	}
	return casi;
}

int gort_select(gort_case *cases, int n, bool block)
{
	G *gp = gort__current_goroutine("gort_select");
	gort__checkpreempt(gp);
	if (n < 0 || (n > 0 && cases == NULL) || n > UINT16_MAX)
		gort__fatal("gort: gort_select: bad case array (NULL, or a count below 0 or above 65535)");
	if (n == 0) {
		if (!block)
			return -1;
		gort__gopark(NULL, NULL, waitReasonSelectNoCases);
		gort__throw("unreachable");
	}
	for (int i = 0; i < n; i++) {
		if (cases[i].dir != GORT_SEND && cases[i].dir != GORT_RECV)
			gort__fatal("gort: gort_select: a case's dir is neither GORT_SEND nor GORT_RECV");
		if (cases[i].chan != NULL)
			gort__chan_check(cases[i].chan);
	}

	uint16_t pollbuf[STACK_CASES], lockbuf[STACK_CASES];
	sudog sgbuf[STACK_CASES];
	uint16_t *pollorder = pollbuf, *lockorder = lockbuf;
	sudog *sgs = sgbuf;
	if (n > STACK_CASES) {
		pollorder = malloc((size_t)n * sizeof *pollorder);
		lockorder = malloc((size_t)n * sizeof *lockorder);
		sgs = malloc((size_t)n * sizeof *sgs);
		if (pollorder == NULL || lockorder == NULL || sgs == NULL)
			gort__throw("out of memory in select");
	}
	int chosen = selectgo(gp, cases, n, block, pollorder, lockorder, sgs);
	if (n > STACK_CASES) {
		free(pollorder);
		free(lockorder);
		free(sgs);
	}
	return chosen;
}
