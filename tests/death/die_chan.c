/*
 * die_chan - channel and select programs that must die, exit status 2:
 *
 * Deadlocks ("fatal error: all goroutines are asleep - deadlock!", then each
 * goroutine's header with Go's wait reason):
 *   recv            main receives from an unbuffered channel nobody sends on
 *   send            main sends on an unbuffered channel nobody receives from
 *   recv_buffered   main receives from an empty buffered channel
 *   send_buffered   main sends on a full buffered channel
 *   recv_nil        main receives from a nil channel
 *   send_nil        main sends on a nil channel
 *   select          main selects over two channels nobody uses
 *   select_nil      main selects (blocking) over two nil channels: Go parks
 *                   such a select as [select]
 *   select_nocases  gort_select(NULL, 0, true): Go's select {}
 *   all             goroutines 2..12 each blocked in a different way, main
 *                   in gort_waitgroup_wait: every header, in creation order
 *
 * Panics ("panic: <message>", blank line, the panicking goroutine):
 *   send_closed          main sends on a closed channel
 *   send_closed_blocked  goroutine 2 is blocked sending; main closes the
 *                        channel; goroutine 2 panics
 *   select_send_closed   main selects with a send case on a closed channel
 *   select_closed_blocked goroutine 2 is blocked in a select sending; main
 *                        closes the channel; goroutine 2 panics
 *   close_closed         close of a closed channel
 *   close_nil            close of a nil channel
 *
 * Lifetime misuse ("fatal error: gort: ..."):
 *   free_blocked         gort_chan_free while goroutine 2 is blocked receiving
 *   free_blocked_select  gort_chan_free while goroutine 2 is blocked in a
 *                        select on the channel
 *   freed_send, freed_recv, freed_trysend, freed_tryrecv, freed_close,
 *   freed_select, freed_free   an operation on a freed channel
 */
#define _GNU_SOURCE
#include <string.h>

#include "../harness.h"

static gort_waitgroup forever = GORT_WAITGROUP_INIT;

static void let_others_run(void)
{
	for (int i = 0; i < 100; i++)
		gort_gosched();
}

/* block_main parks main for good without deadlock being its own reason. */
static GORT_NORETURN void block_main(void)
{
	gort_waitgroup_add(&forever, 1);
	gort_waitgroup_wait(&forever);
	fprintf(stderr, "die_chan: main woke up\n");
	exit(1);
}

/* ---- goroutine bodies for "all" and the blocked cases ----------------------- */

static gort_chan *c_recv, *c_send, *c_sel1, *c_sel2;
static gort_mutex held_mutex;
static gort_rwmutex held_write, held_read;
static gort_mutex cond_lock;
static gort_cond cond = GORT_COND_INIT(&cond_lock);
static gort_waitgroup other_wg;

static void g_recv(void *arg) { gort_chan_recv(arg != NULL ? arg : c_recv, NULL); }
static void g_send(void *arg)
{
	long v = 1;
	gort_chan_send(arg != NULL ? arg : c_send, &v);
}
static void g_recv_nil(void *arg) { gort_chan_recv(NULL, NULL); }
static void g_send_nil(void *arg)
{
	long v = 1;
	gort_chan_send(NULL, &v);
}
static void g_select(void *arg)
{
	long v = 1;
	GORT_SELECT(GORT_CASE_RECV(c_sel1, NULL, NULL), GORT_CASE_SEND(c_sel2, &v));
}
static void g_select_send(void *arg)
{
	long v = 1;
	GORT_SELECT(GORT_CASE_SEND((gort_chan *)arg, &v), GORT_CASE_RECV(c_sel1, NULL, NULL));
}
static void g_select_nocases(void *arg) { gort_select(NULL, 0, true); }
static void g_mutex(void *arg) { gort_mutex_lock(&held_mutex); }
static void g_rlock(void *arg) { gort_rwmutex_rlock(&held_write); }
static void g_wlock(void *arg) { gort_rwmutex_lock(&held_read); }
static void g_cond(void *arg)
{
	gort_mutex_lock(&cond_lock);
	gort_cond_wait(&cond);
}
static void g_wg(void *arg) { gort_waitgroup_wait(&other_wg); }

static void all(void)
{
	c_recv = gort_chan_make(sizeof(long), 0);
	c_send = gort_chan_make(sizeof(long), 0);
	c_sel1 = gort_chan_make(sizeof(long), 0);
	c_sel2 = gort_chan_make(sizeof(long), 0);
	gort_mutex_lock(&held_mutex);
	gort_rwmutex_lock(&held_write);
	gort_rwmutex_rlock(&held_read);
	gort_waitgroup_add(&other_wg, 1);
	gort_func fns[] = {g_recv,  g_send,  g_recv_nil, g_send_nil, g_select, g_select_nocases,
	                   g_mutex, g_rlock, g_wlock,    g_cond,     g_wg};
	/* Ids come from the P's batch (goidcache): stay on this P while
	 * creating them - a locked goroutine is not asked to yield, and a
	 * preemption on a loaded machine could move us to the other P and its
	 * batch - so that they are 2, 3, ... as the expected dump says. */
	gort_lock_os_thread();
	for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
		CHECK(gort_go(fns[i], NULL) == (int64_t)i + 2, "goroutine ids in creation order");
	gort_unlock_os_thread();
	block_main();
}

