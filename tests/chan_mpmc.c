/*
 * chan_mpmc - many senders and many receivers on one channel, for every
 * buffer size 0..16 (Go's TestChan / TestMultiConsumer): 4 senders each send
 * 3000 distinct values, 4 receivers take values until the channel is closed
 * and drained.  Every value must arrive exactly once (a counter per value),
 * the receivers' counts must add up, and the sum of what they took must be
 * the sum of what was sent.  Senders are joined with a WaitGroup, then main
 * closes the channel and joins the receivers with another.  Then, for each
 * size, 4 senders and a single receiver: each sender's values must arrive in
 * the order it sent them (channels are FIFO).
 */
#define _GNU_SOURCE
#include <string.h>

#include "harness.h"

#define SENDERS 4
#define RECEIVERS 4
#define PER_SENDER 3000
#define TOTAL (SENDERS * PER_SENDER)
#define MAX_CAP 16

static gort_chan *ch;
static atomic_int seen[TOTAL];
static atomic_long received_sum, received_count;
static gort_waitgroup senders_wg, receivers_wg;

static void sender(void *arg)
{
	long id = (long)(intptr_t)arg;
	for (long i = 0; i < PER_SENDER; i++) {
		long v = id * PER_SENDER + i;
		gort_chan_send(ch, &v);
	}
	gort_waitgroup_done(&senders_wg);
}

static void receiver(void *arg)
{
	long v, n = 0, sum = 0;
	for (;;) {
		v = -12345;
		if (!gort_chan_recv(ch, &v))
			break;
		CHECK(v >= 0 && v < TOTAL, "received value %ld out of range", v);
		atomic_fetch_add(&seen[v], 1);
		n++;
		sum += v;
	}
	CHECK(v == 0, "receive from a closed, drained channel left %ld, want 0", v);
	atomic_fetch_add(&received_count, n);
	atomic_fetch_add(&received_sum, sum);
	gort_waitgroup_done(&receivers_wg);
}

static void run(size_t cap)
{
	ch = gort_chan_make(sizeof(long), cap);
	CHECK(ch != NULL, "gort_chan_make");
	CHECK(gort_chan_cap(ch) == (int)cap, "cap=%d want %zu", gort_chan_cap(ch), cap);
	for (int i = 0; i < TOTAL; i++)
		atomic_store(&seen[i], 0);
	atomic_store(&received_sum, 0);
	atomic_store(&received_count, 0);

	gort_waitgroup_add(&senders_wg, SENDERS);
	gort_waitgroup_add(&receivers_wg, RECEIVERS);
	/* Interleave the spawns so that both sides start early. */
	for (long i = 0; i < SENDERS || i < RECEIVERS; i++) {
		if (i < RECEIVERS)
			gort_go(receiver, NULL);
		if (i < SENDERS)
			gort_go(sender, (void *)(intptr_t)i);
	}
	gort_waitgroup_wait(&senders_wg);
	gort_chan_close(ch);
	gort_waitgroup_wait(&receivers_wg);

	CHECK(atomic_load(&received_count) == TOTAL, "cap %zu: received %ld values, sent %d", cap,
	      atomic_load(&received_count), TOTAL);
	for (int i = 0; i < TOTAL; i++)
		CHECK(atomic_load(&seen[i]) == 1, "cap %zu: value %d arrived %d times", cap, i,
		      atomic_load(&seen[i]));
	long want = (long)TOTAL * (TOTAL - 1) / 2;
	CHECK(atomic_load(&received_sum) == want, "cap %zu: sum %ld want %ld", cap,
	      atomic_load(&received_sum), want);
	CHECK(gort_chan_len(ch) == 0, "cap %zu: len %d after draining", cap, gort_chan_len(ch));
	gort_chan_free(ch);
}

static void fifo_sender(void *arg)
{
	long id = (long)(intptr_t)arg;
	for (long i = 0; i < PER_SENDER; i++) {
		long v = id * PER_SENDER + i;
		if (i % 2 == 0) {
			gort_chan_send(ch, &v);
		} else {
			gort_case sc[] = {GORT_CASE_SEND(ch, &v)};
			CHECK(gort_select(sc, 1, true) == 0, "select send");
		}
	}
	gort_waitgroup_done(&senders_wg);
}

static void run_fifo(size_t cap)
{
	ch = gort_chan_make(sizeof(long), cap);
	gort_waitgroup_add(&senders_wg, SENDERS);
	for (long i = 0; i < SENDERS; i++)
		gort_go(fifo_sender, (void *)(intptr_t)i);
	long next[SENDERS] = {0}, v;
	for (long n = 0; n < TOTAL; n++) {
		CHECK(gort_chan_recv(ch, &v), "cap %zu: receive", cap);
		long id = v / PER_SENDER;
		CHECK(id >= 0 && id < SENDERS && v % PER_SENDER == next[id],
		      "cap %zu: got %ld from sender %ld, whose next value is %ld", cap, v, id,
		      id * PER_SENDER + next[id]);
		next[id]++;
	}
	gort_waitgroup_wait(&senders_wg);
	CHECK(!gort_chan_tryrecv(ch, &v, NULL), "cap %zu: a value too many", cap);
	gort_chan_free(ch);
}

static int test_main(int argc, char **argv)
{
	for (size_t cap = 0; cap <= MAX_CAP; cap++) {
		run(cap);
		run_fifo(cap);
	}
	return test_pass("chan_mpmc");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
