/*
 * syscall_block.c - how long one goroutine in a blocking system call holds
 * up the others, on GOMAXPROCS=1 (issue 4: under 1 ms for a 1 s call).
 *
 * Goroutine A makes a wrapped blocking call (GORT_SYSCALL(nanosleep)) for
 * -d ms (default 1000).  Goroutine B meanwhile loops on gort_gosched.
 * While A's P is still bound to A's blocked thread, B cannot run: the time
 * from A entering the call to B's next iteration is how long sysmon took
 * to hand the P on (the delay).  Also recorded: the longest gap between
 * two of B's iterations over the whole call - on a shared machine that
 * one is mostly the OS descheduling B's thread, not gort.  The run repeats
 * -n times (default 5).
 *
 * Prints one JSON line: value = the worst delay over all runs (µs); extra =
 * the median delay, the worst gap, B's iteration count.  No Go twin: Go's
 * figure comes from the same mechanism (sysmon's 20 µs tick).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gort.h>

static long dur_ms = 1000;
static atomic_bool done;
static _Atomic int64_t entered; /* when A entered its call */
static gort_waitgroup wg;

static void blocker(void *arg)
{
	struct timespec ts = {dur_ms / 1000, (dur_ms % 1000) * 1000000};
	atomic_store(&entered, gort_nanotime());
	GORT_SYSCALL(nanosleep(&ts, NULL));
	atomic_store(&done, true);
	gort_waitgroup_done(&wg);
}

struct spin_result {
	int64_t delay;  /* A entered its call -> B's next iteration */
	int64_t maxgap; /* the longest gap between two iterations */
	long iters;
};

static void spinner(void *arg)
{
	struct spin_result *r = arg;
	int64_t last = gort_nanotime();
	while (!atomic_load(&done)) {
		gort_gosched();
		int64_t now = gort_nanotime();
		if (now - last > r->maxgap)
			r->maxgap = now - last;
		int64_t e = atomic_load(&entered);
		if (r->delay == 0 && e != 0 && now > e)
			r->delay = now - e;
		last = now;
		r->iters++;
	}
	gort_waitgroup_done(&wg);
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int realmain(int argc, char **argv)
{
	int runs = 5;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "-d") == 0)
			dur_ms = atol(argv[i + 1]);
		else if (strcmp(argv[i], "-n") == 0)
			runs = atoi(argv[i + 1]);
	}
	if (runs < 1 || runs > 100 || dur_ms < 1) {
		fprintf(stderr, "usage: syscall_block [-d ms] [-n runs]\n");
		return 2;
	}
	gort_gomaxprocs(1);
	int64_t delays[100], worst = 0, maxgap = 0;
	long iters = 0;
	for (int r = 0; r < runs; r++) {
		struct spin_result res = {0, 0, 0};
		atomic_store(&done, false);
		atomic_store(&entered, 0);
		gort_waitgroup_add(&wg, 2);
		gort_go(spinner, &res);
		gort_go(blocker, NULL);
		gort_waitgroup_wait(&wg);
		delays[r] = res.delay;
		if (res.delay > worst)
			worst = res.delay;
		if (res.maxgap > maxgap)
			maxgap = res.maxgap;
		iters += res.iters;
	}
	qsort(delays, (size_t)runs, sizeof delays[0], cmp64);
	printf("{\"bench\":\"syscall_block\",\"impl\":\"gort\",\"procs\":1,\"metric\":\"max_delay_us\","
	       "\"value\":%.1f,\"extra\":{\"median_delay_us\":%.1f,\"max_gap_us\":%.1f,"
	       "\"call_ms\":%ld,\"runs\":%d,\"spinner_iters\":%ld}}\n",
	       worst / 1e3, delays[runs / 2] / 1e3, maxgap / 1e3, dur_ms, runs, iters);
	return 0;
}

int main(int argc, char **argv)
{
	gort_main(realmain, argc, argv);
}
