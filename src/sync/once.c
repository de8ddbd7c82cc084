/*
 * once.c - sync.Once (Go's sync/once.go).
 *
 * done is set only after fn has returned, so a caller that sees it set
 * also sees everything fn did; callers that arrive while fn runs wait on
 * the mutex.  (Setting done with a CAS before running fn would let a
 * second caller return before fn had finished.)
 *
 * If fn panics, Do panics too, and the Once counts as done, as in Go: both
 * the store of done and the unlock are deferred calls, which the panic
 * runs on its way out, so later callers return at once instead of calling
 * fn again or blocking on a mutex nobody will unlock.
 */
#include "../runtime2.h"

static void once_unlock(void *o)
{
	gort_mutex_unlock(&((gort_once *)o)->m);
}

static void once_done(void *o)
{
	__atomic_store_n(&((gort_once *)o)->done, 1, __ATOMIC_RELEASE);
}

/* doslow: the first callers, and those that came while fn ran. */
static __attribute__((noinline)) void doslow(gort_once *o, void (*fn)(void *arg), void *arg)
{
	GORT_FRAME(return);
	gort_mutex_lock(&o->m);
	gort_defer(once_unlock, o);
	if (!o->done) {
		gort_defer(once_done, o);
		fn(arg);
	}
}

void gort_once_do(gort_once *o, void (*fn)(void *arg), void *arg)
{
	if (__atomic_load_n(&o->done, __ATOMIC_ACQUIRE))
		return;
	doslow(o, fn, arg);
}
