/*
 * ctx_context - contexts (context.c): trees, deadlines, values, Done in a
 * select, sleep_ctx, and contexts released from many goroutines at once.
 *
 * Deadlines are checked for their outcome (the error, Done closed), and in
 * time only in the guaranteed direction: nothing is done before its
 * deadline.
 */
#include <string.h>

#include "harness.h"

#define MS GORT_MILLISECOND

static bool closed(gort_chan *c)
{
	bool ok = true;
	return c != NULL && gort_chan_tryrecv(c, NULL, &ok) && !ok;
}

/* Cancel the root: every descendant, values between included, is done
 * with GORT_ECANCELED; a canceled child leaves its parent and siblings alone. */
static void test_tree(void)
{
	gort_context *bg = gort_context_background();
	gort_context *root = gort_context_with_cancel(bg);
	gort_context *a = gort_context_with_cancel(root);
	gort_context *av = gort_context_with_value(a, &a, "a");
	gort_context *a1 = gort_context_with_cancel(av);
	gort_context *a2 = gort_context_with_timeout(av, 3600 * GORT_SECOND);
	gort_context *b = gort_context_with_cancel(root);
	gort_context *all[] = {root, a, av, a1, a2, b};

	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		CHECK(gort_context_err(all[i]) == 0, "ctx %zu done at birth", i);
		CHECK(gort_context_done(all[i]) != NULL && !closed(gort_context_done(all[i])), "ctx %zu", i);
	}
	CHECK(gort_context_done(av) == gort_context_done(a), "a value's Done is its parent's");

	gort_context_cancel(a1);
	CHECK(gort_context_err(a1) == GORT_ECANCELED, "a1: %d", gort_context_err(a1));
	CHECK(gort_context_err(a) == 0 && gort_context_err(a2) == 0 && gort_context_err(root) == 0,
	      "canceling a child touched its parent or sibling");
	gort_context_cancel(a1); /* idempotent */

	gort_context_cancel(root);
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		CHECK(gort_context_err(all[i]) == GORT_ECANCELED, "ctx %zu: err %d", i, gort_context_err(all[i]));
		CHECK(closed(gort_context_done(all[i])), "ctx %zu: Done not closed", i);
	}
	CHECK(strcmp(gort_strerror(GORT_ECANCELED), "context canceled") == 0, "%s", gort_strerror(GORT_ECANCELED));
	CHECK(strcmp(gort_strerror(GORT_EDEADLINE), "context deadline exceeded") == 0, "%s",
	      gort_strerror(GORT_EDEADLINE));

	/* A child of a canceled parent is canceled at once, with its error. */
	gort_context *late = gort_context_with_cancel(a2);
	CHECK(gort_context_err(late) == GORT_ECANCELED && closed(gort_context_done(late)), "late child");
	gort_context_release(late);

	for (int i = (int)(sizeof all / sizeof all[0]) - 1; i >= 0; i--)
		gort_context_end(all[i]);
}

/* Background and TODO: never done; Done is the nil channel. */
static void test_roots(void)
{
	gort_context *roots[] = {gort_context_background(), gort_context_todo()};
	for (int i = 0; i < 2; i++) {
		CHECK(gort_context_done(roots[i]) == NULL && gort_context_err(roots[i]) == 0, "root %d", i);
		CHECK(!gort_context_deadline(roots[i], NULL) && gort_context_value(roots[i], &i) == NULL, "root %d", i);
		gort_context_cancel(roots[i]);
		gort_context_release(gort_context_retain(roots[i]));
		CHECK(gort_context_err(roots[i]) == 0, "root %d canceled", i);
	}
	gort_context *v = gort_context_with_value(roots[0], &roots, "x");
	CHECK(gort_context_done(v) == NULL && gort_context_err(v) == 0, "value on Background");
	gort_context_release(v);
}

