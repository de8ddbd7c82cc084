/*
 * proc.c - the scheduler (Go's proc.go).
 *
 *   G  a goroutine.      M  an OS thread.      P  a processor: the right to
 *   run goroutines, with a local run queue.  An M runs goroutines only
 *   while it holds a P; GOMAXPROCS is the number of Ps.  runtime2.h has
 *   the types; READING.md the reading order and the map of Go's names.
 *
 * The design is Go's ("Scalable Go Scheduler Design", Vyukov 2012):
 *   - Every P has a 256-slot run queue that only its owner writes at the
 *     tail, plus runnext, the G to run next.  Anyone may take from the
 *     head with CAS, which is how idle Ps steal half of a busy one's queue.
 *   - A global run queue under sched.lock takes overflow and is checked
 *     every 61st schedule, so it cannot starve.
 *   - An M out of work becomes "spinning" and looks for work to steal
 *     before it sleeps.  New work wakes an idle M (wakep) only if there is
 *     an idle P and no M is already spinning: spinning Ms are bounded, and
 *     the last one to stop spinning re-checks every queue, so no work is
 *     left behind while Ps sleep.
 *   - Every transition runs on g0, the M's own stack: gopark and Gosched
 *     switch to g0 (mcall), change the G's status there and call schedule,
 *     which finds the next G and switches to it (gogo).
 *
 * Verbs, in the order a G meets them:
 *   newproc          create a G, put it in runnext
 *   schedule         one round of the scheduler, on g0; never returns
 *   findrunnable     local queue, global queue, steal; else sleep
 *   execute          bind a stack on first run, switch to the G
 *   gopark/park_m    block the running G with a wait reason
 *   goready          make a blocked G runnable again
 *   gosched_m        yield: to the global queue
 *   goexit0          the G is done: free its stack, recycle the G
 *   runqput/runqget/runqgrab/runqsteal/runqputslow   the local queue
 *   globrunqput/globrunqget                          the global queue
 *   wakep/startm/stopm/handoffp/mexit                Ms coming and going
 *   acquirep/releasep/pidleput/pidleget/procresize   Ps coming and going
 *   stoptheworld/starttheworld                       GOMAXPROCS changes
 *   lockOSThread: stoplockedm/startlockedm           wired goroutines
 *   checkdead        the deadlock detector
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "runtime2.h"

#ifdef GORT_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

schedt gort__sched;
#define sched gort__sched

/* allp[0..gomaxprocs) are the Ps in use.  Read with the world running only by
 * Ms that hold a P (procresize runs with the world stopped), or through a
 * snapshot taken while holding one. */
P **_Atomic gort__allp;
static int32_t allpcap;
/* The arrays allp outgrew.  They are never freed (procresize says why),
 * but kept here, so that they are memory in use, not a leak: LeakSanitizer
 * reported the first one in every program that set GOMAXPROCS above 4.
 * The capacity doubles at each growth, so 32 entries are never filled. */
static P **outgrown_allp[32];
static int noutgrown;
_Atomic int32_t gort__gomaxprocs;
int32_t gort__ncpu;
#define allp gort__allp
#define gomaxprocs gort__gomaxprocs

static M m0;
static M *allm;              /* every M; guarded by sched.lock */
static int64_t nmfreed;      /* Ms that have exited; guarded by sched.lock */
static _Atomic bool mainStarted;
static _Atomic bool runtimeStarted;
static int32_t newprocs;     /* GOMAXPROCS for the next starttheworld */
static mutex worldlock;      /* one stop-the-world at a time */
static uint64_t randseed;

/* Every G ever made, dead or alive, for gort_numgoroutine and checkdead. */
static mutex allglock;
static G **allgs;
static size_t allgcap;
static _Atomic size_t allglen;

enum {
	GOID_BATCH = 16,   /* goroutine ids a P takes from sched.goidgen at once */
	GSLAB = 64,        /* Gs made together when the free lists are empty */
	STEAL_TRIES = 4,   /* passes over all Ps before giving up */
	MAX_MCOUNT = 10000,
};

/* The running G of this thread: gort__getg in runtime2.h reads it. */
__thread G *gort__tls_g;

/* ---- the verbs -------------------------------------------------------- */

static G *schedule(M *mp);
static G *findrunnable(M *mp, bool *inheritTime);
static G *execute(M *mp, G *gp, bool inheritTime);
static int64_t newproc(M *mp, int64_t parentgoid, uintptr_t pc, gort_func fn, void *arg,
                       const void *args, size_t size, size_t stacksize);
static void goexit1(void) __attribute__((noreturn));
static void runqput(P *pp, G *gp, bool next);
static G *runqget(P *pp, bool *inheritTime);
static bool runqempty(P *pp);
static G *runqsteal(P *pp, P *p2, bool stealRunNextG);
static void globrunqput(G *gp);
static void globrunqputhead(G *gp);
static G *globrunqget(P *pp, int32_t max);
static void wakep(void);
static void startm(P *pp, bool spinning);
static void stopm(M *mp);
static void handoffp(P *pp);
static void newm(P *pp, bool spinning);
static void mexit(M *mp) __attribute__((noreturn));
static void acquirep(M *mp, P *pp);
static P *releasep(M *mp);
static void pidleput(P *pp);
static P *pidleget(void);
static P *procresize(M *mp, int32_t nprocs);
static void stoplockedm(M *mp);
static void startlockedm(M *mp, G *gp);
static void checkdead(void);
static G *park_m(void *arg);
static void resetspinning(M *mp);
static void gcstopm(M *mp);
static void pstopped(P *pp);

/* ---- the current G ---------------------------------------------------- */

void gort__not_a_goroutine(const char *api)
{
	char msg[256];
	snprintf(msg, sizeof msg,
	         "gort: %s called from a thread the runtime does not own "
	         "(before gort_main, or from a thread gort did not create)",
	         api);
	gort__fatal(msg);
}

/* ---- G status ---------------------------------------------------------- */

uint32_t gort__readgstatus(G *gp)
{
	return atomic_load_explicit(&gp->atomicstatus, memory_order_acquire);
}

/*
 * casgstatus moves gp from status oldval to newval.  Every transition has a
 * single writer (the M running the G, or the one that took it from a run
 * queue), so a store suffices; the check is what matters: a G found in the
 * wrong status means the scheduler is about to run it twice or lose it.
 */
static void casgstatus(G *gp, uint32_t oldval, uint32_t newval)
{
	uint32_t cur = atomic_load_explicit(&gp->atomicstatus, memory_order_relaxed);
	if (__builtin_expect(cur != oldval, 0)) {
		gort__printf("runtime: casgstatus: goroutine %lld from %u to %u, but status is %u\n",
		             (long long)gp->goid, oldval, newval, cur);
		gort__throw("casgstatus: bad incoming values");
	}
	atomic_store_explicit(&gp->atomicstatus, newval, memory_order_release);
}

static const char *const waitreason_strings[waitReasonCount] = {
	[waitReasonZero] = "",
	[waitReasonGCAssistMarking] = "GC assist marking",
	[waitReasonIOWait] = "IO wait",
	[waitReasonChanReceiveNilChan] = "chan receive (nil chan)",
	[waitReasonChanSendNilChan] = "chan send (nil chan)",
	[waitReasonDumpingHeap] = "dumping heap",
	[waitReasonGarbageCollection] = "garbage collection",
	[waitReasonGarbageCollectionScan] = "garbage collection scan",
	[waitReasonPanicWait] = "panicwait",
	[waitReasonSelect] = "select",
	[waitReasonSelectNoCases] = "select (no cases)",
	[waitReasonGCAssistWait] = "GC assist wait",
	[waitReasonGCSweepWait] = "GC sweep wait",
	[waitReasonGCScavengeWait] = "GC scavenge wait",
	[waitReasonChanReceive] = "chan receive",
	[waitReasonChanSend] = "chan send",
	[waitReasonFinalizerWait] = "finalizer wait",
	[waitReasonForceGCIdle] = "force gc (idle)",
	[waitReasonSemacquire] = "semacquire",
	[waitReasonSleep] = "sleep",
	[waitReasonSyncCondWait] = "sync.Cond.Wait",
	[waitReasonSyncMutexLock] = "sync.Mutex.Lock",
	[waitReasonSyncRWMutexRLock] = "sync.RWMutex.RLock",
	[waitReasonSyncRWMutexLock] = "sync.RWMutex.Lock",
	[waitReasonTraceReaderBlocked] = "trace reader (blocked)",
	[waitReasonWaitForGCCycle] = "wait for GC cycle",
	[waitReasonGCWorkerIdle] = "GC worker (idle)",
	[waitReasonGCWorkerActive] = "GC worker (active)",
	[waitReasonPreempted] = "preempted",
	[waitReasonDebugCall] = "debug call",
	[waitReasonGCMarkTermination] = "GC mark termination",
	[waitReasonStoppingTheWorld] = "stopping the world",
	[waitReasonFlushProcCaches] = "flushing proc caches",
	[waitReasonTraceGoroutineStatus] = "trace goroutine status",
	[waitReasonTraceProcStatus] = "trace proc status",
	[waitReasonPageTraceFlush] = "page trace flush",
	[waitReasonCoroutine] = "coroutine",
	[waitReasonSyncWaitGroupWait] = "sync.WaitGroup.Wait",
};

const char *gort__waitreason_string(waitReason r)
{
	if ((unsigned)r >= waitReasonCount)
		return "unknown wait reason";
	return waitreason_strings[r];
}

/* ---- single-writer counters -------------------------------------------- */

/* Adds d to a counter that only its owner writes and others read racily. */
static inline void count_add(_Atomic int32_t *c, int32_t d)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + d,
	                      memory_order_relaxed);
}

/* ---- randomness ---------------------------------------------------------- */

/* fastrand: the M's generator (wyrand).  Every random scheduling choice
 * draws from it, so GORT_SEED fixes them all. */
uint32_t gort__fastrand(M *mp)
{
	mp->rand += 0xa0761d6478bd642full;
	__uint128_t t = (__uint128_t)mp->rand * (mp->rand ^ 0xe7037ed1a0b428dbull);
	return (uint32_t)((t >> 64) ^ t);
}

/*
 * stealOrder visits all Ps in a random order with no allocation: start at a
 * random P and step by a random stride coprime with the count, which
 * visits every P exactly once.
 */
static struct {
	uint32_t count;
	uint32_t *coprimes;
	uint32_t ncoprimes;
} stealOrder;

typedef struct randomEnum {
	uint32_t i, count, pos, inc;
} randomEnum;

