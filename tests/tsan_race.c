/*
 * tsan_race - ThreadSanitizer sees a race between two goroutines, and no
 * race where gort orders them (built and run in the TSan build only:
 * tests/tsan_check.sh runs it and reads TSan's report).
 *
 *   race       racer_a and racer_b write the plain int `shared`, with
 *              nothing between the writes: TSan must report a data race
 *              whose two stacks are those two functions.  The goroutines
 *              meet first (two relaxed atomic counters, which order
 *              nothing for TSan), so that both run at once on the two Ps:
 *              one goroutine switching to the next on an M is ordered for
 *              TSan (src/tsan.h), two running at once are not.
 *   chan       the same two writes with an unbuffered channel between
 *              them: racer_a writes, then sends; racer_b receives, then
 *              writes.  No report.
 *   chanbuf    the same with a buffered channel.
 *   close      racer_a writes, then closes the channel racer_b receives
 *              from.
 *   mutex      each writes under one gort_mutex (in either order).
 *   waitgroup  racer_b waits on a WaitGroup racer_a Done's after writing.
 *
 * In every mode the program itself succeeds ("PASS tsan_race <mode>"); the
 * verdict is TSan's: its report on stderr, and its exit code 66.
 */
#define _GNU_SOURCE
#include <string.h>

#include "harness.h"

static int shared; /* the plain int both goroutines write */
static int written_by_a, written_by_b;

static const char *mode;
static atomic_int arrived;
static gort_chan *ch;
static gort_mutex mu = GORT_MUTEX_INIT;
static gort_waitgroup wg = GORT_WAITGROUP_INIT;
static gort_waitgroup joined = GORT_WAITGROUP_INIT;

/* meet: both goroutines running, on two Ms (relaxed: no happens-before). */
static void meet(void)
{
	atomic_fetch_add_explicit(&arrived, 1, memory_order_relaxed);
	while (atomic_load_explicit(&arrived, memory_order_relaxed) < 2)
		;
}

static __attribute__((noinline)) void write_shared(int v, int *mine)
{
	shared = v;
	*mine = v;
}

static __attribute__((noinline)) void racer_a(void *arg)
{
	meet();
	if (strcmp(mode, "mutex") == 0)
		gort_mutex_lock(&mu);
	write_shared(1, &written_by_a);
	if (strcmp(mode, "chan") == 0 || strcmp(mode, "chanbuf") == 0) {
		int v = 1;
		gort_chan_send(ch, &v);
	} else if (strcmp(mode, "close") == 0) {
		gort_chan_close(ch);
	} else if (strcmp(mode, "mutex") == 0) {
		gort_mutex_unlock(&mu);
	} else if (strcmp(mode, "waitgroup") == 0) {
		gort_waitgroup_done(&wg);
	}
	gort_waitgroup_done(&joined);
}

static __attribute__((noinline)) void racer_b(void *arg)
{
	meet();
	if (strcmp(mode, "chan") == 0 || strcmp(mode, "chanbuf") == 0 || strcmp(mode, "close") == 0) {
		int v = 0;
		gort_chan_recv(ch, &v);
	} else if (strcmp(mode, "mutex") == 0) {
		gort_mutex_lock(&mu);
	} else if (strcmp(mode, "waitgroup") == 0) {
		gort_waitgroup_wait(&wg);
	}
	write_shared(2, &written_by_b);
	if (strcmp(mode, "mutex") == 0)
		gort_mutex_unlock(&mu);
	gort_waitgroup_done(&joined);
}

static int test_main(int argc, char **argv)
{
	CHECK(argc == 2, "usage: tsan_race race|chan|chanbuf|close|mutex|waitgroup");
	mode = argv[1];
	CHECK(gort_gomaxprocs(0) >= 2, "needs GOMAXPROCS >= 2: the racers meet on two Ps");
	ch = gort_chan_make(sizeof(int), strcmp(mode, "chanbuf") == 0 ? 1 : 0);
	gort_waitgroup_add(&wg, 1);
	gort_waitgroup_add(&joined, 2);
	gort_go(racer_a, NULL);
	gort_go(racer_b, NULL);
	gort_waitgroup_wait(&joined);
	CHECK(written_by_a == 1 && written_by_b == 2, "the racers wrote %d and %d", written_by_a,
	      written_by_b);
	if (strcmp(mode, "race") != 0 && strcmp(mode, "mutex") != 0) /* those two: either order */
		CHECK(shared == 2, "racer_b wrote last, yet shared is %d", shared);
	printf("PASS tsan_race %s\n", mode);
	return 0;
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
