/*
 * die_ctx - context programs that must die, exit status 2.
 *
 * Use of a released context ("fatal error: gort: use of a released
 * context"): the memory is still a context's (context.c never gives it
 * back to malloc), so the use is caught, never a fault:
 *   err_released      Err of a context after its last release
 *   release_twice     a second release
 *   cancel_released   gort_context_end, then cancel
 *   derive_released   WithCancel of a released parent
 *   value_released    Value of a released WithValue
 *   done_released_child  a child released, its Done asked from a goroutine
 *                     that took no reference of its own
 *
 * Go's panics:
 *   nil_parent        WithCancel(NULL): "cannot create context from nil parent"
 *   nil_key           WithValue with a NULL key: "nil key"
 */
#include <string.h>

#include "../harness.h"

static void ask_done(void *arg)
{
	gort_context_done(arg);
	fprintf(stderr, "die_ctx: no fatal error\n");
	exit(1);
}

static int test_main(int argc, char **argv)
{
	CHECK(argc == 2, "usage: die_ctx MODE");
	const char *mode = argv[1];
	gort_context *bg = gort_context_background();
	gort_context *c = gort_context_with_cancel(bg);
	static char key;

	if (strcmp(mode, "err_released") == 0) {
		gort_context_release(c);
		gort_context_err(c);
	} else if (strcmp(mode, "release_twice") == 0) {
		gort_context_release(c);
		gort_context_release(c);
	} else if (strcmp(mode, "cancel_released") == 0) {
		gort_context_end(c);
		gort_context_cancel(c);
	} else if (strcmp(mode, "derive_released") == 0) {
		gort_context_end(c);
		gort_context_with_cancel(c);
	} else if (strcmp(mode, "value_released") == 0) {
		gort_context *v = gort_context_with_value(c, &key, "v");
		gort_context_release(v);
		gort_context_value(v, &key);
	} else if (strcmp(mode, "done_released_child") == 0) {
		gort_context *child = gort_context_with_timeout(c, GORT_SECOND);
		gort_context_end(child);
		gort_go(ask_done, child);
		gort_sleep(GORT_SECOND);
	} else if (strcmp(mode, "nil_parent") == 0) {
		gort_context_with_cancel(NULL);
	} else if (strcmp(mode, "nil_key") == 0) {
		gort_context_with_value(bg, NULL, "v");
	} else {
		CHECK(false, "unknown mode %s", mode);
	}
	fprintf(stderr, "die_ctx: %s did not die\n", mode);
	return 1;
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
