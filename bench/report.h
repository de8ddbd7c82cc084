/*
 * report.h - helpers shared by the C twins of ../shared/anchors/go/<bench>.
 *
 * Each twin must print exactly the JSON line its Go twin prints, so that
 * bench/run.sh (and the anchors' summarize.py) can put the two side by side:
 *
 *   {"bench":..,"impl":"gort","procs":..,"metric":..,"value":..,"rss_kb":..,"extra":{..}}
 *
 * Same key order as Go's encoding/json gives the anchors' result struct,
 * extras sorted by key (Go marshals a map in sorted key order), every float
 * rounded to 2 decimals and printed the way Go prints a float64.  Flags are
 * parsed like Go's flag package parses them: -n 10, -n=10, --n 10, --n=10.
 *
 * Header-only: every function is static inline (no unused-function
 * warnings for the ones a twin does not call), so one twin is one .c file.
 */
#ifndef GORT_BENCH_REPORT_H
#define GORT_BENCH_REPORT_H

/* clock_gettime under -std=c11 too; include this header before any other. */
#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gort.h>

/* ---- failing ------------------------------------------------------------ */

/* bench_fail prints the message on stderr and exits 1, like the anchors' fail. */
static inline void bench_fail(const char *format, ...) __attribute__((format(printf, 1, 2), noreturn));
static inline void bench_fail(const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	vfprintf(stderr, format, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ---- clock and memory --------------------------------------------------- */

/* bench_now_ns reads the monotonic clock, as Go's time.Now/time.Since do. */
static inline int64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * bench_status_kb returns a field of /proc/self/status in kB ("VmHWM" is the
 * peak resident set, "VmRSS" the current one), or -1, like the anchors'
 * statusKB.
 */
static inline int64_t bench_status_kb(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	if (f == NULL)
		return -1;
	size_t len = strlen(field);
	char line[256];
	int64_t kb = -1;
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, field, len) == 0 && line[len] == ':') {
			kb = strtoll(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb;
}

/* ---- flags --------------------------------------------------------------- */

/* One integer flag: -name N.  *value holds the default and receives the flag. */
struct bench_flag {
	const char *name;
	long long *value;
	const char *usage;
};

/* One unsigned flag (Go's flag.Uint64): -name N, read as strconv.ParseUint. */
struct bench_uflag {
	const char *name;
	unsigned long long *value;
	const char *usage;
};

/* bench_usage_u prints flags, then uflags (which may be NULL). */
static inline void bench_usage_u(FILE *out, const char *prog, const struct bench_flag *flags,
                                 const struct bench_uflag *uflags)
{
	fprintf(out, "Usage of %s:\n", prog);
	for (const struct bench_flag *f = flags; f->name != NULL; f++)
		fprintf(out, "  -%s int\n    \t%s (default %lld)\n", f->name, f->usage, *f->value);
	for (const struct bench_uflag *f = uflags; f != NULL && f->name != NULL; f++)
		fprintf(out, "  -%s uint\n    \t%s (default %llu)\n", f->name, f->usage, *f->value);
}

static inline void bench_usage(FILE *out, const char *prog, const struct bench_flag *flags)
{
	bench_usage_u(out, prog, flags, NULL);
}

/*
 * bench_parse_flags parses argv against flags (ended by an entry with a NULL
 * name) the way Go's flag.Parse does for int flags: "-n 10", "-n=10", with
 * one or two dashes; -h/-help prints the usage and exits 0; anything else
 * (unknown flag, bad number, stray argument) prints the usage and exits 2.
 * Numbers are read with base prefixes, as strconv.ParseInt(s, 0, 64) does.
 * bench_parse_flags_u also takes uint64 flags (uflags, ended the same way, or
 * NULL), read as strconv.ParseUint(s, 0, 64) reads them: no sign.
 */
static inline void bench_parse_flags_u(int argc, char **argv, const struct bench_flag *flags,
                                       const struct bench_uflag *uflags)
{
	const char *prog = argc > 0 ? argv[0] : "bench";
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "--") == 0 && i + 1 == argc)
			break;
		if (arg[0] != '-' || arg[1] == '\0') {
			fprintf(stderr, "%s: unexpected argument %s\n", prog, arg);
			bench_usage_u(stderr, prog, flags, uflags);
			exit(2);
		}
		const char *name = arg + (arg[1] == '-' ? 2 : 1);
		const char *eq = strchr(name, '=');
		size_t namelen = eq != NULL ? (size_t)(eq - name) : strlen(name);
		if ((namelen == 1 && name[0] == 'h') || (namelen == 4 && strncmp(name, "help", 4) == 0)) {
			bench_usage_u(stderr, prog, flags, uflags);
			exit(0);
		}
		const struct bench_flag *f = flags;
		while (f->name != NULL && !(strlen(f->name) == namelen && strncmp(f->name, name, namelen) == 0))
			f++;
		const struct bench_uflag *u = NULL;
		if (f->name == NULL && uflags != NULL) {
			u = uflags;
			while (u->name != NULL && !(strlen(u->name) == namelen && strncmp(u->name, name, namelen) == 0))
				u++;
			if (u->name == NULL)
				u = NULL;
		}
		if (f->name == NULL && u == NULL) {
			fprintf(stderr, "flag provided but not defined: -%.*s\n", (int)namelen, name);
			bench_usage_u(stderr, prog, flags, uflags);
			exit(2);
		}
		const char *fname = u != NULL ? u->name : f->name;
		const char *val = eq != NULL ? eq + 1 : NULL;
		if (val == NULL) {
			if (i + 1 == argc) {
				fprintf(stderr, "flag needs an argument: -%s\n", fname);
				bench_usage_u(stderr, prog, flags, uflags);
				exit(2);
			}
			val = argv[++i];
		}
		char *end;
		errno = 0;
		bool bad;
		if (u != NULL) {
			unsigned long long v = strtoull(val, &end, 0);
			bad = errno != 0 || end == val || *end != '\0' || val[0] < '0' || val[0] > '9';
			if (!bad)
				*u->value = v;
		} else {
			long long v = strtoll(val, &end, 0);
			bad = errno != 0 || end == val || *end != '\0';
			if (!bad)
				*f->value = v;
		}
		if (bad) {
			fprintf(stderr, "invalid value \"%s\" for flag -%s: parse error\n", val, fname);
			bench_usage_u(stderr, prog, flags, uflags);
			exit(2);
		}
	}
}

