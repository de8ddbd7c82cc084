/*
 * chan_mpmc.c - C twin of ../shared/anchors/go/chan_mpmc: one buffered
 * channel of int64, capacity 1024, shared by 4 producer and 4 consumer
 * goroutines.  Producer p sends its own contiguous share of the values
 * 0..N-1 (N/4 each); consumer c receives exactly its share, N/4 values (no
 * close), sums them and adds the sum atomically to the total, which is
 * checked against N(N-1)/2.  A warm-up pass with N/10 messages (fresh
 * channel) runs first.  Measured: from just before spawning the 8 goroutines
 * until all have finished (main waits on a WaitGroup).
 * N: -n, default 10,000,000.
 * Reported: ns per message = elapsed/N; extra: n, wall_ms.
 */
#include "report.h" /* first: it sets the feature macros */

#include <stdatomic.h>

enum { CAPACITY = 1024, PRODUCERS = 4, CONSUMERS = 4 };

/* A producer's closure: ch, its values [lo, hi), wg. */
struct producer {
	gort_chan *ch;
	int64_t lo, hi;
	gort_waitgroup *wg;
};

/* A consumer's closure: ch, how many values it takes, the total, wg. */
struct consumer {
	gort_chan *ch;
	long long cnt;
	_Atomic int64_t *sum;
	gort_waitgroup *wg;
};

static void produce(void *arg)
{
	const struct producer *p = arg;
	for (int64_t v = p->lo; v < p->hi; v++)
		gort_chan_send(p->ch, &v);
	gort_waitgroup_done(p->wg); /* defer wg.Done() */
}

static void consume(void *arg)
{
	const struct consumer *c = arg;
	int64_t s = 0;
	for (long long i = 0; i < c->cnt; i++) {
		int64_t v;
		gort_chan_recv(c->ch, &v);
		s += v;
	}
	atomic_fetch_add(c->sum, s); /* atomic.AddInt64(&sum, s) */
	gort_waitgroup_done(c->wg);
}

/* pass runs the 4+4 goroutines over n messages and returns the ns it took. */
static int64_t pass(long long n)
{
	gort_chan *ch = gort_chan_make(sizeof(int64_t), CAPACITY);
	_Atomic int64_t sum = 0;
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	gort_waitgroup_add(&wg, PRODUCERS + CONSUMERS);
	int64_t t0 = bench_now_ns();
	long long start = 0;
	for (int p = 0; p < PRODUCERS; p++) {
		long long cnt = bench_share(p, n, PRODUCERS);
		gort_go_with(produce, struct producer, .ch = ch, .lo = start, .hi = start + cnt, .wg = &wg);
		start += cnt;
	}
	for (int c = 0; c < CONSUMERS; c++)
		gort_go_with(consume, struct consumer, .ch = ch, .cnt = bench_share(c, n, CONSUMERS),
		             .sum = &sum, .wg = &wg);
	gort_waitgroup_wait(&wg);
	int64_t el = bench_now_ns() - t0;
	gort_chan_free(ch);
	int64_t got = atomic_load(&sum), want = (int64_t)n * (int64_t)(n - 1) / 2;
	if (got != want)
		bench_fail("chan_mpmc: sum %lld, want %lld", (long long)got, (long long)want);
	return el;
}

static int real_main(int argc, char **argv)
{
	return bench_passes(argc, argv, "chan_mpmc", "ns_per_msg", 10000000,
	                    "messages (total over all producers)", pass);
}

int main(int argc, char **argv)
{
	gort_main(real_main, argc, argv);
}
