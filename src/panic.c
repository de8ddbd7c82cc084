/*
 * panic.c - defer, panic, recover, and how the runtime dies (Go's panic.go).
 *
 *   frame    a function that defers opens with GORT_FRAME (gort.h): a record
 *            (gort__frame, laid out in gort/impl.h, as the macro needs it)
 *            on its own stack frame holding its deferred calls and a
 *            __builtin_setjmp buffer.  A frame is linked into its goroutine's
 *            list (G.frame, innermost first) while it has calls pending -
 *            from its first gort_defer until the last one has started.
 *   defer    gort_defer pushes fn(arg) on the innermost frame (Go's
 *            deferproc); the frame's cleanup attribute runs them LIFO when
 *            the function returns (Go's deferreturn).
 *   panic    a gpanic record on the stack of gopanic, in G.panic's list.
 *            gopanic pops deferred calls innermost first and runs each
 *            through gort__calldefer, which notes the call's stack pointer.
 *   recover  gort__recover: only a function whose frame sits right below
 *            that stack pointer - the deferred call itself - may stop the
 *            panic (Go's argp check), and only from its own code, not from
 *            a helper inlined into it (DWARF's inlining records tell).
 *            When it returns, recovery longjmps to its frame's setjmp,
 *            whose GORT_FRAME statement returns from the function; the
 *            cleanup then runs the frame's other calls.
 *   Goexit   the same walk with a goexit record, which recover ignores.
 *   fatal    fatal and throw: unrecoverable, "fatal error: " and exit 2.
 *
 * Why this shape:
 *   - C has no unwinder that knows gort's frames, so a frame that defers
 *     must say so (GORT_FRAME) and keep a jump target.  __builtin_setjmp
 *     saves three words (fp, resume address, sp) - no signal mask, no
 *     system call - and makes the compiler save the callee-saved
 *     registers, which the jump then does not need to restore.
 *   - gort_defer names the frame variable GORT_FRAME declares, so a
 *     gort_defer in a function without a frame does not compile: it can
 *     never attach to a caller's frame.  What the compiler cannot see (a
 *     frame left by longjmp, still linked) is checked at run time.
 *   - Deferred calls are popped before they run, so a panic raised inside
 *     one (a nested panic) goes on with the calls that are left and never
 *     runs one twice; records in the frame, the first four without
 *     allocating, keep the no-panic path to a few stores and two calls.
 *   - Frames are ordered by the stack pointer their setjmp saved, panics
 *     by the frame address of the function that started them: never by the
 *     address of a variable, which AddressSanitizer may move to a fake stack.
 *
 * fatal prints Go's "fatal error: " line, then the failing goroutine and
 * every other one; throw is the same for a broken runtime invariant.  fatal
 * first flushes stdio, so output the program printed before the error is
 * not lost; throw touches nothing the failing code might hold.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime2.h"

#ifdef GORT_ASAN
void __asan_handle_no_return(void);
#endif

static __attribute__((noreturn)) void gopanic(gpanic *p);
static gort__defer popdefer(G *gp, gort__frame *f);
static __attribute__((noreturn)) void recovery(G *gp, gpanic *p, gort__frame *f);
static __attribute__((noreturn)) void jump(void **jb);
static __attribute__((noreturn)) void fatalpanic(G *gp, gpanic *p, const void *uc);
static void preprintpanics(gpanic *p);
static void printpanics(gpanic *p);
static void printpanicval(gpanic *p);
static void printsignal(G *gp);
static void printfailing(G *gp, const void *uc, bool all);
static __attribute__((noreturn)) void badframe(const char *what);
static void dopanic(const char *msg);

const gort_panic_type gort_string_type = {"string", NULL};
const gort_panic_type gort_runtime_error_type = {"runtime.Error", NULL};
const gort_panic_type gort_error_type = {"*errors.errorString", NULL};

/* reports begun: a second failure while printing must not recurse, and
 * sysmon stops tracing (proc_sysmon.c) */
_Atomic int gort__dying;

/* ---- defer ------------------------------------------------------------------ */

/* A frame's position on the stack: the stack pointer its setjmp saved. */
static inline uintptr_t framesp(const gort__frame *f)
{
	return (uintptr_t)f->jb[2];
}

