/*
 * die_deadlock - every goroutine ends up blocked for good: Go's "fatal
 * error: all goroutines are asleep - deadlock!", exit status 2.
 *
 *   alone        main calls gort_block() with no other goroutine
 *   others       five goroutines are parked in gort_block(), then main too
 *   locked_main  main locks itself to its thread, then blocks (its thread
 *                sleeps as a locked idle M, which must count as idle)
 */
#define _GNU_SOURCE
#include <string.h>

#include "../harness.h"

#define OTHERS 5

static atomic_long started;

static void parked(void *arg)
{
	test_done(&started);
	gort_block();
}

static int test_main(int argc, char **argv)
{
	CHECK(argc == 2, "usage: die_deadlock alone|others|locked_main");
	if (strcmp(argv[1], "others") == 0) {
		for (int i = 0; i < OTHERS; i++)
			gort_go(parked, NULL);
		test_wait(&started, OTHERS, "the goroutines to start");
	} else if (strcmp(argv[1], "locked_main") == 0) {
		gort_lock_os_thread();
	} else {
		CHECK(strcmp(argv[1], "alone") == 0, "unknown mode %s", argv[1]);
	}
	gort_block();
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
