/*
 * defer - defer, panic and recover behave as Go's:
 *   - deferred calls run last-in-first-out on return, on panic, on Goexit
 *     (also beyond the frame's inline slots, and in nested frames);
 *   - a recovering deferred call stops the panic: its function returns
 *     normally (GORT_FRAME's value) after its other deferred calls ran,
 *     and the program goes on;
 *   - recover returns NULL when not panicking, from a function a deferred
 *     call calls (also one inlined into it), on a normal return, during
 *     Goexit, and a second time;
 *   - nested panics and re-panics; a panic in a deferred call of a normal
 *     return; runtime errors (channels, WaitGroup) are panics;
 *   - with gort_set_panic_on_fault, a nil dereference is a recoverable
 *     panic; Goexit cannot be cancelled by a recover below it.
 */
#define _GNU_SOURCE
#include <string.h>

#include "harness.h"

static char trail[256]; /* what ran, in order */

static void note(void *s)
{
	strcat(trail, (const char *)s);
}

static void reset(void)
{
	trail[0] = '\0';
}

#define EXPECT_TRAIL(want) CHECK(strcmp(trail, (want)) == 0, "trail %s, want %s", trail, (want))

/* ---- order on return ------------------------------------------------------ */

static int three(int early)
{
	GORT_FRAME(return -1);
	gort_defer(note, "1");
	gort_defer(note, "2");
	if (early)
		return 7;
	gort_defer(note, "3");
	return 8;
}

static void many(void)
{
	GORT_FRAME(return);
	static char digits[20][3];
	for (int i = 0; i < 20; i++) {
		snprintf(digits[i], sizeof digits[i], "%c", 'a' + i);
		gort_defer(note, digits[i]);
	}
}

static void inner_frame(void)
{
	GORT_FRAME(return);
	gort_defer(note, "i");
}

static void outer_frame(void)
{
	GORT_FRAME(return);
	gort_defer(note, "o1");
	inner_frame();
	note("m");
	gort_defer(note, "o2");
}

/* ---- recover --------------------------------------------------------------- */

static const void *recovered;

static void do_recover(void *arg)
{
	(void)arg;
	recovered = gort_recover();
}

static void recover_twice(void *arg)
{
	(void)arg;
	recovered = gort_recover();
	CHECK(gort_recover() == NULL, "a second recover returned a value");
}

static __attribute__((noinline)) const void *helper_recover(void)
{
	return gort_recover();
}

static void recover_indirect(void *arg)
{
	(void)arg;
	CHECK(helper_recover() == NULL, "recover from a function the deferred call called");
	note("h");
}

/* A helper the compiler must inline: its recover is not made directly by
 * the deferred call, though no frame of its own says so. */
static inline __attribute__((always_inline)) const void *inlined_helper_recover(void)
{
	return gort_recover();
}

static void recover_inlined(void *arg)
{
	(void)arg;
	CHECK(inlined_helper_recover() == NULL, "recover from a helper inlined into the deferred call");
	note("i");
}

static int panicker_inlined(void)
{
	GORT_FRAME(return 7);
	gort_defer(do_recover, NULL);      /* runs second: recovers */
	gort_defer(recover_inlined, NULL); /* runs first: must not */
	gort_panic("inl");
	return 0;
}

static int panicker(const char *msg)
{
	GORT_FRAME(return 42);
	gort_defer(note, "p1");
	gort_defer(do_recover, NULL);
	gort_defer(note, "p2");
	gort_panic(msg);
	return 0;
}

static void through(void)
{
	GORT_FRAME(return);
	gort_defer(note, "t");
	gort_panic("through");
}

static int catcher(void)
{
	volatile int x = 1;
	GORT_FRAME(return x + 100);
	gort_defer(do_recover, NULL);
	gort_defer(note, "c");
	x = 2;
	through();
	note("never");
	return 0;
}

/* A named result set by the recovering deferred call (Go's `defer func()
 * { if recover() != nil { err = ... } }()`). */
static void set_err(void *errp)
{
	const char *msg = gort_recover();
	if (msg != NULL)
		*(const char **)errp = msg;
}

static const char *with_err(gort_chan *c)
{
	const char *err = NULL;
	GORT_FRAME(return err);
	gort_defer(set_err, &err);
	int v = 1;
	gort_chan_send(c, &v); /* closed: panics */
	return "no panic";
}

