/*
 * gc_leak - leaked goroutines (gort_goroutine_leaks, the goroutineleak
 * profile, the "(leaked)" mark).  Leaked goroutines never end, so each
 * test adds to a running total (want) that every check compares with.
 *
 *   unreferenced   a goroutine blocked receiving on a collectable channel
 *                  nothing else refers to is leaked; so is one sending;
 *                  so is one in select {} (gort_block) or on a nil channel
 *   referenced     not leaked: a channel in a global; one held by a live
 *                  goroutine's stack (a sleeper's: a timer wakes it); a
 *                  malloc'd channel (gort_chan_make: cannot be judged); a
 *                  select with a deadline
 *   chain          G1 blocked on c1, whose only reference is G2's stack;
 *                  G2 blocked on c2 that nothing refers to: both leaked.
 *                  The same chain with c2 in a global: neither
 *   sync           a gort_mutex and a gort_waitgroup in gort_new objects
 *                  nothing refers to: their waiters are leaked
 *   marked         gort_stack(all) headers: "[chan receive (leaked)]:"
 *   profile        gort_pprof_lookup_write("goroutineleak", fd, 1): the
 *                  header "goroutineleak profile: total N", N records'
 *                  counts adding up to it; debug 2 marks the headers
 *   (modes)        GODEBUG=goroutineleak=1 at exit, the SIGQUIT dump: below
 *
 * A goroutine is judged only once it is parked: each test first waits
 * until the goroutines it started are blocked (their count of waiting
 * goroutines), then checks the exact total.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "gc_helpers.h"

static int want; /* leaked goroutines so far */

static atomic_long parked;

/* settle: wait until n goroutines in all have announced they are about
 * to block, then let them park (one about to park cannot be told from
 * outside from one parked: the checks below would count it live). */
static void settle(long n)
{
	test_wait(&parked, n, "the goroutines to block");
	for (int i = 0; i < 20; i++) {
		gort_gosched();
		gort_sleep(100000);
	}
	scrub();
}

static void check_leaks(const char *what)
{
	int n = gort_goroutine_leaks();
	if (n != want) {
		static char dump[1 << 17];
		gort_stack(dump, sizeof dump, true);
		fprintf(stderr, "%s\n", dump);
	}
	CHECK(n == want, "%s: %d leaked goroutines, want %d", what, n, want);
	int again = gort_goroutine_leaks();
	CHECK(again == n, "%s: a second check found %d, the first %d", what, again, n);
}

/*
 * judged: a gort_new object (a channel, a sync object) whose reachability a
 * check asserts, never one whose address has a low half under 64 KiB.  Such
 * an object starts at (or just past) a 4 GiB boundary - an arena's first
 * page, one arena in 64 - and a stack word whose low half a 32-bit store
 * set to a small integer over a stale pointer's upper half points into it:
 * 0x7f3900000001, two frames into the runtime under select_deadline's
 * gort_select_timeout, kept recv_forever's channel at 0x7f3900000000
 * "reachable" (referenced: 3 leaks, want 4, in 2.5% of the runs).  That is
 * the conservative mark's false retention, which nothing in the runtime
 * can rule out; an object at such an address is kept in shunned (a global:
 * so the next allocation lands elsewhere) and another one made.
 */
static void *shunned[1024];
static int nshunned;

static void *judged(void *p, void *(*make)(size_t), size_t size)
{
	while ((uint32_t)(uintptr_t)p < (1u << 16) && nshunned < (int)(sizeof shunned / sizeof *shunned)) {
		shunned[nshunned++] = p;
		p = make(size);
	}
	return p;
}

static void *make_chan(size_t size)
{
	return gort_chan_make_gc(size, 0);
}

static gort_chan *leak_chan(void)
{
	return judged(make_chan(sizeof(int64_t)), make_chan, sizeof(int64_t));
}

/* ---- the blocked goroutines ---------------------------------------------------- */

static void recv_forever(void *arg)
{
	atomic_fetch_add(&parked, 1);
	gort_chan_recv(arg, NULL);
	CHECK(0, "a leaked receiver was woken");
}

static void send_forever(void *arg)
{
	atomic_fetch_add(&parked, 1);
	gort_chan_send(arg, &(int64_t){1});
	CHECK(0, "a leaked sender was woken");
}

static void block_forever(void *arg)
{
	(void)arg;
	atomic_fetch_add(&parked, 1);
	gort_block();
}

static void nil_forever(void *arg)
{
	(void)arg;
	atomic_fetch_add(&parked, 1);
	gort_chan_recv(NULL, NULL);
}

/* ---- unreferenced ---------------------------------------------------------------- */

static void spawn_unreferenced(void *arg)
{
	(void)arg;
	gort_go(recv_forever, leak_chan());
	gort_go(send_forever, leak_chan());
	gort_go(block_forever, NULL);
	gort_go(nil_forever, NULL);
}