static void badframe(const char *what)
{
	char msg[200];
	snprintf(msg, sizeof msg, "gort: %s: a function with GORT_FRAME was left without returning "
	                          "(longjmp?), and its frame is still linked", what);
	gort__fatal(msg);
}

/*
 * defer_push is gort_defer (Go's deferproc).  The first call links the
 * frame, which must not lie below a frame still linked (equal is fine:
 * clang inlines functions with __builtin_setjmp, and their frames then
 * share their caller's stack pointer).
 */
bool gort__defer_push(gort__frame *f, gort_func fn, void *arg)
{
	G *gp = gort__current_goroutine("gort_defer");
	if (fn == NULL)
		gort__fatal("gort: gort_defer of a NULL function");
	uint32_t n = f->n;
	if (n == 0) {
		if (gp->frame != NULL && framesp(gp->frame) < framesp(f))
			badframe("gort_defer");
		f->link = gp->frame;
		gp->frame = f;
	} else if (gp->frame != f) {
		badframe("gort_defer");
	}
	if (n < GORT__DEFER_INLINE) {
		f->inl[n] = (gort__defer){fn, arg};
	} else {
		uint32_t i = n - GORT__DEFER_INLINE;
		if (i == 0 || i == f->cap) {
			uint32_t cap = i == 0 ? 8 : 2 * f->cap;
			gort__defer *more = realloc(i == 0 ? NULL : f->more, cap * sizeof *more);
			if (more == NULL)
				gort__throw("out of memory deferring a call");
			f->more = more;
			f->cap = cap;
		}
		f->more[i] = (gort__defer){fn, arg};
	}
	f->n = n + 1;
	return false;
}

/*
 * popdefer takes f's last deferred call off it; the frame leaves the
 * goroutine's list as its last call starts.  f must be the innermost.
 */
static gort__defer popdefer(G *gp, gort__frame *f)
{
	uint32_t n = --f->n;
	gort__defer d;
	if (n < GORT__DEFER_INLINE) {
		d = f->inl[n];
	} else {
		d = f->more[n - GORT__DEFER_INLINE];
		if (n == GORT__DEFER_INLINE) { /* no more calls will be added */
			free(f->more);
			f->more = NULL;
		}
	}
	if (n == 0)
		gp->frame = f->link;
	return d;
}

/*
 * frame_return runs f's deferred calls when its function returns (Go's
 * deferreturn): the cleanup attribute of GORT_FRAME, when calls are pending.
 */
void gort__frame_return(gort__frame *f)
{
	G *gp = gort__getg();
	if (gp == NULL || gp->frame != f)
		badframe("return");
	while (f->n != 0) {
		gort__defer d = popdefer(gp, f);
		d.fn(d.arg);
	}
}

void gort__frame_fellthrough(void)
{
	gort__fatal("gort: GORT_FRAME's statement must leave the function (return)");
}

/* GORT_FRAME_NORECOVER's statement: a deferred call recovered a panic in a
 * function that has no value to return after one. */
void gort__frame_norecover(const char *function)
{
	char msg[300];
	snprintf(msg, sizeof msg, "gort: a panic was recovered in %s, declared GORT_FRAME_NORECOVER: "
	                          "it has no value to return", function != NULL ? function : "?");
	gort__fatal(msg);
}

/*
 * The adapters gort_defer_close and its kin defer, so that a program defers
 * gort's own cleanups as Go defers c.Close() - without a function of its
 * own for each.  In the library, so that a traceback shows them as gort's.
 */
void gort__defer_conn_close(void *c)
{
	(void)gort_conn_close(c); /* Go's `defer c.Close()` drops the error too */
}

void gort__defer_chan_close(void *c)
{
	gort_chan_close(c);
}

void gort__defer_chan_free(void *c)
{
	gort_chan_free(c);
}

void gort__defer_timer_free(void *t)
{
	gort_timer_free(t);
}

void gort__defer_mutex_unlock(void *m)
{
	gort_mutex_unlock(m);
}

void gort__defer_rwmutex_unlock(void *rw)
{
	gort_rwmutex_unlock(rw);
}

void gort__defer_rwmutex_runlock(void *rw)
{
	gort_rwmutex_runlock(rw);
}

