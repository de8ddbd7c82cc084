/*
 * runtime2.h - the runtime's core types, in the spirit of Go's runtime2.go.
 *
 *   G     a goroutine: its saved context, its stack, its status.
 *   M     a machine: an OS thread.  It runs Go code only while it holds a P.
 *         Each M has a g0, the scheduler's stack (the thread's own stack),
 *         where schedule() and every state transition run.
 *   P     a processor: the right and the resources to run Go code - a local
 *         run queue of 256 Gs plus the runnext slot, a cache of free Gs and of
 *         stacks.  GOMAXPROCS is the number of Ps.
 *   sched the global state: idle Ms and Ps, the global run queue, the global
 *         free lists, the stop-the-world machinery.
 *
 * Naming: functions shared between files carry the gort__ prefix (internal;
 * the public API in include/gort.h uses gort_).  Static functions use Go's
 * own names (findrunnable, park_m, ...), so a reader of Go's runtime finds
 * them - and so do the verbs the scheduler's files share among themselves
 * (schedule, runqput, wakep), which proc.h maps to gort__ symbols.
 * READING.md maps the rest.
 */
#ifndef GORT_RUNTIME2_H
#define GORT_RUNTIME2_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "asm_amd64.h"
#include "gort.h"
#include "tsan.h"

/* Built with AddressSanitizer?  Stack switches must then be announced. */
#if defined(__SANITIZE_ADDRESS__)
#define GORT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GORT_ASAN 1
#endif
#endif

typedef struct G G;
typedef struct M M;
typedef struct P P;

/* ---- Locks and notes (lock_futex.c) ------------------------------------- */

/*
 * mutex is the runtime's own lock: a futex word that spins briefly and then
 * sleeps.  It is held only for short, non-blocking sections on one thread.
 * owner lets assert_lock_held check the rule "holds sched.lock".
 */
typedef struct mutex {
	_Atomic uint32_t key; /* MUTEX_UNLOCKED, MUTEX_LOCKED, MUTEX_SLEEPING */
	M *_Atomic owner;
} mutex;

/*
 * note is a one-shot wakeup between threads: one thread sleeps in notesleep,
 * another calls notewakeup once; noteclear rearms it.  Idle Ms park on theirs.
 */
typedef struct note {
	_Atomic uint32_t key;
} note;

/*
 * spinlock is for the tiniest sections - a channel's queue and buffer -
 * that never block and run a few dozen instructions: taking it is one
 * atomic exchange and releasing it a plain store, against two atomic
 * instructions for mutex.  A waiter spins, then yields its thread; it never
 * sleeps in the kernel.  owner, as mutex's, lets assert_lock_held check a
 * "holds c->lock" rule, but only in a GORT_DEBUG build: recording it cost
 * chan_spsc 6% at GOMAXPROCS=1 (19.0 -> 20.1 ns a message, medians of 11),
 * and even reading the key back under the lock cost 35% (19 -> 26 ns), so
 * outside GORT_DEBUG assert_lock_held on a spinlock checks nothing.  The
 * field is there in every build, so that the layout does not depend on it.
 */
typedef struct spinlock {
	_Atomic uint32_t key;
	M *_Atomic owner; /* GORT_DEBUG: the M holding it, else NULL */
} spinlock;

void gort__spinlock_slow(spinlock *l);

void gort__lock(mutex *l);
void gort__unlock(mutex *l);
bool gort__trylock(mutex *l);
void gort__noteclear(note *n);
void gort__notewakeup(note *n);
void gort__notesleep(note *n);

/* ---- Statuses ----------------------------------------------------------- */

/* G statuses: Go's numbers, so GODEBUG scheddetail prints the same. */
enum {
	Gidle = 0,     /* just allocated, not yet initialized */
	Grunnable = 1, /* on a run queue, not running */
	Grunning = 2,  /* running on an M that holds a P */
	Gsyscall = 3,  /* in a system call, not running Go code */
	Gwaiting = 4,  /* blocked (gopark); waitreason says on what */
	Gdead = 6,     /* unused: exited, or a fresh G on a free list */
};

/* P statuses: Go's numbers. */
enum {
	Pidle = 0,    /* on the idle list, no M */
	Prunning = 1, /* owned by an M running user code or the scheduler */
	Psyscall = 2, /* its M is in a system call */
	Pgcstop = 3,  /* stopped for stop-the-world */
	Pdead = 4,    /* no longer used (GOMAXPROCS shrank) */
};

/*
 * waitReason says why a goroutine is blocked; its string (waitreason_strings
 * in proc_g.c) is what goroutine dumps print between the brackets.  The order
 * and the strings are Go 1.22's, plus gort's sync.WaitGroup.Wait.
 */
typedef enum waitReason {
	waitReasonZero,
	waitReasonGCAssistMarking,
	waitReasonIOWait,
	waitReasonChanReceiveNilChan,
	waitReasonChanSendNilChan,
	waitReasonDumpingHeap,
	waitReasonGarbageCollection,
	waitReasonGarbageCollectionScan,
	waitReasonPanicWait,
	waitReasonSelect,
	waitReasonSelectNoCases,
	waitReasonGCAssistWait,
	waitReasonGCSweepWait,
	waitReasonGCScavengeWait,
	waitReasonChanReceive,
	waitReasonChanSend,
	waitReasonFinalizerWait,
	waitReasonForceGCIdle,
	waitReasonSemacquire,
	waitReasonSleep,
	waitReasonSyncCondWait,
	waitReasonSyncMutexLock,
	waitReasonSyncRWMutexRLock,
	waitReasonSyncRWMutexLock,
	waitReasonTraceReaderBlocked,
	waitReasonWaitForGCCycle,
	waitReasonGCWorkerIdle,
	waitReasonGCWorkerActive,
	waitReasonPreempted,
	waitReasonDebugCall,
	waitReasonGCMarkTermination,
	waitReasonStoppingTheWorld,
	waitReasonFlushProcCaches,
	waitReasonTraceGoroutineStatus,
	waitReasonTraceProcStatus,
	waitReasonPageTraceFlush,
	waitReasonCoroutine,
	waitReasonSyncWaitGroupWait,
	waitReasonCount
} waitReason;

