/*
 * sync_rwmutex - gort_rwmutex as Go's sync.RWMutex (rwmutex_test.go):
 *
 *   parallel     4 readers each take the read lock and wait, still holding
 *                it, until all 4 are inside (Go's TestParallelReaders): a
 *                read lock that excluded other readers would hang here
 *   hammer       2 writers and 8 readers, 3000 rounds each (Go's
 *                HammerRWMutex): an activity counter (+1 per reader, +10000
 *                per writer) proves no writer overlaps anyone; writers keep
 *                two plain fields equal, readers check they are
 *   writer_first main holds a read lock; a writer blocks in Lock; once the
 *                writer is seen pending (tryrlock fails), a new reader's
 *                RLock must wait behind it: after main's RUnlock the writer
 *                gets the lock first, then the reader
 *   try          trylock/tryrlock on free, read-held and write-held mutexes
 */
#define _GNU_SOURCE
#include "harness.h"

static gort_waitgroup wg;

/* ---- parallel --------------------------------------------------------------- */

#define READERS 4

static gort_rwmutex prw = GORT_RWMUTEX_INIT;
static atomic_long entered, inside, max_inside;

static void parallel_reader(void *arg)
{
	gort_rwmutex_rlock(&prw);
	long now = atomic_fetch_add(&inside, 1) + 1;
	for (long m = atomic_load(&max_inside); now > m;)
		if (atomic_compare_exchange_weak(&max_inside, &m, now))
			break;
	test_done(&entered);
	test_wait(&entered, READERS, "all readers inside the read lock at once");
	atomic_fetch_sub(&inside, 1);
	gort_rwmutex_runlock(&prw);
	gort_waitgroup_done(&wg);
}

static void test_parallel(void)
{
	gort_waitgroup_add(&wg, READERS);
	for (int i = 0; i < READERS; i++)
		gort_go(parallel_reader, NULL);
	gort_waitgroup_wait(&wg);
	CHECK(atomic_load(&max_inside) == READERS, "at most %ld readers were inside at once, want %d",
	      atomic_load(&max_inside), READERS);
}

/* ---- hammer ----------------------------------------------------------------- */

#define HAMMER_WRITERS 2
#define HAMMER_READERS 8
#define ROUNDS 3000

static gort_rwmutex hrw = GORT_RWMUTEX_INIT;
static atomic_int activity;
static long field_a, field_b; /* guarded by hrw */
static atomic_long bad;

static void spin(int n)
{
	for (volatile int i = 0; i < n; i++)
		;
}

static void hammer_reader(void *arg)
{
	for (int i = 0; i < ROUNDS; i++) {
		if (i % 3 == 0) {
			while (!gort_rwmutex_tryrlock(&hrw))
				gort_gosched();
		} else {
			gort_rwmutex_rlock(&hrw);
		}
		int n = atomic_fetch_add(&activity, 1) + 1;
		if (n < 1 || n >= 10000)
			atomic_fetch_add(&bad, 1);
		if (field_a != field_b)
			atomic_fetch_add(&bad, 1);
		spin(100);
		if (i % 64 == 0)
			gort_gosched();
		atomic_fetch_sub(&activity, 1);
		gort_rwmutex_runlock(&hrw);
	}
	gort_waitgroup_done(&wg);
}

static void hammer_writer(void *arg)
{
	for (int i = 0; i < ROUNDS; i++) {
		if (i % 3 == 0) {
			while (!gort_rwmutex_trylock(&hrw))
				gort_gosched();
		} else {
			gort_rwmutex_lock(&hrw);
		}
		int n = atomic_fetch_add(&activity, 10000) + 10000;
		if (n != 10000)
			atomic_fetch_add(&bad, 1);
		field_a++;
		spin(100);
		if (i % 64 == 0)
			gort_gosched();
		field_b++;
		atomic_fetch_sub(&activity, 10000);
		gort_rwmutex_unlock(&hrw);
	}
	gort_waitgroup_done(&wg);
}