static void unreferenced(void)
{
	check_leaks("before");
	long p = atomic_load(&parked);
	in_goroutine(spawn_unreferenced, NULL);
	settle(p + 4);
	want += 4;
	check_leaks("unreferenced");
}

/* ---- referenced ------------------------------------------------------------------- */

static gort_chan *global_chan; /* a global: the collector scans the data segment */
static atomic_long sleepers_done;

static void sleeper(void *arg)
{
	gort_chan *c = arg;
	atomic_fetch_add(&parked, 1);
	gort_sleep(GORT_SECOND); /* live: its timer will wake it, and it holds c */
	gort_chan_send(c, &(int64_t){1});
	test_done(&sleepers_done);
}

static atomic_long received;

static void recv_once(void *arg)
{
	atomic_fetch_add(&parked, 1);
	gort_chan_recv(arg, NULL);
	atomic_fetch_add(&received, 1);
}

static void select_deadline(void *arg)
{
	atomic_fetch_add(&parked, 1);
	gort_case cases[] = {GORT_CASE_RECV(arg, NULL, NULL)};
	CHECK(gort_select_timeout(cases, 1, GORT_SECOND) == GORT_SELECT_TIMEDOUT,
	      "select_deadline: a case was chosen");
	test_done(&sleepers_done);
}

static void spawn_referenced(void *arg)
{
	(void)arg;
	global_chan = gort_chan_make_gc(sizeof(int64_t), 0);
	gort_go(recv_once, global_chan);
	gort_chan *c = leak_chan();
	gort_go(recv_once, c);
	gort_go(sleeper, c);
	gort_go(recv_once, gort_chan_make(sizeof(int64_t), 0)); /* malloc'd: never judged (it is leaked) */
	gort_go(select_deadline, leak_chan());
}

static void referenced(void)
{
	long p = atomic_load(&parked);
	in_goroutine(spawn_referenced, NULL);
	settle(p + 5);
	check_leaks("referenced");
	gort_chan_send(global_chan, &(int64_t){1});
	test_wait(&sleepers_done, 2, "the sleeper and the select");
	test_wait(&received, 2, "the referenced receivers");
	global_chan = NULL;
}

/* ---- chain --------------------------------------------------------------------------- */

typedef struct chainlink {
	gort_chan *wait; /* what this goroutine blocks on */
	gort_chan *hold; /* what it only holds */
} chainlink;

static void chain_link(void *arg)
{
	chainlink *l = arg;
	gort_chan *hold = l->hold;
	gort_chan *wait = l->wait;
	atomic_fetch_add(&parked, 1);
	gort_chan_recv(wait, NULL);
	gort_chan_send(hold, &(int64_t){2}); /* wake the next chainlink */
	gort_keepalive(hold);
}

static chainlink links[4]; /* copied by each chainlink at once; cleared after */
static atomic_long chain_done;

static void chain_tail(void *arg)
{
	atomic_fetch_add(&parked, 1);
	gort_chan_recv(arg, NULL);
	test_done(&chain_done);
}

static void spawn_chain(void *arg)
{
	bool global = arg != NULL;
	gort_chan *c1 = leak_chan(), *c2 = leak_chan();
	gort_go(chain_tail, c1); /* G1: blocked on c1 */
	chainlink *l = &links[global ? 1 : 0];
	*l = (chainlink){.wait = c2, .hold = c1};
	gort_go(chain_link, l); /* G2: blocked on c2, holds c1 */
	if (global)
		global_chan = c2;
}

static void chain(void)
{
	long p = atomic_load(&parked);
	in_goroutine(spawn_chain, NULL);
	settle(p + 2);
	links[0] = (chainlink){0};
	scrub();
	want += 2;
	check_leaks("chain");
	p = atomic_load(&parked);
	in_goroutine(spawn_chain, (void *)1);
	settle(p + 2);
	links[1] = (chainlink){0};
	check_leaks("chain, its end referenced");
	gort_chan_send(global_chan, &(int64_t){1}); /* G2 runs, sends to G1 */
	test_wait(&chain_done, 1, "the chain to unwind");
	global_chan = NULL;
}

/* ---- sync ------------------------------------------------------------------------------ */

typedef struct guarded {
	gort_mutex mu;
	gort_waitgroup wg;
} guarded;

static void lock_forever(void *arg)
{
	guarded *g = arg;
	atomic_fetch_add(&parked, 1);
	gort_mutex_lock(&g->mu);
	CHECK(0, "a leaked locker got the lock");
}

static void wait_forever(void *arg)
{
	guarded *g = arg;
	atomic_fetch_add(&parked, 1);
	gort_waitgroup_wait(&g->wg);
	CHECK(0, "a leaked waiter was woken");
}

static void spawn_sync(void *arg)
{
	(void)arg;
	guarded *g = judged(gort_new(sizeof *g), gort_new, sizeof *g);
	g->mu = (gort_mutex)GORT_MUTEX_INIT;
	gort_mutex_lock(&g->mu); /* never unlocked */
	gort_waitgroup_add(&g->wg, 1); /* never done */
	gort_go(lock_forever, g);
	gort_go(wait_forever, g);
}

