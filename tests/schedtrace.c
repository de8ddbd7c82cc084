/*
 * schedtrace - GODEBUG=schedtrace=N (and scheddetail=1): runs itself as a
 * child for ~300 ms with GOMAXPROCS=2, reads its stderr and checks every
 * line against Go's format (go-formats.md 3.1) and the values for
 * plausibility: two Ps, a SCHED line every 50 ms or a little more, main
 * asleep (G1: status=4(sleep)), goroutine 2 on a channel.  An unknown
 * GODEBUG key next to it changes nothing.
 */
#define _GNU_SOURCE
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

static int child(int argc, char **argv)
{
	c = gort_chan_make(sizeof(int), 0);
	gort_go(blocked, c);
	gort_sleep(330 * GORT_MILLISECOND);
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

/* run the child with GODEBUG=godebug; its stderr, one line per entry */
static int run(const char *self, const char *godebug, char lines[][512], int max)
{
	int p[2];
	CHECK(pipe(p) == 0, "pipe");
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 2);
		close(p[0]);
		setenv("GODEBUG", godebug, 1);
		setenv("GOMAXPROCS", "2", 1);
		execl(self, self, "child", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	FILE *f = fdopen(p[0], "r");
	int n = 0;
	char buf[512];
	while (fgets(buf, sizeof buf, f) != NULL) {
		buf[strcspn(buf, "\n")] = '\0';
		if (n < max)
			strcpy(lines[n++], buf);
	}
	fclose(f);
	int status;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed: %d", status);
	return n;
}

static char lines[20000][512];

static void check_plain(const char *self, const char *godebug)
{
	int n = run(self, godebug, lines, 20000);
	CHECK(n >= 4 && n <= 14, "%d SCHED lines in 330 ms at 50 ms", n);
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
		if (i == 0)
			CHECK(ms < 50, "first trace at %ld ms", ms);
		else
			CHECK(ms - last >= 50 && ms - last < 500, "traces %ld ms apart", ms - last);
		last = ms;
	}
}

static void check_detail(const char *self)
{
	int n = run(self, "schedtrace=100,scheddetail=1", lines, 20000);
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
	check_plain(argv[0], "schedtrace=50");
	check_plain(argv[0], "madeup=7,schedtrace=50,alsomadeup");
	/* scheddetail alone prints nothing, as in Go */
	CHECK(run(argv[0], "scheddetail=1", lines, 20000) == 0, "output without schedtrace");
	check_detail(argv[0]);
	return test_pass("schedtrace");
}
