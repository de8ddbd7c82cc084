/*
 * mprof.c - the block and mutex profiles' records (the blocking half of
 * Go's runtime/mprof.go): a bucket per (profile, stack) holding a count
 * and a total delay, and Go's rules for which events are kept.
 *
 *   gort_set_block_profile_rate       runtime.SetBlockProfileRate
 *   gort_set_mutex_profile_fraction   runtime.SetMutexProfileFraction
 *   gort__blockevent     a goroutine was blocked for ns (gopark for
 *                        channels, select and sync.Cond; semacquire for the
 *                        rest of sync): kept with Go's blocksampled rule
 *   gort__mutexevent     an unlock woke a goroutine that had waited ns:
 *                        kept once in `fraction` events, on the unlocker's
 *                        stack (Go 1.19's rule)
 *   gort__prof_callers   the calling goroutine's stack, as the profiles
 *                        keep it
 *   gort__mprof_records  a copy of a profile's buckets, for pprof.c
 *
 * gort's clock runs in nanoseconds, so Go's "cycles" are nanoseconds here
 * and cycles/second is 1e9.  Both rates are 0 (off) by default, as in Go;
 * off, each event site costs one relaxed load of the rate and a branch.
 *
 * Events come from goroutines (never a signal handler): the stack is taken
 * with libgcc's unwinder on the goroutine's own stack, or from the P's
 * cache of the paths it unwound last, as the tracer's, and the buckets
 * are kept under a runtime lock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pprof.h"

_Atomic int64_t gort__blockprofilerate; /* ns; 1: every event */
_Atomic int64_t gort__mutexprofilerate; /* 1 in this many; 0: off */

enum { NBUCKETS = 1024 }; /* hash chains; buckets themselves are unbounded */

typedef struct bucket {
	struct bucket *next;
	uint64_t hash;
	bool block;      /* block profile (else mutex) */
	double count;    /* Go keeps it as a float: the block profile's unbiasing adds fractions */
	int64_t cycles;
	int nstk;
	uintptr_t stk[];
} bucket;

static mutex proflock;
static bucket *buckets[NBUCKETS];
static int nbuckets[2]; /* [block] */

/* ---- the rates ------------------------------------------------------------- */

void gort_set_block_profile_rate(int rate)
{
	/* Go converts ns to CPU ticks; gort's ticks are ns. */
	atomic_store(&gort__blockprofilerate, rate <= 0 ? 0 : (int64_t)rate);
}

int gort_set_mutex_profile_fraction(int rate)
{
	if (rate < 0)
		return (int)atomic_load(&gort__mutexprofilerate);
	return (int)atomic_exchange(&gort__mutexprofilerate, (int64_t)rate);
}

/* ---- stacks ------------------------------------------------------------------ */

/*
 * At block profile rate 1 every wait takes a stack, and libgcc's unwinder
 * costs ~150 ns a frame.  But a program blocks from a handful of call
 * paths, so each P keeps the paths it unwound last - the tracer's trick
 * (trace_event.c, gort__trace_curstack): a path is the return addresses
 * from prof_callers' own (slot0) up to the goroutine's entry, each with the
 * offset from slot0 at which it was found, and it is reused while every
 * return address is still there at its offset (each names its caller's
 * call site, whose frame size is fixed at that site; a frame sized at run
 * time breaks the chain and fails the check).  Every event comes through
 * the one call in saveblockevent, so the innermost return address tells
 * paths apart no better than nothing: paths are filed by depth (stack.hi -
 * slot0), a few ways a set.  The unwind and the check are callpath.c's.  GORT_DEBUG unwinds anyway and checks that
 * both agree.
 */
enum {
	MAX_UNWIND = PROF_MAXSTACK + 16,
	PATH_FRAMES = 24, /* a longer path is unwound every time */
	PATH_SETS = 32,
	PATH_WAYS = 4,
};

typedef struct profpath {
	int n;                       /* return addresses: pcs[0] at slot0; 0: empty */
	int lo, k;                   /* the stack kept: pcs[lo .. lo+k) (trimmed) */
	uintptr_t pcs[PATH_FRAMES];
	uint32_t offs[PATH_FRAMES];  /* where pcs[i] is, from slot0 */
} profpath;

