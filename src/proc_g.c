/*
 * proc_g.c - goroutines: their status and wait reasons, the list of all of
 * them, where they come from and where they go (Go's newproc, malg, gfput,
 * gfget, goexit0 in proc.go; allgs and waitReasonStrings in runtime2.go).
 *
 *   status     every change through casgstatus (proc.h), which checks the
 *              status it leaves: a G found in the wrong one is a lost or
 *              doubled G, thrown at once
 *   allgs      every G ever made, in creation order, never freed (as Go's)
 *   free Gs    per-P lists of dead Gs, spilling to one global list; new ones
 *              carved GSLAB at a time from arenas, their pages committed at once
 *   newproc    a new goroutine, into runnext; goexit0 its end, on g0
 *
 * It calls the run queues (runqput, proc.h), stacks (stack.c) and, for a
 * goroutine that exits locked to its thread, mexit (proc_m.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

#include "det.h"
#include "proc.h"

/* Set by goroutine 1 (runmain): from then on, a new G wakes an idle P. */
_Atomic bool mainStarted;

/* Every G ever made, dead or alive (proc.h). */
mutex allglock;
G **allgs;
static size_t allgcap;
_Atomic size_t allglen;

/* ---- G status ---------------------------------------------------------------- */

void gort__not_a_goroutine(const char *api)
{
	char msg[256];
	if (!atomic_load(&gort__runtime_ready))
		snprintf(msg, sizeof msg,
		         "gort: %s called before the runtime started: call gort_start first "
		         "(or run the program under gort_main)",
		         api);
	else
		snprintf(msg, sizeof msg,
		         "gort: %s called on a thread the runtime cannot run it on "
		         "(the scheduler's own stack)",
		         api);
	gort__fatal(msg);
}

uint32_t gort__readgstatus(G *gp)
{
	return atomic_load_explicit(&gp->atomicstatus, memory_order_acquire);
}

/* casgstatus_fail: casgstatus (proc.h) found gp in a status it did not
 * expect - the scheduler was about to lose or double a G. */
__attribute__((noreturn, cold)) void casgstatus_fail(G *gp, uint32_t oldval, uint32_t newval,
                                                     uint32_t cur)
{
	gort__printf("runtime: casgstatus: goroutine %lld from %u to %u, but status is %u\n",
	             (long long)gp->goid, oldval, newval, cur);
	gort__throw("casgstatus: bad incoming values");
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

/* ---- allgs ------------------------------------------------------------------- */

/* allgadd adds n new Gs to allgs (the extra Ms' Gs come one by one). */
void allgadd(G *gs, int n)
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

/* ---- free Gs and new ones ---------------------------------------------------- */

/* Adds d to a counter that only its owner writes and others read racily. */
static inline void count_add(_Atomic int32_t *c, int32_t d)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + d,
	                      memory_order_relaxed);
}

/*
 * New Gs are carved GSLAB at a time from arenas of address space that the
 * kernel commits as they are used.  Each slab's pages are committed in
 * one call (gort__populate, in stack.c) rather than faulted in one by
 * one, and in small pages, not huge ones: a huge page is zeroed whole on
 * its first touch, which on the VM the benchmarks run on costs 10-25 ms
 * (memory the host has taken back is faulted in again), a pause in
 * whichever spawn meets it, and 2 MiB resident for a program with ten
 * goroutines.  Gs are never freed, as in Go: dead ones wait on free lists.
 * garena_* are guarded by sched.gflock.
 */
enum { GARENA_SIZE = 16 << 20 };
static G *garena_next, *garena_end;

