/*
 * gort_fuzz_main.c - main() for the runtime fuzz targets: those that need
 * gort running (`// fuzz-runtime: gort` at the top; see fuzz/run.sh).
 *
 * gort_main takes over the calling thread and never returns, so libFuzzer's
 * own main() cannot call a target that uses gort.  Instead:
 *
 *   main() -> gort_main -> goroutine 1 spawns the fuzzing goroutine, with a
 *   64 MiB stack (libFuzzer and ASan's reports need a deep one; it is only
 *   committed as touched) and waits for its result.  The fuzzing goroutine
 *   locks itself to its thread (libFuzzer keeps thread-local state and
 *   expects its callbacks on one thread) and runs
 *
 *     - built with -DGORT_FUZZ_LIBFUZZER (make fuzz, clang): libFuzzer as a
 *       library, LLVMFuzzerRunDriver(&argc, &argv, one_input), which takes
 *       libFuzzer's usual flags and corpus directories;
 *     - otherwise (the CTest replay tests, any compiler): every file named
 *       on the command line, or in a directory named there (sorted), once.
 *
 * one_input wraps LLVMFuzzerTestOneInput: it restores GOMAXPROCS afterwards
 * (targets may change it), and a watchdog thread - a plain pthread, so that
 * it works when the scheduler does not - aborts an input that has run
 * FUZZ_HANG_SECONDS (default 10) with a message naming it; libFuzzer's
 * SIGABRT handler then saves it as a crash-* artifact.  FUZZ_HANG_DUMP=1
 * sends SIGQUIT instead: gort prints every goroutine and exits 2.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gort.h>

#include "gort_fuzz.h"

#ifdef GORT_FUZZ_LIBFUZZER
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*cb)(const uint8_t *data, size_t size));
#endif

#define FUZZ_STACK_SIZE ((size_t)64 << 20)

/* The input running now, for the watchdog and fuzz_fail. */
static struct {
	_Atomic int64_t start_ns; /* CLOCK_MONOTONIC; 0: none running */
	const char *_Atomic name; /* the file, when replaying; else NULL */
	const uint8_t *_Atomic data;
	_Atomic size_t size;
} cur;

static int hang_seconds = 10;

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Names the current input on stderr: its file, or its bytes (the first 256). */
static void describe_input(void)
{
	const char *name = atomic_load(&cur.name);
	const uint8_t *data = atomic_load(&cur.data);
	size_t size = atomic_load(&cur.size);
	if (name != NULL)
		fprintf(stderr, "input: %s (%zu bytes)\n", name, size);
	else
		fprintf(stderr, "input: %zu bytes (libFuzzer saves it as a crash-* artifact)\n", size);
	if (data != NULL) {
		fprintf(stderr, "bytes:");
		for (size_t i = 0; i < size && i < 256; i++)
			fprintf(stderr, " %02x", data[i]);
		fprintf(stderr, size > 256 ? " ...\n" : "\n");
	}
}

void fuzz_fail(const char *target, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", target);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	describe_input();
	abort();
}

static void *watchdog(void *arg)
{
	(void)arg;
	for (;;) {
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
		int64_t start = atomic_load(&cur.start_ns);
		if (start == 0 || mono_ns() - start < (int64_t)hang_seconds * 1000000000)
			continue;
		fprintf(stderr, "fuzz watchdog: hang: the input has run %d s (FUZZ_HANG_SECONDS)\n",
		        hang_seconds);
		describe_input();
		const char *dump = getenv("FUZZ_HANG_DUMP");
		if (dump != NULL && strcmp(dump, "1") == 0)
			kill(getpid(), SIGQUIT); /* gort's dump of every goroutine, exit 2 */
		else
			abort();
		for (;;)
			pause();
	}
	return NULL;
}

static int one_input(const uint8_t *data, size_t size)
{
	int procs = gort_gomaxprocs(0);
	atomic_store(&cur.data, data);
	atomic_store(&cur.size, size);
	atomic_store(&cur.start_ns, mono_ns());
	LLVMFuzzerTestOneInput(data, size);
	atomic_store(&cur.start_ns, 0);
	atomic_store(&cur.data, NULL);
	if (gort_gomaxprocs(0) != procs)
		gort_gomaxprocs(procs);
	return 0;
}

