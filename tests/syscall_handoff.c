/*
 * syscall_handoff.c - a call that blocks still lets the others run, also
 * now that a call that does not block never wakes sysmon (issue 17, item 9).
 *
 * On GOMAXPROCS=1, goroutine A blocks in gort_read on a pipe that only
 * goroutine B writes to, after B has done an exact amount of work (1000
 * yields, 1000 channel round trips with a third goroutine C).  A's P must
 * be handed to another thread while A is in the kernel, or B never runs
 * and the watchdog fails the test.  Each round takes one of sysmon's two
 * ways of seeing A's call:
 *   - "busy": A first makes 5000 calls that do not block (gort_pread of a
 *     cached file), so sysmon is ticking short, kept so by the calls' mark;
 *   - "quiet": A first sleeps 30 ms, so sysmon has backed off into a long
 *     sleep, and A's call must wake it.
 * Outcomes checked exactly: A reads B's five bytes, B's counts, C's sum,
 * and B ran only while A was in the call.  Then: a call that fails after
 * its P was taken returns its error on the thread it resumes on.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "harness.h"

enum { ROUNDS = 40, WORK = 1000, FASTCALLS = 5000 };

static int pfd[2];
static int filefd;
static gort_chan *start, *ping, *pong;
static gort_waitgroup wg;
static atomic_int a_in_call; /* A is between its blocking call's start and return */
static atomic_int b_saw_a_in_call;
static long b_yields, c_sum;

static void counter_c(void *arg)
{
	long v, sum = 0;
	while (gort_chan_recv(ping, &v)) {
		sum += v;
		gort_chan_send(pong, &v);
	}
	c_sum = sum;
	gort_waitgroup_done(&wg);
}

static void writer_b(void *arg)
{
	int dummy;
	gort_chan_recv(start, &dummy);
	/* A was in its call when it let us go (it sent start, then called
	 * read): at GOMAXPROCS=1 we can run only if its P was handed on. */
	if (atomic_load(&a_in_call))
		atomic_store(&b_saw_a_in_call, 1);
	for (int i = 0; i < WORK; i++) {
		gort_gosched();
		b_yields++;
	}
	for (long i = 1; i <= WORK; i++) {
		long back;
		gort_chan_send(ping, &i);
		gort_chan_recv(pong, &back);
		CHECK(back == i, "C sent back %ld, want %ld", back, i);
	}
	gort_chan_close(ping);
	CHECK(gort_write(pfd[1], "hello", 5) == 5, "write to the pipe");
	gort_waitgroup_done(&wg);
}

static void reader_a(void *arg)
{
	bool busy = arg != NULL;
	if (busy) {
		char buf[512];
		for (int i = 0; i < FASTCALLS; i++)
			CHECK(gort_pread(filefd, buf, sizeof buf, 0) == (long)sizeof buf, "pread");
	} else {
		gort_sleep(30 * GORT_MILLISECOND);
	}
	int go = 1;
	atomic_store(&a_in_call, 1);
	gort_chan_send(start, &go); /* B is runnable now, but this P is ours */
	char got[8] = {0};
	long n = gort_read(pfd[0], got, sizeof got); /* until B writes */
	atomic_store(&a_in_call, 0);
	CHECK(n == 5 && memcmp(got, "hello", 5) == 0, "read %ld bytes \"%.*s\", want \"hello\"", n,
	      n > 0 ? (int)n : 0, got);
	gort_waitgroup_done(&wg);
}

/*
 * errno and -errno after a call whose P was taken: a call that fails after
 * 5 ms (a blocking socket read with SO_RCVTIMEO: -EAGAIN; a GORT_SYSCALL
 * of a sleep and close(-1): -1, EBADF) while a spinner wants the only P.
 * sysmon hands the P to the spinner; the call returns to no P, and the
 * goroutine resumes on whichever M runs it next - another thread, often.
 * The error must come with it (it once stayed on the old thread).
 */
static atomic_int errno_done;

