/*
 * version - gort_version() and gort_version_number() give the version
 * gort.h states (the test is built with the library's own header, so they
 * must match), GORT_VERSION_STRING is MAJOR.MINOR.PATCH of its macros, and
 * GORT_VERSION_NUMBER packs them so that a later version is a larger
 * number.  gort.h promises the calls work before gort_main too.  Built
 * twice: with libgort.a (version) and with libgort.so (version_shared,
 * which also proves the program finds the library by its soname).
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"

_Static_assert(GORT_VERSION_MINOR < 256 && GORT_VERSION_PATCH < 256,
               "GORT_VERSION_NUMBER has 8 bits for MINOR and for PATCH");

static void check_version(const char *when)
{
	char want[64];
	snprintf(want, sizeof want, "%d.%d.%d", GORT_VERSION_MAJOR, GORT_VERSION_MINOR,
	         GORT_VERSION_PATCH);
	CHECK(strcmp(GORT_VERSION_STRING, want) == 0, "GORT_VERSION_STRING is %s, its numbers say %s",
	      GORT_VERSION_STRING, want);
	CHECK(strcmp(gort_version(), GORT_VERSION_STRING) == 0, "%s: gort_version() is %s, gort.h's %s",
	      when, gort_version(), GORT_VERSION_STRING);
	CHECK(GORT_VERSION_NUMBER ==
	          GORT_VERSION_MAJOR * 65536 + GORT_VERSION_MINOR * 256 + GORT_VERSION_PATCH,
	      "GORT_VERSION_NUMBER is %#x", GORT_VERSION_NUMBER);
	CHECK(gort_version_number() == GORT_VERSION_NUMBER,
	      "%s: gort_version_number() is %#x, gort.h's %#x", when, gort_version_number(),
	      GORT_VERSION_NUMBER);
}

static int test_main(int argc, char **argv)
{
	check_version("in the main goroutine");
	return test_pass("version");
}

int main(int argc, char **argv)
{
	check_version("before gort_main");
	gort_main(test_main, argc, argv);
}
