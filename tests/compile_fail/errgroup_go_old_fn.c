/*
 * gort_errgroup_go_int with a body of the plain form (no gort_error *
 * for its message): the error would have nowhere to go.
 * expect: incompatible[- ]pointer[- ]types|incompatible function pointer types
 */
#include <gort.h>

#ifdef GORT_COMPILE_OK
static int job(intptr_t id, gort_error *err)
{
	return id < 0 ? gort_error_new(err, "bad id %ld", (long)id) : 0;
}
#else
static int job(intptr_t id)
{
	return (int)id;
}
#endif

void f(gort_errgroup *g)
{
	gort_errgroup_go_int(g, job, 3);
}
