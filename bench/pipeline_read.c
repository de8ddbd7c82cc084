/*
 * pipeline_read.c - a two-stage pipeline over file data that sits in the
 * page cache: what a system call that never blocks costs the scheduler
 * (issue 17, item 9).  Go twin: bench/go_pipeline_read/main.go.
 *
 * A file of -mb MiB (default 64) of pseudo-random bytes is written to
 * $TMPDIR (or /tmp), then read -passes times (default 8) by a reader
 * goroutine in -kb KiB chunks (default 16) into one of 4 buffers; each
 * filled buffer goes over a channel to a hasher goroutine (FNV-1a over
 * 64-bit words), which sends it back on another channel to be refilled.
 * The reads hit the page cache: each is a copy of a few microseconds that
 * never waits, the case where Go keeps its P (sysmon hands a P on only
 * when a call has lasted a whole sysmon tick, 20 us or more).
 * -plain 1 reads with plain read(2) instead of gort_read: the floor.
 *
 * Measured: from just before spawning the two goroutines until both have
 * finished, and the context switches of the whole process meanwhile
 * (getrusage: voluntary, involuntary).  A warm-up pass over the file runs
 * first.  Reported: value = wall ms; extra: MiB/s, reads, the switches,
 * switches per 1000 reads, the checksum's low 32 bits (the same in every
 * twin, for the same file).
 */
#include "report.h" /* first: it sets the feature macros */

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

enum { NBUF = 4 };

struct pipe {
	int fd;
	long long passes, chunk, plain;
	unsigned char *bufs[NBUF];
	gort_chan *full, *free; /* of struct slot; of int */
	uint64_t sum;
	long long reads, bytes;
	gort_waitgroup wg;
};

struct slot {
	int i;
	long n; /* 0: the end */
};

static long do_read(struct pipe *p, void *buf, size_t n)
{
	long r = p->plain ? (long)read(p->fd, buf, n) : gort_read(p->fd, buf, n);
	if (r < 0)
		bench_fail("pipeline_read: read: %s", gort_strerror(p->plain ? -errno : r));
	return r;
}

static void reader(void *arg)
{
	struct pipe *p = arg;
	for (long long pass = 0; pass < p->passes; pass++) {
		if (lseek(p->fd, 0, SEEK_SET) != 0)
			bench_fail("pipeline_read: lseek: %s", strerror(errno));
		for (;;) {
			int i;
			gort_chan_recv(p->free, &i);
			long n = do_read(p, p->bufs[i], (size_t)p->chunk);
			p->reads++;
			if (n == 0) {
				gort_chan_send(p->free, &i);
				break;
			}
			p->bytes += n;
			gort_chan_send(p->full, &(struct slot){i, n});
		}
	}
	gort_chan_send(p->full, &(struct slot){0, 0});
	gort_waitgroup_done(&p->wg);
}

/* FNV-1a over 64-bit little-endian words; a short tail byte by byte. */
static uint64_t fnv(uint64_t h, const unsigned char *b, long n)
{
	long i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, b + i, 8);
		h = (h ^ w) * 1099511628211ULL;
	}
	for (; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

static void hasher(void *arg)
{
	struct pipe *p = arg;
	uint64_t h = 14695981039346656037ULL;
	for (;;) {
		struct slot s;
		gort_chan_recv(p->full, &s);
		if (s.n == 0)
			break;
		h = fnv(h, p->bufs[s.i], s.n);
		gort_chan_send(p->free, &s.i);
	}
	p->sum = h;
	gort_waitgroup_done(&p->wg);
}

/* run reads the file passes times through the pipeline; returns the ns. */
static int64_t run(struct pipe *p, long long passes)
{
	p->passes = passes;
	p->reads = p->bytes = 0;
	p->full = gort_chan_make(sizeof(struct slot), NBUF);
	p->free = gort_chan_make(sizeof(int), NBUF);
	for (int i = 0; i < NBUF; i++)
		gort_chan_send(p->free, &i);
	gort_waitgroup_add(&p->wg, 2);
	int64_t t0 = bench_now_ns();
	gort_go(reader, p);
	gort_go(hasher, p);
	gort_waitgroup_wait(&p->wg);
	int64_t el = bench_now_ns() - t0;
	gort_chan_free(p->full);
	gort_chan_free(p->free);
	return el;
}

/* The file: the same bytes as the Go twin's (xorshift64, seed 1). */
static int make_file(long long mb, char *path, size_t pathlen)
{
	const char *dir = getenv("TMPDIR");
	snprintf(path, pathlen, "%s/gort-pipeline-XXXXXX", dir != NULL && *dir ? dir : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0)
		bench_fail("pipeline_read: mkstemp %s: %s", path, strerror(errno));
	uint64_t x = 1;
	static uint64_t block[8192];
	for (long long left = mb * 1024 * 1024; left > 0; left -= (long long)sizeof block) {
		for (size_t i = 0; i < 8192; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			block[i] = x;
		}
		if (write(fd, block, sizeof block) != (ssize_t)sizeof block)
			bench_fail("pipeline_read: write %s: %s", path, strerror(errno));
	}
	return fd;
}

static int real_main(int argc, char **argv)
{
	long long mb = 64, kb = 16, passes = 8, plain = 0;
	bench_parse_flags(argc, argv, (const struct bench_flag[]){
		{"mb", &mb, "file size in MiB"},
		{"kb", &kb, "read size in KiB"},
		{"passes", &passes, "times the file is read"},
		{"plain", &plain, "1: read with plain read(2), not gort_read"},
		{NULL, NULL, NULL},
	});
	if (mb < 1 || kb < 1 || passes < 1 || mb * 1024 % kb != 0)
		bench_fail("pipeline_read: -mb, -kb, -passes must be positive, and -kb divide the file");
	static struct pipe p;
	char path[4096];
	p.fd = make_file(mb, path, sizeof path);
	unlink(path);
	p.chunk = kb * 1024;
	p.plain = plain;
	for (int i = 0; i < NBUF; i++)
		if ((p.bufs[i] = malloc((size_t)p.chunk)) == NULL)
			bench_fail("pipeline_read: out of memory");

	run(&p, 1); /* warm-up: the page cache, the buffers, the threads */
	struct rusage r0, r1;
	getrusage(RUSAGE_SELF, &r0);
	int64_t el = run(&p, passes);
	getrusage(RUSAGE_SELF, &r1);
	if (p.bytes != passes * mb * 1024 * 1024)
		bench_fail("pipeline_read: read %lld bytes, want %lld", p.bytes, passes * mb * 1024 * 1024);
	double vcsw = (double)(r1.ru_nvcsw - r0.ru_nvcsw), ivcsw = (double)(r1.ru_nivcsw - r0.ru_nivcsw);
	report(plain ? "pipeline_read_plain" : "pipeline_read", "wall_ms", (double)el / 1e6,
	       {"mib_per_s", (double)p.bytes / (1 << 20) / ((double)el / 1e9)},
	       {"reads", (double)p.reads},
	       {"vcsw", vcsw},
	       {"ivcsw", ivcsw},
	       {"csw_per_1k_reads", (vcsw + ivcsw) * 1000 / (double)p.reads},
	       {"sum32", (double)(p.sum & 0xffffffff)});
	close(p.fd);
	return 0;
}

int main(int argc, char **argv)
{
	gort_main(real_main, argc, argv);
}
