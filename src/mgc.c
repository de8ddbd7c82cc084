/*
 * mgc.c - a collection, the pacer, and the heap's statistics (Go's mgc.go,
 * mgcpacer.go, mstats.go).
 *
 * gort's collector stops the world for the whole cycle - a deliberate
 * first landing; Go marks concurrently, with write barriers, and stops
 * the world only twice, briefly.  gc_start:
 *   1. stop the world, as GOMAXPROCS does (proc_p.c): every other
 *      goroutine is then parked at a scheduling point, queued, or in a
 *      system call (whose stack is frozen from its saved stack pointer:
 *      it holds no P and may not touch the heap until it has one back);
 *   2. sweep termination: every P's mcache hands its spans back, and
 *      whatever the last cycle left unswept is swept (a mark needs exact
 *      allocation bits);
 *   3. mark, in parallel (mgcmark.c), then queue the finalizers of
 *      objects found unreachable and mark those (mfinal.c);
 *   4. mark termination: every span becomes "to sweep", heap_live
 *      becomes the bytes marked, the pacer sets the next goal;
 *   5. start the world; the background sweeper and the finalizer
 *      goroutine are woken; gctrace prints its line.
 *
 * Pacing (Go's rules): the next collection starts when the heap reaches
 *   goal = marked + marked * GOGC / 100   (at least 4 MiB * GOGC / 100)
 * lowered to GOMEMLIMIT minus the heap's metadata when a limit is set.
 * GOGC=off leaves only the limit.  Over the limit with a live heap that
 * does not fit, the goal stays 1/32 above what was marked, and the GC CPU
 * limiter below keeps that from becoming a death spiral.
 * After a collection, and after each background sweep, free pages are
 * given back to the OS until the heap's resident memory is under the limit.
 */
#define _GNU_SOURCE
#include <string.h>
#include <time.h>

#include "mheap.h"
#include "mprof_heap.h"
#include "proc.h"
#include "trace.h"

_Atomic uint64_t gort__heap_live;
_Atomic uint64_t gort__gc_trigger;
_Atomic uint32_t gort__gc_running;

static _Atomic int32_t gcpercent = 100;
static _Atomic int64_t memlimit = INT64_MAX;

int64_t gort__memlimit(void)
{
	return atomic_load_explicit(&memlimit, memory_order_relaxed);
}

static struct {
	uint64_t heap_marked;
	_Atomic bool limitgoal;     /* the memory limit, not GOGC, set heap_goal */
	_Atomic uint64_t heap_goal; /* read by gort_read_metrics without the world stopped */
	_Atomic uint32_t numgc, numforced;
	int64_t pausetotal, lastgc_unix;
	int64_t gccpu; /* CPU time of all collections (ns) */
	uint64_t pauses[256]; /* circular, as MemStats.PauseNs */
	uint64_t pauseend[256]; /* and when each ended, as MemStats.PauseEnd */
	/* counters of retired Ps' mcaches */
	uint64_t nmalloc, smallbytes, nlargealloc, largebytes;
} gcstat;

/* ---- the pacer ------------------------------------------------------------------ */

static uint64_t limit_overhead(void)
{
	return gort__mheap.metadata;
}

static void pacer_update(void)
{
	uint64_t marked = gcstat.heap_marked;
	uint64_t goal = UINT64_MAX;
	bool limited = false;
	int32_t pct = atomic_load(&gcpercent);
	if (pct >= 0) {
		goal = marked + marked * (uint64_t)pct / 100;
		uint64_t min = ((uint64_t)4 << 20) * (uint64_t)pct / 100;
		if (goal < min)
			goal = min;
	}
	int64_t lim = atomic_load(&memlimit);
	if (lim != INT64_MAX) {
		uint64_t over = limit_overhead();
		uint64_t lgoal = (uint64_t)lim > over ? (uint64_t)lim - over : 0;
		uint64_t floor = marked + (marked >> 5) + PAGE_SIZE;
		if (lgoal < floor)
			lgoal = floor;
		if (lgoal < goal)
			goal = lgoal, limited = true;
	}
	atomic_store(&gcstat.limitgoal, limited);
	gcstat.heap_goal = goal;
	atomic_store(&gort__gc_trigger, goal);
}

uint64_t gort__gc_heapgoal(void)
{
	return gcstat.heap_goal == UINT64_MAX ? 0 : gcstat.heap_goal;
}

