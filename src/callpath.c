/*
 * callpath.c - a goroutine's call path, taken from its own stack, and the
 * check that lets a per-P cache skip the unwind next time: the tracer's
 * stacks (trace_event.c) and the block and mutex profiles' (mprof.c).
 *
 * libgcc's unwinder costs some 150 ns a frame.  A path is kept as its
 * return addresses and where each sits on the stack, as offsets from the
 * innermost slot; while the same words still hold the same addresses at
 * the same offsets, the goroutine is in the same call path - a return
 * since breaks the chain, and a different caller writes other words - so
 * reading those few words answers instead of the unwinder.
 */
#include <unwind.h>

#include "runtime2.h"

typedef struct unwindbuf {
	uintptr_t pcs[CALLPATH_MAX + 2];
	uintptr_t cfa[CALLPATH_MAX + 2];
	int n, max;
} unwindbuf;

/* collect: frame 0 is callpath_unwind's own.  _Unwind_GetCFA in frame i
 * gives the CFA of the frame it called (i-1): frame i's stack pointer,
 * just above which that call pushed frame i's pc. */
static _Unwind_Reason_Code collect(struct _Unwind_Context *ctx, void *arg)
{
	unwindbuf *u = arg;
	uintptr_t pc = _Unwind_GetIP(ctx);
	if (pc == 0 || u->n == u->max)
		return _URC_END_OF_STACK;
	u->pcs[u->n] = pc;
	u->cfa[u->n] = _Unwind_GetCFA(ctx);
	u->n++;
	return _URC_NO_REASON;
}

int gort__callpath_unwind(uintptr_t slot0, uintptr_t *pcs, uint32_t *offs, int max, bool *whole)
{
	gort__assert(max > 0 && max <= CALLPATH_MAX, "callpath: max out of range");
	unwindbuf u = {.n = 0, .max = max + 2};
	_Unwind_Backtrace(collect, &u);
	/* u.pcs[0] is in this function, u.pcs[1] in its caller: the path
	 * starts at u.pcs[2], held just below the caller's CFA (u.cfa[2]) */
	int n = 0;
	for (int i = 2; i < u.n; i++, n++) {
		pcs[n] = u.pcs[i];
		offs[n] = (uint32_t)(u.cfa[i] - 8 - slot0);
	}
	*whole = n > 0 && u.cfa[2] - 8 == slot0 && u.n < u.max;
	return n;
}

/* Reads only the goroutine's own stack, above its innermost frame: words
 * ASan may hold poisoned (a returned frame's), never another object's. */
__attribute__((no_sanitize_address)) bool gort__callpath_holds(const uintptr_t *pcs, const uint32_t *offs,
                                                               int n, uintptr_t slot0, uintptr_t hi)
{
	for (int i = 0; i < n; i++) {
		uintptr_t at = slot0 + offs[i];
		if (at + sizeof(uintptr_t) > hi || *(const uintptr_t *)at != pcs[i])
			return false;
	}
	return true;
}
