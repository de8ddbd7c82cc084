/*
 * mprof_heap.h - the heap profile's hooks (mprof_heap.c: Go's mProf_Malloc,
 * mProf_Free and the profile's cycles in runtime/mprof.go), for malloc.c,
 * mgcsweep.c and mgc.c.  Each hook is one line at its call site.
 */
#ifndef GORT_MPROF_HEAP_H
#define GORT_MPROF_HEAP_H

#include "mheap.h"

/* runtime.MemProfileRate: bytes between samples on average; 1: every
 * object; 0: off.  Hidden: malloc's fast path reads it with one load. */
extern _Atomic int64_t gort__memprofilerate __attribute__((visibility("hidden")));

void gort__profilealloc(mcache *c, void *x, uintptr_t size);

/* mprof_malloc: after an allocation of size bytes (the object's, rounded
 * to its class) at x: counts down the P's bytes to the next sample, and
 * records a sample when they run out (Go's mallocgc tail). */
static inline void gort__mprof_malloc(mcache *c, void *x, uintptr_t size)
{
	int64_t rate = atomic_load_explicit(&gort__memprofilerate, memory_order_relaxed);
	if (__builtin_expect(rate > 0, 1)) {
		if (rate != 1 && (int64_t)size < c->nextSample)
			c->nextSample -= (int64_t)size;
		else
			gort__profilealloc(c, x, size);
	}
}

/* sweepspan: s is being swept (gcmarkBits final): its sampled objects
 * that were not marked are freed (mgcsweep.c, under s's central lock). */
void gort__mprof_sweepspan(mspan *s);

/* The cycles (Go's mProf_NextCycle, mProf_Flush, mProf_PostSweep): a
 * profile shows the heap as of the last collection. */
void gort__mprof_nextcycle(void); /* mark termination, the world stopped */
void gort__mprof_flush(void);     /* after the world started */
void gort__mprof_postsweep(void); /* gort_gc, the cycle swept */

#endif
