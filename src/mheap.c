/*
 * mheap.c - the page heap (Go's mheap.go, and the pre-1.14 free lists of
 * its mheap; scavenging as Go's mgcscavenge.go does it, more simply).
 *
 *   arenas     64 MiB of address space at a time, mapped from the OS with
 *              MAP_NORESERVE: a page costs memory only once touched.
 *              Fresh arena pages count as "released" until a span uses
 *              them, as in Go.
 *   page map   arenas[addr >> 26]->spans[page]: the span of every page of
 *              an in-use span, and the first and last page of a free one
 *              (enough to merge neighbours).  The collector's "does this
 *              word point into an object?" is this lookup plus a range
 *              check (spanOf, malloc.h), so it answers for interior
 *              pointers too; stale entries are harmless because the span
 *              found must be in use and cover the address.
 *   free runs  free spans on lists by length (1..127 pages, then one list
 *              of longer ones, best fit), merged with free neighbours as
 *              they are freed: a run is split when allocated from.
 *   scavenging a free span untouched for SCAVENGE_AGE is given back to the
 *              OS with madvise(MADV_DONTNEED) - its pages then read as
 *              zero, so a span made of them needs no clearing.  sysmon
 *              drives it (scavenge_tick); a collection over GOMEMLIMIT
 *              gives back every free page at once (mgc.c).
 *
 * mspan structs are never returned to libc: a stale page-map entry may
 * still point at one, and reads it only to find it covers another range.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>

#include "mheap.h"

mheap gort__mheap;
#define h gort__mheap

/* A free span untouched this long goes back to the OS (Go 1.11's
 * scavenger: 5 minutes; gort's is shorter, as Go's current one is
 * quicker to give back too). */
#define SCAVENGE_AGE_NS (5 * (int64_t)1000000000)

void list_init(mspanList *l)
{
	l->first = l->last = NULL;
	l->n = 0;
}

void list_insert(mspanList *l, mspan *s)
{
	gort__assert(s->list == NULL, "mspan: already on a list");
	s->prev = NULL;
	s->next = l->first;
	if (l->first != NULL)
		l->first->prev = s;
	else
		l->last = s;
	l->first = s;
	s->list = l;
	l->n++;
}

void list_remove(mspanList *l, mspan *s)
{
	gort__assert(s->list == l, "mspan: not on this list");
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		l->first = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	else
		l->last = s->prev;
	s->next = s->prev = NULL;
	s->list = NULL;
	l->n--;
}

/* list_splice moves every span of from to the front of to: one pass that
 * only renames each span's list (mark termination moves every span of the
 * heap this way: with a list_remove and list_insert per span it touched
 * three spans' lines for each). */
void list_splice(mspanList *to, mspanList *from)
{
	if (from->first == NULL)
		return;
	for (mspan *s = from->first; s != NULL; s = s->next) {
		__builtin_prefetch(s->next);
		gort__assert(s->list == from, "mspan: not on this list");
		s->list = to;
	}
	from->last->next = to->first;
	if (to->first != NULL)
		to->first->prev = from->last;
	else
		to->last = from->last;
	to->first = from->first;
	to->n += from->n;
	list_init(from);
}