static void sync_(void)
{
	long p = atomic_load(&parked);
	in_goroutine(spawn_sync, NULL);
	settle(p + 2);
	want += 2;
	check_leaks("sync");
}

/* ---- marked, profile ---------------------------------------------------------------------- */

static int count(const char *s, const char *what)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, what)) != NULL; p++)
		n++;
	return n;
}

static void marked(void)
{
	check_leaks("marked");
	static char buf[1 << 20];
	int n = gort_stack(buf, sizeof buf, true);
	buf[n < (int)sizeof buf ? n : (int)sizeof buf - 1] = 0;
	/* recv_forever, chain_tail and G2 of the first chain; send_forever;
	 * gort_block; the nil channel; the mutex; the waitgroup */
	CHECK(count(buf, " [chan receive (leaked)]:\n") == 3, "marked: %d chan receive (leaked) headers in\n%s",
	      count(buf, " [chan receive (leaked)]:\n"), buf);
	CHECK(count(buf, " [chan send (leaked)]:\n") == 1, "marked: chan send");
	CHECK(count(buf, " [select (no cases) (leaked)]:\n") == 1, "marked: select (no cases)");
	CHECK(count(buf, " [chan receive (nil chan) (leaked)]:\n") == 1, "marked: nil chan");
	CHECK(count(buf, " [sync.Mutex.Lock (leaked)]:\n") == 1, "marked: sync.Mutex.Lock");
	CHECK(count(buf, " [sync.WaitGroup.Wait (leaked)]:\n") == 1, "marked: sync.WaitGroup.Wait");
	CHECK(count(buf, "(leaked)") == want, "marked: %d marks, want %d", count(buf, "(leaked)"), want);
}

static char *profile_text(int debug)
{
	int fd = memfd_create("goroutineleak", 0);
	CHECK(fd >= 0, "memfd_create");
	CHECK(gort_pprof_lookup_write("goroutineleak", fd, debug) == 0, "gort_pprof_lookup_write failed");
	off_t size = lseek(fd, 0, SEEK_END);
	char *s = calloc(1, (size_t)size + 1);
	CHECK(pread(fd, s, (size_t)size, 0) == size, "pread");
	close(fd);
	return s;
}

static void profile(void)
{
	char *s = profile_text(1);
	char head[64];
	snprintf(head, sizeof head, "goroutineleak profile: total %d\n", want);
	CHECK(strncmp(s, head, strlen(head)) == 0, "profile: the header is not \"%s\":\n%s", head, s);
	/* records: "N @ 0x... 0x..." then "#\t0x...\tfunction+0x..\tfile:line" lines */
	int total = 0, records = 0;
	for (char *line = strchr(s, '\n') + 1; *line != 0; line = strchr(line, '\n') + 1) {
		int k;
		if (*line >= '1' && *line <= '9' && sscanf(line, "%d @ 0x", &k) == 1) {
			total += k;
			records++;
		}
	}
	CHECK(total == want && records >= 6, "profile: %d records counting %d, want %d in\n%s", records, total,
	      want, s);
	CHECK(strstr(s, "\trecv_forever+0x") != NULL && strstr(s, "\tlock_forever+0x") != NULL,
	      "profile: the leaked goroutines' functions are missing:\n%s", s);
	CHECK(strstr(s, "\tsleeper+0x") == NULL, "profile: a live goroutine is listed");
	free(s);
	s = profile_text(2);
	CHECK(count(s, "(leaked)]:\n") == want, "profile debug=2: %d marked headers, want %d", count(s, "(leaked)]:\n"),
	      want);
	free(s);
}

/*
 * The modes the CTest lines check by their stderr:
 *   exit   GODEBUG=goroutineleak=1: main returns with one goroutine leaked;
 *          its traceback follows, marked
 *   dump   a leak check, then SIGQUIT: the dump marks the leaked goroutine
 */
static void spawn_one(void *arg)
{
	(void)arg;
	gort_go(recv_forever, leak_chan());
}

static int mode(const char *m)
{
	long p = atomic_load(&parked);
	in_goroutine(spawn_one, NULL);
	settle(p + 1);
	if (strcmp(m, "dump") == 0) {
		CHECK(gort_goroutine_leaks() == 1, "dump: the goroutine is not leaked");
		kill(getpid(), SIGQUIT);
		for (;;) /* not gort_block: with nothing else to run, that is a deadlock */
			gort_sleep(GORT_SECOND);
	}
	return 0; /* exit: the runtime reports as main returns */
}

static int test_main(int argc, char **argv)
{
	if (argc > 1)
		return mode(argv[1]);
	TEST_RUN(unreferenced);
	TEST_RUN(referenced);
	TEST_RUN(chain);
	TEST_RUN(sync_);
	TEST_RUN(marked);
	TEST_RUN(profile);
	return test_pass("gc_leak");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
