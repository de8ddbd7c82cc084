/*
 * mheap.h - the garbage-collected heap's types, shared by its files (Go's
 * malloc.go, mheap.go, mcache.go, mcentral.go, sizeclasses.go, mgc*.go).
 *
 *   msize.c     the size classes: a small object's size rounds up to one
 *               of NUM_SIZE_CLASSES sizes, each carved from spans of a
 *               fixed number of pages
 *   mheap.c     pages: 64 MiB arenas mapped from the OS, the page map
 *               from any address to its span (what makes "does this word
 *               point into an object?" one lookup), runs of free pages,
 *               and scavenging (giving free pages back with madvise)
 *   mcentral.c  per span class, the spans with free objects and the
 *               full ones, each list split into swept and not yet swept
 *   mcache.c    per P, one span per span class to allocate from with no
 *               lock (the fast path of malloc.c)
 *   malloc.c    gort_new and its variants (Go's mallocgc)
 *   mgc.c       a collection: the world stopped, mark, the pacer (GOGC,
 *               GOMEMLIMIT), gctrace, the statistics
 *   mgcmark.c   the roots and the parallel, conservative mark
 *   mgcsweep.c  sweeping spans: lazily, as allocation needs them, and by
 *               a background sweeper
 *   mfinal.c    finalizers and the goroutine that runs them
 *
 * Lock order: mcentral.lock, then mheap.lock.  Nothing is allocated from
 * the heap with either held.
 */
#ifndef GORT_MHEAP_H
#define GORT_MHEAP_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "runtime2.h"

enum {
	PAGE_SHIFT = 13,
	PAGE_SIZE = 1 << PAGE_SHIFT,       /* 8 KiB, Go's page */
	MAX_SMALL_SIZE = 32 << 10,         /* larger objects get a span of their own */
	NUM_SIZE_CLASSES = 75,             /* class 0 is "large"; msize.c makes 74 */
	ARENA_SHIFT = 26,                  /* 64 MiB arenas, as Go's on linux/amd64 */
	ARENA_SIZE = 1 << ARENA_SHIFT,
	PAGES_PER_ARENA = ARENA_SIZE / PAGE_SIZE,
	ADDR_BITS = 48,                    /* user address space on x86-64 */
	ARENA_L1 = 1 << (ADDR_BITS - ARENA_SHIFT),
	NUM_SPAN_CLASSES = NUM_SIZE_CLASSES * 2,
};

/* span states (Go's mSpanState) */
enum { mSpanDead, mSpanInUse, mSpanFree };

typedef struct mspan mspan;
typedef struct mspanList {
	mspan *first, *last;
	size_t n;
} mspanList;

/*
 * mspan is a run of pages: free (on one of mheap's free lists) or in use,
 * holding objects of one span class (sizeclass<<1 | noscan) - or one large
 * object (class 0).  Objects are numbered 0..nelems; allocBits has a bit
 * set for each allocated one as of the last sweep, and every object below
 * freeindex counts as allocated (handed out since).  allocCache holds the
 * complement of allocBits from freeindex's 64-bit word on, shifted so that
 * bit 0 is freeindex: the fast path finds a free object with one ctz.
 */
struct mspan {
	/* first cache line: everything the mark reads of a span (greyobject),
	 * so that a candidate pointer costs one line of span metadata */
	uintptr_t startAddr;
	uintptr_t npages;
	uintptr_t elemsize;
	uint32_t divMul;        /* ceil(2^32 / elemsize): object index by multiply */
	uint32_t nelems;
	uint32_t freeindex;
	uint8_t spanclass;
	uint8_t state;
	uint64_t *allocBits;    /* nelems bits, rounded up to words (libc memory) */
	uint64_t *gcmarkBits;
	/* the rest: allocation and the lists */
	uint32_t allocCount;
	uint64_t allocCache;
	mspan *next, *prev;
	mspanList *list;        /* the list it is on, or NULL */
	bool needzero;          /* its memory may be dirty */
	bool scavenged;         /* free, and given back to the OS (reads as zero) */
	bool incache;           /* an mcache allocates from it */
	int64_t unusedsince;    /* free: since when (scavenging) */
	struct profspecial *profspecials; /* its heap-profiled objects (mprof_heap.c) */
} __attribute__((aligned(64)));
_Static_assert(offsetof(mspan, gcmarkBits) + sizeof(uint64_t *) <= 64,
               "mspan: the fields the mark reads must fit in its first cache line");

