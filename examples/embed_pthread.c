/*
 * embed_pthread - a plain pthread program that uses gort for one part of
 * its work: no gort_main, the program keeps its main and its threads.
 *
 * main calls gort_start, then starts a "checksum service": WORKERS
 * goroutines reading requests from one channel.  The program's own pthreads
 * (CLIENTS of them, made with pthread_create as any C program makes them)
 * submit requests - a buffer and a reply channel each - and block on the
 * reply, each call into gort running as a goroutine bound to the calling
 * thread.  The threads never see a goroutine; the service never sees a
 * thread.  Prints one line per client and the total.
 *
 *   ./build/examples/embed_pthread
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <gort.h>

enum { WORKERS = 4, CLIENTS = 8, REQUESTS = 1000, LEN = 256 };

typedef struct request {
	const unsigned char *buf;
	size_t len;
	gort_chan *reply; /* of uint32_t */
} request;

static gort_chan *requests; /* of request */

/* a worker goroutine: Adler-32 of each buffer it is handed */
static void worker(void *arg)
{
	request r;
	while (gort_chan_recv(requests, &r)) {
		uint32_t a = 1, b = 0;
		for (size_t i = 0; i < r.len; i++) {
			a = (a + r.buf[i]) % 65521;
			b = (b + a) % 65521;
		}
		uint32_t sum = b << 16 | a;
		gort_chan_send(r.reply, &sum);
	}
}

/* a thread of the program's own: a client of the service */
static void *client(void *arg)
{
	long id = (long)(intptr_t)arg;
	unsigned char buf[LEN];
	gort_chan *reply = gort_chan_make(sizeof(uint32_t), 0);
	uint64_t total = 0;
	for (int i = 0; i < REQUESTS; i++) {
		for (int j = 0; j < LEN; j++)
			buf[j] = (unsigned char)(id + i + j);
		request r = {buf, LEN, reply};
		gort_chan_send(requests, &r); /* blocks until a worker takes it */
		uint32_t sum;
		gort_chan_recv(reply, &sum);  /* blocks until it answers */
		total += sum;
	}
	gort_chan_free(reply);
	printf("client %ld: %d checksums, total %llu\n", id, REQUESTS, (unsigned long long)total);
	return (void *)(uintptr_t)total;
}

int main(void)
{
	gort_start();
	requests = gort_chan_make(sizeof(request), 0);
	for (int i = 0; i < WORKERS; i++)
		gort_go(worker, NULL); /* main is a foreign thread too */

	pthread_t th[CLIENTS];
	for (long i = 0; i < CLIENTS; i++)
		pthread_create(&th[i], NULL, client, (void *)(intptr_t)i);
	uint64_t all = 0;
	for (int i = 0; i < CLIENTS; i++) {
		void *ret;
		pthread_join(th[i], &ret);
		all += (uintptr_t)ret;
	}
	gort_chan_close(requests); /* the workers end */
	printf("total %llu from %d clients\n", (unsigned long long)all, CLIENTS);
	return 0;
}
