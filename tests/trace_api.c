/*
 * trace_api.c - the tracer's API on bad input: start twice, stop when not
 * started, a descriptor that is not one, and a write error (the reader of a
 * pipe gone, /dev/full) - which stops the tracing with a message, while the
 * program goes on and gort_trace_stop reports it.  No Go needed: what Go's
 * parser says of good traces is trace_check.py's part.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static gort_chan *c;

/* churn: scheduler events, enough to fill a few 64 KiB buffers. */
static void pinger(void *arg)
{
	long v = 0;
	for (long i = 0; i < (long)(intptr_t)arg; i++)
		gort_chan_send(c, &v);
}

static void churn(long n)
{
	c = gort_chan_make(sizeof(long), 0);
	gort_go(pinger, (void *)(intptr_t)n);
	long v;
	for (long i = 0; i < n; i++)
		gort_chan_recv(c, &v);
	gort_chan_free(c);
}

static void test_misuse(void)
{
	CHECK(gort_trace_stop() == GORT_ETRACEOFF, "stop without start");
	CHECK(gort_trace_start(-1) == -EBADF, "start with fd -1");
	CHECK(gort_trace_start(12345) == -EBADF, "start with a closed fd");
	CHECK(!gort_trace_enabled(), "enabled after failed starts");
	int fd = open("/dev/null", O_WRONLY);
	CHECK(fd >= 0, "open /dev/null");
	CHECK(gort_trace_start(fd) == 0, "start");
	CHECK(gort_trace_enabled(), "not enabled after start");
	CHECK(gort_trace_start(fd) == GORT_ETRACEON, "start twice");
	CHECK(strcmp(gort_strerror(GORT_ETRACEON), "tracing is already enabled") == 0, "strerror");
	churn(1000);
	CHECK(gort_trace_stop() == 0, "stop");
	CHECK(gort_trace_stop() == GORT_ETRACEOFF, "stop twice");
	CHECK(!gort_trace_enabled(), "enabled after stop");
	/* and again: a second trace after the first */
	CHECK(gort_trace_start(fd) == 0, "start again");
	churn(1000);
	CHECK(gort_trace_stop() == 0, "stop again");
	close(fd);
}

/* write_error: fd fails on write with err; the trace stops by itself. */
static void write_error(int fd, int err, const char *what)
{
	CHECK(gort_trace_start(fd) == 0, "start on %s", what);
	/* The writer thread fails on its first write and turns tracing off. */
	double start = test_seconds();
	while (gort_trace_enabled()) {
		churn(1000);
		CHECK(test_seconds() - start < TEST_WATCHDOG_SECONDS, "%s: still tracing", what);
	}
	int r = gort_trace_stop();
	CHECK(r == -err, "%s: stop returned %d (%s), want -%d", what, r, gort_strerror(r), err);
	churn(1000); /* the program goes on */
}

static void test_write_errors(void)
{
	int p[2];
	CHECK(pipe(p) == 0, "pipe");
	close(p[0]);
	write_error(p[1], EPIPE, "a pipe without a reader");
	close(p[1]);
	int fd = open("/dev/full", O_WRONLY);
	if (fd >= 0) {
		write_error(fd, ENOSPC, "/dev/full");
		close(fd);
	}
}

static int main_fn(int argc, char **argv)
{
	(void)argc, (void)argv;
	test_misuse();
	test_write_errors();
	return test_pass("trace_api");
}

int main(int argc, char **argv)
{
	gort_main(main_fn, argc, argv);
}
