/*
 * syscall_epipe - a write gort makes to a pipe whose reader has gone
 * returns EPIPE, as Go's os.File.Write does, instead of killing the
 * process with SIGPIPE; and the program's own SIGPIPE disposition is left
 * as it was for the writes it makes itself.
 *
 *   default     SIGPIPE at its default (death): gort_write to a broken pipe
 *               returns -EPIPE, and the process lives on; no
 *               SIGPIPE is left pending; the disposition is still SIG_DFL.
 *               The same for a socket (socketpair, peer closed) and for
 *               gort_conn_write on a pipe.
 *   handler     with a handler of the program's own installed: gort's write
 *               does not run it; the program's own write(2) does, once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net_util.h"

static volatile sig_atomic_t handled;

static void on_sigpipe(int sig)
{
	handled++;
}

static void broken_pipe(int fds[2])
{
	CHECK(pipe(fds) == 0, "pipe: %s", strerror(errno));
	close(fds[0]);
}

static void check_nothing_pending(void)
{
	sigset_t pending;
	sigpending(&pending);
	CHECK(!sigismember(&pending, SIGPIPE), "a SIGPIPE was left pending");
}

static void test_default(void)
{
	struct sigaction sa;
	sigaction(SIGPIPE, NULL, &sa);
	CHECK(sa.sa_handler == SIG_DFL, "SIGPIPE starts at its default");

	int p[2];
	broken_pipe(p);
	errno = 0;
	long r = gort_write(p[1], "x", 1);
	CHECK(r == -EPIPE, "gort_write to a pipe without reader: %ld (%s), want -EPIPE", r, gort_strerror(r));
	close(p[1]);

	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
	close(sv[0]);
	errno = 0;
	r = gort_write(sv[1], "x", 1);
	CHECK(r == -EPIPE, "gort_write to a socket without peer: %ld (%s), want -EPIPE", r, gort_strerror(r));
	close(sv[1]);

	broken_pipe(p);
	gort_conn *c;
	CHECK_OK(gort_conn_from_fd(p[1], &c));
	CHECK_ERR(gort_conn_write(c, "x", 1), -EPIPE);
	CHECK_OK(gort_conn_close(c));

	check_nothing_pending();
	sigaction(SIGPIPE, NULL, &sa);
	CHECK(sa.sa_handler == SIG_DFL, "SIGPIPE's disposition was changed");
}

static void test_handler(void)
{
	struct sigaction sa = {.sa_handler = on_sigpipe};
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGPIPE, &sa, NULL) == 0, "sigaction");
	int p[2];
	broken_pipe(p);
	errno = 0;
	CHECK(gort_write(p[1], "x", 1) == -EPIPE, "gort_write: -EPIPE");
	CHECK(handled == 0, "gort's write ran the program's SIGPIPE handler");
	errno = 0;
	CHECK(write(p[1], "x", 1) == -1 && errno == EPIPE, "the program's own write: EPIPE");
	CHECK(handled == 1, "the program's own write ran its handler %d times, want 1", (int)handled);
	close(p[1]);
	check_nothing_pending();
}

static int test_main(int argc, char **argv)
{
	test_default();
	test_handler();
	return test_pass("syscall_epipe");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
