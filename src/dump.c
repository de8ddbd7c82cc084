/*
 * dump.c - the SIGQUIT dump (Go's sighandler for a _SigThrow signal:
 * fatalsignal, goroutineheader + tracebacktrap, tracebackothers, dumpregs,
 * exit(2); GOTRACEBACK=crash: crash() - the SIGABRT of dieFromSignal).
 *
 *   SIGQUIT: quit
 *   PC=0x4021d6 m=0 sigcode=0
 *
 *   goroutine 1 [running]:             the goroutine the signal interrupted
 *   ...frames...
 *
 *   goroutine 5 [chan receive, 3 minutes]:   every other one, in creation order
 *   ...frames...
 *
 *   rax    0x0                         the interrupted thread's registers
 *   ...
 *
 * and exit status 2.  With GODEBUG=dumpsummary=1, the goroutines after
 * the interrupted one come in buckets instead (summary_dump below).
 *
 * It runs in a signal handler, on whatever thread the kernel chose, while
 * the rest of the program runs on: nothing here allocates or takes a lock
 * it could wait for.  First it freezes the other threads - every M and
 * sysmon gets a SIGQUIT of its own, and its handler, finding a dump under
 * way, waits there for the exit - so that no goroutine changes state or
 * stack while it is printed.  (Go does not stop the others for a plain
 * SIGQUIT; it is best-effort, as here: a thread that does not take the
 * signal within 100 ms is printed around.)  A goroutine running on another
 * thread is shown as Go shows it, "goroutine running on other thread;
 * stack unavailable".
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "runtime2.h"

static void freeze_others(M *self);
static void summary_dump(G *cur, int64_t now);
static void dumpregs(const ucontext_t *uc);

static _Atomic bool dumping;   /* a thread has begun the dump */
static _Atomic int32_t frozen; /* threads waiting in their handler for the exit */
static int32_t sent;           /* SIGQUITs the dumper sent to freeze them */

/*
 * sigquit_dump is the SIGQUIT handler's body (signal_unix.c): the first
 * thread in dumps, any other waits for the exit.  Steps:
 *   1. freeze the other threads, and wait (100 ms at most) until they are;
 *   2. Go's two signal lines: the name, then PC, M and si_code;
 *   3. the goroutine that was interrupted, if a goroutine was: its header
 *      and the frames of the signal context;
 *   4. every other goroutine (or the buckets, with dumpsummary=1);
 *   5. the interrupted thread's registers;
 *   6. exit 2, or SIGABRT with GOTRACEBACK=crash.
 */
void gort__sigquit_dump(int sig, void *info, void *ctx)
{
	bool expect = false;
	if (!atomic_compare_exchange_strong(&dumping, &expect, true)) {
		atomic_fetch_add(&frozen, 1);
		for (;;)
			pause(); /* every signal is blocked in here: only the exit ends it */
	}
	G *gp = gort__getg();
	M *mp = gp != NULL ? gp->m : NULL;
	G *cur = mp != NULL && gp != &mp->g0 ? gp : NULL;

	freeze_others(mp);
	int64_t deadline = gort__realnanotime() + 100 * 1000000;
	while (atomic_load(&frozen) < sent && gort__realnanotime() < deadline) {
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}

	const ucontext_t *uc = ctx;
	atomic_fetch_add(&gort__dying, 1);
	gort__schedtrace_dying(); /* Go's startpanic_m, before the signal lines */
	gort__printf("SIGQUIT: quit\n");
	/* Go prints si_code as a uint64: a tgkill's SI_TKILL (-6) comes out huge. */
	gort__printf("PC=%p m=%lld sigcode=%llu\n", (void *)uc->uc_mcontext.gregs[REG_RIP],
	             mp != NULL ? (long long)mp->id : -1LL,
	             (unsigned long long)(long long)((siginfo_t *)info)->si_code);
	if (cur != NULL) {
		gort__printf("\n");
		gort__goroutineheader(cur);
		gort__traceback_ctx(cur, ctx);
	}
	if (gort__debug.dumpsummary > 0)
		summary_dump(cur, gort__nanotime());
	else if (!gort__printothers(cur))
		gort__printf("\nruntime: goroutines unavailable: the list is locked\n");
	gort__printf("\n");
	dumpregs(uc);

	(void)sig;
	gort__exit(2); /* GOTRACEBACK=crash: SIGABRT */
}

