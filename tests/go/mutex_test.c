/*
 * mutex_test - Go 1.19's sync/mutex_test.go, ported: gort_mutex as sync.Mutex.
 *
 * Ported, same names:
 *   TestSemaphore     the semaphore under the sync package, hammered by 10
 *                     goroutines (Go reaches runtime_Semacquire/Semrelease
 *                     through export_test.go; here through gort's internal
 *                     gort__semacquire/gort__semrelease, the same functions
 *                     sync/mutex.c uses)
 *   TestMutex         TryLock on a locked and an unlocked mutex, then 10
 *                     goroutines hammer it with Lock/Unlock and TryLock
 *   TestMutexMisuse   each of Go's eight misuses (Unlock of an unlocked
 *                     Mutex; Unlock or RUnlock of an RWMutex not so locked)
 *                     runs in a child process, as in Go - this program with
 *                     the arguments TESTMISUSE <name> - under a deferred
 *                     recover: the child must fail (a fatal error is not
 *                     recoverable) and say "unlocked"
 *   TestMutexFairness a goroutine that keeps re-locking the mutex (holding
 *                     it 100 us each time) must not starve another that
 *                     wants it 10 times: done within 10 s (Go's bound)
 *
 * Not ported:
 *   TestMutex's runtime.SetMutexProfileFraction: gort has no mutex profiler
 *     (the rest of TestMutex is ported).
 *   BenchmarkUncontendedSemaphore, BenchmarkContendedSemaphore,
 *   BenchmarkMutexUncontended, BenchmarkMutex, BenchmarkMutexSlack,
 *   BenchmarkMutexWork, BenchmarkMutexWorkSlack, BenchmarkMutexNoSpin,
 *   BenchmarkMutexSpin: benchmarks (testing.B); gort's own are in bench/.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"
/* Go's export_test.go hook into the runtime's semaphores (TestSemaphore). */
#include "../../src/runtime2.h"

extern char **environ;

/* ---- TestSemaphore --------------------------------------------------------------------------- */

typedef struct hammer_sema_args {
	uint32_t *s;
	int loops;
	gort_chan *cdone;
} hammer_sema_args;

static void HammerSemaphore(void *arg)
{
	hammer_sema_args *a = arg;
	for (int i = 0; i < a->loops; i++) {
		gort__semacquire(a->s, false, waitReasonSemacquire);
		gort__semrelease(a->s, false);
	}
	bool v = true;
	gort_chan_send(a->cdone, &v);
}

static void TestSemaphore(void)
{
	uint32_t s = 1;
	gort_chan *c = gort_chan_make(sizeof(bool), 0);
	for (int i = 0; i < 10; i++)
		gort_go_with(HammerSemaphore, hammer_sema_args, .s = &s, .loops = 1000, .cdone = c);
	for (int i = 0; i < 10; i++)
		gort_chan_recv(c, NULL);
	/* Not in Go's test: every unit taken was given back. */
	CHECK(__atomic_load_n(&s, __ATOMIC_ACQUIRE) == 1, "semaphore count %u at the end, want 1",
	      s);
	gort_chan_free(c);
}

/* ---- TestMutex ------------------------------------------------------------------------------- */

typedef struct hammer_mutex_args {
	gort_mutex *m;
	int loops;
	gort_chan *cdone;
} hammer_mutex_args;

static void HammerMutex(void *arg)
{
	hammer_mutex_args *a = arg;
	for (int i = 0; i < a->loops; i++) {
		if (i % 3 == 0) {
			if (gort_mutex_trylock(a->m))
				gort_mutex_unlock(a->m);
			continue;
		}
		gort_mutex_lock(a->m);
		gort_mutex_unlock(a->m);
	}
	bool v = true;
	gort_chan_send(a->cdone, &v);
}

