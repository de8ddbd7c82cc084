/*
 * mfinal.c - finalizers (Go's mfinal.go: SetFinalizer, the finalizer
 * queue, runfinq) and gort_keepalive's companion rules.
 *
 *   the table   object -> function, for objects with a finalizer set.
 *               Each cycle the collector scans what those objects point to
 *               (finalizer_roots) but does not mark the objects themselves:
 *               so an object reachable only from another finalized object
 *               waits for that one's finalizer first, as in Go.
 *   queueing    after the mark, an object of the table still unmarked is
 *               unreachable: its entry moves to the queue and the object is
 *               marked, so it survives this cycle (finalizer_queue_unmarked).
 *               Its finalizer is then cleared: it runs once.
 *   the queue   objects waiting for their finalizer; a root of every cycle
 *               until run.
 *   fing        one goroutine runs them, one at a time, in queue order
 *               (Go's runfinq).  A finalizer may store its object somewhere
 *               reachable (resurrection): the object is then live again,
 *               without a finalizer, until set again.
 */
#define _GNU_SOURCE
#include <link.h>
#include <string.h>

#include "mheap.h"

typedef struct finalizer {
	uintptr_t p;
	gort_finalizer_func fn;
} finalizer;

static struct {
	mutex lock;
	finalizer *tab; /* open addressing by p; p == 0: empty, 1: deleted */
	size_t cap, n, used;
	finalizer *q;   /* the queue */
	size_t qn, qcap, qhead;
	G *fing;
	bool fingwait;  /* fing is parked waiting for work */
	bool fingmade;
	_Atomic uint64_t nrun;
} fin;

static size_t finhash(uintptr_t p, size_t cap)
{
	return (size_t)((p >> 3) * 0x9E3779B97F4A7C15ull >> 17) & (cap - 1);
}

static void tab_put(finalizer *tab, size_t cap, finalizer f)
{
	size_t i = finhash(f.p, cap);
	while (tab[i].p > 1)
		i = (i + 1) & (cap - 1);
	tab[i] = f;
}

static finalizer *tab_find(uintptr_t p)
{
	if (fin.cap == 0)
		return NULL;
	size_t i = finhash(p, fin.cap);
	while (fin.tab[i].p != 0) {
		if (fin.tab[i].p == p)
			return &fin.tab[i];
		i = (i + 1) & (fin.cap - 1);
	}
	return NULL;
}

static void tab_grow(void)
{
	size_t cap = fin.cap ? fin.cap * 2 : 64;
	if (fin.n * 2 < fin.cap)
		cap = fin.cap; /* mostly deleted slots: rehash in place */
	finalizer *tab = calloc(cap, sizeof *tab);
	if (tab == NULL)
		gort__throw("runtime: out of memory growing the finalizer table");
	for (size_t i = 0; i < fin.cap; i++)
		if (fin.tab[i].p > 1)
			tab_put(tab, cap, fin.tab[i]);
	free(fin.tab);
	fin.tab = tab;
	fin.cap = cap;
	fin.used = fin.n;
}

static void tab_delete(finalizer *f)
{
	f->p = 1;
	f->fn = NULL;
	fin.n--;
}

/* in_globals: is p in a writable segment of a loaded object (Go lets
 * SetFinalizer on a global pass silently)? */
static int globals_find(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	uintptr_t p = *(uintptr_t *)arg;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W) && p >= lo && p < lo + ph->p_memsz)
			return 1;
	}
	return 0;
}

extern uint64_t gort__zerobase;

static void runfinq(void *arg);

_Atomic int32_t gort__nsystemg;
static G *_Atomic fingp; /* fin.fing, for readers without fin.lock */

bool gort__issystemg(G *gp)
{
	return gp == atomic_load_explicit(&fingp, memory_order_relaxed);
}

/* unlockf for fing's park */
static bool finunlock(G *gp, void *lock)
{
	(void)gp;
	gort__unlock(lock);
	return true;
}

void gort_set_finalizer(void *obj, gort_finalizer_func fn)
{
	gort__current_goroutine("gort_set_finalizer");
	uintptr_t p = (uintptr_t)obj;
	if (obj == NULL)
		gort__fatal("runtime.SetFinalizer: first argument is nil");
	if (obj == &gort__zerobase)
		return; /* 0-length objects are okay (Go) */
	mspan *s = spanOf(p);
	uint32_t idx = s != NULL ? objIndex(s, p) : 0;
	if (s == NULL || idx >= s->nelems || span_isfree(s, idx)) {
		if (dl_iterate_phdr(globals_find, &p))
			return; /* a global: never collected, so nothing to do (Go) */
		gort__fatal("runtime.SetFinalizer: pointer not in allocated block");
	}
	if (p != s->startAddr + (uintptr_t)idx * s->elemsize)
		gort__fatal("runtime.SetFinalizer: pointer not at beginning of allocated block");
	gort__lock(&fin.lock);
	finalizer *f = tab_find(p);
	if (fn == NULL) {
		if (f != NULL)
			tab_delete(f);
		gort__unlock(&fin.lock);
		return;
	}
	if (f != NULL) {
		gort__unlock(&fin.lock);
		gort__fatal("runtime.SetFinalizer: finalizer already set");
	}
	if ((fin.used + 1) * 4 > fin.cap * 3)
		tab_grow();
	size_t i = finhash(p, fin.cap);
	while (fin.tab[i].p > 1)
		i = (i + 1) & (fin.cap - 1);
	if (fin.tab[i].p == 0)
		fin.used++;
	fin.tab[i] = (finalizer){p, fn};
	fin.n++;
	bool make = !fin.fingmade;
	fin.fingmade = true;
	gort__unlock(&fin.lock);
	if (make) {
		atomic_fetch_add(&gort__nsystemg, 1);
		gort_go(runfinq, NULL);
	}
}

