/*
 * cgocall.c - calls from threads gort did not create (Go's needm, dropm,
 * oneNewExtraM and cgocallback, in proc.go and cgocall.go).
 *
 * A program that embeds gort (gort_start) has threads of its own - its
 * main thread, a pool, a library's callbacks - and any of them may call
 * any gort function.  Such a call runs as a goroutine bound to the calling
 * thread for the call's duration, as a cgo callback runs in Go:
 *
 *   the wrapper  every public function is reached through a shim
 *                (cgocall_shims.S, generated from cgocall_api.list): on a
 *                goroutine - the thread-local G is set - it jumps straight
 *                to the function; on any other thread it goes through
 *                gort__cgocallback, which calls needm, the function, dropm.
 *                Go's cgo export wrappers and crosscall2 do the same.
 *                (The functions themselves are compiled under the names
 *                gort__impl_<name>: cgocall_rename.h, made from the same
 *                list, is included first in every file of the library, so
 *                the library's own calls go straight to them.)
 *   extra Ms     an M with no thread of its own and one G, wired to it
 *                (lockedg) for good: Go's oneNewExtraM.  The G runs on the
 *                calling thread's own stack, where the call already is;
 *                the M's g0, where the scheduler runs when the G parks, is
 *                a small stack of its own (EXTRA_G0_STACK).
 *   needm        the thread's extra M - kept in a thread-local from its
 *                first call on, so a thread that calls again and again
 *                takes no lock - is bound: the G comes alive (Gdead ->
 *                Gsyscall) and the call "returns from a system call" into
 *                gort: gort_exitsyscall takes its P back, or an idle one,
 *                or queues the G and parks the thread (stoplockedm) until
 *                a P comes for it.
 *   dropm        the call is over: "enter a system call" (the P stays in
 *                Psyscall, for this thread's next call to take back at the
 *                cost of a CAS, or for sysmon to hand on if work waits), the
 *                G goes dead (hidden from dumps and gort_numgoroutine, as
 *                Go's), and the thread-local G is cleared.
 *   parking      a call that blocks (a channel send, a mutex, a sleep)
 *                parks its G like any other; its M, wired to it, sleeps on
 *                the calling thread in stoplockedm, exactly as the M of a
 *                goroutine locked with gort_lock_os_thread, until the G is
 *                ready and some M hands it a P (startlockedm).
 *   thread exit  a pthread key's destructor gives the M back to a pool
 *                (after handing on the P it left in Psyscall); the next
 *                new thread takes it from there.  Go 1.19 instead takes
 *                and gives back an M on every call (its dropm comment
 *                names this as the better way).
 *
 * Deadlock: once an extra M exists, checkdead stays quiet (proc_m.c): a
 * foreign thread may call in at any time, as in Go with cgo.  Embedded
 * (gort_start), it is always quiet, as in a Go library.
 *
 * It calls the Ms (proc_m.c: mcommoninit), the Gs (proc_g.c: allgadd), the
 * system-call transitions (proc_syscall.c) and the P hand-off (handoffp).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include "proc.h"
#include "trace.h"

/* The scheduler's stack of an extra M: park_m, schedule, stoplockedm - and
 * a fatal error's report, if one happens while its G parks. */
enum { EXTRA_G0_STACK = 256 << 10, EXTRA_G0_GUARD = 4096 };

_Atomic int32_t extram_count;

/* The pool of extra Ms no thread holds (Go's extram list), and its lock:
 * a mutex works on a thread with no M (it records no owner then). */
static mutex extralock;
static M *extram;

/* This thread's extra M, from its first call until it exits. */
static __thread M *extram_mine __attribute__((tls_model("initial-exec")));
static pthread_key_t extram_key;
static pthread_once_t extram_key_once = PTHREAD_ONCE_INIT;

static void extram_release(void *arg);

static void extram_key_init(void)
{
	if (pthread_key_create(&extram_key, extram_release) != 0)
		gort__throw("cgocall: pthread_key_create failed");
}

/*
 * oneNewExtraM makes an M for foreign calls: numbered and on allm like
 * any M (so the SIGQUIT dump and schedtrace list it), with a g0 stack of
 * its own and one G, dead until a call brings it to life, with a goroutine
 * id of its own for its whole life.
 */
