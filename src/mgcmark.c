/*
 * mgcmark.c - the roots and the mark: parallel and conservative (Go's
 * mgcmark.go and mgcwork.go, with Boehm's rule for what is a pointer).
 *
 * Conservative: gort does not know the types of C objects, so every
 * aligned word of a root or of a scanned object that points into an
 * allocated object of the heap - at its start or anywhere inside it -
 * keeps that object alive (greyobject).  An integer that happens to look
 * like such an address keeps an object too: false retention, the price of
 * not knowing types.  Objects from gort_new_noscan are marked but never
 * scanned, which is what makes big buffers cheap.
 *
 * The roots (gcmark builds the list with the world stopped):
 *   - every goroutine's stack from its saved stack pointer to its top:
 *     parked or runnable ones from the savedctx gort__mcall pushed (its
 *     callee-saved registers are on the stack, so registers at the switch
 *     are scanned with it; a goroutine stopped by signal has the signal
 *     frame, every register, there too); one in a system call from the
 *     stack pointer gort_entersyscall recorded, plus the registers it saved
 *     (G.syscallctx); the collecting goroutine from the frame that
 *     entered the collector, after spilling its registers there (mgc.c:
 *     gc_here; the collector's own frames below are not roots);
 *   - each G's function, argument and gort_go_args block (a goroutine
 *     not yet started holds its argument only there);
 *   - the writable segments (data, bss) of the executable and of every
 *     loaded library (dl_iterate_phdr);
 *   - the roots the program registered (gort_gc_add_roots);
 *   - the buffer of every live pooled channel, found by walking the
 *     channels' slots (chan.c: gort__chan_roots; a collectable channel's
 *     buffer is a heap object the channel points to);
 *   - every P's timer heap, a malloc'd array: a pending collectable timer
 *     (gort_after's) is referred to by nothing else (time.c);
 *   - what objects with finalizers point to, and the queued finalizers
 *     (mfinal.c).
 * A leak check (mgcleak.c) holds back the stacks of goroutines blocked on
 * a channel or a sync object until what they wait on is marked.
 * Not roots: the scheduler's own stacks (g0, signal stacks: no user code
 * runs there), threads gort does not run (a foreign thread outside a call
 * into gort), thread-local variables, and malloc'd memory not registered.
 *
 * Parallel: the collecting goroutine and up to GOMAXPROCS-1 helper threads
 * (the other Ps are stopped, so their CPUs are free) claim root jobs by an
 * atomic counter, then drain their own work stacks.  Marking an object is
 * an atomic OR of its bit, so exactly one worker scans it.  A worker with
 * work to spare while others are idle moves half of it to a shared pool;
 * the mark is over when every worker is idle and the pool is empty.
 *
 * The scan functions read stack and data words that AddressSanitizer may
 * have poisoned (redzones) and that other threads own: they are built
 * without ASan's and TSan's checks (NOSANITIZE).
 */
#define _GNU_SOURCE
#include <link.h>
#include <pthread.h>
#include <setjmp.h>
#include <string.h>
#include <time.h>

#include "mheap.h"
#include "proc.h"
#include "timer.h"

#define NOSANITIZE __attribute__((no_sanitize("address", "thread", "undefined"), noinline))
#define NOSANITIZE_INLINE __attribute__((no_sanitize("address", "thread", "undefined")))

enum {
	ROOT_CHUNK = 64 << 10,   /* root ranges are split into jobs this long */
	OBJ_CHUNK = 128 << 10,   /* and large objects into pieces this long */
	MAX_HELPERS = 64,
};

/* a root: a range, and what it is for gctrace's totals */
typedef struct markRange {
	uintptr_t b, n;
	uint8_t kind; /* 0 other, 1 stack, 2 global */
} markRange;

/* a piece of work: an object (or a chunk of a large one) to scan */
typedef struct workItem {
	uintptr_t b, n; /* n == 0: an empty slot of the prefetch ring */
} workItem;

/*
 * PREFETCH ranges wait in a worker's prefetch ring between leaving its
 * stack and being scanned: each one's first line is prefetched as it
 * enters, and by the time it is scanned, PREFETCH-1 scans later, it is
 * in the cache (Boehm's and Go 1.22's prefetch queue).  Without it the
 * first load of nearly every object scanned is a cache miss the marker
 * waits for: perf put 84% of scanblock's samples on that one load.
 */