void gort__defer_waitgroup_done(void *wg)
{
	gort_waitgroup_done(wg);
}

/* ---- panic -------------------------------------------------------------------- */

/*
 * gopanic runs the goroutine's deferred calls for the panic p (Go's
 * gopanic).  Steps:
 *   1. push p on the goroutine's panics;
 *   2. take the innermost pending call off its frame and run it, noting
 *      its stack pointer for gort__recover;
 *   3. if it recovered p: recovery (does not return); otherwise step 2;
 *   4. no call left: the report, and exit.
 */
static void gopanic(gpanic *p)
{
	G *gp = gort__getg();
	if (gp == NULL || gp->m == NULL || gp == &gp->m->g0) /* no deferred calls off a goroutine */
		fatalpanic(NULL, p, NULL);
	p->sp = (uintptr_t)__builtin_frame_address(0);
	p->link = gp->panic;
	gp->panic = p;
	gort__frame *f;
	while ((f = gp->frame) != NULL) {
		gort__defer d = popdefer(gp, f);
		gort__calldefer(d.fn, d.arg, &p->defersp);
		p->defersp = 0;
		if (p->recovered)
			recovery(gp, p, f);
	}
	fatalpanic(gp, p, NULL);
}

/*
 * recover_site_direct: is the gort_recover whose call returns to pc written
 * in the deferred function itself, not in a helper the compiler inlined
 * into it?  Go's rule: recover stops the panic only when the deferred
 * function calls it directly.  The frame check in gort__recover sees
 * frames, and an inlined helper has none; DWARF's inlining records do see
 * it (the innermost function at pc is then marked inlined).  The answer
 * is cached per call site (pc, with the verdict in bit 63: user addresses
 * fit in 47 bits), so only the first recover at a site asks the reporter.
 * Without libdw or debug info nothing is known: the frame check decides.
 */
static bool recover_site_direct(uintptr_t pc)
{
	enum { SITES = 64 };
	static _Atomic uint64_t sites[SITES];
	const uint64_t DIRECT = UINT64_C(1) << 63;
	_Atomic uint64_t *slot = &sites[(pc >> 2) % SITES];
	uint64_t e = atomic_load_explicit(slot, memory_order_relaxed);
	if ((e & ~DIRECT) == pc)
		return (e & DIRECT) != 0;
	gort_frame frames[8];
	int n = gort_frame_info(pc, frames, 8);
	bool direct = n <= 0 || !frames[0].inlined;
	atomic_store_explicit(slot, pc | (direct ? DIRECT : 0), memory_order_relaxed);
	return direct;
}

/* recover (Go's gorecover): see gort.h for who may. */
const void *gort__recover(void *callerfp, const gort_panic_type **type)
{
	if (type != NULL)
		*type = NULL;
	G *gp = gort__getg();
	if (gp == NULL)
		return NULL;
	gpanic *p = gp->panic;
	/* The deferred call's frame address is the call's sp - 16; anything
	 * it calls has its frame at least 16 bytes further down. */
	uintptr_t fp = (uintptr_t)callerfp;
	if (p == NULL || p->goexit || p->recovered || p->defersp == 0 || fp >= p->defersp ||
	    fp <= p->defersp - 32)
		return NULL;
	if (!recover_site_direct((uintptr_t)__builtin_return_address(0)))
		return NULL;
	p->recovered = true;
	if (type != NULL)
		*type = p->type;
	return p->value;
}

/*
 * recovery stops the panic p, recovered by a deferred call of frame f
 * (Go's recovery).  Every panic started below f (p, and panics p
 * interrupted) is over.  If one of those was a Goexit, the goroutine still
 * exits: resume its walk instead (Go 1.14's rule - a recover must not
 * cancel a Goexit).  Else resume f's function at its GORT_FRAME.
 */
static void recovery(G *gp, gpanic *p, gort__frame *f)
{
	gort__assert(gp->frame == f || f->n == 0, "recovery: frames left below the recovering one");
	uintptr_t sp = framesp(f);
	gpanic *q = p;
	while (q != NULL && q->sp < sp) {
		if (q->goexit) {
			gp->panic = q;
			jump(q->jb);
		}
		q = q->link;
	}
	gp->panic = q;
	jump(f->jb);
}