const char *gort__waitreason_string(waitReason r);

/* ---- sudog -------------------------------------------------------------- */

/*
 * sudog is a G waiting on something: a channel's wait queue, a semaphore
 * address.  A G in a select waits on several at once, one sudog each.
 * Go allocates sudogs from per-P caches because its stacks move; a C stack
 * never moves, so gort puts each sudog on the stack of the goroutine that
 * waits - it lives exactly as long as the wait.
 */
typedef struct sudog sudog;
struct sudog {
	G *g;
	sudog *next, *prev;    /* the wait queue (chan), or the address's list (sema) */
	void *elem;            /* data to send, or where to receive (may be NULL) */
	struct hchan *c;       /* the channel waited on */
	sudog *waitlink;       /* the G's other sudogs, for a select */
	bool isSelect;         /* part of a select: wakers must win g->selectDone */
	bool success;          /* woken by a communication (true) or by close (false) */

	/* semaphore table (sema.c): a treap of addresses, a list per address */
	void *addr;
	sudog *parent, *left, *right;
	sudog *waittail;       /* the list's tail, kept in its head */
	uint32_t priority;     /* the treap's heap key */
	uint32_t ticket;       /* sema: 1 = handed off; Cond: the ticket waited for */
	int64_t acquiretime;   /* sema: when a profiled sync.Mutex wait began (mprof.c), or 0 */
};

/* ---- The saved context (asm_amd64.S; offsets in asm_amd64.h) ------------ */

/*
 * savedctx is a goroutine's context while it is switched out: the
 * registers the System V ABI has a callee preserve, and the pc to resume
 * at.  gort__mcall pushes one on the goroutine's own stack and stores its
 * address in G.sched_sp; gort__gogo pops it and jumps to pc, so the stack
 * pointer the context resumes with is the address just past it.
 * gort__gostartframe builds a new goroutine's first.  A parked goroutine's
 * traceback starts from these registers (traceback.c).
 */
typedef struct savedctx {
	uint64_t r15, r14, r13, r12, rbx, rbp;
	uint64_t pc;
} savedctx;

/*
 * syscallctx is the context gort_entersyscall saves, for a traceback of a
 * goroutine in a system call (Go's g.syscallsp and syscallpc): its caller's
 * savedctx, built on gort_entersyscall's own stack and copied into the G,
 * so it holds the stack pointer too.
 */
typedef struct syscallctx {
	savedctx ctx;
	uint64_t sp;
} syscallctx;

_Static_assert(offsetof(savedctx, r15) == SAVEDCTX_R15, "savedctx: r15 moved (asm_amd64.h)");
_Static_assert(offsetof(savedctx, r14) == SAVEDCTX_R14, "savedctx: r14 moved (asm_amd64.h)");
_Static_assert(offsetof(savedctx, r13) == SAVEDCTX_R13, "savedctx: r13 moved (asm_amd64.h)");
_Static_assert(offsetof(savedctx, r12) == SAVEDCTX_R12, "savedctx: r12 moved (asm_amd64.h)");
_Static_assert(offsetof(savedctx, rbx) == SAVEDCTX_RBX, "savedctx: rbx moved (asm_amd64.h)");
_Static_assert(offsetof(savedctx, rbp) == SAVEDCTX_RBP, "savedctx: rbp moved (asm_amd64.h)");
_Static_assert(offsetof(savedctx, pc) == SAVEDCTX_PC, "savedctx: pc moved (asm_amd64.h)");
_Static_assert(sizeof(savedctx) == SAVEDCTX_SIZE, "savedctx: size changed (asm_amd64.h)");
_Static_assert(offsetof(syscallctx, ctx) == 0, "syscallctx: starts with a savedctx (asm_amd64.h)");
_Static_assert(offsetof(syscallctx, sp) == SYSCALLCTX_SP, "syscallctx: sp moved (asm_amd64.h)");
_Static_assert(sizeof(syscallctx) == SYSCALLCTX_SIZE, "syscallctx: size changed (asm_amd64.h)");

/* ---- G ------------------------------------------------------------------ */

/* A stack's usable bytes are [lo, hi); its guard lies just below lo. */
typedef struct stack {
	uintptr_t lo, hi;
} stack;

/*
 * G is one goroutine.  The fields a switch touches come first, in one cache
 * line.  A G keeps no stack while it is dead or not yet started: execute
 * binds one when the G first runs and goexit0 returns it, so a million
 * spawned-but-not-started goroutines cost a G each, not a stack each.
 */
struct G {
	/* first cache line: everything schedule, execute and a switch touch */
	_Alignas(64) void *sched_sp; /* while not running: its savedctx, on its stack */
	stack stack;          /* {0, 0} until first run */
	_Atomic uint32_t atomicstatus;
	uint8_t waitreason;   /* a waitReason, valid while Gwaiting */
	bool stack_canary;    /* stack has no guard region: check its canary word */
	_Atomic bool preempt; /* sysmon asks it to yield at its next preemption point */
	bool latsample;       /* readied at runnablesince: execute measures its latency */
	M *m;                 /* the M running it, or NULL */
	M *lockedm;           /* the M it is locked to (gort_lock_os_thread) */
	gort_func fn;         /* body and its argument */
	void *arg;

	/* second cache line: what parking and channel hand-offs touch */
	int64_t goid;
	int64_t waitsince;    /* when it parked or entered a system call (the coarse clock) */
	sudog *param;         /* set by the waker: the sudog that won a select */
	sudog *waiting;       /* the sudogs of the select it is blocked in */
	_Atomic uint32_t selectDone; /* a waker has claimed this select */
	G *schedlink;         /* next on a gList */
	size_t stacksize;     /* 0: the default */
	int64_t parentgoid;   /* the goroutine that created it */

