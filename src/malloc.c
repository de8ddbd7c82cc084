/*
 * malloc.c - allocation from the garbage-collected heap (Go's malloc.go:
 * mallocgc, newobject, newarray).
 *
 * The path of a small object (32 KiB or less), Go's:
 *   1. round the size up to its class (msize.c) and pick the span class:
 *      the class, and whether the object may hold pointers (gort_new) or
 *      not (gort_new_noscan: the collector never reads it);
 *   2. the P's mcache has a span of that class: take its next free object
 *      from allocCache with one count-trailing-zeros (nextFreeFast) - no
 *      lock, no atomic;
 *   3. if the cache's word is used up, search its bitmap (nextFreeIndex);
 *      if the span is full, hand it back to its mcentral for one with
 *      room (refill) - which is where a collection is started, when the
 *      heap has grown to its goal (mgc.c);
 *   4. clear the object unless its memory is known zero.
 * A large object gets a span of its own from the heap (largeAlloc).
 *
 * Every object is zeroed: gort_new's contract, and the collector's too (a
 * stale word in a fresh object would be scanned as a pointer).
 */
#include <string.h>

#include "mheap.h"
#include "mprof_heap.h"
#include "trace.h"

uint64_t gort__zerobase; /* where every 0-byte allocation points, as Go's zerobase */

/* MAX_ALLOC: the largest request served (Go's maxAlloc on linux/amd64 is 2^48). */
#define MAX_ALLOC ((size_t)1 << 47)

static inline void *nextFreeFast(mspan *s)
{
	uint64_t ac = s->allocCache;
	if (ac == 0)
		return NULL;
	uint32_t bit = (uint32_t)__builtin_ctzll(ac);
	uint32_t result = s->freeindex + bit;
	if (result >= s->nelems)
		return NULL;
	uint32_t freeidx = result + 1;
	if (freeidx % 64 == 0 && freeidx != s->nelems)
		return NULL;
	s->allocCache = bit == 63 ? 0 : ac >> (bit + 1);
	s->freeindex = freeidx;
	s->allocCount++;
	return (void *)(s->startAddr + (uintptr_t)result * s->elemsize);
}

/* outofmemory: Go's message for a request the heap cannot ever serve. */
static __attribute__((noreturn, cold)) void outofmemory(size_t size)
{
	gort__printf("runtime: out of memory: cannot allocate %zu-byte block (%llu in use)\n", size,
	             (unsigned long long)gort__mheap.sys);
	gort__throw("out of memory");
}

static __attribute__((noinline, cold)) P *mallocgc_nop(G *gp, const char *api)
{
	if (gp == NULL || gp == &gp->m->g0)
		gort__not_a_goroutine(api);
	char msg[200];
	snprintf(msg, sizeof msg, "gort: %s between gort_entersyscall and gort_exitsyscall "
	                          "(a goroutine in a system call must not touch the heap)", api);
	gort__fatal(msg);
}

static __attribute__((noinline)) void *largeAlloc(mcache *c, size_t size, bool noscan)
{
	uintptr_t npages = (size + PAGE_SIZE - 1) >> PAGE_SHIFT;
	mspan *s = gort__mheap_alloc(npages, makeSpanClass(0, noscan));
	if (s == NULL)
		outofmemory(size);
	bool needzero = s->needzero;
	gort__mcentral_addlarge(s);
	atomic_fetch_add(&gort__heap_live, npages << PAGE_SHIFT);
	if (needzero)
		memset((void *)s->startAddr, 0, npages << PAGE_SHIFT);
	c->nlargealloc++;
	c->largebytes += npages << PAGE_SHIFT;
	return (void *)s->startAddr;
}

/* gc_due: has the heap reached the pacer's trigger (mgc.c)? */
static inline bool gc_due(void)
{
	return atomic_load_explicit(&gort__heap_live, memory_order_relaxed) >=
	           atomic_load_explicit(&gort__gc_trigger, memory_order_relaxed) &&
	       !atomic_load_explicit(&gort__gc_running, memory_order_relaxed);
}

static void *mallocgc(size_t size, bool noscan, const char *api)
{
	for (;;) {
		G *gp = gort__getg();
		P *pp = gp != NULL && gp != &gp->m->g0 ? gp->m->p : NULL;
		if (__builtin_expect(pp == NULL, 0))
			pp = mallocgc_nop(gp, api);
		if (size == 0)
			return &gort__zerobase;
		mcache *c = pp->mcache;
		if (size > MAX_SMALL_SIZE) {
			if (size > MAX_ALLOC)
				outofmemory(size);
			if (gc_due() && gort__gc_start(false))
				continue; /* we may run on another P now */
			void *p = largeAlloc(c, size, noscan);
			if (gort__traceon())
				gort__trace_heapalloc();
			gort__mprof_malloc(c, p, (size + PAGE_SIZE - 1) & ~(uintptr_t)(PAGE_SIZE - 1));
			return p;
		}
		uint8_t spc = makeSpanClass(size_to_class(size), noscan);
		mspan *s = c->alloc[spc];
		void *v = nextFreeFast(s);
		if (__builtin_expect(v == NULL, 0)) {
			uint32_t idx = gort__span_nextFreeIndex(s);
			if (idx == s->nelems) {
				if (gc_due() && gort__gc_start(false))
					continue;
				if (gort__traceon())
					gort__trace_gcsweepstart();
				gort__mcache_refill(c, spc);
				if (gort__traceon())
					gort__trace_refilled();
				s = c->alloc[spc];
				idx = gort__span_nextFreeIndex(s);
				gort__assert(idx < s->nelems, "mallocgc: a refilled span is full");
			}
			s->allocCount++;
			v = (void *)(s->startAddr + (uintptr_t)idx * s->elemsize);
		}
		if (s->needzero) {
			if (s->elemsize <= 32) { /* the common small nodes: no call */
				uint64_t *w = v;
				uintptr_t n = s->elemsize / 8; /* 1 to 4 words */
				w[0] = 0;
				if (n > 1)
					w[1] = 0;
				if (n > 2)
					w[2] = 0;
				if (n > 3)
					w[3] = 0;
			} else {
				memset(v, 0, s->elemsize);
			}
		}
		c->nmalloc++;
		c->smallbytes += s->elemsize;
		gort__mprof_malloc(c, v, s->elemsize);
		return v;
	}
}

void *gort_new(size_t size)
{
	return mallocgc(size, false, "gort_new");
}

void *gort_new_noscan(size_t size)
{
	return mallocgc(size, true, "gort_new_noscan");
}

void *gort_new_array(size_t n, size_t size)
{
	if (size != 0 && n > MAX_ALLOC / size)
		gort__panic("runtime error: makeslice: len out of range");
	return mallocgc(n * size, false, "gort_new_array");
}

void *gort_new_array_noscan(size_t n, size_t size)
{
	if (size != 0 && n > MAX_ALLOC / size)
		gort__panic("runtime error: makeslice: len out of range");
	return mallocgc(n * size, true, "gort_new_array_noscan");
}

/* keepalive: an opaque use of p, so the compiler keeps it live until here. */
__attribute__((noinline)) void gort_keepalive(const void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}
