/*
 * select - Go's select semantics (select_test.go, chan_test.go):
 *
 *   fairness     100,000 selects over two always-ready channels (buffered,
 *                refilled after each receive) and over the same two behind
 *                two never-ready cases; 100,000 over four ready cases (two
 *                receives, two sends); 20,000 over one channel named in two
 *                receive cases, and 20,000 over one channel named in two
 *                send cases with different values.  Each case must win about
 *                equally often: a chi-square test over the counts fails only
 *                past 30 (1 degree of freedom) or 40 (3 degrees), which a
 *                fair select reaches with probability below 1e-7; a 1% bias
 *                over 100,000 selects already exceeds it.
 *   duplicate    Go's TestSelectDuplicateChannel: a select queued twice on
 *                one channel leaves its queue cleanly when another case fires
 *   self_select  two goroutines each select { send c; receive c } 1000 times
 *                on the same channel (unbuffered and buffered); unbuffered,
 *                neither may ever receive its own value (Go's TestSelfSelect)
 *   default      nothing ready: -1, no element or ok written; then the
 *                ready case proceeds
 *   nil_only     cases on NULL channels only (and n = 0): -1 without
 *                blocking; NULL cases beside a ready one never fire
 *   macros       GORT_SELECT / GORT_SELECT_DEFAULT with GORT_CASE_*
 *   pingpong     two goroutines bounce 10,000 values, each in one select that
 *                both sends (or has a NULL channel for "nothing to send")
 *                and receives, over unbuffered and buffered channels
 *   overlap      6 senders and 6 receivers each select over the same 4
 *                channels, every goroutine in its own case order (rotated,
 *                reversed): no deadlock, every value received exactly once
 */
#define _GNU_SOURCE
#include <string.h>

#include "harness.h"

static gort_waitgroup wg;

static double chi_square(const long *counts, int k, long total)
{
	double expect = (double)total / k, chi = 0;
	for (int i = 0; i < k; i++)
		chi += ((double)counts[i] - expect) * ((double)counts[i] - expect) / expect;
	return chi;
}

static void check_fair(const char *what, const long *counts, int k, long total)
{
	double chi = chi_square(counts, k, total), limit = k == 2 ? 30.0 : 40.0;
	CHECK(k == 2 || k == 4, "chi-square limits are set for 1 and 3 degrees of freedom");
	if (chi > limit) {
		fprintf(stderr, "%s: counts", what);
		for (int i = 0; i < k; i++)
			fprintf(stderr, " %ld", counts[i]);
		fprintf(stderr, "\n");
	}
	CHECK(chi <= limit, "%s: unfair select: chi-square %.1f > %.0f over %ld selects", what, chi,
	      limit, total);
}

/* ---- fairness --------------------------------------------------------------- */

#define TRIALS 100000
#define FULL 16

static void fill_chan(gort_chan *c, long v)
{
	while (gort_chan_trysend(c, &v))
		;
}

