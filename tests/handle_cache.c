/*
 * handle_cache - the Ps' caches of free slots (src/handle.c): exact counts
 * of live objects while they go through the caches, and stale handles
 * still known for what they are after their slot went through one.
 *
 *   handle_cache churn      16 goroutines each make 40 channels and 40
 *                           timers (40: more than a cache holds, so every
 *                           round fills, flushes and refills caches), then
 *                           free them in a mixed order; between rounds
 *                           GOMAXPROCS moves through 1, 8, 2, 5, 3, 8, 1, 4
 *                           (Ps retired with full caches, Ps revived with
 *                           empty ones).  With every object made, exactly
 *                           16*40 timers and 16*40*2 channels (a timer has
 *                           its channel) more are alive than before; after
 *                           the frees, exactly as many as before.
 *   handle_cache reuse      a channel made and freed on P 1 (its slot into
 *                           P 1's cache); GOMAXPROCS 1 retires P 1 (the
 *                           cache back to the pool); P 0 makes channels
 *                           until one gets that slot, which must carry a
 *                           new handle.  Exits 0.
 * Death modes ("fatal error: gort: use of a freed channel" / "timer"):
 *   handle_cache stale_chan   reuse, then a send on the freed channel's
 *                             handle: its slot now holds a live channel
 *                             made by another P, which must not get the value
 *   handle_cache stale_timer  the same with a timer, then a Stop on the
 *                             freed timer's handle
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "harness.h"

/* handle.c: objects of a kind alive now (the world stopped to count); and
 * the P the calling goroutine runs on (runtime2.h's getm()->p->id, asked
 * through a function so that the test needs no internal header). */
int64_t gort__slotpool_live(const char *what);
int32_t gort__slot_testp(void);

enum { WORKERS = 16, PER = 40, ROUNDS = 8 };

static const int procs[ROUNDS] = {1, 8, 2, 5, 3, 8, 1, 4};

typedef struct worker {
	gort_waitgroup *made, *done;
	gort_chan *release; /* closed when main has counted */
	int id;
} worker;

static void churn_worker(void *arg)
{
	worker *w = arg;
	gort_chan *chans[PER];
	gort_timer *timers[PER];
	for (int i = 0; i < PER; i++) {
		chans[i] = gort_chan_make(sizeof(int), (size_t)(i % 3));
		timers[i] = gort_timer_new(3600 * GORT_SECOND);
		if (i % 7 == w->id % 7)
			gort_gosched(); /* maybe onto another P */
	}
	gort_waitgroup_done(w->made);
	CHECK(!gort_chan_recv(w->release, NULL), "release is only closed");
	for (int i = 0; i < PER; i++) {
		int j = (i * 17 + w->id) % PER; /* 17 is prime to 40: each once */
		gort_chan_free(chans[j]);
		gort_timer_stop(timers[PER - 1 - j]);
		gort_timer_free(timers[PER - 1 - j]);
		if (i % 5 == w->id % 5)
			gort_gosched();
	}
	gort_waitgroup_done(w->done);
}

static void churn(void)
{
	/* Make sure both pools exist, then take the baseline. */
	gort_timer_free(gort_timer_new(GORT_SECOND));
	int64_t chans0 = gort__slotpool_live("channel"), timers0 = gort__slotpool_live("timer");
	CHECK(chans0 >= 0 && timers0 >= 0, "no pools after a make: %lld %lld", (long long)chans0,
	      (long long)timers0);

	for (int r = 0; r < ROUNDS; r++) {
		gort_waitgroup made = GORT_WAITGROUP_INIT, done = GORT_WAITGROUP_INIT;
		gort_chan *release = gort_chan_make(0, 0);
		gort_waitgroup_add(&made, WORKERS);
		gort_waitgroup_add(&done, WORKERS);
		for (int i = 0; i < WORKERS; i++)
			gort_go_with(churn_worker, worker, .made = &made, .done = &done, .release = release,
			             .id = i + r);
		gort_gomaxprocs(procs[r]); /* while the workers make */
		gort_waitgroup_wait(&made);
		int64_t c = gort__slotpool_live("channel"), t = gort__slotpool_live("timer");
		CHECK(c == chans0 + 1 + 2 * WORKERS * PER, "round %d: %lld channels alive, want %lld", r,
		      (long long)c, (long long)(chans0 + 1 + 2 * WORKERS * PER));
		CHECK(t == timers0 + WORKERS * PER, "round %d: %lld timers alive, want %lld", r, (long long)t,
		      (long long)(timers0 + WORKERS * PER));
		gort_gomaxprocs(procs[(r + 3) % ROUNDS]); /* and while they free */
		gort_chan_close(release);
		gort_waitgroup_wait(&done);
		gort_chan_free(release);
		c = gort__slotpool_live("channel");
		t = gort__slotpool_live("timer");
		CHECK(c == chans0 && t == timers0, "round %d: after the frees %lld channels, %lld timers alive, "
		      "want %lld and %lld", r, (long long)c, (long long)t, (long long)chans0, (long long)timers0);
	}
}

