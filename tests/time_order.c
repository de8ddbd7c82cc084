/*
 * time_order - timers fire in deadline order:
 *
 *   sleepers  N goroutines, started in a shuffled order, sleep until
 *             deadlines base + 4 ms * (1..N) and append their index to a
 *             shared list under a gort_mutex.  Each must wake at or after
 *             its deadline (always checked).  The list must come out in
 *             deadline order, except for inversions that scheduling noise
 *             explains: b appended after a although b's deadline is earlier
 *             is excused when b only got to run (its wake-up reading) after
 *             a's deadline had passed too, since then both were due at once
 *             and any order is Go's order.  An unexcused inversion - b was
 *             running before a's deadline, yet a got in first - can still
 *             come from the OS preempting b's thread between its clock
 *             reading and the lock, so the round is retried; it fails only
 *             if 3 rounds in a row have one.
 *   channels  N timer channels with shuffled deadlines base + 4 ms * (1..N):
 *             each value is >= its deadline; at GOMAXPROCS=1, where one P
 *             runs every timer from one heap, the values (the clock when
 *             each fired) do not decrease in deadline order.
 */
#define _GNU_SOURCE
#include "time_util.h"

#define N 25
#define SPACING (4 * GORT_MILLISECOND)
#define ROUNDS 3

static int64_t deadline[N], woke[N];
static int order[N], appended;
static gort_mutex list_lock;
static gort_waitgroup wg;

static void sleeper(void *arg)
{
	int i = (int)(intptr_t)arg;
	gort_sleep(deadline[i] - gort_nanotime());
	int64_t now = gort_nanotime();
	woke[i] = now;
	gort_mutex_lock(&list_lock);
	order[appended++] = i;
	gort_mutex_unlock(&list_lock);
	gort_waitgroup_done(&wg);
}

static void shuffle(int *perm, int n, uint64_t *rng)
{
	for (int i = 0; i < n; i++)
		perm[i] = i;
	for (int i = n - 1; i > 0; i--) {
		int j = (int)test_rand_range(rng, 0, i);
		int t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
}

/* one_round returns the number of unexcused inversions. */
static int one_round(uint64_t *rng, int *excused)
{
	int perm[N];
	shuffle(perm, N, rng);
	appended = 0;
	int64_t base = gort_nanotime() + 2 * GORT_MILLISECOND;
	for (int i = 0; i < N; i++)
		deadline[i] = base + SPACING * (i + 1);
	gort_waitgroup_add(&wg, N);
	for (int i = 0; i < N; i++)
		gort_go(sleeper, (void *)(intptr_t)perm[i]);
	gort_waitgroup_wait(&wg);
	CHECK(appended == N, "%d of %d sleepers appended", appended, N);
	bool seen[N] = {false};
	for (int p = 0; p < N; p++) {
		CHECK(!seen[order[p]], "sleeper %d appended twice", order[p]);
		seen[order[p]] = true;
		CHECK_AFTER(woke[order[p]], deadline[order[p]], 0, "sleeper %d woke before its deadline", order[p]);
	}
	int bad = 0;
	*excused = 0;
	for (int p = 0; p < N; p++) {
		for (int q = p + 1; q < N; q++) {
			int a = order[p], b = order[q]; /* a appended first */
			if (deadline[a] <= deadline[b])
				continue;
			if (woke[b] >= deadline[a]) {
				(*excused)++;
			} else {
				bad++;
				fprintf(stderr, "inversion: sleeper %d (deadline +%lld us, woke +%lld us) appended "
				                "after sleeper %d (deadline +%lld us, woke +%lld us)\n",
				        b, (long long)(deadline[b] - base) / 1000, (long long)(woke[b] - base) / 1000, a,
				        (long long)(deadline[a] - base) / 1000, (long long)(woke[a] - base) / 1000);
			}
		}
	}
	return bad;
}

static void test_sleepers(void)
{
	uint64_t rng = 7;
	for (int r = 1;; r++) {
		int excused;
		int bad = one_round(&rng, &excused);
		printf("sleepers round %d: %d unexcused inversions, %d excused\n", r, bad, excused);
		if (bad == 0)
			return;
		CHECK(r < ROUNDS, "%d rounds in a row with sleepers appended out of deadline order", ROUNDS);
	}
}

static void test_channels(void)
{
	uint64_t rng = 11;
	int perm[N];
	shuffle(perm, N, &rng);
	gort_timer *t[N];
	int64_t base = gort_nanotime() + GORT_MILLISECOND;
	for (int i = 0; i < N; i++) {
		deadline[i] = base + SPACING * (i + 1);
		t[i] = NULL;
	}
	for (int k = 0; k < N; k++) { /* created in shuffled order */
		int i = perm[k];
		t[i] = gort_timer_new(deadline[i] - gort_nanotime());
	}
	int64_t v[N];
	for (int k = 0; k < N; k++) { /* received in another shuffled order */
		int i = perm[N - 1 - k];
		v[i] = test_recv_time(gort_timer_c(t[i]), "a timer's value");
		CHECK_AFTER(v[i], deadline[i], 0, "timer %d's value", i);
	}
	if (gort_gomaxprocs(0) == 1) {
		for (int i = 1; i < N; i++)
			CHECK(v[i] >= v[i - 1], "at GOMAXPROCS=1, timer %d (deadline +%lld us) fired at +%lld us, "
			      "before timer %d (deadline +%lld us) at +%lld us", i, (long long)(deadline[i] - base) / 1000,
			      (long long)(v[i] - base) / 1000, i - 1, (long long)(deadline[i - 1] - base) / 1000,
			      (long long)(v[i - 1] - base) / 1000);
	}
	for (int i = 0; i < N; i++)
		gort_timer_free(t[i]);
}

static int test_main(int argc, char **argv)
{
	test_sleepers();
	test_channels();
	return test_pass("time_order");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