	/* third cache line: the rest of what newproc sets and goexit0 clears,
	 * so that a goroutine's birth and death write three lines, not five */
	uintptr_t gopc;       /* where it was created, for "created by" */
	union {               /* the two sanitizers never build together */
		void *asan_fakestack; /* AddressSanitizer's state while switched out */
		void *tsan_fiber;     /* ThreadSanitizer's fiber for it (tsan.h) */
	};
	uintptr_t startpc;    /* its function as dumps show it before it runs (Go's g.startpc):
	                       * fn, or what fn calls for it (gort_go_int's entry) */
	/* defer, panic, recover (panic.c) */
	gort__frame *frame;   /* innermost frame with deferred calls pending */
	struct gpanic *panic; /* innermost panic (or Goexit) under way; older ones follow link */
	bool paniconfault;    /* gort_set_panic_on_fault */
	bool tsan_lostframes; /* TSan: frames left its call stack unpopped (tsan.h) */

	syscallctx syscallctx; /* in a system call: its caller's context at gort_entersyscall */
	int64_t runnablesince; /* when it was readied, if latsample (metrics.c) */

	/* the execution tracer (trace_event.c) */
	uint64_t traceseq;    /* events other Ps emitted about it: orders the streams */
	uint64_t sysexitticks; /* tracesysexit: when its system call returned */
	bool tracesys;        /* the trace has it in a system call (GoSysCall, GoInSyscall) */
	bool tracesysexit;    /* it returned without a P: execute records GoSysExit */

	uint64_t detprio;     /* deterministic mode, PCT: its priority (proc_det.c) */

	/* the last fault, for sigpanic and the report (signal_unix.c): Go's g.sig* */
	int32_t sig;
	uintptr_t sigcode0, sigcode1, sigpc;

	/* leaked goroutines (mgcleak.c) */
	bool leaked;          /* the last leak check found it blocked for ever: "(leaked)" in dumps */
	uint8_t leakmark;     /* during a leak check: held back, woken by a timer, found live */

	/* gort_go_args copies the caller's block here; arg then points at it. */
	_Alignas(16) unsigned char args[GORT_GO_ARGS_MAX];
};

_Static_assert(offsetof(G, sched_sp) == G_SCHED_SP, "G: sched_sp moved (asm_amd64.h)");
_Static_assert(offsetof(G, tsan_fiber) == G_TSAN_FIBER, "G: tsan_fiber moved (asm_amd64.h)");
_Static_assert(offsetof(G, goid) == 64, "G: the fields a switch touches must fill the first cache line");
_Static_assert(offsetof(G, parentgoid) + 8 == 128, "G: the fields a park touches must fill the second");
_Static_assert(offsetof(G, tsan_lostframes) < 192, "G: what newproc and goexit0 write must fit the third");

/*
 * Go links queued and free Gs through g.schedlink.  gort keeps the global
 * queues as arrays of G pointers instead: moving a batch between a P and a
 * global queue then copies pointers, rather than chasing links through Gs
 * last written by another CPU - a cache miss per G, which dominated the
 * profile of a spawn storm on two Ps.
 */
typedef struct gQueue {   /* a growable ring: the global run queue */
	G **buf;
	uint32_t cap;         /* a power of two */
	uint32_t head;
	uint32_t len;
} gQueue;

typedef struct gStack {   /* a growable stack: the global free list */
	G **v;
	size_t n, cap;
} gStack;

/* A list of Gs linked through schedlink: what netpoll hands back, for
 * injectglist.  (Order does not matter: a stack.) */
typedef struct gList {
	G *head;
	int n;
} gList;

static inline void gort__glist_push(gList *l, G *gp)
{
	gp->schedlink = l->head;
	l->head = gp;
	l->n++;
}

static inline G *gort__glist_pop(gList *l)
{
	G *gp = l->head;
	if (gp != NULL) {
		l->head = gp->schedlink;
		l->n--;
	}
	return gp;
}

/* ---- timers (timer.h has the type and its calls) ------------------------- */

typedef struct timer timer;

/* ---- P ------------------------------------------------------------------ */

/*
 * Scheduling latency histogram (metrics.c): bucket 0 counts latencies
 * below 256 ns, bucket i (1..SCHEDLAT_BUCKETS-2) those in [2^(i+7),
 * 2^(i+8)) ns, and the last one those of 2^30 ns (about 1.07 s) or more.
 */
#define SCHEDLAT_BUCKETS 24
#define SCHEDLAT_SAMPLE 64 /* one ready in SCHEDLAT_SAMPLE per P is timed */

/*
 * A P's counters for gort_read_metrics: written only by the P's owner
 * (relaxed load + store, no atomic read-modify-write), read racily by the
 * reader.  A P retired by GOMAXPROCS adds them to sched.retired.
 */
typedef struct pmetrics {
	_Atomic uint64_t nswitch;  /* goroutines started or resumed (execute) */
	_Atomic uint64_t nspawn;   /* goroutines created (newproc) */
	_Atomic uint64_t nsteal;   /* successful steals (runqsteal) */
	_Atomic uint64_t nstolen;  /* goroutines they moved */
	_Atomic uint64_t schedlat[SCHEDLAT_BUCKETS];
	uint32_t readytick;        /* counts readies, to pick the timed ones */
} pmetrics;

static inline void gort__pcount(_Atomic uint64_t *c, uint64_t d)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + d, memory_order_relaxed);
}

#define RUNQ_SIZE 256
#define GFREE_MAX 256     /* free Gs a P keeps; half moves to or from sched.gfree at once */