static void spinner(void *arg)
{
	while (!atomic_load(&errno_done))
		gort_gosched();
	gort_waitgroup_done(&wg);
}

/* errno read where the compiler cannot reuse an address of errno looked up
 * before the call, on the thread the goroutine has since left (glibc's
 * __errno_location is const: within one function - and out of a loop -
 * the compiler may call it once).  gort.h's System calls section says so. */
__attribute__((noinline)) static int errno_now(void)
{
	return errno;
}

static int slow_close_bad(void)
{
	usleep(5000);
	return close(-1);
}

static void errno_caller(void *arg)
{
	int *sv = arg, moved = 0;
	char c;
	for (int i = 0; i < 20; i++) {
		pid_t before = test_gettid();
		long n = gort_read(sv[0], &c, 1);
		CHECK(n == -EAGAIN, "call %d: gort_read on a socket with a 5 ms timeout: %ld (%s), want -EAGAIN", i, n,
		      gort_strerror(n));
		int r = GORT_SYSCALL(slow_close_bad());
		int e = errno_now();
		CHECK(r == -1 && e == EBADF, "call %d: GORT_SYSCALL(close(-1)): %d, errno %d, want EBADF", i, r, e);
		moved += test_gettid() != before;
	}
	printf("syscall_handoff: 20 rounds of two slow failing calls, %d resumed on another thread\n", moved);
	atomic_store(&errno_done, 1);
	gort_waitgroup_done(&wg);
}

static void test_errno_after_handoff(void)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
	struct timeval tv = {0, 5000};
	CHECK(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0, "SO_RCVTIMEO");
	atomic_store(&errno_done, 0);
	gort_waitgroup_add(&wg, 2);
	gort_go(spinner, NULL);
	gort_go(errno_caller, sv);
	gort_waitgroup_wait(&wg);
	close(sv[0]);
	close(sv[1]);
}

static void *watchdog(void *arg)
{
	sleep(40);
	fprintf(stderr, "syscall_handoff: a goroutine blocked in gort_read kept the only P for 40 s\n");
	_exit(1);
}

static int test_main(int argc, char **argv)
{
	CHECK(gort_gomaxprocs(0) == 1, "run with GOMAXPROCS=1");
	pthread_t wd;
	CHECK(pthread_create(&wd, NULL, watchdog, NULL) == 0, "watchdog thread");
	char path[] = "/tmp/gort-syscall-handoff-XXXXXX";
	filefd = mkstemp(path);
	CHECK(filefd >= 0, "mkstemp");
	unlink(path);
	static char block[512];
	CHECK(write(filefd, block, sizeof block) == (long)sizeof block, "write the file");
	CHECK(pipe(pfd) == 0, "pipe");
	for (int r = 0; r < ROUNDS; r++) {
		start = gort_chan_make(sizeof(int), 1);
		ping = gort_chan_make(sizeof(long), 0);
		pong = gort_chan_make(sizeof(long), 0);
		b_yields = c_sum = 0;
		atomic_store(&b_saw_a_in_call, 0);
		gort_waitgroup_add(&wg, 3);
		gort_go(counter_c, NULL);
		gort_go(writer_b, NULL);
		gort_go(reader_a, r % 2 == 0 ? (void *)1 : NULL);
		gort_waitgroup_wait(&wg);
		CHECK(atomic_load(&b_saw_a_in_call), "round %d (%s): B ran before A's call began", r,
		      r % 2 == 0 ? "busy" : "quiet");
		CHECK(b_yields == WORK, "round %d: B yielded %ld times, want %d", r, b_yields, WORK);
		CHECK(c_sum == (long)WORK * (WORK + 1) / 2, "round %d: C summed %ld, want %ld", r, c_sum,
		      (long)WORK * (WORK + 1) / 2);
		gort_chan_free(start);
		gort_chan_free(ping);
		gort_chan_free(pong);
	}
	close(pfd[0]);
	close(pfd[1]);
	close(filefd);
	test_errno_after_handoff();
	return test_pass("syscall_handoff");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
