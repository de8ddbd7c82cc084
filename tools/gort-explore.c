/*
 * gort-explore - run a gort program under many seeds of deterministic mode
 * (GODEBUG=detseed=N, src/proc_det.c) and report the first that fails, as
 * the command line that replays it.
 *
 *   gort-explore [options] -- ./prog args...
 *     -n N           seeds to try (default 1000), from -f's
 *     -f S           the first seed (default 1)
 *     -j J           runs at once (default: the CPUs this process may use)
 *     -s STRATEGY    random (default) or pct
 *     -d D           PCT's depth (default 3)
 *     -k K           PCT's step estimate (default: the steps of a first
 *                    run, seed 0, measured with detstats=1)
 *     -t T           virtual-time limit of a run (dettimeout=T, e.g. 60s);
 *                    without it a livelock is caught only by -w
 *     -w SECONDS     real-time limit of a run (default 60): a run still
 *                    going then is killed and counts as failing
 *     -c             count: run every seed, report how many failed
 *     -q             quiet: only the summary line (and the replay line)
 *     --normal       no deterministic mode: N plain runs (what a test
 *                    suite sees), counted as -c does
 *     --same-output  a run whose stdout differs from the first seed's fails
 *
 * A run fails if it exits non-zero or dies of a signal (a panic or Go's
 * "all goroutines are asleep - deadlock!" exit 2; dettimeout exits 2 too),
 * is killed by -w, or prints other output under --same-output.  Each run is
 * a child with its stdout and stderr in memory files, read when it ends.
 *
 * Output: for the first failing seed (the lowest, when several are found
 * among the runs in flight), its exit, the end of its stderr, and
 *   replay: GODEBUG=detseed=N[,...] ./prog args
 *   picture: GOTRACEBACK=all GORT_TRACE[_FLIGHT]=seedN.trace GODEBUG=... ./prog args
 * the second the same run with its execution trace written (for go tool
 * trace) and every goroutine printed at the failure
 * then one summary line:
 *   gort-explore: seed N failed after K seeds (strategy random)
 *   gort-explore: no failure in K seeds (strategy random)
 *   gort-explore: F of K runs failed (...)              (with -c, --normal)
 * Exit status: 1 if a run failed, 0 if none did, 2 for bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct run {
	pid_t pid;          /* 0: the slot is free */
	uint64_t seed;
	int outfd, errfd;   /* memfds */
	double started;     /* real seconds */
	bool killed;
} run;

static struct {
	uint64_t n, first;
	int jobs;
	const char *strategy;
	int depth;
	uint64_t steps;
	const char *timeout;
	double walllimit;
	bool count, quiet, normal, sameoutput;
	char **argv;
	char *baseline; /* the first seed's stdout, under --same-output */
	size_t baselinelen;
} opt = {.n = 1000, .first = 1, .strategy = "random", .depth = 3, .walllimit = 60};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: gort-explore [-n seeds] [-f first] [-j jobs] [-s random|pct] [-d depth] [-k steps]\n"
	                "                    [-t dettimeout] [-w seconds] [-c] [-q] [--normal] [--same-output]\n"
	                "                    -- ./prog args...\n");
	exit(2);
}

static uint64_t number(const char *s, const char *what)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-') {
		fprintf(stderr, "gort-explore: %s: not a number: %s\n", what, s);
		exit(2);
	}
	return v;
}

/* godebug: the GODEBUG of seed's run: ours, then the caller's own keys. */
static void godebug(char *buf, size_t size, uint64_t seed, bool stats)
{
	int n = snprintf(buf, size, "detseed=%" PRIu64, seed);
	if (strcmp(opt.strategy, "pct") == 0)
		n += snprintf(buf + n, size - n, ",detstrategy=pct,detdepth=%d,detsteps=%" PRIu64, opt.depth,
		              opt.steps);
	if (opt.timeout != NULL)
		n += snprintf(buf + n, size - n, ",dettimeout=%s", opt.timeout);
	if (stats)
		n += snprintf(buf + n, size - n, ",detstats=1");
	const char *own = getenv("GODEBUG");
	if (own != NULL && own[0] != '\0')
		snprintf(buf + n, size - n, ",%s", own);
}

static int memfile(const char *name)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0) {
		perror("gort-explore: memfd_create");
		exit(2);
	}
	return fd;
}

static void start(run *r, uint64_t seed, bool stats)
{
	char gd[512];
	godebug(gd, sizeof gd, seed, stats);
	r->seed = seed;
	r->outfd = memfile("stdout");
	r->errfd = memfile("stderr");
	r->started = now();
	r->killed = false;
	pid_t pid = fork();
	if (pid < 0) {
		perror("gort-explore: fork");
		exit(2);
	}
	if (pid == 0) {
		if (!opt.normal)
			setenv("GODEBUG", gd, 1);
		dup2(r->outfd, 1);
		dup2(r->errfd, 2);
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, 0);
		execvp(opt.argv[0], opt.argv);
		fprintf(stderr, "gort-explore: %s: %s\n", opt.argv[0], strerror(errno));
		_exit(127);
	}
	r->pid = pid;
}

