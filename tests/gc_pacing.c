/*
 * gc_pacing - the pacer's settings, as Go's:
 *
 *   gogc_off       GOGC=off (the environment): 256 MiB allocated and
 *                  dropped, no collection; gort_set_gc_percent returns -1,
 *                  then the new value
 *   gogc           GOGC=100: a workload with 1 MiB live cycles many times,
 *                  and the heap stays within its 4 MiB minimum goal
 *   memlimit       GOMEMLIMIT=64MiB GOGC=off: 1 GiB allocated through a
 *                  16 MiB live set; collections happen, and the heap's
 *                  resident size (in-use plus free-not-released) stays
 *                  within 5% of the limit at every sample
 *   setters        gort_set_memory_limit returns the previous limit; a
 *                  negative one only reads it
 *   gctrace        prints two forced collections with GODEBUG=gctrace=1
 *                  (CTest checks the lines' format)
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "harness.h"

static void drop(size_t total, size_t each)
{
	for (size_t n = 0; n < total; n += each)
		memset(gort_new_noscan(each), 1, 64);
}

static void gogc_off(void)
{
	gort_mem_stats ms;
	gort_read_mem_stats(&ms);
	uint32_t gc0 = ms.num_gc;
	drop((size_t)256 << 20, 4096);
	gort_read_mem_stats(&ms);
	CHECK(ms.num_gc == gc0, "GOGC=off: %u collections", ms.num_gc - gc0);
	CHECK(ms.total_alloc >= (uint64_t)256 << 20, "total_alloc %llu", (unsigned long long)ms.total_alloc);
	CHECK(gort_set_gc_percent(100) == -1, "GOGC=off: SetGCPercent did not return -1");
	CHECK(gort_set_gc_percent(50) == 100, "SetGCPercent did not return the previous value");
	CHECK(gort_set_gc_percent(-1) == 50, "SetGCPercent did not return the previous value");
}

enum { LIVE = 1024 };
static void *live[LIVE];

static void gogc(void)
{
	for (int i = 0; i < LIVE; i++)
		live[i] = gort_new(1024); /* 1 MiB live */
	gort_mem_stats ms;
	gort_read_mem_stats(&ms);
	uint32_t gc0 = ms.num_gc;
	uint64_t maxinuse = 0;
	for (int round = 0; round < 64; round++) {
		drop((size_t)1 << 20, 256);
		gort_read_mem_stats(&ms);
		if (ms.heap_inuse > maxinuse)
			maxinuse = ms.heap_inuse;
	}
	CHECK(ms.num_gc - gc0 >= 8, "GOGC=100: only %u collections for 64 MiB", ms.num_gc - gc0);
	/* goal 4 MiB; spans cached by the Ps and not yet swept add a little */
	CHECK(maxinuse < (uint64_t)8 << 20, "GOGC=100: heap in use reached %llu bytes",
	      (unsigned long long)maxinuse);
	memset(live, 0, sizeof live);
}

enum { MLIVE = 16 };
static void *mlive[MLIVE];

static void memlimit(void)
{
	const uint64_t limit = (uint64_t)64 << 20;
	CHECK(gort_set_memory_limit(-1) == (int64_t)limit, "GOMEMLIMIT=64MiB read back as %lld",
	      (long long)gort_set_memory_limit(-1));
	for (int i = 0; i < MLIVE; i++)
		mlive[i] = gort_new_noscan(1 << 20); /* 16 MiB live */
	gort_mem_stats ms;
	gort_read_mem_stats(&ms);
	uint32_t gc0 = ms.num_gc;
	uint64_t worst = 0;
	for (int round = 0; round < 256; round++) {
		drop((size_t)4 << 20, 32 << 10);
		gort_read_mem_stats(&ms);
		uint64_t resident = ms.heap_sys - ms.heap_released;
		if (resident > worst)
			worst = resident;
	}
	CHECK(ms.num_gc - gc0 >= 10, "GOMEMLIMIT: only %u collections", ms.num_gc - gc0);
	CHECK(worst <= limit + limit / 20, "GOMEMLIMIT=64MiB: the heap reached %llu bytes resident",
	      (unsigned long long)worst);
	printf("memlimit: %u collections, heap resident at most %.1f MiB (limit 64)\n", ms.num_gc - gc0,
	       (double)worst / (1 << 20));
	memset(mlive, 0, sizeof mlive);
	CHECK(gort_set_memory_limit(INT64_MAX) == (int64_t)limit, "SetMemoryLimit: previous value");
	CHECK(gort_set_memory_limit(-5) == INT64_MAX, "SetMemoryLimit(-5) changed the limit");
}

static int test_main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	if (strcmp(mode, "gogc_off") == 0)
		TEST_RUN(gogc_off);
	else if (strcmp(mode, "gogc") == 0)
		TEST_RUN(gogc);
	else if (strcmp(mode, "memlimit") == 0)
		TEST_RUN(memlimit);
	else if (strcmp(mode, "gctrace") == 0) {
		gort_gc();
		gort_gc();
	} else
		CHECK(0, "unknown mode %s", mode);
	return test_pass("gc_pacing");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
