/*
 * chan_test - Go 1.19's runtime/chan_test.go, ported: each Go test is a
 * function of the same name that does what it does and asserts what it
 * asserts (t.Error and t.Fatal become CHECK).  Where the Go test changes
 * GOMAXPROCS (TestChan: 4, TestSelfSelect: 2, TestSelectStress: 10), so
 * does the port, and restores it after, as Go's deferred call does.
 *
 * Go runs its tests with goroutines it never joins and channels the GC
 * collects; here every goroutine is joined (a WaitGroup) before the
 * channels it used are freed - a select touches all its channels again
 * after it was woken, so a value received from it does not yet mean that
 * it is done with them.
 *
 * Sleeps: where Go sleeps to give goroutines the chance to do something
 * they must not (receive from an empty channel), the port sleeps as long:
 * what is asserted holds however long the sleep really takes.  Nothing
 * here waits for a goroutine by sleeping.
 *
 * Iteration counts: Go's full (not -short) counts, except where noted
 * ("Go: N; here M"), to keep each run within a few seconds under
 * AddressSanitizer on two busy cores.
 *
 * Ported with an adaptation:
 *   TestChanSendInterface: what Go checks (that an interface holding a
 *     pointer is sent right) has no C counterpart; the port sends a
 *     pointer and asserts the defaults its full channel forces.
 *   TestShrinkStackDuringBlockedSend, TestNoShrinkStackWhileParking and
 *     TestSelectStackAdjust, without their runtime.GC(): gort's stacks
 *     never move or shrink (READING.md), so what is left checks that deep
 *     stack use between channel operations, and a select parked with
 *     pointers into its own frame, still work.
 *
 * Not ported:
 *   Benchmarks (BenchmarkMakeChan, ChanNonblocking, SelectUncontended,
 *     SelectSyncContended, SelectAsyncContended, SelectNonblock,
 *     ChanUncontended, ChanContended, ChanSync, ChanSyncWork,
 *     ChanProdCons*, ChanProdConsWork*, SelectProdCons,
 *     ReceiveDataFromClosedChan, ChanCreation, ChanSem, ChanPopular,
 *     ChanClosed): not tests - they assert nothing; gort's own
 *     benchmarks with Go twins live in bench/.
 */
#define _GNU_SOURCE
#include <string.h>

#include "harness.h"

static gort_waitgroup wg;

static void sleep_ms(int64_t ms)
{
	gort_sleep(ms * GORT_MILLISECOND);
}

/* Go's stackGrowthRecursive: i frames of 1 KiB each. */
static void stack_growth_recursive(int i)
{
	volatile uint64_t pad[128];
	pad[0] = 0;
	if (i != 0 && pad[0] == 0)
		stack_growth_recursive(i - 1);
}

/* ---- TestChan ---------------------------------------------------------------- */

#define CHAN_N 200 /* Go: 200 (20 with -short) */
#define CHAN_P 4
#define CHAN_L 1000

static atomic_int recv1, recv2, sent;
static gort_chan *done_bool;

static void chan_recv1(void *arg)
{
	gort_chan_recv(arg, NULL); /* _ = <-c */
	atomic_store(&recv1, 1);
	gort_waitgroup_done(&wg);
}

static void chan_recv2(void *arg)
{
	int v;
	bool ok = gort_chan_recv(arg, &v); /* _, _ = <-c */
	(void)ok;
	atomic_store(&recv2, 1);
	gort_waitgroup_done(&wg);
}

static void chan_send_zero(void *arg)
{
	int zero = 0;
	gort_chan_send(arg, &zero);
	atomic_store(&sent, 1);
	gort_waitgroup_done(&wg);
}

static void chan_recv_closed(void *arg)
{
	int v = 1;
	bool ok = gort_chan_recv(arg, &v);
	bool good = v == 0 && !ok;
	gort_chan_send(done_bool, &good);
	gort_waitgroup_done(&wg);
}

struct chan_sender {
	gort_chan *c;
	int n;
};

static void chan_send_seq(void *arg)
{
	struct chan_sender *s = arg;
	for (int i = 0; i < s->n; i++)
		gort_chan_send(s->c, &i);
	gort_waitgroup_done(&wg);
}

static int chan_counts[CHAN_P][CHAN_L];

struct chan_receiver {
	gort_chan *c, *done;
	int (*counts)[CHAN_L];
	int cap;
};