static inline void bench_parse_flags(int argc, char **argv, const struct bench_flag *flags)
{
	bench_parse_flags_u(argc, argv, flags, NULL);
}

/* ---- splitting work -------------------------------------------------------- */

/*
 * bench_share is the anchors' share: total split into parts as evenly as
 * possible; part i gets total/parts, plus 1 for the first total%parts parts.
 */
static inline long long bench_share(long long i, long long total, long long parts)
{
	long long n = total / parts;
	if (i < total % parts)
		n++;
	return n;
}

/* ---- the JSON line ------------------------------------------------------- */

/* One "extra" field of the report. */
struct bench_extra {
	const char *key;
	double value;
};

/* The anchors' round2: math.Round(x*100)/100 (halves away from zero). */
static inline double bench_round2(double x)
{
	return round(x * 100) / 100;
}

/*
 * bench_put_float prints x as Go's encoding/json prints a float64: the
 * shortest decimal digits that read back as x, in plain notation (732.22,
 * 1000000, 0.7, 1e21 as 1000000000000000000000 padded with zeros, not
 * printf's exact binary value), switching to exponent notation only below
 * 1e-6 or from 1e21 on.  Rounded values never get that far; kept exact anyway.
 */
static inline void bench_put_float(double x)
{
	if (!isfinite(x)) { /* json.Marshal refuses these; null keeps the line parseable */
		fputs("null", stdout);
		return;
	}
	char buf[64];
	int prec; /* significant digits of the shortest form */
	for (prec = 1; prec < 17; prec++) {
		snprintf(buf, sizeof buf, "%.*e", prec - 1, x);
		if (strtod(buf, NULL) == x)
			break;
	}
	snprintf(buf, sizeof buf, "%.*e", prec - 1, x); /* [-]d.ddde[+-]xx */
	char *e = strchr(buf, 'e');
	int exp10 = atoi(e + 1);
	double ax = fabs(x);
	if (ax != 0 && (ax < 1e-6 || ax >= 1e21)) {
		if (e[1] == '-' && e[2] == '0') /* Go trims e-07 to e-7, keeps e+21 */
			memmove(e + 2, e + 3, strlen(e + 3) + 1);
		fputs(buf, stdout);
		return;
	}
	char digits[32];
	int nd = 0;
	for (const char *p = buf; p < e; p++)
		if (*p >= '0' && *p <= '9')
			digits[nd++] = *p;
	if (buf[0] == '-')
		putchar('-');
	if (exp10 < 0) { /* 0.000ddd */
		fputs("0.", stdout);
		for (int i = exp10 + 1; i < 0; i++)
			putchar('0');
		fwrite(digits, 1, (size_t)nd, stdout);
	} else if (exp10 + 1 >= nd) { /* ddd000 */
		fwrite(digits, 1, (size_t)nd, stdout);
		for (int i = nd; i <= exp10; i++)
			putchar('0');
	} else { /* ddd.ddd */
		fwrite(digits, 1, (size_t)exp10 + 1, stdout);
		putchar('.');
		fwrite(digits + exp10 + 1, 1, (size_t)(nd - exp10 - 1), stdout);
	}
}

