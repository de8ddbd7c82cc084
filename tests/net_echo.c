/*
 * net_echo - 1,000 loopback connections at once, a goroutine per
 * connection on each side: Go's canonical echo server.
 *
 * An accept loop spawns one echo goroutine per connection (read, write
 * back, until EOF).  1,000 client goroutines each dial, send MSGS messages
 * of 1..4096 bytes whose contents are a function of (client, message, byte
 * index), and check that every byte comes back in order.  Half the clients
 * are lock-step (write a message, read it back); the other half are full
 * duplex (a second goroutine writes every message while the client reads:
 * this needs reads and writes on one connection to proceed independently,
 * or both sides fill their buffers and stall).  Then: the server saw exactly
 * CONNS connections and echoed exactly the bytes sent, every server and
 * client goroutine has ended, and the descriptors are all closed again.
 */
#define _GNU_SOURCE
#include "net_util.h"

enum { CONNS = 1000, MSGS = 16, MAXMSG = 4096 };

static char addr[64];
static gort_waitgroup servers = GORT_WAITGROUP_INIT, clients = GORT_WAITGROUP_INIT;
static atomic_long accepted, echoed, verified;
static int conns = CONNS;

static uint8_t pattern(int client, int msg, size_t i)
{
	return (uint8_t)(client * 131 + msg * 31 + i * 7 + (i >> 8));
}

static size_t msglen(int client, int msg)
{
	return 1 + (size_t)((client * 2654435761u + (unsigned)msg * 40503u) % MAXMSG);
}

static void echo(void *arg)
{
	gort_conn *c = arg;
	char buf[4096];
	long n;
	while ((n = gort_conn_read(c, buf, sizeof buf)) > 0) {
		test_write_full(c, buf, (size_t)n);
		atomic_fetch_add(&echoed, n);
	}
	CHECK(n == 0, "echo read: %ld (%s)", n, gort_strerror(n));
	CHECK_OK(gort_conn_close(c));
	gort_waitgroup_done(&servers);
}

static void acceptor(void *arg)
{
	gort_conn *ln = arg;
	for (int i = 0; i < conns; i++) {
		gort_conn *c;
		CHECK_OK(gort_accept(ln, &c));
		atomic_fetch_add(&accepted, 1);
		gort_waitgroup_add(&servers, 1);
		gort_go(echo, c);
	}
}

static void fill_msg(uint8_t *buf, int id, int m)
{
	size_t n = msglen(id, m);
	for (size_t i = 0; i < n; i++)
		buf[i] = pattern(id, m, i);
}

static void check_msg(const uint8_t *buf, int id, int m)
{
	size_t n = msglen(id, m);
	for (size_t i = 0; i < n; i++)
		CHECK(buf[i] == pattern(id, m, i), "client %d message %d byte %zu: %u, want %u", id, m, i, buf[i],
		      pattern(id, m, i));
	atomic_fetch_add(&verified, (long)n);
}

typedef struct duplex {
	gort_conn *c;
	int id;
	gort_waitgroup *wg;
} duplex;

static void duplex_writer(void *arg)
{
	duplex *d = arg;
	uint8_t buf[MAXMSG];
	for (int m = 0; m < MSGS; m++) {
		fill_msg(buf, d->id, m);
		test_write_full(d->c, buf, msglen(d->id, m));
	}
	gort_waitgroup_done(d->wg);
}

static void client(void *arg)
{
	int id = (int)(intptr_t)arg;
	gort_conn *c;
	CHECK_OK(gort_dial("tcp", addr, &c));
	uint8_t buf[MAXMSG];
	if (id % 2 == 0) {
		for (int m = 0; m < MSGS; m++) {
			fill_msg(buf, id, m);
			test_write_full(c, buf, msglen(id, m));
			memset(buf, 0, sizeof buf);
			test_read_full(c, buf, msglen(id, m));
			check_msg(buf, id, m);
		}
	} else {
		gort_waitgroup wg = GORT_WAITGROUP_INIT;
		gort_waitgroup_add(&wg, 1);
		gort_go_with(duplex_writer, duplex, .c = c, .id = id, .wg = &wg);
		for (int m = 0; m < MSGS; m++) {
			test_read_full(c, buf, msglen(id, m));
			check_msg(buf, id, m);
		}
		gort_waitgroup_wait(&wg);
	}
	CHECK_OK(gort_conn_close_write(c));
	CHECK_ERR(gort_conn_read(c, buf, sizeof buf), 0); /* the server saw EOF and closed */
	CHECK_OK(gort_conn_close(c));
	gort_waitgroup_done(&clients);
}

static int test_main(int argc, char **argv)
{
	long limit = test_nofile(2 * CONNS + 100);
	if (limit < 2 * CONNS + 100) {
		conns = (int)(limit - 100) / 2;
		printf("net_echo: RLIMIT_NOFILE is %ld: %d connections instead of %d\n", limit, conns, CONNS);
	}
	CHECK(conns >= 100, "too few descriptors (%ld) for the test", limit);
	int fds0 = test_open_fds();
	int g0 = gort_numgoroutine();

	int port;
	gort_conn *ln = test_listen(&port);
	test_addr(addr, sizeof addr, port);
	gort_go(acceptor, ln);
	long sent = 0;
	for (int id = 0; id < conns; id++)
		for (int m = 0; m < MSGS; m++)
			sent += (long)msglen(id, m);
	gort_waitgroup_add(&clients, conns);
	for (int id = 0; id < conns; id++)
		gort_go(client, (void *)(intptr_t)id);
	gort_waitgroup_wait(&clients);
	gort_waitgroup_wait(&servers);

	CHECK(atomic_load(&accepted) == conns, "accepted %ld of %d", atomic_load(&accepted), conns);
	CHECK(atomic_load(&echoed) == sent, "echoed %ld bytes, sent %ld", atomic_load(&echoed), sent);
	CHECK(atomic_load(&verified) == sent, "verified %ld bytes, sent %ld", atomic_load(&verified), sent);
	CHECK_OK(gort_conn_close(ln));
	/* every goroutine gone (the acceptor ended after its last accept) */
	test_wait_goroutines(g0);
	int fds = test_open_fds();
	CHECK(fds == fds0, "%d descriptors open after, %d before", fds, fds0);
	return test_pass("net_echo");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