static inline uint8_t makeSpanClass(uint8_t sizeclass, bool noscan)
{
	return (uint8_t)(sizeclass << 1 | (noscan ? 1 : 0));
}
static inline uint8_t spanclass_sizeclass(uint8_t spc) { return spc >> 1; }
static inline bool spanclass_noscan(uint8_t spc) { return spc & 1; }

/* ---- msize.c ------------------------------------------------------------ */

extern uint32_t gort__class_to_size[NUM_SIZE_CLASSES];
extern uint8_t gort__class_to_npages[NUM_SIZE_CLASSES];
extern uint8_t gort__size_to_class8[MAX_SMALL_SIZE / 8 + 1]; /* by (size+7)/8 */
void gort__sizeclasses_init(void);

static inline uint8_t size_to_class(size_t size)
{
	return gort__size_to_class8[(size + 7) >> 3];
}

/* ---- mheap.c ------------------------------------------------------------ */

typedef struct heapArena {
	mspan *spans[PAGES_PER_ARENA]; /* in-use spans: every page; free ones: first and last */
} heapArena;

typedef struct mheap {
	mutex lock;
	mspanList free[128];       /* free spans of 1..127 pages, by size */
	mspanList freelarge;       /* free spans of 128 pages or more */
	heapArena **arenas;        /* ARENA_L1 entries, by address >> ARENA_SHIFT */
	_Atomic uintptr_t minaddr, maxaddr; /* the arenas' span: a quick filter */
	mspan *spanfree;           /* mspan structs for reuse (never given back) */
	uint32_t sweepgen;         /* +2 at every collection (the count gctrace reports is numgc) */
	/* statistics, bytes (under lock) */
	uint64_t sys;              /* mapped for the heap */
	uint64_t inuse;            /* in in-use spans */
	uint64_t released;         /* in free spans given back (or never touched) */
	uint64_t nscavenged;       /* bytes madvise'd, ever */
	uint64_t metadata;         /* span structs and bitmaps (libc memory) */
} mheap;

extern mheap gort__mheap;

void gort__mheap_init(void);
mspan *gort__mheap_alloc(uintptr_t npages, uint8_t spanclass);
void gort__mheap_free(mspan *s);
void gort__mheap_scavenge(uint64_t want, int64_t olderthan);
void gort__scavenge_tick(int64_t now); /* sysmon */

/* spanOfHeap: spanOf for a p already known to lie within [minaddr,
 * maxaddr) - the mark's per-word filter has checked that. */
static inline mspan *spanOfHeap(uintptr_t p)
{
	heapArena *ha = gort__mheap.arenas[p >> ARENA_SHIFT];
	if (ha == NULL)
		return NULL;
	mspan *s = ha->spans[(p & (ARENA_SIZE - 1)) >> PAGE_SHIFT];
	if (s == NULL || s->state != mSpanInUse || p < s->startAddr ||
	    p >= s->startAddr + (s->npages << PAGE_SHIFT))
		return NULL;
	return s;
}

/* spanOf: the in-use span holding address p, or NULL (no lock: a racy hint
 * outside a stopped world; exact with it stopped). */
static inline mspan *spanOf(uintptr_t p)
{
	if (p < atomic_load_explicit(&gort__mheap.minaddr, memory_order_relaxed) ||
	    p >= atomic_load_explicit(&gort__mheap.maxaddr, memory_order_relaxed))
		return NULL;
	return spanOfHeap(p);
}

static inline uint32_t objIndex(mspan *s, uintptr_t p)
{
	return (uint32_t)(((uint64_t)(p - s->startAddr) * s->divMul) >> 32);
}

static inline bool bit_get(const uint64_t *bits, uint32_t i)
{
	return (bits[i >> 6] >> (i & 63)) & 1;
}

/* isFree: object i of s is not allocated (Go's mspan.isFree). */
static inline bool span_isfree(mspan *s, uint32_t i)
{
	return i >= s->freeindex && !bit_get(s->allocBits, i);
}

static inline size_t bitwords(uint32_t nelems) { return (nelems + 63) / 64; }

/* ---- mcentral.c, mcache.c, mgcsweep.c ------------------------------------- */

typedef struct mcentral {
	mutex lock;
	uint8_t spanclass;
	/* swept this cycle / still to sweep: with free objects, and full */
	mspanList partial_swept, partial_unswept;
	mspanList full_swept, full_unswept;
} mcentral;

extern mcentral gort__mcentral[NUM_SPAN_CLASSES]; /* class 0: large objects */

