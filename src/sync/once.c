/*
 * once.c - sync.Once (Go's sync/once.go).
 *
 * done is set only after fn has returned, so a caller that sees it set
 * also sees everything fn did; callers that arrive while fn runs wait on
 * the mutex.  (Setting done with a CAS before running fn would let a
 * second caller return before fn had finished.)
 */
#include "../runtime2.h"

void gort_once_do(gort_once *o, void (*fn)(void *arg), void *arg)
{
	if (__atomic_load_n(&o->done, __ATOMIC_ACQUIRE))
		return;
	gort_mutex_lock(&o->m);
	if (!o->done) {
		fn(arg);
		__atomic_store_n(&o->done, 1, __ATOMIC_RELEASE);
	}
	gort_mutex_unlock(&o->m);
}
