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
 *      of a 64-byte aligned slot).  An operation compares the handle with
 *      the handle the slot records for its living object: equal means
 *      this very object, alive; anything else means the object the handle
 *      named was freed.
 *
 * Generations have 22 bits.  A slot whose generation would run out is
 * retired - kept, never reused - so no handle can ever match a later life
 * of its slot: a stale handle is recognized forever.  Retiring costs one
 * slot per 2^21 objects made in it, and nothing while objects are reused
 * across slots.
 *
 * The slot header is one word, the first of each kind's struct: the
 * handle of the object living in the slot (once it is freed, the handle
 * of the next generation, which no object has had).  The check is then
 * one compare, `word == handle`, on the cache line the operation touches
 * next anyway (a channel's lock): four instructions with the masking.
 *
 * A stale handle reads its slot's word and nothing else - except a
 * connection's, which reads its state word too (net.c), atomically - so
 * the pool never writes the object's bytes itself: a free slot links the
 * free list through its last 8 bytes, and each kind initializes its own
 * fields at alloc, leaving alone what a stale handle may be reading.
 */
#ifndef GORT_HANDLE_H
#define GORT_HANDLE_H

#include <stdint.h>

#include "runtime2.h"

typedef struct gort__slot {
	_Atomic uint64_t word; /* the live object's handle; once freed, one no object has */
} slot;

/*
 * A pool of slots of one kind: what names the kind in messages.  Free
 * slots wait in the Ps' caches (P.slotcache[id - 1], runtime2.h) or, under
 * the lock, on the pool's own list; the Ps' caches take and give back
 * half a cache at a time.  A slot is alive (an object's) or free in one
 * of those places or retired: nslots = alive + free + cached + retired.
 */
typedef struct slotpool {
	mutex lock;
	const char *what;  /* "channel", "timer", "connection" */
	size_t size;       /* bytes per slot: the kind's struct, rounded to 64 */
	_Atomic int32_t id; /* 1 + its index in every P's slotcache; 0 until its first make */
	struct freeslot *free; /* freed slots, the most recent first (warm in cache) */
	size_t nfree;      /* how many */
	char *next, *end;  /* the part of the current chunk not carved yet */
	char **chunks;     /* every chunk carved from, for slotpool_foreach */
	size_t nchunks, chunkcap;
	size_t nslots;     /* slots carved */
	size_t retired;    /* slots whose generations ran out */
} slotpool;

#define SLOTPOOL_INIT(type, name) {.what = (name), .size = (sizeof(type) + 63) & ~(size_t)63}

enum {
	HANDLE_GENBITS = 22,
	HANDLE_LOWBITS = 6, /* slots are 64-byte aligned */
};
#define HANDLE_ADDR_MASK UINT64_C(0x0000ffffffffffc0) /* a slot's address */
#define HANDLE_TAG_MASK UINT64_C(0xffff00000000003f)  /* the generation (its tag) */

/* gen_tag, tag_gen: a generation, spelled in the tag bits, and back. */
static inline uint64_t gen_tag(uint32_t gen)
{
	return (gen & 63) | (uint64_t)(gen >> HANDLE_LOWBITS) << 48;
}

static inline uint32_t tag_gen(uint64_t tag)
{
	return (uint32_t)((tag & 63) | (tag >> 48) << HANDLE_LOWBITS);
}

/* handle_slot: the slot a handle names (no check). */
static inline slot *handle_slot(const void *h)
{
	return (slot *)((uintptr_t)h & HANDLE_ADDR_MASK);
}

/* handle_gen: the generation a handle carries. */
static inline uint32_t handle_gen(const void *h)
{
	return tag_gen((uintptr_t)h);
}

static inline void *handle_make(slot *s, uint32_t gen)
{
	return (void *)((uintptr_t)s | gen_tag(gen));
}

static inline uint32_t slot_gen(slot *s, memory_order mo)
{
	return tag_gen(atomic_load_explicit(&s->word, mo));
}

/* handle_tag: h's generation, as its bits (what a connection's state
 * word carries, net.c). */
static inline uint64_t handle_tag(const void *h)
{
	return (uintptr_t)h & HANDLE_TAG_MASK;
}

/* handle_live: h names the object now living in its slot. */
static inline bool handle_live(const void *h)
{
	return atomic_load_explicit(&handle_slot(h)->word, memory_order_relaxed) == (uintptr_t)h;
}

/*
 * Collectable objects (gort_chan_make_gc, gort_timer_new_gc, gort_after):
 * the object is not in a pool but in the garbage-collected heap, and its
 * header word is its own address - generation 0, no tag bits.  The
 * handle is then a plain pointer, which the conservative collector sees
 * and follows like any gort_new pointer (a tagged handle it cannot see:
 * its high bits are set), so the object lives exactly while something
 * the collector scans refers to it.  The check every operation makes is
 * unchanged (word == handle).  An explicit free, which such an object
 * does not need, kills the handle all the same: the word becomes
 * HEAP_FREED_MARK | address, so later uses are the same fatal error as a
 * pooled object's; the memory stays the collector's.
 */
#define HEAP_FREED_MARK UINT64_C(1) /* a tag bit: no live handle of any kind has it alone */

static inline bool handle_isheap(const void *h)
{
	return handle_tag(h) == 0;
}

/* heapslot_new: a collectable object of size bytes (zeroed, scanned,
 * 64-byte aligned), alive; *h its handle (its address). */
slot *gort__heapslot_new(size_t size, void **h);

/* heapslot_kill: slot_kill for a collectable object's handle. */
bool gort__heapslot_kill(const void *h);

/* slot_alloc: a slot of pool p, alive (its word: its new handle, also in
 * *h).  The bytes after the word are the kind's to initialize: they hold
 * what the last life left (zeros in a new slot). */
slot *gort__slot_alloc(slotpool *p, void **h);

/* slot_kill: the object h names is gone: h is stale from now on.  false
 * if it was gone already (a second free lost the race).  The slot stays
 * the caller's until slot_release. */
bool gort__slot_kill(const void *h);

/* slot_release: s (killed, and no longer touched by its killer) goes
 * back to p for the next object. */
void gort__slot_release(slotpool *p, slot *s);

/*
 * slotpool_foreach: fn(s, ctx) for every slot of p whose object is alive
 * (its generation odd), wherever the free ones wait (a P's cache, the
 * pool's list) - what the collector walks instead of a registry of the
 * objects (chan.c: the channels' buffers).  The caller keeps every make
 * and free of p's kind out of the walk's way (chan.c says how); fn reads
 * the object's fields as their last make left them.
 */
void gort__slotpool_foreach(slotpool *p, void (*fn)(slot *s, void *ctx), void *ctx);

/* onrunningp: the calling thread runs on a P of its own, running (not
 * an M without one, not in a system call, not a thread gort did not
 * start): until it next enters the scheduler, a stopped world cannot
 * begin (a goroutine holds its P from here to its return: gort's
 * functions have no preemption point inside, and a signal never preempts
 * gort's code, preempt.c). */
static inline bool gort__onrunningp(void)
{
	M *mp = gort__getm();
	P *pp = mp != NULL ? mp->p : NULL;
	return pp != NULL && atomic_load_explicit(&pp->status, memory_order_relaxed) == Prunning;
}

/* slotpool_live: the objects of kind what ("channel", "timer",
 * "connection") alive now, counted with the world stopped (the Ps' caches
 * are theirs); -1 if none of that kind was ever made.  Called by a
 * goroutine; for tests. */
int64_t gort__slotpool_live(const char *what);

/* badhandle: h failed handle_live; the fatal error that names it - "use
 * of a freed <what>", or, for a generation no object of this slot ever
 * had, "not a <what> (a corrupted or uninitialized <type> pointer)". */
__attribute__((noreturn, cold)) void gort__badhandle(const void *h, const char *what, const char *type);

#endif
