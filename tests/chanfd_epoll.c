/*
 * chanfd_epoll - a host pthread runs its own epoll loop over channels'
 * notify descriptors (gort_chan_notify_fd) while goroutines feed them.
 *
 *   chanfd_epoll main    the host thread beside gort_main's goroutines
 *   chanfd_epoll start   the same embedded: plain main, gort_start
 *   chanfd_epoll nil     gort_chan_notify_fd(NULL): a fatal error
 *
 * Each round: PRODUCERS goroutines send VALUES values each (half of them
 * with gort_chan_send, half through gort_select, so that both of the
 * runtime's send paths signal), a goroutine closes the channel once they
 * are done, and the host drains with gort_chan_poll whenever epoll says
 * the descriptor is readable.  Exact outcomes: every value arrives exactly
 * once (with competing goroutine receivers: exactly once across the host
 * and them), the loop ends on the close, and epoll_wait returned at most
 * values + 1 times (each return needs a signal, and a signal needs a new
 * value or the close after the last reset: no busy-wait).  A lost wake-up
 * would leave the host waiting: epoll_wait's 30 s timeout fails the test
 * instead of hanging it.  Rounds: unbuffered and buffered, level- and
 * edge-triggered, with and without competing receivers; and channels
 * that were receivable (values, a close) before their descriptor existed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <gort.h>

enum { PRODUCERS = 8, VALUES = 400, TOTAL = PRODUCERS * VALUES, COMPETITORS = 2 };

#define CHECK(cond, ...)                                                                 \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);  \
			fprintf(stderr, __VA_ARGS__);                                    \
			fprintf(stderr, "\n");                                           \
			exit(1);                                                         \
		}                                                                        \
	} while (0)

typedef struct round {
	size_t cap;
	bool et;      /* EPOLLET */
	int compete;  /* goroutines receiving beside the host */
	gort_chan *c; /* of int */
	gort_chan *never; /* nobody sends on it: the select's other case */
	gort_waitgroup producers, receivers;
	_Atomic int seen[TOTAL];
	_Atomic int by_goroutines;
} round;

typedef struct producer_arg {
	round *r;
	int id;
} producer_arg;

static void producer(void *arg)
{
	producer_arg *p = arg;
	round *r = p->r;
	for (int i = 0; i < VALUES; i++) {
		int v = p->id * VALUES + i;
		if (p->id % 2 == 0) {
			gort_chan_send(r->c, &v);
		} else {
			int dummy;
			gort_case cases[2] = {
				{.chan = r->c, .dir = GORT_SEND, .elem = &v},
				{.chan = r->never, .dir = GORT_RECV, .elem = &dummy},
			};
			CHECK(gort_select(cases, 2, true) == 0, "select chose the channel nobody sends on");
		}
	}
	gort_waitgroup_done(&r->producers);
}

static void closer(void *arg)
{
	round *r = arg;
	gort_waitgroup_wait(&r->producers);
	gort_chan_close(r->c);
}

static void competitor(void *arg)
{
	round *r = arg;
	int v;
	while (gort_chan_recv(r->c, &v)) {
		CHECK(v >= 0 && v < TOTAL, "value %d out of range", v);
		atomic_fetch_add(&r->seen[v], 1);
		atomic_fetch_add(&r->by_goroutines, 1);
	}
	gort_waitgroup_done(&r->receivers);
}

/* The host's loop: wait on the descriptor, drain to empty, until closed.
 * Returns the number of times epoll_wait returned the descriptor. */
static long host_loop(round *r, int expect_values)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	CHECK(ep >= 0, "epoll_create1: %s", strerror(errno));
	int fd = gort_chan_notify_fd(r->c);
	CHECK(fd >= 0, "gort_chan_notify_fd: %s", strerror(errno));
	CHECK(gort_chan_notify_fd(r->c) == fd, "a second call made another descriptor");
	struct epoll_event ev = {.events = EPOLLIN | (r->et ? EPOLLET : 0), .data.ptr = r->c};
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0, "epoll_ctl: %s", strerror(errno));

	long wakes = 0, got = 0;
	for (bool closed = false; !closed;) {
		struct epoll_event out;
		int n = epoll_wait(ep, &out, 1, 30000);
		if (n < 0 && errno == EINTR)
			continue;
		CHECK(n == 1, "epoll_wait returned %d after %ld values, %ld wake-ups: a lost wake-up", n, got, wakes);
		CHECK(out.data.ptr == r->c, "epoll returned another descriptor");
		wakes++;
		for (;;) {
			int v;
			gort_recv_status st = gort_chan_poll(r->c, &v);
			if (st == GORT_RECV_EMPTY)
				break;
			if (st == GORT_RECV_CLOSED) {
				closed = true;
				break;
			}
			CHECK(v >= 0 && v < TOTAL, "value %d out of range", v);
			atomic_fetch_add(&r->seen[v], 1);
			got++;
		}
	}
	CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL) == 0, "epoll_ctl DEL: %s", strerror(errno));
	close(ep);
	if (expect_values >= 0)
		CHECK(got == expect_values, "host received %ld values, want %d", got, expect_values);
	/* Each return needs a signal; each signal a value or the close that
	 * came after the last reset. */
	CHECK(wakes <= got + 1 + (r->compete ? TOTAL - got : 0),
	      "%ld wake-ups for %ld values: the loop spun", wakes, got);
	return wakes;
}

