/*
 * mcentral.c - the central free lists, one per span class (Go's
 * mcentral.go).
 *
 * An mcache that has used up its span of a class comes here for another
 * (cacheSpan) and hands back the old one (uncacheSpan).  Each class keeps
 * its spans on four lists: with free objects or full, each either swept
 * since the last collection or not.  A collection moves every span to the
 * "unswept" lists (mgc.c); cacheSpan takes a swept span with room if
 * there is one, else sweeps unswept ones until one has room (lazy
 * sweeping, as Go's), else asks the heap for a new span.  The background
 * sweeper (mgcsweep.c) sweeps what allocation has not reached.
 *
 * Every sweep of a span in a central list happens under that central's
 * lock, so a span is never swept twice, and once every central's lock has
 * been taken with no unswept span left, sweeping is over (finishsweep).
 * Class 0 (two span classes: scanned and not) holds the large objects'
 * spans, always "full".
 */
#include <string.h>

#include "mheap.h"

mcentral gort__mcentral[NUM_SPAN_CLASSES];

void gort__mcentral_init(void)
{
	for (int i = 0; i < NUM_SPAN_CLASSES; i++) {
		mcentral *c = &gort__mcentral[i];
		c->spanclass = (uint8_t)i;
		list_init(&c->partial_swept);
		list_init(&c->partial_unswept);
		list_init(&c->full_swept);
		list_init(&c->full_unswept);
	}
}

/* span_init lays out a fresh span of class spc: its objects, all free. */
static void span_init(mspan *s, uint8_t spc)
{
	uint8_t sc = spanclass_sizeclass(spc);
	s->spanclass = spc;
	if (sc == 0) {
		s->elemsize = s->npages << PAGE_SHIFT;
		s->nelems = 1;
		s->divMul = 0; /* every address is object 0 */
	} else {
		s->elemsize = gort__class_to_size[sc];
		s->nelems = (uint32_t)((s->npages << PAGE_SHIFT) / s->elemsize);
		s->divMul = (uint32_t)(((uint64_t)1 << 32) / s->elemsize + 1);
	}
	size_t words = bitwords(s->nelems);
	s->allocBits = calloc(words, sizeof(uint64_t));
	s->gcmarkBits = calloc(words, sizeof(uint64_t));
	if (s->allocBits == NULL || s->gcmarkBits == NULL)
		gort__throw("runtime: out of memory allocating span bitmaps");
	s->freeindex = 0;
	s->allocCount = 0;
	s->allocCache = ~(uint64_t)0;
}

/* grow: a new span for c from the heap (no lock held). */
static mspan *mcentral_grow(mcentral *c)
{
	uint8_t sc = spanclass_sizeclass(c->spanclass);
	mspan *s = gort__mheap_alloc(gort__class_to_npages[sc], c->spanclass);
	if (s == NULL)
		return NULL;
	span_init(s, c->spanclass);
	if (GORT_DEBUG) /* the multiply finds every object's index */
		for (uint32_t i = 0; i < s->nelems; i++)
			gort__assert(objIndex(s, s->startAddr + i * s->elemsize) == i &&
			                 objIndex(s, s->startAddr + (i + 1) * s->elemsize - 1) == i,
			             "mspan: divMul is wrong for this class");
	return s;
}

/* sweep_place sweeps s (under c's lock) and files it; true if it has room
 * (then it is not filed: the caller takes it). */
static bool sweep_place(mcentral *c, mspan *s, bool wantroom)
{
	if (gort__sweepspan(s, false))
		return false; /* empty: back to the heap */
	bool room = s->allocCount < s->nelems;
	if (room && wantroom)
		return true;
	list_insert(room ? &c->partial_swept : &c->full_swept, s);
	return false;
}

/* cacheSpan: a span of c's class with at least one free object, for an
 * mcache (Go's mcentral.cacheSpan). */
mspan *gort__mcentral_cacheSpan(mcentral *c)
{
	gort__lock(&c->lock);
	mspan *s = list_pop(&c->partial_swept);
	while (s == NULL && c->partial_unswept.first != NULL) {
		s = list_pop(&c->partial_unswept);
		if (!sweep_place(c, s, true))
			s = NULL;
	}
	/* Full spans may have been freed up by the last mark: sweep a few,
	 * not all (Go's spanBudget), before growing the heap instead. */
	for (int budget = 100; s == NULL && budget > 0 && c->full_unswept.first != NULL; budget--) {
		s = list_pop(&c->full_unswept);
		if (!sweep_place(c, s, true))
			s = NULL;
	}
	gort__unlock(&c->lock);
	if (s == NULL) {
		s = mcentral_grow(c);
		if (s == NULL)
			return NULL;
	}
	gort__assert(s->allocCount < s->nelems, "cacheSpan: span has no free objects");
	s->incache = true;
	/* The cache's free space counts as in use until handed back. */
	atomic_fetch_add(&gort__heap_live, (uint64_t)(s->nelems - s->allocCount) * s->elemsize);
	gort__span_refillAllocCache(s, s->freeindex / 64);
	s->allocCache >>= s->freeindex % 64;
	return s;
}

/* uncacheSpan: an mcache hands s back (Go's mcentral.uncacheSpan). */
void gort__mcentral_uncacheSpan(mcentral *c, mspan *s)
{
	gort__assert(s->incache, "uncacheSpan: span not cached");
	s->incache = false;
	atomic_fetch_sub(&gort__heap_live, (uint64_t)(s->nelems - s->allocCount) * s->elemsize);
	gort__lock(&c->lock);
	list_insert(s->allocCount < s->nelems ? &c->partial_swept : &c->full_swept, s);
	gort__unlock(&c->lock);
}

/* addlarge files a new large object's span (malloc.c). */
void gort__mcentral_addlarge(mspan *s)
{
	span_init(s, s->spanclass);
	s->freeindex = 1;
	s->allocCount = 1;
	s->allocCache = 0;
	mcentral *c = &gort__mcentral[s->spanclass];
	gort__lock(&c->lock);
	list_insert(&c->full_swept, s);
	gort__unlock(&c->lock);
}
