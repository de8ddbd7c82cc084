/*
 * die_gc - misuse of the heap that must die with Go's messages, exit 2:
 *
 *   final_nil          gort_set_finalizer(NULL, f)
 *   final_stack        ... on a stack variable (not in the heap)
 *   final_malloc       ... on memory from malloc
 *   final_interior     ... on a pointer into the middle of an object
 *   final_twice        ... twice on one object
 *   new_array_huge     gort_new_array overflowing: Go's makeslice panic
 *   new_in_syscall     gort_new between gort_entersyscall and gort_exitsyscall
 *   gomemlimit_bad     GOMEMLIMIT=12XB: Go's fatal error at start-up
 *   deadlock_fing      main blocks for ever on a channel after setting a
 *                      finalizer: the finalizer goroutine, waiting, does not
 *                      hide the deadlock (Go's)
 *   goexit_fing        main calls gort_goexit with the finalizer goroutine
 *                      waiting: Go's "no goroutines" deadlock, not "asleep"
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "../harness.h"

static void fin(void *p)
{
	(void)p;
}

static int test_main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	if (strcmp(mode, "final_nil") == 0) {
		gort_set_finalizer(NULL, fin);
	} else if (strcmp(mode, "final_stack") == 0) {
		int x;
		gort_set_finalizer(&x, fin);
	} else if (strcmp(mode, "final_malloc") == 0) {
		gort_set_finalizer(malloc(64), fin);
	} else if (strcmp(mode, "final_interior") == 0) {
		char *p = gort_new(64);
		gort_set_finalizer(p + 8, fin);
	} else if (strcmp(mode, "final_twice") == 0) {
		void *p = gort_new(64);
		gort_set_finalizer(p, fin);
		gort_set_finalizer(p, fin);
	} else if (strcmp(mode, "new_array_huge") == 0) {
		gort_new_array(SIZE_MAX / 4, 8);
	} else if (strcmp(mode, "new_in_syscall") == 0) {
		gort_entersyscall();
		gort_new(8);
		gort_exitsyscall();
	} else if (strcmp(mode, "deadlock_fing") == 0 || strcmp(mode, "goexit_fing") == 0) {
		gort_set_finalizer(gort_new(16), fin);
		for (int i = 0; i < 10; i++)
			gort_gosched(); /* let the finalizer goroutine start and park */
		if (mode[0] == 'g')
			gort_goexit();
		gort_chan *c = gort_chan_make(sizeof(int), 0);
		int v;
		gort_chan_recv(c, &v);
	} else if (strcmp(mode, "gomemlimit_bad") == 0) {
		/* dies before main runs */
	}
	fprintf(stderr, "die_gc %s: did not die\n", mode);
	return 1;
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
