/*
 * gort_defer_free of something gort does not free that way (a context:
 * its deferred call is gort_defer_close, Go's defer cancel()).  The forms
 * it takes - bufio's reader and writer, an errgroup - compile.
 * expect: _Generic|controlling expression type
 */
#include <gort.h>

void f(gort_context *ctx)
{
	GORT_FRAME_VOID;
	gort_errgroup *g = gort_errgroup_new();
	gort_defer_free(g);
	gort_defer_free(gort_bufio_reader_new_fd(0, 0));
	gort_defer_free(gort_bufio_writer_new_fd(1, 0));
#ifdef GORT_COMPILE_OK
	gort_defer_close(ctx);
#else
	gort_defer_free(ctx);
#endif
}