static int test_main(int argc, char **argv)
{
	CHECK(argc == 2, "usage: die_chan MODE");
	const char *mode = argv[1];
	long v = 1;
	gort_chan *c;

	/* Deadlocks. */
	if (strcmp(mode, "recv") == 0) {
		gort_chan_recv(gort_chan_make(sizeof(long), 0), &v);
	} else if (strcmp(mode, "send") == 0) {
		gort_chan_send(gort_chan_make(sizeof(long), 0), &v);
	} else if (strcmp(mode, "recv_buffered") == 0) {
		gort_chan_recv(gort_chan_make(sizeof(long), 4), &v);
	} else if (strcmp(mode, "send_buffered") == 0) {
		c = gort_chan_make(sizeof(long), 2);
		for (int i = 0; i < 3; i++)
			gort_chan_send(c, &v);
	} else if (strcmp(mode, "recv_nil") == 0) {
		gort_chan_recv(NULL, &v);
	} else if (strcmp(mode, "send_nil") == 0) {
		gort_chan_send(NULL, &v);
	} else if (strcmp(mode, "select") == 0) {
		GORT_SELECT(GORT_CASE_RECV(gort_chan_make(sizeof(long), 0), &v, NULL),
		            GORT_CASE_SEND(gort_chan_make(sizeof(long), 0), &v));
	} else if (strcmp(mode, "select_nil") == 0) {
		GORT_SELECT(GORT_CASE_RECV(NULL, &v, NULL), GORT_CASE_SEND(NULL, &v));
	} else if (strcmp(mode, "select_nocases") == 0) {
		gort_select(NULL, 0, true);
	} else if (strcmp(mode, "all") == 0) {
		all();

	/* Panics. */
	} else if (strcmp(mode, "send_closed") == 0) {
		c = gort_chan_make(sizeof(long), 1);
		gort_chan_close(c);
		gort_chan_send(c, &v);
	} else if (strcmp(mode, "send_closed_blocked") == 0) {
		c = gort_chan_make(sizeof(long), 0);
		CHECK(gort_go(g_send, c) == 2, "the sender is goroutine 2");
		let_others_run();
		gort_chan_close(c);
		block_main();
	} else if (strcmp(mode, "select_send_closed") == 0) {
		c = gort_chan_make(sizeof(long), 1);
		gort_chan_close(c);
		GORT_SELECT(GORT_CASE_SEND(c, &v), GORT_CASE_RECV(NULL, &v, NULL));
	} else if (strcmp(mode, "select_closed_blocked") == 0) {
		c_sel1 = gort_chan_make(sizeof(long), 0);
		c = gort_chan_make(sizeof(long), 0);
		CHECK(gort_go(g_select_send, c) == 2, "the selector is goroutine 2");
		let_others_run();
		gort_chan_close(c);
		block_main();
	} else if (strcmp(mode, "close_closed") == 0) {
		c = gort_chan_make(sizeof(long), 0);
		gort_chan_close(c);
		gort_chan_close(c);
	} else if (strcmp(mode, "close_nil") == 0) {
		gort_chan_close(NULL);

	/* Lifetime misuse. */
	} else if (strcmp(mode, "free_blocked") == 0) {
		c = gort_chan_make(sizeof(long), 0);
		CHECK(gort_go(g_recv, c) == 2, "the receiver is goroutine 2");
		let_others_run();
		gort_chan_free(c);
	} else if (strcmp(mode, "free_blocked_select") == 0) {
		c_sel1 = gort_chan_make(sizeof(long), 0);
		c = gort_chan_make(sizeof(long), 0);
		CHECK(gort_go(g_select_send, c) == 2, "the selector is goroutine 2");
		let_others_run();
		gort_chan_free(c);
	} else if (strncmp(mode, "freed_", 6) == 0) {
		c = gort_chan_make(sizeof(long), 1);
		gort_chan_free(c);
		const char *op = mode + 6;
		if (strcmp(op, "send") == 0)
			gort_chan_send(c, &v);
		else if (strcmp(op, "recv") == 0)
			gort_chan_recv(c, &v);
		else if (strcmp(op, "trysend") == 0)
			gort_chan_trysend(c, &v);
		else if (strcmp(op, "tryrecv") == 0)
			gort_chan_tryrecv(c, &v, NULL);
		else if (strcmp(op, "close") == 0)
			gort_chan_close(c);
		else if (strcmp(op, "select") == 0)
			GORT_SELECT_DEFAULT(GORT_CASE_RECV(c, &v, NULL));
		else if (strcmp(op, "free") == 0)
			gort_chan_free(c);
		else
			CHECK(0, "unknown mode %s", mode);
	} else {
		CHECK(0, "unknown mode %s", mode);
	}
	let_others_run();
	fprintf(stderr, "die_chan %s: still alive\n", mode);
	return 1;
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
