/*
 * chan.h - the channel header shared by chan.c and select.c (Go keeps hchan
 * in chan.go and select.go uses it the same way).
 */
#ifndef GORT_CHAN_H
#define GORT_CHAN_H

#include "handle.h"
#include "runtime2.h"

/* A queue of sudogs waiting to send or to receive, oldest first. */
typedef struct waitq {
	sudog *first, *last;
} waitq;

/*
 * hchan.  buf is a ring of dataqsiz slots of elemsize bytes; qcount of them
 * hold values, the oldest at recvx; sendx is the next free slot.  At most
 * one of recvq and sendq is non-empty (but see chan.c's chan_locked): a waiting
 * receiver means the buffer is empty, a waiting sender that it is full.  A
 * closed channel has no waiters.  lock guards every field.
 */
struct hchan {
	/* One cache line holds the slot header (whose generation every
	 * operation checks first: handle.h), the lock and the counts the
	 * operation tests; the buffer pointer and the queues are on the next
	 * (chan.c checks the split).  (Waiters poll the lock gently: see
	 * gort__spinlock_slow.) */
	_Alignas(64) slot hdr;
	spinlock lock;
	bool closed;
	uint8_t notify; /* NOTIFY_NONE, _ARMED, _SIGNALLED (chanfd.c) */
	size_t elemsize;
	size_t dataqsiz;
	size_t qcount;
	size_t sendx, recvx;
	char *buf;
	waitq recvq, sendq;
	int notifyfd; /* gort_chan_notify_fd's eventfd, or -1 */
};
typedef struct hchan hchan;

/*
 * chan_lock: take c's lock.  With one P the exchange is skipped: only the
 * M holding the P runs channel code, so no other thread can be inside c.
 * At GOMAXPROCS=1 the exchange was most of a buffered send's time (a
 * locked instruction waits for the store buffer to drain): chan_spsc took
 * 44% less time without it, pingpong 24%.  A plain store of the lock word
 * keeps lock_held and the debug owner checks true.  Why holding the P
 * makes the M alone in every channel:
 *   - goroutines, and g0 working for them (park commits, timers firing
 *     into channels), run channel code only holding a P; a foreign
 *     thread's call takes a P first (cgocall.c's needm), and so do the two
 *     functions a thread may call without becoming a goroutine
 *     (gort_chan_free, gort_chan_notify_fd: chan_on_p) once the runtime
 *     runs - before, no goroutine exists to race with; the collector,
 *     with the world stopped, takes no channel lock;
 *   - the P cannot move while a channel lock is held: nothing under the
 *     lock enters a system call the gort way (the notify fd's read and
 *     write are plain ones), parks before its commit releases the lock,
 *     or stops at a preemption point (preempt.c: never inside gort);
 *   - GOMAXPROCS changes only with the world stopped, so never while a
 *     channel lock is held.
 * chan_lock_slow checks what can be checked: a P is held and the lock is
 * free.  A ThreadSanitizer build always takes the real lock: its model of
 * goroutines (fibers) relies on the lock's atomics.
 */
void gort__chan_lock_slow(hchan *c);

/* chan_alone: the caller's M if it may skip the exchange (GOMAXPROCS is 1
 * and it holds the P), else NULL.  A select asks once for all its
 * channels (chan_lock_as). */
static inline M *chan_alone(void)
{
#ifndef GORT_TSAN
	if (atomic_load_explicit(&gort__gomaxprocs, memory_order_relaxed) == 1) {
		M *mp = gort__getm();
		if (__builtin_expect(mp != NULL && mp->p != NULL, 1))
			return mp;
	}
#endif
	return NULL;
}

