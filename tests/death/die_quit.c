/*
 * die_quit - the SIGQUIT dump: every goroutine's header, then exit 2.
 *
 *   states    goroutines blocked in each state gort has, one locked to its
 *             thread, one in a system call; main raises SIGQUIT on itself,
 *             so the dump begins with goroutine 1 [running]
 *   external  a plain thread (SIGQUIT blocked) sends the process SIGQUIT
 *             while main sleeps: some idle M dumps, and every goroutine is
 *             listed in creation order, main first.  (No goroutine in a
 *             system call here: its thread could take the signal, and
 *             its goroutine would come first, as in Go.)
 *   summary   (GODEBUG=dumpsummary=1) 100 goroutines on chan receive from
 *             one spawn site, in two runs of ids around 50 on a mutex,
 *             3 asleep, 1 in a select: buckets, biggest first
 *   split     (dumpsummary=1, with libdw) 10 goroutines from one spawn
 *             site on chan receive, 6 by one call and 4 by another: two
 *             buckets, told apart by their frames
 *   handler   the program installed its own SIGQUIT handler before
 *             gort_main: it keeps it (prints "own handler", exits 2)
 *
 * main waits until the goroutines are parked, counting them with
 * gort_read_metrics.  Frames are not checked (traceback.c's part): the
 * expected files allow any lines after each header.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gort.h"

static gort_chan *never;        /* nobody ever sends here */
static gort_chan *nobody;       /* nobody ever receives here */
static gort_mutex mu = GORT_MUTEX_INIT;
static gort_rwmutex rw = GORT_RWMUTEX_INIT;
static gort_waitgroup wg = GORT_WAITGROUP_INIT;
static gort_cond cond = GORT_COND_INIT(&mu);
static int pipefd[2], syspipe[2];

static void recv_forever(void *arg) { gort_chan_recv(never, NULL); }
static void send_forever(void *arg) { int v = 1; gort_chan_send(nobody, &v); }
static void select_forever(void *arg)
{
	gort_chan *other = gort_chan_make(sizeof(int), 0);
	int v;
	gort_case cases[] = {GORT_CASE_RECV(never, &v, NULL), GORT_CASE_RECV(other, &v, NULL)};
	gort_select(cases, 2, true);
}
static void lock_forever(void *arg) { gort_mutex_lock(&mu); }
static void rlock_forever(void *arg) { gort_rwmutex_rlock(&rw); }
static void wg_forever(void *arg) { gort_waitgroup_wait(&wg); }
static void cond_forever(void *arg)
{
	static gort_mutex cmu = GORT_MUTEX_INIT;
	static gort_cond c = GORT_COND_INIT(&cmu);
	gort_mutex_lock(&cmu);
	gort_cond_wait(&c);
}
static void sleep_forever(void *arg) { gort_sleep(3600 * GORT_SECOND); }
static void io_forever(void *arg) { gort_fd_wait(pipefd[0], GORT_READABLE, 0); }
static void locked_forever(void *arg)
{
	gort_lock_os_thread();
	gort_chan_recv(never, NULL);
}
static void syscall_forever(void *arg)
{
	char c;
	GORT_SYSCALL(read(syspipe[0], &c, 1));
}

/* wait_parked waits until `waiting` goroutines wait and `syscall` are in
 * a system call. */
static void wait_parked(int64_t waiting, int64_t syscall)
{
	for (int i = 0; i < 20000; i++) {
		gort_metrics m = {.size = sizeof m};
		gort_read_metrics(&m);
		if (m.goroutines_waiting == waiting && m.goroutines_syscall == syscall)
			return;
		gort_sleep(GORT_MILLISECOND);
	}
	gort_metrics m = {.size = sizeof m};
	gort_read_metrics(&m);
	fprintf(stderr, "die_quit: goroutines never parked: %lld waiting, %lld in system calls\n",
	        (long long)m.goroutines_waiting, (long long)m.goroutines_syscall);
	exit(1);
}

/* Ids come from the P's batch (goidcache): main stays on its P while it
 * creates these - a locked goroutine is not asked to yield, and a
 * preemption on a loaded machine could move it to the other P's batch - so
 * that they are 2, 3, ... as the expected dump says. */
