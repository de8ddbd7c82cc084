/*
 * print.c - printing for the runtime's own messages (Go's print.go).
 *
 * Fatal errors are printed from places where malloc, stdio locks or any
 * runtime lock may be held by the failing code, and from signal handlers,
 * so nothing here allocates or locks: gort__printf formats into a buffer
 * on the stack and hands it to write(2).  It knows the few conversions the
 * runtime uses: %s %c %d %u %x %p, with the l and ll length modifiers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runtime2.h"

typedef struct outbuf {
	char buf[512];
	size_t n;
} outbuf;

static void flush(outbuf *o)
{
	size_t off = 0;
	while (off < o->n) {
		ssize_t w = write(2, o->buf + off, o->n - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
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

/*
 * goroutineheader prints "goroutine N [state]:" as Go's traceback does:
 * the state is the wait reason of a waiting goroutine; ", N minutes" is
 * added when a waiting goroutine or one in a system call has been so for a
 * minute or more, ", locked to thread" when it is.  goroutineheader_at
 * takes the time to measure from (nanotime), so tests can fake the clock.
 */
void gort__goroutineheader_at(G *gp, int64_t now)
{
	uint32_t s = gort__readgstatus(gp);
	const char *status = "???";
	if (s < sizeof gstatus_strings / sizeof gstatus_strings[0] && gstatus_strings[s] != NULL)
		status = gstatus_strings[s];
	if (s == Gwaiting && gp->waitreason != waitReasonZero)
		status = gort__waitreason_string((waitReason)gp->waitreason);
	char minutes[40] = ""; /* ", N minutes" */
	int64_t since = gp->waitsince;
	if ((s == Gwaiting || s == Gsyscall) && since != 0 && now - since >= 60 * (int64_t)1000000000) {
		char digits[24];
		int n = 0;
		for (uint64_t m = (uint64_t)(now - since) / 60000000000ull; m != 0 || n == 0; m /= 10)
			digits[n++] = (char)('0' + m % 10);
		char *p = minutes;
		*p++ = ',';
		*p++ = ' ';
		while (n > 0)
			*p++ = digits[--n];
		memcpy(p, " minutes", sizeof " minutes");
	}
	gort__printf("goroutine %lld [%s%s%s]:\n", (long long)gp->goid, status, minutes,
	             gp->lockedm != NULL ? ", locked to thread" : "");
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
}

/*
 * printgoroutines prints, as Go does after a fatal error, the failing
 * goroutine (cur, if any) and then every other live goroutine in creation
 * order, each after a blank line.  Frames come with tracebacks.
 */
void gort__printgoroutines(G *cur)
{
	if (cur != NULL) {
		gort__printf("\n");
		gort__goroutineheader(cur);
	}
	gort__forEachG(print_other, cur);
}

/* exit ends the process at once: no atexit handlers, which may need locks. */
void gort__exit(int code)
{
	_exit(code);
}
