/*
 * proc_api.c - start-up and the scheduler's public calls (Go's schedinit,
 * runtime.main, and the runtime package's Gosched, Goexit, NumGoroutine,
 * GOMAXPROCS, LockOSThread in proc.go).
 *
 * gort_main turns the calling thread into m0, makes goroutine 1 run the
 * program's main function, and runs the scheduler on this thread for good;
 * the program ends when main returns (exit) or dies.  gort_start does the
 * same on a thread of its own and returns: the program keeps its main, and
 * its threads call in through cgocall.c.  Every other call
 * here is one of include/gort.h's, in the order it lists them.
 *
 * It calls every part of the scheduler, and the init of every other part
 * of the runtime (stacks, GODEBUG, tracebacks, signals, the poller).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "debuginfo.h"
#include "det.h"
#include "proc.h"

/* runtimeStarted: claimed by gort_main or gort_start, under startlock;
 * runtime_ready: schedinit is done, calls may come in (startcond). */
static _Atomic bool runtimeStarted;
_Atomic bool gort__runtime_ready;
bool gort__islibrary;
static pthread_mutex_t startlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t startcond = PTHREAD_COND_INITIALIZER;
int32_t gort__ncpu;

/* ---- start-up ---------------------------------------------------------------- */

typedef struct mainArgs {
	int (*fn)(int, char **);
	int argc;
	char **argv;
} mainArgs;


/* startenv: what the environment asks to run from the start - a trace
 * (GORT_TRACE), profiles (GORT_CPUPROFILE, ...), the debug endpoints
 * (GORT_DEBUG_ADDR) - begun by goroutine 1, embedded or not. */
static void startenv(void)
{
	gort__trace_startenv();
	gort__pprof_startenv();
	gort__debug_serve_env();
}

/* mainstart: goroutine 1's first steps, under gort_main or gort_start:
 * from now on new work wakes idle Ps, and sysmon watches. */
static void mainstart(void)
{
	atomic_store(&mainStarted, true);
	gort__newosproc(sysmon, NULL);
	startenv();
	if (gort__det())
		gort__det_mainstart(); /* after startenv: its exit line comes before the trace's flush */
}

/* runmain is the body of goroutine 1. */
static void runmain(void *arg)
{
	mainArgs a = *(mainArgs *)arg;
	mainstart();
	int code = a.fn(a.argc, a.argv);
	if (gort__debug.goroutineleak > 0)
		gort__gcleak_exit();
	exit(code);
}

/* libmain is goroutine 1 of an embedded runtime: it ends at once, as Go's
 * runtime.main does in a c-shared library - the host program's main is
 * main.  (start_thread did the rest of mainstart.) */
static void libmain(void *arg)
{
	startenv();
}

/* ready: schedinit is done; whoever waits in gort_start may go on. */
static void setready(void)
{
	pthread_mutex_lock(&startlock);
	atomic_store(&gort__runtime_ready, true);
	pthread_cond_broadcast(&startcond);
	pthread_mutex_unlock(&startlock);
}

/*
 * check_procs_fit: n Ps are allocated and touched for GOMAXPROCS=n.  Go
 * just tries, and dies out of memory; gort says so before trying -
 * stopping the world and then touching terabytes would hang the program
 * or wake the OOM killer - and names the setting.
 */
static void check_procs_fit(int64_t n, const char *what)
{
	uint64_t mem = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
	if ((uint64_t)n <= mem / sizeof(P))
		return;
	gort__printf("runtime: cannot allocate %lld Ps (%s)\n", (long long)n, what);
	gort__fatal("runtime: out of memory");
}

/*
 * schedinit readies the runtime on the main thread, which becomes m0:
 * stacks, signals, the CPU count, GOMAXPROCS (the environment's, if a
 * positive number) and the Ps.
 */
static void schedinit(void)
{
	M *mp = &m0;
	gort__setg(&mp->g0);
	long seed = gort__getenv_int("GORT_SEED", -1);
	m0init(seed >= 0 ? (uint64_t)seed : gort__random_seed());

	gort__findgorttext();
	gort__debuginfo_init(); /* for debuggers: debuginfo.c */
	gort__stackinit();
	gort__parsedebugvars();
	gort__det_init(); /* deterministic mode: before anything reads the clock */
	gort__traceback_init();
	gort__mallocinit(); /* before the Ps: each has an mcache */
	gort__initsig();
	gort__netpollinit();
	atomic_store(&sched.lastpoll, gort__nanotime());
	sched.starttime = gort__nanotime();
	atomic_store(&sched.coarsenow, sched.starttime);
	gort__ncpu = gort__getproccount();
	int32_t procs = gort__ncpu;
	long n = gort__getenv_int("GOMAXPROCS", 0);
	if (n > 0 && n <= INT32_MAX) {
		char what[40];
		snprintf(what, sizeof what, "GOMAXPROCS=%ld", n);
		check_procs_fit(n, what);
		procs = (int32_t)n;
	}
	if (gort__det()) /* one P; gort_gomaxprocs reports procs */
		procs = gort__det_procs(procs);
	gort__lock(&sched.lock);
	gort__assert(procresize(mp, procs) == NULL, "schedinit: unknown runnable goroutine");
	gort__unlock(&sched.lock);
}

