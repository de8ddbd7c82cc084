/*
 * chan.c - channels (Go's chan.go).
 *
 * A channel is a lock, a ring buffer and two queues of waiting goroutines.
 * Every operation takes the lock and then, in this order:
 *   send:    a receiver is waiting  -> copy straight into its slot, ready it;
 *            room in the buffer     -> copy into the buffer;
 *            else                   -> wait in sendq until a receiver or
 *                                      close wakes us.
 *   receive: a sender is waiting    -> unbuffered: copy from it directly;
 *                                      full buffer: take the head, move the
 *                                      sender's value into the tail;
 *            a value in the buffer  -> take it;
 *            closed                 -> the zero value, ok = false;
 *            else                   -> wait in recvq.
 *   close:   mark closed, wake every waiter: receivers get the zero value,
 *            senders panic.
 * A waiter parks with gopark, whose unlock function releases the channel
 * lock only once the goroutine is marked waiting: a waker holding the lock
 * always sees a consistent queue.  Values move with memcpy; the waiter's
 * sudog lives on its own stack.
 *
 * Lifetime (C has no GC): a channel lives in a type-stable slot and the
 * program holds a handle carrying the slot's generation (handle.h);
 * gort_chan_free moves the generation on, so that any later use of the
 * handle - however many channels were made and freed since - is caught by
 * chanof and dies with a clear message, never touching freed memory.
 * A collectable channel (gort_chan_make_gc) lives in the garbage-collected
 * heap instead, its handle its own address (handle.h): no free needed.
 *
 * The rules chan.h states are checked off the buffered fast path, where the
 * code already has the fields in hand, under the lock: chan_locked in close
 * and on a closed channel; the buffer's fill where a waiter is taken (a
 * waiting receiver means an empty buffer, a waiting sender a full one) and
 * the sudog's channel; the waker's marks (g->param, elem) where a waiter
 * resumes.  chan_locked on every send and receive cost chan_spsc 3%, most
 * of it repeating what the operation had just tested: only a GORT_DEBUG
 * build does that.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chan.h"

enum {
	MAX_ELEM_SIZE = 1 << 16,    /* Go's limit on a channel's element size */
};

/* chan.h's promise: the slot word, the lock and the counts a full or
 * empty test reads share one cache line (the buffer pointer is on the
 * next, with the queues). */
_Static_assert(offsetof(hchan, qcount) + sizeof(size_t) <= 64, "hchan: the counts spill past one cache line");

/*
 * chan_locked checks chan.h's rules about the whole channel (holds
 * c->lock; four loads from the line the lock brought in): the buffer
 * holds at most dataqsiz values, a closed channel has nobody waiting
 * (close woke them all, and nobody queues on it after), and only one queue
 * holds waiters - except for one select waiting both to send and to
 * receive on the same unbuffered channel, whose sudogs then head both.
 * (A select's sudog left in a queue after another case won is dropped by
 * the next dequeue, which every operation does before it queues.)  And
 * chanfd.c's promise: a channel a receive could take from (closed, a
 * value, a sender) has its notify fd, if any, signalled.
 */
static void chan_locked(hchan *c)
{
	gort__assert(c->qcount <= c->dataqsiz, "chan: qcount > dataqsiz");
	sudog *r = c->recvq.first, *s = c->sendq.first;
	gort__assert(!c->closed || (r == NULL && s == NULL), "chan: a closed channel has waiters");
	gort__assert(r == NULL || s == NULL || (c->dataqsiz == 0 && r->g == s->g),
	             "chan: recvq and sendq both non-empty");
	gort__assert(c->notify != NOTIFY_ARMED || (!c->closed && c->qcount == 0 && s == NULL),
	             "chan: receivable, yet the notify fd is not signalled");
}

/* ---- helpers shared with select.c ------------------------------------------ */

/* chanbuf: the address of slot i of c's buffer. */
static void *chanbuf(hchan *c, size_t i)
{
	return c->buf + i * c->elemsize;
}

/* typedmemmove copies one element; size 0 (chan struct{}) copies nothing.
 * The sizes of machine words move inline: a call of memmove for an int64
 * was a tenth of a buffered send and receive's instructions. */
