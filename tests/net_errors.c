/*
 * net_errors - errors and addresses of the net API.
 *
 *   refused     dialling a port nobody listens on: -ECONNREFUSED (also
 *               with gort_dial_timeout), with a non-empty gort_strerror text
 *   network     an unknown network ("tcpx", "", NULL): GORT_ENETWORK from
 *               dial, listen and listen_packet
 *   address     malformed addresses ("127.0.0.1", "1.2.3.4:99999", "a:b:c",
 *               ...): GORT_EADDR from dial and listen
 *   null_conn   a NULL gort_conn: -EINVAL from every call that takes one
 *   strerror    Go's texts for the GORT_E* codes; never NULL or empty
 *   addrs       a connection's local and remote addresses match its peer's
 *               remote and local ones ("127.0.0.1:PORT"); a listener on
 *               port 0 has a port; ":0" listens on every address and takes
 *               a dial to 127.0.0.1; ":PORT" dials this machine; a buffer too
 *               small: -ENOSPC
 *   localhost   "localhost:0" (tcp4) is looked up and listened on, and
 *               "localhost:PORT" dialled
 *   ipv6        "[::1]:0" listens and dials, with "[::1]:PORT" addresses
 *               (skipped, saying why, if this machine has no IPv6 loopback)
 *   from_fd     gort_conn_from_fd of a closed descriptor: -EBADF; of a
 *               regular file: -EPERM; of a connected socket: a working conn
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "net_util.h"

static int closed_port(void)
{
	int port;
	gort_conn *ln = test_listen(&port);
	CHECK_OK(gort_conn_close(ln));
	return port;
}

static void test_refused(void)
{
	char addr[64];
	test_addr(addr, sizeof addr, closed_port());
	gort_conn *c = NULL;
	CHECK_ERR(gort_dial("tcp", addr, &c), -ECONNREFUSED);
	CHECK(c == NULL, "a failed dial set *c");
	CHECK_ERR(gort_dial("tcp4", addr, &c), -ECONNREFUSED);
	CHECK_ERR(gort_dial_timeout("tcp", addr, GORT_SECOND, &c), -ECONNREFUSED);
	const char *s = gort_strerror(-ECONNREFUSED);
	CHECK(s != NULL && s[0] != '\0' && strcmp(s, "unknown error") != 0, "gort_strerror(-ECONNREFUSED) = \"%s\"",
	      s ? s : "(null)");
	/* many failed dials leak no descriptors */
	int fds0 = test_open_fds();
	for (int i = 0; i < 200; i++)
		CHECK_ERR(gort_dial("tcp", addr, &c), -ECONNREFUSED);
	CHECK(test_open_fds() == fds0, "failed dials leaked descriptors");
}

static void test_network(void)
{
	gort_conn *c;
	static const char *bad[] = {"tcpx", "", "TCP", "tcp7", "unix", "ip"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_ERR(gort_dial(bad[i], "127.0.0.1:80", &c), GORT_ENETWORK);
		CHECK_ERR(gort_dial_timeout(bad[i], "127.0.0.1:80", GORT_SECOND, &c), GORT_ENETWORK);
		CHECK_ERR(gort_listen(bad[i], "127.0.0.1:0", &c), GORT_ENETWORK);
		CHECK_ERR(gort_listen_packet(bad[i], "127.0.0.1:0", &c), GORT_ENETWORK);
	}
	CHECK_ERR(gort_dial(NULL, "127.0.0.1:80", &c), GORT_ENETWORK);
	CHECK_ERR(gort_listen(NULL, "127.0.0.1:0", &c), GORT_ENETWORK);
}

