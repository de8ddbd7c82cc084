/*
 * order_violation.c - use before init by another goroutine.
 *
 * main starts the initializer, waits until it says it has started, then
 * starts the user - which assumes the configuration is there.  The
 * initializer announces itself before it publishes the configuration;
 * normally it goes straight on to publish while main is still waking up,
 * but if main runs first the user finds none.  Fix: announce after the
 * publish, or have the user wait for a done channel the initializer
 * closes (or sync.Once).
 */
#include "bug.h"

typedef struct config {
	int port;
} config;

static config *cfg; /* under cfgmu */
static gort_mutex cfgmu = GORT_MUTEX_INIT;
static gort_chan *announce;
static gort_waitgroup wg = GORT_WAITGROUP_INIT;

static void initializer(void *arg)
{
	static config c;
	c.port = 8080;
	int me = 1;
	gort_chan_send(announce, &me);
	gort_mutex_lock(&cfgmu); /* the publish: locked, but ordered after nothing */
	cfg = &c;
	gort_mutex_unlock(&cfgmu);
	gort_waitgroup_done(&wg);
}

static void user(void *arg)
{
	gort_mutex_lock(&cfgmu);
	config *c = cfg;
	gort_mutex_unlock(&cfgmu);
	if (c == NULL) /* BUG: nothing orders this after the publish */
		found("order violation: configuration used before it was initialized");
	gort_waitgroup_done(&wg);
}

static void body(void)
{
	announce = gort_chan_make(sizeof(int), 1);
	gort_waitgroup_add(&wg, 2);
	gort_go(initializer, NULL);
	int started;
	gort_chan_recv(announce, &started); /* "it has started: it is initialized" */
	gort_go(user, NULL);
	gort_waitgroup_wait(&wg);
}

BUG_MAIN(body)
