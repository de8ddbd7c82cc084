/*
 * select_deadline - select with a deadline (gort_select_deadline,
 * gort_select_timeout and their macros), case labels, compound literals:
 *
 *   timeout       nothing ready: GORT_SELECT_TIMEDOUT, no sooner than the
 *                 timeout, elem and ok untouched
 *   ready         a ready case wins over any deadline, also one passed
 *   passed        a passed deadline, 0 and negative timeouts: at once
 *   nocases       no cases (or nil ones only): waits out the deadline
 *   none          deadline 0 is no deadline: waits for the sender
 *   woken         1000 selects with a 10 s timeout, each woken by a sender:
 *                 the disarmed timer never wakes the goroutine later (a
 *                 sleep after each must last its whole duration)
 *   labels        designated-index labels: the label comes back whatever the
 *                 cases' order; a label left out is an empty case
 *   literal       GORT_CASE_SEND with a compound literal
 *   instant       2000 rounds of a select with a deadline against a trysend
 *                 made around it (40 us before to 10 us after): the trysend
 *                 succeeds exactly when the select returns its case (taken
 *                 once or not at all)
 *   race          8 senders and 8 receivers, all selecting with random
 *                 timeouts of 0-50 us, over an unbuffered and a buffered
 *                 channel: every value received exactly once, counts match
 *
 * `select_deadline deadlock_after` dies of a deadlock (see deadlock_after).
 *
 * Time is checked only in the safe direction (time_util.h): nothing ends
 * before its deadline.
 */
#define _GNU_SOURCE
#include <string.h>

#include "time_util.h"

static gort_waitgroup wg;

/* ---- single selects ------------------------------------------------------------ */

static void TestTimeout(void)
{
	gort_chan *c = gort_chan_make(sizeof(int), 0);
	int v = 7;
	bool ok = true;
	gort_case cases[] = {GORT_CASE_RECV(c, &v, &ok)};
	int64_t start = gort_nanotime();
	int r = gort_select_timeout(cases, 1, 2 * GORT_MILLISECOND);
	CHECK_AFTER(gort_nanotime(), start, 2 * GORT_MILLISECOND, "select_timeout");
	CHECK(r == GORT_SELECT_TIMEDOUT, "got %d", r);
	CHECK(v == 7 && ok, "a timed-out select wrote its case's elem or ok");

	start = gort_nanotime();
	r = GORT_SELECT_DEADLINE(start + GORT_MILLISECOND, GORT_CASE_RECV(c, &v, &ok),
	                         GORT_CASE_SEND(c, &v));
	CHECK_AFTER(gort_nanotime(), start, GORT_MILLISECOND, "select_deadline");
	CHECK(r == GORT_SELECT_TIMEDOUT, "got %d", r);
	gort_chan_free(c);
}

static void TestReady(void)
{
	gort_chan *c = gort_chan_make(sizeof(int), 1);
	int v = 0;
	bool ok = false;
	int64_t timeouts[] = {-1, 0, GORT_SECOND};
	for (int i = 0; i < 3; i++) {
		int x = 10 + i;
		gort_chan_send(c, &x);
		int r = GORT_SELECT_TIMEOUT(timeouts[i], GORT_CASE_RECV(NULL, NULL, NULL), GORT_CASE_RECV(c, &v, &ok));
		CHECK(r == 1 && v == x && ok, "timeout %lld: got %d, v %d", (long long)timeouts[i], r, v);
	}
	int x = 20;
	gort_chan_send(c, &x);
	int r = GORT_SELECT_DEADLINE(gort_nanotime() - GORT_SECOND, GORT_CASE_RECV(c, &v, &ok));
	CHECK(r == 0 && v == 20, "a passed deadline hid a ready case: %d", r);
	r = GORT_SELECT_TIMEOUT(0, GORT_CASE_SEND(c, &x), GORT_CASE_SEND(c, &x));
	CHECK(r == 0 || r == 1, "a send with room: %d", r);
	r = GORT_SELECT_TIMEOUT(0, GORT_CASE_SEND(c, &x));
	CHECK(r == GORT_SELECT_TIMEDOUT, "a send on a full channel: %d", r);
	gort_chan_close(c);
	r = GORT_SELECT_TIMEOUT(GORT_SECOND, GORT_CASE_RECV(c, &v, &ok));
	CHECK(r == 0 && v == 20 && ok, "the buffered value before the close: %d", r);
	r = GORT_SELECT_TIMEOUT(GORT_SECOND, GORT_CASE_RECV(c, &v, &ok));
	CHECK(r == 0 && v == 0 && !ok, "a closed channel is ready: %d", r);
	gort_chan_free(c);
}

