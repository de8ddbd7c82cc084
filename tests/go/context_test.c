/*
 * context_test - Go 1.19's context/context_test.go, ported: gort_context.
 * Each Go test a function of the same name; where Go lets a CancelFunc go
 * (`_`), the port releases the context (C has no collector).
 *
 * Ported, same names:
 *   TestWithCancelCanceledParent  a child of a canceled parent is done at
 *                         once, with Canceled
 *   TestCanceledTimeout   WithTimeout(1 s), canceled at once: Done fires
 *                         with Canceled, not DeadlineExceeded
 *   TestSimultaneousCancels a tree of ~100 contexts, every cancel started
 *                         at once in its own goroutine: every Done fires,
 *                         every cancel returns (Go's quiescent-time bound:
 *                         the harness watchdog instead)
 *   TestInterlockedCancels a goroutine cancels the child when the parent's
 *                         Done fires, while the parent's cancel is still
 *                         walking its children: no deadlock
 *   TestLayersCancel, TestLayersTimeout 30+ random layers of values,
 *                         cancels and timeouts: every value is found
 *                         before and after; canceling any layer, or the
 *                         timeouts, makes the innermost done
 *
 * Not ported: TestBackground/TODO's String() and TestLayers' String check
 * (no Stringer in C); TestAllocs (Go's allocation counts); TestCancelRemoves
 * and TestParentFinishesChild's linkage checks read private fields (the
 * outcome half of ParentFinishesChild is ctx_context's test_tree);
 * TestWithValueChecksKey (keys are pointers: only NULL is refused,
 * death_ctx_nil_key); TestInvalidDerivedFail, TestCustomContextGoroutines
 * (no user-defined Context types in C); TestDeadlineExceededSupportsTimeout
 * (no error interfaces).
 */
#include <stdlib.h>

#include "harness.h"

#define MS GORT_MILLISECOND

static bool isdone(gort_context *ctx)
{
	return GORT_SELECT_DEFAULT(GORT_CASE_RECV(gort_context_done(ctx), NULL, NULL)) == 0;
}

static void TestWithCancelCanceledParent(void)
{
	gort_context *parent = gort_context_with_cancel(gort_context_background());
	gort_context_cancel(parent);
	gort_context *c = gort_context_with_cancel(parent);
	CHECK(isdone(c), "child of canceled context not canceled");
	CHECK(gort_context_err(c) == GORT_ECANCELED, "child not canceled with Canceled: %d", gort_context_err(c));
	gort_context_end(c);
	gort_context_end(parent);
}

static void TestCanceledTimeout(void)
{
	gort_context *c = gort_context_with_timeout(gort_context_background(), GORT_SECOND);
	gort_context *o = gort_context_with_value(c, &c, "value");
	gort_context_cancel(c);
	gort_chan_recv(gort_context_done(o), NULL);
	CHECK(gort_context_err(o) == GORT_ECANCELED, "c.Err() == %d want Canceled", gort_context_err(o));
	gort_context_release(o);
	gort_context_end(c);
}

enum { TREE = 100 };
static gort_context *tree[TREE + 4];
static gort_waitgroup cancels_wg;

static void cancel_one(void *arg)
{
	gort_context_cancel(arg);
	gort_waitgroup_done(&cancels_wg);
}

