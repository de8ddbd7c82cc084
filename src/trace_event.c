/*
 * trace_event.c - the execution tracer's events, one function each, named
 * after Go's (runtime/trace.go: traceGoCreate is gort__trace_gocreate), and
 * the user annotations of Go's runtime/trace package (tasks, regions, logs).
 * READING.md maps each event to this function and to its callers.
 *
 * Every function here runs with tracing on (the caller tested
 * gort__traceon) and writes one event to the stream of the P it is given:
 * the caller's own, or one it took from a system call.  Stacks are taken
 * here, from the calling goroutine's own stack, by libgcc's unwinder (the
 * DWARF CFI every x86-64 object carries: no frame pointers needed) or, for
 * a call path seen before, from a per-P cache of paths (below); they are
 * symbolized only when tracing stops (trace.c).
 *
 * Sequence numbers: the parser orders the streams of different Ps by the
 * goroutine's traceseq on the events another P may emit about it - GoStart,
 * GoUnblock, GoSysExit increment it; GoWaiting and GoInSyscall count as
 * one; GoCreate starts it at 0.  The flight recorder's traces have none:
 * what it writes starts where a generation does, not where the numbers
 * did, so it records GoStartLocal and GoUnblockLocal, which the parser
 * orders by the goroutine's state and the timestamps alone - and a system
 * call's return as a GoUnblockLocal (Go 1.19's parser mistakes the
 * goroutine of a GoSysExitLocal).  Those, and GoCreate, go through
 * trace.c's emit_g, which names each goroutine's function once in every
 * generation (the state dump's GoCreate needs it), and traceseq is
 * emit_g's.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <unwind.h>

#include "trace.h"

enum {
	MAX_STACK = 32,    /* frames kept of a stack (Go keeps 128) */
	MAX_UNWIND = MAX_STACK + 8,
	CACHE_FRAMES = 16, /* a longer path is unwound every time */
	CACHE_SETS = 32,   /* a P's cache of call paths: sets by innermost */
	CACHE_WAYS = 4,    /* return address, each with the paths through it */
};

/* ---- stacks -------------------------------------------------------------- */

/*
 * A stack is two events per goroutine switch, so it must be cheap: libgcc's
 * unwinder costs ~150 ns a frame (it finds and runs each frame's CFI).  But
 * a program blocks, wakes and spawns from a handful of call paths, so each
 * P keeps the paths it unwound last, by the innermost return address
 * (which call of curstack: a gopark, say, that several goroutines reach
 * from different code, hence a few ways a set), with the stack offset at
 * which every further return address was found.  A path is reused when every return address is
 * still there at its offset: each one names its caller's call site, so
 * its caller's frame - fixed in size at that site - puts the next one at
 * the recorded offset again.  (A frame sized at run time, alloca or a VLA,
 * breaks that chain: its path fails the check and is unwound.)  The
 * unwind and the check are callpath.c's.  GORT_DEBUG
 * unwinds anyway and checks that both agree.
 */
typedef struct pathcache {
	uint32_t session;         /* the trace it belongs to: ids restart with each */
	int n;                    /* return addresses: pcs[0] at the innermost slot */
	uint64_t id;              /* the stack id, trimmed */
	uintptr_t pcs[MAX_UNWIND];
	uint32_t offs[MAX_UNWIND]; /* where pcs[i] is, from the innermost slot */
} pathcache;

typedef struct pathentry {   /* a path in the cache: pathcache, cut short */
	uint32_t session;
	int n;
	uint64_t id;
	uintptr_t pcs[CACHE_FRAMES];
	uint32_t offs[CACHE_FRAMES];
} pathentry;

struct tracecache {
	pathentry set[CACHE_SETS][CACHE_WAYS];
	uint8_t next[CACHE_SETS]; /* the way to replace next */
};

/*
 * trim keeps the program's frames: of the gort frames on top (this file,
 * the scheduler) only the outermost, the API call the program made
 * (gort_chan_send, gort_go); and none of the gort frames at the bottom
 * (the goroutine's entry, runmain).  Returns the first kept frame; a
 * stack of gort's frames only (the runtime acting on its own) keeps none.
 */
static int trim(const uintptr_t *pcs, int *n)
{
	int lo = 0;
	while (lo + 1 < *n && gort__in_gort_text(pcs[lo]) && gort__in_gort_text(pcs[lo + 1]))
		lo++;
	if (lo + 1 >= *n) {
		*n = lo;
		return lo;
	}
	while (*n > lo + 1 && gort__in_gort_text(pcs[*n - 1]))
		(*n)--;
	return lo;
}

