/*
 * errgroup.c - golang.org/x/sync/errgroup: a WaitGroup whose goroutines
 * return errors, the first of which is kept and cancels the group's
 * context.
 *
 * Built on the public API alone, as the Go package is on sync and context:
 *   wg    counts the goroutines started and not yet finished
 *   sem   SetLimit's semaphore, a channel of limit empty slots: Go sends to
 *         start a goroutine and its end receives (NULL: no limit)
 *   err   the first error's code, set once by compare-and-swap (Go's
 *         errOnce); its winner copies its message into first before it
 *         counts itself done, so Wait's caller reads a whole gort_error
 *   ctx   WithContext's context, canceled at the first error and by Wait
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime2.h"

struct gort_errgroup {
	gort_waitgroup wg;
	gort_chan *sem;
	_Atomic int err;
	gort_error first; /* the first error, whole; written by err's winner */
	gort_context *ctx;
};

/*
 * What a goroutine of the group runs, for g: fn(arg), fn(&args) or
 * fni(id).  One allocation per goroutine, as a Go closure's; the argument
 * block (args form) follows the job, copied, so the caller's may be
 * reused at once.
 */
typedef struct job {
	gort_errgroup *g;
	gort_errgroup_func fn;
	gort_errgroup_func_int fni; /* the integer form, else NULL */
	void *arg;
	intptr_t id;
	_Alignas(max_align_t) unsigned char args[];
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
	gort_error e = {0}; /* what fn fills with gort_errorf, if it fails */
	int err = j->fni != NULL ? j->fni(j->id, &e) : j->fn(j->arg, &e);
	free(j);
	int none = 0;
	if (err != 0 && atomic_compare_exchange_strong(&g->err, &none, err)) {
		/* A failure fn did not describe is named by its code alone. */
		if (e.msg[0] == '\0')
			gort_errorf(&e, err, "%s", "");
		e.code = err;
		g->first = e;
		if (g->ctx != NULL)
			gort_context_cancel(g->ctx);
	}
	if (g->sem != NULL)
		gort_chan_recv(g->sem, NULL);
	gort_waitgroup_done(&g->wg);
}

/* newjob: a job with room for size bytes of arguments. */
static job *newjob(gort_errgroup *g, bool nilfn, size_t size)
{
	if (nilfn)
		gort__fatal("go of nil func value");
	job *j = malloc(sizeof *j + size);
	if (j == NULL)
		gort__throw("out of memory starting a goroutine of an errgroup");
	*j = (job){.g = g};
	return j;
}

static void start(job *j)
{
	gort_waitgroup_add(&j->g->wg, 1);
	gort_go(run, j);
}

void gort_errgroup_go(gort_errgroup *g, gort_errgroup_func fn, void *arg)
{
	job *j = newjob(g, fn == NULL, 0);
	j->fn = fn;
	j->arg = arg;
	if (g->sem != NULL)
		gort_chan_send(g->sem, NULL);
	start(j);
}

void gort_errgroup_go_args(gort_errgroup *g, gort_errgroup_func fn, const void *args, size_t size)
{
	job *j = newjob(g, fn == NULL, size);
	j->fn = fn;
	j->arg = j->args;
	if (size > 0)
		memcpy(j->args, args, size);
	if (g->sem != NULL)
		gort_chan_send(g->sem, NULL);
	start(j);
}

void gort_errgroup_go_int(gort_errgroup *g, gort_errgroup_func_int fn, intptr_t id)
{
	job *j = newjob(g, fn == NULL, 0);
	j->fni = fn;
	j->id = id;
	if (g->sem != NULL)
		gort_chan_send(g->sem, NULL);
	start(j);
}

bool gort_errgroup_trygo(gort_errgroup *g, gort_errgroup_func fn, void *arg)
{
	if (fn == NULL)
		gort__fatal("go of nil func value");
	if (g->sem != NULL && !gort_chan_trysend(g->sem, NULL))
		return false;
	job *j = newjob(g, false, 0);
	j->fn = fn;
	j->arg = arg;
	start(j);
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

const gort_error *gort_errgroup_error(const gort_errgroup *g)
{
	return atomic_load(&((gort_errgroup *)g)->err) != 0 ? &g->first : NULL;
}

/* What gort_defer_free(g) defers. */
void gort__defer_errgroup_free(void *g)
{
	gort_errgroup_free(g);
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