/* A list of free stacks (stack.c), with its length. */
typedef struct stackList {
	void *head; /* free stacks, linked through their top word */
	int32_t n;
} stackList;

/*
 * A P's cache of free slots of one slot pool (handle.c): a channel or a
 * timer made or freed on the P takes or puts one here, with no lock; the
 * pool's lock is taken once per SLOTCACHE_MAX/2 makes or frees, to move
 * half a cache (Go's per-P caches, p.gFree and the mcache, do the same).
 */
enum { SLOTCACHE_MAX = 32, SLOTPOOLS_MAX = 4 };
typedef struct slotcache {
	int32_t n;
	struct gort__slot *s[SLOTCACHE_MAX]; /* the most recently freed last */
} slotcache;

struct P {
	int32_t id;
	_Atomic uint32_t status;
	P *link;               /* next on sched.pidle */
	_Atomic uint32_t schedtick; /* incremented on every new time slice (owner only) */
	uint32_t sysmontick;   /* sysmon: schedtick when it last looked */
	int64_t sysmonwhen;    /* sysmon: when it saw schedtick change */
	_Atomic uint32_t syscalltick; /* incremented on every system call, and by whoever
	                               * takes the P from one (retake, stop the world) */
	uint32_t sysmonsyscalltick; /* sysmon: syscalltick when it last looked */
	int64_t sysmonsyscallwhen;  /* sysmon: when it saw syscalltick change */
	M *_Atomic m;          /* back-link to the M holding it, or NULL; its holder
	                        * writes it (relaxed), sysmon and schedtrace read it */
	struct tracebuf *tracebuf; /* its events while tracing (trace.c) */
	struct tracecache *tracecache; /* the call paths it unwound last (trace_event.c) */
	struct profcache *profcache;   /* ... and for the block and mutex profiles (mprof.c) */

	/*
	 * The local run queue: lock-free for the owner, which alone writes
	 * runqtail and the slots; stealers and the owner race on runqhead with
	 * CAS.  runnext, if not NULL, is the G to run next, ahead of runq: a G
	 * readied by the running one inherits its time slice.
	 */
	_Atomic uint32_t runqhead;
	_Atomic uint32_t runqtail;
	G *_Atomic runq[RUNQ_SIZE];
	G *_Atomic runnext;

	G *gfree[GFREE_MAX];   /* dead Gs, ready for reuse */
	_Atomic int32_t gfreecnt; /* one writer; read racily by gort_numgoroutine */
	stackList stackcache;  /* free default-size stacks (stack.c) */

	/* goroutine ids come from sched.goidgen in batches of GOID_BATCH */
	int64_t goidcache, goidcacheend;

	/* timers: a 4-ary min-heap by when (time.c) */
	spinlock timerslock;
	timer **timers;
	int32_t ntimers, timerscap;
	_Atomic int64_t timer0when; /* the earliest when, or 0: read without the lock */

	struct mcache *mcache; /* its allocation cache (mcache.c) */
	slotcache slotcache[SLOTPOOLS_MAX]; /* free slots, by pool (handle.c) */

	/* counters for gort_read_metrics, on lines of their own */
	_Alignas(64) pmetrics metrics;
};

/* runqlen: pp's local run queue, runnext included, read racily by
 * another thread (metrics, the console): head and tail may be read at
 * different moments, and a length no queue can have counts as 0. */
static inline int64_t gort__runqlen(P *pp)
{
	uint32_t h = atomic_load(&pp->runqhead), t = atomic_load(&pp->runqtail);
	int64_t n = (int64_t)(uint32_t)(t - h) + (atomic_load(&pp->runnext) != NULL);
	return n > RUNQ_SIZE + 1 ? 0 : n;
}

/* ---- M ------------------------------------------------------------------ */

struct M {
	G g0;                  /* the scheduler's stack: this thread's own */
	void *g0_sp;           /* top of g0's stack: mcall starts here each time */
	uintptr_t g0_lo;       /* bottom of g0's stack (sanitizers) */
	G *_Atomic curg;       /* the G running on this M, or NULL; its M writes it
	                        * (relaxed), sysmon reads it for a hint (retake) */
	P *p;                  /* the P it holds, or NULL */
	P *nextp;              /* the P it is handed when woken */
	P *oldp;               /* the P it held before a system call */
	uint32_t syscalltick;  /* oldp's syscalltick as the call began: a P taken from
	                        * a call changes it (once the tracer has its events) */
	int64_t id;
	_Atomic int32_t tid;   /* the OS thread id, once its thread runs; 0 before.  The
	                        * SIGQUIT dump and sysmon read it with no lock */
	bool spinning;         /* out of work and looking for some */
	M *schedlink;          /* next on sched.midle, or on freem once exited (proc_m.c) */
	M *alllink;            /* next on allm */
	note park;             /* an idle M sleeps here */
	G *lockedg;            /* the G locked to this M */
	uint32_t lockedExt;    /* gort_lock_os_thread nesting depth */
	void *exit_sp;         /* context that returns from the thread's start function */
	uint64_t rand;         /* the M's random state (fastrand) */

	/* gopark's request, carried to park_m on g0 */
	bool (*waitunlockf)(G *gp, void *lock);
	void *waitlock;

	void *sigaltstack;     /* where signal handlers run (signal_unix.c) */
	_Atomic uint32_t signalpending; /* a preemption SIGURG is on its way (preempt.c) */

	/* profiling (pprof_cpu.c, pprof.c) */
	void *proftimer;                  /* a timer_t: SIGPROF on this thread's CPU clock */
	_Atomic uint32_t proftimerstate;  /* none, being made, armed */
	int ncreatestk;                   /* the threadcreate profile: where newm was called */
	uintptr_t createstk[16];
	/* an extra M (cgocall.c): it runs the calls of a thread gort did not
	 * create, on that thread; curg is its one G, locked to it for good */
	bool isextra;
	uint32_t tracesession; /* the trace that knows its G (cgocall.c) */
	M *extralink;          /* next in the pool of extra Ms no thread holds */
};

