/*
 * select_test - Go 1.19's test/chan programs on select and channels,
 * ported: each program is a function named after its file (select3.go:
 * test_chan_select3) that does what it does and checks what it checks
 * (its println+panic becomes CHECK).  Go's select statement is
 * gort_select over a case array; Go evaluates every channel and sent value
 * of a select on entering it, and so does the C code, before the call.
 *
 * Every goroutine that ends is joined before the channels it used are
 * freed.  Goroutines that Go leaves blocked forever (select3's "always
 * blocks" cases, sieve1's filters) stay blocked here too; their channels
 * are kept in `kept` so that they stay reachable, not leaked.
 *
 * Adapted:
 *   select3.go: Go's testBlock races f against a goroutine that sleeps
 *     10 ms ("f blocks") or 10 s ("f returns"); here the main goroutine
 *     selects on f's result and a timer of the same length, so that no
 *     10 s sleeper outlives the test.  A slow machine can hide an f
 *     that wrongly returns; one that rightly returns has 10 s to.
 *   nonblock.go: Go gives each polling loop 10,000 tries of about 10 us
 *     ("up to 100ms per test"); here the loops poll the same way but give
 *     up only after 10 s, so that a loaded machine cannot fail them.
 *   select5.go generates a Go program, one function per path through its
 *     templates' choices; here the same enumeration (choose/next) drives
 *     the same operations directly.  C has one way to receive in a select
 *     (an element pointer), so Go's five assignment forms become five
 *     destinations, and default before or after the cases is one default.
 *
 * Not ported:
 *   select2.go: checks that selects allocate no memory, through Go's
 *     MemStats and GC; gort's select keeps its sudogs and orders on the
 *     stack (allocating only above 16 cases), and C has no GC to ask.
 *   select5.go's recvOrder and sendOrder templates: they check the Go
 *     compiler's order of evaluation of a select's expressions; in C that
 *     order is the caller's own code (their channel operations are those
 *     of the recv and send templates, which are ported).
 *   select8.go: break statements inside select (a gccgo compiler bug).
 *   sendstmt.go's sendprec: `c <- false || true` parses as a send: syntax.
 *   perm.go: errorcheck, does not compile (channel direction types).
 *   powser1.go, powser2.go: whole programs computing rational power
 *     series (700 lines each of arithmetic), not select tests; their
 *     channel use - chains of goroutines over unbuffered channels, and
 *     selects whose cases nil channels disable - is what sieve1.go,
 *     sieve2.go, goroutines.go, fifo.go and doubleselect.go test here.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>

#include "harness.h"

static gort_waitgroup wg;

/* Channels that goroutines blocked forever still hold. */
static gort_chan *kept[256];
static atomic_int nkept;

static gort_chan *keep(gort_chan *c)
{
	int i = atomic_fetch_add(&nkept, 1);
	CHECK(i < (int)(sizeof kept / sizeof kept[0]), "too many kept channels");
	kept[i] = c;
	return c;
}

/* ---- select.go: simple select ------------------------------------------------- */

static unsigned sel_counter, sel_shift;

static unsigned get_value(void)
{
	sel_counter++;
	return 1u << sel_shift;
}

static int sel_send(gort_chan *a, gort_chan *b)
{
	int i = 0;
	for (;;) {
		/* both values are computed on entering the select, nil channel or not */
		unsigned va = get_value(), vb = get_value();
		int r = GORT_SELECT_DEFAULT(GORT_CASE_SEND(a, &va), GORT_CASE_SEND(b, &vb));
		if (r == -1)
			break;
		i++;
		if (r == 0)
			a = NULL;
		else
			b = NULL;
		sel_shift++;
	}
	return i;
}

static void test_chan_select(void)
{
	gort_chan *a = gort_chan_make(sizeof(unsigned), 1), *b = gort_chan_make(sizeof(unsigned), 1);
	int v = sel_send(a, b);
	CHECK(v == 2, "Send returned %d != 2", v);
	unsigned av = 0, bv = 0;
	gort_chan_recv(a, &av);
	gort_chan_recv(b, &bv);
	CHECK((av | bv) == 3, "bad values %u %u", av, bv);
	v = sel_send(a, NULL);
	CHECK(v == 1, "Send returned %d != 1", v);
	CHECK(sel_counter == 10, "counter is %u != 10", sel_counter);
	gort_chan_free(a);
	gort_chan_free(b);
}

/* ---- select3.go: blocking and panicking of the basic cases --------------------- */

static const char *const always = "function did not";
static const char *const never = "function did";

static gort_chan *nilch; /* NULL: Go's nil channel */
static gort_chan *closedch;

static void unreachable(void)
{
	gort_panic("control flow shouldn't reach here");
}

static void catch_panic(void *msgp)
{
	const char *msg = gort_recover();
	if (msg != NULL)
		*(const char **)msgp = msg;
}

/* run_panics: f's panic message, or NULL if it returned. */
static const char *run_panics(void (*f)(void))
{
	const char *msg = NULL;
	GORT_FRAME(return msg);
	gort_defer(catch_panic, &msg);
	f();
	return NULL;
}

/* Calls f and checks that it always/never panics, as signal says. */
static void test_panic(const char *signal, void (*f)(void), const char *what)
{
	const char *msg = run_panics(f);
	const char *s = msg != NULL ? always : never;
	CHECK(s == signal, "%s: %s panic", what, signal);
	if (msg != NULL) /* the only panics here are sends on closed channels */
		CHECK(strcmp(msg, "send on closed channel") == 0, "%s: panicked with \"%s\"", what,
		      msg);
}

struct blocker {
	void (*f)(void);
	gort_chan *c;
	gort_waitgroup *wg;
};

/* One per test_block call: a blocker that stays blocked never calls Done. */
static gort_waitgroup block_wg[32];
static int nblock;

static void run_blocker(void *arg)
{
	struct blocker *b = arg;
	b->f();
	gort_chan_send(b->c, &never); /* f didn't block */
	gort_waitgroup_done(b->wg);
}

