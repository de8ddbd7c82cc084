/*
 * trace_workload.c - known work under the execution tracer.  trace_check.py
 * runs it, parses the trace with Go 1.19's `go tool trace` and checks it
 * against the "expect" lines printed here.
 *
 *   trace_workload FILE work    goroutines blocking every way the scheduler
 *                               knows, and waking; user tasks, regions, logs
 *   trace_workload FILE procs   the same, with GOMAXPROCS changed meanwhile
 *   trace_workload FILE many N  N goroutines parked before the trace starts
 *                               (the state dump), woken while it runs
 *   trace_workload FILE env     GORT_TRACE=FILE traces the run; main returns
 *   trace_workload FILE preempt a goroutine in a loop with no calls, stopped
 *                               by signal (GODEBUG=asyncpreemptoff=0, one P):
 *                               its GoPreempt has the loop's stack, as Go's
 *
 * Expect lines (one per line on stdout):
 *   expect count EVENT N        at least N events of that type
 *   expect creates N            at least N GoCreate (N goroutines made)
 *   expect task NAME / region NAME / log CATEGORY MESSAGE
 *   expect frame FUNC FILE LINE a blocking stack holds FUNC at FILE:LINE
 *   expect webframe GOID FUNC   goroutine GOID's timeline has a FUNC frame
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

enum { WORKERS = 64 };

static gort_chan *pingc, *pongc;
static gort_mutex mu = GORT_MUTEX_INIT;
static gort_cond cond = GORT_COND_INIT(&mu);
static int ready, arrived;
static gort_waitgroup wg = GORT_WAITGROUP_INIT;
/* the line of worker's blocking receive: every worker stores it, so atomic
 * (a plain int was a data race, which ThreadSanitizer reported) */
static atomic_int recv_line;

static void expect_frame(const char *fn, int line)
{
	printf("expect frame %s %s %d\n", fn, __FILE__, line);
}

/* worker: blocks on a receive (each gets its ping), a mutex, a cond. */
static void worker(void *arg)
{
	long v;
	atomic_store_explicit(&recv_line, __LINE__ + 1, memory_order_relaxed);
	gort_chan_recv(pingc, &v);
	gort_mutex_lock(&mu);
	arrived++;
	while (!ready)
		gort_cond_wait(&cond);
	gort_mutex_unlock(&mu);
	gort_chan_send(pongc, &v);
	(void)arg;
	gort_waitgroup_done(&wg);
}

/* selector: a select with nothing ready, then a sleep and a system call. */
static void selector(void *arg)
{
	gort_chan *c = arg;
	long v;
	gort_chan *never = gort_chan_make(sizeof(long), 0);
	GORT_SELECT(GORT_CASE_RECV(c, &v, NULL), GORT_CASE_RECV(never, &v, NULL));
	gort_chan_free(never);
	gort_sleep(1000000);
	GORT_SYSCALL(usleep(1000));
	gort_waitgroup_done(&wg);
}

/* wait_parked: until at least n goroutines are blocked (parked), so that
 * the blocks the trace must show have happened - no timing involved. */
static void wait_parked(long n, const char *what)
{
	double start = test_seconds();
	for (;;) {
		gort_metrics m = {.size = sizeof m};
		gort_read_metrics(&m);
		if (m.goroutines_waiting >= n)
			return;
		CHECK(test_seconds() - start < TEST_WATCHDOG_SECONDS, "watchdog: %s", what);
		gort_gosched();
	}
}

static int arrivals(void)
{
	gort_mutex_lock(&mu);
	int n = arrived;
	gort_mutex_unlock(&mu);
	return n;
}

static void annotated(gort_trace_task parent)
{
	gort_trace_task t = gort_trace_task_new(parent, "request");
	gort_trace_log(t, "phase", "begin");
	{
		GORT_TRACE_REGION(t, "parse");
		gort_gosched();
	}
	gort_trace_region_begin(t, "reply");
	gort_trace_region_end(t, "reply");
	gort_trace_task_end(t);
	printf("expect task request\nexpect region parse\nexpect region reply\n"
	       "expect log phase begin\n");
}

