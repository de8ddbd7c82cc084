/*
 * mgcsweep.c - sweeping (Go's mgcsweep.go).
 *
 * After a mark, a span's gcmarkBits say which of its objects survived.
 * Sweeping a span makes them its allocBits (the unmarked objects become
 * free), clears the mark bits for the next cycle, and gives the span back
 * to the heap if nothing in it survived.  It happens lazily: a collection
 * only moves every span to its class's "unswept" lists (mgc.c), and spans
 * are swept one at a time as allocation reaches them (mcentral.c) or as
 * the background sweeper - a thread of its own, woken after each
 * collection, yielding its CPU between batches - gets to them.  Whatever
 * is left when the next collection starts is swept then, with the world
 * stopped (finishsweep): a mark needs exact allocBits.
 *
 * Sweeping holds the span's central lock (mcentral.c says why).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "mheap.h"
#include "mprof_heap.h"
#include "trace.h"

_Atomic uint64_t gort__nfreed, gort__nfreedbytes;
static _Atomic uint32_t bgsweep_gen; /* bumped to wake the sweeper */
static pthread_once_t bgsweep_once = PTHREAD_ONCE_INIT;

/*
 * sweepspan sweeps s (its central's lock held, s on no list).  true: it
 * held nothing live and went back to the heap.  (preserve is Go's: keep
 * the span even if empty; unused here yet.)
 */
bool gort__sweepspan(mspan *s, bool preserve)
{
	gort__assert(!s->incache, "sweep: span is cached");
	size_t words = bitwords(s->nelems);
	uint32_t count = 0;
	for (size_t i = 0; i < words; i++)
		count += (uint32_t)__builtin_popcountll(s->gcmarkBits[i]);
	gort__assert(count <= s->allocCount, "sweep: more marked objects than allocated");
	uint32_t nfreed = s->allocCount - count;
	if (nfreed > 0) {
		atomic_fetch_add_explicit(&gort__nfreed, nfreed, memory_order_relaxed);
		atomic_fetch_add_explicit(&gort__nfreedbytes, (uint64_t)nfreed * s->elemsize,
		                          memory_order_relaxed);
		s->needzero = true;
	}
	if (s->profspecials != NULL)
		gort__mprof_sweepspan(s);
	if (gort__traceon())
		gort__trace_gcsweepspan(s->npages << PAGE_SHIFT, (uint64_t)nfreed * s->elemsize);
	uint64_t *t = s->allocBits;
	s->allocBits = s->gcmarkBits;
	s->gcmarkBits = t;
	memset(s->gcmarkBits, 0, words * sizeof(uint64_t));
	s->allocCount = count;
	s->freeindex = 0;
	gort__span_refillAllocCache(s, 0);
	if (count == 0 && !preserve) {
		free(s->allocBits);
		free(s->gcmarkBits);
		s->allocBits = s->gcmarkBits = NULL;
		gort__mheap_free(s);
		return true;
	}
	return false;
}

/* sweepcentral sweeps up to max unswept spans of c; returns how many. */
static int sweepcentral(mcentral *c, int max)
{
	int n = 0;
	gort__lock(&c->lock);
	for (; n < max; n++) {
		mspan *s = list_pop(&c->partial_unswept);
		if (s == NULL)
			s = list_pop(&c->full_unswept);
		if (s == NULL)
			break;
		if (!gort__sweepspan(s, false))
			list_insert(s->allocCount < s->nelems ? &c->partial_swept : &c->full_swept, s);
	}
	gort__unlock(&c->lock);
	return n;
}

/* sweepone sweeps a few spans of some class; false if none was left. */
bool gort__sweepone(void)
{
	static _Atomic uint32_t next;
	uint32_t start = atomic_fetch_add_explicit(&next, 1, memory_order_relaxed);
	for (uint32_t i = 0; i < NUM_SPAN_CLASSES; i++) {
		mcentral *c = &gort__mcentral[(start + i) % NUM_SPAN_CLASSES];
		if (sweepcentral(c, 8) > 0)
			return true;
	}
	return false;
}

/* finishsweep sweeps every span still unswept (the world stopped, at the
 * start of a collection: Go's finishsweep_m). */
void gort__finishsweep(void)
{
	for (int i = 0; i < NUM_SPAN_CLASSES; i++)
		while (sweepcentral(&gort__mcentral[i], 1 << 30) > 0)
			;
}

static void *bgsweep(void *arg)
{
	(void)arg;
	uint32_t seen = 0;
	for (;;) {
		while (atomic_load(&bgsweep_gen) == seen)
			gort__futexsleep((_Atomic uint32_t *)&bgsweep_gen, seen);
		seen = atomic_load(&bgsweep_gen);
		while (gort__sweepone())
			sched_yield(); /* background work: let mutators have the CPU */
		gort__limit_scavenge(); /* the spans it freed, if over GOMEMLIMIT */
	}
	return NULL;
}

static void bgsweep_init(void)
{
	gort__newosproc(bgsweep, NULL);
}

void gort__bgsweep_wake(void)
{
	pthread_once(&bgsweep_once, bgsweep_init);
	atomic_fetch_add(&bgsweep_gen, 1);
	gort__futexwakeup(&bgsweep_gen, 1);
}
