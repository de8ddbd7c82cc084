/*
 * ctx_net - the context-aware net calls (net.c) on loopback: a blocked
 * read, write and accept return the context's error when it is canceled
 * from another goroutine or its deadline passes; the connection works on
 * after, and a deadline set on it keeps its meaning; dial_ctx fails at
 * once for a done context and as gort_dial does otherwise.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net_util.h"

/* canceler: sleep a little (let the other side block), cancel, release. */
static void canceler(void *arg)
{
	gort_sleep(10 * MS);
	gort_context_cancel(arg);
	gort_context_release(arg);
}

static gort_context *cancel_soon(void)
{
	gort_context *ctx = gort_context_with_cancel(gort_context_background());
	gort_go(canceler, gort_context_retain(ctx));
	return ctx;
}

static void test_read(void)
{
	gort_conn *a, *b;
	test_pair(&a, &b);
	char buf[16];
	gort_context *ctx = cancel_soon();
	CHECK_ERR(gort_conn_read_ctx(ctx, a, buf, sizeof buf), GORT_ECANCELED);
	CHECK_ERR(gort_conn_read_ctx(ctx, a, buf, sizeof buf), GORT_ECANCELED); /* done: fails at once */
	gort_context_end(ctx);

	ctx = gort_context_with_timeout(gort_context_background(), 10 * MS);
	CHECK_ERR(gort_conn_read_ctx(ctx, a, buf, sizeof buf), GORT_EDEADLINE);
	gort_context_end(ctx);

	/* The connection is whole: data sent now is read, with or without a context. */
	test_write_full(b, "hello", 5);
	CHECK(CHECK_OK(gort_conn_read(a, buf, sizeof buf)) == 5 && memcmp(buf, "hello", 5) == 0, "plain read");
	test_write_full(b, "again", 5);
	CHECK(CHECK_OK(gort_conn_read_ctx(gort_context_background(), a, buf, sizeof buf)) == 5, "ctx read");
	ctx = gort_context_with_cancel(gort_context_background());
	test_write_full(b, "third", 5);
	CHECK(CHECK_OK(gort_conn_read_ctx(ctx, a, buf, sizeof buf)) == 5 && memcmp(buf, "third", 5) == 0, "read");
	gort_context_end(ctx);
	gort_conn_close(a);
	gort_conn_close(b);
}

/* The conn's own deadline: still GORT_ETIMEOUT under a live context; and
 * after a canceled read, a far deadline has not turned into a past one. */
static void test_deadline_kept(void)
{
	gort_conn *a, *b;
	test_pair(&a, &b);
	char buf[16];
	gort_context *ctx = gort_context_with_timeout(gort_context_background(), 3600 * GORT_SECOND);
	CHECK_OK(gort_conn_set_read_deadline(a, gort_nanotime() + 10 * MS));
	CHECK_ERR(gort_conn_read_ctx(ctx, a, buf, sizeof buf), GORT_ETIMEOUT);
	gort_context_end(ctx);

	CHECK_OK(gort_conn_set_read_deadline(a, gort_nanotime() + 3600 * GORT_SECOND));
	ctx = cancel_soon();
	CHECK_ERR(gort_conn_read_ctx(ctx, a, buf, sizeof buf), GORT_ECANCELED);
	gort_context_end(ctx);
	test_write_full(b, "x", 1);
	CHECK(CHECK_OK(gort_conn_read(a, buf, sizeof buf)) == 1, "read after the canceled one");
	gort_conn_close(a);
	gort_conn_close(b);
}

/* A write blocked on a full socket buffer. */
static void test_write(void)
{
	gort_conn *a, *b;
	test_pair(&a, &b);
	enum { N = 64 << 20 };
	char *big = calloc(1, N);
	CHECK(big != NULL, "calloc");
	gort_context *ctx = cancel_soon();
	CHECK_ERR(gort_conn_write_ctx(ctx, a, big, N), GORT_ECANCELED);
	gort_context_end(ctx);
	free(big);
	gort_conn_close(a);
	gort_conn_close(b);
}

