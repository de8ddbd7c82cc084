/*
 * A typed handle where the untyped API wants a gort_chan *.
 * expect: incompatible type for argument 1|passing .* to parameter of incompatible type
 */
#include <gort.h>

typedef GORT_CHAN(int) int_chan;

void f(int_chan c, int v)
{
#ifdef GORT_COMPILE_OK
	gort_chan_send(gort_chan_of(c), &v);
#else
	gort_chan_send(c, &v);
#endif
}
