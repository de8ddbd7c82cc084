/*
 * binary_trees_boehm.c - binary_trees.c's twin on the Boehm-Demers-Weiser
 * collector (Debian's libgc-dev): the same program, nodes from GC_MALLOC,
 * the trees of one depth shared among GOMAXPROCS threads (pthreads
 * registered with the collector: GC_THREADS).  Its JSON line is
 * binary_trees.c's with impl "boehm", procs from GOMAXPROCS (default 1).
 */
#include "report.h" /* first: it sets the feature macros */

#define GC_THREADS
#include <gc.h>
#include <pthread.h>

typedef struct node {
	struct node *left, *right;
} node;

static node *bottomUp(int depth)
{
	node *n = GC_MALLOC(sizeof *n);
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
};

static void *worker(void *arg)
{
	struct task *t = arg;
	long s = 0;
	for (long long i = 0; i < t->iters; i++)
		s += check(bottomUp(t->depth));
	t->sum = s;
	return NULL;
}

int main(int argc, char **argv)
{
	GC_INIT();
	GC_allow_register_threads();
	long long maxDepth = 21, verbose = 0;
	bench_parse_flags(argc, argv, (const struct bench_flag[]){
		{"d", &maxDepth, "depth of the long-lived tree"},
		{"v", &verbose, "print the benchmark's output lines to stderr (-v 1)"},
		{NULL, NULL, NULL},
	});
	const char *env = getenv("GOMAXPROCS");
	int workers = env != NULL && atoi(env) > 0 ? atoi(env) : 1;
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

	struct task *tasks = calloc((size_t)workers, sizeof *tasks);
	pthread_t *th = calloc((size_t)workers, sizeof *th);
	for (int d = minDepth; d <= maxDepth; d += 2) {
		long long iters = 1LL << (maxDepth - d + minDepth);
		for (int w = 0; w < workers; w++) {
			tasks[w] = (struct task){d, bench_share(w, iters, workers), 0};
			if (pthread_create(&th[w], NULL, worker, &tasks[w]) != 0)
				bench_fail("pthread_create failed");
		}
		long total = 0;
		for (int w = 0; w < workers; w++) {
			pthread_join(th[w], NULL);
			total += tasks[w].sum;
		}
		checks += (double)total;
		if (verbose)
			fprintf(stderr, "%lld\t trees of depth %d\t check: %ld\n", iters, d, total);
	}
	c = check(longLived);
	checks += (double)c;
	if (verbose)
		fprintf(stderr, "long lived tree of depth %lld\t check: %ld\n", maxDepth, c);
	double ms = (double)(bench_now_ns() - t0) / 1e6;

	/* binary_trees.c's line, by hand: report.h's says impl "gort" */
	printf("{\"bench\":\"binary_trees\",\"impl\":\"boehm\",\"procs\":%d,\"metric\":\"wall_ms\",\"value\":",
	       workers);
	bench_put_float(bench_round2(ms));
	printf(",\"rss_kb\":%lld,\"extra\":{\"checks\":", (long long)bench_status_kb("VmHWM"));
	bench_put_float(bench_round2(checks));
	fputs(",\"depth\":", stdout);
	bench_put_float((double)maxDepth);
	fputs(",\"gc_cycles\":", stdout);
	bench_put_float((double)GC_get_gc_no());
	fputs("}}\n", stdout);
	return 0;
}
