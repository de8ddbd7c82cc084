/*
 * asyncpreempt.c - preemption by signal (GODEBUG=asyncpreemptoff=0).
 *
 * A goroutine in a tight loop with no calls at all cannot be preempted
 * cooperatively: on one P it would keep every other goroutine from
 * running, and each mode below would hang.  With asynchronous preemption
 * on, sysmon stops it by a signal and the others run and release it.
 *
 *   spin      one spinner; a sleeper sets the flag.  The spinner resumes on
 *             its own thread with its registers (a double kept in one),
 *             errno and thread id as they were.
 *   many      four spinners and a ticker that ends them once all four have
 *             started (on one P, each start needs a preemption); every
 *             spinner stays on its thread through every preemption.
 *   locked    a spinner wired with gort_lock_os_thread stays wired.
 *   stw       GOMAXPROCS=2: gort_gomaxprocs(1) stops the world while a
 *             spinner holds the other P.
 *   libc      two goroutines spend their time in libc (stdio on one shared
 *             FILE, malloc); stopped inside, holding the FILE's lock, one
 *             would deadlock the other on one P.  So they must only be
 *             stopped in their own code.
 *   mutex     a spinner holding a gort_mutex is preempted; the goroutine
 *             that then wants the mutex parks until the spinner unlocks.
 *   rawsleep  a goroutine blocks its P in a raw nanosleep (no GORT_SYSCALL):
 *             with preemption on it is signalled (and sees EINTR, as in Go);
 *             with it off (the default), never.
 *
 * A SIGURG handler installed before gort_main counts every SIGURG this
 * process receives: gort passes each on to it.  No timing is asserted;
 * every mode ends by itself, or the alarm fails it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"

/* Internal (src/preempt.c): signals sent, preemptions taken, refused. */
void gort__preemptstats(uint64_t *sent, uint64_t *taken, uint64_t *refused);

static atomic_long urgs; /* SIGURGs seen by the program's own handler */
static atomic_bool flag;
static atomic_long spinning; /* spinners started */
static long nspinners = 1;
static gort_waitgroup wg;
static bool expect_on;

static void count_urg(int sig)
{
	atomic_fetch_add(&urgs, 1);
}

/* spin runs until flag, with no calls: only a signal can stop it.  The
 * double lives in a register across the loop, and is checked against a
 * recomputation afterwards. */
static long spin(double *xp)
{
	volatile long n = 0;
	double x = 1.0;
	atomic_fetch_add(&spinning, 1);
	while (!atomic_load_explicit(&flag, memory_order_relaxed)) {
		x = x * 1.0000001 + 1e-9;
		n++;
	}
	*xp = x;
	return n;
}

static double recompute(long n)
{
	double x = 1.0;
	for (long i = 0; i < n; i++)
		x = x * 1.0000001 + 1e-9;
	return x;
}

/* A spinner: same thread, same errno, same register state at the end. */
static void spinner(void *arg)
{
	pid_t tid = test_gettid();
	errno = 4242;
	double x;
	long n = spin(&x);
	CHECK(errno == 4242, "errno changed across preemption: %d", errno);
	CHECK(test_gettid() == tid, "resumed on another thread");
	CHECK(n > 0, "spun %ld times", n);
	CHECK(x == recompute(n), "floating-point state lost");
	gort_waitgroup_done(&wg);
}

/* sleep_until_spinning: sleeps until the spinner has started - at
 * GOMAXPROCS=1, until it is preempted, which is what the modes test.  A
 * sleep of 1 ms alone may end before the spinner ever ran: an M the OS
 * descheduled past the timer runs the timer's goroutine first (runnext).
 * Ten seconds of no spinner is a failure. */
static void sleep_until_spinning(void)
{
	for (int i = 0; i < 10000 && !atomic_load(&spinning); i++)
		gort_sleep(GORT_MILLISECOND);
	CHECK(atomic_load(&spinning), "the spinner never ran");
}

