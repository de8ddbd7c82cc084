/*
 * trace_gc.c - the collector in the execution tracer (src/trace_gc.c).
 *
 *   trace_gc FILE trace    a trace (gort_trace_start) of a run that
 *                          collects, by itself and by gort_gc
 *   trace_gc FILE flight   the same under the flight recorder, small
 *                          enough that generations are dropped before
 *                          the write (its collections are renumbered,
 *                          pairs cut by a generation closed).  4 MiB:
 *                          with generations of a few buffers per P
 *                          (1 MiB at 8 Ps, 256 KiB at 2) Go's parser
 *                          sometimes finds a goroutine ending on a P not
 *                          running it ("g 0 did GoEnd"), with or without
 *                          the GC events - the flight recorder's, not
 *                          found yet
 *
 * The run: a live set of 8 MiB held by a global array, four goroutines
 * allocating 16 MiB of garbage each (collections start as the heap
 * reaches its goal, and allocation sweeps), then gort_gc.  It prints the
 * "expect" lines trace_check.py checks (trace_workload.c lists them):
 * counts of GCStart, GCDone, GCSTWStart, HeapAlloc, HeapGoal,
 * GCSweepStart events; "expect gcheap N": the HeapAlloc recorded as the
 * last collection ended is N, the live heap gort_read_metrics reports
 * right after gort_gc; "expect heapmin N": the heap counter reached N;
 * "expect webslice NAME": go tool trace's timeline has an event NAME.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

enum { LIVE = 8192, LIVESIZE = 1024, WORKERS = 4, GARBAGE = 16 << 20, GSIZE = 256 };

void *live[LIVE]; /* not static: a write-only static array is optimized away */

static void garbage(void *arg)
{
	gort_waitgroup *wg = arg;
	for (long n = 0; n < GARBAGE; n += GSIZE) {
		void **p = gort_new(GSIZE);
		p[0] = p; /* a word worth scanning */
	}
	gort_waitgroup_done(wg);
}

static gort_chan *c;

static void pinger(void *arg)
{
	long v = 0;
	for (long i = 0; i < (long)(intptr_t)arg; i++)
		gort_chan_send(c, &v);
}

/* churn: n round trips: events enough to fill the recorder's buffers */
static void churn(long n)
{
	c = gort_chan_make(sizeof(long), 0);
	gort_go(pinger, (void *)(intptr_t)n);
	long v;
	for (long i = 0; i < n; i++)
		gort_chan_recv(c, &v);
	gort_chan_free(c);
}

/* collect: gort_gc, then the live heap as gort_read_metrics has it */
static uint64_t collect(void)
{
	gort_gc();
	gort_metrics m = {.size = sizeof m};
	gort_read_metrics(&m);
	return m.heap_live_bytes;
}

static uint64_t run(int rounds)
{
	for (int i = 0; i < LIVE; i++)
		live[i] = gort_new(LIVESIZE);
	for (int r = 0; r < rounds; r++) {
		static gort_waitgroup wg = GORT_WAITGROUP_INIT;
		gort_waitgroup_add(&wg, WORKERS);
		for (int i = 0; i < WORKERS; i++)
			gort_go(garbage, &wg);
		gort_waitgroup_wait(&wg);
		churn(2000);
	}
	return collect();
}

static void expects(uint64_t heap, int ngc, bool web)
{
	printf("expect count GCStart %d\n", ngc);
	printf("expect count GCDone %d\n", ngc);
	printf("expect count GCSTWStart %d\n", 2 * ngc);
	printf("expect count GCSTWDone %d\n", 2 * ngc);
	printf("expect count HeapGoal %d\n", ngc);
	printf("expect count HeapAlloc %d\n", web ? 10 : 1);
	printf("expect count GCSweepStart 1\n");
	printf("expect count GCSweepDone 1\n");
	printf("expect gcheap %llu\n", (unsigned long long)heap);
	printf("expect heapmin %d\n", LIVE * LIVESIZE);
	/* go tool trace's timeline: the GC and STW rows, SWEEP, the Heap counter
	 * (not of a flight recording: its GoCreates have no stacks, which the
	 * web view's splitting refuses) */
	if (web)
		printf("expect webslice GC\nexpect webslice STW (sweep termination)\n");
	if (web)
		printf("expect webslice STW (mark termination)\nexpect webslice SWEEP\nexpect webslice Heap\n");
}

static int test_main(int argc, char **argv)
{
	CHECK(argc >= 3, "usage: trace_gc FILE trace|flight");
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0, "open %s", argv[1]);
	if (strcmp(argv[2], "trace") == 0) {
		CHECK(gort_trace_start(fd) == 0, "trace start");
		gort_mem_stats ms0;
		gort_read_mem_stats(&ms0);
		uint64_t heap = run(2);
		gort_mem_stats ms;
		gort_read_mem_stats(&ms);
		CHECK(gort_trace_stop() == 0, "trace stop");
		CHECK(ms.num_gc - ms0.num_gc >= 3, "only %u collections", ms.num_gc - ms0.num_gc);
		expects(heap, (int)(ms.num_gc - ms0.num_gc), true);
	} else if (strcmp(argv[2], "flight") == 0) {
		gort_trace_flight_config cfg = {.max_bytes = 4 << 20};
		CHECK(gort_trace_flight_start(&cfg) == 0, "flight start");
		run(2);
		/* events until the oldest generations are dropped (a slow build
		 * makes fewer per collection), then a collection in the window */
		gort_trace_flight_info st;
		for (int i = 0; i < 1000; i++) {
			gort_trace_flight_stats(&st);
			if (st.dropped > 0)
				break;
			churn(5000);
		}
		CHECK(st.dropped > 0, "no generation dropped: the test needs more events");
		uint64_t heap = collect();
		int64_t n = gort_trace_flight_write(fd);
		CHECK(n > 0, "flight write: %lld", (long long)n);
		CHECK(gort_trace_flight_stop() == 0, "flight stop");
		expects(heap, 1, false); /* the window holds gort_gc's at least */
	} else {
		CHECK(false, "unknown mode %s", argv[2]);
	}
	close(fd);
	return test_pass("trace_gc");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
