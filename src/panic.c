/*
 * panic.c - how the runtime dies (Go's panic.go: fatal, throw).
 *
 * fatal is for a user's error the runtime cannot recover from (deadlock,
 * misuse of the API); throw is for a broken runtime invariant.  Both print
 * Go's "fatal error: " line, then the failing goroutine and every other one,
 * and exit with status 2.  fatal first flushes stdio, so output the program printed
 * before the error is not lost; throw touches nothing that the failing code
 * might hold.
 */
#include <stdatomic.h>
#include <stdio.h>

#include "runtime2.h"

static _Atomic int dying;

static void dopanic(const char *msg)
{
	/* A second failure while printing the first must not recurse. */
	if (atomic_fetch_add(&dying, 1) != 0) {
		gort__printf("fatal error: %s\npanic during panic\n", msg);
		gort__exit(2);
	}
	gort__printf("fatal error: %s\n", msg);
	G *gp = gort__getg();
	bool user = gp != NULL && gp->m != NULL && gp != &gp->m->g0;
	gort__printgoroutines(user ? gp : NULL);
}

void gort__throw(const char *msg)
{
	dopanic(msg);
	gort__exit(2);
}

/*
 * panic: Go's panic with a plain message ("send on closed channel", ...).
 * Every runtime panic comes here.  Until defer and recover exist it cannot
 * be recovered: Go's report for an unrecovered panic, then exit 2.
 * GOTRACEBACK=single: only the panicking goroutine.
 */
void gort__panic(const char *msg)
{
	fflush(NULL);
	if (atomic_fetch_add(&dying, 1) != 0) {
		gort__printf("panic: %s\npanic during panic\n", msg);
		gort__exit(2);
	}
	gort__printf("panic: %s\n", msg);
	G *gp = gort__getg();
	if (gp != NULL && gp->m != NULL && gp != &gp->m->g0) {
		gort__printf("\n");
		gort__goroutineheader(gp);
	}
	gort__exit(2);
}

void gort__fatal(const char *msg)
{
	fflush(NULL);
	dopanic(msg);
	gort__exit(2);
}
