/*
 * spawn.c - C twin of ../shared/anchors/go/spawn: the main goroutine calls
 * wg.Add(N) once, then starts N goroutines (-n, default 1,000,000) in a
 * plain loop; each goroutine only calls wg.Done and exits.  Measured: from
 * just before the first spawn until wg.Wait returns.  No warm-up: growing
 * the runtime's G and stack pools is part of the workload.
 * Reported: ns per goroutine (spawn+run+exit) = elapsed/N; extra: n,
 * wall_ms.  rss_kb = peak RSS (VmHWM), which reflects how many goroutines
 * were alive at once while main was still spawning.
 */
#include "report.h" /* first: it sets the feature macros */

#include <limits.h>

/* The goroutine: Go's func() { wg.Done() }, which captures only &wg. */
static void body(void *arg)
{
	gort_waitgroup_done(arg);
}

static int real_main(int argc, char **argv)
{
	long long n = 1000000;
	bench_parse_flags(argc, argv, (const struct bench_flag[]){
		{"n", &n, "goroutines to spawn"},
		{NULL, NULL, NULL},
	});
	/* The WaitGroup counter is 32 bits, as Go's; Go would panic past it. */
	if (n < 1 || n > INT_MAX)
		bench_fail("spawn: -n must be between 1 and %d", INT_MAX);

	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	gort_waitgroup_add(&wg, (int)n);
	int64_t t0 = bench_now_ns();
	for (long long i = 0; i < n; i++)
		gort_go(body, &wg);
	gort_waitgroup_wait(&wg);
	int64_t el = bench_now_ns() - t0;

	report("spawn", "ns_per_goroutine", (double)el / (double)n,
	       {"n", (double)n}, {"wall_ms", (double)el / 1e6});
	return 0;
}

int main(int argc, char **argv)
{
	gort_main(real_main, argc, argv);
}
