/*
 * chan_nonblock - non-blocking operations racing with blocking ones on the
 * same channel (Go's TestNonblockRecvRace and friends, with exact counts).
 * For buffer sizes 0, 1 and 4, on one channel at once:
 *   2 blocking senders      gort_chan_send, 2000 distinct values each
 *   2 non-blocking senders  gort_chan_trysend until it succeeds, 2000 each
 *   2 blocking receivers    gort_chan_recv until the channel is closed
 *   2 non-blocking receivers gort_chan_tryrecv until it reports closed
 * Main closes the channel once all senders are done.  Every value must be
 * received exactly once, and each successful trysend/tryrecv must have moved
 * exactly one value (a failed one none).  A non-blocking goroutine yields
 * after each failure; the loops are bounded.
 */
#define _GNU_SOURCE
#include "harness.h"

#define PER 2000
#define PAIRS 2
#define TOTAL (2 * PAIRS * PER)
#define MAX_FAILURES 100000000L

static gort_chan *ch;
static atomic_int seen[TOTAL];
static atomic_long nrecv, try_sent, try_failures;
static gort_waitgroup senders, receivers;

static void blocking_sender(void *arg)
{
	long base = (long)(intptr_t)arg;
	for (long i = 0; i < PER; i++) {
		long v = base + i;
		gort_chan_send(ch, &v);
	}
	gort_waitgroup_done(&senders);
}

static void trying_sender(void *arg)
{
	long base = (long)(intptr_t)arg, failures = 0;
	for (long i = 0; i < PER; i++) {
		long v = base + i;
		while (!gort_chan_trysend(ch, &v)) {
			CHECK(++failures < MAX_FAILURES, "trysend failed %ld times", failures);
			gort_gosched();
		}
		atomic_fetch_add(&try_sent, 1);
	}
	atomic_fetch_add(&try_failures, failures);
	gort_waitgroup_done(&senders);
}

static void took(long v)
{
	CHECK(v >= 0 && v < TOTAL, "received %ld, out of range", v);
	atomic_fetch_add(&seen[v], 1);
	atomic_fetch_add(&nrecv, 1);
}

static void blocking_receiver(void *arg)
{
	long v;
	while (gort_chan_recv(ch, &v))
		took(v);
	gort_waitgroup_done(&receivers);
}

static void trying_receiver(void *arg)
{
	long failures = 0;
	for (;;) {
		long v = -1;
		bool ok = false;
		if (!gort_chan_tryrecv(ch, &v, &ok)) {
			CHECK(v == -1, "a failed tryrecv wrote the element (%ld)", v);
			CHECK(++failures < MAX_FAILURES, "tryrecv failed %ld times", failures);
			gort_gosched();
			continue;
		}
		if (!ok) {
			CHECK(v == 0, "tryrecv from a closed channel gave %ld, want 0", v);
			break;
		}
		took(v);
	}
	atomic_fetch_add(&try_failures, failures);
	gort_waitgroup_done(&receivers);
}

static void run(size_t cap)
{
	ch = gort_chan_make(sizeof(long), cap);
	for (int i = 0; i < TOTAL; i++)
		atomic_store(&seen[i], 0);
	atomic_store(&nrecv, 0);
	atomic_store(&try_sent, 0);
	gort_waitgroup_add(&senders, 2 * PAIRS);
	gort_waitgroup_add(&receivers, 2 * PAIRS);
	long base = 0;
	for (int i = 0; i < PAIRS; i++) {
		gort_go(trying_receiver, NULL);
		gort_go(blocking_sender, (void *)(intptr_t)base);
		base += PER;
		gort_go(blocking_receiver, NULL);
		gort_go(trying_sender, (void *)(intptr_t)base);
		base += PER;
	}
	gort_waitgroup_wait(&senders);
	gort_chan_close(ch);
	gort_waitgroup_wait(&receivers);

	CHECK(atomic_load(&try_sent) == PAIRS * PER, "cap %zu: %ld successful trysends, want %d", cap,
	      atomic_load(&try_sent), PAIRS * PER);
	CHECK(atomic_load(&nrecv) == TOTAL, "cap %zu: %ld values received, want %d", cap,
	      atomic_load(&nrecv), TOTAL);
	for (int i = 0; i < TOTAL; i++)
		CHECK(atomic_load(&seen[i]) == 1, "cap %zu: value %d received %d times", cap, i,
		      atomic_load(&seen[i]));
	gort_chan_free(ch);
}

static int test_main(int argc, char **argv)
{
	run(0);
	run(1);
	run(4);
	return test_pass("chan_nonblock");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