static void test_fairness(void)
{
	gort_chan *c1 = gort_chan_make(sizeof(long), FULL), *c2 = gort_chan_make(sizeof(long), FULL);
	gort_chan *never1 = gort_chan_make(sizeof(long), 0), *never2 = gort_chan_make(sizeof(long), 0);
	fill_chan(c1, 1);
	fill_chan(c2, 2);

	/* Two ready receives; then the same two behind two never-ready cases,
	 * which catches "random start, then scan in order". */
	for (int layout = 0; layout < 2; layout++) {
		long v, never_v, counts[2] = {0, 0};
		gort_case two[] = {GORT_CASE_RECV(c1, &v, NULL), GORT_CASE_RECV(c2, &v, NULL)};
		gort_case four[] = {GORT_CASE_RECV(never1, &never_v, NULL),
		                    GORT_CASE_RECV(never2, &never_v, NULL),
		                    GORT_CASE_RECV(c1, &v, NULL), GORT_CASE_RECV(c2, &v, NULL)};
		for (long t = 0; t < TRIALS; t++) {
			int i = layout == 0 ? gort_select(two, 2, true) : gort_select(four, 4, true) - 2;
			CHECK(i == 0 || i == 1, "layout %d: select returned case %d", layout,
			      layout == 0 ? i : i + 2);
			CHECK(v == i + 1, "case %d received %ld", i, v);
			counts[i]++;
			gort_chan_send(i == 0 ? c1 : c2, &v); /* keep it full */
		}
		check_fair(layout == 0 ? "two ready receives" : "two ready receives after two never-ready",
		           counts, 2, TRIALS);
	}

	/* Four ready cases: two receives, two sends into channels with room. */
	gort_chan *s1 = gort_chan_make(sizeof(long), 1), *s2 = gort_chan_make(sizeof(long), 1);
	long counts4[4] = {0}, v = 0, out1 = 11, out2 = 22;
	gort_case mixed[] = {GORT_CASE_SEND(s1, &out1), GORT_CASE_RECV(c1, &v, NULL),
	                     GORT_CASE_SEND(s2, &out2), GORT_CASE_RECV(c2, &v, NULL)};
	for (long t = 0; t < TRIALS; t++) {
		int i = gort_select(mixed, 4, true);
		CHECK(i >= 0 && i < 4, "mixed: select returned %d", i);
		counts4[i]++;
		long got = 0;
		switch (i) {
		case 0: CHECK(gort_chan_recv(s1, &got) && got == 11, "s1 held %ld", got); break;
		case 1: CHECK(v == 1, "c1 gave %ld", v); gort_chan_send(c1, &v); break;
		case 2: CHECK(gort_chan_recv(s2, &got) && got == 22, "s2 held %ld", got); break;
		case 3: CHECK(v == 2, "c2 gave %ld", v); gort_chan_send(c2, &v); break;
		}
	}
	check_fair("two receives and two sends", counts4, 4, TRIALS);

	/* One channel named twice. */
	long dup[2] = {0, 0};
	gort_case same[] = {GORT_CASE_RECV(c1, &v, NULL), GORT_CASE_RECV(c1, &v, NULL)};
	for (long t = 0; t < TRIALS / 5; t++) {
		int i = gort_select(same, 2, true);
		CHECK(i == 0 || i == 1, "same channel twice: select returned %d", i);
		CHECK(gort_chan_len(c1) == FULL - 1, "same channel twice: one select took %d values",
		      FULL - gort_chan_len(c1));
		dup[i]++;
		gort_chan_send(c1, &v);
	}
	check_fair("one channel in two receive cases", dup, 2, TRIALS / 5);

	/* One channel in two send cases with different values (Go's
	 * TestPseudoRandomSend): both values must be sent about equally. */
	gort_chan *one = gort_chan_make(sizeof(long), 1);
	long sent[2] = {0, 0}, zero = 0, onev = 1;
	gort_case sends[] = {GORT_CASE_SEND(one, &zero), GORT_CASE_SEND(one, &onev)};
	for (long t = 0; t < TRIALS / 5; t++) {
		int i = gort_select(sends, 2, true);
		CHECK(gort_chan_recv(one, &v) && v == i, "case %d sent %ld", i, v);
		sent[i]++;
	}
	check_fair("one channel in two send cases", sent, 2, TRIALS / 5);
	gort_chan_free(one);

	gort_chan_free(c1);
	gort_chan_free(c2);
	gort_chan_free(never1);
	gort_chan_free(never2);
	gort_chan_free(s1);
	gort_chan_free(s2);
}

/* ---- self_select ------------------------------------------------------------ */

#define SELF_ITERS 1000

typedef struct self_args {
	gort_chan *c;
	long p;
	bool unbuffered;
} self_args;

static atomic_long self_receives;

static void self_selector(void *arg)
{
	self_args *a = arg;
	for (int i = 0; i < SELF_ITERS; i++) {
		long out = a->p, in = -1;
		int r;
		if (a->p == 0 || i % 2 == 0) {
			r = GORT_SELECT(GORT_CASE_SEND(a->c, &out), GORT_CASE_RECV(a->c, &in, NULL));
			r = r == 1; /* 1: received */
		} else {
			r = GORT_SELECT(GORT_CASE_RECV(a->c, &in, NULL), GORT_CASE_SEND(a->c, &out));
			r = r == 0;
		}
		if (r && a->unbuffered && in == a->p)
			atomic_fetch_add(&self_receives, 1);
		if (r)
			CHECK(in == 0 || in == 1, "received %ld", in);
	}
	gort_waitgroup_done(&wg);
}

static void test_self_select(void)
{
	size_t caps[] = {0, 10};
	for (int k = 0; k < 2; k++) {
		gort_chan *c = gort_chan_make(sizeof(long), caps[k]);
		self_args a[2] = {{c, 0, caps[k] == 0}, {c, 1, caps[k] == 0}};
		atomic_store(&self_receives, 0);
		gort_waitgroup_add(&wg, 2);
		gort_go(self_selector, &a[0]);
		gort_go(self_selector, &a[1]);
		gort_waitgroup_wait(&wg);
		CHECK(atomic_load(&self_receives) == 0,
		      "cap %zu: a goroutine received its own send %ld times", caps[k],
		      atomic_load(&self_receives));
		gort_chan_free(c);
	}
}

