/*
 * count.c - the counting build's counters (count.h says what is counted
 * and why).  Built only with cmake -DGORT_COUNT=ON.
 *
 * A site is (kind, file, expression, what, global?: in static storage): its index in a table
 * of COUNT_SITES, found by hashing those (string pointers: the same
 * expression in two files is two sites, merged by name when printed).
 * Each thread counts in an array of its own, so counting adds no shared
 * write to the runtime it measures - the table itself changes only when a
 * site is seen for the first time.  At exit the arrays are summed, and
 * printed when GORT_COUNT=1:
 *
 *   gort count: <lock|rmw>\t<global|object>\t<file>\t<expression>\t<what>\t<n>
 *
 * This file must not count itself: it includes neither runtime2.h nor
 * count.h, and uses GCC's __atomic builtins directly.
 */
#define _GNU_SOURCE
#include <link.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

enum {
	COUNT_LOCK = 1, /* as count.h */
	COUNT_RMW_SITE = 2,
	COUNT_SITES = 2048, /* a power of two */
	MAXRANGES = 64,
};

typedef struct site {
	uint64_t key; /* 0: free; else the hash of the rest (never 0) */
	int kind;
	bool global;
	const char *file, *expr, *what;
	bool ready; /* the fields above are written */
} site;

static site sites[COUNT_SITES];
static uint64_t overflow; /* events of sites the table had no room for */

/* A thread's counters, on a list of every thread's, never freed: a
 * thread's counts outlive it. */
typedef struct countbuf {
	struct countbuf *next;
	uint64_t n[COUNT_SITES];
} countbuf;

static countbuf *allbufs;
static __thread countbuf *mybuf;

/* The writable segments of every object loaded at start-up: where static
 * storage lives.  A lock there is one for the whole process. */
static struct {
	uintptr_t lo, hi;
} ranges[MAXRANGES];
static int nranges;

static int addranges(struct dl_phdr_info *info, size_t size, void *data)
{
	for (int i = 0; i < info->dlpi_phnum && nranges < MAXRANGES; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W)) {
			ranges[nranges].lo = info->dlpi_addr + ph->p_vaddr;
			ranges[nranges].hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
			nranges++;
		}
	}
	return 0;
}

static bool isstatic(const volatile void *addr)
{
	uintptr_t a = (uintptr_t)addr;
	for (int i = 0; i < nranges; i++)
		if (a >= ranges[i].lo && a < ranges[i].hi)
			return true;
	return false;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

/* siteof: the index of a site, entered into the table the first time. */
static int siteof(int kind, const char *file, const char *expr, const char *what, bool global)
{
	uint64_t key = mix(mix(mix(mix((uint64_t)kind, (uintptr_t)file), (uintptr_t)expr), (uintptr_t)what),
	                   global) | 1;
	for (uint32_t i = (uint32_t)(key >> 32), probes = 0; probes < COUNT_SITES; i++, probes++) {
		site *s = &sites[i & (COUNT_SITES - 1)];
		uint64_t k = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);
		if (k == 0) {
			if (!__atomic_compare_exchange_n(&s->key, &k, key, false, __ATOMIC_ACQ_REL,
			                                 __ATOMIC_ACQUIRE)) {
				if (k != key)
					continue;
				return (int)(i & (COUNT_SITES - 1));
			}
			s->kind = kind;
			s->global = global;
			s->file = file;
			s->expr = expr;
			s->what = what;
			__atomic_store_n(&s->ready, true, __ATOMIC_RELEASE);
			return (int)(i & (COUNT_SITES - 1));
		}
		if (k == key)
			return (int)(i & (COUNT_SITES - 1));
	}
	return -1;
}

static countbuf *newbuf(void)
{
	countbuf *b = mmap(NULL, sizeof *b, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED) {
		fputs("gort count: out of memory for a thread's counters\n", stderr);
		abort();
	}
	b->next = __atomic_load_n(&allbufs, __ATOMIC_RELAXED);
	while (!__atomic_compare_exchange_n(&allbufs, &b->next, b, true, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
	return b;
}

void gort__count(int kind, const char *file, const char *expr, const char *what, const volatile void *addr)
{
	int i = siteof(kind, file, expr, what, isstatic(addr));
	if (i < 0) {
		__atomic_fetch_add(&overflow, 1, __ATOMIC_RELAXED);
		return;
	}
	countbuf *b = mybuf;
	if (b == NULL)
		b = mybuf = newbuf();
	/* one writer; the reader at exit reads it racily, relaxed */
	__atomic_store_n(&b->n[i], __atomic_load_n(&b->n[i], __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

static const char *basename_of(const char *path)
{
	const char *s = strrchr(path, '/');
	return s != NULL ? s + 1 : path;
}

__attribute__((constructor)) static void countinit(void)
{
	dl_iterate_phdr(addranges, NULL);
}

/* At exit, with GORT_COUNT=1: every site's sum over the threads.  The
 * runtime's threads may still be counting: the sums are as of now. */
__attribute__((destructor)) static void countprint(void)
{
	const char *env = getenv("GORT_COUNT");
	if (env == NULL || strcmp(env, "1") != 0)
		return;
	for (int i = 0; i < COUNT_SITES; i++) {
		site *s = &sites[i];
		if (!__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE))
			continue;
		uint64_t n = 0;
		for (countbuf *b = __atomic_load_n(&allbufs, __ATOMIC_ACQUIRE); b != NULL; b = b->next)
			n += __atomic_load_n(&b->n[i], __ATOMIC_RELAXED);
		if (n == 0)
			continue;
		fprintf(stderr, "gort count: %s\t%s\t%s\t%s\t%s\t%llu\n", s->kind == COUNT_LOCK ? "lock" : "rmw",
		        s->global ? "global" : "object", basename_of(s->file), s->expr,
		        s->what != NULL ? s->what : "-", (unsigned long long)n);
	}
	if (overflow != 0)
		fprintf(stderr, "gort count: overflow: %llu events not counted (raise COUNT_SITES)\n",
		        (unsigned long long)overflow);
}
