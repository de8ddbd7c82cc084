/*
 * showcase.c - Go's scheduler in a C program.
 *
 * Spawns a million goroutines, fans CPU work out over every P and shows the
 * speedup as GOMAXPROCS changes at run time, and wires one goroutine to its
 * thread.  Run it with `make demo`; try GOMAXPROCS=1 make demo.
 */
#define _GNU_SOURCE
#include <gort.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Waits, yielding, until *counter reaches n. (Channels will do this better.) */
static void join(atomic_long *counter, long n)
{
	while (atomic_load(counter) < n)
		gort_gosched();
}

/* ---- a million goroutines ---- */

static atomic_long spawned_done;

static void tiny(void *arg)
{
	atomic_fetch_add(&spawned_done, 1);
}

static void million(void)
{
	const long n = 1000000;
	double t0 = now_ms();
	for (long i = 0; i < n; i++)
		gort_go(tiny, NULL);
	join(&spawned_done, n);
	double ms = now_ms() - t0;
	printf("1,000,000 goroutines spawned, run and retired in %.0f ms (%.0f ns each)\n", ms, ms * 1e6 / n);
}

/* ---- fan-out: CPU work over every P ---- */

__attribute__((noinline)) static long fib(long n)
{
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

struct job {
	int id;
	long *results;
	atomic_long *done;
	atomic_int *threads_seen; /* bit per distinct thread slot, for the report */
};

static _Atomic pid_t first_tid;

static void compute(void *p)
{
	struct job *j = p;
	j->results[j->id] = fib(24);
	pid_t tid = (pid_t)syscall(SYS_gettid);
	pid_t none = 0;
	if (!atomic_compare_exchange_strong(&first_tid, &none, tid) && none != tid)
		atomic_fetch_or(j->threads_seen, 2);
	else
		atomic_fetch_or(j->threads_seen, 1);
	atomic_fetch_add(j->done, 1);
}

static double fanout(int procs, int *threads)
{
	enum { N = 400 };
	static long results[N];
	atomic_long done = 0;
	atomic_int seen = 0;
	atomic_store(&first_tid, 0);
	gort_gomaxprocs(procs);
	double t0 = now_ms();
	for (int i = 0; i < N; i++)
		gort_go_with(compute, struct job, .id = i, .results = results, .done = &done,
		             .threads_seen = &seen);
	join(&done, N);
	double ms = now_ms() - t0;
	for (int i = 0; i < N; i++)
		if (results[i] != 46368)
			printf("wrong result %d: %ld\n", i, results[i]);
	*threads = atomic_load(&seen) == 3 ? 2 : 1;
	return ms;
}

/* ---- a goroutine wired to its thread ---- */

static atomic_long locked_done;

static void wired(void *arg)
{
	gort_lock_os_thread();
	pid_t tid = (pid_t)syscall(SYS_gettid);
	int moved = 0;
	for (int i = 0; i < 1000; i++) {
		gort_gosched();
		moved += (pid_t)syscall(SYS_gettid) != tid;
	}
	gort_unlock_os_thread();
	printf("goroutine %lld locked to thread %d: %d of 1000 yields resumed elsewhere\n",
	       (long long)gort_goid(), (int)tid, moved);
	atomic_store(&locked_done, 1);
}

static int showcase(int argc, char **argv)
{
	int procs = gort_gomaxprocs(0);
	printf("gort showcase: goroutines on Go's G/M/P scheduler, in C\n");
	printf("main is goroutine %lld; GOMAXPROCS=%d, NumCPU=%d\n\n", (long long)gort_goid(), procs,
	       gort_numcpu());

	million();

	int t1, t2;
	double ms1 = fanout(1, &t1);
	double ms2 = fanout(procs > 1 ? procs : 2, &t2);
	printf("400 x fib(24): GOMAXPROCS=1 %.1f ms on %d thread(s); GOMAXPROCS=%d %.1f ms on %d "
	       "thread(s): %.2fx\n",
	       ms1, t1, procs > 1 ? procs : 2, ms2, t2, ms1 / ms2);
	gort_gomaxprocs(procs);

	gort_go(wired, NULL);
	join(&locked_done, 1);
	printf("\n%d goroutine(s) left; main returns and the process exits, as in Go\n",
	       gort_numgoroutine());
	return 0;
}

int main(int argc, char **argv)
{
	gort_main(showcase, argc, argv);
}