static void TestPassed(void)
{
	gort_chan *c = gort_chan_make(0, 0);
	int64_t now = gort_nanotime();
	CHECK(GORT_SELECT_DEADLINE(now - 1, GORT_CASE_RECV(c, NULL, NULL)) == GORT_SELECT_TIMEDOUT, "passed");
	CHECK(GORT_SELECT_DEADLINE(1, GORT_CASE_RECV(c, NULL, NULL)) == GORT_SELECT_TIMEDOUT, "deadline 1");
	CHECK(GORT_SELECT_TIMEOUT(0, GORT_CASE_RECV(c, NULL, NULL)) == GORT_SELECT_TIMEDOUT, "timeout 0");
	CHECK(GORT_SELECT_TIMEOUT(-GORT_SECOND, GORT_CASE_RECV(c, NULL, NULL)) == GORT_SELECT_TIMEDOUT, "negative");
	CHECK(gort_select_timeout(NULL, 0, 0) == GORT_SELECT_TIMEDOUT, "no cases, timeout 0");
	gort_chan_free(c);
}

static void TestNoCases(void)
{
	int64_t start = gort_nanotime();
	CHECK(gort_select_timeout(NULL, 0, GORT_MILLISECOND) == GORT_SELECT_TIMEDOUT, "no cases");
	CHECK_AFTER(gort_nanotime(), start, GORT_MILLISECOND, "no cases");
	start = gort_nanotime();
	int r = GORT_SELECT_TIMEOUT(GORT_MILLISECOND, GORT_CASE_RECV(NULL, NULL, NULL), GORT_CASE_SEND(NULL, &r));
	CHECK(r == GORT_SELECT_TIMEDOUT, "nil cases: %d", r);
	CHECK_AFTER(gort_nanotime(), start, GORT_MILLISECOND, "nil cases");
}

static void send_later(void *arg)
{
	gort_sleep(GORT_MILLISECOND);
	int v = 42;
	gort_chan_send(arg, &v);
	gort_waitgroup_done(&wg);
}

static void TestNone(void)
{
	gort_chan *c = gort_chan_make(sizeof(int), 0);
	gort_waitgroup_add(&wg, 1);
	gort_go(send_later, c);
	int v = 0;
	int r = GORT_SELECT_DEADLINE(0, GORT_CASE_RECV(c, &v, NULL));
	CHECK(r == 0 && v == 42, "deadline 0: %d, v %d", r, v);
	gort_waitgroup_wait(&wg);
	gort_chan_free(c);
}

static void send_n(void *arg)
{
	for (int i = 1; i <= 1000; i++)
		gort_chan_send(arg, &i);
	gort_waitgroup_done(&wg);
}

static void TestWoken(void)
{
	gort_chan *c = gort_chan_make(sizeof(int), 0);
	gort_waitgroup_add(&wg, 1);
	gort_go(send_n, c);
	for (int i = 1; i <= 1000; i++) {
		int v = 0;
		int r = GORT_SELECT_TIMEOUT(10 * GORT_SECOND, GORT_CASE_RECV(c, &v, NULL));
		CHECK(r == 0 && v == i, "round %d: got %d, v %d", i, r, v);
		if (i % 100 == 0) { /* a stale timer would cut this sleep short */
			int64_t start = gort_nanotime();
			gort_sleep(100 * GORT_MICROSECOND);
			CHECK_AFTER(gort_nanotime(), start, 100 * GORT_MICROSECOND, "sleep after round %d", i);
		}
	}
	gort_waitgroup_wait(&wg);
	gort_chan_free(c);
}

/* ---- labels and literals --------------------------------------------------------- */

enum pick { FROM_A, FROM_B, TO_OUT, UNUSED };

static enum pick pick(gort_chan *a, gort_chan *b, gort_chan *out, int *v, bool reversed)
{
	if (reversed)
		return (enum pick)GORT_SELECT_TIMEOUT(GORT_SECOND, [TO_OUT] = GORT_CASE_SEND(out, v),
		                                      [FROM_B] = GORT_CASE_RECV(b, v, NULL),
		                                      [FROM_A] = GORT_CASE_RECV(a, v, NULL));
	return (enum pick)GORT_SELECT_TIMEOUT(GORT_SECOND, [FROM_A] = GORT_CASE_RECV(a, v, NULL),
	                                      [FROM_B] = GORT_CASE_RECV(b, v, NULL),
	                                      [TO_OUT] = GORT_CASE_SEND(out, v));
}