/* bench_put_string prints s as a JSON string, escaped as Go escapes it. */
static inline void bench_put_string(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", stdout);
		else if (*p == '\r')
			fputs("\\r", stdout);
		else if (*p == '\t')
			fputs("\\t", stdout);
		else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&') /* Go's HTML-safe escaping */
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

/*
 * bench_report prints this run's one JSON line on stdout.  extras ends with
 * an entry whose key is NULL; use the report() macro below instead.
 */
static inline void bench_report(const char *bench, const char *metric, double value,
                                const struct bench_extra *extras)
{
	/* Go marshals map keys in sorted order: sort a copy of the extras. */
	enum { MAX_EXTRAS = 32 };
	struct bench_extra sorted[MAX_EXTRAS];
	int n = 0;
	for (; extras[n].key != NULL; n++) {
		if (n == MAX_EXTRAS)
			bench_fail("bench_report: more than %d extras", MAX_EXTRAS);
		struct bench_extra e = extras[n];
		int j = n;
		for (; j > 0 && strcmp(sorted[j - 1].key, e.key) > 0; j--)
			sorted[j] = sorted[j - 1];
		sorted[j] = e;
	}

	int64_t rss_kb = bench_status_kb("VmHWM");
	fputs("{\"bench\":", stdout);
	bench_put_string(bench);
	printf(",\"impl\":\"gort\",\"procs\":%d,\"metric\":", gort_gomaxprocs(0));
	bench_put_string(metric);
	fputs(",\"value\":", stdout);
	bench_put_float(bench_round2(value));
	printf(",\"rss_kb\":%lld", (long long)rss_kb);
	if (n > 0) { /* `json:"extra,omitempty"` */
		fputs(",\"extra\":{", stdout);
		for (int i = 0; i < n; i++) {
			if (i > 0)
				putchar(',');
			bench_put_string(sorted[i].key);
			putchar(':');
			bench_put_float(bench_round2(sorted[i].value));
		}
		putchar('}');
	}
	fputs("}\n", stdout);
	fflush(stdout);
}

/*
 * report(bench, metric, value, {"key", v}, ...) prints the JSON line with the
 * given extras, in any order (they are sorted).  At least one extra, as in
 * every anchor; for none, call bench_report with (struct bench_extra[]){{0}}.
 */
#define report(bench, metric, value, ...) \
	bench_report((bench), (metric), (value), (const struct bench_extra[]){__VA_ARGS__, {NULL, 0}})

/*
 * bench_passes is the whole main of the twins whose Go program reads -n
 * (default dflt), runs pass(n/10) as a warm-up and then pass(n), and reports
 * the measured pass's time per item (chan_spsc, chan_mpmc, select4, mutex).
 * pass runs the workload on n items, checks its result and returns the
 * elapsed ns.
 */
static inline int bench_passes(int argc, char **argv, const char *bench, const char *metric,
                               long long dflt, const char *help, int64_t (*pass)(long long n))
{
	long long n = dflt;
	bench_parse_flags(argc, argv, (const struct bench_flag[]){
		{"n", &n, help},
		{NULL, NULL, NULL},
	});
	if (n < 1)
		bench_fail("%s: -n must be at least 1", bench);
	pass(n / 10);
	int64_t el = pass(n);
	report(bench, metric, (double)el / (double)n, {"n", (double)n}, {"wall_ms", (double)el / 1e6});
	return 0;
}

#endif /* GORT_BENCH_REPORT_H */
