/*
 * defer_forms - the defer forms of issue 17: GORT_FRAME_VOID,
 * GORT_FRAME_NORECOVER, and deferring gort's own cleanups without an
 * adapter (gort_defer_close, _free, _unlock, _runlock, _done).
 *
 *   void        a void function recovers and returns; its other deferred
 *               calls ran, in order
 *   norecover   an int function that never recovers: its deferred calls run
 *               on return (the value stands) and when a panic goes through
 *               it to a recovering caller
 *   close       gort_defer_close on a channel (closed after), a connection
 *               (the peer reads end of stream) and a context (canceled, its
 *               reference given back)
 *   unlock      gort_defer_unlock on a mutex and a rwmutex (also through a
 *               panic), gort_defer_runlock
 *   done_free   gort_defer_done lets Wait return; gort_defer_free frees a
 *               channel and an AfterFunc timer that then never fires
 *
 * `defer_forms norecover_recovered` dies: a deferred call recovers in a
 * GORT_FRAME_NORECOVER function.
 */
#define _GNU_SOURCE
#include <string.h>

#include "harness.h"

static int order[8], norder;

static void note(void *arg)
{
	order[norder++] = (int)(intptr_t)arg;
}

static void catch(void *arg)
{
	*(const char **)arg = gort_recover();
}

/* ---- GORT_FRAME_VOID, GORT_FRAME_NORECOVER ------------------------------------- */

static const char *void_caught;
static bool void_after_panic;

static void void_fn(void)
{
	GORT_FRAME_VOID;
	gort_defer(note, (void *)1);
	gort_defer(catch, &void_caught);
	gort_defer(note, (void *)2);
	gort_panic("void boom");
	void_after_panic = true;
}

static void TestVoid(void)
{
	norder = 0;
	void_fn();
	CHECK(void_caught != NULL && strcmp(void_caught, "void boom") == 0, "recovered %s", void_caught);
	CHECK(!void_after_panic, "the code after the panic ran");
	CHECK(norder == 2 && order[0] == 2 && order[1] == 1, "deferred calls: %d", norder);
}

static gort_mutex mu;

static int norecover_fn(bool panics)
{
	GORT_FRAME_NORECOVER;
	gort_mutex_lock(&mu);
	gort_defer_unlock(&mu);
	gort_defer(note, (void *)3);
	if (panics)
		gort_panic("through");
	return 42;
}

/* gort.h's pattern: the recovery statement returns what a deferred call set */
static const char *recovering_caller(void)
{
	const char *caught = NULL;
	GORT_FRAME(return caught);
	gort_defer(catch, &caught);
	norecover_fn(true);
	return "not recovered";
}

static void TestNoRecover(void)
{
	norder = 0;
	CHECK(norecover_fn(false) == 42, "the return value");
	CHECK(norder == 1 && order[0] == 3, "deferred on return: %d", norder);
	CHECK(gort_mutex_trylock(&mu), "the mutex was not unlocked on return");
	gort_mutex_unlock(&mu);
	norder = 0;
	const char *caught = recovering_caller();
	CHECK(caught != NULL && strcmp(caught, "through") == 0, "the caller recovered %s", caught);
	CHECK(norder == 1 && order[0] == 3, "deferred on the way through: %d", norder);
	CHECK(gort_mutex_trylock(&mu), "the mutex was not unlocked by the panic");
	gort_mutex_unlock(&mu);
}

static void norecover_recovers(void)
{
	GORT_FRAME_NORECOVER;
	const char *caught = NULL;
	gort_defer(catch, &caught);
	gort_panic("caught where it cannot be");
}

/* ---- adapters ---------------------------------------------------------------------- */

static void close_chan_fn(gort_chan *c)
{
	GORT_FRAME_VOID;
	gort_defer_close(c);
	int v = 1;
	gort_chan_send(c, &v);
}

static void close_conn_fn(gort_conn *c)
{
	GORT_FRAME_VOID;
	gort_defer_close(c);
	CHECK(gort_conn_write(c, "hi", 2) == 2, "write");
}

static int close_ctx_fn(gort_context *parent, gort_context **keep)
{
	GORT_FRAME_NORECOVER;
	gort_context *ctx = gort_context_with_cancel(parent);
	gort_defer_close(ctx);
	*keep = gort_context_retain(ctx);
	return gort_context_err(ctx);
}

