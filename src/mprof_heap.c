/*
 * mprof_heap.c - the heap profile's records (the allocation half of Go's
 * runtime/mprof.go): which objects are sampled, a bucket per stack with
 * their counts and bytes, allocated and freed, and the cycles that make a
 * profile show the heap as of the last collection.
 *
 *   gort_set_mem_profile_rate  runtime.MemProfileRate (512 KiB by default)
 *   gort__profilealloc   a sampled object: its stack, its bucket, and a
 *                        record on its span saying so (Go's special)
 *   gort__mprof_sweepspan  the sweeper: a sampled object not marked is
 *                        freed: its bucket counts it (Go's mProf_Free)
 *   gort__mprof_nextcycle/flush/postsweep   the cycles, from mgc.c
 *   gort__mprof_heap_records   a copy of the buckets, for pprof.c
 *   GORT_MEMPROFILE      a heap profile at exit (go test -memprofile)
 *
 * Sampling, Go's: each P's mcache counts down nextSample bytes; the
 * allocation that runs it out is sampled, and the next gap is drawn from
 * an exponential distribution of mean MemProfileRate, so that every byte
 * allocated has the same chance of being the one sampled whatever the
 * object sizes (a sample stands for rate bytes; pprof.c scales it back up
 * as Go's scaleHeapSample does).  Rate 1 samples every object.  A new P's
 * first allocation is sampled (its count starts at 0).
 *
 * Cycles, Go's: a malloc is counted in future[(cycle+2) % 3], a free in
 * future[(cycle+1) % 3].  Mark termination moves the cycle on (the world
 * stopped); once the world runs, future[cycle % 3] - the allocations made
 * before the mark, the frees of the sweep before it - is added to
 * "active", which is what a profile shows.  So the in-use numbers are
 * those of the last mark: an object allocated since, not yet known to be
 * live or dead, is not in them (an object freed at once would otherwise
 * show as in use until a collection).  gort_gc publishes what its own
 * sweep freed at once (postsweep), as runtime.GC does.  Before the first
 * collection a profile shows everything (Go's rule for an empty active).
 *
 * Locks: proflock, after a span's central lock (the sweeper holds that).
 * Buckets and span records are libc memory: nothing here allocates from
 * the gort heap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mprof_heap.h"
#include "pprof.h"

_Atomic int64_t gort__memprofilerate = 512 * 1024;

enum { NBUCKETS = 1024 };

typedef struct memcycle {
	uint64_t allocs, frees, alloc_bytes, free_bytes;
} memcycle;

typedef struct hbucket {
	struct hbucket *next;
	uint64_t hash;
	memcycle active, future[3];
	int nstk;
	uintptr_t stk[];
} hbucket;

/* A sampled object's record on its span (Go's specialprofile). */
typedef struct profspecial {
	struct profspecial *next;
	uint32_t index;     /* the object's index in its span */
	hbucket *b;
} profspecial;

static mutex proflock;
static hbucket *buckets[NBUCKETS];
static int nbuckets;
static _Atomic uint32_t cycle;   /* mark terminations since start-up */
static _Atomic bool flushed;     /* future[cycle % 3] is in active already */

int gort_set_mem_profile_rate(int rate)
{
	if (rate < 0)
		return (int)atomic_load(&gort__memprofilerate);
	return (int)atomic_exchange(&gort__memprofilerate, (int64_t)rate);
}

/* ---- sampling ----------------------------------------------------------------- */

/* log2(q) for q >= 1, to within 0.01: the exponent, and the mantissa's
 * by a quadratic (Go's fastlog2 is a table; a sampling gap needs no more). */
static double log2_approx(uint64_t q)
{
	int e = 63 - __builtin_clzll(q);
	double f = (double)q / (double)((uint64_t)1 << e) - 1.0; /* [0, 1) */
	return e + f * (1.3465557 - 0.3465557 * f);
}

/* nextsample: an exponential gap of mean rate bytes (Go's fastexprand):
 * -ln(u) * rate for u uniform in (0, 1]. */
