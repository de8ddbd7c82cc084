/*
 * det_prog.c - programs for deterministic mode's tests (tests/det_check.py
 * runs them under GODEBUG=detseed=N and compares what they print).
 *
 *   det_prog showcase  many goroutines: a pipeline over channels, a select
 *                      fan-in with a quit channel, timers and a ticker,
 *                      mutex-guarded state, a WaitGroup, a locked thread;
 *                      each event printed as it happens, with the virtual
 *                      time - so any change of interleaving shows in stdout
 *                      ("showcase unlocked": no locked thread, so that one
 *                      M runs it all - for the traces' comparison)
 *   det_prog race      ten goroutines print their number: the order is
 *                      the schedule's
 *   det_prog sleep     100 goroutines sleep 36 s each (an hour in all) in
 *                      1 s steps, then main sleeps an hour; it prints the
 *                      virtual time that passed (at least 3636 s)
 *   det_prog procs     prints gort_gomaxprocs(0), then sets 3 and prints it
 *   det_prog syscall   a gort_read of /dev/null (a system call)
 *   det_prog spin      a goroutine computes for a while with no gort call;
 *                      another, runnable meanwhile, must not run in between
 *                      (no preemption in this mode, even asyncpreemptoff=0)
 *   det_prog seed      prints gort_det_seed()
 *   det_prog livelock  two goroutines yield to each other for ever
 *   det_prog ticker    main waits for ever, a ticker ticking for nobody
 *   det_prog foreign   four pthreads send to main over a channel (calls
 *                      from threads gort did not create)
 *   det_prog deadlock  main waits on a channel nobody sends on, while a
 *                      goroutine sleeps 36 s and ends: Go's deadlock
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gort.h>

static int64_t t0;

static double vms(void)
{
	return (double)(gort_nanotime() - t0) / 1e6;
}

/* ---- showcase ---------------------------------------------------------------- */

static gort_mutex mu = GORT_MUTEX_INIT;
static long total;
static gort_waitgroup wg = GORT_WAITGROUP_INIT;

typedef struct stage {
	int id;
	gort_chan *in, *out;
} stage;

static void stage_run(void *arg)
{
	stage *s = arg;
	int v;
	while (gort_chan_recv(s->in, &v)) {
		v = v * 2 + s->id;
		gort_mutex_lock(&mu);
		total += v;
		gort_mutex_unlock(&mu);
		gort_chan_send(s->out, &v);
	}
	printf("stage %d done at %.3f ms\n", s->id, vms());
	gort_chan_close(s->out);
}

static void producer(void *arg)
{
	gort_chan *c = arg;
	for (int i = 0; i < 20; i++) {
		gort_chan_send(c, &i);
		if (i % 7 == 0)
			gort_sleep(GORT_MILLISECOND);
	}
	gort_chan_close(c);
}

typedef struct fan {
	int id;
	gort_chan *out;
} fan;

static void fan_worker(void *arg)
{
	fan *f = arg;
	for (int i = 0; i < 5; i++) {
		int v = f->id * 100 + i;
		gort_sleep((f->id % 3 + 1) * 100 * GORT_MICROSECOND);
		gort_chan_send(f->out, &v);
	}
	gort_waitgroup_done(&wg);
}

static void locked_worker(void *arg)
{
	gort_chan *c = arg;
	gort_lock_os_thread();
	for (int i = 0; i < 3; i++) {
		int v = 1000 + i;
		gort_chan_send(c, &v);
		gort_gosched();
	}
	gort_unlock_os_thread();
	gort_waitgroup_done(&wg);
}

static void closer(void *arg)
{
	gort_waitgroup_wait(&wg);
	gort_chan_close(arg);
}

