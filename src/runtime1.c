/*
 * runtime1.c - GODEBUG (Go's runtime1.go: parsedebugvars).
 *
 * GODEBUG is a comma-separated list of key=value settings, read once by
 * gort_main.  As in Go, unknown keys are ignored, a malformed value leaves
 * the setting at its default, and when a key appears twice the later one
 * wins.  A setting is one row of dbgvars: its name, where it lives
 * (gort__debug), and its default - gort's, which may differ from Go's.
 *
 *   asyncpreemptoff  1 (the default): preemption is cooperative only.
 *                    0: sysmon also preempts by signal (preempt.c).
 *                    Go's default is 0; gort's is 1, because a C goroutine
 *                    preempted anywhere in user code may hold a lock that
 *                    another goroutine then blocks its thread on (gort.h).
 *   schedtrace=N     sysmon prints Go's "SCHED ..." line every N ms
 *                    (schedtrace.c); scheddetail=1 adds the P, M and G
 *                    lines.  As in Go, scheddetail alone prints nothing.
 *   detseed=N, detstrategy, detdepth, detsteps, dettimeout, detstrict,
 *   detstats, detdump
 *                    gort's own deterministic mode: parsed by proc_det.c
 *                    (gort__det_setting), where a malformed value ends the
 *                    program - a seed silently ignored would replay a
 *                    schedule nobody asked for.
 *   dumpsummary=1    gort's own: the SIGQUIT dump prints goroutines in
 *                    buckets of the same state and stack, biggest first,
 *                    one traceback each (dump.c).  Not a GOTRACEBACK value:
 *                    Go reads an unknown GOTRACEBACK as "all, level 0", so
 *                    that setting would silence a Go program's tracebacks,
 *                    while Go ignores an unknown GODEBUG key.
 *   goroutineleak=1  gort's own: when main returns, a leak check, and the
 *                    leaked goroutines' tracebacks on stderr (mgcleak.c).
 */
#include <stdlib.h>
#include <string.h>

#include "det.h"
#include "runtime2.h"

struct gort__debugvars gort__debug;

typedef struct dbgVar {
	const char *name;
	int32_t *value;
	int32_t dflt;
} dbgVar;

static const dbgVar dbgvars[] = {
	{"asyncpreemptoff", &gort__debug.asyncpreemptoff, 1},
	{"schedtrace", &gort__debug.schedtrace, 0},
	{"scheddetail", &gort__debug.scheddetail, 0},
	{"dumpsummary", &gort__debug.dumpsummary, 0},
	{"gctrace", &gort__debug.gctrace, 0},
	{"goroutineleak", &gort__debug.goroutineleak, 0},
};

/*
 * godebug_next splits the next field off *p: returns its key and length,
 * its value (after '=', or "" if there is none) and length, and moves *p
 * past the field.  false at the end of the string.
 */
static bool godebug_next(const char **p, const char **key, size_t *keylen, const char **val,
                         size_t *vallen)
{
	while (**p == ',')
		(*p)++;
	if (**p == '\0')
		return false;
	const char *field = *p;
	size_t len = strcspn(field, ",");
	*p = field + len;
	const char *eq = memchr(field, '=', len);
	*key = field;
	*keylen = eq != NULL ? (size_t)(eq - field) : len;
	*val = eq != NULL ? eq + 1 : field + len;
	*vallen = eq != NULL ? len - *keylen - 1 : 0;
	return true;
}

/* atoi32 parses a decimal int32 of len bytes (Go's atoi32); false if it is not one. */
static bool atoi32(const char *s, size_t len, int32_t *out)
{
	bool neg = len > 0 && s[0] == '-';
	size_t i = neg ? 1 : 0;
	if (i == len)
		return false;
	int64_t n = 0;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		n = n * 10 + (s[i] - '0');
		if (n > (int64_t)INT32_MAX + 1)
			return false;
	}
	n = neg ? -n : n;
	if (n > INT32_MAX)
		return false;
	*out = (int32_t)n;
	return true;
}

/* parsedebugvars sets every GODEBUG setting: its default, then the environment's. */
void gort__parsedebugvars(void)
{
	size_t n = sizeof dbgvars / sizeof dbgvars[0];
	for (size_t i = 0; i < n; i++)
		*dbgvars[i].value = dbgvars[i].dflt;
	const char *p = getenv("GODEBUG");
	const char *k, *v;
	size_t klen, vlen;
	while (p != NULL && godebug_next(&p, &k, &klen, &v, &vlen)) {
		if (klen > 3 && memcmp(k, "det", 3) == 0) /* deterministic mode: det.h */
			gort__det_setting(k, klen, v, vlen);
		for (size_t i = 0; i < n; i++) {
			if (klen == strlen(dbgvars[i].name) && memcmp(k, dbgvars[i].name, klen) == 0)
				atoi32(v, vlen, dbgvars[i].value); /* malformed: keep what it was */
		}
	}
}
