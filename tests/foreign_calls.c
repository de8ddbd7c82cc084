/*
 * foreign_calls - every kind of gort call from threads gort did not create.
 *
 * 16 pthreads the program makes itself call gort, each ROUNDS times: a
 * channel send that a goroutine receives (the thread blocks until it
 * does), a receive of what a goroutine sends, a select of a send and a
 * receive, a contended gort_mutex (goroutines take it too), gort_go,
 * gort_waitgroup, gort_sleep, and a TCP round trip to an echo goroutine.
 * Every value is checked: what was sent arrived once, sums and counts are
 * exact.  A thread's goroutine keeps its id from call to call (its extra
 * M, kept), and no two threads share one.
 *
 *   foreign_calls main    the threads are made by goroutine 1 (gort_main)
 *   foreign_calls start   embedded: plain main calls gort_start, and the
 *                         main thread is itself a foreign thread - it
 *                         starts the goroutines and waits for everyone;
 *                         gort_start twice (0, then 1), SIGQUIT left alone
 *   foreign_calls exits   threads that call once and exit, one after the
 *                         other: each gives its M back, so the next reuses
 *                         it - the count of extra Ms stays 1
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "net_util.h"

enum { NTHREADS = 16, ROUNDS = 200, SPAWN_EVERY = 20, GROUNDS = 1000, EXITERS = 50 };
#define TOTAL ((long)NTHREADS * ROUNDS)

extern _Atomic int32_t gort__extram_count; /* test hook: extra Ms made (cgocall.c) */

static gort_chan *to_g, *from_g, *sel_in, *sel_out, *sums;
static gort_mutex mu = GORT_MUTEX_INIT;
static long guarded;
static gort_waitgroup spawned = GORT_WAITGROUP_INIT, threads_wg = GORT_WAITGROUP_INIT;
static gort_waitgroup gs_wg = GORT_WAITGROUP_INIT, echo_wg = GORT_WAITGROUP_INIT;
static atomic_long spawned_ran, from_sum, sel_sent, sel_recvd, sel_recv_sum;
static int port;
static int64_t goids[NTHREADS];
static pthread_barrier_t bound;

/* receiver: takes every value the threads send; its sum goes to sums */
static void receiver(void *arg)
{
	long sum = 0;
	for (long i = 0; i < TOTAL; i++) {
		long v;
		CHECK(gort_chan_recv(to_g, &v), "to_g closed");
		sum += v;
	}
	gort_chan_send(sums, &sum);
	gort_waitgroup_done(&gs_wg);
}

/* sender: 0..TOTAL-1, one to each receive of the threads */
static void sender(void *arg)
{
	for (long i = 0; i < TOTAL; i++)
		gort_chan_send(from_g, &i);
	gort_waitgroup_done(&gs_wg);
}

/* the select's other ends: feeds sel_in, drains sel_out, until closed */
static void sel_feeder(void *arg)
{
	long v = 1;
	for (;;) {
		bool ok = true;
		long got;
		int i = GORT_SELECT(GORT_CASE_SEND(sel_in, &v), GORT_CASE_RECV(sel_out, &got, &ok));
		if (i == 1 && !ok)
			break;
		if (i == 0)
			v++;
	}
	gort_waitgroup_done(&gs_wg);
}

static void locker(void *arg)
{
	for (int i = 0; i < GROUNDS; i++) {
		gort_mutex_lock(&mu);
		guarded++;
		gort_mutex_unlock(&mu);
		if (i % 100 == 0)
			gort_gosched();
	}
	gort_waitgroup_done(&gs_wg);
}

static void spawned_fn(void *arg)
{
	atomic_fetch_add(&spawned_ran, 1);
	gort_waitgroup_done(&spawned);
}

static void echo_conn(void *arg)
{
	gort_conn *c = arg;
	char buf[64];
	long n;
	while ((n = gort_conn_read(c, buf, sizeof buf)) > 0)
		CHECK(gort_conn_write(c, buf, (size_t)n) == n, "echo write");
	gort_conn_close(c);
	gort_waitgroup_done(&echo_wg);
}

