/*
 * life_timer - gort_timer_stop_wait and the lifetimes of AfterFunc timers
 * (issue 17, item 1).  What the function uses is freed right after
 * stop_wait returns: under ASan, a function still running - or started
 * after - would be a use after free.
 *
 *   running        stop_wait while the function runs: it returns only
 *                  after the function has (exact counts), false (it fired)
 *   not_fired      stop_wait before the timer fires: true, and the
 *                  function never runs
 *   races          2,000 timers of 0-100 us against stop_wait at random
 *                  moments: either it never ran, or it had finished
 *   self_stop      the function calls stop_wait on its own timer: no wait
 *   self_free      the function frees its own timer: the slot is released
 *                  when it returns, and 10,000 timers made and freed after
 *                  take it again
 *   free_running   gort_timer_free while the function runs returns at
 *                  once; the function still finishes; then stop_wait-free
 *                  timers churn through the slots
 *   goexit         a function that ends with gort_goexit counts as ended
 *   channel_timer  for a Timer, stop_wait is Stop
 */
#define _GNU_SOURCE
#include <stdint.h>

#include "harness.h"

#define US GORT_MICROSECOND
#define MS GORT_MILLISECOND

typedef struct state {
	atomic_long started, finished;
	gort_chan *release;  /* receive from it before finishing, if not NULL */
	gort_timer *self;
	int how;             /* 0: plain; 1: stop_wait self; 2: free self; 3: goexit */
	bool self_pending;
	long payload[64];    /* written by the function, freed by the test */
} state;

static state *state_new(void)
{
	state *s = calloc(1, sizeof *s);
	CHECK(s != NULL, "calloc");
	return s;
}

static void work(void *arg)
{
	state *s = arg;
	int how = s->how; /* s may be gone once finished is counted */
	atomic_fetch_add(&s->started, 1);
	if (s->release != NULL)
		gort_chan_recv(s->release, NULL);
	for (int i = 0; i < 64; i++)
		s->payload[i] = i;
	if (how == 1)
		s->self_pending = gort_timer_stop_wait(s->self);
	if (how == 2)
		gort_timer_free(s->self);
	atomic_fetch_add(&s->finished, 1);
	if (how == 3)
		gort_goexit();
}

/* close_later closes a channel after a while (most often while stop_wait
 * waits), then counts itself done. */
typedef struct later {
	gort_chan *c;
	int64_t after;
	gort_waitgroup *wg;
} later;

static void close_later(void *arg)
{
	later *l = arg;
	gort_sleep(l->after);
	gort_chan_close(l->c);
	gort_waitgroup_done(l->wg);
}

static void running(void)
{
	for (int k = 0; k < 50; k++) {
		state *s = state_new();
		s->release = gort_chan_make(0, 0);
		s->how = k % 2 == 0 ? 0 : 3;
		gort_timer *t = gort_afterfunc(0, work, s);
		test_wait(&s->started, 1, "the function to start");
		gort_waitgroup wg = GORT_WAITGROUP_INIT;
		gort_waitgroup_add(&wg, 1);
		later l = {.c = s->release, .after = (k % 4) * MS, .wg = &wg};
		gort_go(close_later, &l);
		CHECK(!gort_timer_stop_wait(t), "stop_wait of a fired AfterFunc returned true");
		CHECK(atomic_load(&s->finished) == 1, "stop_wait returned before the function did");
		gort_waitgroup_wait(&wg);
		gort_chan_free(s->release);
		free(s); /* what the function used: gone, and nothing touches it */
		gort_timer_free(t);
	}
}

static void not_fired(void)
{
	for (int k = 0; k < 100; k++) {
		state *s = state_new();
		gort_timer *t = gort_afterfunc(GORT_SECOND, work, s);
		CHECK(gort_timer_stop_wait(t), "stop_wait of a pending AfterFunc returned false");
		CHECK(atomic_load(&s->started) == 0, "a stopped AfterFunc ran");
		free(s);
		gort_timer_free(t);
	}
}