static void workload(bool procs)
{
	pingc = gort_chan_make(sizeof(long), 0);
	pongc = gort_chan_make(sizeof(long), WORKERS);
	gort_chan *selc = gort_chan_make(sizeof(long), 0);
	gort_waitgroup_add(&wg, WORKERS + 1);
	for (int i = 0; i < WORKERS; i++)
		gort_go(worker, NULL);
	gort_go(selector, selc);
	wait_parked(WORKERS + 1, "workers in receive, selector in select");
	if (procs)
		gort_gomaxprocs(4);
	for (long i = 0; i < WORKERS; i++)
		gort_chan_send(pingc, &i);
	while (arrivals() < WORKERS)
		gort_gosched();
	wait_parked(WORKERS + 1, "workers in cond wait, selector in select");
	if (procs)
		gort_gomaxprocs(1);
	gort_mutex_lock(&mu);
	ready = 1;
	gort_cond_broadcast(&cond);
	gort_mutex_unlock(&mu);
	long v = 1;
	gort_chan_send(selc, &v);
	annotated(0);
	gort_waitgroup_wait(&wg);
	for (int i = 0; i < WORKERS; i++)
		gort_chan_recv(pongc, &v);
	while (gort_numgoroutine() > 1) /* every GoEnd recorded */
		gort_gosched();
	gort_chan_free(pingc);
	gort_chan_free(pongc);
	gort_chan_free(selc);
	if (procs)
		gort_gomaxprocs(2);
	printf("expect creates %d\n", WORKERS + 1);
	printf("expect count GoBlockRecv 1\nexpect count GoBlockSelect 1\nexpect count GoSleep 1\n"
	       "expect count GoSysCall 1\nexpect count GoEnd %d\nexpect count GoBlockCond %d\n"
	       "expect count GoSched 1\nexpect count ProcStart 1\n", WORKERS + 1, WORKERS);
	if (procs)
		printf("expect count Gomaxprocs 3\n");
	expect_frame("worker", recv_line);
}

/* many: n goroutines parked on a channel when tracing starts (the state
 * dump records them waiting), woken while it runs (their GoUnblock). */
static gort_chan *manyc;
static gort_waitgroup manywg = GORT_WAITGROUP_INIT;

static atomic_long nparked;

static void parked(void *arg)
{
	long v;
	atomic_fetch_add(&nparked, 1);
	gort_chan_recv(manyc, &v);
	(void)arg;
	gort_waitgroup_done(&manywg);
}

static void park_many(long n)
{
	manyc = gort_chan_make(sizeof(long), 0);
	gort_waitgroup_add(&manywg, n);
	for (long i = 0; i < n; i++)
		gort_go(parked, NULL);
	test_wait(&nparked, n, "the goroutines to park");
}

static void wake_many(long n)
{
	for (long i = 0; i < n; i++)
		gort_chan_send(manyc, &i);
	gort_waitgroup_wait(&manywg);
	gort_chan_free(manyc);
	/* Each send wakes a parked receiver, or (one not parked yet) main. */
	printf("expect count GoWaiting 1\nexpect count GoUnblock %ld\n", n);
}

/* preempt: spin has no call in its loop; only a signal stops it, and
 * main, which sets the flag, runs only when it does (one P). */
static atomic_bool spinstop;

static __attribute__((noinline)) long spin(void)
{
	volatile long n = 0;
	while (!atomic_load_explicit(&spinstop, memory_order_relaxed))
		n++;
	return n;
}

static void spinner(void *arg)
{
	printf("expect webframe %lld spin\n", (long long)gort_goid());
	spin();
	gort_chan_send(arg, &(long){0});
}

static void preempt(void)
{
	gort_chan *done = gort_chan_make(sizeof(long), 0);
	gort_go(spinner, done);
	gort_sleep(50 * 1000000);
	atomic_store(&spinstop, true);
	long v;
	gort_chan_recv(done, &v);
	gort_chan_free(done);
	printf("expect count GoPreempt 1\n");
}

static int main_fn(int argc, char **argv)
{
	CHECK(argc >= 3, "usage: trace_workload FILE work|procs|many N|env|preempt");
	const char *mode = argv[2];
	if (strcmp(mode, "env") == 0) {
		CHECK(gort_trace_enabled(), "GORT_TRACE did not start a trace");
		workload(false);
		return 0; /* the trace is written at exit */
	}
	long n = strcmp(mode, "many") == 0 && argc > 3 ? atol(argv[3]) : 0;
	if (n > 0)
		park_many(n);
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0, "open %s", argv[1]);
	double t0 = test_seconds();
	CHECK(gort_trace_start(fd) == 0, "gort_trace_start");
	if (n > 0) {
		fprintf(stderr, "trace_workload: gort_trace_start with %ld goroutines parked: %.1f ms\n",
		        n, (test_seconds() - t0) * 1e3);
		wake_many(n);
	}
	if (strcmp(mode, "preempt") == 0)
		preempt();
	else
		workload(strcmp(mode, "procs") == 0);
	CHECK(gort_trace_stop() == 0, "gort_trace_stop");
	close(fd);
	return test_pass("trace_workload");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	gort_main(main_fn, argc, argv);
}