/* One of Go's map[int]int receivers: counts what it gets, sends its map. */
static void chan_count_recv(void *arg)
{
	struct chan_receiver *r = arg;
	memset(*r->counts, 0, sizeof *r->counts);
	for (int i = 0; i < CHAN_L; i++) {
		int v = -1;
		gort_chan_recv(r->c, &v);
		CHECK(v >= 0 && v < CHAN_L, "chan[%d]: received %d, never sent", r->cap, v);
		(*r->counts)[v]++;
	}
	int *counts = *r->counts;
	gort_chan_send(r->done, &counts);
	gort_waitgroup_done(&wg);
}

static void TestChan(void)
{
	int old = gort_gomaxprocs(4);
	for (int cap = 0; cap < CHAN_N; cap++) {
		{
			/* Ensure that receive from empty chan blocks. */
			gort_chan *c = gort_chan_make(sizeof(int), cap);
			atomic_store(&recv1, 0);
			atomic_store(&recv2, 0);
			gort_waitgroup_add(&wg, 2);
			gort_go(chan_recv1, c);
			gort_go(chan_recv2, c);
			sleep_ms(1);
			CHECK(!atomic_load(&recv1) && !atomic_load(&recv2),
			      "chan[%d]: receive from empty chan", cap);
			/* Ensure that non-blocking receive does not block. */
			CHECK(!gort_chan_tryrecv(c, NULL, NULL), "chan[%d]: receive from empty chan", cap);
			int v;
			bool ok;
			CHECK(!gort_chan_tryrecv(c, &v, &ok), "chan[%d]: receive from empty chan", cap);
			int zero = 0;
			gort_chan_send(c, &zero);
			gort_chan_send(c, &zero);
			gort_waitgroup_wait(&wg);
			gort_chan_free(c);
		}
		{
			/* Ensure that send to full chan blocks. */
			gort_chan *c = gort_chan_make(sizeof(int), cap);
			for (int i = 0; i < cap; i++)
				gort_chan_send(c, &i);
			atomic_store(&sent, 0);
			gort_waitgroup_add(&wg, 1);
			gort_go(chan_send_zero, c);
			sleep_ms(1);
			CHECK(atomic_load(&sent) == 0, "chan[%d]: send to full chan", cap);
			/* Ensure that non-blocking send does not block. */
			int zero = 0;
			CHECK(!gort_chan_trysend(c, &zero), "chan[%d]: send to full chan", cap);
			gort_chan_recv(c, NULL);
			gort_waitgroup_wait(&wg);
			gort_chan_free(c);
		}
		{
			/* Ensure that we receive 0 from closed chan. */
			gort_chan *c = gort_chan_make(sizeof(int), cap);
			for (int i = 0; i < cap; i++)
				gort_chan_send(c, &i);
			gort_chan_close(c);
			for (int i = 0; i < cap; i++) {
				int v = -1;
				gort_chan_recv(c, &v);
				CHECK(v == i, "chan[%d]: received %d, expected %d", cap, v, i);
			}
			int v = -1;
			gort_chan_recv(c, &v);
			CHECK(v == 0, "chan[%d]: received %d, expected 0", cap, v);
			v = -1;
			bool ok = gort_chan_recv(c, &v);
			CHECK(v == 0 && !ok, "chan[%d]: received %d/%d, expected 0/false", cap, v, ok);
			gort_chan_free(c);
		}
		{
			/* Ensure that close unblocks receive. */
			gort_chan *c = gort_chan_make(sizeof(int), cap);
			done_bool = gort_chan_make(sizeof(bool), 0);
			gort_waitgroup_add(&wg, 1);
			gort_go(chan_recv_closed, c);
			sleep_ms(1);
			gort_chan_close(c);
			bool good = false;
			gort_chan_recv(done_bool, &good);
			CHECK(good, "chan[%d]: received non zero from closed chan", cap);
			gort_waitgroup_wait(&wg);
			gort_chan_free(done_bool);
			gort_chan_free(c);
		}
		{
			/* Send 100 integers, ensure that we receive them non-corrupted
			 * in FIFO order. */
			gort_chan *c = gort_chan_make(sizeof(int), cap);
			gort_waitgroup_add(&wg, 1);
			gort_go_with(chan_send_seq, struct chan_sender, .c = c, .n = 100);
			for (int i = 0; i < 100; i++) {
				int v = -1;
				gort_chan_recv(c, &v);
				CHECK(v == i, "chan[%d]: received %d, expected %d", cap, v, i);
			}
			/* Same, but using recv2. */
			gort_waitgroup_add(&wg, 1);
			gort_go_with(chan_send_seq, struct chan_sender, .c = c, .n = 100);
			for (int i = 0; i < 100; i++) {
				int v = -1;
				bool ok = gort_chan_recv(c, &v);
				CHECK(ok, "chan[%d]: receive failed, expected %d", cap, i);
				CHECK(v == i, "chan[%d]: received %d, expected %d", cap, v, i);
			}
			/* Send 1000 integers in 4 goroutines, ensure that we receive
			 * what we send. */
			gort_chan *done = gort_chan_make(sizeof(int *), 0);
			gort_waitgroup_add(&wg, 2 * CHAN_P);
			for (int p = 0; p < CHAN_P; p++)
				gort_go_with(chan_send_seq, struct chan_sender, .c = c, .n = CHAN_L);
			for (int p = 0; p < CHAN_P; p++)
				gort_go_with(chan_count_recv, struct chan_receiver, .c = c, .done = done,
				             .counts = &chan_counts[p], .cap = cap);
			int recv[CHAN_L] = {0};
			for (int p = 0; p < CHAN_P; p++) {
				int *counts;
				gort_chan_recv(done, &counts);
				for (int k = 0; k < CHAN_L; k++)
					recv[k] += counts[k];
			}
			int distinct = 0;
			for (int k = 0; k < CHAN_L; k++)
				distinct += recv[k] != 0;
			CHECK(distinct == CHAN_L, "chan[%d]: received %d values, expected %d", cap, distinct,
			      CHAN_L);
			for (int k = 0; k < CHAN_L; k++)
				CHECK(recv[k] == CHAN_P, "chan[%d]: received %d values, expected %d", cap,
				      recv[k], CHAN_P);
			gort_waitgroup_wait(&wg);
			gort_chan_free(done);
			gort_chan_free(c);
		}
		{
			/* Test len/cap. */
			gort_chan *c = gort_chan_make(sizeof(int), cap);
			CHECK(gort_chan_len(c) == 0 && gort_chan_cap(c) == cap,
			      "chan[%d]: bad len/cap, expect 0/%d, got %d/%d", cap, cap, gort_chan_len(c),
			      gort_chan_cap(c));
			for (int i = 0; i < cap; i++)
				gort_chan_send(c, &i);
			CHECK(gort_chan_len(c) == cap && gort_chan_cap(c) == cap,
			      "chan[%d]: bad len/cap, expect %d/%d, got %d/%d", cap, cap, cap,
			      gort_chan_len(c), gort_chan_cap(c));
			gort_chan_free(c);
		}
	}
	gort_gomaxprocs(old);
}

