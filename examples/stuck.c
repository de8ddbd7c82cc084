/*
 * stuck - goroutines blocked in every state gort has, to see the dump:
 *
 *     ./build/examples/stuck &          prints its pid, then waits
 *     kill -QUIT <pid>                  every goroutine, then exit 2
 *     GODEBUG=dumpsummary=1 ./build/examples/stuck 10000 &
 *                                       10,000 more on one channel: the
 *                                       summary prints each kind once
 *
 * Blocked: chan receive, chan send, select, sync.Mutex.Lock,
 * sync.RWMutex.RLock, sync.WaitGroup.Wait, sync.Cond.Wait, sleep, IO wait,
 * a system call, and one goroutine locked to its thread.  main sleeps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "gort.h"

static gort_chan *in, *out;
static gort_mutex mu = GORT_MUTEX_INIT;
static gort_rwmutex rw = GORT_RWMUTEX_INIT;
static gort_waitgroup wg = GORT_WAITGROUP_INIT;
static gort_mutex cmu = GORT_MUTEX_INIT;
static gort_cond cond = GORT_COND_INIT(&cmu);
static int pipefd[2], syspipe[2];

static void receiver(void *arg) { gort_chan_recv(in, NULL); }
static void sender(void *arg) { int v = 1; gort_chan_send(out, &v); }
static void selecter(void *arg)
{
	int v;
	GORT_SELECT(GORT_CASE_RECV(in, &v, NULL), GORT_CASE_SEND(out, &v));
}
static void locker(void *arg) { gort_mutex_lock(&mu); }
static void reader(void *arg) { gort_rwmutex_rlock(&rw); }
static void waiter(void *arg) { gort_waitgroup_wait(&wg); }
static void condwaiter(void *arg)
{
	gort_mutex_lock(&cmu);
	gort_cond_wait(&cond);
}
static void sleeper(void *arg) { gort_sleep(24 * 3600 * GORT_SECOND); }
static void ioer(void *arg) { gort_fd_wait(pipefd[0], GORT_READABLE, 0); }
static void syscaller(void *arg)
{
	char c;
	GORT_SYSCALL(read(syspipe[0], &c, 1));
}
static void wired(void *arg)
{
	gort_lock_os_thread();
	gort_chan_recv(in, NULL);
}

static int main_fn(int argc, char **argv)
{
	int extra = argc > 1 ? atoi(argv[1]) : 0;
	in = gort_chan_make(sizeof(int), 0);
	out = gort_chan_make(sizeof(int), 0);
	if (pipe(pipefd) != 0 || pipe(syspipe) != 0)
		return 1;
	gort_mutex_lock(&mu);
	gort_rwmutex_lock(&rw);
	gort_waitgroup_add(&wg, 1);

	gort_go(receiver, NULL);
	gort_go(sender, NULL);
	gort_go(selecter, NULL);
	gort_go(locker, NULL);
	gort_go(reader, NULL);
	gort_go(waiter, NULL);
	gort_go(condwaiter, NULL);
	gort_go(sleeper, NULL);
	gort_go(ioer, NULL);
	gort_go(syscaller, NULL);
	gort_go(wired, NULL);
	for (int i = 0; i < extra; i++)
		gort_go(receiver, NULL);

	fprintf(stderr, "stuck: pid %d; see the goroutines with: kill -QUIT %d\n", (int)getpid(),
	        (int)getpid());
	for (;;)
		gort_sleep(3600 * GORT_SECOND);
}

int main(int argc, char **argv)
{
	gort_main(main_fn, argc, argv);
}
