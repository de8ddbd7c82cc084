/*
 * ctx_errgroup - errgroup (errgroup.c): Wait waits for all; the first error
 * wins and cancels the group's context; SetLimit's bound, counted exactly;
 * TryGo at the limit; SetLimit with goroutines active panics; the
 * argument-block and integer forms; the first error whole (its message)
 * through Wait; errors.New's error fails the group.
 */
#include <errno.h>
#include <string.h>

#include "harness.h"

static atomic_long finished;

static int ok_job(void *arg, gort_error *err)
{
	gort_gosched();
	test_done(&finished);
	return 0;
}

/* Wait returns only after every fn has returned; 0 when none failed. */
static void test_wait_all(void)
{
	atomic_store(&finished, 0);
	gort_errgroup *g = gort_errgroup_new();
	for (int i = 0; i < 100; i++)
		gort_errgroup_go(g, ok_job, NULL);
	CHECK(gort_errgroup_wait(g) == 0, "an error from jobs that all succeeded");
	CHECK(atomic_load(&finished) == 100, "Wait returned with %ld of 100 done", atomic_load(&finished));
	gort_errgroup_free(g);
}

/* The first error wins and cancels ctx; the others see ctx done and
 * return their own error, which Wait does not return. */
typedef struct firsterr {
	gort_context *ctx;
	gort_chan *go; /* closed to let the failing job fail */
} firsterr;

static int fail_first(void *arg, gort_error *err)
{
	firsterr *f = arg;
	gort_chan_recv(f->go, NULL);
	return -1;
}

static int wait_ctx(void *arg, gort_error *err)
{
	firsterr *f = arg;
	gort_chan_recv(gort_context_done(f->ctx), NULL);
	return gort_context_err(f->ctx);
}

static void test_first_error(void)
{
	firsterr f = {.go = gort_chan_make(0, 0)};
	gort_context *parent = gort_context_with_value(gort_context_background(), &f, "v");
	gort_errgroup *g = gort_errgroup_with_context(parent, &f.ctx);
	CHECK(gort_context_value(f.ctx, &f) != NULL, "the group's context derives from parent");
	for (int i = 0; i < 10; i++)
		gort_errgroup_go(g, wait_ctx, &f);
	gort_errgroup_go(g, fail_first, &f);
	CHECK(gort_context_err(f.ctx) == 0, "canceled before any error");
	gort_chan_close(f.go);
	CHECK(gort_errgroup_wait(g) == -1, "not the first error");
	CHECK(gort_context_err(f.ctx) == GORT_ECANCELED, "ctx: %d", gort_context_err(f.ctx));
	CHECK(gort_context_err(parent) == 0, "the parent was canceled");
	gort_errgroup_free(g);
	gort_context_release(parent);
	gort_chan_free(f.go);
}

/* Wait cancels the context even when nothing failed. */
static void test_wait_cancels(void)
{
	gort_context *ctx;
	gort_errgroup *g = gort_errgroup_with_context(gort_context_background(), &ctx);
	gort_errgroup_go(g, ok_job, NULL);
	CHECK(gort_errgroup_wait(g) == 0, "error");
	CHECK(gort_context_err(ctx) == GORT_ECANCELED, "Wait left ctx live");
	gort_errgroup_free(g);
}

/*
 * SetLimit(n): never more than n at once, and exactly n reached.  The jobs
 * hold at a gate until it opens, so the first LIMIT are all running at
 * once, and the launcher's next Go cannot return: counted, not timed.
 */
enum { LIMIT = 3, JOBS = 60 };
static atomic_long running, peak, launched;
static gort_chan *gate;

static int limited(void *arg, gort_error *err)
{
	long now = atomic_fetch_add(&running, 1) + 1;
	CHECK(now <= LIMIT, "%ld goroutines at once, limit %d", now, LIMIT);
	for (long p = atomic_load(&peak); now > p && !atomic_compare_exchange_weak(&peak, &p, now);)
		;
	gort_chan_recv(gate, NULL);
	gort_gosched();
	atomic_fetch_sub(&running, 1);
	return 0;
}

static void launcher(void *arg)
{
	for (int i = 0; i < JOBS; i++) {
		gort_errgroup_go(arg, limited, NULL);
		test_done(&launched);
	}
}