static void TestMutex(void)
{
	gort_mutex m = GORT_MUTEX_INIT;

	gort_mutex_lock(&m);
	CHECK(!gort_mutex_trylock(&m), "TryLock succeeded with mutex locked");
	gort_mutex_unlock(&m);
	CHECK(gort_mutex_trylock(&m), "TryLock failed with mutex unlocked");
	gort_mutex_unlock(&m);

	gort_chan *c = gort_chan_make(sizeof(bool), 0);
	for (int i = 0; i < 10; i++)
		gort_go_with(HammerMutex, hammer_mutex_args, .m = &m, .loops = 1000, .cdone = c);
	for (int i = 0; i < 10; i++)
		gort_chan_recv(c, NULL);
	/* Not in Go's test: the hammering left it unlocked, with no waiter. */
	CHECK(m.state == 0, "mutex state %d after the hammering, want 0", m.state);
	gort_chan_free(c);
}

/* ---- TestMutexMisuse ------------------------------------------------------------------------- */

static void misuse_mutex_unlock(void)
{
	gort_mutex mu = GORT_MUTEX_INIT;
	gort_mutex_unlock(&mu);
}

static void misuse_mutex_unlock2(void)
{
	gort_mutex mu = GORT_MUTEX_INIT;
	gort_mutex_lock(&mu);
	gort_mutex_unlock(&mu);
	gort_mutex_unlock(&mu);
}

static void misuse_rwmutex_unlock(void)
{
	gort_rwmutex mu = GORT_RWMUTEX_INIT;
	gort_rwmutex_unlock(&mu);
}

static void misuse_rwmutex_unlock2(void)
{
	gort_rwmutex mu = GORT_RWMUTEX_INIT;
	gort_rwmutex_rlock(&mu);
	gort_rwmutex_unlock(&mu);
}

static void misuse_rwmutex_unlock3(void)
{
	gort_rwmutex mu = GORT_RWMUTEX_INIT;
	gort_rwmutex_lock(&mu);
	gort_rwmutex_unlock(&mu);
	gort_rwmutex_unlock(&mu);
}

static void misuse_rwmutex_runlock(void)
{
	gort_rwmutex mu = GORT_RWMUTEX_INIT;
	gort_rwmutex_runlock(&mu);
}

static void misuse_rwmutex_runlock2(void)
{
	gort_rwmutex mu = GORT_RWMUTEX_INIT;
	gort_rwmutex_lock(&mu);
	gort_rwmutex_runlock(&mu);
}

static void misuse_rwmutex_runlock3(void)
{
	gort_rwmutex mu = GORT_RWMUTEX_INIT;
	gort_rwmutex_rlock(&mu);
	gort_rwmutex_runlock(&mu);
	gort_rwmutex_runlock(&mu);
}

static const struct {
	const char *name;
	void (*f)(void);
} misuseTests[] = {
	{"Mutex.Unlock", misuse_mutex_unlock},
	{"Mutex.Unlock2", misuse_mutex_unlock2},
	{"RWMutex.Unlock", misuse_rwmutex_unlock},
	{"RWMutex.Unlock2", misuse_rwmutex_unlock2},
	{"RWMutex.Unlock3", misuse_rwmutex_unlock3},
	{"RWMutex.RUnlock", misuse_rwmutex_runlock},
	{"RWMutex.RUnlock2", misuse_rwmutex_runlock2},
	{"RWMutex.RUnlock3", misuse_rwmutex_runlock3},
};
#define NMISUSE (int)(sizeof misuseTests / sizeof misuseTests[0])

static void recover_any(void *arg)
{
	gort_recover();
}

/* func() { defer func() { recover() }(); test.f() }() */
static void run_recovering(void (*f)(void))
{
	GORT_FRAME(return);
	gort_defer(recover_any, NULL);
	f();
}

/* The child's side (Go's init): run one misuse, recovering; only a failure
 * that recover cannot stop keeps "test completed" from being printed. */
