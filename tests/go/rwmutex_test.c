/*
 * rwmutex_test - Go 1.19's sync/rwmutex_test.go, ported: gort_rwmutex as
 * sync.RWMutex.
 *
 * Ported, same names:
 *   TestParallelReaders  1, 3 and 4 readers (at GOMAXPROCS 4, 4 and 2) all
 *                        hold the read lock at once: each says so on a
 *                        channel before any is let go
 *   TestRWMutex          TryLock/TryRLock on write-locked, unlocked and
 *                        read-locked mutexes; then HammerRWMutex at
 *                        GOMAXPROCS 1, 4 and 10 with 1, 3, 5 and 10 readers
 *                        and 2 writers, 1000 rounds each (Go's non-short
 *                        count): an activity counter proves no reader or
 *                        writer is ever inside with a writer
 *   TestRLocker          RLocker's Lock/Unlock are RLock/RUnlock: taken
 *                        twice, it keeps a writer out until both are undone,
 *                        and the writer then keeps the reader out
 *
 * Not ported:
 *   RLocker itself: it returns a Locker interface, which C has no use for;
 *     TestRLocker calls gort_rwmutex_rlock/runlock where Go calls the
 *     Locker's Lock/Unlock, which is what they are.
 *   BenchmarkRWMutexUncontended, BenchmarkRWMutexWrite100,
 *   BenchmarkRWMutexWrite10, BenchmarkRWMutexWorkWrite100,
 *   BenchmarkRWMutexWorkWrite10: benchmarks (testing.B).
 */
#define _GNU_SOURCE
#include "harness.h"

static bool yes = true;

/* ---- TestParallelReaders --------------------------------------------------------------------- */

typedef struct reader_args {
	gort_rwmutex *m;
	gort_chan *clocked, *cunlock, *cdone;
} reader_args;

static void parallelReader(void *arg)
{
	reader_args *a = arg;
	gort_rwmutex_rlock(a->m);
	gort_chan_send(a->clocked, &yes);
	gort_chan_recv(a->cunlock, NULL);
	gort_rwmutex_runlock(a->m);
	gort_chan_send(a->cdone, &yes);
}

static void doTestParallelReaders(int numReaders, int gomaxprocs)
{
	gort_gomaxprocs(gomaxprocs);
	gort_rwmutex m = GORT_RWMUTEX_INIT;
	gort_chan *clocked = gort_chan_make(sizeof(bool), 0);
	gort_chan *cunlock = gort_chan_make(sizeof(bool), 0);
	gort_chan *cdone = gort_chan_make(sizeof(bool), 0);
	for (int i = 0; i < numReaders; i++)
		gort_go_with(parallelReader, reader_args, &m, clocked, cunlock, cdone);
	/* Wait for all parallel RLock()s to succeed. */
	for (int i = 0; i < numReaders; i++)
		gort_chan_recv(clocked, NULL);
	for (int i = 0; i < numReaders; i++)
		gort_chan_send(cunlock, &yes);
	/* Wait for the goroutines to finish. */
	for (int i = 0; i < numReaders; i++)
		gort_chan_recv(cdone, NULL);
	gort_chan_free(clocked);
	gort_chan_free(cunlock);
	gort_chan_free(cdone);
}

static void TestParallelReaders(void)
{
	int procs = gort_gomaxprocs(-1);
	doTestParallelReaders(1, 4);
	doTestParallelReaders(3, 4);
	doTestParallelReaders(4, 2);
	gort_gomaxprocs(procs);
}

/* ---- TestRWMutex ----------------------------------------------------------------------------- */

typedef struct hammer_args {
	gort_rwmutex *rwm;
	int num_iterations;
	atomic_int *activity;
	gort_chan *cdone;
} hammer_args;

static void reader(void *arg)
{
	hammer_args *a = arg;
	for (int i = 0; i < a->num_iterations; i++) {
		gort_rwmutex_rlock(a->rwm);
		int n = atomic_fetch_add(a->activity, 1) + 1;
		CHECK(n >= 1 && n < 10000, "wlock(%d)", n); /* Go panics */
		for (volatile int j = 0; j < 100; j++) {
		}
		atomic_fetch_add(a->activity, -1);
		gort_rwmutex_runlock(a->rwm);
	}
	gort_chan_send(a->cdone, &yes);
}

static void writer(void *arg)
{
	hammer_args *a = arg;
	for (int i = 0; i < a->num_iterations; i++) {
		gort_rwmutex_lock(a->rwm);
		int n = atomic_fetch_add(a->activity, 10000) + 10000;
		CHECK(n == 10000, "wlock(%d)", n); /* Go panics */
		for (volatile int j = 0; j < 100; j++) {
		}
		atomic_fetch_add(a->activity, -10000);
		gort_rwmutex_unlock(a->rwm);
	}
	gort_chan_send(a->cdone, &yes);
}