static int showcase(bool locked)
{
	/* a pipeline of 4 stages */
	gort_chan *first = gort_chan_make(sizeof(int), 0), *c = first;
	stage st[4];
	for (int i = 0; i < 4; i++) {
		st[i] = (stage){i, c, gort_chan_make(sizeof(int), i % 2)};
		c = st[i].out;
		gort_go(stage_run, &st[i]);
	}
	gort_go(producer, first);

	/* a fan-in: 8 workers and a locked one into one channel, read by a
	 * select that also watches a ticker and a timer */
	gort_chan *fanin = gort_chan_make(sizeof(int), 2);
	fan fs[8];
	gort_waitgroup_add(&wg, locked ? 9 : 8);
	for (int i = 0; i < 8; i++) {
		fs[i] = (fan){i, fanin};
		gort_go(fan_worker, &fs[i]);
	}
	if (locked)
		gort_go(locked_worker, fanin);
	gort_go(closer, fanin);
	gort_timer *tick = gort_ticker_new(700 * GORT_MICROSECOND);
	gort_timer *tm = gort_timer_new(2 * GORT_MILLISECOND);
	bool fanin_open = true, timer_fired = false;
	int out;
	bool pipe_open = true;
	while (fanin_open || pipe_open) {
		int v = 0;
		int64_t when;
		bool ok = false;
		gort_case cases[4] = {
			{.chan = fanin_open ? fanin : NULL, .dir = GORT_RECV, .elem = &v, .ok = &ok},
			{.chan = pipe_open ? c : NULL, .dir = GORT_RECV, .elem = &out, .ok = &ok},
			{.chan = gort_timer_c(tick), .dir = GORT_RECV, .elem = &when},
			{.chan = timer_fired ? NULL : gort_timer_c(tm), .dir = GORT_RECV, .elem = &when},
		};
		switch (gort_select(cases, 4, true)) {
		case 0:
			if (!ok)
				fanin_open = false;
			else
				printf("fan-in %d at %.3f ms\n", v, vms());
			break;
		case 1:
			if (!ok)
				pipe_open = false;
			else
				printf("pipeline %d at %.3f ms\n", out, vms());
			break;
		case 2:
			printf("tick at %.3f ms\n", vms());
			break;
		case 3:
			timer_fired = true;
			printf("timer at %.3f ms\n", vms());
			break;
		}
	}
	gort_timer_free(tick);
	gort_timer_free(tm);
	gort_chan_free(first); /* every sender has closed its channel by now */
	for (int i = 0; i < 4; i++)
		gort_chan_free(st[i].out);
	gort_chan_free(fanin);
	printf("total %ld, %d goroutines left, end at %.3f ms\n", total, gort_numgoroutine(), vms());
	return 0;
}

/* ---- race -------------------------------------------------------------------- */

static void racer(intptr_t i)
{
	printf("%d ", (int)i);
	gort_waitgroup_done(&wg);
}

static int race(void)
{
	gort_waitgroup_add(&wg, 10);
	for (int i = 0; i < 10; i++)
		gort_go_int(racer, i);
	gort_waitgroup_wait(&wg);
	printf("\n");
	return 0;
}

/* ---- sleep ------------------------------------------------------------------- */

static void sleeper(intptr_t i)
{
	for (int k = 0; k < 36; k++)
		gort_sleep(GORT_SECOND);
	gort_waitgroup_done(&wg);
}

static int sleep_hour(void)
{
	int64_t start = gort_nanotime();
	gort_waitgroup_add(&wg, 100);
	for (int i = 0; i < 100; i++)
		gort_go_int(sleeper, i);
	gort_waitgroup_wait(&wg);
	gort_sleep(3600 * GORT_SECOND);
	int64_t d = gort_nanotime() - start;
	printf("slept 100 x 36 s in goroutines and 1 h in main; virtual time passed: %.6f s\n",
	       (double)d / 1e9);
	return d >= 3636 * GORT_SECOND ? 0 : 1;
}

/* ---- spin -------------------------------------------------------------------- */

static volatile int other_ran;

static void other(void *arg)
{
	other_ran = 1;
}

static int spin(void)
{
	gort_go(other, NULL);
	/* about 50 ms of computation with no gort call: sysmon would ask a
	 * goroutine to yield after 10 ms, and with asyncpreemptoff=0 signal it */
	int64_t start = 0;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	start = ts.tv_sec * 1000000000LL + ts.tv_nsec;
	int seen = 0;
	for (;;) {
		seen |= other_ran;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (ts.tv_sec * 1000000000LL + ts.tv_nsec - start > 50 * 1000000LL)
			break;
	}
	printf("other goroutine ran during the spin: %s\n", seen ? "yes" : "no");
	gort_gosched();
	while (!other_ran)
		gort_gosched();
	return seen;
}

