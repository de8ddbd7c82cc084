/*
 * floor_epoll_echo.c - the least CPU a readiness-based echo server can
 * spend per round trip: tcp_echo's workload served by one thread, no
 * runtime, an epoll set (level-triggered) and, per readiness event, one
 * read(4096) and one send of what it read.  Any server built on read and
 * write system calls - gort's, Go's - does at least this much kernel work
 * per round trip, so bench/run.sh (FLOOR=1) runs it beside them to show
 * what part of their CPU time is theirs and what part is the kernel's.
 *
 * Same contract as tcp_echo_server: listens on 127.0.0.1 port 0, prints the
 * port alone on the first stdout line, serves until killed.  Not a gort
 * program: libc only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* listen_loopback returns a non-blocking listener on 127.0.0.1:0 and
 * prints its port for bench/run.sh. */
static int listen_loopback(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	int ln = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (ln < 0 || bind(ln, (struct sockaddr *)&a, sizeof a) < 0 || listen(ln, 1024) < 0 ||
	    getsockname(ln, (struct sockaddr *)&a, &len) < 0)
		die("listen");
	printf("%d\n", ntohs(a.sin_port));
	fflush(stdout);
	return ln;
}

/* accept_all registers every pending connection, with TCP_NODELAY as
 * Go's Accept sets it. */
static void accept_all(int ep, int ln)
{
	int c, one = 1;
	while ((c = accept4(ln, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = c};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev) < 0)
			die("epoll_ctl");
	}
}

int main(void)
{
	int ln = listen_loopback();
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = ln}, evs[256];
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, ln, &ev) < 0)
		die("epoll");
	static char buf[4096];
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == ln) {
				accept_all(ep, ln);
				continue;
			}
			ssize_t got = read(fd, buf, sizeof buf);
			if (got > 0)
				send(fd, buf, (size_t)got, MSG_NOSIGNAL);
			else if (got == 0)
				close(fd); /* EOF: the client is done */
		}
	}
}
