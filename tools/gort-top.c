/*
 * gort-top - a live console for a running gort program, in the terminal.
 *
 *     gort-top [-b] [-n N] [-d SECONDS] PID
 *
 * shows, refreshed every SECONDS (1), what the scheduler is doing:
 * goroutines by state (and a history of the last minute), the scheduling
 * latency histogram, each P's run queue, the threads idle, spinning and in
 * system calls, context switches, spawns, steals and system calls per
 * second, and the top blocked-on sites - waiting goroutines bucketed by
 * wait reason and the function that created them, as the SIGQUIT dump's
 * summary (GODEBUG=dumpsummary=1, src/dump.c) buckets them.  q or ^C
 * quits.  -b (batch) prints plain-text frames one after the other, for
 * scripts (like top -b); -n N stops after N frames.  Output that is not a
 * terminal is batch.
 *
 * How: nothing in the program helps or pays.  gort-top finds the
 * runtime's descriptor, gort__debuginfo (src/debuginfo.h), in the
 * program's modules as gort-peek does (tools/gort-proc.c), and reads the
 * counters gort_read_metrics sums (src/metrics.c) - each P's pmetrics, the
 * retired Ps', the run queues, sched's thread counts - and the goroutine
 * list straight from the process's memory with process_vm_readv, without
 * stopping it.  Reads of a live process are racy by nature: a value may be
 * torn, a pointer stale.  So every length is clamped before it is
 * followed, a counter that went backwards counts as no progress, and a
 * garbage pointer costs a failed read (process_vm_readv says EFAULT; it
 * never faults) - the frame shows what could be read.
 *
 * The render loop does not allocate: every table is allocated at start-up,
 * the symbol tables libdw keeps are loaded then too, and a frame is
 * formatted into a fixed buffer and written with one write(2).
 * tests/top_check.py counts the loop's allocations (tests/top_alloc.c).
 *
 * Exit status: 0 after N frames, q, ^C, or when the program exits while
 * watched ("process N exited" on stderr); 1 if it cannot watch at all (no
 * such process, not a gort program, not allowed to read it: the message
 * says which and why); 2 for a bad command line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <elfutils/libdwfl.h>

#include "debuginfo.h"
#include "gort-proc.h"

const char *gort_proc_prog = "gort-top";

enum {
	MAXP = 1024,         /* Ps shown and summed (GOMAXPROCS is clamped to this) */
	MAXBUCKETS = 32,     /* latency buckets read (the runtime has 24) */
	MAXREASONS = 128,    /* wait reasons named */
	NAMELEN = 48,
	GBATCH = 512,        /* Gs read per process_vm_readv */
	GSPAN_MAX = 512,     /* the bytes of a G read: its first to its last field read */
	MAXM = 65536,        /* M list hops before a (torn) list counts as a cycle */
	SITES = 4096,        /* blocked-on sites a frame can tell apart (a hash table) */
	TOPSITES = 10,       /* the ones shown */
	SYMS = 1024,         /* creator pcs named, cached */
	HIST = 240,          /* samples of history kept */
	FRAME = 64 * 1024,   /* one frame's text */
};

/* ---- the target ------------------------------------------------------------ */

static struct {
	pid_t pid;
	char comm[32];
	char version[32];
	Dwfl *dwfl;
	gort_debuginfo d;
	char reasons[MAXREASONS][NAMELEN]; /* waitreason i's string */
	char statuses[16][NAMELEN];        /* gstatus i's name */
	uint64_t gspan_lo, gspan;          /* the part of a G read: offset, length */
	uint64_t pmlen;                    /* a pmetrics' bytes read */
} T;

static volatile sig_atomic_t gone_flag;

/* rd: n bytes at addr of the target.  false for a bad address (a torn
 * pointer: EFAULT); a process that exited ends the watch. */
static bool rd(uint64_t addr, void *buf, size_t n)
{
	struct iovec local = {buf, n}, remote = {(void *)(uintptr_t)addr, n};
	ssize_t r = process_vm_readv(T.pid, &local, 1, &remote, 1, 0);
	if (r == (ssize_t)n)
		return true;
	if (r < 0 && errno == ESRCH)
		gone_flag = 1;
	return false;
}

static uint64_t rd64(uint64_t addr)
{
	uint64_t v = 0;
	return rd(addr, &v, sizeof v) ? v : 0;
}

static int32_t rd32(uint64_t addr)
{
	int32_t v = 0;
	return rd(addr, &v, sizeof v) ? v : 0;
}

static void rdstr(uint64_t addr, char *buf, size_t n)
{
	buf[0] = '\0';
	if (addr == 0)
		return;
	size_t i = 0;
	for (; i + 1 < n; i++)
		if (!rd(addr + i, &buf[i], 1) || buf[i] == '\0')
			break;
	buf[i] = '\0';
}

/* ---- one sample -------------------------------------------------------------- */

/* A blocked-on site: the goroutines in one state, made by one function. */
typedef struct site {
	uint64_t gopc;     /* the call that made them (0: the main goroutine) */
	uint32_t status;
	uint8_t waitreason;
	int64_t count;
	int64_t maxwait;   /* ns */
} site;