/* ---- reuse of a slot freed on another P -------------------------------------- */

typedef struct onp1 {
	_Atomic bool claimed;
	bool timer;          /* a timer, else a channel */
	void *freed;         /* its handle, freed on P 1 */
	gort_waitgroup wg;
} onp1;

static void try_p1(void *arg)
{
	onp1 *o = arg;
	for (int i = 0; i < 100 && !atomic_load(&o->claimed); i++) {
		if (gort__slot_testp() == 1 && !atomic_exchange(&o->claimed, true)) {
			/* make and free with no scheduling point between: all on P 1 */
			if (o->timer) {
				gort_timer *t = gort_timer_new(3600 * GORT_SECOND);
				gort_timer_stop(t);
				gort_timer_free(t);
				o->freed = t;
			} else {
				gort_chan *c = gort_chan_make(sizeof(int), 1);
				gort_chan_free(c);
				o->freed = c;
			}
			CHECK(gort__slot_testp() == 1, "moved off P 1 inside make and free");
			break;
		}
		gort_gosched();
	}
	gort_waitgroup_done(&o->wg);
}

static uintptr_t slotaddr(const void *h)
{
	return (uintptr_t)h & UINT64_C(0x0000ffffffffffc0); /* handle.h's HANDLE_ADDR_MASK */
}

/* reuse: a handle freed on P 1, whose slot a make on P 0 has taken again
 * (the live object is returned in *live, a channel or a timer). */
static void *reuse(bool timer, void **live)
{
	static onp1 o;
	gort_gomaxprocs(2);
	/* P 1 runs a goroutine only once its M gets a CPU: on a loaded machine
	 * that can take longer than a thousand tries of P 0 */
	int64_t deadline = gort_nanotime() + 30 * GORT_SECOND;
	for (int attempt = 0; !atomic_load(&o.claimed); attempt++) {
		CHECK(gort_nanotime() < deadline, "no goroutine ran on P 1 in 30 s (%d tries)", attempt);
		o.timer = timer;
		o.wg = (gort_waitgroup)GORT_WAITGROUP_INIT;
		gort_waitgroup_add(&o.wg, 8);
		for (int i = 0; i < 8; i++)
			gort_go(try_p1, &o);
		gort_waitgroup_wait(&o.wg);
	}
	gort_gomaxprocs(1); /* P 1 retired: its cache back to the pool */
	CHECK(gort__slot_testp() == 0, "GOMAXPROCS=1 but running on P %d", gort__slot_testp());
	for (int i = 0; i < 100000; i++) {
		void *h = timer ? (void *)gort_timer_new(3600 * GORT_SECOND) : (void *)gort_chan_make(sizeof(int), 1);
		if (slotaddr(h) == slotaddr(o.freed)) {
			CHECK(h != o.freed, "a reused slot gave the freed handle again");
			*live = h;
			return o.freed;
		}
		/* kept: a freed one would come straight back from P 0's cache */
	}
	CHECK(false, "the slot freed on P 1 never came back in 100000 makes");
	return NULL;
}

static int test_main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "churn";
	if (strcmp(mode, "churn") == 0) {
		churn();
	} else if (strcmp(mode, "reuse") == 0) {
		void *live;
		reuse(false, &live);
		int v = 7;
		gort_chan_send(live, &v);
		CHECK(gort_chan_len(live) == 1, "the live channel in the slot does not work");
	} else if (strcmp(mode, "stale_chan") == 0) {
		void *live;
		gort_chan *stale = reuse(false, &live);
		int v = 1;
		gort_chan_send(stale, &v);
		CHECK(false, "a send on a freed channel returned (live channel's len %d)", gort_chan_len(live));
	} else if (strcmp(mode, "stale_timer") == 0) {
		void *live;
		gort_timer *stale = reuse(true, &live);
		gort_timer_stop(stale);
		CHECK(false, "a Stop of a freed timer returned");
	} else {
		CHECK(false, "unknown mode %s", mode);
	}
	return test_pass(mode);
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
