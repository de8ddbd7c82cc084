/*
 * http_hello.c - a minimal HTTP/1.1 server, one goroutine per connection.
 *
 * Every request gets what Go's net/http sends for "Hello, World!\n" as
 * text/plain: Go's status line and headers, keep-alive by default in HTTP/1.1,
 * "Connection: close" honoured, pipelined requests answered in order.  Heads
 * are read as Go reads them (http_parse.c), and what Go refuses is refused
 * with Go's bytes: 400, 431, 501, 505.
 *
 * Like a Go http.Server fit for a network, it bounds what a client can hold:
 *   -read-header-timeout D  a request's head (and a body it skips) must be in
 *                           within D of its first byte; default 10s
 *                           (http.Server.ReadHeaderTimeout)
 *   -idle-timeout D         a keep-alive connection waits at most D for its
 *                           next request; default 120s (IdleTimeout)
 *   -max-header-bytes N     a longer head (+ 4096 bytes of slack, as in Go)
 *                           gets 431; default 1048576 (MaxHeaderBytes: Go's
 *                           default too)
 * D is a Go-style duration, a whole number and a unit: 500ms, 5s, 2m, 1h; 0
 * turns the timeout off (Go's default for both: off, which lets a client that
 * sends one byte a minute keep a connection forever).
 *
 * Usage: http_hello [-port N] [the flags above]  (on 127.0.0.1; port 0, the
 * default: any free port) prints the port alone on its first stdout line, as
 * the Go benchmark ../shared/anchors/go/http_hello does: bench/ builds this
 * file as its twin, so the path of a request costs no allocation and no system
 * call beyond the read and the write.
 */
#include "http_parse.h"
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { BUFSIZE = 8192 }; /* in[]'s first size; a longer head makes it grow */

static struct {
	int64_t header_timeout, idle_timeout; /* ns, 0: none */
	size_t head_limit;                    /* MaxHeaderBytes + 4096 (Go's initialReadLimitSize) */
} opt = {10 * GORT_SECOND, 120 * GORT_SECOND, (1 << 20) + 4096};

/* One connection: what its goroutine has read, and the answers it owes. */
struct conn {
	gort_conn *c;
	char *in;             /* in[off, len): read, not yet parsed; its size: cap */
	size_t off, len, cap;
	size_t scan;          /* how far http_head_end has looked into in[off, len) */
	size_t skip;          /* body bytes of the last request still to drop */
	int crlf;             /* after a POST, Go drops up to 4 CR/LF before the next */
	bool served, idle, fresh; /* the deadline's phase (read_more) */
	int64_t since, deadline;  /* the phase's start; the read deadline set (INT64_MAX: none) */
	char out[BUFSIZE];    /* out[0, outlen): answers not yet written */
	size_t outlen;
	time_t date_sec;      /* the second date[] was made for */
	char date[32];        /* "Mon, 02 Jan 2006 15:04:05 GMT" */
	char small[BUFSIZE];  /* in[] until a head needs more */
};

/* flush writes the answers owed, in one system call however many they are. */
static bool flush(struct conn *s)
{
	long n = s->outlen > 0 ? gort_conn_write(s->c, s->out, s->outlen) : 0;
	s->outlen = 0;
	return n >= 0;
}

/* answer appends what Go answers to a request, Go's headers in Go's order. */
static void answer(struct conn *s, const struct http_request *r)
{
	time_t now = time(NULL);
	if (now != s->date_sec) { /* Go too formats its Date header once a second */
		struct tm *tm = gmtime_r(&now, &(struct tm){0});
		strftime(s->date, sizeof s->date, "%a, %d %b %Y %H:%M:%S GMT", tm);
		s->date_sec = now;
	}
	s->outlen += (size_t)snprintf(s->out + s->outlen, sizeof s->out - s->outlen,
	                              "HTTP/1.%c 200 OK\r\nContent-Type: text/plain\r\nDate: %s\r\n"
	                              "Content-Length: 14\r\n%s\r\n%s", r->http10 ? '0' : '1', s->date,
	                              r->connection, r->head ? "" : "Hello, World!\n");
}

