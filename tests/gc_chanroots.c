/*
 * gc_chanroots - the buffers of pooled channels (gort_chan_make) as the
 * collector's roots: the mark finds them by walking the channels' slots,
 * with no registry (src/chan.c, "The buffers as the collector's roots").
 *
 *   keeps     W goroutines make buffered channels, fill each with new
 *             objects that nothing else points to, churn the heap and
 *             drain them, while collections run (a goroutine collecting in
 *             a loop, and each worker every 8th round between its fill and
 *             its drain): every object comes back intact - its magic, its
 *             id, its payload - exactly as many as were sent.  Some buffers
 *             are big enough that malloc maps them on their own: the mark
 *             scanning one after its free would fault.
 *   freed     objects held only in the buffers of channels freed with the
 *             values still in them are collected (their finalizers run),
 *             while the objects in the buffers of channels still alive are
 *             kept, and come back intact
 *   foreign   a thread gort did not start makes and frees buffered channels
 *             (gort_chan_make and _free need no goroutine: they run on that
 *             thread, outside the stopped world) while goroutines collect:
 *             every value through them exact, no fault
 *
 * Bounds on "freed": the objects are made on a goroutine that has ended,
 * whose stack is never scanned again; a freed buffer is malloc's memory,
 * which the collector never scans; so only a stale conservative word
 * elsewhere could keep one: 2% is allowed for that, as in gc_chan.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "gc_helpers.h"

#define MAGIC 0x0B1EC7C4A7C4A7ull

typedef struct obj {
	uint64_t magic;
	int64_t id;
	uint64_t payload[6]; /* 64 bytes: the size class churn reuses */
} obj;

static obj *newobj(int64_t id)
{
	obj *o = gort_new(sizeof *o);
	o->magic = MAGIC;
	o->id = id;
	for (int k = 0; k < 6; k++)
		o->payload[k] = (uint64_t)id * 31 + (uint64_t)k;
	return o;
}

static void checkobj(const obj *o, int64_t id, const char *test)
{
	CHECK(o != NULL, "%s: a nil object for id %lld", test, (long long)id);
	CHECK(o->magic == MAGIC, "%s: object %lld lost its magic (%llx): collected while in a buffer", test,
	      (long long)id, (unsigned long long)o->magic);
	CHECK(o->id == id, "%s: object %lld has id %lld", test, (long long)id, (long long)o->id);
	for (int k = 0; k < 6; k++)
		CHECK(o->payload[k] == (uint64_t)id * 31 + (uint64_t)k, "%s: object %lld's payload[%d] is %llx", test,
		      (long long)id, k, (unsigned long long)o->payload[k]);
}

/* churn: garbage of the objects' size class, so that an object freed
 * while a buffer held it is reused and overwritten. */
static void churn(int n)
{
	for (int k = 0; k < n; k++)
		memset(gort_new(sizeof(obj)), 0x5A, sizeof(obj));
}

/* ---- keeps --------------------------------------------------------------- */

enum { WORKERS = 8, ROUNDS = 200, BIGCAP = 40000 /* 320 KB: malloc maps it */ };

/* nvals, bufcap: what round r of a worker sends, into a buffer how big */
static int nvals(int r)
{
	return r % 50 == 49 ? 3 : 1 + r % 7;
}

static size_t bufcap(int r)
{
	return r % 50 == 49 ? BIGCAP : (size_t)nvals(r);
}

static atomic_long keeps_done, keeps_checked, keeps_working;

/* fill: n new objects into c; their addresses die with this frame, which
 * the caller scrubs. */
static __attribute__((noinline)) void fill(gort_chan *c, int64_t base, int n)
{
	for (int j = 0; j < n; j++) {
		obj *o = newobj(base + j);
		gort_chan_send(c, &o);
	}
}

static __attribute__((noinline)) void drain(gort_chan *c, int64_t base, int n)
{
	for (int j = 0; j < n; j++) {
		obj *o = NULL;
		CHECK(gort_chan_recv(c, &o), "keeps: the channel was closed");
		checkobj(o, base + j, "keeps");
		atomic_fetch_add(&keeps_checked, 1);
	}
	CHECK(gort_chan_len(c) == 0, "keeps: %d values left in the buffer", gort_chan_len(c));
}

static void keeper(void *arg)
{
	int64_t w = (int64_t)(intptr_t)arg;
	for (int r = 0; r < ROUNDS; r++) {
		int64_t base = (w * ROUNDS + r) * 16;
		gort_chan *c = gort_chan_make(sizeof(obj *), bufcap(r));
		fill(c, base, nvals(r));
		scrub();
		churn(300);
		if (r % 8 == 0)
			gort_gc(); /* a collection while this channel and others hold objects */
		gort_gosched();
		drain(c, base, nvals(r));
		gort_chan_free(c);
	}
	atomic_fetch_sub(&keeps_working, 1);
	test_done(&keeps_done);
}

static void collector(void *arg)
{
	atomic_long *n = arg;
	while (atomic_load(&keeps_working) > 0) {
		gort_gc();
		atomic_fetch_add(n, 1);
		gort_gosched();
	}
	test_done(&keeps_done);
}

static void keeps(void)
{
	long want = 0;
	for (int r = 0; r < ROUNDS; r++)
		want += nvals(r);
	want *= WORKERS;
	atomic_store(&keeps_done, 0);
	atomic_store(&keeps_checked, 0);
	atomic_store(&keeps_working, WORKERS);
	atomic_long ncollector = 0;
	gort_mem_stats m0, m1;
	gort_read_mem_stats(&m0);
	gort_go(collector, &ncollector);
	for (int w = 0; w < WORKERS; w++)
		gort_go(keeper, (void *)(intptr_t)w);
	test_wait(&keeps_done, WORKERS + 1, "the keepers and the collector");
	gort_read_mem_stats(&m1);
	CHECK(atomic_load(&keeps_checked) == want, "keeps: %ld objects checked, want %ld",
	      atomic_load(&keeps_checked), want);
	/* each worker collected at least ROUNDS/8 times itself */
	CHECK(m1.num_forced_gc - m0.num_forced_gc >= WORKERS * ROUNDS / 8, "keeps: only %u collections",
	      m1.num_forced_gc - m0.num_forced_gc);
}

