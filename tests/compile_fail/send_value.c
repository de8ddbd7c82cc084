/*
 * gort_chan_send_t(c, r) where &r was meant: r is not a pointer.
 * expect: invalid type argument of unary|indirection requires pointer operand
 */
#include <gort.h>

struct pt {
	int x, y;
};
typedef GORT_CHAN(struct pt) pt_chan;

void f(pt_chan c, struct pt r)
{
#ifdef GORT_COMPILE_OK
	gort_chan_send_t(c, &r);
#else
	gort_chan_send_t(c, r);
#endif
}
