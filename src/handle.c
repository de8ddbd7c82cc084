/*
 * handle.c - type-stable slots and generation-carrying handles (handle.h
 * says why and how), and the one way a bad handle dies.
 *
 * A pool carves 64-byte aligned slots out of chunks it never frees.  A
 * freed slot goes to the cache of the P that freed it (P.slotcache), and
 * a make on a P takes the slot its P freed last, warm in the CPU's cache:
 * neither touches anything another P writes.  Only when a P's cache is
 * empty (a make) or full (a free) does it take the pool's lock, to move
 * half a cache from or to the pool's list - once per SLOTCACHE_MAX/2
 * makes or frees, where the pool's lock was once per make and per free
 * (Go's per-P caches of Gs and of memory work the same way).  A make or a
 * free on a thread without a running P of its own goes to the list
 * directly, under the lock.
 *
 * Generations do not care where a free slot waits: it is free (its
 * generation even) from slot_kill on, wherever it goes, and the next make
 * moves the generation on, whichever P makes it.  A stale handle meets the
 * new generation whether its slot went through a cache or not.
 *
 * The operations themselves only compare a handle with its slot's word
 * (handle.h).
 *
 * A pool keeps the list of its chunks, so that the live objects can be
 * found without a registry: the collector walks the channels' slots for
 * their buffers (slotpool_foreach; chan.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handle.h"
#include "mheap.h"

enum {
	CHUNK = 64 << 10,                     /* bytes carved at a time */
	GEN_END = 1 << HANDLE_GENBITS,        /* the first generation a handle cannot carry */
	BATCH = SLOTCACHE_MAX / 2,            /* slots moved between a P's cache and its pool at once */
};

static slotpool *_Atomic pools[SLOTPOOLS_MAX]; /* by id - 1 */
static _Atomic int32_t npools;

/* A free slot's link: its last 8 bytes (handle.h). */
static struct freeslot **link_of(slotpool *p, void *s)
{
	return (struct freeslot **)((char *)s + p->size - sizeof(void *));
}

/* poollock: p's lock, counted under p's kind in the counting build (count.h). */
static void poollock(slotpool *p)
{
	COUNT_LOCK_NAMED(&p->lock, p->what);
	(gort__lock)(&p->lock);
}

/*
 * mycache: p's cache on the P this thread runs with, or NULL - no P (a
 * thread that is not an M, an M without a P), a P not running (an M in a
 * system call may lose it to sysmon at any moment), or p not yet given an
 * id.  A goroutine keeps its P from here to its return: the runtime has no
 * preemption point in between, and a signal never preempts gort's code
 * (preempt.c).
 */
static slotcache *mycache(slotpool *p)
{
	int32_t id = atomic_load_explicit(&p->id, memory_order_acquire);
	if (id == 0 || !gort__onrunningp())
		return NULL;
	return &gort__getm()->p->slotcache[id - 1];
}

/* carve: a slot never used (generation 0), from the current chunk or a
 * new one; holds p's lock. */
static slot *carve(slotpool *p)
{
	if (p->next == p->end) {
		/* Never freed: a stale handle's slot stays readable. */
		size_t n = CHUNK / p->size * p->size;
		char *chunk = aligned_alloc(64, n);
		if (chunk == NULL)
			gort__throw("out of memory allocating a slot");
		memset(chunk, 0, n); /* generation 0: free, never lived */
		if (p->nchunks == p->chunkcap) {
			size_t cap = p->chunkcap ? p->chunkcap * 2 : 16;
			char **v = realloc(p->chunks, cap * sizeof *v);
			if (v == NULL)
				gort__throw("out of memory allocating a slot");
			p->chunks = v;
			p->chunkcap = cap;
		}
		p->chunks[p->nchunks++] = chunk;
		p->next = chunk;
		p->end = chunk + n;
	}
	slot *s = (slot *)p->next;
	p->next += p->size;
	p->nslots++;
	return s;
}

/* takefree: a free slot from p's list, or a new one; holds p's lock. */
static slot *takefree(slotpool *p)
{
	if (p->free == NULL)
		return carve(p);
	slot *s = (slot *)p->free;
	p->free = *link_of(p, s);
	p->nfree--;
	return s;
}

