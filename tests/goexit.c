/*
 * goexit - proves gort_goexit ends only the calling goroutine: called from
 * a few frames deep in 100 goroutines, nothing after the call ever runs, and
 * the program goes on: 100 other goroutines finish, main continues, and the
 * exited goroutines are gone (gort_numgoroutine back to 1).
 */
#define _GNU_SOURCE
#include "harness.h"

#define N 100

/* Called through a pointer not marked noreturn, so the compiler keeps the
 * code after the call, and the test can see that it never runs. */
static void (*volatile goexit_fn)(void) = gort_goexit;

static atomic_long reached, after_goexit, others_done;

static __attribute__((noinline)) void deeper(int depth)
{
	if (depth > 0) {
		deeper(depth - 1);
		atomic_fetch_add(&after_goexit, 1);
		return;
	}
	atomic_fetch_add(&reached, 1);
	goexit_fn();
	atomic_fetch_add(&after_goexit, 1);
}

static void exiter(void *arg)
{
	deeper(3);
	atomic_fetch_add(&after_goexit, 1);
}

static void other(void *arg)
{
	for (int i = 0; i < 10; i++)
		gort_gosched();
	test_done(&others_done);
}

static int test_main(int argc, char **argv)
{
	for (int i = 0; i < N; i++) {
		gort_go(exiter, NULL);
		gort_go(other, NULL);
	}
	test_wait(&others_done, N, "the goroutines that do not exit");
	test_wait(&reached, N, "the goroutines that call gort_goexit");
	for (long i = 0; gort_numgoroutine() != 1; i++) {
		CHECK(i < 10000000, "gort_numgoroutine()=%d: exited goroutines still counted",
		      gort_numgoroutine());
		gort_gosched();
	}
	CHECK(atomic_load(&after_goexit) == 0, "code after gort_goexit ran %ld times",
	      atomic_load(&after_goexit));
	return test_pass("goexit");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
