/*
 * gort_go_with with a 68-byte argument block: more than GORT_GO_ARGS_MAX.
 * expect: gort_go_with: the argument type is larger than GORT_GO_ARGS_MAX
 */
#include <gort.h>

struct args {
#ifdef GORT_COMPILE_OK
	char name[56];
#else
	char name[60];
#endif
	double *out;
};

static void work(void *p)
{
	(void)p;
}

void f(double *out)
{
	gort_go_with(work, struct args, .name = "job", .out = out);
}