/* ---- the GC CPU limiter (Go's mgclimit.go) ----------------------------------------
 *
 * A program whose live heap does not fit under GOMEMLIMIT would collect
 * every time its heap grew 1/32 - all its time, in the end (a death
 * spiral).  Go's answer, kept here: a leaky bucket that fills with the
 * collector's CPU time and drains with the mutator's, holding at most one
 * CPU-second per P.  While the bucket has no room for another collection
 * the limit is not enforced: the heap grows past it instead, and the
 * collector gets at most about half of the CPU over any stretch longer
 * than the bucket.
 *
 * What differs from Go, and why: Go's collector runs beside the program,
 * so its limiter turns off assists (the mutator's share of marking) and
 * lets a cycle run long; a stop-the-world cycle cannot be made to take
 * less of the CPU, only be started later.  So a collection the memory
 * limit asks for is put off until the bucket has room for one as long as
 * the last (gc_start).  A collection GOGC asks for is never put off: GOGC
 * is the program's own choice of memory for CPU, and what it costs is
 * what GOGC says (Go's limiter acts there too, but Go's concurrent mark
 * at 25% of the CPU does not reach it).  A stopped world is collector
 * time on every P; the time between collections counts as the mutator's,
 * idle Ps included (Go subtracts idle time: gort does not track it).
 */
enum { LIMITER_CAPACITY_PER_P = 1000000000 }; /* 1 CPU-second, as Go's capacityPerProc */

static struct {
	mutex lock;
	int64_t fill, capacity;   /* ns of CPU; 0 <= fill <= capacity */
	int64_t lastupdate;       /* nanotime of the last accounting */
	int64_t lastcost;         /* CPU time of the last collection (pause * P) */
	uint64_t overflow;        /* collector time past the capacity, ever */
	_Atomic uint32_t deferred; /* collections the limit asked for, put off */
} limiter;

/* limiter_accumulate: the bucket's rule (Go's accumulate). lock held. */
static void limiter_accumulate(int64_t mutator, int64_t gc)
{
	int64_t change = gc - mutator;
	if (change > 0 && limiter.capacity - limiter.fill <= change) {
		limiter.overflow += (uint64_t)(change - (limiter.capacity - limiter.fill));
		limiter.fill = limiter.capacity;
	} else if (change < 0 && limiter.fill <= -change) {
		limiter.fill = 0;
	} else {
		limiter.fill += change;
	}
	gort__assert(limiter.fill >= 0 && limiter.fill <= limiter.capacity, "limiter: fill out of range");
}

/* limiter_update: account the time since the last update, gc of it (ns
 * of wall time) spent collecting with the world stopped.  lock held. */
static void limiter_update(int64_t now, int64_t gc)
{
	int32_t procs = atomic_load(&gomaxprocs);
	limiter.capacity = (int64_t)LIMITER_CAPACITY_PER_P * procs;
	if (limiter.fill > limiter.capacity) /* GOMAXPROCS went down */
		limiter.fill = limiter.capacity;
	if (limiter.lastupdate == 0)
		limiter.lastupdate = now;
	if (now < limiter.lastupdate)
		return; /* a later update came first (Go's rule: never account a window twice) */
	int64_t window = (now - limiter.lastupdate) * procs;
	limiter.lastupdate = now;
	int64_t gctime = gc * procs;
	if (gctime > window)
		gctime = window;
	limiter_accumulate(window - gctime, gctime);
}

/* limiter_defer: should a collection the heap's growth asks for wait?
 * Only one the memory limit asks for, and only while the bucket has no
 * room for a collection as long as the last - an empty bucket always has
 * room (a collection longer than the whole bucket, on a machine too busy
 * to give the stopped world its CPUs, must not be put off for ever). */
static bool limiter_defer(void)
{
	if (!atomic_load_explicit(&gcstat.limitgoal, memory_order_relaxed))
		return false;
	gort__lock(&limiter.lock);
	limiter_update(gort__nanotime(), 0);
	bool wait = limiter.fill > 0 && limiter.fill + limiter.lastcost > limiter.capacity;
	gort__unlock(&limiter.lock);
	if (wait)
		atomic_fetch_add_explicit(&limiter.deferred, 1, memory_order_relaxed);
	return wait;
}