static inline void typedmemmove(size_t size, void *dst, const void *src)
{
	switch (size) {
	case 0:
		return;
	case 4: {
		uint32_t v;
		memcpy(&v, src, 4);
		memcpy(dst, &v, 4);
		return;
	}
	case 8: {
		uint64_t v;
		memcpy(&v, src, 8);
		memcpy(dst, &v, 8);
		return;
	}
	case 16: {
		uint64_t v[2];
		memcpy(v, src, 16);
		memcpy(dst, v, 16);
		return;
	}
	}
	if (dst != src)
		memmove(dst, src, size);
}

void gort__memclr(void *p, size_t size)
{
	if (p != NULL && size != 0)
		memset(p, 0, size);
}

/* setfirst: q->first changes only under the channel's lock, but the
 * non-blocking fast paths peek at it without (full, empty): a relaxed
 * store, a plain one on x86, that ThreadSanitizer knows for atomic. */
static inline void setfirst(waitq *q, sudog *sg)
{
	__atomic_store_n(&q->first, sg, __ATOMIC_RELAXED);
}

void gort__waitq_enqueue(waitq *q, sudog *sg)
{
	sg->next = NULL;
	sg->prev = q->last;
	if (q->last != NULL)
		q->last->next = sg;
	else
		setfirst(q, sg);
	q->last = sg;
}

/* waitq_remove unlinks sg from q; it may already have been dequeued. */
void gort__waitq_remove(waitq *q, sudog *sg)
{
	sudog *x = sg->prev, *y = sg->next;
	if (x != NULL) {
		x->next = y;
		if (y != NULL)
			y->prev = x;
		else
			q->last = x;
	} else if (y != NULL) {
		y->prev = NULL;
		setfirst(q, y);
	} else if (q->first == sg) { /* the only one */
		setfirst(q, NULL);
		q->last = NULL;
	}
	sg->next = sg->prev = NULL;
}

/*
 * waitq_dequeue takes the oldest waiter.  A goroutine in a select waits in
 * several queues at once; only the first waker may claim it (selectDone),
 * and the losers just drop its sudog and look further.
 */
sudog *gort__waitq_dequeue(waitq *q)
{
	for (;;) {
		sudog *sg = q->first;
		if (sg == NULL)
			return NULL;
		setfirst(q, sg->next);
		if (sg->next != NULL)
			sg->next->prev = NULL;
		else
			q->last = NULL;
		sg->next = sg->prev = NULL;
		uint32_t zero = 0;
		if (sg->isSelect && !atomic_compare_exchange_strong(&sg->g->selectDone, &zero, 1))
			continue;
		return sg;
	}
}

/*
 * waitq_take: waitq_dequeue, with the empty queue - every buffered send
 * and receive that finds no one waiting - answered without a call.
 */
static inline sudog *waitq_take(waitq *q)
{
	if (q->first == NULL)
		return NULL;
	return gort__waitq_dequeue(q);
}

/* chan_bufsend appends *ep to the buffer, which has room (holds c->lock).
 * Inline here, for chansend; select.c calls gort__chan_bufsend. */
static inline void chan_bufsend(hchan *c, const void *ep)
{
	assert_lock_held(&c->lock);
	typedmemmove(c->elemsize, chanbuf(c, c->sendx), ep);
	if (++c->sendx == c->dataqsiz)
		c->sendx = 0;
	__atomic_store_n(&c->qcount, c->qcount + 1, __ATOMIC_RELAXED);
	gort__chan_receivable(c);
}

void gort__chan_bufsend(hchan *c, const void *ep)
{
	chan_bufsend(c, ep);
}

/* chan_bufrecv takes the oldest value from the non-empty buffer into ep
 * (NULL: drop it) (holds c->lock).  Inline here, as chan_bufsend. */
static inline void chan_bufrecv(hchan *c, void *ep)
{
	assert_lock_held(&c->lock);
	void *qp = chanbuf(c, c->recvx);
	if (ep != NULL)
		typedmemmove(c->elemsize, ep, qp);
	if (++c->recvx == c->dataqsiz)
		c->recvx = 0;
	__atomic_store_n(&c->qcount, c->qcount - 1, __ATOMIC_RELAXED);
}