/* ---- TestNonblockRecvRace ---------------------------------------------------- */

#define NONBLOCK_RECV_N 10000

static atomic_int not_ready;

static void nonblock_recv(void *arg)
{
	if (!gort_chan_tryrecv(arg, NULL, NULL)) /* select { case <-c: default: ... } */
		atomic_store(&not_ready, 1);
	gort_waitgroup_done(&wg);
}

static void TestNonblockRecvRace(void)
{
	for (int i = 0; i < NONBLOCK_RECV_N; i++) {
		gort_chan *c = gort_chan_make(sizeof(int), 1);
		int one = 1;
		gort_chan_send(c, &one);
		gort_waitgroup_add(&wg, 1);
		gort_go(nonblock_recv, c);
		gort_chan_close(c);
		gort_chan_recv(c, NULL);
		gort_waitgroup_wait(&wg);
		gort_chan_free(c);
		CHECK(!atomic_load(&not_ready), "iteration %d: chan is not ready", i);
	}
}

/* ---- TestNonblockSelectRace, TestNonblockSelectRace2 -------------------------- */

/*
 * One goroutine makes c1 ready, starts a second, makes c2 ready and then
 * c1 not ready (if it can).  From the start of the second goroutine one of
 * them is always ready, so its non-blocking select must never take the
 * default: select acts on the channels' state at one moment.
 */
#define NONBLOCK_SELECT_N 20000 /* Go: 100000 (1000 with -short); here 20000 */

struct select_race {
	gort_chan *c1, *c2, *done;
};

static void nonblock_select(void *arg)
{
	struct select_race *r = arg;
	bool ok = GORT_SELECT_DEFAULT(GORT_CASE_RECV(r->c1, NULL, NULL),
	                              GORT_CASE_RECV(r->c2, NULL, NULL)) >= 0;
	gort_chan_send(r->done, &ok);
	gort_waitgroup_done(&wg);
}

