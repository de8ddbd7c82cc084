/*
 * http_hello_server.c - examples/http_hello, run as a server, against the
 * clients a network sends it.  Loopback only, port 0.
 *
 *   http_hello_server <http_hello> refusals
 *     Malformed requests get Go's exact answer and a close, and the server
 *     lives on: a NUL in the request line (it used to kill the server),
 *     two differing Content-Lengths, "Content-Length: abc", HTTP/2.0 (505),
 *     a malformed version, HTTP/1.2 (answered "HTTP/1.1"), no Host; and a
 *     body too big to skip, pipelining after a POST.  The server runs with
 *     its default flags.
 *
 *   http_hello_server <http_hello> limits
 *     With -read-header-timeout 1s -idle-timeout 3s -max-header-bytes 4096
 *     (a second server: -max-header-bytes 65536): a slowloris client sending
 *     a byte every 300 ms is dropped without an answer, while a normal
 *     client is served, correctly, again and again; an idle keep-alive
 *     connection and a silent new one are closed; a head past the limit
 *     gets 431, one under it 200 (also one that makes the buffer grow).
 *     Time is asserted only loosely: "dropped within 20 s", never tighter.
 *
 * Each server is a child process that dies with the test (PDEATHSIG).
 */
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "net_util.h"

static const char *server_path;
static int servers[2]; /* ports */

/* start runs http_hello with args; its first stdout line is the port. */
static int start(char *const args[])
{
	int fds[2];
	CHECK(pipe(fds) == 0, "pipe: %s", strerror(errno));
	pid_t pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fds[1], 1);
		close(fds[0]), close(fds[1]);
		execv(server_path, args);
		_exit(127);
	}
	close(fds[1]);
	char line[32] = {0};
	size_t n = 0;
	while (n < sizeof line - 1 && read(fds[0], line + n, 1) == 1 && line[n] != '\n')
		n++;
	close(fds[0]);
	int port = atoi(line);
	CHECK(port > 0, "%s printed no port (%zu bytes: \"%s\")", server_path, n, line);
	return port;
}

static gort_conn *dial(int port)
{
	char addr[64];
	test_addr(addr, sizeof addr, port);
	gort_conn *c;
	CHECK_OK(gort_dial("tcp", addr, &c));
	return c;
}

/* read_all reads until EOF, a reset or deadline (absolute ns); *eof tells
 * whether the server closed (EOF or reset). */
static size_t read_all(gort_conn *c, char *buf, size_t n, int64_t deadline, bool *eof)
{
	size_t got = 0;
	gort_conn_set_read_deadline(c, deadline);
	for (;;) {
		long r = gort_conn_read(c, buf + got, n - got);
		if (r > 0 && (got += (size_t)r) < n)
			continue;
		*eof = r == 0 || r == -ECONNRESET;
		CHECK(r >= 0 || r == -ECONNRESET || r == GORT_ETIMEOUT, "read: %s", gort_strerror(r));
		return got;
	}
}

/* refused sends request on a new connection and checks that the answer is
 * exactly want, then the end of the stream. */
static void refused(int port, const char *request, size_t len, const char *want)
{
	gort_conn *c = dial(port);
	test_write_full(c, request, len);
	char buf[1024];
	bool eof;
	size_t got = read_all(c, buf, sizeof buf, gort_nanotime() + 20 * GORT_SECOND, &eof);
	CHECK(got == strlen(want) && memcmp(buf, want, got) == 0 && eof,
	      "request \"%.*s\": answer \"%.*s\"%s, want \"%s\" and EOF", (int)len, request, (int)got, buf,
	      eof ? " and EOF" : " (no EOF)", want);
	gort_conn_close(c);
}

/* A 200 answer: the Date header's value (29 bytes) varies. */
static const char OK_BEFORE_DATE[] = " 200 OK\r\nContent-Type: text/plain\r\nDate: ";
static const char OK_AFTER_DATE[] = "\r\nContent-Length: 14\r\n";

/* check_ok checks that buf[0, n) is one answer "HTTP/1.<minor> 200 OK" with
 * the Connection line connection ("" for none), HEAD's without a body. */
static void check_ok(const char *buf, size_t n, char minor, const char *connection, bool head)
{
	char want[512];
	int len = snprintf(want, sizeof want, "HTTP/1.%c%s%29s%s%s\r\n%s", minor, OK_BEFORE_DATE, "",
	                   OK_AFTER_DATE, connection, head ? "" : "Hello, World!\n");
	size_t date = 8 + sizeof OK_BEFORE_DATE - 1;
	bool same = n == (size_t)len && memcmp(buf, want, date) == 0 &&
	            memcmp(buf + date + 29, want + date + 29, n - date - 29) == 0 &&
	            memcmp(buf + date + 25, " GMT", 4) == 0;
	CHECK(same, "answer \"%.*s\", want \"%s\" (any date)", (int)n, buf, want);
}