/* Calls f in a goroutine and checks that it always/never blocks, as signal
 * says: f must return within 10 s, or still be blocked after 10 ms. */
static void test_block(const char *signal, void (*f)(void), const char *what)
{
	gort_chan *c = gort_chan_make(sizeof(const char *), 1);
	CHECK(nblock < (int)(sizeof block_wg / sizeof block_wg[0]), "too many test_block calls");
	gort_waitgroup *bwg = &block_wg[nblock++];
	gort_waitgroup_add(bwg, 1);
	gort_go_with(run_blocker, struct blocker, f, c, bwg);
	/* Wait a long time to make sure that we don't miss our window by
	 * accident on a slow machine; or as short a time as we can without
	 * false negatives. */
	gort_timer *t = gort_timer_new(signal == never ? 10 * GORT_SECOND : 10 * GORT_MILLISECOND);
	const char *s = NULL;
	int64_t when;
	if (GORT_SELECT(GORT_CASE_RECV(c, &s, NULL), GORT_CASE_RECV(gort_timer_c(t), &when, NULL)) == 1)
		s = always; /* f blocked always */
	gort_timer_free(t);
	CHECK(s == signal, "%s: %s block", what, signal);
	if (s == never) {
		gort_waitgroup_wait(bwg);
		gort_chan_free(c);
	} else {
		keep(c); /* f's goroutine stays blocked, on channels that stay */
	}
}

static void send_nil(void)
{
	int v = 7;
	gort_chan_send(nilch, &v);
}

static void recv_nil(void)
{
	gort_chan_recv(nilch, NULL);
}

static void select_send_nil_default(void)
{
	int v = 7;
	if (GORT_SELECT_DEFAULT(GORT_CASE_SEND(nilch, &v)) != -1)
		unreachable();
}

static void select_recv_nil_default(void)
{
	if (GORT_SELECT_DEFAULT(GORT_CASE_RECV(nilch, NULL, NULL)) != -1)
		unreachable();
}

static void send_buffered(void)
{
	gort_chan *ch = gort_chan_make(sizeof(int), 1);
	int v = 7;
	gort_chan_send(ch, &v);
	gort_chan_free(ch);
}

static void recv_closed(void)
{
	for (int i = 0; i < 10; i++) {
		int x = -1;
		gort_chan_recv(closedch, &x);
		if (x != 0)
			gort_panic("expected zero value when reading from closed channel");
		x = -1;
		bool ok = gort_chan_recv(closedch, &x);
		CHECK(x == 0 && !ok, "closedch: %d %d: expected 0, false from closed channel", x, ok);
	}
}

static void send_closed(void)
{
	int v = 7;
	gort_chan_send(closedch, &v);
}

static void recv_unready(void)
{
	gort_chan_recv(keep(gort_chan_make(sizeof(int), 0)), NULL);
}

static void select_empty(void)
{
	gort_select(NULL, 0, true); /* select {} */
}

static void select_recv_nil(void)
{
	GORT_SELECT(GORT_CASE_RECV(nilch, NULL, NULL));
	unreachable();
}

static void select_send_nil(void)
{
	int v = 7;
	GORT_SELECT(GORT_CASE_SEND(nilch, &v));
	unreachable();
}

static void select_recv_send_nil(void)
{
	int v = 7;
	GORT_SELECT(GORT_CASE_RECV(nilch, NULL, NULL), GORT_CASE_SEND(nilch, &v));
	unreachable();
}

static void select_recv_unready(void)
{
	GORT_SELECT(GORT_CASE_RECV(keep(gort_chan_make(sizeof(int), 0)), NULL, NULL));
	unreachable();
}

static void select_default_only(void)
{
	CHECK(gort_select(NULL, 0, false) == -1, "select { default: } did not take the default");
}

static void select_send_ready(void)
{
	gort_chan *ch = gort_chan_make(sizeof(int), 1);
	int v = 7;
	if (GORT_SELECT_DEFAULT(GORT_CASE_SEND(ch, &v)) != 0)
		unreachable();
	gort_chan_free(ch);
}

static void select_recv_ready(void)
{
	gort_chan *ch = gort_chan_make(sizeof(int), 1);
	int v = 7;
	gort_chan_send(ch, &v);
	if (GORT_SELECT_DEFAULT(GORT_CASE_RECV(ch, NULL, NULL)) != 0)
		unreachable();
	gort_chan_free(ch);
}

static void select_recv_closed(void)
{
	GORT_SELECT(GORT_CASE_RECV(closedch, NULL, NULL));
}

static void select_recv_closed_x(void)
{
	int x = -1;
	GORT_SELECT(GORT_CASE_RECV(closedch, &x, NULL));
	CHECK(x == 0, "x := <-closedch gave %d", x);
}

static void select_recv_closed_x_ok(void)
{
	int x = -1;
	bool ok = true;
	GORT_SELECT(GORT_CASE_RECV(closedch, &x, &ok));
	CHECK(x == 0 && !ok, "x, ok := <-closedch gave %d, %d", x, ok);
}

static void select_send_closed(void)
{
	int v = 7;
	GORT_SELECT(GORT_CASE_SEND(closedch, &v));
}

static void select_self(void)
{
	gort_chan *c = keep(gort_chan_make(sizeof(int), 0));
	int one = 1;
	GORT_SELECT(GORT_CASE_SEND(c, &one), GORT_CASE_RECV(c, NULL, NULL));
}

#define TEST_BLOCK(signal, f) test_block(signal, f, #f)
#define TEST_PANIC(signal, f) test_panic(signal, f, #f)