static void set_flag_after_sleep(void *arg)
{
	sleep_until_spinning();
	atomic_store(&flag, true);
	gort_waitgroup_done(&wg);
}

static void set_flag_after_ticks(void *arg)
{
	gort_timer *t = gort_ticker_new(2 * GORT_MILLISECOND);
	int64_t when;
	for (int i = 0; i < 3 || atomic_load(&spinning) < nspinners; i++)
		gort_chan_recv(gort_timer_c(t), &when);
	gort_timer_free(t);
	atomic_store(&flag, true);
	gort_waitgroup_done(&wg);
}

static void mode_spin(void)
{
	gort_waitgroup_add(&wg, 2);
	gort_go(spinner, NULL);
	gort_go(set_flag_after_sleep, NULL);
	gort_waitgroup_wait(&wg);
}

static void mode_many(void)
{
	nspinners = 4; /* the ticker waits until every one has started */
	gort_waitgroup_add(&wg, 5);
	for (int i = 0; i < 4; i++)
		gort_go(spinner, NULL);
	gort_go(set_flag_after_ticks, NULL);
	gort_waitgroup_wait(&wg);
}

/* locked: the user's own wiring survives the preemption's temporary one. */
static void locked_spinner(void *arg)
{
	gort_lock_os_thread();
	pid_t tid = test_gettid();
	double x;
	long n = spin(&x);
	CHECK(test_gettid() == tid && x == recompute(n), "locked spinner moved or lost state");
	for (int i = 0; i < 10; i++) {
		gort_gosched();
		CHECK(test_gettid() == tid, "no longer wired to its thread");
	}
	gort_unlock_os_thread();
	gort_waitgroup_done(&wg);
}

static void mode_locked(void)
{
	gort_waitgroup_add(&wg, 2);
	gort_go(locked_spinner, NULL);
	gort_go(set_flag_after_sleep, NULL);
	gort_waitgroup_wait(&wg);
}

/* stw: stopping the world waits for the spinner's P, which only a signal frees. */
static void mode_stw(void)
{
	CHECK(gort_gomaxprocs(0) == 2, "run with GOMAXPROCS=2");
	gort_waitgroup_add(&wg, 1);
	gort_go(spinner, NULL);
	while (!atomic_load(&spinning))
		gort_gosched();
	CHECK(gort_gomaxprocs(1) == 2, "gomaxprocs");
	CHECK(gort_gomaxprocs(0) == 1, "gomaxprocs");
	atomic_store(&flag, true);
	gort_waitgroup_wait(&wg);
}

/* libc: a loop that lives in libc, on one FILE shared by two goroutines. */
static FILE *devnull;
static atomic_long libc_rounds[2];

static void libc_worker(void *arg)
{
	long id = (long)arg;
	char buf[128];
	while (!atomic_load_explicit(&flag, memory_order_relaxed)) {
		int len = snprintf(buf, sizeof buf, "worker %ld round %ld\n", id, libc_rounds[id]);
		CHECK(fwrite(buf, 1, (size_t)len, devnull) == (size_t)len, "fwrite");
		void *p = malloc(64 << 10); /* from an arena, under its lock */
		CHECK(p != NULL, "malloc");
		memset(p, (int)id, 64);
		free(p);
		atomic_fetch_add_explicit(&libc_rounds[id], 1, memory_order_relaxed);
	}
	gort_waitgroup_done(&wg);
}

static void mode_libc(void)
{
	devnull = fopen("/dev/null", "w");
	CHECK(devnull != NULL, "fopen /dev/null");
	nspinners = 0;
	gort_waitgroup_add(&wg, 3);
	gort_go(libc_worker, (void *)0L);
	gort_go(libc_worker, (void *)1L);
	gort_go(set_flag_after_ticks, NULL);
	gort_waitgroup_wait(&wg);
	CHECK(libc_rounds[0] > 0 && libc_rounds[1] > 0, "rounds %ld %ld", libc_rounds[0],
	      libc_rounds[1]);
	fclose(devnull);
}

