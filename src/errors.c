/*
 * errors.c - gort's one error convention: the text of an error code
 * (gort_strerror) and errors that carry context as they are passed up
 * (gort_error: Go's fmt.Errorf("...: %w", err) and errors.Is).
 *
 * Every gort call that can fail returns a negative code: -errno for a
 * system error, or one of gort's own GORT_E* codes (from -10001 down), far
 * below any errno.  So one int says what happened, and one function names
 * it.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runtime2.h"

const char *gort_strerror(long err)
{
	switch (err) {
	case 0:
		return "success";
	case GORT_ETIMEOUT:
		return "i/o timeout";
	case GORT_ECLOSED:
		return "use of closed network connection";
	case GORT_EADDR:
		return "invalid address";
	case GORT_ENETWORK:
		return "unknown network";
	case GORT_ENOHOST:
		return "no such host";
	case GORT_ETRACEON:
		return "tracing is already enabled";
	case GORT_ETRACEOFF:
		return "tracing is not enabled";
	case GORT_ECANCELED:
		return "context canceled";
	case GORT_EDEADLINE:
		return "context deadline exceeded";
	case GORT_EOF:
		return "EOF";
	case GORT_EUNEXPECTEDEOF:
		return "unexpected EOF";
	case GORT_EBUFFERFULL:
		return "bufio: buffer full";
	case GORT_EERROR:
		return "error";
	case GORT_ECPUPROFON:
		return "cpu profiling already in use";
	case GORT_ECPUPROFOFF:
		return "cpu profiling is not enabled";
	}
	/* errno values: negative as returned, or positive as errno holds them */
	long e = err < 0 ? -err : err;
	const char *s = e < 4096 ? strerrordesc_np((int)e) : NULL;
	return s != NULL ? s : "unknown error";
}

/*
 * put appends the printf-style text to e->msg at *len, as much as fits;
 * a message cut short ends in "...", so that it never passes for whole.
 */
static void put(gort_error *e, size_t *len, const char *fmt, va_list ap)
{
	size_t cap = sizeof e->msg;
	if (*len >= cap - 1)
		return;
	int n = vsnprintf(e->msg + *len, cap - *len, fmt, ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= cap - *len) {
		memcpy(e->msg + cap - 4, "...", 4);
		*len = cap - 1;
		return;
	}
	*len += (size_t)n;
}

static void putf(gort_error *e, size_t *len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	put(e, len, fmt, ap);
	va_end(ap);
}

/*
 * An error without a cause (code 0: Go's errors.New, or fmt.Errorf without
 * %w) is an error all the same: it takes GORT_EERROR, so that 0 keeps
 * meaning success wherever the code is looked at, and its message is the
 * text alone.
 */
int gort_errorf(gort_error *e, int code, const char *fmt, ...)
{
	size_t len = 0;
	e->code = code != 0 ? code : GORT_EERROR;
	e->msg[0] = '\0';
	va_list ap;
	va_start(ap, fmt);
	put(e, &len, fmt, ap);
	va_end(ap);
	if (code != 0)
		putf(e, &len, "%s%s", len > 0 ? ": " : "", gort_strerror(code));
	return e->code;
}

int gort_error_new(gort_error *e, const char *fmt, ...)
{
	size_t len = 0;
	e->code = GORT_EERROR;
	e->msg[0] = '\0';
	va_list ap;
	va_start(ap, fmt);
	put(e, &len, fmt, ap);
	va_end(ap);
	return e->code;
}

int gort_error_wrap(gort_error *e, const char *fmt, ...)
{
	char inner[sizeof e->msg];
	memcpy(inner, e->msg, sizeof inner);
	size_t len = 0;
	e->msg[0] = '\0';
	va_list ap;
	va_start(ap, fmt);
	put(e, &len, fmt, ap);
	va_end(ap);
	putf(e, &len, "%s%s", len > 0 && inner[0] != '\0' ? ": " : "", inner);
	return e->code;
}