static void test_chan_select3(void)
{
	closedch = gort_chan_make(sizeof(int), 0);
	gort_chan_close(closedch);

	/* sending/receiving from a nil channel blocks */
	TEST_BLOCK(always, send_nil);
	TEST_BLOCK(always, recv_nil);
	/* sending/receiving from a nil channel inside a select is never selected */
	TEST_PANIC(never, select_send_nil_default);
	TEST_PANIC(never, select_recv_nil_default);
	/* sending to an async channel with free buffer space never blocks */
	TEST_BLOCK(never, send_buffered);
	/* receiving from a closed channel never blocks */
	TEST_BLOCK(never, recv_closed);
	/* sending to a closed channel panics */
	TEST_PANIC(always, send_closed);
	/* receiving from a non-ready channel always blocks */
	TEST_BLOCK(always, recv_unready);
	/* empty selects always block */
	TEST_BLOCK(always, select_empty);
	/* selects with only nil channels always block */
	TEST_BLOCK(always, select_recv_nil);
	TEST_BLOCK(always, select_send_nil);
	TEST_BLOCK(always, select_recv_send_nil);
	/* selects with non-ready non-nil channels always block */
	TEST_BLOCK(always, select_recv_unready);
	/* selects with default cases don't block */
	TEST_BLOCK(never, select_default_only);
	TEST_BLOCK(never, select_recv_nil_default);
	TEST_BLOCK(never, select_send_nil_default);
	/* selects with ready channels don't block */
	TEST_BLOCK(never, select_send_ready);
	TEST_BLOCK(never, select_recv_ready);
	/* selects with closed channels behave like ordinary operations */
	TEST_BLOCK(never, select_recv_closed);
	TEST_BLOCK(never, select_recv_closed_x);
	TEST_BLOCK(never, select_recv_closed_x_ok);
	TEST_PANIC(always, select_send_closed);
	/* select should not get confused if it sees itself */
	TEST_BLOCK(always, select_self);
	gort_chan_free(closedch); /* no goroutine left blocked uses it */
}

/* ---- select4.go: a select proceeds when a value is ready ----------------------- */

static void test_chan_select4(void)
{
	struct {
		int a;
	} x = {0};
	int untouched = 12345; /* Go: *f(), which must not even be evaluated */
	gort_chan *c = gort_chan_make(sizeof(int), 1), *c1 = gort_chan_make(sizeof(int), 0);
	int v = 42;
	gort_chan_send(c, &v);
	int r = GORT_SELECT(GORT_CASE_RECV(c1, &untouched, NULL), GORT_CASE_RECV(c, &x.a, NULL));
	CHECK(r == 1, "BUG: case %d", r);
	CHECK(x.a == 42, "BUG: %d", x.a);
	CHECK(untouched == 12345, "BUG: the case not taken wrote %d", untouched);
	gort_chan_free(c);
	gort_chan_free(c1);
}

/* ---- select5.go: every combination of the simple cases -------------------------- */

/*
 * Go's enumeration of all paths through some logic: the logic calls
 * choose(n) for each choice; successive runs return 0, 1, ..., n-1 for
 * each, until every combination has run.  maybe() is choose(2) == 0.
 */
struct choice {
	int i, n;
};
static struct choice choices[32];
static int nchoices, cp = -1;

static int choose(int n)
{
	if (cp >= nchoices) {
		/* never asked this before: start with 0 */
		CHECK(nchoices < (int)(sizeof choices / sizeof choices[0]), "too many choices");
		choices[nchoices++] = (struct choice){0, n};
		cp = nchoices;
		return 0;
	}
	/* otherwise give the recorded answer */
	CHECK(n == choices[cp].n, "inconsistent choices");
	return choices[cp++].i;
}

static bool maybe(void)
{
	return choose(2) == 0;
}

static bool next(void)
{
	if (cp < 0) {
		cp = 0; /* start a new round */
		return true;
	}
	/* increment the last choice sequence */
	cp = nchoices - 1;
	while (cp >= 0 && choices[cp].i == choices[cp].n - 1)
		cp--;
	if (cp < 0) {
		nchoices = 0;
		return false;
	}
	choices[cp].i++;
	nchoices = cp + 1;
	cp = 0;
	return true;
}

/* Go's arg: at most one default per select. */
static bool def;

static bool maybe_default(void)
{
	if (def)
		return false;
	def = maybe();
	return def;
}

static bool must_default(void)
{
	return !def;
}

static gort_chan *s5_c, *s5_dummy;
static int s5_n = 1, s5_x;
static int *s5_nilp; /* Go's **(**int)(nil): a page that faults if written */

static void s5_die(int x)
{
	CHECK(0, "have %d want %d", x, s5_n);
}

/* The optional dummy and nil-channel cases, after the real one. */
static int add_dummies(gort_case *cases, int k)
{
	static int one = 1;
	if (maybe())
		cases[k++] = GORT_CASE_SEND(s5_dummy, &one); /* panic("dummy send") */
	if (maybe())
		cases[k++] = GORT_CASE_RECV(s5_dummy, NULL, NULL); /* panic("dummy receive") */
	if (maybe())
		cases[k++] = GORT_CASE_SEND(nilch, &one); /* panic("nilch send") */
	if (maybe())
		cases[k++] = GORT_CASE_RECV(nilch, NULL, NULL); /* panic("nilch recv") */
	return k;
}

