/*
 * harness.h - the few helpers gort's behaviour tests share.
 *
 *   CHECK(cond, fmt, ...)   if cond is false: print "file:line: CHECK(cond)
 *                           failed: message" on stderr and exit 1.
 *   test_pass(name)         print "PASS name" and return 0; every test's
 *                           main_fn ends with `return test_pass("name");`.
 *   test_gettid()           the calling OS thread's id.
 *   test_done(c)            a goroutine counts itself finished (release);
 *   test_wait(c, want, what)  join: yield (gort_gosched) until the atomic
 *                           counter c reaches want (acquire).
 *   test_catch_typed        a deferred call recovering a panic's value and
 *                           type into a test_caught
 *   TEST_RUN(f)             run test function f, print "--- PASS: f (t)"
 *
 * The core tests, written before gort had channels or WaitGroup, join
 * goroutines with a C11 atomic counter and a gort_gosched() loop; newer tests
 * join with gort_waitgroup and use test_wait only to wait for a condition
 * that no gort primitive signals.  Tests never sleep and never
 * assert on timing (except the time tests, time_*.c, which sleep and check
 * only lower bounds: see time_util.h); the one clock here is a watchdog in
 * test_wait, so that a hang fails with what it was waiting for instead of a
 * bare CTest timeout.
 * (sync_mutex's starvation check is the one test of a rule Go states in wall
 * time - 1 ms - and busy-waits 2 ms per hold, with a wide margin.)
 */
#ifndef GORT_TEST_HARNESS_H
#define GORT_TEST_HARNESS_H

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "gort.h"

#define CHECK(cond, ...) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__); \
			fputc('\n', stderr); \
			exit(1); \
		} \
	} while (0)

static inline int test_pass(const char *name)
{
	printf("PASS %s\n", name);
	fflush(stdout);
	return 0;
}

static inline pid_t test_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* Below CTest's 60 s TIMEOUT, far above any healthy run. */
#define TEST_WATCHDOG_SECONDS 45

static inline double test_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* test_wait yields until *c >= want (acquire: what the counted goroutines
 * wrote before their release-increment is visible afterwards). */
static inline void test_wait(atomic_long *c, long want, const char *what)
{
	double start = test_seconds();
	for (unsigned long i = 0; atomic_load_explicit(c, memory_order_acquire) < want; i++) {
		if ((i & 1023) == 1023)
			CHECK(test_seconds() - start < TEST_WATCHDOG_SECONDS,
			      "watchdog: waited %d s for %s: %ld of %ld", TEST_WATCHDOG_SECONDS, what,
			      atomic_load(c), want);
		gort_gosched();
	}
}

/* test_done counts one finished goroutine for test_wait. */
static inline void test_done(atomic_long *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_release);
}

/* test_caught / test_catch_typed: a deferred call that recovers a panic
 * into a test_caught, value and type:
 *     GORT_FRAME(return); gort_defer(test_catch_typed, &got); ... */
typedef struct test_caught {
	const char *value;
	const gort_panic_type *type;
} test_caught;

static inline void test_catch_typed(void *arg)
{
	test_caught *c = arg;
	c->value = gort_recover_typed(&c->type);
}

/* TEST_RUN(f) runs the test function f and prints Go's "--- PASS: f (t)". */
static inline void test_run(const char *name, void (*test)(void))
{
	double start = test_seconds();
	test();
	printf("--- PASS: %s (%.2fs)\n", name, test_seconds() - start);
}
#define TEST_RUN(test) test_run(#test, test)

#endif /* GORT_TEST_HARNESS_H */