/* putfree: s onto p's list; holds p's lock. */
static void putfree(slotpool *p, slot *s)
{
	*link_of(p, s) = p->free;
	p->free = (struct freeslot *)s;
	p->nfree++;
}

/* register: p's first make gives it its index in the Ps' caches; holds
 * p's lock. */
static void register_pool(slotpool *p)
{
	int32_t i = atomic_fetch_add(&npools, 1);
	if (i >= SLOTPOOLS_MAX)
		gort__throw("handle: more slot pools than SLOTPOOLS_MAX");
	atomic_store(&pools[i], p);
	atomic_store_explicit(&p->id, i + 1, memory_order_release);
}

/*
 * alloc_slow: the cache c (if any) is empty.  Under p's lock: refill it
 * with BATCH slots, the pool's most recently freed first (taken last, so
 * used first), carving new ones when the list runs out, and take one of
 * them; without a cache, take one.
 */
static slot *alloc_slow(slotpool *p, slotcache *c)
{
	poollock(p);
	if (atomic_load_explicit(&p->id, memory_order_relaxed) == 0)
		register_pool(p);
	slot *s;
	if (c != NULL) {
		gort__assert(c->n == 0, "handle: a refill of a cache that has slots");
		for (int i = BATCH - 1; i >= 0; i--)
			c->s[i] = takefree(p);
		c->n = BATCH;
		s = c->s[--c->n];
	} else {
		s = takefree(p);
	}
	gort__unlock(&p->lock);
	return s;
}

slot *gort__slot_alloc(slotpool *p, void **h)
{
	slotcache *c = mycache(p);
	slot *s = c != NULL && c->n > 0 ? c->s[--c->n] : alloc_slow(p, c);

	uint32_t gen = slot_gen(s, memory_order_relaxed) + 1;
	gort__assert(gen % 2 == 1 && gen < GEN_END, "handle: a free slot with a live or spent generation");
	*h = handle_make(s, gen);
	gort__assert(handle_slot(*h) == s && handle_gen(*h) == gen, "handle: a slot address beyond 48 bits");
	atomic_store_explicit(&s->word, (uintptr_t)*h, memory_order_release);
	return s;
}

bool gort__slot_kill(const void *h)
{
	uint32_t gen = handle_gen(h);
	gort__assert(gen % 2 == 1, "handle: kill of a generation that was never alive");
	uint64_t w = (uintptr_t)h;
	return atomic_compare_exchange_strong_explicit(&handle_slot(h)->word, &w,
	                                               (uintptr_t)handle_make(handle_slot(h), gen + 1),
	                                               memory_order_release, memory_order_relaxed);
}

/* flush: the oldest n slots of c (the coldest) to p's list; holds p's lock. */
static void flush(slotpool *p, slotcache *c, int n)
{
	for (int i = 0; i < n; i++)
		putfree(p, c->s[i]);
	memmove(c->s, c->s + n, (size_t)(c->n - n) * sizeof c->s[0]);
	c->n -= n;
}

void gort__slot_release(slotpool *p, slot *s)
{
	uint32_t gen = slot_gen(s, memory_order_relaxed);
	gort__assert(gen % 2 == 0, "handle: release of a slot that was not killed");
	slotcache *c = gen + 1 < GEN_END ? mycache(p) : NULL;
	if (c != NULL && c->n < SLOTCACHE_MAX) {
		c->s[c->n++] = s;
		return;
	}
	poollock(p);
	if (gen + 1 >= GEN_END) {
		p->retired++; /* a next life's handles could not be told from old ones */
	} else if (c != NULL) {
		flush(p, c, BATCH);
		c->s[c->n++] = s;
	} else {
		putfree(p, s);
	}
	gort__unlock(&p->lock);
}

/* slotcache_flush: pp, retired by GOMAXPROCS (the world stopped), gives
 * every cached slot back to its pool. */
void gort__slotcache_flush(P *pp)
{
	for (int32_t i = 0; i < atomic_load(&npools); i++) {
		slotpool *p = atomic_load(&pools[i]);
		slotcache *c = &pp->slotcache[i];
		if (p == NULL || c->n == 0)
			continue;
		poollock(p);
		flush(p, c, c->n);
		gort__unlock(&p->lock);
	}
}

/* slotpool_foreach walks the chunks whole: the slots of the current
 * chunk not carved yet are zeros, generation 0, never alive. */
