/*
 * pprof_cpu.c - the CPU profiler (Go's runtime/cpuprof.go, the SIGPROF
 * half of signal_unix.go, and Go 1.18's per-thread timers of
 * os_linux.go: setThreadCPUProfiler).
 *
 *   gort_pprof_start_cpu / gort_pprof_stop_cpu   StartCPUProfile, StopCPUProfile
 *   gort_set_cpu_profile_rate                    runtime.SetCPUProfileRate
 *   gort__pprof_minit / gort__pprof_mexit        an M's timer, made as it
 *                                                starts and deleted as it ends
 *   gort__pprof_startenv                         GORT_CPUPROFILE=file (the
 *                                                whole run, written at exit)
 *                                                and the block and mutex rates
 *
 * How a sample is taken, and why so:
 *   1. Every M has a timer on its own thread's CPU clock (timer_create on
 *      the thread's CPU-time clock, SIGEV_THREAD_ID: the signal goes to
 *      that thread), firing every 1/hz s of CPU the thread uses.  Go moved
 *      to these in 1.18: the process-wide ITIMER_PROF signals whichever
 *      thread the kernel picks and loses samples when several threads are
 *      busy.  An idle M uses no CPU and gets no signal.
 *   2. The SIGPROF handler must be async-signal-safe and take no lock the
 *      interrupted code may hold - it may have interrupted malloc, libdw,
 *      or libgcc's unwinder holding the loader's lock - so it does not
 *      unwind.  It copies what an unwinder needs - the registers and the
 *      top of the interrupted stack (16 KiB at most, bounded by the stack
 *      the goroutine or the M's g0 runs on) - into a free slot of a ring,
 *      claimed with one compare-and-swap.  No slot free: the sample is
 *      counted lost.  (Linux perf's --call-graph=dwarf works the same way.)
 *   3. A profiler thread drains the ring ten times a second: it has the
 *      traceback reporter unwind each copy with libdw from the registers,
 *      reading the stack from the copy (no live memory: the stack has moved
 *      on), and counts identical stacks in a table.
 *   4. Stop deletes the timers, waits for handlers still running, drains the
 *      last samples and writes the profile: "samples/count" and
 *      "cpu/nanoseconds" over the period 1/hz s, symbolized (pprof.c).
 * No frame pointers are needed: the copy is unwound by the .eh_frame CFI.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "pprof.h"
#include "traceback.h"

enum {
	SNAP = 16 << 10,   /* stack bytes copied per sample */
	NSLOTS = 128,      /* ring size: 2 CPUs at 100 Hz fill 20 a drain */
	DRAIN_MS = 100,
	DEFAULT_HZ = 100,
	NTAB = 4096,       /* hash chains of the stack table */
};

enum { SLOT_FREE, SLOT_WRITING, SLOT_FULL };
enum { TIMER_NONE, TIMER_MAKING, TIMER_ARMED }; /* M.proftimerstate */

typedef struct cpuslot {
	_Atomic uint32_t state;
	uint32_t nbytes;        /* of stack copied, from sp */
	uint64_t regs[NREGS];
	uint64_t sp;
	uint64_t stack[SNAP / 8];
} cpuslot;

typedef struct cpustack {
	struct cpustack *next;
	uint64_t hash;
	int64_t count;
	int n;
	uintptr_t stk[];
} cpustack;

static struct {
	_Atomic bool on;          /* handlers record */
	_Atomic int32_t inflight; /* handlers between their entry and exit */
	_Atomic uint32_t next;    /* the next slot to try */
	_Atomic uint64_t lost;
	cpuslot *slots;           /* mapped at the first start, kept */

	pthread_mutex_t lock;     /* start and stop (long: a pthread lock, not a runtime one) */
	bool busy;                /* a profile is being taken */
	int hz;
	int fd;                   /* where stop writes; < 0: to stop's caller */
	int64_t start_unix_ns, start_mono;
	pthread_t writer;
	_Atomic uint32_t quit;    /* the writer's futex: 1 = drain once more and exit */
	cpustack *tab[NTAB];      /* the writer's (then stop's) */
	bool tab_oom;
} prof = {.lock = PTHREAD_MUTEX_INITIALIZER};

_Static_assert(sizeof(timer_t) == sizeof(void *), "M.proftimer holds a timer_t");

static _Atomic int32_t sethz = DEFAULT_HZ; /* SetCPUProfileRate */
static pthread_once_t installonce = PTHREAD_ONCE_INIT;

/* ---- the signal handler ----------------------------------------------------- */

/* copywords: the interrupted stack, word by word, past the sanitizers: the
 * stack holds other frames' redzones, which ASan would report as read, and
 * its memcpy interceptor is not async-signal-safe anyway.  volatile: the
 * compiler must not turn the loop back into a memcpy call. */