/* limit_scavenge: give free pages back until the heap's resident memory
 * (mapped, less released, plus metadata) is under GOMEMLIMIT. */
void gort__limit_scavenge(void)
{
	int64_t lim = atomic_load(&memlimit);
	if (lim == INT64_MAX)
		return;
	gort__lock(&gort__mheap.lock);
	uint64_t resident = gort__mheap.sys - gort__mheap.released + gort__mheap.metadata;
	gort__unlock(&gort__mheap.lock);
	if (resident > (uint64_t)lim)
		gort__mheap_scavenge(resident - (uint64_t)lim, INT64_MAX);
}

/* ---- environment: GOGC, GOMEMLIMIT ------------------------------------------------ */

/* parsebytecount: Go's syntax for GOMEMLIMIT - an integer, with an
 * optional unit B, KiB, MiB, GiB or TiB. */
static bool parsebytecount(const char *s, int64_t *out)
{
	size_t len = strlen(s);
	if (len == 0)
		return false;
	uint64_t unit = 1;
	static const struct { const char *sfx; int shift; } units[] = {
		{"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40}, {"B", 0}};
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		size_t n = strlen(units[i].sfx);
		if (len > n && strcmp(s + len - n, units[i].sfx) == 0) {
			unit = (uint64_t)1 << units[i].shift;
			len -= n;
			break;
		}
	}
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > (uint64_t)INT64_MAX / unit)
		return false;
	*out = (int64_t)(v * unit);
	return true;
}

static void readenv(void)
{
	const char *p = getenv("GOGC");
	if (p != NULL && *p != '\0') {
		if (strcmp(p, "off") == 0) {
			atomic_store(&gcpercent, -1);
		} else {
			char *end;
			long v = strtol(p, &end, 10);
			if (*end == '\0' && v >= INT32_MIN && v <= INT32_MAX)
				atomic_store(&gcpercent, (int32_t)(v < 0 ? -1 : v));
		}
	}
	p = getenv("GOMEMLIMIT");
	if (p != NULL && *p != '\0' && strcmp(p, "off") != 0) {
		int64_t v;
		if (!parsebytecount(p, &v)) {
			gort__printf("GOMEMLIMIT=%s\n", p);
			gort__fatal("malformed GOMEMLIMIT; see `go doc runtime/debug.SetMemoryLimit`");
		}
		atomic_store(&memlimit, v);
	}
}

/* mallocinit: the heap, before the first P is made (schedinit). */
void gort__mallocinit(void)
{
	gort__sizeclasses_init();
	gort__mheap_init();
	gort__mcentral_init();
	readenv();
	pacer_update();
}

/* ---- a collection ------------------------------------------------------------------ */

static void fold_mcache(mcache *c, uint64_t *nmalloc, uint64_t *bytes, uint64_t *nlarge)
{
	*nmalloc += c->nmalloc + c->nlargealloc;
	*bytes += c->smallbytes + c->largebytes;
	*nlarge += c->nlargealloc;
}

/* A P retired by GOMAXPROCS: its spans go back, its counters to the totals. */
void gort__mcache_retire(P *pp)
{
	mcache *c = pp->mcache;
	gort__mcache_releaseAll(c);
	gcstat.nmalloc += c->nmalloc;
	gcstat.smallbytes += c->smallbytes;
	gcstat.nlargealloc += c->nlargealloc;
	gcstat.largebytes += c->largebytes;
	c->nmalloc = c->smallbytes = c->nlargealloc = c->largebytes = 0;
}

/* Go's fmtNSAsMS: ns as milliseconds, two significant digits below 10 ms. */
static const char *fmtms(char *buf, size_t size, uint64_t ns)
{
	if (ns >= 10000000) {
		snprintf(buf, size, "%llu", (unsigned long long)(ns / 1000000));
		return buf;
	}
	uint64_t x = ns / 1000; /* microseconds */
	if (x == 0)
		return "0";
	int dec = 3;
	while (x >= 100) {
		x /= 10;
		dec--;
	}
	/* x has at most two digits; print x / 10^dec */
	uint64_t p10 = 1;
	for (int i = 0; i < dec; i++)
		p10 *= 10;
	if (dec == 0)
		snprintf(buf, size, "%llu", (unsigned long long)x);
	else
		snprintf(buf, size, "%llu.%0*llu", (unsigned long long)(x / p10), dec,
		         (unsigned long long)(x % p10));
	return buf;
}

