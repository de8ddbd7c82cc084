/*
 * net_udp - UDP: gort_listen_packet, gort_dial("udp"), ReadFrom/WriteTo.
 *
 *   round_trip   a packet conn on 127.0.0.1:0 and a client dialled to it:
 *                200 distinct datagrams go there and back in lock step; the
 *                sender address ReadFrom reports is the client's local
 *                address, and the reply to it reaches the client
 *   boundaries   datagrams of 1, 1000 and 60000 bytes and an empty one keep
 *                their boundaries (each read returns one whole datagram)
 *   unconnected  two packet conns talk with WriteTo/ReadFrom only
 *   concurrent   4 goroutines each send 50 distinct datagrams to one packet
 *                conn that replies to each; every sender gets each of its own
 *                replies exactly once (lock step per sender, so no loss)
 *   deadline     ReadFrom and Read with a read deadline and no sender:
 *                GORT_ETIMEOUT; cleared, the socket receives
 *   misuse       WriteTo on a TCP connection: -EOPNOTSUPP; ReadFrom on a
 *                pipe: -ENOTSOCK; "udp" to gort_listen and "tcp" to
 *                gort_listen_packet: GORT_ENETWORK
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "net_util.h"

static void format_sa(const struct sockaddr_storage *ss, char *buf, size_t n)
{
	CHECK(ss->ss_family == AF_INET, "family %d", ss->ss_family);
	const struct sockaddr_in *in = (const void *)ss;
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
	snprintf(buf, n, "%s:%d", ip, ntohs(in->sin_port));
}

static void test_round_trip(void)
{
	gort_conn *srv, *cli;
	CHECK_OK(gort_listen_packet("udp", "127.0.0.1:0", &srv));
	int port = CHECK_OK(gort_conn_port(srv));
	CHECK(port > 0, "port %d", port);
	char addr[64], cliaddr[64], from[64], srvaddr[64];
	test_addr(addr, sizeof addr, port);
	CHECK_OK(gort_conn_local_addr(srv, srvaddr, sizeof srvaddr));
	CHECK(strcmp(srvaddr, addr) == 0, "server address %s, want %s", srvaddr, addr);
	CHECK_OK(gort_dial("udp", addr, &cli));
	CHECK_OK(gort_conn_local_addr(cli, cliaddr, sizeof cliaddr));
	CHECK_OK(gort_conn_remote_addr(cli, from, sizeof from));
	CHECK(strcmp(from, addr) == 0, "client's remote address %s, want %s", from, addr);
	for (int i = 0; i < 200; i++) {
		char msg[32], buf[64];
		int n = snprintf(msg, sizeof msg, "ping %d", i);
		CHECK_ERR(gort_conn_write(cli, msg, (size_t)n), n);
		struct sockaddr_storage ss;
		long r = gort_conn_readfrom(srv, buf, sizeof buf, &ss);
		CHECK(r == n && memcmp(buf, msg, (size_t)n) == 0, "server got %ld bytes for %s", r, msg);
		format_sa(&ss, from, sizeof from);
		CHECK(strcmp(from, cliaddr) == 0, "sender %s, want %s", from, cliaddr);
		buf[0] = 'P';
		CHECK_ERR(gort_conn_writeto(srv, buf, (size_t)n, (struct sockaddr *)&ss, sizeof(struct sockaddr_in)), n);
		char back[64];
		r = gort_conn_read(cli, back, sizeof back);
		CHECK(r == n && back[0] == 'P' && memcmp(back + 1, msg + 1, (size_t)n - 1) == 0, "reply %d: %ld bytes", i,
		      r);
	}
	CHECK_OK(gort_conn_close(cli));
	CHECK_OK(gort_conn_close(srv));
}

static void test_boundaries(void)
{
	gort_conn *srv, *cli;
	CHECK_OK(gort_listen_packet("udp4", "127.0.0.1:0", &srv));
	char addr[64];
	test_addr(addr, sizeof addr, gort_conn_port(srv));
	CHECK_OK(gort_dial("udp4", addr, &cli));
	static char big[60000], buf[65536];
	memset(big, 'b', sizeof big);
	static const size_t sizes[] = {1, 1000, 60000, 0, 7};
	for (size_t i = 0; i < 5; i++)
		CHECK_ERR(gort_conn_write(cli, big, sizes[i]), (long)sizes[i]);
	for (size_t i = 0; i < 5; i++) {
		long r = gort_conn_readfrom(srv, buf, sizeof buf, NULL);
		CHECK(r == (long)sizes[i], "datagram %zu: %ld bytes, want %zu", i, r, sizes[i]);
	}
	CHECK_OK(gort_conn_close(cli));
	CHECK_OK(gort_conn_close(srv));
}

static void test_unconnected(void)
{
	gort_conn *a, *b;
	CHECK_OK(gort_listen_packet("udp", "127.0.0.1:0", &a));
	CHECK_OK(gort_listen_packet("udp", "127.0.0.1:0", &b));
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)gort_conn_port(b))};
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	CHECK_ERR(gort_conn_writeto(a, "hello", 5, (struct sockaddr *)&to, sizeof to), 5);
	char buf[16];
	struct sockaddr_storage ss;
	CHECK_ERR(gort_conn_readfrom(b, buf, sizeof buf, &ss), 5);
	CHECK(((struct sockaddr_in *)&ss)->sin_port == htons((uint16_t)gort_conn_port(a)), "wrong sender port");
	CHECK_ERR(gort_conn_writeto(b, "world", 5, (struct sockaddr *)&ss, sizeof(struct sockaddr_in)), 5);
	CHECK_ERR(gort_conn_readfrom(a, buf, sizeof buf, NULL), 5);
	CHECK(memcmp(buf, "world", 5) == 0, "wrong reply");
	CHECK_OK(gort_conn_close(a));
	CHECK_OK(gort_conn_close(b));
}

enum { SENDERS = 4, PER_SENDER = 50 };

static void udp_server(void *arg)
{
	gort_conn *srv = arg;
	for (int i = 0; i < SENDERS * PER_SENDER; i++) {
		char buf[64];
		struct sockaddr_storage ss;
		long r = CHECK_OK(gort_conn_readfrom(srv, buf, sizeof buf, &ss));
		CHECK_ERR(gort_conn_writeto(srv, buf, (size_t)r, (struct sockaddr *)&ss, sizeof(struct sockaddr_in)), r);
	}
}

typedef struct sender_args {
	int id;
	int port;
	gort_waitgroup *wg;
} sender_args;

static void udp_sender(void *arg)
{
	sender_args *a = arg;
	char addr[64];
	test_addr(addr, sizeof addr, a->port);
	gort_conn *c;
	CHECK_OK(gort_dial("udp", addr, &c));
	for (int i = 0; i < PER_SENDER; i++) {
		char msg[32], buf[64];
		int n = snprintf(msg, sizeof msg, "sender %d message %d", a->id, i);
		CHECK_ERR(gort_conn_write(c, msg, (size_t)n), n);
		long r = gort_conn_read(c, buf, sizeof buf);
		CHECK(r == n && memcmp(buf, msg, (size_t)n) == 0, "sender %d got the wrong reply to %d", a->id, i);
	}
	CHECK_OK(gort_conn_close(c));
	gort_waitgroup_done(a->wg);
}

static void test_concurrent(void)
{
	gort_conn *srv;
	CHECK_OK(gort_listen_packet("udp", "127.0.0.1:0", &srv));
	int port = gort_conn_port(srv);
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	gort_waitgroup_add(&wg, SENDERS);
	gort_go(udp_server, srv);
	for (int i = 0; i < SENDERS; i++)
		gort_go_with(udp_sender, sender_args, .id = i, .port = port, .wg = &wg);
	gort_waitgroup_wait(&wg);
	CHECK_OK(gort_conn_close(srv));
}

static void test_deadline(void)
{
	gort_conn *srv, *cli;
	CHECK_OK(gort_listen_packet("udp", "127.0.0.1:0", &srv));
	char addr[64], buf[16];
	test_addr(addr, sizeof addr, gort_conn_port(srv));
	CHECK_OK(gort_dial("udp", addr, &cli));
	int64_t t0 = gort_nanotime(), d = t0 + 40 * MS;
	CHECK_OK(gort_conn_set_read_deadline(srv, d));
	CHECK_ERR(gort_conn_readfrom(srv, buf, sizeof buf, NULL), GORT_ETIMEOUT);
	CHECK_ELAPSED(t0, d, gort_nanotime());
	t0 = gort_nanotime(), d = t0 + 40 * MS;
	CHECK_OK(gort_conn_set_deadline(cli, d));
	CHECK_ERR(gort_conn_read(cli, buf, sizeof buf), GORT_ETIMEOUT);
	CHECK_ELAPSED(t0, d, gort_nanotime());
	CHECK_OK(gort_conn_set_deadline(cli, 0));
	CHECK_OK(gort_conn_set_read_deadline(srv, 0));
	CHECK_ERR(gort_conn_write(cli, "late", 4), 4);
	CHECK_ERR(gort_conn_readfrom(srv, buf, sizeof buf, NULL), 4);
	CHECK_OK(gort_conn_close(cli));
	CHECK_OK(gort_conn_close(srv));
}

static void test_misuse(void)
{
	gort_conn *a, *b, *u;
	test_pair(&a, &b);
	struct sockaddr_in to = {.sin_family = AF_INET};
	CHECK_ERR(gort_conn_writeto(a, "x", 1, (struct sockaddr *)&to, sizeof to), -EOPNOTSUPP);
	CHECK_OK(gort_conn_close(a));
	CHECK_OK(gort_conn_close(b));
	int p[2];
	CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe");
	gort_conn *pc;
	CHECK_OK(gort_conn_from_fd(p[0], &pc));
	char buf[4];
	CHECK_ERR(gort_conn_readfrom(pc, buf, sizeof buf, NULL), -ENOTSOCK);
	CHECK_OK(gort_conn_close(pc));
	close(p[1]);
	CHECK_ERR(gort_listen("udp", "127.0.0.1:0", &u), GORT_ENETWORK);
	CHECK_ERR(gort_listen_packet("tcp", "127.0.0.1:0", &u), GORT_ENETWORK);
}

static int test_main(int argc, char **argv)
{
	test_round_trip();
	test_boundaries();
	test_unconnected();
	test_concurrent();
	test_deadline();
	test_misuse();
	return test_pass("net_udp");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
