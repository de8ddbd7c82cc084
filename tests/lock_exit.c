/*
 * lock_exit - proves that a goroutine that exits while locked to its thread
 * takes the thread with it, as in Go.
 *
 *   lock_exit thread   (GOMAXPROCS=2) Main locks itself to the main thread,
 *       so the others run elsewhere.  Three goroutines in turn lock (one of
 *       them twice, nested) and return; each one's thread must disappear
 *       from /proc/self/task.  (The number of threads is not a reliable
 *       measure: the exiting thread hands its P on, which may start a
 *       fresh thread in its place.  The thread's own entry is exact.)
 *   lock_exit m0       (GOMAXPROCS=1) A goroutine locks the main thread
 *       and exits.  The main thread cannot end without ending the process,
 *       so it is wedged instead; the program goes on, on another thread,
 *       and exits normally when main returns.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define ROUNDS 3
#define MAX_POLLS 200000L /* each a yield; a healthy run needs a handful */

static atomic_int exiter_tid;
static atomic_long done;

static int task_exists(int tid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/self/task/%d", tid);
	return access(path, F_OK) == 0;
}

static void exit_locked(void *arg)
{
	int nest = (int)(intptr_t)arg;
	for (int i = 0; i < nest; i++)
		gort_lock_os_thread();
	int tid = test_gettid();
	CHECK(task_exists(tid), "/proc/self/task/%d is missing for a live thread", tid);
	atomic_store(&exiter_tid, tid);
	/* Return while still locked. */
}

/* spawn_exiter runs exit_locked and returns the thread it ran on. */
static int spawn_exiter(int nest)
{
	atomic_store(&exiter_tid, 0);
	gort_go(exit_locked, (void *)(intptr_t)nest);
	for (long i = 0; atomic_load(&exiter_tid) == 0; i++) {
		CHECK(i < MAX_POLLS, "the locked goroutine never ran");
		gort_gosched();
	}
	return atomic_load(&exiter_tid);
}

static void noop(void *arg)
{
	test_done(&done);
}

static void other_threads(void)
{
	CHECK(test_gettid() == getpid(), "main goroutine starts on the main thread");
	gort_lock_os_thread();
	for (int r = 0; r < ROUNDS; r++) {
		int tid = spawn_exiter(r == 1 ? 2 : 1);
		CHECK(tid != getpid(), "round %d: ran on the main thread, which main has locked", r);
		for (long i = 0; task_exists(tid); i++) {
			CHECK(i < MAX_POLLS, "round %d: thread %d outlived its locked goroutine", r, tid);
			gort_gosched();
		}
		CHECK(test_gettid() == getpid(), "round %d: locked main goroutine moved to thread %d", r,
		      test_gettid());
	}
	gort_unlock_os_thread();
}

static void main_thread(void)
{
	CHECK(gort_gomaxprocs(0) == 1, "CTest runs this mode at GOMAXPROCS=1, got %d", gort_gomaxprocs(0));
	CHECK(test_gettid() == getpid(), "main goroutine starts on the main thread");
	/* With one P and one M so far, the goroutine runs on the main thread. */
	int tid = spawn_exiter(1);
	CHECK(tid == getpid(), "the goroutine ran on thread %d, not on the main thread %d", tid, getpid());
	CHECK(test_gettid() != getpid(), "main goroutine still runs on the wedged main thread");
	CHECK(task_exists(getpid()), "the main thread ended");
}

static int test_main(int argc, char **argv)
{
	CHECK(argc == 2, "usage: lock_exit thread|m0");
	if (strcmp(argv[1], "thread") == 0)
		other_threads();
	else if (strcmp(argv[1], "m0") == 0)
		main_thread();
	else
		CHECK(0, "unknown mode %s", argv[1]);

	/* The runtime still works: */
	for (int i = 0; i < 100; i++)
		gort_go(noop, NULL);
	test_wait(&done, 100, "goroutines after the locked exits");
	return test_pass(argv[1][0] == 't' ? "lock_exit thread" : "lock_exit m0");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