typedef struct sample {
	int64_t when;                  /* CLOCK_MONOTONIC, ns: the runtime's nanotime */
	bool ok;                       /* the scalars were read */
	int64_t uptime;
	int64_t g_total, g_runnable, g_running, g_syscall, g_waiting, g_unreadable;
	int64_t threads, threads_idle, threads_spinning, threads_syscall;
	int32_t procs, procs_idle, runq_global;
	int32_t runq[MAXP];
	uint64_t paddr[MAXP];          /* which P each slot was: a changed one has no delta */
	uint32_t syscalltick[MAXP];
	uint64_t nswitch, nspawn, nsteal, nstolen;
	uint64_t lat[MAXBUCKETS];
	int nlat;
	int nsites;
	int64_t sites_dropped;         /* goroutines whose site did not fit */
	bool heapok;                   /* the runtime describes its heap (debuginfo) */
	uint64_t heap_live, heap_goal, lastpause;
	uint32_t numgc;
} sample;

static sample S[2];    /* the current one and the previous */
static site sites[SITES];
static uint64_t gptrs[GBATCH];
static unsigned char gbytes[GBATCH][GSPAN_MAX];
static struct iovec gl[GBATCH], gr[GBATCH];
static unsigned char pmbuf[1024];

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* add_pmetrics: one pmetrics (at addr) into s. */
static void add_pmetrics(sample *s, uint64_t addr)
{
	const gort_debuginfo *d = &T.d;
	if (!rd(addr, pmbuf, T.pmlen))
		return;
	uint64_t v;
	memcpy(&v, pmbuf + d->pm_nswitch, 8), s->nswitch += v;
	memcpy(&v, pmbuf + d->pm_nspawn, 8), s->nspawn += v;
	memcpy(&v, pmbuf + d->pm_nsteal, 8), s->nsteal += v;
	memcpy(&v, pmbuf + d->pm_nstolen, 8), s->nstolen += v;
	for (int i = 0; i < s->nlat; i++) {
		memcpy(&v, pmbuf + d->pm_schedlat + 8 * (uint64_t)i, 8);
		s->lat[i] += v;
	}
}

static uint64_t field(const unsigned char *g, uint64_t off, size_t n)
{
	uint64_t v = 0;
	memcpy(&v, g + (off - T.gspan_lo), n);
	return v;
}

static void site_add(sample *s, uint32_t st, uint8_t wr, uint64_t gopc, int64_t wait)
{
	uint64_t h = (gopc ^ ((uint64_t)st << 56) ^ ((uint64_t)wr << 48)) * 0x9e3779b97f4a7c15ull;
	for (uint64_t i = 0; i < SITES; i++) {
		site *x = &sites[(h + i) % SITES];
		if (x->count == 0) {
			if (s->nsites >= SITES * 3 / 4)
				break; /* keep probes short: the rest are counted as dropped */
			*x = (site){.gopc = gopc, .status = st, .waitreason = wr};
			s->nsites++;
		}
		if (x->gopc == gopc && x->status == st && x->waitreason == wr) {
			x->count++;
			if (wait > x->maxwait)
				x->maxwait = wait;
			return;
		}
	}
	s->sites_dropped++;
}

/* one_g: count the G read into g; blocked ones go to their site. */
static void one_g(sample *s, const unsigned char *g)
{
	const gort_debuginfo *d = &T.d;
	uint32_t st = (uint32_t)field(g, d->g_atomicstatus, 4);
	if (st == d->st_runnable)
		s->g_runnable++;
	else if (st == d->st_running)
		s->g_running++;
	else if (st == d->st_syscall)
		s->g_syscall++;
	else if (st == d->st_waiting)
		s->g_waiting++;
	else
		return; /* dead (or idle, or being copied: gort_read_metrics skips them too) */
	s->g_total++;
	if (st != d->st_waiting && st != d->st_syscall)
		return;
	uint8_t wr = st == d->st_waiting ? (uint8_t)field(g, d->g_waitreason, 1) : 0;
	int64_t since = (int64_t)field(g, d->g_waitsince, 8);
	int64_t wait = since > 0 && since < s->when ? s->when - since : 0;
	site_add(s, st, wr, field(g, d->g_gopc, 8), wait);
}

/* goroutines: every G on allgs, GBATCH at a time - their pointers in one
 * read, then their fields in one process_vm_readv with an iovec each.  A
 * G that cannot be read (a torn pointer) is counted as unreadable. */
static void goroutines(sample *s)
{
	const gort_debuginfo *d = &T.d;
	uint64_t allgs = rd64(d->allgs_at);
	uint64_t n = rd64(d->allglen_at);
	if (n > (1ull << 28))
		n = 0; /* torn: no sane program has 256M goroutines */
	for (uint64_t i = 0; i < n && !gone_flag; i += GBATCH) {
		size_t k = n - i < GBATCH ? (size_t)(n - i) : GBATCH;
		if (!rd(allgs + 8 * i, gptrs, 8 * k)) {
			s->g_unreadable += (int64_t)k; /* allgs moved as it grew: next frame */
			continue;
		}
		for (size_t j = 0; j < k; j++) {
			gl[j] = (struct iovec){gbytes[j], T.gspan};
			gr[j] = (struct iovec){(void *)(uintptr_t)(gptrs[j] + T.gspan_lo), T.gspan};
		}
		/* process_vm_readv stops at the first bad iovec: count what it
		 * read, skip the bad one, go on after it */
		for (size_t j = 0; j < k;) {
			ssize_t r = process_vm_readv(T.pid, &gl[j], k - j, &gr[j], k - j, 0);
			if (r < 0 && errno == ESRCH) {
				gone_flag = 1;
				return;
			}
			size_t whole = r > 0 ? (size_t)r / T.gspan : 0;
			for (size_t x = 0; x < whole; x++)
				one_g(s, gbytes[j + x]);
			j += whole;
			if (j < k) {
				s->g_unreadable++;
				j++;
			}
		}
	}
}

