/*
 * chan_typed - the type-checked API (issue 17): typed channel handles
 * (GORT_CHAN and the _t calls), gort_chan_poll, gort_go_int, gort_go_with
 * at its size limit.  What must not compile is tests/compile_fail's job.
 *
 *   typed     make, send (a variable, a const one, a compound literal),
 *             recv, trysend and poll through a handle; gort_chan_of; the
 *             nil handle {0}
 *   select    GORT_CASE_SEND_T / GORT_CASE_RECV_T under labels
 *   as        gort_chan_as over a timer's channel (int64_t) and nil
 *   poll      empty (elem untouched), value, value from a blocked sender,
 *             closed (elem zeroed), nil; tryrecv's old answers beside it
 *   go_int    100 goroutines started with gort_go_int(fn, i): each i
 *             arrives once
 *   go_with   a 64-byte block (GORT_GO_ARGS_MAX) arrives whole
 *
 * `chan_typed as_mismatch` dies: gort_chan_as with the wrong element size.
 */
#define _GNU_SOURCE
#include <string.h>

#include "harness.h"

struct pt {
	int x, y;
};
typedef GORT_CHAN(struct pt) pt_chan;
typedef GORT_CHAN(int) int_chan;
typedef GORT_CHAN(int64_t) time_chan;

static gort_waitgroup wg;

static void TestTyped(void)
{
	pt_chan c = gort_chan_make_t(pt_chan, 4);
	CHECK(gort_chan_cap(gort_chan_of(c)) == 4, "cap %d", gort_chan_cap(gort_chan_of(c)));
	struct pt p = {1, 2};
	const struct pt q = {3, 4};
	gort_chan_send_t(c, &p);
	gort_chan_send_t(c, &q);
	gort_chan_send_t(c, &(struct pt){5, 6});
	CHECK(gort_chan_trysend_t(c, &(struct pt){.y = 8, .x = 7}), "trysend with room");
	CHECK(!gort_chan_trysend_t(c, &p), "trysend on a full channel");
	struct pt got;
	for (int i = 0; i < 3; i++) {
		CHECK(gort_chan_recv_t(c, &got), "recv %d", i);
		CHECK(got.x == 2 * i + 1 && got.y == 2 * i + 2, "recv %d: {%d, %d}", i, got.x, got.y);
	}
	CHECK(gort_chan_poll_t(c, &got) == GORT_RECV_VALUE && got.x == 7 && got.y == 8, "poll: {%d, %d}", got.x,
	      got.y);
	CHECK(gort_chan_poll_t(c, &got) == GORT_RECV_EMPTY, "poll of an empty channel");
	gort_chan_close(gort_chan_of(c));
	got.x = 9;
	CHECK(!gort_chan_recv_t(c, &got) && got.x == 0, "recv of a closed channel");
	gort_chan_free(gort_chan_of(c));

	int_chan nil = {0};
	CHECK(gort_chan_of(nil) == NULL, "{0} is the nil channel");
	int v = 1;
	CHECK(!gort_chan_trysend_t(nil, &v), "trysend on nil");
	CHECK(gort_chan_poll_t(nil, &v) == GORT_RECV_EMPTY, "poll of nil");
}

static void TestTypedSelect(void)
{
	int_chan in = gort_chan_make_t(int_chan, 1);
	pt_chan out = gort_chan_make_t(pt_chan, 1);
	enum { IN, OUT } label;
	int v = 0;
	bool ok = false;
	gort_chan_send_t(in, &(int){11});
	label = GORT_SELECT_TIMEOUT(GORT_SECOND, [OUT] = GORT_CASE_SEND_T(out, &(struct pt){1, 2}),
	                            [IN] = GORT_CASE_RECV_T(in, &v, &ok));
	CHECK(label == IN || label == OUT, "label %d", label);
	int second = GORT_SELECT_TIMEOUT(GORT_SECOND, [OUT] = GORT_CASE_SEND_T(out, &(struct pt){1, 2}),
	                                 [IN] = GORT_CASE_RECV_T(in, &v, &ok));
	CHECK(second == (label == IN ? OUT : IN), "the other case: %d then %d", label, second);
	CHECK(v == 11 && ok, "received %d", v);
	struct pt p;
	CHECK(gort_chan_recv_t(out, &p) && p.x == 1 && p.y == 2, "sent {%d, %d}", p.x, p.y);
	gort_chan_free(gort_chan_of(in));
	gort_chan_free(gort_chan_of(out));
}

static void TestAs(void)
{
	gort_timer *t = gort_timer_new(GORT_MICROSECOND);
	time_chan tc = gort_chan_as(time_chan, gort_timer_c(t));
	int64_t when = 0;
	CHECK(gort_chan_recv_t(tc, &when) && when > 0, "the timer's time: %lld", (long long)when);
	gort_timer_free(t);
	int_chan nil = gort_chan_as(int_chan, NULL);
	CHECK(gort_chan_of(nil) == NULL, "nil");
}

static void send_one(void *arg)
{
	int v = 77;
	gort_chan_send(arg, &v);
	gort_waitgroup_done(&wg);
}