static void nonblock_select_race(bool close_c2)
{
	gort_chan *done = gort_chan_make(sizeof(bool), 1);
	for (int i = 0; i < NONBLOCK_SELECT_N; i++) {
		gort_chan *c1 = gort_chan_make(sizeof(int), 1);
		gort_chan *c2 = gort_chan_make(sizeof(int), close_c2 ? 0 : 1);
		int one = 1;
		gort_chan_send(c1, &one);
		gort_waitgroup_add(&wg, 1);
		gort_go_with(nonblock_select, struct select_race, c1, c2, done);
		if (close_c2)
			gort_chan_close(c2);
		else
			gort_chan_send(c2, &one);
		gort_chan_tryrecv(c1, NULL, NULL);
		bool ok = false;
		gort_chan_recv(done, &ok);
		CHECK(ok, "iteration %d: no chan is ready", i);
		/* the select is over (it sent on done after it): c1, c2 are free to go */
		gort_chan_free(c1);
		gort_chan_free(c2);
	}
	gort_waitgroup_wait(&wg);
	gort_chan_free(done);
}

static void TestNonblockSelectRace(void)
{
	nonblock_select_race(false);
}

/* Same as TestNonblockSelectRace, but close(c2) replaces c2 <- 1. */
static void TestNonblockSelectRace2(void)
{
	nonblock_select_race(true);
}

/* ---- TestSelfSelect ---------------------------------------------------------- */

/* Send and receive on the same channel in one select: no crash, no
 * deadlock, and unbuffered, a goroutine never receives its own value. */
struct self_select {
	gort_chan *c;
	int p, cap;
};

static void self_selector(void *arg)
{
	struct self_select *s = arg;
	for (int i = 0; i < 1000; i++) {
		int p = s->p, v = -1, r;
		if (s->p == 0 || i % 2 == 0)
			r = GORT_SELECT(GORT_CASE_SEND(s->c, &p), GORT_CASE_RECV(s->c, &v, NULL)) == 1;
		else
			r = GORT_SELECT(GORT_CASE_RECV(s->c, &v, NULL), GORT_CASE_SEND(s->c, &p)) == 0;
		CHECK(!(r && s->cap == 0 && v == s->p), "cap %d: goroutine %d: self receive", s->cap,
		      s->p);
	}
	gort_waitgroup_done(&wg);
}

static void TestSelfSelect(void)
{
	int old = gort_gomaxprocs(2);
	int caps[] = {0, 10};
	for (int k = 0; k < 2; k++) {
		gort_chan *c = gort_chan_make(sizeof(int), caps[k]);
		gort_waitgroup_add(&wg, 2);
		for (int p = 0; p < 2; p++)
			gort_go_with(self_selector, struct self_select, c, p, caps[k]);
		gort_waitgroup_wait(&wg);
		gort_chan_free(c);
	}
	gort_gomaxprocs(old);
}

/* ---- TestSelectStress -------------------------------------------------------- */

/*
 * 4 goroutines send N values on each of the channels, 4 receive N values
 * on each, 1 sends N values on each in a single select, 1 receives N
 * values on each in a single select.  All of it interacts chaotically, and
 * must not deadlock; every operation completes exactly as often as counted.
 */
#define STRESS_N 10000 /* Go: 100000 (10000 with -short); here 10000 */

static gort_chan *stress_c[4];

static void stress_send(void *arg)
{
	int zero = 0;
	for (int i = 0; i < STRESS_N; i++)
		gort_chan_send(stress_c[(intptr_t)arg], &zero);
	gort_waitgroup_done(&wg);
}

static void stress_recv(void *arg)
{
	for (int i = 0; i < STRESS_N; i++)
		gort_chan_recv(stress_c[(intptr_t)arg], NULL);
	gort_waitgroup_done(&wg);
}

/* The select senders list the channels in Go's order: 3, 2, 0, 1. */
static void stress_select_send(void *arg)
{
	int n[4] = {0}, zero = 0;
	static const int order[4] = {3, 2, 0, 1};
	gort_case cases[4];
	for (int k = 0; k < 4; k++)
		cases[k] = GORT_CASE_SEND(stress_c[order[k]], &zero);
	for (int i = 0; i < 4 * STRESS_N; i++) {
		int k = gort_select(cases, 4, true), ch = order[k];
		if (++n[ch] == STRESS_N)
			cases[k].chan = NULL;
	}
	for (int k = 0; k < 4; k++)
		CHECK(n[k] == STRESS_N, "select sender sent %d on c[%d]", n[k], k);
	gort_waitgroup_done(&wg);
}

