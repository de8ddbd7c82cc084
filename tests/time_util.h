/*
 * time_util.h - what the time tests (time_*.c) share, on top of harness.h.
 *
 * The time tests sleep, but assert on the clock only in the directions that
 * are guaranteed whatever the machine's load: a sleep, timer or tick never
 * ends before its duration has passed on gort_nanotime (a lower bound), and
 * counts of ticks are bounded by the time that has passed.  Never "it took
 * at most X": a loaded machine can stretch anything.  The only upper bounds
 * are watchdogs (TEST_WATCHDOG_SECONDS), so a lost wakeup fails with what it
 * was waiting for instead of a bare CTest timeout.
 *
 *   test_rand(s)                  splitmix64: the next draw of state *s
 *   test_rand_range(s, lo, hi)    a draw in [lo, hi]
 *   test_recv_time(c, what)       receive one int64_t from c (a timer's
 *                                 channel, or any chan of int64_t), failing
 *                                 with what after the watchdog
 *   test_recv_time_within(c, s, what)  the same with a watchdog of s seconds
 *   CHECK_AFTER(t, start, d, ...) t >= start + d, saying by how much it missed
 *   test_sleep_until(t)           gort_sleep until gort_nanotime() >= t
 */
#ifndef GORT_TEST_TIME_UTIL_H
#define GORT_TEST_TIME_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "harness.h"

static inline uint64_t test_rand(uint64_t *s)
{
	*s += 0x9e3779b97f4a7c15ULL;
	uint64_t z = *s;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline int64_t test_rand_range(uint64_t *s, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(test_rand(s) % (uint64_t)(hi - lo + 1));
}

/* CHECK_AFTER(t, start, d, fmt, ...): t - start >= d, all in ns. */
#define CHECK_AFTER(t, start, d, ...) \
	do { \
		int64_t t_ = (t), start_ = (start), d_ = (d); \
		if (t_ - start_ < d_) { \
			fprintf(stderr, "%s:%d: too early: %lld ns after the start, want >= %lld ns: ", __FILE__, \
			        __LINE__, (long long)(t_ - start_), (long long)d_); \
			fprintf(stderr, __VA_ARGS__); \
			fputc('\n', stderr); \
			exit(1); \
		} \
	} while (0)

/* test_recv_time_within receives one int64_t from c; fails if c is closed
 * or if nothing arrives within the given seconds. */
static inline int64_t test_recv_time_within(gort_chan *c, int seconds, const char *what)
{
	gort_timer *watchdog = gort_timer_new((int64_t)seconds * GORT_SECOND);
	int64_t v = 0, w;
	bool ok = false;
	int i = GORT_SELECT(GORT_CASE_RECV(c, &v, &ok), GORT_CASE_RECV(gort_timer_c(watchdog), &w, NULL));
	CHECK(i == 0, "watchdog: waited %d s for %s", seconds, what);
	CHECK(ok, "%s: the channel was closed", what);
	gort_timer_free(watchdog);
	return v;
}

/* test_recv_time: the same, within the watchdog (TEST_WATCHDOG_SECONDS). */
static inline int64_t test_recv_time(gort_chan *c, const char *what)
{
	return test_recv_time_within(c, TEST_WATCHDOG_SECONDS, what);
}

/* test_sleep_until sleeps until the runtime's clock reads at least t (one
 * gort_sleep, checked: it never returns early). */
static inline void test_sleep_until(int64_t t)
{
	int64_t now = gort_nanotime();
	gort_sleep(t - now);
	int64_t after = gort_nanotime();
	CHECK(after >= t, "gort_sleep(%lld) returned after %lld ns", (long long)(t - now), (long long)(after - now));
}

#endif /* GORT_TEST_TIME_UTIL_H */
