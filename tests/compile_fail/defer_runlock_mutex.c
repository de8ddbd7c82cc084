/*
 * gort_defer_runlock of a plain mutex: only a gort_rwmutex has RUnlock.
 * expect: _Generic|controlling expression type
 */
#include <gort.h>

static gort_mutex mu;
static gort_rwmutex rw;

void f(void)
{
	GORT_FRAME_NORECOVER;
#ifdef GORT_COMPILE_OK
	gort_rwmutex_rlock(&rw);
	gort_defer_runlock(&rw);
	(void)mu;
#else
	gort_mutex_lock(&mu);
	gort_defer_runlock(&mu);
	(void)rw;
#endif
}
