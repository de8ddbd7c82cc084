/*
 * print.c - printing for the runtime's own messages (Go's print.go).
 *
 * Fatal errors are printed from places where malloc, stdio locks or any
 * runtime lock may be held by the failing code, and from signal handlers,
 * so nothing here allocates or locks: gort__printf formats into a buffer
 * on the stack and hands it to write(2).  It knows the few conversions the
 * runtime uses: %s %c %d %u %x %p, with the l and ll length modifiers.
 *
 * The writer under it, printbuf (print.h, printbuf.c), is the only one:
 * tracebacks (traceback*.c) put their frames through it too, to fd 2 or
 * into gort_stack's buffer; printflush, here, is where it meets fd 2.  Also here: the goroutine header every dump and
 * traceback prints, and how the runtime exits.
 */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "print.h"
#include "runtime2.h"
#include "trace.h" /* the flight recorder's crash write */

/* write_stderr writes all of p to fd 2 (short writes retried; errors end it). */
static void write_stderr(const char *p, size_t n)
{
	size_t off = 0;
	while (off < n) {
		ssize_t w = write(2, p + off, n - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
}

void gort__printflush(printbuf *b)
{
	if (!b->tostderr)
		return;
	write_stderr(b->buf, b->len);
	b->len = 0;
}

void gort__printf(const char *fmt, ...)
{
	char buf[512];
	printbuf o = gort__printbuf_stderr(buf, sizeof buf);
	va_list ap;
	va_start(ap, fmt);
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			gort__printchar(&o, *p);
			continue;
		}
		int longs = 0;
		while (*++p == 'l')
			longs++;
		switch (*p) {
		case 's':
			gort__printstring(&o, va_arg(ap, const char *));
			break;
		case 'c':
			gort__printchar(&o, (char)va_arg(ap, int));
			break;
		case 'd': {
			long long v = longs == 0 ? va_arg(ap, int) : longs == 1 ? va_arg(ap, long) : va_arg(ap, long long);
			unsigned long long u = (unsigned long long)v;
			if (v < 0) {
				gort__printchar(&o, '-');
				u = -u;
			}
			gort__printuint(&o, u, 10);
			break;
		}
		case 'u':
		case 'x': {
			unsigned long long v = longs == 0   ? va_arg(ap, unsigned)
			                       : longs == 1 ? va_arg(ap, unsigned long)
			                                    : va_arg(ap, unsigned long long);
			gort__printuint(&o, v, *p == 'u' ? 10 : 16);
			break;
		}
		case 'p':
			gort__printstring(&o, "0x");
			gort__printuint(&o, (uintptr_t)va_arg(ap, void *), 16);
			break;
		case '%':
			gort__printchar(&o, '%');
			break;
		default: /* an unknown conversion prints as written */
			gort__printchar(&o, '%');
			if (*p == '\0')
				goto done;
			gort__printchar(&o, *p);
		}
	}
done:
	va_end(ap);
	gort__printflush(&o);
}

static const char *const gstatus_strings[] = {
	[Gidle] = "idle",       [Grunnable] = "runnable", [Grunning] = "running",
	[Gsyscall] = "syscall", [Gwaiting] = "waiting",   [Gdead] = "dead",
};

/* gstatus_string: a header's state - the wait reason of a waiting
 * goroutine, else its status's name (Go's gStatusStrings), "???" if none. */
const char *gort__gstatus_string(uint32_t status, uint8_t waitreason)
{
	if (status == Gwaiting && waitreason != waitReasonZero)
		return gort__waitreason_string((waitReason)waitreason);
	if (status < sizeof gstatus_strings / sizeof gstatus_strings[0] && gstatus_strings[status] != NULL)
		return gstatus_strings[status];
	return "???";
}

/*
 * goroutineheader_put puts Go's header, "goroutine N [state]:\n", into b:
 * the state is the wait reason of a waiting goroutine; ", N minutes" is
 * added when a waiting goroutine or one in a system call has been so for a
 * minute or more, ", locked to thread" when it is, and then ", foreign
 * thread" for a call from a thread gort did not create (cgocall.c).  now is the time to
 * measure from (nanotime), so tests can fake the clock.
 */
