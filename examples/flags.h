/*
 * flags.h - the few lines of Go's flag package the examples use (crawler,
 * broker, pipeline): -name value or -name=value, for integers, durations
 * ("500ms", "2s", "1m", Go's units ns to h), strings and booleans (a bare
 * -name sets one).  Not gort: C's counterpart of a standard library
 * package, so bench/examples.sh counts it apart from the programs.
 *
 *     int64_t n = 1000, timeout = 2 * GORT_SECOND;
 *     ex_flag flags[] = {
 *         {"n", EX_INT, &n, "records to process"},
 *         {"timeout", EX_DURATION, &timeout, "per-request timeout"},
 *     };
 *     if (!ex_flags_parse(flags, EX_NFLAGS(flags), argc, argv))
 *         return 2;
 */
#ifndef EXAMPLES_FLAGS_H
#define EXAMPLES_FLAGS_H

#include <gort.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ex_flag_kind { EX_INT, EX_DURATION, EX_STRING, EX_BOOL };

typedef struct ex_flag {
	const char *name;
	enum ex_flag_kind kind;
	void *value; /* int64_t *, int64_t * (ns), const char **, bool * */
	const char *usage;
} ex_flag;

#define EX_NFLAGS(f) ((int)(sizeof(f) / sizeof((f)[0])))

/* ex_duration parses Go's time.ParseDuration forms with one unit ("1.5s"
 * is "1500ms" here): a whole number then ns, us, ms, s, m or h. */
static inline bool ex_duration(const char *s, int64_t *ns)
{
	static const struct { const char *unit; int64_t ns; } units[] = {
		{"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000},
		{"m", 60 * (int64_t)1000000000}, {"h", 3600 * (int64_t)1000000000},
	};
	char *end;
	long long v = strtoll(s, &end, 10);
	if (end == s || v < 0)
		return false;
	if (*end == '\0' && v == 0) { /* "0" needs no unit, as in Go */
		*ns = 0;
		return true;
	}
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strcmp(end, units[i].unit) == 0) {
			*ns = v * units[i].ns;
			return true;
		}
	return false;
}

static inline void ex_flags_usage(const ex_flag *f, int n, const char *prog)
{
	fprintf(stderr, "Usage of %s:\n", prog);
	for (int i = 0; i < n; i++)
		fprintf(stderr, "  -%s %s\n    \t%s\n", f[i].name,
		        (const char *[]){"int", "duration", "string", ""}[f[i].kind], f[i].usage);
}

/* ex_flags_parse: flag.Parse.  false (after a message and the usage on
 * stderr) for an unknown flag, a missing or bad value, or an argument
 * that is not a flag. */
static inline bool ex_flags_parse(ex_flag *f, int n, int argc, char **argv)
{
	for (int a = 1; a < argc; a++) {
		const char *arg = argv[a] + (argv[a][0] == '-') + (argv[a][0] == '-' && argv[a][1] == '-');
		size_t len = strcspn(arg, "=");
		ex_flag *fl = NULL;
		for (int i = 0; i < n && argv[a][0] == '-'; i++)
			if (strlen(f[i].name) == len && strncmp(f[i].name, arg, len) == 0)
				fl = &f[i];
		if (fl == NULL) {
			fprintf(stderr, "flag provided but not defined: %s\n", argv[a]);
			ex_flags_usage(f, n, argv[0]);
			return false;
		}
		const char *val = arg[len] == '=' ? arg + len + 1 : NULL;
		if (fl->kind == EX_BOOL) {
			*(bool *)fl->value = val == NULL || strcmp(val, "true") == 0 || strcmp(val, "1") == 0;
			continue;
		}
		if (val == NULL && a + 1 < argc)
			val = argv[++a];
		char *end = NULL;
		bool ok = val != NULL;
		if (ok && fl->kind == EX_INT) {
			*(int64_t *)fl->value = strtoll(val, &end, 0);
			ok = *val != '\0' && *end == '\0';
		} else if (ok && fl->kind == EX_DURATION) {
			ok = ex_duration(val, fl->value);
		} else if (ok) {
			*(const char **)fl->value = val;
		}
		if (!ok) {
			fprintf(stderr, "invalid value \"%s\" for flag -%s\n", val ? val : "", fl->name);
			ex_flags_usage(f, n, argv[0]);
			return false;
		}
	}
	return true;
}

#endif /* EXAMPLES_FLAGS_H */