static void stress_select_recv(void *arg)
{
	int n[4] = {0};
	gort_case cases[4];
	for (int k = 0; k < 4; k++)
		cases[k] = GORT_CASE_RECV(stress_c[k], NULL, NULL);
	for (int i = 0; i < 4 * STRESS_N; i++) {
		int k = gort_select(cases, 4, true);
		if (++n[k] == STRESS_N)
			cases[k].chan = NULL;
	}
	for (int k = 0; k < 4; k++)
		CHECK(n[k] == STRESS_N, "select receiver received %d on c[%d]", n[k], k);
	gort_waitgroup_done(&wg);
}

static void TestSelectStress(void)
{
	int old = gort_gomaxprocs(10);
	size_t caps[4] = {0, 0, 2, 3};
	for (int k = 0; k < 4; k++)
		stress_c[k] = gort_chan_make(sizeof(int), caps[k]);
	gort_waitgroup_add(&wg, 10);
	for (intptr_t k = 0; k < 4; k++) {
		gort_go(stress_send, (void *)k);
		gort_go(stress_recv, (void *)k);
	}
	gort_go(stress_select_send, NULL);
	gort_go(stress_select_recv, NULL);
	gort_waitgroup_wait(&wg);
	for (int k = 0; k < 4; k++) {
		CHECK(gort_chan_len(stress_c[k]) == 0, "c[%d] holds %d values after all", k,
		      gort_chan_len(stress_c[k]));
		gort_chan_free(stress_c[k]);
	}
	gort_gomaxprocs(old);
}

/* ---- TestSelectFairness ------------------------------------------------------ */

#define FAIR_TRIALS 10000

struct fairness {
	gort_chan *c1, *c2, *c3, *c4, *out, *done;
};

static void fair_selector(void *arg)
{
	struct fairness *f = arg;
	for (;;) {
		unsigned char b = 0;
		GORT_SELECT(GORT_CASE_RECV(f->c3, &b, NULL), GORT_CASE_RECV(f->c4, &b, NULL),
		            GORT_CASE_RECV(f->c1, &b, NULL), GORT_CASE_RECV(f->c2, &b, NULL));
		if (GORT_SELECT(GORT_CASE_SEND(f->out, &b), GORT_CASE_RECV(f->done, NULL, NULL)) == 1)
			break;
	}
	gort_waitgroup_done(&wg);
}

static void TestSelectFairness(void)
{
	struct fairness f = {
		gort_chan_make(1, FAIR_TRIALS + 1), gort_chan_make(1, FAIR_TRIALS + 1),
		gort_chan_make(1, 0), gort_chan_make(1, 0), gort_chan_make(1, 0), gort_chan_make(1, 0),
	};
	for (int i = 0; i < FAIR_TRIALS + 1; i++) {
		unsigned char one = 1, two = 2;
		gort_chan_send(f.c1, &one);
		gort_chan_send(f.c2, &two);
	}
	gort_waitgroup_add(&wg, 1);
	gort_go(fair_selector, &f);
	int cnt1 = 0, cnt2 = 0;
	for (int i = 0; i < FAIR_TRIALS; i++) {
		unsigned char b = 0;
		gort_chan_recv(f.out, &b);
		CHECK(b == 1 || b == 2, "unexpected value %d on channel", b);
		if (b == 1)
			cnt1++;
		else
			cnt2++;
	}
	/* If the select is fair, cnt1 and cnt2 should be about the same.  With
	 * 10,000 trials, the expected margin of error at a confidence level of
	 * six nines is 4.891676 / (2 * sqrt(10000)). */
	double r = (double)cnt1 / FAIR_TRIALS, e = r > 0.5 ? r - 0.5 : 0.5 - r;
	CHECK(e <= 4.891676 / (2 * 100.0), "unfair select: in %d trials, results were %d, %d",
	      FAIR_TRIALS, cnt1, cnt2);
	gort_chan_close(f.done);
	gort_waitgroup_wait(&wg);
	gort_chan *all[] = {f.c1, f.c2, f.c3, f.c4, f.out, f.done};
	for (int i = 0; i < 6; i++)
		gort_chan_free(all[i]);
}

/* ---- TestChanSendInterface --------------------------------------------------- */

