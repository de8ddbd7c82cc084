/*
 * pprof_workload.c - known work under the profilers.  tests/pprof_check.py
 * runs it, reads what it wrote with Go 1.19's `go tool pprof` and checks
 * it against the "expect" lines printed here.
 *
 *   pprof_workload goroutine FILE N   N goroutines parked in pprof_parked;
 *                                     FILE (debug=0), FILE.1 (debug=1),
 *                                     FILE.2 (debug=2)
 *   pprof_workload cpu FILE           a goroutine spinning in pprof_spin
 *                                     for 2 s of CPU under the CPU profiler
 *   pprof_workload block FILE         goroutines blocked in pprof_blocked
 *                                     (a receive) and pprof_selected (a
 *                                     select), block profile rate 1
 *   pprof_workload mutex FILE         pprof_holder holds a mutex others
 *                                     wait for; mutex fraction 1
 *   pprof_workload threadcreate FILE
 *   pprof_workload env FILE           pprof_spin for 1 s of CPU; run under
 *                                     GORT_CPUPROFILE=FILE
 *   pprof_workload serve ADDR N       gort_debug_serve(ADDR), N goroutines
 *                                     parked in pprof_parked, one spinning
 *                                     in pprof_spin; "ready" on stdout;
 *                                     runs until stdin closes
 *   pprof_workload delta ADDR         gort_debug_serve(ADDR); block and mutex
 *                                     events and parked goroutines, known
 *                                     numbers of each before "ready" and
 *                                     after each "inside" line on stdin
 *                                     (then "done"): for the delta profiles
 *   pprof_workload api                the API's misuse answers (no Go needed)
 *
 * Expect lines (stdout):
 *   expect sample FUNC VALUE   a sample of exactly VALUE (first value) has FUNC
 *   expect top FUNC PCT        FUNC's cumulative share of the total >= PCT %
 *   expect has FUNC            some sample's stack has FUNC
 *   expect textotal N          the debug=1 text says "total N" (or more)
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define NOINLINE __attribute__((noinline, optimize("no-optimize-sibling-calls")))

static gort_chan *never;

static int openout(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
	return fd;
}

static void writeprof(const char *name, const char *path, int debug)
{
	int fd = openout(path);
	int err = gort_pprof_lookup_write(name, fd, debug);
	CHECK(err == 0, "gort_pprof_lookup_write(%s, %d): %s", name, debug, gort_strerror(err));
	close(fd);
}

/* ---- goroutine --------------------------------------------------------------- */

static atomic_long parked;

NOINLINE static void pprof_parked(void *arg)
{
	int v;
	atomic_fetch_add(&parked, 1);
	gort_chan_recv(never, &v); /* forever */
	__asm__ volatile("");
}

static void park_n(long n)
{
	never = gort_chan_make(sizeof(int), 0);
	for (long i = 0; i < n; i++)
		gort_go(pprof_parked, NULL);
	while (atomic_load(&parked) < n)
		gort_sleep(GORT_MILLISECOND);
	gort_sleep(20 * GORT_MILLISECOND); /* the last one from counted to parked */
}

static void goroutine(const char *path, long n)
{
	park_n(n);
	char p[4096];
	writeprof("goroutine", path, 0);
	snprintf(p, sizeof p, "%s.1", path);
	writeprof("goroutine", p, 1);
	snprintf(p, sizeof p, "%s.2", path);
	writeprof("goroutine", p, 2);
	printf("expect sample pprof_parked %ld\n", n);
}

/* ---- cpu ------------------------------------------------------------------------- */

static atomic_bool stop;
static atomic_long spun;