static void start_states(bool syscall)
{
	gort_lock_os_thread();
	gort_go(recv_forever, NULL);   /* 2 */
	gort_go(send_forever, NULL);   /* 3 */
	gort_go(select_forever, NULL); /* 4 */
	gort_go(lock_forever, NULL);   /* 5 */
	gort_go(rlock_forever, NULL);  /* 6 */
	gort_go(wg_forever, NULL);     /* 7 */
	gort_go(cond_forever, NULL);   /* 8 */
	gort_go(sleep_forever, NULL);  /* 9 */
	gort_go(io_forever, NULL);     /* 10 */
	gort_go(locked_forever, NULL); /* 11 */
	if (syscall)
		gort_go(syscall_forever, NULL); /* 12 */
	gort_unlock_os_thread();
}

static _Atomic int ready;

static void *killer(void *arg)
{
	sigset_t quit;
	sigemptyset(&quit);
	sigaddset(&quit, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &quit, NULL); /* a gort thread takes it */
	while (!atomic_load(&ready))
		usleep(1000);
	kill(getpid(), SIGQUIT);
	return NULL;
}

/* not inlined, not unrolled: one call site for gort_go, so one creator pc */
__attribute__((noinline)) static void spawn_n(gort_func fn, int n)
{
	for (int i = 0; i < n; i++)
		gort_go(fn, NULL); /* one spawn site: one bucket per state */
}

/* split: one spawn site, one state, two stacks (recv_here, recv_there):
 * the summary must tell them apart by their frames. */
static atomic_int split_n, split_done;
__attribute__((noinline)) static void recv_here(void)
{
	gort_chan_recv(never, NULL);
	atomic_fetch_add(&split_done, 1); /* not a tail call: the frame stays */
}
__attribute__((noinline)) static void recv_there(void)
{
	gort_chan_recv(never, NULL);
	atomic_fetch_add(&split_done, 2);
}
static void recv_split(void *arg)
{
	if (atomic_fetch_add(&split_n, 1) < 6)
		recv_here();
	else
		recv_there();
}

static void own_handler(int sig)
{
	static const char msg[] = "own handler\n";
	write(2, msg, sizeof msg - 1);
	_exit(2);
}

static int main_fn(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	never = gort_chan_make(sizeof(int), 0);
	nobody = gort_chan_make(sizeof(int), 0);
	if (pipe(pipefd) != 0 || pipe(syspipe) != 0)
		return 1;
	gort_mutex_lock(&mu);   /* held by main: lockers wait */
	gort_rwmutex_lock(&rw); /* held by main: readers wait */
	gort_waitgroup_add(&wg, 1);
	(void)cond;
	if (strcmp(mode, "states") == 0) {
		start_states(true);
		wait_parked(10, 1);
		raise(SIGQUIT);
	} else if (strcmp(mode, "external") == 0) {
		start_states(false); /* the kernel may pick a thread in a system call */
		wait_parked(10, 0);
		pthread_t t;
		pthread_create(&t, NULL, killer, NULL);
		atomic_store(&ready, 1);
		gort_sleep(3600 * GORT_SECOND);
	} else if (strcmp(mode, "summary") == 0) {
		spawn_n(recv_forever, 60);  /* 2-61 */
		spawn_n(lock_forever, 50);  /* 62-111 */
		spawn_n(recv_forever, 40);  /* 112-151 */
		spawn_n(sleep_forever, 3);  /* 152-154 */
		spawn_n(select_forever, 1); /* 155 */
		wait_parked(154, 0);
		raise(SIGQUIT);
	} else if (strcmp(mode, "split") == 0) {
		spawn_n(recv_split, 10); /* 2-7 here, 8-11 there */
		wait_parked(10, 0);
		raise(SIGQUIT);
	} else if (strcmp(mode, "handler") == 0) {
		raise(SIGQUIT);
	}
	gort_sleep(10 * GORT_SECOND);
	fprintf(stderr, "die_quit: still alive after SIGQUIT\n");
	return 1;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "handler") == 0)
		signal(SIGQUIT, own_handler);
	gort_main(main_fn, argc, argv);
}
