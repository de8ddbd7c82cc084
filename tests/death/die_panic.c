/*
 * die_panic - programs that end with an unrecovered panic or a fault, for
 * the death runner: Go's panic lines (nested, [recovered]), the [signal]
 * line, the goroutine header, exit status 2.  Frames (from traceback.c)
 * may follow the header: the expected files allow any lines there.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "gort.h"

static void say(void *s)
{
	printf("%s\n", (const char *)s);
}

static void second(void *arg)
{
	gort_panic("second");
}

static void recover_and_repanic(void *arg)
{
	const void *v = gort_recover();
	gort_panic(v);
}

static void swallow(void *arg)
{
	(void)gort_recover();
}

struct myerr {
	int code;
};
static void myerr_format(const void *v, char *buf, size_t n)
{
	snprintf(buf, n, "myerr %d", ((const struct myerr *)v)->code);
}
static const gort_panic_type myerr_type = {"struct myerr", myerr_format};
static const gort_panic_type opaque_type = {"struct opaque", NULL};


/* A load the sanitizers do not instrument: the fault must be the CPU's. */
static inline int load_int(int *p)
{
	int v;
	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(p) : "memory");
	return v;
}

static int *volatile nilptr;
static int *volatile wildptr; /* a PROT_NONE page: the same fault with or without ASan */

static void in_goroutine(void *arg)
{
	GORT_FRAME(return);
	gort_defer(say, "deferred in goroutine 2");
	gort_panic("from goroutine 2");
}

static int run(int argc, char **argv)
{
	GORT_FRAME(return 0);
	const char *mode = argc > 1 ? argv[1] : "";
	wildptr = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	gort_defer(say, "deferred ran");
	if (strcmp(mode, "unrecovered") == 0) {
		gort_panic("boom");
	} else if (strcmp(mode, "nested") == 0) {
		gort_defer(second, NULL);
		gort_panic("first");
	} else if (strcmp(mode, "repanic") == 0) {
		gort_defer(recover_and_repanic, NULL);
		gort_panic("first");
	} else if (strcmp(mode, "recovered_then_panic") == 0) {
		gort_defer(second, NULL);
		gort_defer(swallow, NULL);
		gort_panic("first");
	} else if (strcmp(mode, "value") == 0) {
		static struct myerr e = {7};
		gort_panic_value(&e, &myerr_type);
	} else if (strcmp(mode, "opaque") == 0) {
		gort_panic_value((void *)0x1234, &opaque_type);
	} else if (strcmp(mode, "nil") == 0) {
		gort_panic(NULL);
	} else if (strcmp(mode, "goroutine") == 0) {
		gort_go(in_goroutine, NULL);
		gort_block();
	} else if (strcmp(mode, "nilderef") == 0) {
		return load_int(nilptr);
	} else if (strcmp(mode, "nilderef_onfault") == 0) {
		gort_set_panic_on_fault(true);
		return load_int(nilptr);
	} else if (strcmp(mode, "fault") == 0) {
		return load_int(wildptr);
	} else if (strcmp(mode, "fault_onfault") == 0) {
		gort_set_panic_on_fault(true);
		return load_int(wildptr);
	}
	return 1;
}

int main(int argc, char **argv)
{
	gort_main(run, argc, argv);
}
