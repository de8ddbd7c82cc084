/*
 * chan_close - close, len/cap, element sizes and the nil channel, as Go's
 * chan_test.go checks them:
 *
 *   blocked_recv   8 goroutines blocked in gort_chan_recv on an unbuffered
 *                  channel and 8 on an empty buffered one: close wakes them
 *                  all with ok=false and a zeroed element
 *   blocked_select 8 goroutines blocked in a select (receive from the channel
 *                  that is closed, receive from one that never is): each
 *                  select returns the first case with *ok=false and a zeroed
 *                  element
 *   drain          a closed buffered channel still hands out what it holds,
 *                  in order, then zero/false forever; len and cap along the way
 *   len_cap        len/cap of unbuffered and buffered channels; trysend on a
 *                  full channel and tryrecv on an empty one fail
 *   zero_size      chan struct{}: elem_size 0 with NULL element pointers,
 *                  buffered and unbuffered, closed
 *   large          200-byte elements copy intact through unbuffered and
 *                  buffered channels, send/recv and select, and no byte around
 *                  the destination is touched
 *   nil_chan       trysend/tryrecv on NULL return false; len/cap are 0
 *
 * The goroutines are given many gort_gosched calls to reach their blocking
 * call before the close; if one has not, it receives from a closed channel,
 * which must give the same result, so the test cannot fail on scheduling.
 */
#define _GNU_SOURCE
#include <string.h>

#include "harness.h"

#define WAITERS 8
#define LET_THEM_BLOCK 100

typedef struct elem {
	long a, b, c;
} elem;

static gort_waitgroup wg;
static atomic_long bad_ok, bad_zero, bad_case, started;

static bool is_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* let_them_block returns once all n goroutines have reached their blocking
 * call (or are about to: they count themselves just before it), and has
 * then yielded many times more. */
static void let_them_block(long n)
{
	test_wait(&started, n, "the goroutines to start");
	for (int i = 0; i < LET_THEM_BLOCK; i++)
		gort_gosched();
	atomic_store(&started, 0);
}

/* ---- blocked_recv ----------------------------------------------------------- */

static void blocked_receiver(void *arg)
{
	gort_chan *c = arg;
	elem e;
	memset(&e, 0xab, sizeof e);
	test_done(&started);
	if (gort_chan_recv(c, &e))
		atomic_fetch_add(&bad_ok, 1);
	if (!is_zero(&e, sizeof e))
		atomic_fetch_add(&bad_zero, 1);
	gort_waitgroup_done(&wg);
}

static void test_blocked_recv(size_t cap)
{
	gort_chan *c = gort_chan_make(sizeof(elem), cap);
	atomic_store(&bad_ok, 0);
	atomic_store(&bad_zero, 0);
	gort_waitgroup_add(&wg, WAITERS);
	for (int i = 0; i < WAITERS; i++)
		gort_go(blocked_receiver, c);
	let_them_block(WAITERS);
	gort_chan_close(c);
	gort_waitgroup_wait(&wg);
	CHECK(atomic_load(&bad_ok) == 0, "cap %zu: %ld receivers got ok=true from a closed channel",
	      cap, atomic_load(&bad_ok));
	CHECK(atomic_load(&bad_zero) == 0, "cap %zu: %ld receivers got a non-zero element", cap,
	      atomic_load(&bad_zero));
	gort_chan_free(c);
}

/* ---- blocked_select --------------------------------------------------------- */

typedef struct select_args {
	gort_chan *closing, *never;
} select_args;

static void blocked_selector(void *arg)
{
	select_args *a = arg;
	elem e, other;
	bool ok = true, other_ok = true;
	memset(&e, 0xcd, sizeof e);
	gort_case cases[] = {
		GORT_CASE_RECV(a->closing, &e, &ok),
		GORT_CASE_RECV(a->never, &other, &other_ok),
	};
	test_done(&started);
	int i = gort_select(cases, 2, true);
	if (i != 0)
		atomic_fetch_add(&bad_case, 1);
	if (ok)
		atomic_fetch_add(&bad_ok, 1);
	if (!is_zero(&e, sizeof e))
		atomic_fetch_add(&bad_zero, 1);
	gort_waitgroup_done(&wg);
}