void gort__chan_bufrecv(hchan *c, void *ep)
{
	chan_bufrecv(c, ep);
}

/* chan_send_to hands the value at ep to the waiting receiver sg (holds c->lock).
 * The caller unlocks and then readies sg->g.  Inline here, as chan_bufsend. */
static inline void chan_send_to(hchan *c, sudog *sg, const void *ep)
{
	assert_lock_held(&c->lock);
	gort__assert(sg->c == c, "chan: a receiver's sudog waits on another channel");
	gort__assert(c->qcount == 0, "chan: a receiver waits while the buffer holds values");
	if (sg->elem != NULL)
		typedmemmove(c->elemsize, sg->elem, ep);
	sg->elem = NULL;
	sg->success = true;
	sg->g->param = sg;
}

void gort__chan_send_to(hchan *c, sudog *sg, const void *ep)
{
	chan_send_to(c, sg, ep);
}

/*
 * chan_recv_from receives from the waiting sender sg into ep (holds
 * c->lock).  Unbuffered: straight from the sender.  Buffered, which means
 * full: the receiver takes the oldest value and the sender's value goes in
 * behind the newest, in the slot just freed.  The caller unlocks and then
 * readies sg->g.  Inline here, as chan_bufsend.
 */
static inline void chan_recv_from(hchan *c, sudog *sg, void *ep)
{
	assert_lock_held(&c->lock);
	gort__assert(sg->c == c, "chan: a sender's sudog waits on another channel");
	gort__assert(c->qcount == c->dataqsiz, "chan: a sender waits while the buffer has room");
	if (c->dataqsiz == 0) {
		if (ep != NULL)
			typedmemmove(c->elemsize, ep, sg->elem);
	} else {
		void *qp = chanbuf(c, c->recvx);
		if (ep != NULL)
			typedmemmove(c->elemsize, ep, qp);
		typedmemmove(c->elemsize, qp, sg->elem);
		if (++c->recvx == c->dataqsiz)
			c->recvx = 0;
		c->sendx = c->recvx;
	}
	sg->elem = NULL;
	sg->success = true;
	sg->g->param = sg;
}

void gort__chan_recv_from(hchan *c, sudog *sg, void *ep)
{
	chan_recv_from(c, sg, ep);
}

/* ---- make and free ---------------------------------------------------------- */

static slotpool chans = SLOTPOOL_INIT(hchan, "channel");

static void makechan_check(size_t elem_size, size_t cap)
{
	if (elem_size >= MAX_ELEM_SIZE)
		gort__fatal("makechan: invalid channel element type");
	if (cap > (SIZE_MAX >> 1) / (elem_size ? elem_size : 1) || cap > INT32_MAX)
		gort__panic("makechan: size out of range");
}

/*
 * The buffers as the collector's roots.  A pooled channel's buffer is
 * malloc'd, out of the collector's sight, and the values waiting in it
 * may be the only pointers to heap objects: the mark scans the buffer of
 * every live pooled channel (gort__chan_roots, called by gort__gcmark with
 * the world stopped).  It finds them by walking the pool's slots
 * (gort__slotpool_foreach): a slot whose generation says alive holds a
 * made channel; a free one - in a P's cache or the pool's list - is
 * skipped, and its buffer was freed with it.  (A registry of buffers
 * instead cost every make and free of a buffered channel a global lock.)
 *
 * The walk must never meet a channel half made or half freed, nor a
 * buffer that is freed while the mark still scans it:
 *   - a make or a free by a goroutine on a running P is whole when the
 *     world stops: the P stops only when its goroutine next enters the
 *     scheduler, and neither has a point where it could (onrunningp);
 *   - gort_chan_make and gort_chan_free may also be called from any
 *     thread (gort.h), which the stopped world does not stop: there they
 *     hold bufroots.lock from before the slot changes to after the buffer
 *     does, and the collector holds it from the walk to the mark's end
 *     (gort__chan_roots_done).  Such a call waits out a mark, as a
 *     foreign thread's call of any other gort function waits for a P.
 * A collectable channel (gort_chan_make_gc) is not in the pool: its
 * buffer is a heap object the mark reaches through the channel, if the
 * channel is reached - scanned once, and never after it is collected.
 */
