/*
 * parked_mem.c - C twin of ../shared/anchors/go/parked_mem: baseline =
 * VmRSS, then main starts N goroutines (-n, default 1,000,000); each calls
 * started.Done and then blocks forever on <-ch, where ch is a single
 * unbuffered channel (of int64, Go's chan int) that is never sent to.  main
 * waits on started.Wait.  Measured: from before the first spawn until
 * started.Wait returns (create_ms); peak = VmHWM read right after that (all
 * N are parked, or about to park, on ch).
 * Reported: (peak - baseline) * 1024 / N = bytes per parked goroutine;
 * extra: n, create_ms, ns_per_create, baseline_kb.  rss_kb = peak RSS.
 *
 * Go calls runtime.GC() before the baseline; gort has no GC and nothing to
 * collect.  As in Go, main returns with the N goroutines still parked on ch
 * and the process exits; ch is not freed, since gort_chan_free of a channel
 * goroutines are blocked on is a fatal error.
 */
#include "report.h" /* first: it sets the feature macros */

#include <limits.h>

/* What Go's closure captures: started and ch, by reference. */
struct parker {
	gort_waitgroup *started;
	gort_chan *ch;
};

static void park(void *arg)
{
	const struct parker *p = arg;
	gort_waitgroup_done(p->started);
	int64_t v;
	gort_chan_recv(p->ch, &v); /* <-ch: nobody ever sends */
}

static int real_main(int argc, char **argv)
{
	long long n = 1000000;
	bench_parse_flags(argc, argv, (const struct bench_flag[]){
		{"n", &n, "goroutines to park"},
		{NULL, NULL, NULL},
	});
	/* The WaitGroup counter is 32 bits, as Go's; Go would panic past it. */
	if (n < 1 || n > INT_MAX)
		bench_fail("parked_mem: -n must be between 1 and %d", INT_MAX);

	gort_chan *ch = gort_chan_make(sizeof(int64_t), 0);
	int64_t base = bench_status_kb("VmRSS");

	gort_waitgroup started = GORT_WAITGROUP_INIT;
	gort_waitgroup_add(&started, (int)n);
	int64_t t0 = bench_now_ns();
	for (long long i = 0; i < n; i++)
		gort_go_with(park, struct parker, .started = &started, .ch = ch);
	gort_waitgroup_wait(&started);
	int64_t el = bench_now_ns() - t0;
	int64_t peak = bench_status_kb("VmHWM");

	report("parked_mem", "bytes_per_goroutine", (double)(peak - base) * 1024 / (double)n,
	       {"n", (double)n}, {"create_ms", (double)el / 1e6},
	       {"ns_per_create", (double)el / (double)n}, {"baseline_kb", (double)base});
	return 0;
}

int main(int argc, char **argv)
{
	gort_main(real_main, argc, argv);
}
