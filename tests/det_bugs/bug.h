/*
 * bug.h - what the planted-bug programs of tests/det_bugs/ share.
 *
 * Each program holds one classic concurrency bug that a normal run rarely
 * or never shows, and that exploration (tools/gort-explore) finds among a
 * few hundred seeds of deterministic mode.  A run that hits the bug fails:
 * exit 1 with "BUG: ..." on stderr (found(), for a broken invariant the
 * program checks), Go's panic (exit 2), or Go's deadlock (exit 2).  A run
 * that does not exits 0 and prints nothing.
 */
#ifndef DET_BUG_H
#define DET_BUG_H

#include <stdio.h>
#include <stdlib.h>

#include <gort.h>

static inline void found(const char *what)
{
	fflush(stdout);
	fprintf(stderr, "BUG: %s\n", what);
	exit(1);
}

#define BUG_MAIN(body)                             \
	static int bug_main(int argc, char **argv) \
	{                                          \
		(void)argc, (void)argv;            \
		body();                            \
		return 0;                          \
	}                                          \
	int main(int argc, char **argv)            \
	{                                          \
		gort_main(bug_main, argc, argv);   \
	}

#endif