static struct {
	mutex lock;
} bufroots;

typedef struct bufrootsArg {
	void (*add)(uintptr_t p, uintptr_t n, void *ctx);
	void *ctx;
} bufrootsArg;

static void bufroot(slot *s, void *arg)
{
	hchan *c = (hchan *)s;
	bufrootsArg *a = arg;
	gort__assert((c->buf != NULL) == (c->dataqsiz * c->elemsize != 0),
	             "chan: a live channel's buffer does not match its size");
	if (c->buf != NULL)
		a->add((uintptr_t)c->buf, c->dataqsiz * c->elemsize, a->ctx);
}

void gort__chan_roots(void (*add)(uintptr_t p, uintptr_t n, void *ctx), void *ctx)
{
	gort__lock(&bufroots.lock);
	bufrootsArg a = {add, ctx};
	gort__slotpool_foreach(&chans, bufroot, &a);
}

void gort__chan_roots_done(void)
{
	gort__unlock(&bufroots.lock);
}

gort_chan *gort_chan_make(size_t elem_size, size_t cap)
{
	makechan_check(elem_size, cap);
	char *buf = NULL;
	if (cap * elem_size != 0) {
		buf = calloc(cap, elem_size);
		if (buf == NULL)
			gort__throw("out of memory allocating a channel buffer");
	}
	bool offp = !gort__onrunningp();
	if (offp)
		gort__lock(&bufroots.lock);
	void *h;
	hchan *c = (hchan *)gort__slot_alloc(&chans, &h);
	memset((char *)c + sizeof c->hdr, 0, sizeof *c - sizeof c->hdr);
	c->buf = buf;
	c->elemsize = elem_size;
	c->dataqsiz = cap;
	c->notifyfd = -1;
	if (offp)
		gort__unlock(&bufroots.lock);
	return h;
}

/*
 * gort_chan_make_gc: Go's make(chan T, cap) - the channel lives in the
 * garbage-collected heap, and so does its buffer (an object of its own,
 * scanned: its elements may be gort pointers), and the handle is the
 * channel's address (handle.h: collectable objects).  Whatever refers to
 * it keeps it: a variable, a gort_new object, another channel's buffer, a
 * goroutine blocked on it (its sudog, on its stack, points at it), a
 * pending timer (time.c: the P's timer heap is a root).
 */
gort_chan *gort_chan_make_gc(size_t elem_size, size_t cap)
{
	makechan_check(elem_size, cap);
	gort__current_goroutine("gort_chan_make_gc");
	void *h;
	hchan *c = (hchan *)gort__heapslot_new(sizeof(hchan), &h);
	c->buf = cap * elem_size != 0 ? gort_new_array(cap, elem_size) : NULL;
	c->elemsize = elem_size;
	c->dataqsiz = cap;
	c->notifyfd = -1;
	return h;
}

/*
 * gort_chan_free: the generation moves on (under the lock, so that of two
 * frees racing one finds the other's), then the buffer goes back to malloc
 * and the header to its pool.  From then on the handle is stale: any use
 * of it, a second free included, is a fatal error.  A collectable
 * channel's handle dies the same way, but its memory is left to the
 * collector (a stale handle still reads it: it stays reachable from the
 * handle until that is dropped too).  Any thread may free a channel; one
 * that is no goroutine takes a P for it (chan.h's chan_lock says why).
 */
static void chan_free(void *h);

void gort_chan_free(gort_chan *h)
{
	gort__chan_on_p(chan_free, h, "gort_chan_free");
}

