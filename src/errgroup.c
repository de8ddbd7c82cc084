/*
 * errgroup.c - golang.org/x/sync/errgroup: a WaitGroup whose goroutines
 * return errors, the first of which is kept and cancels the group's
 * context.
 *
 * Built on the public API alone, as the Go package is on sync and context:
 *   wg    counts the goroutines started and not yet finished
 *   sem   SetLimit's semaphore, a channel of limit empty slots: Go sends to
 *         start a goroutine and its end receives (NULL: no limit)
 *   err   the first error, set once by compare-and-swap (Go's errOnce)
 *   ctx   WithContext's context, canceled at the first error and by Wait
 */
#include <stdio.h>
#include <stdlib.h>

#include "runtime2.h"

struct gort_errgroup {
	gort_waitgroup wg;
	gort_chan *sem;
	_Atomic int err;
	gort_context *ctx;
};

/* What a goroutine of the group runs: fn(arg), for g. */
typedef struct job {
	gort_errgroup *g;
	gort_errgroup_func fn;
	void *arg;
} job;

gort_errgroup *gort_errgroup_new(void)
{
	gort_errgroup *g = calloc(1, sizeof *g);
	if (g == NULL)
		gort__throw("out of memory allocating an errgroup");
	return g;
}

gort_errgroup *gort_errgroup_with_context(gort_context *parent, gort_context **ctx)
{
	gort_errgroup *g = gort_errgroup_new();
	g->ctx = gort_context_with_cancel(parent);
	*ctx = g->ctx;
	return g;
}

/* run: the goroutine.  The error is kept before the goroutine counts
 * itself done, so that Wait, once it returns, has seen it. */
static void run(void *arg)
{
	job *j = arg;
	gort_errgroup *g = j->g;
	int err = j->fn(j->arg);
	int none = 0;
	if (err != 0 && atomic_compare_exchange_strong(&g->err, &none, err) && g->ctx != NULL)
		gort_context_cancel(g->ctx);
	if (g->sem != NULL)
		gort_chan_recv(g->sem, NULL);
	gort_waitgroup_done(&g->wg);
}

static void start(gort_errgroup *g, gort_errgroup_func fn, void *arg)
{
	if (fn == NULL)
		gort__fatal("go of nil func value");
	gort_waitgroup_add(&g->wg, 1);
	gort_go_with(run, job, .g = g, .fn = fn, .arg = arg);
}

void gort_errgroup_go(gort_errgroup *g, gort_errgroup_func fn, void *arg)
{
	if (g->sem != NULL)
		gort_chan_send(g->sem, NULL);
	start(g, fn, arg);
}

bool gort_errgroup_trygo(gort_errgroup *g, gort_errgroup_func fn, void *arg)
{
	if (g->sem != NULL && !gort_chan_trysend(g->sem, NULL))
		return false;
	start(g, fn, arg);
	return true;
}

void gort_errgroup_set_limit(gort_errgroup *g, int n)
{
	if (g->sem != NULL && gort_chan_len(g->sem) != 0) {
		static char msg[96]; /* a panic message outlives this frame */
		snprintf(msg, sizeof msg, "errgroup: modify limit while %d goroutines in the group are still active",
		         gort_chan_len(g->sem));
		gort_panic_value(msg, &gort_error_type);
		return;
	}
	gort_chan_free(g->sem);
	g->sem = n < 0 ? NULL : gort_chan_make(0, (size_t)n);
}

int gort_errgroup_wait(gort_errgroup *g)
{
	gort_waitgroup_wait(&g->wg);
	if (g->ctx != NULL)
		gort_context_cancel(g->ctx);
	return atomic_load(&g->err);
}

void gort_errgroup_free(gort_errgroup *g)
{
	if (g == NULL)
		return;
	if (g->ctx != NULL)
		gort_context_release(g->ctx);
	if (g->sem != NULL)
		gort_chan_free(g->sem);
	free(g);
}
