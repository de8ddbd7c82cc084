/*
 * spawn.c - C twin of ../shared/anchors/go/spawn: the main goroutine starts
 * N goroutines (-n, default 1,000,000) in a plain loop; each only marks
 * itself done and exits.  Measured: from just before the first spawn until
 * main has seen all N done.  No warm-up: growing the runtime's G and stack
 * pools is part of the workload.
 * Reported: ns per goroutine (spawn+run+exit) = elapsed/N; rss_kb = peak RSS
 * (VmHWM), which reflects how many goroutines were alive at once while main
 * was still spawning.
 *
 * gort has no WaitGroup yet: wg.Done is an atomic increment (the same locked
 * add Go's Done does), and after starting every goroutine main parks for
 * good (gort_block); the goroutine whose increment completes the count
 * stops the clock and reports - where Go's wg.Wait would return.  (A
 * gort_gosched polling loop would instead keep main cycling through the
 * global run queue and distort the scheduling being measured.)
 */
#include "report.h" /* first: it sets the feature macros */

#include <stdatomic.h>

static atomic_llong done;
static long long n = 1000000;
static int64_t t0;

/* finish runs in the goroutine that completes the count: wg.Wait returns. */
static void finish(void)
{
	int64_t el = bench_now_ns() - t0;
	report("spawn", "ns_per_goroutine", (double)el / (double)n,
	       {"n", (double)n}, {"wall_ms", (double)el / 1e6});
	exit(0);
}

static void body(void *arg)
{
	(void)arg;
	if (atomic_fetch_add(&done, 1) + 1 == n)
		finish();
}

static int real_main(int argc, char **argv)
{
	bench_parse_flags(argc, argv, (const struct bench_flag[]){
		{"n", &n, "goroutines to spawn"},
		{NULL, NULL, NULL},
	});
	if (n < 1)
		bench_fail("spawn: -n must be at least 1");

	t0 = bench_now_ns();
	for (long long i = 0; i < n; i++)
		gort_go(body, NULL);
	gort_block(); /* wg.Wait: finish() ends the program */
}

int main(int argc, char **argv)
{
	gort_main(real_main, argc, argv);
}