/* chan_lock_as: take c's lock as alone (chan_alone's answer) allows. */
static inline void chan_lock_as(hchan *c, M *alone)
{
#ifndef GORT_TSAN
	if (alone != NULL && __builtin_expect(atomic_load_explicit(&c->lock.key, memory_order_relaxed) == 0, 1)) {
		atomic_store_explicit(&c->lock.key, 1, memory_order_relaxed);
		if (GORT_DEBUG)
			atomic_store_explicit(&c->lock.owner, alone, memory_order_relaxed);
		return;
	}
	if (atomic_load_explicit(&gort__gomaxprocs, memory_order_relaxed) == 1) {
		gort__chan_lock_slow(c); /* held, or no P: what the argument rules out */
		return;
	}
#endif
	(void)alone;
	gort__spinlock(&c->lock);
}

static inline void chan_lock(hchan *c)
{
	chan_lock_as(c, chan_alone());
}

static inline void chan_unlock(hchan *c)
{
	gort__spinunlock(&c->lock);
}

/* chan_on_p runs fn(arg) holding a P, as a foreign call to api would, on a
 * thread that is no goroutine once the runtime runs (chan_lock says why). */
void gort__chan_on_p(void (*fn)(void *), void *arg, const char *api);

/*
 * chanof: the channel a program's handle names (handle.h), NULL for the
 * nil channel; a freed channel's handle is a fatal error ("gort: use of a
 * freed channel").  Every entry from the program goes through it once;
 * inside, the runtime passes hchan pointers, so the compiler tells the
 * two apart.
 */
static inline hchan *chanof_live(gort_chan *h)
{
	if (__builtin_expect(!handle_live(h), 0))
		gort__badhandle(h, "channel", "gort_chan");
	return (hchan *)handle_slot(h);
}

static inline hchan *chanof(gort_chan *h)
{
	return h == NULL ? NULL : chanof_live(h);
}

/* The notify fd's states (chanfd.c): none made; made and reset (nothing
 * receivable was seen since the last failed poll); made and signalled. */
enum {
	NOTIFY_NONE = 0,
	NOTIFY_ARMED = 1,
	NOTIFY_SIGNALLED = 2,
};

void gort__chan_notify(hchan *c);
void gort__chan_unnotify(hchan *c);
void gort__chan_notify_close(hchan *c);

/*
 * chan_receivable: a receive from c would now not block (a value was
 * buffered, a sender queued, or c closed; holds c->lock).  Signals the
 * notify fd if the channel has one that is not signalled yet: for every
 * other channel, one predictable branch on a byte of the lock's line.
 */
static inline void gort__chan_receivable(hchan *c)
{
	if (__builtin_expect(c->notify == NOTIFY_ARMED, 0))
		gort__chan_notify(c);
}

void gort__memclr(void *p, size_t size);
void gort__chan_bufsend(hchan *c, const void *ep);
void gort__chan_bufrecv(hchan *c, void *ep);
/*
 * sudog_chan_init readies a sudog on the waiter's stack for a channel's
 * queue: the fields a channel waiter and its waker use (next and prev are
 * enqueue's).  The semaphore's fields stay unset - nothing reads them on
 * a channel's sudog - because zeroing the whole 112-byte sudog compiles to
 * a rep stos, which cost a tenth of a pingpong round trip.
 */
static inline void gort__sudog_chan_init(sudog *sg, G *gp, void *elem, hchan *c, bool isSelect)
{
	sg->g = gp;
	sg->elem = elem;
	sg->c = c;
	sg->waitlink = NULL;
	sg->isSelect = isSelect;
	sg->success = false;
}

void gort__waitq_enqueue(waitq *q, sudog *sg);
sudog *gort__waitq_dequeue(waitq *q);
void gort__waitq_remove(waitq *q, sudog *sg);
void gort__chan_send_to(hchan *c, sudog *sg, const void *ep);
void gort__chan_recv_from(hchan *c, sudog *sg, void *ep);
bool gort__chan_send_nb(gort_chan *h, const void *ep);
bool gort__chan_recv_nb(gort_chan *h, void *ep);

#endif /* GORT_CHAN_H */
