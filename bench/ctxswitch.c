/*
 * ctxswitch.c - the cost of one context switch on one M: a goroutine parks
 * (gopark), the scheduler takes the goroutine it had just readied from
 * runnext, and that goroutine resumes.  This uses the runtime's internal
 * gopark/goready (no public API parks and wakes without channels), so it
 * links against internal headers; GOMAXPROCS is forced to 1.
 *
 *   round:  two goroutines ready each other and park, N times each; one
 *           step = goready + gopark + the other's resume.
 *   ready:  one goroutine readies K parked goroutines in a row, timed alone.
 *   switch = step - ready: gopark to the other goroutine's resume.
 *
 * Prints one JSON line: value = ns per switch; extra = step and ready ns.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "runtime2.h"

enum { K = 200 }; /* parked goroutines readied in a row: fits a run queue */

static G *_Atomic players[2];
static long rounds = 10000000;
static atomic_int finished;
static G *_Atomic sleepers[K];
static atomic_int parked;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void player(void *arg)
{
	int me = (int)(intptr_t)arg;
	players[me] = gort__getg();
	if (me == 1) /* wait to be served */
		gort__gopark(NULL, NULL, waitReasonZero);
	for (long i = 0; i < rounds; i++) {
		gort__goready(players[1 - me]);
		if (me == 0 || i + 1 < rounds)
			gort__gopark(NULL, NULL, waitReasonZero);
	}
	atomic_fetch_add(&finished, 1);
}

static void sleeper(void *arg)
{
	sleepers[(intptr_t)arg] = gort__getg();
	atomic_fetch_add(&parked, 1);
	gort__gopark(NULL, NULL, waitReasonZero);
	atomic_fetch_add(&finished, 1);
}

/* ready_cost times K goreadys of parked goroutines; best of reps. */
static double ready_cost(int reps)
{
	double best = 1e9;
	for (int r = 0; r < reps; r++) {
		atomic_store(&parked, 0);
		atomic_store(&finished, 0);
		for (intptr_t i = 0; i < K; i++)
			gort_go(sleeper, (void *)i);
		while (atomic_load(&parked) < K) /* on one P: each ran, so it parked */
			gort_gosched();
		int64_t t0 = now_ns();
		for (int i = 0; i < K; i++)
			gort__goready(sleepers[i]);
		double ns = (double)(now_ns() - t0) / K;
		if (ns < best)
			best = ns;
		while (atomic_load(&finished) < K)
			gort_gosched();
	}
	return best;
}

static int bench(int argc, char **argv)
{
	if (argc > 2 && argv[1][0] == '-' && argv[1][1] == 'n')
		rounds = atol(argv[2]);
	gort_gomaxprocs(1);
	double ready = ready_cost(50);

	atomic_store(&finished, 0);
	gort_go(player, (void *)1);
	while (atomic_load(&players[1]) == NULL) /* on one P: it ran, so it parked */
		gort_gosched();
	int64_t t0 = now_ns();
	gort_go(player, (void *)0);
	while (atomic_load(&finished) < 2)
		gort_gosched();
	double step = (double)(now_ns() - t0) / (2.0 * rounds);
	printf("{\"bench\":\"ctxswitch\",\"impl\":\"gort\",\"procs\":1,\"metric\":\"ns_per_switch\","
	       "\"value\":%.2f,\"extra\":{\"ready_ns\":%.2f,\"step_ns\":%.2f}}\n",
	       step - ready, ready, step);
	return 0;
}

int main(int argc, char **argv)
{
	gort_main(bench, argc, argv);
}
