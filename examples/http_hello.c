/*
 * http_hello.c - a minimal HTTP/1.1 server, one goroutine per connection.
 *
 * Every request gets what Go's net/http sends for "Hello, World!\n" as
 * text/plain: Go's status line and headers, keep-alive by default in HTTP/1.1,
 * "Connection: close" honoured, pipelined requests answered in order.
 *
 * Usage: http_hello [-port N]  (on 127.0.0.1; 0, the default: any free port)
 * prints the port alone on its first stdout line, as the Go benchmark
 * ../shared/anchors/go/http_hello does: bench/ builds this file as its twin.
 */
#define _GNU_SOURCE /* memmem, memrchr, strcasestr */
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h> /* and, with _GNU_SOURCE, strncasecmp */
#include <time.h>

enum { BUFSIZE = 8192 }; /* the largest request head taken (Go's limit: 1 MiB) */

/* One connection: what its goroutine has read, and the answers it owes. */
struct conn {
	gort_conn *c;
	char in[BUFSIZE];  /* in[off, len): read, not yet parsed */
	char out[BUFSIZE]; /* out[0, outlen): answers not yet written */
	size_t off, len, outlen;
	size_t skip;       /* body bytes of the last request still to drop */
	time_t date_sec;   /* the second date[] was made for */
	char date[32];     /* "Mon, 02 Jan 2006 15:04:05 GMT" */
};

/* flush writes the answers owed, in one system call however many they are. */
static bool flush(struct conn *s)
{
	long n = s->outlen > 0 ? gort_conn_write(s->c, s->out, s->outlen) : 0;
	s->outlen = 0;
	return n >= 0;
}

/* request parses the request head [head, end + 4) and appends its answer, Go's
 * headers in Go's order.  NULL, or the status to refuse it with; *keepalive:
 * whether to read on. */
static const char *request(struct conn *s, char *head, char *end, bool *keepalive)
{
	end[2] = '\0'; /* head: the request line and header lines, each ending "\r\n" */
	char *eol = strstr(head, "\r\n"), *sp = memrchr(head, ' ', (size_t)(eol - head));
	if (sp == NULL || eol - sp != 9 || strncmp(sp + 1, "HTTP/1.", 7) != 0)
		return "400 Bad Request";
	const char *proto = sp + 1; /* "HTTP/1.x", 8 bytes */
	*keepalive = proto[7] != '0'; /* HTTP/1.1's default; a 1.0 client must ask */
	long length = 0;
	for (char *line = eol + 2, *next; *line != '\0'; line = next + 2) {
		char *colon = strchr(line, ':');
		next = strstr(line, "\r\n");
		if (colon == NULL || colon > next)
			return "400 Bad Request";
		*next = '\0'; /* this line alone, for the searches below */
		size_t namelen = (size_t)(colon - line);
		if (namelen == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
			if ((length = strtol(colon + 1, NULL, 10)) < 0)
				return "400 Bad Request";
		} else if (namelen == 10 && strncasecmp(line, "Connection", 10) == 0)
			*keepalive = strcasestr(colon, "close") == NULL &&
			             (*keepalive || strcasestr(colon, "keep-alive") != NULL);
		else if (namelen == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0)
			return "501 Not Implemented"; /* chunked bodies: not in a hello server */
	}
	s->skip = (size_t)length;
	time_t now = time(NULL);
	if (now != s->date_sec) { /* Go too formats its Date header once a second */
		struct tm *tm = gmtime_r(&now, &(struct tm){0});
		strftime(s->date, sizeof s->date, "%a, %d %b %Y %H:%M:%S GMT", tm);
		s->date_sec = now;
	}
	s->outlen += (size_t)snprintf(s->out + s->outlen, sizeof s->out - s->outlen,
	                              "%.8s 200 OK\r\nContent-Type: text/plain\r\nDate: %s\r\n"
	                              "Content-Length: 14\r\n%s\r\n%s", proto, s->date,
	                              *keepalive == (proto[7] != '0') ? "" /* the default: unsaid */
	                              : *keepalive ? "Connection: keep-alive\r\n" : "Connection: close\r\n",
	                              strncmp(head, "HEAD ", 5) != 0 ? "Hello, World!\n" : "");
	return NULL;
}

/* handle is one connection's goroutine: read, answer every whole request, repeat. */
static void handle(void *arg)
{
	struct conn s = {.c = arg};
	const char *status = NULL; /* why a request is refused, if one is */
	bool keepalive = true;
	while (keepalive && status == NULL) {
		size_t drop = s.skip < s.len - s.off ? s.skip : s.len - s.off;
		s.off += drop, s.skip -= drop; /* a Content-Length body: read and dropped */
		char *end = s.skip == 0 ? memmem(s.in + s.off, s.len - s.off, "\r\n\r\n", 4) : NULL;
		if (end != NULL) { /* a whole request head: answer it, then parse on */
			if (s.outlen > sizeof s.out - 256 && !flush(&s)) /* room for one more answer */
				break;
			status = request(&s, s.in + s.off, end, &keepalive);
			s.off = (size_t)(end + 4 - s.in);
			continue;
		}
		/* Out of whole requests: write the answers owed, then read more. */
		memmove(s.in, s.in + s.off, s.len - s.off);
		s.len -= s.off, s.off = 0;
		long n = 0;
		if (s.len == sizeof s.in)
			status = "431 Request Header Fields Too Large";
		else if (!flush(&s) || (n = gort_conn_read(s.c, s.in + s.len, sizeof s.in - s.len)) <= 0)
			break; /* n == 0: the client hung up; < 0: an error */
		s.len += (size_t)n;
	}
	if (flush(&s) && status != NULL) { /* refuse it as net/http does */
		char msg[160];
		int n = snprintf(msg, sizeof msg, "HTTP/1.1 %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
		                 "Connection: close\r\n\r\n%s", status, status);
		gort_conn_write(s.c, msg, (size_t)n);
	}
	gort_conn_close(s.c);
}

static int listen_and_serve(int argc, char **argv)
{
	if (argc != 1 && (argc != 3 || strcmp(argv[1], "-port") != 0)) {
		fprintf(stderr, "usage: %s [-port N]\n", argv[0]);
		return 2;
	}
	char addr[64];
	snprintf(addr, sizeof addr, "127.0.0.1:%s", argc == 3 ? argv[2] : "0");
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
