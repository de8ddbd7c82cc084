/*
 * tcp_echo_server.c - C twin of ../shared/anchors/go/tcp_echo/server: listens
 * on 127.0.0.1 port 0 (ephemeral), prints the chosen port number alone on the
 * first stdout line, then accepts forever.  Each accepted connection gets its
 * own goroutine that loops { n = read(buf[4096]); write(buf[:n]) } until EOF
 * or an error, then closes the connection.  TCP_NODELAY is on: gort_accept
 * sets it, as Go's Accept does.  Runs until killed; prints nothing else.
 * Driven by the Go client ../shared/anchors/go/tcp_echo/client, which prints
 * the JSON line (bench/run.sh runs the pair).
 */
#include "report.h" /* first: it sets the feature macros */

/* One connection's goroutine: Go's go func(c net.Conn) { ... }(c). */
static void echo(void *arg)
{
	gort_conn *c = arg;
	char buf[4096]; /* make([]byte, 4096) */
	for (;;) {
		long n = gort_conn_read(c, buf, sizeof buf);
		if (n <= 0) /* EOF or an error */
			break;
		if (gort_conn_write(c, buf, (size_t)n) < 0)
			break;
	}
	gort_conn_close(c); /* defer c.Close() */
}

static int real_main(int argc, char **argv)
{
	bench_parse_flags(argc, argv, (const struct bench_flag[]){{NULL, NULL, NULL}});
	gort_conn *ln;
	int err = gort_listen("tcp", "127.0.0.1:0", &ln);
	if (err != 0)
		bench_fail("listen: %s", gort_strerror(err));
	printf("%d\n", gort_conn_port(ln));
	fflush(stdout); /* the port must reach the runner now, not at exit */
	for (;;) {
		gort_conn *c;
		err = gort_accept(ln, &c);
		if (err != 0) {
			fprintf(stderr, "accept: %s\n", gort_strerror(err));
			continue;
		}
		gort_go(echo, c);
	}
}

int main(int argc, char **argv)
{
	gort_main(real_main, argc, argv);
}
