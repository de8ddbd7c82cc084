/*
 * die_sync - sync programs that must die, exit status 2:
 *
 * Deadlocks, with Go's wait reasons in the goroutine headers:
 *   mutex               main locks a mutex twice: [sync.Mutex.Lock]
 *   rwmutex_lock        main read-locks, then write-locks: [sync.RWMutex.Lock]
 *   rwmutex_rlock       main write-locks, then read-locks: [sync.RWMutex.RLock]
 *   rwmutex_lock_twice  main write-locks twice: the second Lock waits on the
 *                       writers' mutex, as in Go: [sync.Mutex.Lock]
 *   waitgroup           Add(1) and Wait: [sync.WaitGroup.Wait] (Go 1.25's
 *                       reason, which gort chose over 1.22's [semacquire])
 *   cond                a cond wait nobody signals: [sync.Cond.Wait]
 *   once_recursive      fn calls gort_once_do on its own once, which Go
 *                       documents as a deadlock: [sync.Mutex.Lock]
 *   others              goroutines 2 and 3 wait on a mutex main holds, main
 *                       on a WaitGroup: three headers in creation order
 *
 * Panics and fatal errors, naming the goroutine that failed:
 *   wg_negative         "panic: sync: negative WaitGroup counter"
 *   unlock_unlocked     "fatal error: sync: unlock of unlocked mutex"
 *   runlock_unlocked    "fatal error: sync: RUnlock of unlocked RWMutex"
 *   rwunlock_unlocked   "fatal error: sync: Unlock of unlocked RWMutex"
 *   unlock_unlocked_g2  goroutine 2 unlocks an unlocked mutex
 *   wg_done_zero        Done on a zero WaitGroup: the negative-counter panic
 *   runlock_writelocked RUnlock of a write-locked RWMutex: Go's RUnlock fatal
 *   rwunlock_readlocked Unlock of a read-locked RWMutex: Go's Unlock fatal
 *   cond_copied         a cond copied after first use, then used:
 *                       "panic: sync.Cond is copied"
 */
#define _GNU_SOURCE
#include <string.h>

#include "../harness.h"

static gort_mutex m = GORT_MUTEX_INIT;
static gort_rwmutex rw = GORT_RWMUTEX_INIT;
static gort_waitgroup wg = GORT_WAITGROUP_INIT;
static gort_once once = GORT_ONCE_INIT;
static gort_cond cond = GORT_COND_INIT(&m);

static void recurse_once(void *arg)
{
	gort_once_do(&once, recurse_once, NULL);
}

static void lock_m(void *arg)
{
	gort_mutex_lock(&m);
}

static void unlock_m(void *arg)
{
	gort_mutex_unlock(&m);
}

static int test_main(int argc, char **argv)
{
	CHECK(argc == 2, "usage: die_sync MODE");
	const char *mode = argv[1];
	if (strcmp(mode, "mutex") == 0) {
		gort_mutex_lock(&m);
		gort_mutex_lock(&m);
	} else if (strcmp(mode, "rwmutex_lock") == 0) {
		gort_rwmutex_rlock(&rw);
		gort_rwmutex_lock(&rw);
	} else if (strcmp(mode, "rwmutex_rlock") == 0) {
		gort_rwmutex_lock(&rw);
		gort_rwmutex_rlock(&rw);
	} else if (strcmp(mode, "rwmutex_lock_twice") == 0) {
		gort_rwmutex_lock(&rw);
		gort_rwmutex_lock(&rw);
	} else if (strcmp(mode, "waitgroup") == 0) {
		gort_waitgroup_add(&wg, 1);
		gort_waitgroup_wait(&wg);
	} else if (strcmp(mode, "cond") == 0) {
		gort_mutex_lock(&m);
		gort_cond_wait(&cond);
	} else if (strcmp(mode, "once_recursive") == 0) {
		gort_once_do(&once, recurse_once, NULL);
	} else if (strcmp(mode, "others") == 0) {
		gort_mutex_lock(&m);
		CHECK(gort_go(lock_m, NULL) == 2, "goroutine 2");
		CHECK(gort_go(lock_m, NULL) == 3, "goroutine 3");
		gort_waitgroup_add(&wg, 1);
		gort_waitgroup_wait(&wg);
	} else if (strcmp(mode, "wg_negative") == 0) {
		gort_waitgroup_add(&wg, 2);
		gort_waitgroup_done(&wg);
		gort_waitgroup_add(&wg, -2);
	} else if (strcmp(mode, "unlock_unlocked") == 0) {
		gort_mutex_lock(&m);
		gort_mutex_unlock(&m);
		gort_mutex_unlock(&m);
	} else if (strcmp(mode, "runlock_unlocked") == 0) {
		gort_rwmutex_rlock(&rw);
		gort_rwmutex_runlock(&rw);
		gort_rwmutex_runlock(&rw);
	} else if (strcmp(mode, "rwunlock_unlocked") == 0) {
		gort_rwmutex_unlock(&rw);
	} else if (strcmp(mode, "wg_done_zero") == 0) {
		gort_waitgroup_done(&wg);
	} else if (strcmp(mode, "runlock_writelocked") == 0) {
		gort_rwmutex_lock(&rw);
		gort_rwmutex_runlock(&rw);
	} else if (strcmp(mode, "rwunlock_readlocked") == 0) {
		gort_rwmutex_rlock(&rw);
		gort_rwmutex_unlock(&rw);
	} else if (strcmp(mode, "cond_copied") == 0) {
		gort_cond_signal(&cond);
		gort_cond copy = cond;
		gort_cond_signal(&copy);
	} else if (strcmp(mode, "unlock_unlocked_g2") == 0) {
		CHECK(gort_go(unlock_m, NULL) == 2, "goroutine 2");
		gort_waitgroup_add(&wg, 1);
		gort_waitgroup_wait(&wg);
	} else {
		CHECK(0, "unknown mode %s", mode);
	}
	for (int i = 0; i < 100; i++)
		gort_gosched();
	fprintf(stderr, "die_sync %s: still alive\n", mode);
	return 1;
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