enum { PREFETCH = 16 };

/* a worker's state: its stack of ranges to scan, its prefetch ring, what
 * it marked */
typedef struct gcWork {
	workItem *v;
	size_t n, cap;
	workItem ring[PREFETCH];  /* prefetched, not yet scanned; empty slots n == 0 */
	unsigned ringhead;        /* the oldest slot */
	uint64_t marked, objects, stackbytes, globalbytes;
	bool alone; /* no helper marks this cycle: bits need no atomic OR */
} gcWork;

/* the shared state of one mark */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;      /* work in the pool, or the mark is over */
	pthread_cond_t startcond; /* a mark begins (helpers wait here) */
	pthread_cond_t donecond;  /* a helper finished */
	workItem *pool;
	size_t npool, poolcap;
	int nworkers;             /* in this mark so far, the collector included */
	_Atomic int nidle;
	bool done;
	uint32_t gen;             /* marks started: helpers wait for the next */
	int nhelpers;             /* helper threads made */
	int helpersrunning;       /* helpers that joined this mark, not yet finished */
	int helperswanted;        /* helpers that may still join this mark */
	markRange *roots;
	size_t nroots, rootscap;
	_Atomic size_t rootnext;
	markStats total;
} work = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
	.startcond = PTHREAD_COND_INITIALIZER,
	.donecond = PTHREAD_COND_INITIALIZER,
};

static gcWork serialw; /* the collector's, reused by markobject after the mark */

static __attribute__((noinline, cold)) void growstack(gcWork *w)
{
	w->cap = w->cap ? w->cap * 2 : 1024;
	w->v = realloc(w->v, w->cap * sizeof *w->v);
	if (w->v == NULL)
		gort__throw("runtime: out of memory in the collector's work stack");
}

static inline void push(gcWork *w, uintptr_t b, uintptr_t n)
{
	if (__builtin_expect(w->n == w->cap, 0))
		growstack(w);
	w->v[w->n++] = (workItem){b, n};
}

/* greyobject: if v - known to lie within the heap's arenas' bounds -
 * points into an allocated, unmarked object, mark it and queue its
 * contents for scanning (unless it is noscan). */
NOSANITIZE_INLINE static inline __attribute__((always_inline)) void greyobject(gcWork *w, uintptr_t v)
{
	mspan *s = spanOfHeap(v);
	if (s == NULL)
		return;
	uint32_t idx = objIndex(s, v);
	if (idx >= s->nelems || span_isfree(s, idx))
		return;
	_Atomic uint64_t *word = (_Atomic uint64_t *)&s->gcmarkBits[idx >> 6];
	uint64_t bit = (uint64_t)1 << (idx & 63);
	uint64_t old = atomic_load_explicit(word, memory_order_relaxed);
	if (old & bit)
		return;
	if (w->alone) /* the only marker: a plain store (no locked instruction) */
		atomic_store_explicit(word, old | bit, memory_order_relaxed);
	else if (atomic_fetch_or_explicit(word, bit, memory_order_relaxed) & bit)
		return;
	w->marked += s->elemsize;
	w->objects++;
	if (spanclass_noscan(s->spanclass))
		return;
	uintptr_t base = s->startAddr + (uintptr_t)idx * s->elemsize;
	if (__builtin_expect(s->elemsize <= OBJ_CHUNK, 1)) {
		push(w, base, s->elemsize);
		return;
	}
	for (uintptr_t off = 0; off < s->elemsize; off += OBJ_CHUNK)
		push(w, base + off, s->elemsize - off < OBJ_CHUNK ? s->elemsize - off : OBJ_CHUNK);
}

/* heapbounds: the arenas' span [lo, lo+span), the mark's first filter of
 * a word (greyobject relies on it); false while there is no arena (the
 * bounds start inverted).  Fixed while the world is stopped. */
static inline bool heapbounds(uintptr_t *lo, uintptr_t *span)
{
	*lo = atomic_load_explicit(&gort__mheap.minaddr, memory_order_relaxed);
	uintptr_t hi = atomic_load_explicit(&gort__mheap.maxaddr, memory_order_relaxed);
	*span = hi - *lo;
	return hi > *lo;
}