/* jump resumes a __builtin_setjmp, discarding the stack below it. */
static void jump(void **jb)
{
#ifdef GORT_TSAN
	/* The frames skipped stay on ThreadSanitizer's call stack of the G
	 * (tsan.h): its fiber will not be reused. */
	gort__getg()->tsan_lostframes = true;
#endif
#ifdef GORT_ASAN
	/* The frames skipped still have poisoned locals in the shadow. */
	__asan_handle_no_return();
#endif
	__builtin_longjmp(jb, 1);
}

void gort_panic(const char *msg)
{
	gpanic p = {.value = msg, .type = &gort_string_type};
	if (msg == NULL) { /* Go 1.21: panic(nil) is a *runtime.PanicNilError */
		p.value = "panic called with nil argument";
		p.type = &gort_runtime_error_type;
	}
	gopanic(&p);
}

void gort_panic_value(const void *value, const gort_panic_type *type)
{
	static const gort_panic_type voidptr = {"void *", NULL};
	gpanic p = {.value = value, .type = type != NULL ? type : &voidptr};
	gopanic(&p);
}

/* panic with a runtime error (chan.c, select.c).  The sync and time
 * packages' panics are not runtime errors in Go: a string, or an error
 * from errors.New (gort_panic, gort_panic_value with gort_error_type). */
void gort__panic(const char *msg)
{
	gpanic p = {.value = msg, .type = &gort_runtime_error_type};
	gopanic(&p);
}

/*
 * sigpanic: a fault turned into a panic (gort_set_panic_on_fault).  The
 * signal handler made the goroutine call this, on its own stack, in place
 * of the faulting instruction (signal_unix.c).
 */
void gort__sigpanic(void)
{
	G *gp = gort__getg();
	gpanic p = {.value = "runtime error: invalid memory address or nil pointer dereference",
	            .type = &gort_runtime_error_type,
	            .sig = gp->sig};
	gopanic(&p);
}

bool gort_set_panic_on_fault(bool on)
{
	G *gp = gort__current_goroutine("gort_set_panic_on_fault");
	bool old = gp->paniconfault;
	gp->paniconfault = on;
	return old;
}

/* ---- Goexit -------------------------------------------------------------------- */

/*
 * goexit_defers runs every deferred call of gp before gort_goexit ends it
 * (Go's Goexit).  A panic raised by one of them proceeds as any panic; if
 * a recovery would bypass this walk, it lands back here (recovery).
 */
void gort__goexit_defers(G *gp)
{
	gpanic p = {.goexit = true, .sp = (uintptr_t)__builtin_frame_address(0)};
	p.link = gp->panic;
	gp->panic = &p;
	(void)__builtin_setjmp(p.jb);
	gort__frame *f;
	while ((f = gp->frame) != NULL) {
		gort__defer d = popdefer(gp, f);
		gort__calldefer(d.fn, d.arg, &p.defersp);
	}
	gp->panic = NULL;
}

/* ---- dying ---------------------------------------------------------------------- */

/*
 * preprintpanics turns values with a format into text before anything is
 * printed, as Go calls Error and String first (preprintpanics): their
 * output must not land in the middle of the report.
 */
enum { VALBUF = 256, MAXFORMATTED = 8 };
static char formatted[MAXFORMATTED][VALBUF];

static void preprintpanics(gpanic *p)
{
	int i = 0;
	for (; p != NULL && i < MAXFORMATTED; p = p->link) {
		if (p->goexit || p->type == NULL || p->type->format == NULL)
			continue;
		formatted[i][0] = '\0';
		p->type->format(p->value, formatted[i], VALBUF);
		formatted[i][VALBUF - 1] = '\0';
		p->value = formatted[i++];
		p->type = &gort_string_type;
	}
}

static void printpanicval(gpanic *p)
{
	if (p->type == &gort_string_type || p->type == &gort_runtime_error_type ||
	    p->type == &gort_error_type)
		gort__printf("%s", (const char *)p->value);
	else
		gort__printf("(%s) %p", p->type->name, p->value);
}

