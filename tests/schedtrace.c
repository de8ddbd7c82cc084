/*
 * schedtrace - GODEBUG=schedtrace=N (and scheddetail=1): runs itself as a
 * child with GOMAXPROCS=2, reads its stderr and checks every line against
 * Go's format (go-formats.md 3.1) and the values for plausibility: two Ps,
 * SCHED lines at least N ms apart (sysmon's rule), main asleep (G1:
 * status=4(sleep)), goroutine 2 on a channel.  An unknown GODEBUG key next
 * to it changes nothing; scheddetail alone prints nothing.
 *
 * No wall-clock bound: the child sleeps until the parent has read the
 * lines it needs (then the parent closes the child's stdin), so a loaded
 * machine only makes the test take longer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static void blocked(void *c)
{
	gort_chan_recv(c, NULL);
}

gort_chan *c; /* a global (not static: kept), reachable for LeakSanitizer at exit */

/* The child: goroutine 2 blocks on a channel, main sleeps until its stdin
 * is closed. */
static int child(int argc, char **argv)
{
	c = gort_chan_make(sizeof(int), 0);
	gort_go(blocked, c);
	fcntl(0, F_SETFL, O_NONBLOCK);
	char b;
	while (read(0, &b, 1) < 0 && errno == EAGAIN)
		gort_sleep(10 * GORT_MILLISECOND);
	return 0;
}

static bool match(const char *re, const char *s)
{
	regex_t r;
	CHECK(regcomp(&r, re, REG_EXTENDED | REG_NOSUB) == 0, "bad regex %s", re);
	bool ok = regexec(&r, s, 0, NULL, 0) == 0;
	regfree(&r);
	return ok;
}

enum { MAXLINES = 20000 };
static char lines[MAXLINES][512];

/* enough: has the parent read what it needs of lines[0..n)? */
typedef bool (*enoughFunc)(int n);

static int count_prefix(int n, const char *prefix)
{
	int k = 0;
	for (int i = 0; i < n; i++)
		k += strncmp(lines[i], prefix, strlen(prefix)) == 0;
	return k;
}

/*
 * run starts the child with GODEBUG=godebug and reads its stderr into
 * lines, one per entry, until enough says so - or, with enough NULL, for
 * quiet_ms - then closes the child's stdin (it exits) and reads the rest.
 * A watchdog ends a child that never gives enough.  Returns the count.
 */