/* slurp: the whole memfd, NUL-terminated; *len its length. */
static char *slurp(int fd, size_t *len)
{
	struct stat st;
	fstat(fd, &st);
	char *buf = malloc((size_t)st.st_size + 1);
	ssize_t got = pread(fd, buf, (size_t)st.st_size, 0);
	*len = got > 0 ? (size_t)got : 0;
	buf[*len] = '\0';
	return buf;
}

typedef struct outcome {
	bool failed;
	char why[128];
	char *out, *err;
	size_t outlen, errlen;
} outcome;

static void judge(run *r, int status, outcome *o)
{
	o->out = slurp(r->outfd, &o->outlen);
	o->err = slurp(r->errfd, &o->errlen);
	close(r->outfd);
	close(r->errfd);
	o->failed = true;
	if (r->killed)
		snprintf(o->why, sizeof o->why, "still running after %.0f s of real time: killed", opt.walllimit);
	else if (WIFSIGNALED(status))
		snprintf(o->why, sizeof o->why, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else if (WEXITSTATUS(status) != 0)
		snprintf(o->why, sizeof o->why, "exit status %d", WEXITSTATUS(status));
	else if (opt.sameoutput && opt.baseline != NULL &&
	         (o->outlen != opt.baselinelen || memcmp(o->out, opt.baseline, o->outlen) != 0))
		snprintf(o->why, sizeof o->why, "its stdout differs from seed %" PRIu64 "'s", opt.first);
	else
		o->failed = false;
}

/* shellword: s quoted for a POSIX shell when it needs it. */
static void shellword(FILE *f, const char *s)
{
	if (s[0] != '\0' && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=/.,:@%") ==
	                        strlen(s)) {
		fputs(s, f);
		return;
	}
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

static void report(uint64_t seed, const outcome *o)
{
	char gd[512];
	godebug(gd, sizeof gd, seed, false);
	if (!opt.quiet) {
		printf("%s %" PRIu64 ": %s\n", opt.normal ? "run" : "seed", seed, o->why);
		/* the last 30 lines of its stderr */
		const char *p = o->err + o->errlen;
		int lines = 0;
		while (p > o->err && lines <= 30)
			if (*--p == '\n')
				lines++;
		if (p > o->err)
			p++;
		if (o->errlen > 0)
			printf("--- its stderr%s:\n%s%s---\n", p > o->err ? " (the end)" : "", p,
			       o->err[o->errlen - 1] == '\n' ? "" : "\n");
	}
	if (opt.normal)
		return; /* nothing to replay */
	printf("replay: GODEBUG=");
	shellword(stdout, gd);
	for (char **a = opt.argv; *a; a++) {
		putchar(' ');
		shellword(stdout, *a);
	}
	putchar('\n');
	/* The picture: the run's execution trace and every goroutine at the
	 * failure.  A fatal error or panic ends the process at once: only the
	 * flight recorder's trace is written then, and the error prints the
	 * goroutines itself (GOTRACEBACK=all: all of them).  A failure the
	 * program reports by its exit status runs the exit handlers: the full
	 * trace (GORT_TRACE), and detdump=1 prints the goroutines. */
	bool died = strstr(o->err, "fatal error: ") != NULL || strstr(o->err, "panic: ") != NULL;
	printf("picture: GOTRACEBACK=all %s=seed%" PRIu64 ".trace GODEBUG=", died ? "GORT_TRACE_FLIGHT" : "GORT_TRACE",
	       seed);
	if (!died)
		strncat(gd, ",detdump=1", sizeof gd - strlen(gd) - 1);
	shellword(stdout, gd);
	for (char **a = opt.argv; *a; a++) {
		putchar(' ');
		shellword(stdout, *a);
	}
	putchar('\n');
}

/* pct_probe: PCT's k, the steps of one run (seed 0, with detstats). */
static void pct_probe(void)
{
	opt.steps = 10000;
	run r = {0};
	start(&r, 0, true);
	int status;
	while (waitpid(r.pid, &status, 0) < 0 && errno == EINTR)
		;
	outcome o;
	judge(&r, status, &o);
	const char *s = strstr(o.err, "gort: det: seed=0 ");
	const char *k = s != NULL ? strstr(s, " steps=") : NULL;
	if (k == NULL) {
		fprintf(stderr, "gort-explore: the probe run (seed 0) printed no step count: %s; using k=%" PRIu64 "\n",
		        o.why[0] ? o.why : "is it a gort program?", opt.steps);
	} else {
		opt.steps = strtoull(k + 7, NULL, 10);
		if (opt.steps == 0)
			opt.steps = 1;
	}
	if (!opt.quiet)
		printf("pct: depth %d, k = %" PRIu64 " steps (a first run's)\n", opt.depth, opt.steps);
	free(o.out);
	free(o.err);
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {
		{"normal", no_argument, NULL, 'N'},
		{"same-output", no_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	cpu_set_t cpus;
	opt.jobs = sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? CPU_COUNT(&cpus) : 1;
	bool ksets = false;
	int c;
	while ((c = getopt_long(argc, argv, "+n:f:j:s:d:k:t:w:cqh", longs, NULL)) != -1) {
		switch (c) {
		case 'n': opt.n = number(optarg, "-n"); break;
		case 'f': opt.first = number(optarg, "-f"); break;
		case 'j': opt.jobs = (int)number(optarg, "-j"); break;
		case 's':
			if (strcmp(optarg, "random") != 0 && strcmp(optarg, "pct") != 0) {
				fprintf(stderr, "gort-explore: -s: unknown strategy %s (random or pct)\n", optarg);
				exit(2);
			}
			opt.strategy = optarg;
			break;
		case 'd': opt.depth = (int)number(optarg, "-d"); break;
		case 'k': opt.steps = number(optarg, "-k"); ksets = true; break;
		case 't': opt.timeout = optarg; break;
		case 'w': opt.walllimit = (double)number(optarg, "-w"); break;
		case 'c': opt.count = true; break;
		case 'q': opt.quiet = true; break;
		case 'N': opt.normal = true; opt.count = true; break;
		case 'S': opt.sameoutput = true; break;
		default: usage();
		}
	}
	if (optind >= argc || opt.n == 0 || opt.jobs < 1 || opt.depth < 1 || opt.depth > 16)
		usage();
	opt.argv = argv + optind;
	if (strcmp(opt.strategy, "pct") == 0 && !ksets && !opt.normal)
		pct_probe();

	run *runs = calloc((size_t)opt.jobs, sizeof *runs);
	uint64_t next = opt.first, end = opt.first + opt.n; /* seeds [first, end) */
	uint64_t done = 0, failures = 0, firstfail = UINT64_MAX;
	outcome firsto = {0};
	int inflight = 0;
	double t0 = now();

	/* --same-output: the first seed alone first, as the baseline */
	if (opt.sameoutput) {
		start(&runs[0], next++, false);
		int status;
		while (waitpid(runs[0].pid, &status, 0) < 0 && errno == EINTR)
			;
		outcome o;
		judge(&runs[0], status, &o);
		runs[0].pid = 0;
		done++;
		if (o.failed) {
			failures++;
			firstfail = opt.first;
			firsto = o;
		} else {
			opt.baseline = o.out;
			opt.baselinelen = o.outlen;
			free(o.err);
		}
	}
	for (;;) {
		/* start runs while there is room, seeds left, and (not counting)
		 * no failure yet below them */
		while (inflight < opt.jobs && next < end && (opt.count || next < firstfail)) {
			int i = 0;
			while (runs[i].pid != 0)
				i++;
			start(&runs[i], next++, false);
			inflight++;
		}
		if (inflight == 0)
			break;
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid == 0) {
			/* none ended: enforce the real-time limit, then wait a little */
			double t = now();
			for (int i = 0; i < opt.jobs; i++)
				if (runs[i].pid != 0 && !runs[i].killed && t - runs[i].started > opt.walllimit) {
					kill(runs[i].pid, SIGKILL);
					runs[i].killed = true;
				}
			struct timespec ts = {0, 1000000};
			nanosleep(&ts, NULL);
			continue;
		}
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			perror("gort-explore: waitpid");
			exit(2);
		}
		int i = 0;
		while (i < opt.jobs && runs[i].pid != pid)
			i++;
		if (i == opt.jobs)
			continue; /* not ours */
		outcome o;
		judge(&runs[i], status, &o);
		runs[i].pid = 0;
		inflight--;
		done++;
		if (o.failed) {
			failures++;
			if (runs[i].seed < firstfail) {
				free(firsto.out);
				free(firsto.err);
				firstfail = runs[i].seed;
				firsto = o;
				continue;
			}
		}
		free(o.out);
		free(o.err);
	}
	double took = now() - t0;
	const char *mode = opt.normal ? "normal runs, no deterministic mode" : opt.strategy;
	if (firstfail != UINT64_MAX)
		report(firstfail, &firsto);
	if (opt.count)
		printf("gort-explore: %" PRIu64 " of %" PRIu64 " runs failed (%s; %.1f s)\n", failures, done, mode, took);
	else if (firstfail != UINT64_MAX)
		printf("gort-explore: seed %" PRIu64 " failed after %" PRIu64 " seeds (strategy %s; %.1f s)\n", firstfail,
		       firstfail - opt.first + 1, mode, took);
	else
		printf("gort-explore: no failure in %" PRIu64 " seeds (strategy %s; %.1f s)\n", done, mode, took);
	free(firsto.out);
	free(firsto.err);
	free(opt.baseline);
	free(runs);
	return failures > 0 ? 1 : 0;
}