/* ---- freezing the other threads ------------------------------------------- */

static void freeze_m(M *mp, void *self)
{
	if (mp == self || mp->tid == 0)
		return;
	if (syscall(SYS_tgkill, getpid(), mp->tid, SIGQUIT) == 0)
		sent++;
}

/* freeze_others sends every M but self, and sysmon, a SIGQUIT: their
 * handlers find the dump under way and wait. */
static void freeze_others(M *self)
{
	gort__mforeach_trylock(freeze_m, self);
	int32_t tid = atomic_load(&gort__sysmontid);
	if (tid != 0 && tid != gort__gettid() && syscall(SYS_tgkill, getpid(), tid, SIGQUIT) == 0)
		sent++;
}

/* ---- the summary dump (GODEBUG=dumpsummary=1) --------------------------------
 *
 * With 50,000 goroutines the full dump is 50,000 tracebacks, mostly the
 * same few.  The summary prints each kind once:
 *
 *   49998 goroutines [chan receive, 2 minutes]: ids 6-50003
 *   ...frames of goroutine 6...
 *
 *   1 goroutine [sync.Mutex.Lock]: id 5
 *   ...frames of goroutine 5...
 *
 * A bucket is the goroutines with the same state (the status, or the wait
 * reason), the same locked-to-thread flag and the same stack.  The minutes
 * are the longest wait in the bucket; the ids, up to BUCKET_RANGES runs of
 * consecutive ids in creation order ("..." if there are more); the frames
 * those of the bucket's first goroutine.  Biggest bucket first; equal ones
 * in creation order.
 *
 * The stack is keyed by a hash of the goroutine's return addresses
 * (traceback.c unwinds it) and where it was created (gopc); a goroutine
 * whose frames cannot be had (running, not started, no libdw) keys on
 * gopc alone.  All state is static (no malloc in a signal
 * handler; one dumper).
 */
enum { MAX_BUCKETS = 512, BUCKET_RANGES = 4 };

typedef struct bucket {
	uint32_t status;
	uint8_t waitreason;
	bool locked;
	uintptr_t stack;   /* stack_key */
	int64_t count;
	int64_t maxwait;   /* ns, the longest wait among waiting and syscall Gs */
	G *first;          /* the representative: frames printed */
	int nranges;
	bool moreranges;   /* some ids did not fit in ranges */
	int64_t lo[BUCKET_RANGES], hi[BUCKET_RANGES];
} bucket;

static bucket buckets[MAX_BUCKETS];
static bucket *order[MAX_BUCKETS];
static int nbuckets;
static int64_t overflow; /* goroutines in buckets beyond MAX_BUCKETS */

enum { KEY_PCS = 64 };

/* stack_key: what makes two goroutines' stacks "the same" (see above):
 * FNV-1a over the creator pc and up to KEY_PCS return addresses. */
static uintptr_t stack_key(G *gp)
{
	uintptr_t pcs[KEY_PCS];
	int n = gort__tracebackpcs(gp, pcs, KEY_PCS);
	uint64_t h = 14695981039346656037ull;
	h = (h ^ gp->gopc) * 1099511628211ull;
	for (int i = 0; i < n; i++)
		h = (h ^ pcs[i]) * 1099511628211ull;
	return (uintptr_t)h;
}

typedef struct summaryCtx {
	G *cur;
	int64_t now;
} summaryCtx;