/* threads: walk allm; an M whose goroutine is in a system call is a
 * thread in one (Go's view: the M is blocked in the kernel). */
static void threads(sample *s)
{
	const gort_debuginfo *d = &T.d;
	uint64_t m = rd64(d->allm_at);
	for (int hops = 0; m != 0 && hops < MAXM; hops++) {
		s->threads++;
		uint64_t curg = rd64(m + d->m_curg);
		if (curg != 0 && (uint32_t)rd32(curg + d->g_atomicstatus) == d->st_syscall)
			s->threads_syscall++;
		m = rd64(m + d->m_alllink);
	}
	s->threads_idle = rd32(d->nmidle_at);
	s->threads_spinning = rd32(d->nmspinning_at);
	if (s->threads_idle < 0 || s->threads_idle > s->threads)
		s->threads_idle = 0; /* torn */
	if (s->threads_spinning < 0 || s->threads_spinning > s->threads)
		s->threads_spinning = 0;
}

static void take_sample(sample *s)
{
	const gort_debuginfo *d = &T.d;
	memset(s, 0, offsetof(sample, runq));
	memset(s->paddr, 0, sizeof s->paddr);
	s->nswitch = s->nspawn = s->nsteal = s->nstolen = 0;
	memset(s->lat, 0, sizeof s->lat);
	s->nsites = 0;
	s->sites_dropped = 0;
	memset(sites, 0, sizeof sites);
	s->when = mono_ns();
	s->nlat = (int)(d->schedlat_buckets < MAXBUCKETS ? d->schedlat_buckets : MAXBUCKETS);

	s->uptime = s->when - (int64_t)rd64(d->starttime_at);
	int32_t np = rd32(d->gomaxprocs_at);
	uint64_t allp = rd64(d->allp_at);
	if (gone_flag)
		return;
	if (np > MAXP)
		np = MAXP; /* the first MAXP are shown and summed */
	if (np < 1 || allp == 0)
		np = 0; /* not started, or being replaced: none this frame */
	s->procs = np;
	s->procs_idle = rd32(d->npidle_at);
	if (s->procs_idle < 0 || s->procs_idle > np)
		s->procs_idle = 0;
	s->runq_global = rd32(d->runqsize_at);
	if (s->runq_global < 0)
		s->runq_global = 0;
	if (np > 0 && !rd(allp, s->paddr, 8 * (size_t)np))
		np = s->procs = 0; /* allp was replaced (GOMAXPROCS): next frame */
	add_pmetrics(s, d->retired_at);
	for (int32_t i = 0; i < np; i++) {
		uint64_t p = s->paddr[i];
		uint32_t q[2];
		s->runq[i] = 0;
		s->syscalltick[i] = 0;
		/* gomaxprocs and allp are stored one after the other: read
		 * between the two, np may exceed the array read, and a slot
		 * past its end is anything - a P is the one whose id is i */
		if (p == 0 || rd32(p + d->p_id) != i || !rd(p + d->p_runqhead, &q[0], 4) ||
		    !rd(p + d->p_runqtail, &q[1], 4)) {
			s->paddr[i] = 0;
			continue;
		}
		int64_t n = (int64_t)(uint32_t)(q[1] - q[0]) + (rd64(p + d->p_runnext) != 0);
		if (n > (int64_t)d->runq_size + 1)
			n = 0; /* head and tail read at different moments */
		s->runq[i] = (int32_t)n;
		s->syscalltick[i] = (uint32_t)rd32(p + d->p_syscalltick);
		add_pmetrics(s, p + d->p_metrics);
	}
	threads(s);
	goroutines(s);
	s->heapok = T.d.size >= offsetof(gort_debuginfo, gcpauses_at) + 8 && d->heap_live_at != 0;
	if (s->heapok) {
		s->heap_live = rd64(d->heap_live_at);
		s->heap_goal = rd64(d->heap_goal_at);
		s->numgc = (uint32_t)rd32(d->numgc_at);
		s->lastpause = s->numgc > 0 ? rd64(d->gcpauses_at + 8 * (uint64_t)((s->numgc - 1) % 256)) : 0;
	}
	s->ok = !gone_flag;
}

/* ---- names ------------------------------------------------------------------ */

static struct {
	uint64_t pc;
	uint64_t entry;       /* the function's start: what sites are merged by */
	char name[NAMELEN];
} syms[SYMS];
static int nsyms;
static char symbuf[NAMELEN];

/* creator: the function that made the goroutines - the one holding gopc,
 * the call's return address: its name (or gopc's address if it has none)
 * and its entry in *entry.  Sites are merged by function, not by call: a
 * loop of gort_go the compiler unrolled has a call per copy. */