static void chan_free(void *arg)
{
	gort_chan *h = arg;
	hchan *c = chanof(h);
	if (c == NULL)
		return;
	bool heap = handle_isheap(h);
	bool offp = !heap && !gort__onrunningp(); /* the buffers as roots, above */
	if (offp)
		gort__lock(&bufroots.lock);
	chan_lock(c);
	bool blocked = c->recvq.first != NULL || c->sendq.first != NULL;
	bool won = !blocked && (heap ? gort__heapslot_kill(h) : gort__slot_kill(h));
	chan_unlock(c);
	if (!won && offp)
		gort__unlock(&bufroots.lock);
	if (blocked)
		gort__fatal("gort: gort_chan_free of a channel with blocked goroutines");
	if (!won)
		gort__badhandle(h, "channel", "gort_chan");
	gort__chan_notify_close(c);
	if (heap)
		return;
	free(c->buf);
	c->buf = NULL;
	gort__slot_release(&chans, &c->hdr);
	if (offp)
		gort__unlock(&bufroots.lock);
}

/* ---- the lock with one P (chan.h's chan_lock) ---------------------------------- */

/* chan_lock_slow: GOMAXPROCS is 1, and either no P is held or the lock
 * word is set: the cases chan_lock's argument rules out. */
void gort__chan_lock_slow(hchan *c)
{
	if (!atomic_load_explicit(&gort__runtime_ready, memory_order_acquire)) {
		gort__spinlock(&c->lock); /* no goroutine yet: nobody elides */
		return;
	}
	M *mp = gort__getm();
	if (mp != NULL && mp->p == NULL && mp->curg != NULL && gort__getg() == mp->curg)
		gort__fatal(GORT_IN_SYSCALL_MISUSE);
	if (mp == NULL || mp->p == NULL)
		gort__throw("chan: a channel locked without a P while GOMAXPROCS=1");
	gort__throw("chan: a channel's lock found held while GOMAXPROCS=1");
}

void gort__chan_on_p(void (*fn)(void *), void *arg, const char *api)
{
	if (gort__getg() == NULL && atomic_load_explicit(&gort__runtime_ready, memory_order_acquire))
		gort__as_goroutine(fn, arg, api);
	else
		fn(arg);
}

/* ---- send, receive, close --------------------------------------------------- */

static bool chanparkcommit(G *gp, void *lock)
{
	gort__spinunlock(lock);
	return true;
}

/* chan_woken: a waiter resumes; its waker must have marked its sudog. */
static void chan_woken(G *gp, sudog *mysg)
{
	gort__assert(gp->param == mysg, "chan: woken without its sudog in g->param");
	gort__assert(mysg->elem == NULL, "chan: woken with the value not yet moved (sudog elem)");
}

/* Racy peeks for the non-blocking fast paths: a stale answer is one that
 * was true an instant ago, which is all a failed try promises. */
static bool peek_closed(hchan *c)
{
	return __atomic_load_n(&c->closed, __ATOMIC_ACQUIRE);
}

static bool full(hchan *c)
{
	if (c->dataqsiz == 0)
		return __atomic_load_n(&c->recvq.first, __ATOMIC_RELAXED) == NULL;
	return __atomic_load_n(&c->qcount, __ATOMIC_RELAXED) == c->dataqsiz;
}

static bool empty(hchan *c)
{
	if (c->dataqsiz == 0)
		return __atomic_load_n(&c->sendq.first, __ATOMIC_RELAXED) == NULL;
	return __atomic_load_n(&c->qcount, __ATOMIC_RELAXED) == 0;
}

/* nilchan: a send or receive on a nil channel blocks forever - or, when
 * it may not block (a select's default), does nothing. */
static bool nilchan(bool block, waitReason reason)
{
	if (!block)
		return false;
	gort__gopark(NULL, NULL, reason);
	gort__throw("unreachable: a goroutine blocked on a nil channel resumed");
}

/*
 * chansend: h <- *ep.  Returns false only if !block and it could not send.
 * Inline (chansend_inline) into gort_chan_send, the blocking send a
 * program makes most, where block is a constant; the other callers share
 * one out-of-line copy.
 */