/* ---- nested and re-panics ------------------------------------------------------- */

static void panic_in_defer(void *arg)
{
	(void)arg;
	note("d");
	gort_panic("second");
}

static int nested(void)
{
	GORT_FRAME(return 1);
	gort_defer(do_recover, NULL);
	gort_defer(note, "n");
	gort_defer(panic_in_defer, NULL);
	gort_panic("first");
	return 0;
}

static void repanic(void *arg)
{
	(void)arg;
	const void *v = gort_recover();
	CHECK(v != NULL, "repanic: nothing recovered");
	gort_panic_value(v, NULL);
}

static int repanicker(void)
{
	GORT_FRAME(return 5);
	gort_defer(do_recover, NULL);
	gort_defer(repanic, NULL);
	gort_panic("again");
	return 0;
}

/* A panic in a deferred call run by a normal return is recovered by an
 * earlier deferred call of the same frame: the function still returns. */
static int panic_on_return(void)
{
	GORT_FRAME(return 9);
	gort_defer(do_recover, NULL);
	gort_defer(note, "r1");
	gort_defer(panic_in_defer, NULL);
	return 3;
}

/* A deferred call that itself has a frame which recovers a panic raised
 * inside it: the outer panic goes on. */
static void self_contained(void *arg)
{
	(void)arg;
	GORT_FRAME(return);
	gort_defer(do_recover, NULL);
	gort_panic("inner");
}

static int outer_goes_on(void)
{
	GORT_FRAME(return 11);
	gort_defer(recover_twice, NULL);
	gort_defer(self_contained, NULL);
	gort_panic("outer");
	return 0;
}

/* ---- typed values ------------------------------------------------------------- */

struct myerr {
	int code;
};
static void myerr_format(const void *v, char *buf, size_t n)
{
	snprintf(buf, n, "myerr %d", ((const struct myerr *)v)->code);
}
static const gort_panic_type myerr_type = {"struct myerr", myerr_format};
static const gort_panic_type *seen_type;

static void recover_typed(void *arg)
{
	(void)arg;
	recovered = gort_recover_typed(&seen_type);
}

static void typed(const struct myerr *e)
{
	GORT_FRAME(return);
	gort_defer(recover_typed, NULL);
	gort_panic_value(e, &myerr_type);
}

/* ---- runtime errors --------------------------------------------------------------- */

static void close_nil(void)
{
	GORT_FRAME(return);
	gort_defer(do_recover, NULL);
	gort_chan_close(NULL);
}

static void wg_negative(void)
{
	GORT_FRAME(return);
	gort_defer(do_recover, NULL);
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	gort_waitgroup_done(&wg);
}

/* ---- faults --------------------------------------------------------------------- */


/* A load the sanitizers do not instrument: the fault must be the CPU's. */
static inline int load_int(int *p)
{
	int v;
	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(p) : "memory");
	return v;
}

static int *volatile nilptr;

static int deref(void)
{
	GORT_FRAME(return -2);
	gort_defer(do_recover, NULL);
	gort_defer(note, "f");
	return load_int(nilptr);
}

/* ---- Goexit ---------------------------------------------------------------------- */

static gort_waitgroup wg = GORT_WAITGROUP_INIT;

static void wg_done(void *w)
{
	gort_waitgroup_done(w);
}

static void exit_inner(void)
{
	GORT_FRAME(return);
	gort_defer(recover_indirect, NULL);
	gort_defer(do_recover, NULL); /* during Goexit: NULL */
	gort_defer(note, "x2");
	gort_goexit();
}

static void exiter(void *arg)
{
	(void)arg;
	GORT_FRAME(return);
	gort_defer(wg_done, &wg);
	gort_defer(note, "x0");
	exit_inner();
	note("never");
}

/* Goexit's deferred call panics; a frame outside the Goexit recovers it:
 * the goroutine still exits, after the rest of the deferred calls. */
static void panic_during_goexit(void *arg)
{
	(void)arg;
	note("g");
	gort_panic("during goexit");
}

static void exit_then_panic_inner(void)
{
	GORT_FRAME(return);
	gort_defer(panic_during_goexit, NULL);
	gort_goexit();
}

static void exit_then_panic(void *arg)
{
	(void)arg;
	GORT_FRAME(return);
	gort_defer(wg_done, &wg);
	gort_defer(note, "z");
	gort_defer(do_recover, NULL);
	exit_then_panic_inner();
	note("never");
}

