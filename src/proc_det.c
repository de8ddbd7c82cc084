/*
 * proc_det.c - deterministic mode: GODEBUG=detseed=N runs a program so
 * that one seed gives one interleaving, run after run (gort's own; Go's
 * testing/synctest fakes time in a bubble, but leaves the schedule random).
 *
 * gort owns every source of non-determinism a gort program has - which
 * goroutine runs next, which select case wins, when timers fire, what
 * time it is - so it can draw each from one seeded generator:
 *
 *   one P, one thread at a time  schedinit makes one P whatever GOMAXPROCS
 *                   says (gort_gomaxprocs reports the number asked); no
 *                   stealing, no spinning Ms, and sysmon never preempts.
 *   the run pool    every runnable G is moved from the P's queues (and the
 *                   global one) into pool[], in queue order; the strategy
 *                   picks from it (det_next, findrunnable's step).
 *   scheduling points  every gort call that can switch: channel operations,
 *                   select, spawn, sleep, gort_gosched, mutex lock,
 *                   semaphores (WaitGroup, RWMutex, Cond), network calls.
 *                   Each G's preempt flag stays set, so the preemption
 *                   points the runtime already has all reach det_point, at
 *                   no cost outside this mode; mutex and sema add theirs.
 *   strategies      random walk: at a point, pick uniformly among the
 *                   running G and the pool (n+1 choices), at a block among
 *                   the pool.  PCT (Burckhardt et al., ASPLOS 2010): each
 *                   G gets a random priority when made, the highest-priority
 *                   runnable G always runs, and at d-1 steps drawn from
 *                   [1, k] the running G drops below every other; it finds
 *                   a bug of depth d with probability >= 1/(n k^(d-1)).
 *   virtual time    gort__nanotime returns vclock, which starts at
 *                   DET_ORIGIN, moves DET_TICK_NS per scheduling decision
 *                   (so a loop polling the clock between gort calls ends),
 *                   and jumps to the next timer when nothing is runnable:
 *                   an hour's sleep takes no time.  With nothing runnable
 *                   and no timer, findrunnable's idle path runs as always:
 *                   checkdead's "all goroutines are asleep - deadlock!".
 *   the outside     a system call, network I/O or a call from a thread gort
 *                   did not create is allowed but its timing is the world's:
 *                   each is counted and the count said at exit (detstrict=1
 *                   makes the first a fatal error naming it).  While one is
 *                   under way, virtual time follows real time (det_waitreal).
 *
 * All of the state below is touched only by the M holding the one P,
 * except vclock, the counts of the outside and insyscall (atomics).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <time.h>
#include <unistd.h>

#include "det.h"
#include "proc.h"
#include "timer.h"

enum {
	DET_RANDOM = 0,
	DET_PCT = 1,
	DET_MAXDEPTH = 16,
};

#define DET_ORIGIN 1000000000000LL /* vclock's start: 1000 s, the same every run */
#define DET_TICK_NS 1000           /* virtual time per scheduling decision */
#define DET_REALWAIT_NS 10000000   /* longest real wait at once while the outside is awaited */
#define DET_PRIO_BASE (1ull << 60) /* initial PCT priorities lie above; change points below */
#define DET_IDLE_MAX (1 << 24)     /* timer jumps in a row that wake nobody: a deadlock */

bool gort__det_on;

static struct {
	/* the settings (GODEBUG) */
	bool seedset;
	uint64_t seed;
	int32_t strategy;
	int32_t depth;   /* PCT's d: d-1 change points */
	int64_t steps;   /* PCT's k: the change points are drawn from [1, k] */
	int64_t timeout; /* virtual ns after which the run fails; 0: none */
	char timeouttext[32]; /* as given */
	bool strict, stats, dump;
	int32_t procs;   /* GOMAXPROCS as asked */
	bool exiting;    /* the exit line is out: what comes after is not counted */