/* scanwords: every aligned word of [b, b+n) that may be a heap pointer. */
NOSANITIZE_INLINE static inline __attribute__((always_inline)) void
scanwords(gcWork *w, uintptr_t b, uintptr_t n, uintptr_t lo, uintptr_t span)
{
	uintptr_t p = (b + 7) & ~(uintptr_t)7, end = b + n;
	for (; p + 8 <= end; p += 8) {
		uintptr_t v = *(volatile uintptr_t *)p;
		if (v - lo < span)
			greyobject(w, v);
	}
}

NOSANITIZE static void scanblock(gcWork *w, uintptr_t b, uintptr_t n)
{
	uintptr_t lo, span;
	if (heapbounds(&lo, &span))
		scanwords(w, b, n, lo, span);
}

static void scanrange(gcWork *w, const markRange *r)
{
	if (r->kind == 1)
		w->stackbytes += r->n;
	else if (r->kind == 2)
		w->globalbytes += r->n;
	scanblock(w, r->b, r->n);
}

/* share: others are idle and w has work to spare - move half to the pool. */
static void share(gcWork *w)
{
	pthread_mutex_lock(&work.lock);
	size_t half = w->n / 2;
	if (work.npool + half > work.poolcap) {
		work.poolcap = (work.npool + half) * 2;
		work.pool = realloc(work.pool, work.poolcap * sizeof *work.pool);
		if (work.pool == NULL)
			gort__throw("runtime: out of memory in the collector's work pool");
	}
	memcpy(work.pool + work.npool, w->v, half * sizeof *w->v);
	memmove(w->v, w->v + half, (w->n - half) * sizeof *w->v);
	work.npool += half;
	w->n -= half;
	pthread_cond_broadcast(&work.cond);
	pthread_mutex_unlock(&work.lock);
}

/*
 * drainlocal: scan until w's stack and prefetch ring are both empty - the
 * mark's inner loop.  While the stack has work, each item popped goes
 * into the ring's oldest slot (prefetched) and what was there is scanned;
 * once it is empty, the ring is scanned out in order, oldest first, and
 * the slots left empty (serialw lives in bss, a root: a stale address
 * left in its ring would keep that object for ever).
 */
NOSANITIZE static void drainlocal(gcWork *w)
{
	uintptr_t lo, span;
	if (!heapbounds(&lo, &span)) {
		gort__assert(w->n == 0, "drainlocal: work queued with no heap");
		return;
	}
	unsigned head = w->ringhead;
	for (;;) {
		workItem r;
		if (w->n > 0) {
			workItem in = w->v[--w->n];
			__builtin_prefetch((const void *)in.b);
			r = w->ring[head];
			w->ring[head] = in;
			head = (head + 1) % PREFETCH;
			if (r.n == 0)
				continue; /* the ring is still filling */
		} else {
			unsigned k = 0;
			while (k < PREFETCH && w->ring[(head + k) % PREFETCH].n == 0)
				k++;
			if (k == PREFETCH)
				break;
			head = (head + k) % PREFETCH;
			r = w->ring[head];
			w->ring[head] = (workItem){0, 0};
			head = (head + 1) % PREFETCH;
		}
		scanwords(w, r.b, r.n, lo, span);
		if (!w->alone && w->n > 1 && atomic_load_explicit(&work.nidle, memory_order_relaxed) > 0)
			share(w);
	}
	w->ringhead = head;
}

/* drain: mark until every worker is out of work (Go's gcDrain). */
static void drain(gcWork *w)
{
	for (;;) {
		drainlocal(w);
		size_t i = atomic_fetch_add_explicit(&work.rootnext, 1, memory_order_relaxed);
		if (i < work.nroots) {
			scanrange(w, &work.roots[i]);
			continue;
		}
		pthread_mutex_lock(&work.lock);
		for (;;) {
			if (work.npool > 0) {
				size_t take = work.npool < 64 ? work.npool : 64;
				for (size_t k = 0; k < take; k++) {
					workItem r = work.pool[--work.npool];
					push(w, r.b, r.n);
				}
				break;
			}
			if (work.done) {
				pthread_mutex_unlock(&work.lock);
				return;
			}
			if (atomic_fetch_add(&work.nidle, 1) + 1 == work.nworkers) {
				work.done = true;
				pthread_cond_broadcast(&work.cond);
				pthread_mutex_unlock(&work.lock);
				return;
			}
			pthread_cond_wait(&work.cond, &work.lock);
			atomic_fetch_sub(&work.nidle, 1);
		}
		pthread_mutex_unlock(&work.lock);
	}
}