/* mutex: preempted while holding a gort_mutex. */
static gort_mutex mu = GORT_MUTEX_INIT;
static int shared;

static void mutex_spinner(void *arg)
{
	gort_mutex_lock(&mu);
	double x;
	long n = spin(&x);
	CHECK(n > 0 && x == recompute(n), "mutex spinner lost state");
	shared = 42;
	gort_mutex_unlock(&mu);
	gort_waitgroup_done(&wg);
}

static void mutex_waiter(void *arg)
{
	sleep_until_spinning(); /* wakes only if the spinner is preempted */
	CHECK(!gort_mutex_trylock(&mu), "the preempted spinner should hold the mutex");
	atomic_store(&flag, true);
	gort_mutex_lock(&mu); /* parks until the spinner, scheduled again, unlocks */
	CHECK(shared == 42, "got the mutex before the spinner let it go");
	gort_mutex_unlock(&mu);
	gort_waitgroup_done(&wg);
}

static void mode_mutex(void)
{
	gort_waitgroup_add(&wg, 2);
	gort_go(mutex_spinner, NULL);
	gort_go(mutex_waiter, NULL);
	gort_waitgroup_wait(&wg);
}

/* rawsleep: 100 ms in nanosleep without giving up the P - with preemption
 * on, again and again until a signal comes (up to 50 times: sysmon may be
 * slow to run on a loaded machine, and this is no latency test). */
static void mode_rawsleep(void)
{
	int eintr = 0;
	for (int round = 0; round < (expect_on ? 50 : 1) && eintr == 0; round++) {
		struct timespec ts = {0, 100 * 1000 * 1000};
		while (nanosleep(&ts, &ts) != 0) {
			CHECK(errno == EINTR, "nanosleep: %s", strerror(errno));
			eintr++;
		}
	}
	if (expect_on)
		CHECK(eintr > 0, "a P held 5 s in raw system calls was never signalled");
	else
		CHECK(eintr == 0, "nanosleep interrupted %d times with preemption off", eintr);
}

static int test_main(int argc, char **argv)
{
	CHECK(argc == 3, "usage: asyncpreempt MODE on|off");
	expect_on = strcmp(argv[2], "on") == 0;
	const char *mode = argv[1];
	if (strcmp(mode, "spin") == 0)
		mode_spin();
	else if (strcmp(mode, "many") == 0)
		mode_many();
	else if (strcmp(mode, "locked") == 0)
		mode_locked();
	else if (strcmp(mode, "stw") == 0)
		mode_stw();
	else if (strcmp(mode, "libc") == 0)
		mode_libc();
	else if (strcmp(mode, "mutex") == 0)
		mode_mutex();
	else if (strcmp(mode, "rawsleep") == 0)
		mode_rawsleep();
	else
		CHECK(false, "unknown mode %s", mode);

	uint64_t sent, taken, refused;
	gort__preemptstats(&sent, &taken, &refused);
	printf("%s: %llu signals sent, %llu preemptions, %llu refused, %ld SIGURGs seen\n", mode,
	       (unsigned long long)sent, (unsigned long long)taken, (unsigned long long)refused,
	       atomic_load(&urgs));
	if (expect_on) {
		CHECK(sent > 0 && atomic_load(&urgs) > 0, "no signal sent or seen");
		if (strcmp(mode, "rawsleep") != 0)
			CHECK(taken > 0, "no goroutine was preempted");
	} else {
		CHECK(sent == 0 && taken == 0 && atomic_load(&urgs) == 0,
		      "preemption is off, yet signals were sent");
	}
	char name[64];
	snprintf(name, sizeof name, "asyncpreempt_%s_%s", mode, argv[2]);
	return test_pass(name);
}

int main(int argc, char **argv)
{
	alarm(TEST_WATCHDOG_SECONDS); /* a hang fails here, before CTest's timeout */
	signal(SIGURG, count_urg);
	gort_main(test_main, argc, argv);
}
