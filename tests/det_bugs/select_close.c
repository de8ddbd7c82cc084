/*
 * select_close.c - a select that misses a close.
 *
 * The worker serves jobs until quit is closed, in one select.  main hands
 * it jobs one at a time (each acknowledged), then a last one, and closes
 * quit at once.  If the last job is still in the buffer when quit closes,
 * both cases are ready and select picks either: picking quit drops the
 * job.  Normally the worker is back in its select, parked, when the last
 * job comes, and takes it straight from the sender.  Fix: drain jobs
 * before returning on quit (or close jobs itself instead of a quit).
 */
#include "bug.h"

enum { JOBS = 4 };

static gort_chan *jobs, *acks, *quit, *finished;
static int served;

static void worker(void *arg)
{
	for (;;) {
		int j;
		bool ok;
		switch (GORT_SELECT(GORT_CASE_RECV(jobs, &j, &ok), GORT_CASE_RECV(quit, NULL, NULL))) {
		case 0:
			served++;
			if (j < JOBS)
				gort_chan_send(acks, &j);
			break;
		case 1: /* BUG: jobs may still hold one */
			gort_chan_close(finished);
			return;
		}
	}
}

static void body(void)
{
	jobs = gort_chan_make(sizeof(int), 1);
	acks = gort_chan_make(sizeof(int), 0);
	quit = gort_chan_make(0, 0);
	finished = gort_chan_make(0, 0);
	gort_go(worker, NULL);
	for (int j = 1; j < JOBS; j++) {
		int a;
		gort_chan_send(jobs, &j);
		gort_chan_recv(acks, &a);
	}
	int last = JOBS;
	gort_chan_send(jobs, &last);
	gort_chan_close(quit);
	gort_chan_recv(finished, NULL);
	if (served != JOBS) {
		char msg[64];
		snprintf(msg, sizeof msg, "a job was dropped: served %d of %d", served, JOBS);
		found(msg);
	}
}

BUG_MAIN(body)
