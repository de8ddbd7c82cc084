/*
 * os_linux.c - what the runtime asks of the operating system: futexes,
 * threads, the CPU count, the clock, and the environment (Go's os_linux.go).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "runtime2.h"

/* ---- futexes ------------------------------------------------------------ */

/* Sleep while *addr == val; may return early (spuriously). */
void gort__futexsleep(_Atomic uint32_t *addr, uint32_t val)
{
	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
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

/*
 * cgroup_cpu_limit returns the CPU quota of this process's cgroup as a
 * whole number of CPUs, rounded up, or 0 if there is none.  cgroup v2 keeps
 * "quota period" (or "max period") in cpu.max; each ancestor may limit too,
 * so the smallest limit on the path up to the root wins.
 */
static int32_t cgroup_cpu_limit(void)
{
	char line[PATH_MAX], path[PATH_MAX + 64];
	if (!readline("/proc/self/cgroup", line, sizeof line) || strncmp(line, "0::", 3) != 0)
		return 0; /* not cgroup v2 unified: no limit we read */
	char *rel = line + 3;
	rel[strcspn(rel, "\n")] = '\0';

	int32_t limit = 0;
	for (;;) {
		char buf[128];
		snprintf(path, sizeof path, "/sys/fs/cgroup%s/cpu.max", rel);
		long long quota, period;
		if (readline(path, buf, sizeof buf) && sscanf(buf, "%lld %lld", &quota, &period) == 2 &&
		    quota > 0 && period > 0) {
			int32_t n = (int32_t)((quota + period - 1) / period);
			if (limit == 0 || n < limit)
				limit = n;
		}
		char *slash = strrchr(rel, '/');
		if (slash == NULL || rel[0] == '\0')
			break;
		*slash = '\0';
	}
	return limit;
}

/* The CPUs this process may use: the affinity mask, capped by the cgroup quota. */
int32_t gort__getproccount(void)
{
	cpu_set_t set;
	int32_t n = 1;
	if (sched_getaffinity(0, sizeof set, &set) == 0)
		n = CPU_COUNT(&set);
	if (n < 1)
		n = 1;
	int32_t limit = cgroup_cpu_limit();
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

/* A size such as "65536", "64k" or "1m"; dflt if unset, malformed or zero. */
size_t gort__getenv_size(const char *name, size_t dflt)
{
	const char *s = getenv(name);
	if (s == NULL || *s == '\0')
		return dflt;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return dflt;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: break;
	}
	if ((*end == 'b' || *end == 'B') && end[1] == '\0')
		end++;
	if (*end != '\0' || v == 0)
		return dflt;
	return (size_t)v;
}
