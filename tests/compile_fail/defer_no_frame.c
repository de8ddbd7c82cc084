/*
 * gort_defer in a function that declared no frame.
 * expect: gort__frame_.*undeclared|undeclared identifier 'gort__frame_'
 */
#include <gort.h>

void f(gort_chan *c)
{
#ifdef GORT_COMPILE_OK
	GORT_FRAME_VOID;
#endif
	gort_defer_close(c);
}
