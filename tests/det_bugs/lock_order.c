/*
 * lock_order.c - a lock-order inversion.
 *
 * transfer(a, b) locks a then b; the other direction locks b then a.  When
 * each goroutine holds its first lock and waits for its second, neither
 * can go on: Go's "all goroutines are asleep - deadlock!" (exit 2).  Fix:
 * always lock the two accounts in one global order (e.g. by address).
 */
#include "bug.h"

typedef struct account {
	gort_mutex mu;
	int balance;
} account;

static account x = {GORT_MUTEX_INIT, 100}, y = {GORT_MUTEX_INIT, 100};
static gort_waitgroup wg = GORT_WAITGROUP_INIT;

static void transfer(account *from, account *to, int amount)
{
	gort_mutex_lock(&from->mu);
	gort_mutex_lock(&to->mu); /* BUG: the other direction takes these in the other order */
	from->balance -= amount;
	to->balance += amount;
	gort_mutex_unlock(&to->mu);
	gort_mutex_unlock(&from->mu);
}

static void x_to_y(void *arg)
{
	transfer(&x, &y, 10);
	gort_waitgroup_done(&wg);
}

static void y_to_x(void *arg)
{
	transfer(&y, &x, 20);
	gort_waitgroup_done(&wg);
}

static void body(void)
{
	gort_waitgroup_add(&wg, 2);
	gort_go(x_to_y, NULL);
	gort_go(y_to_x, NULL);
	gort_waitgroup_wait(&wg);
	if (x.balance + y.balance != 200)
		found("money created or lost");
}

BUG_MAIN(body)
