/*
 * gort_go_int with a body that takes a pointer, not an integer.
 * expect: incompatible[- ]pointer[- ]types|incompatible function pointer types
 */
#include <gort.h>

#ifdef GORT_COMPILE_OK
static void worker(intptr_t id)
{
	(void)id;
}
#else
static void worker(void *id)
{
	(void)id;
}
#endif

void f(void)
{
	gort_go_int(worker, 3);
}