static void echo_server(void *arg)
{
	gort_conn *ln = arg;
	for (int i = 0; i < NTHREADS; i++) {
		gort_conn *c;
		CHECK_OK(gort_accept(ln, &c));
		gort_waitgroup_add(&echo_wg, 1);
		gort_go(echo_conn, c);
	}
	gort_conn_close(ln);
	gort_waitgroup_done(&gs_wg);
}

static void *foreign(void *arg)
{
	long t = (long)(intptr_t)arg;
	goids[t] = gort_goid();
	/* every thread bound before any exits: an M given back at exit may
	 * serve a later thread, with its goroutine (see exits) */
	pthread_barrier_wait(&bound);
	for (long r = 0; r < ROUNDS; r++) {
		long v = t * ROUNDS + r;
		gort_chan_send(to_g, &v);
		long w;
		CHECK(gort_chan_recv(from_g, &w), "from_g closed");
		atomic_fetch_add(&from_sum, w);

		long x = 1000 + r, got = 0;
		bool ok = false;
		switch (GORT_SELECT(GORT_CASE_SEND(sel_out, &x), GORT_CASE_RECV(sel_in, &got, &ok))) {
		case 0:
			atomic_fetch_add(&sel_sent, 1);
			break;
		case 1:
			CHECK(ok && got > 0, "select received %ld ok=%d", got, ok);
			atomic_fetch_add(&sel_recvd, 1);
			atomic_fetch_add(&sel_recv_sum, 1);
			break;
		default:
			CHECK(0, "select returned another case");
		}

		gort_mutex_lock(&mu);
		guarded++;
		gort_mutex_unlock(&mu);

		if (r % SPAWN_EVERY == 0) {
			gort_waitgroup_add(&spawned, 1);
			gort_go(spawned_fn, NULL);
		}
		CHECK(gort_goid() == goids[t], "thread %ld: goroutine id changed between calls", t);
	}
	int64_t t0 = gort_nanotime();
	gort_sleep(2 * MS);
	CHECK(gort_nanotime() - t0 >= 2 * MS, "gort_sleep returned early");

	char addr[64], msg[32], back[32];
	test_addr(addr, sizeof addr, port);
	gort_conn *c;
	CHECK_OK(gort_dial("tcp", addr, &c));
	int len = snprintf(msg, sizeof msg, "thread %ld", t);
	CHECK(gort_conn_write(c, msg, (size_t)len) == len, "write");
	long got = 0;
	while (got < len) {
		long n = gort_conn_read(c, back + got, sizeof back - (size_t)got);
		CHECK(n > 0, "read: %ld", n);
		got += n;
	}
	CHECK(memcmp(msg, back, (size_t)len) == 0, "echo differs");
	CHECK_OK(gort_conn_close(c));
	gort_waitgroup_done(&threads_wg);
	return NULL;
}