static int64_t threadcputime(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void addstats(gcWork *w, int64_t ns)
{
	work.total.markedbytes += w->marked;
	work.total.objects += w->objects;
	work.total.stackbytes += w->stackbytes;
	work.total.globalbytes += w->globalbytes;
	work.total.workerns += ns;
	w->marked = w->objects = w->stackbytes = w->globalbytes = 0;
}

/*
 * a helper thread: one per stopped P's worth of CPU, kept between marks.
 * A helper joins a mark only if it wakes before the mark is over, and is
 * counted among the workers only from then on: on a machine busier than
 * GOMAXPROCS says, a helper the kernel has not scheduled yet must not hold
 * the mark's end (and the world) for a time slice.
 */
static void *markhelper(void *arg)
{
	(void)arg;
	gcWork w = {0};
	uint32_t seen = 0;
	pthread_mutex_lock(&work.lock);
	for (;;) {
		while (work.gen == seen)
			pthread_cond_wait(&work.startcond, &work.lock);
		seen = work.gen;
		if (work.done || work.helperswanted == 0)
			continue; /* too late for this mark, or not wanted in it */
		work.helperswanted--;
		work.nworkers++;
		work.helpersrunning++;
		pthread_mutex_unlock(&work.lock);
		int64_t t0 = threadcputime();
		drain(&w);
		int64_t ns = threadcputime() - t0;
		pthread_mutex_lock(&work.lock);
		addstats(&w, ns);
		if (--work.helpersrunning == 0)
			pthread_cond_signal(&work.donecond);
	}
	return NULL;
}

/* ---- the roots ----------------------------------------------------------------- */

static void addroot(uintptr_t b, uintptr_t n, uint8_t kind)
{
	for (uintptr_t off = 0; off < n; off += ROOT_CHUNK) {
		if (work.nroots == work.rootscap) {
			work.rootscap = work.rootscap ? work.rootscap * 2 : 1024;
			work.roots = realloc(work.roots, work.rootscap * sizeof *work.roots);
			if (work.roots == NULL)
				gort__throw("runtime: out of memory listing the collector's roots");
		}
		work.roots[work.nroots++] = (markRange){b + off, n - off < ROOT_CHUNK ? n - off : ROOT_CHUNK, kind};
	}
}

/*
 * A global range, less the heap's own bookkeeping: gort__mheap holds the
 * arenas' bounds, and the lowest bound is the address of the first object
 * ever allocated - as a root it would keep that object for ever.
 */
static void addglobal(uintptr_t b, uintptr_t n)
{
	uintptr_t xlo = (uintptr_t)&gort__mheap, xhi = xlo + sizeof gort__mheap;
	if (xhi <= b || xlo >= b + n) {
		addroot(b, n, 2);
		return;
	}
	if (xlo > b)
		addroot(b, xlo - b, 2);
	if (xhi < b + n)
		addroot(xhi, b + n - xhi, 2);
}

static int globals_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	(void)arg;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W))
			addglobal(info->dlpi_addr + ph->p_vaddr, ph->p_memsz);
	}
	return 0;
}

static void addroot_cb(uintptr_t p, uintptr_t n, void *ctx)
{
	(void)ctx;
	addroot(p, n, 0);
}

/* stackroots: gp's stack from where it stopped, and what its G holds,
 * handed to add (addroot; scanstack_serial's scanner after the mark). */
