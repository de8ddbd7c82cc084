/*
 * traceback - the public API of traceback.c: gort_callers and
 * gort_frame_info (names and lines against __LINE__, inlined calls
 * expanded), gort_stack of the caller and of all goroutines.
 * Without libdw (gort_traceback_symbolized() false) it checks that the
 * calls return nothing, and says why.
 */
#define _GNU_SOURCE
#include <string.h>
#include <unistd.h>

#include "harness.h"

static int callers_line, inline_line, outer_line;

__attribute__((noinline)) static int leaf(uintptr_t *pcs, int n)
{
	callers_line = __LINE__ + 1;
	int got = gort_callers(1, pcs, n);
	__asm__ volatile("" ::: "memory"); /* no tail call */
	return got;
}

static inline __attribute__((always_inline)) int inlined(uintptr_t *pcs, int n)
{
	inline_line = __LINE__ + 1;
	return leaf(pcs, n) + 0 * __LINE__;
}

__attribute__((noinline)) static int outer(uintptr_t *pcs, int n)
{
	outer_line = __LINE__ + 1;
	int got = inlined(pcs, n);
	__asm__ volatile("" ::: "memory");
	return got;
}

static char buf[1 << 16];
static int stack_line;

__attribute__((noinline)) static int self_stack(bool all)
{
	stack_line = __LINE__ + 1;
	int n = gort_stack(buf, sizeof buf - 1, all);
	__asm__ volatile("" ::: "memory");
	buf[n] = '\0';
	return n;
}

static gort_chan *never;

__attribute__((noinline)) static void parked(void *arg)
{
	int v;
	gort_chan_recv(never, &v);
	__asm__ volatile("" ::: "memory");
}

/* in_syscall: blocks in a wrapped read of a pipe nobody writes to (yet) */
static int syspipe[2];
static gort_waitgroup sysdone;

__attribute__((noinline)) static void in_syscall(void *arg)
{
	char c;
	GORT_SYSCALL(read(syspipe[0], &c, 1));
	__asm__ volatile("" ::: "memory");
	gort_waitgroup_done(&sysdone);
}

static bool has(const char *needle)
{
	return strstr(buf, needle) != NULL;
}

static int test_main(int argc, char **argv)
{
	uintptr_t pcs[64];
	if (!gort_traceback_symbolized()) {
		printf("traceback: no symbolization in this build (no libdw): checking the fallbacks only\n");
		CHECK(outer(pcs, 64) == 0, "gort_callers without libdw");
		return test_pass("traceback");
	}
	int n = outer(pcs, 64);
	CHECK(n >= 3, "gort_callers returned %d", n);
	gort_frame f[8];
	int k = gort_frame_info(pcs[0], f, 8);
	CHECK(k >= 1 && f[0].function != NULL && strcmp(f[0].function, "leaf") == 0,
	      "pcs[0] is in %s", k >= 1 && f[0].function ? f[0].function : "?");
	CHECK(f[0].line == callers_line, "leaf's line %d, want %d", f[0].line, callers_line);
	CHECK(f[0].file != NULL && strstr(f[0].file, "tests/traceback.c") != NULL, "file %s",
	      f[0].file ? f[0].file : "NULL");
	k = gort_frame_info(pcs[1], f, 8);
	CHECK(k == 2, "pcs[1] expands into %d frames, want 2 (inlined, outer)", k);
	CHECK(f[0].inlined && strcmp(f[0].function, "inlined") == 0 && f[0].line == inline_line,
	      "inlined frame: %s:%d inlined=%d, want inlined:%d", f[0].function, f[0].line, f[0].inlined,
	      inline_line);
	CHECK(!f[1].inlined && strcmp(f[1].function, "outer") == 0 && f[1].line == outer_line,
	      "outer frame: %s:%d, want outer:%d", f[1].function, f[1].line, outer_line);
	CHECK(f[1].entry != 0 && f[1].entry < pcs[1], "outer's entry");
	k = gort_frame_info(pcs[2], f, 8);
	CHECK(k >= 1 && strcmp(f[k - 1].function, "test_main") == 0, "pcs[2] in %s", f[k - 1].function);

	/* skip 0: gort_callers itself */
	n = gort_callers(0, pcs, 64);
	k = gort_frame_info(pcs[0], f, 8);
	CHECK(n >= 1 && k >= 1 && strcmp(f[k - 1].function, "gort_callers") == 0, "skip 0: %s",
	      f[k - 1].function);

	/* gort_stack: the caller */
	self_stack(false);
	const char *head = "goroutine 1 [running]:\nself_stack(...)\n\t";
	CHECK(strncmp(buf, head, strlen(head)) == 0, "gort_stack:\n%s", buf);
	char want[512];
	snprintf(want, sizeof want, "tests/traceback.c:%d +0x", stack_line);
	CHECK(has(want), "gort_stack has no %s:\n%s", want, buf);
	CHECK(has("\ntest_main(...)\n\t"), "gort_stack:\n%s", buf);
	CHECK(!has("gort__"), "runtime frames shown:\n%s", buf);

	/* gort_stack: all, with a parked goroutine */
	never = gort_chan_make(sizeof(int), 0);
	int64_t id = gort_go(parked, NULL);
	gort_gosched();
	gort_gosched();
	self_stack(true);
	snprintf(want, sizeof want, "\n\ngoroutine %lld [chan receive]:\n", (long long)id);
	CHECK(has(want), "gort_stack(all) has no %s:\n%s", want, buf);
	CHECK(has("\nparked(...)\n\t"), "gort_stack(all):\n%s", buf);
	CHECK(has("\ncreated by test_main in goroutine 1\n\t"), "gort_stack(all):\n%s", buf);
	CHECK(strncmp(buf, head, strlen(head)) == 0, "caller first:\n%s", buf);

	/* a goroutine in a system call: traced from where it entered it */
	CHECK(pipe(syspipe) == 0, "pipe");
	gort_waitgroup_add(&sysdone, 1);
	id = gort_go(in_syscall, NULL);
	for (int i = 0; i < 100000; i++) {
		self_stack(true);
		snprintf(want, sizeof want, "\n\ngoroutine %lld [syscall]:\n", (long long)id);
		if (has(want))
			break;
		gort_sleep(GORT_MILLISECOND);
	}
	CHECK(has(want), "no goroutine in a system call:\n%s", buf);
	CHECK(has("\nin_syscall(...)\n\t"), "gort_stack(all), syscall:\n%s", buf);
	CHECK(write(syspipe[1], "x", 1) == 1, "write");
	gort_waitgroup_wait(&sysdone);

	/* a short buffer: truncated, never overrun */
	memset(buf, 'x', 64);
	n = gort_stack(buf, 10, false);
	CHECK(n == 10 && buf[10] == 'x', "gort_stack(buf, 10) = %d", n);
	return test_pass("traceback");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
