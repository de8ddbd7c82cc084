/*
 * hello.c - the program install_test.sh builds against an installed gort:
 * ten goroutines send their numbers on a channel, main adds them up.
 */
#include <gort.h>
#include <stdint.h>
#include <stdio.h>

static gort_chan *results;

static void worker(void *arg)
{
	int64_t n = (int64_t)(intptr_t)arg;
	gort_chan_send(results, &n);
}

static int hello(int argc, char **argv)
{
	(void)argc, (void)argv;
	results = gort_chan_make(sizeof(int64_t), 0);
	for (intptr_t i = 1; i <= 10; i++)
		gort_go(worker, (void *)i);
	int64_t sum = 0;
	for (int i = 0; i < 10; i++) {
		int64_t n;
		gort_chan_recv(results, &n);
		sum += n;
	}
	printf("gort %s: sum %lld\n", gort_version(), (long long)sum);
	return sum == 55 ? 0 : 1;
}

int main(int argc, char **argv)
{
	gort_main(hello, argc, argv);
}
