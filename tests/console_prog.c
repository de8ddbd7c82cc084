/*
 * console_prog - a program in known states, serving the debug endpoints,
 * for the console's test (tests/console_check.py):
 *
 *     goroutines  function         state                      made by
 *     40          console_recv     chan receive               start_receivers
 *     6           console_sleep    sleep (a day)              start_sleepers
 *     2           console_syscall  syscall: read(2) of a pipe start_syscallers
 *                                  nobody writes
 *     1           console_tick     sleeps 5 ms, for ever:     start_tickers
 *                                  context switches
 *     1           console_systick  usleep(5 ms) in a system   start_tickers
 *                                  call, for ever: syscalls
 *     1           console_spawner  every 20 ms a goroutine    start_tickers
 *                                  that spins 1 ms and ends:
 *                                  spawns, a run queue
 *     1 (main)    reads stdin in a system call until it closes
 *     1           the server's accept loop (gort_debug_serve), and one
 *                 more for each connection being served
 *
 *     console_prog ADDR SNAPSHOT [demo]
 *
 * With demo, after READY, a wave of 1500 more goroutines every 8 s: each
 * sleeps 0.5 to 6 s, then queues for one mutex (docs/console.png shows it).
 *
 * Once the fixed groups are blocked (its own dump says so), main serves
 * the endpoints on ADDR, writes its gort_read_metrics to SNAPSHOT ("name
 * value" lines), prints "READY" and waits for stdin to close; then exits 0.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static gort_chan *ch;
static int syspipe[2];

__attribute__((noinline)) static void console_recv(void *arg) { gort_chan_recv(ch, NULL); }
__attribute__((noinline)) static void console_sleep(void *arg) { gort_sleep(24 * 3600 * GORT_SECOND); }
__attribute__((noinline)) static void console_syscall(void *arg)
{
	char c;
	GORT_SYSCALL(read(syspipe[0], &c, 1));
}
__attribute__((noinline)) static void console_tick(void *arg)
{
	for (;;)
		gort_sleep(5 * GORT_MILLISECOND);
}
__attribute__((noinline)) static void console_systick(void *arg)
{
	for (;;)
		GORT_SYSCALL(usleep(5000));
}
__attribute__((noinline)) static void console_spin(void *arg)
{
	int64_t end = gort_nanotime() + GORT_MILLISECOND;
	while (gort_nanotime() < end)
		;
}
__attribute__((noinline)) static void console_spawner(void *arg)
{
	for (;;) {
		gort_go(console_spin, NULL);
		gort_sleep(20 * GORT_MILLISECOND);
	}
}

__attribute__((noinline)) static void start_receivers(void)
{
	for (int i = 0; i < 40; i++)
		gort_go(console_recv, NULL);
}
__attribute__((noinline)) static void start_sleepers(void)
{
	for (int i = 0; i < 6; i++)
		gort_go(console_sleep, NULL);
}
__attribute__((noinline)) static void start_syscallers(void)
{
	for (int i = 0; i < 2; i++)
		gort_go(console_syscall, NULL);
}
__attribute__((noinline)) static void start_tickers(void)
{
	gort_go(console_tick, NULL);
	gort_go(console_systick, NULL);
	gort_go(console_spawner, NULL);
}

/* settled: the dump shows the fixed groups blocked (each goroutine's
 * block: its header, its frames, a blank line). */
static bool settled(void)
{
	static char buf[1 << 18];
	int n = gort_stack(buf, sizeof buf - 1, true);
	buf[n < (int)sizeof buf - 1 ? n : (int)sizeof buf - 1] = '\0';
	int recv = 0, sleep = 0, sys = 0;
	for (char *g = buf; *g != '\0';) {
		char *end = strstr(g, "\n\n");
		size_t len = end != NULL ? (size_t)(end - g) : strlen(g);
		char save = g[len];
		g[len] = '\0';
		recv += strstr(g, "[chan receive") != NULL && strstr(g, "console_recv") != NULL;
		sleep += strstr(g, "[sleep") != NULL && strstr(g, "console_sleep") != NULL;
		sys += strstr(g, "[syscall") != NULL && strstr(g, "console_syscall") != NULL;
		g[len] = save;
		g += len + (end != NULL ? 2 : 0);
	}
	return recv == 40 && sleep == 6 && sys == 2;
}

