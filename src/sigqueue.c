/*
 * sigqueue.c - signals as channels: Go's os/signal (signal.go,
 * signal_unix.go) and the runtime's side of it (sigqueue.go).
 *
 *   gort_signal_notify(c, sigs, n)   signal.Notify: relay these signals to c
 *   gort_signal_stop(c)              signal.Stop: no more, guaranteed
 *   gort_signal_ignore(sigs, n)      signal.Ignore
 *   gort_signal_reset(sigs, n)       signal.Reset: back to what it was before
 *   gort_signal_ignored(sig)         signal.Ignored
 *
 * The path of a signal, as in Go:
 *   1. the handler (sighandler) runs on whichever thread the kernel picked
 *      - a goroutine's, a foreign one, sysmon - and does only what is safe
 *      there: it sets the signal's bit in pending (an atomic OR), bumps
 *      wake and wakes the futex on it (Go's sigsend and notewakeup); then
 *      it chains to the handler the program had installed before, if any,
 *      so that gort never silently takes a signal from the program.  (Not
 *      to gort's own, such as the SIGQUIT dump: a program that asks for
 *      SIGQUIT on a channel asks not to die of it, as in Go.)
 *   2. one goroutine (sigloop, Go's os/signal.loop and signal_recv) waits
 *      on the futex "in a system call" (so its P runs other goroutines),
 *      takes all the pending bits at once, and
 *   3. for each signal, sends its number to every channel that asked for
 *      it, without blocking: a full channel misses it (Go's rule - "the
 *      caller must ensure that c has sufficient buffer space").  Signals of
 *      one kind that arrive before the loop takes them count once, as in
 *      Go (and as the kernel's own pending set).
 *
 * The table of channels is under handlers.mu, a gort_mutex: the loop holds
 * it while it sends, so that when gort_signal_stop returns, no send to the
 * channel is under way or to come (Go's Stop promise).
 *
 * A signal's own handler is installed the first time a channel asks for
 * it, and the disposition found then kept: gort_signal_reset, or the last
 * channel that wanted it going away, puts it back.  Faults (SIGSEGV, SIGBUS,
 * SIGFPE, SIGILL, SIGTRAP) cannot be relayed - returning from their handler
 * would run the faulting instruction again - nor can SIGKILL and SIGSTOP be
 * caught: asking for them panics, naming the signal.
 *
 * It calls the channels (gort_chan_trysend), the mutex, gort_go (for the
 * loop) and the system-call transitions; signal_unix.c's handlers are
 * left alone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "chan.h"
#include "runtime2.h"

enum { NWORDS = (NSIG + 31) / 32, MAXCHANS = 64 };

/* ---- what the handler touches: atomics only ---------------------------------- */

static _Atomic uint32_t pending[NWORDS]; /* arrived, not yet taken by the loop */
static _Atomic uint32_t wanted[NWORDS];  /* some channel asked for it */
static _Atomic uint32_t wake;            /* bumped by each arrival: the loop's futex */
static struct sigaction orig[NSIG];      /* the disposition before gort touched it */
static bool touched[NSIG];               /* orig holds it (under handlers.mu) */

static bool isset(_Atomic uint32_t *w, int sig)
{
	return (atomic_load(&w[sig / 32]) >> (sig % 32)) & 1;
}

/*
 * sighandler: async-signal-safe, as a handler must be - atomics and one
 * futex system call; errno kept.  The program's own handler, found when
 * gort installed this one, runs after.
 */
static void sighandler(int sig, siginfo_t *info, void *ctx)
{
	int saved = errno;
	if (isset(wanted, sig)) {
		atomic_fetch_or(&pending[sig / 32], 1u << (sig % 32));
		atomic_fetch_add(&wake, 1);
		gort__futexwakeup(&wake, 1);
	}
	const struct sigaction *o = &orig[sig];
	if (o->sa_flags & SA_SIGINFO) {
		if (o->sa_sigaction != NULL && !gort__in_gort_text((uintptr_t)o->sa_sigaction))
			o->sa_sigaction(sig, info, ctx);
	} else if (o->sa_handler != SIG_DFL && o->sa_handler != SIG_IGN &&
	           !gort__in_gort_text((uintptr_t)o->sa_handler)) {
		o->sa_handler(sig);
	}
	errno = saved;
}