static const char *creator(uint64_t gopc, uint64_t *entry)
{
	*entry = gopc;
	if (gopc == 0)
		return "(none: the main goroutine)";
	for (int i = 0; i < nsyms; i++)
		if (syms[i].pc == gopc) {
			*entry = syms[i].entry;
			return syms[i].name;
		}
	Dwfl_Module *mod = dwfl_addrmodule(T.dwfl, gopc - 1);
	GElf_Sym sym;
	const char *name = mod != NULL ? dwfl_module_addrsym(mod, gopc - 1, &sym, NULL) : NULL;
	if (name != NULL) {
		snprintf(symbuf, sizeof symbuf, "%s", name);
		*entry = sym.st_value;
	} else {
		snprintf(symbuf, sizeof symbuf, "0x%" PRIx64, gopc);
	}
	if (nsyms == SYMS)
		return symbuf;
	syms[nsyms].pc = gopc;
	syms[nsyms].entry = *entry;
	memcpy(syms[nsyms].name, symbuf, sizeof symbuf);
	return syms[nsyms++].name;
}

/* A site as shown: the sites of one state whose creators are one function. */
typedef struct fsite {
	uint64_t entry;
	uint32_t status;
	uint8_t waitreason;
	int64_t count, maxwait;
	const char *name;
} fsite;
static fsite fsites[SITES];

/* merge_sites: sites into fsites, by creating function; how many */
static int merge_sites(void)
{
	int n = 0;
	for (int i = 0; i < SITES; i++) {
		const site *x = &sites[i];
		if (x->count == 0)
			continue;
		uint64_t entry;
		const char *name = creator(x->gopc, &entry);
		int j = 0;
		while (j < n && !(fsites[j].entry == entry && fsites[j].status == x->status &&
		                  fsites[j].waitreason == x->waitreason && strcmp(fsites[j].name, name) == 0))
			j++;
		if (j == n) {
			/* symbuf is reused: a name not cached is copied nowhere, so
			 * it stands for its pc alone (the cache holds SYMS names) */
			fsites[n++] = (fsite){entry, x->status, x->waitreason, 0, 0, name};
		}
		fsites[j].count += x->count;
		if (x->maxwait > fsites[j].maxwait)
			fsites[j].maxwait = x->maxwait;
	}
	return n;
}

static const char *state_name(uint32_t st, uint8_t wr)
{
	if (st == T.d.st_waiting && wr != 0 && wr < MAXREASONS && wr < T.d.nwaitreasons)
		return T.reasons[wr];
	return st < 16 && st < T.d.ngstatuses ? T.statuses[st] : "???";
}

/* ---- the frame ------------------------------------------------------------- */

static bool batch;
static char frame[FRAME];
static size_t flen;
static int nlines, maxlines; /* a terminal's frame stops at its last line */

__attribute__((format(printf, 1, 2))) static void out(const char *fmt, ...)
{
	if (flen >= sizeof frame - 1 || (maxlines > 0 && nlines >= maxlines))
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(frame + flen, sizeof frame - flen, fmt, ap);
	va_end(ap);
	if (n > 0)
		flen = flen + (size_t)n < sizeof frame ? flen + (size_t)n : sizeof frame - 1;
}

/* eol: the end of a line; on a terminal, clearing what the last frame
 * left after it */
static void eol(void)
{
	out(batch ? "\n" : "\033[K\n");
	nlines++;
}

static void fmt_dur(char *buf, size_t n, int64_t ns)
{
	if (ns < 1000)
		snprintf(buf, n, "%" PRId64 "ns", ns);
	else if (ns < 1000000)
		snprintf(buf, n, "%.1fus", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, n, "%.1fms", ns / 1e6);
	else
		snprintf(buf, n, "%.2fs", ns / 1e9);
}

static void fmt_bytes(char *buf, size_t n, uint64_t b)
{
	if (b < 1024)
		snprintf(buf, n, "%" PRIu64 " B", b);
	else if (b < 1024 * 1024)
		snprintf(buf, n, "%.1f KiB", b / 1024.0);
	else if (b < 1024ull * 1024 * 1024)
		snprintf(buf, n, "%.1f MiB", b / (1024.0 * 1024));
	else
		snprintf(buf, n, "%.2f GiB", b / (1024.0 * 1024 * 1024));
}

