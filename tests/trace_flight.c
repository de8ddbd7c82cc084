/*
 * trace_flight.c - the flight recorder (src/trace_flight.c).
 *
 *   trace_flight api           misuse, write errors, the memory bound over a
 *                              long run, dropping by age (no Go needed)
 *   trace_flight FILE demand   a run with small generations, written on
 *                              demand to FILE; recording goes on
 *   trace_flight FILE many N   N goroutines parked when the recorder starts
 *                              (it visits none: the writer infers them
 *                              waiting from their first event), woken
 *   trace_flight FILE panic    under GORT_TRACE_FLIGHT=FILE: work, then a
 *   trace_flight FILE deadlock goroutine panics / every goroutine blocks /
 *   trace_flight FILE quit     SIGQUIT - the recorder writes FILE as the
 *                              program dies
 *   trace_flight FILE small N  the smallest generations, most of them
 *                              dropped, under goroutines that block, spin,
 *                              make system calls and exit: N recordings
 *                              (FILE.1 .. FILE.N), each read on its own
 *   trace_flight FILE smallpanic N   the same under GORT_TRACE_FLIGHT=FILE,
 *                              then a goroutine panics
 *
 * trace_check.py reads the written traces back with Go 1.19's go tool
 * trace, against the "expect" lines printed here (trace_workload.c lists
 * them; "expect gevents GOID N": at least N events of goroutine GOID).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static gort_chan *c;

static void pinger(void *arg)
{
	long v = 0;
	for (long i = 0; i < (long)(intptr_t)arg; i++)
		gort_chan_send(c, &v);
}

/* churn: n round trips, scheduler events enough to fill buffers */
static void churn(long n)
{
	c = gort_chan_make(sizeof(long), 0);
	gort_go(pinger, (void *)(intptr_t)n);
	long v;
	for (long i = 0; i < n; i++)
		gort_chan_recv(c, &v);
	gort_chan_free(c);
}

/* ---- api ------------------------------------------------------------------------ */

static void test_misuse(void)
{
	CHECK(gort_trace_flight_stop() == GORT_ETRACEOFF, "stop without start");
	CHECK(gort_trace_flight_write(1) == GORT_ETRACEOFF, "write without start");
	CHECK(!gort_trace_flight_enabled(), "enabled before start");
	CHECK(gort_trace_flight_start(NULL) == 0, "start");
	CHECK(gort_trace_flight_enabled() && gort_trace_enabled(), "not enabled after start");
	CHECK(gort_trace_flight_start(NULL) == GORT_ETRACEON, "start twice");
	int fd = open("/dev/null", O_WRONLY);
	CHECK(gort_trace_start(fd) == GORT_ETRACEON, "a trace while the recorder runs");
	CHECK(gort_trace_stop() == GORT_ETRACEOFF, "trace stop while the recorder runs");
	CHECK(gort_trace_flight_write(-1) == -EBADF, "write to fd -1");
	churn(1000);
	int64_t n = gort_trace_flight_write(fd);
	CHECK(n > 16, "write to /dev/null: %lld", (long long)n);
	int full = open("/dev/full", O_WRONLY);
	if (full >= 0) {
		n = gort_trace_flight_write(full);
		CHECK(n == -ENOSPC, "write to /dev/full: %lld", (long long)n);
		close(full);
	}
	churn(1000); /* recording goes on after a failed write */
	CHECK(gort_trace_flight_write(fd) > 16, "write after a failed one");
	CHECK(gort_trace_flight_stop() == 0, "stop");
	CHECK(gort_trace_flight_stop() == GORT_ETRACEOFF, "stop twice");
	CHECK(!gort_trace_enabled(), "tracing after stop");
	gort_trace_flight_info st;
	gort_trace_flight_stats(&st);
	CHECK(st.bytes == 0 && st.generations == 0, "stats after stop");
	/* and the other way round: the recorder while a trace runs */
	CHECK(gort_trace_start(fd) == 0, "trace start");
	CHECK(gort_trace_flight_start(NULL) == GORT_ETRACEON, "the recorder while a trace runs");
	CHECK(gort_trace_stop() == 0, "trace stop");
	close(fd);
}

/* test_bound: a run that makes many times max_bytes of events keeps at
 * most max_bytes, in generations, dropping the oldest. */