static int run(const char *self, const char *godebug, enoughFunc enough, int quiet_ms)
{
	int out[2], in[2];
	CHECK(pipe(out) == 0 && pipe(in) == 0, "pipe");
	pid_t pid = fork();
	if (pid == 0) {
		dup2(out[1], 2);
		dup2(in[0], 0);
		close(out[0]);
		close(in[1]);
		setenv("GODEBUG", godebug, 1);
		setenv("GOMAXPROCS", "2", 1);
		execl(self, self, "child", (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	close(in[0]);
	int n = 0;
	size_t have = 0;
	char buf[512];
	double start = test_seconds();
	for (;;) {
		bool done = enough != NULL ? enough(n) : test_seconds() - start > quiet_ms / 1000.0;
		if ((done || test_seconds() - start > TEST_WATCHDOG_SECONDS) && in[1] >= 0) {
			close(in[1]); /* the child exits; read what it still prints */
			in[1] = -1;
		}
		struct pollfd pfd = {out[0], POLLIN, 0};
		if (poll(&pfd, 1, 50) == 0)
			continue;
		ssize_t r = read(out[0], buf + have, sizeof buf - 1 - have);
		if (r <= 0)
			break;
		have += (size_t)r;
		char *nl;
		while ((nl = memchr(buf, '\n', have)) != NULL || have == sizeof buf - 1) {
			size_t len = nl != NULL ? (size_t)(nl - buf) : have;
			if (n < MAXLINES) {
				memcpy(lines[n], buf, len);
				lines[n++][len] = '\0';
			}
			size_t used = nl != NULL ? len + 1 : len;
			memmove(buf, buf + used, have - used);
			have -= used;
		}
	}
	close(out[0]);
	if (in[1] >= 0)
		close(in[1]);
	int status;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed: %d", status);
	return n;
}

static bool four_traces(int n)
{
	return count_prefix(n, "SCHED ") >= 4;
}

static void check_plain(const char *self, const char *godebug, long period)
{
	int n = run(self, godebug, four_traces, 0);
	CHECK(n >= 4, "%d SCHED lines", n);
	long last = -1;
	for (int i = 0; i < n; i++) {
		CHECK(match("^SCHED [0-9]+ms: gomaxprocs=2 idleprocs=[0-2] threads=[0-9]+ "
		            "spinningthreads=[0-2] needspinning=0 idlethreads=[0-9]+ runqueue=[0-9]+ "
		            "\\[[0-9]+ [0-9]+\\]$",
		            lines[i]),
		      "line %d: %s", i, lines[i]);
		long ms = atol(lines[i] + 6);
		int threads = atoi(strstr(lines[i], "threads=") + 8);
		CHECK(threads >= 1 && threads < 50, "threads=%d", threads);
		if (i > 0)
			CHECK(ms - last >= period, "traces %ld ms apart, at schedtrace=%ld", ms - last, period);
		last = ms;
	}
}

/* Both goroutines seen blocked in one detailed trace, and two traces. */
static bool detail_seen(int n)
{
	return count_prefix(n, "SCHED ") >= 2 &&
	       count_prefix(n, "  G1: status=4(sleep) m=nil lockedm=nil") >= 1 &&
	       count_prefix(n, "  G2: status=4(chan receive) m=nil lockedm=nil") >= 1;
}

static void check_detail(const char *self)
{
	int n = run(self, "schedtrace=100,scheddetail=1", detail_seen, 0);
	int sched = 0, g1sleep = 0, g2recv = 0, ps = 0, ms = 0;
	for (int i = 0; i < n; i++) {
		const char *l = lines[i];
		if (strncmp(l, "SCHED ", 6) == 0) {
			CHECK(match("^SCHED [0-9]+ms: gomaxprocs=2 idleprocs=[0-2] threads=[0-9]+ "
			            "spinningthreads=[0-2] needspinning=0 idlethreads=[0-9]+ runqueue=[0-9]+ "
			            "gcwaiting=false nmidlelocked=[0-9]+ stopwait=0 sysmonwait=false$",
			            l),
			      "%s", l);
			sched++;
		} else if (strncmp(l, "  P", 3) == 0) {
			CHECK(match("^  P[01]: status=[0-4] schedtick=[0-9]+ syscalltick=[0-9]+ "
			            "m=(nil|[0-9]+) runqsize=[0-9]+ gfreecnt=[0-9]+ timerslen=[0-9]+$",
			            l),
			      "%s", l);
			ps++;
		} else if (strncmp(l, "  M", 3) == 0) {
			CHECK(match("^  M[0-9]+: p=(nil|[01]) curg=(nil|[0-9]+) mallocing=0 throwing=0 "
			            "preemptoff= locks=0 dying=0 spinning=(true|false) blocked=false "
			            "lockedg=(nil|[0-9]+)$",
			            l),
			      "%s", l);
			ms++;
		} else {
			CHECK(match("^  G[0-9]+: status=[0-9]+\\([^)]*\\) m=(nil|[0-9]+) lockedm=(nil|[0-9]+)$", l),
			      "%s", l);
			g1sleep += strcmp(l, "  G1: status=4(sleep) m=nil lockedm=nil") == 0;
			g2recv += strcmp(l, "  G2: status=4(chan receive) m=nil lockedm=nil") == 0;
		}
	}
	CHECK(sched >= 2, "%d SCHED lines", sched);
	CHECK(ps == 2 * sched, "%d P lines for %d traces", ps, sched);
	CHECK(ms >= sched, "%d M lines for %d traces", ms, sched);
	CHECK(g1sleep >= 1 && g2recv >= 1, "G1 asleep %d times, G2 on its channel %d times", g1sleep,
	      g2recv);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "child") == 0) {
		gort_main(child, argc, argv);
		return 1;
	}
	check_plain(argv[0], "schedtrace=50", 50);
	check_plain(argv[0], "madeup=7,schedtrace=50,alsomadeup", 50);
	/* scheddetail alone prints nothing, as in Go (watched for 300 ms) */
	CHECK(run(argv[0], "scheddetail=1", NULL, 300) == 0, "output without schedtrace");
	check_detail(argv[0]);
	return test_pass("schedtrace");
}
