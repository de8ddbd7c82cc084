/*
 * net_util.h - what the netpoller and net API tests (net_*.c, fdwait_*.c)
 * share, on top of harness.h and time_util.h.
 *
 *   CHECK_OK(expr)                 expr (a gort net call) returned >= 0;
 *                                  otherwise fail, naming gort_strerror
 *   CHECK_ERR(expr, want)          expr returned exactly the error want
 *   test_listen(&port)             a TCP listener on 127.0.0.1:0 (its port out)
 *   test_addr(buf, port)           "127.0.0.1:<port>" into buf
 *   test_pair(&a, &b)              a connected loopback pair: a dialled, b
 *                                  accepted (the listener is closed after)
 *   test_read_full(c, buf, n)      read exactly n bytes, failing on EOF/error
 *   test_write_full(c, buf, n)     gort_conn_write, checking it wrote n
 *   test_nofile(want)              raise RLIMIT_NOFILE's soft limit toward
 *                                  want; returns the limit now in force
 *   test_threads()                 the process's thread count (/proc)
 *   test_open_fds()                how many descriptors the process has open
 *   test_read_to_end               a goroutine: read a conn to its end, send
 *                                  the byte count (or the error) on a channel
 *   test_wait_goroutines(n)        yield until gort_numgoroutine() <= n
 *                                  (goroutines that have finished their work
 *                                  may still be on their way out)
 *   CHECK_ELAPSED(t0, deadline, end)  a timed-out call returned no earlier
 *                                  than its deadline and within 2 s of it
 *                                  (a generous bound: timing is for the
 *                                  benchmarks, this only catches a hang)
 *
 * Loopback only, port 0 only: the tests never depend on the network or on
 * a fixed port being free.
 */
#ifndef GORT_TEST_NET_UTIL_H
#define GORT_TEST_NET_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>

#include "time_util.h"

#define MS GORT_MILLISECOND

#define CHECK_OK(expr) \
	__extension__({ \
		long r_ = (long)(expr); \
		CHECK(r_ >= 0, "%s = %ld (%s)", #expr, r_, gort_strerror(r_)); \
		r_; \
	})

#define CHECK_ERR(expr, want) \
	do { \
		long r_ = (long)(expr), w_ = (long)(want); \
		CHECK(r_ == w_, "%s = %ld (%s), want %ld (%s)", #expr, r_, gort_strerror(r_), w_, \
		      gort_strerror(w_)); \
	} while (0)

/* CHECK_ELAPSED: end >= deadline, and end - deadline < 2 s. */
#define CHECK_ELAPSED(t0, deadline, end) \
	do { \
		CHECK_AFTER((end), (t0), (deadline) - (t0), "the call returned before its deadline"); \
		CHECK((end) - (deadline) < 2 * GORT_SECOND, "the call returned %lld ms after its deadline", \
		      (long long)(((end) - (deadline)) / MS)); \
	} while (0)

static inline void test_addr(char *buf, size_t n, int port)
{
	snprintf(buf, n, "127.0.0.1:%d", port);
}

static inline gort_conn *test_listen(int *port)
{
	gort_conn *ln = NULL;
	CHECK_OK(gort_listen("tcp", "127.0.0.1:0", &ln));
	int p = gort_conn_port(ln);
	CHECK(p > 0 && p < 65536, "listener port %d", p);
	if (port != NULL)
		*port = p;
	return ln;
}

/* test_pair: dial, then accept (a loopback handshake completes in the
 * kernel before accept, so one goroutine can do both). */
static inline void test_pair(gort_conn **dialed, gort_conn **accepted)
{
	int port;
	gort_conn *ln = test_listen(&port);
	char addr[64];
	test_addr(addr, sizeof addr, port);
	CHECK_OK(gort_dial("tcp", addr, dialed));
	CHECK_OK(gort_accept(ln, accepted));
	CHECK_OK(gort_conn_close(ln));
}

static inline void test_read_full(gort_conn *c, void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		long r = gort_conn_read(c, (char *)buf + got, n - got);
		CHECK(r > 0, "read after %zu of %zu bytes: %ld (%s)", got, n, r, r == 0 ? "EOF" : gort_strerror(r));
		got += (size_t)r;
	}
}

static inline void test_write_full(gort_conn *c, const void *buf, size_t n)
{
	long r = gort_conn_write(c, buf, n);
	CHECK(r == (long)n, "write of %zu bytes: %ld (%s)", n, r, gort_strerror(r));
}

static inline long test_nofile(long want)
{
	struct rlimit rl;
	CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0, "getrlimit: %s", strerror(errno));
	if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || (long)rl.rlim_max >= want ? (rlim_t)want : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur == RLIM_INFINITY ? want : (long)rl.rlim_cur;
}

static inline int test_threads(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	CHECK(f != NULL, "/proc/self/status: %s", strerror(errno));
	char line[256];
	int n = -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	CHECK(n > 0, "no Threads: line in /proc/self/status");
	return n;
}

static inline int test_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	CHECK(d != NULL, "/proc/self/fd: %s", strerror(errno));
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

static inline void test_wait_goroutines(int n)
{
	double start = test_seconds();
	while (gort_numgoroutine() > n) {
		CHECK(test_seconds() - start < TEST_WATCHDOG_SECONDS, "watchdog: %d goroutines, want <= %d",
		      gort_numgoroutine(), n);
		gort_gosched();
	}
}

/* recv_long receives the one long a helper goroutine sends on ch, and frees
 * ch. */
static inline long recv_long(gort_chan *ch)
{
	long r;
	CHECK(gort_chan_recv(ch, &r), "closed channel");
	gort_chan_free(ch);
	return r;
}

/* test_read_to_end, a goroutine (gort_go_with(test_read_to_end,
 * test_reader_args, .c = c, .done = ch)): reads c until EOF or an error and
 * sends on done (a channel of long) the bytes it read, or the error. */
typedef struct test_reader_args {
	gort_conn *c;
	gort_chan *done;
} test_reader_args;

static inline void test_read_to_end(void *arg)
{
	test_reader_args *a = arg;
	char buf[4096];
	long total = 0, r;
	while ((r = gort_conn_read(a->c, buf, sizeof buf)) > 0)
		total += r;
	long result = r == 0 ? total : r;
	gort_chan_send(a->done, &result);
}

#endif /* GORT_TEST_NET_UTIL_H */
