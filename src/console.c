/*
 * console.c - /debug/gort/, a live console of the runtime in the browser.
 *
 *   gort__console_page   the page: src/console.html as it is, embedded in
 *                        the library by console_page.S (no build step, no
 *                        external assets: its CSS, JavaScript and charts
 *                        are inline)
 *   gort__console_data   /debug/gort/data: the runtime now, one JSON object
 *
 * The page asks for the data once a second and keeps two minutes of it:
 * the rates (switches, spawns, system calls per second) and the latency
 * quantiles of the last second are the differences between two answers,
 * computed by the page - the server keeps nothing between requests, so
 * any number of pages may watch.  Each number has one source:
 *
 *   goroutines by state, threads idle and spinning, Ps, run queues'
 *   totals, switches, spawns, steals, the scheduling-latency histogram
 *                            gort_read_metrics (what /debug/vars and
 *                            gort-top show)
 *   threads in system calls  the goroutines in one: a goroutine in a
 *                            system call holds its thread until it returns
 *   each P's run queue       gort__runqlen (metrics' own reader)
 *   system calls             the Ps' syscalltick, summed (what gort-top
 *                            counts; a P taken from a blocked call also
 *                            ticks)
 *   blocked-on sites         the goroutines waiting or in a system call,
 *                            bucketed by state (the wait reason) and the
 *                            function that created them, as gort-top and
 *                            the dump's summary bucket them
 *
 * The goroutine list is walked a chunk at a time under allglock (as
 * gort__countgstatus does), each G's fields read without its owner's
 * consent: a G that changes meanwhile is counted in one state or the
 * other, as top's numbers are a snapshot.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pprof.h"
#include "proc.h"

/* ---- the page ---------------------------------------------------------------- */

extern const char gort__console_html[]; /* console_page.S: console.html and a NUL */

void gort__console_page(pbuf *out)
{
	gort__pbuf_puts(out, gort__console_html);
}

/* ---- blocked-on sites ---------------------------------------------------------- */

enum {
	SITES = 4096,  /* (state, creator pc) pairs told apart; the rest are counted as more */
	CHUNK = 4096,  /* Gs walked per hold of allglock */
	TOPSITES = 10, /* the sites the page lists */
};

/* A site: the goroutines in one state made by one call (gopc). */
typedef struct site {
	uintptr_t gopc;      /* 0: the main goroutine (and never a free slot: count says) */
	uint32_t status;
	uint8_t waitreason;
	int64_t count;
	int64_t maxwait;     /* ns */
	uintptr_t entry;     /* the creating function's entry: what sites merge by */
	const char *creator;
} site;

typedef struct sites {
	site t[SITES];
	int n;
	int64_t dropped;     /* goroutines at sites beyond the table's */
	int64_t now;
} sites;

static void site_add(sites *s, uint32_t st, uint8_t wr, uintptr_t gopc, int64_t wait)
{
	uint64_t h = ((uint64_t)gopc ^ ((uint64_t)st << 56) ^ ((uint64_t)wr << 48)) * 0x9e3779b97f4a7c15ull;
	for (uint64_t i = 0; i < SITES; i++) {
		site *x = &s->t[(h + i) % SITES];
		if (x->count == 0) {
			if (s->n >= SITES * 3 / 4)
				break; /* keep probes short: the rest are counted as dropped */
			*x = (site){.gopc = gopc, .status = st, .waitreason = wr};
			s->n++;
		}
		if (x->gopc == gopc && x->status == st && x->waitreason == wr) {
			x->count++;
			if (wait > x->maxwait)
				x->maxwait = wait;
			return;
		}
	}
	s->dropped++;
}

/* walk: every goroutine waiting or in a system call, to its site. */
static void walk(sites *s)
{
	for (size_t i = 0;;) {
		gort__lock(&allglock);
		size_t n = atomic_load(&allglen);
		size_t end = i + CHUNK < n ? i + CHUNK : n;
		for (; i < end; i++) {
			G *gp = allgs[i];
			uint32_t st = gort__readgstatus(gp);
			if (st != Gwaiting && st != Gsyscall)
				continue;
			int64_t since = gp->waitsince;
			site_add(s, st, st == Gwaiting ? gp->waitreason : 0, gp->gopc,
			         since > 0 && since < s->now ? s->now - since : 0);
		}
		gort__unlock(&allglock);
		if (i >= n)
			return;
	}
}

/* creator: the function holding gopc (the code, not a call inlined
 * there: what gort-top names from the symbol table) and its entry. */
static const char *creator(uintptr_t gopc, uintptr_t *entry)
{
	*entry = gopc;
	if (gopc == 0)
		return "(none: the main goroutine)";
	gort_frame fr[16];
	int n = gort_frame_info(gopc, fr, 16);
	if (n <= 0)
		return NULL;
	n = n < 16 ? n : 16;
	if (fr[n - 1].function == NULL)
		return NULL;
	if (fr[n - 1].entry != 0)
		*entry = fr[n - 1].entry;
	return fr[n - 1].function;
}

