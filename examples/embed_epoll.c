/*
 * embed_epoll - a program with its own epoll loop that also waits on
 * goroutines' results, through a channel's notify descriptor: no thread
 * parked per wait, one loop for everything.
 *
 * main calls gort_start and hands WORKERS goroutines JOBS jobs (squaring
 * numbers: stand-ins for lookups, hashing, anything slow); they send the
 * answers on a channel, closed when the last one is done.  The loop waits
 * on stdin and on gort_chan_notify_fd(results) together; when the
 * descriptor is readable it drains the channel with gort_chan_poll until
 * GORT_RECV_EMPTY.  It ends when stdin is at its end and the channel is
 * closed, and prints what it saw.
 *
 *   printf 'hello\nworld\n' | ./build/examples/embed_epoll
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <gort.h>

enum { WORKERS = 4, JOBS = 100 };

static gort_chan *jobs;    /* of long */
static gort_chan *results; /* of long */
static gort_waitgroup wg = GORT_WAITGROUP_INIT;

static void worker(void *arg)
{
	long n;
	while (gort_chan_recv(jobs, &n)) {
		long sq = n * n;
		gort_chan_send(results, &sq);
	}
	gort_waitgroup_done(&wg);
}

/* feeds the jobs, then closes results once the workers are done */
static void dispatcher(void *arg)
{
	for (long i = 0; i < JOBS; i++)
		gort_chan_send(jobs, &i);
	gort_chan_close(jobs);
	gort_waitgroup_wait(&wg);
	gort_chan_close(results);
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

int main(void)
{
	gort_start();
	jobs = gort_chan_make(sizeof(long), 0);
	results = gort_chan_make(sizeof(long), 8);
	gort_waitgroup_add(&wg, WORKERS);
	for (int i = 0; i < WORKERS; i++)
		gort_go(worker, NULL);
	gort_go(dispatcher, NULL);

	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	int rfd = gort_chan_notify_fd(results);
	if (rfd < 0)
		die("gort_chan_notify_fd");
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = rfd};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, rfd, &ev) < 0)
		die("epoll_ctl results");
	bool stdin_open = true, results_open = true;
	ev = (struct epoll_event){.events = EPOLLIN, .data.fd = 0};
	bool stdin_polled = true;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev) < 0) {
		if (errno == EPERM) /* a regular file: always ready, read it in the loop */
			stdin_polled = false;
		else if (errno == EBADF) /* no stdin at all */
			stdin_open = false;
		else
			die("epoll_ctl stdin");
	}

	long lines = 0, nresults = 0, sum = 0;
	char buf[4096];
	while (stdin_open || results_open) {
		struct epoll_event evs[2];
		int n = stdin_polled || !stdin_open ? epoll_wait(ep, evs, 2, -1) : 0;
		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		if (!stdin_polled && stdin_open)
			evs[n++] = (struct epoll_event){.data.fd = 0};
		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd == 0) {
				ssize_t k = read(0, buf, sizeof buf);
				if (k < 0 && errno != EINTR && errno != EAGAIN)
					die("read stdin");
				for (ssize_t j = 0; j < k; j++)
					lines += buf[j] == '\n';
				if (k == 0) {
					stdin_open = false;
					if (stdin_polled)
						epoll_ctl(ep, EPOLL_CTL_DEL, 0, NULL);
				}
			} else {
				long v;
				gort_recv_status st;
				while ((st = gort_chan_poll(results, &v)) == GORT_RECV_VALUE) {
					nresults++;
					sum += v;
				}
				if (st == GORT_RECV_CLOSED) {
					results_open = false;
					epoll_ctl(ep, EPOLL_CTL_DEL, rfd, NULL);
				}
			}
		}
	}
	close(ep);
	gort_chan_free(results); /* closes rfd */
	gort_chan_free(jobs);
	printf("stdin: %ld lines; results: %ld values, sum %ld; done\n", lines, nresults, sum);
	return 0;
}