static void garena_refill(void)
{
	assert_lock_held(&sched.gflock);
	void *p = mmap(NULL, GARENA_SIZE, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		gort__throw("out of memory allocating goroutines");
	madvise(p, GARENA_SIZE, MADV_NOHUGEPAGE);
	garena_next = (G *)p;
	garena_end = garena_next + GARENA_SIZE / sizeof(G);
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
	/* the pages the slab covers, the first and last perhaps shared with
	 * the slabs beside it (committing a page twice is harmless) */
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t lo = (uintptr_t)gs & ~(page - 1);
	uintptr_t hi = ((uintptr_t)(gs + GSLAB) + page - 1) & ~(page - 1);
	gort__populate((void *)lo, hi - lo);
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
	assert_lock_held(&sched.gflock);
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
 * The batch.  Where Gs are made on one P and die on another - a spawner
 * and the Ps that steal its goroutines - every G goes round through
 * sched.gfree: the dying P spills GFREE_MAX/2 at a time, the spawning P
 * takes GFREE_MAX/2 back, two takes of sched.gflock per GFREE_MAX/2
 * spawns.  Go keeps 64 and moves 32.  A dead G here holds no stack
 * (goexit0 gave it back), so a P may keep 256 for 2 KiB of pointers, and
 * the lock is taken once per 64 spawns, not per 16 (READING.md: what each
 * operation costs in shared state).  Handing Gs from P to P without the
 * global list would need a queue between each pair, written by both: the
 * shared line the batch already pays once per batch.
 *
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
void gfpurge(P *pp)
{
	gort__lock(&sched.gflock);
	gfspill(pp, pp->gfreecnt);
	gort__unlock(&sched.gflock);
}

/* ---- birth and death --------------------------------------------------------- */

/* trace_gocreate: its start stack is its function; the creator's, the
 * caller's stack. */
static __attribute__((noinline, cold)) void trace_gocreate(P *pp, G *newg)
{
	gort__trace_gocreate(pp, newg, gort__trace_startstack(newg), gort__trace_curstack());
}

/* A call through a cast function pointer would be one frame fewer, and
 * undefined behaviour. */
void gort__go_int_entry(void *p)
{
	goIntArgs *a = p;
	a->fn(a->arg);
}

/*
 * newproc creates a goroutine running fn and puts it in mp's P's runnext,
 * so it runs as soon as its creator yields.  Steps:
 *   1. take a dead G from the free lists, or a fresh one;
 *   2. fill it in: function, argument (copied in if args), id, creator;
 *   3. runqput it as runnext, and wake an idle P if there is one.
 * No stack yet: execute binds one when the G first runs.
 */
int64_t newproc(M *mp, int64_t parentgoid, uintptr_t pc, gort_func fn, void *arg,
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
	newg->startpc = fn == gort__go_int_entry ? (uintptr_t)((const goIntArgs *)args)->fn : (uintptr_t)fn;
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
	if (gort__traceon())
		trace_gocreate(pp, newg);
	newg->latsample = false;
	gort__pcount(&pp->metrics.nspawn, 1);
	lat_stamp(pp, newg);
#ifdef GORT_TSAN
	newg->tsan_fiber = gort__tsan_gocreate(newg->tsan_fiber, newg->goid); /* tsan.h */
#endif
	if (gort__det())
		gort__det_newg(newg);
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

static G *goexit0(void *arg);

/* goentry is the first C frame of every goroutine (from gort__gostart). */
__attribute__((visibility("hidden"), noreturn)) void gort__goentry(G *gp);
void gort__goentry(G *gp)
{
	fiber_arrive(NULL);
	gp->fn(gp->arg);
#ifdef GORT_TSAN
	/* Pop this frame off the G's TSan call stack, which is then empty,
	 * and end without goexit1's frame: the next goroutine on this G
	 * takes the fiber over, call stack and all (gort__tsan_gocreate). */
	gort__tsan_funcexit();
	mcall(goexit0, true);
	__builtin_unreachable();
#else
	goexit1();
#endif
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
	if (gort__traceon())
		gort__trace_goend(pp);
	dropg(mp, gp, Gdead);
	bool locked = gp->lockedm != NULL;
	gp->lockedm = NULL;
	mp->lockedg = NULL;
	mp->lockedExt = 0;
	gp->fn = NULL;
	gp->startpc = 0;
	gp->arg = NULL;
	gp->paniconfault = false;
	gp->frame = NULL;
	gp->panic = NULL;
	gort__stackfree(pp, gp->stack, gp->stacksize);
	gp->stack = (stack){0, 0};
#ifdef GORT_TSAN
	if (gp->tsan_lostframes) { /* its call stack is not empty: not reusable */
		gort__tsan_godestroy(gp->tsan_fiber);
		gp->tsan_fiber = NULL;
		gp->tsan_lostframes = false;
	}
#endif
	gfput(pp, gp);
	if (locked)
		mexit(mp);
	return schedule(mp);
}

void goexit1(void)
{
#ifdef GORT_TSAN
	gort__getg()->tsan_lostframes = true; /* Goexit, from any depth */
#endif
	mcall(goexit0, true);
	gort__throw("goexit1: dead goroutine resumed");
}
