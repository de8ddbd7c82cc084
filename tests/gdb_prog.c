/*
 * gdb_prog - goroutines blocked in known places, for the debugger tests
 * (tests/gdb_check.py, tests/peek_check.py):
 *
 *     goroutine  function       state
 *     1          main_fn        chan receive (wait) / running (crash)
 *     next 3     gdb_recv       chan receive   on ch, which nobody sends to
 *     next 2     gdb_send       chan send      on full (cap 1, full)
 *     next 1     gdb_lock       sync.Mutex.Lock
 *     next 1     gdb_sleep      sleep
 *     next 1     gdb_select     select
 *     next 1     gdb_syscall    syscall        a read(2) of a pipe nobody writes
 *
 *     gdb_prog wait     main blocks in gdb_wait: receives on a channel
 *                       forever; once every goroutine is blocked (it reads
 *                       its own dump with gort_stack until it is so), one
 *                       more prints "READY <pid>" on stdout and exits
 *     gdb_prog crash    once the others are blocked, main prints READY and
 *                       dereferences NULL in gdb_crash: with
 *                       GOTRACEBACK=crash, a SIGABRT and a core (the limit
 *                       is raised here; the core goes where the caller's
 *                       core_pattern puts it)
 *     gdb_prog spin     once the others are blocked, main prints READY and
 *                       spins in gdb_spin for ever: goroutine 1 is running
 *
 * Built with -fno-optimize-sibling-calls (tests/CMakeLists.txt), so that
 * every function here keeps its frame.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "harness.h"

static gort_chan *ch, *full, *never;
static gort_mutex mu = GORT_MUTEX_INIT;
static int *volatile nilp; /* NULL, unknown to the compiler */

__attribute__((noinline)) static void gdb_recv(void *arg) { gort_chan_recv(ch, NULL); }
__attribute__((noinline)) static void gdb_send(void *arg)
{
	int v = 2;
	gort_chan_send(full, &v);
}
__attribute__((noinline)) static void gdb_lock(void *arg) { gort_mutex_lock(&mu); }
__attribute__((noinline)) static void gdb_sleep(void *arg) { gort_sleep(24 * 3600 * GORT_SECOND); }
__attribute__((noinline)) static void gdb_select(void *arg)
{
	int v;
	GORT_SELECT(GORT_CASE_RECV(ch, &v, NULL), GORT_CASE_RECV(never, &v, NULL));
}

static int syspipe[2];
__attribute__((noinline)) static void gdb_syscall(void *arg)
{
	char c;
	GORT_SYSCALL(read(syspipe[0], &c, 1));
}

static int count(const char *s, const char *sub)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, sub)) != NULL; p += strlen(sub))
		n++;
	return n;
}

/* all_blocked: the dump of every goroutine shows each of them blocked
 * (nrecv in chan receive: main's too, in wait mode). */
static bool all_blocked(int nrecv)
{
	static char buf[1 << 16];
	int n = gort_stack(buf, sizeof buf - 1, true);
	buf[n < (int)sizeof buf - 1 ? n : (int)sizeof buf - 1] = '\0';
	return count(buf, "[chan receive") == nrecv && count(buf, "[chan send") == 2 &&
	       count(buf, "[sync.Mutex.Lock") == 1 && count(buf, "[sleep") == 1 &&
	       count(buf, "[select") == 1 && count(buf, "[syscall") == 1;
}

__attribute__((noinline)) static void gdb_wait(void) { gort_chan_recv(never, NULL); }

static void ready(void)
{
	printf("READY %d\n", (int)getpid());
	fflush(stdout);
}

/* gdb_ready: wait mode's READY, once main is blocked too; then it exits.
 * (The caller waits until the process is quiet, every thread asleep, so
 * that this goroutine is gone from the dumps.) */
static void gdb_ready(void *arg)
{
	while (!all_blocked(4))
		gort_sleep(GORT_MILLISECOND);
	ready();
}

/* (no UBSan here: the sanitized build must fault, not report the store) */
__attribute__((noinline, no_sanitize("undefined"))) static void gdb_crash(void)
{
	struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
	setrlimit(RLIMIT_CORE, &rl);
	*nilp = 1;
}

__attribute__((noinline)) static void gdb_spin(void)
{
	static volatile uint64_t n;
	for (;;)
		n++;
}

static int main_fn(int argc, char **argv)
{
	bool crash = argc > 1 && strcmp(argv[1], "crash") == 0;
	bool spin = argc > 1 && strcmp(argv[1], "spin") == 0;
	CHECK(argc > 1 && (crash || spin || strcmp(argv[1], "wait") == 0), "usage: gdb_prog wait|crash|spin");
	ch = gort_chan_make(sizeof(int), 0);
	full = gort_chan_make(sizeof(int), 1);
	never = gort_chan_make(sizeof(int), 0);
	int v = 1;
	gort_chan_send(full, &v);
	gort_mutex_lock(&mu);
	for (int i = 0; i < 3; i++)
		gort_go(gdb_recv, NULL);
	for (int i = 0; i < 2; i++)
		gort_go(gdb_send, NULL);
	gort_go(gdb_lock, NULL);
	gort_go(gdb_sleep, NULL);
	gort_go(gdb_select, NULL);
	CHECK(pipe(syspipe) == 0, "pipe");
	gort_go(gdb_syscall, NULL);
	if (crash || spin) {
		while (!all_blocked(3))
			gort_sleep(GORT_MILLISECOND);
		ready();
		if (crash)
			gdb_crash();
		gdb_spin();
	}
	gort_go(gdb_ready, NULL);
	gdb_wait();
	return 0;
}

int main(int argc, char **argv)
{
	gort_main(main_fn, argc, argv);
}