/* Send n, receive it one way or another into x, check that they match. */
static void s5_recv(void)
{
	gort_chan_send(s5_c, &s5_n);
	if (maybe()) {
		gort_chan_recv(s5_c, &s5_x);
	} else {
		gort_case cases[8];
		bool nonblock = maybe_default(); /* default before the receive */
		int y = -1, m[14] = {0};
		bool ok = false;
		int form = maybe() ? 0 : maybe() ? 1 : maybe() ? 2 : maybe() ? 3 : 4;
		switch (form) {
		case 0: cases[0] = GORT_CASE_RECV(s5_c, &s5_x, NULL); break;   /* x = <-c */
		case 1: cases[0] = GORT_CASE_RECV(s5_c, &s5_x, NULL); break;   /* *f(&x) = <-c */
		case 2: cases[0] = GORT_CASE_RECV(s5_c, &y, NULL); break;      /* y := <-c */
		case 3: cases[0] = GORT_CASE_RECV(s5_c, &y, &ok); break;       /* i = <-c */
		default: cases[0] = GORT_CASE_RECV(s5_c, &m[13], NULL); break; /* m[13] = <-c */
		}
		nonblock |= maybe_default(); /* or after it */
		int n = add_dummies(cases, 1);
		int r = gort_select(cases, n, !nonblock);
		CHECK(r != -1, "nonblock");
		CHECK(r == 0, "case %d fired: a dummy or nil-channel case", r);
		if (form == 2 || form == 3)
			s5_x = y;
		if (form == 3)
			CHECK(ok, "ok false from an open channel");
		if (form == 4)
			s5_x = m[13];
	}
	if (s5_x != s5_n)
		s5_die(s5_x);
	s5_n++;
}

/* Send n one way or another, receive it into x, check that they match. */
static void s5_send(void)
{
	if (maybe()) {
		gort_chan_send(s5_c, &s5_n);
	} else {
		gort_case cases[8];
		int v = s5_n;
		bool nonblock = maybe_default();
		cases[0] = GORT_CASE_SEND(s5_c, &v);
		nonblock |= maybe_default();
		int n = add_dummies(cases, 1);
		int r = gort_select(cases, n, !nonblock);
		CHECK(r != -1, "nonblock");
		CHECK(r == 0, "case %d fired: a dummy or nil-channel case", r);
	}
	s5_x = 0;
	gort_chan_recv(s5_c, &s5_x);
	if (s5_x != s5_n)
		s5_die(s5_x);
	s5_n++;
}

/* Combinations of non-blocking operations that can never proceed: the
 * default must run, and no receive may write, or even compute, its
 * destination. */
static void s5_nonblock(void)
{
	static int one = 1;
	gort_case cases[8];
	int k = 0;
	s5_x = s5_n;
	bool has_default = maybe_default();
	if (maybe())
		cases[k++] = GORT_CASE_SEND(s5_dummy, &one);
	if (maybe())
		cases[k++] = GORT_CASE_SEND(nilch, &one);
	if (maybe())
		cases[k++] = GORT_CASE_RECV(s5_dummy, NULL, NULL);
	if (maybe())
		cases[k++] = GORT_CASE_RECV(s5_dummy, &s5_x, NULL);
	if (maybe())
		cases[k++] = GORT_CASE_RECV(s5_dummy, s5_nilp, NULL);
	if (maybe())
		cases[k++] = GORT_CASE_RECV(nilch, NULL, NULL);
	if (maybe())
		cases[k++] = GORT_CASE_RECV(nilch, &s5_x, NULL);
	if (maybe())
		cases[k++] = GORT_CASE_RECV(nilch, s5_nilp, NULL);
	has_default |= must_default();
	CHECK(has_default, "a nonblock select without default");
	int r = gort_select(cases, k, false);
	CHECK(r == -1, "case %d fired", r);
	if (s5_x != s5_n)
		s5_die(s5_x);
	s5_n++;
}

static int s5_run(void (*gen)(void))
{
	int paths = 0;
	for (; next(); def = false, paths++)
		gen();
	return paths;
}

static void test_chan_select5(void)
{
	/* channel is buffered so test is single-goroutine */
	s5_c = gort_chan_make(sizeof(int), 1);
	s5_dummy = gort_chan_make(sizeof(int), 0);
	s5_nilp = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(s5_nilp != MAP_FAILED, "mmap");
	int recv = s5_run(s5_recv), send = s5_run(s5_send), nonblock = s5_run(s5_nonblock);
	/* recv: a plain receive, or a select with a default before, after or
	 * none, five forms, and four optional dummies; send the same without
	 * forms; nonblock: default first or last, and eight optional cases */
	CHECK(recv == 1 + 3 * 5 * 16, "recv: %d paths", recv);
	CHECK(send == 1 + 3 * 16, "send: %d paths", send);
	CHECK(nonblock == 2 * 256, "nonblock: %d paths", nonblock);
	CHECK(s5_n == 1 + recv + send + nonblock, "n is %d", s5_n);
	munmap(s5_nilp, 4096);
	gort_chan_free(s5_c);
	gort_chan_free(s5_dummy);
}

/* ---- select6.go: Issue 2075 ------------------------------------------------------ */

/*
 * A bug in select corrupted the channel queues of failed cases if there
 * were several waiters on those channels and the select was the last in
 * the queue; later waiters on the channel would then never wake.  c1 is
 * such a channel.
 */
static gort_chan *s6_c1, *s6_c2, *s6_c3;

static void s6_recv_c1(void *arg)
{
	gort_chan_recv(s6_c1, NULL);
	gort_waitgroup_done(&wg);
}

static void s6_selector(void *arg)
{
	int r = GORT_SELECT(GORT_CASE_RECV(s6_c1, NULL, NULL), GORT_CASE_RECV(s6_c2, NULL, NULL));
	CHECK(r == 1, "dummy: the select received from c1");
	bool t = true;
	gort_chan_send(s6_c3, &t);
	gort_chan_recv(s6_c1, NULL);
	gort_waitgroup_done(&wg);
}

static void s6_send_c2(void *arg)
{
	bool t = true;
	gort_chan_send(s6_c2, &t);
	gort_waitgroup_done(&wg);
}

static void test_chan_select6(void)
{
	s6_c1 = gort_chan_make(sizeof(bool), 0);
	s6_c2 = gort_chan_make(sizeof(bool), 0);
	s6_c3 = gort_chan_make(sizeof(bool), 0);
	gort_waitgroup_add(&wg, 3);
	gort_go(s6_recv_c1, NULL);
	gort_go(s6_selector, NULL);
	gort_go(s6_send_c2, NULL);
	bool t = true;
	gort_chan_recv(s6_c3, NULL);
	gort_chan_send(s6_c1, &t);
	gort_chan_send(s6_c1, &t);
	gort_waitgroup_wait(&wg);
	gort_chan_free(s6_c1);
	gort_chan_free(s6_c2);
	gort_chan_free(s6_c3);
}

