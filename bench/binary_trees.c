/*
 * binary_trees.c - C twin of ../shared/anchors/go/binary_trees: the
 * Benchmarks Game's binary-trees on gort's garbage-collected heap.
 * With -d D (default 21): build and check one stretch tree of depth D+1
 * and drop it; build a long-lived tree of depth D kept to the end; then
 * for each depth d = 4, 6, ..., D build and check 2^(D-d+4) trees of
 * depth d and drop them, the trees of one depth shared among GOMAXPROCS
 * goroutines.  A node is two child pointers (gort_new(16)); check counts
 * the nodes.  Measured: wall time from the first allocation to the last
 * check.  -v prints the game's lines on stderr.
 * Reported: wall ms; rss_kb = peak RSS; extra: depth, checks (the sum of
 * every check value: the same work as the Go twin's), gc_cycles.
 * Its Boehm twin is binary_trees_boehm.c (GC_MALLOC, impl "boehm").
 */
#include "report.h" /* first: it sets the feature macros */

typedef struct node {
	struct node *left, *right;
} node;

static node *bottomUp(int depth)
{
	node *n = gort_new(sizeof *n);
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

struct task {
	int depth;
	long long iters;
	long sum;
	gort_waitgroup *wg;
};

static void worker(void *arg)
{
	struct task *t = arg;
	long s = 0;
	for (long long i = 0; i < t->iters; i++)
		s += check(bottomUp(t->depth));
	t->sum = s;
	gort_waitgroup_done(t->wg);
}

static int real_main(int argc, char **argv)
{
	long long maxDepth = 21, verbose = 0;
	bench_parse_flags(argc, argv, (const struct bench_flag[]){
		{"d", &maxDepth, "depth of the long-lived tree"},
		{"v", &verbose, "print the benchmark's output lines to stderr (-v 1)"},
		{NULL, NULL, NULL},
	});
	const int minDepth = 4;
	if (maxDepth < minDepth + 2)
		maxDepth = minDepth + 2;
	double checks = 0;
	int64_t t0 = bench_now_ns();

	int stretch = (int)maxDepth + 1;
	long c = check(bottomUp(stretch));
	checks += (double)c;
	if (verbose)
		fprintf(stderr, "stretch tree of depth %d\t check: %ld\n", stretch, c);

	node *longLived = bottomUp((int)maxDepth);

	int workers = gort_gomaxprocs(0);
	struct task *tasks = calloc((size_t)workers, sizeof *tasks);
	for (int d = minDepth; d <= maxDepth; d += 2) {
		long long iters = 1LL << (maxDepth - d + minDepth);
		gort_waitgroup wg = GORT_WAITGROUP_INIT;
		for (int w = 0; w < workers; w++) {
			tasks[w] = (struct task){d, bench_share(w, iters, workers), 0, &wg};
			gort_waitgroup_add(&wg, 1);
			gort_go(worker, &tasks[w]);
		}
		gort_waitgroup_wait(&wg);
		long total = 0;
		for (int w = 0; w < workers; w++)
			total += tasks[w].sum;
		checks += (double)total;
		if (verbose)
			fprintf(stderr, "%lld\t trees of depth %d\t check: %ld\n", iters, d, total);
	}
	c = check(longLived);
	checks += (double)c;
	if (verbose)
		fprintf(stderr, "long lived tree of depth %lld\t check: %ld\n", maxDepth, c);
	double ms = (double)(bench_now_ns() - t0) / 1e6;
	free(tasks);
	gort_mem_stats m;
	gort_read_mem_stats(&m);
	report("binary_trees", "wall_ms", ms, {"depth", (double)maxDepth}, {"checks", checks},
	       {"gc_cycles", (double)m.num_gc});
	return 0;
}

int main(int argc, char **argv)
{
	gort_main(real_main, argc, argv);
}