static void test_blocked_select(size_t cap)
{
	select_args a = {gort_chan_make(sizeof(elem), cap), gort_chan_make(sizeof(elem), 0)};
	atomic_store(&bad_ok, 0);
	atomic_store(&bad_zero, 0);
	atomic_store(&bad_case, 0);
	gort_waitgroup_add(&wg, WAITERS);
	for (int i = 0; i < WAITERS; i++)
		gort_go(blocked_selector, &a);
	let_them_block(WAITERS);
	gort_chan_close(a.closing);
	gort_waitgroup_wait(&wg);
	CHECK(atomic_load(&bad_case) == 0, "cap %zu: %ld selects returned a case other than 0", cap,
	      atomic_load(&bad_case));
	CHECK(atomic_load(&bad_ok) == 0, "cap %zu: %ld selects left ok=true for a closed channel",
	      cap, atomic_load(&bad_ok));
	CHECK(atomic_load(&bad_zero) == 0, "cap %zu: %ld selects left a non-zero element", cap,
	      atomic_load(&bad_zero));
	/* The woken selects must have left the other channel's queue too. */
	elem e = {1, 2, 3};
	CHECK(!gort_chan_trysend(a.never, &e), "cap %zu: a send found a receiver on 'never': a "
	      "select left itself queued there", cap);
	gort_chan_free(a.closing);
	gort_chan_free(a.never);
}

/* ---- drain ------------------------------------------------------------------ */

static void test_drain(void)
{
	gort_chan *c = gort_chan_make(sizeof(long), 5);
	for (long v = 1; v <= 3; v++)
		gort_chan_send(c, &v);
	gort_chan_close(c);
	CHECK(gort_chan_len(c) == 3 && gort_chan_cap(c) == 5, "closed: len=%d cap=%d, want 3 5",
	      gort_chan_len(c), gort_chan_cap(c));
	long v = 0;
	CHECK(gort_chan_recv(c, &v) && v == 1, "first receive: v=%ld", v);
	CHECK(gort_chan_len(c) == 2, "len=%d after one receive", gort_chan_len(c));
	bool ok = false;
	CHECK(gort_chan_tryrecv(c, &v, &ok) && ok && v == 2, "tryrecv: ok=%d v=%ld", ok, v);
	gort_case rc[] = {GORT_CASE_RECV(c, &v, &ok)};
	ok = false;
	CHECK(gort_select(rc, 1, true) == 0 && ok && v == 3, "select: ok=%d v=%ld", ok, v);
	CHECK(gort_chan_len(c) == 0 && gort_chan_cap(c) == 5, "drained: len=%d cap=%d",
	      gort_chan_len(c), gort_chan_cap(c));
	for (int i = 0; i < 3; i++) {
		v = 99;
		CHECK(!gort_chan_recv(c, &v) && v == 0, "receive %d after draining: v=%ld", i, v);
		v = 99;
		ok = true;
		CHECK(gort_chan_tryrecv(c, &v, &ok), "tryrecv on a closed channel must proceed");
		CHECK(!ok && v == 0, "tryrecv after draining: ok=%d v=%ld", ok, v);
		v = 99;
		ok = true;
		CHECK(gort_select(rc, 1, false) == 0 && !ok && v == 0,
		      "select (non-blocking) after draining: ok=%d v=%ld", ok, v);
		CHECK(gort_chan_recv(c, NULL) == false, "receive into NULL after draining");
	}
	CHECK(gort_chan_tryrecv(c, NULL, NULL), "tryrecv(NULL, NULL) on a closed channel");
	gort_chan_free(c);
}

/* ---- len_cap ---------------------------------------------------------------- */