/* ---- select7.go: select when discarding a value ---------------------------------- */

static void recv1(void *c)
{
	gort_chan_recv(c, NULL);
	gort_waitgroup_done(&wg);
}

static void recv2(void *c)
{
	CHECK(GORT_SELECT(GORT_CASE_RECV(c, NULL, NULL)) == 0, "recv2");
	gort_waitgroup_done(&wg);
}

static void recv3(void *c)
{
	gort_chan *c2 = gort_chan_make(sizeof(int), 0);
	CHECK(GORT_SELECT(GORT_CASE_RECV(c, NULL, NULL), GORT_CASE_RECV(c2, NULL, NULL)) == 0,
	      "recv3");
	gort_chan_free(c2);
	gort_waitgroup_done(&wg);
}

static void send1(gort_func recv)
{
	gort_chan *c = gort_chan_make(sizeof(int), 0);
	gort_waitgroup_add(&wg, 1);
	gort_go(recv, c);
	gort_gosched();
	int one = 1;
	gort_chan_send(c, &one);
	gort_waitgroup_wait(&wg);
	gort_chan_free(c);
}

static void send2(gort_func recv)
{
	gort_chan *c = gort_chan_make(sizeof(int), 0);
	gort_waitgroup_add(&wg, 1);
	gort_go(recv, c);
	gort_gosched();
	int one = 1;
	CHECK(GORT_SELECT(GORT_CASE_SEND(c, &one)) == 0, "send2");
	gort_waitgroup_wait(&wg);
	gort_chan_free(c);
}

static void send3(gort_func recv)
{
	gort_chan *c = gort_chan_make(sizeof(int), 0);
	gort_waitgroup_add(&wg, 1);
	gort_go(recv, c);
	gort_gosched();
	gort_chan *c2 = gort_chan_make(sizeof(int), 0);
	int one = 1;
	CHECK(GORT_SELECT(GORT_CASE_SEND(c, &one), GORT_CASE_SEND(c2, &one)) == 0, "send3");
	gort_waitgroup_wait(&wg);
	gort_chan_free(c);
	gort_chan_free(c2);
}

static void test_chan_select7(void)
{
	send1(recv1);
	send2(recv1);
	send3(recv1);
	send1(recv2);
	send2(recv2);
	send3(recv2);
	send1(recv3);
	send2(recv3);
	send3(recv3);
}

/* ---- sendstmt.go: chanchan ------------------------------------------------------- */

static void test_chan_sendstmt(void)
{
	gort_chan *cc = gort_chan_make(sizeof(gort_chan *), 1), *c = gort_chan_make(sizeof(int), 1);
	gort_chan_send(cc, &c);
	/* select { case <-cc <- 2: default: panic }: <-cc is evaluated on entry */
	gort_chan *target = NULL;
	gort_chan_recv(cc, &target);
	int two = 2;
	CHECK(GORT_SELECT_DEFAULT(GORT_CASE_SEND(target, &two)) == 0, "nonblock");
	int v = 0;
	gort_chan_recv(c, &v);
	CHECK(v == 2, "bad receive: %d", v);
	gort_chan_free(cc);
	gort_chan_free(c);
}

/* ---- nonblock.go: channel operations that test for blocking ---------------------- */

#define NB_GIVE_UP_SECONDS 10 /* Go: 10000 tries, "up to 100ms per test" */

static gort_timer *nb_ticker;

/* Go's sleep(): two ticks of a 10 us ticker and three yields. */
static void nb_sleep(void)
{
	gort_chan_recv(gort_timer_c(nb_ticker), NULL);
	gort_chan_recv(gort_timer_c(nb_ticker), NULL);
	gort_gosched();
	gort_gosched();
	gort_gosched();
}

/* One of Go's four element types: what main sends and its receiver
 * expects, and what the sender sends and main expects. */
struct nb_type {
	const char *name;
	size_t size;
	const void *to_receiver, *from_sender;
};

struct nb_peer {
	const struct nb_type *t;
	gort_chan *c, *sync;
};

static void nb_receiver(void *arg)
{
	struct nb_peer *p = arg;
	char buf[16] = {0};
	gort_chan_recv(p->c, buf);
	CHECK(memcmp(buf, p->t->to_receiver, p->t->size) == 0, "%s value", p->t->name);
	bool t = true;
	gort_chan_send(p->sync, &t);
	gort_waitgroup_done(&wg);
}

static void nb_sender(void *arg)
{
	struct nb_peer *p = arg;
	gort_chan_send(p->c, p->t->from_sender);
	bool t = true;
	gort_chan_send(p->sync, &t);
	gort_waitgroup_done(&wg);
}

static void nb_exchange(const struct nb_type *t, gort_chan *c, gort_chan *sync, int buffer)
{
	gort_waitgroup_add(&wg, 1);
	gort_go_with(nb_receiver, struct nb_peer, t, c, sync);
	double start = test_seconds();
	for (int try = 0; !gort_chan_trysend(c, t->to_receiver); try++) {
		CHECK(test_seconds() - start < NB_GIVE_UP_SECONDS,
		      "%s receiver buffer=%d: no send after %d tries", t->name, buffer, try);
		nb_sleep();
	}
	gort_chan_recv(sync, NULL);

	gort_waitgroup_add(&wg, 1);
	gort_go_with(nb_sender, struct nb_peer, t, c, sync);
	if (buffer > 0)
		gort_chan_recv(sync, NULL);
	char buf[16] = {0};
	start = test_seconds();
	for (int try = 0; !gort_chan_tryrecv(c, buf, NULL); try++) {
		CHECK(test_seconds() - start < NB_GIVE_UP_SECONDS,
		      "%s sender buffer=%d: no receive after %d tries", t->name, buffer, try);
		nb_sleep();
	}
	CHECK(memcmp(buf, t->from_sender, t->size) == 0, "%s sender value", t->name);
	if (buffer == 0)
		gort_chan_recv(sync, NULL);
	gort_waitgroup_wait(&wg);
}