/* ---- duplicate ------------------------------------------------------------ */

/* Go's TestSelectDuplicateChannel: A is queued on c twice (and on d); B is
 * queued on c; a send on d wakes A, which must take both of its entries off
 * c's queue; a send on c must then reach B. */
static gort_chan *dup_c, *dup_d, *dup_e;
static atomic_long dup_got;

static void dup_a(void *arg)
{
	long v = 0;
	int r = GORT_SELECT(GORT_CASE_RECV(dup_c, &v, NULL), GORT_CASE_RECV(dup_c, &v, NULL),
	                    GORT_CASE_RECV(dup_d, &v, NULL));
	CHECK(r == 2 && v == 7, "A: case %d, value %ld; want case 2, 7", r, v);
	long nine = 9;
	gort_chan_send(dup_e, &nine);
	gort_waitgroup_done(&wg);
}

static void dup_b(void *arg)
{
	long v = 0;
	CHECK(gort_chan_recv(dup_c, &v), "B: receive");
	atomic_store(&dup_got, v);
	gort_waitgroup_done(&wg);
}

static void test_duplicate(void)
{
	for (int rep = 0; rep < 100; rep++) {
		dup_c = gort_chan_make(sizeof(long), 0);
		dup_d = gort_chan_make(sizeof(long), 0);
		dup_e = gort_chan_make(sizeof(long), 0);
		atomic_store(&dup_got, 0);
		gort_waitgroup_add(&wg, 2);
		gort_go(dup_a, NULL);
		for (int i = 0; i < 20; i++)
			gort_gosched(); /* let A queue first */
		gort_go(dup_b, NULL);
		for (int i = 0; i < 20; i++)
			gort_gosched();
		long seven = 7, eight = 8, got = 0;
		gort_chan_send(dup_d, &seven);
		CHECK(gort_chan_recv(dup_e, &got) && got == 9, "A said %ld", got);
		gort_chan_send(dup_c, &eight);
		gort_waitgroup_wait(&wg);
		CHECK(atomic_load(&dup_got) == 8, "B received %ld, want 8", atomic_load(&dup_got));
		CHECK(!gort_chan_trysend(dup_c, &eight), "c still has a receiver queued");
		gort_chan_free(dup_c);
		gort_chan_free(dup_d);
		gort_chan_free(dup_e);
	}
}

/* ---- default and nil_only --------------------------------------------------- */

static void test_default(void)
{
	gort_chan *empty = gort_chan_make(sizeof(long), 1), *full = gort_chan_make(sizeof(long), 1);
	gort_chan *unbuf = gort_chan_make(sizeof(long), 0);
	long one = 1, in = 77, in2 = 78, out = 5;
	bool ok = true, ok2 = true;
	gort_chan_send(full, &one);
	gort_case cases[] = {GORT_CASE_RECV(empty, &in, &ok), GORT_CASE_SEND(full, &out),
	                     GORT_CASE_RECV(unbuf, &in2, &ok2), GORT_CASE_SEND(unbuf, &out)};
	for (int i = 0; i < 100; i++)
		CHECK(gort_select(cases, 4, false) == -1, "nothing ready: want -1 (default)");
	CHECK(in == 77 && in2 == 78 && ok && ok2, "the default case wrote elements or ok");
	CHECK(gort_chan_len(empty) == 0 && gort_chan_len(full) == 1, "the default case moved values");

	long seven = 7;
	gort_chan_send(empty, &seven);
	ok = false;
	CHECK(gort_select(cases, 4, false) == 0 && in == 7 && ok, "ready receive: in=%ld ok=%d", in,
	      ok);
	CHECK(gort_chan_recv(full, NULL), "drain full");
	CHECK(gort_select(cases, 4, false) == 1, "ready send");
	CHECK(gort_chan_recv(full, &in) && in == 5, "the select's send delivered %ld", in);
	gort_chan_send(full, &one);
	CHECK(gort_select(cases, 4, false) == -1, "nothing ready again");
	gort_chan_free(empty);
	gort_chan_free(full);
	gort_chan_free(unbuf);
}

