/*
 * dump_header - the goroutine header of dumps, with a fake clock:
 * gort__goroutineheader_at(gp, now) on hand-made Gs, its output caught by
 * pointing stderr at a file.  ", N minutes" appears for a waiting goroutine
 * or one in a system call that has been so for a whole minute or more (Go
 * prints "1 minutes" too); ", locked to thread" when it is.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "runtime2.h"

#define MIN ((int64_t)60 * 1000000000)

static char *header(G *gp, int64_t now)
{
	static char buf[256];
	FILE *f = tmpfile();
	CHECK(f != NULL, "tmpfile");
	int saved = dup(2);
	dup2(fileno(f), 2);
	gort__goroutineheader_at(gp, now);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void expect(G *gp, int64_t now, const char *want)
{
	const char *got = header(gp, now);
	CHECK(strcmp(got, want) == 0, "got %s want %s", got, want);
}

int main(void)
{
	static G g;
	static M m;
	const int64_t t0 = 1000 * MIN; /* parked at t0 */
	g.goid = 7;
	g.waitsince = t0;
	atomic_store(&g.atomicstatus, Gwaiting);
	g.waitreason = waitReasonChanReceive;

	expect(&g, t0, "goroutine 7 [chan receive]:\n");
	expect(&g, t0 + MIN - 1, "goroutine 7 [chan receive]:\n");
	expect(&g, t0 + MIN, "goroutine 7 [chan receive, 1 minutes]:\n");
	expect(&g, t0 + 2 * MIN - 1, "goroutine 7 [chan receive, 1 minutes]:\n");
	expect(&g, t0 + 125 * MIN + 59, "goroutine 7 [chan receive, 125 minutes]:\n");
	expect(&g, t0 + 10000 * MIN, "goroutine 7 [chan receive, 10000 minutes]:\n");
	expect(&g, t0 - MIN, "goroutine 7 [chan receive]:\n"); /* clock behind: nothing */

	g.lockedm = &m;
	g.waitreason = waitReasonSleep;
	expect(&g, t0 + 2 * MIN, "goroutine 7 [sleep, 2 minutes, locked to thread]:\n");
	expect(&g, t0, "goroutine 7 [sleep, locked to thread]:\n");
	g.lockedm = NULL;

	atomic_store(&g.atomicstatus, Gsyscall);
	expect(&g, t0 + 3 * MIN, "goroutine 7 [syscall, 3 minutes]:\n");

	/* no wait duration for goroutines that are not waiting */
	atomic_store(&g.atomicstatus, Grunning);
	expect(&g, t0 + 3 * MIN, "goroutine 7 [running]:\n");
	atomic_store(&g.atomicstatus, Grunnable);
	expect(&g, t0 + 3 * MIN, "goroutine 7 [runnable]:\n");

	/* never stamped */
	atomic_store(&g.atomicstatus, Gwaiting);
	g.waitreason = waitReasonIOWait;
	g.waitsince = 0;
	expect(&g, t0, "goroutine 7 [IO wait]:\n");
	/* a waiting G with no reason prints "waiting" */
	g.waitreason = waitReasonZero;
	expect(&g, t0, "goroutine 7 [waiting]:\n");
	return test_pass("dump_header");
}
