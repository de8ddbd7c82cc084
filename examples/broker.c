/*
 * broker.c - a TCP publish/subscribe broker: topics, a bounded queue per
 * subscriber, slow subscribers dropped without holding up anyone else,
 * and a clean shutdown on SIGINT.  Go's twin: examples/go/broker/main.go.
 *
 * The protocol is lines: a client sends "SUB topic" (answered "OK SUB
 * topic") or "PUB topic text", and every subscriber of topic gets "MSG
 * topic text".  Each connection has two goroutines:
 *
 *   handle   reads the client's lines; a PUB is put on each subscriber's
 *            queue without waiting (gort_chan_trysend): a full queue means
 *            a subscriber that does not keep up, and it is dropped -
 *            its context canceled, which ends its two goroutines
 *   write    empties the connection's queue into a bufio writer, flushing
 *            when the queue is empty
 *
 * Every goroutine waits on a context under the broker's: SIGINT (or
 * SIGTERM) cancels it, the accept loop and every connection's reads,
 * writes and selects return, each connection is closed by its own
 * goroutine, and main waits for all of them before it reports the
 * goroutines left.  The kernel's send buffer of a connection is bounded
 * too (64 KiB), so a subscriber that reads nothing fills its queue soon.
 *
 *     broker [-addr 127.0.0.1:7070] [-queue 256]        serve until SIGINT
 *     broker -load [-pubs 4] [-subs 4] [-msgs 50000] [-window 64]
 *
 * -load runs the broker on a free port and, in the same program, -pubs
 * publishers (one topic each) and -subs subscribers to every topic over
 * TCP, plus one subscriber that never reads.  A publisher keeps at most
 * -window messages in flight to each reading subscriber (a credit channel
 * per subscriber), so only the one that never reads can fill its queue.
 * It prints what the subscribers received, what the broker delivered and
 * dropped, and the rate, then shuts the broker down as SIGINT does.
 */
#include "flags.h"
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>

typedef struct msg { /* a line ready to write: "MSG topic text\n" */
	int len;
	char line[252];
} msg;
typedef GORT_CHAN(msg) msg_chan;

struct client {
	gort_conn *c;
	gort_context *ctx; /* canceled to drop the client */
	msg_chan queue;
	gort_waitgroup writer;
	atomic_bool dropped;
};

struct sub { /* a subscription: on broker.subs */
	struct sub *next;
	struct client *cl;
	char topic[64];
};

static struct {
	gort_context *ctx;
	int64_t queue;
	gort_rwmutex mu; /* subs */
	struct sub *subs;
	gort_waitgroup wg; /* the accept loop and every connection's goroutine */
	atomic_llong delivered, dropped, slow;
} broker;

enum { MSG, DONE }; /* the cases of a wait for a value or ctx.Done() */

static void write_loop(void *arg)
{
	struct client *cl = arg;
	GORT_FRAME_VOID;
	gort_defer_done(&cl->writer);
	gort_bufio_writer *w = gort_bufio_writer_new(cl->c, 0);
	gort_bufio_writer_set_context(w, cl->ctx);
	msg m;
	while (GORT_SELECT([MSG] = GORT_CASE_RECV_T(cl->queue, &m, NULL),
	                   [DONE] = GORT_CASE_RECV(gort_context_done(cl->ctx), NULL, NULL)) == MSG) {
		long long n = 0;
		do {
			n += m.line[0] == 'M';
			gort_bufio_write(w, m.line, (size_t)m.len);
		} while (gort_chan_poll_t(cl->queue, &m) == GORT_RECV_VALUE);
		if (gort_bufio_flush(w) != 0) {
			gort_context_cancel(cl->ctx); /* the peer is gone: the reader ends too */
			break;
		}
		broker.delivered += n;
	}
	gort_bufio_writer_free(w);
}

/* queue: m to cl without waiting; a full queue drops cl. */
static void queue(struct client *cl, const msg *m)
{
	if (gort_chan_trysend_t(cl->queue, m))
		return;
	broker.dropped++;
	if (!atomic_exchange(&cl->dropped, true)) {
		char peer[64] = "?";
		gort_conn_remote_addr(cl->c, peer, sizeof peer);
		fprintf(stderr, "broker: dropping slow subscriber %s\n", peer);
		broker.slow++;
		gort_context_cancel(cl->ctx);
	}
}