static void test_nil_only(void)
{
	long v = 3, w = 4;
	bool ok = true;
	gort_case nils[] = {GORT_CASE_RECV(NULL, &v, &ok), GORT_CASE_SEND(NULL, &w),
	                    GORT_CASE_RECV(NULL, NULL, NULL)};
	for (int n = 0; n <= 3; n++)
		CHECK(gort_select(nils, n, false) == -1, "%d nil cases with default: want -1", n);
	CHECK(gort_select(NULL, 0, false) == -1, "no cases with default: want -1");
	CHECK(GORT_SELECT_DEFAULT(GORT_CASE_RECV(NULL, &v, &ok)) == -1, "macro over a nil channel");
	CHECK(v == 3 && ok, "a nil case wrote its element or ok");

	gort_chan *c = gort_chan_make(sizeof(long), 1);
	for (int i = 0; i < 1000; i++) {
		long x = i, y = -1;
		gort_chan_send(c, &x);
		gort_case mix[] = {GORT_CASE_RECV(NULL, &v, &ok), GORT_CASE_SEND(NULL, &w),
		                   GORT_CASE_RECV(c, &y, NULL), GORT_CASE_RECV(NULL, &v, &ok)};
		CHECK(gort_select(mix, 4, i % 2 == 0) == 2 && y == i, "the one ready case beside nils");
	}
	gort_chan_free(c);
}

/* ---- macros ----------------------------------------------------------------- */

static void test_macros(void)
{
	gort_chan *in = gort_chan_make(sizeof(int), 1), *out = gort_chan_make(sizeof(int), 1);
	int v = 0, x = 42;
	bool ok = false;
	int one = 1;
	gort_chan_send(in, &one);
	gort_chan_send(out, &one); /* out is full: only the receive can proceed */
	switch (GORT_SELECT(GORT_CASE_RECV(in, &v, &ok), GORT_CASE_SEND(out, &x))) {
	case 0: CHECK(v == 1 && ok, "macro receive: v=%d ok=%d", v, ok); break;
	default: CHECK(0, "GORT_SELECT chose a case that was not ready");
	}
	switch (GORT_SELECT_DEFAULT(GORT_CASE_RECV(in, &v, &ok), GORT_CASE_SEND(out, &x))) {
	case -1: break;
	default: CHECK(0, "GORT_SELECT_DEFAULT: nothing was ready");
	}
	CHECK(gort_chan_recv(out, NULL), "drain out");
	CHECK(GORT_SELECT(GORT_CASE_RECV(in, &v, &ok), GORT_CASE_SEND(out, &x)) == 1, "macro send");
	CHECK(gort_chan_recv(out, &v) && v == 42, "macro send delivered %d", v);
	gort_chan_close(in);
	v = 9;
	ok = true;
	CHECK(GORT_SELECT_DEFAULT(GORT_CASE_RECV(in, &v, &ok)) == 0 && !ok && v == 0,
	      "macro receive from a closed channel: ok=%d v=%d", ok, v);
	gort_chan_free(in);
	gort_chan_free(out);
}

/* ---- pingpong --------------------------------------------------------------- */

#define BALLS 10000

typedef struct pp {
	gort_chan *ab, *ba;
	long returned_sum, returned;
} pp;

static void pinger(void *arg)
{
	pp *p = arg;
	long next = 1;
	while (p->returned < BALLS) {
		long in = 0;
		gort_chan *out = next <= BALLS ? p->ab : NULL; /* NULL: nothing left to send */
		switch (GORT_SELECT(GORT_CASE_SEND(out, &next), GORT_CASE_RECV(p->ba, &in, NULL))) {
		case 0: next++; break;
		case 1:
			p->returned++;
			p->returned_sum += in;
			break;
		}
	}
	gort_waitgroup_done(&wg);
}

static long queue[BALLS];

static void ponger(void *arg)
{
	pp *p = arg;
	long head = 0, tail = 0;
	while (head < BALLS) {
		long in = 0, out = head < tail ? 2 * queue[head] : 0;
		gort_chan *outc = head < tail ? p->ba : NULL;
		gort_chan *inc = tail < BALLS ? p->ab : NULL;
		switch (GORT_SELECT(GORT_CASE_RECV(inc, &in, NULL), GORT_CASE_SEND(outc, &out))) {
		case 0:
			CHECK(in == tail + 1, "ponger: got %ld, want %ld (order)", in, tail + 1);
			queue[tail++] = in;
			break;
		case 1: head++; break;
		}
	}
	gort_waitgroup_done(&wg);
}

static void test_pingpong(void)
{
	size_t caps[] = {0, 1, 3};
	for (int k = 0; k < 3; k++) {
		pp p = {gort_chan_make(sizeof(long), caps[k]), gort_chan_make(sizeof(long), caps[k]), 0, 0};
		gort_waitgroup_add(&wg, 2);
		gort_go(pinger, &p);
		gort_go(ponger, &p);
		gort_waitgroup_wait(&wg);
		long want = (long)BALLS * (BALLS + 1);
		CHECK(p.returned == BALLS && p.returned_sum == want, "cap %zu: %ld returned, sum %ld want %ld",
		      caps[k], p.returned, p.returned_sum, want);
		gort_chan_free(p.ab);
		gort_chan_free(p.ba);
	}
}

