/*
 * metrics - gort_read_metrics against a known program state: 10 goroutines
 * on a channel, 5 asleep, 3 on a mutex main holds, main running; the
 * counters move as goroutines are spawned and switched; the latency
 * histogram fills after a ping-pong; the versioning rule (size set by the
 * caller: too small fails, bigger is zeroed past the library's struct).
 * Prints what a call costs with 10,000 goroutines (a measurement, not a
 * check).
 */
#include <string.h>

#include "harness.h"

static gort_chan *never;
static gort_mutex mu = GORT_MUTEX_INIT;

static void recv_forever(void *arg) { gort_chan_recv(never, NULL); }
static void sleep_forever(void *arg) { gort_sleep(3600 * GORT_SECOND); }
static void lock_forever(void *arg) { gort_mutex_lock(&mu); }

static void pong(void *arg)
{
	gort_chan **c = arg;
	int v;
	while (gort_chan_recv(c[0], &v) && v >= 0)
		gort_chan_send(c[1], &v);
}

static gort_metrics read_now(void)
{
	gort_metrics m;
	memset(&m, 0xaa, sizeof m);
	m.size = sizeof m;
	CHECK(gort_read_metrics(&m) == 0, "read");
	CHECK(m.version == GORT_METRICS_VERSION && m.size == sizeof m, "version %u size %u", m.version,
	      m.size);
	return m;
}

static int main_fn(int argc, char **argv)
{
	int procs = gort_gomaxprocs(0);
	gort_metrics m0 = read_now();
	CHECK(m0.procs == procs, "procs %lld", (long long)m0.procs);
	CHECK(m0.goroutines == 1 && m0.goroutines_running == 1, "goroutines %lld running %lld",
	      (long long)m0.goroutines, (long long)m0.goroutines_running);
	CHECK(m0.threads >= 1 && m0.threads_idle < m0.threads, "threads %lld idle %lld",
	      (long long)m0.threads, (long long)m0.threads_idle);
	CHECK(m0.spawns >= 1 && m0.context_switches >= 1, "spawns %llu switches %llu",
	      (unsigned long long)m0.spawns, (unsigned long long)m0.context_switches);
	CHECK(m0.sched_latency_sample_period > 0, "sample period");

	never = gort_chan_make(sizeof(int), 0);
	gort_mutex_lock(&mu);
	for (int i = 0; i < 10; i++)
		gort_go(recv_forever, NULL);
	for (int i = 0; i < 5; i++)
		gort_go(sleep_forever, NULL);
	for (int i = 0; i < 3; i++)
		gort_go(lock_forever, NULL);
	gort_metrics m;
	for (int i = 0;; i++) {
		CHECK(i < 10000, "goroutines never parked");
		m = read_now();
		if (m.goroutines_waiting == 18)
			break;
		gort_sleep(GORT_MILLISECOND);
	}
	CHECK(m.goroutines == 19 && m.goroutines_running == 1 && m.goroutines_runnable == 0 &&
	          m.goroutines_syscall == 0,
	      "goroutines %lld running %lld runnable %lld syscall %lld", (long long)m.goroutines,
	      (long long)m.goroutines_running, (long long)m.goroutines_runnable,
	      (long long)m.goroutines_syscall);
	CHECK(m.goroutines == gort_numgoroutine(), "numgoroutine %d", gort_numgoroutine());
	CHECK(m.spawns - m0.spawns == 18, "spawns %llu", (unsigned long long)(m.spawns - m0.spawns));
	CHECK(m.context_switches - m0.context_switches >= 18, "switches");
	CHECK(m.runqueue_global == 0 && m.runqueue_local == 0, "queues %lld %lld",
	      (long long)m.runqueue_global, (long long)m.runqueue_local);
	CHECK(m.uptime_ns > m0.uptime_ns, "uptime");

	/* hand-offs: some of them timed */
	static gort_chan *c[2]; /* globals: reachable for LeakSanitizer at exit */
	c[0] = gort_chan_make(sizeof(int), 0);
	c[1] = gort_chan_make(sizeof(int), 0);
	gort_go(pong, c);
	for (int i = 0; i < 20000; i++) {
		gort_chan_send(c[0], &i);
		gort_chan_recv(c[1], NULL);
	}
	int stop = -1;
	gort_chan_send(c[0], &stop);
	gort_metrics m2 = read_now();
	uint64_t samples = 0, before = 0;
	for (int i = 0; i < GORT_METRICS_SCHEDLAT_BUCKETS; i++) {
		samples += m2.sched_latency[i];
		before += m.sched_latency[i];
	}
	CHECK(samples - before >= 40000 / m2.sched_latency_sample_period / 2,
	      "%llu latency samples for 40000 readies", (unsigned long long)(samples - before));
	CHECK(m2.context_switches - m.context_switches >= 40000, "switches %llu",
	      (unsigned long long)(m2.context_switches - m.context_switches));
	CHECK(gort_metrics_sched_latency_ns(0) == 0 && gort_metrics_sched_latency_ns(1) == 256 &&
	          gort_metrics_sched_latency_ns(23) == (int64_t)1 << 30,
	      "bucket bounds");

	/* versioning */
	gort_metrics small = {.size = 8};
	CHECK(gort_read_metrics(&small) == -1, "a struct smaller than version 1 must fail");
	struct {
		gort_metrics m;
		unsigned char future[64];
	} big;
	memset(&big, 0xff, sizeof big);
	big.m.size = sizeof big;
	CHECK(gort_read_metrics(&big.m) == 0 && big.m.version == GORT_METRICS_VERSION, "bigger struct");
	CHECK(big.m.size == sizeof big && big.m.goroutines >= 19, /* pong may not be gone yet */ "bigger struct's fields");
	for (size_t i = 0; i < sizeof big.future; i++)
		CHECK(big.future[i] == 0, "field past the library's struct not zeroed");

	/* cost, with 10,000 goroutines */
	for (int i = 0; i < 10000 - 19; i++)
		gort_go(recv_forever, NULL);
	int64_t t0 = gort_nanotime();
	enum { CALLS = 200 };
	for (int i = 0; i < CALLS; i++)
		read_now();
	int64_t per = (gort_nanotime() - t0) / CALLS;
	printf("metrics: %lld ns per gort_read_metrics with %d goroutines\n", (long long)per,
	       gort_numgoroutine());
	gort_mutex_unlock(&mu);
	return test_pass("metrics");
}

int main(int argc, char **argv)
{
	gort_main(main_fn, argc, argv);
}