static uint64_t stackid_of(const uintptr_t *pcs, int n)
{
	int lo = trim(pcs, &n);
	if (n - lo > MAX_STACK)
		n = lo + MAX_STACK;
	return gort__trace_stackid(pcs + lo, n - lo);
}

/* lookup: the id of the path at slot0 if set holds it, else 0. */
static uint64_t lookup(pathentry *set, uint32_t session, uintptr_t ra, uintptr_t slot0,
                       uintptr_t hi)
{
	for (int w = 0; w < CACHE_WAYS; w++) {
		pathentry *c = &set[w];
		if (c->session == session && c->n > 0 && c->pcs[0] == ra &&
		    gort__callpath_holds(c->pcs, c->offs, c->n, slot0, hi))
			return c->id;
	}
	return 0;
}

static void remember(P *pp, int s, const pathcache *path, uint64_t id, uint32_t session)
{
	pathentry *c = &pp->tracecache->set[s][pp->tracecache->next[s]++ % CACHE_WAYS];
	c->session = session;
	c->n = path->n;
	c->id = id;
	memcpy(c->pcs, path->pcs, (size_t)path->n * sizeof c->pcs[0]);
	memcpy(c->offs, path->offs, (size_t)path->n * sizeof c->offs[0]);
}

__attribute__((noinline)) uint64_t gort__trace_curstack(void)
{
	G *gp = gort__getg();
	if (gp == NULL || gp == &gp->m->g0 || gp->m->p == NULL)
		return 0;
	P *pp = gp->m->p;
	if (pp->tracecache == NULL) {
		pp->tracecache = calloc(1, sizeof *pp->tracecache);
		gort__assert(pp->tracecache != NULL, "trace: out of memory");
	}
	uintptr_t slot0 = (uintptr_t)__builtin_frame_address(0) + sizeof(uintptr_t);
	uintptr_t ra = (uintptr_t)__builtin_return_address(0);
	int s = (int)((ra >> 3) % CACHE_SETS);
	uint32_t session = gort__trace_session();
	uint64_t id = lookup(pp->tracecache->set[s], session, ra, slot0, gp->stack.hi);
	if (id != 0) {
		if (GORT_DEBUG) {
			pathcache check;
			bool whole;
			check.n = gort__callpath_unwind(slot0, check.pcs, check.offs, MAX_UNWIND, &whole);
			gort__assert(!whole || stackid_of(check.pcs, check.n) == id,
			             "trace: a cached stack is not the stack unwound");
		}
		return id;
	}
	pathcache fresh;
	bool cacheable;
	fresh.n = gort__callpath_unwind(slot0, fresh.pcs, fresh.offs, MAX_UNWIND, &cacheable);
	id = stackid_of(fresh.pcs, fresh.n);
	if (cacheable && id != 0 && fresh.n <= CACHE_FRAMES && fresh.pcs[0] == ra)
		remember(pp, s, &fresh, id, session);
	return id;
}

/*
 * sigstack: the stack of a goroutine stopped by a signal, from the
 * handler (asynchronous preemption): from the instruction it was stopped
 * at, as Go's GoPreempt records it (asyncPreempt, then the function it
 * stopped).  libgcc steps through the signal frame, whose caller is marked
 * ip_before_insn: the stopped frame, where the stack starts.  Unwound
 * every time (a preemption is rare); the handler runs only where the
 * goroutine holds no lock of libc's or the loader's (preempt.c), so the
 * unwinder, which may take them, can.
 */
typedef struct sigunwind {
	uintptr_t pcs[MAX_UNWIND];
	int n, from;
} sigunwind;

static _Unwind_Reason_Code collect_sig(struct _Unwind_Context *ctx, void *arg)
{
	sigunwind *u = arg;
	int before = 0;
	uintptr_t pc = _Unwind_GetIPInfo(ctx, &before);
	if (pc == 0 || u->n == MAX_UNWIND)
		return _URC_END_OF_STACK;
	if (before && u->from < 0)
		u->from = u->n;
	u->pcs[u->n++] = before ? pc + 1 : pc; /* stacks hold return addresses */
	return _URC_NO_REASON;
}

static uint64_t sigstack(void)
{
	sigunwind u = {.n = 0, .from = -1};
	_Unwind_Backtrace(collect_sig, &u);
	if (u.from < 0)
		return 0;
	return stackid_of(u.pcs + u.from, u.n - u.from);
}