static void fmt_uptime(char *buf, size_t n, int64_t ns)
{
	int64_t s = ns / 1000000000;
	if (s >= 3600)
		snprintf(buf, n, "%" PRId64 "h%02" PRId64 "m%02" PRId64 "s", s / 3600, s / 60 % 60, s % 60);
	else if (s >= 60)
		snprintf(buf, n, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
	else
		snprintf(buf, n, "%" PRId64 "s", s);
}

/* the level glyphs of sparklines and bars: blocks on a terminal, ASCII in
 * batch output */
static const char *const blocks[] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
static const char *const ascii[] = {" ", ".", ".", ":", ":", "=", "=", "#", "#"};

static void bar(uint64_t v, uint64_t max, int width)
{
	int n = max > 0 ? (int)((v * (uint64_t)width + max - 1) / max) : 0;
	for (int i = 0; i < n && i < width; i++)
		out("%s", batch ? "#" : blocks[8]);
	for (int i = n; i < width; i++)
		out(" ");
}

/* history: the last HIST frames' goroutine counts, for the sparklines */
static struct {
	int64_t total[HIST], runnable[HIST];
	int n, next;
} H;

static void spark(const int64_t *v, int width)
{
	int have = H.n < width ? H.n : width;
	int64_t lo = INT64_MAX, hi = 0;
	for (int i = 0; i < have; i++) {
		int64_t x = v[(H.next - have + i + HIST) % HIST];
		lo = x < lo ? x : lo;
		hi = x > hi ? x : hi;
	}
	for (int i = 0; i < have; i++) {
		int64_t x = v[(H.next - have + i + HIST) % HIST];
		/* level 1..8 between the window's lowest and highest; 0 for none */
		int lvl = x == 0 ? 0 : hi == lo ? 4 : 1 + (int)((x - lo) * 7 / (hi - lo));
		out("%s", (batch ? ascii : blocks)[lvl]);
	}
	out(" %" PRId64 "..%" PRId64, have > 0 ? lo : 0, hi);
}

/* rate: a counter's increase per second between two samples ("-" without
 * the previous one; a counter that went back - torn - counts as 0) */
static void rate(const char *name, uint64_t cur, uint64_t prev, double secs)
{
	if (secs <= 0)
		out("  %s -", name);
	else
		out("  %s %.0f", name, cur >= prev ? (double)(cur - prev) / secs : 0.0);
}

/* bucket i's lower bound, as a label */
static void lat_label(char *buf, size_t n, int i)
{
	char d[18];
	if (i == 0) {
		snprintf(buf, n, "< 256ns");
		return;
	}
	fmt_dur(d, sizeof d, (int64_t)1 << (i + 7));
	snprintf(buf, n, ">= %s", d);
}

/* the bucket holding the q-th quantile (q in percent) of n samples, or -1 */
static int lat_quantile(const sample *s, uint64_t total, int q)
{
	uint64_t below = 0;
	for (int i = 0; i < s->nlat && total > 0; i++) {
		below += s->lat[i];
		if (below * 100 >= total * (uint64_t)q)
			return i;
	}
	return -1;
}

static uint64_t lat_total(const sample *s)
{
	uint64_t t = 0;
	for (int i = 0; i < s->nlat; i++)
		t += s->lat[i];
	return t;
}

/* latency_summary: the histogram in two lines - its quantiles, and a
 * sparkline of every bucket, < 256ns to >= 1.07s (the terminal's view:
 * latency_table has the numbers) */
static void latency_summary(const sample *s, const sample *p)
{
	uint64_t total = lat_total(s), itotal = 0, max = 0;
	for (int i = 0; i < s->nlat; i++) {
		if (p != NULL && p->ok && s->lat[i] >= p->lat[i])
			itotal += s->lat[i] - p->lat[i];
		max = s->lat[i] > max ? s->lat[i] : max;
	}
	out("scheduling latency (1 in %" PRIu64 " readies timed): %" PRIu64 " samples, %" PRIu64
	    " in the last interval",
	    T.d.schedlat_sample, total, itotal);
	eol();
	char l50[24] = "-", l99[24] = "-";
	int q50 = lat_quantile(s, total, 50), q99 = lat_quantile(s, total, 99);
	if (q50 >= 0)
		lat_label(l50, sizeof l50, q50);
	if (q99 >= 0)
		lat_label(l99, sizeof l99, q99);
	out("  <256ns |");
	for (int i = 0; i < s->nlat; i++) {
		/* level 1..8 by the bucket's share of the fullest one; 0: empty */
		int lvl = s->lat[i] == 0 ? 0 : 1 + (int)((s->lat[i] * 7) / max);
		out("%s", (batch ? ascii : blocks)[lvl]);
	}
	out("| >=1.07s   p50 %s, p99 %s", l50, l99);
	eol();
}

/* latency_table: the histogram's buckets, from the first to the last
 * non-empty one, with their counts */
static void latency_table(const sample *s, int width)
{
	uint64_t total = lat_total(s), max = 0;
	int lo = -1, hi = -1;
	for (int i = 0; i < s->nlat; i++) {
		if (s->lat[i] != 0) {
			lo = lo < 0 ? i : lo;
			hi = i;
		}
		max = s->lat[i] > max ? s->lat[i] : max;
	}
	if (lo < 0)
		return;
	out("scheduling latency by bucket:");
	eol();
	int q50 = lat_quantile(s, total, 50), q99 = lat_quantile(s, total, 99);
	for (int i = lo; i <= hi; i++) {
		char a[32];
		lat_label(a, sizeof a, i);
		out("  %-10s %10" PRIu64 " ", a, s->lat[i]);
		bar(s->lat[i], max, width - 36 > 10 ? (width - 36 < 40 ? width - 36 : 40) : 10);
		if (i == q50)
			out(" p50");
		if (i == q99)
			out(" p99");
		eol();
	}
}

static void render(const sample *s, const sample *p, int width, int height)
{
	nlines = 0;
	maxlines = batch ? 0 : height - 1;
	char a[48];
	double secs = p != NULL && p->ok ? (s->when - p->when) / 1e9 : 0;
	flen = 0;
	if (!batch)
		out("\033[H");
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	fmt_uptime(a, sizeof a, s->uptime);
	out("gort-top - process %d (%s), gort %s, up %s, %02d:%02d:%02d", (int)T.pid, T.comm, T.version, a,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
	eol();
	out("goroutines %" PRId64 ": running %" PRId64 ", runnable %" PRId64 ", syscall %" PRId64
	    ", waiting %" PRId64,
	    s->g_total, s->g_running, s->g_runnable, s->g_syscall, s->g_waiting);
	if (s->g_unreadable > 0)
		out(" (%" PRId64 " unreadable)", s->g_unreadable);
	eol();
	int sw = width - 32 > 10 ? (width - 32 < HIST ? width - 32 : HIST) : 10;
	out("  live     ");
	spark(H.total, sw);
	eol();
	out("  runnable ");
	spark(H.runnable, sw);
	eol();
	out("threads %" PRId64 ": idle %" PRId64 ", spinning %" PRId64 ", in syscalls %" PRId64,
	    s->threads, s->threads_idle, s->threads_spinning, s->threads_syscall);
	eol();
	if (s->heapok) {
		char live[24], goal[24] = "none", pause[24] = "-";
		fmt_bytes(live, sizeof live, s->heap_live);
		if (s->heap_goal != UINT64_MAX)
			fmt_bytes(goal, sizeof goal, s->heap_goal);
		if (s->numgc > 0)
			fmt_dur(pause, sizeof pause, (int64_t)s->lastpause);
		out("heap %s in use, goal %s; collections %" PRIu32 ", last pause %s", live, goal, s->numgc,
		    pause);
		eol();
	}

	/* per second, and totals */
	uint64_t sys = 0, sysprev = 0; /* the sum of the Ps' ticks since p */
	bool sysok = secs > 0;
	for (int i = 0; i < s->procs && sysok; i++) {
		if (i >= p->procs || s->paddr[i] == 0 || s->paddr[i] != p->paddr[i])
			continue; /* a new P: no delta */
		sys += (uint32_t)(s->syscalltick[i] - p->syscalltick[i]);
	}
	out("per second:");
	rate("switches", s->nswitch, p != NULL ? p->nswitch : 0, secs);
	rate("spawns", s->nspawn, p != NULL ? p->nspawn : 0, secs);
	rate("steals", s->nsteal, p != NULL ? p->nsteal : 0, secs);
	rate("syscalls", sys, sysprev, secs);
	eol();
	out("totals: switches %" PRIu64 ", spawns %" PRIu64 ", steals %" PRIu64 ", goroutines stolen %" PRIu64,
	    s->nswitch, s->nspawn, s->nsteal, s->nstolen);
	eol();

	/* run queues */
	int32_t longest = 0;
	int64_t local = 0;
	for (int i = 0; i < s->procs; i++) {
		local += s->runq[i];
		longest = s->runq[i] > longest ? s->runq[i] : longest;
	}
	out("Ps %d (idle %d): run queues global %d, local %" PRId64 ", longest %d", s->procs, s->procs_idle,
	    s->runq_global, local, longest);
	eol();
	int col = 0;
	for (int i = 0; i < s->procs; i++) {
		if (col == 0)
			out(" ");
		out(" P%d %d", i, s->runq[i]);
		col += 1;
		if (col == 10 || i == s->procs - 1) {
			eol();
			col = 0;
		}
	}

	latency_summary(s, p);

	/* the top blocked-on sites: the TOPSITES biggest, by selection */
	int nf = merge_sites();
	out("blocked goroutines by wait reason and creator (%d site%s):", nf, nf == 1 ? "" : "s");
	eol();
	out("  %8s  %-24s %8s  %s", "COUNT", "STATE", "LONGEST", "CREATED BY");
	eol();
	int shown[TOPSITES];
	int nshown = 0;
	int64_t listed = 0, blocked = 0;
	for (int i = 0; i < nf; i++)
		blocked += fsites[i].count;
	for (; nshown < TOPSITES; nshown++) {
		int best = -1;
		for (int i = 0; i < nf; i++) {
			bool taken = false;
			for (int j = 0; j < nshown; j++)
				taken |= shown[j] == i;
			if (!taken && (best < 0 || fsites[i].count > fsites[best].count))
				best = i; /* equal counts: the first seen, which is stable */
		}
		if (best < 0)
			break;
		shown[nshown] = best;
		const fsite *x = &fsites[best];
		if (x->maxwait >= 60 * (int64_t)1000000000)
			snprintf(a, sizeof a, "%" PRId64 "m", x->maxwait / 60000000000);
		else
			snprintf(a, sizeof a, "%" PRId64 "s", x->maxwait / 1000000000);
		out("  %8" PRId64 "  %-24s %8s  %s", x->count, state_name(x->status, x->waitreason), a, x->name);
		eol();
		listed += x->count;
	}
	if (nf > nshown) {
		out("  %8" PRId64 "  (%d more site%s)", blocked - listed, nf - nshown, nf - nshown == 1 ? "" : "s");
		eol();
	}
	if (s->sites_dropped > 0) {
		out("  (%" PRId64 " goroutines at sites beyond the first %d)", s->sites_dropped, SITES * 3 / 4);
		eol();
	}
	out("gc: none (gort has no garbage collector; its cycles and pauses will show here)");
	eol();
	latency_table(s, width);
	if (!batch) {
		maxlines = 0;
		out("\033[J");
	} else {
		out("\n");
	}
}

/* ---- the terminal ------------------------------------------------------------ */

static struct termios saved_tio;
static bool tio_saved;
static volatile sig_atomic_t quit_flag;

static void on_signal(int sig) { quit_flag = 1; }

static void restore_terminal(void)
{
	if (batch)
		return;
	static const char show[] = "\033[?25h";
	if (write(1, show, sizeof show - 1) < 0) {
		/* nothing to do about it */
	}
	if (tio_saved)
		tcsetattr(0, TCSANOW, &saved_tio);
}

static void setup_terminal(void)
{
	if (isatty(0) && tcgetattr(0, &saved_tio) == 0) {
		struct termios raw = saved_tio;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		tio_saved = tcsetattr(0, TCSANOW, &raw) == 0;
	}
	static const char hide[] = "\033[?25l\033[H\033[2J";
	if (write(1, hide, sizeof hide - 1) < 0)
		gort_proc_die("cannot write to the terminal: %s", strerror(errno));
	atexit(restore_terminal);
}

/* the terminal's size: 80x24 if it will not say (or in batch output) */
static void term_size(int *width, int *height)
{
	struct winsize ws;
	bool ok = !batch && ioctl(1, TIOCGWINSZ, &ws) == 0;
	*width = ok && ws.ws_col >= 40 ? ws.ws_col : 80;
	*height = ok && ws.ws_row >= 5 ? ws.ws_row : 24;
}

/* wait_input: sleep until the next frame is due, or q is pressed. */
static void wait_input(int64_t ns)
{
	int64_t until = mono_ns() + ns;
	for (int64_t left = ns; left > 0 && !quit_flag; left = until - mono_ns()) {
		struct pollfd pf = {.fd = 0, .events = POLLIN};
		bool keys = !batch && tio_saved;
		int r = poll(&pf, keys ? 1 : 0, (int)((left + 999999) / 1000000));
		if (r > 0 && keys) {
			char c;
			if (read(0, &c, 1) == 1 && (c == 'q' || c == 'Q'))
				quit_flag = 1;
		}
	}
}

static bool write_all(const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(1, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		buf += w;
		n -= (size_t)w;
	}
	return true;
}

/* ---- start-up ------------------------------------------------------------------ */


static void no_access(int err)
{
	gort_proc_explain_access(stderr, gort_proc_prog, "read", T.pid, err);
	exit(1);
}

static char *debuginfo_path;
static const Dwfl_Callbacks proc_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

/* load_symtab: read every module's symbol table now, so that naming a
 * creator in the render loop allocates nothing. */
static int load_symtab(Dwfl_Module *mod, void **ud, const char *name, Dwarf_Addr start, void *arg)
{
	dwfl_module_getsymtab(mod);
	return DWARF_CB_OK;
}

static void open_target(pid_t pid)
{
	T.pid = pid;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		gort_proc_die("no process %d", (int)pid);
	if (fgets(T.comm, sizeof T.comm, f) == NULL)
		T.comm[0] = '\0';
	T.comm[strcspn(T.comm, "\n")] = '\0';
	fclose(f);

	/* can we read it at all?  (the same check as ptrace's attach) */
	char probe;
	struct iovec l = {&probe, 1}, r = {(void *)1, 1};
	if (process_vm_readv(pid, &l, 1, &r, 1, 0) < 0 && (errno == EPERM || errno == EACCES))
		no_access(errno);

	T.dwfl = dwfl_begin(&proc_callbacks);
	if (T.dwfl == NULL)
		gort_proc_die("libdw: %s", dwfl_errmsg(-1));
	dwfl_report_begin(T.dwfl);
	int err = gort_proc_report_maps(T.dwfl, pid);
	if (err == EACCES || err == EPERM)
		no_access(err);
	if (err == ENOENT || err == ESRCH)
		gort_proc_die("no process %d", (int)pid);
	if (err != 0)
		gort_proc_die("cannot read the modules of process %d: %s", (int)pid,
		    err > 0 ? strerror(err) : dwfl_errmsg(-1));
	dwfl_report_end(T.dwfl, NULL, NULL);

	uint64_t daddr;
	if (gort_proc_find_descriptor(T.dwfl, &daddr) == NULL)
		gort_proc_die("process %d (%s) is not a gort program: neither it nor its libraries have gort's "
		    "descriptor (section %s)",
		    (int)pid, T.comm, GORT_DEBUGINFO_SECTION);
	char head[16];
	if (!rd(daddr, head, sizeof head)) {
		if (errno == EPERM || errno == EACCES)
			no_access(errno);
		gort_proc_die("process %d exited", (int)pid);
	}
	uint32_t version, size;
	int bad = gort_proc_check_header(head, sizeof T.d, &version, &size);
	if (bad == 1)
		gort_proc_die("process %d: section %s holds no gort descriptor", (int)pid, GORT_DEBUGINFO_SECTION);
	if (bad == 2)
		gort_proc_die("process %d's runtime describes itself in version %u (%u bytes); this gort-top reads "
		    "version %d (%zu bytes): use the gort-top of the program's gort",
		    (int)pid, version, size, GORT_DEBUGINFO_VERSION, sizeof T.d);
	if (!rd(daddr, &T.d, sizeof T.d))
		gort_proc_die("process %d exited", (int)pid);
	if (T.d.ready != 1)
		gort_proc_die("process %d has not started gort's runtime yet (gort_main)", (int)pid);

	/* what is read of each G and each pmetrics: checked once, here */
	const gort_debuginfo *d = &T.d;
	uint64_t offs[][2] = {{d->g_goid, 8}, {d->g_atomicstatus, 4}, {d->g_waitreason, 1},
	                      {d->g_gopc, 8}, {d->g_waitsince, 8}};
	uint64_t lo = UINT64_MAX, hi = 0;
	for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
		lo = offs[i][0] < lo ? offs[i][0] : lo;
		hi = offs[i][0] + offs[i][1] > hi ? offs[i][0] + offs[i][1] : hi;
	}
	if (hi - lo > GSPAN_MAX)
		gort_proc_die("process %d: a G's fields span %" PRIu64 " bytes, more than this gort-top reads", (int)pid,
		    hi - lo);
	T.gspan_lo = lo;
	T.gspan = hi - lo;
	T.pmlen = d->pm_schedlat + 8 * (d->schedlat_buckets < MAXBUCKETS ? d->schedlat_buckets : MAXBUCKETS);
	uint64_t pmmax = d->pm_nswitch > d->pm_nspawn ? d->pm_nswitch : d->pm_nspawn;
	pmmax = d->pm_nsteal > pmmax ? d->pm_nsteal : pmmax;
	pmmax = d->pm_nstolen > pmmax ? d->pm_nstolen : pmmax;
	if (T.pmlen > sizeof pmbuf || pmmax + 8 > T.pmlen)
		gort_proc_die("process %d: the runtime's counters are laid out as this gort-top does not know", (int)pid);

	rdstr(d->gort_version, T.version, sizeof T.version);
	for (uint64_t i = 0; i < d->nwaitreasons && i < MAXREASONS; i++)
		rdstr(rd64(d->waitreasons + 8 * i), T.reasons[i], NAMELEN);
	for (uint64_t i = 0; i < d->ngstatuses && i < 16; i++)
		rdstr(rd64(d->gstatuses + 8 * i), T.statuses[i], NAMELEN);
	dwfl_getmodules(T.dwfl, load_symtab, NULL, 0);
	dwfl_addrmodule(T.dwfl, d->textlo); /* its first call sorts the modules */
	if (gone_flag)
		gort_proc_die("process %d exited", (int)pid);
}

#ifdef GORT_TOP_ALLOC_COUNT
uint64_t gort_top_allocs(void); /* tests/top_alloc.c */
#endif

static void usage(void)
{
	fprintf(stderr,
	        "usage: gort-top [-b] [-n N] [-d SECONDS] PID\n"
	        "  a live view of a running gort program's scheduler\n"
	        "  -b, --batch        plain-text frames, one after the other (also when the\n"
	        "                     output is not a terminal)\n"
	        "  -n, --iterations N stop after N frames\n"
	        "  -d, --delay S      seconds between frames (default 1)\n"
	        "  q or ^C quits.  Exit status: 0 when done or when the program exits,\n"
	        "  1 if it cannot be watched, 2 for a bad command line.\n");
	exit(2);
}

int main(int argc, char **argv)
{
	long iterations = -1;
	double delay = 1.0;
	const char *pidarg = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-b") == 0 || strcmp(a, "--batch") == 0) {
			batch = true;
		} else if ((strcmp(a, "-n") == 0 || strcmp(a, "--iterations") == 0) && i + 1 < argc) {
			char *end;
			iterations = strtol(argv[++i], &end, 10);
			if (*end != '\0' || iterations < 1)
				usage();
		} else if ((strcmp(a, "-d") == 0 || strcmp(a, "--delay") == 0) && i + 1 < argc) {
			char *end;
			delay = strtod(argv[++i], &end);
			if (*end != '\0' || !(delay >= 0.01 && delay <= 3600))
				usage();
		} else if (pidarg == NULL && a[0] != '-') {
			pidarg = a;
		} else {
			usage();
		}
	}
	if (pidarg == NULL)
		usage();
	if (!gort_proc_all_digits(pidarg) || strlen(pidarg) > 9 || atol(pidarg) <= 0)
		gort_proc_die("%s is not a process id", pidarg);
	if (!isatty(1))
		batch = true;

	open_target((pid_t)atol(pidarg));

	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* warm up what the loop uses once: the time zone, the clock */
	time_t t0 = time(NULL);
	struct tm tm0;
	localtime_r(&t0, &tm0);
	if (!batch)
		setup_terminal();

