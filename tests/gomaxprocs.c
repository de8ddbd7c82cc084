/*
 * gomaxprocs - proves GOMAXPROCS can change again and again (1, 2, 3, 4, ...;
 * 50 changes, each stopping and restarting the world) while 10,000
 * goroutines yield and count: every goroutine finishes with its exact count.
 * gort_gomaxprocs(n) returns the previous setting each time, and
 * gort_gomaxprocs(0) and gort_gomaxprocs(-3) return the current one and
 * change nothing.  Change k waits until the workers have done k/51 of
 * their counting, so the changes are spread over the counting (by progress,
 * not time); and the workers keep yielding until the last change, so every
 * change stops a world full of running goroutines.
 */
#define _GNU_SOURCE
#include "harness.h"

#define N 10000
#define ITERS 100
#define CHANGES 50

static int count[N]; /* count[i]: written only by goroutine i */
static atomic_long progress; /* iterations counted so far, all workers */
static atomic_long counted, done;
static atomic_int changes_done;

static void worker(void *arg)
{
	int *c = arg;
	for (int j = 0; j < ITERS; j++) {
		(*c)++;
		atomic_fetch_add_explicit(&progress, 1, memory_order_relaxed);
		gort_gosched();
	}
	atomic_fetch_add(&counted, 1);
	while (!atomic_load(&changes_done))
		gort_gosched();
	test_done(&done);
}

static int test_main(int argc, char **argv)
{
	static const int seq[] = {1, 2, 3, 4};
	int cur = gort_gomaxprocs(0);
	CHECK(cur >= 1, "gort_gomaxprocs(0)=%d", cur);

	for (int i = 0; i < N; i++)
		gort_go(worker, &count[i]);

	for (int k = 0; k < CHANGES; k++) {
		test_wait(&progress, (long)N * ITERS * k / (CHANGES + 1), "the workers' progress");
		int n = seq[k % 4];
		int prev = gort_gomaxprocs(n);
		CHECK(prev == cur, "change %d: gort_gomaxprocs(%d) returned %d, want the previous %d", k, n,
		      prev, cur);
		cur = n;
		CHECK(gort_gomaxprocs(0) == n, "after setting %d, gort_gomaxprocs(0)=%d", n, gort_gomaxprocs(0));
		CHECK(gort_gomaxprocs(-3) == n, "after setting %d, gort_gomaxprocs(-3)=%d", n,
		      gort_gomaxprocs(-3));
		CHECK(gort_gomaxprocs(0) == n, "gort_gomaxprocs(-3) changed the setting to %d",
		      gort_gomaxprocs(0));
	}
	long counted_during_changes = atomic_load(&counted);
	atomic_store(&changes_done, 1);
	test_wait(&done, N, "the workers");

	long total = 0;
	for (int i = 0; i < N; i++) {
		CHECK(count[i] == ITERS, "goroutine %d counted %d, want %d", i, count[i], ITERS);
		total += count[i];
	}
	CHECK(total == (long)N * ITERS, "total %ld", total);
	printf("%ld of %d goroutines had finished counting when the last of %d changes was made\n",
	       counted_during_changes, N, CHANGES);
	return test_pass("gomaxprocs");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