/* ---- goroutines ------------------------------------------------------------- */

static inline bool flightmode(void)
{
	return atomic_load_explicit(&gort__trace_gen, memory_order_relaxed) != 0;
}

/* gocreate: newg is made; startstack is its function's, stack its creator's. */
void gort__trace_gocreate(P *pp, G *newg, uint64_t startstack, uint64_t stack)
{
	uint64_t a[] = {(uint64_t)newg->goid, startstack, stack};
	if (flightmode()) {
		gort__trace_emit_g(pp, newg, traceEvGoCreate, 3, a);
		return;
	}
	newg->traceseq = 0;
	gort__trace_emit(pp, traceEvGoCreate, 3, a, NULL);
}

void gort__trace_gostart(P *pp, G *gp)
{
	if (flightmode()) {
		uint64_t a[] = {(uint64_t)gp->goid};
		gort__trace_emit_g(pp, gp, traceEvGoStartLocal, 1, a);
		return;
	}
	gp->traceseq++;
	uint64_t a[] = {(uint64_t)gp->goid, gp->traceseq};
	gort__trace_emit(pp, traceEvGoStart, 2, a, NULL);
}

void gort__trace_goend(P *pp)
{
	gort__trace_emit(pp, traceEvGoEnd, 0, NULL, NULL);
}

/* gosched: gp yields (Gosched); from its own stack, before it switches. */
void gort__trace_gosched(G *gp)
{
	uint64_t a[] = {gort__trace_curstack()};
	gort__trace_emit(gp->m->p, traceEvGoSched, 1, a, NULL);
}

/* gopreempt: gp yields because it was asked to: from a call (fromcall),
 * or in the handler of the signal that stopped it (asynchronous
 * preemption), where its stack starts at the instruction it was stopped at. */
void gort__trace_gopreempt(G *gp, bool fromcall)
{
	uint64_t a[] = {fromcall ? gort__trace_curstack() : sigstack()};
	gort__trace_emit(gp->m->p, traceEvGoPreempt, 1, a, NULL);
}

/* The block event for each wait reason, as Go's gopark callers pass it. */
static uint8_t block_event(waitReason reason)
{
	switch (reason) {
	case waitReasonChanSend: return traceEvGoBlockSend;
	case waitReasonChanReceive: return traceEvGoBlockRecv;
	case waitReasonSelect: return traceEvGoBlockSelect;
	case waitReasonSemacquire:
	case waitReasonSyncMutexLock:
	case waitReasonSyncRWMutexRLock:
	case waitReasonSyncRWMutexLock:
	case waitReasonSyncWaitGroupWait: return traceEvGoBlockSync;
	case waitReasonSyncCondWait: return traceEvGoBlockCond;
	case waitReasonIOWait: return traceEvGoBlockNet;
	case waitReasonSleep: return traceEvGoSleep;
	/* never woken: Go records these as stopped, not blocked */
	case waitReasonChanSendNilChan:
	case waitReasonChanReceiveNilChan:
	case waitReasonSelectNoCases: return traceEvGoStop;
	default: return traceEvGoBlock;
	}
}

/* gopark: gp blocks for reason; from its own stack, before it switches. */
void gort__trace_gopark(G *gp, waitReason reason)
{
	uint64_t a[] = {gort__trace_curstack()};
	gort__trace_emit(gp->m->p, block_event(reason), 1, a, NULL);
}

/* gounpark: gp is made runnable, by the caller (its stack) or the
 * scheduler (no stack); pp NULL: with no P (netpoll without one). */
void gort__trace_gounpark(P *pp, G *gp)
{
	if (flightmode()) {
		uint64_t a[] = {(uint64_t)gp->goid, gort__trace_curstack()};
		gort__trace_emit_g(pp, gp, traceEvGoUnblockLocal, 2, a);
		return;
	}
	gp->traceseq++;
	uint64_t a[] = {(uint64_t)gp->goid, gp->traceseq, gort__trace_curstack()};
	gort__trace_emit(pp, traceEvGoUnblock, 3, a, NULL);
}

/* ---- system calls --------------------------------------------------------- */

/* gosyscall: gp enters a system call (its P still held). */
void gort__trace_gosyscall(G *gp)
{
	gp->tracesys = true;
	uint64_t a[] = {gort__trace_curstack()};
	gort__trace_emit(gp->m->p, traceEvGoSysCall, 1, a, NULL);
}

