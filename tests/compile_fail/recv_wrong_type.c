/*
 * A receive into a variable of another type (unsigned into int: same
 * size, still refused - the types must match, as in Go).
 * expect: the pointer does not point to the element type of the channel
 */
#include <gort.h>

typedef GORT_CHAN(int) int_chan;

bool f(int_chan c)
{
#ifdef GORT_COMPILE_OK
	int v;
#else
	unsigned v;
#endif
	return gort_chan_recv_t(c, &v);
}
