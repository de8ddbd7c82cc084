/*
 * foreign_call.c - what a call into gort costs a thread gort did not
 * create (src/cgocall.c), next to a pthread mutex and to the same call
 * from a goroutine.
 *
 * The program embeds gort (gort_start); its own threads call
 * gort_chan_trysend and gort_chan_tryrecv on a channel of capacity 1 in
 * turn - each a non-blocking channel operation, each a whole foreign call:
 * bind the thread's extra M and G, take the P back from Psyscall, the
 * operation, leave the P in Psyscall again.  Reported, in ns per call:
 *
 *   foreign      from the program's threads (-threads of them, each its own
 *                channel), after a first call that binds each thread
 *   goroutine    the same operations from a goroutine: the operation alone
 *   first_call   a new thread's first call (takes an extra M), median
 *   pthread      pthread_mutex_lock + unlock on an uncontended mutex
 *
 * bench/go_cshared/run.sh measures Go's cgo callback the same way.
 * Flags: -n calls per thread (default 2,000,000), -threads (default 1).
 * One JSON line per metric (report.h's format, impl "gort").
 */
#include "report.h" /* first: it sets the feature macros */

#include <pthread.h>

static long long n = 2000000;
static int nthreads = 1;

typedef struct worker {
	gort_chan *c;
	int64_t ns;
} worker;

static void ops(gort_chan *c, long long count)
{
	long v = 1;
	for (long long i = 0; i < count; i += 2) {
		if (!gort_chan_trysend(c, &v))
			bench_fail("foreign_call: trysend found the channel full");
		if (!gort_chan_tryrecv(c, &v, NULL))
			bench_fail("foreign_call: tryrecv found the channel empty");
	}
}

static void *foreign(void *arg)
{
	worker *w = arg;
	ops(w->c, 1000); /* the first call binds the thread's M: not measured */
	int64_t t0 = bench_now_ns();
	ops(w->c, n);
	w->ns = bench_now_ns() - t0;
	return NULL;
}

static double foreign_ns(void)
{
	pthread_t th[64];
	worker w[64];
	for (int i = 0; i < nthreads; i++) {
		w[i].c = gort_chan_make(sizeof(long), 1);
		pthread_create(&th[i], NULL, foreign, &w[i]);
	}
	int64_t total = 0;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		total += w[i].ns;
		gort_chan_free(w[i].c);
	}
	return (double)total / nthreads / (double)n;
}

typedef struct gwork {
	gort_chan *c;
	int64_t ns;
	gort_chan *done;
} gwork;

static void gbody(void *arg)
{
	gwork *w = arg;
	ops(w->c, 1000);
	int64_t t0 = bench_now_ns();
	ops(w->c, n);
	w->ns = bench_now_ns() - t0;
	bool t = true;
	gort_chan_send(w->done, &t);
}

static double goroutine_ns(void)
{
	gwork w = {gort_chan_make(sizeof(long), 1), 0, gort_chan_make(sizeof(bool), 1)};
	gort_go(gbody, &w);
	bool t;
	gort_chan_recv(w.done, &t); /* this thread is foreign: it blocks here */
	gort_chan_free(w.c);
	gort_chan_free(w.done);
	return (double)w.ns / (double)n;
}

static void *first(void *arg)
{
	int64_t *ns = arg;
	int64_t t0 = bench_now_ns();
	gort_goid();
	*ns = bench_now_ns() - t0;
	return NULL;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* first_call_ns: a new thread's first call, median of 101 threads in turn
 * (each thread exits, so each takes the M the last one gave back). */
static double first_call_ns(void)
{
	enum { T = 101 };
	int64_t ns[T];
	for (int i = 0; i < T; i++) {
		pthread_t t;
		pthread_create(&t, NULL, first, &ns[i]);
		pthread_join(t, NULL);
	}
	qsort(ns, T, sizeof ns[0], cmp64);
	return (double)ns[T / 2];
}

static double pthread_ns(void)
{
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	int64_t t0 = bench_now_ns();
	for (long long i = 0; i < n; i++) {
		pthread_mutex_lock(&mu);
		__asm__ volatile("" ::: "memory");
		pthread_mutex_unlock(&mu);
	}
	return (double)(bench_now_ns() - t0) / (double)n;
}

static void put(const char *metric, double v)
{
	printf("{\"bench\":\"foreign_call\",\"impl\":\"gort\",\"procs\":%d,\"metric\":\"%s\",\"value\":%.2f,"
	       "\"extra\":{\"n\":%lld,\"threads\":%d}}\n",
	       gort_gomaxprocs(0), metric, v, n, nthreads);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			n = atoll(argv[++i]);
		else if (strcmp(argv[i], "-threads") == 0 && i + 1 < argc)
			nthreads = atoi(argv[++i]);
		else
			bench_fail("usage: foreign_call [-n calls] [-threads 1..64]");
	}
	if (nthreads < 1 || nthreads > 64 || n < 2)
		bench_fail("foreign_call: -threads 1..64, -n >= 2");
	n &= ~1LL;
	gort_start();
	put("foreign_ns_per_call", foreign_ns());
	put("goroutine_ns_per_call", goroutine_ns());
	put("first_call_ns", first_call_ns());
	put("pthread_mutex_ns_per_lock_unlock", pthread_ns());
	return 0;
}