/* gosysexit: gp is back from a call that lost its P; ticks is when it
 * returned (0: now).  On the P it runs on next. */
void gort__trace_gosysexit(P *pp, G *gp, uint64_t ticks)
{
	gp->tracesys = false;
	if (flightmode()) {
		uint64_t a[] = {(uint64_t)gp->goid, 0};
		gort__trace_emit_g(pp, gp, traceEvGoUnblockLocal, 2, a);
		return;
	}
	gp->traceseq++;
	uint64_t a[] = {(uint64_t)gp->goid, gp->traceseq, ticks};
	gort__trace_emit(pp, traceEvGoSysExit, 3, a, NULL);
}

void gort__trace_gosysblock(P *pp)
{
	gort__trace_emit(pp, traceEvGoSysBlock, 0, NULL, NULL);
}

void gort__trace_syscall_retaken(P *pp)
{
	gort__trace_gosysblock(pp);
	gort__trace_procstop(pp);
}

/* ---- the state at trace start (trace.c's dump) ------------------------------ */

void gort__trace_gowaiting(P *pp, G *gp)
{
	gp->traceseq++;
	uint64_t a[] = {(uint64_t)gp->goid};
	gort__trace_emit(pp, traceEvGoWaiting, 1, a, NULL);
}

void gort__trace_goinsyscall(P *pp, G *gp)
{
	gp->traceseq++;
	uint64_t a[] = {(uint64_t)gp->goid};
	gort__trace_emit(pp, traceEvGoInSyscall, 1, a, NULL);
}

/* ---- Ps -------------------------------------------------------------------------- */

void gort__trace_procstart(P *pp, M *mp)
{
	uint64_t a[] = {(uint64_t)mp->id};
	gort__trace_emit(pp, traceEvProcStart, 1, a, NULL);
}

void gort__trace_procstop(P *pp)
{
	gort__trace_emit(pp, traceEvProcStop, 0, NULL, NULL);
}

void gort__trace_gomaxprocs(P *pp, int32_t procs)
{
	uint64_t a[] = {(uint64_t)procs, gort__trace_curstack()};
	gort__trace_emit(pp, traceEvGomaxprocs, 2, a, NULL);
}

/* ---- user annotations (Go's runtime/trace: NewTask, WithRegion, Log) ------------ */

static _Atomic uint64_t tasknext;

/* annotation_p: the P of the calling goroutine, or NULL when the caller is
 * none (another thread): annotations are dropped there, not fatal. */
static P *annotation_p(void)
{
	G *gp = gort__getg();
	if (gp == NULL || gp == &gp->m->g0)
		return NULL;
	return gp->m->p;
}

gort_trace_task gort_trace_task_new(gort_trace_task parent, const char *name)
{
	gort_trace_task id = atomic_fetch_add(&tasknext, 1) + 1;
	P *pp;
	if (gort__traceon() && (pp = annotation_p()) != NULL) {
		uint64_t a[] = {id, parent, gort__trace_stringid(name), gort__trace_curstack()};
		gort__trace_emit(pp, traceEvUserTaskCreate, 4, a, NULL);
	}
	return id;
}

void gort_trace_task_end(gort_trace_task task)
{
	P *pp;
	if (!gort__traceon() || (pp = annotation_p()) == NULL)
		return;
	uint64_t a[] = {task, gort__trace_curstack()};
	gort__trace_emit(pp, traceEvUserTaskEnd, 2, a, NULL);
}

static void region(gort_trace_task task, uint64_t mode, const char *name)
{
	P *pp;
	if (!gort__traceon() || (pp = annotation_p()) == NULL)
		return;
	uint64_t a[] = {task, mode, gort__trace_stringid(name), gort__trace_curstack()};
	gort__trace_emit(pp, traceEvUserRegion, 4, a, NULL);
}

void gort_trace_region_begin(gort_trace_task task, const char *name)
{
	region(task, 0, name);
}

void gort_trace_region_end(gort_trace_task task, const char *name)
{
	region(task, 1, name);
}

void gort_trace_log(gort_trace_task task, const char *category, const char *message)
{
	P *pp;
	if (!gort__traceon() || (pp = annotation_p()) == NULL)
		return;
	uint64_t a[] = {task, gort__trace_stringid(category), gort__trace_curstack()};
	gort__trace_emit(pp, traceEvUserLog, 3, a, message != NULL ? message : "");
}