static int64_t nextsample(int64_t rate)
{
	enum { BITS = 26 };
	uint64_t q = (gort__fastrand(gort__getm()) & ((1u << BITS) - 1)) + 1;
	double qlog = log2_approx(q) - BITS; /* log2(u), <= 0 */
	if (qlog > 0)
		qlog = 0;
	return (int64_t)(qlog * (-0.6931471805599453 * (double)rate)) + 1;
}

static uint64_t hashstk(const uintptr_t *stk, int n)
{
	uint64_t h = 0x6a09e667f3bcc909ull;
	for (int i = 0; i < n; i++) {
		h ^= stk[i];
		h *= 0x100000001b3ull;
		h ^= h >> 29;
	}
	return h;
}

static hbucket *stkbucket(const uintptr_t *stk, int n)
{
	assert_lock_held(&proflock);
	uint64_t h = hashstk(stk, n);
	hbucket **head = &buckets[h % NBUCKETS];
	for (hbucket *b = *head; b != NULL; b = b->next)
		if (b->hash == h && b->nstk == n && memcmp(b->stk, stk, (size_t)n * sizeof *stk) == 0)
			return b;
	hbucket *b = calloc(1, sizeof *b + (size_t)n * sizeof *stk);
	if (b == NULL)
		return NULL;
	b->hash = h;
	b->nstk = n;
	memcpy(b->stk, stk, (size_t)n * sizeof *stk);
	b->next = *head;
	*head = b;
	nbuckets++;
	return b;
}

/*
 * profilealloc: x (size bytes) is sampled.  Its span is in this P's cache
 * (or is x's own, a large object): no sweep can reach it before the next
 * collection, which cannot start while we are here - so its record list
 * is the P's to add to, under proflock for the readers.
 */
__attribute__((noinline)) void gort__profilealloc(mcache *c, void *x, uintptr_t size)
{
	int64_t rate = atomic_load_explicit(&gort__memprofilerate, memory_order_relaxed);
	c->nextSample = rate > 1 ? nextsample(rate) : 0;
	uintptr_t stk[PROF_MAXSTACK];
	int n = gort__prof_callers(stk, PROF_MAXSTACK);
	mspan *s = spanOf((uintptr_t)x);
	gort__assert(s != NULL, "profilealloc: object not in the heap");
	profspecial *sp = malloc(sizeof *sp);
	gort__lock(&proflock);
	hbucket *b = stkbucket(stk, n);
	if (b != NULL && sp != NULL) {
		memcycle *mc = &b->future[(atomic_load(&cycle) + 2) % 3];
		mc->allocs++;
		mc->alloc_bytes += size;
		sp->index = objIndex(s, (uintptr_t)x);
		sp->b = b;
		sp->next = s->profspecials;
		s->profspecials = sp;
		sp = NULL;
	}
	gort__unlock(&proflock);
	free(sp); /* out of memory: the sample is lost, the program goes on */
}

void gort__mprof_sweepspan(mspan *s)
{
	gort__lock(&proflock);
	uint32_t c = atomic_load(&cycle);
	profspecial **pp = &s->profspecials;
	while (*pp != NULL) {
		profspecial *sp = *pp;
		if (bit_get(s->gcmarkBits, sp->index)) {
			pp = &sp->next;
			continue;
		}
		memcycle *mc = &sp->b->future[(c + 1) % 3];
		mc->frees++;
		mc->free_bytes += s->elemsize;
		*pp = sp->next;
		free(sp);
	}
	gort__unlock(&proflock);
}

/* ---- cycles --------------------------------------------------------------------- */

static void add(memcycle *to, memcycle *from)
{
	to->allocs += from->allocs;
	to->frees += from->frees;
	to->alloc_bytes += from->alloc_bytes;
	to->free_bytes += from->free_bytes;
	*from = (memcycle){0};
}

static void flushlocked(uint32_t index)
{
	assert_lock_held(&proflock);
	for (int i = 0; i < NBUCKETS; i++)
		for (hbucket *b = buckets[i]; b != NULL; b = b->next)
			add(&b->active, &b->future[index]);
}

