/*
 * gc_latency.c - what a collection costs the goroutines that wait for it:
 * a big live heap, churn, and 1,000 goroutines doing channel round trips.
 * Its Go twin is bench/go_gc_latency/main.go (the same work, the same
 * JSON line); bench/run.sh runs both as workload gc_latency.
 *
 * With -mb M (default 1024): build a live heap of M MiB - M*8 binary trees
 * of depth 11 (4,095 nodes of 32 bytes: two child pointers and two words,
 * 128 KiB a tree) hung from one table.  Then -g G goroutines (default
 * 1,000) each make -n N round trips (default 500): a request (a 64-byte
 * object, garbage after the trip) goes to one of 4 server goroutines on a
 * shared unbuffered channel, and the server answers on the client's own
 * channel with a 4 KiB pointer-free buffer (garbage too).  Every 16th
 * request a server replaces a random tree of the table with a fresh one:
 * the live heap stays M MiB while its objects change (8 KiB of new live
 * objects per request, on average).  Each round trip is timed from the
 * send to the receive of the answer.
 *
 * Reported: value = the round trips' p99 in µs; extra: rtt p50/p99/p999/max
 * (µs), the collections during the round trips (gc_count) and their pauses
 * p50/p99/max (ms: MemStats.PauseNs, the last 256 at most), live_mb,
 * build_ms (the live heap's construction) and wall_ms (the round trips).
 * Percentiles are nearest-rank.  GOGC and GOMEMLIMIT apply as in Go.
 */
#include "report.h" /* first: it sets the feature macros */

enum { DEPTH = 11, TREE_BYTES = ((1 << (DEPTH + 1)) - 1) * 32, NSERVERS = 4, CHURN_EVERY = 16 };

typedef struct node {
	struct node *left, *right;
	int64_t a, b;
} node;

typedef struct request {
	gort_chan *reply;
	int64_t id;
	int64_t pad[6]; /* 64 bytes, as the Go twin's */
} request;

static node **trees; /* the live heap: a gort_new array of ntrees trees */
static long long ntrees;

static node *bottomUp(int depth)
{
	node *n = gort_new(sizeof *n);
	n->a = depth;
	if (depth > 0) {
		n->left = bottomUp(depth - 1);
		n->right = bottomUp(depth - 1);
	}
	return n;
}

static long check(const node *n)
{
	if (n->left == NULL)
		return 1;
	return 1 + check(n->left) + check(n->right);
}

static gort_chan *requests;

static void server(void *arg)
{
	uint64_t seed = 0x9E3779B97F4A7C15ull * (uint64_t)(uintptr_t)arg + 1;
	long long served = 0;
	request *r;
	while (gort_chan_recv(requests, &r)) {
		char *answer = gort_new_noscan(4096);
		answer[0] = (char)r->id;
		if (++served % CHURN_EVERY == 0) {
			seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
			trees[seed % (uint64_t)ntrees] = bottomUp(DEPTH);
		}
		gort_chan_send(r->reply, &answer);
	}
}

struct client {
	long long n;
	int64_t *lat; /* n round trips, ns (malloc: no pointers) */
	gort_waitgroup *wg;
};

