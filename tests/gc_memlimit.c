/*
 * gc_memlimit - GOMEMLIMIT held within 5%, and the GC CPU limiter:
 *
 *   peak     GOGC=100 with 40 MiB live: the GOGC goal alone (80 MiB) lets
 *            the heap grow past 64 MiB - checked first, with no limit;
 *            then, with gort_set_memory_limit(64 MiB), the same churn
 *            keeps the heap's memory (sys - released: mapped, less what
 *            was given back) at most 1.05 x the limit at every sample,
 *            one sample per 256 KiB allocated
 *   limiter  GOMEMLIMIT=16MiB GOGC=off with 48 MiB live in small pointer
 *            objects (a collection must scan them all): the live heap can
 *            never fit, and without the limiter the pacer would collect
 *            every time the heap grew 1/32 - 1.5 MiB - so 682 collections
 *            for the 1 GiB this test allocates.  With it, collections
 *            stop once they have had their CPU-second and come at most as
 *            often as the mutator gets as much time as each takes; the
 *            test counts them (mem stats), and checks that the program
 *            finished its allocation and its live heap is intact.  Then
 *            the limiter gives the collector back: after a rest of more
 *            than the bucket's depth (1 s: idle time is the mutator's),
 *            the next allocation collects.
 * Neither check is a time: the limiter's count is bounded by a fixed
 * amount of allocation, and the bound is a quarter of the collections
 * the pacer alone would make (the measured count is printed; on a busy
 * machine each stopped world lasts longer and the count is lower); the
 * rest is a sleep's lower bound, and what follows it a count.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "harness.h"

static void sample(uint64_t *peak)
{
	gort_mem_stats ms;
	gort_read_mem_stats(&ms);
	uint64_t used = ms.sys - ms.heap_released;
	if (used > *peak)
		*peak = used;
}

enum { LIVE_MB = 40 };
static char *livebufs[LIVE_MB];

/* churn: allocate total bytes of 32 KiB pointer-free garbage, each written
 * whole (mutator work: a churn that does nothing but allocate would spend
 * over half its time collecting on a slow build or a busy machine, and the
 * GC CPU limiter would then let the heap past the limit, as it should),
 * sampling the heap's memory every 256 KiB; returns the peak. */
static uint64_t churn(size_t total)
{
	uint64_t peak = 0;
	for (size_t n = 0; n < total; n += 32 << 10) {
		memset(gort_new_noscan(32 << 10), 1, 32 << 10);
		if (n % (256 << 10) == 0)
			sample(&peak);
	}
	return peak;
}

static void peak(void)
{
	const uint64_t limit = (uint64_t)64 << 20;
	for (int i = 0; i < LIVE_MB; i++)
		livebufs[i] = gort_new_noscan(1 << 20);
	gort_gc(); /* the goal: 80 MiB */
	uint64_t without = churn((size_t)512 << 20);
	CHECK(without > limit + limit / 20, "without a limit the heap stayed at %llu bytes: the workload "
	      "does not test the limit", (unsigned long long)without);
	gort_free_os_memory();
	CHECK(gort_set_memory_limit((int64_t)limit) == INT64_MAX, "a limit was already set");
	gort_mem_stats ms;
	gort_read_mem_stats(&ms);
	uint32_t gc0 = ms.num_gc;
	uint64_t with = churn((size_t)512 << 20);
	gort_read_mem_stats(&ms);
	printf("peak: without a limit %.1f MiB, with GOMEMLIMIT=64MiB %.1f MiB (%u collections)\n",
	       (double)without / (1 << 20), (double)with / (1 << 20), ms.num_gc - gc0);
	CHECK(with <= limit + limit / 20, "GOMEMLIMIT=64MiB: the heap's memory reached %llu bytes (%.3f x)",
	      (unsigned long long)with, (double)with / (double)limit);
	for (int i = 0; i < LIVE_MB; i++)
		CHECK(livebufs[i][0] == 0 && livebufs[i][(1 << 20) - 1] == 0, "a live buffer changed");
	gort_set_memory_limit(INT64_MAX);
}

typedef struct cell {
	struct cell *next;
	int64_t v;
} cell;

static cell *head; /* 48 MiB live: 3 Mi cells of 16 bytes */
enum { NCELLS = 3 << 20 };

static void limiter(void)
{
	for (int64_t i = 0; i < NCELLS; i++) {
		cell *c = gort_new(sizeof *c);
		c->v = i;
		c->next = head;
		head = c;
	}
	gort_mem_stats ms;
	gort_read_mem_stats(&ms);
	uint32_t gc0 = ms.num_gc;
	/* the mutator's work: each chunk written whole, so that the program
	 * spends time between allocations as a real one does (the limiter
	 * lets a collection run only after as much mutator time as the last
	 * one took) */
	const size_t total = (size_t)1 << 30;
	for (size_t n = 0; n < total; n += 64 << 10)
		memset(gort_new_noscan(64 << 10), (int)(n >> 16), 64 << 10);
	gort_read_mem_stats(&ms);
	uint32_t gcs = ms.num_gc - gc0;
	/* the pacer alone: one collection per 1/32 of 48 MiB allocated */
	uint32_t unlimited = (uint32_t)(total / (((size_t)48 << 20) / 32));
	printf("limiter: %u collections for %zu MiB allocated over a 48 MiB live heap and a 16 MiB limit "
	       "(the pacer alone: %u); gc_cpu_fraction %.2f\n",
	       gcs, total >> 20, unlimited, ms.gc_cpu_fraction);
	CHECK(gcs <= unlimited / 4, "the collector thrashed: %u collections (the pacer alone: %u)", gcs,
	      unlimited);
	int64_t want = NCELLS - 1, count = 0;
	for (cell *c = head; c != NULL; c = c->next, want--, count++)
		CHECK(c->v == want, "the live list is broken at %lld", (long long)count);
	CHECK(count == NCELLS, "the live list has %lld cells", (long long)count);

	gort_sleep(1100 * 1000 * 1000); /* more than the bucket holds: it empties */
	gort_read_mem_stats(&ms);
	uint32_t before = ms.num_gc;
	/* 4 MiB: more than the 1.5 MiB past the last collection's mark at
	 * which the pacer asks for the next */
	for (int i = 0; i < 64; i++)
		memset(gort_new_noscan(64 << 10), 1, 64 << 10);
	gort_read_mem_stats(&ms);
	CHECK(ms.num_gc >= before + 1, "after a rest the limiter still put off the collection");
}

static int test_main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	if (strcmp(mode, "peak") == 0)
		TEST_RUN(peak);
	else if (strcmp(mode, "limiter") == 0)
		TEST_RUN(limiter);
	else
		CHECK(0, "unknown mode %s", mode);
	return test_pass("gc_memlimit");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