__attribute__((no_sanitize("address", "undefined"))) static void copywords(uint64_t *dst,
                                                                           uintptr_t src, size_t n)
{
	const volatile uint64_t *s = (const volatile uint64_t *)src;
	for (size_t i = 0; i < n; i++)
		dst[i] = s[i];
}

/* stackhi: the top of the stack sp is on, if it is one gort knows (the
 * goroutine's, or its M's g0); else 0: the sample keeps its pc alone. */
static uintptr_t stackhi(G *gp, uintptr_t sp)
{
	if (gp == NULL)
		return 0;
	if (sp >= gp->stack.lo && sp < gp->stack.hi)
		return gp->stack.hi;
	M *mp = gp->m;
	if (mp != NULL && sp >= mp->g0.stack.lo && sp < mp->g0.stack.hi)
		return mp->g0.stack.hi;
	return 0;
}

static void record(const ucontext_t *uc)
{
	cpuslot *s = NULL;
	for (int tries = 0; tries < 4 && s == NULL; tries++) {
		cpuslot *c = &prof.slots[atomic_fetch_add(&prof.next, 1) % NSLOTS];
		uint32_t expect = SLOT_FREE;
		if (atomic_compare_exchange_strong(&c->state, &expect, SLOT_WRITING))
			s = c;
	}
	if (s == NULL) {
		atomic_fetch_add(&prof.lost, 1);
		return;
	}
	unwindfrom f;
	gort__unwindfrom_ucontext(&f, uc);
	memcpy(s->regs, f.regs, sizeof s->regs);
	uintptr_t sp = (uintptr_t)f.regs[REG_DW_RSP] & ~(uintptr_t)7;
	uintptr_t hi = stackhi(gort__getg(), sp);
	size_t n = hi > sp ? hi - sp : 0;
	if (n > SNAP)
		n = SNAP;
	copywords(s->stack, sp, n / 8);
	s->sp = sp;
	s->nbytes = (uint32_t)(n / 8 * 8);
	atomic_store_explicit(&s->state, SLOT_FULL, memory_order_release);
}

static void sigprof(int sig, siginfo_t *info, void *ctx)
{
	int saved = errno;
	atomic_fetch_add(&prof.inflight, 1);
	if (atomic_load(&prof.on))
		record(ctx);
	atomic_fetch_sub(&prof.inflight, 1);
	errno = saved;
}

/* install: the handler, once and for good.  A SIGPROF still pending from a
 * deleted timer must find a handler: SIGPROF's default action kills. */
static void install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = sigprof;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	sigfillset(&sa.sa_mask);
	sigaction(SIGPROF, &sa, NULL);
}

/* ---- per-M timers -------------------------------------------------------------- */

/* A thread's CPU-time clock, as pthread_getcpuclockid makes it from a tid
 * (Linux's MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED)). */
static clockid_t threadclock(int32_t tid)
{
	return (clockid_t)((~(unsigned)tid << 3) | 4 | 2);
}

/* armtimer: mp's timer, made once whoever gets there first - the M as it
 * starts, or start walking the Ms. */
static void armtimer(M *mp, int hz)
{
	uint32_t expect = TIMER_NONE;
	if (mp->tid == 0 || !atomic_compare_exchange_strong(&mp->proftimerstate, &expect, TIMER_MAKING))
		return;
	struct sigevent sev;
	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGPROF;
	sev._sigev_un._tid = mp->tid;
	if (timer_create(threadclock(mp->tid), &sev, (timer_t *)&mp->proftimer) != 0) {
		atomic_store(&mp->proftimerstate, TIMER_NONE);
		return;
	}
	/* the first tick at a random point of the period, as Go's: threads
	 * started together do not all tick together */
	int64_t period = 1000000000 / hz;
	uint64_t r = (uint64_t)gort__nanotime() * 0x9e3779b97f4a7c15ull ^ (uint64_t)mp->tid;
	int64_t first = 1 + (int64_t)(r % (uint64_t)period);
	struct itimerspec its = {
		.it_interval = {period / 1000000000, period % 1000000000},
		.it_value = {first / 1000000000, first % 1000000000},
	};
	timer_settime((timer_t)mp->proftimer, 0, &its, NULL);
	atomic_store(&mp->proftimerstate, TIMER_ARMED);
}

static void disarmtimer(M *mp)
{
	for (;;) {
		uint32_t expect = TIMER_ARMED;
		if (atomic_compare_exchange_strong(&mp->proftimerstate, &expect, TIMER_NONE)) {
			timer_delete((timer_t)mp->proftimer);
			return;
		}
		if (expect == TIMER_NONE)
			return;
		gort__osyield(); /* being made: a moment */
	}
}

