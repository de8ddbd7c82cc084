/*
 * chanfd.c - a channel's notify descriptor: how a host's own event loop
 * (epoll, libuv, libevent) waits on a channel without a thread per wait.
 * Go has no counterpart; a cgo program would park a thread in a receive.
 *
 * gort_chan_notify_fd(c) gives c an eventfd.  The promise to the host:
 *
 *     whenever a receive from c would not block, the fd is readable.
 *
 * (The converse is loose: the fd may be readable while c is empty, when a
 * goroutine took the value first; the host's next poll then finds it
 * empty and resets the fd.)  The host waits for the fd, then calls
 * gort_chan_poll until it returns GORT_RECV_EMPTY; it never reads the fd.
 *
 * Why no wake-up is lost.  The fd's state lives in c->notify beside the
 * channel's fields and changes only under c->lock:
 *   - Every change that makes a receive possible - a value into the
 *     buffer (chan_bufsend), a sender into sendq (chansend, select's
 *     pass 2), close - happens under the lock and calls chan_receivable
 *     before the lock is released: ARMED -> SIGNALLED, writing 1 to the
 *     eventfd.  A channel already SIGNALLED is left alone (one write per
 *     wake-up, not one per value).
 *   - The fd is reset (SIGNALLED -> ARMED, reading the eventfd to 0) in
 *     one place only: a non-blocking receive that found, under the lock,
 *     nothing to receive: not closed, no sender, an empty buffer.
 * So with the lock held, "receivable" implies SIGNALLED: a reset happens
 * only in a state that is not receivable, and whatever makes it
 * receivable afterwards must take the lock, after the reset, and signal
 * again.  There is no window between "the host saw empty" and "the fd was
 * reset" for a send to fall into: both are one critical section.  (The
 * lock-free fast path of a failed receive, which cannot reset, is not
 * taken while the channel is SIGNALLED.)
 *
 * Cost: channels without a notify fd test c->notify, a byte on the line
 * the lock has just brought in, once per buffered send or queued sender.
 * With one, the eventfd write happens under the lock, once per drain.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "chan.h"

/* chan_notify: ARMED -> SIGNALLED (holds c->lock). */
void gort__chan_notify(hchan *c)
{
	gort__assert(c->notifyfd >= 0, "chan: notify state armed without a notify fd");
	uint64_t one = 1;
	/* The counter is 0 here (ARMED means reset), so the write cannot
	 * overflow it and cannot block. */
	if (write(c->notifyfd, &one, sizeof one) != sizeof one)
		gort__throw("gort: writing a channel's notify fd failed");
	__atomic_store_n(&c->notify, NOTIFY_SIGNALLED, __ATOMIC_RELAXED);
}

/* chan_unnotify: SIGNALLED -> ARMED; c holds nothing to receive (holds
 * c->lock). */
void gort__chan_unnotify(hchan *c)
{
	gort__assert(c->qcount == 0 && !c->closed, "chan: notify fd reset while a receive could proceed");
	uint64_t n;
	/* EAGAIN means the host read the fd itself: already 0, as wanted. */
	if (read(c->notifyfd, &n, sizeof n) < 0 && errno != EAGAIN)
		gort__throw("gort: reading a channel's notify fd failed");
	__atomic_store_n(&c->notify, NOTIFY_ARMED, __ATOMIC_RELAXED);
}

/* chan_notify_close: gort_chan_free's part (c is dead, no lock needed). */
void gort__chan_notify_close(hchan *c)
{
	if (c->notify != NOTIFY_NONE)
		close(c->notifyfd);
	c->notify = NOTIFY_NONE;
	c->notifyfd = -1;
}

struct notify_fd_call {
	gort_chan *h;
	int fd;
};

static void notify_fd(void *arg);
static int notify_fd_of(gort_chan *h);

/* Any thread may ask; one that is no goroutine takes a P for it (chan.h's
 * chan_lock says why). */
int gort_chan_notify_fd(gort_chan *h)
{
	struct notify_fd_call call = {h, -1};
	gort__chan_on_p(notify_fd, &call, "gort_chan_notify_fd");
	return call.fd;
}

static void notify_fd(void *arg)
{
	struct notify_fd_call *call = arg;
	call->fd = notify_fd_of(call->h);
}

static int notify_fd_of(gort_chan *h)
{
	hchan *c = chanof(h);
	if (c == NULL)
		gort__fatal("gort: gort_chan_notify_fd of a nil channel (it never has a value: there is nothing to wait for)");
	chan_lock(c);
	int ret = c->notifyfd;
	chan_unlock(c);
	if (ret >= 0)
		return ret;
	/* Made outside the lock (a syscall that may sleep in the kernel);
	 * the loser of a race to make one closes its own. */
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd < 0)
		return -1;
	chan_lock(c);
	if (c->notify == NOTIFY_NONE) {
		c->notifyfd = fd;
		fd = -1;
		__atomic_store_n(&c->notify, NOTIFY_ARMED, __ATOMIC_RELAXED);
		/* Receivable already?  Then signalled from the start. */
		if (c->closed || c->qcount > 0 || c->sendq.first != NULL)
			gort__chan_notify(c);
	}
	ret = c->notifyfd;
	chan_unlock(c);
	if (fd >= 0)
		close(fd);
	return ret;
}