/* An accept with no one dialling; the listener accepts after. */
static void test_accept(void)
{
	int port;
	gort_conn *ln = test_listen(&port);
	gort_context *ctx = cancel_soon();
	gort_conn *c;
	CHECK_ERR(gort_accept_ctx(ctx, ln, &c), GORT_ECANCELED);
	gort_context_end(ctx);
	ctx = gort_context_with_timeout(gort_context_background(), 10 * MS);
	CHECK_ERR(gort_accept_ctx(ctx, ln, &c), GORT_EDEADLINE);
	gort_context_end(ctx);

	char addr[64];
	test_addr(addr, sizeof addr, port);
	gort_conn *d, *e;
	CHECK_OK(gort_dial_ctx(gort_context_background(), "tcp", addr, &d));
	CHECK_OK(gort_accept_ctx(gort_context_background(), ln, &e));
	gort_conn_close(d);
	gort_conn_close(e);
	gort_conn_close(ln);
}

/* Dial: a done context fails before anything; a port nobody listens on
 * is refused, as gort_dial says. */
static void test_dial(void)
{
	int port;
	gort_conn *ln = test_listen(&port);
	char addr[64];
	test_addr(addr, sizeof addr, port);
	gort_conn_close(ln); /* nobody listens there now */
	gort_conn *c;
	gort_context *ctx = gort_context_with_cancel(gort_context_background());
	CHECK_ERR(gort_dial_ctx(ctx, "tcp", addr, &c), -ECONNREFUSED);
	gort_context_cancel(ctx);
	CHECK_ERR(gort_dial_ctx(ctx, "tcp", addr, &c), GORT_ECANCELED);
	CHECK_ERR(gort_dial_ctx(ctx, "tcp", "no-such-host.invalid:80", &c), GORT_ECANCELED);
	gort_context_end(ctx);
	ctx = gort_context_with_deadline(gort_context_background(), gort_nanotime() - 1);
	CHECK_ERR(gort_dial_ctx(ctx, "tcp", addr, &c), GORT_EDEADLINE);
	gort_context_end(ctx);
}

/*
 * A connect that hangs: a listener with a backlog of 0 that never accepts
 * takes a connection or two, then Linux drops further SYNs, so a dial
 * waits in connect.  A timeout context finds the first dial that hangs;
 * then a canceled one returns GORT_ECANCELED, or - a SYN retried into a
 * freed slot - connects; never anything else.  (A kernel that accepts
 * them all leaves nothing to interrupt: said, not failed.)
 */
static void test_dial_interrupted(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof sa;
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(fd, 0) == 0 &&
	          getsockname(fd, (struct sockaddr *)&sa, &len) == 0,
	      "a listener with no backlog");
	char addr[64];
	test_addr(addr, sizeof addr, ntohs(sa.sin_port));
	gort_conn *held[8];
	int nheld = 0, err = 0;
	while (nheld < 8) {
		gort_context *ctx = gort_context_with_timeout(gort_context_background(), 50 * MS);
		err = gort_dial_ctx(ctx, "tcp", addr, &held[nheld]);
		gort_context_end(ctx);
		if (err != 0)
			break;
		nheld++;
	}
	if (err == GORT_EDEADLINE) {
		/* A SYN the kernel took after all lets a dial through now and
		 * then: try a few times, and count only what must never be. */
		int canceled = 0;
		for (int i = 0; i < 5 && canceled == 0; i++) {
			gort_context *ctx = cancel_soon();
			gort_conn *c;
			err = gort_dial_ctx(ctx, "tcp", addr, &c);
			CHECK(err == 0 || err == GORT_ECANCELED, "dial: %s", gort_strerror(err));
			if (err == 0)
				gort_conn_close(c);
			canceled += err == GORT_ECANCELED;
			gort_context_end(ctx);
		}
		if (canceled == 0)
			printf("test_dial_interrupted: every dial got through: nothing to interrupt\n");
	} else {
		printf("test_dial_interrupted: no dial hung (%d connected, then %s): nothing to interrupt\n", nheld,
		       err ? gort_strerror(err) : "none");
	}
	for (int i = 0; i < nheld; i++)
		gort_conn_close(held[i]);
	close(fd);
}

static int test_main(int argc, char **argv)
{
	TEST_RUN(test_read);
	TEST_RUN(test_deadline_kept);
	TEST_RUN(test_write);
	TEST_RUN(test_accept);
	TEST_RUN(test_dial);
	TEST_RUN(test_dial_interrupted);
	test_wait_goroutines(1);
	return test_pass("ctx_net");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