void gort__pprof_minit(M *mp)
{
	if (atomic_load(&prof.on))
		armtimer(mp, prof.hz);
}

void gort__pprof_mexit(M *mp)
{
	disarmtimer(mp);
}

static void arm_each(M *mp, void *arg)
{
	armtimer(mp, *(int *)arg);
}

static void disarm_each(M *mp, void *arg)
{
	disarmtimer(mp);
}

/* ---- the profiler thread: unwinding and counting ---------------------------------- */

static uint64_t hashstk(const uintptr_t *stk, int n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (int i = 0; i < n; i++)
		h = (h ^ stk[i]) * 0x100000001b3ull;
	return h;
}

static void count(const uintptr_t *stk, int n)
{
	uint64_t h = hashstk(stk, n);
	cpustack **head = &prof.tab[h % NTAB];
	for (cpustack *c = *head; c != NULL; c = c->next)
		if (c->hash == h && c->n == n && memcmp(c->stk, stk, (size_t)n * sizeof *stk) == 0) {
			c->count++;
			return;
		}
	cpustack *c = malloc(sizeof *c + (size_t)n * sizeof *stk);
	if (c == NULL) {
		prof.tab_oom = true;
		return;
	}
	*c = (cpustack){.next = *head, .hash = h, .count = 1, .n = n};
	memcpy(c->stk, stk, (size_t)n * sizeof *stk);
	*head = c;
}

/* unwind: a slot's sample as a stack of return addresses (the leaf, an
 * interrupted pc, + 1).  The reporter reads the stack from the copy. */
static void unwind(cpuslot *s)
{
	uintptr_t stk[PROF_MAXSTACK];
	int n = 0;
	if (s->nbytes > 0) {
		request r = {.kind = REQ_CALLERS, .callers = {.pcs = stk, .max = PROF_MAXSTACK}};
		unwindfrom *f = &r.callers.from;
		memcpy(f->regs, s->regs, sizeof f->regs);
		f->pc_is_return = false;
		f->stacklo = s->sp;
		f->stackhi = s->sp + s->nbytes;
		f->copy = s->stack;
		if (gort__reporter_call(&r, 0))
			n = r.callers.n;
	}
	if (n == 0) {
		stk[0] = (uintptr_t)s->regs[REG_DW_RIP];
		n = 1;
	}
	stk[0]++;
	count(stk, n);
}

static void drain(void)
{
	for (int i = 0; i < NSLOTS; i++) {
		cpuslot *s = &prof.slots[i];
		if (atomic_load_explicit(&s->state, memory_order_acquire) != SLOT_FULL)
			continue;
		unwind(s);
		atomic_store_explicit(&s->state, SLOT_FREE, memory_order_release);
	}
}

static void *writer(void *arg)
{
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	while (atomic_load(&prof.quit) == 0) {
		gort__futexsleep_timeout(&prof.quit, 0, DRAIN_MS * 1000000LL);
		drain();
	}
	return NULL;
}

/* ---- start and stop ---------------------------------------------------------------- */

int gort_set_cpu_profile_rate(int hz)
{
	if (hz <= 0 || hz > 1000000)
		return -EINVAL;
	atomic_store(&sethz, hz);
	return 0;
}

int gort__pprof_cpu_start(int fd, int hz)
{
	pthread_mutex_lock(&prof.lock);
	if (prof.busy) {
		pthread_mutex_unlock(&prof.lock);
		return GORT_ECPUPROFON;
	}
	if (prof.slots == NULL) {
		void *p = mmap(NULL, NSLOTS * sizeof(cpuslot), PROT_READ | PROT_WRITE,
		               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			pthread_mutex_unlock(&prof.lock);
			return -ENOMEM;
		}
		prof.slots = p;
	}
	prof.busy = true;
	prof.hz = hz;
	prof.fd = fd;
	atomic_store(&prof.lost, 0);
	atomic_store(&prof.quit, 0);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	prof.start_unix_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	prof.start_mono = gort__nanotime();
	int err = pthread_create(&prof.writer, NULL, writer, NULL);
	if (err != 0) {
		prof.busy = false;
		pthread_mutex_unlock(&prof.lock);
		return -err;
	}
	pthread_once(&installonce, install);
	atomic_store(&prof.on, true);
	while (!gort__mforeach_trylock(arm_each, &hz))
		gort__osyield();
	pthread_mutex_unlock(&prof.lock);
	return 0;
}