/* gcstart: a collection (the top of the file); leakcheck: one that also
 * finds the leaked goroutines (mgcleak.c), always forced.  false: the GC
 * CPU limiter put off a collection the heap's growth asked for - nothing
 * stopped, still on the same P.  selfsp: where the collecting goroutine's
 * stack stops being a root (gc_here). */
static bool gcstart(bool forced, bool leakcheck, uintptr_t selfsp)
{
	G *gp = gort__current_goroutine(forced ? "gort_gc" : "gort_new");
	if (!forced && limiter_defer())
		return false; /* the heap grows past the limit a while: see the limiter */
	uint32_t n0 = atomic_load(&gcstat.numgc);
	int64_t tSweepTerm = gort__nanotime();
	gort__stoptheworld();
	if (!forced && (atomic_load(&gcstat.numgc) != n0 ||
	                atomic_load(&gort__heap_live) < atomic_load(&gort__gc_trigger))) {
		gort__starttheworld(); /* another goroutine collected while we waited */
		return true;
	}
	atomic_store(&gort__gc_running, 1);
	gp = gort__getg();
	int32_t procs = atomic_load(&gomaxprocs);
	if (gort__traceon())
		gort__trace_gcstart(gp->m->p);

	/* sweep termination */
	for (int32_t i = 0; i < procs; i++)
		gort__mcache_releaseAll(allp[i]->mcache);
	gort__finishsweep();
	uint64_t heap0 = atomic_load(&gort__heap_live);
	uint64_t goal = gcstat.heap_goal;
	int64_t tMark = gort__nanotime();
	if (gort__traceon())
		gort__trace_gcmark(gp->m->p);

	markStats st;
	gort__gcleak_active = leakcheck;
	gort__gcmark(gp, selfsp, &st);
	if (leakcheck)
		gort__gcleak_finish();
	int64_t tMarkTerm = gort__nanotime();
	int queued = gort__finalizer_queue_unmarked();
	uint64_t marked = gort__marked_bytes();

	/* mark termination: everything is to be swept again */
	gort__mprof_nextcycle();
	gort__mheap.sweepgen += 2;
	for (int i = 0; i < NUM_SPAN_CLASSES; i++) {
		mcentral *c = &gort__mcentral[i];
		gort__lock(&c->lock);
		list_splice(&c->partial_unswept, &c->partial_swept);
		list_splice(&c->full_unswept, &c->full_swept);
		gort__unlock(&c->lock);
	}
	atomic_store(&gort__heap_live, marked);
	gcstat.heap_marked = marked;
	pacer_update();
	int64_t tEnd = gort__nanotime();
	int64_t pause = tEnd - tSweepTerm;
	uint32_t n = atomic_load(&gcstat.numgc) + 1;
	gcstat.pausetotal += pause;
	gort__metrics_gcpause(pause);
	gcstat.pauses[(n - 1) % 256] = (uint64_t)pause;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	gcstat.lastgc_unix = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	gcstat.pauseend[(n - 1) % 256] = (uint64_t)gcstat.lastgc_unix;
	gort__lock(&limiter.lock);
	limiter_update(tSweepTerm, 0); /* the mutator's time, up to the stop */
	limiter_update(tEnd, pause);   /* and the collector's, every P */
	limiter.lastcost = pause * procs;
	gort__unlock(&limiter.lock);
	int64_t cpuSweepTerm = tMark - tSweepTerm, cpuMarkTerm = tEnd - tMarkTerm;
	gcstat.gccpu += cpuSweepTerm + st.workerns + cpuMarkTerm;
	if (forced)
		atomic_fetch_add(&gcstat.numforced, 1);
	atomic_store(&gcstat.numgc, n);
	atomic_store(&gort__gc_running, 0);
	if (gort__traceon())
		gort__trace_gcdone(gp->m->p, gort__gc_heapgoal());
	gort__starttheworld();
	gort__mprof_flush();

	gort__bgsweep_wake();
	if (queued > 0)
		gort__finalizer_wake();
	gort__limit_scavenge();

	if (gort__debug.gctrace > 0) {
		char b[6][32];
		int64_t elapsed = tEnd - sched.starttime;
		int util = elapsed > 0 ? (int)(gcstat.gccpu * 100 / (elapsed * (int64_t)procs)) : 0;
		uint64_t since = (uint64_t)(tSweepTerm - sched.starttime) / 1000000;
		char line[512];
		snprintf(line, sizeof line, "gc %u @%llu.%03llus %d%%: %s+%s+%s ms clock, %s+%s/%s/%s+%s ms cpu, "
		             "%llu->%llu->%llu MB, %llu MB goal, %llu MB stacks, %llu MB globals, %d P%s\n",
		             n, (unsigned long long)(since / 1000), (unsigned long long)(since % 1000), util,
		             fmtms(b[0], 32, (uint64_t)(tMark - tSweepTerm)), "0",
		             fmtms(b[1], 32, (uint64_t)(tEnd - tMark)),
		             fmtms(b[2], 32, (uint64_t)cpuSweepTerm), "0",
		             fmtms(b[3], 32, (uint64_t)st.workerns), "0",
		             fmtms(b[4], 32, (uint64_t)cpuMarkTerm),
		             (unsigned long long)(heap0 >> 20), (unsigned long long)(heap0 >> 20),
		             (unsigned long long)(marked >> 20),
		             (unsigned long long)(goal == UINT64_MAX ? 0 : goal >> 20),
		             (unsigned long long)(st.stackbytes >> 20),
		             (unsigned long long)(st.globalbytes >> 20), procs, forced ? " (forced)" : "");
		gort__printf("%s", line);
	}
	return true;
}

