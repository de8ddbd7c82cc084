/*
 * stack.c - goroutine stacks (Go's stack.go, for stacks that do not grow).
 *
 * Every default-size stack is a slot in a large region mapped once with
 * MAP_NORESERVE: [guard | usable stack].  Memory is committed only as a
 * goroutine touches it, so a parked goroutine that used little of its stack
 * costs one page.  Regions are MADV_NOHUGEPAGE, so a touched stack costs a
 * page and not two megabytes.
 *
 * The guard below each stack must not cost a mapping each: mprotect would
 * split the region into two mappings per stack, and vm.max_map_count
 * (65530 by default) would stop us near 32,000 goroutines.  So:
 *   1. MADV_GUARD_INSTALL (Linux 6.13+) marks the guard in the page tables
 *      without splitting the mapping: a million stacks, one mapping.
 *   2. Older kernels get mprotect guards while a budget of a quarter of
 *      vm.max_map_count lasts,
 *   3. then stacks with a canary word at their lowest address, checked
 *      every time their goroutine switches out.  Overflow is then caught
 *      after the fact rather than at the faulting instruction, but it is
 *      still reported as a stack overflow, never left to corrupt silently.
 *      The canary touches a stack's lowest page, so a parked goroutine
 *      costs two pages instead of one.
 * GORT_STACKGUARD=mprotect or =canary forces a fallback, for testing.
 *
 * Free stacks are cached per P (no lock, no system call on spawn after
 * warm-up) and in a global pool; a free stack is linked through its top
 * word, which the goroutine that used it already touched.  Stacks of
 * other sizes (gort_goattr.stack_size) are mapped and unmapped one by one.
 *
 * Fresh slots are made CACHE_BATCH at a time (prepare), with their top
 * pages - the page every goroutine touches, and all a parked one
 * touches - committed in one go by MADV_POPULATE_WRITE (Linux 5.14):
 * a page fault each costs more (measured on the 2-CPU VM the benchmarks
 * run on: a fault 4.5 µs, populating 3.4 µs a page), and a million
 * parked goroutines are a million fresh top pages.  The guards and the
 * tops of a batch are each one process_madvise call (on our own thread,
 * PIDFD_SELF_THREAD: Linux 6.15), else one madvise per slot; a kernel
 * without MADV_POPULATE_WRITE leaves the pages to be faulted in.
 *
 * Under valgrind every stack is registered (VALGRIND_STACK_REGISTER) when
 * it is made and deregistered when unmapped: valgrind then knows a switch
 * of goroutines for what it is, and checks each stack's frames as a
 * stack's, instead of warning "client switching stacks?".  The client
 * requests come from valgrind's header alone (no library), cost a few
 * instructions when not under valgrind, and compile to nothing where the
 * header is missing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "runtime2.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef PIDFD_SELF_THREAD
#define PIDFD_SELF_THREAD -10000 /* the calling thread, as a pidfd (Linux 6.15) */
#endif

#ifdef GORT_ASAN
#include <sanitizer/asan_interface.h>
#endif

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define GORT_VALGRIND 1
#endif
#endif

enum {
	GUARD_SIZE = 16 << 10,  /* a frame bigger than this can step over it */
	REGION_SLOTS = 512,     /* stacks per mapped region */
	CACHE_MAX = 32,         /* a P's cache beyond this goes half to the pool */
	CACHE_BATCH = 16,       /* stacks moved between a P and the pool at once */
	POOL_DIRTY_MAX = 1024,  /* pooled stacks beyond this give back their pages */
	DEFAULT_STACK = 64 << 10,
};

/* The largest stack a goroutine may ask for: Go's default maximum (1 GB,
 * runtime/debug.SetMaxStack).  Anything larger is surely a mistake - a
 * negative number converted, say - and would wrap when rounded up. */
#define MAX_STACK ((size_t)1 << 30)

#define CANARY 0x5354414b43414e59ull /* "STAKCANY" */

typedef enum { GUARD_MADVISE, GUARD_MPROTECT, GUARD_CANARY } guardMode;

static size_t pagesize;
static size_t stacksize;      /* usable bytes of a default stack */
static guardMode guardmode;
static long mprotect_budget;  /* mprotect guards we may still make */

static mutex stacklock;       /* guards everything below */
static stackList pool;        /* free default-size stacks */
static uintptr_t region_next; /* next unused slot */
static uintptr_t region_end;

static size_t round_to_page(size_t n)
{
	return (n + pagesize - 1) & ~(pagesize - 1);
}

static long read_max_map_count(void)
{
	long n = 65530;
	FILE *f = fopen("/proc/sys/vm/max_map_count", "re");
	if (f != NULL) {
		if (fscanf(f, "%ld", &n) != 1)
			n = 65530;
		fclose(f);
	}
	return n;
}

