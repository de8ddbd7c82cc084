/*
 * cond.c - sync.Cond (Go's sync/cond.go), on the runtime's notify lists.
 *
 * Wait takes a ticket before unlocking L, so a Signal that comes between
 * the unlock and the park is not lost: it notifies that ticket, and the
 * waiter, finding its ticket already passed, does not park at all.
 */
#include <stddef.h>

#include "../runtime2.h"

/* The notify list is the gort_cond fields from wait to tail. */
_Static_assert(offsetof(gort_cond, notify) - offsetof(gort_cond, wait) == offsetof(notifyList, notify),
               "gort_cond and notifyList disagree");
_Static_assert(offsetof(gort_cond, tail) - offsetof(gort_cond, wait) == offsetof(notifyList, tail),
               "gort_cond and notifyList disagree");

static notifyList *list_of(gort_cond *c)
{
	return (notifyList *)(void *)&c->wait;
}

/* check panics if c was copied after first use (Go's copyChecker). */
static void check(gort_cond *c)
{
	uintptr_t self = (uintptr_t)c, zero = 0;
	uintptr_t seen = __atomic_load_n(&c->checker, __ATOMIC_RELAXED);
	if (seen == self)
		return;
	if (seen == 0 && __atomic_compare_exchange_n(&c->checker, &zero, self, false, __ATOMIC_RELAXED,
	                                             __ATOMIC_RELAXED))
		return;
	if (__atomic_load_n(&c->checker, __ATOMIC_RELAXED) != self)
		gort_panic("sync.Cond is copied");
}

void gort_cond_wait(gort_cond *c)
{
	check(c);
	if (c->L == NULL)
		gort__fatal("gort: gort_cond_wait on a gort_cond without a lock (use GORT_COND_INIT)");
	uint32_t t = gort__notifylist_add(list_of(c));
	gort_mutex_unlock(c->L);
	gort__notifylist_wait(list_of(c), t);
	gort_mutex_lock(c->L);
}

void gort_cond_signal(gort_cond *c)
{
	check(c);
	gort__notifylist_notifyone(list_of(c));
}

void gort_cond_broadcast(gort_cond *c)
{
	check(c);
	gort__notifylist_notifyall(list_of(c));
}
