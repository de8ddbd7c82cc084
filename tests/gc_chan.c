/*
 * gc_chan - channels and timers the collector frees (gort_chan_make_gc,
 * gort_timer_new_gc, gort_afterfunc_gc, gort_after).
 *
 *   reclaimed       collectable channels, dropped, are freed: a finalizer
 *                   set on each runs (the handle is the object's address)
 *   blocked_keeps   a channel referred to only by goroutines parked on it
 *                   (their stacks: the sudog, the argument) survives
 *                   collections and heap churn, and works after: every
 *                   value arrives, in order
 *   timer_keeps     a pending gort_after timer, whose channel nothing but
 *                   the timer holds, survives and fires (its channel's
 *                   finalizer does not run while it is pending); an
 *                   AfterFunc's argument held only by the pending timer
 *                   survives
 *   timers_freed    collectable timers that fired and were dropped are freed
 *   after_loop      time.After in a loop of 100,000 rounds: the heap stays
 *                   bounded (what is live after a collection is small)
 *   buffer_keeps    gort_new objects held only in a collectable channel's
 *                   buffer survive, intact
 *   free_kills      gort_chan_free and gort_timer_free on collectable
 *                   objects: the handle dies (the message is a death test:
 *                   die_gcchan), the operations before it work
 *
 * Bounds on "reclaimed": the objects are made on goroutines that have
 * ended, whose stacks are never scanned again, so nothing but a stale
 * conservative word could keep one; 2% is allowed for that.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "gc_helpers.h"

#define MAGIC 0xC4A7C4A7C4A7C4A7ull
#define HIDE 0x5555555555555555ull /* a handle xor'd: not a pointer to the scan */

typedef struct obj {
	uint64_t magic;
	int64_t id;
} obj;

static atomic_long nfinal;

static void fin_count(void *p)
{
	(void)p;
	atomic_fetch_add(&nfinal, 1);
}

/* the finalizers of objects a test expects to survive: their own count,
 * which an earlier test's garbage, finalized late, cannot add to */
static atomic_long nkept;

static void fin_kept(void *p)
{
	(void)p;
	atomic_fetch_add(&nkept, 1);
}

/* churn: fill the heap's free slots with garbage, so that a freed
 * object is reused and a use of it would show. */
static void churn(void)
{
	for (int k = 0; k < 20000; k++)
		memset(gort_new(128), 0x5A, 128);
	for (int k = 0; k < 5000; k++)
		memset(gort_new(256), 0x5A, 256);
}

/* ---- reclaimed ----------------------------------------------------------- */

enum { NCHANS = 1000 };

static void make_chans(void *arg)
{
	(void)arg;
	for (int i = 0; i < NCHANS; i++) {
		gort_chan *c = gort_chan_make_gc(sizeof(obj *), i % 4);
		if (i % 4 != 0)
			gort_chan_send(c, &(obj *){gort_new(sizeof(obj))}); /* a buffered value */
		gort_set_finalizer(c, fin_count);
	}
}

static void reclaimed(void)
{
	atomic_store(&nfinal, 0);
	in_goroutine(make_chans, NULL);
	long n = collect_until(&nfinal, NCHANS * 98 / 100);
	CHECK(n >= NCHANS * 98 / 100, "reclaimed: %ld of %d dropped channels were freed", n, NCHANS);
}

/* ---- blocked_keeps ------------------------------------------------------- */

enum { NVALS = 100 };
static uintptr_t hidden_recv, hidden_send;
static atomic_long got, sent;

static void receiver(void *arg)
{
	gort_chan *c = arg;
	for (int64_t i = 0; i < NVALS; i++) {
		int64_t v = -1;
		CHECK(gort_chan_recv(c, &v), "blocked_keeps: the channel was closed");
		CHECK(v == i, "blocked_keeps: received %lld, want %lld", (long long)v, (long long)i);
		atomic_fetch_add(&got, 1);
	}
}

static void sender(void *arg)
{
	gort_chan *c = arg;
	for (int64_t i = 0; i < NVALS; i++) {
		gort_chan_send(c, &i);
		atomic_fetch_add(&sent, 1);
	}
}

static void make_blocked(void *arg)
{
	(void)arg;
	gort_chan *r = gort_chan_make_gc(sizeof(int64_t), 0);
	gort_chan *s = gort_chan_make_gc(sizeof(int64_t), 0);
	gort_set_finalizer(r, fin_kept); /* runs if the collector finds it unreachable */
	gort_set_finalizer(s, fin_kept);
	hidden_recv = (uintptr_t)r ^ HIDE;
	hidden_send = (uintptr_t)s ^ HIDE;
	gort_go(receiver, r);
	gort_go(sender, s);
}