/* ---- freed --------------------------------------------------------------- */

enum { NFREED = 500, NKEPT = 100 };

static atomic_long nfreed, nkept;
static gort_chan *kept[NKEPT]; /* handles: tagged, not pointers the mark follows */

static void fin_freed(void *p)
{
	(void)p;
	atomic_fetch_add(&nfreed, 1);
}

static void fin_kept(void *p)
{
	(void)p;
	atomic_fetch_add(&nkept, 1);
}

static void make_freed(void *arg)
{
	(void)arg;
	for (int i = 0; i < NFREED; i++) {
		gort_chan *c = gort_chan_make(sizeof(obj *), 2);
		for (int j = 0; j < 2; j++) {
			obj *o = newobj(i * 2 + j);
			gort_set_finalizer(o, fin_freed);
			gort_chan_send(c, &o);
		}
		gort_chan_free(c); /* its values with it: nothing else refers to them */
	}
	for (int i = 0; i < NKEPT; i++) {
		kept[i] = gort_chan_make(sizeof(obj *), 1);
		obj *o = newobj(1000000 + i);
		gort_set_finalizer(o, fin_kept);
		gort_chan_send(kept[i], &o);
	}
}

static void freed(void)
{
	atomic_store(&nfreed, 0);
	atomic_store(&nkept, 0);
	in_goroutine(make_freed, NULL);
	long n = collect_until(&nfreed, 2 * NFREED * 98 / 100);
	CHECK(n >= 2 * NFREED * 98 / 100, "freed: %ld of %d objects in freed channels' buffers were collected", n,
	      2 * NFREED);
	for (int i = 0; i < 3; i++) {
		churn(20000);
		gort_gc();
	}
	gort_sleep(10 * GORT_MILLISECOND); /* time for finalizers queued by mistake to run */
	CHECK(atomic_load(&nkept) == 0, "freed: %ld objects in live channels' buffers were collected",
	      atomic_load(&nkept));
	for (int i = 0; i < NKEPT; i++) {
		obj *o = NULL;
		CHECK(gort_chan_recv(kept[i], &o), "freed: a kept channel was closed");
		checkobj(o, 1000000 + i, "freed");
		gort_chan_free(kept[i]);
	}
}

/* ---- foreign ------------------------------------------------------------- */

enum { FOREIGN_ROUNDS = 20000, FOREIGN_LIVE = 16 };

static atomic_long foreign_rounds, foreign_done;

/* A window of FOREIGN_LIVE channels alive at once, a quarter of them with
 * big buffers: a mark lists some and the thread frees one a round - the
 * mark must finish with a buffer before its free does. */
static void *foreign_thread(void *arg)
{
	(void)arg;
	gort_chan *live[FOREIGN_LIVE] = {0};
	for (int64_t r = 0; r < FOREIGN_ROUNDS; r++) {
		size_t cap = r % 4 == 0 ? BIGCAP : 1 + (size_t)(r % 3);
		gort_chan *c = gort_chan_make(sizeof(int64_t), cap);
		CHECK(gort_chan_cap(c) == (int)cap && gort_chan_len(c) == 0, "foreign: a new channel's cap %d, len %d",
		      gort_chan_cap(c), gort_chan_len(c));
		if (r % 16 == 0) { /* through the buffer: these need a P (gort.h) */
			int64_t v = r, got = -1;
			CHECK(gort_chan_trysend(c, &v), "foreign: a send to an empty buffered channel failed");
			CHECK(gort_chan_tryrecv(c, &got, NULL) && got == r, "foreign: received %lld, want %lld",
			      (long long)got, (long long)r);
		}
		gort_chan_free(live[r % FOREIGN_LIVE]); /* NULL at first: a no-op */
		live[r % FOREIGN_LIVE] = c;
		atomic_fetch_add(&foreign_rounds, 1);
	}
	for (int i = 0; i < FOREIGN_LIVE; i++)
		gort_chan_free(live[i]);
	test_done(&foreign_done);
	return NULL;
}

static void foreign(void)
{
	atomic_store(&foreign_rounds, 0);
	atomic_store(&foreign_done, 0);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, foreign_thread, NULL) == 0, "foreign: pthread_create failed");
	do {
		churn(200);
		gort_gc();
		/* the foreign thread's sends and receives need a P: at
		 * GOMAXPROCS=1, this one's while it sleeps */
		gort_sleep(100 * GORT_MICROSECOND);
	} while (atomic_load(&foreign_done) == 0);
	CHECK(pthread_join(t, NULL) == 0, "foreign: pthread_join failed");
	CHECK(atomic_load(&foreign_rounds) == FOREIGN_ROUNDS, "foreign: %ld rounds, want %d",
	      atomic_load(&foreign_rounds), FOREIGN_ROUNDS);
}

static int test_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	/* glibc maps a big buffer on its own and unmaps it at its free - but
	 * raises its threshold past a size freed once, unless it is set: a
	 * mark scanning a freed big buffer then faults, every time */
	mallopt(M_MMAP_THRESHOLD, 128 << 10);
	TEST_RUN(keeps);
	TEST_RUN(freed);
	TEST_RUN(foreign);
	return test_pass("gc_chanroots");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
