/*
 * os_linux.c - what the runtime asks of the operating system: futexes,
 * threads, the CPU count, the clock, the environment, and where gort's own
 * code lies (Go's os_linux.go).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "det.h"
#include "runtime2.h"

/* ---- futexes ------------------------------------------------------------ */

/* Sleep while *addr == val; may return early (spuriously). */
void gort__futexsleep(_Atomic uint32_t *addr, uint32_t val)
{
	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

/* Sleep while *addr == val, at most ns nanoseconds. */
void gort__futexsleep_timeout(_Atomic uint32_t *addr, uint32_t val, int64_t ns)
{
	struct timespec ts = {ns / 1000000000, ns % 1000000000};
	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, &ts, NULL, 0);
}

void gort__futexwakeup(_Atomic uint32_t *addr, uint32_t cnt)
{
	long r = syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, cnt, NULL, NULL, 0);
	gort__assert(r >= 0, "futexwakeup failed");
}

void gort__osyield(void)
{
	sched_yield();
}

/* ---- threads ------------------------------------------------------------ */

/* The scheduler's stack per M.  User code never runs on it. */
enum { G0_STACK_SIZE = 256 << 10 };

void gort__newosproc(void *(*start)(void *), void *arg)
{
	pthread_attr_t attr;
	pthread_t tid;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, G0_STACK_SIZE);

	/* The new thread starts with every signal blocked; minit unblocks. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int err = pthread_create(&tid, &attr, start, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (err != 0) {
		gort__printf("runtime: failed to create new OS thread (errno=%d)\n", err);
		gort__throw("newosproc");
	}
}

/*
 * minit_os sets up the calling thread for an M.  The kernel may defer a
 * timed wake-up by the thread's timer slack, 50 us by default, and the
 * poller's sleep until the next timer would overshoot by that much: make
 * it 1 us.
 */
void gort__minit_os(void)
{
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
}

int32_t gort__gettid(void)
{
	return (int32_t)syscall(SYS_gettid);
}

/* ---- CPU count ---------------------------------------------------------- */

/* Reads the first line of path into buf; false if it cannot. */
static bool readline(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return false;
	bool ok = fgets(buf, (int)size, f) != NULL;
	fclose(f);
	return ok;
}

/* quota_cpus turns a quota and a period into whole CPUs, rounded up; 0: none. */
static int32_t quota_cpus(long long quota, long long period)
{
	if (quota <= 0 || period <= 0)
		return 0;
	return (int32_t)((quota + period - 1) / period);
}

/* The limit in one cgroup directory: v2 cpu.max, or v1 cfs quota and period. */
static int32_t cgroup_dir_limit(const char *dir, bool v2)
{
	char path[PATH_MAX + 64], buf[128];
	long long quota = 0, period = 0;
	if (v2) {
		snprintf(path, sizeof path, "%s/cpu.max", dir);
		if (readline(path, buf, sizeof buf) && sscanf(buf, "%lld %lld", &quota, &period) == 2)
			return quota_cpus(quota, period);
		return 0; /* "max 100000" fails the scan: no limit */
	}
	snprintf(path, sizeof path, "%s/cpu.cfs_quota_us", dir);
	if (!readline(path, buf, sizeof buf) || sscanf(buf, "%lld", &quota) != 1)
		return 0;
	snprintf(path, sizeof path, "%s/cpu.cfs_period_us", dir);
	if (!readline(path, buf, sizeof buf) || sscanf(buf, "%lld", &period) != 1)
		return 0;
	return quota_cpus(quota, period);
}

/*
 * cgroup_cpu_limit returns the CPU quota of this process's cgroup as whole
 * CPUs, rounded up, or 0 if there is none.  It finds the process's cgroup in
 * /proc/self/cgroup - the unified (v2) hierarchy, or the v1 cpu controller -
 * and, since an ancestor may limit too, takes the smallest limit on the path
 * up to the root.  Hierarchies are looked for at their usual mount points.
 */
static int32_t cgroup_cpu_limit(void)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	if (f == NULL)
		return 0;
	char line[PATH_MAX], rel[PATH_MAX] = "";
	const char *root = NULL;
	bool v2 = false;
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		char *controllers = strchr(line, ':');
		char *path = controllers ? strchr(controllers + 1, ':') : NULL;
		if (path == NULL)
			continue;
		*path++ = '\0';
		controllers++;
		if (controllers[0] == '\0') { /* "0::/path": cgroup v2 */
			if (root == NULL) {
				root = "/sys/fs/cgroup";
				v2 = true;
				snprintf(rel, sizeof rel, "%s", path);
			}
		} else if (strcmp(controllers, "cpu") == 0 || strncmp(controllers, "cpu,", 4) == 0 ||
		           strstr(controllers, ",cpu,") != NULL) {
			root = strcmp(controllers, "cpu") == 0 ? "/sys/fs/cgroup/cpu" : "/sys/fs/cgroup/cpu,cpuacct";
			v2 = false;
			snprintf(rel, sizeof rel, "%s", path);
		}
	}
	fclose(f);
	if (root == NULL)
		return 0;

	int32_t limit = 0;
	for (;;) {
		char dir[2 * PATH_MAX];
		snprintf(dir, sizeof dir, "%s%s", root, strcmp(rel, "/") == 0 ? "" : rel);
		int32_t n = cgroup_dir_limit(dir, v2);
		if (n > 0 && (limit == 0 || n < limit))
			limit = n;
		char *slash = strrchr(rel, '/');
		if (slash == NULL || slash == rel)
			break;
		*slash = '\0';
	}
	if (strcmp(rel, "/") != 0) { /* and the root itself */
		int32_t n = cgroup_dir_limit(root, v2);
		if (n > 0 && (limit == 0 || n < limit))
			limit = n;
	}
	return limit;
}