static void test_chan_nonblock(void)
{
	static const int32_t i32_in = 123, i32_out = 234;
	static const int64_t i64_in = 123456, i64_out = 234567;
	static const bool b_in = true, b_out = true;
	static const char *const s_in = "hello", *const s_out = "hello again";
	static const struct nb_type types[4] = {
		{"i32", sizeof(int32_t), &i32_in, &i32_out},
		{"i64", sizeof(int64_t), &i64_in, &i64_out},
		{"b", sizeof(bool), &b_in, &b_out},
		{"s", sizeof(const char *), &s_in, &s_out},
	};
	nb_ticker = gort_ticker_new(10 * GORT_MICROSECOND);
	gort_chan *sync = gort_chan_make(sizeof(bool), 0);
	for (int buffer = 0; buffer < 2; buffer++) {
		gort_chan *c[4];
		for (int k = 0; k < 4; k++)
			c[k] = gort_chan_make(types[k].size, buffer);
		for (int k = 0; k < 4; k++) {
			char buf[16];
			CHECK(!gort_chan_tryrecv(c[k], buf, NULL), "blocked %s sender", types[k].name);
		}
		for (int k = 0; k < 4; k++)
			nb_exchange(&types[k], c[k], sync, buffer);
		for (int k = 0; k < 4; k++)
			gort_chan_free(c[k]);
	}
	gort_chan_free(sync);
	gort_timer_free(nb_ticker);
}

/* ---- doubleselect.go: two cases of one select must never both run ---------------- */

#define DS_ITERATIONS 20000 /* Go: 100000; here 20000 */

static gort_chan *ds_c[4], *ds_cmux, *ds_done;
static unsigned char ds_seen[DS_ITERATIONS];

/* Sends a counter to one of four channels: if two cases both ran in one
 * iteration, the same value would go to two channels. */
static void ds_sender(void *arg)
{
	for (int i = 0; i < DS_ITERATIONS; i++) {
		gort_case cases[4];
		for (int k = 0; k < 4; k++)
			cases[k] = GORT_CASE_SEND(ds_c[k], &i);
		gort_select(cases, 4, true);
	}
	for (int k = 3; k >= 0; k--) /* Go's deferred closes run last first */
		gort_chan_close(ds_c[k]);
	gort_waitgroup_done(&wg);
}

/* Forwards what one channel carries to cmux. */
static void ds_mux(void *arg)
{
	gort_chan *in = arg;
	int v;
	while (gort_chan_recv(in, &v))
		gort_chan_send(ds_cmux, &v);
	bool t = true;
	gort_chan_send(ds_done, &t);
	gort_waitgroup_done(&wg);
}

static void ds_closer(void *arg)
{
	for (int k = 0; k < 4; k++)
		gort_chan_recv(ds_done, NULL);
	gort_chan_close(ds_cmux);
	gort_waitgroup_done(&wg);
}

static void test_chan_doubleselect(void)
{
	int old = gort_gomaxprocs(2);
	for (int k = 0; k < 4; k++)
		ds_c[k] = gort_chan_make(sizeof(int), 0);
	ds_done = gort_chan_make(sizeof(bool), 0);
	ds_cmux = gort_chan_make(sizeof(int), 0);
	gort_waitgroup_add(&wg, 6);
	gort_go(ds_sender, NULL);
	for (int k = 0; k < 4; k++)
		gort_go(ds_mux, ds_c[k]);
	gort_go(ds_closer, NULL);
	/* the receiver: no value twice (and, beyond Go's check, every value) */
	int v, n = 0;
	while (gort_chan_recv(ds_cmux, &v)) {
		CHECK(v >= 0 && v < DS_ITERATIONS, "got value %d, never sent", v);
		CHECK(!ds_seen[v], "got duplicate value: %d", v);
		ds_seen[v] = 1;
		n++;
	}
	CHECK(n == DS_ITERATIONS, "received %d values, sent %d", n, DS_ITERATIONS);
	gort_waitgroup_wait(&wg);
	for (int k = 0; k < 4; k++)
		gort_chan_free(ds_c[k]);
	gort_chan_free(ds_done);
	gort_chan_free(ds_cmux);
	gort_gomaxprocs(old);
}

/* ---- fifo.go: channels are pure FIFOs ------------------------------------------- */

#define FIFO_N 10

static void asynch_fifo(void)
{
	gort_chan *ch = gort_chan_make(sizeof(int), FIFO_N);
	for (int i = 0; i < FIFO_N; i++)
		gort_chan_send(ch, &i);
	for (int i = 0; i < FIFO_N; i++) {
		int v = -1;
		gort_chan_recv(ch, &v);
		CHECK(v == i, "bad receive: %d, want %d", v, i);
	}
	gort_chan_free(ch);
}

struct chain {
	gort_chan *ch;
	int val;
	gort_chan *in, *out;
};

static void chain(void *arg)
{
	struct chain *c = arg;
	gort_chan_recv(c->in, NULL);
	int v = -1;
	gort_chan_recv(c->ch, &v);
	CHECK(v == c->val, "chain %d received %d", c->val, v);
	int one = 1;
	gort_chan_send(c->out, &one);
	gort_waitgroup_done(&wg);
}