static void blocked_keeps(void)
{
	atomic_store(&got, 0);
	atomic_store(&sent, 0);
	atomic_store(&nkept, 0);
	in_goroutine(make_blocked, NULL);
	for (int i = 0; i < 5; i++) {
		scrub();
		gort_gc();
		churn();
	}
	CHECK(atomic_load(&nkept) == 0, "blocked_keeps: a channel with parked goroutines was found unreachable");
	gort_chan *r = (gort_chan *)(hidden_recv ^ HIDE), *s = (gort_chan *)(hidden_send ^ HIDE);
	for (int64_t i = 0; i < NVALS; i++) {
		gort_chan_send(r, &i);
		int64_t v = -1;
		CHECK(gort_chan_recv(s, &v) && v == i, "blocked_keeps: received %lld from the sender, want %lld",
		      (long long)v, (long long)i);
	}
	test_wait(&got, NVALS, "the receiver's values");
	test_wait(&sent, NVALS, "the sender's values");
	CHECK(gort_chan_len(r) == 0 && gort_chan_cap(r) == 0, "blocked_keeps: len/cap changed");
	gort_set_finalizer(r, NULL); /* garbage from now on: not counted as kept */
	gort_set_finalizer(s, NULL);
}

/* ---- timer_keeps ---------------------------------------------------------- */

static uintptr_t hidden_after;
#define AFTER GORT_SECOND /* long enough for the collections below on a loaded machine */
static atomic_long funcran;

static void afunc(void *arg)
{
	obj *o = arg;
	CHECK(o->magic == MAGIC && o->id == 42, "timer_keeps: the AfterFunc's argument was freed");
	atomic_fetch_add(&funcran, 1);
}

static void make_after(void *arg)
{
	int64_t *t0 = arg;
	*t0 = gort_nanotime();
	gort_chan *c = gort_after(AFTER);
	gort_set_finalizer(c, fin_kept); /* runs if the collector finds it unreachable */
	hidden_after = (uintptr_t)c ^ HIDE;
	obj *o = gort_new(sizeof *o);
	o->magic = MAGIC;
	o->id = 42;
	gort_afterfunc_gc(200 * GORT_MILLISECOND, afunc, o); /* the handle dropped: the heap holds it */
}

static void timer_keeps(void)
{
	atomic_store(&funcran, 0);
	atomic_store(&nkept, 0);
	int64_t t0;
	in_goroutine(make_after, &t0);
	for (int i = 0; i < 5; i++) {
		scrub();
		gort_gc();
		churn();
	}
	/* The timer cannot have fired before t0 + AFTER: if that is still to
	 * come, every collection above saw it pending. */
	if (gort_nanotime() < t0 + AFTER)
		CHECK(atomic_load(&nkept) == 0, "timer_keeps: a pending timer's channel was found unreachable");
	else
		printf("timer_keeps: the collections took past the timer's firing: not checked this run\n");
	gort_chan *c = (gort_chan *)(hidden_after ^ HIDE);
	int64_t when = 0;
	CHECK(gort_chan_recv(c, &when), "timer_keeps: the channel was closed");
	CHECK(when >= t0 + AFTER, "timer_keeps: fired at +%lld ns, before %lld", (long long)(when - t0),
	      (long long)AFTER);
	test_wait(&funcran, 1, "the AfterFunc");
	gort_set_finalizer(c, NULL);
}

/* ---- timers_freed --------------------------------------------------------- */

enum { NTIMERS = 200 };

static void make_timers(void *arg)
{
	(void)arg;
	for (int i = 0; i < NTIMERS; i++) {
		gort_timer *t = gort_timer_new_gc(GORT_MILLISECOND);
		gort_set_finalizer(t, fin_count);
		if (i % 2 == 0)
			gort_timer_stop(t);
		gort_chan *a = gort_after(GORT_MILLISECOND);
		gort_set_finalizer(a, fin_count);
	}
}

static void timers_freed(void)
{
	atomic_store(&nfinal, 0);
	in_goroutine(make_timers, NULL);
	gort_sleep(20 * GORT_MILLISECOND); /* every one has fired or is stopped */
	long n = collect_until(&nfinal, 2 * NTIMERS * 98 / 100);
	CHECK(n >= 2 * NTIMERS * 98 / 100, "timers_freed: %ld of %d dropped timers and channels were freed",
	      n, 2 * NTIMERS);
}