/*
 * gc_here: a collection, with the collecting goroutine's stack a root from
 * this frame up.  Its registers are spilled here first, into regs, so the
 * callee-saved registers of the frames above (a caller's live pointers may
 * be only there) are on the part scanned.  The collector's own frames below
 * are not roots: their slots hold the runtime's bookkeeping, stale words
 * from calls made before, and the heap's bounds themselves - and the lowest
 * bound is the address of the arena's first object, which such a word
 * would keep for ever (seen: 2% of pprof_heap's runs under ASan, whose
 * larger frames kept heapbounds' spill in gcstart's).
 */
static __attribute__((noinline)) bool gc_here(bool forced, bool leakcheck)
{
	uintptr_t regs[6];
	__asm__ volatile("movq %%rbx, 0(%0)\n\tmovq %%rbp, 8(%0)\n\tmovq %%r12, 16(%0)\n\t"
	                 "movq %%r13, 24(%0)\n\tmovq %%r14, 32(%0)\n\tmovq %%r15, 40(%0)"
	                 :
	                 : "r"(regs)
	                 : "memory");
	bool started = gcstart(forced, leakcheck, (uintptr_t)regs);
	__asm__ volatile("" : : "r"(regs) : "memory");
	return started;
}

bool gort__gc_start(bool forced)
{
	return gc_here(forced, false);
}

void gort__gc_start_leak(void)
{
	gc_here(true, true);
}

/* ---- the API ---------------------------------------------------------------------- */

void gort_gc(void)
{
	gort__gc_start(true);
	/* Go's GC returns once the cycle is swept too. */
	if (gort__traceon())
		gort__trace_gcsweepstart();
	while (gort__sweepone())
		;
	if (gort__traceon())
		gort__trace_gcsweepdone();
	gort__mprof_postsweep();
}

int gort_set_gc_percent(int percent)
{
	gort__current_goroutine("gort_set_gc_percent");
	int32_t old = atomic_exchange(&gcpercent, percent < 0 ? -1 : percent);
	pacer_update();
	if (gort__traceon())
		gort__trace_heapgoal(gort__gc_heapgoal());
	return old;
}

int64_t gort_set_memory_limit(int64_t limit)
{
	gort__current_goroutine("gort_set_memory_limit");
	if (limit < 0)
		return atomic_load(&memlimit);
	int64_t old = atomic_exchange(&memlimit, limit);
	pacer_update();
	if (gort__traceon())
		gort__trace_heapgoal(gort__gc_heapgoal());
	return old;
}

void gort_free_os_memory(void)
{
	gort_gc();
	gort__mheap_scavenge(UINT64_MAX, INT64_MAX);
}