/* Thread together a daisy chain to read the elements in sequence. */
static void synch_fifo(void)
{
	gort_chan *ch = gort_chan_make(sizeof(int), 0), *all[FIFO_N + 1];
	gort_chan *in = gort_chan_make(sizeof(int), 0), *start = in;
	all[0] = in;
	gort_waitgroup_add(&wg, FIFO_N);
	for (int i = 0; i < FIFO_N; i++) {
		gort_chan *out = gort_chan_make(sizeof(int), 0);
		all[i + 1] = out;
		gort_go_with(chain, struct chain, ch, i, in, out);
		in = out;
	}
	int zero = 0;
	gort_chan_send(start, &zero);
	for (int i = 0; i < FIFO_N; i++)
		gort_chan_send(ch, &i);
	gort_chan_recv(in, NULL);
	gort_waitgroup_wait(&wg);
	for (int i = 0; i <= FIFO_N; i++)
		gort_chan_free(all[i]);
	gort_chan_free(ch);
}

static void test_chan_fifo(void)
{
	asynch_fifo();
	synch_fifo();
}

/* ---- goroutines.go: many goroutines, threaded together, torn down cleanly -------- */

#define GOROUTINES_N 2000 /* Go: 10000; here 2000 (10000 took up to 4 s under ASan) */

static gort_chan *gr_chans[GOROUTINES_N + 1];

static void gr_f(void *arg)
{
	int i = (int)(intptr_t)arg, v = 0;
	gort_chan_recv(gr_chans[i + 1], &v); /* left <- <-right */
	gort_chan_send(gr_chans[i], &v);
	gort_waitgroup_done(&wg);
}

static void gr_last(void *arg)
{
	int one = 1;
	gort_chan_send(gr_chans[GOROUTINES_N], &one);
	gort_waitgroup_done(&wg);
}

static void test_chan_goroutines(void)
{
	gr_chans[0] = gort_chan_make(sizeof(int), 0); /* leftmost */
	gort_waitgroup_add(&wg, GOROUTINES_N + 1);
	for (intptr_t i = 0; i < GOROUTINES_N; i++) {
		gr_chans[i + 1] = gort_chan_make(sizeof(int), 0);
		gort_go(gr_f, (void *)i);
	}
	gort_go(gr_last, NULL);
	int v = 0;
	gort_chan_recv(gr_chans[0], &v);
	CHECK(v == 1, "leftmost received %d", v);
	gort_waitgroup_wait(&wg);
	for (int i = 0; i <= GOROUTINES_N; i++)
		gort_chan_free(gr_chans[i]);
}

/* ---- zerosize.go: channels of a zero-sized type ---------------------------------- */

static void test_chan_zerosize(void)
{
	for (size_t cap = 0; cap <= 1; cap++) {
		gort_chan *c = gort_chan_make(0, cap); /* [0]byte and struct{} alike */
		CHECK(c != NULL && gort_chan_cap(c) == (int)cap, "make(chan struct{}, %zu)", cap);
		gort_chan_free(c);
	}
}

/* ---- sieve1.go: the classical inefficient concurrent prime sieve ----------------- */

/* Send the sequence 2, 3, 4, ... to channel ch. */
static void generate(void *ch)
{
	for (int i = 2;; i++)
		gort_chan_send(ch, &i);
}

struct filter {
	gort_chan *in, *out;
	int prime;
};

/* Copy the values from in to out, removing those divisible by prime. */
static void filter(void *arg)
{
	struct filter *f = arg;
	int i;
	while (gort_chan_recv(f->in, &i))
		if (i % f->prime != 0)
			gort_chan_send(f->out, &i);
}

/* The prime sieve: daisy-chain filter goroutines together. */
static void sieve(void *primes)
{
	gort_chan *ch = keep(gort_chan_make(sizeof(int), 0));
	gort_go(generate, ch);
	for (;;) {
		/* Note that ch is different on each iteration. */
		int prime;
		gort_chan_recv(ch, &prime);
		gort_chan_send(primes, &prime);
		gort_chan *ch1 = keep(gort_chan_make(sizeof(int), 0));
		gort_go_with(filter, struct filter, ch, ch1, prime);
		ch = ch1;
	}
}

static void test_chan_sieve1(void)
{
	gort_chan *primes = keep(gort_chan_make(sizeof(int), 0));
	gort_go(sieve, primes);
	static const int a[] = {2,  3,  5,  7,  11, 13, 17, 19, 23, 29, 31, 37, 41,
	                        43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97};
	for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) {
		int x = 0;
		gort_chan_recv(primes, &x);
		CHECK(x == a[i], "%d != %d", x, a[i]);
	}
	/* As in Go, the generator, the sieve and its filters stay blocked. */
}

/* ---- sieve2.go: a prime sieve of Eratosthenes over channels ---------------------- */

/*
 * Odd candidates, the odd multiples of each prime, merged in increasing
 * order through a heap of channels, and sifted out; the primes found feed
 * back into the merger through a proxy that buffers without bound (a
 * select whose send case is disabled, by a nil channel, while its queue is
 * empty).  As in sieve1, every goroutine is left blocked at the end; what
 * they allocate is kept in statics.
 */
static void odds_gen(void *out)
{
	for (int n = 5;; n += 2)
		gort_chan_send(out, &n);
}

/* A channel of odd numbers, starting from 5. */
static gort_chan *odds(void)
{
	gort_chan *out = keep(gort_chan_make(sizeof(int), 50));
	gort_go(odds_gen, out);
	return out;
}

struct multiples {
	gort_chan *out;
	int p;
};

static void multiples_gen(void *arg)
{
	struct multiples *m = arg;
	for (int n = m->p * m->p;; n += 2 * m->p)
		gort_chan_send(m->out, &n);
}

/* A channel of the odd multiples of the prime p, starting from p*p. */
static gort_chan *multiples(int p)
{
	gort_chan *out = keep(gort_chan_make(sizeof(int), 10));
	gort_go_with(multiples_gen, struct multiples, out, p);
	return out;
}

/* PeekChHeap: a min-heap of channels by the value last taken from each. */
struct peekch {
	int head;
	gort_chan *ch;
};
static struct peekch peek_heap[64];
static int npeek;

static void heap_push(struct peekch x)
{
	CHECK(npeek < (int)(sizeof peek_heap / sizeof peek_heap[0]), "heap full");
	int i = npeek++;
	for (; i > 0 && peek_heap[(i - 1) / 2].head > x.head; i = (i - 1) / 2)
		peek_heap[i] = peek_heap[(i - 1) / 2];
	peek_heap[i] = x;
}

