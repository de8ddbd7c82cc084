/*
 * net_resolve - names in addresses go to getaddrinfo in a system call that
 * hands its P off (gort_getaddrinfo): with GOMAXPROCS=1 sysmon takes the P
 * from every call that lasts a tick and hands it on, racing the call's
 * return.  200 listens on "localhost:0" and dials of "localhost:PORT" (tcp4:
 * /etc/hosts, no DNS) must all work - and the deadlock detector must never
 * mistake the goroutine coming back from its call, queued while its P is
 * still in sysmon's hands, for a lost wakeup ("checkdead: runnable g").
 * Skipped, saying why, if "localhost" does not resolve here.
 */
#define _GNU_SOURCE
#include "net_util.h"

enum { ROUNDS = 200 };

static int test_main(int argc, char **argv)
{
	for (int i = 0; i < ROUNDS; i++) {
		gort_conn *ln, *c, *s;
		int err = gort_listen("tcp4", "localhost:0", &ln);
		if (err == GORT_ENOHOST && i == 0) {
			printf("net_resolve: skipped: \"localhost\" does not resolve here\n");
			return test_pass("net_resolve");
		}
		CHECK_OK(err);
		char addr[64], want[64], got[64];
		int port = gort_conn_port(ln);
		snprintf(addr, sizeof addr, "localhost:%d", port);
		test_addr(want, sizeof want, port);
		CHECK_OK(gort_dial("tcp4", addr, &c));
		CHECK_OK(gort_accept(ln, &s));
		CHECK_OK(gort_conn_remote_addr(c, got, sizeof got));
		CHECK(strcmp(got, want) == 0, "dialled %s, connected to %s", addr, got);
		CHECK_OK(gort_conn_close(c));
		CHECK_OK(gort_conn_close(s));
		CHECK_OK(gort_conn_close(ln));
	}
	return test_pass("net_resolve");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
