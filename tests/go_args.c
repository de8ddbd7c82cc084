/*
 * go_args - proves gort_go_args, gort_go_with and gort_go_attr copy the
 * argument block into the goroutine: the caller overwrites its block right
 * after each spawn (while, at GOMAXPROCS=2, the goroutine may already run),
 * and every goroutine still sees its own values, at a copy of its own.  A
 * block of exactly GORT_GO_ARGS_MAX bytes arrives whole, and the copy is
 * aligned for any type (max_align_t).
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define N 1000

struct small {
	int index;
	char tag[12];        /* "g<index>" */
	const void *caller;  /* the caller's block: the copy must be elsewhere */
};

struct job { /* the gort.h example */
	int id;
	long *out;
};

struct big {
	unsigned char bytes[GORT_GO_ARGS_MAX]; /* bytes[k] = index + 7k */
};
_Static_assert(sizeof(struct big) == GORT_GO_ARGS_MAX, "struct big fills the block");

static atomic_int small_ok[N], attr_ok[N], big_ok[N];
static long job_out[N];
static atomic_long done;

/* Overwrite the caller's block through volatile, so no store is elided. */
static void scribble(void *p, size_t n)
{
	volatile unsigned char *v = p;
	for (size_t i = 0; i < n; i++)
		v[i] = 0xAA;
}

static void check_small(const struct small *s, atomic_int *ok)
{
	char want[12];
	CHECK(s != s->caller, "goroutine got the caller's block %p, not a copy", s->caller);
	CHECK(s->index >= 0 && s->index < N, "index %d: the block was not copied before reuse", s->index);
	snprintf(want, sizeof want, "g%d", s->index);
	CHECK(strcmp(s->tag, want) == 0, "index %d: tag \"%.12s\", want \"%s\"", s->index, s->tag, want);
	atomic_fetch_add(&ok[s->index], 1);
}

static void small_fn(void *p)
{
	check_small(p, small_ok);
	test_done(&done);
}

static void attr_fn(void *p)
{
	check_small(p, attr_ok);
	test_done(&done);
}

static void job_fn(void *p)
{
	struct job *j = p;
	j->out[j->id] = 3L * j->id + 1;
	test_done(&done);
}

static void big_fn(void *p)
{
	struct big *b = p;
	CHECK((uintptr_t)p % _Alignof(max_align_t) == 0, "argument copy %p is not aligned for max_align_t", p);
	int index = b->bytes[0] + 256 * b->bytes[GORT_GO_ARGS_MAX - 1];
	CHECK(index < N, "index %d: the block was not copied before reuse", index);
	for (int k = 1; k < GORT_GO_ARGS_MAX - 1; k++)
		CHECK(b->bytes[k] == (unsigned char)(index + 7 * k), "index %d: byte %d is 0x%x, want 0x%x",
		      index, k, b->bytes[k], (unsigned char)(index + 7 * k));
	atomic_fetch_add(&big_ok[index], 1);
	test_done(&done);
}

static int test_main(int argc, char **argv)
{
	for (int i = 0; i < N; i++) {
		struct small s = {.index = i, .caller = &s};
		snprintf(s.tag, sizeof s.tag, "g%d", i);
		gort_go_args(small_fn, &s, sizeof s);
		scribble(&s, sizeof s);

		s = (struct small){.index = i, .caller = &s};
		snprintf(s.tag, sizeof s.tag, "g%d", i);
		gort_go_attr(NULL, attr_fn, &s, sizeof s); /* attr may be NULL */
		scribble(&s, sizeof s);

		struct big b;
		for (int k = 1; k < GORT_GO_ARGS_MAX - 1; k++)
			b.bytes[k] = (unsigned char)(i + 7 * k);
		b.bytes[0] = (unsigned char)(i % 256);
		b.bytes[GORT_GO_ARGS_MAX - 1] = (unsigned char)(i / 256);
		gort_go_args(big_fn, &b, sizeof b);
		scribble(&b, sizeof b);

		gort_go_with(job_fn, struct job, .id = i, .out = job_out);
	}
	test_wait(&done, 4L * N, "the goroutines");

	for (int i = 0; i < N; i++) {
		CHECK(small_ok[i] == 1, "gort_go_args: index %d seen %d times", i, small_ok[i]);
		CHECK(attr_ok[i] == 1, "gort_go_attr: index %d seen %d times", i, attr_ok[i]);
		CHECK(big_ok[i] == 1, "GORT_GO_ARGS_MAX block: index %d seen %d times", i, big_ok[i]);
		CHECK(job_out[i] == 3L * i + 1, "gort_go_with: out[%d]=%ld", i, job_out[i]);
	}
	return test_pass("go_args");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