/* merge: the sites of one state whose creators are one function, into
 * the first of them; how many there are then, packed at the front,
 * biggest first (equal ones: the order of the table, which is stable). */
static int merge(sites *s)
{
	int n = 0;
	for (int i = 0; i < SITES; i++) {
		site x = s->t[i];
		if (x.count == 0)
			continue;
		x.creator = creator(x.gopc, &x.entry);
		int j = 0;
		while (j < n && !(s->t[j].entry == x.entry && s->t[j].status == x.status &&
		                  s->t[j].waitreason == x.waitreason))
			j++;
		if (j == n) {
			s->t[n++] = x; /* n <= i: the slot is read already */
			continue;
		}
		s->t[j].count += x.count;
		if (x.maxwait > s->t[j].maxwait)
			s->t[j].maxwait = x.maxwait;
	}
	/* insertion sort, biggest first, stable */
	for (int i = 1; i < n; i++) {
		site x = s->t[i];
		int j = i;
		for (; j > 0 && s->t[j - 1].count < x.count; j--)
			s->t[j] = s->t[j - 1];
		s->t[j] = x;
	}
	return n;
}

/* ---- the data -------------------------------------------------------------------- */

static void jsonname(pbuf *b, const char *s)
{
	if (s == NULL) {
		gort__pbuf_puts(b, "null");
		return;
	}
	gort__jsonstring(b, s, strlen(s));
}

/*
 * gort__console_data: the runtime now, as JSON (the page's only input):
 *
 *   version, pid, program, uptime_ns, gomaxprocs, procs_idle
 *   goroutines   {total, running, runnable, syscall, waiting}
 *   threads      {total, idle, spinning, syscall}
 *   runqueue     {global, local, per_p: [each P's]}
 *   counters     {context_switches, spawns, steals, stolen_goroutines,
 *                 syscalls}: totals since start; the page takes rates
 *   sched_latency {sample_period, buckets: [[lower bound ns, count], ...]}
 *   heap         {live, goal, objects_bytes, objects, sys, released,
 *                 allocs_bytes, allocs_objects, frees_bytes, frees_objects}:
 *                 bytes and counts (gort_read_metrics' heap fields)
 *   gc           {cycles, forced, pause_total_ns, pause_last_ns,
 *                 pauses: [[lower bound ns, count], ...]}
 *   blocked      {goroutines, sites, more_sites, dropped,
 *                 top: [{count, state, longest_ns, created_by}, ...]}
 */
