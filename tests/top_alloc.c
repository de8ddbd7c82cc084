/*
 * top_alloc.c - counts the allocations of the program it is linked into:
 * gort-top's render loop must make none (tools/gort-top.c; the test build
 * top_alloc links this in and prints the count, tests/top_check.py checks
 * it is 0).
 *
 * malloc, calloc, realloc and the aligned ones are defined here, in the
 * executable, so that they are the ones every library calls too (libdw's,
 * libc's own stdio) - no LD_PRELOAD - and forward to the next definition,
 * libc's, found with dlsym(RTLD_NEXT).  dlsym itself may calloc before
 * the real one is known: that comes from a small static arena, never
 * freed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);

static _Atomic uint64_t allocs;
static _Alignas(16) char boot[16384];
static size_t bootused;
static int resolving;

static bool in_boot(void *p) { return (char *)p >= boot && (char *)p < boot + sizeof boot; }

static void *boot_alloc(size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (bootused + n > sizeof boot)
		return NULL;
	void *p = boot + bootused;
	bootused += n;
	return p; /* static storage: already zero */
}

static void resolve(void)
{
	if (real_malloc != NULL || resolving)
		return;
	resolving = 1;
	real_calloc = dlsym(RTLD_NEXT, "calloc");
	real_realloc = dlsym(RTLD_NEXT, "realloc");
	real_free = dlsym(RTLD_NEXT, "free");
	real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
	real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
	real_memalign = dlsym(RTLD_NEXT, "memalign");
	real_malloc = dlsym(RTLD_NEXT, "malloc");
	resolving = 0;
}

uint64_t gort_top_allocs(void) { return atomic_load(&allocs); }

void *malloc(size_t n)
{
	resolve();
	if (real_malloc == NULL)
		return boot_alloc(n);
	atomic_fetch_add(&allocs, 1);
	return real_malloc(n);
}

void *calloc(size_t k, size_t n)
{
	resolve();
	if (real_calloc == NULL)
		return n != 0 && k > SIZE_MAX / n ? NULL : boot_alloc(k * n);
	atomic_fetch_add(&allocs, 1);
	return real_calloc(k, n);
}

void *realloc(void *p, size_t n)
{
	resolve();
	atomic_fetch_add(&allocs, 1);
	if (in_boot(p)) {
		void *q = malloc(n);
		if (q != NULL)
			memcpy(q, p, n < (size_t)(boot + sizeof boot - (char *)p) ? n : (size_t)(boot + sizeof boot - (char *)p));
		return q;
	}
	return real_realloc(p, n);
}

void free(void *p)
{
	if (p == NULL || in_boot(p))
		return;
	resolve();
	real_free(p);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	resolve();
	atomic_fetch_add(&allocs, 1);
	return real_posix_memalign(out, align, n);
}

void *aligned_alloc(size_t align, size_t n)
{
	resolve();
	atomic_fetch_add(&allocs, 1);
	return real_aligned_alloc(align, n);
}

void *memalign(size_t align, size_t n)
{
	resolve();
	atomic_fetch_add(&allocs, 1);
	return real_memalign(align, n);
}