void gort_main(int (*main_fn)(int, char **), int argc, char **argv)
{
	pthread_mutex_lock(&startlock);
	bool started = atomic_exchange(&runtimeStarted, true);
	pthread_mutex_unlock(&startlock);
	if (started && gort__islibrary)
		gort__fatal("gort: gort_main called after gort_start: the runtime is already running "
		            "(call main_fn from the program's main instead)");
	if (started)
		gort__fatal("gort: gort_main called twice");
	if (main_fn == NULL)
		gort__fatal("gort: gort_main called with a NULL main function");
	schedinit();
	mainArgs a = {main_fn, argc, argv};
	newproc(&m0, 0, 0, runmain, NULL, &a, sizeof a, 0);
	setready();
	mstart(&m0);
	gort__throw("mstart returned");
}

/*
 * gort_start starts the runtime without taking over the calling thread:
 * m0 is a thread of its own, which readies the runtime (schedinit, as
 * gort_main does: GOMAXPROCS, GODEBUG, GOTRACEBACK, the signals), starts
 * goroutine 1 (libmain) and runs the scheduler.  The caller waits until
 * calls may come in, so that it - or any thread - may call gort at once.
 * Go's c-shared library does the same from the library's constructor
 * (_rt0_amd64_lib starts rt0_go on a new thread).
 *
 * m0's thread inherits the caller's signal mask, which initsig then takes
 * as every M's: the host program's mask, not the all-blocked one threads
 * are created with.
 */
static void *start_thread(void *arg)
{
	schedinit();
	if (gort__det()) /* the host's threads call in when they like: no seed orders them */
		gort__fatal("gort: gort_start: deterministic mode (GODEBUG=detseed) needs the program "
		            "run under gort_main");
	newproc(&m0, 0, 0, libmain, NULL, NULL, 0, 0);
	/* Not in goroutine 1, as under gort_main: foreign calls may come
	 * before it runs, and a P they leave in Psyscall with work queued
	 * needs sysmon to hand it on. */
	atomic_store(&mainStarted, true);
	gort__newosproc(sysmon, NULL);
	setready();
	mstart(&m0);
	gort__throw("mstart returned");
}

/* starting: this thread is inside gort_start, waiting for the runtime: a
 * signal handler calling gort_start now would wait for itself. */
static __thread bool starting;

int gort_start(void)
{
	if (atomic_load(&gort__runtime_ready))
		return 1; /* one load: safe from a signal handler, once running */
	if (starting)
		gort__fatal("gort: gort_start called from a signal handler that interrupted gort_start "
		            "on the same thread (start the runtime before handling signals)");
	starting = true;
	int ret = 1;
	pthread_mutex_lock(&startlock);
	if (!atomic_exchange(&runtimeStarted, true)) {
		gort__islibrary = true;
		ret = 0;
		pthread_attr_t attr;
		pthread_t tid;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		int err = pthread_create(&tid, &attr, start_thread, NULL);
		pthread_attr_destroy(&attr);
		if (err != 0) {
			gort__printf("runtime: failed to create new OS thread (errno=%d)\n", err);
			gort__fatal("gort: gort_start could not start the runtime's first thread");
		}
	}
	/* Started by us, by another thread's gort_start, or by gort_main
	 * still in schedinit: wait until calls may come in. */
	while (!atomic_load(&gort__runtime_ready))
		pthread_cond_wait(&startcond, &startlock);
	pthread_mutex_unlock(&startlock);
	starting = false;
	return ret;
}

/* ---- the public API ---------------------------------------------------------- */

int64_t gort_go(gort_func fn, void *arg)
{
	G *gp = gort__current_goroutine("gort_go");
	int64_t id = newproc(gp->m, gp->goid, (uintptr_t)__builtin_return_address(0), fn, arg, NULL, 0, 0);
	gort__checkpreempt(gp);
	return id;
}

int64_t gort_go_args(gort_func fn, const void *args, size_t size)
{
	G *gp = gort__current_goroutine("gort_go_args");
	int64_t id = newproc(gp->m, gp->goid, (uintptr_t)__builtin_return_address(0), fn, NULL, args, size, 0);
	gort__checkpreempt(gp);
	return id;
}