/* ---- sched -------------------------------------------------------------- */

typedef struct schedt {
	/*
	 * Grouped by cache line, so that taking sched.lock or moving free Gs
	 * does not keep invalidating the counters every spawn and every ready
	 * reads (wakep), and that every schedule reads (gcwaiting).
	 */
	_Alignas(64) _Atomic int32_t npidle;  /* idle Ps: read by wakep */
	_Atomic int32_t nmspinning;            /* spinning Ms: read by wakep */
	_Atomic uint32_t gcwaiting;            /* stop the world requested: Ps must stop */

	_Alignas(64) mutex lock;
	M *midle;                 /* idle Ms waiting for work */
	int32_t nmidle;           /* number of idle Ms */
	int32_t nmidlelocked;     /* number of locked Ms waiting for work */
	int64_t mnext;            /* number of Ms created, and the next M's id */
	int32_t maxmcount;        /* the thread limit */
	P *pidle;                 /* idle Ps */
	/* the global run queue; runqsize mirrors runq.len for racy peeks */
	gQueue runq;
	_Atomic int32_t runqsize;
	int32_t stopwait;         /* Ps yet to stop */
	note stopnote;            /* wakes the stopper when stopwait reaches 0 */

	/* the global cache of dead Gs, and where new ones are carved */
	_Alignas(64) mutex gflock;
	gStack gfree;
	_Atomic int32_t ngfree;   /* mirrors gfree.n for racy peeks */

	_Alignas(64) _Atomic int64_t goidgen;

	/* the poller (netpoll_epoll.c): lastpoll is 0 while an M waits in
	 * netpoll, else when the last one returned; pollUntil is when that
	 * waiting M will wake by itself (0: not for a timer) */
	_Alignas(64) _Atomic int64_t lastpoll;
	_Atomic int64_t pollUntil;

	/* sysmon: sleeping long (after idling), so entersyscall must wake it;
	 * syscalls: a system call began since sysmon's last round (its sleep
	 * stays short, so entersyscall need not wake it: proc_sysmon.c) */
	_Alignas(64) _Atomic uint32_t sysmonlongsleep;
	_Atomic uint32_t sysmonwake;
	_Atomic uint32_t sysmonsyscalls;

	/* nanotime as of sysmon's last round (at most 10 ms old): what a
	 * goroutine's waitsince is stamped with, so parking reads no clock */
	_Alignas(64) _Atomic int64_t coarsenow;
	int64_t starttime;        /* schedinit's nanotime: schedtrace's origin */
	pmetrics retired;         /* the counters of Ps GOMAXPROCS retired (world stopped) */
} schedt;

extern schedt gort__sched;
extern P **_Atomic gort__allp;
extern _Atomic int32_t gort__gomaxprocs;
extern int32_t gort__ncpu;

/* ---- Invariants, checked in every build --------------------------------- */

/*
 * throw reports a broken runtime invariant and exits with status 2; fatal
 * reports a user's error the runtime cannot recover from (panic.c).
 */
__attribute__((noreturn, cold)) void gort__throw(const char *msg);
__attribute__((noreturn, cold)) void gort__fatal(const char *msg);
/* panic is Go's panic with a runtime error (a plainError: printed as is):
 * every runtime panic goes here.  It can be recovered (panic.c). */
__attribute__((noreturn, cold)) void gort__panic(const char *msg);

#define gort__assert(cond, msg) \
	do { \
		if (__builtin_expect(!(cond), 0)) \
			gort__throw(msg); \
	} while (0)

/* ---- The current G and M ------------------------------------------------ */

/*
 * getg returns the running G (g0 while on the scheduler stack, NULL on a
 * thread the runtime does not own).  The thread-local load is volatile asm
 * with a memory clobber, so the compiler reads the thread pointer afresh
 * each time: a G resumed on another thread reads that thread's value, never
 * a thread-local address cached from before the switch.  (initial-exec TLS:
 * one %fs-relative load, valid in executables and in libgort.so alike.)
 */
extern __thread G *gort__tls_g __attribute__((tls_model("initial-exec"), visibility("hidden")));

static inline G *gort__getg(void)
{
	G *gp;
	__asm__ volatile("movq gort__tls_g@gottpoff(%%rip), %0\n\t"
	                 "movq %%fs:(%0), %0"
	                 : "=r"(gp)
	                 :
	                 : "memory");
	return gp;
}

static inline void gort__setg(G *gp)
{
	uintptr_t off;
	__asm__ volatile("movq gort__tls_g@gottpoff(%%rip), %0\n\t"
	                 "movq %1, %%fs:(%0)"
	                 : "=&r"(off)
	                 : "r"(gp)
	                 : "memory");
}

/* getm: the running M, or NULL on a thread that is not one (sysmon). */
static inline M *gort__getm(void)
{
	G *gp = gort__getg();
	return gp != NULL ? gp->m : NULL;
}

/*
 * current_goroutine returns the calling goroutine, or dies with a clear
 * message naming the API when called from a thread the runtime does not
 * own (no G), or from the scheduler's own stack (g0).
 */
__attribute__((noreturn, cold)) void gort__not_a_goroutine(const char *api);

/* Is the runtime running (gort_main or gort_start)?  And embedded: started
 * by gort_start, the host program owns main and every other thread. */
extern _Atomic bool gort__runtime_ready;
extern bool gort__islibrary;

static inline G *gort__current_goroutine(const char *api)
{
	G *gp = gort__getg();
	if (__builtin_expect(gp == NULL || gp == &gp->m->g0, 0))
		gort__not_a_goroutine(api);
	return gp;
}

/* as_goroutine (cgocall.c): fn(arg) on the calling goroutine, or on this
 * thread's own for the call if it runs none - as a foreign call to api. */
