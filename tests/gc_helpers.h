/*
 * gc_helpers.h - what the collector's tests share (tests/gc_*.c; include
 * after harness.h).
 *
 * The collector is conservative: a stale copy of an address in a dead
 * slot of a live stack keeps its object (README: the heap).  So the
 * objects a check expects collected are made on a goroutine of their own
 * that has ended (in_goroutine), and the tests scrub the stack below them
 * before they collect.
 */
#ifndef GORT_TESTS_GC_HELPERS_H
#define GORT_TESTS_GC_HELPERS_H

#include <stdatomic.h>
#include <string.h>

/* scrub: zero 16 KiB below the caller's frame, where its callees' dead
 * frames are. */
static __attribute__((noinline, unused)) void scrub(void)
{
	volatile char buf[16384];
	memset((char *)buf, 0, sizeof buf);
}

/* collect_until: collect until *c reaches want (finalizers counted there
 * run on their own goroutine) or 20 s pass; *c then. */
static __attribute__((unused)) long collect_until(atomic_long *c, long want)
{
	double start = test_seconds();
	while (atomic_load(c) < want && test_seconds() - start < 20) {
		scrub();
		gort_gc();
		gort_sleep(1000000);
	}
	return atomic_load(c);
}

static atomic_long gc_helpers_done;

typedef struct gc_helpers_call {
	void (*fn)(void *);
	void *arg;
} gc_helpers_call;

static void gc_helpers_call_body(void *arg)
{
	gc_helpers_call *c = arg;
	c->fn(c->arg);
	/* fn's dead frames, where it held what it dropped, are below us: a
	 * goroutine given this stack next would carry those words in the
	 * slots its frames leave unwritten. */
	scrub();
	test_done(&gc_helpers_done);
}

/* in_goroutine: fn(arg) on a goroutine of its own, waited for - what it
 * drops is then on no live stack. */
static __attribute__((unused)) void in_goroutine(void (*fn)(void *), void *arg)
{
	long want = atomic_load(&gc_helpers_done) + 1;
	gc_helpers_call c = {fn, arg};
	gort_go(gc_helpers_call_body, &c);
	test_wait(&gc_helpers_done, want, "the allocating goroutine");
}

#endif
