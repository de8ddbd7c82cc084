/*
 * netpoll_epoll.c - the network poller's wait (Go's netpoll.go and
 * netpoll_epoll.go).
 *
 * When no M has work, one of them - the poller - sleeps here until the
 * next timer is due, instead of in a futex: the same place will wait for
 * file descriptors once the net API registers them.  The wait uses
 * epoll_pwait2, whose timeout has nanosecond resolution (Go's epoll_wait
 * rounds to milliseconds, which is why Go oversleeps about half a
 * millisecond).  An eventfd in the set lets netpollBreak cut a wait short
 * when new work or an earlier timer appears.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "runtime2.h"

static int epfd = -1;
static int breakfd = -1;
static _Atomic uint32_t wakesig; /* a break is already pending */
static bool have_pwait2 = true;

void gort__netpollinit(void)
{
	epfd = epoll_create1(EPOLL_CLOEXEC);
	breakfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (epfd < 0 || breakfd < 0)
		gort__throw("netpollinit: cannot create epoll or eventfd");
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = breakfd};
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, breakfd, &ev) != 0)
		gort__throw("netpollinit: epoll_ctl failed");
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

/*
 * netpoll waits up to delay ns (< 0: until broken; 0: just look) for I/O
 * readiness or a break.  Until the net API registers descriptors there is
 * nothing to return: the caller goes back to the scheduler and finds the
 * timers that fell due.
 */
void gort__netpoll(int64_t delay)
{
	struct epoll_event events[64];
	int n = wait(events, 64, delay);
	for (int i = 0; i < n; i++) {
		if (events[i].data.fd == breakfd) {
			uint64_t buf;
			while (read(breakfd, &buf, sizeof buf) < 0 && errno == EINTR)
				;
			atomic_store(&wakesig, 0);
		}
	}
}