static uint32_t gcd(uint32_t a, uint32_t b)
{
	while (b != 0) {
		uint32_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

static void stealorder_reset(uint32_t count)
{
	free(stealOrder.coprimes);
	stealOrder.coprimes = malloc(count * sizeof(uint32_t));
	gort__assert(stealOrder.coprimes != NULL, "out of memory");
	stealOrder.count = count;
	stealOrder.ncoprimes = 0;
	for (uint32_t i = 1; i <= count; i++)
		if (gcd(i, count) == 1)
			stealOrder.coprimes[stealOrder.ncoprimes++] = i;
}

static randomEnum stealorder_start(uint32_t r)
{
	return (randomEnum){0, stealOrder.count, r % stealOrder.count,
	                    stealOrder.coprimes[r % stealOrder.ncoprimes]};
}

static bool enum_done(randomEnum *e)
{
	return e->i == e->count;
}

static void enum_next(randomEnum *e)
{
	e->i++;
	e->pos = (e->pos + e->inc) % e->count;
}

/* ---- stack switches --------------------------------------------------- */

/*
 * Under AddressSanitizer every switch of stacks is announced, so that it
 * checks each goroutine against the right stack bounds.  Elsewhere these
 * compile to nothing.
 */
static inline void fiber_leave(void **fakestack, uintptr_t lo, uintptr_t hi)
{
#ifdef GORT_ASAN
	__sanitizer_start_switch_fiber(fakestack, (const void *)lo, hi - lo);
#else
	(void)fakestack, (void)lo, (void)hi;
#endif
}

static inline void fiber_arrive(void *fakestack)
{
#ifdef GORT_ASAN
	__sanitizer_finish_switch_fiber(fakestack, NULL, NULL);
#else
	(void)fakestack;
#endif
}

/*
 * mcall switches from the running G to its M's g0 stack and calls fn(gp)
 * there; fn returns the G to run next and the switch goes to it.  This G
 * resumes from here when some M later runs it.  g0 starts from its top
 * every time: nothing on g0 survives a switch back to a G.
 */
static void mcall(G *(*fn)(void *), bool exiting)
{
	G *gp = gort__getg();
	M *mp = gp->m;
	gort__assert(gp != &mp->g0, "mcall called on g0");
	fiber_leave(exiting ? NULL : &gp->asan_fakestack, mp->g0_lo, (uintptr_t)mp->g0_sp);
	gort__mcall(&gp->sched_sp, mp->g0_sp, fn, gp);
	fiber_arrive(gp->asan_fakestack);
}

/* enter_g0 opens every function mcall runs: it makes g0 the current G. */
static M *enter_g0(G *gp)
{
	M *mp = gp->m;
	fiber_arrive(NULL);
	gort__setg(&mp->g0);
	if (gp->stack_canary && !gort__stack_canary_ok(gp->stack))
		gort__stackoverflow_canary(gp);
	return mp;
}

/*
 * dropg: on g0, the G that was running leaves its M: it moves from
 * Grunning to status (runnable, waiting or dead) and curg is cleared.
 */
static void dropg(M *mp, G *gp, uint32_t status)
{
	assert_on_g0(mp);
	gort__assert(mp->curg == gp, "dropg: not the M's current G");
	casgstatus(gp, Grunning, status);
	mp->curg = NULL;
	gp->m = NULL;
}

/* ---- scheduling latency, sampled (metrics.c) ------------------------------ */

/*
 * lat_stamp: gp was just made runnable on pp.  One ready in SCHEDLAT_SAMPLE
 * per P is timed - the clock read costs ~20 ns, a hand-off ~11 ns - and
 * execute adds the time it waited to the running P's histogram.  (Go's
 * runtime/metrics /sched/latencies samples too: every 8th transition.)
 */
static inline void lat_stamp(P *pp, G *gp)
{
	if (__builtin_expect(++pp->metrics.readytick % SCHEDLAT_SAMPLE != 0, 1))
		return;
	gp->runnablesince = gort__nanotime();
	gp->latsample = true;
}

static __attribute__((noinline)) void lat_record(P *pp, G *gp)
{
	gp->latsample = false;
	uint64_t lat = (uint64_t)(gort__nanotime() - gp->runnablesince);
	int b = 0;
	if (lat >= 256) {
		b = 64 - __builtin_clzll(lat) - 8;
		if (b > SCHEDLAT_BUCKETS - 1)
			b = SCHEDLAT_BUCKETS - 1;
	}
	gort__pcount(&pp->metrics.schedlat[b], 1);
}

/* ---- Gs: creation, free lists, exit ------------------------------------ */

static void allgadd(G *gs, int n)
{
	gort__lock(&allglock);
	size_t len = atomic_load_explicit(&allglen, memory_order_relaxed);
	if (len + (size_t)n > allgcap) {
		size_t cap = allgcap ? allgcap * 2 : 1024;
		while (cap < len + (size_t)n)
			cap *= 2;
		G **a = realloc(allgs, cap * sizeof(G *));
		gort__assert(a != NULL, "out of memory");
		allgs = a;
		allgcap = cap;
	}
	for (int i = 0; i < n; i++)
		allgs[len + (size_t)i] = &gs[i];
	atomic_store_explicit(&allglen, len + (size_t)n, memory_order_release);
	gort__unlock(&allglock);
}

/*
 * New Gs are carved from 2 MiB arenas that the kernel may back with one
 * huge page: a burst of a million new goroutines then costs about a hundred
 * page faults rather than 50,000, and Gs visited in turn by the scheduler
 * do not miss the TLB one page at a time.  Gs are never freed, as in Go:
 * dead ones wait on free lists.  garena_* are guarded by sched.gflock.
 */
enum { GARENA_SIZE = 2 << 20 };
static G *garena_next, *garena_end;

static void garena_refill(void)
{
	size_t len = 2 * GARENA_SIZE;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		gort__throw("out of memory allocating goroutines");
	/* keep the 2 MiB-aligned middle, which a huge page can back */
	char *arena = (char *)(((uintptr_t)p + GARENA_SIZE - 1) & ~(uintptr_t)(GARENA_SIZE - 1));
	if (arena > p)
		munmap(p, (size_t)(arena - p));
	munmap(arena + GARENA_SIZE, (size_t)(p + len - (arena + GARENA_SIZE)));
	madvise(arena, GARENA_SIZE, MADV_HUGEPAGE);
	garena_next = (G *)arena;
	garena_end = garena_next + GARENA_SIZE / sizeof(G);
}

/*
 * forEachG calls fn(gp, ctx) for every G that is not dead, in creation
 * order.  It is for reports of a dying program, so it only tries the lock:
 * false means the failing code held it and nothing was visited.
 */
bool gort__forEachG(void (*fn)(G *gp, void *ctx), void *ctx)
{
	if (!gort__trylock(&allglock))
		return false;
	size_t n = atomic_load(&allglen);
	for (size_t i = 0; i < n; i++)
		if (gort__readgstatus(allgs[i]) != Gdead)
			fn(allgs[i], ctx);
	gort__unlock(&allglock);
	return true;
}

static void gfput(P *pp, G *gp);

/*
 * malg makes GSLAB fresh Gs when every free list is empty: one trip to the
 * locks per GSLAB goroutines.  Returns one and leaves the rest on pp's
 * free list.
 */
static G *malg(P *pp)
{
	gort__lock(&sched.gflock);
	if (garena_end - garena_next < GSLAB)
		garena_refill();
	G *gs = garena_next;
	garena_next += GSLAB;
	gort__unlock(&sched.gflock);
	for (int i = 0; i < GSLAB; i++)
		atomic_store_explicit(&gs[i].atomicstatus, Gdead, memory_order_relaxed);
	allgadd(gs, GSLAB);
	/* backwards, so that they come off the list (and get their ids) in
	 * allgs order, and dumps list goroutines in creation order */
	for (int i = GSLAB - 1; i >= 1; i--)
		gfput(pp, &gs[i]);
	return &gs[0];
}

static void gstack_reserve(gStack *s, size_t extra)
{
	if (s->n + extra <= s->cap)
		return;
	size_t cap = s->cap ? s->cap * 2 : 1024;
	while (cap < s->n + extra)
		cap *= 2;
	G **v = realloc(s->v, cap * sizeof(G *));
	gort__assert(v != NULL, "out of memory");
	s->v = v;
	s->cap = cap;
}

/* gfspill moves n free Gs from pp to the global list (holds sched.gflock). */
static void gfspill(P *pp, int32_t n)
{
	if (n == 0)
		return;
	int32_t have = pp->gfreecnt;
	gstack_reserve(&sched.gfree, (size_t)n);
	memcpy(&sched.gfree.v[sched.gfree.n], &pp->gfree[have - n], (size_t)n * sizeof(G *));
	sched.gfree.n += (size_t)n;
	atomic_store_explicit(&sched.ngfree, (int32_t)sched.gfree.n, memory_order_relaxed);
	count_add(&pp->gfreecnt, -n);
}

/*
 * gfput puts a dead G on pp's free list, spilling half of a full list to
 * the global one.  It checks here, where the G is still in this CPU's
 * cache, what newproc relies on when it takes the G back.
 */
static void gfput(P *pp, G *gp)
{
	gort__assert(gort__readgstatus(gp) == Gdead && gp->stack.lo == 0,
	             "gfput: bad status (not Gdead)");
	if (pp->gfreecnt == GFREE_MAX) {
		gort__lock(&sched.gflock);
		gfspill(pp, GFREE_MAX / 2);
		gort__unlock(&sched.gflock);
	}
	pp->gfree[pp->gfreecnt] = gp;
	count_add(&pp->gfreecnt, 1);
}

/* gfget takes a dead G from pp's free list, refilling it from the global one. */
static G *gfget(P *pp)
{
	if (pp->gfreecnt == 0 && atomic_load_explicit(&sched.ngfree, memory_order_relaxed) > 0) {
		gort__lock(&sched.gflock);
		size_t n = sched.gfree.n < GFREE_MAX / 2 ? sched.gfree.n : GFREE_MAX / 2;
		sched.gfree.n -= n;
		if (n > 0)
			memcpy(pp->gfree, &sched.gfree.v[sched.gfree.n], n * sizeof(G *));
		atomic_store_explicit(&sched.ngfree, (int32_t)sched.gfree.n, memory_order_relaxed);
		count_add(&pp->gfreecnt, (int32_t)n);
		gort__unlock(&sched.gflock);
	}
	if (pp->gfreecnt == 0)
		return NULL;
	count_add(&pp->gfreecnt, -1);
	return pp->gfree[pp->gfreecnt];
}

/* gfpurge moves all of pp's free Gs to the global list (pp is going away). */
static void gfpurge(P *pp)
{
	gort__lock(&sched.gflock);
	gfspill(pp, pp->gfreecnt);
	gort__unlock(&sched.gflock);
}

/*
 * newproc creates a goroutine running fn and puts it in mp's P's runnext,
 * so it runs as soon as its creator yields.  Steps:
 *   1. take a dead G from the free lists, or a fresh one;
 *   2. fill it in: function, argument (copied in if args), id, creator;
 *   3. runqput it as runnext, and wake an idle P if there is one.
 * No stack yet: execute binds one when the G first runs.
 */
static int64_t newproc(M *mp, int64_t parentgoid, uintptr_t pc, gort_func fn, void *arg,
                       const void *args, size_t size, size_t stacksize)
{
	if (fn == NULL)
		gort__fatal("go of nil func value");
	if (size > GORT_GO_ARGS_MAX)
		gort__fatal("gort: argument block larger than GORT_GO_ARGS_MAX bytes");
	if (args == NULL && size != 0)
		gort__fatal("gort: NULL argument block with nonzero size");
	P *pp = mp->p;
	gort__assert(pp != NULL, "newproc: no P");

	/* Free Gs were checked dead by gfput; reading one here would only
	 * wait for a cache line another CPU last wrote. */
	G *newg = gfget(pp);
	if (newg == NULL)
		newg = malg(pp);

	newg->fn = fn;
	newg->arg = arg;
	if (args != NULL) {
		memcpy(newg->args, args, size);
		newg->arg = newg->args;
	}
	newg->stacksize = stacksize;
	newg->parentgoid = parentgoid;
	newg->gopc = pc;
	newg->waitreason = waitReasonZero;
	if (pp->goidcache == pp->goidcacheend) {
		pp->goidcache = atomic_fetch_add(&sched.goidgen, GOID_BATCH) + 1;
		pp->goidcacheend = pp->goidcache + GOID_BATCH;
	}
	newg->goid = pp->goidcache++;
	newg->latsample = false;
	gort__pcount(&pp->metrics.nspawn, 1);
	lat_stamp(pp, newg);
	atomic_store_explicit(&newg->atomicstatus, Grunnable, memory_order_release);

	runqput(pp, newg, true);
	if (atomic_load_explicit(&mainStarted, memory_order_relaxed))
		wakep();
	return newg->goid;
}

/* spawn starts fn(arg) from inside the runtime (AfterFunc, on g0). */
int64_t gort__spawn(gort_func fn, void *arg)
{
	return newproc(gort__getm(), 0, 0, fn, arg, NULL, 0, 0);
}

/* goentry is the first C frame of every goroutine (from gort__gostart). */
__attribute__((visibility("hidden"), noreturn)) void gort__goentry(G *gp);
void gort__goentry(G *gp)
{
	fiber_arrive(NULL);
	gp->fn(gp->arg);
	goexit1();
}

/*
 * goexit0 finishes a goroutine, on g0: the G goes dead, its stack goes back
 * to the P's cache, the G to the P's free list.  A G that was still locked
 * to its thread takes the thread with it: the thread may carry state (a
 * changed uid, a namespace) that no other goroutine should inherit.
 */
static G *goexit0(void *arg)
{
	G *gp = arg;
	M *mp = enter_g0(gp);
	P *pp = mp->p;
	dropg(mp, gp, Gdead);
	bool locked = gp->lockedm != NULL;
	gp->lockedm = NULL;
	mp->lockedg = NULL;
	mp->lockedExt = 0;
	gp->fn = NULL;
	gp->arg = NULL;
	gp->paniconfault = false;
	gp->frame = NULL;
	gp->panic = NULL;
	gort__stackfree(pp, gp->stack, gp->stacksize);
	gp->stack = (stack){0, 0};
	gfput(pp, gp);
	if (locked)
		mexit(mp);
	return schedule(mp);
}

static void goexit1(void)
{
	mcall(goexit0, true);
	gort__throw("goexit1: dead goroutine resumed");
}

/* ---- the schedule loop --------------------------------------------------- */

/*
 * resetspinning: a spinning M found work.  It stops spinning, and wakes
 * another M, since it may have been the one spinner whose job was to
 * notice work that needs a P.
 */
static void resetspinning(M *mp)
{
	gort__assert(mp->spinning, "resetspinning: not a spinning m");
	mp->spinning = false;
	int32_t n = atomic_fetch_sub(&sched.nmspinning, 1) - 1;
	gort__assert(n >= 0, "findrunnable: negative nmspinning");
	wakep();
}

/* pstopped counts pp as stopped for stoptheworld, waking the stopper when
 * it is the last (holds sched.lock). */
static void pstopped(P *pp)
{
	assert_lock_held(&sched.lock);
	atomic_store(&pp->status, Pgcstop);
	if (--sched.stopwait == 0)
		gort__notewakeup(&sched.stopnote);
}

/* gcstopm: the world is stopping; give our P to the stopper and sleep. */
static void gcstopm(M *mp)
{
	gort__assert(atomic_load(&sched.gcwaiting), "gcstopm: not waiting for gc");
	if (mp->spinning) {
		mp->spinning = false;
		atomic_fetch_sub(&sched.nmspinning, 1);
	}
	P *pp = releasep(mp);
	gort__lock(&sched.lock);
	pstopped(pp);
	gort__unlock(&sched.lock);
	stopm(mp);
}

/*
 * schedule runs one round of the scheduler on g0: it finds a runnable G
 * and returns it, ready to run; mcall switches to it.  (Go's schedule
 * switches itself and never returns; returning keeps every call on g0
 * matched by a ret - see gort__mcall.)
 *   1. An M wired to a G (lockOSThread) runs only that G: hand the P on
 *      and sleep until the G is runnable again.
 *   2. findrunnable blocks until it has a G (and this M holds a P).
 *   3. A spinning M that found work stops spinning, and may wake another.
 *   4. A G wired to another M is handed to that M, with our P.
 */
static G *schedule(M *mp)
{
	assert_on_g0(mp);
	gort__assert(mp->curg == NULL, "schedule: holding a G");
	if (mp->lockedg != NULL) {
		stoplockedm(mp);
		return execute(mp, mp->lockedg, false);
	}
	for (;;) {
		bool inheritTime;
		G *gp = findrunnable(mp, &inheritTime);
		if (mp->spinning)
			resetspinning(mp);
		if (gp->lockedm != NULL) {
			startlockedm(mp, gp);
			continue;
		}
		return execute(mp, gp, inheritTime);
	}
}

/*
 * execute readies gp to run on mp: mark it running, bind a stack if this
 * is its first run, make it the thread's current G.  Returns gp, for
 * mcall to switch to.  inheritTime: gp takes over the current time slice
 * (it came from runnext) instead of starting a new scheduling tick.
 */
static G *execute(M *mp, G *gp, bool inheritTime)
{
	assert_on_g0(mp);
	mp->curg = gp;
	gp->m = mp;
	casgstatus(gp, Grunnable, Grunning);
	gort__pcount(&mp->p->metrics.nswitch, 1);
	if (__builtin_expect(gp->latsample, 0))
		lat_record(mp->p, gp);
	if (!inheritTime)
		atomic_store_explicit(&mp->p->schedtick,
		                      atomic_load_explicit(&mp->p->schedtick, memory_order_relaxed) + 1,
		                      memory_order_relaxed);
	if (gp->stack.lo == 0) {
		gp->stack = gort__stackalloc(mp->p, gp->stacksize);
		gp->stack_canary = gort__stack_needs_canary();
		gp->sched_sp = gort__gostartframe(gp->stack.hi, gp);
	}
	gort__setg(gp);
	fiber_leave(NULL, gp->stack.lo, gp->stack.hi);
	return gp;
}

/* checkrunqs_nop looks for work after this M gave up its P (see findrunnable).
 * Returns an idle P to run it with, or NULL. */
static P *checkrunqs_nop(P **allpsnap, int32_t n)
{
	for (int32_t i = 0; i < n; i++) {
		if (runqempty(allpsnap[i]))
			continue;
		gort__lock(&sched.lock);
		P *pp = pidleget();
		gort__unlock(&sched.lock);
		return pp;
	}
	return NULL;
}

/*
 * stealwork tries every P, in random order, STEAL_TRIES times; the last
 * pass also runs the due timers of the others (an idle P's timers have no
 * one else to run them) and may take a victim's runnext.  *stop is set if
 * the world is stopping or timers readied Gs onto our queue: the caller
 * starts over.
 */
static G *stealwork(M *mp, int64_t now, bool *stop)
{
	P *pp = mp->p;
	*stop = false;
	for (int i = 0; i < STEAL_TRIES; i++) {
		bool lastpass = i == STEAL_TRIES - 1;
		for (randomEnum e = stealorder_start(gort__fastrand(mp)); !enum_done(&e); enum_next(&e)) {
			if (atomic_load(&sched.gcwaiting)) {
				*stop = true;
				return NULL;
			}
			P *p2 = allp[e.pos];
			if (p2 == pp)
				continue;
			if (lastpass) {
				bool ran = false;
				gort__checktimers(p2, now, &ran);
				if (ran && !runqempty(pp)) {
					*stop = true; /* the timers readied Gs here */
					return NULL;
				}
			}
			G *gp = runqsteal(pp, p2, lastpass);
			if (gp != NULL) {
				gort__pcount(&pp->metrics.nsteal, 1);
				return gp;
			}
		}
	}
	return NULL;
}

/* run_all_timers runs the due timers of every P (the caller holds a P,
 * which receives the Gs they ready). */
static void run_all_timers(P **ps, int32_t n, int64_t now)
{
	for (int32_t i = 0; i < n; i++)
		gort__checktimers(ps[i], now, NULL);
}

/* earliest_timer: the earliest when over all Ps' timers, 0 if none. */
static int64_t earliest_timer(P **ps, int32_t n)
{
	int64_t first = 0;
	for (int32_t i = 0; i < n; i++) {
		int64_t w = atomic_load(&ps[i]->timer0when);
		if (w != 0 && (first == 0 || w < first))
			first = w;
	}
	return first;
}

/*
 * wakeNetPoller: a timer due at when was just added.  If an M sleeps in
 * netpoll past that, cut its sleep short; if none sleeps there, make sure
 * an M comes looking (it will sleep in netpoll until when).
 */
void gort__wakeNetPoller(int64_t when)
{
	if (atomic_load(&sched.lastpoll) == 0) {
		int64_t until = atomic_load(&sched.pollUntil);
		if (until == 0 || until > when)
			gort__netpollBreak();
	} else {
		wakep();
	}
}

/* Set on sysmon's thread while it counts as a running M (sysmon_netpoll). */
static __thread bool countedrunning;

/*
 * injectglist makes runnable the Gs that netpoll handed back (still
 * Gwaiting).  With no P, they all go on the global queue.  With a P, one
 * goes to the global queue for each idle P, so the Ms started for those Ps
 * find work at once; the rest stay on our local queue.
 *
 * The Gs are runnable before they are on a queue, and with no P before an
 * M is started for them: in that window the caller must count as a running
 * M, or checkdead, run by the last M going idle, would find them runnable
 * with every M idle.  An M does (it is not on the idle list while it runs
 * code); sysmon, no M, must say so (countedrunning).
 */
static void injectglist(P *pp, gList *list)
{
	if (list->n == 0)
		return;
	gort__assert(pp != NULL || gort__getm() != NULL || countedrunning,
	             "injectglist: readying Gs from a thread checkdead does not count as running");
	for (G *gp = list->head; gp != NULL; gp = gp->schedlink)
		casgstatus(gp, Gwaiting, Grunnable);
	int32_t idle = atomic_load(&sched.npidle);
	int32_t nglobal = pp == NULL ? list->n : (idle < list->n ? idle : list->n);
	gort__lock(&sched.lock);
	for (int32_t i = 0; i < nglobal; i++)
		globrunqput(gort__glist_pop(list));
	gort__unlock(&sched.lock);
	for (int32_t i = 0; i < nglobal && atomic_load(&sched.npidle) > 0; i++)
		startm(NULL, false);
	G *gp;
	while ((gp = gort__glist_pop(list)) != NULL)
		runqput(pp, gp, false);
	/* A P may have gone idle after we counted the idle ones: one more
	 * spinning M, if none looks already, rather than Gs left waiting
	 * behind ours (Go's injectglist hedges the same way). */
	wakep();
}

/*
 * pollnetwork looks at the network without blocking; it returns one G
 * whose descriptor became ready (runnable, for the caller to run) and
 * queues the others.  Worth a system call only while goroutines wait on
 * descriptors and no M is blocked in netpoll (that one gets the events).
 */
static G *pollnetwork(M *mp)
{
	if (atomic_load_explicit(&gort__netpollWaiters, memory_order_relaxed) == 0 ||
	    atomic_load_explicit(&sched.lastpoll, memory_order_relaxed) == 0)
		return NULL;
	gList list = {0};
	if (gort__netpoll(0, &list) == 0)
		return NULL;
	G *gp = gort__glist_pop(&list);
	injectglist(mp->p, &list);
	casgstatus(gp, Gwaiting, Grunnable);
	return gp;
}

/* becomespinning counts mp among the Ms looking for work (Go's
 * m.becomeSpinning). */
static void becomespinning(M *mp)
{
	gort__assert(!mp->spinning, "becomespinning: already spinning");
	mp->spinning = true;
	atomic_fetch_add(&sched.nmspinning, 1);
}

/*
 * netpoll_block: this M, with no P, is the poller (it set sched.lastpoll to
 * 0).  Steps:
 *   1. sleep in netpoll until the earliest timer (pollUntil), or until
 *      I/O or a break if there is none;
 *   2. take an idle P; without one, the readied Gs go to the global queue
 *      for the Ps that are busy, and the caller stops;
 *   3. with one, run every P's due timers - we slept for them, whatever
 *      our right to steal, or we would poll again at once for the same
 *      timers - and return a readied G, or NULL to look for work again.
 */
static G *netpoll_block(M *mp, int64_t pollUntil, bool wasSpinning)
{
	gort__assert(mp->p == NULL, "netpoll_block: holding a P");
	atomic_store(&sched.pollUntil, pollUntil);
	int64_t delay = -1;
	if (pollUntil != 0) {
		delay = pollUntil - gort__nanotime();
		if (delay < 0)
			delay = 0;
	}
	gList list = {0};
	gort__netpoll(delay, &list);
	atomic_store(&sched.pollUntil, 0);
	atomic_store(&sched.lastpoll, gort__nanotime());

	gort__lock(&sched.lock);
	P *pp = atomic_load(&sched.gcwaiting) ? NULL : pidleget();
	gort__unlock(&sched.lock);
	if (pp == NULL) {
		injectglist(NULL, &list);
		return NULL;
	}
	acquirep(mp, pp); /* holding a P: allp cannot change under us */
	run_all_timers(allp, atomic_load(&gomaxprocs), gort__nanotime());
	if (wasSpinning)
		becomespinning(mp);
	G *gp = gort__glist_pop(&list);
	if (gp == NULL)
		return NULL;
	injectglist(mp->p, &list);
	casgstatus(gp, Gwaiting, Grunnable);
	return gp;
}

/*
 * sleep_idle is findrunnable's last step, for an M that gave up its P with
 * nothing to run: timers pending or goroutines waiting on descriptors, and
 * no M polling yet - this one becomes the poller (netpoll_block); else
 * it makes sure the poller wakes for the earliest timer, and sleeps in
 * stopm.  Returns a G the poller readied, or NULL once this M holds a P
 * again and should look for work.
 */
static G *sleep_idle(M *mp, P **allpsnap, int32_t nsnap, bool wasSpinning)
{
	gort__assert(mp->p == NULL, "sleep_idle: holding a P");
	int64_t pollUntil = earliest_timer(allpsnap, nsnap);
	bool iowait = atomic_load(&gort__netpollWaiters) > 0;
	if ((pollUntil != 0 || iowait) && atomic_exchange(&sched.lastpoll, 0) != 0) {
		G *gp = netpoll_block(mp, pollUntil, wasSpinning);
		if (gp != NULL || mp->p != NULL)
			return gp;
	} else if (pollUntil != 0) {
		int64_t until = atomic_load(&sched.pollUntil);
		if (until == 0 || until > pollUntil)
			gort__netpollBreak(); /* the poller must wake earlier */
	}
	stopm(mp);
	return NULL;
}

/*
 * findrunnable returns a G to run, blocking until there is one.  Steps:
 *   1. if the world is stopping, stop (gcstopm) and start over;
 *   2. every 61st tick, one G from the global queue, so it cannot starve;
 *   3. the local queue (runnext first);
 *   4. the global queue;
 *   5. the network, without blocking (pollnetwork);
 *   6. steal from other Ps, if not too many Ms spin already;
 *   7. nothing: give the P back, and - if we were spinning - look at every
 *      queue once more, since work submitted while we were spinning woke
 *      nobody (the submitter saw us spinning);
 *   8. sleep (sleep_idle): in netpoll if timers are pending or goroutines
 *      wait on descriptors and no other M polls already (until the first
 *      timer, or until I/O if there is none), else in stopm until woken.
 */
static G *findrunnable(M *mp, bool *inheritTime)
{
	assert_on_g0(mp);
	for (;;) {
		P *pp = mp->p;
		G *gp;
		if (atomic_load(&sched.gcwaiting)) {
			gcstopm(mp);
			continue;
		}
		*inheritTime = false;

		/* Due timers first: they may ready Gs onto our queue.  (No clock
		 * read unless this P has timers.) */
		if (atomic_load_explicit(&pp->timer0when, memory_order_relaxed) != 0)
			gort__checktimers(pp, 0, NULL);

		if (atomic_load_explicit(&pp->schedtick, memory_order_relaxed) % 61 == 0 &&
		    atomic_load_explicit(&sched.runqsize, memory_order_relaxed) > 0) {
			gort__lock(&sched.lock);
			gp = globrunqget(pp, 1);
			gort__unlock(&sched.lock);
			if (gp != NULL)
				return gp;
		}

		if ((gp = runqget(pp, inheritTime)) != NULL)
			return gp;

		if (atomic_load_explicit(&sched.runqsize, memory_order_relaxed) != 0) {
			gort__lock(&sched.lock);
			gp = globrunqget(pp, 0);
			gort__unlock(&sched.lock);
			if (gp != NULL)
				return gp;
		}

		if ((gp = pollnetwork(mp)) != NULL)
			return gp;

		int32_t procs = atomic_load(&gomaxprocs);
		if (mp->spinning || 2 * atomic_load(&sched.nmspinning) < procs - atomic_load(&sched.npidle)) {
			if (!mp->spinning)
				becomespinning(mp);
			bool stop;
			gp = stealwork(mp, gort__nanotime(), &stop);
			if (gp != NULL)
				return gp;
			if (stop)
				continue;
		}

		/* Snapshot allp while we still hold a P: procresize cannot run. */
		P **allpsnap = allp;
		int32_t nsnap = procs;

		gort__lock(&sched.lock);
		if (atomic_load(&sched.gcwaiting)) {
			gort__unlock(&sched.lock);
			continue;
		}
		if (sched.runqsize != 0) {
			gp = globrunqget(pp, 0);
			gort__unlock(&sched.lock);
			return gp;
		}
		gort__assert(releasep(mp) == pp, "findrunnable: wrong p");
		pidleput(pp);
		gort__unlock(&sched.lock);

		bool wasSpinning = mp->spinning;
		if (mp->spinning) {
			mp->spinning = false;
			int32_t n = atomic_fetch_sub(&sched.nmspinning, 1) - 1;
			gort__assert(n >= 0, "findrunnable: negative nmspinning");
			pp = checkrunqs_nop(allpsnap, nsnap);
			if (pp != NULL) {
				acquirep(mp, pp);
				becomespinning(mp);
				continue;
			}
		}

		if ((gp = sleep_idle(mp, allpsnap, nsnap, wasSpinning)) != NULL)
			return gp;
	}
}

/* ---- parking and readying ------------------------------------------------ */

/*
 * gopark blocks the running goroutine with a wait reason.  On g0, after
 * the G is marked waiting, unlockf(gp, lock) runs: it releases whatever
 * lock protected the decision to block, so a waker cannot see the G before
 * it is really parked.  If unlockf returns false the G resumes at once.
 * Every blocking primitive is built on this and goready.
 */
void gort__gopark(unlockFunc unlockf, void *lock, waitReason reason)
{
	G *gp = gort__getg();
	M *mp = gp->m;
	gort__assert(gp != &mp->g0, "gopark on g0");
	gort__assert(gort__readgstatus(gp) == Grunning, "gopark: bad g status");
	mp->waitlock = lock;
	mp->waitunlockf = unlockf;
	gp->waitreason = (uint8_t)reason;
	gp->waitsince = gort__coarsenow();
	mcall(park_m, false);
}

static G *park_m(void *arg)
{
	G *gp = arg;
	M *mp = enter_g0(gp);
	dropg(mp, gp, Gwaiting);
	unlockFunc fn = mp->waitunlockf;
	if (fn != NULL) {
		bool ok = fn(gp, mp->waitlock);
		mp->waitunlockf = NULL;
		mp->waitlock = NULL;
		if (!ok) {
			casgstatus(gp, Gwaiting, Grunnable);
			return execute(mp, gp, true);
		}
	}
	return schedule(mp);
}

/* goready makes gp runnable, next on the current P: the readier's time
 * slice passes to it, as in a channel handoff. */
void gort__goready(G *gp)
{
	M *mp = gort__getm();
	gort__assert(mp->p != NULL, "goready: no P");
	casgstatus(gp, Gwaiting, Grunnable);
	lat_stamp(mp->p, gp);
	runqput(mp->p, gp, true);
	wakep();
}

static G *gosched_m(void *arg)
{
	G *gp = arg;
	M *mp = enter_g0(gp);
	dropg(mp, gp, Grunnable);
	lat_stamp(mp->p, gp);
	gort__lock(&sched.lock);
	globrunqput(gp);
	gort__unlock(&sched.lock);
	wakep();
	return schedule(mp);
}

/* goyield_m: like gosched_m, but to the back of the local queue, so the G
 * this one just readied (in runnext) runs now, on this P. */
static G *goyield_m(void *arg)
{
	G *gp = arg;
	M *mp = enter_g0(gp);
	dropg(mp, gp, Grunnable);
	runqput(mp->p, gp, false);
	return schedule(mp);
}

void gort__goyield(void)
{
	mcall(goyield_m, false);
}

/*
 * sync_canspin: may sync.Mutex spin for a lock instead of parking?  Only a
 * few times, on a multicore machine, while some other P is running (the
 * holder, with luck) and our own queue is empty: spinning bets that the
 * holder lets go sooner than a park and wake would take.
 */
bool gort__sync_canspin(int iter)
{
	if (iter >= 4 || gort__ncpu <= 1)
		return false;
	if (atomic_load(&gomaxprocs) <= atomic_load(&sched.npidle) + atomic_load(&sched.nmspinning) + 1)
		return false;
	return runqempty(gort__getm()->p);
}

void gort__sync_dospin(void)
{
	for (int i = 0; i < 30; i++)
		__builtin_ia32_pause();
}

/* ---- the local run queue ------------------------------------------------ */

static inline G *slot_load(P *pp, uint32_t i)
{
	return atomic_load_explicit(&pp->runq[i % RUNQ_SIZE], memory_order_relaxed);
}

static inline void slot_store(P *pp, uint32_t i, G *gp)
{
	atomic_store_explicit(&pp->runq[i % RUNQ_SIZE], gp, memory_order_relaxed);
}

/* runqempty: is pp's queue empty, runnext included?  A G moving from
 * runnext into runq must not make both look empty, hence the re-read. */
static bool runqempty(P *pp)
{
	for (;;) {
		uint32_t head = atomic_load(&pp->runqhead);
		uint32_t tail = atomic_load(&pp->runqtail);
		G *next = atomic_load(&pp->runnext);
		if (tail == atomic_load(&pp->runqtail))
			return head == tail && next == NULL;
	}
}

/*
 * runqputslow moves half of a full local queue, plus gp, to the global
 * queue in one batch.  Fails (returns false) if a stealer moved the head
 * meanwhile: then there is room again and the caller retries.
 */
static bool runqputslow(P *pp, G *gp, uint32_t h, uint32_t t)
{
	G *batch[RUNQ_SIZE / 2 + 1];
	uint32_t n = (t - h) / 2;
	gort__assert(n == RUNQ_SIZE / 2, "runqputslow: queue is not full");
	for (uint32_t i = 0; i < n; i++)
		batch[i] = slot_load(pp, h + i);
	if (!atomic_compare_exchange_strong_explicit(&pp->runqhead, &h, h + n, memory_order_release,
	                                             memory_order_relaxed))
		return false;
	batch[n] = gp;
	gort__lock(&sched.lock);
	for (uint32_t i = 0; i <= n; i++)
		globrunqput(batch[i]);
	gort__unlock(&sched.lock);
	return true;
}

/*
 * runqput puts gp on pp's queue; with next, into runnext, kicking the old
 * runnext to the tail.  Only pp's owner calls it.  A full queue spills
 * half to the global queue.
 */
static void runqput(P *pp, G *gp, bool next)
{
	if (next) {
		/* Only the owner sets runnext non-NULL, so an exchange is enough. */
		G *old = atomic_exchange(&pp->runnext, gp);
		if (old == NULL)
			return;
		gp = old;
	}
	for (;;) {
		uint32_t h = atomic_load_explicit(&pp->runqhead, memory_order_acquire);
		uint32_t t = atomic_load_explicit(&pp->runqtail, memory_order_relaxed);
		if (t - h < RUNQ_SIZE) {
			slot_store(pp, t, gp);
			atomic_store_explicit(&pp->runqtail, t + 1, memory_order_release);
			return;
		}
		if (runqputslow(pp, gp, h, t))
			return;
	}
}

/*
 * runqhasroom: can one more G be readied onto pp - into runnext, the old
 * runnext moving to the tail - and the runnext still be moved to the tail
 * after, without runqputslow spilling half the queue to the global queue?
 * Owner only: nobody else adds to pp's queue, so the answer holds until
 * the owner adds.
 */
bool gort__runqhasroom(P *pp)
{
	uint32_t h = atomic_load_explicit(&pp->runqhead, memory_order_acquire);
	uint32_t t = atomic_load_explicit(&pp->runqtail, memory_order_relaxed);
	uint32_t n = t - h + (atomic_load_explicit(&pp->runnext, memory_order_relaxed) != NULL);
	return n < RUNQ_SIZE;
}

/* runqfull: would readying one more G onto pp spill half its queue to the
 * global queue (runnext taken, and no slot for the G it displaces)?  Owner
 * only. */
bool gort__runqfull(P *pp)
{
	uint32_t h = atomic_load_explicit(&pp->runqhead, memory_order_acquire);
	uint32_t t = atomic_load_explicit(&pp->runqtail, memory_order_relaxed);
	return t - h >= RUNQ_SIZE && atomic_load_explicit(&pp->runnext, memory_order_relaxed) != NULL;
}

/* runqkicknext moves pp's runnext, if any, to the tail of its queue, so it
 * waits its turn behind the Gs already queued - unless the queue is full:
 * spilling half of it to the global queue would cost far more waiting than
 * it saves.  Owner only. */
void gort__runqkicknext(P *pp)
{
	uint32_t h = atomic_load_explicit(&pp->runqhead, memory_order_acquire);
	uint32_t t = atomic_load_explicit(&pp->runqtail, memory_order_relaxed);
	G *next = atomic_load_explicit(&pp->runnext, memory_order_relaxed);
	if (next == NULL || t - h >= RUNQ_SIZE)
		return;
	/* Others may only clear runnext: a failed CAS means it was stolen. */
	if (atomic_compare_exchange_strong(&pp->runnext, &next, NULL))
		runqput(pp, next, false);
}

/* runqget takes the next G from pp's queue: runnext first.  Owner only. */
static G *runqget(P *pp, bool *inheritTime)
{
	G *next = atomic_load_explicit(&pp->runnext, memory_order_relaxed);
	/* Others may only clear runnext, so a failed CAS means it was stolen. */
	if (next != NULL && atomic_compare_exchange_strong(&pp->runnext, &next, NULL)) {
		*inheritTime = true;
		return next;
	}
	*inheritTime = false;
	for (;;) {
		uint32_t h = atomic_load_explicit(&pp->runqhead, memory_order_acquire);
		uint32_t t = atomic_load_explicit(&pp->runqtail, memory_order_relaxed);
		if (t == h)
			return NULL;
		G *gp = slot_load(pp, h);
		if (atomic_compare_exchange_weak_explicit(&pp->runqhead, &h, h + 1, memory_order_release,
		                                          memory_order_relaxed)) {
			/* Start fetching the next G while this one runs: it was
			 * most likely written by another CPU.  The slot may be
			 * stale; a prefetch of any address is harmless. */
			if (h + 1 != t) {
				G *next = slot_load(pp, h + 1);
				__builtin_prefetch(next, 1);
				__builtin_prefetch((char *)next + 64, 1);
			}
			return gp;
		}
	}
}

/*
 * runqgrab copies half of pp's queue into batch (a ring of RUNQ_SIZE slots
 * starting at batchHead) and commits by moving pp's head with CAS.  When
 * the queue is empty it may take runnext - but first gives pp's M a moment
 * to run it, since a G that just readied another usually blocks right
 * after, and stealing that G would only bounce it between Ps.
 */
static uint32_t runqgrab(P *pp, G *_Atomic *batch, uint32_t batchHead, bool stealRunNextG)
{
	for (;;) {
		uint32_t h = atomic_load_explicit(&pp->runqhead, memory_order_acquire);
		uint32_t t = atomic_load_explicit(&pp->runqtail, memory_order_acquire);
		uint32_t n = t - h;
		n = n - n / 2;
		if (n == 0) {
			if (!stealRunNextG)
				return 0;
			G *next = atomic_load(&pp->runnext);
			if (next == NULL)
				return 0;
			if (atomic_load(&pp->status) == Prunning) {
				struct timespec ts = {0, 3000};
				nanosleep(&ts, NULL);
			}
			if (!atomic_compare_exchange_strong(&pp->runnext, &next, NULL))
				continue;
			atomic_store_explicit(&batch[batchHead % RUNQ_SIZE], next, memory_order_relaxed);
			return 1;
		}
		if (n > RUNQ_SIZE / 2)
			continue; /* read an inconsistent h and t */
		for (uint32_t i = 0; i < n; i++)
			atomic_store_explicit(&batch[(batchHead + i) % RUNQ_SIZE], slot_load(pp, h + i),
			                      memory_order_relaxed);
		if (atomic_compare_exchange_strong_explicit(&pp->runqhead, &h, h + n, memory_order_release,
		                                            memory_order_relaxed))
			return n;
	}
}

/* runqsteal moves half of p2's queue to pp's and returns one G of it. */
static G *runqsteal(P *pp, P *p2, bool stealRunNextG)
{
	uint32_t t = atomic_load_explicit(&pp->runqtail, memory_order_relaxed);
	uint32_t n = runqgrab(p2, pp->runq, t, stealRunNextG);
	if (n == 0)
		return NULL;
	gort__pcount(&pp->metrics.nstolen, n);
	n--;
	G *gp = slot_load(pp, t + n);
	if (n == 0)
		return gp;
	uint32_t h = atomic_load_explicit(&pp->runqhead, memory_order_acquire);
	gort__assert(t - h + n < RUNQ_SIZE, "runqsteal: runq overflow");
	atomic_store_explicit(&pp->runqtail, t + n, memory_order_release);
	return gp;
}

/* ---- the global run queue (holds sched.lock) ------------------------------ */

static void gqueue_grow(gQueue *q)
{
	uint32_t cap = q->cap ? q->cap * 2 : 1024;
	G **buf = malloc(cap * sizeof(G *));
	gort__assert(buf != NULL, "out of memory");
	for (uint32_t i = 0; i < q->len; i++)
		buf[i] = q->buf[(q->head + i) & (q->cap - 1)];
	free(q->buf);
	q->buf = buf;
	q->cap = cap;
	q->head = 0;
}

static void globrunqput(G *gp)
{
	assert_lock_held(&sched.lock);
	gQueue *q = &sched.runq;
	if (q->len == q->cap)
		gqueue_grow(q);
	q->buf[(q->head + q->len++) & (q->cap - 1)] = gp;
	atomic_store_explicit(&sched.runqsize, (int32_t)q->len, memory_order_relaxed);
}

static void globrunqputhead(G *gp)
{
	assert_lock_held(&sched.lock);
	gQueue *q = &sched.runq;
	if (q->len == q->cap)
		gqueue_grow(q);
	q->head = (q->head - 1) & (q->cap - 1);
	q->buf[q->head] = gp;
	q->len++;
	atomic_store_explicit(&sched.runqsize, (int32_t)q->len, memory_order_relaxed);
}

static G *globrunqpop(void)
{
	gQueue *q = &sched.runq;
	G *gp = q->buf[q->head];
	q->head = (q->head + 1) & (q->cap - 1);
	q->len--;
	atomic_store_explicit(&sched.runqsize, (int32_t)q->len, memory_order_relaxed);
	return gp;
}

/*
 * globrunqget takes a fair share of the global queue (its length over
 * GOMAXPROCS, plus one; at most max if max > 0, and at most half a local
 * queue) into pp's local queue, and returns one G of it.
 */
static G *globrunqget(P *pp, int32_t max)
{
	assert_lock_held(&sched.lock);
	int32_t size = sched.runqsize;
	if (size == 0)
		return NULL;
	int32_t n = size / atomic_load(&gomaxprocs) + 1;
	if (n > size)
		n = size;
	if (max > 0 && n > max)
		n = max;
	if (n > RUNQ_SIZE / 2)
		n = RUNQ_SIZE / 2;
	G *gp = globrunqpop();
	while (--n > 0)
		runqput(pp, globrunqpop(), false);
	return gp;
}

/* ---- Ps ------------------------------------------------------------------ */

static void acquirep(M *mp, P *pp)
{
	gort__assert(mp->p == NULL, "acquirep: already in go");
	gort__assert(pp->m == NULL && atomic_load(&pp->status) == Pidle, "acquirep: invalid p state");
	mp->p = pp;
	pp->m = mp;
	atomic_store(&pp->status, Prunning);
}

static P *releasep(M *mp)
{
	P *pp = mp->p;
	gort__assert(pp != NULL, "releasep: no p");
	gort__assert(pp->m == mp && atomic_load(&pp->status) == Prunning, "releasep: invalid p state");
	mp->p = NULL;
	pp->m = NULL;
	atomic_store(&pp->status, Pidle);
	return pp;
}

/* pidleput puts pp on the idle list (holds sched.lock); it must have no work. */
static void pidleput(P *pp)
{
	assert_lock_held(&sched.lock);
	gort__assert(runqempty(pp), "pidleput: P has non-empty run queue");
	pp->link = sched.pidle;
	sched.pidle = pp;
	atomic_fetch_add(&sched.npidle, 1);
}

static P *pidleget(void)
{
	assert_lock_held(&sched.lock);
	P *pp = sched.pidle;
	if (pp != NULL) {
		sched.pidle = pp->link;
		atomic_fetch_sub(&sched.npidle, 1);
	}
	return pp;
}

/* pmetrics_fold adds the counters of from to sum. */
static void pmetrics_fold(pmetrics *sum, pmetrics *from)
{
	gort__pcount(&sum->nswitch, atomic_load_explicit(&from->nswitch, memory_order_relaxed));
	gort__pcount(&sum->nspawn, atomic_load_explicit(&from->nspawn, memory_order_relaxed));
	gort__pcount(&sum->nsteal, atomic_load_explicit(&from->nsteal, memory_order_relaxed));
	gort__pcount(&sum->nstolen, atomic_load_explicit(&from->nstolen, memory_order_relaxed));
	for (int i = 0; i < SCHEDLAT_BUCKETS; i++)
		gort__pcount(&sum->schedlat[i],
		             atomic_load_explicit(&from->schedlat[i], memory_order_relaxed));
}

static P *newP(int32_t id)
{
	P *pp = aligned_alloc(64, (sizeof(P) + 63) & ~(size_t)63);
	gort__assert(pp != NULL, "out of memory");
	memset(pp, 0, sizeof *pp);
	pp->id = id;
	atomic_store(&pp->status, Pgcstop);
	return pp;
}

/* pdestroy retires a P that GOMAXPROCS no longer covers: its runnable Gs go
 * to the head of the global queue in order, its timers to heir, its caches
 * to the global ones. */
static void pdestroy(P *pp, P *heir)
{
	assert_lock_held(&sched.lock);
	gort__movetimers(heir, pp);
	for (;;) {
		uint32_t h = atomic_load(&pp->runqhead), t = atomic_load(&pp->runqtail);
		if (h == t)
			break;
		atomic_store(&pp->runqtail, t - 1);
		globrunqputhead(slot_load(pp, t - 1));
	}
	G *next = atomic_exchange(&pp->runnext, NULL);
	if (next != NULL)
		globrunqputhead(next);
	gfpurge(pp);
	gort__stackcache_flush(pp);
	pmetrics_fold(&sched.retired, &pp->metrics);
	memset(&pp->metrics, 0, sizeof pp->metrics);
	atomic_store(&pp->status, Pdead);
}

/*
 * procresize changes the number of Ps to nprocs, with the world stopped
 * (or at start-up) and sched.lock held.  Steps:
 *   1. grow allp and make or revive the Ps it now covers;
 *   2. keep this M's P if it survives, else take allp[0];
 *   3. retire the Ps beyond nprocs (pdestroy);
 *   4. idle every other P with an empty queue; return those with work,
 *      linked through p->link, each with an idle M if there is one.
 */
static P *procresize(M *mp, int32_t nprocs)
{
	assert_lock_held(&sched.lock);
	int32_t old = atomic_load(&gomaxprocs);
	gort__assert(nprocs > 0, "procresize: invalid arg");

	if (nprocs > allpcap) {
		/* The old array is not freed: an M that gave up its P may still
		 * be reading its snapshot of it (checkrunqs_nop). */
		int32_t cap = allpcap ? allpcap : 4;
		while (cap < nprocs)
			cap = cap > INT32_MAX / 2 ? nprocs : cap * 2;
		P **a = calloc((size_t)cap, sizeof(P *));
		gort__assert(a != NULL, "out of memory");
		if (allp != NULL) {
			memcpy(a, allp, (size_t)allpcap * sizeof(P *));
			gort__assert(noutgrown < 32, "procresize: allp grew too often");
			outgrown_allp[noutgrown++] = allp;
		}
		allp = a;
		allpcap = cap;
	}
	for (int32_t i = old; i < nprocs; i++) {
		if (allp[i] == NULL)
			allp[i] = newP(i);
		atomic_store(&allp[i]->status, Pgcstop);
	}

	if (mp->p != NULL && mp->p->id < nprocs) {
		atomic_store(&mp->p->status, Prunning);
	} else {
		if (mp->p != NULL)
			mp->p->m = NULL;
		mp->p = NULL;
		P *pp = allp[0];
		pp->m = NULL;
		atomic_store(&pp->status, Pidle);
		acquirep(mp, pp);
	}

	for (int32_t i = nprocs; i < old; i++)
		pdestroy(allp[i], mp->p);
	atomic_store(&gomaxprocs, nprocs);

	P *runnable = NULL;
	for (int32_t i = nprocs - 1; i >= 0; i--) {
		P *pp = allp[i];
		if (mp->p == pp)
			continue;
		atomic_store(&pp->status, Pidle);
		if (runqempty(pp)) {
			pidleput(pp);
		} else {
			M *idle = sched.midle;
			if (idle != NULL) {
				sched.midle = idle->schedlink;
				sched.nmidle--;
			}
			pp->m = idle;
			pp->link = runnable;
			runnable = pp;
		}
	}
	stealorder_reset((uint32_t)nprocs);
	return runnable;
}

/* ---- Ms ------------------------------------------------------------------ */

static int64_t mcount(void)
{
	return sched.mnext - nmfreed;
}

/* mput puts mp on the idle list (holds sched.lock); the last M to go idle
 * runs the deadlock check. */
static void mput(M *mp)
{
	assert_lock_held(&sched.lock);
	mp->schedlink = sched.midle;
	sched.midle = mp;
	sched.nmidle++;
	checkdead();
}

static M *mget(void)
{
	assert_lock_held(&sched.lock);
	M *mp = sched.midle;
	if (mp != NULL) {
		sched.midle = mp->schedlink;
		sched.nmidle--;
	}
	return mp;
}

static void mpark(M *mp)
{
	gort__notesleep(&mp->park);
	gort__noteclear(&mp->park);
}

/* stopm puts mp to sleep until startm hands it a P (in mp->nextp). */
static void stopm(M *mp)
{
	assert_on_g0(mp);
	gort__assert(mp->p == NULL, "stopm holding p");
	gort__assert(!mp->spinning, "stopm spinning");
	gort__lock(&sched.lock);
	mput(mp);
	gort__unlock(&sched.lock);
	mpark(mp);
	acquirep(mp, mp->nextp);
	mp->nextp = NULL;
}

/*
 * startm runs pp (an idle P if NULL) on an idle M, or on a new one.  With
 * no idle P, nothing happens - and a caller that had counted a spinning M
 * in advance (wakep) takes the count back.
 */
static void startm(P *pp, bool spinning)
{
	gort__lock(&sched.lock);
	if (pp == NULL) {
		pp = pidleget();
		if (pp == NULL) {
			gort__unlock(&sched.lock);
			if (spinning) {
				int32_t n = atomic_fetch_sub(&sched.nmspinning, 1) - 1;
				gort__assert(n >= 0, "startm: negative nmspinning");
			}
			return;
		}
	}
	M *nmp = mget();
	gort__unlock(&sched.lock);
	if (nmp == NULL) {
		newm(pp, spinning);
		return;
	}
	gort__assert(!nmp->spinning, "startm: m is spinning");
	gort__assert(nmp->nextp == NULL, "startm: m has p");
	gort__assert(!spinning || runqempty(pp), "startm: p has runnable gs");
	nmp->spinning = spinning;
	nmp->nextp = pp;
	gort__notewakeup(&nmp->park);
}

/*
 * wakep starts a spinning M if there is an idle P and no M spins already.
 * One spinning M suffices: when it finds work it calls wakep again.
 */
static void wakep(void)
{
	if (atomic_load_explicit(&sched.npidle, memory_order_relaxed) == 0)
		return;
	int32_t zero = 0;
	if (atomic_load_explicit(&sched.nmspinning, memory_order_relaxed) != 0 ||
	    !atomic_compare_exchange_strong(&sched.nmspinning, &zero, 1))
		return;
	startm(NULL, true);
}

/*
 * handoffp finds a home for the P of an M that is about to block (or
 * exit): an M to run its work, or a spinning M if nobody looks for work,
 * or the stopper if the world is stopping, or else the idle list.
 */
static void handoffp(P *pp)
{
	if (!runqempty(pp) || atomic_load(&sched.runqsize) != 0) {
		startm(pp, false);
		return;
	}
	int32_t zero = 0;
	if (atomic_load(&sched.nmspinning) + atomic_load(&sched.npidle) == 0 &&
	    atomic_compare_exchange_strong(&sched.nmspinning, &zero, 1)) {
		startm(pp, true);
		return;
	}
	gort__lock(&sched.lock);
	if (atomic_load(&sched.gcwaiting)) {
		pstopped(pp);
		gort__unlock(&sched.lock);
		return;
	}
	if (sched.runqsize != 0) {
		gort__unlock(&sched.lock);
		startm(pp, false);
		return;
	}
	/* The last P going idle while goroutines wait on descriptors and no
	 * M polls: an M must take it, to sleep in netpoll for them. */
	if (atomic_load(&sched.npidle) == atomic_load(&gomaxprocs) - 1 &&
	    atomic_load(&sched.lastpoll) != 0 && atomic_load(&gort__netpollWaiters) > 0) {
		gort__unlock(&sched.lock);
		startm(pp, false);
		return;
	}
	pidleput(pp);
	gort__unlock(&sched.lock);
}

static void mcommoninit(M *mp, int64_t id)
{
	mp->id = id;
	mp->g0.m = mp;
	mp->g0.goid = 0;
	atomic_store(&mp->g0.atomicstatus, Grunning);
	mp->rand = randseed ^ ((uint64_t)(id + 1) * 0x9e3779b97f4a7c15ull);
	gort__fastrand(mp);
	mp->alllink = allm;
	allm = mp;
}

/* mstart1 is the first function on an M's g0; it returns the first G to run. */
static G *mstart1(void *arg)
{
	M *mp = arg;
	gort__setg(&mp->g0);
	mp->tid = gort__gettid();
	gort__minit_os();
	gort__minitsignals(mp, mp != &m0);
	if (mp->nextp != NULL) {
		acquirep(mp, mp->nextp);
		mp->nextp = NULL;
	}
	return schedule(mp);
}

/* g0_bounds finds the calling thread's stack, for the sanitizers. */
static uintptr_t thread_stack_lo(void)
{
	pthread_attr_t attr;
	void *addr = NULL;
	size_t size = 0;
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		pthread_attr_getstack(&attr, &addr, &size);
		pthread_attr_destroy(&attr);
	}
	return (uintptr_t)addr;
}

/*
 * mstart runs an M on the calling thread.  g0 is the thread's own stack,
 * from a little below this frame: mcall restarts it from that top every
 * time.  The context saved here is where mexit returns to, so that the
 * thread's start function returns normally and the thread ends cleanly.
 */
__attribute__((noinline)) static void mstart(M *mp)
{
	uintptr_t top = ((uintptr_t)__builtin_frame_address(0) - 4096) & ~(uintptr_t)15;
	mp->g0_sp = (void *)top;
	mp->g0_lo = thread_stack_lo();
	mp->g0.stack = (stack){mp->g0_lo, top};
	gort__mcall(&mp->exit_sp, mp->g0_sp, mstart1, mp);
}

static void *mstart_thread(void *arg)
{
	M *mp = arg;
	mstart(mp);
	/* Back from mexit: this M is gone. */
	gort__setg(NULL);
	free(mp);
	return NULL;
}

/* newm creates an M to run pp, on a new OS thread. */
static void newm(P *pp, bool spinning)
{
	M *mp = calloc(1, sizeof(M));
	gort__assert(mp != NULL, "out of memory");
	gort__lock(&sched.lock);
	if (mcount() >= sched.maxmcount) {
		gort__printf("runtime: program exceeds %d-thread limit\n", sched.maxmcount);
		gort__throw("thread exhaustion");
	}
	mcommoninit(mp, sched.mnext++);
	gort__unlock(&sched.lock);
	mp->nextp = pp;
	mp->spinning = spinning;
	gort__newosproc(mstart_thread, mp);
}

/*
 * mexit ends mp after its locked goroutine exited.  Its P is handed off.
 * The main thread cannot end without ending the process, so m0 is wedged
 * instead, asleep for good, as in Go.
 */
static void mexit(M *mp)
{
	assert_on_g0(mp);
	handoffp(releasep(mp));
	gort__lock(&sched.lock);
	if (mp == &m0) {
		sched.nmidlelocked++; /* counts as idle for checkdead */
		checkdead();
		gort__unlock(&sched.lock);
		mpark(mp);
		gort__throw("locked m0 woke up");
	}
	for (M **pm = &allm; *pm != NULL; pm = &(*pm)->alllink) {
		if (*pm == mp) {
			*pm = mp->alllink;
			break;
		}
	}
	nmfreed++;
	checkdead();
	gort__unlock(&sched.lock);
	gort__unminitsignals(mp);
	gort__gogo(mp->exit_sp);
}

/* ---- locked goroutines ----------------------------------------------------- */

static void incidlelocked(int32_t v)
{
	gort__lock(&sched.lock);
	sched.nmidlelocked += v;
	if (v > 0)
		checkdead();
	gort__unlock(&sched.lock);
}

/* stoplockedm: mp's locked G is not runnable; hand off the P and sleep until
 * startlockedm gives us one with the G runnable again. */
static void stoplockedm(M *mp)
{
	gort__assert(mp->lockedg != NULL && mp->lockedg->lockedm == mp, "stoplockedm: inconsistent locking");
	if (mp->p != NULL)
		handoffp(releasep(mp));
	incidlelocked(1);
	mpark(mp);
	gort__assert(gort__readgstatus(mp->lockedg) == Grunnable, "stoplockedm: not runnable");
	acquirep(mp, mp->nextp);
	mp->nextp = NULL;
}

/* startlockedm: we dequeued gp, which is locked to another M: give that M
 * our P and wake it, and stop. */
static void startlockedm(M *mp, G *gp)
{
	M *lm = gp->lockedm;
	gort__assert(lm != mp, "startlockedm: locked to me");
	gort__assert(lm->nextp == NULL, "startlockedm: m has p");
	incidlelocked(-1);
	lm->nextp = releasep(mp);
	gort__notewakeup(&lm->park);
	stopm(mp);
}

/* ---- stop the world --------------------------------------------------- */

/*
 * stoptheworld stops every P but the caller's.  Idle Ps are taken at once;
 * running ones stop when their M next enters the scheduler (findrunnable
 * sees gcwaiting); the last one wakes us.  A goroutine that never yields
 * delays this, unless preemption by signal is on (preempt.c).
 */
static void stoptheworld(M *mp)
{
	/* A second stopper must keep passing through the scheduler, or its
	 * P could never be stopped: so it yields instead of sleeping. */
	while (!gort__trylock(&worldlock)) {
		gort_gosched();
		mp = gort__getm();
	}
	gort__lock(&sched.lock);
	sched.stopwait = atomic_load(&gomaxprocs);
	atomic_store(&sched.gcwaiting, 1);
	atomic_store(&mp->p->status, Pgcstop);
	sched.stopwait--;
	/* Ps in system calls stop at once; their calls return to no P. */
	for (int32_t i = 0; i < atomic_load(&gomaxprocs); i++) {
		uint32_t expect = Psyscall;
		if (atomic_compare_exchange_strong(&allp[i]->status, &expect, Pgcstop))
			sched.stopwait--;
	}
	P *pp;
	while ((pp = pidleget()) != NULL) {
		atomic_store(&pp->status, Pgcstop);
		sched.stopwait--;
	}
	bool wait = sched.stopwait > 0;
	gort__unlock(&sched.lock);
	if (wait) {
		gort__notesleep(&sched.stopnote);
		gort__noteclear(&sched.stopnote);
	}
	gort__assert(sched.stopwait == 0, "stoptheworld: not stopped");
	for (int32_t i = 0; i < atomic_load(&gomaxprocs); i++)
		gort__assert(atomic_load(&allp[i]->status) == Pgcstop, "stoptheworld: not stopped");
}

static void starttheworld(M *mp)
{
	gort__lock(&sched.lock);
	int32_t procs = newprocs != 0 ? newprocs : atomic_load(&gomaxprocs);
	newprocs = 0;
	P *p1 = procresize(mp, procs);
	atomic_store(&sched.gcwaiting, 0);
	gort__unlock(&sched.lock);
	while (p1 != NULL) {
		P *pp = p1;
		p1 = p1->link;
		M *nmp = pp->m;
		if (nmp != NULL) {
			pp->m = NULL;
			gort__assert(nmp->nextp == NULL, "starttheworld: inconsistent mp->nextp");
			nmp->nextp = pp;
			gort__notewakeup(&nmp->park);
		} else {
			newm(pp, false);
		}
	}
	gort__unlock(&worldlock);
	wakep();
}

/* ---- system calls ---------------------------------------------------------- */

/*
 * entersyscall: the goroutine is about to block in the kernel or in a
 * foreign library.  It keeps its M, but its P is left in Psyscall, free for
 * sysmon to take and hand to another M if the call lasts (retake_syscall),
 * so the other goroutines keep running.  If the world is stopping, the P
 * goes to the stopper at once.
 */
void gort__entersyscall(const uint64_t ctx[SYSCALLCTX_WORDS])
{
	G *gp = gort__current_goroutine("gort_entersyscall");
	M *mp = gp->m;
	P *pp = mp->p;
	memcpy(gp->syscallctx, ctx, sizeof gp->syscallctx); /* for tracebacks */
	casgstatus(gp, Grunning, Gsyscall);
	gp->waitsince = gort__coarsenow();
	atomic_store_explicit(&pp->syscalltick,
	                      atomic_load_explicit(&pp->syscalltick, memory_order_relaxed) + 1,
	                      memory_order_relaxed);
	mp->oldp = pp;
	mp->p = NULL;
	pp->m = NULL;
	atomic_store(&pp->status, Psyscall);
	/* sysmon, idle for a while, may sleep for up to 10 ms: wake it, so
	 * that it hands our P on in time if the call blocks. */
	if (atomic_load_explicit(&sched.sysmonlongsleep, memory_order_relaxed) &&
	    atomic_exchange(&sched.sysmonlongsleep, 0)) {
		atomic_store(&sched.sysmonwake, 1);
		gort__futexwakeup(&sched.sysmonwake, 1);
	}
	if (atomic_load(&sched.gcwaiting)) {
		gort__lock(&sched.lock);
		uint32_t expect = Psyscall;
		if (sched.stopwait > 0 && atomic_compare_exchange_strong(&pp->status, &expect, Pgcstop) &&
		    --sched.stopwait == 0)
			gort__notewakeup(&sched.stopnote);
		gort__unlock(&sched.lock);
	}
}

/* exitsyscall0: no P to be had; on g0, queue the G and stop this M. */
static G *exitsyscall0(void *arg)
{
	G *gp = arg;
	M *mp = enter_g0(gp);
	casgstatus(gp, Gsyscall, Grunnable);
	mp->curg = NULL;
	gp->m = NULL;
	gort__lock(&sched.lock);
	P *pp = atomic_load(&sched.gcwaiting) ? NULL : pidleget();
	if (pp == NULL)
		globrunqput(gp);
	gort__unlock(&sched.lock);
	if (pp != NULL) {
		acquirep(mp, pp);
		return execute(mp, gp, false);
	}
	if (mp->lockedg != NULL) {
		/* Locked to us: wait until another M hands us gp and a P. */
		stoplockedm(mp);
		return execute(mp, gp, false);
	}
	stopm(mp);
	return schedule(mp);
}

/*
 * exitsyscall: the call returned.  Steps:
 *   1. our P is still in Psyscall: take it back (the CAS beats sysmon);
 *   2. else an idle P;
 *   3. else queue the goroutine and stop this M (exitsyscall0): it will
 *      resume on whichever M runs it next.
 * errno is the call's on return, even after a move to another thread.
 */
void gort_exitsyscall(void)
{
	int saved = errno;
	G *gp = gort__current_goroutine("gort_exitsyscall");
	M *mp = gp->m;
	gort__assert(gort__readgstatus(gp) == Gsyscall, "exitsyscall: not in a system call");
	P *oldp = mp->oldp;
	mp->oldp = NULL;
	uint32_t expect = Psyscall;
	if (oldp != NULL && atomic_compare_exchange_strong(&oldp->status, &expect, Prunning)) {
		mp->p = oldp;
		oldp->m = mp;
		casgstatus(gp, Gsyscall, Grunning);
		errno = saved;
		return;
	}
	if (!atomic_load(&sched.gcwaiting) && atomic_load(&sched.npidle) > 0) {
		gort__lock(&sched.lock);
		P *pp = atomic_load(&sched.gcwaiting) ? NULL : pidleget();
		gort__unlock(&sched.lock);
		if (pp != NULL) {
			acquirep(mp, pp);
			casgstatus(gp, Gsyscall, Grunning);
			errno = saved;
			return;
		}
	}
	mcall(exitsyscall0, false);
	errno = saved;
}

/* ---- sysmon and preemption ----------------------------------------------- */

enum {
	FORCE_PREEMPT_NS = 10 * 1000 * 1000, /* a time slice: 10 ms, as Go's */
	SYSMON_MIN_US = 20,
	SYSMON_MAX_US = 10 * 1000,
	SYSMON_LONG_US = 500, /* sleeps this long are cut short by entersyscall */
};

/*
 * preemptpoint: sysmon asked gp to yield (it ran a whole time slice).  As
 * Go's preemption does, put it on the global queue and schedule: everyone
 * waiting gets a turn.  Called only at preemption points: runtime calls
 * and gort_preempt_point, never from a signal.
 */
void gort__preemptpoint(G *gp)
{
	atomic_store_explicit(&gp->preempt, false, memory_order_relaxed);
	if (gp->m->lockedg == NULL)
		mcall(gosched_m, false);
}

/*
 * asyncpreempt_park: the SIGURG handler found gp at an async safe point
 * (preempt.c).  gp yields as Gosched does, but stays on this thread: it is
 * stopped in the middle of arbitrary C code, which may have kept thread-
 * local addresses in registers, and its signal frame can be returned from
 * only here.  So, for the duration, it is locked to this M as by
 * lockOSThread; schedule then hands the P on and sleeps until an M
 * dequeues gp and hands this M a P back (stoplockedm, startlockedm).
 * Runs on gp's stack, inside the handler.
 */
void gort__asyncpreempt_park(G *gp)
{
	M *mp = gp->m;
	bool userlocked = gp->lockedm != NULL;
	gort__assert(!userlocked || (gp->lockedm == mp && mp->lockedg == gp),
	             "asyncpreempt: inconsistent locking");
	mp->lockedg = gp;
	gp->lockedm = mp;
	atomic_store_explicit(&gp->preempt, false, memory_order_relaxed);
	mcall(gosched_m, false);
	gort__assert(gort__getg() == gp && gp->m == mp && mp->lockedg == gp,
	             "asyncpreempt: resumed on another thread");
	if (!userlocked) {
		mp->lockedg = NULL;
		gp->lockedm = NULL;
	}
}

void gort_preempt_point(void)
{
	gort__checkpreempt(gort__current_goroutine("gort_preempt_point"));
}

/*
 * retake_syscall: pp's M is in a system call.  Once the call has lasted a
 * whole sysmon tick, take the P back and hand it to another M - at once if
 * there is work for it (or nobody else to find any), else after 10 ms, so
 * that a long call never keeps a P idle for good.  The CAS from Psyscall
 * decides the race with the call returning (exitsyscall).
 */
static int retake_syscall(P *pp, int64_t now)
{
	uint32_t t = atomic_load_explicit(&pp->syscalltick, memory_order_relaxed);
	if (pp->sysmonsyscalltick != t) {
		pp->sysmonsyscalltick = t;
		pp->sysmonsyscallwhen = now;
		return 0;
	}
	if (runqempty(pp) && atomic_load(&sched.nmspinning) + atomic_load(&sched.npidle) > 0 &&
	    now - pp->sysmonsyscallwhen < FORCE_PREEMPT_NS)
		return 0;
	/* Between the CAS and handoffp the P is nobody's: count one more M
	 * running, or a call returning just then - no P to take back, none
	 * idle - would stop its M and checkdead find its G runnable with
	 * every M idle. */
	incidlelocked(-1);
	uint32_t expect = Psyscall;
	bool took = atomic_compare_exchange_strong(&pp->status, &expect, Pidle);
	if (took)
		handoffp(pp);
	incidlelocked(1);
	return took;
}

/*
 * retake looks at every P: one whose M has run the same time slice (the
 * same schedtick) for FORCE_PREEMPT_NS gets its goroutine asked to yield -
 * and, with asynchronous preemption on, a signal if it was asked at an
 * earlier look already and has not yielded (preempt.c); one in a long
 * system call is handed on.  Returns how many Ps were handed
 * on - only that keeps sysmon waking every 20 us, as in Go: counting
 * preemption requests too kept it spinning through every CPU-bound run,
 * taking CPU from the Ps (mutex at GOMAXPROCS=2 went from 0.86 to 1.16 of
 * Go's time).
 */
static int retake(int64_t now)
{
	int n = 0;
	P **ps = allp;
	int32_t np = atomic_load(&gomaxprocs);
	for (int32_t i = 0; i < np; i++) {
		P *pp = ps[i];
		uint32_t status = atomic_load(&pp->status);
		if (status == Psyscall) {
			n += retake_syscall(pp, now);
			continue;
		}
		if (status != Prunning)
			continue;
		uint32_t tick = atomic_load_explicit(&pp->schedtick, memory_order_relaxed);
		if (pp->sysmontick != tick) {
			pp->sysmontick = tick;
			pp->sysmonwhen = now;
			continue;
		}
		if (now - pp->sysmonwhen < FORCE_PREEMPT_NS)
			continue;
		M *mp = pp->m;
		G *gp = mp != NULL ? mp->curg : NULL; /* racy: a hint, as in Go */
		if (gp == NULL)
			continue;
		if (atomic_load_explicit(&gp->preempt, memory_order_relaxed) &&
		    atomic_load_explicit(&gort__asyncpreempt, memory_order_relaxed))
			gort__preemptm(mp);
		atomic_store_explicit(&gp->preempt, true, memory_order_relaxed);
	}
	return n;
}

/*
 * sysmon_netpoll: if no M has looked at the network for 10 ms (all busy
 * running goroutines), look for it, so that I/O waiters are not starved
 * by CPU-bound work.  The readied Gs go to the global queue.
 *
 * From before it polls until the Gs are queued and an M started for them,
 * sysmon counts as a running M (one idle locked M fewer, as Go's sysmon
 * does).  Without that, this interleaving lost them (net_eof at
 * GOMAXPROCS=1): sysmon takes the only I/O waiter G from netpoll, which
 * drops netpollWaiters to 0, and marks G runnable; the one M, out of work,
 * gives up its P, sees no timer and no I/O waiter, so sleeps in stopm
 * rather than in netpoll, and - every M idle - its checkdead finds G
 * runnable before sysmon has queued it.  (Counting only from the readying
 * on would leave the same window, while G is still Gwaiting but already
 * out of the poller: a false "all goroutines are asleep".)
 */
static void sysmon_netpoll(int64_t now)
{
	int64_t last = atomic_load(&sched.lastpoll);
	if (last == 0 || now - last < FORCE_PREEMPT_NS ||
	    atomic_load(&gort__netpollWaiters) == 0 ||
	    !atomic_compare_exchange_strong(&sched.lastpoll, &last, now))
		return;
	incidlelocked(-1);
	countedrunning = true;
	gList list = {0};
	if (gort__netpoll(0, &list) > 0)
		injectglist(NULL, &list);
	countedrunning = false;
	incidlelocked(1);
}

/*
 * sysmon runs on its own thread, without a P, for the life of the
 * program: it sleeps 20 us, and after 50 rounds with nothing to do doubles
 * that, up to 10 ms (a system call starting cuts a long sleep short); each
 * round it asks goroutines that have run a whole time slice to yield,
 * takes back the Ps of long system calls (retake), and polls the network
 * if nobody has for 10 ms.  It reads the world racily, as Go's does:
 * what it finds is a hint to act on, never a fact to rely on.
 */
_Atomic int32_t gort__sysmontid;

static void *sysmon(void *arg)
{
	uint32_t delay = SYSMON_MIN_US;
	int idle = 0;
	int64_t lasttrace = 0;
	atomic_store(&gort__sysmontid, gort__gettid());
	for (;;) {
		if (idle == 0)
			delay = SYSMON_MIN_US;
		else if (idle > 50 && delay < SYSMON_MAX_US)
			delay *= 2;
		if (delay > SYSMON_MAX_US)
			delay = SYSMON_MAX_US;
		if (delay >= SYSMON_LONG_US)
			atomic_store(&sched.sysmonlongsleep, 1);
		gort__futexsleep_timeout(&sched.sysmonwake, 0, (int64_t)delay * 1000);
		atomic_store(&sched.sysmonlongsleep, 0);
		bool kicked = atomic_exchange(&sched.sysmonwake, 0) != 0;
		int64_t now = gort__nanotime();
		atomic_store_explicit(&sched.coarsenow, now, memory_order_relaxed);
		sysmon_netpoll(now); /* does not count as activity, as in Go */
		if (retake(now) != 0 || kicked)
			idle = 0;
		else
			idle++;
		if (gort__debug.schedtrace > 0 && atomic_load(&gort__dying) == 0 &&
		    (lasttrace == 0 || lasttrace + (int64_t)gort__debug.schedtrace * 1000000 <= now)) {
			lasttrace = now;
			gort__schedtrace(gort__debug.scheddetail > 0);
		}
	}
	return NULL;
}

/* ---- what sysmon, the SIGQUIT dump and gort_read_metrics read ------------- */

/*
 * schedtrace prints Go's GODEBUG=schedtrace line (and with detailed, as
 * scheddetail=1, a line per P, per M and per G), field for field as Go
 * 1.22 does (go-formats.md 3.1).  Fields gort has no use for print Go's
 * constant value: needspinning=0 (gort wakes a spinning M directly),
 * sysmonwait=false (sysmon never stops), and on M lines mallocing=0
 * throwing=0 preemptoff= locks=0 dying=0 blocked=false.  G lines list
 * every G that ever ran a goroutine, dead ones too, as Go's allgs does.
 * Called by sysmon, which holds no P: it takes sched.lock as Go's does,
 * and reads the rest racily; and by a dying program (schedtrace_dying).
 */
static void schedtrace_head(bool detailed)
{
	gort__printf("SCHED %lldms: gomaxprocs=%d idleprocs=%d threads=%lld spinningthreads=%d "
	             "needspinning=0 idlethreads=%d runqueue=%d",
	             (long long)((gort__nanotime() - sched.starttime) / 1000000),
	             atomic_load(&gomaxprocs), atomic_load(&sched.npidle), (long long)mcount(),
	             atomic_load(&sched.nmspinning), sched.nmidle, atomic_load(&sched.runqsize));
	if (detailed)
		gort__printf(" gcwaiting=%s nmidlelocked=%d stopwait=%d sysmonwait=false\n",
		             atomic_load(&sched.gcwaiting) ? "true" : "false", sched.nmidlelocked,
		             sched.stopwait);
}

/* schedtrace_ps: " [a b c]" (each P's queue length), or a line per P. */
static void schedtrace_ps(bool detailed)
{
	/* Go prints the queue lengths as one "[a b c]" built piece by piece;
	 * here it is built in a buffer, so that the line is one write. */
	char line[512];
	size_t n = 0;
	line[0] = '\0';
	P **ps = allp;
	int32_t np = atomic_load(&gomaxprocs);
	for (int32_t i = 0; i < np; i++) {
		P *pp = ps[i];
		M *mp = pp->m;
		uint32_t h = atomic_load(&pp->runqhead), t = atomic_load(&pp->runqtail);
		if (detailed) {
			char mid[24] = "nil";
			if (mp != NULL)
				snprintf(mid, sizeof mid, "%lld", (long long)mp->id);
			gort__printf("  P%d: status=%u schedtick=%u syscalltick=%u m=%s runqsize=%u "
			             "gfreecnt=%d timerslen=%d\n",
			             i, atomic_load(&pp->status), atomic_load(&pp->schedtick),
			             atomic_load(&pp->syscalltick), mid, t - h, atomic_load(&pp->gfreecnt),
			             pp->ntimers);
			continue;
		}
		if (n + 16 > sizeof line) { /* many Ps: flush what we have */
			gort__printf("%s", line);
			n = 0;
		}
		n += (size_t)snprintf(line + n, sizeof line - n, "%s%u%s", i == 0 ? " [" : " ", t - h,
		                      i == np - 1 ? "]\n" : "");
	}
	if (!detailed)
		gort__printf("%s", line);
}

static void schedtrace_ms(void)
{
	for (M *mp = allm; mp != NULL; mp = mp->alllink) {
		P *pp = mp->p;
		G *curg = mp->curg, *lockedg = mp->lockedg;
		char pid[24] = "nil", cur[24] = "nil", lg[24] = "nil";
		if (pp != NULL)
			snprintf(pid, sizeof pid, "%d", pp->id);
		if (curg != NULL)
			snprintf(cur, sizeof cur, "%lld", (long long)curg->goid);
		if (lockedg != NULL)
			snprintf(lg, sizeof lg, "%lld", (long long)lockedg->goid);
		gort__printf("  M%lld: p=%s curg=%s mallocing=0 throwing=0 preemptoff= locks=0 dying=0 "
		             "spinning=%s blocked=false lockedg=%s\n",
		             (long long)mp->id, pid, cur, mp->spinning ? "true" : "false", lg);
	}
}

/* schedtrace_gs: a line per G (holds allglock). */
static void schedtrace_gs(void)
{
	size_t ng = atomic_load(&allglen);
	for (size_t i = 0; i < ng; i++) {
		G *gp = allgs[i];
		if (gp->goid == 0)
			continue; /* carved in a slab, never used */
		uint32_t st = gort__readgstatus(gp);
		M *mp = gp->m, *lm = gp->lockedm;
		char mid[24] = "nil", lmid[24] = "nil";
		if (mp != NULL)
			snprintf(mid, sizeof mid, "%lld", (long long)mp->id);
		if (lm != NULL)
			snprintf(lmid, sizeof lmid, "%lld", (long long)lm->id);
		gort__printf("  G%lld: status=%u(%s) m=%s lockedm=%s\n", (long long)gp->goid, st,
		             st == Gwaiting ? gort__waitreason_string((waitReason)gp->waitreason) : "",
		             mid, lmid);
	}
}

/* schedtrace_all: every line (holds sched.lock; takes allglock - only if
 * free when dying, as the failing code may hold it). */
static void schedtrace_all(bool detailed, bool dying)
{
	assert_lock_held(&sched.lock);
	schedtrace_head(detailed);
	schedtrace_ps(detailed);
	if (!detailed)
		return;
	schedtrace_ms();
	if (dying ? gort__trylock(&allglock) : (gort__lock(&allglock), true)) {
		schedtrace_gs();
		gort__unlock(&allglock);
	}
}

void gort__schedtrace(bool detailed)
{
	gort__lock(&sched.lock);
	schedtrace_all(detailed, false);
	gort__unlock(&sched.lock);
}

/*
 * schedtrace_dying: a fatal report's scheduler trace, when schedtrace or
 * scheddetail is on (Go's startpanic_m).  Only if sched.lock is free: the
 * failing code may hold it, and a dying program must not wait.
 */
void gort__schedtrace_dying(void)
{
	if (gort__debug.schedtrace <= 0 && gort__debug.scheddetail <= 0)
		return;
	if (!gort__trylock(&sched.lock))
		return;
	schedtrace_all(true, true);
	gort__unlock(&sched.lock);
}

/*
 * countgstatus counts the goroutines by status (bystatus[Gwaiting], ...).
 * allglock is taken a chunk of Gs at a time, so that counting a million
 * goroutines does not hold up the creation of new ones for milliseconds.
 * allgs only grows, and its entries never change, so that is safe.
 */
void gort__countgstatus(uint64_t bystatus[8])
{
	enum { CHUNK = 4096 };
	for (int i = 0; i < 8; i++)
		bystatus[i] = 0;
	for (size_t i = 0;;) {
		gort__lock(&allglock);
		size_t n = atomic_load(&allglen);
		size_t end = i + CHUNK < n ? i + CHUNK : n;
		for (; i < end; i++) {
			uint32_t st = gort__readgstatus(allgs[i]);
			if (st < 8 && !(st == Gdead && allgs[i]->goid == 0))
				bystatus[st]++;
		}
		gort__unlock(&allglock);
		if (i >= n)
			return;
	}
}

/* mstats reads the thread counts. */
void gort__mstats(int64_t *threads, int32_t *idle, int32_t *spinning)
{
	gort__lock(&sched.lock);
	*threads = mcount();
	*idle = sched.nmidle;
	*spinning = atomic_load(&sched.nmspinning);
	gort__unlock(&sched.lock);
}

/* metrics_sum adds up every P's counters, and the retired Ps'.  The caller
 * holds a P, so allp cannot change. */
void gort__metrics_sum(pmetrics *sum)
{
	memset(sum, 0, sizeof *sum);
	pmetrics_fold(sum, &sched.retired);
	P **ps = allp;
	int32_t np = atomic_load(&gomaxprocs);
	for (int32_t i = 0; i < np; i++)
		pmetrics_fold(sum, &ps[i]->metrics);
}

/*
 * mforeach_trylock calls fn for every M, if sched.lock can be had within a
 * few milliseconds: for the SIGQUIT dump, which may have interrupted the
 * lock's holder on its own thread.
 */
bool gort__mforeach_trylock(void (*fn)(M *mp, void *ctx), void *ctx)
{
	bool locked = false;
	for (int i = 0; i < 1000 && !(locked = gort__trylock(&sched.lock)); i++)
		gort__osyield();
	if (!locked)
		return false;
	for (M *mp = allm; mp != NULL; mp = mp->alllink)
		fn(mp, ctx);
	gort__unlock(&sched.lock);
	return true;
}

/* ---- the deadlock detector ------------------------------------------------- */

/*
 * checkdead runs when an M goes idle (holds sched.lock).  If no M is
 * running, no goroutine can ever run again: report Go's deadlock.  A G
 * found runnable then means the scheduler lost a wakeup: a bug, thrown.
 * A goroutine in a system call keeps its M running, and an M waiting in
 * netpoll - for a timer or for I/O - is not idle, so neither lets this
 * fire; sleeping timers are checked below, for the M about to become the
 * poller.
 */
static void checkdead(void)
{
	assert_lock_held(&sched.lock);
	int64_t run = mcount() - sched.nmidle - sched.nmidlelocked;
	if (run > 0)
		return;
	if (run < 0) {
		gort__printf("runtime: checkdead: nmidle=%d nmidlelocked=%d mcount=%lld\n", sched.nmidle,
		             sched.nmidlelocked, (long long)mcount());
		gort__throw("checkdead: inconsistent counts");
	}
	int waiting = 0;
	gort__lock(&allglock);
	size_t n = atomic_load(&allglen);
	for (size_t i = 0; i < n; i++) {
		G *gp = allgs[i];
		uint32_t s = gort__readgstatus(gp);
		if (s == Gwaiting) {
			waiting++;
		} else if (s == Grunnable || s == Grunning || s == Gsyscall) {
			gort__printf("runtime: checkdead: find g %lld in status %u\n", (long long)gp->goid, s);
			gort__throw("checkdead: runnable g");
		}
	}
	gort__unlock(&allglock);
	if (waiting == 0) {
		gort__unlock(&sched.lock);
		gort__fatal("no goroutines (main called runtime.Goexit) - deadlock!");
	}
	/* A pending timer will wake someone (an M waiting in netpoll is not
	 * idle, so this is reached only in a race with one going to sleep). */
	for (int32_t i = 0; i < atomic_load(&gomaxprocs); i++)
		if (atomic_load(&allp[i]->timer0when) != 0)
			return;
	gort__unlock(&sched.lock);
	gort__fatal("all goroutines are asleep - deadlock!");
}

/* ---- start-up ------------------------------------------------------------ */

typedef struct mainArgs {
	int (*fn)(int, char **);
	int argc;
	char **argv;
} mainArgs;

/* runmain is the body of goroutine 1. */
static void runmain(void *arg)
{
	mainArgs a = *(mainArgs *)arg;
	atomic_store(&mainStarted, true);
	gort__newosproc(sysmon, NULL);
	int code = a.fn(a.argc, a.argv);
	exit(code);
}

/*
 * check_procs_fit: n Ps are allocated and touched for GOMAXPROCS=n.  Go
 * just tries, and dies out of memory; gort says so before trying -
 * stopping the world and then touching terabytes would hang the program
 * or wake the OOM killer - and names the setting.
 */
static void check_procs_fit(int64_t n, const char *what)
{
	uint64_t mem = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
	if ((uint64_t)n <= mem / sizeof(P))
		return;
	gort__printf("runtime: cannot allocate %lld Ps (%s)\n", (long long)n, what);
	gort__fatal("runtime: out of memory");
}

/*
 * schedinit readies the runtime on the main thread, which becomes m0:
 * stacks, signals, the CPU count, GOMAXPROCS (the environment's, if a
 * positive number) and the Ps.
 */
static void schedinit(void)
{
	M *mp = &m0;
	gort__setg(&mp->g0);
	long seed = gort__getenv_int("GORT_SEED", -1);
	randseed = seed >= 0 ? (uint64_t)seed : gort__random_seed();
	sched.maxmcount = MAX_MCOUNT;
	gort__lock(&sched.lock);
	mcommoninit(mp, sched.mnext++);
	gort__unlock(&sched.lock);

	gort__stackinit();
	gort__parsedebugvars();
	gort__traceback_init();
	gort__initsig();
	gort__netpollinit();
	atomic_store(&sched.lastpoll, gort__nanotime());
	sched.starttime = gort__nanotime();
	atomic_store(&sched.coarsenow, sched.starttime);
	gort__ncpu = gort__getproccount();
	int32_t procs = gort__ncpu;
	long n = gort__getenv_int("GOMAXPROCS", 0);
	if (n > 0 && n <= INT32_MAX) {
		char what[40];
		snprintf(what, sizeof what, "GOMAXPROCS=%ld", n);
		check_procs_fit(n, what);
		procs = (int32_t)n;
	}
	gort__lock(&sched.lock);
	gort__assert(procresize(mp, procs) == NULL, "schedinit: unknown runnable goroutine");
	gort__unlock(&sched.lock);
}

void gort_main(int (*main_fn)(int, char **), int argc, char **argv)
{
	if (atomic_exchange(&runtimeStarted, true))
		gort__fatal("gort: gort_main called twice");
	if (main_fn == NULL)
		gort__fatal("gort: gort_main called with a NULL main function");
	schedinit();
	mainArgs a = {main_fn, argc, argv};
	newproc(&m0, 0, 0, runmain, NULL, &a, sizeof a, 0);
	mstart(&m0);
	gort__throw("mstart returned");
}

/* ---- the public API ------------------------------------------------------ */

int64_t gort_go(gort_func fn, void *arg)
{
	G *gp = gort__current_goroutine("gort_go");
	int64_t id = newproc(gp->m, gp->goid, (uintptr_t)__builtin_return_address(0), fn, arg, NULL, 0, 0);
	gort__checkpreempt(gp);
	return id;
}

int64_t gort_go_args(gort_func fn, const void *args, size_t size)
{
	G *gp = gort__current_goroutine("gort_go_args");
	int64_t id = newproc(gp->m, gp->goid, (uintptr_t)__builtin_return_address(0), fn, NULL, args, size, 0);
	gort__checkpreempt(gp);
	return id;
}

int64_t gort_go_attr(const gort_goattr *attr, gort_func fn, const void *args, size_t size)
{
	G *gp = gort__current_goroutine("gort_go_attr");
	size_t stacksize = attr != NULL ? attr->stack_size : 0;
	gort__stacksize_check(stacksize, "gort_go_attr");
	int64_t id = newproc(gp->m, gp->goid, (uintptr_t)__builtin_return_address(0), fn, NULL, args,
	                     size, stacksize);
	gort__checkpreempt(gp);
	return id;
}

void gort_gosched(void)
{
	gort__current_goroutine("gort_gosched");
	mcall(gosched_m, false);
}

void gort_goexit(void)
{
	G *gp = gort__current_goroutine("gort_goexit");
	gort__goexit_defers(gp); /* Go's Goexit runs the deferred calls first */
	goexit1();
}

void gort_block(void)
{
	gort__current_goroutine("gort_block");
	gort__gopark(NULL, NULL, waitReasonSelectNoCases);
	gort__throw("unreachable: gort_block resumed");
}

int64_t gort_goid(void)
{
	return gort__current_goroutine("gort_goid")->goid;
}

/*
 * gort_numgoroutine counts every G ever made minus the dead ones on free
 * lists.  The per-P counts are read racily, as Go's gcount does: exact when
 * nothing is being created or retired, approximate otherwise.
 */
int gort_numgoroutine(void)
{
	gort__current_goroutine("gort_numgoroutine");
	int64_t n = (int64_t)atomic_load(&allglen) - atomic_load_explicit(&sched.ngfree, memory_order_relaxed);
	P **ps = allp;
	int32_t np = atomic_load(&gomaxprocs);
	for (int32_t i = 0; i < np; i++)
		n -= atomic_load_explicit(&ps[i]->gfreecnt, memory_order_relaxed);
	return n < 1 ? 1 : (int)n;
}

int gort_gomaxprocs(int n)
{
	G *gp = gort__current_goroutine("gort_gomaxprocs");
	int32_t ret = atomic_load(&gomaxprocs);
	if (n <= 0 || n == ret)
		return ret;
	char what[48];
	snprintf(what, sizeof what, "gort_gomaxprocs(%d)", n);
	check_procs_fit(n, what);
	stoptheworld(gp->m);
	M *mp = gort__getm(); /* stoptheworld may have yielded */
	newprocs = n;
	starttheworld(mp);
	return ret;
}

/* For gort_stack(all) (traceback.c): the world stopped while it reads stacks. */
void gort__stoptheworld(void)
{
	G *gp = gort__current_goroutine("gort_stack");
	stoptheworld(gp->m);
}

void gort__starttheworld(void)
{
	starttheworld(gort__getm());
}

int gort_numcpu(void)
{
	if (!atomic_load(&runtimeStarted))
		return gort__getproccount();
	return gort__ncpu;
}

void gort_lock_os_thread(void)
{
	G *gp = gort__current_goroutine("gort_lock_os_thread");
	M *mp = gp->m;
	if (mp->lockedExt == UINT32_MAX)
		gort__fatal("LockOSThread nesting overflow");
	mp->lockedExt++;
	mp->lockedg = gp;
	gp->lockedm = mp;
}

void gort_unlock_os_thread(void)
{
	G *gp = gort__current_goroutine("gort_unlock_os_thread");
	M *mp = gp->m;
	if (mp->lockedExt == 0)
		return;
	if (--mp->lockedExt == 0) {
		mp->lockedg = NULL;
		gp->lockedm = NULL;
	}
}