/*
 * The CPUs this process may use: the affinity mask, capped by the cgroup
 * quota - rounded up, and never below 2, as Go 1.25 does: a fractional quota
 * is a throughput budget, and two Ps keep one blocked thread from idling it.
 */
int32_t gort__getproccount(void)
{
	cpu_set_t set;
	int32_t n = 1;
	if (sched_getaffinity(0, sizeof set, &set) == 0)
		n = CPU_COUNT(&set);
	if (n < 1)
		n = 1;
	int32_t limit = cgroup_cpu_limit();
	if (limit > 0 && limit < 2)
		limit = 2;
	if (limit > 0 && limit < n)
		n = limit;
	return n;
}

/* ---- time and randomness ------------------------------------------------ */

/*
 * nanotime is the runtime's only clock: monotonic nanoseconds.  Everything
 * that reads time goes through it, so a deterministic mode can replace it.
 */
int64_t gort__nanotime(void)
{
	if (gort__det()) /* virtual time (proc_det.c) */
		return gort__det_nanotime();
	return gort__realnanotime();
}

/* realnanotime: the machine's clock even in deterministic mode, for the
 * few waits on other threads that must end in real time (the dump's
 * freeze, the traceback reporter's patience). */
int64_t gort__realnanotime(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint64_t gort__random_seed(void)
{
	uint64_t seed;
	if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) == (ssize_t)sizeof seed)
		return seed;
	return (uint64_t)gort__nanotime() ^ ((uint64_t)getpid() << 32);
}

/* ---- environment -------------------------------------------------------- */

/* The value of an integer environment variable, or dflt if unset or malformed. */
long gort__getenv_int(const char *name, long dflt)
{
	const char *s = getenv(name);
	if (s == NULL || *s == '\0')
		return dflt;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return dflt;
	return v;
}

/*
 * parse_size reads a size such as "65536", "64k", "1m" or "1g" (a trailing
 * b or B is allowed): digits only - no sign, no space - and a value that
 * fits in a size_t after the suffix's shift.  False if s is not one.
 */
bool gort__parse_size(const char *s, size_t *out)
{
	if (s == NULL || *s < '0' || *s > '9')
		return false;
	uint64_t v = 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		uint64_t d = (uint64_t)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	int shift = 0;
	switch (*s) {
	case 'k': case 'K': shift = 10; s++; break;
	case 'm': case 'M': shift = 20; s++; break;
	case 'g': case 'G': shift = 30; s++; break;
	default: break;
	}
	if (*s == 'b' || *s == 'B')
		s++;
	if (*s != '\0' || v > (SIZE_MAX >> shift))
		return false;
	*out = (size_t)(v << shift);
	return true;
}

/* ---- gort's own code --------------------------------------------------------- */

/* The linker defines these when libgort.a's code (section gort_text) is
 * linked in (CMakeLists.txt moves it there). */
extern const char __start_gort_text[] __attribute__((weak));
extern const char __stop_gort_text[] __attribute__((weak));

/* Written once by findgorttext, at start-up; read-only after, also by
 * signal handlers. */
static uintptr_t gorttext_lo, gorttext_hi;

static int find_gort_segment(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	uintptr_t ours = (uintptr_t)arg;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && ours >= lo && ours < lo + ph->p_memsz) {
			gorttext_lo = lo;
			gorttext_hi = lo + ph->p_memsz;
			return 1;
		}
	}
	return 0;
}

/*
 * findgorttext finds where gort's own code lies - three questions need it:
 * may a fault become a panic (signal_unix.c), may a goroutine be preempted
 * here (preempt.c), is this a runtime frame to hide (symtab.c).  Linked
 * statically, it is section gort_text; as libgort.so, the executable
 * segment that holds this very function.  Before any signal handler is
 * installed: dl_iterate_phdr is not async-signal-safe.
 */
void gort__findgorttext(void)
{
	if (__start_gort_text != NULL && __stop_gort_text != NULL) {
		gorttext_lo = (uintptr_t)__start_gort_text;
		gorttext_hi = (uintptr_t)__stop_gort_text;
		return;
	}
	dl_iterate_phdr(find_gort_segment, (void *)(uintptr_t)gort__findgorttext);
}

/* gorttext_known: did findgorttext find it?  (Callers choose what an
 * unknown range means: each errs on its own safe side.) */
bool gort__gorttext_known(void)
{
	return gorttext_hi != 0;
}

/* gorttext_range: where findgorttext found gort's code (0, 0: unknown),
 * for debuggers (debuginfo.c). */
void gort__gorttext_range(uintptr_t *lo, uintptr_t *hi)
{
	*lo = gorttext_lo;
	*hi = gorttext_hi;
}

/* in_gort_text: is pc in gort's own code (false if not known)? */
bool gort__in_gort_text(uintptr_t pc)
{
	return pc >= gorttext_lo && pc < gorttext_hi;
}
