/*
 * die_foreign - the ways a program that embeds gort, or calls it from its
 * own threads, can go wrong (src/cgocall.c, gort_start in proc_api.c).
 *
 *   main_after_start  gort_start, then gort_main: a fatal error naming it
 *   goexit            a thread gort did not create calls gort_goexit:
 *                     Go's fatal error for Goexit in a cgo callback
 *   exit_in_call      a thread's call into gort (gort_once_do) runs a
 *                     function that calls pthread_exit: the thread ends in
 *                     the middle of the call - a fatal error, not a
 *                     goroutine and an M lost in silence
 *   quit              under gort_main, two threads of the program block in
 *                     gort_chan_send; SIGQUIT's dump lists their goroutines
 *                     as "chan send, locked to thread, foreign thread", with
 *                     the program's frames that made the call
 *   signal_nil        gort_signal_notify(NULL, ...): Go's panic
 *   signal_kill       gort_signal_notify for SIGKILL: a panic naming it
 *   signal_int        a channel of bytes, not int: a panic saying so
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "../harness.h"

static const char *mode;
static gort_chan *nobody; /* nobody ever receives here */

static void *goexit_thread(void *arg)
{
	gort_goexit();
	return NULL;
}

static void exit_now(void *arg)
{
	pthread_exit(NULL);
}

static void *exit_in_call_thread(void *arg)
{
	static gort_once once = GORT_ONCE_INIT;
	gort_once_do(&once, exit_now, NULL);
	return NULL;
}

static __attribute__((noinline)) void blocked_sender(void)
{
	int v = 1;
	gort_chan_send(nobody, &v);
}

static void *sender_thread(void *arg)
{
	blocked_sender();
	return NULL;
}

static int test_main(int argc, char **argv)
{
	if (strcmp(mode, "quit") == 0) {
		nobody = gort_chan_make(sizeof(int), 0);
		pthread_t t;
		for (int i = 0; i < 2; i++)
			CHECK(pthread_create(&t, NULL, sender_thread, NULL) == 0, "pthread_create");
		/* until both wait in their send */
		for (;;) {
			gort_metrics m = {.size = sizeof m};
			gort_read_metrics(&m);
			if (m.goroutines_waiting == 2)
				break;
			gort_sleep(GORT_MILLISECOND);
		}
		raise(SIGQUIT);
	}
	if (strcmp(mode, "signal_nil") == 0)
		gort_signal_notify(NULL, (int[]){SIGINT}, 1);
	if (strcmp(mode, "signal_kill") == 0)
		gort_signal_notify(gort_chan_make(sizeof(int), 1), (int[]){SIGKILL}, 1);
	if (strcmp(mode, "signal_int") == 0)
		gort_signal_notify(gort_chan_make(1, 1), (int[]){SIGINT}, 1);
	CHECK(0, "unknown mode %s", mode);
	return 1;
}

int main(int argc, char **argv)
{
	CHECK(argc == 2, "usage: die_foreign MODE");
	mode = argv[1];
	pthread_t t;
	if (strcmp(mode, "main_after_start") == 0) {
		gort_start();
		gort_main(test_main, argc, argv);
	} else if (strcmp(mode, "goexit") == 0) {
		gort_start();
		pthread_create(&t, NULL, goexit_thread, NULL);
		pthread_join(t, NULL);
	} else if (strcmp(mode, "exit_in_call") == 0) {
		gort_start();
		pthread_create(&t, NULL, exit_in_call_thread, NULL);
		pthread_join(t, NULL);
	} else {
		gort_main(test_main, argc, argv);
	}
	fprintf(stderr, "die_foreign %s: still alive\n", mode);
	return 1;
}