static void TestLabels(void)
{
	gort_chan *a = gort_chan_make(sizeof(int), 1), *b = gort_chan_make(sizeof(int), 1);
	gort_chan *out = gort_chan_make(sizeof(int), 1);
	int full = 0;
	gort_chan_send(out, &full); /* TO_OUT cannot proceed */
	for (int rev = 0; rev < 2; rev++) {
		int v = 1;
		gort_chan_send(a, &v);
		CHECK(pick(a, b, out, &v, rev) == FROM_A && v == 1, "reversed %d: not FROM_A", rev);
		v = 2;
		gort_chan_send(b, &v);
		CHECK(pick(a, b, out, &v, rev) == FROM_B && v == 2, "reversed %d: not FROM_B", rev);
		gort_chan_recv(out, NULL);
		CHECK(pick(a, b, out, &v, rev) == TO_OUT, "reversed %d: not TO_OUT", rev);
	}
	/* [UNUSED] is never given: the array's slot 3 is left all-zero and
	 * never fires; the select still sees the others */
	int v = 5;
	gort_chan_send(b, &v);
	gort_case cases[UNUSED + 2] = {[FROM_B] = GORT_CASE_RECV(b, &v, NULL)};
	int r = gort_select(cases, UNUSED + 2, false);
	CHECK(r == FROM_B, "empty slots: got %d", r);
	CHECK(gort_select(cases, UNUSED + 2, false) == GORT_SELECT_NONE, "empty slots fired");
	CHECK(gort_select_timeout(cases, UNUSED + 2, 0) == GORT_SELECT_TIMEDOUT, "empty slots, timeout");
	gort_chan_free(a);
	gort_chan_free(b);
	gort_chan_free(out);
}

struct pt {
	int x, y;
};

static void TestLiteral(void)
{
	gort_chan *c = gort_chan_make(sizeof(struct pt), 1);
	int r = GORT_SELECT(GORT_CASE_SEND(c, &(struct pt){1, 2}));
	CHECK(r == 0, "send: %d", r);
	struct pt p = {0, 0};
	CHECK(gort_chan_recv(c, &p) && p.x == 1 && p.y == 2, "received {%d, %d}", p.x, p.y);
	r = GORT_SELECT_DEFAULT(GORT_CASE_SEND(c, &(struct pt){.y = 4, .x = 3}));
	CHECK(r == 0, "designated literal: %d", r);
	r = GORT_SELECT_TIMEOUT(0, GORT_CASE_SEND(c, &(struct pt){5, 6}));
	CHECK(r == GORT_SELECT_TIMEDOUT, "a send on a full channel: %d", r);
	CHECK(gort_chan_recv(c, &p) && p.x == 3 && p.y == 4, "received {%d, %d}", p.x, p.y);
	gort_chan_free(c);
}

/* ---- races ------------------------------------------------------------------------ */

typedef struct instant {
	gort_chan *c;
	int64_t deadline, send_at; /* the select's deadline; when the trysend is made */
	bool sent;
} instant;

static void send_at(void *arg)
{
	instant *in = arg;
	int v = 1;
	test_sleep_until(in->send_at);
	in->sent = gort_chan_trysend(in->c, &v);
	gort_waitgroup_done(&wg);
}

static void TestInstant(void)
{
	gort_chan *c = gort_chan_make(sizeof(int), 0);
	int taken = 0, timedout = 0;
	uint64_t seed = (uint64_t)gort_nanotime();
	for (int i = 0; i < 2000; i++) {
		/* the trysend lands from 40 us before the deadline to 10 us after:
		 * both outcomes happen, many of them as the timer fires */
		int64_t deadline = gort_nanotime() + 100 * GORT_MICROSECOND;
		instant in = {c, deadline, deadline + test_rand_range(&seed, -40, 10) * GORT_MICROSECOND, false};
		gort_waitgroup_add(&wg, 1);
		gort_go(send_at, &in);
		int v = 0;
		int r = GORT_SELECT_DEADLINE(in.deadline, GORT_CASE_RECV(c, &v, NULL));
		gort_waitgroup_wait(&wg);
		CHECK(r == 0 || r == GORT_SELECT_TIMEDOUT, "round %d: got %d", i, r);
		CHECK((r == 0) == in.sent, "round %d: select %d, trysend %s: a value taken %s", i, r,
		      in.sent ? "succeeded" : "failed", in.sent ? "by nobody" : "without a send");
		CHECK(r != 0 || v == 1, "round %d: v %d", i, v);
		if (r == 0)
			taken++;
		else
			timedout++;
	}
	printf("instant: %d taken, %d timed out\n", taken, timedout);
	gort_chan_free(c);
}

enum { RACERS = 8, PER_SENDER = 2000, TOTAL = RACERS * PER_SENDER };

typedef struct race {
	gort_chan *c;
	_Atomic int seen[TOTAL];
	atomic_long received, send_timeouts, recv_timeouts;
	uint64_t seed;
} race;

typedef struct racer {
	race *r;
	int id;
} racer;

static int64_t tiny(uint64_t *s)
{
	return test_rand_range(s, 0, 50) * GORT_MICROSECOND;
}

