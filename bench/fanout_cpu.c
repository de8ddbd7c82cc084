/*
 * fanout_cpu.c - C twin of ../shared/anchors/go/fanout_cpu: G goroutines
 * (-g, default 1,000) each compute fib(27) (-fib) with the naive recursion
 * fib(n) = n<2 ? n : fib(n-1)+fib(n-2) (int64; 635,621 calls, result
 * 196,418) and store it in results[i]; main waits on a WaitGroup and checks
 * every result.
 * Warm-up: 10 unmeasured calls of fib on main, then 20 timed ones whose mean
 * is one_fib_ms.  Measured: from before the first spawn until wg.Wait
 * returns.
 * Reported: total wall ms (value); extra: g, one_fib_ms,
 * speedup = G*one_fib_ms/wall_ms.
 */
#include "report.h" /* first: it sets the feature macros */

#include <limits.h>

/*
 * The C work must equal Go's: 635,621 real calls per fib(27).  So fib is
 * never inlined; GCC must not turn one of the two recursive calls into a
 * loop (its tail-recursion pass does that with an accumulator; Go's compiler
 * does not), nor prove fib const and drop or hoist calls (noipa); clang has
 * its own switch for the loop rewrite.  The argument is read from a volatile
 * at every call site, so no call can be folded or shared either.
 *
 * fib starts on a 64-byte line: its 51 bytes then sit in one line, wherever
 * the linker puts it.  Without that, a change in libgort's imports (more
 * PLT entries) once moved it 16 bytes down, across a line, and the same
 * code ran 12% slower (Go's compiler aligns functions too: 32 bytes).
 */
#if defined(__clang__)
#define FIB_ATTRS __attribute__((noinline, disable_tail_calls, aligned(64)))
#elif defined(__GNUC__)
#define FIB_ATTRS __attribute__((noipa, optimize("no-optimize-sibling-calls"), aligned(64)))
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

/* A worker's closure: i by value; results and wg by reference. */
struct task {
	long long i;
	int64_t *results;
	gort_waitgroup *wg;
};

static void work(void *arg)
{
	const struct task *t = arg;
	t->results[t->i] = fib(depth);
	gort_waitgroup_done(t->wg); /* defer wg.Done() */
}

static int real_main(int argc, char **argv)
{
	long long g = 1000, fib_arg = 27;
	bench_parse_flags(argc, argv, (const struct bench_flag[]){
		{"g", &g, "goroutines"},
		{"fib", &fib_arg, "fib argument"},
		{NULL, NULL, NULL},
	});
	/* The WaitGroup counter is 32 bits, as Go's; Go would panic past it. */
	if (g < 1 || g > INT_MAX)
		bench_fail("fanout_cpu: -g must be between 1 and %d", INT_MAX);
	depth = fib_arg;

	int64_t want = fib(depth);
	for (int i = 0; i < 10; i++)
		sink = fib(depth);
	int64_t w0 = bench_now_ns();
	for (int i = 0; i < 20; i++) {
		if (fib(depth) != want)
			bench_fail("fib mismatch");
	}
	double one_ms = (double)(bench_now_ns() - w0) / 1e6 / 20;

	int64_t *results = calloc((size_t)g, sizeof *results);
	if (results == NULL)
		bench_fail("fanout_cpu: out of memory for %lld results", g);
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	gort_waitgroup_add(&wg, (int)g);
	int64_t t0 = bench_now_ns();
	for (long long i = 0; i < g; i++)
		gort_go_with(work, struct task, .i = i, .results = results, .wg = &wg);
	gort_waitgroup_wait(&wg);
	int64_t el = bench_now_ns() - t0;
	for (long long i = 0; i < g; i++) {
		if (results[i] != want)
			bench_fail("fanout_cpu: results[%lld] = %lld, want %lld", i, (long long)results[i],
			           (long long)want);
	}
	free(results);
	double wall_ms = (double)el / 1e6;
	report("fanout_cpu", "wall_ms", wall_ms,
	       {"g", (double)g}, {"one_fib_ms", one_ms}, {"speedup", (double)g * one_ms / wall_ms});
	return 0;
}

int main(int argc, char **argv)
{
	gort_main(real_main, argc, argv);
}