static inline __attribute__((always_inline)) bool chansend_inline(G *gp, gort_chan *h, const void *ep,
                                                                  bool block)
{
	if (h == NULL)
		return nilchan(block, waitReasonChanSendNilChan);
	hchan *c = chanof_live(h);
	if (!block && !peek_closed(c) && full(c))
		return false;

	chan_lock(c);
	if (GORT_DEBUG)
		chan_locked(c);
	if (c->closed) {
		chan_unlock(c);
		gort__panic("send on closed channel");
	}
	sudog *sg = waitq_take(&c->recvq);
	if (sg != NULL) {
		chan_send_to(c, sg, ep);
		chan_unlock(c);
		gort__goready(sg->g);
		return true;
	}
	if (c->qcount < c->dataqsiz) {
		chan_bufsend(c, ep);
		chan_unlock(c);
		return true;
	}
	if (!block) {
		chan_unlock(c);
		return false;
	}

	sudog mysg;
	gort__sudog_chan_init(&mysg, gp, (void *)ep, c, false);
	gp->param = NULL;
	gp->waiting = &mysg; /* what it waits on, for the leak check (mgcleak.c) */
	gort__waitq_enqueue(&c->sendq, &mysg);
	gort__chan_receivable(c);
	gort__gopark(chanparkcommit, &c->lock, waitReasonChanSend);
	gp->waiting = NULL;
	chan_woken(gp, &mysg);
	if (!mysg.success)
		gort__panic("send on closed channel"); /* woken by close */
	return true;
}

static __attribute__((noinline)) bool chansend(G *gp, gort_chan *h, const void *ep, bool block)
{
	return chansend_inline(gp, h, ep, block);
}

/*
 * chanrecv: *ep, *ok = <-h.  Returns false only if !block and nothing was
 * ready.  ep may be NULL (the value is dropped).  Inline into gort_chan_recv,
 * as chansend.
 */
static inline __attribute__((always_inline)) bool chanrecv_inline(G *gp, gort_chan *h, void *ep, bool block,
                                                                  bool *ok)
{
	if (h == NULL)
		return nilchan(block, waitReasonChanReceiveNilChan);
	hchan *c = chanof_live(h);
	if (!block && empty(c) && __atomic_load_n(&c->notify, __ATOMIC_RELAXED) != NOTIFY_SIGNALLED) {
		/* (A signalled notify fd is reset under the lock, below.)
		 * Closed is read after empty: a channel seen empty and then
		 * closed was both at the moment closed was read, since a closed
		 * channel never fills again. */
		if (!peek_closed(c))
			return false;
		if (empty(c)) {
			gort__memclr(ep, c->elemsize);
			*ok = false;
			return true;
		}
	}

	chan_lock(c);
	if (GORT_DEBUG || (c->closed && c->qcount == 0))
		chan_locked(c);
	if (c->closed && c->qcount == 0) {
		chan_unlock(c);
		gort__memclr(ep, c->elemsize);
		*ok = false;
		return true;
	}
	sudog *sg = waitq_take(&c->sendq);
	if (sg != NULL) {
		chan_recv_from(c, sg, ep);
		chan_unlock(c);
		gort__goready(sg->g);
		*ok = true;
		return true;
	}
	if (c->qcount > 0) {
		chan_bufrecv(c, ep);
		chan_unlock(c);
		*ok = true;
		return true;
	}
	if (!block) {
		if (c->notify == NOTIFY_SIGNALLED)
			gort__chan_unnotify(c); /* nothing receivable: see chanfd.c */
		chan_unlock(c);
		return false;
	}

	sudog mysg;
	gort__sudog_chan_init(&mysg, gp, ep, c, false);
	gp->param = NULL;
	gp->waiting = &mysg; /* what it waits on, for the leak check (mgcleak.c) */
	gort__waitq_enqueue(&c->recvq, &mysg);
	gort__gopark(chanparkcommit, &c->lock, waitReasonChanReceive);
	gp->waiting = NULL;
	chan_woken(gp, &mysg);
	*ok = mysg.success;
	return true;
}

static __attribute__((noinline)) bool chanrecv(G *gp, gort_chan *h, void *ep, bool block, bool *ok)
{
	return chanrecv_inline(gp, h, ep, block, ok);
}

/*
 * closechan marks c closed and wakes every waiter: receivers with the zero
 * value and ok = false, senders to panic.  The waiters are collected under
 * the lock (their sudogs linked through next, unused once dequeued) and
 * readied after it, each read before its goroutine can run and reuse the
 * stack its sudog lives on.
 */