#ifndef GORT_FUZZ_LIBFUZZER
static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap);
	size_t got;
	while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
	}
	fclose(f);
	/* An exact-size copy, so that ASan sees a read past the end. */
	uint8_t *data = malloc(n ? n : 1);
	memcpy(data, buf, n);
	free(buf);
	atomic_store(&cur.name, path);
	one_input(data, n);
	atomic_store(&cur.name, NULL);
	free(data);
	return 0;
}

/* Replays every file named, or in a directory named; returns the count or -1. */
static int replay(int argc, char **argv)
{
	int count = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			return -1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (replay_file(argv[i]) != 0)
				return -1;
			count++;
			continue;
		}
		DIR *d = opendir(argv[i]);
		if (d == NULL) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			return -1;
		}
		char **names = NULL;
		size_t n = 0;
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			names = realloc(names, (n + 1) * sizeof *names);
			if (asprintf(&names[n], "%s/%s", argv[i], e->d_name) < 0)
				abort();
			n++;
		}
		closedir(d);
		qsort(names, n, sizeof *names, cmpstr);
		for (size_t j = 0; j < n; j++) {
			if (stat(names[j], &st) == 0 && S_ISREG(st.st_mode)) {
				if (replay_file(names[j]) != 0)
					return -1;
				count++;
			}
			free(names[j]);
		}
		free(names);
	}
	return count;
}
#endif

struct run {
	int argc;
	char **argv;
	gort_chan *done; /* int: the exit status */
};

static void fuzzer(void *p)
{
	struct run *r = *(struct run **)p;
	gort_lock_os_thread();
	int status;
#ifdef GORT_FUZZ_LIBFUZZER
	status = LLVMFuzzerRunDriver(&r->argc, &r->argv, one_input);
#else
	if (r->argc < 2) {
		fprintf(stderr, "usage: %s corpus-dir-or-file...\n", r->argv[0]);
		status = 2;
	} else {
		int n = replay(r->argc, r->argv);
		if (n < 0) {
			status = 1;
		} else if (n == 0) {
			fprintf(stderr, "%s: no inputs to replay\n", r->argv[0]);
			status = 1;
		} else {
			printf("PASS replayed %d inputs\n", n);
			status = 0;
		}
	}
#endif
	gort_chan_send(r->done, &status);
}

/* A goroutine that always has a timer pending: with it, a target whose
 * goroutines all block is not gort's "all goroutines are asleep" fatal
 * error (exit 2, which libFuzzer would not save) but a hang the watchdog
 * reports, and libFuzzer saves. */
static void keepalive(void *arg)
{
	(void)arg;
	for (;;)
		gort_sleep(GORT_SECOND);
}

static int fuzz_main(int argc, char **argv)
{
	const char *h = getenv("FUZZ_HANG_SECONDS");
	if (h != NULL && atoi(h) > 0)
		hang_seconds = atoi(h);
	pthread_t t;
	if (pthread_create(&t, NULL, watchdog, NULL) != 0) {
		fprintf(stderr, "fuzz: cannot start the watchdog thread\n");
		return 2;
	}
	pthread_detach(t);
	gort_go(keepalive, NULL);

	/* Static: LeakSanitizer does not scan goroutine stacks, and this one's
	 * channel would look leaked while goroutine 1 waits on it. */
	static struct run r;
	r = (struct run){argc, argv, gort_chan_make(sizeof(int), 1)};
	struct run *rp = &r;
	gort_goattr attr = {.stack_size = FUZZ_STACK_SIZE};
	gort_go_attr(&attr, fuzzer, &rp, sizeof rp);
	int status;
	gort_chan_recv(r.done, &status);
	fflush(stdout);
	return status;
}

int main(int argc, char **argv)
{
	gort_main(fuzz_main, argc, argv);
}