static void bucket_add(G *gp, void *arg)
{
	summaryCtx *sc = arg;
	if (gp == sc->cur)
		return;
	uint32_t st = gort__readgstatus(gp);
	uint8_t wr = st == Gwaiting ? gp->waitreason : 0;
	bool locked = gp->lockedm != NULL;
	uintptr_t key = stack_key(gp);
	bucket *b = NULL;
	for (int i = 0; i < nbuckets; i++) {
		bucket *c = &buckets[i];
		if (c->status == st && c->waitreason == wr && c->locked == locked && c->stack == key) {
			b = c;
			break;
		}
	}
	if (b == NULL) {
		if (nbuckets == MAX_BUCKETS) {
			overflow++;
			return;
		}
		b = &buckets[nbuckets++];
		*b = (bucket){.status = st, .waitreason = wr, .locked = locked, .stack = key, .first = gp};
	}
	b->count++;
	if ((st == Gwaiting || st == Gsyscall) && gp->waitsince != 0 &&
	    sc->now - gp->waitsince > b->maxwait)
		b->maxwait = sc->now - gp->waitsince;
	int64_t id = gp->goid;
	if (b->nranges > 0 && b->hi[b->nranges - 1] + 1 == id)
		b->hi[b->nranges - 1] = id;
	else if (b->nranges < BUCKET_RANGES) {
		b->lo[b->nranges] = b->hi[b->nranges] = id;
		b->nranges++;
	} else
		b->moreranges = true;
}

static void print_bucket(const bucket *b)
{
	gort__printf("\n%lld goroutine%s [%s", (long long)b->count, b->count == 1 ? "" : "s",
	             gort__gstatus_string(b->status, b->waitreason));
	if (b->maxwait >= 60 * (int64_t)1000000000)
		gort__printf(", %lld minutes", (long long)(b->maxwait / 60000000000ll));
	gort__printf("%s]: %s", b->locked ? ", locked to thread" : "", b->count == 1 ? "id" : "ids");
	for (int i = 0; i < b->nranges; i++) {
		if (b->lo[i] == b->hi[i])
			gort__printf("%s%lld", i == 0 ? " " : ", ", (long long)b->lo[i]);
		else
			gort__printf("%s%lld-%lld", i == 0 ? " " : ", ", (long long)b->lo[i],
			             (long long)b->hi[i]);
	}
	gort__printf("%s\n", b->moreranges ? ", ..." : "");
	gort__traceback(b->first);
}

/* summary_dump buckets every goroutine but cur and prints the buckets. */
static void summary_dump(G *cur, int64_t now)
{
	summaryCtx sc = {cur, now};
	nbuckets = 0;
	overflow = 0;
	if (!gort__forEachG(bucket_add, &sc)) {
		gort__printf("\nruntime: goroutines unavailable: the list is locked\n");
		return;
	}
	/* insertion sort, biggest first, stable: equal buckets stay in the
	 * order of their first goroutine's creation */
	for (int i = 0; i < nbuckets; i++) {
		bucket *b = &buckets[i];
		int j = i;
		while (j > 0 && order[j - 1]->count < b->count) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = b;
	}
	for (int i = 0; i < nbuckets; i++)
		print_bucket(order[i]);
	if (overflow > 0)
		gort__printf("\n%lld more goroutines in more than %d kinds: not shown\n",
		             (long long)overflow, MAX_BUCKETS);
}

/* ---- registers (Go's dumpregs, amd64) --------------------------------------- */

static void dumpregs(const ucontext_t *uc)
{
	static const struct {
		const char *name;
		int reg;
	} regs[] = {
		{"rax    ", REG_RAX}, {"rbx    ", REG_RBX}, {"rcx    ", REG_RCX}, {"rdx    ", REG_RDX},
		{"rdi    ", REG_RDI}, {"rsi    ", REG_RSI}, {"rbp    ", REG_RBP}, {"rsp    ", REG_RSP},
		{"r8     ", REG_R8},  {"r9     ", REG_R9},  {"r10    ", REG_R10}, {"r11    ", REG_R11},
		{"r12    ", REG_R12}, {"r13    ", REG_R13}, {"r14    ", REG_R14}, {"r15    ", REG_R15},
		{"rip    ", REG_RIP}, {"rflags ", REG_EFL},
	};
	for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++)
		gort__printf("%s0x%llx\n", regs[i].name,
		             (unsigned long long)uc->uc_mcontext.gregs[regs[i].reg]);
	/* cs, gs, fs: 16 bits each, in that order, in one greg */
	unsigned long long csgsfs = (unsigned long long)uc->uc_mcontext.gregs[REG_CSGSFS];
	gort__printf("cs     0x%llx\nfs     0x%llx\ngs     0x%llx\n", csgsfs & 0xffff,
	             (csgsfs >> 32) & 0xffff, (csgsfs >> 16) & 0xffff);
}