void gort__mprof_nextcycle(void)
{
	atomic_fetch_add(&cycle, 1);
	atomic_store(&flushed, false);
}

void gort__mprof_flush(void)
{
	if (atomic_exchange(&flushed, true))
		return;
	gort__lock(&proflock);
	flushlocked(atomic_load(&cycle) % 3);
	gort__unlock(&proflock);
}

void gort__mprof_postsweep(void)
{
	gort__lock(&proflock);
	flushlocked((atomic_load(&cycle) + 1) % 3);
	gort__unlock(&proflock);
}

/* ---- reading them out -------------------------------------------------------------- */

int gort__mprof_heap_records(memrecord **out)
{
	*out = NULL;
	gort__mprof_flush(); /* between a mark termination and its flush */
	for (;;) {
		gort__lock(&proflock);
		int want = nbuckets;
		gort__unlock(&proflock);
		memrecord *r = calloc((size_t)want + 1, sizeof *r);
		if (r == NULL)
			return -ENOMEM;
		gort__lock(&proflock);
		if (nbuckets > want) {
			gort__unlock(&proflock);
			free(r);
			continue;
		}
		bool clear = true;
		for (int i = 0; i < NBUCKETS && clear; i++)
			for (hbucket *b = buckets[i]; b != NULL; b = b->next)
				if (b->active.allocs != 0 || b->active.frees != 0)
					clear = false;
		int n = 0;
		for (int i = 0; i < NBUCKETS; i++)
			for (hbucket *b = buckets[i]; b != NULL; b = b->next) {
				if (clear) /* no collection yet: everything so far */
					for (int k = 0; k < 3; k++)
						add(&b->active, &b->future[k]);
				r[n].allocs = (int64_t)b->active.allocs;
				r[n].frees = (int64_t)b->active.frees;
				r[n].alloc_bytes = (int64_t)b->active.alloc_bytes;
				r[n].free_bytes = (int64_t)b->active.free_bytes;
				r[n].nstk = b->nstk < PROF_MAXSTACK ? b->nstk : PROF_MAXSTACK;
				memcpy(r[n].stk, b->stk, (size_t)r[n].nstk * sizeof b->stk[0]);
				n++;
			}
		gort__unlock(&proflock);
		*out = r;
		return n;
	}
}

/* ---- GORT_MEMPROFILE ---------------------------------------------------------------- */

static const char *envpath;

/* writeenv: what go test -memprofile does at the end: a collection, then
 * the heap profile (pprof.WriteHeapProfile). */
static void writeenv(void *unused)
{
	(void)unused;
	int fd = open(envpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0) {
		gort__printf("gort: GORT_MEMPROFILE=%s: %s; profile not written\n", envpath, strerror(errno));
		return;
	}
	gort_gc();
	int err = gort_pprof_lookup_write("heap", fd, 0);
	if (err != 0)
		gort__printf("gort: GORT_MEMPROFILE=%s: %s\n", envpath, gort_strerror(err));
	close(fd);
}

static void memprofile_atexit(void)
{
	G *gp = gort__getg();
	if (gp != NULL && gp == &gp->m->g0) {
		gort__printf("gort: GORT_MEMPROFILE: exit on the scheduler's stack: profile not written\n");
		return;
	}
	gort__as_goroutine(writeenv, NULL, "GORT_MEMPROFILE's exit handler");
}

/* heap_startenv: GORT_MEMPROFILERATE (go test -memprofilerate) and
 * GORT_MEMPROFILE (a file), from pprof_cpu.c's startenv. */
void gort__mprof_heap_startenv(void)
{
	const char *rate = getenv("GORT_MEMPROFILERATE");
	if (rate != NULL && rate[0] != '\0') {
		long v = gort__getenv_int("GORT_MEMPROFILERATE", -1);
		if (v >= 0)
			gort_set_mem_profile_rate(v > INT32_MAX ? INT32_MAX : (int)v);
	}
	const char *path = getenv("GORT_MEMPROFILE");
	if (path == NULL || path[0] == '\0')
		return;
	envpath = path;
	atexit(memprofile_atexit);
}