static struct peekch heap_pop(void)
{
	CHECK(npeek > 0, "pop from an empty heap");
	struct peekch top = peek_heap[0], x = peek_heap[--npeek];
	int i = 0;
	for (;;) {
		int child = 2 * i + 1;
		if (child >= npeek)
			break;
		if (child + 1 < npeek && peek_heap[child + 1].head < peek_heap[child].head)
			child++;
		if (x.head <= peek_heap[child].head)
			break;
		peek_heap[i] = peek_heap[child];
		i = child;
	}
	peek_heap[i] = x;
	return top;
}

/* sendproxy's queue: static, so that it stays reachable. */
static int *proxy_buf;

struct proxy {
	gort_chan *in, *out;
};

static void proxy_run(void *arg)
{
	struct proxy *px = arg;
	size_t n = 16, first = 0, count = 0; /* a circular queue of n */
	proxy_buf = malloc(n * sizeof *proxy_buf);
	CHECK(proxy_buf != NULL, "malloc");
	for (;;) {
		gort_chan *c = count == 0 ? NULL : px->out; /* buffer empty: disable output */
		int e = count == 0 ? 0 : proxy_buf[first], in = 0;
		if (GORT_SELECT(GORT_CASE_RECV(px->in, &in, NULL), GORT_CASE_SEND(c, &e)) == 1) {
			first = (first + 1) % n;
			count--;
			continue;
		}
		proxy_buf[(first + count++) % n] = in;
		if (count == n) { /* buffer full: expand it */
			int *bigger = malloc(2 * n * sizeof *bigger);
			CHECK(bigger != NULL, "malloc");
			for (size_t i = 0; i < n; i++)
				bigger[i] = proxy_buf[(first + i) % n];
			free(proxy_buf);
			proxy_buf = bigger;
			first = 0;
			n *= 2;
		}
	}
}

/* A channel to serve as a sending proxy to out: sending to it never
 * blocks for long, however slowly out is drained. */
static gort_chan *sendproxy(gort_chan *out)
{
	gort_chan *proxy = keep(gort_chan_make(sizeof(int), 10));
	gort_go_with(proxy_run, struct proxy, proxy, out);
	return proxy;
}

static gort_chan *s2_out, *s2_composites, *s2_primes;

/* Merge channels of multiples of the primes into composites. */
static void s2_merger(void *arg)
{
	int min = 15;
	for (;;) {
		int p = 0, head = 0;
		gort_chan_recv(s2_primes, &p);
		gort_chan *m = multiples(p);
		gort_chan_recv(m, &head);
		while (min < head) {
			gort_chan_send(s2_composites, &min);
			struct peekch minchan = heap_pop();
			min = minchan.head;
			gort_chan_recv(minchan.ch, &minchan.head);
			heap_push(minchan);
		}
		while (min == head) {
			struct peekch minchan = heap_pop();
			min = minchan.head;
			gort_chan_recv(minchan.ch, &minchan.head);
			heap_push(minchan);
		}
		gort_chan_send(s2_composites, &head);
		struct peekch next = {0, m};
		gort_chan_recv(m, &next.head);
		heap_push(next);
	}
}

/* Sieve out composites from candidates. */
static void s2_sifter(void *arg)
{
	/* The merger receives from primes much more slowly than this sends
	 * to it: without the proxy, its buffer would fill and deadlock. */
	gort_chan *primes = sendproxy(s2_primes);
	gort_chan *candidates = odds();
	int p = 0;
	gort_chan_recv(candidates, &p);
	for (;;) {
		int c = 0;
		gort_chan_recv(s2_composites, &c);
		while (p < c) {
			gort_chan_send(primes, &p);
			gort_chan_send(s2_out, &p);
			gort_chan_recv(candidates, &p);
		}
		if (p == c)
			gort_chan_recv(candidates, &p);
	}
}

/* A channel of the primes. */
static gort_chan *sieve2(void)
{
	int two = 2, three = 3;
	s2_out = keep(gort_chan_make(sizeof(int), 10));
	gort_chan_send(s2_out, &two);
	gort_chan_send(s2_out, &three);
	/* the composites to eliminate, in increasing order */
	s2_composites = keep(gort_chan_make(sizeof(int), 50));
	/* the feedback loop */
	s2_primes = keep(gort_chan_make(sizeof(int), 10));
	gort_chan_send(s2_primes, &three);
	gort_go(s2_merger, NULL);
	gort_go(s2_sifter, NULL);
	return s2_out;
}

static void test_chan_sieve2(void)
{
	gort_chan *primes = sieve2();
	static const int a[] = {2,  3,  5,  7,  11, 13, 17, 19, 23, 29, 31, 37, 41,
	                        43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97};
	for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) {
		int x = 0;
		gort_chan_recv(primes, &x);
		CHECK(x == a[i], "%d != %d", x, a[i]);
	}
}

/* ---- main ------------------------------------------------------------------------ */


static int main_fn(int argc, char **argv)
{
	TEST_RUN(test_chan_select);
	TEST_RUN(test_chan_select3);
	TEST_RUN(test_chan_select4);
	TEST_RUN(test_chan_select5);
	TEST_RUN(test_chan_select6);
	TEST_RUN(test_chan_select7);
	TEST_RUN(test_chan_sendstmt);
	TEST_RUN(test_chan_nonblock);
	TEST_RUN(test_chan_doubleselect);
	TEST_RUN(test_chan_fifo);
	TEST_RUN(test_chan_goroutines);
	TEST_RUN(test_chan_zerosize);
	TEST_RUN(test_chan_sieve1);
	TEST_RUN(test_chan_sieve2);
	return test_pass("select_test");
}

int main(int argc, char **argv)
{
	gort_main(main_fn, argc, argv);
}