static void closechan(hchan *c)
{
	if (c == NULL)
		gort__panic("close of nil channel");
	chan_lock(c);
	chan_locked(c);
	if (c->closed) {
		chan_unlock(c);
		gort__panic("close of closed channel");
	}
	__atomic_store_n(&c->closed, true, __ATOMIC_RELEASE);
	gort__chan_receivable(c);

	sudog *wake = NULL, *sg;
	while ((sg = gort__waitq_dequeue(&c->recvq)) != NULL) {
		gort__assert(sg->c == c, "chan: a receiver's sudog waits on another channel");
		gort__memclr(sg->elem, c->elemsize);
		sg->elem = NULL;
		sg->success = false;
		sg->g->param = sg;
		sg->next = wake;
		wake = sg;
	}
	while ((sg = gort__waitq_dequeue(&c->sendq)) != NULL) {
		gort__assert(sg->c == c, "chan: a sender's sudog waits on another channel");
		sg->elem = NULL;
		sg->success = false;
		sg->g->param = sg;
		sg->next = wake;
		wake = sg;
	}
	chan_unlock(c);
	while (wake != NULL) {
		sudog *next = wake->next;
		gort__goready(wake->g);
		wake = next;
	}
}

/* Non-blocking send and receive for the runtime itself (timers, on g0). */
bool gort__chan_send_nb(gort_chan *h, const void *ep)
{
	return chansend(NULL, h, ep, false);
}

bool gort__chan_recv_nb(gort_chan *h, void *ep)
{
	bool ok;
	return chanrecv(NULL, h, ep, false, &ok);
}

/* ---- the public API --------------------------------------------------------- */

void gort_chan_send(gort_chan *c, const void *elem)
{
	G *gp = gort__current_goroutine("gort_chan_send");
	gort__checkpreempt(gp);
	chansend_inline(gp, c, elem, true);
}

bool gort_chan_recv(gort_chan *c, void *elem)
{
	G *gp = gort__current_goroutine("gort_chan_recv");
	gort__checkpreempt(gp);
	bool ok = false;
	chanrecv_inline(gp, c, elem, true, &ok);
	return ok;
}

bool gort_chan_trysend(gort_chan *c, const void *elem)
{
	G *gp = gort__current_goroutine("gort_chan_trysend");
	gort__checkpreempt(gp);
	return chansend(gp, c, elem, false);
}

bool gort_chan_tryrecv(gort_chan *c, void *elem, bool *ok)
{
	G *gp = gort__current_goroutine("gort_chan_tryrecv");
	gort__checkpreempt(gp);
	bool received = false;
	bool selected = chanrecv(gp, c, elem, false, &received);
	if (selected && ok != NULL)
		*ok = received;
	return selected;
}

gort_recv_status gort_chan_poll(gort_chan *c, void *elem)
{
	G *gp = gort__current_goroutine("gort_chan_poll");
	gort__checkpreempt(gp);
	bool received = false;
	if (!chanrecv(gp, c, elem, false, &received))
		return GORT_RECV_EMPTY;
	return received ? GORT_RECV_VALUE : GORT_RECV_CLOSED;
}

/* gort_chan_as's check: c's elements have the typed handle's size. */
gort_chan *gort__chan_as(gort_chan *h, size_t elem_size, const char *type)
{
	hchan *c = chanof(h);
	if (c == NULL)
		return NULL; /* the nil channel is every type's */
	if (__builtin_expect(c->elemsize != elem_size, 0)) {
		char msg[240];
		snprintf(msg, sizeof msg, "gort: gort_chan_as: the channel's elements are %zu bytes, %s's are %zu",
		         c->elemsize, type, elem_size);
		gort__fatal(msg);
	}
	return h;
}

void gort_chan_close(gort_chan *c)
{
	gort__current_goroutine("gort_chan_close");
	closechan(chanof(c));
}

int gort_chan_len(gort_chan *h)
{
	hchan *c = chanof(h);
	if (c == NULL)
		return 0;
	return (int)__atomic_load_n(&c->qcount, __ATOMIC_RELAXED);
}

int gort_chan_cap(gort_chan *h)
{
	hchan *c = chanof(h);
	if (c == NULL)
		return 0;
	return (int)c->dataqsiz;
}
