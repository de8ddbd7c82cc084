/*
 * pingpong.c - C twin of ../shared/anchors/go/pingpong: two goroutines A and
 * B and two unbuffered channels ping, pong of int64 (Go's chan int).
 *     A: for i { ping <- i; <-pong }     B: for i { v := <-ping; pong <- v }
 * One iteration = one round trip = two unbuffered hand-offs (two block/wake
 * pairs).  W = 10,000 warm-up round trips, then N measured (-n, default
 * 1,000,000); A reads the clock around the N measured round trips.  main
 * only spawns A and B and waits for both on a WaitGroup.
 * Reported: ns per round trip = elapsed/N; extra: n, wall_ms.
 */
#include "report.h" /* first: it sets the feature macros */

enum { WARM = 10000 };

/* What Go's two closures capture: the channels, n, el and wg, by reference. */
struct players {
	gort_chan *ping, *pong;
	long long n;
	int64_t *el; /* A's measured time, read by main after wg.Wait */
	gort_waitgroup *wg;
};

static void player_a(void *arg)
{
	const struct players *p = arg;
	for (int64_t i = 0; i < WARM; i++) {
		gort_chan_send(p->ping, &i);
		gort_chan_recv(p->pong, NULL); /* <-pong: the value is dropped */
	}
	int64_t t0 = bench_now_ns();
	for (int64_t i = 0; i < p->n; i++) {
		gort_chan_send(p->ping, &i);
		gort_chan_recv(p->pong, NULL);
	}
	*p->el = bench_now_ns() - t0;
	gort_waitgroup_done(p->wg); /* defer wg.Done() */
}

static void player_b(void *arg)
{
	const struct players *p = arg;
	for (int64_t i = 0; i < WARM + p->n; i++) {
		int64_t v;
		gort_chan_recv(p->ping, &v);
		gort_chan_send(p->pong, &v);
	}
	gort_waitgroup_done(p->wg);
}

static int real_main(int argc, char **argv)
{
	long long n = 1000000;
	bench_parse_flags(argc, argv, (const struct bench_flag[]){
		{"n", &n, "measured round trips"},
		{NULL, NULL, NULL},
	});
	if (n < 1)
		bench_fail("pingpong: -n must be at least 1");

	gort_chan *ping = gort_chan_make(sizeof(int64_t), 0);
	gort_chan *pong = gort_chan_make(sizeof(int64_t), 0);
	int64_t el = 0;
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	gort_waitgroup_add(&wg, 2);
	gort_go_with(player_a, struct players, .ping = ping, .pong = pong, .n = n, .el = &el, .wg = &wg);
	gort_go_with(player_b, struct players, .ping = ping, .pong = pong, .n = n, .el = &el, .wg = &wg);
	gort_waitgroup_wait(&wg);
	gort_chan_free(ping);
	gort_chan_free(pong);

	report("pingpong", "ns_per_roundtrip", (double)el / (double)n,
	       {"n", (double)n}, {"wall_ms", (double)el / 1e6});
	return 0;
}

int main(int argc, char **argv)
{
	gort_main(real_main, argc, argv);
}