static void test_address(void)
{
	gort_conn *c;
	static const char *bad[] = {"127.0.0.1", "1.2.3.4:99999", "a:b:c", "127.0.0.1:", "127.0.0.1:-1",
	                            "127.0.0.1:http0", "127.0.0.1:1x", "[::1:80", "::1:80", "", ":"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK(gort_dial("tcp", bad[i], &c) == GORT_EADDR, "dial \"%s\": not GORT_EADDR", bad[i]);
		CHECK(gort_listen("tcp", bad[i], &c) == GORT_EADDR, "listen \"%s\": not GORT_EADDR", bad[i]);
		CHECK(gort_listen_packet("udp", bad[i], &c) == GORT_EADDR, "listen_packet \"%s\": not GORT_EADDR",
		      bad[i]);
	}
	CHECK_ERR(gort_dial("tcp", NULL, &c), GORT_EADDR);
	CHECK_ERR(gort_listen("tcp", NULL, &c), GORT_EADDR);
}

static void test_null_conn(void)
{
	char buf[64];
	gort_conn *c;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	CHECK_ERR(gort_accept(NULL, &c), -EINVAL);
	CHECK_ERR(gort_conn_read(NULL, buf, sizeof buf), -EINVAL);
	CHECK_ERR(gort_conn_write(NULL, buf, sizeof buf), -EINVAL);
	CHECK_ERR(gort_conn_readfrom(NULL, buf, sizeof buf, NULL), -EINVAL);
	CHECK_ERR(gort_conn_writeto(NULL, buf, 1, (struct sockaddr *)&sa, sizeof sa), -EINVAL);
	CHECK_ERR(gort_conn_close_write(NULL), -EINVAL);
	CHECK_ERR(gort_conn_close(NULL), -EINVAL);
	CHECK_ERR(gort_conn_set_deadline(NULL, 0), -EINVAL);
	CHECK_ERR(gort_conn_set_read_deadline(NULL, 0), -EINVAL);
	CHECK_ERR(gort_conn_set_write_deadline(NULL, 0), -EINVAL);
	CHECK_ERR(gort_conn_local_addr(NULL, buf, sizeof buf), -EINVAL);
	CHECK_ERR(gort_conn_remote_addr(NULL, buf, sizeof buf), -EINVAL);
	CHECK_ERR(gort_conn_port(NULL), -EINVAL);
	CHECK_ERR(gort_conn_fd(NULL), -EINVAL);
}

static void test_strerror(void)
{
	static const struct {
		long code;
		const char *text;
	} want[] = {
	    {GORT_ETIMEOUT, "i/o timeout"},     {GORT_ECLOSED, "use of closed network connection"},
	    {GORT_EADDR, "invalid address"},    {GORT_ENETWORK, "unknown network"},
	    {GORT_ENOHOST, "no such host"},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const char *s = gort_strerror(want[i].code);
		CHECK(s != NULL && strcmp(s, want[i].text) == 0, "gort_strerror(%ld) = \"%s\", want \"%s\"", want[i].code,
		      s ? s : "(null)", want[i].text);
	}
	static const long others[] = {-EPIPE, -ECONNRESET, -EINVAL, -EBADF, -ENOTSOCK, 0, -99999, -10000, -10006,
	                              1, -4095, -4096, -2147483648L};
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
		const char *s = gort_strerror(others[i]);
		CHECK(s != NULL && s[0] != '\0', "gort_strerror(%ld) is empty", others[i]);
	}
	CHECK(strcmp(gort_strerror(-EPIPE), gort_strerror(-ECONNRESET)) != 0, "EPIPE and ECONNRESET read the same");
}

static void check_addr(gort_conn *c, bool remote, const char *want)
{
	char buf[80];
	int n = remote ? gort_conn_remote_addr(c, buf, sizeof buf) : gort_conn_local_addr(c, buf, sizeof buf);
	CHECK(n == (int)strlen(want) && strcmp(buf, want) == 0, "%s address \"%s\" (%d), want \"%s\"",
	      remote ? "remote" : "local", n >= 0 ? buf : gort_strerror(n), n, want);
}