/* ---- the table of channels ----------------------------------------------------- */

static struct {
	gort_mutex mu;
	struct {
		gort_chan *c;
		uint32_t mask[NWORDS];
	} h[MAXCHANS];
	int n;
	int refs[NSIG]; /* channels asking for each signal */
	bool looping;   /* sigloop started */
} handlers = {.mu = GORT_MUTEX_INIT};

/* sigloop: the goroutine that turns arrivals into sends (steps 2 and 3). */
static void sigloop(void *arg)
{
	for (;;) {
		uint32_t got[NWORDS];
		bool any = false;
		uint32_t seen = atomic_load(&wake);
		for (int w = 0; w < NWORDS; w++)
			any |= (got[w] = atomic_exchange(&pending[w], 0)) != 0;
		if (!any) {
			/* wait "in a system call", until an arrival bumps wake */
			gort_entersyscall();
			gort__futexsleep(&wake, seen);
			gort_exitsyscall();
			continue;
		}
		gort_mutex_lock(&handlers.mu);
		for (int sig = 1; sig < NSIG; sig++) {
			if (!((got[sig / 32] >> (sig % 32)) & 1))
				continue;
			for (int i = 0; i < handlers.n; i++) {
				if ((handlers.h[i].mask[sig / 32] >> (sig % 32)) & 1) {
					int v = sig;
					gort_chan_trysend(handlers.h[i].c, &v); /* full: dropped */
				}
			}
		}
		gort_mutex_unlock(&handlers.mu);
	}
}

/* ---- installing and restoring dispositions (under handlers.mu) ---------------- */

static void keep_orig(int sig)
{
	if (!touched[sig]) {
		sigaction(sig, NULL, &orig[sig]);
		touched[sig] = true;
	}
}