void gort__as_goroutine(void (*fn)(void *), void *arg, const char *api);

/*
 * callpath.c: the path of whoever called the caller of callpath_unwind -
 * that caller's return address sits at slot0 - innermost first, as return
 * addresses (pcs) and where each sits, from slot0 (offs); at most max
 * (<= CALLPATH_MAX).  Returns how many; *whole if the walk began at slot0
 * and ended before max, so that a cache may keep it.  Call it directly,
 * never inlined: it skips its own frame and its caller's.  callpath_holds:
 * does the stack at slot0 (below hi) still hold that path?
 */
enum { CALLPATH_MAX = 80 };
int gort__callpath_unwind(uintptr_t slot0, uintptr_t *pcs, uint32_t *offs, int max, bool *whole);
bool gort__callpath_holds(const uintptr_t *pcs, const uint32_t *offs, int n, uintptr_t slot0,
                          uintptr_t hi);

/* ---- Spinlocks (lock_futex.c has the slow path) --------------------------- */

/*
 * GORT_DEBUG (cmake -DGORT_DEBUG=ON; make test's sanitized build has it)
 * turns on the checks too costly to keep on: a spinlock's owner, walks of
 * a whole timer heap or semaphore treap after each change.  Every other
 * assertion is always on.  Test it as a constant (if (GORT_DEBUG) ...), so
 * that the checks still compile in the release build.
 */
#ifndef GORT_DEBUG
#define GORT_DEBUG 0
#endif

static inline void gort__spinlock(spinlock *l)
{
	if (__builtin_expect(atomic_exchange_explicit(&l->key, 1, memory_order_acquire) != 0, 0))
		gort__spinlock_slow(l);
	if (GORT_DEBUG)
		atomic_store_explicit(&l->owner, gort__getm(), memory_order_relaxed);
}

static inline void gort__spinunlock(spinlock *l)
{
	if (GORT_DEBUG) {
		gort__assert(atomic_load_explicit(&l->owner, memory_order_relaxed) == gort__getm(),
		             "spinunlock: lock not held by this M");
		atomic_store_explicit(&l->owner, NULL, memory_order_relaxed);
	}
	atomic_store_explicit(&l->key, 0, memory_order_release);
}

/* ---- Assertions about where we run and what we hold ---------------------- */

/*
 * lock_held: is l (a mutex or a spinlock) locked by this M?  The holder
 * writes owner after taking the lock and clears it before releasing it, so
 * the answer is never wrongly no; it can be wrongly yes only on a thread
 * that is not an M (sysmon: getm is NULL), whose NULL matches a free lock's.
 * A spinlock has an owner only in a GORT_DEBUG build (then its key is
 * checked too); otherwise it is not asked, and the answer is yes.
 */
static inline bool gort__mutex_held(mutex *l)
{
	return atomic_load_explicit(&l->owner, memory_order_relaxed) == gort__getm();
}

static inline bool gort__spin_held(spinlock *l)
{
	return !GORT_DEBUG || (atomic_load_explicit(&l->key, memory_order_relaxed) != 0 &&
	                       atomic_load_explicit(&l->owner, memory_order_relaxed) == gort__getm());
}

#define gort__lock_held(l) _Generic((l), mutex *: gort__mutex_held, spinlock *: gort__spin_held)(l)

#define assert_on_g0(mp) \
	gort__assert(gort__getg() == &(mp)->g0, "not on the scheduler stack (g0)")
#define assert_lock_held(l) gort__assert(gort__lock_held(l), "lock not held by this M")

/* ---- the scheduler (proc.h lists its files) --------------------------------- */

typedef bool (*unlockFunc)(G *gp, void *lock);
void gort__entersyscall(const syscallctx *ctx);
void gort__gopark(unlockFunc unlockf, void *lock, waitReason reason);
void gort__goready(G *gp);
void gort__goyield(void);
void gort__preemptpoint(G *gp);

/* The message for a gort call that gort.h forbids: one made by a goroutine
 * between gort_entersyscall and gort_exitsyscall, without its P. */
#define GORT_IN_SYSCALL_MISUSE \
	"gort: a gort call between gort_entersyscall and gort_exitsyscall (call nothing else of gort in between)"

/* checkpreempt: a preemption point inside the runtime (cheap when not asked). */
static inline void gort__checkpreempt(G *gp)
{
	if (__builtin_expect(atomic_load_explicit(&gp->preempt, memory_order_relaxed), 0))
		gort__preemptpoint(gp);
}
bool gort__sync_canspin(int iter);
void gort__sync_dospin(void);
uint32_t gort__readgstatus(G *gp);
/* fastrand64: the M's generator (wyrand), 64 bits a draw.  Every random
 * scheduling choice draws from it, so GORT_SEED fixes them all.  Inline:
 * select draws on every call. */
static inline uint64_t gort__fastrand64(M *mp)
{
	mp->rand += 0xa0761d6478bd642full;
	__uint128_t t = (__uint128_t)mp->rand * (mp->rand ^ 0xe7037ed1a0b428dbull);
	return (uint64_t)(t >> 64) ^ (uint64_t)t;
}
static inline uint32_t gort__fastrand(M *mp)
{
	return (uint32_t)gort__fastrand64(mp);
}
bool gort__forEachG(void (*fn)(G *gp, void *ctx), void *ctx);
/* stop / start every P but the caller's (a goroutine's): gort_stack(all) */
void gort__stoptheworld(void);
void gort__starttheworld(void);
void gort__schedtrace(bool detailed);
void gort__schedtrace_dying(void);
extern _Atomic int gort__dying; /* a fatal report has begun (panic.c) */
void gort__countgstatus(uint64_t bystatus[8]);
void gort__mstats(int64_t *threads, int32_t *idle, int32_t *spinning);
void gort__metrics_sum(pmetrics *sum);
bool gort__mforeach_trylock(void (*fn)(M *mp, void *ctx), void *ctx);
extern _Atomic int32_t gort__sysmontid;