int64_t gort_go_int(gort_func_int fn, intptr_t arg)
{
	G *gp = gort__current_goroutine("gort_go_int");
	if (fn == NULL)
		gort__fatal("go of nil func value");
	goIntArgs a = {fn, arg};
	int64_t id = newproc(gp->m, gp->goid, (uintptr_t)__builtin_return_address(0), gort__go_int_entry, NULL, &a,
	                     sizeof a, 0);
	gort__checkpreempt(gp);
	return id;
}

int64_t gort_go_attr(const gort_goattr *attr, gort_func fn, const void *args, size_t size)
{
	G *gp = gort__current_goroutine("gort_go_attr");
	size_t stacksize = attr != NULL ? attr->stack_size : 0;
	gort__stacksize_check(stacksize, "gort_go_attr");
	int64_t id = newproc(gp->m, gp->goid, (uintptr_t)__builtin_return_address(0), fn, NULL, args,
	                     size, stacksize);
	gort__checkpreempt(gp);
	return id;
}

void gort_gosched(void)
{
	G *gp = gort__current_goroutine("gort_gosched");
	if (gort__traceon())
		gort__trace_gosched(gp);
	mcall(gosched_m, false);
}

void gort_goexit(void)
{
	G *gp = gort__current_goroutine("gort_goexit");
	if (gp->m->isextra) /* Go's words (cgocall.go) */
		gort__fatal("runtime.Goexit called in a thread that was not created by the Go runtime");
	gort__goexit_defers(gp); /* Go's Goexit runs the deferred calls first */
	goexit1();
}

void gort_block(void)
{
	gort__current_goroutine("gort_block");
	gort__gopark(NULL, NULL, waitReasonSelectNoCases);
	gort__throw("unreachable: gort_block resumed");
}

int64_t gort_goid(void)
{
	return gort__current_goroutine("gort_goid")->goid;
}

/*
 * gort_numgoroutine counts every G ever made minus the dead ones on free
 * lists.  The per-P counts are read racily, as Go's gcount does: exact when
 * nothing is being created or retired, approximate otherwise.
 */
int gort_numgoroutine(void)
{
	gort__current_goroutine("gort_numgoroutine");
	int64_t n = (int64_t)atomic_load(&allglen) - atomic_load_explicit(&sched.ngfree, memory_order_relaxed);
	n -= gort__extram_idle(); /* the Gs of extra Ms not in a call (cgocall.c) */
	n -= atomic_load(&gort__nsystemg); /* the finalizer goroutine (mfinal.c), as Go counts */
	P **ps = allp;
	int32_t np = atomic_load(&gomaxprocs);
	for (int32_t i = 0; i < np; i++)
		n -= atomic_load_explicit(&ps[i]->gfreecnt, memory_order_relaxed);
	return n < 1 ? 1 : (int)n;
}

int gort_gomaxprocs(int n)
{
	G *gp = gort__current_goroutine("gort_gomaxprocs");
	if (gort__det())
		return gort__det_gomaxprocs(n);
	int32_t ret = atomic_load(&gomaxprocs);
	if (n <= 0 || n == ret)
		return ret;
	char what[48];
	snprintf(what, sizeof what, "gort_gomaxprocs(%d)", n);
	check_procs_fit(n, what);
	stoptheworld(gp->m);
	starttheworld(gort__getm(), n); /* stoptheworld may have yielded: another M */
	return ret;
}

/* For gort_stack(all) (traceback.c): the world stopped while it reads stacks. */
void gort__stoptheworld(void)
{
	G *gp = gort__current_goroutine("gort_stack");
	stoptheworld(gp->m);
}

void gort__starttheworld(void)
{
	starttheworld(gort__getm(), 0);
}

int gort_numcpu(void)
{
	if (!atomic_load(&gort__runtime_ready))
		return gort__getproccount();
	return gort__ncpu;
}

void gort_lock_os_thread(void)
{
	G *gp = gort__current_goroutine("gort_lock_os_thread");
	M *mp = gp->m;
	if (mp->lockedExt == UINT32_MAX)
		gort__fatal("LockOSThread nesting overflow");
	mp->lockedExt++;
	mp->lockedg = gp;
	gp->lockedm = mp;
}

void gort_unlock_os_thread(void)
{
	G *gp = gort__current_goroutine("gort_unlock_os_thread");
	M *mp = gp->m;
	if (mp->lockedExt == 0)
		return;
	if (--mp->lockedExt == 0 && !mp->isextra) { /* an extra M's G stays wired to it */
		mp->lockedg = NULL;
		gp->lockedm = NULL;
	}
}
