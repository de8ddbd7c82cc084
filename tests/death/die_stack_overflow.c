/*
 * die_stack_overflow - a goroutine runs off the end of its stack; the
 * process must die with Go's report naming that goroutine, exit status 2.
 * GOMAXPROCS=1, and main spawns three goroutines first, so the one that
 * overflows is goroutine 5.
 *
 *   die_stack_overflow recurse   unbounded recursion, 1 KiB array a frame,
 *                                on the default 64 KiB stack (CTest runs it
 *                                with the default guard and with
 *                                GORT_STACKGUARD=mprotect)
 *   die_stack_overflow attr      the same on a 128 KiB stack from gort_go_attr
 *   die_stack_overflow bigframe  one frame larger than the whole stack and
 *                                its guard, writing only its lowest page:
 *                                caught because the CMake target builds this
 *                                with -fstack-clash-protection
 *   die_stack_overflow canary    for GORT_STACKGUARD=canary, where no guard
 *                                page faults and the overflow is found at the
 *                                goroutine's next switch: recurse to near the
 *                                bottom, then a frame whose array straddles
 *                                the stack's lowest word (the canary) writes
 *                                all of it and calls gort_gosched().
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "../harness.h"

#define OVERFLOWER_ID 5
#define DEFAULT_STACK (64 << 10)

static volatile long depth_limit = LONG_MAX; /* never reached: keeps -Winfinite-recursion quiet */
static uintptr_t stack_hi;                   /* top of the overflowing goroutine's stack */

static __attribute__((noinline)) long recurse(long depth)
{
	volatile char pad[1024];
	pad[0] = (char)depth;
	pad[sizeof pad - 1] = (char)depth;
	if (depth >= depth_limit)
		return pad[0];
	return recurse(depth + 1) + pad[sizeof pad - 1];
}

/* clobber_and_yield runs just above the stack's bottom: its array covers
 * the lowest word of the stack and reaches below it. */
static __attribute__((noinline)) void clobber_and_yield(void)
{
	char buf[4096];
	memset(buf, 0x5a, sizeof buf);
	__asm__ volatile("" : : "r"(buf) : "memory"); /* buf is used */
	gort_gosched();
	fprintf(stderr, "die_stack_overflow: an overflow past the canary went unnoticed\n");
	_exit(1);
}

/* bigframe: 84 KiB in one frame, on a 64 KiB stack with a 16 KiB guard.
 * Without stack-clash probes, the write to buf's low end would land past
 * the guard, in the stack below. */
static __attribute__((noinline)) void bigframe(void)
{
	char buf[84 << 10];
	memset(buf, 0x5a, 4096);
	__asm__ volatile("" : : "r"(buf) : "memory"); /* buf is used */
}

static __attribute__((noinline)) long descend(long depth)
{
	volatile char pad[1024];
	pad[0] = (char)depth;
	if ((uintptr_t)&pad[0] < stack_hi - DEFAULT_STACK + 2048)
		clobber_and_yield();
	if (depth >= depth_limit)
		return pad[0];
	return descend(depth + 1) + pad[0];
}

/* what overflow does: its argument (gort_go_attr's NULL is RECURSE) */
enum { RECURSE = 0, DESCEND, BIGFRAME };

static void overflow(void *arg)
{
	char here;
	/* The first frame sits within a page of the stack's (page-aligned) top. */
	stack_hi = ((uintptr_t)&here | 4095) + 1;
	__asm__ volatile("" : : "r"(&here) : "memory");
	switch ((intptr_t)arg) {
	case BIGFRAME:
		bigframe();
		break;
	case DESCEND:
		descend(0);
		break;
	default:
		recurse(0);
	}
	fprintf(stderr, "die_stack_overflow: recursion ended\n");
	_exit(1);
}

static void noop(void *arg)
{
}

static int test_main(int argc, char **argv)
{
	CHECK(argc == 2, "usage: die_stack_overflow recurse|attr|canary|bigframe");
	CHECK(gort_gomaxprocs(0) == 1, "CTest runs this at GOMAXPROCS=1");
	for (int i = 0; i < 3; i++)
		gort_go(noop, NULL);
	int64_t id;
	if (strcmp(argv[1], "recurse") == 0)
		id = gort_go(overflow, (void *)(intptr_t)RECURSE);
	else if (strcmp(argv[1], "attr") == 0)
		id = gort_go_attr(&(gort_goattr){.stack_size = 128 << 10}, overflow, NULL, 0);
	else if (strcmp(argv[1], "canary") == 0)
		id = gort_go(overflow, (void *)(intptr_t)DESCEND);
	else if (strcmp(argv[1], "bigframe") == 0)
		id = gort_go(overflow, (void *)(intptr_t)BIGFRAME);
	else
		CHECK(0, "unknown mode %s", argv[1]);
	CHECK(id == OVERFLOWER_ID, "the overflowing goroutine is %lld, the expected output says %d",
	      (long long)id, OVERFLOWER_ID);
	for (long i = 0; i < 10000000; i++)
		gort_gosched();
	fprintf(stderr, "die_stack_overflow: still alive\n");
	return 1;
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
