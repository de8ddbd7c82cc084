/*
 * defer.c - what defer and recover cost (bench/CMakeLists.txt; no Go twin).
 *
 *   plain:   ns per call of a noinline function that calls a tiny function
 *   defer:   the same function with GORT_FRAME and one gort_defer of it
 *            (the call runs at return, as Go's `defer f()`)
 *   recover: ns per call of a function that defers a recovering call and
 *            panics: gort_panic, the deferred call, recovery, return
 *
 * Prints one JSON line: value = defer - plain, ns (the cost of one
 * deferred call on a normal return); extra = each time.  Measured, not
 * asserted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <gort.h>

static long counter;
static long n = 20000000;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static __attribute__((noinline)) void bump(void *arg)
{
	counter += (long)arg;
}

static __attribute__((noinline)) int plain(void)
{
	bump((void *)1);
	return 0;
}

static __attribute__((noinline)) int deferred(void)
{
	GORT_FRAME(return -1);
	gort_defer(bump, (void *)1);
	return 0;
}

static void catch(void *arg)
{
	if (gort_recover() != NULL)
		counter++;
}

static __attribute__((noinline)) int panics(void)
{
	GORT_FRAME(return 1);
	gort_defer(catch, NULL);
	gort_panic("bench");
	return 0;
}

static double best_of(int (*f)(void), long iters, int reps)
{
	double best = 1e18;
	for (int r = 0; r < reps; r++) {
		int64_t t0 = now_ns();
		for (long i = 0; i < iters; i++)
			f();
		double ns = (double)(now_ns() - t0) / (double)iters;
		if (ns < best)
			best = ns;
	}
	return best;
}

static int bench(int argc, char **argv)
{
	if (argc > 2 && argv[1][0] == '-' && argv[1][1] == 'n')
		n = atol(argv[2]);
	double p = best_of(plain, n, 5);
	double d = best_of(deferred, n, 5);
	double r = best_of(panics, n / 20, 5);
	if (counter == 0)
		return 1;
	printf("{\"bench\":\"defer\",\"impl\":\"gort\",\"procs\":1,\"metric\":\"ns_per_defer\","
	       "\"value\":%.2f,\"extra\":{\"defer_ns\":%.2f,\"plain_ns\":%.2f,\"recover_ns\":%.2f}}\n",
	       d - p, d, p, r);
	return 0;
}

int main(int argc, char **argv)
{
	gort_main(bench, argc, argv);
}