static void client(void *arg)
{
	struct client *c = arg;
	gort_chan *reply = gort_chan_make(sizeof(char *), 0);
	for (long long i = 0; i < c->n; i++) {
		request *r = gort_new(sizeof *r);
		r->reply = reply;
		r->id = i;
		int64_t t0 = bench_now_ns();
		gort_chan_send(requests, &r);
		char *answer;
		gort_chan_recv(reply, &answer);
		c->lat[i] = bench_now_ns() - t0;
		if (answer[0] != (char)i)
			bench_fail("gc_latency: a wrong answer");
	}
	gort_chan_free(reply);
	gort_waitgroup_done(c->wg);
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* nearest rank: the smallest value with at least q of them at or below it */
static double pct(const int64_t *v, size_t n, double q)
{
	if (n == 0)
		return 0;
	size_t k = (size_t)ceil(q * (double)n);
	if (k < 1)
		k = 1;
	return (double)v[k - 1];
}

static int real_main(int argc, char **argv)
{
	long long mb = 1024, g = 1000, n = 500;
	bench_parse_flags(argc, argv, (const struct bench_flag[]){
		{"mb", &mb, "MiB of live heap"},
		{"g", &g, "goroutines doing round trips"},
		{"n", &n, "round trips per goroutine"},
		{NULL, NULL, NULL},
	});
	if (mb < 1 || g < 1 || n < 1)
		bench_fail("gc_latency: -mb, -g and -n must be at least 1");

	int64_t t0 = bench_now_ns();
	ntrees = mb * (1 << 20) / TREE_BYTES;
	trees = gort_new_array((size_t)ntrees, sizeof *trees);
	for (long long i = 0; i < ntrees; i++)
		trees[i] = bottomUp(DEPTH);
	double build_ms = (double)(bench_now_ns() - t0) / 1e6;

	requests = gort_chan_make(sizeof(request *), 0);
	for (intptr_t s = 0; s < NSERVERS; s++)
		gort_go(server, (void *)s);
	struct client *cs = calloc((size_t)g, sizeof *cs);
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	gort_mem_stats *ms = malloc(sizeof *ms);
	gort_read_mem_stats(ms);
	uint32_t gc0 = ms->num_gc;
	int64_t t1 = bench_now_ns();
	for (long long i = 0; i < g; i++) {
		cs[i] = (struct client){n, malloc((size_t)n * sizeof(int64_t)), &wg};
		gort_waitgroup_add(&wg, 1);
		gort_go(client, &cs[i]);
	}
	gort_waitgroup_wait(&wg);
	double wall_ms = (double)(bench_now_ns() - t1) / 1e6;
	gort_read_mem_stats(ms);
	uint32_t gc1 = ms->num_gc;
	gort_chan_close(requests);

	long long total = 0;
	for (long long i = 0; i < ntrees; i++)
		total += check(trees[i]);
	if (total != ntrees * ((1 << (DEPTH + 1)) - 1))
		bench_fail("gc_latency: the live heap lost nodes: %lld", total);

	size_t nl = (size_t)(g * n);
	int64_t *lat = malloc(nl * sizeof *lat);
	for (long long i = 0; i < g; i++) {
		memcpy(lat + i * n, cs[i].lat, (size_t)n * sizeof *lat);
		free(cs[i].lat);
	}
	qsort(lat, nl, sizeof *lat, cmp64);
	uint32_t first = gc1 - gc0 > 256 ? gc1 - 256 : gc0;
	int64_t pauses[256];
	size_t np = 0;
	for (uint32_t k = first; k < gc1; k++)
		pauses[np++] = (int64_t)ms->pause_ns[k % 256];
	qsort(pauses, np, sizeof *pauses, cmp64);
	report("gc_latency", "rtt_p99_us", pct(lat, nl, 0.99) / 1e3, {"rtt_p50_us", pct(lat, nl, 0.50) / 1e3},
	       {"rtt_p99_us", pct(lat, nl, 0.99) / 1e3}, {"rtt_p999_us", pct(lat, nl, 0.999) / 1e3},
	       {"rtt_max_us", (double)lat[nl - 1] / 1e3}, {"gc_count", (double)(gc1 - gc0)},
	       {"pause_p50_ms", pct(pauses, np, 0.50) / 1e6}, {"pause_p99_ms", pct(pauses, np, 0.99) / 1e6},
	       {"pause_max_ms", np ? (double)pauses[np - 1] / 1e6 : 0}, {"live_mb", (double)mb},
	       {"build_ms", build_ms}, {"wall_ms", wall_ms});
	free(lat);
	free(cs);
	free(ms);
	return 0;
}

int main(int argc, char **argv)
{
	gort_main(real_main, argc, argv);
}