static void set_deadline(struct conn *s, int64_t t)
{
	gort_conn_set_read_deadline(s->c, t == INT64_MAX ? 0 : t);
	s->deadline = t;
}

/*
 * read_more reads what comes next, waiting as long as the connection's phase
 * allows: idle between requests, -idle-timeout; otherwise (a request begun,
 * or none yet on a new connection) -read-header-timeout from its start.
 * Cheaply: a deadline is set only when it must come sooner than the one set;
 * one that comes too soon is found out when it fires, and moved on.  So a
 * busy keep-alive connection costs one clock read per request, no timer work.
 */
static bool read_more(struct conn *s)
{
	bool idle = s->served && s->len == s->off && s->skip == 0;
	if (idle != s->idle || s->fresh) { /* a phase begins */
		s->idle = idle, s->fresh = false;
		s->since = gort_nanotime();
	}
	int64_t timeout = idle ? opt.idle_timeout : opt.header_timeout;
	int64_t due = timeout > 0 && timeout < INT64_MAX - s->since ? s->since + timeout : INT64_MAX;
	if (due < s->deadline)
		set_deadline(s, due);
	long n;
	while ((n = gort_conn_read(s->c, s->in + s->len, s->cap - s->len)) == GORT_ETIMEOUT &&
	       gort_nanotime() < due)
		set_deadline(s, due); /* an earlier phase's deadline: not ours */
	if (n <= 0)
		return false; /* 0: the client hung up; < 0: an error, or too slow */
	s->len += (size_t)n;
	return true;
}

/* grow doubles in[], up to the head limit: only heads longer than 8 KiB pay. */
static bool grow(struct conn *s)
{
	size_t cap = s->cap * 2 < opt.head_limit ? s->cap * 2 : opt.head_limit;
	char *in = realloc(s->in == s->small ? NULL : s->in, cap);
	if (in == NULL)
		return false;
	if (s->in == s->small)
		memcpy(in, s->small, s->len);
	s->in = in, s->cap = cap;
	return true;
}

/* linger closes our side and reads until the client closes its own, 500 ms
 * at most, as Go's closeWriteAndWait: the last answer is not then lost to a
 * reset while the client is still sending. */
static void linger(struct conn *s)
{
	gort_conn_close_write(s->c);
	gort_conn_set_read_deadline(s->c, gort_nanotime() + 500 * GORT_MILLISECOND);
	while (gort_conn_read(s->c, s->small, sizeof s->small) > 0)
		;
}

/* handle is one connection's goroutine: read, answer every whole request, repeat. */
static void handle(void *arg)
{
	struct conn s = {.c = arg, .cap = BUFSIZE, .fresh = true, .deadline = INT64_MAX};
	s.in = s.small;
	const char *refusal = NULL; /* Go's answer to a request it refuses */
	bool keepalive = true, unread = false;
	while (keepalive && refusal == NULL) {
		size_t drop = s.skip < s.len - s.off ? s.skip : s.len - s.off;
		s.off += drop, s.skip -= drop; /* a Content-Length body: read and dropped */
		while (s.crlf > 0 && s.skip == 0 && s.off < s.len && (s.in[s.off] == '\r' || s.in[s.off] == '\n'))
			s.off++, s.crlf--; /* Go forgives a POST's client stray CR/LFs */
		size_t end = s.skip == 0 ? http_head_end(s.in + s.off, s.len - s.off, &s.scan) : 0;
		if (end > opt.head_limit) {
			refusal = HTTP_431;
		} else if (end != 0) { /* a whole request head: answer it, then parse on */
			struct http_request req;
			if (s.outlen > sizeof s.out - 256 && !flush(&s)) /* room for one more answer */
				break;
			if (http_parse(s.in + s.off, end, &req) != HTTP_OK) {
				refusal = req.refusal != NULL ? req.refusal : HTTP_400;
				break;
			}
			answer(&s, &req);
			s.off += req.head_len, s.skip = (size_t)req.body, s.scan = 0;
			s.crlf = req.post ? 4 : 0, keepalive = req.keepalive, unread = req.unread;
			s.served = s.fresh = true;
			continue;
		}
		/* Out of whole requests: write the answers owed, then read more. */
		if (s.off < s.len && s.crlf > 0)
			s.crlf = 0; /* the next head has begun */
		memmove(s.in, s.in + s.off, s.len - s.off);
		s.len -= s.off, s.off = 0;
		if (s.len >= opt.head_limit)
			refusal = HTTP_431;
		else if ((s.len == s.cap && !grow(&s)) || !flush(&s) || !read_more(&s))
			break;
	}
	if (flush(&s) && refusal != NULL) /* refuse it as net/http does */
		gort_conn_write(s.c, refusal, strlen(refusal));
	if (refusal != NULL || unread || s.off < s.len) /* input left unread */
		linger(&s);
	if (s.in != s.small)
		free(s.in);
	gort_conn_close(s.c);
}