static void TestChanSendInterface(void)
{
	struct mt {
		char unused;
	};
	struct mt *m = &(struct mt){0}, *other = &(struct mt){0};
	gort_chan *c = gort_chan_make(sizeof(void *), 1);
	gort_chan_send(c, &m);
	/* c is full: both selects must take their default. */
	CHECK(GORT_SELECT_DEFAULT(GORT_CASE_SEND(c, &m)) == -1, "send to a full chan");
	CHECK(GORT_SELECT_DEFAULT(GORT_CASE_SEND(c, &m), GORT_CASE_SEND(c, &other)) == -1,
	      "send to a full chan");
	struct mt *got = NULL;
	CHECK(gort_chan_recv(c, &got) && got == m, "received %p, sent %p", (void *)got, (void *)m);
	gort_chan_free(c);
}

/* ---- TestPseudoRandomSend ---------------------------------------------------- */

#define PRS_N 100

struct prs {
	gort_chan *c;
	int *l;
	gort_mutex *m;
};

static void prs_receiver(void *arg)
{
	struct prs *p = arg;
	for (int i = 0; i < PRS_N; i++) {
		gort_gosched();
		gort_chan_recv(p->c, &p->l[i]);
	}
	gort_mutex_unlock(p->m);
}

static void TestPseudoRandomSend(void)
{
	int caps[] = {0, PRS_N};
	for (int k = 0; k < 2; k++) {
		gort_chan *c = gort_chan_make(sizeof(int), caps[k]);
		int l[PRS_N];
		gort_mutex m = GORT_MUTEX_INIT;
		gort_mutex_lock(&m);
		gort_go_with(prs_receiver, struct prs, c, l, &m);
		int one = 1, zero = 0;
		for (int i = 0; i < PRS_N; i++)
			GORT_SELECT(GORT_CASE_SEND(c, &one), GORT_CASE_SEND(c, &zero));
		gort_mutex_lock(&m); /* wait */
		int n0 = 0, n1 = 0;
		for (int i = 0; i < PRS_N; i++) {
			n0 += (l[i] + 1) % 2;
			n1 += l[i];
		}
		CHECK(n0 > PRS_N / 10 && n1 > PRS_N / 10,
		      "want pseudorandom, got %d zeros and %d ones (chan cap %d)", n0, n1, caps[k]);
		gort_mutex_unlock(&m);
		gort_chan_free(c);
	}
}

/* ---- TestMultiConsumer ------------------------------------------------------- */

#define MC_NWORK 23
#define MC_NITER 100000 /* Go: 271828; here 100000 */

static const int mc_pn[] = {2, 3, 7, 11, 13, 17, 19, 23, 27, 31};
#define MC_NPN ((int)(sizeof mc_pn / sizeof mc_pn[0]))

static gort_chan *mc_q, *mc_r;
static gort_waitgroup mc_wg;
static long mc_expect;

static void mc_worker(void *arg)
{
	int w = (int)(intptr_t)arg, v;
	while (gort_chan_recv(mc_q, &v)) {
		/* mess with the fifo-ish nature of range */
		if (mc_pn[w % MC_NPN] == v)
			gort_gosched();
		gort_chan_send(mc_r, &v);
	}
	gort_waitgroup_done(&mc_wg);
}

static void mc_feeder(void *arg)
{
	for (int i = 0; i < MC_NITER; i++) {
		int v = mc_pn[i % MC_NPN];
		mc_expect += v;
		gort_chan_send(mc_q, &v);
	}
	gort_chan_close(mc_q);      /* no more work */
	gort_waitgroup_wait(&mc_wg); /* workers done */
	gort_chan_close(mc_r);      /* ... so there can be no more results */
	gort_waitgroup_done(&wg);
}

static void TestMultiConsumer(void)
{
	mc_q = gort_chan_make(sizeof(int), MC_NWORK * 3);
	mc_r = gort_chan_make(sizeof(int), MC_NWORK * 3);
	mc_expect = 0;
	for (intptr_t i = 0; i < MC_NWORK; i++) {
		gort_waitgroup_add(&mc_wg, 1);
		gort_go(mc_worker, (void *)i);
	}
	gort_waitgroup_add(&wg, 1);
	gort_go(mc_feeder, NULL);
	long n = 0, s = 0;
	int v;
	while (gort_chan_recv(mc_r, &v)) {
		n++;
		s += v;
	}
	/* close(r) happened after the feeder's last write of expect */
	CHECK(n == MC_NITER && s == mc_expect, "expected sum %ld (got %ld) from %d iter (saw %ld)",
	      mc_expect, s, MC_NITER, n);
	gort_waitgroup_wait(&wg);
	gort_chan_free(mc_q);
	gort_chan_free(mc_r);
}

/* ---- TestShrinkStackDuringBlockedSend ---------------------------------------- */

#define SHRINK_N 10