	uint64_t rng;    /* splitmix64's state */
	G **pool;        /* the runnable Gs */
	size_t npool, cap;
	G *forced;       /* det_point chose it: det_next runs it */
	int64_t step;    /* scheduling decisions so far */
	int64_t switches;
	int64_t cp[DET_MAXDEPTH]; /* PCT's change points, ascending */
	int32_t ncp, nextcp;

	_Atomic int64_t vclock;
	_Atomic int32_t insyscall;       /* Gs in a system call now */
	_Atomic int64_t nondet;          /* events from outside so far */
	_Atomic(const char *) firstnondet;
	char firstname[96];
} det;

static void det_onexit(int status, void *arg);

/* det_runnable: the pool holds Gs (handoffp: a P is not idle while it does). */
bool gort__det_runnable(void)
{
	return det.npool > 0;
}

static G *det_yield_m(void *arg);

/* ---- the generator: splitmix64 (Steele, Lea, Flood 2014) ------------------ */

static uint64_t rand64(void)
{
	uint64_t z = (det.rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* randn: uniform in [0, n), n > 0 (Lemire's multiply, bias below 2^-32). */
static uint64_t randn(uint64_t n)
{
	return (uint64_t)(((__uint128_t)rand64() * n) >> 64);
}

uint32_t gort__det_rand(void)
{
	return (uint32_t)(rand64() >> 32);
}

/* ---- settings ------------------------------------------------------------------ */

static __attribute__((noreturn)) void badsetting(const char *key, size_t keylen, const char *val,
                                                 size_t vallen, const char *want)
{
	/* Early in schedinit: nothing of the runtime's printing is ready. */
	char msg[256];
	int n = snprintf(msg, sizeof msg, "gort: GODEBUG=%.*s=%.*s: %s\n", (int)keylen, key, (int)vallen,
	                 val, want);
	if (write(2, msg, n > 0 && (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1) < 0)
		_exit(2);
	_exit(2);
}

static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
	if (len == 0 || len > 20)
		return false;
	uint64_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		uint64_t d = (uint64_t)(s[i] - '0');
		if (n > (UINT64_MAX - d) / 10)
			return false;
		n = n * 10 + d;
	}
	*out = n;
	return true;
}

/* parse_duration: digits with a unit (ns, us, ms, s, m, h; none: seconds). */
static bool parse_duration(const char *s, size_t len, int64_t *out)
{
	static const struct {
		const char *unit;
		int64_t ns;
	} units[] = {{"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000},
	             {"m", 60000000000LL}, {"h", 3600000000000LL}, {"", 1000000000}};
	size_t digits = 0;
	while (digits < len && s[digits] >= '0' && s[digits] <= '9')
		digits++;
	uint64_t n;
	if (!parse_u64(s, digits, &n))
		return false;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strlen(units[i].unit) != len - digits || memcmp(s + digits, units[i].unit, len - digits) != 0)
			continue;
		if (n > (uint64_t)INT64_MAX / (uint64_t)units[i].ns)
			return false;
		*out = (int64_t)n * units[i].ns;
		return true;
	}
	return false;
}

static bool keyis(const char *key, size_t keylen, const char *name)
{
	return keylen == strlen(name) && memcmp(key, name, keylen) == 0;
}

/*
 * det_setting parses one det* key.  Unlike Go's other GODEBUG keys, which
 * a malformed value leaves at their default, a bad value here ends the
 * program with a message: a seed silently ignored would run a schedule
 * nobody asked for, and report it as the one asked.
 */
void gort__det_setting(const char *key, size_t keylen, const char *val, size_t vallen)
{
	uint64_t n;
	if (keyis(key, keylen, "detseed")) {
		if (!parse_u64(val, vallen, &n) || n > INT64_MAX) /* gort_det_seed's -1 is "off" */
			badsetting(key, keylen, val, vallen, "not a seed (want a decimal number from 0 to 9223372036854775807)");
		det.seed = n;
		det.seedset = true;
	} else if (keyis(key, keylen, "detstrategy")) {
		if (vallen == 6 && memcmp(val, "random", 6) == 0)
			det.strategy = DET_RANDOM;
		else if (vallen == 3 && memcmp(val, "pct", 3) == 0)
			det.strategy = DET_PCT;
		else
			badsetting(key, keylen, val, vallen, "unknown strategy (want random or pct)");
	} else if (keyis(key, keylen, "detdepth")) {
		if (!parse_u64(val, vallen, &n) || n < 1 || n > DET_MAXDEPTH)
			badsetting(key, keylen, val, vallen, "not a depth (want 1 to 16)");
		det.depth = (int32_t)n;
	} else if (keyis(key, keylen, "detsteps")) {
		if (!parse_u64(val, vallen, &n) || n < 1 || n > INT64_MAX)
			badsetting(key, keylen, val, vallen, "not a step count (want a number from 1)");
		det.steps = (int64_t)n;
	} else if (keyis(key, keylen, "dettimeout")) {
		if (!parse_duration(val, vallen, &det.timeout) || det.timeout == 0 || vallen >= sizeof det.timeouttext)
			badsetting(key, keylen, val, vallen, "not a duration (want e.g. 90s, 10m, 2h; no unit: seconds)");
		memcpy(det.timeouttext, val, vallen);
		det.timeouttext[vallen] = '\0';
	} else if (keyis(key, keylen, "detstrict") || keyis(key, keylen, "detstats") ||
	           keyis(key, keylen, "detdump")) {
		if (!parse_u64(val, vallen, &n) || n > 1)
			badsetting(key, keylen, val, vallen, "want 0 or 1");
		bool *flag = keyis(key, keylen, "detstrict")  ? &det.strict
		             : keyis(key, keylen, "detstats") ? &det.stats
		                                              : &det.dump;
		*flag = n == 1;
	}
	/* other det* keys: unknown, ignored as Go ignores unknown keys */
}

/* ---- start-up ------------------------------------------------------------------ */

void gort__det_init(void)
{
	if (!det.seedset)
		return;
	if (det.depth == 0)
		det.depth = 3;
	if (det.steps == 0)
		det.steps = 10000;
	det.rng = det.seed;
	atomic_store(&det.vclock, DET_ORIGIN);
	/* PCT's d-1 change points, uniform in [1, k], sorted */
	det.ncp = det.strategy == DET_PCT ? det.depth - 1 : 0;
	for (int32_t i = 0; i < det.ncp; i++) {
		int64_t c = 1 + (int64_t)randn((uint64_t)det.steps);
		int32_t j = i;
		for (; j > 0 && det.cp[j - 1] > c; j--)
			det.cp[j] = det.cp[j - 1];
		det.cp[j] = c;
	}
	/* A preemption by signal lands anywhere, at a real time: off. */
	gort__debug.asyncpreemptoff = 1;
	gort__det_on = true;
}

/* det_mainstart: the exit line is registered after GORT_TRACE's writer
 * (startenv), so it runs first: the tracer's own system calls at exit are
 * not the program's, and are not counted. */
void gort__det_mainstart(void)
{
	on_exit(det_onexit, NULL);
}

int32_t gort__det_procs(int32_t procs)
{
	det.procs = procs;
	return 1;
}

int gort__det_gomaxprocs(int n)
{
	int ret = det.procs;
	if (n > 0)
		det.procs = n;
	return ret;
}

int64_t gort_det_seed(void)
{
	return gort__det() ? (int64_t)det.seed : -1;
}

/* ---- the clock ----------------------------------------------------------------- */

int64_t gort__det_nanotime(void)
{
	return atomic_load_explicit(&det.vclock, memory_order_relaxed);
}

static void timeout_check(int64_t now)
{
	if (det.timeout == 0 || now - DET_ORIGIN <= det.timeout)
		return;
	char msg[128];
	snprintf(msg, sizeof msg, "deterministic mode: virtual time limit exceeded (dettimeout=%s)",
	         det.timeouttext);
	gort__fatal(msg);
}

static void advance_to(int64_t when)
{
	if (when <= atomic_load_explicit(&det.vclock, memory_order_relaxed))
		return;
	atomic_store_explicit(&det.vclock, when, memory_order_relaxed);
	timeout_check(when);
}

/* tick: one scheduling decision: a step for PCT, a tick of virtual time. */
static void tick(void)
{
	det.step++;
	advance_to(atomic_load_explicit(&det.vclock, memory_order_relaxed) + DET_TICK_NS);
}

/* ---- the pool ------------------------------------------------------------------ */

static void pool_add(G *gp)
{
	if (det.npool == det.cap) {
		size_t cap = det.cap ? det.cap * 2 : 64;
		G **a = realloc(det.pool, cap * sizeof *a);
		if (a == NULL)
			gort__throw("out of memory growing the deterministic run pool");
		det.pool = a;
		det.cap = cap;
	}
	det.pool[det.npool++] = gp;
}

/* pool_take removes pool[i]; the last takes its place (the order stays a
 * function of the seed, which is all that matters). */
static G *pool_take(size_t i)
{
	gort__assert(i < det.npool, "det: pool index out of range");
	G *gp = det.pool[i];
	det.pool[i] = det.pool[--det.npool];
	gort__assert(gort__readgstatus(gp) == Grunnable, "det: a G in the run pool is not runnable");
	return gp;
}

/* drain moves every G on pp's queues, then the global queue's, into the pool. */
static void drain(P *pp)
{
	bool inherit;
	G *gp;
	while ((gp = runqget(pp, &inherit)) != NULL)
		pool_add(gp);
	if (atomic_load_explicit(&sched.runqsize, memory_order_relaxed) == 0)
		return;
	gort__lock(&sched.lock);
	while ((gp = globrunqget(pp, 1)) != NULL)
		pool_add(gp);
	gort__unlock(&sched.lock);
}

/* best: the pool's highest PCT priority (ties: the lower goid). */
static size_t best(void)
{
	size_t b = 0;
	for (size_t i = 1; i < det.npool; i++) {
		G *g = det.pool[i], *h = det.pool[b];
		if (g->detprio > h->detprio || (g->detprio == h->detprio && g->goid < h->goid))
			b = i;
	}
	return b;
}

void gort__det_newg(G *gp)
{
	/* Kept set: every preemption point becomes a scheduling point. */
	atomic_store_explicit(&gp->preempt, true, memory_order_relaxed);
	gp->detprio = det.strategy == DET_PCT ? DET_PRIO_BASE + (rand64() >> 4) : 0;
}

/* ---- choosing ------------------------------------------------------------------ */

static void fire_due(P *pp)
{
	int64_t when = atomic_load(&pp->timer0when);
	int64_t now = atomic_load_explicit(&det.vclock, memory_order_relaxed);
	if (when != 0 && when <= now)
		gort__checktimers(pp, now, NULL);
}

/* realwaits: is a goroutine waiting on the outside (a descriptor, a
 * system call)?  Then an idle run waits for it in real time. */
static bool realwaits(void)
{
	return atomic_load(&gort__netpollWaiters) > 0 || atomic_load(&det.insyscall) > 0;
}

/*
 * det_waitreal: nothing runnable, a timer due at when, and goroutines
 * waiting on the outside.  Jumping to the timer would make every I/O
 * deadline expire at once; so wait for the outside in real time, at most
 * until the timer (in slices of DET_REALWAIT_NS, for a system call's
 * return, which wakes nobody), and let virtual time follow.
 */
static void det_waitreal(P *pp, int64_t when)
{
	int64_t now = atomic_load_explicit(&det.vclock, memory_order_relaxed);
	int64_t delay = when - now;
	if (delay > DET_REALWAIT_NS)
		delay = DET_REALWAIT_NS;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	gList list = {0};
	int64_t last = atomic_exchange(&sched.lastpoll, 0); /* we are the poller: sysmon keeps off */
	gort__netpoll(delay > 0 ? delay : 0, &list);
	atomic_store(&sched.lastpoll, last != 0 ? last : now);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	int64_t took = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
	advance_to(now + (took < when - now ? took : when - now));
	G *gp;
	while ((gp = gort__glist_pop(&list)) != NULL) {
		casgstatus(gp, Gwaiting, Grunnable);
		if (gort__traceon())
			gort__trace_gounpark(pp, gp);
		pool_add(gp);
	}
}

/*
 * det_next is findrunnable's step in this mode.  Loop:
 *   1. fire the timers due at vclock, and move every runnable G into the pool;
 *   2. a G det_point chose runs; else the strategy picks from the pool;
 *   3. an empty pool with no timer: NULL - findrunnable's idle path waits
 *      for the outside (netpoll) or, with nothing to wait for, its
 *      checkdead reports the deadlock;
 *   4. an empty pool and a timer: jump to it (or, with the outside awaited,
 *      wait for that in real time first: det_waitreal) and loop.  Real
 *      time would wait for ever on a ticker nobody reads; virtual time
 *      would spin: after DET_IDLE_MAX jumps that wake nobody, it is the
 *      deadlock it is.
 */
G *gort__det_next(M *mp)
{
	P *pp = mp->p;
	assert_on_g0(mp);
	for (int32_t idle = 0;; idle++) {
		if (idle == DET_IDLE_MAX)
			gort__fatal("deterministic mode: all goroutines are asleep and no pending timer wakes one - "
			            "deadlock!");
		fire_due(pp);
		drain(pp);
		if (det.forced != NULL) {
			G *want = det.forced;
			det.forced = NULL;
			for (size_t i = 0; i < det.npool; i++)
				if (det.pool[i] == want)
					return pool_take(i);
			/* not runnable after all (a timer fired meanwhile does
			 * not take Gs away): fall through to a fresh pick */
		}
		if (det.npool > 0) {
			tick();
			return pool_take(det.strategy == DET_PCT ? best() : randn(det.npool));
		}
		int64_t when = atomic_load(&pp->timer0when);
		if (when == 0)
			return NULL;
		if (realwaits())
			det_waitreal(pp, when);
		else
			advance_to(when);
	}
}

/*
 * det_point: the running G reached a scheduling point.  The strategy
 * decides whether it goes on or another G runs:
 *   random  each of the pool's n Gs with probability 1/(n+1), gp itself
 *           with the rest;
 *   PCT     at a change point gp's priority drops below every other; the
 *           pool's best runs if it outranks gp.
 * A timer due meanwhile (vclock moves at each point) forces a switch
 * with no choice made here: det_next fires it and draws again.
 */
void gort__det_point(G *gp)
{
	M *mp = gp->m;
	P *pp = mp->p;
	gort__assert(pp != NULL && gp == mp->curg, "det_point: not a goroutine holding the P");
	drain(pp);
	tick();
	G *next = NULL;
	if (det.strategy == DET_PCT) {
		while (det.nextcp < det.ncp && det.cp[det.nextcp] <= det.step) {
			gp->detprio = (uint64_t)(DET_MAXDEPTH - det.nextcp); /* below every initial one */
			det.nextcp++;
		}
		if (det.npool > 0) {
			size_t b = best();
			if (det.pool[b]->detprio > gp->detprio)
				next = det.pool[b];
		}
	} else if (det.npool > 0) {
		uint64_t r = randn(det.npool + 1);
		if (r < det.npool)
			next = det.pool[r];
	}
	int64_t when = atomic_load(&pp->timer0when);
	bool timerdue = when != 0 && when <= atomic_load_explicit(&det.vclock, memory_order_relaxed);
	if (next == NULL && !timerdue)
		return;
	det.forced = next;
	det.switches++;
	if (gort__traceon())
		gort__trace_gopreempt(gp, true);
	mcall(det_yield_m, false);
}

/* det_yield_m: on g0, gp joins the pool and the scheduler runs det.forced. */
static G *det_yield_m(void *arg)
{
	G *gp = arg;
	M *mp = enter_g0(gp);
	dropg(mp, gp, Grunnable);
	pool_add(gp);
	return schedule(mp);
}

/* ---- the outside ------------------------------------------------------------- */

static void nondet(const char *what)
{
	if (det.exiting)
		return;
	if (det.strict) {
		char msg[192];
		snprintf(msg, sizeof msg,
		         "deterministic mode (detstrict=1): %s: a system call or I/O makes the schedule depend on the world outside",
		         what);
		gort__fatal(msg);
	}
	if (atomic_fetch_add(&det.nondet, 1) == 0) {
		snprintf(det.firstname, sizeof det.firstname, "%s", what);
		atomic_store(&det.firstnondet, det.firstname);
	}
}

void gort__det_nondet(const char *what)
{
	nondet(what);
}

/* det_syscall: gp enters a system call from pc; named by the function
 * that made it (the frames, through the reporter thread, only for the
 * first one and under detstrict). */
void gort__det_syscall(G *gp, uintptr_t pc)
{
	const char *name = pc == 0 ? "a call from a thread gort did not create" : "gort_entersyscall";
	if (pc != 0 && (det.strict || atomic_load(&det.nondet) == 0)) {
		gort_frame frames[4];
		int n = gort_frame_info(pc, frames, 4);
		if (n > 0 && frames[0].function != NULL)
			name = frames[0].function;
	}
	nondet(name);
	atomic_fetch_add(&det.insyscall, 1);
}

/* det_syscall_exit: a call's end.  A foreign thread's first call returns
 * from a "system call" it never entered (cgocall.c's needm): never below 0. */
void gort__det_syscall_exit(void)
{
	int32_t n = atomic_load(&det.insyscall);
	while (n > 0 && !atomic_compare_exchange_weak(&det.insyscall, &n, n - 1))
		;
}

/*
 * det_onexit: at exit (not a fatal error's, which ends the process at
 * once), the one line - always with detstats=1, else only if the outside
 * broke determinism - and with detdump=1, when the program exits with a
 * failing status, every goroutine as the SIGQUIT dump shows them: the
 * picture of a replayed failure the program reported itself.
 */
static void det_onexit(int status, void *arg)
{
	det.exiting = true;
	if (det.dump && status != 0) {
		G *gp = gort__getg();
		bool user = gp != NULL && gp->m != NULL && gp != &gp->m->g0;
		fflush(NULL);
		gort__printf("gort: deterministic mode (detseed=%" PRIu64 "): exit status %d; the goroutines at the exit:\n",
		             det.seed, status);
		gort__printgoroutines(user ? gp : NULL);
	}
	int64_t n = atomic_load(&det.nondet);
	const char *first = atomic_load(&det.firstnondet);
	if (det.stats)
		gort__printf("gort: det: seed=%" PRIu64 " strategy=%s steps=%" PRId64 " switches=%" PRId64
		             " vtime=%" PRId64 "ns nondet=%" PRId64 "\n",
		             det.seed, det.strategy == DET_PCT ? "pct" : "random", det.step, det.switches,
		             (int64_t)(atomic_load(&det.vclock) - DET_ORIGIN), n);
	else if (n > 0)
		gort__printf("gort: deterministic mode (detseed=%" PRIu64 "): %" PRId64
		             " system call%s or I/O event%s outside the scheduler's control (the first in %s): "
		             "this run may not replay\n",
		             det.seed, n, n == 1 ? "" : "s", n == 1 ? "" : "s", first != NULL ? first : "?");
}
