/*
 * once_test - Go 1.19's sync/once_test.go, ported: gort_once as sync.Once.
 *
 * Ported, same names:
 *   TestOnce       10 goroutines call Do with the same function: it runs
 *                  once, and each caller, once Do returns, sees its effect
 *   TestOncePanic  the function panics: Do panics too (recovered by the
 *                  caller), and a later Do does not call its function
 *
 * Not ported:
 *   BenchmarkOnce: a benchmark (testing.B).
 */
#define _GNU_SOURCE
#include "harness.h"

/* ---- TestOnce -------------------------------------------------------------------------------- */

typedef int one;

static void Increment(void *o)
{
	(*(one *)o)++;
}

typedef struct run_args {
	gort_once *once;
	one *o;
	gort_chan *c;
} run_args;

static void run(void *arg)
{
	run_args *a = arg;
	gort_once_do(a->once, Increment, a->o);
	int v = *a->o;
	CHECK(v == 1, "once failed inside run: %d is not 1", v);
	bool t = true;
	gort_chan_send(a->c, &t);
}

static void TestOnce(void)
{
	one o = 0;
	gort_once once = GORT_ONCE_INIT;
	gort_chan *c = gort_chan_make(sizeof(bool), 0);
	const int N = 10;
	for (int i = 0; i < N; i++)
		gort_go_with(run, run_args, &once, &o, c);
	for (int i = 0; i < N; i++)
		gort_chan_recv(c, NULL);
	CHECK(o == 1, "once failed outside run: %d is not 1", o);
	gort_chan_free(c);
}

/* ---- TestOncePanic --------------------------------------------------------------------------- */

static void check_recovered(void *arg)
{
	const void *r = gort_recover();
	CHECK(r != NULL, "Once.Do did not panic");
}

static void panic_failed(void *arg)
{
	gort_panic("failed");
}

static void do_panicking(gort_once *once)
{
	GORT_FRAME(return);
	gort_defer(check_recovered, NULL);
	gort_once_do(once, panic_failed, NULL);
	CHECK(0, "Once.Do did not panic"); /* Go's deferred check, reached without a panic */
}

static void called_twice(void *arg)
{
	CHECK(0, "Once.Do called twice");
}

static void TestOncePanic(void)
{
	gort_once once = GORT_ONCE_INIT;
	do_panicking(&once);
	gort_once_do(&once, called_twice, NULL);
}

static int test_main(int argc, char **argv)
{
	TestOnce();
	TestOncePanic();
	return test_pass("once_test");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