/* printpanics prints the panics, oldest first, as Go's printpanics does. */
static void printpanics(gpanic *p)
{
	if (p->link != NULL) {
		printpanics(p->link);
		if (!p->link->goexit)
			gort__printf("\t");
	}
	if (p->goexit)
		return;
	gort__printf("panic: ");
	printpanicval(p);
	if (p->recovered)
		gort__printf(" [recovered]");
	gort__printf("\n");
}

/* The "[signal ...]" line after a fault's panic or fatal error (dopanic_m). */
static void printsignal(G *gp)
{
	const char *name = gp->sig == SIGBUS ? "SIGBUS: bus error" : "SIGSEGV: segmentation violation";
	gort__printf("[signal %s code=%p addr=%p pc=%p]\n", name, (void *)gp->sigcode0,
	             (void *)gp->sigcode1, (void *)gp->sigpc);
}

/* printfailing: the failing goroutine's header and frames, then the others. */
static void printfailing(G *gp, const void *uc, bool all)
{
	gort__printf("\n");
	gort__goroutineheader(gp);
	if (uc != NULL)
		gort__traceback_ctx(gp, uc);
	else
		gort__traceback(gp);
	if (all)
		gort__printothers(gp);
}

/*
 * fatalpanic prints the report of an unrecovered panic and ends the
 * process (Go's fatalpanic, dopanic_m): the panics, the signal line if a
 * fault started one, a blank line, the goroutine and its frames; exit 2.
 */
static void fatalpanic(G *gp, gpanic *p, const void *uc)
{
	bool all;
	int level = gort__gotraceback(&all, NULL);
	preprintpanics(p);
	bool fromsignal = false;
	for (gpanic *q = p; q != NULL; q = q->link)
		fromsignal |= q->sig != 0;
	if (uc == NULL) /* in a fault's handler stdio may be mid-update: leave it */
		fflush(NULL);
	if (atomic_fetch_add(&gort__dying, 1) != 0) {
		gort__printf("panic: ");
		printpanicval(p);
		gort__printf("\npanic during panic\n");
		gort__exit(2);
	}
	gort__schedtrace_dying(); /* Go's startpanic_m: before the panics */
	printpanics(p);
	if (fromsignal && gp != NULL)
		printsignal(gp);
	if (gp != NULL && level > 0)
		printfailing(gp, uc, all);
	gort__exit(2); /* GOTRACEBACK=crash: SIGABRT */
}

/*
 * fatalsignal: a fault in a goroutine that is not to become a panic
 * (signal_unix.c, on the signal stack).  Below address 0x1000 it is Go's
 * nil dereference, reported as the panic it would be; elsewhere Go's
 * "unexpected fault address" and fatal error "fault".
 */
void gort__fatalsignal(G *gp, const void *uc, bool nilderef)
{
	if (nilderef) {
		gpanic p = {.value = "runtime error: invalid memory address or nil pointer dereference",
		            .type = &gort_runtime_error_type,
		            .sig = gp->sig,
		            .link = gp->panic};
		fatalpanic(gp, &p, uc);
	}
	if (atomic_fetch_add(&gort__dying, 1) != 0) {
		gort__printf("fatal error: fault\npanic during panic\n");
		gort__exit(2);
	}
	gort__printf("unexpected fault address %p\n", (void *)gp->sigcode1);
	gort__printf("fatal error: fault\n");
	gort__schedtrace_dying();
	printsignal(gp);
	if (gort__gotraceback(NULL, NULL) > 0)
		printfailing(gp, uc, true); /* a throw shows every goroutine */
	gort__exit(2);
}

static void dopanic(const char *msg)
{
	/* A second failure while printing the first must not recurse. */
	if (atomic_fetch_add(&gort__dying, 1) != 0) {
		gort__printf("fatal error: %s\npanic during panic\n", msg);
		gort__exit(2);
	}
	gort__printf("fatal error: %s\n", msg);
	gort__schedtrace_dying();
	G *gp = gort__getg();
	bool user = gp != NULL && gp->m != NULL && gp != &gp->m->g0;
	gort__printgoroutines(user ? gp : NULL);
}

void gort__throw(const char *msg)
{
	dopanic(msg);
	gort__exit(2);
}

void gort__fatal(const char *msg)
{
	fflush(NULL);
	dopanic(msg);
	gort__exit(2);
}