/* duration parses a Go-style duration ("500ms", "5s", "2m", "1h", "0") into ns. */
static bool duration(const char *arg, int64_t *ns)
{
	char *unit;
	long long n = strtoll(arg, &unit, 10);
	static const struct { const char *unit; int64_t ns; } units[] = {
		{"ms", GORT_MILLISECOND}, {"s", GORT_SECOND}, {"m", 60 * GORT_SECOND}, {"h", 3600 * GORT_SECOND}};
	if (unit == arg || n < 0)
		return false;
	if (*unit == '\0' && n == 0)
		return *ns = 0, true;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strcmp(unit, units[i].unit) == 0 && n <= INT64_MAX / units[i].ns)
			return *ns = n * units[i].ns, true;
	return false;
}

static int listen_and_serve(int argc, char **argv)
{
	const char *port = "0";
	for (int i = 1; i < argc; i++) {
		const char *flag = argv[i], *arg = i + 1 < argc ? argv[++i] : NULL;
		char *end = NULL;
		long long n = arg != NULL ? strtoll(arg, &end, 10) : -1;
		bool ok = arg != NULL;
		if (ok && strcmp(flag, "-port") == 0)
			port = arg;
		else if (ok && strcmp(flag, "-read-header-timeout") == 0)
			ok = duration(arg, &opt.header_timeout);
		else if (ok && strcmp(flag, "-idle-timeout") == 0)
			ok = duration(arg, &opt.idle_timeout);
		else if (ok && strcmp(flag, "-max-header-bytes") == 0 && *end == '\0' && n >= 0 && n <= 1 << 30)
			opt.head_limit = (size_t)(n > 0 ? n : 1 << 20) + 4096; /* 0: Go's default */
		else
			ok = false;
		if (!ok) {
			fprintf(stderr, "usage: %s [-port N] [-read-header-timeout D] [-idle-timeout D] "
			                "[-max-header-bytes N]\n  D: a duration, 500ms, 5s, 2m, 1h, or 0 (none)\n",
			        argv[0]);
			return 2;
		}
	}
	char addr[64];
	snprintf(addr, sizeof addr, "127.0.0.1:%s", port);
	gort_conn *ln, *c;
	int err = gort_listen("tcp", addr, &ln);
	if (err != 0) {
		fprintf(stderr, "listen %s: %s\n", addr, gort_strerror(err));
		return 1;
	}
	printf("%d\n", gort_conn_port(ln)); /* first line: the port */
	fflush(stdout);
	for (;;) {
		if ((err = gort_accept(ln, &c)) != 0) { /* out of descriptors, say: back off */
			fprintf(stderr, "accept: %s\n", gort_strerror(err));
			gort_sleep(10 * GORT_MILLISECOND);
			continue;
		}
		gort_go(handle, c); /* go handle(c) */
	}
}

int main(int argc, char **argv)
{
	gort_main(listen_and_serve, argc, argv);
}