static M *oneNewExtraM(void)
{
	M *mp = aligned_alloc(64, (sizeof(M) + 63) & ~(size_t)63);
	G *gp = aligned_alloc(64, (sizeof(G) + 63) & ~(size_t)63);
	gort__assert(mp != NULL && gp != NULL, "out of memory");
	memset(mp, 0, sizeof *mp);
	memset(gp, 0, sizeof *gp);

	size_t len = EXTRA_G0_STACK + EXTRA_G0_GUARD;
	char *s = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (s == MAP_FAILED)
		gort__throw("cgocall: cannot allocate an extra M's scheduler stack");
	mprotect(s, EXTRA_G0_GUARD, PROT_NONE);
	mp->g0_lo = (uintptr_t)s + EXTRA_G0_GUARD;
	mp->g0_sp = (void *)((uintptr_t)s + len);
	mp->g0.stack = (stack){mp->g0_lo, (uintptr_t)mp->g0_sp};
	mp->isextra = true;
#ifdef GORT_TSAN
	/* g0 runs on a stack of its own: a TSan fiber of its own (tsan.h) */
	mp->g0.tsan_fiber = gort__tsan_gocreate(NULL, 0);
#endif

	atomic_store_explicit(&gp->atomicstatus, Gdead, memory_order_relaxed);
	gp->goid = atomic_fetch_add(&sched.goidgen, 1) + 1;
	gp->m = mp;
	gp->lockedm = mp;
	mp->curg = gp;
	mp->lockedg = gp;

	gort__lock(&sched.lock);
	mcommoninit(mp, sched.mnext++);
	gort__unlock(&sched.lock);
	allgadd(gp, 1);
	atomic_fetch_add(&extram_count, 1);
	return mp;
}

/*
 * thread_stack: the calling thread's stack, which its extra M's G runs
 * on: its bounds for tracebacks, the fault handler's stack-overflow check
 * (the guard glibc leaves below a thread's stack lies just below lo, as a
 * goroutine stack's does) and AddressSanitizer.  The main thread's stack
 * grows up to its rlimit; pthread_getattr_np says so.
 */
static stack thread_stack(void)
{
	pthread_attr_t attr;
	void *addr = NULL;
	size_t size = 0;
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		pthread_attr_getstack(&attr, &addr, &size);
		pthread_attr_destroy(&attr);
	}
	if (addr == NULL) { /* unknown: the frames from here up, at least */
		uintptr_t here = (uintptr_t)__builtin_frame_address(0);
		return (stack){here - (64 << 10), here + (64 << 10)};
	}
	return (stack){(uintptr_t)addr, (uintptr_t)addr + size};
}

/* bindm: the calling thread takes an extra M from the pool, or a new one,
 * and keeps it until it exits. */
static __attribute__((noinline, cold)) M *bindm(void)
{
	pthread_once(&extram_key_once, extram_key_init);
	gort__lock(&extralock);
	M *mp = extram;
	if (mp != NULL)
		extram = mp->extralink;
	gort__unlock(&extralock);
	if (mp == NULL)
		mp = oneNewExtraM();
	mp->extralink = NULL;
	mp->tid = gort__gettid();
	mp->curg->stack = thread_stack();
#ifdef GORT_TSAN
	/* The G runs on this thread's own stack: to TSan, it is the thread. */
	mp->curg->tsan_fiber = gort__tsan_curfiber();
#endif
	if (pthread_setspecific(extram_key, mp) != 0)
		gort__throw("cgocall: pthread_setspecific failed");
	extram_mine = mp;
	return mp;
}

/*
 * extram_release: the thread that held mp exits (the pthread key's
 * destructor).  Its last call ended in dropm, so its P, if it still has
 * one, waits in Psyscall: hand it on, as sysmon would (retake_syscall),
 * then put mp in the pool.  g0 is installed meanwhile, so that the locks
 * and the hand-off see an M.
 */