void gort__mcentral_init(void);
mspan *gort__mcentral_cacheSpan(mcentral *c);
void gort__mcentral_uncacheSpan(mcentral *c, mspan *s);
void gort__mcentral_addlarge(mspan *s);

typedef struct mcache {
	mspan *alloc[NUM_SPAN_CLASSES];
	/* counters, folded into the totals at each collection and on request */
	uint64_t nmalloc, nlargealloc, largebytes, smallbytes;
	int64_t nextSample; /* bytes to allocate before the next heap profile sample */
} mcache;

extern mspan gort__emptymspan;
mcache *gort__allocmcache(void);
void gort__mcache_releaseAll(mcache *c);
void gort__mcache_refill(mcache *c, uint8_t spc);
void gort__span_refillAllocCache(mspan *s, uint32_t whichWord);
uint32_t gort__span_nextFreeIndex(mspan *s);

void list_init(mspanList *l);
void list_insert(mspanList *l, mspan *s);
void list_remove(mspanList *l, mspan *s);
void list_splice(mspanList *to, mspanList *from); /* all of from, to to's front */
static inline mspan *list_pop(mspanList *l)
{
	mspan *s = l->first;
	if (s != NULL)
		list_remove(l, s);
	return s;
}

bool gort__sweepspan(mspan *s, bool preserve); /* true: s was freed to the heap */
bool gort__sweepone(void);
void gort__finishsweep(void);
void gort__bgsweep_start(void);
void gort__bgsweep_wake(void);
extern _Atomic uint32_t gort__sweepers;
extern _Atomic uint64_t gort__nfreed, gort__nfreedbytes; /* by sweeping, ever */

/* ---- mgc.c, mgcmark.c, mfinal.c -------------------------------------------- */

extern _Atomic uint64_t gort__heap_live;  /* bytes allocated or cached since the last mark */
extern _Atomic uint64_t gort__gc_trigger; /* heap_live at which to collect */
extern _Atomic uint32_t gort__gc_running; /* a collection holds the world */
/* gc_start: collect, unless the GC CPU limiter puts off a collection the
 * heap's growth asked for (false: nothing stopped, still on the same P). */
bool gort__gc_start(bool forced);
int64_t gort__memlimit(void); /* GOMEMLIMIT in bytes, INT64_MAX when off */
void gort__gc_start_leak(void); /* a forced collection that is a leak check (mgcleak.c) */
void gort__limit_scavenge(void);
/* for gort_read_metrics (metrics.c) */
void gort__gc_alloc_totals(uint64_t *nmalloc, uint64_t *bytes, uint64_t *nforced, uint64_t *lastpause);
void gort__metrics_gcpause(int64_t ns);
/* where gcstat's goal, count and pauses are, for debuginfo.c (gort-top) */
void gort__gc_debugaddrs(uint64_t *goal, uint64_t *numgc, uint64_t *pauses);

/* The mark: markroots scans everything it is handed; the result is the
 * bytes marked. */
typedef struct markStats {
	uint64_t markedbytes, stackbytes, globalbytes, objects;
	int64_t workerns; /* CPU time of the mark, summed over its threads */
} markStats;
void gort__gcmark(G *self, uintptr_t selfsp, markStats *st);
void gort__markobject(uintptr_t p); /* marks (and scans) p: STW, after gcmark */
void gort__markdrain_serial(void);
bool gort__ismarked(uintptr_t p);
uint64_t gort__marked_bytes(void); /* by the last mark, finalized objects included */
void gort__scanblock_serial(uintptr_t b, uintptr_t n);

/* leaked goroutines (mgcleak.c): a collection that looks for them */
extern bool gort__gcleak_active;       /* this cycle is a leak check (set with the world stopped) */
void gort__gcleak_prepare(void);       /* gcmark, before the roots: the goroutines timers will wake */
bool gort__gcleak_holdback(G *gp);     /* gcmark: gp is blocked on a primitive - not a root yet */
void gort__gcleak_finish(void);        /* after gcmark: the fixed point, the leaked flagged */
void gort__scanstack_serial(G *gp);    /* mgcmark.c: gp's stack scanned after the mark */

/* finalizers */
void gort__finalizer_roots(void (*fn)(uintptr_t p, uintptr_t n, void *ctx), void *ctx);
int gort__finalizer_queue_unmarked(void); /* STW, after the mark */
void gort__finalizer_wake(void);
uint64_t gort__finalizer_count(void);

#endif /* GORT_MHEAP_H */
