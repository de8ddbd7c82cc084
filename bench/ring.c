/*
 * ring.c - C twin of ../shared/anchors/go/ring (Benchmarks Game
 * thread-ring): 503 goroutines with ids 1..503; goroutine i receives from
 * unbuffered channel c[i-1] and sends to c[i mod 503] (channels of int64,
 * Go's chan int).  Loop: t := <-in; if t == 0 { done <- id } else
 * { out <- t-1 }.  main injects a token with value T into c[0] and waits on
 * done; a token T therefore makes exactly T hops (goroutine-to-goroutine
 * hand-offs) and ends at id (T mod 503)+1, which is checked.  Warm-up token
 * T = 10,060 first, then T = N (-n, default 10,000,000), measured from the
 * injection until done is received.
 * Reported: ns per hop = elapsed/N; extra: n, wall_ms.
 *
 * As in Go, the 503 goroutines never end: main returns with all of them
 * parked on c[], and the process exits.  So the channels are not freed -
 * gort_chan_free of a channel goroutines are blocked on is a fatal error,
 * and exiting releases them anyway.
 */
#include "report.h" /* first: it sets the feature macros */

enum { RING_SIZE = 503 };

static gort_chan *c[RING_SIZE];
static gort_chan *done;

/* One goroutine's closure: its id and its two neighbours' channels. */
struct link {
	int64_t id;
	gort_chan *in, *out;
};

static void hop(void *arg)
{
	const struct link *l = arg;
	for (;;) {
		int64_t t;
		gort_chan_recv(l->in, &t);
		if (t == 0) {
			gort_chan_send(done, &l->id);
			continue;
		}
		t--;
		gort_chan_send(l->out, &t);
	}
}

/* run sends a token of value t around the ring and returns the ns until done. */
static int64_t run(int64_t t)
{
	int64_t t0 = bench_now_ns();
	gort_chan_send(c[0], &t);
	int64_t id;
	gort_chan_recv(done, &id);
	int64_t el = bench_now_ns() - t0;
	if (id != t % RING_SIZE + 1)
		bench_fail("ring: token ended at %lld, want %lld", (long long)id, (long long)(t % RING_SIZE + 1));
	return el;
}

static int real_main(int argc, char **argv)
{
	long long n = 10000000;
	bench_parse_flags(argc, argv, (const struct bench_flag[]){
		{"n", &n, "hops"},
		{NULL, NULL, NULL},
	});
	if (n < 1)
		bench_fail("ring: -n must be at least 1");

	for (int i = 0; i < RING_SIZE; i++)
		c[i] = gort_chan_make(sizeof(int64_t), 0);
	done = gort_chan_make(sizeof(int64_t), 0);
	for (int i = 0; i < RING_SIZE; i++)
		gort_go_with(hop, struct link, .id = i + 1, .in = c[i], .out = c[(i + 1) % RING_SIZE]);

	run(RING_SIZE * 20);
	int64_t el = run(n);
	report("ring", "ns_per_hop", (double)el / (double)n,
	       {"n", (double)n}, {"wall_ms", (double)el / 1e6});
	return 0;
}

int main(int argc, char **argv)
{
	gort_main(real_main, argc, argv);
}