static void extram_release(void *arg)
{
	M *mp = arg;
	G *gp = mp->curg;
	if (gort__readgstatus(gp) != Gdead) /* pthread_exit or cancellation inside a call */
		gort__fatal("gort: a thread exited in the middle of a call into gort "
		            "(pthread_exit or pthread_cancel from inside the call)");
	gort__setg(&mp->g0);
	P *pp = mp->oldp;
	mp->oldp = NULL;
	uint32_t expect = Psyscall;
	if (pp != NULL && atomic_compare_exchange_strong(&pp->status, &expect, Pidle)) {
		syscall_taken(pp);
		handoffp(pp);
	}
	gort__setg(NULL);
	extram_mine = NULL;
	mp->tid = 0;
	gort__lock(&extralock);
	mp->extralink = extram;
	extram = mp;
	gort__unlock(&extralock);
}

/* not_started: a call before gort_start (or gort_main). */
static __attribute__((noreturn, cold)) void not_started(const char *api)
{
	char msg[256];
	snprintf(msg, sizeof msg,
	         "gort: %s called before the runtime started: call gort_start first "
	         "(or run the program under gort_main)",
	         api);
	gort__fatal(msg);
}

/*
 * trace_announce: the execution trace has not seen gp - dead when the
 * trace started, so its state dump skipped it, or made since: a GoCreate
 * and a GoInSyscall first, with no P (the no-P stream), so that the
 * GoSysExit of the call makes sense (Go 1.20's needm does the same).
 */
static __attribute__((noinline, cold)) void trace_announce(M *mp, G *gp)
{
	mp->tracesession = gort__trace_session();
	gp->tracesys = true;
	gp->tracesysexit = false;
	gort__trace_noplock();
	gort__trace_gocreate(NULL, gp, gort__trace_startstack(gp), 0);
	gort__trace_goinsyscall(NULL, gp);
	gort__trace_nopunlock();
}

/*
 * needm begins a foreign call (gort__cgocallback, cgocall_shims.S, calls
 * it before the function).  The G comes
 * alive in a "system call" and returns from it into gort, taking a P -
 * or parking this thread until one comes (exitsyscall0, stoplockedm).
 */
void gort__needm(const char *api)
{
	if (__builtin_expect(!atomic_load_explicit(&gort__runtime_ready, memory_order_acquire), 0))
		not_started(api);
	M *mp = extram_mine;
	if (__builtin_expect(mp == NULL, 0))
		mp = bindm();
	G *gp = mp->curg;
	gort__setg(gp);
	casgstatus(gp, Gdead, Gsyscall);
	if (gort__traceon() && mp->tracesession != gort__trace_session())
		trace_announce(mp, gp);
	gort_exitsyscall();
}

/*
 * dropm ends a foreign call: the G "enters a system call" - its P stays
 * in Psyscall for this thread's next call, or for sysmon to hand on - and
 * dies until then; the thread is no goroutine's any more.
 */
void gort__dropm(void)
{
	G *gp = gort__getg();
	M *mp = gp->m;
	gort__assert(mp->isextra && mp->curg == gp, "dropm: not a foreign call");
	syscallctx none = {0}; /* a dead G needs no traceback */
	gort__entersyscall(&none);
	casgstatus(gp, Gsyscall, Gdead);
	if (gort__traceon()) /* this trace knows gp (it saw the call) */
		mp->tracesession = gort__trace_session();
	gort__setg(NULL);
}

/*
 * as_goroutine runs fn(arg) on a goroutine: the caller's own, or - on a
 * thread gort does not run, as an embedding program's exit handlers are -
 * this thread's for the call, as a foreign call to api would.  The exit
 * handlers of GORT_TRACE and GORT_CPUPROFILE need one to stop the world.
 */
void gort__as_goroutine(void (*fn)(void *), void *arg, const char *api)
{
	if (gort__getg() != NULL) {
		fn(arg);
		return;
	}
	gort__needm(api);
	fn(arg);
	gort__dropm();
}

/* extram_idle: the extra Ms' Gs between calls, dead but on allgs, which
 * gort_numgoroutine must not count (Go's sched.ngsys does this). */
int64_t gort__extram_idle(void)
{
	if (atomic_load(&extram_count) == 0)
		return 0;
	int64_t n = 0;
	gort__lock(&sched.lock);
	for (M *mp = allm; mp != NULL; mp = mp->alllink)
		if (mp->isextra && gort__readgstatus(mp->curg) == Gdead)
			n++;
	gort__unlock(&sched.lock);
	return n;
}
