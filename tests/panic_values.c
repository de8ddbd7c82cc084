/*
 * panic_values - the runtime's own panics carry Go's value and type, as a
 * program that recovers and inspects them sees (gort_recover_typed):
 *
 *   runtime.Error    send on closed channel, close of nil channel, close of
 *                    closed channel, makechan: size out of range, and
 *                    panic(nil) ("panic called with nil argument", Go 1.21)
 *   string           the sync package's: "sync: negative WaitGroup counter",
 *                    and Ticker.Reset's "non-positive interval for
 *                    Ticker.Reset" (Go panics with plain strings there)
 *   error            NewTicker's errors.New("non-positive interval for
 *                    NewTicker") (*errors.errorString)
 */
#define _GNU_SOURCE
#include <string.h>

#include "harness.h"


/* run calls fn(arg) and returns the panic it raised, recovered. */
static test_caught run(void (*fn)(void *), void *arg)
{
	test_caught c = {NULL, NULL};
	test_caught *volatile cp = &c;
	GORT_FRAME(return *cp);
	gort_defer(test_catch_typed, cp);
	fn(arg);
	return c;
}

/* Objects a panic keeps us from freeing stay reachable here (LeakSanitizer). */
static gort_chan *closed_chan, *closed_twice;
static gort_timer *reset_ticker;

static void send_closed(void *arg)
{
	closed_chan = gort_chan_make(sizeof(int), 1);
	gort_chan_close(closed_chan);
	int v = 1;
	gort_chan_send(closed_chan, &v);
}
static void close_nil(void *arg) { gort_chan_close(NULL); }
static void close_closed(void *arg)
{
	closed_twice = gort_chan_make(sizeof(int), 0);
	gort_chan_close(closed_twice);
	gort_chan_close(closed_twice);
}
static void makechan_huge(void *arg) { gort_chan_make(8, (size_t)1 << 62); }
static void panic_nil(void *arg) { gort_panic(NULL); }
static void wg_negative(void *arg)
{
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	gort_waitgroup_add(&wg, -1);
}
static void ticker_zero(void *arg) { gort_ticker_new(0); }
static void ticker_reset_zero(void *arg)
{
	reset_ticker = gort_ticker_new(GORT_SECOND);
	gort_ticker_reset(reset_ticker, 0);
}

static void expect(const char *name, void (*fn)(void *), const gort_panic_type *type,
                   const char *value)
{
	test_caught c = run(fn, NULL);
	CHECK(c.value != NULL, "%s: no panic", name);
	CHECK(c.type == type, "%s: panic value of type %s, want %s", name,
	      c.type ? c.type->name : "(none)", type->name);
	CHECK(strcmp(c.value, value) == 0, "%s: panic value \"%s\", want \"%s\"", name, c.value, value);
}

static int test_main(int argc, char **argv)
{
	expect("send on closed", send_closed, &gort_runtime_error_type, "send on closed channel");
	expect("close of nil", close_nil, &gort_runtime_error_type, "close of nil channel");
	expect("close of closed", close_closed, &gort_runtime_error_type, "close of closed channel");
	expect("makechan", makechan_huge, &gort_runtime_error_type, "makechan: size out of range");
	expect("panic(nil)", panic_nil, &gort_runtime_error_type, "panic called with nil argument");
	expect("WaitGroup", wg_negative, &gort_string_type, "sync: negative WaitGroup counter");
	expect("NewTicker", ticker_zero, &gort_error_type, "non-positive interval for NewTicker");
	expect("Ticker.Reset", ticker_reset_zero, &gort_string_type,
	       "non-positive interval for Ticker.Reset");
	return test_pass("panic_values");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