NOINLINE static uint64_t pprof_spin_inner(uint64_t x)
{
	for (int i = 0; i < 1000; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	return x;
}

NOINLINE static void pprof_spin(void *arg)
{
	uint64_t x = 1;
	for (unsigned i = 1; !atomic_load_explicit(&stop, memory_order_relaxed); i++) {
		x = pprof_spin_inner(x);
		if (i % 64 == 0)
			gort_preempt_point(); /* so that the world can stop (gort is cooperative) */
	}
	atomic_store(&spun, (long)x | 1);
	__asm__ volatile("");
}

/* cpu_seconds: CPU time of the process, s. */
static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* spin_alone: GORT_CPUPROFILE's run - 1 s of CPU in pprof_spin, no API */
static void spin_alone(void)
{
	double c0 = cpu_seconds();
	gort_go(pprof_spin, NULL);
	while (cpu_seconds() - c0 < 1.0)
		gort_sleep(10 * GORT_MILLISECOND);
	atomic_store(&stop, true);
	while (atomic_load(&spun) == 0)
		gort_sleep(GORT_MILLISECOND);
	printf("expect top pprof_spin 70\n");
}

static void cpu(const char *path)
{
	int fd = openout(path);
	int err = gort_pprof_start_cpu(fd);
	CHECK(err == 0, "gort_pprof_start_cpu: %s", gort_strerror(err));
	CHECK(gort_pprof_start_cpu(fd) == GORT_ECPUPROFON, "a second start must say GORT_ECPUPROFON");
	double c0 = cpu_seconds();
	gort_go(pprof_spin, NULL);
	while (cpu_seconds() - c0 < 2.0)
		gort_sleep(10 * GORT_MILLISECOND);
	atomic_store(&stop, true);
	while (atomic_load(&spun) == 0)
		gort_sleep(GORT_MILLISECOND);
	err = gort_pprof_stop_cpu();
	CHECK(err == 0, "gort_pprof_stop_cpu: %s", gort_strerror(err));
	CHECK(gort_pprof_stop_cpu() == GORT_ECPUPROFOFF, "a second stop must say GORT_ECPUPROFOFF");
	close(fd);
	printf("expect top pprof_spin 70\n");
}

/* ---- block ------------------------------------------------------------------------ */

enum { BLOCKERS = 8 };

NOINLINE static void pprof_blocked(gort_chan *c)
{
	int v;
	gort_chan_recv(c, &v);
	__asm__ volatile("");
}

NOINLINE static void pprof_selected(gort_chan *c)
{
	int v;
	GORT_SELECT(GORT_CASE_RECV(c, &v, NULL));
	__asm__ volatile("");
}

static gort_waitgroup bwg = GORT_WAITGROUP_INIT;

static void blocker(void *arg)
{
	gort_chan *c = arg;
	pprof_blocked(c);
	pprof_selected(c);
	gort_waitgroup_done(&bwg);
}

static void block(const char *path)
{
	gort_set_block_profile_rate(1);
	gort_chan *c = gort_chan_make(sizeof(int), 0);
	gort_waitgroup_add(&bwg, BLOCKERS);
	for (int i = 0; i < BLOCKERS; i++)
		gort_go(blocker, c);
	for (int i = 0; i < 2 * BLOCKERS; i++) {
		gort_sleep(5 * GORT_MILLISECOND); /* each receiver waits a while first */
		gort_chan_send(c, &i);
	}
	gort_waitgroup_wait(&bwg);
	gort_chan_free(c);
	writeprof("block", path, 0);
	char p[4096];
	snprintf(p, sizeof p, "%s.1", path);
	writeprof("block", p, 1);
	printf("expect has pprof_blocked\nexpect has pprof_selected\n");
}

/* ---- mutex ------------------------------------------------------------------------- */

enum { WAITERS = 4, ROUNDS = 20 };

static gort_mutex mu = GORT_MUTEX_INIT;
static gort_waitgroup mwg = GORT_WAITGROUP_INIT;

NOINLINE static void pprof_holder(void)
{
	gort_mutex_lock(&mu);
	gort_sleep(2 * GORT_MILLISECOND); /* others queue meanwhile */
	gort_mutex_unlock(&mu);
	__asm__ volatile("");
}

static void waiter(void *arg)
{
	for (int i = 0; i < ROUNDS; i++)
		pprof_holder();
	gort_waitgroup_done(&mwg);
}

static void mutexprof(const char *path)
{
	CHECK(gort_set_mutex_profile_fraction(1) == 0, "the mutex fraction starts at 0");
	CHECK(gort_set_mutex_profile_fraction(-1) == 1, "a negative fraction only reads");
	gort_waitgroup_add(&mwg, WAITERS);
	for (int i = 0; i < WAITERS; i++)
		gort_go(waiter, NULL);
	gort_waitgroup_wait(&mwg);
	writeprof("mutex", path, 0);
	char p[4096];
	snprintf(p, sizeof p, "%s.1", path);
	writeprof("mutex", p, 1);
	printf("expect has pprof_holder\n");
}

/* ---- threadcreate ------------------------------------------------------------------- */

/* threadcreate: a goroutine in a long system call has its P handed to a
 * new M (sysmon's retake), at any GOMAXPROCS; the profile counts every M. */
static void in_syscall(void *arg)
{
	GORT_SYSCALL(usleep(300 * 1000));
	gort_waitgroup_done(&mwg);
}

static void threadcreate(const char *path)
{
	gort_waitgroup_add(&mwg, 1);
	gort_go(in_syscall, NULL);
	gort_metrics m = {.size = sizeof m};
	double t0 = test_seconds();
	do {
		gort_sleep(GORT_MILLISECOND);
		gort_read_metrics(&m);
	} while (m.threads < 2 && test_seconds() - t0 < 5);
	gort_waitgroup_wait(&mwg);
	gort_read_metrics(&m);
	writeprof("threadcreate", path, 0);
	char p[4096];
	snprintf(p, sizeof p, "%s.1", path);
	writeprof("threadcreate", p, 1);
	printf("expect textotal %lld\n", (long long)m.threads);
}

/* ---- serve ---------------------------------------------------------------------------- */

static void serve(const char *addr, long n)
{
	int err = gort_debug_serve(addr);
	CHECK(err == 0, "gort_debug_serve(%s): %s", addr, gort_strerror(err));
	park_n(n);
	gort_go(pprof_spin, NULL);
	printf("ready\n");
	fflush(stdout);
	char c;
	while (GORT_SYSCALL(read(0, &c, 1)) > 0)
		;
}

/* ---- delta ------------------------------------------------------------------------------
 *
 * Events whose count is known, before and inside a delta profile's window:
 * each round of block_round is one blocking receive in FN's frame (the
 * sender waits until the dump shows the receiver parked, so it always
 * blocks); each round of mutex_round one contended unlock in FN's frame
 * (a waiter is parked on the lock when FN unlocks it).  noipa: the two
 * functions of a pair have the same code, which gcc would otherwise fold
 * into one. */

static gort_chan *dc;
static gort_mutex dmu = GORT_MUTEX_INIT;
static gort_waitgroup dwg = GORT_WAITGROUP_INIT;

/* parked: how many goroutines the dump shows in state (e.g. "[chan
 * receive") with fn among their frames. */
static int parked_in(const char *state, const char *fn)
{
	static char buf[1 << 18];
	int n = gort_stack(buf, sizeof buf - 1, true), k = 0;
	buf[n < (int)sizeof buf - 1 ? n : (int)sizeof buf - 1] = '\0';
	for (char *g = buf; *g != '\0';) {
		char *end = strstr(g, "\n\n");
		size_t len = end != NULL ? (size_t)(end - g) : strlen(g);
		char save = g[len];
		g[len] = '\0';
		k += strstr(g, state) != NULL && strstr(g, fn) != NULL;
		g[len] = save;
		g += len + (end != NULL ? 2 : 0);
	}
	return k;
}

static void wait_parked(const char *state, const char *fn)
{
	while (parked_in(state, fn) == 0)
		gort_sleep(GORT_MILLISECOND);
}

static void delta_sender(void *arg)
{
	wait_parked("[chan receive", arg);
	int v = 1;
	gort_chan_send(dc, &v);
}

NOINLINE __attribute__((noipa)) static void delta_block_before(void) { gort_chan_recv(dc, NULL); __asm__ volatile(""); }
NOINLINE __attribute__((noipa)) static void delta_block_inside(void) { gort_chan_recv(dc, NULL); __asm__ volatile(""); }

static void block_round(void (*fn)(void), const char *name)
{
	gort_go(delta_sender, (void *)name);
	fn();
}

static void delta_waiter(void *arg)
{
	gort_mutex_lock(&dmu);
	gort_mutex_unlock(&dmu);
	gort_waitgroup_done(&dwg);
}

NOINLINE __attribute__((noipa)) static void delta_unlock_before(void) { gort_mutex_unlock(&dmu); __asm__ volatile(""); }
NOINLINE __attribute__((noipa)) static void delta_unlock_inside(void) { gort_mutex_unlock(&dmu); __asm__ volatile(""); }

static void mutex_round(void (*fn)(void))
{
	gort_mutex_lock(&dmu);
	gort_waitgroup_add(&dwg, 1);
	gort_go(delta_waiter, NULL);
	wait_parked("[sync.Mutex.Lock", "delta_waiter");
	fn();
	gort_waitgroup_wait(&dwg);
}

NOINLINE __attribute__((noipa)) static void delta_parked_before(void *arg) { gort_chan_recv(never, NULL); __asm__ volatile(""); }
NOINLINE __attribute__((noipa)) static void delta_parked_inside(void *arg) { gort_chan_recv(never, NULL); __asm__ volatile(""); }

/* delta ADDR: serve; 5 of each event and 5 goroutines parked before
 * "ready"; then, for each "inside" line on stdin, 3 of each event and 4
 * goroutines more, then "done".  Ends when stdin closes. */
static void delta(const char *addr)
{
	gort_set_block_profile_rate(1);
	gort_set_mutex_profile_fraction(1);
	never = gort_chan_make(sizeof(int), 0);
	dc = gort_chan_make(sizeof(int), 0);
	int err = gort_debug_serve(addr);
	CHECK(err == 0, "gort_debug_serve(%s): %s", addr, gort_strerror(err));
	for (int i = 0; i < 5; i++) {
		block_round(delta_block_before, "delta_block_before");
		mutex_round(delta_unlock_before);
		gort_go(delta_parked_before, NULL);
	}
	printf("ready\n");
	fflush(stdout);
	char line[64];
	size_t n = 0;
	char c;
	while (GORT_SYSCALL(read(0, &c, 1)) > 0) {
		if (c != '\n') {
			if (n + 1 < sizeof line)
				line[n++] = c;
			continue;
		}
		line[n] = '\0';
		n = 0;
		CHECK(strcmp(line, "inside") == 0, "unknown command %s", line);
		for (int i = 0; i < 3; i++) {
			block_round(delta_block_inside, "delta_block_inside");
			mutex_round(delta_unlock_inside);
		}
		for (int i = 0; i < 4; i++)
			gort_go(delta_parked_inside, NULL);
		while (parked_in("[chan receive", "delta_parked_inside") < 4)
			gort_sleep(GORT_MILLISECOND);
		printf("done\n");
		fflush(stdout);
	}
}

/* ---- api ------------------------------------------------------------------------------- */

static void api(void)
{
	CHECK(gort_pprof_lookup_write("nosuchprofile", 1, 0) == -ENOENT, "an unknown profile is -ENOENT");
	CHECK(gort_pprof_lookup_write(NULL, 1, 0) == -EINVAL, "a NULL name is -EINVAL");
	CHECK(gort_pprof_lookup_write("goroutine", -1, 0) == -EBADF, "a bad fd is -EBADF");
	CHECK(gort_pprof_start_cpu(-1) == -EBADF, "start_cpu(-1) is -EBADF");
	CHECK(gort_pprof_stop_cpu() == GORT_ECPUPROFOFF, "stop without start");
	CHECK(gort_set_cpu_profile_rate(0) == -EINVAL, "rate 0");
	CHECK(strcmp(gort_strerror(GORT_ECPUPROFON), "cpu profiling already in use") == 0,
	      "Go's text for a second StartCPUProfile");
	CHECK(gort_debug_serve("nonsense") < 0, "a bad address fails");
	/* a CPU profile at 1000 Hz, then at the default again: starts and stops cleanly */
	CHECK(gort_set_cpu_profile_rate(1000) == 0, "rate 1000");
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	for (int i = 0; i < 3; i++) {
		CHECK(gort_pprof_start_cpu(fd) == 0, "start %d", i);
		double t = test_seconds();
		while (test_seconds() - t < 0.05)
			;
		CHECK(gort_pprof_stop_cpu() == 0, "stop %d", i);
	}
	close(fd);
	test_pass("pprof_api");
}

static int realmain(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "api") == 0) {
		api();
		return 0;
	}
	CHECK(argc >= 3, "usage: pprof_workload MODE FILE|ADDR [N]");
	long n = argc >= 4 ? atol(argv[3]) : 100;
	if (strcmp(argv[1], "goroutine") == 0)
		goroutine(argv[2], n);
	else if (strcmp(argv[1], "cpu") == 0)
		cpu(argv[2]);
	else if (strcmp(argv[1], "block") == 0)
		block(argv[2]);
	else if (strcmp(argv[1], "mutex") == 0)
		mutexprof(argv[2]);
	else if (strcmp(argv[1], "threadcreate") == 0)
		threadcreate(argv[2]);
	else if (strcmp(argv[1], "env") == 0)
		spin_alone();
	else if (strcmp(argv[1], "serve") == 0)
		serve(argv[2], n);
	else if (strcmp(argv[1], "delta") == 0)
		delta(argv[2]);
	else
		CHECK(false, "unknown mode %s", argv[1]);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	gort_main(realmain, argc, argv);
}