static void test_bound(void)
{
	enum { MAXB = 512 << 10 };
	gort_trace_flight_config cfg = {.min_age_ns = 60 * 1000000000LL, .max_bytes = MAXB};
	CHECK(gort_trace_flight_start(&cfg) == 0, "start");
	gort_trace_flight_info st;
	for (int i = 0; i < 40; i++) {
		churn(20000); /* ~0.5 MB of events */
		gort_trace_flight_stats(&st);
		CHECK(st.bytes <= MAXB, "round %d: %llu bytes held, max %d", i,
		      (unsigned long long)st.bytes, MAXB);
	}
	gort_trace_flight_stats(&st);
	CHECK(st.max_bytes == MAXB, "max_bytes %llu", (unsigned long long)st.max_bytes);
	CHECK(st.peak_bytes <= MAXB, "peak %llu bytes, max %d", (unsigned long long)st.peak_bytes, MAXB);
	CHECK(st.peak_bytes >= MAXB / 4, "peak %llu bytes: too little kept", (unsigned long long)st.peak_bytes);
	CHECK(st.dropped >= 10, "%llu generations dropped", (unsigned long long)st.dropped);
	CHECK(st.generations >= 1, "no generation");
	fprintf(stderr, "trace_flight: bound: peak %llu bytes of %d, %llu generations dropped\n",
	        (unsigned long long)st.peak_bytes, MAXB, (unsigned long long)st.dropped);
	CHECK(gort_trace_flight_stop() == 0, "stop");
}

/* test_age: generations older than min_age (0.1 s) go, while the window
 * still covers min_age - however slowly the machine fills buffers.  The
 * byte limit is the largest allowed, so that it never binds first: churn
 * on a quiet machine writes the default 10 MiB in under 0.1 s, and then
 * max_bytes rightly wins (a window of 73 ms failed 2 runs in 1,400). */
static void test_age(void)
{
	gort_trace_flight_config cfg = {.min_age_ns = 100 * 1000000LL, .max_bytes = 256 << 20};
	CHECK(gort_trace_flight_start(&cfg) == 0, "start");
	double start = test_seconds();
	gort_trace_flight_info st;
	do {
		churn(2000);
		gort_trace_flight_stats(&st);
		CHECK(test_seconds() - start < TEST_WATCHDOG_SECONDS, "no generation dropped by age");
	} while (st.dropped == 0);
	CHECK(st.window_ns >= 100 * 1000000LL, "a window of %lld ns holding %llu bytes, min_age 0.1 s",
	      (long long)st.window_ns, (unsigned long long)st.bytes);
	CHECK(gort_trace_flight_stop() == 0, "stop");
}

/* ---- the traces ------------------------------------------------------------------- */

static gort_waitgroup wg = GORT_WAITGROUP_INIT;
static void crasher(void *arg);

static void sleeper(void *arg)
{
	for (int i = 0; i < 20; i++)
		gort_sleep(1000000);
	(void)arg;
	gort_waitgroup_done(&wg);
}

/* work: goroutines that block and wake for about ms milliseconds. */
static void work(int ms)
{
	double start = test_seconds();
	gort_trace_task t = gort_trace_task_new(0, "flight");
	while ((test_seconds() - start) * 1000 < ms) {
		gort_waitgroup_add(&wg, 4);
		for (int i = 0; i < 4; i++)
			gort_go(sleeper, NULL);
		GORT_TRACE_REGION(t, "churn");
		churn(2000);
		gort_waitgroup_wait(&wg);
	}
	gort_trace_log(t, "phase", "worked");
	gort_trace_task_end(t);
}

static void demand(const char *path)
{
	/* the defaults (10 s, 10 MiB): the whole run is in the window */
	CHECK(gort_trace_flight_start(NULL) == 0, "start");
	/* goroutines that block before the recorder's window and wake in it,
	 * across GOMAXPROCS changes */
	work(800);
	int procs = gort_gomaxprocs(3); /* just before the write: in it */
	churn(1000);
	gort_gomaxprocs(procs);
	churn(1000);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0, "open %s", path);
	int64_t n = gort_trace_flight_write(fd);
	CHECK(n > 0, "write: %lld", (long long)n);
	close(fd);
	work(100); /* and on */
	CHECK(gort_trace_flight_stop() == 0, "stop");
	printf("expect count GoUnblock 100\nexpect count GoCreate 8\nexpect count GoSleep 10\n"
	       "expect log phase worked\nexpect count Gomaxprocs 2\n");
}

