/*
 * sema.c - the semaphores under the sync package (Go's sema.go).
 *
 * semacquire(addr) waits until *addr > 0, then decrements it; semrelease
 * (addr) increments it and wakes a waiter.  Any uint32 in the program can
 * be a semaphore, so waiters are not kept in the object: addresses hash
 * into SEMTABSZ roots, each with a lock and a treap - a binary search tree
 * by address that is also a heap by random priority, so it stays balanced
 * in expectation - whose nodes are the first waiter of each address, the
 * others queued behind it (FIFO, or LIFO for a waiter that has waited
 * before, which sync.Mutex uses to stop a woken waiter from starving).
 *
 * The fast paths touch only *addr and the root's waiter count: a release
 * with nobody waiting takes no lock.
 *
 * The same roots also lock the notify lists under sync.Cond: a list of
 * waiters, each holding a ticket, woken in ticket order.
 *
 * The treap's rules are checked where they are local and cheap (a list's
 * tail, the root's parent, the address of what is dequeued); a GORT_DEBUG
 * build also walks the whole treap after each change (check_treap).
 */
#include "det.h"
#include "runtime2.h"

enum { SEMTABSZ = 251 }; /* prime: addresses spread over every root */

typedef struct semaRoot {
	spinlock lock;           /* short sections that never block, as a channel's */
	sudog *treap;            /* the waiters, one node per address */
	_Atomic uint32_t nwait;  /* waiters, read without the lock */
} semaRoot;

static struct {
	_Alignas(64) semaRoot root; /* a cache line each: no false sharing */
} semtable[SEMTABSZ];

static semaRoot *semroot(void *addr)
{
	return &semtable[((uintptr_t)addr >> 3) % SEMTABSZ].root;
}

