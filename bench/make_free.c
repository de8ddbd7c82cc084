/*
 * make_free.c - what making and freeing costs: G goroutines (-g, default
 * 8) each do their share of N operations (-n, default 1,000,000), one
 * operation being
 *     c := make(chan int, 1); t := time.NewTimer(time.Hour); t.Stop(); free t; free c
 * - a channel, and a timer with its channel, made and freed, as a server
 * does per request.  No Go twin: Go has no free (its garbage collector
 * pays instead).  What it shows is the slot pools' cost (src/handle.c):
 * bench/count.sh counts their locks.  A warm-up pass of N/10 runs first.
 * Reported: ns per operation = elapsed/N; extra: n, g, wall_ms.
 */
#include "report.h" /* first: it sets the feature macros */

struct share {
	long long n;
	gort_waitgroup *wg;
};

static void worker(void *arg)
{
	const struct share *s = arg;
	for (long long i = 0; i < s->n; i++) {
		gort_chan *c = gort_chan_make(sizeof(int64_t), 1);
		gort_timer *t = gort_timer_new(3600 * GORT_SECOND);
		gort_timer_stop(t);
		gort_timer_free(t);
		gort_chan_free(c);
	}
	gort_waitgroup_done(s->wg);
}

static void pass(long long n, long long g)
{
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	gort_waitgroup_add(&wg, (int)g);
	for (long long i = 0; i < g; i++)
		gort_go_with(worker, struct share, .n = n / g + (i < n % g), .wg = &wg);
	gort_waitgroup_wait(&wg);
}

static int real_main(int argc, char **argv)
{
	long long n = 1000000, g = 8;
	bench_parse_flags(argc, argv, (const struct bench_flag[]){
		{"n", &n, "operations (all goroutines together)"},
		{"g", &g, "goroutines"},
		{NULL, NULL, NULL},
	});
	if (n < 1 || g < 1 || g > 1000000)
		bench_fail("make_free: -n must be at least 1, -g between 1 and 1000000");

	pass(n / 10, g);
	int64_t t0 = bench_now_ns();
	pass(n, g);
	int64_t el = bench_now_ns() - t0;

	report("make_free", "ns_per_op", (double)el / (double)n,
	       {"g", (double)g}, {"n", (double)n}, {"wall_ms", (double)el / 1e6});
	return 0;
}

int main(int argc, char **argv)
{
	gort_main(real_main, argc, argv);
}