/* exchange sends request on c and reads one 200 answer (of known length). */
static void exchange(gort_conn *c, const char *request, size_t len, const char *connection)
{
	test_write_full(c, request, len);
	size_t n = 8 + sizeof OK_BEFORE_DATE - 1 + 29 + sizeof OK_AFTER_DATE - 1 + strlen(connection) + 2 + 14;
	char buf[512];
	gort_conn_set_read_deadline(c, gort_nanotime() + 20 * GORT_SECOND);
	test_read_full(c, buf, n);
	check_ok(buf, n, '1', connection, false);
}

static const char GET[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

/* ---- refusals ------------------------------------------------------------------ */

#define REFUSAL(status) "HTTP/1.1 " status "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n" status
#define REQ(s) s, sizeof s - 1

static void refusals(void)
{
	int port = servers[0];
	const char *r400 = REFUSAL("400 Bad Request");
	/* Defect a: a NUL in the request line faulted the whole server. */
	refused(port, REQ("GET /\0 HTTP/1.1\r\n\r\n"), r400);
	refused(port, REQ("\0\r\n\r\n"), r400);
	refused(port, REQ("GET / HTTP/1.1\0\r\nHost: x\r\n\r\n"), r400);
	refused(port, REQ("\r\n\r\n"), r400);
	/* ... and it lives on. */
	gort_conn *c = dial(port);
	exchange(c, REQ(GET), "");
	gort_conn_close(c);
	/* Defect b: Content-Length, as Go's transfer.go fixLength reads it. */
	refused(port, REQ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"), r400);
	refused(port, REQ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"), r400);
	refused(port, REQ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"), r400);
	/* Defect c: the version, as Go's ParseHTTPVersion and server read it. */
	refused(port, REQ("GET / HTTP/2.0\r\nHost: x\r\n\r\n"),
	        REFUSAL("505 HTTP Version Not Supported: unsupported protocol version"));
	refused(port, REQ("GET / HTTP/0.9\r\nHost: x\r\n\r\n"),
	        REFUSAL("505 HTTP Version Not Supported: unsupported protocol version"));
	refused(port, REQ("GET / HTTP/1.x\r\nHost: x\r\n\r\n"), r400);
	refused(port, REQ("GET / HTTP/1.10\r\nHost: x\r\n\r\n"), r400);
	refused(port, REQ("GET / FTP/1.1\r\nHost: x\r\n\r\n"), r400);
	c = dial(port); /* a minor version past 1: HTTP/1.1 in the answer, as Go */
	exchange(c, REQ("GET / HTTP/1.2\r\nHost: x\r\n\r\n"), "");
	gort_conn_close(c);
	/* And the rest of Go's refusals. */
	refused(port, REQ("GET / HTTP/1.1\r\n\r\n"), REFUSAL("400 Bad Request: missing required Host header"));
	refused(port, REQ("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), REFUSAL("400 Bad Request: malformed Host header"));
	refused(port, REQ("GET / HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n"),
	        REFUSAL("400 Bad Request: invalid header name"));
	refused(port, REQ("GET / HTTP/1.1\r\nHost: x\r\nX: a\x01\r\n\r\n"), REFUSAL("400 Bad Request: invalid header value"));
	refused(port, REQ("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"),
	        "HTTP/1.1 501 Not Implemented\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
	        "Unsupported transfer encoding");
	refused(port, REQ("GET / HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n"), r400);
	refused(port, REQ("GET foo HTTP/1.1\r\nHost: x\r\n\r\n"), r400);
	refused(port, REQ("GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n"), r400);
	/* A body of 256 KiB or more is not skipped: the answer closes (Go's tooBig). */
	c = dial(port);
	test_write_full(c, REQ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 300000\r\n\r\nabc"));
	char buf[1024];
	bool eof;
	size_t got = read_all(c, buf, sizeof buf, gort_nanotime() + 20 * GORT_SECOND, &eof);
	CHECK(eof, "no close after a body too big to skip");
	check_ok(buf, got, '1', "Connection: close\r\n", false);
	gort_conn_close(c);
	/* Pipelined: a POST with its body (and the CRLF old clients add after
	 * one, which Go forgives), then a request that closes. */
	c = dial(port);
	static const char two[] = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello\r\n"
	                          "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	test_write_full(c, REQ(two));
	got = read_all(c, buf, sizeof buf, gort_nanotime() + 20 * GORT_SECOND, &eof);
	size_t first = 8 + sizeof OK_BEFORE_DATE - 1 + 29 + sizeof OK_AFTER_DATE - 1 + 2 + 14;
	CHECK(got > first && eof, "pipelined: %zu bytes, %s", got, eof ? "EOF" : "no EOF");
	check_ok(buf, first, '1', "", false);
	check_ok(buf + first, got - first, '1', "Connection: close\r\n", false);
	gort_conn_close(c);
}

/* ---- limits -------------------------------------------------------------------- */

static gort_waitgroup wg_, *wg = &wg_;

/* slowloris sends a head that never ends, a byte every 300 ms (pacing: a
 * read with that deadline), until the server drops it: within 20 s. */
static void slowloris(void *arg)
{
	static const char head[] = "GET / HTTP/1.1\r\nHost: slow\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	gort_conn *c = dial(servers[0]);
	int64_t t0 = gort_nanotime();
	bool dropped = false;
	for (size_t i = 0; i < 66 && !dropped; i++) { /* 66 bytes: 20 s */
		long w = gort_conn_write(c, head + i, 1);
		char b;
		gort_conn_set_read_deadline(c, gort_nanotime() + 300 * MS);
		long r = w == 1 ? gort_conn_read(c, &b, 1) : w;
		CHECK(r <= 0, "the slow client got an answer");
		dropped = r != GORT_ETIMEOUT;
		CHECK(!dropped || r == 0 || r == -ECONNRESET || r == -EPIPE, "slow client: %s", gort_strerror(r));
	}
	CHECK(dropped && gort_nanotime() - t0 < 20 * GORT_SECOND, "the slow client was not dropped within 20 s");
	gort_conn_close(c);
	gort_waitgroup_done(wg);
}

/* normal is served meanwhile: ten requests on one keep-alive connection and
 * ten on connections of their own, 100 ms apart. */
static void normal(void *arg)
{
	gort_conn *kept = dial(servers[0]);
	for (int i = 0; i < 10; i++) {
		exchange(kept, REQ(GET), "");
		gort_conn *c = dial(servers[0]);
		exchange(c, REQ("GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"), "Connection: close\r\n");
		char b;
		bool eof;
		CHECK(read_all(c, &b, 1, gort_nanotime() + 20 * GORT_SECOND, &eof) == 0 && eof, "no close after Connection: close");
		gort_conn_close(c);
		gort_sleep(100 * MS); /* pacing, not synchronisation */
	}
	gort_conn_close(kept);
	gort_waitgroup_done(wg);
}

/* idle: a connection that has been served once (arg != NULL), or never
 * (arg NULL: a silent new one), then says nothing, is closed by the server
 * without a byte, within 20 s. */
static void idle(void *arg)
{
	bool served = arg != NULL;
	gort_conn *c = dial(servers[0]);
	if (served)
		exchange(c, REQ(GET), "");
	char b;
	bool eof;
	size_t got = read_all(c, &b, 1, gort_nanotime() + 20 * GORT_SECOND, &eof);
	CHECK(got == 0 && eof, "%s connection: %zu bytes, %s within 20 s", served ? "an idle keep-alive" : "a silent new",
	      got, eof ? "closed" : "not closed");
	gort_conn_close(c);
	gort_waitgroup_done(wg);
}

/* big sends a head of about n bytes (one long header) to port. */
static void big(int port, size_t n, bool fits)
{
	static char head[120000];
	CHECK(n <= sizeof head, "head too big for the test");
	static const char start[] = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ";
	memcpy(head, start, sizeof start - 1);
	memset(head + sizeof start - 1, 'a', n - (sizeof start - 1) - 4);
	memcpy(head + n - 4, "\r\n\r\n", 4);
	if (fits) {
		gort_conn *c = dial(port);
		exchange(c, head, n, "");
		gort_conn_close(c);
	} else {
		refused(port, head, n, REFUSAL("431 Request Header Fields Too Large"));
	}
}

static void limits(void)
{
	gort_waitgroup_add(wg, 4);
	gort_go(slowloris, NULL);
	gort_go(normal, NULL);
	gort_go(idle, "served");
	gort_go(idle, NULL);
	/* -max-header-bytes 4096: Go takes heads up to 4096 + 4096 bytes. */
	big(servers[0], 6000, true);
	big(servers[0], 9000, false);
	big(servers[0], 100000, false);
	/* -max-header-bytes 65536: a head past 8 KiB makes in[] grow. */
	big(servers[1], 40000, true);
	big(servers[1], 100000, false);
	gort_waitgroup_wait(wg);
}

static int mode_limits;

static int main_fn(int argc, char **argv)
{
	if (mode_limits)
		limits();
	else
		refusals();
	return test_pass(mode_limits ? "http_hello_limits" : "http_hello_refusals");
}

int main(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[2], "refusals") != 0 && strcmp(argv[2], "limits") != 0)) {
		fprintf(stderr, "usage: %s <http_hello> refusals|limits\n", argv[0]);
		return 2;
	}
	server_path = argv[1];
	signal(SIGPIPE, SIG_IGN);
	mode_limits = strcmp(argv[2], "limits") == 0;
	if (mode_limits) {
		servers[0] = start((char *[]){"http_hello", "-read-header-timeout", "1s", "-idle-timeout", "3s",
		                              "-max-header-bytes", "4096", NULL});
		servers[1] = start((char *[]){"http_hello", "-max-header-bytes", "65536", NULL});
	} else {
		servers[0] = start((char *[]){"http_hello", NULL});
	}
	gort_main(main_fn, argc, argv);
}
