/*
 * chan.h - the channel header shared by chan.c and select.c (Go keeps hchan
 * in chan.go and select.go uses it the same way).
 */
#ifndef GORT_CHAN_H
#define GORT_CHAN_H

#include "runtime2.h"

/* A queue of sudogs waiting to send or to receive, oldest first. */
typedef struct waitq {
	sudog *first, *last;
} waitq;

/*
 * hchan.  buf is a ring of dataqsiz slots of elemsize bytes; qcount of them
 * hold values, the oldest at recvx; sendx is the next free slot.  At most
 * one of recvq and sendq is non-empty (but see chan_locked): a waiting
 * receiver means the buffer is empty, a waiting sender that it is full.  A
 * closed channel has no waiters.  lock guards every field.
 */
struct gort_chan {
	/* One cache line holds the lock and the fields it guards, so that an
	 * operation moves one line between CPUs, not two.  (Waiters poll it
	 * gently: see gort__spinlock_slow.) */
	_Alignas(64) spinlock lock;
	_Atomic uint32_t magic; /* CHAN_LIVE, or CHAN_FREED after gort_chan_free */
	bool closed;
	size_t elemsize;
	size_t dataqsiz;
	size_t qcount;
	size_t sendx, recvx;
	char *buf;
	waitq recvq, sendq;
};
typedef struct gort_chan hchan;

enum {
	CHAN_LIVE = 0x6368616e,  /* "chan" */
	CHAN_FREED = 0x64656164, /* "dead" */
};

/*
 * chan_locked checks the rules above that every operation may rely on once
 * it has taken c->lock (three loads from the line the lock brought in): the
 * buffer holds at most dataqsiz values, a closed channel has nobody waiting
 * (close woke them all, and nobody queues on it after), and only one queue
 * holds waiters - except for one select waiting both to send and to
 * receive on the same unbuffered channel, whose sudogs then head both.
 * (A select's sudog left in a queue after another case won is dropped by
 * the next dequeue, which every operation does before it queues.)
 */
static inline void gort__chan_locked(hchan *c)
{
	gort__assert(c->qcount <= c->dataqsiz, "chan: qcount > dataqsiz");
	sudog *r = c->recvq.first, *s = c->sendq.first;
	gort__assert(!c->closed || (r == NULL && s == NULL), "chan: a closed channel has waiters");
	gort__assert(r == NULL || s == NULL || (c->dataqsiz == 0 && r->g == s->g),
	             "chan: recvq and sendq both non-empty");
}

void gort__chan_check(hchan *c);
void *gort__chanbuf(hchan *c, size_t i);
void gort__typedmemmove(size_t size, void *dst, const void *src);
void gort__memclr(void *p, size_t size);
void gort__chan_bufsend(hchan *c, const void *ep);
void gort__chan_bufrecv(hchan *c, void *ep);
void gort__waitq_enqueue(waitq *q, sudog *sg);
sudog *gort__waitq_dequeue(waitq *q);
void gort__waitq_remove(waitq *q, sudog *sg);
void gort__chan_send_to(hchan *c, sudog *sg, const void *ep);
void gort__chan_recv_from(hchan *c, sudog *sg, void *ep);
bool gort__chan_send_nb(hchan *c, const void *ep);
bool gort__chan_recv_nb(hchan *c, void *ep);

#endif /* GORT_CHAN_H */