int gort__console_data(pbuf *b)
{
	gort__current_goroutine("the console's data"); /* holds a P: allp is stable */
	/* the waits are measured to a moment before the metrics' own, so that
	 * no wait is longer than the uptime beside it */
	int64_t now = gort__nanotime();
	gort_metrics m = {.size = sizeof m};
	gort_read_metrics(&m);

	int32_t np = atomic_load(&gomaxprocs);
	P **ps = allp;
	char prog[64] = "?";
	pbuf cmd = {0};
	gort__readfile("/proc/self/cmdline", &cmd);
	if (cmd.len > 0 && !cmd.oom) {
		gort__pbuf_put(&cmd, "", 1);
		const char *slash = strrchr((const char *)cmd.p, '/');
		snprintf(prog, sizeof prog, "%s", slash != NULL ? slash + 1 : (const char *)cmd.p);
	}
	gort__pbuf_free(&cmd);

	gort__pbuf_printf(b, "{\"version\": \"%s\", \"pid\": %d, \"program\": ", gort_version(), (int)getpid());
	jsonname(b, prog);
	gort__pbuf_printf(b, ", \"uptime_ns\": %lld, \"gomaxprocs\": %d, \"procs_idle\": %d,\n",
	                  (long long)m.uptime_ns, (int)m.procs, (int)m.procs_idle);
	gort__pbuf_printf(b, "\"goroutines\": {\"total\": %lld, \"running\": %lld, \"runnable\": %lld, "
	                     "\"syscall\": %lld, \"waiting\": %lld},\n",
	                  (long long)m.goroutines, (long long)m.goroutines_running,
	                  (long long)m.goroutines_runnable, (long long)m.goroutines_syscall,
	                  (long long)m.goroutines_waiting);
	gort__pbuf_printf(b, "\"threads\": {\"total\": %lld, \"idle\": %lld, \"spinning\": %lld, "
	                     "\"syscall\": %lld},\n",
	                  (long long)m.threads, (long long)m.threads_idle, (long long)m.threads_spinning,
	                  (long long)m.goroutines_syscall);
	gort__pbuf_printf(b, "\"runqueue\": {\"global\": %lld, \"local\": %lld, \"per_p\": [",
	                  (long long)m.runqueue_global, (long long)m.runqueue_local);
	uint64_t syscalls = 0;
	for (int32_t i = 0; i < np; i++) {
		gort__pbuf_printf(b, "%s%lld", i ? ", " : "", (long long)gort__runqlen(ps[i]));
		syscalls += atomic_load_explicit(&ps[i]->syscalltick, memory_order_relaxed);
	}
	gort__pbuf_printf(b, "]},\n\"counters\": {\"context_switches\": %llu, \"spawns\": %llu, "
	                     "\"steals\": %llu, \"stolen_goroutines\": %llu, \"syscalls\": %llu},\n",
	                  (unsigned long long)m.context_switches, (unsigned long long)m.spawns,
	                  (unsigned long long)m.steals, (unsigned long long)m.stolen_goroutines,
	                  (unsigned long long)syscalls);
	gort__pbuf_printf(b, "\"sched_latency\": {\"sample_period\": %lld, \"buckets\": [",
	                  (long long)m.sched_latency_sample_period);
	for (int i = 0; i < GORT_METRICS_SCHEDLAT_BUCKETS; i++)
		gort__pbuf_printf(b, "%s[%lld, %llu]", i ? ", " : "",
		                  (long long)gort_metrics_sched_latency_ns(i),
		                  (unsigned long long)m.sched_latency[i]);
	gort__pbuf_puts(b, "]},\n");
	gort__pbuf_printf(b, "\"heap\": {\"live\": %llu, \"goal\": %llu, \"objects_bytes\": %llu, "
	                     "\"objects\": %llu, \"sys\": %llu, \"released\": %llu, \"allocs_bytes\": %llu, "
	                     "\"allocs_objects\": %llu, \"frees_bytes\": %llu, \"frees_objects\": %llu},\n",
	                  (unsigned long long)m.heap_live_bytes, (unsigned long long)m.heap_goal_bytes,
	                  (unsigned long long)m.heap_objects_bytes, (unsigned long long)m.gc_heap_objects,
	                  (unsigned long long)m.heap_sys_bytes, (unsigned long long)m.heap_released_bytes,
	                  (unsigned long long)m.gc_heap_allocs_bytes,
	                  (unsigned long long)m.gc_heap_allocs_objects,
	                  (unsigned long long)m.gc_heap_frees_bytes,
	                  (unsigned long long)m.gc_heap_frees_objects);
	gort__pbuf_printf(b, "\"gc\": {\"cycles\": %llu, \"forced\": %llu, \"pause_total_ns\": %llu, "
	                     "\"pause_last_ns\": %llu, \"pauses\": [",
	                  (unsigned long long)m.gc_cycles, (unsigned long long)m.gc_cycles_forced,
	                  (unsigned long long)m.gc_pause_total_ns, (unsigned long long)m.gc_pause_last_ns);
	for (int i = 0; i < GORT_METRICS_SCHEDLAT_BUCKETS; i++)
		gort__pbuf_printf(b, "%s[%lld, %llu]", i ? ", " : "",
		                  (long long)gort_metrics_sched_latency_ns(i),
		                  (unsigned long long)m.gc_pauses[i]);
	gort__pbuf_puts(b, "]},\n");

	sites *s = calloc(1, sizeof *s);
	if (s == NULL)
		return -ENOMEM;
	s->now = now;
	walk(s);
	int n = merge(s);
	int64_t blocked = s->dropped;
	for (int i = 0; i < n; i++)
		blocked += s->t[i].count;
	gort__pbuf_printf(b, "\"blocked\": {\"goroutines\": %lld, \"sites\": %d, \"more_sites\": %d, "
	                     "\"dropped\": %lld, \"top\": [",
	                  (long long)blocked, n, n > TOPSITES ? n - TOPSITES : 0, (long long)s->dropped);
	for (int i = 0; i < n && i < TOPSITES; i++) {
		const site *x = &s->t[i];
		gort__pbuf_printf(b, "%s\n  {\"count\": %lld, \"state\": ", i ? "," : "", (long long)x->count);
		jsonname(b, gort__gstatus_string(x->status, x->waitreason));
		gort__pbuf_printf(b, ", \"longest_ns\": %lld, \"created_by\": ", (long long)x->maxwait);
		if (x->creator != NULL) {
			jsonname(b, x->creator);
		} else {
			char pc[32];
			snprintf(pc, sizeof pc, "%#lx", (unsigned long)x->gopc);
			jsonname(b, pc);
		}
		gort__pbuf_puts(b, "}");
	}
	gort__pbuf_puts(b, "]}\n}\n");
	free(s);
	return b->oom ? -ENOMEM : 0;
}