/*
 * stacksize_from_env: GORT_STACK_SIZE, or the default if unset.  A value
 * that is not a size, or is out of range, ends the program with a message
 * naming it: a typo must not silently become some other stack size.
 */
static size_t stacksize_from_env(void)
{
	const char *env = getenv("GORT_STACK_SIZE");
	if (env == NULL || *env == '\0')
		return DEFAULT_STACK;
	size_t want;
	char msg[256];
	if (!gort__parse_size(env, &want)) {
		snprintf(msg, sizeof msg,
		         "gort: GORT_STACK_SIZE=%.64s: not a size (a number of bytes, optionally "
		         "followed by k, m or g)",
		         env);
		gort__fatal(msg);
	}
	if (want < 4 * pagesize || want > MAX_STACK) {
		snprintf(msg, sizeof msg, "gort: GORT_STACK_SIZE=%.64s: out of range (%zuk to 1g)", env,
		         4 * pagesize >> 10);
		gort__fatal(msg);
	}
	return want;
}

/* stacksize_check: a stack size asked of api (gort_go_attr) that cannot be
 * had ends the program with a message naming it. */
void gort__stacksize_check(size_t size, const char *api)
{
	if (size <= MAX_STACK)
		return;
	char msg[160];
	snprintf(msg, sizeof msg, "gort: %s: stack_size %zu is larger than the largest stack (1g)", api,
	         size);
	gort__fatal(msg);
}

void gort__stackinit(void)
{
	pagesize = (size_t)sysconf(_SC_PAGESIZE);
	stacksize = round_to_page(stacksize_from_env());
	mprotect_budget = read_max_map_count() / 4;
	const char *mode = getenv("GORT_STACKGUARD");
	guardmode = GUARD_MADVISE;
	if (mode != NULL && strcmp(mode, "mprotect") == 0)
		guardmode = GUARD_MPROTECT;
	else if (mode != NULL && strcmp(mode, "canary") == 0)
		guardmode = GUARD_CANARY;
}

/*
 * install_guard protects [lo, lo+GUARD_SIZE) by the best means left
 * (holds stacklock, or owns the mapping).  Returns false if the stack
 * has no guard and must rely on its canary.
 */
static bool install_guard(uintptr_t lo)
{
	if (guardmode == GUARD_MADVISE) {
		if (madvise((void *)lo, GUARD_SIZE, MADV_GUARD_INSTALL) == 0)
			return true;
		guardmode = GUARD_MPROTECT; /* an older kernel: fall back for good */
	}
	if (guardmode == GUARD_MPROTECT) {
		if (mprotect_budget > 0 && mprotect((void *)lo, GUARD_SIZE, PROT_NONE) == 0) {
			mprotect_budget--;
			return true;
		}
		guardmode = GUARD_CANARY;
	}
	return false;
}

/* Maps len bytes of stack address space, committed only when touched. */
static uintptr_t map_stacks(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		gort__printf("runtime: cannot map %lu bytes of goroutine stacks (errno %d)\n",
		             (unsigned long)len, errno);
		gort__throw("out of memory allocating stack");
	}
	madvise(p, len, MADV_NOHUGEPAGE);
	return (uintptr_t)p;
}

/* ---- valgrind ------------------------------------------------------------- */

/* The ids valgrind gave the custom-size stacks, which are unmapped one by
 * one and must be deregistered then (guarded by stacklock).  Default-size
 * stacks are never unmapped: registered once, when carved. */
typedef struct vgstack {
	uintptr_t lo;
	unsigned id;
} vgstack;
static vgstack *vgstacks;
static size_t nvgstacks, vgstackscap;

static bool vg_running(void)
{
#ifdef GORT_VALGRIND
	return RUNNING_ON_VALGRIND != 0;
#else
	return false;
#endif
}

/* vg_register tells valgrind that [lo, hi) is a stack (holds stacklock if
 * custom: default-size stacks are never deregistered, so not recorded). */
static void vg_register(uintptr_t lo, uintptr_t hi, bool custom)
{
#ifdef GORT_VALGRIND
	if (!vg_running())
		return;
	unsigned id = VALGRIND_STACK_REGISTER(lo, hi);
	if (!custom)
		return;
	if (nvgstacks == vgstackscap) {
		vgstackscap = vgstackscap ? 2 * vgstackscap : 64;
		vgstacks = realloc(vgstacks, vgstackscap * sizeof *vgstacks);
		gort__assert(vgstacks != NULL, "out of memory");
	}
	vgstacks[nvgstacks++] = (vgstack){lo, id};
#else
	(void)lo, (void)hi, (void)custom;
#endif
}

