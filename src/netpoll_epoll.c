/*
 * netpoll_epoll.c - the poller on Linux (Go's netpoll_epoll.go).
 *
 * One epoll instance holds every descriptor the net API polls, registered
 * once, edge-triggered, for both directions: an edge is an event, and
 * netpoll.c turns it into pdReady or a parked G to wake.  findrunnable
 * polls without blocking when it runs out of work, and the last M to go
 * idle sleeps here - until the next timer is due, or for good if only I/O
 * can wake anything.  The wait uses epoll_pwait2, whose timeout has
 * nanosecond resolution (Go's epoll_wait rounds to milliseconds, which is
 * why Go oversleeps about half a millisecond); before Linux 5.11, which
 * lacks it, epoll_wait as Go does.  An eventfd in the set lets
 * netpollBreak cut a wait short when new work or an earlier timer appears.
 *
 * An event's data is the pollDesc's address with its fdseq in the top 16
 * bits (user addresses fit in 47): an event from a descriptor closed since
 * it was queued carries an old fdseq and is dropped (ready).  The tag
 * wraps after 65,536 reuses of one pollDesc, far more than can happen
 * while one event is between the kernel and ready.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "netpoll.h"

static int epfd = -1;
static int breakfd = -1;
static _Atomic uint32_t wakesig; /* a break is already pending */
static bool have_pwait2 = true;

enum { TAG_SHIFT = 48, BREAK_TAG = 0 };

static uint64_t tag(pollDesc *pd)
{
	return (uint64_t)(uintptr_t)pd | (uint64_t)(uint16_t)atomic_load(&pd->fdseq) << TAG_SHIFT;
}

void gort__netpollinit(void)
{
	epfd = epoll_create1(EPOLL_CLOEXEC);
	breakfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (epfd < 0 || breakfd < 0)
		gort__throw("netpollinit: cannot create epoll or eventfd");
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = BREAK_TAG};
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, breakfd, &ev) != 0)
		gort__throw("netpollinit: epoll_ctl failed");
}

/* netpollopen registers fd (pd's) for events; 0 or an errno. */
int gort__netpollopen(int fd, pollDesc *pd, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.u64 = tag(pd)};
	/* What was set up in pd happens before the poller applies its events:
	 * the kernel orders them, but the wait is a raw system call that
	 * ThreadSanitizer does not see (tsan.h; acquired in ready). */
	gort__tsan_release(pd);
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : errno;
}

void gort__netpollclose(int fd)
{
	struct epoll_event ev = {0};
	epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &ev);
}

/* netpollBreak interrupts a netpoll wait (once per wait). */
void gort__netpollBreak(void)
{
	uint32_t zero = 0;
	if (!atomic_compare_exchange_strong(&wakesig, &zero, 1))
		return;
	uint64_t one = 1;
	while (write(breakfd, &one, sizeof one) < 0 && errno == EINTR)
		;
}

static int wait(struct epoll_event *events, int max, int64_t delay)
{
	if (have_pwait2) {
		struct timespec ts = {delay / 1000000000, delay % 1000000000};
		int n = (int)syscall(SYS_epoll_pwait2, epfd, events, max, delay < 0 ? NULL : &ts, NULL, 0);
		if (n >= 0 || errno != ENOSYS)
			return n;
		have_pwait2 = false; /* before Linux 5.11 */
	}
	int ms = delay < 0 ? -1 : (int)((delay + 999999) / 1000000);
	return epoll_wait(epfd, events, max, ms);
}

static void drain_break(void)
{
	uint64_t buf;
	while (read(breakfd, &buf, sizeof buf) < 0 && errno == EINTR)
		;
	atomic_store(&wakesig, 0);
}

/*
 * ready applies event ev, tagged with seq, to pd: the waiters of its
 * directions go onto list.  pd may have been freed, and even reused, since
 * the kernel queued the event (its descriptor was closed meanwhile): the
 * event is applied only if pd's fdseq still matches its tag, checked and
 * applied under pd->evlock, which pollfree holds to move fdseq on.  So an
 * event either lands before the free, which then clears what it left, or
 * is dropped: it never marks a free or reused pollDesc ready or hung up.
 */
static void ready(gList *list, pollDesc *pd, uint16_t seq, uint32_t ev)
{
	gort__tsan_acquire(pd); /* released by netpollopen */
	gort__spinlock(&pd->evlock);
	if ((uint16_t)atomic_load(&pd->fdseq) != seq) {
		gort__spinunlock(&pd->evlock);
		return; /* the descriptor was closed after this event */
	}
	bool r = ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR);
	bool w = ev & (EPOLLOUT | EPOLLHUP | EPOLLERR);
	if (pd->any)
		r = true, w = false; /* gort_fd_wait parks in 'r' for any event */
	if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		atomic_store(&pd->hup, true); /* before the edge: see pollquiet */
	G *gp;
	if (r && (gp = gort__netpollunblock(pd, 'r', true)) != NULL)
		gort__glist_push(list, gp);
	if (w && (gp = gort__netpollunblock(pd, 'w', true)) != NULL)
		gort__glist_push(list, gp);
	gort__spinunlock(&pd->evlock);
}

/*
 * netpoll waits up to delay ns (< 0: until broken; 0: just look) for I/O
 * readiness or a break, and returns in list the goroutines whose
 * descriptors became ready (still Gwaiting: the caller makes them
 * runnable, injectglist).  Returns how many.
 */
int gort__netpoll(int64_t delay, gList *list)
{
	struct epoll_event events[128];
	int n = wait(events, 128, delay);
	int before = list->n;
	for (int i = 0; i < n; i++) {
		uint64_t data = events[i].data.u64;
		if (data == BREAK_TAG) {
			/* A break is meant for a wait: a look (delay 0) that took
			 * it - a pollnetwork that read lastpoll just before an M
			 * became the poller, say - would leave that M blocked past
			 * the timer or work the break announced.  Leave it there. */
			if (delay != 0)
				drain_break();
			continue;
		}
		pollDesc *pd = (pollDesc *)(uintptr_t)(data & ((UINT64_C(1) << TAG_SHIFT) - 1));
		ready(list, pd, (uint16_t)(data >> TAG_SHIFT), events[i].events);
	}
	return list->n - before;
}