/* ---- demo: waves of work, for docs/console.png ------------------------------ */

static gort_mutex wavemu = GORT_MUTEX_INIT;

/* console_worker: sleeps a while (0.5 to 6 s, by its number), then takes a
 * lock everyone wants for 50 us of work, and ends. */
__attribute__((noinline)) static void console_worker(void *arg)
{
	uint64_t x = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ull;
	x ^= x >> 29;
	gort_sleep((int64_t)(500 + x % 5500) * GORT_MILLISECOND);
	gort_mutex_lock(&wavemu);
	int64_t end = gort_nanotime() + 50 * GORT_MICROSECOND;
	while (gort_nanotime() < end)
		;
	gort_mutex_unlock(&wavemu);
}

__attribute__((noinline)) static void start_wave(int n, int base)
{
	for (int i = 0; i < n; i++)
		gort_go(console_worker, (void *)(uintptr_t)(base + i));
}

/* console_waves: a wave of 1500 workers every 8 s. */
__attribute__((noinline)) static void console_waves(void *arg)
{
	for (int w = 0;; w++) {
		start_wave(1500, w * 1500);
		gort_sleep(8 * GORT_SECOND);
	}
}

/* a live heap the console must show: LIVE objects of LIVESIZE bytes */
enum { LIVE = 512, LIVESIZE = 8192 };
void *live[LIVE]; /* not static: a write-only static array may be optimized away */

static int main_fn(int argc, char **argv)
{
	CHECK(argc == 3 || (argc == 4 && strcmp(argv[3], "demo") == 0),
	      "usage: console_prog ADDR SNAPSHOT [demo]");
	ch = gort_chan_make(sizeof(int), 0);
	CHECK(pipe(syspipe) == 0, "pipe");
	start_receivers();
	start_sleepers();
	start_syscallers();
	start_tickers();
	while (!settled())
		gort_sleep(GORT_MILLISECOND);
	for (int i = 0; i < LIVE; i++)
		live[i] = gort_new_noscan(LIVESIZE);
	gort_gc();
	int err = gort_debug_serve(argv[1]);
	CHECK(err == 0, "gort_debug_serve(%s): %s", argv[1], gort_strerror(err));

	gort_metrics m = {.size = sizeof m};
	CHECK(gort_read_metrics(&m) == 0, "gort_read_metrics");
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", argv[2]);
	FILE *f = fopen(tmp, "w");
	CHECK(f != NULL, "cannot write %s", tmp);
	fprintf(f, "procs %lld\ncontext_switches %llu\nspawns %llu\nsched_latency_sample_period %lld\n",
	        (long long)m.procs, (unsigned long long)m.context_switches,
	        (unsigned long long)m.spawns, (long long)m.sched_latency_sample_period);
	for (int i = 0; i < GORT_METRICS_SCHEDLAT_BUCKETS; i++)
		fprintf(f, "sched_latency_%d %llu\n", i, (unsigned long long)m.sched_latency[i]);
	fprintf(f, "gc_cycles %llu\ngc_cycles_forced %llu\nheap_live_min %d\ngc_heap_allocs_objects %llu\n",
	        (unsigned long long)m.gc_cycles, (unsigned long long)m.gc_cycles_forced, LIVE * LIVESIZE,
	        (unsigned long long)m.gc_heap_allocs_objects);
	CHECK(fclose(f) == 0 && rename(tmp, argv[2]) == 0, "cannot write %s", argv[2]);
	if (argc == 4)
		gort_go(console_waves, NULL);
	printf("READY\n");
	fflush(stdout);
	char c;
	while (GORT_SYSCALL(read(0, &c, 1)) > 0)
		;
	return 0;
}

int main(int argc, char **argv)
{
	gort_main(main_fn, argc, argv);
}
