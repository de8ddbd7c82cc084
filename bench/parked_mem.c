/*
 * parked_mem.c - C twin of ../shared/anchors/go/parked_mem: baseline =
 * VmRSS, then main starts N goroutines (-n, default 1,000,000); each marks
 * itself started and then blocks forever.  main waits until all N have
 * started.  Measured: from before the first spawn until all N have started
 * (create_ms); peak = VmHWM read right after that (all N are parked, or
 * about to park).
 * Reported: (peak - baseline) * 1024 / N = bytes per parked goroutine;
 * extra: create_ms, ns_per_create, baseline_kb.  rss_kb = peak RSS.
 *
 * Differences from the Go twin, none of which changes what is measured:
 * Go parks on <-ch for a channel nobody sends to; gort has no channels yet,
 * so each goroutine parks in gort_block() (Go's `select {}`), an equally
 * permanent park.  Go calls runtime.GC() before the baseline; gort has no
 * GC and nothing to collect.  gort has no WaitGroup yet: after spawning,
 * main parks for good and the goroutine whose started.Done completes the
 * count takes the measurement and reports (where Go's started.Wait would
 * return), then ends the program, as Go's main does by returning.
 */
#include "report.h" /* first: it sets the feature macros */

#include <stdatomic.h>

static atomic_llong started;
static long long n = 1000000;
static int64_t base, t0;

/* finish runs in the goroutine that completes the count: started.Wait returns. */
static void finish(void)
{
	int64_t el = bench_now_ns() - t0;
	int64_t peak = bench_status_kb("VmHWM");
	report("parked_mem", "bytes_per_goroutine", (double)(peak - base) * 1024 / (double)n,
	       {"n", (double)n}, {"create_ms", (double)el / 1e6},
	       {"ns_per_create", (double)el / (double)n}, {"baseline_kb", (double)base});
	exit(0); /* with N goroutines parked, as Go's main returns */
}

static void park(void *arg)
{
	(void)arg;
	if (atomic_fetch_add(&started, 1) + 1 == n)
		finish();
	gort_block();
}

static int real_main(int argc, char **argv)
{
	bench_parse_flags(argc, argv, (const struct bench_flag[]){
		{"n", &n, "goroutines to park"},
		{NULL, NULL, NULL},
	});
	if (n < 1)
		bench_fail("parked_mem: -n must be at least 1");

	base = bench_status_kb("VmRSS");
	t0 = bench_now_ns();
	for (long long i = 0; i < n; i++)
		gort_go(park, NULL);
	gort_block(); /* started.Wait: finish() ends the program */
}

int main(int argc, char **argv)
{
	gort_main(real_main, argc, argv);
}
