/*
 * gc_final - finalizers as runtime.SetFinalizer's rules have them.
 *
 *   once          a finalizer runs once, on the finalizer goroutine (not
 *                 the caller's), with the object's address, after the
 *                 object becomes unreachable
 *   survives      the object is intact when its finalizer runs (it
 *                 survived the collection that queued it)
 *   resurrect     a finalizer that stores its object keeps it alive and
 *                 intact; it does not run again when the object is
 *                 dropped again (unless set again)
 *   removed       gort_set_finalizer(p, NULL) removes it
 *   ordered       an object reachable from a finalized object is not
 *                 finalized before it (Go's rule for chains)
 *   keepalive     gort_keepalive holds an object until the call
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "gc_helpers.h"

typedef struct obj {
	struct obj *ref;
	uint64_t magic;
	int64_t id;
} obj;

#define MAGIC 0xF1A1F1A1F1A1F1A1ull

static atomic_long nrun;
static int64_t rungoid; /* the goroutine that ran the last finalizer */
static obj *resurrected;
static _Atomic int64_t order[4]; /* ids in the order their finalizers ran */
static atomic_long norder;

static void fin_count(void *p)
{
	obj *o = p;
	CHECK(o->magic == MAGIC, "finalizer: object %lld not intact (%#llx)", (long long)o->id,
	      (unsigned long long)o->magic);
	rungoid = gort_goid();
	atomic_fetch_add(&nrun, 1);
}

static void fin_resurrect(void *p)
{
	fin_count(p);
	resurrected = p;
}

static void fin_order(void *p)
{
	obj *o = p;
	CHECK(o->magic == MAGIC, "ordered: object not intact");
	if (o->ref != NULL)
		CHECK(o->ref->magic == MAGIC, "ordered: the referent was freed before its referrer's finalizer");
	order[atomic_fetch_add(&norder, 1)] = o->id;
}

typedef struct mk {
	gort_finalizer_func fn;
	int64_t id;
} mk;

static void make_one_body(void *arg)
{
	mk *m = arg;
	obj *o = gort_new(sizeof *o);
	o->magic = MAGIC;
	o->id = m->id;
	gort_set_finalizer(o, m->fn);
}

static void make_one(gort_finalizer_func fn, int64_t id)
{
	mk m = {fn, id};
	in_goroutine(make_one_body, &m);
}

static void once(void)
{
	atomic_store(&nrun, 0);
	make_one(fin_count, 1);
	CHECK(collect_until(&nrun, 1) == 1, "once: finalizer did not run");
	CHECK(rungoid != gort_goid(), "once: finalizer ran on the caller's goroutine");
	/* Go's NumGoroutine does not count the finalizer goroutine */
	CHECK(gort_numgoroutine() == 1, "once: gort_numgoroutine() = %d, want 1", gort_numgoroutine());
	for (int i = 0; i < 5; i++) {
		gort_gc();
		gort_sleep(1000000);
	}
	CHECK(atomic_load(&nrun) == 1, "once: finalizer ran %ld times", atomic_load(&nrun));
}

static void resurrect(void)
{
	atomic_store(&nrun, 0);
	make_one(fin_resurrect, 2);
	CHECK(collect_until(&nrun, 1) == 1, "resurrect: finalizer did not run");
	/* the object lives again: churn the heap, and it must stay intact */
	for (int i = 0; i < 3; i++) {
		gort_gc();
		for (int k = 0; k < 20000; k++)
			memset(gort_new(sizeof(obj)), 0x5A, sizeof(obj));
	}
	CHECK(resurrected->magic == MAGIC && resurrected->id == 2, "resurrect: object not intact");
	/* dropped again: no finalizer any more, so none runs */
	resurrected = NULL;
	for (int i = 0; i < 5; i++) {
		scrub();
		gort_gc();
		gort_sleep(1000000);
	}
	CHECK(atomic_load(&nrun) == 1, "resurrect: finalizer ran %ld times", atomic_load(&nrun));
}

static void make_removed(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100; i++) {
		obj *o = gort_new(sizeof *o);
		o->magic = MAGIC;
		gort_set_finalizer(o, fin_count);
		gort_set_finalizer(o, NULL);
	}
}

static void removed(void)
{
	atomic_store(&nrun, 0);
	in_goroutine(make_removed, NULL);
	for (int i = 0; i < 5; i++) {
		gort_gc();
		gort_sleep(1000000);
	}
	CHECK(atomic_load(&nrun) == 0, "removed: %ld finalizers ran", atomic_load(&nrun));
}

static void make_chain(void *arg)
{
	(void)arg;
	obj *a = gort_new(sizeof *a), *b = gort_new(sizeof *b);
	a->magic = b->magic = MAGIC;
	a->id = 1;
	b->id = 2;
	a->ref = b; /* a -> b */
	gort_set_finalizer(a, fin_order);
	gort_set_finalizer(b, fin_order);
}

static void ordered(void)
{
	atomic_store(&norder, 0);
	in_goroutine(make_chain, NULL);
	CHECK(collect_until(&norder, 2) == 2, "ordered: %ld of 2 finalizers ran", atomic_load(&norder));
	CHECK(order[0] == 1 && order[1] == 2, "ordered: ran %lld then %lld, want 1 then 2",
	      (long long)order[0], (long long)order[1]);
}

static void keepalive(void)
{
	atomic_store(&nrun, 0);
	obj *o = gort_new(sizeof *o);
	o->magic = MAGIC;
	gort_set_finalizer(o, fin_count);
	uintptr_t hidden = (uintptr_t)o ^ 1; /* the test's own copy, not a pointer */
	for (int i = 0; i < 3; i++) {
		gort_gc();
		gort_sleep(1000000);
	}
	CHECK(atomic_load(&nrun) == 0, "keepalive: finalizer ran while the object was in use");
	gort_keepalive(o);
	(void)hidden;
}

static int test_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	TEST_RUN(once);
	TEST_RUN(resurrect);
	TEST_RUN(removed);
	TEST_RUN(ordered);
	TEST_RUN(keepalive);
	return test_pass("gc_final");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