/* coarsenow: nanotime as of sysmon's last round (see schedt.coarsenow). */
static inline int64_t gort__coarsenow(void)
{
	return atomic_load_explicit(&gort__sched.coarsenow, memory_order_relaxed);
}

/* ---- preempt.c: asynchronous preemption (GODEBUG=asyncpreemptoff=0) ---- */

extern _Atomic bool gort__asyncpreempt; /* on: sysmon may signal (set once, at start-up) */
bool gort__preemptinit(void);
void gort__preemptm(M *mp);
struct ucontext_t;
void gort__dosigpreempt(G *gp, struct ucontext_t *uc);
void gort__asyncpreempt_park(G *gp); /* proc_sysmon.c */
void gort__preemptstats(uint64_t *sent, uint64_t *taken, uint64_t *refused);

/* ---- mprof.c, pprof_cpu.c: the profiles' hooks ---------------------------- */

/*
 * Block and mutex events (Go's blockevent, mutexevent): each site tests the
 * rate first, one relaxed load, so profiling off costs a branch.
 * blockreason: the waits the block profile counts at gopark (channels,
 * select, sync.Cond; the semaphores count theirs in semacquire).
 */
extern _Atomic int64_t gort__blockprofilerate;
extern _Atomic int64_t gort__mutexprofilerate;
static inline bool gort__blockprofiling(void)
{
	return __builtin_expect(atomic_load_explicit(&gort__blockprofilerate, memory_order_relaxed) > 0, 0);
}
static inline bool gort__mutexprofiling(void)
{
	return __builtin_expect(atomic_load_explicit(&gort__mutexprofilerate, memory_order_relaxed) > 0, 0);
}
void gort__blockevent(int64_t ns);
void gort__mutexevent(int64_t ns);
int gort__prof_callers(uintptr_t *stk, int max);
void gort__pprof_minit(M *mp); /* an M starts: its CPU timer, if profiling */
void gort__pprof_mexit(M *mp); /* an M ends: its timer deleted */
void gort__debug_serve_env(void); /* GORT_DEBUG_ADDR (http_debug.c) */
void gort__pprof_startenv(void);  /* GORT_CPUPROFILE and the rates (pprof_cpu.c) */

/* ---- sema.c ------------------------------------------------------------- */

void gort__semacquire(uint32_t *addr, bool lifo, waitReason reason);
void gort__semrelease(uint32_t *addr, bool handoff);

/* A notify list (Go's notifyList): the ticket queue under sync.Cond. */
typedef struct notifyList {
	uint32_t wait;   /* the next ticket to hand out */
	uint32_t notify; /* the next ticket to wake */
	sudog *head, *tail;
} notifyList;
uint32_t gort__notifylist_add(notifyList *l);
void gort__notifylist_wait(notifyList *l, uint32_t ticket);
void gort__notifylist_notifyone(notifyList *l);
void gort__notifylist_notifyall(notifyList *l);

/* ---- netpoll_epoll.c ------------------------------------------------------- */

void gort__netpollinit(void);
void gort__netpollBreak(void);
int gort__netpoll(int64_t delay, gList *list);
extern _Atomic int32_t gort__netpollWaiters;
void gort__wakeNetPoller(int64_t when);
int64_t gort__spawn(gort_func fn, void *arg);

/* ---- handle.c ----------------------------------------------------------- */

void gort__slotcache_flush(P *pp); /* a retired P's free slots back to their pools */

/* ---- stack.c ------------------------------------------------------------ */

void gort__stackinit(void);
void gort__stacksize_check(size_t size, const char *api);
stack gort__stackalloc(P *pp, size_t size);
void gort__stackfree(P *pp, stack s, size_t size);
void gort__stackcache_flush(P *pp);
bool gort__stack_guard_contains(G *gp, uintptr_t addr);
bool gort__stack_needs_canary(void);
bool gort__stack_canary_ok(stack s);
void gort__populate(void *p, size_t len);

/* ---- syscall_linux.c ------------------------------------------------------ */

long gort__write_nosigpipe(int fd, const void *buf, size_t n);

/* ---- handle.c: type-stable slots, generation-carrying handles (handle.h) -- */

__attribute__((noreturn, cold)) void gort__badmagic(bool freed, const char *how, const char *what,
                                                    const char *type);

/* ---- the heap (mheap.h has the rest) ------------------------------------ */

void gort__mallocinit(void);
struct mcache *gort__allocmcache(void);
void gort__mcache_retire(P *pp);
void gort__scavenge_tick(int64_t now);
/* the finalizer goroutine is a system goroutine, as Go's fing: not counted
 * by gort_numgoroutine nor by the deadlock check (mfinal.c) */
extern _Atomic int32_t gort__nsystemg;
bool gort__issystemg(G *gp);
/* every live pooled channel's buffer, as roots: the collector's walk
 * (gcmark, the world stopped), then the mark's end (chan.c) */
void gort__chan_roots(void (*add)(uintptr_t p, uintptr_t n, void *ctx), void *ctx);
void gort__chan_roots_done(void);
void gort__gcleak_exit(void); /* GODEBUG=goroutineleak=1, as main returns (mgcleak.c) */
int gort__gcleak_count(void); /* leaked goroutines found by the last leak check */
void gort__gc_metrics(uint64_t *live, uint64_t *goal, uint64_t *sys, uint64_t *released,
                      uint64_t *numgc, uint64_t *pausetotal);

/* ---- runtime1.c: GODEBUG ------------------------------------------------ */