static void subscribe(struct client *cl, const char *topic, int len)
{
	struct sub *s = calloc(1, sizeof *s);
	s->cl = cl;
	snprintf(s->topic, sizeof s->topic, "%.*s", len, topic);
	gort_rwmutex_lock(&broker.mu);
	s->next = broker.subs, broker.subs = s;
	gort_rwmutex_unlock(&broker.mu);
	msg ok;
	ok.len = snprintf(ok.line, sizeof ok.line, "OK SUB %s\n", s->topic);
	queue(cl, &ok);
}

static void unsubscribe(struct client *cl)
{
	gort_rwmutex_lock(&broker.mu);
	for (struct sub **p = &broker.subs, *s; (s = *p) != NULL;)
		if (s->cl == cl)
			*p = s->next, free(s);
		else
			p = &s->next;
	gort_rwmutex_unlock(&broker.mu);
}

/* publish: "topic text" to every subscriber of topic. */
static void publish(const char *line, int len)
{
	const char *space = memchr(line, ' ', (size_t)len);
	int tlen = space != NULL ? (int)(space - line) : len;
	msg m;
	m.len = snprintf(m.line, sizeof m.line, "MSG %.*s\n", len, line);
	if (m.len >= (int)sizeof m.line)
		return; /* a line too long for a msg is not passed on */
	gort_rwmutex_rlock(&broker.mu);
	for (struct sub *s = broker.subs; s != NULL; s = s->next)
		if ((int)strlen(s->topic) == tlen && memcmp(s->topic, line, (size_t)tlen) == 0)
			queue(s->cl, &m);
	gort_rwmutex_runlock(&broker.mu);
}

/* handle is one connection's goroutine: its reader, owner of its writer. */
static void handle(void *arg)
{
	struct client cl = {.c = arg, .ctx = gort_context_with_cancel(broker.ctx),
	                    .queue = gort_chan_make_t(msg_chan, broker.queue)};
	GORT_FRAME_VOID;
	gort_defer_done(&broker.wg);
	gort_defer_close(cl.c);
	gort_defer_free(gort_chan_of(cl.queue));
	gort_defer_close(cl.ctx);
	gort_waitgroup_add(&cl.writer, 1);
	gort_go(write_loop, &cl);
	gort_bufio_reader *r = gort_bufio_reader_new(cl.c, 0);
	gort_bufio_reader_set_context(r, cl.ctx);
	const char *line;
	long n;
	while ((n = gort_bufio_read_line(r, &line)) >= 0)
		if (n > 4 && memcmp(line, "SUB ", 4) == 0)
			subscribe(&cl, line + 4, (int)n - 4);
		else if (n > 4 && memcmp(line, "PUB ", 4) == 0)
			publish(line + 4, (int)n - 4);
	gort_bufio_reader_free(r);
	unsubscribe(&cl); /* no publisher can reach cl now */
	gort_context_cancel(cl.ctx);
	gort_waitgroup_wait(&cl.writer);
}

static void accept_loop(void *arg)
{
	gort_conn *ln = arg, *c;
	GORT_FRAME_VOID;
	gort_defer_done(&broker.wg);
	for (;;) {
		int err = gort_accept_ctx(broker.ctx, ln, &c);
		if (err != 0 && gort_context_err(broker.ctx) != 0)
			return;
		if (err != 0) { /* out of descriptors, say: back off, go on */
			gort_sleep(10 * GORT_MILLISECOND);
			continue;
		}
		setsockopt(gort_conn_fd(c), SOL_SOCKET, SO_SNDBUF, &(int){64 << 10}, sizeof(int));
		gort_waitgroup_add(&broker.wg, 1);
		gort_go(handle, c);
	}
}

/* ---- -load: publishers and subscribers in the same program ---- */

static struct {
	const char *addr;
	int64_t pubs, subs, msgs;
	gort_context *ctx;
	gort_chan **credits;   /* chan struct{}, one per reading subscriber */
	gort_waitgroup ready;  /* subscribers subscribed */
	gort_waitgroup fast;   /* reading subscribers done */
	gort_chan *finished;   /* closed then */
	atomic_llong received;
} load;