/* A deadline fires: GORT_EDEADLINE, never before it; children inherit an
 * earlier parent deadline, keep an earlier one of their own. */
static void test_deadline(void)
{
	int64_t start = gort_nanotime();
	gort_context *p = gort_context_with_timeout(gort_context_background(), 50 * MS);
	int64_t pd;
	CHECK(gort_context_deadline(p, &pd) && pd >= start + 50 * MS, "parent deadline");
	gort_context *later = gort_context_with_timeout(p, 3600 * GORT_SECOND);
	int64_t ld;
	CHECK(gort_context_deadline(later, &ld) && ld == pd, "a later deadline is the parent's");
	gort_context *earlier = gort_context_with_deadline(p, start + 20 * MS);
	int64_t ed;
	CHECK(gort_context_deadline(earlier, &ed) && ed == start + 20 * MS, "an earlier deadline stays");
	gort_context *plain = gort_context_with_cancel(p);
	CHECK(gort_context_deadline(plain, &ld) && ld == pd, "WithCancel inherits the deadline");

	gort_chan_recv(gort_context_done(earlier), NULL);
	CHECK(gort_nanotime() >= start + 20 * MS, "done before its deadline");
	CHECK(gort_context_err(earlier) == GORT_EDEADLINE, "earlier: %d", gort_context_err(earlier));
	gort_chan_recv(gort_context_done(later), NULL);
	CHECK(gort_nanotime() >= pd, "child done before the parent's deadline");
	CHECK(gort_context_err(p) == GORT_EDEADLINE && gort_context_err(later) == GORT_EDEADLINE &&
	          gort_context_err(plain) == GORT_EDEADLINE,
	      "errors %d %d %d", gort_context_err(p), gort_context_err(later), gort_context_err(plain));

	/* A deadline already past: done at birth. */
	gort_context *past = gort_context_with_deadline(gort_context_background(), gort_nanotime() - 1);
	CHECK(gort_context_err(past) == GORT_EDEADLINE && closed(gort_context_done(past)), "past deadline");
	gort_context_end(past);
	/* Canceled before the deadline: canceled, and stays so. */
	gort_context *c = gort_context_with_timeout(gort_context_background(), 20 * MS);
	gort_context_cancel(c);
	gort_sleep(40 * MS);
	CHECK(gort_context_err(c) == GORT_ECANCELED, "err %d", gort_context_err(c));
	gort_context_end(c);

	gort_context_end(plain);
	gort_context_end(earlier);
	gort_context_end(later);
	gort_context_end(p);
}

/* Values: found through the chain, the nearest wins, keys by address. */
static char key_user, key_trace, key_other;
static void test_values(void)
{
	gort_context *c1 = gort_context_with_value(gort_context_background(), &key_user, "alice");
	gort_context *c2 = gort_context_with_cancel(c1);
	gort_context *c3 = gort_context_with_value(c2, &key_trace, "t-1");
	gort_context *c4 = gort_context_with_value(c3, &key_user, "bob");
	CHECK(strcmp(gort_context_value(c3, &key_user), "alice") == 0, "through a cancel node");
	CHECK(strcmp(gort_context_value(c4, &key_user), "bob") == 0, "the nearest wins");
	CHECK(strcmp(gort_context_value(c4, &key_trace), "t-1") == 0, "trace");
	CHECK(gort_context_value(c4, &key_other) == NULL, "missing key");
	CHECK(gort_context_value(c1, &key_trace) == NULL, "a child's value seen from its parent");
	gort_context_release(c4);
	gort_context_release(c3);
	gort_context_end(c2);
	gort_context_release(c1);
}

/* Done in a select with other channels; a nil Done never fires.
 * cancelers counts the cancelers whose reference is back (test_main waits
 * for them, so that the sanitizer finds no context still held at exit). */
static atomic_long cancelers;

static void canceler(void *arg)
{
	gort_sleep(5 * MS);
	gort_context_cancel(arg);
	gort_context_release(arg);
	test_done(&cancelers);
}