static void HammerRWMutex(int gomaxprocs, int numReaders, int num_iterations)
{
	gort_gomaxprocs(gomaxprocs);
	/* Number of active readers + 10000 * number of active writers. */
	atomic_int activity = 0;
	gort_rwmutex rwm = GORT_RWMUTEX_INIT;
	gort_chan *cdone = gort_chan_make(sizeof(bool), 0);
	hammer_args a = {&rwm, num_iterations, &activity, cdone};
	gort_go_args(writer, &a, sizeof a);
	int i;
	for (i = 0; i < numReaders / 2; i++)
		gort_go_args(reader, &a, sizeof a);
	gort_go_args(writer, &a, sizeof a);
	for (; i < numReaders; i++)
		gort_go_args(reader, &a, sizeof a);
	/* Wait for the 2 writers and all readers to finish. */
	for (int i = 0; i < 2 + numReaders; i++)
		gort_chan_recv(cdone, NULL);
	gort_chan_free(cdone);
}

static void TestRWMutex(void)
{
	gort_rwmutex m = GORT_RWMUTEX_INIT;

	gort_rwmutex_lock(&m);
	CHECK(!gort_rwmutex_trylock(&m), "TryLock succeeded with mutex locked");
	CHECK(!gort_rwmutex_tryrlock(&m), "TryRLock succeeded with mutex locked");
	gort_rwmutex_unlock(&m);

	CHECK(gort_rwmutex_trylock(&m), "TryLock failed with mutex unlocked");
	gort_rwmutex_unlock(&m);

	CHECK(gort_rwmutex_tryrlock(&m), "TryRLock failed with mutex unlocked");
	CHECK(gort_rwmutex_tryrlock(&m), "TryRLock failed with mutex rlocked");
	CHECK(!gort_rwmutex_trylock(&m), "TryLock succeeded with mutex rlocked");
	gort_rwmutex_runlock(&m);
	gort_rwmutex_runlock(&m);

	int procs = gort_gomaxprocs(-1);
	int n = 1000;
	HammerRWMutex(1, 1, n);
	HammerRWMutex(1, 3, n);
	HammerRWMutex(1, 10, n);
	HammerRWMutex(4, 1, n);
	HammerRWMutex(4, 3, n);
	HammerRWMutex(4, 10, n);
	HammerRWMutex(10, 1, n);
	HammerRWMutex(10, 3, n);
	HammerRWMutex(10, 10, n);
	HammerRWMutex(10, 5, n);
	gort_gomaxprocs(procs);
}

/* ---- TestRLocker ----------------------------------------------------------------------------- */

typedef struct rlocker_args {
	gort_rwmutex *wl;
	gort_chan *wlocked, *rlocked;
	int n;
	gort_waitgroup *wg;
} rlocker_args;

static void rlocker_locker(void *arg)
{
	rlocker_args *a = arg;
	for (int i = 0; i < a->n; i++) {
		gort_rwmutex_rlock(a->wl); /* rl.Lock() */
		gort_rwmutex_rlock(a->wl); /* rl.Lock() */
		gort_chan_send(a->rlocked, &yes);
		gort_rwmutex_lock(a->wl);
		gort_chan_send(a->wlocked, &yes);
	}
	gort_waitgroup_done(a->wg);
}

static void TestRLocker(void)
{
	gort_rwmutex wl = GORT_RWMUTEX_INIT;
	gort_chan *wlocked = gort_chan_make(sizeof(bool), 1);
	gort_chan *rlocked = gort_chan_make(sizeof(bool), 1);
	gort_waitgroup wg = GORT_WAITGROUP_INIT; /* C's addition: join before freeing */
	int n = 10;
	gort_waitgroup_add(&wg, 1);
	gort_go_with(rlocker_locker, rlocker_args, &wl, wlocked, rlocked, n, &wg);
	for (int i = 0; i < n; i++) {
		gort_chan_recv(rlocked, NULL);
		gort_rwmutex_runlock(&wl); /* rl.Unlock() */
		CHECK(!gort_chan_tryrecv(wlocked, NULL, NULL), "RLocker() didn't read-lock it");
		gort_rwmutex_runlock(&wl); /* rl.Unlock() */
		gort_chan_recv(wlocked, NULL);
		CHECK(!gort_chan_tryrecv(rlocked, NULL, NULL),
		      "RLocker() didn't respect the write lock");
		gort_rwmutex_unlock(&wl);
	}
	gort_waitgroup_wait(&wg);
	gort_chan_free(wlocked);
	gort_chan_free(rlocked);
}

static int test_main(int argc, char **argv)
{
	TestParallelReaders();
	TestRWMutex();
	TestRLocker();
	return test_pass("rwmutex_test");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
