/*
 * top_prog - a program in known states for gort-top's test
 * (tests/top_check.py):
 *
 *     goroutines  function      state               made by
 *     50          top_recv      chan receive        start_receivers
 *     7           top_sleep     sleep (a day)       start_sleepers
 *     3           top_syscall   syscall: read(2) of a pipe nobody writes
 *                                                   start_syscallers
 *     2           top_lock      sync.Mutex.Lock     start_lockers
 *     1           top_tick      sleeps 10 ms, for ever: context switches
 *     1           top_systick   usleep(10 ms) in a system call, for ever:
 *                                                   system calls
 *     1 (main)    top_wait      chan receive
 *
 *     top_prog SNAPSHOT
 *
 * Once the first four groups are blocked (its own dump says so), main
 * writes its gort_read_metrics to SNAPSHOT ("name value" lines), prints
 * "READY <pid>" and blocks for ever.  No goroutine is created after the
 * snapshot; the two tickers go on.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static gort_chan *ch, *never;
static gort_mutex mu = GORT_MUTEX_INIT;
static int syspipe[2];

__attribute__((noinline)) static void top_recv(void *arg) { gort_chan_recv(ch, NULL); }
__attribute__((noinline)) static void top_sleep(void *arg) { gort_sleep(24 * 3600 * GORT_SECOND); }
__attribute__((noinline)) static void top_lock(void *arg) { gort_mutex_lock(&mu); }
__attribute__((noinline)) static void top_syscall(void *arg)
{
	char c;
	GORT_SYSCALL(read(syspipe[0], &c, 1));
}
__attribute__((noinline)) static void top_tick(void *arg)
{
	for (;;)
		gort_sleep(10 * GORT_MILLISECOND);
}
__attribute__((noinline)) static void top_systick(void *arg)
{
	for (;;)
		GORT_SYSCALL(usleep(10000));
}

__attribute__((noinline)) static void start_receivers(void)
{
	for (int i = 0; i < 50; i++)
		gort_go(top_recv, NULL);
}
__attribute__((noinline)) static void start_sleepers(void)
{
	for (int i = 0; i < 7; i++)
		gort_go(top_sleep, NULL);
}
__attribute__((noinline)) static void start_syscallers(void)
{
	for (int i = 0; i < 3; i++)
		gort_go(top_syscall, NULL);
}
__attribute__((noinline)) static void start_lockers(void)
{
	for (int i = 0; i < 2; i++)
		gort_go(top_lock, NULL);
}

/* settled: the dump shows the four fixed groups blocked.  The tickers
 * may add one sleep and one syscall; asking for one more of each than the
 * fixed groups have would count a ticker for a fixed goroutine, so count
 * the fixed groups' own functions instead. */
static bool settled(void)
{
	static char buf[1 << 18];
	int n = gort_stack(buf, sizeof buf - 1, true);
	buf[n < (int)sizeof buf - 1 ? n : (int)sizeof buf - 1] = '\0';
	int recv = 0, sleep = 0, sys = 0, lock = 0;
	/* each goroutine's block: its header, its frames, a blank line */
	for (char *g = buf; *g != '\0';) {
		char *end = strstr(g, "\n\n");
		size_t len = end != NULL ? (size_t)(end - g) : strlen(g);
		char save = g[len];
		g[len] = '\0';
		recv += strstr(g, "[chan receive") != NULL && strstr(g, "top_recv") != NULL;
		sleep += strstr(g, "[sleep") != NULL && strstr(g, "top_sleep") != NULL;
		sys += strstr(g, "[syscall") != NULL && strstr(g, "top_syscall") != NULL;
		lock += strstr(g, "[sync.Mutex.Lock") != NULL && strstr(g, "top_lock") != NULL;
		g[len] = save;
		g += len + (end != NULL ? 2 : 0);
	}
	return recv == 50 && sleep == 7 && sys == 3 && lock == 2;
}

__attribute__((noinline)) static void top_wait(void) { gort_chan_recv(never, NULL); }

/* a live heap for gort-top's heap line: 256 objects of 8 KiB, collected twice */
void *live[256]; /* not static: a write-only static array may be optimized away */

static int main_fn(int argc, char **argv)
{
	CHECK(argc == 2, "usage: top_prog SNAPSHOT");
	for (int i = 0; i < 256; i++)
		live[i] = gort_new_noscan(8192);
	gort_gc();
	gort_gc();
	ch = gort_chan_make(sizeof(int), 0);
	never = gort_chan_make(sizeof(int), 0);
	CHECK(pipe(syspipe) == 0, "pipe");
	gort_mutex_lock(&mu);
	start_receivers();
	start_sleepers();
	start_syscallers();
	start_lockers();
	gort_go(top_tick, NULL);
	gort_go(top_systick, NULL);
	while (!settled())
		gort_sleep(GORT_MILLISECOND);

	gort_metrics m = {.size = sizeof m};
	CHECK(gort_read_metrics(&m) == 0, "gort_read_metrics");
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
	FILE *f = fopen(tmp, "w");
	CHECK(f != NULL, "cannot write %s", tmp);
	uint64_t lat = 0;
	for (int i = 0; i < GORT_METRICS_SCHEDLAT_BUCKETS; i++)
		lat += m.sched_latency[i];
	fprintf(f,
	        "goroutines %lld\nrunnable %lld\nrunning %lld\nsyscall %lld\nwaiting %lld\n"
	        "threads %lld\nprocs %lld\ncontext_switches %llu\nspawns %llu\nsteals %llu\n"
	        "sched_latency_samples %llu\ngc_cycles %llu\n",
	        (long long)m.goroutines, (long long)m.goroutines_runnable, (long long)m.goroutines_running,
	        (long long)m.goroutines_syscall, (long long)m.goroutines_waiting, (long long)m.threads,
	        (long long)m.procs, (unsigned long long)m.context_switches, (unsigned long long)m.spawns,
	        (unsigned long long)m.steals, (unsigned long long)lat, (unsigned long long)m.gc_cycles);
	CHECK(fclose(f) == 0 && rename(tmp, argv[1]) == 0, "cannot write %s", argv[1]);
	printf("READY %d\n", (int)getpid());
	fflush(stdout);
	top_wait();
	return 0;
}

int main(int argc, char **argv)
{
	gort_main(main_fn, argc, argv);
}