/* ---- many ------------------------------------------------------------------------ */

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

static void many(const char *path, long n)
{
	manyc = gort_chan_make(sizeof(long), 0);
	gort_waitgroup_add(&manywg, n);
	for (long i = 0; i < n; i++)
		gort_go(parked, NULL);
	test_wait(&nparked, n, "the goroutines to park");
	double t0 = test_seconds();
	CHECK(gort_trace_flight_start(NULL) == 0, "start");
	double t1 = test_seconds();
	for (long i = 0; i < n; i++)
		gort_chan_send(manyc, &i);
	gort_waitgroup_wait(&manywg);
	gort_chan_free(manyc);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0, "open %s", path);
	double t2 = test_seconds();
	int64_t bytes = gort_trace_flight_write(fd);
	double t3 = test_seconds();
	CHECK(bytes > 0, "write: %lld", (long long)bytes);
	close(fd);
	CHECK(gort_trace_flight_stop() == 0, "stop");
	fprintf(stderr, "trace_flight: %ld goroutines parked: start %.2f ms, write %.1f ms (%lld bytes)\n",
	        n, (t1 - t0) * 1e3, (t3 - t2) * 1e3, (long long)bytes);
	printf("expect count GoWaiting %ld\nexpect count GoUnblock %ld\n", n / 2, n);
}

/* ---- small generations ------------------------------------------------------------- */

/*
 * small: the recorder at its smallest (256 KiB, 20 ms: generations of a
 * buffer or two, most of them soon dropped) while goroutines are created,
 * block on channels and timers, yield, spin until preempted, make system
 * calls that lose their P, and exit; n recordings written to FILE.1 ..
 * FILE.n at pseudo-random points (a fixed seed), each of which must parse
 * on its own, and a last one to FILE once the workers are done.  What is
 * written begins wherever the oldest generation kept did: in the middle
 * of every goroutine's and P's life.  (Until trace.c's refill read a
 * stream's state before its buffer could be recycled, most runs failed
 * here at GOMAXPROCS=2: "no consistent ordering of events possible", "p 0
 * is not running before stop", "g 0 did GoEnd".)
 *
 * smallpanic: the same under GORT_TRACE_FLIGHT=FILE, restarted small,
 * until a goroutine panics: the dying program's recording.
 */
enum { SMALL_WORKERS = 6 };

static _Atomic bool smallstop;
static atomic_long smallrounds;

static void small_child(void *arg)
{
	gort_chan *ch = arg;
	long v = 1;
	gort_chan_send(ch, &v); /* blocks until the parent takes it */
	if (atomic_fetch_add(&smallrounds, 1) % 3 == 0)
		gort_gosched();
}

static void small_worker(void *arg)
{
	long id = (long)(intptr_t)arg;
	unsigned r = (unsigned)id * 2654435761u + 1;
	gort_chan *ch = gort_chan_make(sizeof(long), 0);
	while (!atomic_load(&smallstop)) {
		r = r * 1103515245u + 12345u;
		unsigned pick = (r >> 16) % 10;
		if (pick < 5) { /* children that block and exit: most of the events */
			for (int k = 0; k < 50; k++) {
				gort_go(small_child, ch);
				long v;
				gort_chan_recv(ch, &v);
			}
		} else if (pick == 5) { /* a timer */
			gort_sleep(20000 + (r >> 20) % 200000);
		} else if (pick == 6) { /* a system call long enough to lose the P */
			gort_entersyscall();
			struct timespec ts = {0, 50000 + (r >> 20) % 100000};
			nanosleep(&ts, NULL);
			gort_exitsyscall();
		} else if (pick == 7) {
			/* spin, no event for 5 to 20 ms (sysmon asks for a preemption
			 * after 10): the generations the other P fills meanwhile are
			 * dropped while this P's stream is still in an older one */
			volatile unsigned long x = 0;
			double t = test_seconds();
			while (test_seconds() - t < 0.005 + (double)((r >> 20) % 16) / 1000)
				x++;
		} else {
			gort_gosched();
		}
	}
	gort_chan_free(ch);
	gort_waitgroup_done(&wg);
}

