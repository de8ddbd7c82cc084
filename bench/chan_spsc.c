/*
 * chan_spsc.c - C twin of ../shared/anchors/go/chan_spsc: one producer
 * goroutine sends the int64 values 0..N-1 into one buffered channel of
 * capacity 1024; one consumer goroutine receives exactly N values and sums
 * them (checked against N(N-1)/2).  A warm-up pass with N/10 messages (fresh
 * channel) runs first.  Measured: from just before spawning producer and
 * consumer until both have finished (main waits on a WaitGroup).
 * N: -n, default 10,000,000.
 * Reported: ns per message = elapsed/N; extra: n, wall_ms.
 */
#include "report.h" /* first: it sets the feature macros */

enum { CAPACITY = 1024 };

/* What Go's closures capture: ch, n, sum and wg. */
struct side {
	gort_chan *ch;
	long long n;
	int64_t *sum; /* written by the consumer, read by main after wg.Wait */
	gort_waitgroup *wg;
};

static void producer(void *arg)
{
	const struct side *s = arg;
	for (int64_t i = 0; i < s->n; i++)
		gort_chan_send(s->ch, &i);
	gort_waitgroup_done(s->wg); /* defer wg.Done() */
}

static void consumer(void *arg)
{
	const struct side *c = arg;
	int64_t s = 0;
	for (long long i = 0; i < c->n; i++) {
		int64_t v;
		gort_chan_recv(c->ch, &v);
		s += v;
	}
	*c->sum = s;
	gort_waitgroup_done(c->wg);
}

/* pass runs one producer/consumer pair over n messages and returns the ns it took. */
static int64_t pass(long long n)
{
	gort_chan *ch = gort_chan_make(sizeof(int64_t), CAPACITY);
	int64_t sum = 0;
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	gort_waitgroup_add(&wg, 2);
	int64_t t0 = bench_now_ns();
	gort_go_with(producer, struct side, .ch = ch, .n = n, .sum = &sum, .wg = &wg);
	gort_go_with(consumer, struct side, .ch = ch, .n = n, .sum = &sum, .wg = &wg);
	gort_waitgroup_wait(&wg);
	int64_t el = bench_now_ns() - t0;
	gort_chan_free(ch);
	int64_t want = (int64_t)n * (int64_t)(n - 1) / 2;
	if (sum != want)
		bench_fail("chan_spsc: sum %lld, want %lld", (long long)sum, (long long)want);
	return el;
}

static int real_main(int argc, char **argv)
{
	return bench_passes(argc, argv, "chan_spsc", "ns_per_msg", 10000000,
	                    "messages", pass);
}

int main(int argc, char **argv)
{
	gort_main(real_main, argc, argv);
}