static void TestSimultaneousCancels(void)
{
	int n = 0, head = 0;
	tree[n++] = gort_context_with_cancel(gort_context_background());
	while (head < n && n < TREE) {
		gort_context *parent = tree[head++];
		for (int i = 0; i < 4; i++)
			tree[n++] = gort_context_with_cancel(parent);
	}
	/* Start all the cancels in a random order. */
	int order[TREE + 4];
	for (int i = 0; i < n; i++)
		order[i] = i;
	for (int i = n - 1; i > 0; i--) {
		int j = rand() % (i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	gort_waitgroup_add(&cancels_wg, n);
	for (int i = 0; i < n; i++)
		gort_go(cancel_one, tree[order[i]]);
	for (int i = 0; i < n; i++)
		gort_chan_recv(gort_context_done(tree[order[n - 1 - i]]), NULL);
	gort_waitgroup_wait(&cancels_wg);
	for (int i = n - 1; i >= 0; i--)
		gort_context_end(tree[i]);
}

typedef struct interlocked {
	gort_context *parent, *child;
} interlocked;
static gort_waitgroup interlocked_wg; /* the goroutine's references are back before the test ends */

static void cancel_child_on_parent(void *arg)
{
	interlocked *il = arg;
	gort_chan_recv(gort_context_done(il->parent), NULL);
	gort_context_cancel(il->child);
	gort_context_release(il->child);
	gort_context_release(il->parent);
	gort_waitgroup_done(&interlocked_wg);
}

static void TestInterlockedCancels(void)
{
	interlocked il;
	il.parent = gort_context_with_cancel(gort_context_background());
	il.child = gort_context_with_cancel(il.parent);
	/* The goroutine may run after this function returns: it gets copies
	 * of the pointers, and references of its own. */
	gort_waitgroup_add(&interlocked_wg, 1);
	gort_go_with(cancel_child_on_parent, interlocked, .parent = gort_context_retain(il.parent),
	             .child = gort_context_retain(il.child));
	gort_context_cancel(il.parent);
	gort_chan_recv(gort_context_done(il.child), NULL);
	gort_context_end(il.child);
	gort_context_end(il.parent);
	gort_waitgroup_wait(&interlocked_wg);
}

enum { MIN_LAYERS = 30, MAX_LAYERS = 256 };

static void testLayers(unsigned seed, bool testTimeout)
{
	srand(seed);
	gort_context *layers[MAX_LAYERS];
	int vals[MAX_LAYERS], nvals = 0, nlayers = 0, ncancels = 0, ntimers = 0;
	bool cancelable[MAX_LAYERS] = {false};
	gort_context *ctx = gort_context_background();
	for (int i = 0; (i < MIN_LAYERS || ntimers == 0 || ncancels == 0 || nvals == 0) && i < MAX_LAYERS; i++) {
		switch (rand() % 3) {
		case 0:
			ctx = gort_context_with_value(ctx, &vals[nvals], &vals[nvals]);
			nvals++;
			break;
		case 1:
			ctx = gort_context_with_cancel(ctx);
			cancelable[nlayers] = true;
			ncancels++;
			break;
		case 2:
			ctx = gort_context_with_timeout(ctx, testTimeout ? 5 * MS : 3600 * GORT_SECOND);
			cancelable[nlayers] = true;
			ncancels++;
			ntimers++;
			break;
		}
		layers[nlayers++] = ctx;
	}
	CHECK(nlayers < MAX_LAYERS, "seed=%u: too many layers", seed);
	for (int i = 0; i < nvals; i++)
		CHECK(gort_context_value(ctx, &vals[i]) == &vals[i], "seed=%u: before: value %d", seed, i);
	if (!testTimeout)
		CHECK(!isdone(ctx), "seed=%u: ctx should not be canceled yet", seed);
	if (testTimeout) {
		gort_chan_recv(gort_context_done(ctx), NULL);
		CHECK(gort_context_err(ctx) == GORT_EDEADLINE, "seed=%u: err %d", seed, gort_context_err(ctx));
	} else {
		int pick;
		do
			pick = rand() % nlayers;
		while (!cancelable[pick]);
		gort_context_cancel(layers[pick]);
		CHECK(isdone(ctx), "seed=%u: ctx should be canceled", seed);
	}
	for (int i = 0; i < nvals; i++)
		CHECK(gort_context_value(ctx, &vals[i]) == &vals[i], "seed=%u: after: value %d", seed, i);
	for (int i = nlayers - 1; i >= 0; i--)
		gort_context_release(layers[i]);
}

static void TestLayersCancel(void)
{
	testLayers((unsigned)gort_nanotime(), false);
}

static void TestLayersTimeout(void)
{
	testLayers((unsigned)gort_nanotime(), true);
}

static int test_main(int argc, char **argv)
{
	TEST_RUN(TestWithCancelCanceledParent);
	TEST_RUN(TestCanceledTimeout);
	TEST_RUN(TestSimultaneousCancels);
	TEST_RUN(TestInterlockedCancels);
	TEST_RUN(TestLayersCancel);
	TEST_RUN(TestLayersTimeout);
	return test_pass("context_test");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
