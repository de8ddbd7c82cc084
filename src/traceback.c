/*
 * traceback.c - goroutine stack traces (Go's traceback.go and symtab.go).
 *
 * Interface only, for now: the implementation (unwinding, symbolization
 * with file:line, GOTRACEBACK) is being written.  Until then a traceback
 * prints no frames.
 */
#include "runtime2.h"

void gort__traceback_init(void)
{
}

void gort__traceback(G *gp)
{
	(void)gp;
}

void gort__traceback_ctx(G *gp, const void *ucontext)
{
	(void)gp;
	(void)ucontext;
}
