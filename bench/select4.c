/*
 * select4.c - C twin of ../shared/anchors/go/select4: 4 buffered channels of
 * int64, capacity 64, each fed by its own producer goroutine (producer i
 * sends its contiguous share, N/4, of the values 0..N-1 on channel i).  One
 * consumer goroutine runs N iterations of a blocking 4-way select, one
 * receive case per channel and no default, and sums the values (checked
 * against N(N-1)/2).  A warm-up pass with N/10 messages (fresh channels)
 * runs first.  Measured: from just before spawning the 5 goroutines until
 * all have finished (main waits on a WaitGroup).
 * N: -n, default 4,000,000.
 * Reported: ns per message = elapsed/N; extra: n, wall_ms.
 */
#include "report.h" /* first: it sets the feature macros */

enum { CAPACITY = 64, CHANS = 4 };

/* A producer's closure: its channel, its values [lo, hi), wg. */
struct producer {
	gort_chan *ch;
	int64_t lo, hi;
	gort_waitgroup *wg;
};

/* The consumer's closure: the channels, n, sum, wg. */
struct consumer {
	gort_chan *chs[CHANS];
	long long n;
	int64_t *sum; /* read by main after wg.Wait */
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
	for (long long i = 0; i < c->n; i++) {
		/*
		 * Go builds its select's cases afresh on every iteration (selectgo
		 * gets a new scase array each time); GORT_SELECT does the same with
		 * a compound literal.  One v serves all cases: only one fires.
		 */
		int64_t v;
		switch (GORT_SELECT(GORT_CASE_RECV(c->chs[0], &v, NULL), GORT_CASE_RECV(c->chs[1], &v, NULL),
		                    GORT_CASE_RECV(c->chs[2], &v, NULL), GORT_CASE_RECV(c->chs[3], &v, NULL))) {
		case 0: /* Go's four case bodies are the same s += v */
		case 1:
		case 2:
		case 3:
			s += v;
			break;
		default: /* a blocking select with no default cannot return -1 */
			bench_fail("select4: GORT_SELECT returned no case");
		}
	}
	*c->sum = s;
	gort_waitgroup_done(c->wg);
}

/* pass runs the 4 producers and the consumer over n messages and returns the ns it took. */
static int64_t pass(long long n)
{
	gort_chan *chs[CHANS];
	for (int i = 0; i < CHANS; i++)
		chs[i] = gort_chan_make(sizeof(int64_t), CAPACITY);
	int64_t sum = 0;
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	gort_waitgroup_add(&wg, CHANS + 1);
	int64_t t0 = bench_now_ns();
	long long start = 0;
	for (int p = 0; p < CHANS; p++) {
		long long cnt = bench_share(p, n, CHANS);
		gort_go_with(produce, struct producer, .ch = chs[p], .lo = start, .hi = start + cnt, .wg = &wg);
		start += cnt;
	}
	gort_go_with(consume, struct consumer, .chs = {chs[0], chs[1], chs[2], chs[3]}, .n = n,
	             .sum = &sum, .wg = &wg);
	gort_waitgroup_wait(&wg);
	int64_t el = bench_now_ns() - t0;
	for (int i = 0; i < CHANS; i++)
		gort_chan_free(chs[i]);
	int64_t want = (int64_t)n * (int64_t)(n - 1) / 2;
	if (sum != want)
		bench_fail("select4: sum %lld, want %lld", (long long)sum, (long long)want);
	return el;
}

static int real_main(int argc, char **argv)
{
	return bench_passes(argc, argv, "select4", "ns_per_msg", 4000000,
	                    "messages (total over the 4 channels)", pass);
}

int main(int argc, char **argv)
{
	gort_main(real_main, argc, argv);
}