static void races(void)
{
	uint32_t x = 12345;
	long stopped = 0, finished = 0;
	for (int k = 0; k < 2000; k++) {
		x = x * 1103515245 + 12345;
		state *s = state_new();
		gort_timer *t = gort_afterfunc((int64_t)(x >> 16) % 100 * US, work, s);
		x = x * 1103515245 + 12345;
		for (uint32_t i = (x >> 16) % 200; i > 0; i--)
			gort_gosched();
		bool pending = gort_timer_stop_wait(t);
		if (pending) {
			CHECK(atomic_load(&s->started) == 0, "round %d: stopped in time, yet it ran", k);
			stopped++;
		} else {
			CHECK(atomic_load(&s->finished) == 1, "round %d: fired, yet not finished", k);
			finished++;
		}
		gort_timer_free(t);
		free(s);
	}
	CHECK(stopped + finished == 2000, "%ld + %ld", stopped, finished);
}

static void self_stop(void)
{
	for (int k = 0; k < 100; k++) {
		state *s = state_new();
		s->how = 1;
		s->self = gort_afterfunc(GORT_SECOND, work, s); /* set before it can fire: */
		gort_timer_reset(s->self, 0);
		test_wait(&s->finished, 1, "the function, which waits for nobody");
		CHECK(!s->self_pending, "its own stop_wait, after the firing, returned true");
		CHECK(!gort_timer_stop_wait(s->self), "stop_wait after the firing returned true");
		gort_timer_free(s->self);
		free(s);
	}
}

static void self_free(void)
{
	state *s[100];
	for (int k = 0; k < 100; k++) {
		s[k] = state_new();
		s[k]->how = 2;
		s[k]->self = gort_afterfunc(GORT_SECOND, work, s[k]);
		gort_timer_reset(s[k]->self, k % 10 * US);
	}
	for (int k = 0; k < 100; k++) {
		test_wait(&s[k]->finished, 1, "a self-freeing function");
		free(s[k]); /* the function's last touch of s was before finished */
	}
	for (int k = 0; k < 10000; k++)
		gort_timer_free(gort_afterfunc(GORT_SECOND, work, NULL));
}

static void free_running(void)
{
	for (int k = 0; k < 50; k++) {
		state *s = state_new();
		s->release = gort_chan_make(0, 0);
		gort_timer *t = gort_afterfunc(0, work, s);
		test_wait(&s->started, 1, "the function to start");
		gort_timer_free(t); /* does not wait for it */
		CHECK(atomic_load(&s->finished) == 0, "free waited for the function");
		gort_chan_close(s->release);
		test_wait(&s->finished, 1, "the function to finish");
		gort_chan_free(s->release);
		free(s);
	}
	for (int k = 0; k < 10000; k++) {
		gort_timer *t = gort_afterfunc(GORT_SECOND, work, NULL);
		CHECK(gort_timer_stop_wait(t), "a pending timer");
		gort_timer_free(t);
	}
}

static void channel_timer(void)
{
	gort_timer *t = gort_timer_new(GORT_SECOND);
	CHECK(gort_timer_stop_wait(t), "a pending Timer");
	CHECK(!gort_timer_stop_wait(t), "a stopped Timer");
	gort_timer_free(t);
	t = gort_timer_new(0);
	int64_t v;
	CHECK(gort_chan_recv(gort_timer_c(t), &v), "the Timer's value");
	CHECK(!gort_timer_stop_wait(t), "a Timer received");
	gort_timer_free(t);
}

static int test_main(int argc, char **argv)
{
	TEST_RUN(running);
	TEST_RUN(not_fired);
	TEST_RUN(races);
	TEST_RUN(self_stop);
	TEST_RUN(self_free);
	TEST_RUN(free_running);
	TEST_RUN(channel_timer);
	return test_pass("life_timer");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
