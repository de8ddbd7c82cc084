/*
 * showcase.c - Go's concurrency model in a C program.
 *
 * 1. Go's concurrent prime sieve: a chain of goroutines connected by
 *    unbuffered channels, one filter per prime.
 * 2. A million goroutines spawned, run and joined with a WaitGroup.
 * 3. CPU work fanned out over every P, with GOMAXPROCS changed at run time.
 * 4. A select over a result channel and a quit channel.
 * 5. A goroutine wired to its thread with LockOSThread.
 * 6. The netpoller: 100 loopback connections echoing lines, a goroutine
 *    each, with bufio; a read deadline that expires, its error wrapped.
 * 7. defer, panic and recover.
 * Run it with `make demo`; try GOMAXPROCS=1 make demo.
 */
#define _GNU_SOURCE
#include <gort.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- 1. the prime sieve (golang.org/doc/play/sieve.go, in C) ---- */

/* generate sends 2, 3, 4, ... to out. */
static void generate(void *arg)
{
	gort_chan *out = arg;
	for (int64_t i = 2;; i++)
		gort_chan_send(out, &i);
}

struct filter {
	gort_chan *in, *out;
	int64_t prime;
};

/* filter passes on the values from in that prime does not divide. */
static void filter(void *arg)
{
	struct filter *f = arg;
	for (int64_t v;;) {
		gort_chan_recv(f->in, &v);
		if (v % f->prime != 0)
			gort_chan_send(f->out, &v);
	}
}

static void sieve(int n)
{
	gort_chan *ch = gort_chan_make(sizeof(int64_t), 0);
	gort_go(generate, ch);
	printf("the first %d primes, each found by its own goroutine:\n ", n);
	for (int i = 0; i < n; i++) {
		int64_t prime;
		gort_chan_recv(ch, &prime);
		printf(" %lld", (long long)prime);
		gort_chan *next = gort_chan_make(sizeof(int64_t), 0);
		gort_go_with(filter, struct filter, .in = ch, .out = next, .prime = prime);
		ch = next;
	}
	/* The sieve's goroutines stay blocked on their channels; when main
	 * returns the program ends, as in Go. */
	printf("\n\n");
}

/* ---- 2. a million goroutines ---- */

static void tiny(void *arg)
{
	gort_waitgroup_done(arg);
}

static void million(void)
{
	const int n = 1000000;
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	double t0 = now_ms();
	gort_waitgroup_add(&wg, n);
	for (int i = 0; i < n; i++)
		gort_go(tiny, &wg);
	gort_waitgroup_wait(&wg);
	double ms = now_ms() - t0;
	printf("1,000,000 goroutines spawned, run and joined in %.0f ms (%.0f ns each)\n", ms, ms * 1e6 / n);
}

/* ---- 3. fan-out: CPU work over every P ---- */

