/*
 * runner - runs a program that is expected to die, and checks how it died.
 *
 *   runner [-s STATUS | -k SIGNAL] -e EXPECTED_STDERR [-o EXPECTED_STDOUT] -- PROGRAM [ARG...]
 *
 * Passes (exit 0, "PASS ...") when PROGRAM exits with STATUS (default 2), or
 * with -k is killed by signal number SIGNAL (GOTRACEBACK=crash), and
 * its stderr (and stdout, with -o) match the expected files line by line:
 *   - a plain line must equal the output line exactly;
 *   - a line "re:REGEX" must match the whole output line (POSIX extended
 *     regex; used only where the text holds addresses or numbers);
 *   - a line "..." matches any number of lines, none included (used where
 *     Go prints more - goroutine frames - and gort may one day too).
 * Otherwise prints both texts and what differs, and exits 1.  A program
 * still running after 50 s is killed, so a hang fails before CTest's
 * timeout and says so.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <regex.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { KILL_AFTER_SECONDS = 50, MAX_LINES = 4096 };

typedef struct lines {
	char *text; /* the whole file, '\n's replaced by NULs */
	char *line[MAX_LINES];
	int n;
} lines;

static void die(const char *what)
{
	fprintf(stderr, "runner: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* split_lines reads f from the start into ls, one entry per line. */
static void split_lines(FILE *f, lines *ls)
{
	size_t cap = 4096, len = 0;
	ls->text = malloc(cap);
	if (ls->text == NULL)
		die("malloc");
	rewind(f);
	size_t got;
	while ((got = fread(ls->text + len, 1, cap - len - 1, f)) > 0) {
		len += got;
		if (cap - len - 1 == 0) {
			cap *= 2;
			if ((ls->text = realloc(ls->text, cap)) == NULL)
				die("realloc");
		}
	}
	ls->text[len] = '\0';
	ls->n = 0;
	char *p = ls->text;
	while (*p != '\0' && ls->n < MAX_LINES) {
		ls->line[ls->n++] = p;
		char *nl = strchr(p, '\n');
		if (nl == NULL)
			break;
		*nl = '\0';
		p = nl + 1;
	}
}

static void read_expected(const char *path, lines *ls)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		die(path);
	split_lines(f, ls);
	fclose(f);
}

static bool line_matches(const char *want, const char *got)
{
	if (strncmp(want, "re:", 3) != 0)
		return strcmp(want, got) == 0;
	char *anchored = malloc(strlen(want) + 8);
	if (anchored == NULL)
		die("malloc");
	sprintf(anchored, "^(%s)$", want + 3);
	regex_t re;
	int err = regcomp(&re, anchored, REG_EXTENDED | REG_NOSUB);
	free(anchored);
	if (err != 0) {
		fprintf(stderr, "runner: bad regex in expected file: %s\n", want);
		exit(1);
	}
	bool ok = regexec(&re, got, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

/* matches: do expected lines [i..] match actual lines [j..]?  On failure
 * bad_i and bad_j hold the furthest point the match reached. */
static bool matches(const lines *want, int i, const lines *got, int j, int *bad_i, int *bad_j)
{
	for (; i < want->n; i++, j++) {
		if (strcmp(want->line[i], "...") == 0) {
			for (int k = j; k <= got->n; k++)
				if (matches(want, i + 1, got, k, bad_i, bad_j))
					return true;
			return false;
		}
		if (j >= got->n || !line_matches(want->line[i], got->line[j])) {
			if (j > *bad_j || (j == *bad_j && i > *bad_i)) {
				*bad_i = i;
				*bad_j = j;
			}
			return false;
		}
	}
	if (j == got->n)
		return true;
	if (j > *bad_j) {
		*bad_i = i;
		*bad_j = j;
	}
	return false;
}

static void print_lines(const char *title, const lines *ls)
{
	fprintf(stderr, "---- %s (%d lines) ----\n", title, ls->n);
	for (int i = 0; i < ls->n; i++)
		fprintf(stderr, "%3d| %s\n", i + 1, ls->line[i]);
}

static void report_mismatch(const char *what, const char *expected_path, const lines *want,
                            const lines *got, int bad_i, int bad_j)
{
	fprintf(stderr, "runner: %s does not match %s\n", what, expected_path);
	if (bad_i >= 0) {
		fprintf(stderr, "  first mismatch: expected line %d: %s\n", bad_i + 1,
		        bad_i < want->n ? want->line[bad_i] : "<end of expected text>");
		fprintf(stderr, "                  actual line %d:   %s\n", bad_j + 1,
		        bad_j < got->n ? got->line[bad_j] : "<end of output>");
	}
}

static bool check_output(const char *what, const char *expected_path, FILE *out)
{
	lines want, got;
	read_expected(expected_path, &want);
	split_lines(out, &got);
	int bad_i = -1, bad_j = -1;
	bool ok = matches(&want, 0, &got, 0, &bad_i, &bad_j);
	if (!ok) {
		report_mismatch(what, expected_path, &want, &got, bad_i, bad_j);
		print_lines("expected", &want);
		print_lines("actual", &got);
	}
	free(want.text);
	free(got.text);
	return ok;
}

static pid_t child;

static void on_alarm(int sig)
{
	(void)sig;
	kill(child, SIGKILL);
}

static void usage(void)
{
	fprintf(stderr, "usage: runner [-s STATUS | -k SIGNAL] -e EXPECTED_STDERR [-o EXPECTED_STDOUT] -- PROGRAM [ARG...]\n");
	exit(1);
}

int main(int argc, char **argv)
{
	int want_status = 2, want_signal = 0;
	const char *want_err = NULL, *want_out = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "s:k:e:o:")) != -1) {
		switch (opt) {
		case 's': want_status = atoi(optarg); break;
		case 'k': want_signal = atoi(optarg); break;
		case 'e': want_err = optarg; break;
		case 'o': want_out = optarg; break;
		default: usage();
		}
	}
	if (want_err == NULL || optind >= argc)
		usage();
	char **prog = argv + optind;

	FILE *out = tmpfile(), *err = tmpfile();
	if (out == NULL || err == NULL)
		die("tmpfile");
	fflush(NULL);
	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		dup2(fileno(out), 1);
		dup2(fileno(err), 2);
		execv(prog[0], prog);
		fprintf(stderr, "runner: cannot run %s: %s\n", prog[0], strerror(errno));
		_exit(127);
	}
	signal(SIGALRM, on_alarm);
	alarm(KILL_AFTER_SECONDS);
	int status;
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	alarm(0);

	bool ok = true;
	if (want_signal != 0) {
		if (!WIFSIGNALED(status) || WTERMSIG(status) != want_signal) {
			fprintf(stderr, "runner: %s was not killed by signal %d (%s)\n", prog[0], want_signal,
			        strsignal(want_signal));
			ok = false;
		}
	} else if (WIFSIGNALED(status)) {
		fprintf(stderr, "runner: %s was killed by signal %d (%s)%s; want exit status %d\n", prog[0],
		        WTERMSIG(status), strsignal(WTERMSIG(status)),
		        WTERMSIG(status) == SIGKILL ? ", perhaps after the 50 s limit" : "", want_status);
		ok = false;
	} else if (WEXITSTATUS(status) != want_status) {
		fprintf(stderr, "runner: %s exited with status %d; want %d\n", prog[0], WEXITSTATUS(status),
		        want_status);
		ok = false;
	}
	ok &= check_output("stderr", want_err, err);
	if (want_out != NULL)
		ok &= check_output("stdout", want_out, out);
	if (!ok) {
		if (want_out == NULL) {
			lines got;
			split_lines(out, &got);
			print_lines("stdout (not checked)", &got);
			free(got.text);
		}
		return 1;
	}
	printf("PASS %s", prog[0]);
	for (char **a = prog + 1; *a != NULL; a++)
		printf(" %s", *a);
	if (want_signal != 0)
		printf(" (killed by signal %d, output as expected)\n", want_signal);
	else
		printf(" (exit status %d, output as expected)\n", want_status);
	return 0;
}
