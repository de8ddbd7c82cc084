/*
 * A typed select case whose value is a compound literal of another type.
 * expect: the pointer does not point to the element type of the channel
 */
#include <gort.h>

struct pt {
	int x, y;
};
struct size {
	int w, h;
};
typedef GORT_CHAN(struct pt) pt_chan;

int f(pt_chan c)
{
#ifdef GORT_COMPILE_OK
	return GORT_SELECT(GORT_CASE_SEND_T(c, &(struct pt){1, 2}));
#else
	return GORT_SELECT(GORT_CASE_SEND_T(c, &(struct size){1, 2}));
#endif
}