struct peer {
	gort_conn *c;
	gort_bufio_reader *r;
	gort_bufio_writer *w;
};

static int peer_dial(struct peer *p)
{
	int err = gort_dial_ctx(load.ctx, "tcp", load.addr, &p->c);
	if (err == 0) {
		p->r = gort_bufio_reader_new(p->c, 0), p->w = gort_bufio_writer_new(p->c, 0);
		gort_bufio_reader_set_context(p->r, load.ctx);
		gort_bufio_writer_set_context(p->w, load.ctx);
	}
	return err;
}

/* subscribe to every topic; the reading ones count what they receive and
 * hand a credit back for each message, the other one never reads again. */
static int subscriber(intptr_t i, gort_error *err)
{
	GORT_FRAME_NORECOVER;
	if (i < load.subs)
		gort_defer_done(&load.fast);
	struct peer p;
	long n = peer_dial(&p);
	if (n != 0) {
		gort_waitgroup_done(&load.ready);
		return (int)n;
	}
	gort_defer_close(p.c);
	gort_defer_free(p.r);
	gort_defer_free(p.w);
	const char *line;
	for (int64_t t = 0; t < load.pubs && n >= 0; t++)
		n = gort_bufio_printf(p.w, "SUB t%lld\n", (long long)t);
	n = n < 0 ? n : gort_bufio_flush(p.w);
	for (int64_t t = 0; t < load.pubs && n >= 0; t++)
		n = gort_bufio_read_line(p.r, &line); /* "OK SUB t<t>" */
	gort_waitgroup_done(&load.ready);
	if (i == load.subs) { /* the slow one */
		GORT_SELECT(GORT_CASE_RECV(load.finished, NULL, NULL),
		            GORT_CASE_RECV(gort_context_done(load.ctx), NULL, NULL));
		return 0;
	}
	int64_t got = 0;
	for (; got < load.pubs * load.msgs && n >= 0; got++)
		if ((n = gort_bufio_read_line(p.r, &line)) >= 0)
			gort_chan_recv(load.credits[i], NULL);
	load.received += got;
	return n < 0 ? (int)n : 0;
}

static int publisher(intptr_t i, gort_error *err)
{
	GORT_FRAME_NORECOVER;
	struct peer p;
	long n = peer_dial(&p);
	if (n != 0)
		return (int)n;
	gort_defer_close(p.c);
	gort_defer_free(p.r);
	gort_defer_free(p.w);
	gort_waitgroup_wait(&load.ready);
	for (int64_t m = 0; m < load.msgs && n >= 0; m++) {
		for (int64_t s = 0; s < load.subs && n >= 0; s++)
			if (!gort_chan_trysend(load.credits[s], NULL) && (n = gort_bufio_flush(p.w)) == 0 &&
			    GORT_SELECT([MSG] = GORT_CASE_SEND(load.credits[s], NULL),
			                [DONE] = GORT_CASE_RECV(gort_context_done(load.ctx), NULL, NULL)) == DONE)
				n = gort_context_err(load.ctx);
		if (n >= 0)
			n = gort_bufio_printf(p.w, "PUB t%lld %lld from publisher %lld\n", (long long)i, (long long)m,
			                      (long long)i);
	}
	return n < 0 ? (int)n : gort_bufio_flush(p.w);
}

static int finish(void *arg, gort_error *err)
{
	gort_waitgroup_wait(&load.fast);
	gort_chan_close(load.finished);
	return 0;
}