void gort__mheap_init(void)
{
	for (int i = 0; i < 128; i++)
		list_init(&h.free[i]);
	list_init(&h.freelarge);
	void *m = mmap(NULL, ARENA_L1 * sizeof(heapArena *), PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		gort__throw("runtime: cannot map the heap's arena index");
	h.arenas = m;
	atomic_store(&h.minaddr, UINTPTR_MAX);
	atomic_store(&h.maxaddr, 0);
	h.sweepgen = 2;
}

static void spanmap_set(uintptr_t addr, mspan *s)
{
	heapArena *ha = h.arenas[addr >> ARENA_SHIFT];
	ha->spans[(addr & (ARENA_SIZE - 1)) >> PAGE_SHIFT] = s;
}

static mspan *spanmap_get(uintptr_t addr)
{
	if (addr >> ADDR_BITS)
		return NULL;
	heapArena *ha = h.arenas[addr >> ARENA_SHIFT];
	return ha != NULL ? ha->spans[(addr & (ARENA_SIZE - 1)) >> PAGE_SHIFT] : NULL;
}

static mspan *span_new(void)
{
	mspan *s = h.spanfree;
	if (s != NULL) {
		h.spanfree = s->next;
	} else {
		s = aligned_alloc(_Alignof(mspan), sizeof *s); /* the mark's fields in one line */
		if (s == NULL)
			gort__throw("runtime: out of memory allocating span metadata");
		h.metadata += sizeof *s;
	}
	memset(s, 0, sizeof *s);
	return s;
}

static void span_dispose(mspan *s)
{
	s->state = mSpanDead;
	s->next = h.spanfree;
	h.spanfree = s;
}

static mspanList *freelist_for(uintptr_t npages)
{
	return npages < 128 ? &h.free[npages] : &h.freelarge;
}

/* free_insert puts free span s on its list and in the page map. */
static void free_insert(mspan *s)
{
	s->state = mSpanFree;
	spanmap_set(s->startAddr, s);
	spanmap_set(s->startAddr + ((s->npages - 1) << PAGE_SHIFT), s);
	list_insert(freelist_for(s->npages), s);
}

/*
 * grow maps a new stretch of arenas, at least npages long, aligned to an
 * arena, and adds it as one free (released) span.
 */
static bool grow(uintptr_t npages)
{
	uintptr_t size = (npages << PAGE_SHIFT) + ARENA_SIZE - 1;
	size &= ~(uintptr_t)(ARENA_SIZE - 1);
	if (size < npages << PAGE_SHIFT)
		return false;
	/* Over-map by an arena and trim to the alignment. */
	char *m = mmap(NULL, size + ARENA_SIZE, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return false;
	uintptr_t base = ((uintptr_t)m + ARENA_SIZE - 1) & ~(uintptr_t)(ARENA_SIZE - 1);
	if (base > (uintptr_t)m)
		munmap(m, base - (uintptr_t)m);
	uintptr_t end = (uintptr_t)m + size + ARENA_SIZE;
	if (end > base + size)
		munmap((void *)(base + size), end - (base + size));
	if ((base + size) >> ADDR_BITS) {
		munmap((void *)base, size);
		return false;
	}
	for (uintptr_t a = base; a < base + size; a += ARENA_SIZE) {
		/* mapped, not malloc'd: the index that points to it is mapped too,
		 * where LeakSanitizer does not look */
		heapArena *ha = mmap(NULL, sizeof *ha, PROT_READ | PROT_WRITE,
		                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (ha == MAP_FAILED)
			gort__throw("runtime: out of memory allocating arena metadata");
		h.metadata += sizeof *ha;
		h.arenas[a >> ARENA_SHIFT] = ha;
	}
	if (base < atomic_load(&h.minaddr))
		atomic_store(&h.minaddr, base);
	if (base + size > atomic_load(&h.maxaddr))
		atomic_store(&h.maxaddr, base + size);
	h.sys += size;
	h.released += size;
	mspan *s = span_new();
	s->startAddr = base;
	s->npages = size >> PAGE_SHIFT;
	s->scavenged = true;
	s->needzero = false;
	free_insert(s);
	return true;
}

/* find: the smallest free span of at least npages (holds the lock). */
static mspan *find(uintptr_t npages)
{
	for (uintptr_t n = npages; n < 128; n++)
		if (h.free[n].first != NULL)
			return h.free[n].first;
	mspan *best = NULL;
	for (mspan *s = h.freelarge.first; s != NULL; s = s->next)
		if (s->npages >= npages && (best == NULL || s->npages < best->npages ||
		                            (s->npages == best->npages && s->startAddr < best->startAddr)))
			best = s;
	return best;
}

static void scavenge_locked(uint64_t want, int64_t olderthan);

/* pay_for_page_in: a span of released pages was just taken back into
 * memory; if that puts the heap's memory over GOMEMLIMIT, free pages still
 * in memory are released by as much, as Go's allocSpan does - so what the
 * sweeper freed since the last collection is not kept beside the pages
 * allocation takes back.  h.lock held. */
static void pay_for_page_in(void)
{
	assert_lock_held(&h.lock);
	int64_t lim = gort__memlimit();
	if (lim == INT64_MAX)
		return;
	uint64_t resident = h.sys - h.released + h.metadata;
	if (resident <= (uint64_t)lim)
		return;
	scavenge_locked(resident - (uint64_t)lim, INT64_MAX);
}

/*
 * mheap_alloc takes npages of in-use span from the free runs (mapping more
 * if none fits) and returns it with its page map set; the caller sets the
 * object layout.  NULL if the OS refuses memory.
 */
mspan *gort__mheap_alloc(uintptr_t npages, uint8_t spanclass)
{
	gort__lock(&h.lock);
	mspan *s = find(npages);
	if (s == NULL) {
		if (!grow(npages)) {
			gort__unlock(&h.lock);
			return NULL;
		}
		s = find(npages);
		gort__assert(s != NULL, "mheap: grow did not make room");
	}
	list_remove(s->list, s);
	if (s->npages > npages) {
		mspan *t = span_new();
		t->startAddr = s->startAddr + (npages << PAGE_SHIFT);
		t->npages = s->npages - npages;
		t->scavenged = s->scavenged;
		t->needzero = s->needzero;
		t->unusedsince = s->unusedsince;
		s->npages = npages;
		free_insert(t);
	}
	uintptr_t bytes = npages << PAGE_SHIFT;
	if (s->scavenged) {
		h.released -= bytes;
		s->scavenged = false;
		pay_for_page_in();
	}
	s->state = mSpanInUse;
	s->spanclass = spanclass;
	for (uintptr_t i = 0; i < npages; i++)
		spanmap_set(s->startAddr + (i << PAGE_SHIFT), s);
	h.inuse += bytes;
	gort__unlock(&h.lock);
	return s;
}

/* release gives free span s's pages back to the OS. h.lock held. */
static void release(mspan *s)
{
	uintptr_t bytes = s->npages << PAGE_SHIFT;
	madvise((void *)s->startAddr, bytes, MADV_DONTNEED);
	s->scavenged = true;
	s->needzero = false; /* private anonymous pages come back zeroed */
	h.released += bytes;
	h.nscavenged += bytes;
}

/* free_neighbour: the free span that ends where s starts (before) or
 * starts where s ends, or NULL. */
static mspan *free_neighbour(mspan *s, bool before)
{
	uintptr_t end = s->startAddr + (s->npages << PAGE_SHIFT);
	mspan *n = spanmap_get(before ? s->startAddr - 1 : end);
	if (n == NULL || n->state != mSpanFree)
		return NULL;
	bool adjacent = before ? n->startAddr + (n->npages << PAGE_SHIFT) == s->startAddr : n->startAddr == end;
	return adjacent ? n : NULL;
}

/*
 * mheap_free returns in-use span s to the free runs, merged with its free
 * neighbours.  Its object bitmaps are its owner's to free first.
 *
 * A run is released to the OS or in memory as a whole: the released count
 * (what GOMEMLIMIT and MemStats see) is kept per run.  So when s joins a
 * released neighbour, the parts still in memory are released too, as Go
 * 1.12's coalesce did; counting the merged run as in memory instead would
 * count pages the OS has not given back, and a memory limit checked then
 * would see the heap at up to twice its size.
 */
void gort__mheap_free(mspan *s)
{
	gort__lock(&h.lock);
	gort__assert(s->state == mSpanInUse, "mheap_free: span not in use");
	h.inuse -= s->npages << PAGE_SHIFT;
	s->state = mSpanFree;
	s->needzero = true;
	s->scavenged = false;
	s->unusedsince = gort__nanotime();
	mspan *before = free_neighbour(s, true), *after = free_neighbour(s, false);
	if ((before != NULL && before->scavenged) || (after != NULL && after->scavenged)) {
		release(s);
		if (before != NULL && !before->scavenged)
			release(before);
		if (after != NULL && !after->scavenged)
			release(after);
	}
	if (before != NULL) {
		list_remove(before->list, before);
		s->startAddr = before->startAddr;
		s->npages += before->npages;
		span_dispose(before);
	}
	if (after != NULL) {
		list_remove(after->list, after);
		s->npages += after->npages;
		span_dispose(after);
	}
	free_insert(s);
	gort__unlock(&h.lock);
}

static uint64_t scavenge_list(mspanList *l, uint64_t want, int64_t olderthan)
{
	uint64_t got = 0;
	for (mspan *s = l->first; s != NULL && got < want; s = s->next) {
		if (s->scavenged || s->unusedsince > olderthan)
			continue;
		release(s);
		got += s->npages << PAGE_SHIFT;
	}
	return got;
}

/*
 * mheap_scavenge gives back to the OS up to want bytes of free spans
 * unused since olderthan (INT64_MAX: any), longest runs first.
 */
void gort__mheap_scavenge(uint64_t want, int64_t olderthan)
{
	gort__lock(&h.lock);
	scavenge_locked(want, olderthan);
	gort__unlock(&h.lock);
}

/* scavenge_locked: mheap_scavenge with h.lock held. */
static void scavenge_locked(uint64_t want, int64_t olderthan)
{
	assert_lock_held(&h.lock);
	uint64_t got = scavenge_list(&h.freelarge, want, olderthan);
	for (int n = 127; n > 0 && got < want; n--)
		got += scavenge_list(&h.free[n], want - got, olderthan);
}

/* scavenge_tick: sysmon's call, about once a second at most. */
void gort__scavenge_tick(int64_t now)
{
	static int64_t last;
	if (now - last < 1000000000 || atomic_load_explicit(&h.maxaddr, memory_order_relaxed) == 0)
		return;
	last = now;
	if (!gort__trylock(&h.lock))
		return;
	gort__unlock(&h.lock);
	gort__mheap_scavenge(UINT64_MAX, now - SCAVENGE_AGE_NS);
}
