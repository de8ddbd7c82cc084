/*
 * die_traceback - a deadlock's report with frames (traceback.c).
 *
 *   deadlock   goroutine 1 waits in main_wait for goroutine 2, which waits
 *              in worker for goroutine 1: every frame has file:line, and
 *              goroutine 2 says "created by test_main in goroutine 1".
 *              Run at each GOTRACEBACK setting (tests/CMakeLists.txt).
 *              The failing thread must not call malloc once its report
 *              has begun (the fault could have struck inside malloc): it
 *              is checked below, except under AddressSanitizer and
 *              ThreadSanitizer, which own malloc.
 *
 * The expected files name the lines below: keep them in place.
 */
#define _GNU_SOURCE
#include <string.h>

#include "../harness.h"

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
/*
 * The failing thread must not allocate once its report has begun: write
 * and malloc are interposed (the executable's definitions win over libc's,
 * for libgort.a's calls too).  The thread that writes "fatal error:" is
 * marked, and a malloc on it from then on exits with status 3 and says so.
 * gort's reporter thread, which may allocate, never writes that line.
 */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
static __thread bool reporting;

ssize_t write(int fd, const void *buf, size_t n)
{
	if (fd == 2 && n >= 12 && memcmp(buf, "fatal error:", 12) == 0)
		reporting = true;
	return syscall(SYS_write, fd, buf, n);
}

static void check_allowed(void)
{
	if (!reporting)
		return;
	static const char msg[] = "die_traceback: malloc on the reporting path\n";
	syscall(SYS_write, 2, msg, sizeof msg - 1);
	_exit(3);
}

void *malloc(size_t n)
{
	check_allowed();
	return __libc_malloc(n);
}
void *calloc(size_t a, size_t b)
{
	check_allowed();
	return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n)
{
	check_allowed();
	return __libc_realloc(p, n);
}
void *memalign(size_t al, size_t n)
{
	check_allowed();
	return __libc_memalign(al, n);
}
#endif

static gort_chan *to_worker, *to_main;

__attribute__((noinline)) static int worker_wait(void)
{
	int v = 0;
	bool ok = gort_chan_recv(to_worker, &v); /* line 77 */
	return ok ? v : -1;
}

static void worker(void *arg)
{
	int v = worker_wait(); /* line 83 */
	gort_chan_send(to_main, &v);
}

__attribute__((noinline)) static int main_wait(void)
{
	int v = 0;
	bool ok = gort_chan_recv(to_main, &v); /* line 90 */
	return ok ? v : -1;
}

static int test_main(int argc, char **argv)
{
	CHECK(argc == 2, "usage: die_traceback deadlock");
	to_worker = gort_chan_make(sizeof(int), 0);
	to_main = gort_chan_make(sizeof(int), 0);
	gort_go(worker, NULL); /* line 99 */
	gort_gosched();
	CHECK(strcmp(argv[1], "deadlock") == 0, "unknown mode %s", argv[1]);
	int v = main_wait(); /* line 102 */
	printf("%d\n", v);
	return 0;
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