struct profcache {
	profpath set[PATH_SETS][PATH_WAYS];
	uint8_t next[PATH_SETS];     /* the way to replace next */
};

/* trim: of gort's frames on top only the outermost - the API call the
 * program made, gort_chan_recv, or the slow path of an inline one,
 * gort__mutex_lockslow - and none of gort's at the bottom (the
 * goroutine's entry), as the tracer trims (trace_event.c).  A stack of
 * gort's frames only is kept whole: the runtime acting on its own is
 * still worth seeing.  The kept frames: pcs[*lo .. *lo + return). */
static int trim(const uintptr_t *pcs, int n, int *lo)
{
	int l = 0;
	while (l + 1 < n && gort__in_gort_text(pcs[l]) && gort__in_gort_text(pcs[l + 1]))
		l++;
	if (l + 1 < n)
		while (n > l + 1 && gort__in_gort_text(pcs[n - 1]))
			n--;
	else
		l = 0;
	*lo = l;
	return n - l;
}

/*
 * prof_callers: the caller's return addresses, innermost first, trimmed
 * (trim); from the P's cache of paths when the path is one it has seen.
 */
__attribute__((noinline)) int gort__prof_callers(uintptr_t *stk, int max)
{
	uintptr_t slot0 = (uintptr_t)__builtin_frame_address(0) + sizeof(uintptr_t);
	G *gp = gort__getg();
	P *pp = gp != NULL && gp != &gp->m->g0 ? gp->m->p : NULL;
	profpath *set = NULL;
	if (pp != NULL) {
		if (pp->profcache == NULL)
			pp->profcache = calloc(1, sizeof *pp->profcache); /* NULL: no cache */
		if (pp->profcache != NULL) {
			int s = (int)(((gp->stack.hi - slot0) >> 3) % PATH_SETS);
			set = pp->profcache->set[s];
			for (int w = 0; w < PATH_WAYS; w++) {
				profpath *p = &set[w];
				if (p->n == 0 || !gort__callpath_holds(p->pcs, p->offs, p->n, slot0, gp->stack.hi))
					continue;
				int k = p->k < max ? p->k : max;
				memcpy(stk, p->pcs + p->lo, (size_t)k * sizeof *stk);
				if (GORT_DEBUG) {
					uintptr_t pcs[MAX_UNWIND];
					uint32_t offs[MAX_UNWIND];
					bool whole;
					int n = gort__callpath_unwind(slot0, pcs, offs, MAX_UNWIND, &whole), lo;
					int kk = trim(pcs, n, &lo);
					gort__assert(kk == p->k && memcmp(pcs + lo, stk, (size_t)k * sizeof *stk) == 0,
					             "pprof: a cached stack is not the stack unwound");
				}
				return k;
			}
		}
	}
	uintptr_t pcs[MAX_UNWIND];
	uint32_t offs[MAX_UNWIND];
	bool whole;
	int n = gort__callpath_unwind(slot0, pcs, offs, MAX_UNWIND, &whole), lo;
	int k = trim(pcs, n, &lo);
	if (set != NULL && whole && n <= PATH_FRAMES) {
		int s = (int)(set - pp->profcache->set[0]) / PATH_WAYS;
		profpath *p = &pp->profcache->set[s][pp->profcache->next[s]++ % PATH_WAYS];
		*p = (profpath){.n = n, .lo = lo, .k = k};
		memcpy(p->pcs, pcs, (size_t)n * sizeof *pcs);
		memcpy(p->offs, offs, (size_t)n * sizeof *offs);
	}
	k = k < max ? k : max;
	memcpy(stk, pcs + lo, (size_t)k * sizeof *stk);
	return k;
}

/* ---- buckets ------------------------------------------------------------------ */

static uint64_t hashstk(bool block, const uintptr_t *stk, int n)
{
	uint64_t h = block ? 0x9e3779b97f4a7c15ull : 0x7f4a7c159e3779b9ull;
	for (int i = 0; i < n; i++) {
		h ^= stk[i];
		h *= 0x100000001b3ull;
		h ^= h >> 29;
	}
	return h;
}

