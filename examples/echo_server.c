/*
 * echo_server.c - a TCP echo server, one goroutine per connection.
 *
 * The whole server in Go:
 *
 *     ln, err := net.Listen("tcp", addr)
 *     for {
 *         c, err := ln.Accept()
 *         go func() { io.Copy(c, c); c.Close() }()
 *     }
 *
 * Each connection's goroutine reads and writes as if the calls blocked; when
 * there is nothing to read it parks in the netpoller (epoll) and its thread
 * runs other goroutines.  So the code is the simple sequential loop, and ten
 * thousand idle clients cost ten thousand parked goroutines, not threads.
 *
 * Usage: echo_server [addr]     (default 127.0.0.1:0: any free port)
 * The first line on stdout is the address it listens on, e.g. 127.0.0.1:41235;
 * connections come and go on stderr.  Try it:
 *
 *     ./build/examples/echo_server 127.0.0.1:7000 &
 *     nc 127.0.0.1 7000            (every line you type comes back)
 */
#include <gort.h>
#include <stdio.h>

/* echo is one connection's goroutine: io.Copy(c, c), then Close. */
static void echo(void *arg)
{
	gort_conn *c = arg;
	char peer[64] = "?", buf[4096];
	gort_conn_remote_addr(c, peer, sizeof peer);
	fprintf(stderr, "%s: connected\n", peer);

	long total = 0, n;
	while ((n = gort_conn_read(c, buf, sizeof buf)) > 0) {
		long w = gort_conn_write(c, buf, (size_t)n);
		if (w < 0) {
			n = w;
			break;
		}
		total += n;
	}
	/* n == 0: the client closed its side (Go's io.EOF); n < 0: an error. */
	if (n < 0)
		fprintf(stderr, "%s: %s\n", peer, gort_strerror(n));
	fprintf(stderr, "%s: closed after echoing %ld bytes\n", peer, total);
	gort_conn_close(c);
}

static int serve(int argc, char **argv)
{
	if (argc > 2) {
		fprintf(stderr, "usage: %s [addr]   (default 127.0.0.1:0)\n", argv[0]);
		return 2;
	}
	const char *addr = argc == 2 ? argv[1] : "127.0.0.1:0";

	gort_conn *ln;
	int err = gort_listen("tcp", addr, &ln);
	if (err != 0) {
		fprintf(stderr, "listen %s: %s\n", addr, gort_strerror(err));
		return 1;
	}
	char local[64];
	err = gort_conn_local_addr(ln, local, sizeof local);
	if (err < 0) {
		fprintf(stderr, "local address: %s\n", gort_strerror(err));
		return 1;
	}
	printf("%s\n", local); /* first line: where to connect */
	fflush(stdout);

	for (;;) {
		gort_conn *c;
		err = gort_accept(ln, &c);
		if (err != 0) {
			/* Out of descriptors, say: like Go's http.Server, log it,
			 * back off a little and go on accepting. */
			fprintf(stderr, "accept: %s\n", gort_strerror(err));
			gort_sleep(10 * GORT_MILLISECOND);
			continue;
		}
		gort_go(echo, c); /* go echo(c) */
	}
}

int main(int argc, char **argv)
{
	gort_main(serve, argc, argv);
}