static void TestClose(void)
{
	gort_chan *c = gort_chan_make(sizeof(int), 1);
	close_chan_fn(c);
	int v = 0;
	CHECK(gort_chan_poll(c, &v) == GORT_RECV_VALUE && v == 1, "the value");
	CHECK(gort_chan_poll(c, &v) == GORT_RECV_CLOSED, "not closed");
	gort_chan_free(c);

	gort_conn *ln, *client, *server;
	char addr[64];
	CHECK(gort_listen("tcp", "127.0.0.1:0", &ln) == 0, "listen");
	CHECK(gort_conn_local_addr(ln, addr, sizeof addr) > 0, "addr");
	CHECK(gort_dial("tcp", addr, &client) == 0, "dial");
	CHECK(gort_accept(ln, &server) == 0, "accept");
	close_conn_fn(client);
	char buf[8];
	long n, total = 0;
	while ((n = gort_conn_read(server, buf + total, sizeof buf - (size_t)total)) > 0)
		total += n;
	CHECK(n == 0 && total == 2 && memcmp(buf, "hi", 2) == 0, "the peer read %ld then %ld", total, n);
	gort_conn_close(server);
	gort_conn_close(ln);

	gort_context *keep = NULL;
	CHECK(close_ctx_fn(gort_context_background(), &keep) == 0, "canceled too early");
	CHECK(gort_context_err(keep) == GORT_ECANCELED, "not canceled: %d", gort_context_err(keep));
	gort_context_release(keep);
}

static gort_rwmutex rw;

static void write_locked(bool panics)
{
	GORT_FRAME_VOID;
	gort_rwmutex_lock(&rw);
	gort_defer_unlock(&rw);
	if (panics)
		gort_panic("while write-locked");
}

static void read_locked(void)
{
	GORT_FRAME_VOID;
	gort_rwmutex_rlock(&rw);
	gort_defer_runlock(&rw);
	CHECK(!gort_rwmutex_trylock(&rw), "write-locked while read-locked");
}

static void write_locked_recovering(void)
{
	const char *caught = NULL;
	GORT_FRAME_VOID;
	gort_defer(catch, &caught);
	write_locked(true);
}

static void TestUnlock(void)
{
	write_locked(false);
	CHECK(gort_rwmutex_trylock(&rw), "not unlocked on return");
	gort_rwmutex_unlock(&rw);
	write_locked_recovering();
	CHECK(gort_rwmutex_trylock(&rw), "not unlocked by the panic");
	gort_rwmutex_unlock(&rw);
	read_locked();
	CHECK(gort_rwmutex_trylock(&rw), "not read-unlocked");
	gort_rwmutex_unlock(&rw);
}

static gort_waitgroup wg;
static atomic_long fired;

static void worker(void *arg)
{
	GORT_FRAME_VOID;
	gort_defer_done(&wg);
	(void)arg;
}

static void never(void *arg)
{
	atomic_fetch_add(&fired, 1);
}

static void free_fn(void)
{
	GORT_FRAME_VOID;
	gort_chan *c = gort_chan_make(sizeof(int), 4);
	gort_defer_free(c);
	gort_timer *t = gort_afterfunc(GORT_SECOND, never, NULL); /* freed long before */
	gort_defer_free(t);
	gort_chan_send(c, &(int){1});
}

static void TestDoneFree(void)
{
	gort_waitgroup_add(&wg, 10);
	for (int i = 0; i < 10; i++)
		gort_go(worker, NULL);
	gort_waitgroup_wait(&wg);
	free_fn();
	gort_sleep(GORT_SECOND + 100 * GORT_MILLISECOND);
	CHECK(atomic_load(&fired) == 0, "a freed AfterFunc fired");
}

static int main_fn(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "norecover_recovered") == 0) {
		norecover_recovers();
		return 0;
	}
	TEST_RUN(TestVoid);
	TEST_RUN(TestNoRecover);
	TEST_RUN(TestClose);
	TEST_RUN(TestUnlock);
	TEST_RUN(TestDoneFree);
	return test_pass("defer_forms");
}

int main(int argc, char **argv)
{
	gort_main(main_fn, argc, argv);
}