/* stkbucket: the bucket of (block, stk), made if new (holds proflock);
 * NULL if out of memory: the event is lost, the program goes on. */
static bucket *stkbucket(bool block, const uintptr_t *stk, int n)
{
	assert_lock_held(&proflock);
	uint64_t h = hashstk(block, stk, n);
	bucket **head = &buckets[h % NBUCKETS];
	for (bucket *b = *head; b != NULL; b = b->next)
		if (b->hash == h && b->block == block && b->nstk == n &&
		    memcmp(b->stk, stk, (size_t)n * sizeof *stk) == 0)
			return b;
	bucket *b = calloc(1, sizeof *b + (size_t)n * sizeof *stk);
	if (b == NULL)
		return NULL;
	b->hash = h;
	b->block = block;
	b->nstk = n;
	memcpy(b->stk, stk, (size_t)n * sizeof *stk);
	b->next = *head;
	*head = b;
	nbuckets[block]++;
	return b;
}

/* saveblockevent: Go's, with the block profile's unbiasing (CL 299991): an
 * event shorter than the rate, kept with probability cycles/rate, counts
 * rate/cycles times and rate ns. */
static __attribute__((noinline)) void saveblockevent(int64_t cycles, int64_t rate, bool block)
{
	uintptr_t stk[PROF_MAXSTACK];
	int n = gort__prof_callers(stk, PROF_MAXSTACK);
	gort__lock(&proflock);
	bucket *b = stkbucket(block, stk, n);
	if (b != NULL) {
		if (block && cycles < rate) {
			b->count += (double)rate / (double)cycles;
			b->cycles += rate;
		} else {
			b->count++;
			b->cycles += cycles;
		}
	}
	gort__unlock(&proflock);
}

/* blocksampled: every event at least rate long; a shorter one with
 * probability cycles/rate (Go's rule). */
static bool blocksampled(int64_t cycles, int64_t rate)
{
	if (rate <= 0 || (rate > cycles && (int64_t)gort__fastrand(gort__getm()) % rate > cycles))
		return false;
	return true;
}

void gort__blockevent(int64_t cycles)
{
	if (cycles <= 0)
		cycles = 1;
	int64_t rate = atomic_load_explicit(&gort__blockprofilerate, memory_order_relaxed);
	if (blocksampled(cycles, rate))
		saveblockevent(cycles, rate, true);
}

void gort__mutexevent(int64_t cycles)
{
	if (cycles < 0)
		cycles = 0;
	int64_t rate = atomic_load_explicit(&gort__mutexprofilerate, memory_order_relaxed);
	if (rate > 0 && (int64_t)gort__fastrand(gort__getm()) % rate == 0)
		saveblockevent(cycles, rate, false);
}

/* ---- reading them out ------------------------------------------------------------ */

int gort__mprof_records(bool block, blockrecord **out)
{
	*out = NULL;
	for (;;) {
		gort__lock(&proflock);
		int want = nbuckets[block];
		gort__unlock(&proflock);
		blockrecord *r = calloc((size_t)want + 1, sizeof *r);
		if (r == NULL)
			return -ENOMEM;
		int n = 0;
		gort__lock(&proflock);
		if (nbuckets[block] > want) { /* grew meanwhile: again, bigger */
			gort__unlock(&proflock);
			free(r);
			continue;
		}
		for (int i = 0; i < NBUCKETS; i++)
			for (bucket *b = buckets[i]; b != NULL; b = b->next) {
				if (b->block != block)
					continue;
				r[n].count = (int64_t)b->count;
				r[n].cycles = b->cycles;
				r[n].nstk = b->nstk < PROF_MAXSTACK ? b->nstk : PROF_MAXSTACK;
				memcpy(r[n].stk, b->stk, (size_t)r[n].nstk * sizeof b->stk[0]);
				n++;
			}
		gort__unlock(&proflock);
		*out = r;
		return n;
	}
}
