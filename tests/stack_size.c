/*
 * stack_size - proves goroutines get the stack they ask for:
 *   stack_size attr  gort_go_attr with stack_size = 1 MiB runs a goroutine
 *                    that uses a 512 KiB local array (every page touched),
 *                    and a size that is not a whole number of pages
 *                    (300,000 bytes) is rounded up and usable to 256 KiB;
 *   stack_size env   with GORT_STACK_SIZE=256k (set by CTest) a default
 *                    goroutine uses a 128 KiB local array.
 * (The default 64 KiB stack would overflow in each case: see the
 * death_stack_overflow tests.)
 */
#define _GNU_SOURCE
#include <string.h>

#include "harness.h"

#define KiB 1024
#define PAGE 4096

static atomic_long done;
static atomic_long sums[3];

/* use_stack fills a size-byte local array, a page at a time, and reads it
 * back; it returns the sum so nothing can be optimised away. */
#define DEFINE_USER(name, size) \
	static __attribute__((noinline)) long name(void) \
	{ \
		volatile unsigned char buf[size]; \
		for (size_t i = 0; i < (size); i += PAGE) \
			buf[i] = (unsigned char)(i / PAGE); \
		buf[(size)-1] = 1; \
		long sum = 0; \
		for (size_t i = 0; i < (size); i += PAGE) \
			sum += buf[i]; \
		return sum + buf[(size)-1]; \
	}

DEFINE_USER(use_512k, 512 * KiB)
DEFINE_USER(use_256k, 256 * KiB)
DEFINE_USER(use_128k, 128 * KiB)

static long expected_sum(size_t size)
{
	long sum = 0;
	for (size_t i = 0; i < size; i += PAGE)
		sum += (unsigned char)(i / PAGE);
	return sum + 1;
}

static void run_512k(void *arg)
{
	atomic_store(&sums[0], use_512k());
	test_done(&done);
}

static void run_256k(void *arg)
{
	atomic_store(&sums[1], use_256k());
	test_done(&done);
}

static void run_128k(void *arg)
{
	atomic_store(&sums[2], use_128k());
	test_done(&done);
}

static int test_main(int argc, char **argv)
{
	CHECK(argc == 2, "usage: stack_size attr|env");
	if (strcmp(argv[1], "attr") == 0) {
		gort_go_attr(&(gort_goattr){.stack_size = 1024 * KiB}, run_512k, NULL, 0);
		gort_go_attr(&(gort_goattr){.stack_size = 300000}, run_256k, NULL, 0);
		test_wait(&done, 2, "the goroutines with big stacks");
		CHECK(sums[0] == expected_sum(512 * KiB), "512 KiB array: sum %ld", sums[0]);
		CHECK(sums[1] == expected_sum(256 * KiB), "256 KiB array: sum %ld", sums[1]);
	} else if (strcmp(argv[1], "env") == 0) {
		const char *env = getenv("GORT_STACK_SIZE");
		CHECK(env != NULL && strcmp(env, "256k") == 0, "CTest sets GORT_STACK_SIZE=256k");
		gort_go(run_128k, NULL);
		test_wait(&done, 1, "the goroutine with a 128 KiB array");
		CHECK(sums[2] == expected_sum(128 * KiB), "128 KiB array: sum %ld", sums[2]);
	} else {
		CHECK(0, "unknown mode %s", argv[1]);
	}
	return test_pass(argv[1][0] == 'a' ? "stack_size attr" : "stack_size env");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
