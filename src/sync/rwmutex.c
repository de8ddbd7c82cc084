/*
 * rwmutex.c - sync.RWMutex (Go's sync/rwmutex.go).
 *
 * reader_count counts readers holding or waiting for the lock.  A writer
 * first takes w (against other writers), then subtracts MAX_READERS from
 * reader_count: the count goes negative, and arriving readers see that and
 * wait on reader_sem.  The writer waits on writer_sem for the readers that
 * were already inside (reader_wait counts them out).  Unlock adds
 * MAX_READERS back and wakes every reader that queued meanwhile.
 */
#include "../runtime2.h"

#define MAX_READERS (1 << 30)

void gort_rwmutex_rlock(gort_rwmutex *rw)
{
	if (__atomic_add_fetch(&rw->reader_count, 1, __ATOMIC_ACQ_REL) < 0)
		gort__semacquire(&rw->reader_sem, false, waitReasonSyncRWMutexRLock); /* a writer is pending */
}

bool gort_rwmutex_tryrlock(gort_rwmutex *rw)
{
	int32_t c = __atomic_load_n(&rw->reader_count, __ATOMIC_RELAXED);
	while (c >= 0)
		if (__atomic_compare_exchange_n(&rw->reader_count, &c, c + 1, false, __ATOMIC_ACQ_REL,
		                                __ATOMIC_RELAXED))
			return true;
	return false;
}

void gort_rwmutex_runlock(gort_rwmutex *rw)
{
	int32_t r = __atomic_sub_fetch(&rw->reader_count, 1, __ATOMIC_ACQ_REL);
	if (r >= 0)
		return;
	/* A writer is pending (or this is a misuse). */
	if (r + 1 == 0 || r + 1 == -MAX_READERS)
		gort__fatal("sync: RUnlock of unlocked RWMutex");
	if (__atomic_sub_fetch(&rw->reader_wait, 1, __ATOMIC_ACQ_REL) == 0)
		gort__semrelease(&rw->writer_sem, false); /* the last reader out lets the writer in */
}

void gort_rwmutex_lock(gort_rwmutex *rw)
{
	gort_mutex_lock(&rw->w);
	int32_t r = __atomic_sub_fetch(&rw->reader_count, MAX_READERS, __ATOMIC_ACQ_REL) + MAX_READERS;
	if (r != 0 && __atomic_add_fetch(&rw->reader_wait, r, __ATOMIC_ACQ_REL) != 0)
		gort__semacquire(&rw->writer_sem, false, waitReasonSyncRWMutexLock);
}

bool gort_rwmutex_trylock(gort_rwmutex *rw)
{
	if (!gort_mutex_trylock(&rw->w))
		return false;
	int32_t zero = 0;
	if (!__atomic_compare_exchange_n(&rw->reader_count, &zero, -MAX_READERS, false,
	                                 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
		gort_mutex_unlock(&rw->w);
		return false;
	}
	return true;
}

void gort_rwmutex_unlock(gort_rwmutex *rw)
{
	int32_t r = __atomic_add_fetch(&rw->reader_count, MAX_READERS, __ATOMIC_ACQ_REL);
	if (r >= MAX_READERS)
		gort__fatal("sync: Unlock of unlocked RWMutex");
	for (int32_t i = 0; i < r; i++)
		gort__semrelease(&rw->reader_sem, false); /* the readers that queued behind us */
	gort_mutex_unlock(&rw->w);
}