__attribute__((noinline)) static long fib(long n)
{
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

struct job {
	int id;
	long *results;
	gort_waitgroup *wg;
};

static void compute(void *p)
{
	struct job *j = p;
	j->results[j->id] = fib(24);
	gort_waitgroup_done(j->wg);
}

static double fanout(int procs)
{
	enum { N = 400 };
	static long results[N];
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	gort_gomaxprocs(procs);
	double t0 = now_ms();
	gort_waitgroup_add(&wg, N);
	for (int i = 0; i < N; i++)
		gort_go_with(compute, struct job, .id = i, .results = results, .wg = &wg);
	gort_waitgroup_wait(&wg);
	double ms = now_ms() - t0;
	for (int i = 0; i < N; i++)
		if (results[i] != 46368)
			printf("wrong result %d: %ld\n", i, results[i]);
	return ms;
}

/* ---- 4. select: results until quit ---- */

struct producer {
	gort_chan *results, *quit;
};

static void producer(void *arg)
{
	struct producer *p = arg;
	for (int64_t i = 1; i <= 5; i++)
		gort_chan_send(p->results, &i);
	gort_chan_close(p->quit);
}

static void selecting(void)
{
	gort_chan *results = gort_chan_make(sizeof(int64_t), 0);
	gort_chan *quit = gort_chan_make(0, 0); /* chan struct{} */
	gort_go_with(producer, struct producer, .results = results, .quit = quit);
	int64_t v, sum = 0;
	for (;;) {
		int which = GORT_SELECT(GORT_CASE_RECV(results, &v, NULL), GORT_CASE_RECV(quit, NULL, NULL));
		if (which == 1)
			break;
		sum += v;
	}
	printf("select: summed results until quit closed: %lld\n", (long long)sum);
	gort_chan_free(results);
	gort_chan_free(quit);
}

/* ---- 5. a goroutine wired to its thread ---- */

static void wired(void *arg)
{
	gort_lock_os_thread();
	pid_t tid = (pid_t)syscall(SYS_gettid);
	int moved = 0;
	for (int i = 0; i < 1000; i++) {
		gort_gosched();
		moved += (pid_t)syscall(SYS_gettid) != tid;
	}
	gort_unlock_os_thread();
	printf("goroutine %lld locked to thread %d: %d of 1000 yields resumed elsewhere\n",
	       (long long)gort_goid(), (int)tid, moved);
	gort_waitgroup_done(arg);
}

/* ---- 6. the netpoller: a goroutine per connection ---- */

/* A line echo server, as a Go programmer writes one with bufio: read a
 * line, write it back, flush when no more input is waiting. */
static void echo(void *arg)
{
	gort_conn *c = arg;
	gort_bufio_reader *r = gort_bufio_reader_new(c, 0);
	gort_bufio_writer *w = gort_bufio_writer_new(c, 0);
	const char *line;
	long n;
	while ((n = gort_bufio_read_line(r, &line)) >= 0) {
		if (gort_bufio_printf(w, "%.*s\n", (int)n, line) < 0)
			break;
		if (gort_bufio_buffered(r) == 0 && gort_bufio_flush(w) != 0)
			break;
	}
	gort_bufio_reader_free(r);
	gort_bufio_writer_free(w);
	gort_conn_close(c);
}

static void serve(void *arg)
{
	gort_conn *ln = arg, *c;
	while (gort_accept(ln, &c) == 0) /* until ln is closed */
		gort_go(echo, c);
}

struct client {
	const char *addr;
	gort_waitgroup *wg;
	int *ok;
};

/* 100 round trips of one line each; 0, or an error with what failed */
static int ping(gort_conn *c, gort_error *e)
{
	gort_bufio_reader *r = gort_bufio_reader_new(c, 0);
	gort_bufio_writer *w = gort_bufio_writer_new(c, 0);
	int err = 0;
	for (int i = 0; i < 100 && err == 0; i++) {
		const char *line;
		char want[32];
		int len = snprintf(want, sizeof want, "ping %d", i);
		long n = gort_bufio_printf(w, "%s\n", want);
		if (n >= 0)
			n = gort_bufio_flush(w);
		if (n < 0)
			err = gort_errorf(e, (int)n, "send line %d", i);
		else if ((n = gort_bufio_read_line(r, &line)) < 0)
			err = gort_errorf(e, (int)n, "read line %d", i);
		else if (n != len || memcmp(line, want, (size_t)len) != 0)
			err = gort_errorf(e, -EPROTO, "line %d came back as \"%.*s\"", i, (int)n, line);
	}
	gort_bufio_reader_free(r);
	gort_bufio_writer_free(w);
	return err;
}

static void client(void *arg)
{
	struct client *cl = arg;
	gort_conn *c = NULL;
	gort_error e;
	int err = gort_dial("tcp", cl->addr, &c);
	if (err != 0)
		gort_errorf(&e, err, "dial %s", cl->addr);
	else if ((err = ping(c, &e)) != 0)
		gort_error_wrap(&e, "client of %s", cl->addr);
	if (err == 0)
		__atomic_fetch_add(cl->ok, 1, __ATOMIC_RELAXED);
	else
		printf("net: %s\n", e.msg);
	if (c != NULL)
		gort_conn_close(c);
	gort_waitgroup_done(cl->wg);
}

static void network(void)
{
	gort_conn *ln;
	int err = gort_listen("tcp", "127.0.0.1:0", &ln);
	if (err != 0) {
		printf("net: listen: %s\n", gort_strerror(err));
		return;
	}
	char addr[64];
	gort_conn_local_addr(ln, addr, sizeof addr);
	gort_go(serve, ln);
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	int ok = 0;
	double t0 = now_ms();
	gort_waitgroup_add(&wg, 100);
	for (int i = 0; i < 100; i++)
		gort_go_with(client, struct client, .addr = addr, .wg = &wg, .ok = &ok);
	gort_waitgroup_wait(&wg);
	printf("net: 100 connections x 100 lines echoed by %s (bufio): %d ok in %.1f ms\n", addr, ok,
	       now_ms() - t0);

	gort_conn *c;
	if (gort_dial("tcp", addr, &c) == 0) { /* an echo server that hears nothing says nothing */
		gort_bufio_reader *r = gort_bufio_reader_new(c, 0);
		const char *line;
		gort_conn_set_read_deadline(c, gort_nanotime() + 20 * GORT_MILLISECOND);
		long n = gort_bufio_read_line(r, &line);
		gort_error e;
		gort_errorf(&e, (int)n, "read a line from %s with a 20 ms deadline", addr);
		printf("net: %s\n", e.msg);
		gort_bufio_reader_free(r);
		gort_conn_close(c);
	}
	gort_conn_close(ln); /* serve's accept returns: it ends */
}

/* ---- 7. defer, panic, recover ---- */

static void report(void *errp)
{
	const char *msg = gort_recover();
	if (msg != NULL)
		*(const char **)errp = msg;
}

static void say(void *what) { printf("defer: %s\n", (const char *)what); }

static const char *risky(int *p)
{
	const char *err = NULL;
	GORT_FRAME(return err); /* what risky returns after a recovery */
	gort_defer(report, &err);
	gort_defer(say, "deferred calls run last-in-first-out, also when a panic unwinds");
	if (p == NULL)
		gort_panic("nil pointer, caught");
	return NULL;
}

static int showcase(int argc, char **argv)
{
	int procs = gort_gomaxprocs(0);
	int wide = procs > 1 ? procs : 2;
	printf("gort showcase: Go's goroutines, channels and scheduler, in C\n");
	printf("main is goroutine %lld; GOMAXPROCS=%d, NumCPU=%d\n\n", (long long)gort_goid(), procs,
	       gort_numcpu());

	sieve(25);
	million();

	double ms1 = fanout(1);
	double msn = fanout(wide);
	printf("400 x fib(24): GOMAXPROCS=1 %.1f ms, GOMAXPROCS=%d %.1f ms: %.2fx\n", ms1, wide, msn,
	       ms1 / msn);
	gort_gomaxprocs(procs);

	selecting();

	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	gort_waitgroup_add(&wg, 1);
	gort_go(wired, &wg);
	gort_waitgroup_wait(&wg);

	network();
	printf("defer: risky(NULL) returned \"%s\"\n", risky(NULL));

	printf("\n%d goroutines still exist (the sieve's filters among them); main returns and the process exits, as in Go\n",
	       gort_numgoroutine());
	return 0;
}

int main(int argc, char **argv)
{
	gort_main(showcase, argc, argv);
}
