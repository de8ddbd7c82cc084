/*
 * mcache.c - the per-P allocation cache (Go's mcache.go).
 *
 * Each P owns an mcache: one span per span class to carve objects from,
 * with no lock, because only the goroutine running on the P allocates from
 * it, and gort's own code is never preempted by signal (preempt.c), so an
 * allocation is never interrupted half-way by another on the same P.  An
 * empty slot holds emptymspan, whose allocCache is 0, so the fast path
 * needs no NULL check.  A collection takes every span back (releaseAll).
 */
#include <string.h>

#include "mheap.h"

mspan gort__emptymspan; /* nelems 0: never has room */

mcache *gort__allocmcache(void)
{
	mcache *c = calloc(1, sizeof *c);
	if (c == NULL)
		gort__throw("runtime: out of memory allocating an mcache");
	for (int i = 0; i < NUM_SPAN_CLASSES; i++)
		c->alloc[i] = &gort__emptymspan;
	return c;
}

/* refillAllocCache loads allocCache from allocBits' word whichWord,
 * complemented: a 1 is a free object (Go's mspan.refillAllocCache). */
void gort__span_refillAllocCache(mspan *s, uint32_t whichWord)
{
	s->allocCache = whichWord < bitwords(s->nelems) ? ~s->allocBits[whichWord] : 0;
}

static inline int ctz64(uint64_t x)
{
	return x == 0 ? 64 : __builtin_ctzll(x);
}

static inline uint64_t shr(uint64_t x, int n)
{
	return n >= 64 ? 0 : x >> n;
}

/*
 * nextFreeIndex: the index of the next free object at or after freeindex,
 * or nelems if there is none; advances freeindex past it (Go's
 * mspan.nextFreeIndex).
 */
uint32_t gort__span_nextFreeIndex(mspan *s)
{
	uint32_t sfreeindex = s->freeindex, snelems = s->nelems;
	if (sfreeindex == snelems)
		return sfreeindex;
	uint64_t aCache = s->allocCache;
	int bitIndex = ctz64(aCache);
	while (bitIndex == 64) {
		sfreeindex = (sfreeindex + 64) & ~(uint32_t)63;
		if (sfreeindex >= snelems) {
			s->freeindex = snelems;
			return snelems;
		}
		gort__span_refillAllocCache(s, sfreeindex / 64);
		aCache = s->allocCache;
		bitIndex = ctz64(aCache);
	}
	uint32_t result = sfreeindex + (uint32_t)bitIndex;
	if (result >= snelems) {
		s->freeindex = snelems;
		return snelems;
	}
	s->allocCache = shr(aCache, bitIndex + 1);
	sfreeindex = result + 1;
	if (sfreeindex % 64 == 0 && sfreeindex != snelems)
		gort__span_refillAllocCache(s, sfreeindex / 64);
	s->freeindex = sfreeindex;
	return result;
}

/* refill: c's span of class spc is full; hand it back and take another. */
void gort__mcache_refill(mcache *c, uint8_t spc)
{
	mspan *s = c->alloc[spc];
	if (s != &gort__emptymspan)
		gort__mcentral_uncacheSpan(&gort__mcentral[spc], s);
	c->alloc[spc] = &gort__emptymspan;
	s = gort__mcentral_cacheSpan(&gort__mcentral[spc]);
	if (s == NULL)
		gort__throw("out of memory");
	c->alloc[spc] = s;
}

/* releaseAll hands every cached span back (a collection starts, or the P
 * is retired). */
void gort__mcache_releaseAll(mcache *c)
{
	for (int i = 0; i < NUM_SPAN_CLASSES; i++) {
		mspan *s = c->alloc[i];
		if (s != &gort__emptymspan)
			gort__mcentral_uncacheSpan(&gort__mcentral[i], s);
		c->alloc[i] = &gort__emptymspan;
	}
}
