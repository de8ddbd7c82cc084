/*
 * waitgroup.c - sync.WaitGroup (Go's sync/waitgroup.go).
 *
 * state holds the counter in its high 32 bits and the number of waiters in
 * the low 32, so that Add and Wait see both in one atomic word.  When Add
 * brings the counter to zero with waiters present, it resets the state and
 * releases the semaphore once per waiter.
 */
#include "../runtime2.h"

void gort_waitgroup_add(gort_waitgroup *wg, int delta)
{
	uint64_t state = __atomic_add_fetch(&wg->state, (uint64_t)(int64_t)delta << 32, __ATOMIC_ACQ_REL);
	int32_t v = (int32_t)(state >> 32);
	uint32_t w = (uint32_t)state;
	if (v < 0)
		gort_panic("sync: negative WaitGroup counter");
	if (w != 0 && delta > 0 && v == delta)
		gort_panic("sync: WaitGroup misuse: Add called concurrently with Wait");
	if (v > 0 || w == 0)
		return;
	/* The counter is 0 with waiters: nobody may touch the state now but us. */
	if (__atomic_load_n(&wg->state, __ATOMIC_ACQUIRE) != state)
		gort_panic("sync: WaitGroup misuse: Add called concurrently with Wait");
	__atomic_store_n(&wg->state, 0, __ATOMIC_RELEASE);
	for (; w != 0; w--)
		gort__semrelease(&wg->sema, false);
}

void gort_waitgroup_done(gort_waitgroup *wg)
{
	gort_waitgroup_add(wg, -1);
}

void gort_waitgroup_wait(gort_waitgroup *wg)
{
	uint64_t state = __atomic_load_n(&wg->state, __ATOMIC_ACQUIRE);
	for (;;) {
		if ((state >> 32) == 0)
			return;
		if (__atomic_compare_exchange_n(&wg->state, &state, state + 1, false, __ATOMIC_ACQ_REL,
		                                __ATOMIC_ACQUIRE)) {
			gort__semacquire(&wg->sema, false, waitReasonSyncWaitGroupWait);
			if (__atomic_load_n(&wg->state, __ATOMIC_ACQUIRE) != 0)
				gort_panic("sync: WaitGroup is reused before previous Wait has returned");
			return;
		}
	}
}
