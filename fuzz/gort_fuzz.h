/*
 * gort_fuzz.h - what a runtime fuzz target (one marked `// fuzz-runtime: gort`)
 * gets from its driver, fuzz/gort_fuzz_main.c.
 *
 * The driver runs LLVMFuzzerTestOneInput inside a goroutine (with a big
 * stack, locked to its thread), so a target may call any gort function, block
 * and spawn goroutines; it must leave nothing running when it returns.  The
 * driver restores GOMAXPROCS after each input, and a watchdog thread (not a
 * goroutine: it must work when the scheduler does not) aborts an input that
 * runs longer than FUZZ_HANG_SECONDS (default 10), naming it.
 */
#ifndef GORT_FUZZ_H
#define GORT_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_fail: a wrong outcome.  Prints "<target>: <message>", names the
 * input (its file when replaying; under libFuzzer the crash-* artifact it
 * writes), and aborts. */
__attribute__((noreturn, format(printf, 2, 3)))
void fuzz_fail(const char *target, const char *fmt, ...);

#define FUZZ_CHECK(target, cond, fmt, ...) \
	do { \
		if (!(cond)) \
			fuzz_fail((target), "%s:%d: CHECK(%s) failed: " fmt, __FILE__, __LINE__, #cond, \
			          ##__VA_ARGS__); \
	} while (0)

#endif