/* ---- overlap ---------------------------------------------------------------- */

#define NCHAN 4
#define SIDE 6
#define OVER_ITERS 2000
#define OVER_TOTAL (SIDE * OVER_ITERS)

static gort_chan *over[NCHAN];
static atomic_int over_seen[OVER_TOTAL];
static atomic_long over_used[NCHAN];

/* order_of gives goroutine id its own permutation of the channels. */
static void order_of(int id, int *order)
{
	for (int i = 0; i < NCHAN; i++)
		order[i] = (id + i) % NCHAN;
	if (id / NCHAN % 2 == 1)
		for (int i = 0; i < NCHAN / 2; i++) {
			int t = order[i];
			order[i] = order[NCHAN - 1 - i];
			order[NCHAN - 1 - i] = t;
		}
}

static void over_sender(void *arg)
{
	int id = (int)(intptr_t)arg, order[NCHAN];
	order_of(id, order);
	for (long i = 0; i < OVER_ITERS; i++) {
		long v = id * OVER_ITERS + i;
		gort_case cases[NCHAN];
		for (int k = 0; k < NCHAN; k++)
			cases[k] = GORT_CASE_SEND(over[order[k]], &v);
		int r = gort_select(cases, NCHAN, true);
		CHECK(r >= 0 && r < NCHAN, "sender select returned %d", r);
		atomic_fetch_add(&over_used[order[r]], 1);
	}
	gort_waitgroup_done(&wg);
}

static void over_receiver(void *arg)
{
	int id = (int)(intptr_t)arg, order[NCHAN];
	order_of(id + 1, order);
	for (long i = 0; i < OVER_ITERS; i++) {
		long v[NCHAN];
		gort_case cases[NCHAN];
		for (int k = 0; k < NCHAN; k++) {
			v[k] = -1;
			cases[k] = GORT_CASE_RECV(over[order[k]], &v[k], NULL);
		}
		int r = gort_select(cases, NCHAN, true);
		CHECK(r >= 0 && r < NCHAN, "receiver select returned %d", r);
		for (int k = 0; k < NCHAN; k++)
			CHECK(k == r || v[k] == -1, "case %d wrote its element though case %d fired", k, r);
		CHECK(v[r] >= 0 && v[r] < OVER_TOTAL, "received %ld", v[r]);
		atomic_fetch_add(&over_seen[v[r]], 1);
	}
	gort_waitgroup_done(&wg);
}

static void test_overlap(void)
{
	size_t caps[] = {0, 2};
	for (int k = 0; k < 2; k++) {
		for (int i = 0; i < NCHAN; i++) {
			over[i] = gort_chan_make(sizeof(long), caps[k]);
			atomic_store(&over_used[i], 0);
		}
		for (int i = 0; i < OVER_TOTAL; i++)
			atomic_store(&over_seen[i], 0);
		gort_waitgroup_add(&wg, 2 * SIDE);
		for (int id = 0; id < SIDE; id++) {
			gort_go(over_sender, (void *)(intptr_t)id);
			gort_go(over_receiver, (void *)(intptr_t)id);
		}
		gort_waitgroup_wait(&wg);
		for (int i = 0; i < OVER_TOTAL; i++)
			CHECK(atomic_load(&over_seen[i]) == 1, "cap %zu: value %d received %d times", caps[k],
			      i, atomic_load(&over_seen[i]));
		long used = 0;
		for (int i = 0; i < NCHAN; i++) {
			long x = 0;
			CHECK(gort_chan_len(over[i]) == 0, "cap %zu: channel %d left with %d values", caps[k],
			      i, gort_chan_len(over[i]));
			CHECK(caps[k] != 0 ||
			          (!gort_chan_trysend(over[i], &x) && !gort_chan_tryrecv(over[i], &x, NULL)),
			      "channel %d still has a select queued on it", i);
			used += atomic_load(&over_used[i]);
			gort_chan_free(over[i]);
		}
		CHECK(used == OVER_TOTAL, "cap %zu: %ld sends, want %d", caps[k], used, OVER_TOTAL);
	}
}

static int test_main(int argc, char **argv)
{
	test_default();
	test_nil_only();
	test_macros();
	test_fairness();
	test_self_select();
	test_duplicate();
	test_pingpong();
	test_overlap();
	return test_pass("select");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