/*
 * scan_but_self: a collectable channel or timer (handle.h) starts with its
 * own address - its handle's check, not a reference - and a timer's
 * condition variable points at the timer's own mutex.  Scanned as a
 * finalized object's contents, such words would make the object a cycle
 * through its finalizer, never collected; its words that point into
 * itself are left out (the rest is handed over in runs).
 */
static void scan_but_self(uintptr_t p, uintptr_t n, void (*fn)(uintptr_t p, uintptr_t n, void *ctx),
                          void *ctx)
{
	const uintptr_t *w = (const uintptr_t *)p;
	uintptr_t run = p;
	for (uintptr_t off = 0; off < n; off += sizeof *w) {
		uintptr_t v = w[off / sizeof *w];
		if (v - p >= n)
			continue;
		if (p + off > run)
			fn(run, p + off - run, ctx);
		run = p + off + sizeof *w;
	}
	if (run < p + n)
		fn(run, p + n - run, ctx);
}

/*
 * finalizer_roots hands the collector what finalized objects point to (not
 * the objects: see the top) and the queue.  The world is stopped.
 */
void gort__finalizer_roots(void (*fn)(uintptr_t p, uintptr_t n, void *ctx), void *ctx)
{
	for (size_t i = 0; i < fin.cap; i++) {
		uintptr_t p = fin.tab[i].p;
		if (p <= 1)
			continue;
		mspan *s = spanOf(p);
		gort__assert(s != NULL, "finalizer: object not in the heap");
		if (spanclass_noscan(s->spanclass))
			continue;
		if (*(const uintptr_t *)p == p)
			scan_but_self(p, s->elemsize, fn, ctx);
		else
			fn(p, s->elemsize, ctx);
	}
	if (fin.qn > fin.qhead)
		fn((uintptr_t)(fin.q + fin.qhead), (fin.qn - fin.qhead) * sizeof *fin.q, ctx);
}

/* finalizer_queue_unmarked: after the mark, queue the finalizers of the
 * objects found unreachable, and mark those objects.  The world is stopped. */
int gort__finalizer_queue_unmarked(void)
{
	int queued = 0;
	for (size_t i = 0; i < fin.cap; i++) {
		finalizer *f = &fin.tab[i];
		if (f->p <= 1 || gort__ismarked(f->p))
			continue;
		if (fin.qhead > 0 && fin.qn == fin.qcap) { /* compact before growing */
			memmove(fin.q, fin.q + fin.qhead, (fin.qn - fin.qhead) * sizeof *fin.q);
			fin.qn -= fin.qhead;
			fin.qhead = 0;
		}
		if (fin.qn == fin.qcap) {
			fin.qcap = fin.qcap ? fin.qcap * 2 : 64;
			fin.q = realloc(fin.q, fin.qcap * sizeof *fin.q);
			if (fin.q == NULL)
				gort__throw("runtime: out of memory queueing finalizers");
		}
		fin.q[fin.qn++] = *f;
		gort__markobject(f->p);
		tab_delete(f);
		queued++;
	}
	gort__markdrain_serial();
	return queued;
}

/* finalizer_wake: after a collection that queued some, wake fing. */
void gort__finalizer_wake(void)
{
	gort__lock(&fin.lock);
	G *gp = NULL;
	if (fin.fingwait && fin.qn > fin.qhead) {
		fin.fingwait = false;
		gp = fin.fing;
	}
	gort__unlock(&fin.lock);
	if (gp != NULL)
		gort__goready(gp);
}

uint64_t gort__finalizer_count(void)
{
	return atomic_load(&fin.nrun);
}

/* callfin runs the finalizer at the head of the queue (the lock held on
 * entry, released); the object's address lives only in this frame, the
 * finalizer's, and the registers. */
static __attribute__((noinline)) void callfin(void)
{
	finalizer f = fin.q[fin.qhead];
	fin.q[fin.qhead] = (finalizer){0, NULL};
	fin.qhead++;
	gort__unlock(&fin.lock);
	f.fn((void *)f.p);
	atomic_fetch_add(&fin.nrun, 1);
}

/*
 * runone runs callfin FINPAD bytes further down the stack than runfinq's
 * frame.  When fing parks, the collector scans its stack from the park's
 * frames up - frames that lie where callee frames of runfinq lay before.
 * Were the finalizer's frames there, a stale copy of the object's address
 * in a slot the park's frames leave unwritten would keep the object (and
 * all it points to) alive until the next finalizer: FINPAD keeps the
 * finalizer's frames below anything the park writes or the scan reads.
 */
enum { FINPAD = 4096 };

static __attribute__((noinline)) void runone(void)
{
	volatile char pad[FINPAD];
	pad[0] = 0;
	callfin();
	__asm__ volatile("" : : "r"(pad) : "memory");
}

/* runfinq: the finalizer goroutine's body (Go's runfinq), one finalizer at
 * a time, so that the queue never holds an object the collector cannot see. */
static void runfinq(void *arg)
{
	(void)arg;
	gort__lock(&fin.lock);
	fin.fing = gort__getg();
	atomic_store(&fingp, fin.fing);
	gort__unlock(&fin.lock);
	for (;;) {
		gort__lock(&fin.lock);
		if (fin.qn == fin.qhead) {
			fin.qn = fin.qhead = 0;
			fin.fingwait = true;
			gort__gopark(finunlock, &fin.lock, waitReasonFinalizerWait);
			continue;
		}
		runone();
	}
}
