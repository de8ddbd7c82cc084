/*
 * main.c - foreign_call's twin for Go: a C program (no Go in main) whose
 * threads call the Go c-shared library's TrySend and TryRecv in turn, as
 * bench/foreign_call.c calls gort_chan_trysend and gort_chan_tryrecv.
 * Prints the ns per call, and a pthread mutex's lock + unlock beside it,
 * as JSON lines (impl "go").  Flags: -n calls per thread, -threads.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libforeign.h"

static long long n = 2000000;
static int nthreads = 1;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void ops(int i, long long count)
{
	for (long long k = 0; k < count; k += 2) {
		if (!TrySend(i) || !TryRecv(i)) {
			fprintf(stderr, "go_cshared: channel op failed\n");
			exit(1);
		}
	}
}

static int64_t took[64];

static void *worker(void *arg)
{
	int i = (int)(intptr_t)arg;
	ops(i, 1000);
	int64_t t0 = now_ns();
	ops(i, n);
	took[i] = now_ns() - t0;
	return NULL;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			n = atoll(argv[++i]);
		else if (strcmp(argv[i], "-threads") == 0 && i + 1 < argc)
			nthreads = atoi(argv[++i]);
	}
	n &= ~1LL;
	pthread_t th[64];
	for (int i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
	int64_t total = 0;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		total += took[i];
	}
	const char *procs = getenv("GOMAXPROCS");
	printf("{\"bench\":\"foreign_call\",\"impl\":\"go\",\"procs\":%s,\"metric\":\"foreign_ns_per_call\","
	       "\"value\":%.2f,\"extra\":{\"n\":%lld,\"threads\":%d}}\n",
	       procs != NULL ? procs : "0", (double)total / nthreads / (double)n, n, nthreads);

	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	int64_t t0 = now_ns();
	for (long long k = 0; k < n; k++) {
		pthread_mutex_lock(&mu);
		__asm__ volatile("" ::: "memory");
		pthread_mutex_unlock(&mu);
	}
	printf("{\"bench\":\"foreign_call\",\"impl\":\"go\",\"procs\":%s,\"metric\":"
	       "\"pthread_mutex_ns_per_lock_unlock\",\"value\":%.2f,\"extra\":{\"n\":%lld,\"threads\":1}}\n",
	       procs != NULL ? procs : "0", (double)(now_ns() - t0) / (double)n, n);
	return 0;
}