int gort__pprof_cpu_stop(pbuf *out, int *fd)
{
	pthread_mutex_lock(&prof.lock);
	if (!prof.busy) {
		pthread_mutex_unlock(&prof.lock);
		return GORT_ECPUPROFOFF;
	}
	/* 1. no new samples: timers deleted, handlers running finished */
	atomic_store(&prof.on, false);
	while (!gort__mforeach_trylock(disarm_each, NULL))
		gort__osyield();
	while (atomic_load(&prof.inflight) != 0)
		gort__osyield();
	int64_t duration = gort__nanotime() - prof.start_mono;
	if (fd != NULL)
		*fd = prof.fd;
	/* 2. the writer drains once more and exits */
	atomic_store(&prof.quit, 1);
	gort__futexwakeup(&prof.quit, 1);
	pthread_join(prof.writer, NULL);
	drain();
	/* 3. the profile */
	int64_t period = 1000000000 / prof.hz;
	profbuilder *b = gort__prof_new(PROF_CPU, NULL, period);
	int err = b == NULL || prof.tab_oom ? -ENOMEM : 0;
	for (int i = 0; i < NTAB; i++) {
		for (cpustack *c = prof.tab[i], *next; c != NULL; c = next) {
			next = c->next;
			if (b != NULL) {
				int64_t v[2] = {c->count, c->count * period};
				gort__prof_sample(b, c->stk, c->n, v);
			}
			free(c);
		}
		prof.tab[i] = NULL;
	}
	prof.tab_oom = false;
	if (b != NULL) {
		gort__prof_times(b, prof.start_unix_ns, duration);
		int e = gort__prof_finish(b, out);
		if (err == 0)
			err = e;
	}
	prof.busy = false;
	pthread_mutex_unlock(&prof.lock);
	return err;
}

uint64_t gort__pprof_cpu_lost(void)
{
	return atomic_load(&prof.lost);
}

int gort_pprof_start_cpu(int fd)
{
	gort__current_goroutine("gort_pprof_start_cpu");
	if (fd < 0)
		return -EBADF;
	return gort__pprof_cpu_start(fd, atomic_load(&sethz));
}

int gort_pprof_stop_cpu(void)
{
	gort__current_goroutine("gort_pprof_stop_cpu");
	pbuf out = {0};
	int fd = -1;
	int err = gort__pprof_cpu_stop(&out, &fd);
	if (err == 0)
		err = gort__pprof_write_all(fd, &out);
	gort__pbuf_free(&out);
	return err;
}

/* ---- the environment: profiling a program without changing it ------------ */

static int envfd = -1;

static void cpuprofile_stopenv(void *unused)
{
	(void)unused;
	int err = gort_pprof_stop_cpu();
	if (err != 0)
		gort__printf("gort: GORT_CPUPROFILE: %s\n", gort_strerror(err));
	close(envfd);
}

/* cpuprofile_atexit: as trace.c's trace_atexit, for the profile. */
static void cpuprofile_atexit(void)
{
	G *gp = gort__getg();
	if (gp != NULL && gp == &gp->m->g0) {
		gort__printf("gort: GORT_CPUPROFILE: exit on the scheduler's stack: profile not written\n");
		return;
	}
	gort__as_goroutine(cpuprofile_stopenv, NULL, "GORT_CPUPROFILE's exit handler");
}

/* startenv: from the main goroutine before main (runmain).  GORT_CPUPROFILE
 * (a file), GORT_BLOCKPROFILERATE and GORT_MUTEXPROFILEFRACTION (numbers,
 * as the calls take them): what Go's `go test -cpuprofile -blockprofilerate
 * -mutexprofilefraction` set for a test binary. */
void gort__pprof_startenv(void)
{
	gort__mprof_heap_startenv();
	long rate = gort__getenv_int("GORT_BLOCKPROFILERATE", 0);
	if (rate > 0)
		gort_set_block_profile_rate(rate > INT32_MAX ? INT32_MAX : (int)rate);
	long frac = gort__getenv_int("GORT_MUTEXPROFILEFRACTION", 0);
	if (frac > 0)
		gort_set_mutex_profile_fraction(frac > INT32_MAX ? INT32_MAX : (int)frac);
	const char *path = getenv("GORT_CPUPROFILE");
	if (path == NULL || path[0] == '\0')
		return;
	envfd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (envfd < 0) {
		gort__printf("gort: GORT_CPUPROFILE=%s: %s; not profiling\n", path, strerror(errno));
		return;
	}
	int err = gort_pprof_start_cpu(envfd);
	if (err != 0) {
		gort__printf("gort: GORT_CPUPROFILE=%s: %s; not profiling\n", path, gort_strerror(err));
		close(envfd);
		return;
	}
	atexit(cpuprofile_atexit);
}
