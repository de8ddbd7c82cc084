/*
 * gc_stress - allocation on every P while GOMAXPROCS changes.
 *
 * 8 goroutines each build binary trees (gort_new nodes, noscan leaves),
 * check them, keep one long-lived tree across rounds, and send a tree
 * through a buffered channel to the next goroutine, which checks it.
 * Collections start from allocation (GOGC=100) and from gort_gc; the main
 * goroutine changes GOMAXPROCS between 1 and 4 meanwhile.  Any object
 * freed while reachable shows up as a tree that does not check out.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "harness.h"

typedef struct tnode {
	struct tnode *left, *right;
	uint64_t *leaf; /* noscan */
	uint64_t check;
} tnode;

static tnode *build(int depth, uint64_t seed)
{
	tnode *n = gort_new(sizeof *n);
	n->check = seed;
	n->leaf = gort_new_noscan(3 * sizeof(uint64_t));
	n->leaf[0] = seed * 3;
	n->leaf[2] = ~seed;
	if (depth > 0) {
		n->left = build(depth - 1, seed * 2 + 1);
		n->right = build(depth - 1, seed * 2 + 2);
	}
	return n;
}

static long verify(const tnode *n, int depth, uint64_t seed)
{
	CHECK(n != NULL && n->check == seed && n->leaf[0] == seed * 3 && n->leaf[2] == ~seed,
	      "tree node %llu at depth %d corrupted: freed while reachable?", (unsigned long long)seed,
	      depth);
	if (depth == 0) {
		CHECK(n->left == NULL && n->right == NULL, "leaf has children");
		return 1;
	}
	return 1 + verify(n->left, depth - 1, seed * 2 + 1) + verify(n->right, depth - 1, seed * 2 + 2);
}

enum { NG = 8, ROUNDS = 60, DEPTH = 10 };

static gort_chan *pass[NG];
static atomic_long done;

static void worker(void *arg)
{
	int id = (int)(uintptr_t)arg;
	tnode *longlived = build(DEPTH, (uint64_t)id << 32);
	for (int r = 0; r < ROUNDS; r++) {
		tnode *t = build(DEPTH - 2, (uint64_t)r + 1000);
		CHECK(verify(t, DEPTH - 2, (uint64_t)r + 1000) == (1 << (DEPTH - 1)) - 1, "count");
		gort_chan_send(pass[(id + 1) % NG], &t);
		tnode *got;
		gort_chan_recv(pass[id], &got);
		verify(got, DEPTH - 2, (uint64_t)r + 1000);
		if (r % 16 == 0)
			gort_gc();
		verify(longlived, DEPTH, (uint64_t)id << 32);
	}
	test_done(&done);
}

static int test_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	for (int i = 0; i < NG; i++)
		pass[i] = gort_chan_make(sizeof(tnode *), 1);
	for (int i = 0; i < NG; i++)
		gort_go(worker, (void *)(uintptr_t)i);
	int procs[] = {1, 3, 2, 4};
	for (int i = 0; atomic_load(&done) < NG; i++) {
		gort_gomaxprocs(procs[i % 4]);
		gort_sleep(2000000);
		CHECK(i < 20000, "watchdog");
	}
	gort_mem_stats ms;
	gort_read_mem_stats(&ms);
	CHECK(ms.num_gc > ms.num_forced_gc, "no collection started by allocation (%u, %u forced)",
	      ms.num_gc, ms.num_forced_gc);
	gort_metrics mt = {.size = sizeof mt};
	CHECK(gort_read_metrics(&mt) == 0 && mt.version >= 2, "metrics version %u", mt.version);
	CHECK(mt.gc_cycles >= ms.num_gc && mt.heap_sys_bytes >= ms.heap_inuse && mt.heap_goal_bytes > 0 &&
	          mt.gc_pause_total_ns >= ms.pause_total_ns,
	      "metrics: cycles %llu sys %llu goal %llu", (unsigned long long)mt.gc_cycles,
	      (unsigned long long)mt.heap_sys_bytes, (unsigned long long)mt.heap_goal_bytes);
	printf("gc_stress: %u collections (%u forced), %llu objects allocated, %llu freed\n", ms.num_gc,
	       ms.num_forced_gc, (unsigned long long)ms.mallocs, (unsigned long long)ms.frees);
	return test_pass("gc_stress");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
