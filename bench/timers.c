/*
 * timers.c - C twin of ../shared/anchors/go/timers: G goroutines (-g,
 * default 100,000) each do K (-k, default 5) sequential sleeps; sleep j of
 * goroutine i lasts d[i*K+j] µs, d[0], d[1], ... drawn in that order before
 * the run from splitmix64 (-seed, default 42) as min + x mod (max-min+1),
 * -min 1000, -max 50000.  Per sleep: t0 = gort_nanotime(); gort_sleep(d);
 * oversleep = gort_nanotime() - t0 - d.  main waits on a WaitGroup.
 * Measured: wall time from before the first spawn until all G goroutines
 * finished.
 * Reported: mean oversleep in µs (value); extra: p50/p99/max oversleep µs
 * (nearest rank over all G*K sleeps), wall_ms, ideal_ms = max over
 * goroutines of the sum of its K sleeps, g, k.
 */
#include "report.h" /* first: it sets the feature macros */

#include <limits.h>

/* The anchors' splitmix64, step for step. */
static uint64_t splitmix64_next(uint64_t *s)
{
	*s += 0x9e3779b97f4a7c15ULL;
	uint64_t z = *s;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* pct: the nearest-rank percentile p (0..100) of sorted xs[0..n). */
static int64_t pct(const int64_t *xs, size_t n, double p)
{
	long long i = (long long)ceil(p / 100 * (double)n) - 1;
	if (i < 0)
		i = 0;
	return xs[i];
}

static int cmp_int64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* What Go's closure captures: base by value; k, req, over, wg by reference. */
struct sleeper {
	long long base, k;
	const int64_t *req;
	int64_t *over;
	gort_waitgroup *wg;
};

static void sleeper(void *arg)
{
	const struct sleeper *s = arg;
	for (long long j = s->base; j < s->base + s->k; j++) {
		int64_t d = s->req[j];
		int64_t t0 = gort_nanotime();
		gort_sleep(d);
		s->over[j] = gort_nanotime() - t0 - d;
	}
	gort_waitgroup_done(s->wg); /* defer wg.Done() */
}

static int real_main(int argc, char **argv)
{
	long long g = 100000, k = 5, min_us = 1000, max_us = 50000;
	unsigned long long seed = 42;
	bench_parse_flags_u(argc, argv,
		(const struct bench_flag[]){
			{"g", &g, "goroutines"},
			{"k", &k, "sleeps per goroutine"},
			{"min", &min_us, "min sleep, µs"},
			{"max", &max_us, "max sleep, µs"},
			{NULL, NULL, NULL},
		},
		(const struct bench_uflag[]){
			{"seed", &seed, "splitmix64 seed"},
			{NULL, NULL, NULL},
		});
	/* The WaitGroup counter is 32 bits, as Go's; Go would panic past it. */
	if (g < 1 || g > INT_MAX)
		bench_fail("timers: -g must be between 1 and %d", INT_MAX);
	if (k < 1 || k > INT_MAX / g)
		bench_fail("timers: -k must be between 1 and %lld", (long long)INT_MAX / g);
	if (min_us < 0 || max_us < min_us || max_us > INT64_MAX / 1000 / k)
		bench_fail("timers: need 0 <= -min <= -max, and -max*k µs must fit in a Duration");

	size_t total = (size_t)(g * k);
	int64_t *req = malloc(total * sizeof *req);  /* requested sleep, ns */
	int64_t *over = malloc(total * sizeof *over); /* oversleep, ns */
	if (req == NULL || over == NULL)
		bench_fail("timers: out of memory for %zu sleeps", total);
	uint64_t rng = seed;
	int64_t ideal_ns = 0;
	for (long long i = 0; i < g; i++) {
		int64_t s = 0;
		for (long long j = 0; j < k; j++) {
			int64_t us = (int64_t)min_us + (int64_t)(splitmix64_next(&rng) % (uint64_t)(max_us - min_us + 1));
			req[i * k + j] = us * 1000;
			s += us * 1000;
		}
		if (s > ideal_ns)
			ideal_ns = s;
	}

	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	gort_waitgroup_add(&wg, (int)g);
	int64_t t0 = bench_now_ns();
	for (long long i = 0; i < g; i++)
		gort_go_with(sleeper, struct sleeper, .base = i * k, .k = k, .req = req, .over = over, .wg = &wg);
	gort_waitgroup_wait(&wg);
	int64_t el = bench_now_ns() - t0;

	double sum = 0;
	for (size_t i = 0; i < total; i++)
		sum += (double)over[i];
	qsort(over, total, sizeof *over, cmp_int64);
	report("timers", "oversleep_mean_us", sum / (double)total / 1e3,
	       {"g", (double)g}, {"k", (double)k},
	       {"oversleep_p50_us", (double)pct(over, total, 50) / 1e3},
	       {"oversleep_p99_us", (double)pct(over, total, 99) / 1e3},
	       {"oversleep_max_us", (double)over[total - 1] / 1e3},
	       {"wall_ms", (double)el / 1e6},
	       {"ideal_ms", (double)ideal_ns / 1e6});
	free(req);
	free(over);
	return 0;
}

int main(int argc, char **argv)
{
	gort_main(real_main, argc, argv);
}
