/*
 * net_stream - what a Go programmer expects of one TCP connection.
 *
 *   whole_writes  8 goroutines write 32 KiB messages on one connection at
 *                 once (each write blocks part-way: the peer reads slowly);
 *                 the reader sees 8 x 20 messages, none interleaved with
 *                 another, each writer's in its order
 *   big_write     one 8 MiB write returns 8 MiB, and the peer, reading in
 *                 odd-sized pieces, gets every byte in order
 *   duplex        one goroutine writes 4 MiB while another reads 4 MiB on
 *                 the same connection, both directions at once
 *   zero          a zero-byte read returns 0 without waiting, a zero-byte
 *                 write returns 0
 */
#define _GNU_SOURCE
#include "net_util.h"

enum { WRITERS = 8, PER_WRITER = 20, MSG = 32768 };

typedef struct wargs {
	gort_conn *c;
	int id;
	gort_waitgroup *wg;
} wargs;

static void msg_writer(void *arg)
{
	wargs *a = arg;
	uint8_t *buf = malloc(MSG);
	CHECK(buf != NULL, "malloc");
	for (int s = 0; s < PER_WRITER; s++) {
		/* header: writer id, sequence; body: a function of both */
		buf[0] = (uint8_t)a->id;
		buf[1] = (uint8_t)s;
		for (int i = 2; i < MSG; i++)
			buf[i] = (uint8_t)(a->id * 37 + s * 11 + i);
		test_write_full(a->c, buf, MSG);
		if (s % 4 == 0)
			gort_gosched();
	}
	free(buf);
	gort_waitgroup_done(a->wg);
}

static void test_whole_writes(void)
{
	gort_conn *a, *b;
	test_pair(&a, &b);
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	gort_waitgroup_add(&wg, WRITERS);
	for (int id = 0; id < WRITERS; id++)
		gort_go_with(msg_writer, wargs, .c = a, .id = id, .wg = &wg);
	uint8_t *buf = malloc(MSG);
	int next[WRITERS] = {0};
	for (int k = 0; k < WRITERS * PER_WRITER; k++) {
		test_read_full(b, buf, MSG);
		int id = buf[0], s = buf[1];
		CHECK(id < WRITERS, "message %d: writer %d", k, id);
		CHECK(s == next[id], "message %d: writer %d's #%d, want #%d", k, id, s, next[id]);
		next[id]++;
		for (int i = 2; i < MSG; i++)
			CHECK(buf[i] == (uint8_t)(id * 37 + s * 11 + i),
			      "message %d (writer %d #%d) byte %d is wrong: writes interleaved", k, id, s, i);
		if (k % 16 == 0)
			gort_sleep(GORT_MILLISECOND); /* a slow reader: the writes block part-way */
	}
	gort_waitgroup_wait(&wg);
	for (int id = 0; id < WRITERS; id++)
		CHECK(next[id] == PER_WRITER, "writer %d: %d messages", id, next[id]);
	CHECK_OK(gort_conn_close(a));
	CHECK_ERR(gort_conn_read(b, buf, MSG), 0); /* nothing more: EOF */
	free(buf);
	CHECK_OK(gort_conn_close(b));
}

enum { BIG = 8 << 20 };

static void big_writer(void *arg)
{
	wargs *a = arg;
	uint8_t *buf = malloc(BIG);
	CHECK(buf != NULL, "malloc");
	for (size_t i = 0; i < BIG; i++)
		buf[i] = (uint8_t)(i * 7 + (i >> 16));
	long r = gort_conn_write(a->c, buf, BIG);
	CHECK(r == BIG, "one big write returned %ld (%s)", r, gort_strerror(r));
	free(buf);
	gort_waitgroup_done(a->wg);
}

static void test_big_write(void)
{
	gort_conn *a, *b;
	test_pair(&a, &b);
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	gort_waitgroup_add(&wg, 1);
	gort_go_with(big_writer, wargs, .c = a, .wg = &wg);
	uint8_t buf[7777];
	size_t total = 0;
	while (total < BIG) {
		long n = gort_conn_read(b, buf, sizeof buf - (total % 13));
		CHECK(n > 0, "read after %zu bytes: %ld", total, n);
		for (long i = 0; i < n; i++, total++)
			CHECK(buf[i] == (uint8_t)(total * 7 + (total >> 16)), "byte %zu is wrong", total);
	}
	gort_waitgroup_wait(&wg);
	CHECK_OK(gort_conn_close(a));
	CHECK_ERR(gort_conn_read(b, buf, sizeof buf), 0);
	CHECK_OK(gort_conn_close(b));
}

enum { DUPLEX = 4 << 20 };

typedef struct dargs {
	gort_conn *c;
	int salt;
	gort_waitgroup *wg;
} dargs;

static void dwriter(void *arg)
{
	dargs *a = arg;
	uint8_t buf[10000];
	for (size_t off = 0; off < DUPLEX; off += sizeof buf) {
		size_t n = DUPLEX - off < sizeof buf ? DUPLEX - off : sizeof buf;
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)(off + i + a->salt);
		test_write_full(a->c, buf, n);
	}
	gort_waitgroup_done(a->wg);
}

static void dreader(void *arg)
{
	dargs *a = arg;
	uint8_t buf[9000];
	size_t total = 0;
	while (total < DUPLEX) {
		long n = gort_conn_read(a->c, buf, sizeof buf);
		CHECK(n > 0, "duplex read after %zu: %ld", total, n);
		for (long i = 0; i < n; i++, total++)
			CHECK(buf[i] == (uint8_t)(total + a->salt), "duplex byte %zu is wrong", total);
	}
	gort_waitgroup_done(a->wg);
}

static void test_duplex(void)
{
	gort_conn *a, *b;
	test_pair(&a, &b);
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	gort_waitgroup_add(&wg, 4);
	/* both ends write and read at once: neither may wait for the other */
	gort_go_with(dwriter, dargs, .c = a, .salt = 1, .wg = &wg);
	gort_go_with(dwriter, dargs, .c = b, .salt = 2, .wg = &wg);
	gort_go_with(dreader, dargs, .c = b, .salt = 1, .wg = &wg);
	gort_go_with(dreader, dargs, .c = a, .salt = 2, .wg = &wg);
	gort_waitgroup_wait(&wg);
	CHECK_OK(gort_conn_close(a));
	CHECK_OK(gort_conn_close(b));
}

static void test_zero(void)
{
	gort_conn *a, *b;
	test_pair(&a, &b);
	char buf[4];
	CHECK_ERR(gort_conn_read(a, buf, 0), 0); /* nothing to read, and no wait */
	CHECK_ERR(gort_conn_write(a, buf, 0), 0);
	test_write_full(a, "abc", 3);
	test_read_full(b, buf, 3);
	CHECK(memcmp(buf, "abc", 3) == 0, "wrong bytes");
	CHECK_OK(gort_conn_close(a));
	CHECK_OK(gort_conn_close(b));
}

static int test_main(int argc, char **argv)
{
	test_whole_writes();
	test_big_write();
	test_duplex();
	test_zero();
	return test_pass("net_stream");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