static void test_addrs(void)
{
	int port;
	gort_conn *ln = test_listen(&port), *c, *s;
	char lnaddr[64], caddr[80], saddr[80];
	test_addr(lnaddr, sizeof lnaddr, port);
	check_addr(ln, false, lnaddr);
	CHECK_OK(gort_dial("tcp", lnaddr, &c));
	CHECK_OK(gort_accept(ln, &s));
	check_addr(c, true, lnaddr);
	check_addr(s, false, lnaddr);
	CHECK_OK(gort_conn_local_addr(c, caddr, sizeof caddr));
	CHECK_OK(gort_conn_remote_addr(s, saddr, sizeof saddr));
	CHECK(strcmp(caddr, saddr) == 0, "the client is %s, the server sees %s", caddr, saddr);
	CHECK(strncmp(caddr, "127.0.0.1:", 10) == 0 && atoi(caddr + 10) > 0, "client address %s", caddr);
	CHECK(gort_conn_port(c) == atoi(caddr + 10), "gort_conn_port %d vs %s", gort_conn_port(c), caddr);
	CHECK(gort_conn_port(s) == port, "accepted conn's port %d, want %d", gort_conn_port(s), port);
	char tiny[8];
	CHECK_ERR(gort_conn_local_addr(c, tiny, sizeof tiny), -ENOSPC);
	CHECK_ERR(gort_conn_remote_addr(ln, caddr, sizeof caddr), -ENOTCONN);
	CHECK_OK(gort_conn_close(c));
	CHECK_OK(gort_conn_close(s));
	CHECK_OK(gort_conn_close(ln));

	/* ":0": every address; a dial to 127.0.0.1 and to ":PORT" reaches it */
	CHECK_OK(gort_listen("tcp", ":0", &ln));
	port = gort_conn_port(ln);
	CHECK(port > 0, "\":0\" listener port %d", port);
	char any[80];
	CHECK_OK(gort_conn_local_addr(ln, any, sizeof any));
	char want6[32], want4[32];
	snprintf(want6, sizeof want6, "[::]:%d", port);
	snprintf(want4, sizeof want4, "0.0.0.0:%d", port);
	CHECK(strcmp(any, want6) == 0 || strcmp(any, want4) == 0, "\":0\" listener address %s", any);
	test_addr(lnaddr, sizeof lnaddr, port);
	CHECK_OK(gort_dial("tcp", lnaddr, &c));
	CHECK_OK(gort_accept(ln, &s));
	CHECK_OK(gort_conn_close(c));
	CHECK_OK(gort_conn_close(s));
	snprintf(lnaddr, sizeof lnaddr, ":%d", port);
	CHECK_OK(gort_dial("tcp", lnaddr, &c));
	CHECK_OK(gort_accept(ln, &s));
	test_write_full(c, "hi", 2);
	test_read_full(s, any, 2);
	CHECK_OK(gort_conn_close(c));
	CHECK_OK(gort_conn_close(s));
	CHECK_OK(gort_conn_close(ln));
}

static void test_localhost(void)
{
	gort_conn *ln, *c, *s;
	int err = gort_listen("tcp4", "localhost:0", &ln);
	if (err == GORT_ENOHOST) {
		printf("net_errors: skipping localhost: \"localhost\" does not resolve here\n");
		return;
	}
	CHECK_OK(err);
	int port = gort_conn_port(ln);
	char addr[64], want[64];
	snprintf(addr, sizeof addr, "localhost:%d", port);
	test_addr(want, sizeof want, port);
	check_addr(ln, false, want);
	CHECK_OK(gort_dial("tcp4", addr, &c));
	CHECK_OK(gort_accept(ln, &s));
	check_addr(c, true, want);
	CHECK_OK(gort_conn_close(c));
	CHECK_OK(gort_conn_close(s));
	CHECK_OK(gort_conn_close(ln));
}