static void test_hammer(void)
{
	gort_waitgroup_add(&wg, HAMMER_WRITERS + HAMMER_READERS);
	for (int i = 0; i < HAMMER_READERS; i++) {
		gort_go(hammer_reader, NULL);
		if (i < HAMMER_WRITERS)
			gort_go(hammer_writer, NULL);
	}
	gort_waitgroup_wait(&wg);
	CHECK(atomic_load(&bad) == 0, "%ld times a writer overlapped another holder",
	      atomic_load(&bad));
	gort_rwmutex_rlock(&hrw);
	CHECK(field_a == (long)HAMMER_WRITERS * ROUNDS && field_b == field_a,
	      "writers' fields %ld %ld, want %ld", field_a, field_b, (long)HAMMER_WRITERS * ROUNDS);
	gort_rwmutex_runlock(&hrw);
}

/* ---- writer_first ----------------------------------------------------------- */

static gort_rwmutex wrw = GORT_RWMUTEX_INIT;
static atomic_int seq, writer_at, reader_at;

static void pending_writer(void *arg)
{
	gort_rwmutex_lock(&wrw);
	atomic_store(&writer_at, atomic_fetch_add(&seq, 1) + 1);
	gort_rwmutex_unlock(&wrw);
	gort_waitgroup_done(&wg);
}

static void late_reader(void *arg)
{
	gort_rwmutex_rlock(&wrw);
	atomic_store(&reader_at, atomic_fetch_add(&seq, 1) + 1);
	gort_rwmutex_runlock(&wrw);
	gort_waitgroup_done(&wg);
}

static void test_writer_first(void)
{
	gort_rwmutex_rlock(&wrw);
	gort_waitgroup_add(&wg, 2);
	gort_go(pending_writer, NULL);
	/* The writer is pending once new read locks fail. */
	for (long i = 0;; i++) {
		if (!gort_rwmutex_tryrlock(&wrw))
			break;
		gort_rwmutex_runlock(&wrw);
		CHECK(i < 100000000L, "the writer never became pending");
		gort_gosched();
	}
	CHECK(!gort_rwmutex_trylock(&wrw), "trylock while read-locked with a writer pending");
	gort_go(late_reader, NULL);
	for (int i = 0; i < 200; i++)
		gort_gosched();
	CHECK(atomic_load(&writer_at) == 0, "the writer got the lock while main held a read lock");
	CHECK(atomic_load(&reader_at) == 0, "a new reader got the read lock past a pending writer");
	gort_rwmutex_runlock(&wrw);
	gort_waitgroup_wait(&wg);
	CHECK(atomic_load(&writer_at) == 1 && atomic_load(&reader_at) == 2,
	      "order: writer %d, reader %d; want the writer first", atomic_load(&writer_at),
	      atomic_load(&reader_at));
}

/* ---- try -------------------------------------------------------------------- */

static void test_try(void)
{
	gort_rwmutex rw = GORT_RWMUTEX_INIT;
	CHECK(gort_rwmutex_trylock(&rw), "trylock of a free RWMutex");
	CHECK(!gort_rwmutex_trylock(&rw), "trylock of a write-locked RWMutex");
	CHECK(!gort_rwmutex_tryrlock(&rw), "tryrlock of a write-locked RWMutex");
	gort_rwmutex_unlock(&rw);
	CHECK(gort_rwmutex_tryrlock(&rw), "tryrlock of a free RWMutex");
	CHECK(gort_rwmutex_tryrlock(&rw), "a second tryrlock");
	CHECK(!gort_rwmutex_trylock(&rw), "trylock of a read-locked RWMutex");
	gort_rwmutex_runlock(&rw);
	CHECK(!gort_rwmutex_trylock(&rw), "trylock with one reader left");
	gort_rwmutex_runlock(&rw);
	CHECK(gort_rwmutex_trylock(&rw), "trylock after the readers left");
	gort_rwmutex_unlock(&rw);
	gort_rwmutex_lock(&rw);
	gort_rwmutex_unlock(&rw);
	gort_rwmutex_rlock(&rw);
	gort_rwmutex_runlock(&rw);
	CHECK(gort_rwmutex_trylock(&rw), "trylock at the end");
	gort_rwmutex_unlock(&rw);
}

static int test_main(int argc, char **argv)
{
	test_try();
	test_parallel();
	test_writer_first();
	test_hammer();
	return test_pass("sync_rwmutex");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
