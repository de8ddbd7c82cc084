/*
 * gort_defer_close of something gort cannot close (here a mutex: its
 * deferred call is gort_defer_unlock).
 * expect: _Generic|controlling expression type
 */
#include <gort.h>

static gort_mutex mu;

void f(void)
{
	GORT_FRAME_VOID;
	gort_mutex_lock(&mu);
#ifdef GORT_COMPILE_OK
	gort_defer_unlock(&mu);
#else
	gort_defer_close(&mu);
#endif
}