/* run: the whole test, from goroutine 1 or from the embedding main thread */
static void run(const char *mode)
{
	to_g = gort_chan_make(sizeof(long), 0);
	from_g = gort_chan_make(sizeof(long), 0);
	sel_in = gort_chan_make(sizeof(long), 0);
	sel_out = gort_chan_make(sizeof(long), 0);
	sums = gort_chan_make(sizeof(long), 1);
	gort_conn *ln = test_listen(&port);

	gort_waitgroup_add(&gs_wg, 6);
	gort_go(receiver, NULL);
	gort_go(sender, NULL);
	gort_go(sel_feeder, NULL);
	gort_go(locker, NULL);
	gort_go(locker, NULL);
	gort_go(echo_server, ln);

	pthread_t th[NTHREADS];
	pthread_barrier_init(&bound, NULL, NTHREADS);
	gort_waitgroup_add(&threads_wg, NTHREADS);
	for (long t = 0; t < NTHREADS; t++)
		CHECK(pthread_create(&th[t], NULL, foreign, (void *)(intptr_t)t) == 0, "pthread_create");
	gort_waitgroup_wait(&threads_wg); /* a goroutine, or the foreign main thread, waits */
	for (int t = 0; t < NTHREADS; t++)
		pthread_join(th[t], NULL);
	gort_waitgroup_wait(&spawned);
	gort_chan_close(sel_out);

	long sum = 0;
	CHECK(gort_chan_recv(sums, &sum), "sums");
	CHECK(sum == TOTAL * (TOTAL - 1) / 2, "received sum %ld, want %ld", sum, TOTAL * (TOTAL - 1) / 2);
	CHECK(atomic_load(&from_sum) == TOTAL * (TOTAL - 1) / 2, "from_sum %ld", atomic_load(&from_sum));
	CHECK(atomic_load(&sel_sent) + atomic_load(&sel_recvd) == TOTAL, "select fired %ld + %ld times",
	      atomic_load(&sel_sent), atomic_load(&sel_recvd));
	gort_waitgroup_wait(&gs_wg);
	gort_waitgroup_wait(&echo_wg); /* every connection closed: nothing leaks */
	CHECK(guarded == TOTAL + 2 * GROUNDS, "guarded %ld, want %ld", guarded, TOTAL + 2 * GROUNDS);
	CHECK(atomic_load(&spawned_ran) == TOTAL / SPAWN_EVERY, "spawned ran %ld times",
	      atomic_load(&spawned_ran));
	for (int i = 0; i < NTHREADS; i++)
		for (int j = i + 1; j < NTHREADS; j++)
			CHECK(goids[i] != goids[j], "threads %d and %d share goroutine %lld", i, j,
			      (long long)goids[i]);
	CHECK(gort__extram_count >= NTHREADS, "%d extra Ms for %d threads", gort__extram_count, NTHREADS);
	(void)mode;
}

/* ---- exits: an M given back at thread exit is reused ------------------------ */

static void *once(void *arg)
{
	int64_t *goid = arg;
	*goid = gort_goid();
	return NULL;
}

static void run_exits(void)
{
	int32_t before = gort__extram_count;
	int64_t first = 0;
	for (int i = 0; i < EXITERS; i++) {
		pthread_t t;
		int64_t goid = 0;
		CHECK(pthread_create(&t, NULL, once, &goid) == 0, "pthread_create");
		gort_entersyscall(); /* the thread needs our P, at GOMAXPROCS=1 */
		pthread_join(t, NULL);
		gort_exitsyscall();
		if (i == 0)
			first = goid;
		/* the same M, so the same goroutine, serves each thread in turn */
		CHECK(goid == first, "thread %d ran as goroutine %lld, the first as %lld", i,
		      (long long)goid, (long long)first);
	}
	CHECK(gort__extram_count == before + 1, "%d threads that exited made %d extra Ms", EXITERS,
	      gort__extram_count - before);
}

static int test_main(int argc, char **argv)
{
	if (strcmp(argv[1], "exits") == 0)
		run_exits();
	else
		run(argv[1]);
	return test_pass(argv[1]);
}

int main(int argc, char **argv)
{
	CHECK(argc == 2, "usage: foreign_calls main|start|exits");
	if (strcmp(argv[1], "start") == 0) {
		CHECK(gort_start() == 0, "gort_start: the first call starts the runtime");
		CHECK(gort_start() == 1, "gort_start: the second finds it running");
		struct sigaction quit;
		sigaction(SIGQUIT, NULL, &quit);
		CHECK(!(quit.sa_flags & SA_SIGINFO) && quit.sa_handler == SIG_DFL,
		      "embedded, gort took SIGQUIT (a Go library leaves it to the program)");
		run("start");
		return test_pass("start");
	}
	gort_main(test_main, argc, argv);
}