struct shrink {
	gort_chan *c, *done;
};

static void shrink_sender(void *arg)
{
	struct shrink *s = arg;
	for (int i = 0; i < SHRINK_N; i++) {
		gort_chan_send(s->c, &i);
		stack_growth_recursive(20); /* use lots of stack, briefly */
	}
	gort_chan_send(s->done, NULL);
	gort_waitgroup_done(&wg);
}

static void TestShrinkStackDuringBlockedSend(void)
{
	gort_chan *c = gort_chan_make(sizeof(int), 0), *done = gort_chan_make(0, 0);
	gort_waitgroup_add(&wg, 1);
	gort_go_with(shrink_sender, struct shrink, c, done);
	for (int i = 0; i < SHRINK_N; i++) {
		int x = -1;
		gort_chan_recv(c, &x);
		CHECK(x == i, "bad channel read: want %d, got %d", i, x);
		/* Waste some time so the sender can finish using lots of stack
		 * and block in its send.  (Go then runs a GC to shrink the
		 * sender's stack; gort's stacks never shrink.) */
		sleep_ms(1);
	}
	gort_chan_recv(done, NULL);
	gort_waitgroup_wait(&wg);
	gort_chan_free(c);
	gort_chan_free(done);
}

/* ---- TestNoShrinkStackWhileParking ------------------------------------------- */

/* Go's "racy sudog adjustment" race between a GC shrinking a stack and its
 * goroutine parking on a channel; without GC or moving stacks, the port
 * checks that the same hand-offs deliver every value, in order. */
#define NOSHRINK_N 10

struct noshrink {
	gort_chan *c, *done;
};

static void noshrink_send(void *arg)
{
	struct noshrink *s = arg;
	for (int i = 0; i < NOSHRINK_N; i++) {
		gort_chan_send(s->c, &i);
		stack_growth_recursive(20);
	}
	gort_chan_send(s->done, NULL);
	gort_waitgroup_done(&wg);
}

static void noshrink_recv(void *arg)
{
	struct noshrink *s = arg;
	for (int i = 0; i < NOSHRINK_N; i++) {
		/* Sleep here so that the sender always fully blocks. */
		gort_sleep(10 * GORT_MICROSECOND);
		int v = -1;
		gort_chan_recv(s->c, &v);
		CHECK(v == i, "received %d, want %d", v, i);
	}
	gort_chan_send(s->done, NULL);
	gort_waitgroup_done(&wg);
}

static void TestNoShrinkStackWhileParking(void)
{
	for (int i = 0; i < NOSHRINK_N * 20; i++) {
		gort_chan *c = gort_chan_make(sizeof(int), 0), *done = gort_chan_make(0, 0);
		gort_waitgroup_add(&wg, 2);
		gort_go_with(noshrink_recv, struct noshrink, c, done);
		gort_go_with(noshrink_send, struct noshrink, c, done);
		/* Go waits a little here, then runs the GC. */
		gort_sleep(50 * GORT_MICROSECOND);
		gort_chan_recv(done, NULL);
		gort_chan_recv(done, NULL);
		gort_waitgroup_wait(&wg);
		gort_chan_free(c);
		gort_chan_free(done);
	}
}

/* ---- TestSelectDuplicateChannel ---------------------------------------------- */

/* A goroutine can be queued on the same channel several times. */
static gort_chan *dup_c, *dup_d, *dup_e;
static atomic_int dup_b_got;

static void dup_a(void *arg)
{
	int v = -1;
	int i = GORT_SELECT(GORT_CASE_RECV(dup_c, &v, NULL), GORT_CASE_RECV(dup_c, &v, NULL),
	                    GORT_CASE_RECV(dup_d, &v, NULL));
	CHECK(i == 2 && v == 7, "goroutine A: case %d, value %d; want case 2 (<-d), 7", i, v);
	int nine = 9;
	gort_chan_send(dup_e, &nine);
	gort_waitgroup_done(&wg);
}

static void dup_b(void *arg)
{
	int v = -1;
	gort_chan_recv(dup_c, &v);
	atomic_store(&dup_b_got, v);
	gort_waitgroup_done(&wg);
}