static void run_round(size_t cap, bool et, int compete)
{
	round *r = calloc(1, sizeof *r);
	CHECK(r != NULL, "out of memory");
	r->cap = cap;
	r->et = et;
	r->compete = compete;
	r->c = gort_chan_make(sizeof(int), cap);
	r->never = gort_chan_make(sizeof(int), 0);
	r->producers = (gort_waitgroup)GORT_WAITGROUP_INIT;
	r->receivers = (gort_waitgroup)GORT_WAITGROUP_INIT;
	producer_arg args[PRODUCERS];
	gort_waitgroup_add(&r->producers, PRODUCERS);
	gort_waitgroup_add(&r->receivers, compete);
	for (int i = 0; i < compete; i++)
		gort_go(competitor, r);
	for (int i = 0; i < PRODUCERS; i++) {
		args[i] = (producer_arg){r, i};
		gort_go(producer, &args[i]);
	}
	gort_go(closer, r);

	long wakes = host_loop(r, compete ? -1 : TOTAL);
	gort_waitgroup_wait(&r->receivers);
	for (int v = 0; v < TOTAL; v++)
		CHECK(r->seen[v] == 1, "value %d arrived %d times", v, r->seen[v]);
	if (!compete)
		CHECK(r->by_goroutines == 0, "no competitors, yet goroutines received");
	printf("cap %zu %s compete %d: %d values exactly once, %ld wake-ups\n", cap, et ? "ET" : "LT", compete,
	       TOTAL, wakes);
	gort_chan_free(r->c);
	gort_chan_free(r->never);
	free(r);
}

/* Receivable before the descriptor existed: buffered values and a close;
 * and a closed empty channel.  The descriptor starts readable. */
static void run_before(void)
{
	gort_chan *c = gort_chan_make(sizeof(int), 4);
	for (int i = 0; i < 3; i++)
		gort_chan_send(c, &i);
	gort_chan_close(c);
	round r = {.c = c};
	long wakes = host_loop(&r, 3);
	CHECK(wakes == 1, "%ld wake-ups for values there from the start, want 1", wakes);
	gort_chan_free(c);

	gort_chan *e = gort_chan_make(sizeof(int), 0);
	gort_chan_close(e);
	round r2 = {.c = e};
	wakes = host_loop(&r2, 0);
	CHECK(wakes == 1, "%ld wake-ups for a closed channel, want 1", wakes);
	gort_chan_free(e);
	printf("receivable before the descriptor: readable at once\n");
}

static void *host_thread(void *arg)
{
	run_before();
	for (int compete = 0; compete <= COMPETITORS; compete += COMPETITORS)
		for (int et = 0; et <= 1; et++) {
			run_round(0, et, compete);
			run_round(16, et, compete);
		}
	return NULL;
}

/* The host is a thread of the program's own in both modes; the driver
 * (a goroutine under gort_main, main itself under gort_start) joins it. */
static int drive(void)
{
	pthread_t th;
	CHECK(pthread_create(&th, NULL, host_thread, NULL) == 0, "pthread_create");
	gort_entersyscall();
	pthread_join(th, NULL);
	gort_exitsyscall();
	printf("PASS chanfd_epoll\n");
	return 0;
}

static int test_main(int argc, char **argv)
{
	return drive();
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *mode = argc > 1 ? argv[1] : "main";
	if (strcmp(mode, "main") == 0)
		gort_main(test_main, argc, argv);
	gort_start();
	if (strcmp(mode, "start") == 0)
		return drive();
	if (strcmp(mode, "nil") == 0) {
		gort_chan_notify_fd(NULL);
		return 0;
	}
	fprintf(stderr, "usage: chanfd_epoll main|start|nil\n");
	return 2;
}
