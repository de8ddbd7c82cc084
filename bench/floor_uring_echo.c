/*
 * floor_uring_echo.c - tcp_echo's workload served through io_uring, the
 * batching interface Go's users ask for (golang/go#31908): one thread; a
 * multishot accept; per connection one multishot receive that keeps
 * filling buffers from a ring of provided buffers, so no read system call
 * and no re-arming per message; the echo goes out with send(2), which on
 * a socket with room completes at once.  One io_uring_enter per batch of
 * completions.  bench/run.sh (FLOOR=1) runs it beside floor_epoll_echo to
 * measure, rather than guess, what batching would save gort per round
 * trip on this kernel.
 *
 * Same contract as tcp_echo_server.  Needs liburing (Debian: liburing-dev)
 * and Linux 6.0 or later (multishot receive); not a gort program.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { NBUF = 1024, BUFSIZE = 4096, GROUP = 0 };
enum { ACCEPT = 0, RECV = 1 }; /* a completion's kind, in its user_data's low bit */

static struct io_uring ring;
static struct io_uring_buf_ring *bufring;
static char *bufs;

static void die(const char *what, int err)
{
	fprintf(stderr, "floor_uring_echo: %s: %s\n", what, strerror(err));
	exit(1);
}

static struct io_uring_sqe *sqe(void)
{
	struct io_uring_sqe *s = io_uring_get_sqe(&ring);
	if (s == NULL) { /* full: hand what is queued to the kernel first */
		io_uring_submit(&ring);
		s = io_uring_get_sqe(&ring);
	}
	return s;
}

static void recv_multishot(int fd)
{
	struct io_uring_sqe *s = sqe();
	io_uring_prep_recv_multishot(s, fd, NULL, 0, 0);
	s->flags |= IOSQE_BUFFER_SELECT;
	s->buf_group = GROUP;
	io_uring_sqe_set_data64(s, (uint64_t)fd << 1 | RECV);
}

/* give_back returns buffer bid to the kernel's ring. */
static void give_back(int bid)
{
	io_uring_buf_ring_add(bufring, bufs + (size_t)bid * BUFSIZE, BUFSIZE, (unsigned short)bid,
			      io_uring_buf_ring_mask(NBUF), 0);
	io_uring_buf_ring_advance(bufring, 1);
}

static void setup(int ln)
{
	struct io_uring_params params = {.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN};
	int err = io_uring_queue_init_params(4096, &ring, &params);
	if (err < 0)
		die("io_uring_queue_init", -err);
	bufring = aligned_alloc(4096, NBUF * sizeof(struct io_uring_buf));
	bufs = malloc((size_t)NBUF * BUFSIZE);
	if (bufring == NULL || bufs == NULL)
		die("malloc", ENOMEM);
	io_uring_buf_ring_init(bufring);
	struct io_uring_buf_reg reg = {.ring_addr = (uintptr_t)bufring, .ring_entries = NBUF, .bgid = GROUP};
	if ((err = io_uring_register_buf_ring(&ring, &reg, 0)) < 0)
		die("io_uring_register_buf_ring", -err);
	for (int i = 0; i < NBUF; i++)
		give_back(i);
	struct io_uring_sqe *s = sqe();
	io_uring_prep_multishot_accept(s, ln, NULL, NULL, 0);
	io_uring_sqe_set_data64(s, ACCEPT);
}

/* complete handles one completion: a new connection, or bytes to echo. */
static void complete(const struct io_uring_cqe *cqe)
{
	uint64_t data = io_uring_cqe_get_data64(cqe);
	int fd = (int)(data >> 1), res = cqe->res, one = 1;
	if ((data & 1) == ACCEPT) {
		if (res >= 0) {
			setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			recv_multishot(res);
		}
		return;
	}
	if (res > 0) {
		int bid = (int)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
		send(fd, bufs + (size_t)bid * BUFSIZE, (size_t)res, MSG_NOSIGNAL);
		give_back(bid);
	}
	if (cqe->flags & IORING_CQE_F_MORE)
		return; /* the receive stays armed */
	if (res > 0 || res == -ENOBUFS)
		recv_multishot(fd); /* it ended for want of buffers: arm it again */
	else
		close(fd); /* EOF or an error: the client is done */
}

int main(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	int ln = socket(AF_INET, SOCK_STREAM, 0);
	if (ln < 0 || bind(ln, (struct sockaddr *)&a, sizeof a) < 0 || listen(ln, 1024) < 0 ||
	    getsockname(ln, (struct sockaddr *)&a, &len) < 0)
		die("listen", errno);
	setup(ln);
	printf("%d\n", ntohs(a.sin_port));
	fflush(stdout);
	for (;;) {
		int err = io_uring_submit_and_wait(&ring, 1);
		if (err < 0 && err != -EINTR)
			die("io_uring_submit_and_wait", -err);
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;
		io_uring_for_each_cqe(&ring, head, cqe) {
			complete(cqe);
			n++;
		}
		io_uring_cq_advance(&ring, n);
	}
}