static int misuse_child(const char *name)
{
	for (int i = 0; i < NMISUSE; i++) {
		if (strcmp(misuseTests[i].name, name) == 0) {
			run_recovering(misuseTests[i].f);
			printf("test completed\n");
			return 0;
		}
	}
	printf("unknown test\n");
	return 0;
}

static const char *self_path;

/* run_misuse runs this program with TESTMISUSE name, its stdout and stderr
 * into out; returns its wait status. */
static int run_misuse(const char *name, char *out, size_t n)
{
	int p[2];
	CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe2");
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	char *argv[] = {(char *)self_path, "TESTMISUSE", (char *)name, NULL};
	pid_t pid;
	int err = posix_spawn(&pid, self_path, &fa, NULL, argv, environ);
	CHECK(err == 0, "posix_spawn %s: %s", self_path, strerror(err));
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	size_t have = 0;
	for (;;) {
		long r = gort_read(p[0], out + have, n - 1 - have);
		if (r <= 0)
			break;
		have += (size_t)r;
		if (have == n - 1)
			break;
	}
	out[have] = '\0';
	close(p[0]);
	int status;
	CHECK(gort_waitpid(pid, &status, 0) == pid, "waitpid");
	return status;
}

static void TestMutexMisuse(void)
{
	static char out[8192];
	for (int i = 0; i < NMISUSE; i++) {
		int status = run_misuse(misuseTests[i].name, out, sizeof out);
		bool failed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
		CHECK(failed && strstr(out, "unlocked") != NULL,
		      "%s: did not find failure with message about unlocked lock: status %#x\n%s",
		      misuseTests[i].name, status, out);
	}
}

/* ---- TestMutexFairness ----------------------------------------------------------------------- */

static gort_mutex fair_mu = GORT_MUTEX_INIT;
static gort_waitgroup fair_wg; /* C's addition: the hog is gone before the test returns */

static void fairness_hog(void *arg)
{
	gort_chan *stop = arg;
	for (;;) {
		gort_mutex_lock(&fair_mu);
		gort_sleep(100 * GORT_MICROSECOND);
		gort_mutex_unlock(&fair_mu);
		bool ok;
		if (gort_chan_tryrecv(stop, NULL, &ok))
			break;
	}
	gort_waitgroup_done(&fair_wg);
}

static void fairness_waiter(void *arg)
{
	gort_chan *done = arg;
	for (int i = 0; i < 10; i++) {
		gort_sleep(100 * GORT_MICROSECOND);
		gort_mutex_lock(&fair_mu);
		gort_mutex_unlock(&fair_mu);
	}
	bool v = true;
	gort_chan_send(done, &v);
	gort_waitgroup_done(&fair_wg);
}

static void TestMutexFairness(void)
{
	gort_chan *stop = gort_chan_make(sizeof(bool), 0);
	gort_chan *done = gort_chan_make(sizeof(bool), 1);
	gort_waitgroup_add(&fair_wg, 2);
	gort_go(fairness_hog, stop);
	gort_go(fairness_waiter, done);
	gort_timer *after = gort_timer_new(10 * GORT_SECOND);
	int i = GORT_SELECT(GORT_CASE_RECV(done, NULL, NULL),
	                    GORT_CASE_RECV(gort_timer_c(after), NULL, NULL));
	CHECK(i == 0, "can't acquire Mutex in 10 seconds");
	gort_chan_close(stop); /* Go's defer close(stop) */
	gort_waitgroup_wait(&fair_wg);
	gort_timer_free(after);
	gort_chan_free(stop);
	gort_chan_free(done);
}

static int test_main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "TESTMISUSE") == 0)
		return misuse_child(argv[2]);
	self_path = "/proc/self/exe";
	static char path[4096];
	long n = readlink("/proc/self/exe", path, sizeof path - 1);
	if (n > 0) {
		path[n] = '\0';
		self_path = path;
	}
	TestSemaphore();
	TestMutex();
	TestMutexMisuse();
	TestMutexFairness();
	return test_pass("mutex_test");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