/* ---- foreign: threads gort did not create call in ---------------------- */

static gort_chan *fromthreads;
static sem_t bound;

static void *thread_body(void *arg)
{
	gort_goid(); /* the first call binds the thread's extra M */
	sem_post(&bound);
	for (int i = 0; i < 10; i++) {
		int v = (int)(intptr_t)arg * 100 + i;
		gort_chan_send(fromthreads, &v); /* a foreign call: blocks the thread */
	}
	return NULL;
}

static int foreign(void)
{
	fromthreads = gort_chan_make(sizeof(int), 0);
	sem_init(&bound, 0, 0);
	pthread_t th[4];
	for (intptr_t t = 0; t < 4; t++)
		pthread_create(&th[t], NULL, thread_body, (void *)t);
	/* Until a thread has called in once, the deadlock check cannot know
	 * that it will (checkdead counts the extra Ms made): wait for all. */
	for (int t = 0; t < 4; t++)
		GORT_SYSCALL(sem_wait(&bound));
	long sum = 0;
	for (int i = 0; i < 40; i++) {
		int v;
		gort_chan_recv(fromthreads, &v);
		sum += v;
	}
	/* A join blocks: in a system call, so the P serves the threads'
	 * last calls meanwhile (without it, the one P would wait here). */
	for (int t = 0; t < 4; t++)
		GORT_SYSCALL(pthread_join(th[t], NULL));
	gort_chan_free(fromthreads);
	printf("sum %ld\n", sum);
	return sum == 4 * 45 + 10 * (0 + 100 + 200 + 300) ? 0 : 1;
}

static void spinner(void *arg)
{
	for (;;)
		gort_gosched();
}

static int prog(int argc, char **argv)
{
	t0 = gort_nanotime();
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *mode = argc > 1 ? argv[1] : "";
	if (strcmp(mode, "showcase") == 0)
		return showcase(argc < 3 || strcmp(argv[2], "unlocked") != 0);
	if (strcmp(mode, "race") == 0)
		return race();
	if (strcmp(mode, "sleep") == 0)
		return sleep_hour();
	if (strcmp(mode, "spin") == 0)
		return spin();
	if (strcmp(mode, "deadlock") == 0) {
		gort_waitgroup_add(&wg, 1);
		gort_go_int(sleeper, 0); /* 36 s of timers first: then nothing can run */
		gort_chan *never = gort_chan_make(sizeof(int), 0);
		int v;
		gort_chan_recv(never, &v);
		return 1;
	}
	if (strcmp(mode, "foreign") == 0)
		return foreign();
	if (strcmp(mode, "ticker") == 0) { /* a ticker nobody reads, and a deadlock */
		gort_ticker_new(GORT_SECOND);
		gort_chan *never = gort_chan_make(sizeof(int), 0);
		int v;
		gort_chan_recv(never, &v);
		return 1;
	}
	if (strcmp(mode, "livelock") == 0) {
		gort_go(spinner, NULL);
		for (;;)
			gort_gosched();
	}
	if (strcmp(mode, "seed") == 0) {
		printf("seed %lld\n", (long long)gort_det_seed());
		return 0;
	}
	if (strcmp(mode, "procs") == 0) {
		printf("gomaxprocs %d\n", gort_gomaxprocs(0));
		gort_gomaxprocs(3);
		printf("gomaxprocs %d\n", gort_gomaxprocs(0));
		return 0;
	}
	if (strcmp(mode, "syscall") == 0) {
		int fd = open("/dev/null", O_RDONLY);
		char b[8];
		long n = gort_read(fd, b, sizeof b);
		printf("read %ld\n", n);
		return 0;
	}
	fprintf(stderr, "usage: det_prog showcase|race|sleep|spin|seed|procs|syscall|deadlock|livelock|ticker|foreign\n");
	return 64;
}

int main(int argc, char **argv)
{
	gort_main(prog, argc, argv);
}