static void test_select(void)
{
	gort_chan *work = gort_chan_make(sizeof(int), 0);
	gort_context *ctx = gort_context_with_cancel(gort_context_background());
	gort_go(canceler, gort_context_retain(ctx));
	int v;
	switch (GORT_SELECT(GORT_CASE_RECV(work, &v, NULL), GORT_CASE_RECV(gort_context_done(ctx), NULL, NULL))) {
	case 0:
		CHECK(false, "received from a channel nobody sends on");
		break;
	case 1:
		CHECK(gort_context_err(ctx) == GORT_ECANCELED, "err %d", gort_context_err(ctx));
		break;
	}
	int one = 1;
	CHECK(gort_chan_trysend(work, &one) == false, "no receiver");
	CHECK(GORT_SELECT_DEFAULT(GORT_CASE_RECV(gort_context_done(gort_context_background()), NULL, NULL)) == -1,
	      "Background's Done fired");
	gort_context_end(ctx);
	gort_chan_free(work);
}

/* sleep_ctx: the whole sleep, or the context's error as soon as it is done. */
static void test_sleep_ctx(void)
{
	int64_t start = gort_nanotime();
	CHECK(gort_sleep_ctx(gort_context_background(), 10 * MS) == 0, "sleep");
	CHECK(gort_nanotime() >= start + 10 * MS, "short sleep");
	gort_context *ctx = gort_context_with_timeout(gort_context_background(), 10 * MS);
	int64_t deadline;
	CHECK(gort_context_deadline(ctx, &deadline), "no deadline");
	CHECK(gort_sleep_ctx(ctx, 3600 * GORT_SECOND) == GORT_EDEADLINE, "deadline");
	CHECK(gort_nanotime() >= deadline, "woke before the deadline");
	CHECK(gort_sleep_ctx(ctx, 0) == GORT_EDEADLINE, "a done context");
	gort_context_end(ctx);
	ctx = gort_context_with_cancel(gort_context_background());
	gort_go(canceler, gort_context_retain(ctx));
	CHECK(gort_sleep_ctx(ctx, 3600 * GORT_SECOND) == GORT_ECANCELED, "cancel");
	gort_context_end(ctx);
}

/* Many goroutines derive, cancel and release at once, under a parent
 * canceled half-way: every count comes back, nothing is left linked. */
enum { WORKERS = 64, ROUNDS = 200 };
static atomic_long done_workers;

static void churn(void *arg)
{
	gort_context *parent = arg;
	for (int i = 0; i < ROUNDS; i++) {
		gort_context *c = gort_context_with_timeout(parent, (i % 3) * GORT_MICROSECOND);
		gort_context *d = gort_context_with_cancel(c);
		if (i % 2)
			gort_context_cancel(c);
		if (i % 5 == 0)
			gort_gosched();
		gort_context_end(c); /* d still holds c, and is done with it */
		CHECK(gort_context_err(d) != 0, "round %d: d outlived c's cancel", i);
		gort_context_end(d);
	}
	gort_context_release(parent);
	test_done(&done_workers);
}

static void test_churn(void)
{
	gort_context *parent = gort_context_with_cancel(gort_context_background());
	for (int i = 0; i < WORKERS; i++)
		gort_go(churn, gort_context_retain(parent));
	gort_gosched();
	gort_context_cancel(parent);
	test_wait(&done_workers, WORKERS, "churning workers");
	gort_context_end(parent);
}

static int test_main(int argc, char **argv)
{
	TEST_RUN(test_tree);
	TEST_RUN(test_roots);
	TEST_RUN(test_deadline);
	TEST_RUN(test_values);
	TEST_RUN(test_select);
	TEST_RUN(test_sleep_ctx);
	TEST_RUN(test_churn);
	test_wait(&cancelers, 2, "the cancelers' releases");
	return test_pass("ctx_context");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