static void stackroots(G *gp, G *self, void (*add)(uintptr_t b, uintptr_t n, uint8_t kind))
{
	uint32_t st = gort__readgstatus(gp);
	if (st == Gdead || st == Gidle)
		return;
	add((uintptr_t)&gp->fn, sizeof gp->fn + sizeof gp->arg, 0);
	add((uintptr_t)gp->args, sizeof gp->args, 0);
	if (gp == self || gp->stack.lo == 0)
		return;
	uintptr_t sp;
	switch (st) {
	case Gsyscall:
		add((uintptr_t)&gp->syscallctx, sizeof gp->syscallctx, 0);
		sp = gp->syscallctx.sp;
		break;
	case Grunnable:
	case Gwaiting:
		sp = (uintptr_t)gp->sched_sp;
		break;
	default:
		gort__printf("runtime: goroutine %lld status %u\n", (long long)gp->goid, st);
		gort__throw("gc: a goroutine runs while the world is stopped");
	}
	if (sp < gp->stack.lo || sp > gp->stack.hi)
		return; /* a foreign thread's G between its call's steps: nothing of gort's yet */
	add(sp, gp->stack.hi - sp, 1);
}

static void userroots(void); /* the program's registered roots, below */

/* timerroots: every P's timer heap (time.c says what it holds). */
static void timerroots(void)
{
	int32_t procs = atomic_load(&gomaxprocs);
	for (int32_t i = 0; i < procs; i++)
		gort__timer_roots(allp[i], addroot_cb, NULL);
}

/*
 * gcmark marks everything reachable from the roots, the world stopped,
 * self (the collecting goroutine) running at stack pointer selfsp with its
 * registers spilled above it.  Helpers join for GOMAXPROCS-1 CPUs.
 */
void gort__gcmark(G *self, uintptr_t selfsp, markStats *st)
{
	work.nroots = 0;
	dl_iterate_phdr(globals_cb, NULL);
	gort__lock(&allglock);
	size_t n = atomic_load(&allglen);
	if (gort__gcleak_active)
		gort__gcleak_prepare();
	for (size_t i = 0; i < n; i++) {
		/* In a leak check, a goroutine blocked on a channel or a sync
		 * object is held back: its stack becomes a root only once what
		 * it waits on is found reachable (mgcleak.c). */
		if (gort__gcleak_active && gort__gcleak_holdback(allgs[i]))
			continue;
		stackroots(allgs[i], self, addroot);
	}
	gort__unlock(&allglock);
	addroot(selfsp, self->stack.hi - selfsp, 1);
	userroots();
	gort__chan_roots(addroot_cb, NULL); /* held until the mark is over: chan.c */
	timerroots();
	gort__finalizer_roots(addroot_cb, NULL);
	atomic_store(&work.rootnext, 0);

	int helpers = atomic_load(&gomaxprocs) - 1;
	if (helpers > gort__ncpu - 1)
		helpers = gort__ncpu - 1;
	if (helpers > MAX_HELPERS)
		helpers = MAX_HELPERS;
	if (helpers < 0)
		helpers = 0;
	memset(&work.total, 0, sizeof work.total);
	pthread_mutex_lock(&work.lock);
	while (work.nhelpers < helpers) {
		gort__newosproc(markhelper, NULL);
		work.nhelpers++;
	}
	work.nworkers = 1; /* the helpers count themselves in as they join */
	atomic_store(&work.nidle, 0);
	work.done = false;
	work.npool = 0;
	work.helperswanted = helpers;
	work.helpersrunning = 0;
	work.gen++;
	pthread_cond_broadcast(&work.startcond);
	pthread_mutex_unlock(&work.lock);

	serialw.alone = false; /* a helper may join at any time */
	if (helpers == 0)
		serialw.alone = true;
	int64_t t0 = threadcputime();
	drain(&serialw);
	int64_t ns = threadcputime() - t0;
	pthread_mutex_lock(&work.lock);
	addstats(&serialw, ns);
	while (work.helpersrunning > 0)
		pthread_cond_wait(&work.donecond, &work.lock);
	work.helperswanted = 0;
	*st = work.total;
	pthread_mutex_unlock(&work.lock);
	gort__assert(work.npool == 0, "gcmark: work left in the pool");
	gort__chan_roots_done();
}

/* ---- after the mark, on the collector alone (finalizers) ---------------------- */

bool gort__ismarked(uintptr_t p)
{
	mspan *s = spanOf(p);
	if (s == NULL)
		return true; /* not in the heap: never collected */
	return bit_get(s->gcmarkBits, objIndex(s, p));
}

/* markobject marks p and what it reaches; drained by markdrain_serial. */
void gort__markobject(uintptr_t p)
{
	if (spanOf(p) != NULL) /* the bounds' check greyobject leaves to its callers */
		greyobject(&serialw, p);
}