static void TestSelectDuplicateChannel(void)
{
	dup_c = gort_chan_make(sizeof(int), 0);
	dup_d = gort_chan_make(sizeof(int), 0);
	dup_e = gort_chan_make(sizeof(int), 0);
	gort_waitgroup_add(&wg, 2);
	gort_go(dup_a, NULL);
	sleep_ms(1); /* make sure goroutine A gets queued first on c */
	gort_go(dup_b, NULL);
	sleep_ms(1); /* make sure goroutine B gets queued on c before continuing */
	int seven = 7, eight = 8, got = 0;
	/* wake up A, it dequeues itself from c; this used to corrupt c.recvq */
	gort_chan_send(dup_d, &seven);
	gort_chan_recv(dup_e, &got); /* A tells us it's done */
	CHECK(got == 9, "A sent %d", got);
	/* wake up B; this used to fail because c.recvq was corrupted */
	gort_chan_send(dup_c, &eight);
	gort_waitgroup_wait(&wg);
	CHECK(atomic_load(&dup_b_got) == 8, "B received %d, want 8", atomic_load(&dup_b_got));
	gort_chan_free(dup_c);
	gort_chan_free(dup_d);
	gort_chan_free(dup_e);
}

/* ---- TestSelectStackAdjust --------------------------------------------------- */

/* Receive slots that point into the selecting goroutine's own frame stay
 * right while it is parked (Go: across a stack shrink). */
static gort_chan *adj_c, *adj_d;

struct adjust {
	gort_chan *ready;
	bool dup;
};

static void adjust_f(void *arg)
{
	struct adjust *a = arg;
	/* Temporarily grow the stack to 10K. */
	stack_growth_recursive((10 << 10) / (128 * 8));
	/* We're ready to trigger GC and stack shrink. */
	bool t = true;
	gort_chan_send(a->ready, &t);

	int val = 42;
	int *cx = &val, *ignored = NULL;
	gort_chan *c2 = NULL, *d2 = NULL;
	if (a->dup) {
		c2 = adj_c;
		d2 = adj_d;
	}
	/* Receive from d.  cx won't be affected. */
	int i = GORT_SELECT(GORT_CASE_RECV(adj_c, &cx, NULL), GORT_CASE_RECV(c2, &ignored, NULL),
	                    GORT_CASE_RECV(adj_d, &ignored, NULL), GORT_CASE_RECV(d2, &ignored, NULL));
	CHECK(i == 2 || (a->dup && i == 3), "select took case %d; only d is closed", i);
	/* Check that the pointer in cx is still right. */
	CHECK(cx == &val, "cx no longer points to val");
	CHECK(val == 42, "val changed");
	*cx = 43;
	CHECK(val == 43, "changing *cx failed to change val");
	gort_chan_send(a->ready, &t);
	gort_waitgroup_done(&wg);
}

static void TestSelectStackAdjust(void)
{
	adj_c = gort_chan_make(sizeof(int *), 0);
	adj_d = gort_chan_make(sizeof(int *), 0);
	gort_chan *ready1 = gort_chan_make(sizeof(bool), 0), *ready2 = gort_chan_make(sizeof(bool), 0);
	gort_waitgroup_add(&wg, 2);
	gort_go_with(adjust_f, struct adjust, ready1, false);
	gort_go_with(adjust_f, struct adjust, ready2, true);
	/* Let the goroutines get into the select. */
	gort_chan_recv(ready1, NULL);
	gort_chan_recv(ready2, NULL);
	sleep_ms(10);
	/* (Go forces a GC here, to shrink the stacks.)  Wake the selects. */
	gort_chan_close(adj_d);
	gort_chan_recv(ready1, NULL);
	gort_chan_recv(ready2, NULL);
	gort_waitgroup_wait(&wg);
	gort_chan *all[] = {adj_c, adj_d, ready1, ready2};
	for (int i = 0; i < 4; i++)
		gort_chan_free(all[i]);
}

/* ---- main -------------------------------------------------------------------- */


static int main_fn(int argc, char **argv)
{
	TEST_RUN(TestChan);
	TEST_RUN(TestNonblockRecvRace);
	TEST_RUN(TestNonblockSelectRace);
	TEST_RUN(TestNonblockSelectRace2);
	TEST_RUN(TestSelfSelect);
	TEST_RUN(TestSelectStress);
	TEST_RUN(TestSelectFairness);
	TEST_RUN(TestChanSendInterface);
	TEST_RUN(TestPseudoRandomSend);
	TEST_RUN(TestMultiConsumer);
	TEST_RUN(TestShrinkStackDuringBlockedSend);
	TEST_RUN(TestNoShrinkStackWhileParking);
	TEST_RUN(TestSelectDuplicateChannel);
	TEST_RUN(TestSelectStackAdjust);
	return test_pass("chan_test");
}

int main(int argc, char **argv)
{
	gort_main(main_fn, argc, argv);
}