static void test_len_cap(void)
{
	gort_chan *u = gort_chan_make(sizeof(int), 0);
	CHECK(gort_chan_len(u) == 0 && gort_chan_cap(u) == 0, "unbuffered: len=%d cap=%d",
	      gort_chan_len(u), gort_chan_cap(u));
	int x = 7;
	CHECK(!gort_chan_trysend(u, &x), "trysend on an unbuffered channel with no receiver");
	CHECK(!gort_chan_tryrecv(u, &x, NULL), "tryrecv on an unbuffered channel with no sender");
	gort_chan_free(u);

	for (int cap = 1; cap <= 16; cap++) {
		gort_chan *c = gort_chan_make(sizeof(int), (size_t)cap);
		CHECK(gort_chan_cap(c) == cap, "cap=%d want %d", gort_chan_cap(c), cap);
		for (int i = 0; i < cap; i++) {
			CHECK(gort_chan_len(c) == i, "cap %d: len=%d want %d", cap, gort_chan_len(c), i);
			if (i % 2 == 0)
				gort_chan_send(c, &i);
			else
				CHECK(gort_chan_trysend(c, &i), "cap %d: trysend %d with room", cap, i);
		}
		CHECK(gort_chan_len(c) == cap, "cap %d: full len=%d", cap, gort_chan_len(c));
		CHECK(!gort_chan_trysend(c, &x), "cap %d: trysend on a full channel", cap);
		for (int i = 0; i < cap; i++) {
			int got = -1;
			bool ok = false;
			if (i % 2 == 0)
				CHECK(gort_chan_recv(c, &got), "cap %d: receive", cap);
			else
				CHECK(gort_chan_tryrecv(c, &got, &ok) && ok, "cap %d: tryrecv", cap);
			CHECK(got == i, "cap %d: FIFO order broken: got %d want %d", cap, got, i);
			CHECK(gort_chan_len(c) == cap - 1 - i, "cap %d: len=%d", cap, gort_chan_len(c));
		}
		CHECK(!gort_chan_tryrecv(c, &x, NULL), "cap %d: tryrecv on an empty channel", cap);
		/* Wrap the ring around a few times. */
		for (int i = 0; i < 3 * cap + 1; i++) {
			int got = -1;
			gort_chan_send(c, &i);
			CHECK(gort_chan_recv(c, &got) && got == i, "cap %d: wrap %d got %d", cap, i, got);
		}
		gort_chan_free(c);
	}
}

/* ---- zero_size -------------------------------------------------------------- */

#define SIGNALS 1000

static void signaller(void *arg)
{
	gort_chan *c = arg;
	for (int i = 0; i < SIGNALS; i++)
		gort_chan_send(c, NULL);
	gort_chan_close(c);
	gort_waitgroup_done(&wg);
}

static void test_zero_size(void)
{
	gort_chan *c = gort_chan_make(0, 3);
	CHECK(gort_chan_cap(c) == 3, "chan struct{} cap=%d", gort_chan_cap(c));
	gort_chan_send(c, NULL);
	CHECK(gort_chan_trysend(c, NULL), "trysend into a chan struct{} with room");
	gort_case sc[] = {GORT_CASE_SEND(c, NULL)};
	CHECK(gort_select(sc, 1, true) == 0, "select send into a chan struct{}");
	CHECK(gort_chan_len(c) == 3, "chan struct{} len=%d want 3", gort_chan_len(c));
	CHECK(!gort_chan_trysend(c, NULL), "trysend into a full chan struct{}");
	bool ok = false;
	CHECK(gort_chan_recv(c, NULL), "receive from a chan struct{}");
	CHECK(gort_chan_tryrecv(c, NULL, &ok) && ok, "tryrecv from a chan struct{}");
	gort_case rc[] = {GORT_CASE_RECV(c, NULL, &ok)};
	ok = false;
	CHECK(gort_select(rc, 1, true) == 0 && ok, "select receive from a chan struct{}");
	CHECK(gort_chan_len(c) == 0, "chan struct{} len=%d want 0", gort_chan_len(c));
	CHECK(!gort_chan_tryrecv(c, NULL, NULL), "tryrecv from an empty chan struct{}");
	gort_chan_close(c);
	CHECK(!gort_chan_recv(c, NULL), "receive from a closed chan struct{}");
	gort_chan_free(c);

	for (size_t cap = 0; cap <= 2; cap++) {
		c = gort_chan_make(0, cap);
		gort_waitgroup_add(&wg, 1);
		gort_go(signaller, c);
		int n = 0;
		while (gort_chan_recv(c, NULL))
			n++;
		gort_waitgroup_wait(&wg);
		CHECK(n == SIGNALS, "cap %zu: %d signals through a chan struct{}, want %d", cap, n,
		      SIGNALS);
		gort_chan_free(c);
	}
}