void gort__goroutineheader_put(printbuf *b, G *gp, int64_t now)
{
	uint32_t s = gort__readgstatus(gp);
	gort__printstring(b, "goroutine ");
	gort__printuint(b, (unsigned long long)gp->goid, 10);
	gort__printstring(b, " [");
	gort__printstring(b, gort__gstatus_string(s, gp->waitreason));
	if (s == Gwaiting && gp->leaked) /* the last leak check found it so (mgcleak.c): Go 1.26's mark */
		gort__printstring(b, " (leaked)");
	int64_t since = gp->waitsince;
	if ((s == Gwaiting || s == Gsyscall) && since != 0 && now - since >= 60 * (int64_t)1000000000) {
		gort__printstring(b, ", ");
		gort__printuint(b, (unsigned long long)(now - since) / 60000000000ull, 10);
		gort__printstring(b, " minutes");
	}
	if (gp->lockedm != NULL)
		gort__printstring(b, ", locked to thread");
	if (gp->lockedm != NULL && gp->lockedm->isextra) /* a call from a thread gort did not create */
		gort__printstring(b, ", foreign thread");
	gort__printstring(b, "]:\n");
}

/* goroutineheader_at prints gp's header, measuring from now, in one write. */
void gort__goroutineheader_at(G *gp, int64_t now)
{
	char buf[200];
	printbuf b = gort__printbuf_stderr(buf, sizeof buf);
	gort__goroutineheader_put(&b, gp, now);
	gort__printflush(&b);
}

void gort__goroutineheader(G *gp)
{
	gort__goroutineheader_at(gp, gort__nanotime());
}

static void print_other(G *gp, void *cur)
{
	if (gp == cur)
		return;
	/* The runtime's own goroutine - the finalizer goroutine, waiting for
	 * work - only from GOTRACEBACK=system on, as Go's tracebackothers
	 * leaves out isSystemGoroutine (a finalizer it runs is the program's
	 * code, and shows). */
	if (gort__issystemg(gp) && gort__readgstatus(gp) == Gwaiting && gort__gotraceback(NULL, NULL) < 2)
		return;
	gort__printf("\n");
	gort__goroutineheader(gp);
	gort__traceback(gp);
}

/* printothers: every live goroutine but except, as printgoroutines does;
 * false if the goroutine list was locked (by the failing code, say). */
bool gort__printothers(G *except)
{
	return gort__forEachG(print_other, except);
}

/*
 * printgoroutines prints, as Go does after a fatal error, the failing
 * goroutine (cur, if any) and then every other live goroutine in creation
 * order, each after a blank line, each header followed by its traceback.
 * A fatal error forces "all" (Go's dopanic_m); GOTRACEBACK=none prints no
 * goroutine at all.
 */
void gort__printgoroutines(G *cur)
{
	if (gort__gotraceback(NULL, NULL) == 0)
		return;
	if (cur != NULL) {
		gort__printf("\n");
		gort__goroutineheader(cur);
		gort__traceback(cur);
	}
	gort__printothers(cur);
}

/*
 * exit ends the process at once: no atexit handlers, which may need locks.
 * A dying program (status 2) with GOTRACEBACK=crash raises SIGABRT
 * instead, for a core dump, as Go does.
 */
void gort__exit(int code)
{
	if (code == 2)
		gort__trace_flight_crash(); /* GORT_TRACE_FLIGHT: the trace of the last seconds */
	bool crash = false;
	gort__gotraceback(NULL, &crash);
	if (code == 2 && crash) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = SIG_DFL;
		sigaction(SIGABRT, &sa, NULL);
		sigset_t abrt;
		sigemptyset(&abrt);
		sigaddset(&abrt, SIGABRT);
		pthread_sigmask(SIG_UNBLOCK, &abrt, NULL);
		raise(SIGABRT);
	}
	_exit(code);
}