static void test_limit(void)
{
	gate = gort_chan_make(0, 0);
	gort_errgroup *g = gort_errgroup_new();
	gort_errgroup_set_limit(g, LIMIT);
	gort_go(launcher, g);
	test_wait(&running, LIMIT, "the first LIMIT jobs");
	for (int i = 0; i < 100; i++)
		gort_gosched();
	CHECK(atomic_load(&launched) == LIMIT, "Go returned %ld times with %d jobs held", atomic_load(&launched),
	      LIMIT);
	gort_chan_close(gate);
	test_wait(&launched, JOBS, "the launcher");
	CHECK(gort_errgroup_wait(g) == 0, "error");
	CHECK(atomic_load(&peak) == LIMIT && atomic_load(&running) == 0, "peak %ld, running %ld",
	      atomic_load(&peak), atomic_load(&running));
	gort_errgroup_free(g);
	gort_chan_free(gate);
}

/* TryGo: refused at the limit, accepted once a slot frees. */
static int hold(void *arg, gort_error *err)
{
	gort_chan_recv(arg, NULL);
	return 0;
}

static void test_trygo(void)
{
	gort_chan *release = gort_chan_make(0, 0);
	gort_errgroup *g = gort_errgroup_new();
	gort_errgroup_set_limit(g, 2);
	CHECK(gort_errgroup_trygo(g, hold, release), "first");
	CHECK(gort_errgroup_trygo(g, hold, release), "second");
	CHECK(!gort_errgroup_trygo(g, hold, release), "third, over the limit");
	gort_chan_send(release, NULL); /* one returns: a slot frees once it has counted itself out */
	while (!gort_errgroup_trygo(g, hold, release))
		gort_gosched();
	gort_chan_close(release);
	CHECK(gort_errgroup_wait(g) == 0, "error");
	gort_errgroup_set_limit(g, -1); /* none active: allowed */
	for (int i = 0; i < 10; i++)
		CHECK(gort_errgroup_trygo(g, ok_job, NULL), "no limit");
	gort_errgroup_wait(g);
	gort_errgroup_free(g);
	gort_chan_free(release);
}

static void set_limit_catching(gort_errgroup *g, test_caught *got)
{
	GORT_FRAME(return);
	gort_defer(test_catch_typed, got);
	gort_errgroup_set_limit(g, 5);
}

/* SetLimit with goroutines active panics, as Go's. */
static void test_limit_active(void)
{
	gort_chan *release = gort_chan_make(0, 0);
	gort_errgroup *g = gort_errgroup_new();
	gort_errgroup_set_limit(g, 1);
	gort_errgroup_go(g, hold, release);
	test_caught got = {0};
	set_limit_catching(g, &got);
	CHECK(got.value != NULL && strcmp(got.value, "errgroup: modify limit while 1 goroutines in the group are still active") == 0,
	      "panic: %s", got.value ? got.value : "(none)");
	gort_chan_close(release);
	gort_errgroup_wait(g);
	gort_errgroup_free(g);
	gort_chan_free(release);
}

/* The integer form: each id arrives once; the argument-block form: the
 * block is a copy, the caller's reused at once. */
enum { FORMS = 200 };
static atomic_long seen[FORMS];

static int by_id(intptr_t id, gort_error *err)
{
	CHECK(id >= 0 && id < FORMS, "id %ld", (long)id);
	atomic_fetch_add(&seen[id], 1);
	return 0;
}

typedef struct block {
	long id;
	char name[40]; /* a block larger than a pointer */
	double scale;
} block;

static int by_block(void *arg, gort_error *err)
{
	block *b = arg;
	char want[40];
	snprintf(want, sizeof want, "job-%ld", b->id);
	CHECK((strcmp(b->name, want) == 0 || strcmp(b->name, "with") == 0) && b->scale == 0.5 * (double)b->id, "block %ld: %s %g", b->id, b->name,
	      b->scale);
	atomic_fetch_add(&seen[b->id], 1);
	return 0;
}

