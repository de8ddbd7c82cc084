/*
 * mutex.c - C twin of ../shared/anchors/go/mutex: 64 goroutines share one
 * gort_mutex (sync.Mutex) and one int64 counter; goroutine i does its share
 * (N/64) of { lock; counter++; unlock } in a tight loop.  The final counter
 * is checked == N.  A warm-up pass with N/10 increments (fresh mutex and
 * counter) runs first.  Measured: from just before spawning the 64
 * goroutines until all have finished (main waits on a WaitGroup).
 * N: -n, default 10,000,000.
 * Reported: ns per increment = elapsed/N; extra: n, wall_ms.
 */
#include "report.h" /* first: it sets the feature macros */

enum { WORKERS = 64 };

/* A worker's closure: its count, and mu, counter and wg by reference. */
struct worker {
	long long cnt;
	gort_mutex *mu;
	int64_t *counter; /* plain, as in Go: only touched under mu */
	gort_waitgroup *wg;
};

static void work(void *arg)
{
	const struct worker *w = arg;
	for (long long i = 0; i < w->cnt; i++) {
		gort_mutex_lock(w->mu);
		(*w->counter)++;
		gort_mutex_unlock(w->mu);
	}
	gort_waitgroup_done(w->wg); /* defer wg.Done() */
}

/* pass runs the 64 workers over n increments and returns the ns it took. */
static int64_t pass(long long n)
{
	gort_mutex mu = GORT_MUTEX_INIT;
	int64_t counter = 0;
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	gort_waitgroup_add(&wg, WORKERS);
	int64_t t0 = bench_now_ns();
	for (int w = 0; w < WORKERS; w++)
		gort_go_with(work, struct worker, .cnt = bench_share(w, n, WORKERS), .mu = &mu,
		             .counter = &counter, .wg = &wg);
	gort_waitgroup_wait(&wg);
	int64_t el = bench_now_ns() - t0;
	if (counter != n)
		bench_fail("mutex: counter %lld, want %lld", (long long)counter, n);
	return el;
}

static int real_main(int argc, char **argv)
{
	return bench_passes(argc, argv, "mutex", "ns_per_increment", 10000000,
	                    "increments (total over all goroutines)", pass);
}

int main(int argc, char **argv)
{
	gort_main(real_main, argc, argv);
}