static void race_sender(void *arg)
{
	racer *me = arg;
	race *r = me->r;
	uint64_t s = r->seed + (uint64_t)me->id;
	for (int i = 0; i < PER_SENDER; i++) {
		int v = me->id * PER_SENDER + i;
		while (GORT_SELECT_TIMEOUT(tiny(&s), GORT_CASE_SEND(r->c, &v)) == GORT_SELECT_TIMEDOUT)
			atomic_fetch_add(&r->send_timeouts, 1);
	}
	gort_waitgroup_done(&wg);
}

static void race_receiver(void *arg)
{
	racer *me = arg;
	race *r = me->r;
	uint64_t s = r->seed + 1000 + (uint64_t)me->id;
	while (atomic_load(&r->received) < TOTAL) {
		int v = -1;
		bool ok = false;
		int got = GORT_SELECT_TIMEOUT(tiny(&s), GORT_CASE_RECV(r->c, &v, &ok));
		if (got == GORT_SELECT_TIMEDOUT) {
			atomic_fetch_add(&r->recv_timeouts, 1);
			continue;
		}
		CHECK(got == 0 && ok && v >= 0 && v < TOTAL, "receiver %d: got %d, ok %d, v %d", me->id, got, ok, v);
		atomic_fetch_add(&r->seen[v], 1);
		atomic_fetch_add(&r->received, 1);
	}
	gort_waitgroup_done(&wg);
}

static void race_once(size_t cap)
{
	race *r = calloc(1, sizeof *r);
	CHECK(r != NULL, "calloc");
	r->c = gort_chan_make(sizeof(int), cap);
	r->seed = (uint64_t)gort_nanotime();
	racer rs[2 * RACERS];
	gort_waitgroup_add(&wg, 2 * RACERS);
	for (int i = 0; i < RACERS; i++) {
		rs[i] = (racer){r, i};
		rs[RACERS + i] = (racer){r, i};
		gort_go(race_sender, &rs[i]);
		gort_go(race_receiver, &rs[RACERS + i]);
	}
	gort_waitgroup_wait(&wg);
	CHECK(atomic_load(&r->received) == TOTAL, "cap %zu: %ld received of %d", cap, atomic_load(&r->received),
	      TOTAL);
	for (int v = 0; v < TOTAL; v++)
		CHECK(atomic_load(&r->seen[v]) == 1, "cap %zu: value %d received %d times", cap, v,
		      atomic_load(&r->seen[v]));
	CHECK(gort_chan_len(r->c) == 0, "cap %zu: %d values left", cap, gort_chan_len(r->c));
	printf("race cap %zu: %d values, %ld send timeouts, %ld receive timeouts\n", cap, TOTAL,
	       atomic_load(&r->send_timeouts), atomic_load(&r->recv_timeouts));
	gort_chan_free(r->c);
	free(r);
}

static void TestRace(void)
{
	race_once(0);
	race_once(4);
}

/*
 * `select_deadline deadlock_after`: a select with an hour's timeout, woken
 * by a value, then a select that times out, then a receive that nothing
 * will ever satisfy: Go's deadlock report.  A timer left armed by either
 * select would count as pending work, and the report would never come.
 */
static void deadlock_after(void)
{
	gort_chan *c = gort_chan_make(sizeof(int), 0);
	int v = 0;
	gort_waitgroup_add(&wg, 1);
	gort_go(send_later, c); /* after 1 ms: the select below is parked */
	CHECK(GORT_SELECT_TIMEOUT(3600 * GORT_SECOND, GORT_CASE_RECV(c, &v, NULL)) == 0 && v == 42, "the value");
	gort_waitgroup_wait(&wg);
	CHECK(GORT_SELECT_TIMEOUT(GORT_MILLISECOND, GORT_CASE_RECV(c, &v, NULL)) == GORT_SELECT_TIMEDOUT, "timeout");
	gort_chan_recv(c, &v);
}

static int main_fn(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "deadlock_after") == 0) {
		deadlock_after();
		return 0;
	}
	TEST_RUN(TestTimeout);
	TEST_RUN(TestReady);
	TEST_RUN(TestPassed);
	TEST_RUN(TestNoCases);
	TEST_RUN(TestNone);
	TEST_RUN(TestWoken);
	TEST_RUN(TestLabels);
	TEST_RUN(TestLiteral);
	TEST_RUN(TestInstant);
	TEST_RUN(TestRace);
	/* every goroutine has called Done; wait for them to have exited too */
	double start = test_seconds();
	while (gort_numgoroutine() > 1) {
		CHECK(test_seconds() - start < TEST_WATCHDOG_SECONDS, "%d goroutines left", gort_numgoroutine());
		gort_gosched();
	}
	return test_pass("select_deadline");
}

int main(int argc, char **argv)
{
	gort_main(main_fn, argc, argv);
}