void gort__scanblock_serial(uintptr_t b, uintptr_t n)
{
	scanblock(&serialw, b, n);
}

static void scanstack_add(uintptr_t b, uintptr_t n, uint8_t kind)
{
	(void)kind;
	scanblock(&serialw, b, n);
}

/* scanstack_serial: gp's stack and G, as a root would be, scanned after
 * the mark (a leak check's goroutine found live); markdrain_serial then
 * marks what it reaches. */
void gort__scanstack_serial(G *gp)
{
	stackroots(gp, NULL, scanstack_add);
}

void gort__markdrain_serial(void)
{
	serialw.alone = true; /* the helpers are done */
	drainlocal(&serialw);   /* alone: nothing is shared */
	work.total.markedbytes += serialw.marked;
	work.total.objects += serialw.objects;
	serialw.marked = serialw.objects = 0;
}

uint64_t gort__marked_bytes(void)
{
	return work.total.markedbytes;
}

/* ---- the program's registered roots (gort_gc_add_roots) ---------------------- */

/* A hash of ranges under one lock: registering is the program's rare act.
 * (The channels' buffers were once registered here too, at every make and
 * free; the mark finds them in the channels' slots now: chan.c.) */

typedef struct rootEntry {
	struct rootEntry *next;
	uintptr_t p, n;
} rootEntry;

static struct {
	mutex lock;
	rootEntry **buckets;
	size_t nbuckets, n;
} roots;

static size_t roothash(uintptr_t p, size_t nb)
{
	return (size_t)((p >> 4) * 0x9E3779B97F4A7C15ull >> 20) & (nb - 1);
}

static void roots_grow(void)
{
	size_t nb = roots.nbuckets ? roots.nbuckets * 2 : 256;
	rootEntry **b = calloc(nb, sizeof *b);
	if (b == NULL)
		gort__throw("runtime: out of memory registering roots");
	for (size_t i = 0; i < roots.nbuckets; i++) {
		rootEntry *e = roots.buckets[i];
		while (e != NULL) {
			rootEntry *next = e->next;
			size_t h = roothash(e->p, nb);
			e->next = b[h];
			b[h] = e;
			e = next;
		}
	}
	free(roots.buckets);
	roots.buckets = b;
	roots.nbuckets = nb;
}

static void addroots(const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p;
	gort__lock(&roots.lock);
	if (roots.n >= roots.nbuckets)
		roots_grow();
	size_t h = roothash(a, roots.nbuckets);
	for (rootEntry *e = roots.buckets[h]; e != NULL; e = e->next)
		if (e->p == a) {
			e->n = n;
			gort__unlock(&roots.lock);
			return;
		}
	rootEntry *e = malloc(sizeof *e);
	if (e == NULL)
		gort__throw("runtime: out of memory registering roots");
	*e = (rootEntry){roots.buckets[h], a, n};
	roots.buckets[h] = e;
	roots.n++;
	gort__unlock(&roots.lock);
}

static void removeroots(const void *p)
{
	uintptr_t a = (uintptr_t)p;
	gort__lock(&roots.lock);
	if (roots.nbuckets != 0) {
		rootEntry **pe = &roots.buckets[roothash(a, roots.nbuckets)];
		for (; *pe != NULL; pe = &(*pe)->next)
			if ((*pe)->p == a) {
				rootEntry *e = *pe;
				*pe = e->next;
				free(e);
				roots.n--;
				break;
			}
	}
	gort__unlock(&roots.lock);
}

/* userroots: the registered roots, to the mark's list (gcmark). */
static void userroots(void)
{
	gort__lock(&roots.lock);
	for (size_t i = 0; i < roots.nbuckets; i++)
		for (rootEntry *e = roots.buckets[i]; e != NULL; e = e->next)
			addroot(e->p, e->n, 0);
	gort__unlock(&roots.lock);
}

void gort_gc_add_roots(const void *p, size_t n)
{
	if (p == NULL && n != 0)
		gort__fatal("gort_gc_add_roots: nil pointer with a non-zero length");
	if (n != 0)
		addroots(p, n);
}

void gort_gc_remove_roots(const void *p)
{
	removeroots(p);
}