static void test_ipv6(void)
{
	gort_conn *ln, *c, *s;
	int err = gort_listen("tcp", "[::1]:0", &ln);
	if (err == -EADDRNOTAVAIL || err == -EAFNOSUPPORT) {
		printf("net_errors: skipping ipv6: no IPv6 loopback here (listen [::1]:0: %s)\n", gort_strerror(err));
		return;
	}
	CHECK_OK(err);
	int port = gort_conn_port(ln);
	CHECK(port > 0, "[::1] port %d", port);
	char addr[64];
	snprintf(addr, sizeof addr, "[::1]:%d", port);
	check_addr(ln, false, addr);
	CHECK_OK(gort_dial("tcp6", addr, &c));
	CHECK_OK(gort_accept(ln, &s));
	check_addr(c, true, addr);
	check_addr(s, false, addr);
	char caddr[80], saddr[80];
	CHECK_OK(gort_conn_local_addr(c, caddr, sizeof caddr));
	CHECK_OK(gort_conn_remote_addr(s, saddr, sizeof saddr));
	CHECK(strcmp(caddr, saddr) == 0 && strncmp(caddr, "[::1]:", 6) == 0, "client %s, server sees %s", caddr,
	      saddr);
	test_write_full(c, "six", 3);
	test_read_full(s, caddr, 3);
	CHECK(memcmp(caddr, "six", 3) == 0, "wrong bytes over IPv6");
	CHECK_OK(gort_conn_close(c));
	CHECK_OK(gort_conn_close(s));
	CHECK_OK(gort_conn_close(ln));
	/* a v4 address on a v6-only network does not parse as v6 */
	CHECK(gort_listen("tcp6", "127.0.0.1:0", &ln) != 0, "tcp6 listened on 127.0.0.1");
	/* UDP too */
	gort_conn *u, *v;
	CHECK_OK(gort_listen_packet("udp6", "[::1]:0", &u));
	snprintf(addr, sizeof addr, "[::1]:%d", gort_conn_port(u));
	CHECK_OK(gort_dial("udp", addr, &v));
	CHECK_ERR(gort_conn_write(v, "dgram", 5), 5);
	struct sockaddr_storage from;
	CHECK_ERR(gort_conn_readfrom(u, caddr, sizeof caddr, &from), 5);
	CHECK(from.ss_family == AF_INET6, "sender family %d", from.ss_family);
	CHECK_OK(gort_conn_close(u));
	CHECK_OK(gort_conn_close(v));
}

static void test_from_fd(void)
{
	gort_conn *c;
	int fd = dup(0);
	CHECK(fd >= 0, "dup");
	close(fd);
	CHECK_ERR(gort_conn_from_fd(fd, &c), -EBADF);
	char path[] = "/tmp/gort_net_errors_XXXXXX";
	fd = mkstemp(path);
	CHECK(fd >= 0, "mkstemp");
	unlink(path);
	CHECK_ERR(gort_conn_from_fd(fd, &c), -EPERM);
	if (fcntl(fd, F_GETFD) >= 0) /* (whether a failed adoption closes fd is not specified) */
		close(fd);

	/* a plain socketpair, adopted */
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
	gort_conn *a, *b;
	CHECK_OK(gort_conn_from_fd(sv[0], &a));
	CHECK_OK(gort_conn_from_fd(sv[1], &b));
	CHECK(gort_conn_fd(a) == sv[0], "gort_conn_fd is not the adopted descriptor");
	char buf[8];
	test_write_full(a, "unix", 4);
	test_read_full(b, buf, 4);
	CHECK(memcmp(buf, "unix", 4) == 0, "wrong bytes");
	CHECK_OK(gort_conn_close_write(a));
	CHECK_ERR(gort_conn_read(b, buf, sizeof buf), 0);
	CHECK_OK(gort_conn_set_read_deadline(a, 1));
	CHECK_ERR(gort_conn_read(a, buf, sizeof buf), GORT_ETIMEOUT);
	CHECK_OK(gort_conn_close(a));
	CHECK_OK(gort_conn_close(b));
}

static int test_main(int argc, char **argv)
{
	test_refused();
	test_network();
	test_address();
	test_null_conn();
	test_strerror();
	test_addrs();
	test_localhost();
	test_ipv6();
	test_from_fd();
	return test_pass("net_errors");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
