/*
 * syscall.c - system calls hand their P off.
 *
 * On GOMAXPROCS=1, goroutine A blocks in a wrapped read() on a pipe that
 * only goroutine B writes to.  If A's P were not handed to another thread
 * while A is in the kernel, B could never run and the test would hang (and
 * hit its CTest timeout).  Also: errno survives gort_exitsyscall, a
 * goroutine keeps running code after the call, wrapped calls of every kind
 * return libc's results, and GOMAXPROCS changes while a goroutine sits in
 * a system call.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static int fds[2];
static gort_waitgroup wg;
static char got[6];

static void reader(void *arg)
{
	long n = gort_read(fds[0], got, 5); /* blocks until writer runs */
	CHECK(n == 5, "read returned %ld", n);
	gort_waitgroup_done(&wg);
}

static void writer(void *arg)
{
	gort_sleep(GORT_MILLISECOND); /* make sure the reader is in read() */
	CHECK(gort_write(fds[1], "hello", 5) == 5, "write");
	gort_waitgroup_done(&wg);
}

static void test_handoff(void)
{
	CHECK(pipe(fds) == 0, "pipe");
	gort_waitgroup_add(&wg, 2);
	gort_go(reader, NULL);
	gort_go(writer, NULL);
	gort_waitgroup_wait(&wg);
	CHECK(memcmp(got, "hello", 5) == 0, "got %.5s", got);
	close(fds[0]);
	close(fds[1]);
}

__attribute__((noinline)) static int errno_now(void)
{
	return errno;
}

static void test_errno(void)
{
	char c;
	/* gort's calls return -errno, as the rest of gort does ... */
	long n = gort_read(-1, &c, 1);
	CHECK(n == -EBADF, "read(-1): %ld, want -EBADF", n);
	int fd = gort_open("/nonexistent/gort", O_RDONLY, 0);
	CHECK(fd == -ENOENT, "open: %d, want -ENOENT", fd);
	CHECK(gort_close(-1) == -EBADF, "gort_close(-1)");
	CHECK(gort_fsync(-1) == -EBADF, "gort_fsync(-1)");
	CHECK(gort_pread(-1, &c, 1, 0) == -EBADF, "gort_pread(-1)");
	CHECK(gort_pwrite(-1, &c, 1, 0) == -EBADF, "gort_pwrite(-1)");
	CHECK(gort_write(-1, &c, 1) == -EBADF, "gort_write(-1)");
	CHECK(gort_waitpid(-1, NULL, WNOHANG) == -ECHILD, "gort_waitpid with no child");
	CHECK(strcmp(gort_strerror(-ENOENT), "No such file or directory") == 0, "strerror(-ENOENT): %s",
	      gort_strerror(-ENOENT));
	/* ... while GORT_SYSCALL wraps a libc call as it is: -1 and errno,
	 * the errno surviving the return to Go's side (read out of line:
	 * gort.h's System calls section says why) */
	int r = GORT_SYSCALL(close(-1));
	int e = errno_now();
	CHECK(r == -1 && e == EBADF, "close(-1) via GORT_SYSCALL: errno %d", e);
}

/* a goroutine in a long call while GOMAXPROCS changes and others run */
static void reader_in_kernel(void *arg)
{
	char c;
	long n = gort_read(*(int *)arg, &c, 1); /* until main writes */
	CHECK(n == 1 && c == 'x', "read %ld", n);
	gort_waitgroup_done(&wg);
}

static void test_gomaxprocs_during_syscall(void)
{
	int p[2];
	CHECK(pipe(p) == 0, "pipe");
	gort_waitgroup_add(&wg, 1);
	gort_go(reader_in_kernel, &p[0]);
	gort_sleep(GORT_MILLISECOND);
	for (int i = 0; i < 10; i++)
		gort_gomaxprocs(1 + i % 2);
	gort_gomaxprocs(1);
	CHECK(write(p[1], "x", 1) == 1, "write");
	gort_waitgroup_wait(&wg);
	close(p[0]);
	close(p[1]);
}

static int test_main(int argc, char **argv)
{
	CHECK(gort_gomaxprocs(0) == 1, "run with GOMAXPROCS=1");
	test_handoff();
	test_errno();
	test_gomaxprocs_during_syscall();
	return test_pass("syscall");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
