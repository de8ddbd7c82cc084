/*
 * print.c - printing for the runtime's own messages (Go's print.go).
 *
 * Fatal errors are printed from places where malloc, stdio locks or any
 * runtime lock may be held by the failing code, and from signal handlers,
 * so nothing here allocates or locks: gort__printf formats into a buffer
 * on the stack and hands it to write(2).  It knows the few conversions the
 * runtime uses: %s %c %d %u %x %p, with the l and ll length modifiers.
 */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runtime2.h"

typedef struct outbuf {
	char buf[512];
	size_t n;
} outbuf;

/* write_stderr writes all of p to fd 2 (short writes retried; errors end it). */
void gort__write_stderr(const char *p, size_t n)
{
	size_t off = 0;
	while (off < n) {
		ssize_t w = write(2, p + off, n - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
}

static void flush(outbuf *o)
{
	gort__write_stderr(o->buf, o->n);
	o->n = 0;
}

static void putch(outbuf *o, char c)
{
	if (o->n == sizeof o->buf)
		flush(o);
	o->buf[o->n++] = c;
}

static void putstr(outbuf *o, const char *s)
{
	if (s == NULL)
		s = "<nil>";
	while (*s)
		putch(o, *s++);
}

static void putuint(outbuf *o, unsigned long long v, unsigned base)
{
	char digits[24];
	int i = 0;
	do {
		digits[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v != 0);
	while (i > 0)
		putch(o, digits[--i]);
}

void gort__printf(const char *fmt, ...)
{
	outbuf o;
	o.n = 0;
	va_list ap;
	va_start(ap, fmt);
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			putch(&o, *p);
			continue;
		}
		int longs = 0;
		while (*++p == 'l')
			longs++;
		switch (*p) {
		case 's':
			putstr(&o, va_arg(ap, const char *));
			break;
		case 'c':
			putch(&o, (char)va_arg(ap, int));
			break;
		case 'd': {
			long long v = longs == 0 ? va_arg(ap, int) : longs == 1 ? va_arg(ap, long) : va_arg(ap, long long);
			unsigned long long u = (unsigned long long)v;
			if (v < 0) {
				putch(&o, '-');
				u = -u;
			}
			putuint(&o, u, 10);
			break;
		}
		case 'u':
		case 'x': {
			unsigned long long v = longs == 0   ? va_arg(ap, unsigned)
			                       : longs == 1 ? va_arg(ap, unsigned long)
			                                    : va_arg(ap, unsigned long long);
			putuint(&o, v, *p == 'u' ? 10 : 16);
			break;
		}
		case 'p':
			putstr(&o, "0x");
			putuint(&o, (uintptr_t)va_arg(ap, void *), 16);
			break;
		case '%':
			putch(&o, '%');
			break;
		default: /* an unknown conversion prints as written */
			putch(&o, '%');
			if (*p == '\0')
				goto done;
			putch(&o, *p);
		}
	}
done:
	va_end(ap);
	flush(&o);
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

/* putdec appends v in decimal at *p (below end), for goroutineheader_fmt. */
static void putdec(char **p, const char *end, unsigned long long v)
{
	char digits[24];
	int n = 0;
	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0 && *p < end)
		*(*p)++ = digits[--n];
}

static void putstrn(char **p, const char *end, const char *s)
{
	while (*s != '\0' && *p < end)
		*(*p)++ = *s++;
}

/*
 * goroutineheader_fmt writes Go's header, "goroutine N [state]:\n", into
 * buf (n bytes, NUL-terminated, truncated if need be): the state is the
 * wait reason of a waiting goroutine; ", N minutes" is added when a waiting
 * goroutine or one in a system call has been so for a minute or more,
 * ", locked to thread" when it is.  now is the time to measure from
 * (nanotime), so tests can fake the clock; goroutineheader_at prints it.
 */
void gort__goroutineheader_fmt(G *gp, int64_t now, char *buf, size_t n)
{
	if (n == 0)
		return;
	uint32_t s = gort__readgstatus(gp);
	const char *status = gort__gstatus_string(s, gp->waitreason);
	char *p = buf;
	const char *end = buf + n - 1;
	putstrn(&p, end, "goroutine ");
	putdec(&p, end, (unsigned long long)gp->goid);
	putstrn(&p, end, " [");
	putstrn(&p, end, status);
	int64_t since = gp->waitsince;
	if ((s == Gwaiting || s == Gsyscall) && since != 0 && now - since >= 60 * (int64_t)1000000000) {
		putstrn(&p, end, ", ");
		putdec(&p, end, (unsigned long long)(now - since) / 60000000000ull);
		putstrn(&p, end, " minutes");
	}
	if (gp->lockedm != NULL)
		putstrn(&p, end, ", locked to thread");
	putstrn(&p, end, "]:\n");
	*p = '\0';
}

void gort__goroutineheader_at(G *gp, int64_t now)
{
	char buf[200];
	gort__goroutineheader_fmt(gp, now, buf, sizeof buf);
	gort__printf("%s", buf);
}

void gort__goroutineheader(G *gp)
{
	gort__goroutineheader_at(gp, gort__nanotime());
}

static void print_other(G *gp, void *cur)
{
	if (gp == cur)
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
