/*
 * A pointer to another type than the channel's elements.
 * expect: the pointer does not point to the element type of the channel
 */
#include <gort.h>

typedef GORT_CHAN(int) int_chan;

void f(int_chan c, int i, long l)
{
#ifdef GORT_COMPILE_OK
	gort_chan_send_t(c, &i);
	(void)l;
#else
	gort_chan_send_t(c, &l);
	(void)i;
#endif
}
