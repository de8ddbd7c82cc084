/*
 * stack_fallback - goroutine stacks on a kernel that refuses what stack.c
 * asks of it first.  A seccomp filter, installed before the runtime starts
 * (so every thread has it), makes the kernel look older:
 *   stack_fallback nomany      process_madvise fails (ENOSYS: before 5.10,
 *                              or PIDFD_SELF_THREAD unknown before 6.15):
 *                              one madvise per slot
 *   stack_fallback nopopulate  and madvise(MADV_POPULATE_WRITE) fails with
 *                              EINVAL (before 5.14): pages are faulted in
 *   stack_fallback noguard     and MADV_GUARD_INSTALL fails with EINVAL
 *                              (before 6.13): mprotect guards, which
 *                              split the stacks' mapping at each one
 * In each, N goroutines each use 8 KiB of their stack and stay parked until
 * all have started, then finish; every one must have run, with the right
 * sum, and /proc/self/maps must show guards of the expected kind.
 * Exit 77 if seccomp filters cannot be installed here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "harness.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
#ifndef __NR_process_madvise
#define __NR_process_madvise 440
#endif

/* below ThreadSanitizer's 8128 goroutines alive at once, and quick under it */
enum { N = 3000, USE = 8 << 10 };

static atomic_long started, finished, badsum;
static gort_chan *release_ch;

static __attribute__((noinline)) long use_stack(long seed)
{
	volatile unsigned char buf[USE];
	for (size_t i = 0; i < USE; i += 512)
		buf[i] = (unsigned char)(seed + (long)i);
	long sum = 0;
	for (size_t i = 0; i < USE; i += 512)
		sum += buf[i];
	return sum;
}

static long expect_sum(long seed)
{
	long sum = 0;
	for (size_t i = 0; i < USE; i += 512)
		sum += (unsigned char)(seed + (long)i);
	return sum;
}

static void worker(void *arg)
{
	long seed = (long)(intptr_t)arg;
	long sum = use_stack(seed);
	test_done(&started);
	gort_chan_recv(release_ch, NULL); /* parked until main closes it */
	if (sum != expect_sum(seed) || use_stack(seed + 1) != expect_sum(seed + 1))
		atomic_fetch_add(&badsum, 1);
	test_done(&finished);
}

/*
 * below_in_mapping: how far addr is above the start of the mapping that
 * holds it (/proc/self/maps), or -1.  A guard made by mprotect splits the
 * stacks' region, so that the mapping around a goroutine's frame starts
 * at its stack's lowest address, less than a stack (64 KiB) below the
 * frame; guards in the page tables (MADV_GUARD_INSTALL) leave the region
 * one mapping, which starts at least a slot (guard and stack) below.
 */
static long below_in_mapping(uintptr_t addr)
{
	FILE *f = fopen("/proc/self/maps", "re");
	CHECK(f != NULL, "open /proc/self/maps: %s", strerror(errno));
	char line[512];
	long below = -1;
	while (below < 0 && fgets(line, sizeof line, f) != NULL) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo <= addr && addr < hi)
			below = (long)(addr - lo);
	}
	fclose(f);
	return below;
}

static atomic_long probed;
static long probe_below;

/* probe measures the mapping around its own frame (the frame address,
 * not a local's: AddressSanitizer may keep locals on a fake stack). */
static void probe(void *arg)
{
	(void)arg;
	probe_below = below_in_mapping((uintptr_t)__builtin_frame_address(0));
	test_done(&probed);
}

static const char *mode;

static int test_main(int argc, char **argv)
{
	(void)argc, (void)argv;
	/* the filter is in place: these are what the runtime met */
	CHECK(syscall(__NR_process_madvise, -1, NULL, 0, MADV_POPULATE_WRITE, 0) == -1 && errno == ENOSYS,
	      "process_madvise not refused");
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED, "mmap");
	bool nopop = strcmp(mode, "nomany") != 0;
	CHECK((madvise(p, 4096, MADV_POPULATE_WRITE) != 0) == nopop, "MADV_POPULATE_WRITE: %s",
	      strerror(errno));

	release_ch = gort_chan_make(0, 0);
	for (long i = 0; i < N; i++)
		gort_go(worker, (void *)(intptr_t)i);
	test_wait(&started, N, "the goroutines to start");
	gort_go(probe, NULL);
	test_wait(&probed, 1, "the probe");
	gort_chan_close(release_ch);
	test_wait(&finished, N, "the goroutines to finish");
	CHECK(atomic_load(&badsum) == 0, "%ld goroutines read back a wrong sum", atomic_load(&badsum));
	CHECK(probe_below >= 0, "the probe's frame is in no mapping");
	if (strcmp(mode, "noguard") == 0)
		CHECK(probe_below < (64 << 10),
		      "noguard: the stack's mapping starts %ld bytes below a frame: no mprotect guard?",
		      probe_below);
	else
		CHECK(probe_below > (64 << 10),
		      "%s: the stack's mapping starts %ld bytes below a frame: guards made by mprotect?",
		      mode, probe_below);
	char name[64];
	snprintf(name, sizeof name, "stack_fallback %s", mode);
	return test_pass(name);
}

int main(int argc, char **argv)
{
	CHECK(argc == 2, "usage: stack_fallback nomany|nopopulate|noguard");
	mode = argv[1];
	unsigned populate = strcmp(mode, "nomany") == 0 ? 0xffffffffu : MADV_POPULATE_WRITE;
	unsigned guard = strcmp(mode, "noguard") == 0 ? MADV_GUARD_INSTALL : 0xffffffffu;
	CHECK(strcmp(mode, "nomany") == 0 || strcmp(mode, "nopopulate") == 0 ||
	          strcmp(mode, "noguard") == 0,
	      "unknown mode %s", mode);
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_process_madvise, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_madvise, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		/* madvise's advice: the low half of its third argument */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, populate, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EINVAL),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, guard, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EINVAL),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0) {
		printf("SKIP stack_fallback: cannot install a seccomp filter (%s)\n", strerror(errno));
		return 77;
	}
	gort_main(test_main, argc, argv);
}
