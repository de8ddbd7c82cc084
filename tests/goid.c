/*
 * goid - proves goroutine ids are Go's: the main goroutine is 1; goroutines
 * spawned on one P (GOMAXPROCS=1, set by CTest) get 2, 3, 4, ... in creation
 * order, whoever spawns them; and the id gort_go returns is the id the
 * goroutine itself sees from gort_goid().
 */
#define _GNU_SOURCE
#include <stdint.h>

#include "harness.h"

#define N 100 /* several of the P's batches of ids */

static int64_t seen[N + 1]; /* seen[i]: gort_goid() inside goroutine i */
static int64_t grandchild_returned;
static atomic_long done;

static void record(void *arg)
{
	uintptr_t i = (uintptr_t)arg;
	seen[i] = gort_goid();
	test_done(&done);
}

/* Goroutine 0 also spawns one more, after main has spawned all N. */
static void record_and_spawn(void *arg)
{
	grandchild_returned = gort_go(record, (void *)(uintptr_t)N);
	record(arg);
}

static int test_main(int argc, char **argv)
{
	CHECK(gort_gomaxprocs(0) == 1, "CTest runs this at GOMAXPROCS=1, got %d", gort_gomaxprocs(0));
	CHECK(gort_goid() == 1, "main goroutine id is %lld", (long long)gort_goid());

	int64_t returned[N];
	for (uintptr_t i = 0; i < N; i++)
		returned[i] = gort_go(i == 0 ? record_and_spawn : record, (void *)i);
	test_wait(&done, N + 1, "the goroutines");

	for (int i = 0; i < N; i++) {
		CHECK(returned[i] == 2 + i, "goroutine %d: gort_go returned %lld, want %d", i,
		      (long long)returned[i], 2 + i);
		CHECK(seen[i] == returned[i], "goroutine %d: gort_goid()=%lld, gort_go returned %lld", i,
		      (long long)seen[i], (long long)returned[i]);
	}
	CHECK(grandchild_returned == N + 2, "grandchild: gort_go returned %lld, want %d",
	      (long long)grandchild_returned, N + 2);
	CHECK(seen[N] == grandchild_returned, "grandchild: gort_goid()=%lld, gort_go returned %lld",
	      (long long)seen[N], (long long)grandchild_returned);
	CHECK(gort_goid() == 1, "main goroutine id changed to %lld", (long long)gort_goid());
	return test_pass("goid");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