/* vg_deregister: the custom stack at lo is being unmapped (holds stacklock). */
static void vg_deregister(uintptr_t lo)
{
	for (size_t i = 0; i < nvgstacks; i++) {
		if (vgstacks[i].lo == lo) {
#ifdef GORT_VALGRIND
			VALGRIND_STACK_DEREGISTER(vgstacks[i].id);
#endif
			vgstacks[i] = vgstacks[--nvgstacks];
			return;
		}
	}
}

/* ---- committing pages ahead of use ------------------------------------------ */

/* Cleared for good when the kernel turns a call down. */
static _Atomic bool can_populate = true;    /* MADV_POPULATE_WRITE (Linux 5.14) */
static _Atomic bool can_advise_many = true; /* process_madvise on ourselves (6.15) */

/*
 * advise_slots applies advice to [base[i]+off, base[i]+off+len) for each
 * of n slots: in one process_madvise where the kernel takes it, else one
 * madvise each.  The advice used here may be repeated on a range already
 * advised, so a batch the kernel took only in part is simply redone
 * range by range.  Returns false, with errno, if a range failed.
 */
static bool advise_slots(const uintptr_t *base, int n, size_t off, size_t len, int advice)
{
	gort__assert(n >= 1 && n <= CACHE_BATCH, "advise_slots: bad batch size");
	/* valgrind would warn of a system call it does not know */
	bool many = n > 1 && atomic_load_explicit(&can_advise_many, memory_order_relaxed) &&
	            !vg_running();
	if (many) {
		struct iovec iov[CACHE_BATCH];
		for (int i = 0; i < n; i++)
			iov[i] = (struct iovec){(void *)(base[i] + off), len};
		long r = syscall(SYS_process_madvise, PIDFD_SELF_THREAD, iov, (size_t)n, advice, 0u);
		if (r == (long)(len * (size_t)n))
			return true;
	}
	for (int i = 0; i < n; i++)
		if (madvise((void *)(base[i] + off), len, advice) != 0)
			return false;
	/* madvise took what process_madvise refused: an older kernel (no
	 * PIDFD_SELF_THREAD, or no such advice through it), or a seccomp
	 * filter.  One system call per range from now on. */
	if (many)
		atomic_store_explicit(&can_advise_many, false, memory_order_relaxed);
	return true;
}

/* populate_slots commits the pages [base[i]+off, +len) of n slots now, if
 * the kernel can: else they are faulted in when first touched. */
static void populate_slots(const uintptr_t *base, int n, size_t off, size_t len)
{
	if (!atomic_load_explicit(&can_populate, memory_order_relaxed))
		return;
	/* Any other failure (ENOMEM, EINTR) leaves the pages to their faults,
	 * which is where they would have been committed anyway. */
	if (!advise_slots(base, n, off, len, MADV_POPULATE_WRITE) && errno == EINVAL)
		atomic_store_explicit(&can_populate, false, memory_order_relaxed); /* Linux < 5.14 */
}

/* populate commits [p, p+len) now (page-aligned), if the kernel can: for
 * memory about to be written in full, such as a slab of new Gs. */
void gort__populate(void *p, size_t len)
{
	uintptr_t base = (uintptr_t)p;
	populate_slots(&base, 1, 0, len);
}

/* ---- making stacks ------------------------------------------------------------ */

/* carve takes a never-used slot from the current region and returns its
 * lowest address, where its guard goes (holds stacklock). */
static uintptr_t carve(void)
{
	assert_lock_held(&stacklock);
	size_t slot = GUARD_SIZE + stacksize;
	if (region_next == region_end) {
		region_next = map_stacks(slot * REGION_SLOTS);
		region_end = region_next + slot * REGION_SLOTS;
	}
	uintptr_t guard = region_next;
	region_next += slot;
	return guard;
}

/*
 * prepare readies n slots fresh from carve: a guard below each stack,
 * valgrind told, the top page committed.  It runs without stacklock -
 * the slots are the caller's alone - but for guards made one by one:
 * batch_guards says the guards were being made by MADV_GUARD_INSTALL when
 * the slots were carved, and so can be tried in one call.
 */
static void prepare(const uintptr_t *guards, int n, bool batch_guards)
{
	size_t slot = GUARD_SIZE + stacksize;
	if (!batch_guards || !advise_slots(guards, n, 0, GUARD_SIZE, MADV_GUARD_INSTALL)) {
		gort__lock(&stacklock);
		for (int i = 0; i < n; i++)
			install_guard(guards[i]);
		gort__unlock(&stacklock);
	}
	for (int i = 0; i < n; i++)
		vg_register(guards[i] + GUARD_SIZE, guards[i] + slot, false);
	populate_slots(guards, n, slot - pagesize, pagesize);
}

/* A free stack is linked through the word just below its top. */
static void **link_of(uintptr_t hi)
{
	return (void **)(hi - sizeof(void *));
}