static void write_to(const char *name)
{
	int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0, "open %s", name);
	int64_t bytes = gort_trace_flight_write(fd);
	CHECK(bytes > 0, "write %s: %lld", name, (long long)bytes);
	close(fd);
}

static void small(const char *path, int n, bool die)
{
	if (die) {
		CHECK(gort_trace_flight_enabled(), "GORT_TRACE_FLIGHT did not start the recorder");
		CHECK(gort_trace_flight_stop() == 0, "stop");
	}
	/* 20 ms: generations dropped by age too, while a P spins */
	gort_trace_flight_config cfg = {.min_age_ns = 20 * 1000000LL, .max_bytes = 256 << 10};
	CHECK(gort_trace_flight_start(&cfg) == 0, "start");
	gort_waitgroup_add(&wg, SMALL_WORKERS);
	for (long i = 0; i < SMALL_WORKERS; i++)
		gort_go(small_worker, (void *)(intptr_t)i);
	unsigned r = 7;
	char name[4096];
	for (int i = 1; i <= n; i++) {
		r = r * 1103515245u + 12345u;
		gort_sleep(20000000 + (int64_t)((r >> 16) % 60) * 1000000); /* 20 to 80 ms */
		snprintf(name, sizeof name, "%s.%d", path, i);
		write_to(name);
	}
	gort_trace_flight_info st;
	gort_trace_flight_stats(&st);
	CHECK(st.dropped > 0, "no generation dropped: the test tests nothing");
	fprintf(stderr, "trace_flight: small: %d recordings, %llu generations dropped\n", n,
	        (unsigned long long)st.dropped);
	printf("expect recordings %d\n", n);
	if (die) {
		printf("expect log crash about to panic\nexpect log crash panicking\n");
		gort_go(crasher, "panic"); /* the workers still going */
		for (;;)
			gort_sleep(1000000);
	}
	atomic_store(&smallstop, true);
	gort_waitgroup_wait(&wg);
	write_to(path); /* every goroutine that blocked in it woken: trace_check counts */
	CHECK(gort_trace_flight_stop() == 0, "stop");
}

/* ---- dying ------------------------------------------------------------------------ */

static gort_chan *stuck;

static void crasher(void *arg)
{
	printf("expect gevents %lld 3\n", (long long)gort_goid());
	gort_trace_log(0, "crash", "about to panic");
	gort_gosched();
	gort_trace_log(0, "crash", "panicking");
	const char *how = arg;
	if (strcmp(how, "panic") == 0)
		gort_panic("flight recorder test");
	long v;
	gort_chan_recv(stuck, &v); /* deadlock: blocks for good, like main */
}

static void die(const char *how)
{
	CHECK(gort_trace_flight_enabled(), "GORT_TRACE_FLIGHT did not start the recorder");
	work(300);
	printf("expect log crash about to panic\nexpect log crash panicking\n"
	       "expect count GoUnblock 100\n");
	if (strcmp(how, "quit") == 0) {
		gort_trace_log(0, "crash", "about to panic");
		gort_trace_log(0, "crash", "panicking");
		printf("expect gevents %lld 3\n", (long long)gort_goid());
		fflush(stdout);
		kill(getpid(), SIGQUIT);
		for (;;)
			gort_sleep(1000000);
	}
	stuck = gort_chan_make(sizeof(long), 0);
	gort_go(crasher, (void *)how);
	long v;
	gort_chan_recv(stuck, &v);
}

static int main_fn(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "api") == 0) {
		test_misuse();
		test_bound();
		test_age();
		return test_pass("trace_flight api");
	}
	CHECK(argc >= 3, "usage: trace_flight api | FILE demand|panic|deadlock|quit");
	if (strcmp(argv[2], "many") == 0 && argc > 3) {
		many(argv[1], atol(argv[3]));
		return test_pass("trace_flight many");
	}
	if ((strcmp(argv[2], "small") == 0 || strcmp(argv[2], "smallpanic") == 0) && argc > 3) {
		small(argv[1], atoi(argv[3]), strcmp(argv[2], "smallpanic") == 0);
		return test_pass("trace_flight small");
	}
	if (strcmp(argv[2], "demand") == 0) {
		demand(argv[1]);
		return test_pass("trace_flight demand");
	}
	die(argv[2]);
	return 1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	gort_main(main_fn, argc, argv);
}