/* ---- after_loop ------------------------------------------------------------ */

enum { NROUNDS = 100000 };

static void after_loop(void)
{
	gort_mem_stats m0, m1;
	gort_gc();
	gort_read_mem_stats(&m0);
	gort_chan *work = gort_chan_make_gc(sizeof(int), 1);
	long timedout = 0, worked = 0;
	for (int i = 0; i < NROUNDS; i++) {
		if (i % 2 == 0)
			gort_chan_trysend(work, &i); /* full if the timer won the last round */
		int v;
		gort_case cases[] = {
			GORT_CASE_RECV(work, &v, NULL),
			GORT_CASE_RECV(gort_after(1000), NULL, NULL), /* time.After(1 µs) */
		};
		int k = gort_select(cases, 2, true);
		if (k == 0)
			worked++;
		else
			timedout++;
	}
	CHECK(worked + timedout == NROUNDS && worked > 0 && timedout > 0, "after_loop: %ld worked, %ld timed out",
	      worked, timedout);
	gort_sleep(5 * GORT_MILLISECOND); /* the last rounds' timers fire */
	scrub();
	gort_gc();
	gort_read_mem_stats(&m1);
	/* 100,000 timers and channels were made (some 40 MB); what is live
	 * after a collection is what was live before, give or take 1 MiB */
	CHECK(m1.num_gc > m0.num_gc + 2, "after_loop: %u collections, the heap never grew enough to collect",
	      m1.num_gc - m0.num_gc);
	CHECK(m1.heap_alloc < m0.heap_alloc + (1 << 20), "after_loop: the heap grew from %llu to %llu bytes",
	      (unsigned long long)m0.heap_alloc, (unsigned long long)m1.heap_alloc);
	CHECK(m1.total_alloc - m0.total_alloc > (uint64_t)NROUNDS * 128, "after_loop: %llu bytes allocated",
	      (unsigned long long)(m1.total_alloc - m0.total_alloc));
}

/* ---- buffer_keeps ----------------------------------------------------------- */

enum { NBUF = 64 };

static void fill(void *arg)
{
	gort_chan *c = arg;
	for (int i = 0; i < NBUF; i++) {
		obj *o = gort_new(sizeof *o);
		o->magic = MAGIC;
		o->id = i;
		gort_chan_send(c, &o);
	}
}

static void buffer_keeps(void)
{
	gort_chan *c = gort_chan_make_gc(sizeof(obj *), NBUF);
	in_goroutine(fill, c);
	for (int i = 0; i < 5; i++) {
		scrub();
		gort_gc();
		churn();
	}
	CHECK(gort_chan_len(c) == NBUF, "buffer_keeps: len %d, want %d", gort_chan_len(c), NBUF);
	for (int i = 0; i < NBUF; i++) {
		obj *o = NULL;
		CHECK(gort_chan_recv(c, &o), "buffer_keeps: closed");
		CHECK(o->magic == MAGIC && o->id == i, "buffer_keeps: object %d freed or overwritten (id %lld)", i,
		      (long long)o->id);
	}
}

/* ---- free_kills ---------------------------------------------------------------- */

typedef GORT_CHAN(int) int_chan;

static void free_kills(void)
{
	int_chan c = gort_chan_make_gc_t(int_chan, 2);
	gort_chan_send_t(c, &(int){7});
	int v = 0;
	CHECK(gort_chan_recv_t(c, &v) && v == 7, "free_kills: received %d", v);
	gort_chan_close(gort_chan_of(c));
	gort_chan_free(gort_chan_of(c)); /* allowed: the handle dies, the memory is the collector's */
	gort_timer *t = gort_timer_new_gc(GORT_SECOND);
	CHECK(gort_timer_stop(t), "free_kills: a pending timer's stop returned false");
	gort_timer_free(t);
	gort_timer *f = gort_afterfunc_gc(GORT_SECOND, afunc, NULL);
	gort_timer_free(f);
	gort_gc();
}

static int test_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	TEST_RUN(reclaimed);
	TEST_RUN(blocked_keeps);
	TEST_RUN(timer_keeps);
	TEST_RUN(timers_freed);
	TEST_RUN(after_loop);
	TEST_RUN(buffer_keeps);
	TEST_RUN(free_kills);
	return test_pass("gc_chan");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