struct gort__debugvars {
	int32_t asyncpreemptoff; /* 1 (gort's default): no preemption by signal */
	int32_t schedtrace;      /* > 0: sysmon prints a SCHED line every schedtrace ms */
	int32_t scheddetail;     /* 1: ... and every P, M and G */
	int32_t dumpsummary;     /* 1: the SIGQUIT dump buckets goroutines (dump.c) */
	int32_t gctrace;         /* 1: a line per collection (mgc.c) */
	int32_t goroutineleak;   /* 1: leaked goroutines reported as main returns (mgcleak.c) */
};
extern struct gort__debugvars gort__debug;
void gort__parsedebugvars(void);

/* ---- os_linux.c --------------------------------------------------------- */

int32_t gort__getproccount(void);
void gort__findgorttext(void);
bool gort__gorttext_known(void);
bool gort__in_gort_text(uintptr_t pc);
void gort__gorttext_range(uintptr_t *lo, uintptr_t *hi);
int32_t gort__gettid(void);
void gort__minit_os(void);
int64_t gort__nanotime(void);
int64_t gort__realnanotime(void); /* the machine's clock, also in deterministic mode */
void gort__futexsleep(_Atomic uint32_t *addr, uint32_t val);
void gort__futexwakeup(_Atomic uint32_t *addr, uint32_t cnt);
void gort__futexsleep_timeout(_Atomic uint32_t *addr, uint32_t val, int64_t ns);
void gort__newosproc(void *(*start)(void *), void *arg);
void gort__osyield(void);
uint64_t gort__random_seed(void);
long gort__getenv_int(const char *name, long dflt);
bool gort__parse_size(const char *s, size_t *out);

/* ---- signal_unix.c ------------------------------------------------------ */

void gort__initsig(void);
void gort__minitsignals(M *mp, bool setmask);
void gort__unminitsignals(M *mp);
__attribute__((noreturn)) void gort__stackoverflow_canary(G *gp);
bool gort__sigctx_ordinary_mask(const struct ucontext_t *uc);

/* ---- panic.c: defer, panic, recover -------------------------------------- */

/*
 * gpanic is one panic under way (Go's _panic), on the stack of the function
 * that started it: gopanic, or gort__goexit_defers for a Goexit.  The
 * goroutine's panics form a list, newest first; sp tells which frames it
 * was started under (the stack grows down).
 */
typedef struct gpanic gpanic;
struct gpanic {
	gpanic *link;              /* the panic that was under way when this one started */
	const void *value;
	const gort_panic_type *type;
	uintptr_t sp;              /* where it started: the frame address of gopanic (or of Goexit's walk) */
	uintptr_t defersp;         /* rsp at the call of the deferred call running now */
	int32_t sig;               /* started by a fault: its signal (for the report) */
	bool recovered;            /* a deferred call called gort_recover */
	bool goexit;               /* not a panic: gort_goexit running deferred calls */
	void *jb[5];               /* goexit: where to resume after a recovery below it */
};

void gort__goexit_defers(G *gp);
__attribute__((noreturn)) void gort__sigpanic(void);
/* The report for a fault that is not turned into a panic (signal_unix.c). */
__attribute__((noreturn)) void gort__fatalsignal(G *gp, const void *ucontext, bool nilderef);

/* ---- dump.c: the SIGQUIT dump --------------------------------------------- */

__attribute__((noreturn)) void gort__sigquit_dump(int sig, void *info, void *ctx);

/* ---- traceback.c ----------------------------------------------------------- */

/*
 * traceback prints gp's frames in Go's format ("name(...)", tab,
 * "file:line +0xoff") and its "created by F in goroutine N" lines, after
 * the header its caller printed.  gp is the calling goroutine (its live
 * stack) or one that is not running (the context it saved when it last
 * switched out).  traceback_ctx does the same from a signal's ucontext (a
 * fault in gp).  Neither allocates or takes a lock the failing code could
 * hold.  traceback_init loads what they need ahead of time (schedinit).
 */
void gort__traceback_init(void);
void gort__traceback(G *gp);
void gort__traceback_ctx(G *gp, const void *ucontext);
int gort__tracebackpcs(G *gp, uintptr_t *pcs, int n);
/*
 * gotraceback returns GOTRACEBACK's level (0 none, 1 single/all, 2
 * system/crash, or the number given) and whether it asks for all
 * goroutines and for a crash (SIGABRT rather than exit 2: gort__exit does
 * it).  Go's gotraceback; a fatal error forces "all" whatever this says.
 */
int gort__gotraceback(bool *all, bool *crash);

/* ---- print.c: writes to stderr without allocating or locking ------------ */
/* (print.h: printbuf, the writer under gort__printf, for tracebacks) */

void gort__printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void gort__goroutineheader(G *gp);
const char *gort__gstatus_string(uint32_t status, uint8_t waitreason);
void gort__goroutineheader_at(G *gp, int64_t now);
void gort__printgoroutines(G *cur);
bool gort__printothers(G *except);
__attribute__((noreturn)) void gort__exit(int code);

/* ---- asm_amd64.S -------------------------------------------------------- */

/* Save the running context, switch to the g0 stack at g0sp, call fn(arg)
 * and switch to the G it returns. */
void gort__mcall(void **savesp, void *g0sp, G *(*fn)(void *), void *arg);
/* Resume a context saved by gort__mcall or built by gort__gostartframe. */
__attribute__((noreturn)) void gort__gogo(void *sp);
/* Build the first frame of a new goroutine at the top of its stack. */
void *gort__gostartframe(uintptr_t stacktop, G *gp);
/* Call fn(arg), storing in *sp the stack pointer at the call (for recover). */
void gort__calldefer(gort_func fn, void *arg, uintptr_t *sp);
/* Where a fault resumes when it becomes a panic: calls gort__sigpanic on
 * an aligned stack, under a frame whose return address is the faulting pc. */
void gort__sigpanic_tramp(void);

/* The counting build (cmake -DGORT_COUNT=ON): every lock and atomic
 * read-modify-write counted by site; in any other build, nothing. */
#include "count.h"

#endif /* GORT_RUNTIME2_H */