void gort_read_mem_stats(gort_mem_stats *m)
{
	gort__current_goroutine("gort_read_mem_stats");
	memset(m, 0, sizeof *m);
	gort__stoptheworld();
	uint64_t nmalloc = gcstat.nmalloc + gcstat.nlargealloc;
	uint64_t bytes = gcstat.smallbytes + gcstat.largebytes, nlarge = gcstat.nlargealloc;
	int32_t procs = atomic_load(&gomaxprocs);
	for (int32_t i = 0; i < procs; i++)
		fold_mcache(allp[i]->mcache, &nmalloc, &bytes, &nlarge);
	uint64_t nfreed = atomic_load(&gort__nfreed), freedbytes = atomic_load(&gort__nfreedbytes);
	gort__lock(&gort__mheap.lock);
	m->heap_sys = gort__mheap.sys;
	m->heap_inuse = gort__mheap.inuse;
	m->heap_idle = gort__mheap.sys - gort__mheap.inuse;
	m->heap_released = gort__mheap.released;
	uint64_t meta = gort__mheap.metadata;
	gort__unlock(&gort__mheap.lock);
	m->mallocs = nmalloc;
	m->frees = nfreed;
	m->total_alloc = bytes;
	m->heap_alloc = bytes - freedbytes;
	m->alloc = m->heap_alloc;
	m->heap_objects = nmalloc - nfreed;
	m->sys = m->heap_sys + meta;
	m->next_gc = gcstat.heap_goal == UINT64_MAX ? 0 : gcstat.heap_goal;
	m->last_gc = (uint64_t)gcstat.lastgc_unix;
	m->pause_total_ns = (uint64_t)gcstat.pausetotal;
	memcpy(m->pause_ns, gcstat.pauses, sizeof m->pause_ns);
	memcpy(m->pause_end, gcstat.pauseend, sizeof m->pause_end);
	m->num_gc = atomic_load(&gcstat.numgc);
	m->num_forced_gc = atomic_load(&gcstat.numforced);
	int64_t elapsed = gort__nanotime() - sched.starttime;
	m->gc_cpu_fraction = elapsed > 0 ? (double)gcstat.gccpu / ((double)elapsed * procs) : 0;
	gort__starttheworld();
}

/* heap numbers for gort_read_metrics (racy: no world stopped) */
void gort__gc_metrics(uint64_t *live, uint64_t *goal, uint64_t *sys, uint64_t *released,
                      uint64_t *numgc, uint64_t *pausetotal)
{
	*live = atomic_load(&gort__heap_live);
	*goal = gcstat.heap_goal == UINT64_MAX ? 0 : gcstat.heap_goal;
	gort__lock(&gort__mheap.lock);
	*sys = gort__mheap.sys;
	*released = gort__mheap.released;
	gort__unlock(&gort__mheap.lock);
	*numgc = atomic_load(&gcstat.numgc);
	*pausetotal = (uint64_t)gcstat.pausetotal;
}

/* the allocation totals for gort_read_metrics (racy: the P caches'
 * counters are read while their Ps count with plain stores, as Go's
 * metrics read them; ThreadSanitizer is not shown these reads - the
 * numbers are a snapshot, not a synchronization) */
__attribute__((no_sanitize("thread"))) void gort__gc_alloc_totals(uint64_t *nmalloc, uint64_t *bytes, uint64_t *nforced, uint64_t *lastpause)
{
	uint64_t n = gcstat.nmalloc + gcstat.nlargealloc, b = gcstat.smallbytes + gcstat.largebytes;
	int32_t procs = atomic_load(&gomaxprocs);
	for (int32_t i = 0; i < procs; i++) { /* fold_mcache's sums, here: not instrumented */
		mcache *c = allp[i]->mcache;
		n += c->nmalloc + c->nlargealloc;
		b += c->smallbytes + c->largebytes;
	}
	*nmalloc = n;
	*bytes = b;
	*nforced = atomic_load(&gcstat.numforced);
	uint32_t ngc = atomic_load(&gcstat.numgc);
	*lastpause = ngc > 0 ? gcstat.pauses[(ngc - 1) % 256] : 0;
}

void gort__gc_debugaddrs(uint64_t *goal, uint64_t *numgc, uint64_t *pauses)
{
	*goal = (uintptr_t)&gcstat.heap_goal;
	*numgc = (uintptr_t)&gcstat.numgc;
	*pauses = (uintptr_t)gcstat.pauses;
}