static void push(stackList *l, stack s)
{
	*link_of(s.hi) = l->head;
	l->head = link_of(s.hi);
	l->n++;
}

static stack pop(stackList *l)
{
	void **link = l->head;
	l->head = *link;
	l->n--;
	uintptr_t hi = (uintptr_t)link + sizeof(void *);
	return (stack){hi - stacksize, hi};
}

/*
 * refill moves a batch of stacks to pp's (empty) cache: from the pool,
 * or new ones.  New ones are made ready after stacklock is dropped: their
 * system calls need no lock, and other Ps may want the pool meanwhile.
 */
static void refill(P *pp)
{
	uintptr_t fresh[CACHE_BATCH];
	int nfresh = 0;
	gort__lock(&stacklock);
	while (pp->stackcache.n < CACHE_BATCH && pool.n > 0)
		push(&pp->stackcache, pop(&pool));
	while (pp->stackcache.n + nfresh < CACHE_BATCH)
		fresh[nfresh++] = carve();
	bool batch_guards = guardmode == GUARD_MADVISE;
	gort__unlock(&stacklock);
	if (nfresh == 0)
		return;
	prepare(fresh, nfresh, batch_guards);
	size_t slot = GUARD_SIZE + stacksize;
	for (int i = 0; i < nfresh; i++)
		push(&pp->stackcache, (stack){fresh[i] + GUARD_SIZE, fresh[i] + slot});
}

/*
 * release moves n stacks from pp's cache to the pool.  Past POOL_DIRTY_MAX
 * the pool hands their pages back to the kernel, all but the top one that
 * holds the link, so a burst of goroutines does not pin its memory forever.
 */
static void release(stackList *from, int32_t n)
{
	gort__lock(&stacklock);
	while (n-- > 0 && from->n > 0) {
		stack s = pop(from);
		if (pool.n >= POOL_DIRTY_MAX)
			madvise((void *)s.lo, s.hi - s.lo - pagesize, MADV_DONTNEED);
		push(&pool, s);
	}
	gort__unlock(&stacklock);
}

static stack alloc_custom(size_t size)
{
	size = round_to_page(size);
	uintptr_t base = map_stacks(GUARD_SIZE + size);
	gort__lock(&stacklock);
	install_guard(base);
	vg_register(base + GUARD_SIZE, base + GUARD_SIZE + size, true);
	gort__unlock(&stacklock);
	return (stack){base + GUARD_SIZE, base + GUARD_SIZE + size};
}

/* canary_set marks a stack without a guard: its lowest word, checked at
 * every switch (gort__stack_canary_ok). */
static void canary_set(stack s)
{
	*(volatile uint64_t *)s.lo = CANARY;
}

/*
 * stackalloc returns a stack of size usable bytes (0: the default) for a
 * goroutine about to run on pp.  Runs on g0 with pp held.
 */
stack gort__stackalloc(P *pp, size_t size)
{
	stack s;
	if (size == 0 || round_to_page(size) == stacksize) {
		if (pp->stackcache.n == 0)
			refill(pp);
		s = pop(&pp->stackcache);
	} else {
		s = alloc_custom(size);
	}
#ifdef GORT_ASAN
	/* A goroutine that exited left its frames' redzones poisoned. */
	ASAN_UNPOISON_MEMORY_REGION((void *)s.lo, s.hi - s.lo);
#endif
	if (guardmode != GUARD_MADVISE)
		canary_set(s);
	return s;
}

/* stackfree takes back the stack of a goroutine that has exited. */
void gort__stackfree(P *pp, stack s, size_t size)
{
	if (size == 0 || round_to_page(size) == stacksize) {
		push(&pp->stackcache, s);
		if (pp->stackcache.n > CACHE_MAX)
			release(&pp->stackcache, CACHE_BATCH);
	} else {
		if (vg_running()) {
			gort__lock(&stacklock);
			vg_deregister(s.lo);
			gort__unlock(&stacklock);
		}
		munmap((void *)(s.lo - GUARD_SIZE), GUARD_SIZE + (s.hi - s.lo));
	}
}

/* stackcache_flush empties a P's cache into the pool (the P is going away). */
void gort__stackcache_flush(P *pp)
{
	release(&pp->stackcache, pp->stackcache.n);
}

/* Is addr in the guard region below gp's stack? */
bool gort__stack_guard_contains(G *gp, uintptr_t addr)
{
	return gp->stack.lo != 0 && addr < gp->stack.lo && addr >= gp->stack.lo - GUARD_SIZE;
}

bool gort__stack_needs_canary(void)
{
	return guardmode != GUARD_MADVISE;
}

bool gort__stack_canary_ok(stack s)
{
	return *(volatile uint64_t *)s.lo == CANARY;
}
