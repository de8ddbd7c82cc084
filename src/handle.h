/*
 * handle.h - type-stable slots and the handles that name them (handle.c).
 *
 * Go has no free: an object lives while anything refers to it.  A C
 * program frees its channels, timers and connections, and may keep a
 * pointer to one after - `defer Close()` plus a Close from another
 * goroutine, a select over a channel a worker already freed.  Such a use
 * must be a clear error (or, for a connection, Go's "use of closed network
 * connection"), never a fault and never a use of whatever was allocated
 * there next.  Two rules give that, for every object of those kinds:
 *
 *   1. Type-stable memory.  An object lives in a slot of its kind's pool;
 *      a slot is never given back to malloc, only to the next object of
 *      the same kind.  A stale pointer always points at a slot of the
 *      right shape, so reading its header can never fault.
 *   2. Generations.  Each slot counts its lives: its generation is odd
 *      while an object lives in it, even while it is free, and moves on at
 *      every alloc and every free.  The handle given to the program is the
 *      slot's address with the generation of that life folded into the
 *      bits an x86-64 user address never uses (the top 16, and the low 6
 *      of a 64-byte aligned slot).  An operation compares the handle's
 *      generation with the slot's: equal means this very object, alive;
 *      anything else means the object the handle named was freed.
 *
 * Generations have 22 bits.  A slot whose generation would run out is
 * retired - kept, never reused - so no handle can ever match a later life
 * of its slot: a stale handle is recognized forever.  Retiring costs one
 * slot per 2^21 objects made in it, and nothing while objects are reused
 * across slots.
 *
 * The slot header, one word, is the first field of each kind's struct, so
 * that it shares the first cache line with what the operation touches
 * next (a channel's lock and the fields it guards).  word's high 32 bits are the generation; the low 32
 * are the kind's own, changed only together with the generation check (a
 * connection's closed bit and operation count, net.c), so that a check
 * and a claim are one compare-and-swap.
 */
#ifndef GORT_HANDLE_H
#define GORT_HANDLE_H

#include <stdint.h>

#include "runtime2.h"

typedef struct gort__slot {
	_Atomic uint64_t word; /* generation << 32 | the kind's own bits */
	/* In a free slot, the pool links the free list through the next 8
	 * bytes (freeslot, handle.c): a stale handle fails at word and reads
	 * nothing further, so those bytes may be the kind's own while it lives. */
} slot;

/* A pool of slots of one kind: what names the kind in messages. */
typedef struct slotpool {
	mutex lock;
	const char *what;  /* "channel", "timer", "connection" */
	size_t size;       /* bytes per slot: the kind's struct, rounded to 64 */
	struct freeslot *free; /* freed slots, the most recent first (warm in cache) */
	char *next, *end;  /* the part of the current chunk not carved yet */
	size_t live;       /* objects alive now */
	size_t retired;    /* slots whose generations ran out */
} slotpool;

#define SLOTPOOL_INIT(type, name) {.what = (name), .size = (sizeof(type) + 63) & ~(size_t)63}

enum {
	HANDLE_GENBITS = 22,
	HANDLE_LOWBITS = 6, /* slots are 64-byte aligned */
};
#define HANDLE_ADDR_MASK UINT64_C(0x0000ffffffffffc0)

/* handle_slot: the slot a handle names (no check). */
static inline slot *handle_slot(const void *h)
{
	return (slot *)((uintptr_t)h & HANDLE_ADDR_MASK);
}

/* handle_gen: the generation a handle carries. */
static inline uint32_t handle_gen(const void *h)
{
	uintptr_t v = (uintptr_t)h;
	return (uint32_t)((v & 63) | (v >> 48) << HANDLE_LOWBITS);
}

static inline void *handle_make(slot *s, uint32_t gen)
{
	return (void *)((uintptr_t)s | (gen & 63) | (uintptr_t)(gen >> HANDLE_LOWBITS) << 48);
}

static inline uint32_t slot_gen(slot *s, memory_order mo)
{
	return (uint32_t)(atomic_load_explicit(&s->word, mo) >> 32);
}

/* handle_live: h names the object now living in its slot. */
static inline bool handle_live(const void *h)
{
	return slot_gen(handle_slot(h), memory_order_relaxed) == handle_gen(h);
}

/* slot_alloc: a zeroed slot of pool p, alive (word: its new, odd
 * generation << 32), and its handle in *h. */
slot *gort__slot_alloc(slotpool *p, void **h);

/* slot_kill: s's object, of generation gen, is gone: every handle to it
 * is stale from now on.  false if it was gone already (a second free lost
 * the race).  The slot stays the caller's until slot_release. */
bool gort__slot_kill(slot *s, uint32_t gen);

/* slot_release: s (killed, and no longer touched by its killer) goes
 * back to p for the next object. */
void gort__slot_release(slotpool *p, slot *s);

/* badhandle: h failed handle_live; the fatal error that names it - "use
 * of a freed <what>", or, for a generation no object of this slot ever
 * had, "not a <what> (a corrupted or uninitialized <type> pointer)". */
__attribute__((noreturn, cold)) void gort__badhandle(const void *h, const char *what, const char *type);

#endif