void gort__slotpool_foreach(slotpool *p, void (*fn)(slot *s, void *ctx), void *ctx)
{
	poollock(p);
	size_t n = CHUNK / p->size * p->size;
	for (size_t i = 0; i < p->nchunks; i++)
		for (size_t off = 0; off < n; off += p->size) {
			slot *s = (slot *)(p->chunks[i] + off);
			if (slot_gen(s, memory_order_acquire) % 2 == 1)
				fn(s, ctx);
		}
	gort__unlock(&p->lock);
}

int64_t gort__slotpool_live(const char *what)
{
	slotpool *p = NULL;
	int32_t id = 0;
	for (int32_t i = 0; i < atomic_load(&npools) && p == NULL; i++) {
		slotpool *q = atomic_load(&pools[i]);
		if (q != NULL && strcmp(q->what, what) == 0) {
			p = q;
			id = i + 1;
		}
	}
	if (p == NULL)
		return -1;
	gort__stoptheworld();
	int64_t cached = 0;
	P **ps = atomic_load(&gort__allp);
	for (int32_t i = 0; i < atomic_load(&gort__gomaxprocs); i++)
		cached += ps[i]->slotcache[id - 1].n;
	poollock(p);
	int64_t live = (int64_t)(p->nslots - p->nfree - p->retired) - cached;
	gort__unlock(&p->lock);
	gort__starttheworld();
	return live;
}

/*
 * heapslot_new: a collectable object from the heap.  Its handle's low 6
 * bits must be clear (they are the tag's), so the object must start on
 * a 64-byte boundary: objects of a size class that is a multiple of 64
 * do (spans start on pages), and large ones start a span.  The size is
 * rounded up to the first such class.
 */
slot *gort__heapslot_new(size_t size, void **h)
{
	size_t sz = (size + 63) & ~(size_t)63;
	while (sz <= MAX_SMALL_SIZE && gort__class_to_size[size_to_class(sz)] % 64 != 0)
		sz += 64;
	slot *s = gort_new(sz);
	gort__assert(((uintptr_t)s & 63) == 0 && handle_isheap(s),
	             "handle: a collectable object not on a 64-byte boundary");
	*h = s;
	atomic_store_explicit(&s->word, (uintptr_t)s, memory_order_release);
	return s;
}

bool gort__heapslot_kill(const void *h)
{
	gort__assert(handle_isheap(h), "handle: heapslot_kill of a pooled object's handle");
	uint64_t w = (uintptr_t)h;
	return atomic_compare_exchange_strong_explicit(&handle_slot(h)->word, &w, (uintptr_t)h | HEAP_FREED_MARK,
	                                               memory_order_release, memory_order_relaxed);
}

void gort__badhandle(const void *h, const char *what, const char *type)
{
	if (handle_isheap(h) && spanOf((uintptr_t)h) != NULL) { /* a collectable object: freed is its own mark (handle.h) */
		uint64_t w = atomic_load_explicit(&handle_slot(h)->word, memory_order_relaxed);
		gort__badmagic(w == ((uintptr_t)h | HEAP_FREED_MARK), "freed", what, type);
	}
	uint32_t hgen = handle_gen(h), sgen = slot_gen(handle_slot(h), memory_order_relaxed);
	gort__badmagic(hgen % 2 == 1 && hgen < sgen, "freed", what, type);
}

/*
 * badmagic: a handle of kind what (its C type: type) did not carry its
 * live mark.  freed: it carried the freed mark - "use of a <freed> <what>"
 * (freed names how it went: "freed", "released"); else it is no such
 * object at all.  The checks themselves stay inline at each kind (one
 * load and compare on every operation); this is their one way to die.
 */
void gort__badmagic(bool freed, const char *how, const char *what, const char *type)
{
	char msg[160];
	if (freed)
		snprintf(msg, sizeof msg, "gort: use of a %s %s", how, what);
	else
		snprintf(msg, sizeof msg, "gort: not a %s (a corrupted or uninitialized %s pointer)", what,
		         type);
	gort__fatal(msg);
}

/* slot_testp: the id of the P the calling goroutine runs on, -1 if none
 * (tests/handle_cache: a slot freed on one P and made again on another). */
int32_t gort__slot_testp(void)
{
	M *mp = gort__getm();
	return mp != NULL && mp->p != NULL ? mp->p->id : -1;
}