static void test_forms(void)
{
	for (int i = 0; i < FORMS; i++)
		atomic_store(&seen[i], 0);
	gort_errgroup *g = gort_errgroup_new();
	gort_errgroup_set_limit(g, 7);
	for (int i = 0; i < FORMS; i++)
		gort_errgroup_go_int(g, by_id, i);
	CHECK(gort_errgroup_wait(g) == 0 && gort_errgroup_error(g) == NULL, "error");
	block b;
	for (int i = 0; i < FORMS; i++) {
		b = (block){.id = i, .scale = 0.5 * i};
		snprintf(b.name, sizeof b.name, "job-%d", i);
		gort_errgroup_go_args(g, by_block, &b, sizeof b);
		memset(&b, 0xff, sizeof b); /* the group copied it */
	}
	for (int i = 0; i < FORMS; i++)
		gort_errgroup_go_with(g, by_block, block, .id = i, .name = "with", .scale = 0.5 * i);
	CHECK(gort_errgroup_wait(g) == 0, "error");
	for (int i = 0; i < FORMS; i++)
		CHECK(atomic_load(&seen[i]) == 3, "job %d ran %ld times", i, atomic_load(&seen[i]));
	gort_errgroup_free(g);
}

/* The first error, whole: its message chain comes out of Wait; an fn that
 * fails without a message is named by its code; errors.New fails. */
static int fail_with_message(intptr_t id, gort_error *err)
{
	if (id != 3)
		return 0;
	gort_errorf(err, -ECONNREFUSED, "dial 10.0.0.%ld:80", (long)id);
	return gort_error_wrap(err, "fetch job %ld", (long)id);
}

static int fail_bare(intptr_t id, gort_error *err)
{
	return id == 1 ? GORT_ETIMEOUT : 0;
}

static int fail_new(intptr_t id, gort_error *err)
{
	return gort_error_new(err, "status %ld", (long)id);
}

static void test_error_message(void)
{
	gort_errgroup *g = gort_errgroup_new();
	for (int i = 0; i < 8; i++)
		gort_errgroup_go_int(g, fail_with_message, i);
	CHECK(gort_errgroup_wait(g) == -ECONNREFUSED, "code");
	const gort_error *e = gort_errgroup_error(g);
	CHECK(e != NULL && e->code == -ECONNREFUSED && gort_error_is(e, -ECONNREFUSED), "error");
	CHECK(strcmp(e->msg, "fetch job 3: dial 10.0.0.3:80: Connection refused") == 0, "msg: %s", e->msg);
	gort_errgroup_free(g);

	g = gort_errgroup_new();
	gort_errgroup_go_int(g, fail_bare, 1);
	CHECK(gort_errgroup_wait(g) == GORT_ETIMEOUT, "bare code");
	CHECK(strcmp(gort_errgroup_error(g)->msg, "i/o timeout") == 0, "msg: %s", gort_errgroup_error(g)->msg);
	gort_errgroup_free(g);

	gort_context *ctx;
	g = gort_errgroup_with_context(gort_context_background(), &ctx);
	gort_errgroup_go_int(g, fail_new, 404);
	CHECK(gort_errgroup_wait(g) == GORT_EERROR, "errors.New did not fail the group");
	CHECK(strcmp(gort_errgroup_error(g)->msg, "status 404") == 0, "msg: %s", gort_errgroup_error(g)->msg);
	CHECK(gort_context_err(ctx) == GORT_ECANCELED, "ctx");
	gort_errgroup_free(g);
}

/* gort_defer_free(g): the group freed when the frame returns. */
static void deferred_group(void)
{
	GORT_FRAME_VOID;
	gort_errgroup *g = gort_errgroup_new();
	gort_defer_free(g);
	gort_errgroup_go_int(g, by_id, 0);
	gort_errgroup_wait(g);
}

static void test_defer_free(void)
{
	atomic_store(&seen[0], 0);
	deferred_group();
	CHECK(atomic_load(&seen[0]) == 1, "ran %ld", atomic_load(&seen[0]));
}

static int test_main(int argc, char **argv)
{
	TEST_RUN(test_wait_all);
	TEST_RUN(test_first_error);
	TEST_RUN(test_wait_cancels);
	TEST_RUN(test_limit);
	TEST_RUN(test_trygo);
	TEST_RUN(test_limit_active);
	TEST_RUN(test_forms);
	TEST_RUN(test_error_message);
	TEST_RUN(test_defer_free);
	return test_pass("ctx_errgroup");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