static void TestPoll(void)
{
	gort_chan *c = gort_chan_make(sizeof(int), 2);
	int v = 5;
	CHECK(gort_chan_poll(c, &v) == GORT_RECV_EMPTY && v == 5, "empty: elem written");
	int x = 1;
	gort_chan_send(c, &x);
	x = 2;
	gort_chan_send(c, &x);
	CHECK(gort_chan_poll(c, &v) == GORT_RECV_VALUE && v == 1, "value: %d", v);
	gort_chan_close(c);
	CHECK(gort_chan_poll(c, NULL) == GORT_RECV_VALUE, "a value left after close");
	v = 5;
	CHECK(gort_chan_poll(c, &v) == GORT_RECV_CLOSED && v == 0, "closed: v %d", v);
	CHECK(gort_chan_poll(c, NULL) == GORT_RECV_CLOSED, "closed, NULL elem");
	/* the old call: true, with ok false - the pitfall gort_chan_poll avoids */
	bool ok = true;
	CHECK(gort_chan_tryrecv(c, &v, &ok) && !ok, "tryrecv on closed");
	gort_chan_free(c);

	c = gort_chan_make(sizeof(int), 0);
	gort_waitgroup_add(&wg, 1);
	gort_go(send_one, c);
	int got;
	while ((got = gort_chan_poll(c, &v)) == GORT_RECV_EMPTY)
		gort_gosched();
	CHECK(got == GORT_RECV_VALUE && v == 77, "from a blocked sender: %d, v %d", got, v);
	gort_waitgroup_wait(&wg);
	gort_chan_free(c);

	CHECK(gort_chan_poll(NULL, &v) == GORT_RECV_EMPTY, "nil channel");
	int drained = 0;
	c = gort_chan_make(sizeof(int), 8);
	for (int i = 0; i < 8; i++)
		gort_chan_send(c, &i);
	gort_chan_close(c);
	while (gort_chan_poll(c, &v) == GORT_RECV_VALUE)
		CHECK(v == drained++, "drain order");
	CHECK(drained == 8, "drained %d", drained);
	gort_chan_free(c);
}

enum { GOINTS = 100 };
static _Atomic int goint_seen[GOINTS];

static void goint_body(intptr_t i)
{
	CHECK(i >= 0 && i < GOINTS, "argument %ld", (long)i);
	atomic_fetch_add(&goint_seen[i], 1);
	gort_waitgroup_done(&wg);
}

static void TestGoInt(void)
{
	gort_waitgroup_add(&wg, GOINTS);
	for (int i = 0; i < GOINTS; i++)
		CHECK(gort_go_int(goint_body, i) > 0, "goroutine id");
	/* Not yet run (at GOMAXPROCS=1 none has, unless sysmon preempted the
	 * spawner on a loaded machine), a goroutine shows its function, not
	 * the entry that calls it (G.startpc), as Go's do: no goroutine's top
	 * frame is gort_go_int's entry.  (One that has run and stopped inside
	 * goint_body shows the entry below it, as its caller: that is right.) */
	static char dump[1 << 16];
	int n = gort_stack(dump, sizeof dump, true);
	if (gort_gomaxprocs(0) == 1 && n > 0 && n < (int)sizeof dump && strstr(dump, "TestGoInt") != NULL) {
		/* frames need libdw */
		CHECK(strstr(dump, "goint_body(...)") != NULL, "a goroutine not yet run did not show goint_body");
		for (const char *h = dump; h != NULL; h = strstr(h, "\n\ngoroutine ")) {
			h += h == dump ? 0 : 2; /* at a goroutine's header line */
			const char *top = strchr(h, '\n');
			CHECK(top == NULL || strncmp(top + 1, "go_int_entry", 12) != 0,
			      "a goroutine not yet run showed gort_go_int's entry:\n%s", dump);
		}
	}
	gort_waitgroup_wait(&wg);
	for (int i = 0; i < GOINTS; i++)
		CHECK(atomic_load(&goint_seen[i]) == 1, "argument %d arrived %d times", i, atomic_load(&goint_seen[i]));
}

struct block64 {
	unsigned char b[GORT_GO_ARGS_MAX - sizeof(int *)];
	int *sum;
};

static void sum_block(void *arg)
{
	struct block64 *blk = arg;
	int s = 0;
	for (size_t i = 0; i < sizeof blk->b; i++)
		s += blk->b[i];
	*blk->sum = s;
	gort_waitgroup_done(&wg);
}

static void TestGoWith(void)
{
	_Static_assert(sizeof(struct block64) == GORT_GO_ARGS_MAX, "the block is the largest allowed");
	int sum = 0;
	gort_waitgroup_add(&wg, 1);
	gort_go_with(sum_block, struct block64, .b = {[0] = 1, [55] = 2}, .sum = &sum);
	gort_waitgroup_wait(&wg);
	CHECK(sum == 3, "sum %d", sum);
}

static int main_fn(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "as_mismatch") == 0) {
		gort_chan *c = gort_chan_make(sizeof(int), 1);
		time_chan tc = gort_chan_as(time_chan, c);
		(void)tc;
		return 0;
	}
	TEST_RUN(TestTyped);
	TEST_RUN(TestTypedSelect);
	TEST_RUN(TestAs);
	TEST_RUN(TestPoll);
	TEST_RUN(TestGoInt);
	TEST_RUN(TestGoWith);
	return test_pass("chan_typed");
}

int main(int argc, char **argv)
{
	gort_main(main_fn, argc, argv);
}