static void enable(int sig)
{
	keep_orig(sig);
	atomic_fetch_or(&wanted[sig / 32], 1u << (sig % 32));
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = sighandler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigfillset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* disable: no channel wants sig any more: its disposition from before. */
static void disable(int sig)
{
	atomic_fetch_and(&wanted[sig / 32], ~(1u << (sig % 32)));
	if (touched[sig])
		sigaction(sig, &orig[sig], NULL);
}

static const char *signame(int sig)
{
	const char *d = sigabbrev_np(sig);
	return d != NULL ? d : "?";
}

/*
 * check_sig: may a channel ask for sig?  all: the "every signal" of an
 * empty list, which leaves out quietly what check_sig would refuse.
 */
static bool check_sig(const char *api, int sig, bool all)
{
	char msg[160];
	if (sig <= 0 || sig >= NSIG) {
		snprintf(msg, sizeof msg, "%s: invalid signal number %d", api, sig);
		gort__panic(msg);
	}
	const char *why = NULL;
	if (sig == SIGKILL || sig == SIGSTOP)
		why = "cannot be caught";
	else if (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP)
		why = "is a fault, reported where it happens: it cannot be relayed to a channel";
	else if (sig == SIGURG && atomic_load(&gort__asyncpreempt))
		why = "preempts goroutines (GODEBUG=asyncpreemptoff=0)";
	else if (all && sig >= SIGRTMIN - 3 && sig < SIGRTMIN)
		why = "is the C library's"; /* glibc's SIGCANCEL, SIGSETXID */
	if (why == NULL)
		return true;
	if (all)
		return false;
	snprintf(msg, sizeof msg, "%s: signal %d (SIG%s) %s", api, sig, signame(sig), why);
	gort__panic(msg);
}

/* check_sigs: panics, naming the problem, unless every one of sigs[0..n)
 * may be asked for (n == 0: every signal).  Before any lock is taken. */
static void check_sigs(const char *api, const int *sigs, int n)
{
	if (n < 0 || (n > 0 && sigs == NULL)) {
		char msg[96];
		snprintf(msg, sizeof msg, "%s: %d signals at %p", api, n, (const void *)sigs);
		gort__panic(msg);
	}
	for (int i = 0; i < n; i++)
		check_sig(api, sigs[i], false);
}

/* for_sigs: fn(sig) for each of sigs[0..n) (checked), or every signal
 * that may be asked for if n == 0. */
static void for_sigs(const char *api, const int *sigs, int n, void (*fn)(int sig, void *ctx), void *ctx)
{
	if (n == 0) {
		for (int sig = 1; sig < NSIG; sig++)
			if (check_sig(api, sig, true))
				fn(sig, ctx);
		return;
	}
	for (int i = 0; i < n; i++)
		fn(sigs[i], ctx);
}

/* ---- the API ------------------------------------------------------------------ */

static void notify_one(int sig, void *ctx)
{
	uint32_t *mask = ctx;
	if ((mask[sig / 32] >> (sig % 32)) & 1)
		return;
	mask[sig / 32] |= 1u << (sig % 32);
	if (handlers.refs[sig]++ == 0)
		enable(sig);
}

void gort_signal_notify(gort_chan *c, const int *sigs, int n)
{
	if (c == NULL)
		gort__panic("os/signal: Notify using nil channel"); /* Go's words */
	if (chanof(c)->elemsize != sizeof(int))
		gort__panic("gort_signal_notify: the channel must carry an int, the signal number "
		            "(gort_chan_make(sizeof(int), n))");
	check_sigs("gort_signal_notify", sigs, n);
	gort_mutex_lock(&handlers.mu);
	int i = 0;
	while (i < handlers.n && handlers.h[i].c != c)
		i++;
	if (i == handlers.n) {
		if (handlers.n == MAXCHANS) {
			gort_mutex_unlock(&handlers.mu);
			gort__panic("gort_signal_notify: more than 64 channels");
		}
		handlers.n++;
		handlers.h[i].c = c;
		memset(handlers.h[i].mask, 0, sizeof handlers.h[i].mask);
	}
	for_sigs("gort_signal_notify", sigs, n, notify_one, handlers.h[i].mask);
	if (!handlers.looping) {
		handlers.looping = true;
		gort_go(sigloop, NULL);
	}
	gort_mutex_unlock(&handlers.mu);
}

/* drop_sig: no channel wants sig any more (handlers.mu held). */
static void drop_sig(int sig, void *ctx)
{
	for (int i = 0; i < handlers.n; i++) {
		uint32_t *m = handlers.h[i].mask;
		if ((m[sig / 32] >> (sig % 32)) & 1) {
			m[sig / 32] &= ~(1u << (sig % 32));
			handlers.refs[sig]--;
		}
	}
	gort__assert(handlers.refs[sig] == 0, "signal: a channel count out of step");
	if (ctx != NULL) { /* ignore */
		keep_orig(sig);
		atomic_fetch_and(&wanted[sig / 32], ~(1u << (sig % 32)));
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = SIG_IGN;
		sigaction(sig, &sa, NULL);
	} else {
		disable(sig);
	}
}

void gort_signal_stop(gort_chan *c)
{
	gort_mutex_lock(&handlers.mu);
	for (int i = 0; i < handlers.n; i++) {
		if (handlers.h[i].c != c)
			continue;
		for (int sig = 1; sig < NSIG; sig++)
			if ((handlers.h[i].mask[sig / 32] >> (sig % 32)) & 1 && --handlers.refs[sig] == 0)
				disable(sig);
		handlers.h[i] = handlers.h[--handlers.n];
		break;
	}
	gort_mutex_unlock(&handlers.mu);
}

void gort_signal_ignore(const int *sigs, int n)
{
	check_sigs("gort_signal_ignore", sigs, n);
	gort_mutex_lock(&handlers.mu);
	for_sigs("gort_signal_ignore", sigs, n, drop_sig, (void *)1);
	gort_mutex_unlock(&handlers.mu);
}

void gort_signal_reset(const int *sigs, int n)
{
	check_sigs("gort_signal_reset", sigs, n);
	gort_mutex_lock(&handlers.mu);
	for_sigs("gort_signal_reset", sigs, n, drop_sig, NULL);
	gort_mutex_unlock(&handlers.mu);
}

bool gort_signal_ignored(int sig)
{
	struct sigaction cur;
	if (sig <= 0 || sig >= NSIG || sigaction(sig, NULL, &cur) != 0)
		return false;
	return !(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == SIG_IGN;
}
