/*
 * fanout_cpu.c - C twin of ../shared/anchors/go/fanout_cpu: G goroutines
 * (-g, default 1,000) each compute fib(27) (-fib) with the naive recursion
 * fib(n) = n<2 ? n : fib(n-1)+fib(n-2) (int64; 635,621 calls, result
 * 196,418) and store it in results[i]; main waits for all G and checks every
 * result.
 * Warm-up: 10 unmeasured calls of fib on main, then 20 timed ones whose mean
 * is one_fib_ms.  Measured: from before the first spawn until all G are done.
 * Reported: total wall ms (value); extra: g, one_fib_ms,
 * speedup = G*one_fib_ms/wall_ms.
 *
 * gort has no WaitGroup yet: after spawning, main parks for good
 * (gort_block) and the worker whose wg.Done completes the count stops the
 * clock, checks the results and reports - where Go's wg.Wait would return.
 * (A gort_gosched polling loop would put main on the global run queue over
 * and over, which an idle P checks before stealing: the second P would run
 * main's loop instead of fib.)  Switch to a WaitGroup once gort has one.
 */
#include "report.h" /* first: it sets the feature macros */

#include <stdatomic.h>

/*
 * The C work must equal Go's: 635,621 real calls per fib(27).  So fib is
 * never inlined; GCC must not turn one of the two recursive calls into a
 * loop (its tail-recursion pass does that with an accumulator; Go's compiler
 * does not), nor prove fib const and drop or hoist calls (noipa); clang has
 * its own switch for the loop rewrite.  The argument is read from a volatile
 * at every call site, so no call can be folded or shared either.
 */
#if defined(__clang__)
#define FIB_ATTRS __attribute__((noinline, disable_tail_calls))
#elif defined(__GNUC__)
#define FIB_ATTRS __attribute__((noipa, optimize("no-optimize-sibling-calls")))
#else
#define FIB_ATTRS
#endif

static FIB_ATTRS int64_t fib(int64_t n)
{
	if (n < 2)
		return n;
	return fib(n - 1) + fib(n - 2);
}

static volatile int64_t depth; /* fib's argument, -fib */
static volatile int64_t sink;  /* where the warm-up results go */
static int64_t *results;
static atomic_llong done;
static long long g = 1000;
static int64_t want, t0;
static double one_ms;

/* finish runs in the worker that completes the count: wg.Wait returns. */
static void finish(void)
{
	int64_t el = bench_now_ns() - t0;
	for (long long i = 0; i < g; i++) {
		if (results[i] != want)
			bench_fail("fanout_cpu: results[%lld] = %lld, want %lld", i, (long long)results[i],
			           (long long)want);
	}
	double wall_ms = (double)el / 1e6;
	report("fanout_cpu", "wall_ms", wall_ms,
	       {"g", (double)g}, {"one_fib_ms", one_ms}, {"speedup", (double)g * one_ms / wall_ms});
	exit(0);
}

struct task {
	long long i;
};

static void work(void *arg)
{
	const struct task *t = arg;
	results[t->i] = fib(depth);
	if (atomic_fetch_add(&done, 1) + 1 == g) /* Go: defer wg.Done() */
		finish();
}

static int real_main(int argc, char **argv)
{
	long long fib_arg = 27;
	bench_parse_flags(argc, argv, (const struct bench_flag[]){
		{"g", &g, "goroutines"},
		{"fib", &fib_arg, "fib argument"},
		{NULL, NULL, NULL},
	});
	if (g < 1)
		bench_fail("fanout_cpu: -g must be at least 1");
	depth = fib_arg;

	want = fib(depth);
	for (int i = 0; i < 10; i++)
		sink = fib(depth);
	int64_t w0 = bench_now_ns();
	for (int i = 0; i < 20; i++) {
		if (fib(depth) != want)
			bench_fail("fib mismatch");
	}
	one_ms = (double)(bench_now_ns() - w0) / 1e6 / 20;

	results = calloc((size_t)g, sizeof *results);
	if (results == NULL)
		bench_fail("fanout_cpu: out of memory for %lld results", g);
	t0 = bench_now_ns();
	for (long long i = 0; i < g; i++)
		gort_go_with(work, struct task, .i = i);
	gort_block(); /* wg.Wait: finish() ends the program */
}

int main(int argc, char **argv)
{
	gort_main(real_main, argc, argv);
}