static bool cansemacquire(uint32_t *addr)
{
	uint32_t v = __atomic_load_n(addr, __ATOMIC_ACQUIRE);
	while (v != 0) {
		COUNT_RMW(addr);
		if (__atomic_compare_exchange_n(addr, &v, v - 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return true;
	}
	return false;
}

static bool semaunlock(G *gp, void *lock)
{
	gort__spinunlock(lock);
	return true;
}

/* ---- the treap ----------------------------------------------------------- */

/*
 * check_node (GORT_DEBUG, via check_treap) checks the subtree at t, whose
 * addresses must lie in (lo, hi), and returns how many sudogs wait in it:
 * search-tree order by address, heap order by priority, parent links, and
 * each address's list (same address, off the tree, ending at the head's
 * waittail).
 */
static uint32_t check_node(sudog *t, sudog *parent, uintptr_t lo, uintptr_t hi)
{
	if (t == NULL)
		return 0;
	uintptr_t a = (uintptr_t)t->addr;
	gort__assert(lo < a && a < hi, "sema: treap not ordered by address");
	gort__assert(t->parent == parent, "sema: treap parent link broken");
	gort__assert(parent == NULL || parent->priority <= t->priority, "sema: treap not a heap by priority");
	uint32_t n = 1;
	sudog *last = t;
	for (sudog *w = t->next; w != NULL; last = w, w = w->next, n++)
		gort__assert(w->addr == t->addr && w->parent == NULL && w->left == NULL && w->right == NULL,
		             "sema: a waiter in an address's list is on the tree or on another address");
	gort__assert(t->waittail == (last == t ? NULL : last), "sema: an address's list does not end at its waittail");
	return n + check_node(t->left, t, lo, a) + check_node(t->right, t, a, hi);
}

/* check_treap: the whole treap, whose waiters nwait counts (holds root->lock). */
static void check_treap(semaRoot *root)
{
	uint32_t n = check_node(root->treap, NULL, 0, UINTPTR_MAX);
	gort__assert(n == atomic_load(&root->nwait), "sema: nwait does not count the treap's waiters");
}

/* replace puts node n where node old is in the treap (old leaves it). */
static void replace(semaRoot *root, sudog *old, sudog *n)
{
	n->priority = old->priority;
	n->left = old->left;
	n->right = old->right;
	n->parent = old->parent;
	if (n->left != NULL)
		n->left->parent = n;
	if (n->right != NULL)
		n->right->parent = n;
	if (n->parent == NULL)
		root->treap = n;
	else if (n->parent->left == old)
		n->parent->left = n;
	else
		n->parent->right = n;
	old->parent = old->left = old->right = NULL;
}

/* set_child makes n take the place of child under parent p. */
static void set_child(semaRoot *root, sudog *p, sudog *child, sudog *n)
{
	n->parent = p;
	if (p == NULL)
		root->treap = n;
	else if (p->left == child)
		p->left = n;
	else
		p->right = n;
}

/*
 * rotate_up: c takes the place of its parent x, which becomes c's child on
 * the other side; c's inner subtree - the addresses between the two -
 * moves under x.  (Go's rotateLeft(x) is rotate_up(x->right), its
 * rotateRight(x) rotate_up(x->left).)
 */
static void rotate_up(semaRoot *root, sudog *c)
{
	sudog *x = c->parent, *p = x->parent, *inner;
	if (x->left == c) {
		inner = c->right;
		c->right = x;
		x->left = inner;
	} else {
		inner = c->left;
		c->left = x;
		x->right = inner;
	}
	x->parent = c;
	if (inner != NULL)
		inner->parent = x;
	set_child(root, p, x, c);
}

/*
 * queue adds s, waiting on addr, to root (holds root->lock).  If addr has
 * waiters, s joins its list: at the back, or with lifo at the front, taking
 * the node's place in the tree.  Otherwise s becomes a new leaf and rotates
 * up until its priority restores the heap order.
 */
static void queue(semaRoot *root, uint32_t *addr, sudog *s, bool lifo)
{
	assert_lock_held(&root->lock);
	gort__assert(root->treap == NULL || root->treap->parent == NULL, "sema: treap root has a parent");
	s->addr = addr;
	s->next = s->waittail = NULL;
	sudog *last = NULL, **pt = &root->treap;
	for (sudog *t = *pt; t != NULL; t = *pt) {
		if (t->addr == addr) {
			gort__assert(t->waittail == NULL || t->waittail->next == NULL,
			             "sema: an address's list does not end at its waittail");
			if (lifo) {
				replace(root, t, s);
				s->next = t;
				s->waittail = t->waittail != NULL ? t->waittail : t;
				t->waittail = NULL;
			} else {
				if (t->waittail == NULL)
					t->next = s;
				else
					t->waittail->next = s;
				t->waittail = s;
			}
			return;
		}
		last = t;
		pt = (uintptr_t)addr < (uintptr_t)t->addr ? &t->left : &t->right;
	}
	s->priority = gort__fastrand(gort__getm()) | 1;
	s->parent = last;
	s->left = s->right = NULL;
	*pt = s;
	while (s->parent != NULL && s->parent->priority > s->priority)
		rotate_up(root, s);
}

/*
 * dequeue takes the first waiter on addr, or NULL (holds root->lock).  If
 * more wait on addr, the next takes its place in the tree; otherwise the
 * node rotates down to a leaf and is cut off.
 */
static sudog *dequeue(semaRoot *root, uint32_t *addr)
{
	assert_lock_held(&root->lock);
	sudog *s = root->treap;
	while (s != NULL && s->addr != addr)
		s = (uintptr_t)addr < (uintptr_t)s->addr ? s->left : s->right;
	if (s == NULL)
		return NULL;

	sudog *t = s->next;
	if (t != NULL) {
		gort__assert(t->addr == addr, "sema: a waiter queued on another address's list");
		replace(root, s, t);
		t->waittail = s->waittail == t ? NULL : s->waittail;
	} else {
		while (s->left != NULL || s->right != NULL) {
			bool right = s->left == NULL ||
			             (s->right != NULL && s->right->priority < s->left->priority);
			rotate_up(root, right ? s->right : s->left);
		}
		if (s->parent == NULL)
			root->treap = NULL;
		else if (s->parent->left == s)
			s->parent->left = NULL;
		else
			s->parent->right = NULL;
	}
	s->next = s->waittail = NULL;
	s->parent = s->left = s->right = NULL;
	return s;
}

/* ---- acquire and release ------------------------------------------------- */

/* The waits the mutex profile counts: sync.Mutex and RWMutex (Go's
 * semacquireMutex callers); not WaitGroup's. */
static bool mutexprofiled(waitReason r)
{
	return r == waitReasonSyncMutexLock || r == waitReasonSyncRWMutexRLock ||
	       r == waitReasonSyncRWMutexLock;
}

/*
 * charge_waiters: s, dequeued, waited since its acquiretime; the waiters
 * still queued on addr are charged from now on, so that each stretch of
 * waiting is charged to one unlock (Go's semaRoot.dequeue).  Returns what
 * s waited.  Holds root->lock.
 */
static int64_t charge_waiters(semaRoot *root, uint32_t *addr, sudog *s)
{
	assert_lock_held(&root->lock);
	int64_t now = gort__nanotime();
	sudog *t = root->treap;
	while (t != NULL && t->addr != addr)
		t = (uintptr_t)addr < (uintptr_t)t->addr ? t->left : t->right;
	for (; t != NULL; t = t->next)
		if (t->acquiretime != 0)
			t->acquiretime = now;
	int64_t waited = now - s->acquiretime;
	s->acquiretime = now; /* if s must queue again, from now */
	return waited;
}

/*
 * semacquire blocks until it can decrement *addr.  Steps:
 *   1. the fast path: decrement if positive;
 *   2. count ourselves in nwait under the root lock, so that a release
 *      cannot miss us, and try once more;
 *   3. queue and park; woken with a ticket (the releaser handed us the
 *      unit directly) we are done, else we compete for it again.
 */
void gort__semacquire(uint32_t *addr, bool lifo, waitReason reason)
{
	if (gort__det()) /* a scheduling point (proc_det.c) */
		gort__det_point(gort__current_goroutine("semacquire"));
	if (cansemacquire(addr))
		return;
	G *gp = gort__current_goroutine("semacquire");
	semaRoot *root = semroot(addr);
	sudog s;
	/* the profiles (mprof.c): the block profile times the whole wait; the
	 * mutex profile has the unlock that ends it charge it (semrelease) */
	int64_t t0 = gort__blockprofiling() ? gort__nanotime() : 0;
	int64_t acquiretime = gort__mutexprofiling() && mutexprofiled(reason) ? gort__nanotime() : 0;
	for (;;) {
		gort__spinlock(&root->lock);
		atomic_fetch_add(&root->nwait, 1);
		if (cansemacquire(addr)) {
			atomic_fetch_sub(&root->nwait, 1);
			gort__spinunlock(&root->lock);
			return;
		}
		s = (sudog){.g = gp, .acquiretime = acquiretime};
		queue(root, addr, &s, lifo);
		if (GORT_DEBUG)
			check_treap(root);
		gp->waiting = &s; /* what it waits on, for the leak check (mgcleak.c) */
		gort__gopark(semaunlock, &root->lock, reason);
		gp->waiting = NULL;
		if (s.ticket != 0 || cansemacquire(addr))
			break;
		acquiretime = s.acquiretime; /* a release charged us up to then */
	}
	if (t0 != 0)
		gort__blockevent(gort__nanotime() - t0);
}

/*
 * semrelease increments *addr and wakes the first waiter, if any, handing
 * it the unit (its ticket) when it can take the unit back from *addr.  With
 * handoff (sync.Mutex in starvation mode) the waiter also runs at once, on
 * our P in our place.
 *
 * Go leaves the unit in *addr when it does not hand off, for whoever comes
 * first.  Under a contended sync.Mutex that is a goroutine already running:
 * one that counted itself a waiter a moment ago takes the unit on its way
 * into semacquire, and the waiter we readied - waiting in a run queue -
 * runs later only to find *addr empty and park again.  On two CPUs these
 * stale wakeups keep both run queues full, a full run queue turns
 * sync.Mutex's spinning off (gort__sync_canspin), and every failed Lock
 * goes round semacquire instead: the lock changed CPU every third
 * increment (bench/mutex at GOMAXPROCS=2, READING.md).  The goroutine that
 * finds *addr empty now queues behind the others as it would have had it
 * come a moment later; the one-unit-per-woken-waiter accounting the mutex
 * relies on (its woken bit) is unchanged.
 */
void gort__semrelease(uint32_t *addr, bool handoff)
{
	semaRoot *root = semroot(addr);
	COUNT_RMW(addr);
	__atomic_fetch_add(addr, 1, __ATOMIC_RELEASE);
	if (atomic_load(&root->nwait) == 0)
		return;
	gort__spinlock(&root->lock);
	if (atomic_load(&root->nwait) == 0) {
		gort__spinunlock(&root->lock);
		return;
	}
	sudog *s = dequeue(root, addr);
	if (s != NULL)
		atomic_fetch_sub(&root->nwait, 1);
	int64_t waited = s != NULL && s->acquiretime != 0 ? charge_waiters(root, addr, s) : -1;
	if (GORT_DEBUG)
		check_treap(root);
	gort__spinunlock(&root->lock);
	if (waited >= 0)
		gort__mutexevent(waited); /* on our stack: the unlocker's (Go 1.19) */
	if (s == NULL)
		return;
	gort__assert(s->ticket == 0, "corrupted semaphore ticket");
	gort__assert(s->addr == addr && s->g != NULL, "sema: dequeued a waiter on another address");
	/* Someone may have taken the unit since our increment: then s finds
	 * *addr empty when it runs and waits again, as in Go. */
	bool handed = cansemacquire(addr);
	if (handed)
		s->ticket = 1;
	gort__goready(s->g); /* s lives on the waiter's stack: not touched after this */
	if (handoff && handed)
		gort__goyield();
	else if (gort__det()) /* the woken G may run now: a scheduling point */
		gort__det_point(gort__getg());
}

/* ---- notify lists (sync.Cond) ------------------------------------------ */

static bool ticket_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

/* notifylist_locked: head and tail agree (holds the root's lock). */
static void notifylist_locked(notifyList *l)
{
	gort__assert((l->head == NULL) == (l->tail == NULL) && (l->tail == NULL || l->tail->next == NULL),
	             "sema: notify list head and tail disagree");
}

/* notifylist_add takes a ticket; the caller then unlocks its mutex and waits. */
uint32_t gort__notifylist_add(notifyList *l)
{
	COUNT_RMW(&l->wait);
	return __atomic_fetch_add(&l->wait, 1, __ATOMIC_ACQ_REL);
}

/* notifylist_wait parks until ticket t is notified (at once, if it was). */
void gort__notifylist_wait(notifyList *l, uint32_t t)
{
	semaRoot *root = semroot(&l->notify);
	gort__spinlock(&root->lock);
	notifylist_locked(l);
	if (ticket_before(t, l->notify)) {
		gort__spinunlock(&root->lock);
		return;
	}
	G *gp = gort__current_goroutine("sync.Cond.Wait");
	sudog s = {.g = gp, .ticket = t, .addr = l}; /* addr: only for the leak check */
	if (l->tail == NULL)
		l->head = &s;
	else
		l->tail->next = &s;
	l->tail = &s;
	gp->waiting = &s; /* what it waits on, for the leak check (mgcleak.c) */
	gort__gopark(semaunlock, &root->lock, waitReasonSyncCondWait);
	gp->waiting = NULL;
}

void gort__notifylist_notifyall(notifyList *l)
{
	if (__atomic_load_n(&l->wait, __ATOMIC_ACQUIRE) == __atomic_load_n(&l->notify, __ATOMIC_ACQUIRE))
		return;
	semaRoot *root = semroot(&l->notify);
	gort__spinlock(&root->lock);
	notifylist_locked(l);
	sudog *s = l->head;
	l->head = l->tail = NULL;
	__atomic_store_n(&l->notify, __atomic_load_n(&l->wait, __ATOMIC_ACQUIRE), __ATOMIC_RELEASE);
	gort__spinunlock(&root->lock);
	while (s != NULL) {
		sudog *next = s->next;
		gort__goready(s->g);
		s = next;
	}
}

/* notifylist_notifyone wakes the holder of the oldest unnotified ticket.
 * It may not be waiting yet: then it will see its ticket passed and not wait. */
void gort__notifylist_notifyone(notifyList *l)
{
	if (__atomic_load_n(&l->wait, __ATOMIC_ACQUIRE) == __atomic_load_n(&l->notify, __ATOMIC_ACQUIRE))
		return;
	semaRoot *root = semroot(&l->notify);
	gort__spinlock(&root->lock);
	notifylist_locked(l);
	uint32_t t = l->notify;
	if (t == __atomic_load_n(&l->wait, __ATOMIC_ACQUIRE)) {
		gort__spinunlock(&root->lock);
		return;
	}
	__atomic_store_n(&l->notify, t + 1, __ATOMIC_RELEASE);
	for (sudog *p = NULL, *s = l->head; s != NULL; p = s, s = s->next) {
		if (s->ticket != t)
			continue;
		if (p != NULL)
			p->next = s->next;
		else
			l->head = s->next;
		if (l->tail == s)
			l->tail = p;
		gort__spinunlock(&root->lock);
		gort__goready(s->g);
		return;
	}
	gort__spinunlock(&root->lock);
}
