/*
 * pprof_heap.c - the heap and allocs profiles (mprof_heap.c, pprof.c).
 *
 * At gort_set_mem_profile_rate(1) every object is sampled.  A goroutine
 * allocates N objects of 64 bytes (a size class: no rounding) from
 * alloc_obj and leaves them in a global array, then ends (its stack, which
 * held them too, is no longer scanned).  After gort_gc the heap profile's
 * record of alloc_obj holds N in use and N allocated; once the array is
 * cleared and gort_gc has run again, 0 in use and still N allocated.  The
 * text form (debug=1) is checked here: header, record, frames, the
 * "# runtime.MemStats" trailer.  With file arguments, the protos of both
 * moments (heap, allocs) are written there for pprof_heap_check.py, which
 * reads them with Go's `go tool pprof -raw`.
 *
 *   pprof_heap [HEAP1 HEAP2 ALLOCS2]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>

#include "harness.h"

enum { N = 1000, SIZE = 64 };

void *keep[N]; /* not static: a write-only static array may be optimized away */

__attribute__((noinline)) static void *alloc_obj(void)
{
	void *p = gort_new(SIZE);
	__asm__ volatile("" : : "r"(p) : "memory");
	return p;
}

static void alloc_all(void *arg)
{
	gort_waitgroup *wg = arg;
	for (int i = 0; i < N; i++)
		keep[i] = alloc_obj();
	gort_waitgroup_done(wg);
}

/* profile: the profile's text (debug=1), NUL-terminated, malloc'd. */
static char *profile(const char *name)
{
	int fd = memfd_create("heap", 0);
	CHECK(fd >= 0, "memfd_create");
	int err = gort_pprof_lookup_write(name, fd, 1);
	CHECK(err == 0, "gort_pprof_lookup_write(%s): %d", name, err);
	off_t n = lseek(fd, 0, SEEK_CUR);
	char *s = malloc((size_t)n + 1);
	CHECK(pread(fd, s, (size_t)n, 0) == n, "pread");
	s[n] = '\0';
	close(fd);
	return s;
}

/* record: the "inuse: bytes [allocs: bytes]" of the record whose first
 * frame is alloc_obj. */
static void record(const char *text, long long v[4])
{
	const char *line = text;
	int found = 0;
	while ((line = strchr(line, '\n')) != NULL) {
		line++;
		long long a, b, c, d;
		if (sscanf(line, "%lld: %lld [%lld: %lld] @", &a, &b, &c, &d) != 4)
			continue;
		const char *next = strchr(line, '\n');
		if (next == NULL)
			break;
		if (strncmp(next + 1, "#\t", 2) != 0)
			continue;
		const char *end = strchr(next + 1, '\n');
		const char *fn = strstr(next + 1, "alloc_obj+");
		if (fn == NULL || (end != NULL && fn > end))
			continue;
		v[0] = a, v[1] = b, v[2] = c, v[3] = d;
		found++;
	}
	CHECK(found == 1, "%d records with alloc_obj on top in:\n%s", found, text);
}

static void check_text(const char *text, long long inuse)
{
	CHECK(strncmp(text, "heap profile: ", 14) == 0, "header: %.60s", text);
	if (getenv("PPROF_HEAP_SHOW"))
		fputs(text, stderr);
	char hdr[32];
	snprintf(hdr, sizeof hdr, " @ heap/%d\n", 2 * gort_set_mem_profile_rate(-1));
	CHECK(strstr(text, hdr) != NULL, "no \"%s\" (2 * the rate) in the header", hdr);
	long long v[4] = {-1, -1, -1, -1};
	record(text, v);
	CHECK(v[0] == inuse && v[1] == inuse * SIZE && v[2] == N && v[3] == (long long)N * SIZE,
	      "alloc_obj: %lld: %lld [%lld: %lld], want %lld: %lld [%d: %d]", v[0], v[1], v[2], v[3],
	      inuse, inuse * SIZE, N, N * SIZE);
	static const char *const trailer[] = {
		"\n# runtime.MemStats\n# Alloc = ", "\n# TotalAlloc = ", "\n# Sys = ", "\n# Mallocs = ",
		"\n# Frees = ", "\n# HeapAlloc = ", "\n# HeapSys = ", "\n# HeapIdle = ", "\n# HeapInuse = ",
		"\n# HeapReleased = ", "\n# HeapObjects = ", "\n# NextGC = ", "\n# LastGC = ",
		"\n# PauseNs = [", "\n# NumGC = ", "\n# NumForcedGC = ", "\n# GCCPUFraction = ",
		"\n# MaxRSS = "};
	const char *at = text;
	for (size_t i = 0; i < sizeof trailer / sizeof trailer[0]; i++) {
		const char *p = strstr(at, trailer[i]);
		CHECK(p != NULL, "no %s (in order) in the trailer", trailer[i] + 1);
		at = p + 1;
	}
}

