/*
 * die_main_goexit - main calls gort_goexit while three goroutines still
 * run.  They finish (each prints a line to stdout), then the program fails
 * as Go's does: "fatal error: no goroutines (main called runtime.Goexit) -
 * deadlock!", exit status 2.  stdout is a file here, so fully buffered: the
 * lines appear only because the fatal error flushes stdio first.  Nothing
 * main would print after gort_goexit appears.
 */
#define _GNU_SOURCE
#include "../harness.h"

#define WORKERS 3

/* Through a pointer not marked noreturn, so the code after the call stays. */
static void (*volatile goexit_fn)(void) = gort_goexit;

static void worker(void *arg)
{
	for (int i = 0; i < 100; i++)
		gort_gosched();
	printf("worker done\n");
}

static int test_main(int argc, char **argv)
{
	printf("main: starting %d workers\n", WORKERS);
	for (int i = 0; i < WORKERS; i++)
		gort_go(worker, NULL);
	goexit_fn();
	printf("main: after gort_goexit\n");
	return 0;
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