/* ---- large ------------------------------------------------------------------ */

#define BIG 200
#define BIGS 1000

typedef struct big {
	unsigned char b[BIG];
} big;

typedef struct guarded {
	unsigned char before[24];
	big v;
	unsigned char after[24];
} guarded;

static void fill(big *v, int seed)
{
	for (int i = 0; i < BIG; i++)
		v->b[i] = (unsigned char)(seed * 31 + i * 7 + (seed >> 8));
}

static bool intact(const big *v, int seed)
{
	big want;
	fill(&want, seed);
	return memcmp(v, &want, sizeof want) == 0;
}

static void big_sender(void *arg)
{
	gort_chan *c = arg;
	for (int i = 0; i < BIGS; i++) {
		big v;
		fill(&v, i);
		if (i % 2 == 0) {
			gort_chan_send(c, &v);
		} else {
			gort_case sc[] = {GORT_CASE_SEND(c, &v)};
			CHECK(gort_select(sc, 1, true) == 0, "select send");
		}
		memset(&v, 0xee, sizeof v); /* the channel must have its own copy */
	}
	gort_chan_close(c);
	gort_waitgroup_done(&wg);
}

static void test_large(void)
{
	for (size_t cap = 0; cap <= 3; cap++) {
		gort_chan *c = gort_chan_make(sizeof(big), cap);
		gort_waitgroup_add(&wg, 1);
		gort_go(big_sender, c);
		int n = 0;
		for (;;) {
			guarded g;
			memset(&g, 0x5a, sizeof g);
			bool ok = false; /* a select's receive sets it true, as v, ok := <-c does */
			if (n % 3 == 0) {
				ok = gort_chan_recv(c, &g.v);
			} else {
				gort_case rc[] = {GORT_CASE_RECV(c, &g.v, &ok)};
				CHECK(gort_select(rc, 1, true) == 0, "select receive");
			}
			for (size_t i = 0; i < sizeof g.before; i++)
				CHECK(g.before[i] == 0x5a && g.after[i] == 0x5a,
				      "cap %zu: bytes around the element were overwritten", cap);
			if (!ok) {
				CHECK(is_zero(&g.v, sizeof g.v), "cap %zu: closed receive not zeroed", cap);
				break;
			}
			CHECK(intact(&g.v, n), "cap %zu: element %d arrived damaged", cap, n);
			n++;
		}
		gort_waitgroup_wait(&wg);
		CHECK(n == BIGS, "cap %zu: %d elements arrived, want %d", cap, n, BIGS);
		gort_chan_free(c);
	}
}

/* ---- nil_chan --------------------------------------------------------------- */

static void test_nil_chan(void)
{
	long v = 5;
	bool ok = true;
	CHECK(!gort_chan_trysend(NULL, &v), "trysend on a nil channel");
	CHECK(!gort_chan_tryrecv(NULL, &v, &ok), "tryrecv on a nil channel");
	CHECK(v == 5, "tryrecv on a nil channel wrote the element");
	CHECK(gort_chan_len(NULL) == 0 && gort_chan_cap(NULL) == 0, "nil channel: len=%d cap=%d",
	      gort_chan_len(NULL), gort_chan_cap(NULL));
}

static int test_main(int argc, char **argv)
{
	for (size_t cap = 0; cap <= 2; cap++) {
		test_blocked_recv(cap);
		test_blocked_select(cap);
	}
	test_drain();
	test_len_cap();
	test_zero_size();
	test_large();
	test_nil_chan();
	return test_pass("chan_close");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
