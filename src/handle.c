/*
 * handle.c - type-stable slots and generation-carrying handles (handle.h
 * says why and how), and the one way a bad handle dies.
 *
 * A pool carves 64-byte aligned slots out of chunks it never frees and
 * keeps the freed ones on a list, the most recent first.  Its lock is
 * taken once per make and once per free; the operations themselves only
 * compare a handle with its slot's word (handle.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handle.h"
#include "mheap.h"

/* A free slot's link: its last 8 bytes (handle.h). */
static struct freeslot **link_of(slotpool *p, void *s)
{
	return (struct freeslot **)((char *)s + p->size - sizeof(void *));
}

enum {
	CHUNK = 64 << 10,                     /* bytes carved at a time */
	GEN_END = 1 << HANDLE_GENBITS,        /* the first generation a handle cannot carry */
};

slot *gort__slot_alloc(slotpool *p, void **h)
{
	gort__lock(&p->lock);
	slot *s;
	if (p->free != NULL) {
		s = (slot *)p->free;
		p->free = *link_of(p, s);
	} else {
		if (p->next == p->end) {
			/* Never freed: a stale handle's slot stays readable. */
			size_t n = CHUNK / p->size * p->size;
			char *chunk = aligned_alloc(64, n);
			if (chunk == NULL)
				gort__throw("out of memory allocating a slot");
			memset(chunk, 0, n); /* generation 0: free, never lived */
			p->next = chunk;
			p->end = chunk + n;
		}
		s = (slot *)p->next;
		p->next += p->size;
	}
	p->live++;
	gort__unlock(&p->lock);

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

void gort__slot_release(slotpool *p, slot *s)
{
	uint32_t gen = slot_gen(s, memory_order_relaxed);
	gort__assert(gen % 2 == 0, "handle: release of a slot that was not killed");
	gort__lock(&p->lock);
	p->live--;
	if (gen + 1 < GEN_END) {
		*link_of(p, s) = p->free;
		p->free = (struct freeslot *)s;
	} else {
		p->retired++; /* a next life's handles could not be told from old ones */
	}
	gort__unlock(&p->lock);
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