static void write_proto(const char *name, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0, "open %s", path);
	int err = gort_pprof_lookup_write(name, fd, 0);
	CHECK(err == 0, "gort_pprof_lookup_write(%s, 0): %d", name, err);
	close(fd);
}

static int test_main(int argc, char **argv)
{
	CHECK(gort_set_mem_profile_rate(1) == 512 * 1024, "the default rate is not 512 KiB");
	CHECK(gort_set_mem_profile_rate(-1) == 1, "the rate did not change");
	static gort_waitgroup wg = GORT_WAITGROUP_INIT;
	gort_waitgroup_add(&wg, 1);
	gort_go(alloc_all, &wg);
	gort_waitgroup_wait(&wg);
	gort_gc();

	/* the same objects in gort_read_metrics' heap fields (version 3) */
	gort_metrics m = {.size = sizeof m};
	CHECK(gort_read_metrics(&m) == 0 && m.version >= 3, "metrics version %u", m.version);
	uint64_t npause = 0;
	for (int i = 0; i < GORT_METRICS_SCHEDLAT_BUCKETS; i++)
		npause += m.gc_pauses[i];
	CHECK(m.gc_heap_allocs_objects >= N && m.gc_heap_allocs_bytes >= (uint64_t)N * SIZE &&
	          m.heap_objects_bytes >= (uint64_t)N * SIZE && m.gc_heap_objects >= N &&
	          m.gc_heap_allocs_objects == m.gc_heap_objects + m.gc_heap_frees_objects &&
	          m.gc_cycles >= 1 && m.gc_cycles_forced >= 1 && npause == m.gc_cycles &&
	          m.gc_pause_last_ns > 0 && m.gc_pause_total_ns >= m.gc_pause_last_ns,
	      "metrics: allocs %llu objects %llu bytes %llu, cycles %llu forced %llu pauses %llu last %llu",
	      (unsigned long long)m.gc_heap_allocs_objects, (unsigned long long)m.gc_heap_objects,
	      (unsigned long long)m.heap_objects_bytes, (unsigned long long)m.gc_cycles,
	      (unsigned long long)m.gc_cycles_forced, (unsigned long long)npause,
	      (unsigned long long)m.gc_pause_last_ns);

	char *text = profile("heap");
	check_text(text, N);
	free(text);
	text = profile("allocs"); /* the same records: Go writes both with writeHeapInternal */
	check_text(text, N);
	free(text);
	if (argc > 1)
		write_proto("heap", argv[1]);

	memset(keep, 0, sizeof keep);
	gort_gc();
	text = profile("heap");
	check_text(text, 0);
	free(text);
	if (argc > 3) {
		write_proto("heap", argv[2]);
		write_proto("allocs", argv[3]);
	}

	/* rate 0: nothing more is sampled */
	gort_set_mem_profile_rate(0);
	for (int i = 0; i < N; i++)
		keep[i] = alloc_obj();
	gort_gc();
	text = profile("heap");
	check_text(text, 0);
	free(text);
	return test_pass("pprof_heap");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