#ifdef GORT_TOP_ALLOC_COUNT
	uint64_t allocs0 = gort_top_allocs();
#endif
	/* the render loop: from here on, no allocation */
	long frames = 0;
	sample *cur = &S[0], *prev = NULL;
	while (!quit_flag && (iterations < 0 || frames < iterations)) {
		take_sample(cur);
		if (gone_flag)
			break;
		H.total[H.next] = cur->g_total;
		H.runnable[H.next] = cur->g_runnable;
		H.next = (H.next + 1) % HIST;
		H.n += H.n < HIST;
		int width, height;
		term_size(&width, &height);
		render(cur, prev, width, height);
		if (!write_all(frame, flen))
			break; /* the reader went away */
		frames++;
		prev = cur;
		cur = cur == &S[0] ? &S[1] : &S[0];
		if (iterations < 0 || frames < iterations)
			wait_input((int64_t)(delay * 1e9));
	}
#ifdef GORT_TOP_ALLOC_COUNT
	uint64_t allocs = gort_top_allocs() - allocs0;
	fprintf(stderr, "%s: %" PRIu64 " allocations in %ld frames\n", gort_proc_prog, allocs, frames);
#endif
	restore_terminal();
	tio_saved = false;
	batch = true; /* restored: atexit's call does nothing more */
	if (gone_flag) {
		fprintf(stderr, "%s: process %d exited\n", gort_proc_prog, (int)T.pid);
		return 0;
	}
	return 0;
}
