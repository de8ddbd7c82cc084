/*
 * context.h - what the rest of the runtime asks of contexts (context.c):
 * a hook run when a context is canceled, for the context-aware network
 * calls in net.c, which interrupt a blocked operation without a goroutine
 * or a deadline of their own.
 */
#ifndef GORT_CONTEXT_H
#define GORT_CONTEXT_H

#include "runtime2.h"

/*
 * A cancel hook, on the caller's stack: f(arg) runs once, inside the cancel
 * of the context it is hooked to (with that context's lock held: f must not
 * block nor touch contexts).
 */
typedef struct ctxhook {
	struct ctxhook *next, *prev;
	gort_context *owner; /* the cancel node hooked to, or NULL: set by hook only */
	bool linked;         /* on owner's list: cleared by the cancel that runs it (owner's mu) */
	void (*f)(void *arg);
	void *arg;
} ctxhook;

/* context_hook hooks h to ctx: 0, or ctx's error if it is done already (h
 * is then not hooked).  A context that can never be canceled takes no hook. */
int gort__context_hook(gort_context *ctx, ctxhook *h);
/* context_unhook: h will not run after this returns. */
void gort__context_unhook(ctxhook *h);

#endif
