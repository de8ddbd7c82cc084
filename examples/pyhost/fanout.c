/*
 * fanout.c - a shared library built on gort, for hosts that know nothing
 * of it (examples/pyhost/fanout.py loads it with Python's ctypes).
 *
 * Its constructor starts gort (gort_start).  fanout_sum(n) fans the work
 * out to n goroutines - goroutine i computes i*i - and gathers the answers
 * from a channel: the calling thread, Python's, blocks in gort_chan_recv
 * like a goroutine, while the goroutines run on gort's threads.  Any number
 * of the host's threads may call it at once.
 */
#include <stdint.h>

#include <gort.h>

__attribute__((constructor)) static void fanout_init(void)
{
	gort_start();
}

typedef struct job {
	int64_t i;
	gort_chan *out;
} job;

static void square(void *arg)
{
	job *j = arg;
	int64_t v = j->i * j->i;
	gort_chan_send(j->out, &v);
}

/* fanout_sum: the sum of i*i for i in [0, n), computed by n goroutines. */
__attribute__((visibility("default"))) int64_t fanout_sum(int n)
{
	gort_chan *out = gort_chan_make(sizeof(int64_t), (size_t)n);
	for (int i = 0; i < n; i++)
		gort_go_args(square, &(job){i, out}, sizeof(job));
	int64_t sum = 0;
	for (int i = 0; i < n; i++) {
		int64_t v;
		gort_chan_recv(out, &v);
		sum += v;
	}
	gort_chan_free(out);
	return sum;
}

/* fanout_goroutines: gort_numgoroutine, for the host to see them go. */
__attribute__((visibility("default"))) int fanout_goroutines(void)
{
	return gort_numgoroutine();
}
