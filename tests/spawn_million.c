/*
 * spawn_million - proves that 1,000,000 goroutines spawned from main each
 * run exactly once, and that their Gs are all retired afterwards
 * (gort_numgoroutine back to 1).  Main spawns them all before it yields, so
 * at GOMAXPROCS=1 all million exist at once (runnable, not yet started).
 * CTest runs it at GOMAXPROCS=1 and GOMAXPROCS=2.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "harness.h"

#define N 1000000

static _Atomic uint8_t ran[N]; /* ran[i]: how many times goroutine i ran */
static atomic_long done;

static void work(void *arg)
{
	uintptr_t i = (uintptr_t)arg;
	atomic_fetch_add_explicit(&ran[i], 1, memory_order_relaxed);
	test_done(&done);
}

static int test_main(int argc, char **argv)
{
	const char *env = getenv("GOMAXPROCS");
	CHECK(env != NULL, "CTest sets GOMAXPROCS for this test");
	CHECK(gort_gomaxprocs(0) == atoi(env), "GOMAXPROCS=%s but gort_gomaxprocs(0)=%d", env,
	      gort_gomaxprocs(0));

	for (uintptr_t i = 0; i < N; i++)
		gort_go(work, (void *)i);
	test_wait(&done, N, "a million goroutines");

	for (long i = 0; i < N; i++)
		CHECK(atomic_load(&ran[i]) == 1, "goroutine %ld ran %d times", i, atomic_load(&ran[i]));
	CHECK(atomic_load(&done) == N, "done=%ld", atomic_load(&done));

	/* A goroutine counts itself done just before it returns, so its G may
	 * still be alive for a moment: yield until all have been retired. */
	for (long i = 0; gort_numgoroutine() != 1; i++) {
		CHECK(i < 10000000, "gort_numgoroutine()=%d after every goroutine returned",
		      gort_numgoroutine());
		gort_gosched();
	}
	return test_pass("spawn_million");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
