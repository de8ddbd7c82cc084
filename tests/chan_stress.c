/*
 * chan_stress - 1,000,000 messages through channels, 4 senders x 4
 * receivers, on GOMAXPROCS=2:
 *
 *   chan_stress unbuffered   one unbuffered channel
 *   chan_stress buffered     one channel with a 64-slot buffer
 *   chan_stress select       two unbuffered channels; senders and
 *                            receivers pick one by select
 *
 * Every value 0..999,999 is sent once; the receivers' count and sum must be
 * exact and every value must arrive exactly once.  Senders are joined with a
 * WaitGroup; main then closes the channel(s), and receivers stop at ok=false.
 */
#define _GNU_SOURCE
#include <string.h>

#include "harness.h"

#define MESSAGES 1000000L
#define SENDERS 4
#define RECEIVERS 4
#define PER (MESSAGES / SENDERS)

static gort_chan *c1, *c2;
static bool use_select;
static atomic_uchar seen[MESSAGES];
static atomic_long count, sum;
static gort_waitgroup senders, receivers;

static void sender(void *arg)
{
	long base = (long)(intptr_t)arg * PER;
	for (long i = 0; i < PER; i++) {
		long v = base + i;
		if (use_select)
			GORT_SELECT(GORT_CASE_SEND(c1, &v), GORT_CASE_SEND(c2, &v));
		else
			gort_chan_send(c1, &v);
	}
	gort_waitgroup_done(&senders);
}

static void receiver(void *arg)
{
	long n = 0, s = 0, v;
	if (use_select) {
		gort_chan *a = c1, *b = c2;
		while (a != NULL || b != NULL) {
			bool ok = false; /* a select's receive sets it true, as v, ok := <-c does */
			/* A closed channel is replaced by NULL, Go's idiom for
			 * switching a case off. */
			switch (GORT_SELECT(GORT_CASE_RECV(a, &v, &ok), GORT_CASE_RECV(b, &v, &ok))) {
			case 0:
				if (!ok) {
					a = NULL;
					continue;
				}
				break;
			case 1:
				if (!ok) {
					b = NULL;
					continue;
				}
				break;
			}
			CHECK(v >= 0 && v < MESSAGES, "received %ld", v);
			atomic_fetch_add_explicit(&seen[v], 1, memory_order_relaxed);
			n++;
			s += v;
		}
	} else {
		while (gort_chan_recv(c1, &v)) {
			CHECK(v >= 0 && v < MESSAGES, "received %ld", v);
			atomic_fetch_add_explicit(&seen[v], 1, memory_order_relaxed);
			n++;
			s += v;
		}
	}
	atomic_fetch_add(&count, n);
	atomic_fetch_add(&sum, s);
	gort_waitgroup_done(&receivers);
}

static int test_main(int argc, char **argv)
{
	CHECK(argc == 2, "usage: chan_stress unbuffered|buffered|select");
	if (strcmp(argv[1], "unbuffered") == 0) {
		c1 = gort_chan_make(sizeof(long), 0);
	} else if (strcmp(argv[1], "buffered") == 0) {
		c1 = gort_chan_make(sizeof(long), 64);
	} else {
		CHECK(strcmp(argv[1], "select") == 0, "unknown mode %s", argv[1]);
		use_select = true;
		c1 = gort_chan_make(sizeof(long), 0);
		c2 = gort_chan_make(sizeof(long), 0);
	}
	gort_waitgroup_add(&senders, SENDERS);
	gort_waitgroup_add(&receivers, RECEIVERS);
	for (long i = 0; i < SENDERS; i++) {
		gort_go(receiver, NULL);
		gort_go(sender, (void *)(intptr_t)i);
	}
	gort_waitgroup_wait(&senders);
	gort_chan_close(c1);
	if (c2 != NULL)
		gort_chan_close(c2);
	gort_waitgroup_wait(&receivers);

	CHECK(atomic_load(&count) == MESSAGES, "%ld messages received, want %ld", atomic_load(&count),
	      MESSAGES);
	CHECK(atomic_load(&sum) == MESSAGES * (MESSAGES - 1) / 2, "sum %ld, want %ld",
	      atomic_load(&sum), MESSAGES * (MESSAGES - 1) / 2);
	for (long i = 0; i < MESSAGES; i++)
		CHECK(atomic_load(&seen[i]) == 1, "value %ld arrived %d times", i, atomic_load(&seen[i]));
	gort_chan_free(c1);
	if (c2 != NULL)
		gort_chan_free(c2);
	printf("PASS chan_stress %s\n", argv[1]);
	return 0;
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