static int run_load(int64_t window)
{
	int64_t t0 = gort_nanotime();
	gort_errgroup *g = gort_errgroup_with_context(broker.ctx, &load.ctx);
	load.finished = gort_chan_make(0, 0);
	load.credits = calloc((size_t)load.subs, sizeof *load.credits);
	for (int64_t s = 0; s < load.subs; s++)
		load.credits[s] = gort_chan_make(0, (size_t)window);
	gort_waitgroup_add(&load.ready, (int)load.subs + 1);
	gort_waitgroup_add(&load.fast, (int)load.subs);
	for (int64_t s = 0; s <= load.subs; s++)
		gort_errgroup_go_int(g, subscriber, s);
	for (int64_t p = 0; p < load.pubs; p++)
		gort_errgroup_go_int(g, publisher, p);
	gort_errgroup_go(g, finish, NULL);
	int err = gort_errgroup_wait(g);
	double secs = (double)(gort_nanotime() - t0) / 1e9;
	if (err != 0)
		fprintf(stderr, "load: %s\n", gort_errgroup_error(g)->msg);
	gort_errgroup_free(g);
	for (int64_t s = 0; s < load.subs; s++)
		gort_chan_free(load.credits[s]);
	free(load.credits);
	gort_chan_free(load.finished);
	if (err != 0)
		return 1;
	printf("subscribers received %lld of %lld messages\n", (long long)load.received,
	       (long long)(load.subs * load.pubs * load.msgs));
	printf("broker delivered %lld, dropped %lld messages and %lld slow subscriber(s)\n",
	       (long long)broker.delivered, (long long)broker.dropped, (long long)broker.slow);
	printf("rate: %.0f messages/s received\n", (double)load.received / secs);
	return 0;
}

static int run(int argc, char **argv)
{
	const char *addr = "127.0.0.1:7070";
	bool loadmode = false;
	int64_t window = 64;
	broker.queue = 256, load.pubs = 4, load.subs = 4, load.msgs = 50000;
	ex_flag flags[] = {
		{"addr", EX_STRING, &addr, "address to listen on"},
		{"queue", EX_INT, &broker.queue, "messages queued for a subscriber at most"},
		{"load", EX_BOOL, &loadmode, "run publishers and subscribers here, report, exit"},
		{"pubs", EX_INT, &load.pubs, "-load: publishers"},
		{"subs", EX_INT, &load.subs, "-load: subscribers that read (one more never does)"},
		{"msgs", EX_INT, &load.msgs, "-load: messages per publisher"},
		{"window", EX_INT, &window, "-load: messages in flight to a subscriber at most"},
	};
	if (!ex_flags_parse(flags, EX_NFLAGS(flags), argc, argv))
		return 2;
	if (broker.queue < 1 || load.pubs < 1 || load.subs < 1 || load.msgs < 1 || window < 1 ||
	    window + load.pubs > broker.queue) {
		fprintf(stderr, "broker: the numbers must be positive, -window + -pubs at most -queue\n");
		return 2;
	}
	gort_chan *sig = gort_chan_make(sizeof(int), 1);
	if (!loadmode)
		gort_signal_notify(sig, (int[]){SIGINT, SIGTERM}, 2);
	gort_conn *ln;
	int err = gort_listen("tcp", loadmode ? "127.0.0.1:0" : addr, &ln);
	if (err != 0) {
		fprintf(stderr, "broker: listen %s: %s\n", addr, gort_strerror(err));
		return 1;
	}
	char local[64];
	gort_conn_local_addr(ln, local, sizeof local);
	broker.ctx = gort_context_with_cancel(gort_context_background());
	gort_waitgroup_add(&broker.wg, 1);
	gort_go(accept_loop, ln);
	int status = 0;
	if (loadmode) {
		printf("load: %lld publishers x %lld messages, %lld subscribers + 1 that never reads\n",
		       (long long)load.pubs, (long long)load.msgs, (long long)load.subs);
		load.addr = local;
		status = run_load(window);
	} else {
		printf("broker: listening on %s\n", local);
		fflush(stdout);
		int s;
		gort_chan_recv(sig, &s);
		printf("broker: %s, shutting down\n", s == SIGINT ? "interrupt" : "terminated");
	}
	gort_context_cancel(broker.ctx); /* every goroutine returns, every connection is closed */
	gort_waitgroup_wait(&broker.wg);
	gort_context_release(broker.ctx);
	gort_conn_close(ln);
	if (!loadmode)
		gort_signal_stop(sig);
	gort_chan_free(sig);
	int want = loadmode ? 1 : 2, left = gort_numgoroutine(); /* main, and the signal relay if asked for */
	for (int tries = 0; tries < 1000 && left > want; tries++, left = gort_numgoroutine())
		gort_sleep(GORT_MILLISECOND); /* one that returned may still be on its way out */
	printf("broker: shut down cleanly, %d goroutine(s) left\n", left);
	return status;
}

int main(int argc, char **argv)
{
	gort_main(run, argc, argv);
}
