/*
 * pipeline.c - fan-out, fan-in and an early stop that leaves no goroutine
 * behind.  Go's twin: examples/go/pipeline/main.go (same output).
 *
 *   generate  sends the record numbers 0..n-1 on jobs
 *   work      -workers goroutines: each makes record i (size bytes of
 *             xorshift64 seeded with i) and hashes it (FNV-1a), sending
 *             {i, hash} on results - in whatever order they finish
 *   merge     main puts the results back in order and folds them into
 *             one checksum; a hash divisible by 1000 is a hit, and at the
 *             -stop'th hit it cancels the context: everything stops
 *
 * What it shows: an errgroup with its context, typed channels, a select
 * on a send or ctx.Done() with named cases, a closer goroutine that
 * closes results once every worker has left (a WaitGroup), the defer
 * forms, and gort_numgoroutine() at the end - 1, main alone - as the proof
 * that every stage returned after the cancel.
 *
 *     pipeline [-n 200000] [-workers 4] [-size 4096] [-stop 0]
 *
 * prints "merged N records, H hits, checksum 0x..." and the goroutines
 * left; with -stop 0 it runs through all n records.
 */
#include "flags.h"

typedef struct result {
	int64_t i;
	uint64_t hash;
} result;
typedef GORT_CHAN(int64_t) job_chan;
typedef GORT_CHAN(result) result_chan;

struct pipeline {
	gort_context *ctx;
	job_chan jobs;
	result_chan results;
	gort_waitgroup workers;
	int64_t n, size;
};

enum { SENT, DONE }; /* the cases of a send that gives up when ctx is done */

/* The record: size bytes of xorshift64 from seed i+1, hashed with FNV-1a. */
static uint64_t hash_record(int64_t i, unsigned char *buf, int64_t size)
{
	uint64_t x = (uint64_t)i + 1, h = 14695981039346656037ull;
	for (int64_t k = 0; k < size; k++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		buf[k] = (unsigned char)x;
	}
	for (int64_t k = 0; k < size; k++)
		h = (h ^ buf[k]) * 1099511628211ull;
	return h;
}

static int generate(void *arg, gort_error *err)
{
	struct pipeline *p = arg;
	GORT_FRAME_NORECOVER;
	gort_defer_close(gort_chan_of(p->jobs)); /* defer close(jobs) */
	for (int64_t i = 0; i < p->n; i++)
		if (GORT_SELECT([SENT] = GORT_CASE_SEND_T(p->jobs, &i),
		                [DONE] = GORT_CASE_RECV(gort_context_done(p->ctx), NULL, NULL)) == DONE)
			return 0;
	return 0;
}

static int work(void *arg, gort_error *err)
{
	struct pipeline *p = arg;
	GORT_FRAME_NORECOVER;
	gort_defer_done(&p->workers);
	unsigned char *buf = malloc((size_t)p->size);
	gort_defer(free, buf);
	int64_t i;
	while (gort_chan_recv_t(p->jobs, &i)) {
		result r = {i, hash_record(i, buf, p->size)};
		if (GORT_SELECT([SENT] = GORT_CASE_SEND_T(p->results, &r),
		                [DONE] = GORT_CASE_RECV(gort_context_done(p->ctx), NULL, NULL)) == DONE)
			return 0;
	}
	return 0;
}

/* results is closed once no worker can send on it any more. */
static int close_results(void *arg, gort_error *err)
{
	struct pipeline *p = arg;
	gort_waitgroup_wait(&p->workers);
	gort_chan_close(gort_chan_of(p->results));
	return 0;
}

static int run(int argc, char **argv)
{
	int64_t n = 200000, workers = 4, size = 4096, stop = 0;
	ex_flag flags[] = {
		{"n", EX_INT, &n, "records to generate"},
		{"workers", EX_INT, &workers, "hashing goroutines"},
		{"size", EX_INT, &size, "bytes per record"},
		{"stop", EX_INT, &stop, "stop at this many hits (0: never)"},
	};
	if (!ex_flags_parse(flags, EX_NFLAGS(flags), argc, argv))
		return 2;
	if (n < 1 || workers < 1 || size < 1) {
		fprintf(stderr, "pipeline: -n, -workers and -size must be positive\n");
		return 2;
	}
	GORT_FRAME_NORECOVER;
	gort_context *ctx = gort_context_with_cancel(gort_context_background());
	gort_defer_close(ctx); /* defer cancel() */
	struct pipeline p = {.n = n, .size = size, .jobs = gort_chan_make_t(job_chan, 0),
	                     .results = gort_chan_make_t(result_chan, 0)};
	gort_defer_free(gort_chan_of(p.jobs));
	gort_defer_free(gort_chan_of(p.results));
	gort_errgroup *g = gort_errgroup_with_context(ctx, &p.ctx);
	gort_defer_free(g);
	gort_errgroup_go(g, generate, &p);
	gort_waitgroup_add(&p.workers, (int)workers);
	for (int64_t w = 0; w < workers; w++)
		gort_errgroup_go(g, work, &p);
	gort_errgroup_go(g, close_results, &p);

	/* merge: hashes[i] waits in its slot until every record before it is in */
	uint64_t *hashes = calloc((size_t)n, sizeof *hashes);
	bool *have = calloc((size_t)n, sizeof *have);
	uint64_t sum = 0;
	int64_t next = 0, hits = 0;
	result r;
	while (gort_chan_recv_t(p.results, &r) && (stop == 0 || hits < stop)) {
		hashes[r.i] = r.hash, have[r.i] = true;
		for (; next < n && have[next] && (stop == 0 || hits < stop); next++) {
			sum = (sum ^ hashes[next]) * 1099511628211ull;
			if (hashes[next] % 1000 == 0 && ++hits == stop)
				gort_context_cancel(ctx); /* early stop: every stage returns */
		}
	}
	int err = gort_errgroup_wait(g);
	free(hashes);
	free(have);
	if (err != 0) {
		fprintf(stderr, "pipeline: %s\n", gort_errgroup_error(g)->msg);
		return 1;
	}
	printf("merged %lld records, %lld hits, checksum 0x%016llx\n", (long long)next, (long long)hits,
	       (unsigned long long)sum);
	/* A goroutine that has returned from its function may still be on its
	 * way out: give them a moment, as goleak does, before counting. */
	int left = gort_numgoroutine();
	for (int tries = 0; tries < 1000 && left > 1; tries++, left = gort_numgoroutine())
		gort_sleep(GORT_MILLISECOND);
	printf("goroutines left: %d\n", left);
	return 0;
}

int main(int argc, char **argv)
{
	gort_main(run, argc, argv);
}