static int test(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	reset();
	CHECK(three(0) == 8, "three(0)");
	EXPECT_TRAIL("321");
	reset();
	CHECK(three(1) == 7, "three(1)");
	EXPECT_TRAIL("21");
	reset();
	many();
	EXPECT_TRAIL("tsrqponmlkjihgfedcba");
	reset();
	outer_frame();
	EXPECT_TRAIL("imo2o1");

	/* not panicking: recover returns NULL */
	CHECK(gort_recover() == NULL, "recover outside a panic");
	recovered = "x";
	do_recover(NULL);
	CHECK(recovered == NULL, "recover in a call not deferred");

	reset();
	recovered = NULL;
	CHECK(panicker("boom") == 42, "recovered function's value");
	CHECK(recovered != NULL && strcmp(recovered, "boom") == 0, "recovered value");
	EXPECT_TRAIL("p2p1");

	/* Go's rule under inlining: known only from the DWARF inlining records. */
	if (gort_traceback_symbolized()) {
		reset();
		recovered = NULL;
		CHECK(panicker_inlined() == 7, "recovered function's value");
		CHECK(recovered != NULL && strcmp(recovered, "inl") == 0, "the outer deferred call recovered");
		EXPECT_TRAIL("i");
	}

	reset();
	recovered = NULL;
	CHECK(catcher() == 102, "value after recovery through a frame");
	CHECK(recovered != NULL && strcmp(recovered, "through") == 0, "through");
	EXPECT_TRAIL("tc");

	gort_chan *c = gort_chan_make(sizeof(int), 1);
	gort_chan_close(c);
	const char *err = with_err(c);
	CHECK(err != NULL && strcmp(err, "send on closed channel") == 0, "err %s", err ? err : "NULL");
	gort_chan_free(c);

	reset();
	recovered = NULL;
	CHECK(nested() == 1, "nested");
	CHECK(recovered != NULL && strcmp(recovered, "second") == 0, "nested: recovered the second");
	EXPECT_TRAIL("dn");

	recovered = NULL;
	CHECK(repanicker() == 5, "repanic");
	CHECK(recovered != NULL && strcmp(recovered, "again") == 0, "re-panicked value");

	reset();
	recovered = NULL;
	CHECK(panic_on_return() == 9, "panic on return: the recovered value");
	CHECK(recovered != NULL && strcmp(recovered, "second") == 0, "panic on return");
	EXPECT_TRAIL("dr1");

	recovered = NULL;
	CHECK(outer_goes_on() == 11, "outer panic after an inner recovered one");
	CHECK(recovered != NULL && strcmp(recovered, "outer") == 0, "outer recovered");

	struct myerr e = {7};
	recovered = NULL;
	typed(&e);
	CHECK(recovered == &e && seen_type == &myerr_type, "typed value");
#if 0
#endif

	recovered = NULL;
	close_nil();
	CHECK(recovered != NULL && strcmp(recovered, "close of nil channel") == 0, "close of nil");
	recovered = NULL;
	wg_negative();
	CHECK(recovered != NULL && strcmp(recovered, "sync: negative WaitGroup counter") == 0, "wg");

	reset();
	CHECK(!gort_set_panic_on_fault(true), "panic on fault: off by default");
	recovered = NULL;
	CHECK(deref() == -2, "nil dereference recovered");
	CHECK(recovered != NULL &&
	          strcmp(recovered, "runtime error: invalid memory address or nil pointer dereference") == 0,
	      "fault value");
	EXPECT_TRAIL("f");
	CHECK(gort_set_panic_on_fault(false), "panic on fault: was on");

	/* recovered panics leave nothing behind: a normal defer still works */
	reset();
	CHECK(three(0) == 8, "three after panics");
	EXPECT_TRAIL("321");

	reset();
	gort_waitgroup_add(&wg, 1);
	gort_go(exiter, NULL);
	gort_waitgroup_wait(&wg);
	EXPECT_TRAIL("x2hx0");

	reset();
	gort_waitgroup_add(&wg, 1);
	gort_go(exit_then_panic, NULL);
	gort_waitgroup_wait(&wg);
	EXPECT_TRAIL("gz");
	CHECK(gort_numgoroutine() >= 1, "alive");
	return test_pass("defer");
}

int main(int argc, char **argv)
{
	gort_main(test, argc, argv);
}
