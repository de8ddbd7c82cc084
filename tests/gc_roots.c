/*
 * gc_roots - what the collector must see, it sees; what nothing reaches,
 * it frees.  Each check fills objects with a pattern, collects, then
 * allocates as much again (garbage, another pattern, to reuse anything
 * wrongly freed) and checks the pattern - and, where a finalizer is set,
 * that it did not run.
 *
 *   globals       a list reachable only from a static pointer (bss)
 *   roots         ... only from malloc'd memory registered as a root;
 *                 unregistered, it is collected
 *   parked        ... only from the stack of a goroutine blocked on a channel
 *   syscall       ... only from the stack of a goroutine blocked in read(2)
 *                 between gort_entersyscall and gort_exitsyscall
 *   register      ... only in r12, a callee-saved register, while its
 *                 goroutine is switched out
 *   interior      a pointer into the middle of an object keeps it
 *   channel       ... only from a buffered channel's buffer
 *   unreachable   10,000 objects with finalizers, dropped: most collected
 *   noscan        a pointer inside a gort_new_noscan object keeps nothing
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "gc_helpers.h"

typedef struct node {
	struct node *next;
	uint64_t val[5];
} node;

static uint64_t pattern(int i, int k)
{
	return 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1) + (uint64_t)k;
}

static __attribute__((noinline)) node *makelist(int n)
{
	node *head = NULL;
	for (int i = 0; i < n; i++) {
		node *x = gort_new(sizeof *x);
		CHECK(x != NULL, "gort_new returned NULL");
		for (int k = 0; k < 5; k++) {
			CHECK(x->val[k] == 0, "gort_new: object not zeroed");
			x->val[k] = pattern(i, k);
		}
		x->next = head;
		head = x;
	}
	return head;
}

static void checklist(const node *head, int n, const char *what)
{
	for (int i = n - 1; i >= 0; i--) {
		CHECK(head != NULL, "%s: list ends early at %d", what, i);
		for (int k = 0; k < 5; k++)
			CHECK(head->val[k] == pattern(i, k), "%s: node %d word %d is %#llx: collected and reused",
			      what, i, k, (unsigned long long)head->val[k]);
		head = head->next;
	}
	CHECK(head == NULL, "%s: list too long", what);
}

/* churn: collect, then allocate garbage that would overwrite freed objects. */
static __attribute__((noinline)) void churn(void)
{
	gort_gc();
	for (int i = 0; i < 50000; i++) {
		node *x = gort_new(sizeof *x);
		memset(x->val, 0xA5, sizeof x->val);
	}
	gort_gc();
}

enum { N = 2000 };

static node *global_list;

static void globals(void)
{
	global_list = makelist(N);
	churn();
	checklist(global_list, N, "globals");
	global_list = NULL;
}

/* ---- a finalizer counter ---- */

static atomic_long finalized;
static void count_final(void *p)
{
	(void)p;
	atomic_fetch_add(&finalized, 1);
}

/* wait_finalized: collect until at least want finalizers have run. */
static long wait_finalized(long want)
{
	double start = test_seconds();
	while (atomic_load(&finalized) < want && test_seconds() - start < 20) {
		gort_gc();
		gort_sleep(1000000);
	}
	return atomic_load(&finalized);
}

static node **box;

static void roots_drop(void *arg)
{
	(void)arg;
	/* unregistered, the list is garbage: watch a finalizer on its head */
	gort_set_finalizer(*box, count_final);
	*box = NULL;
	gort_gc_remove_roots(box);
}

static void roots_make(void *arg)
{
	(void)arg;
	box = malloc(sizeof *box);
	*box = makelist(N);
	gort_gc_add_roots(box, sizeof *box);
}

static void roots_check(void *arg)
{
	(void)arg;
	checklist(*box, N, "roots");
}

/* Only goroutines that end touch the list: the main goroutine's stack
 * holds no stale copy of its address when it should be collected. */
static void roots(void)
{
	in_goroutine(roots_make, NULL);
	churn();
	in_goroutine(roots_check, NULL);
	atomic_store(&finalized, 0);
	in_goroutine(roots_drop, NULL);
	CHECK(wait_finalized(1) == 1, "roots: the list's head was not collected once unregistered");
	free(box);
}

/* ---- a parked goroutine's stack ---- */

static gort_chan *wake, *done_ch;

static void parked_body(void *arg)
{
	(void)arg;
	node *mine = makelist(N);
	int v;
	gort_chan_recv(wake, &v);
	checklist(mine, N, "parked");
	gort_chan_send(done_ch, &v);
}

static void parked(void)
{
	wake = gort_chan_make(sizeof(int), 0);
	done_ch = gort_chan_make(sizeof(int), 0);
	gort_go(parked_body, NULL);
	gort_sleep(10000000); /* let it park (the check holds whenever it runs) */
	churn();
	int v = 1;
	gort_chan_send(wake, &v);
	gort_chan_recv(done_ch, &v);
}

/* ---- a goroutine in a system call ---- */

static int pipefd[2];

static void syscall_body(void *arg)
{
	(void)arg;
	node *mine = makelist(N);
	char c;
	gort_entersyscall();
	ssize_t r = read(pipefd[0], &c, 1);
	gort_exitsyscall();
	CHECK(r == 1, "syscall: read returned %zd", r);
	checklist(mine, N, "syscall");
	int v = 1;
	gort_chan_send(done_ch, &v);
}

static void in_syscall(void)
{
	CHECK(pipe(pipefd) == 0, "pipe");
	gort_go(syscall_body, NULL);
	gort_sleep(20000000);
	churn();
	CHECK(write(pipefd[1], "x", 1) == 1, "write");
	int v;
	gort_chan_recv(done_ch, &v);
	close(pipefd[0]);
	close(pipefd[1]);
}

/* ---- a register at a switch ---- */

/*
 * hold_r12(hidden, key, fn): r12 = hidden ^ key, call fn(), return r12.
 * The C code never holds the object's address: only r12 does (or the
 * slot where fn's prologue saves r12, or the savedctx of the switch).
 */
void *hold_r12(uintptr_t hidden, uintptr_t key, void (*fn)(void));
__asm__(".text\n"
        ".globl hold_r12\n"
        ".type hold_r12,@function\n"
        "hold_r12:\n"
        "\tpushq %r12\n"
        "\tmovq %rdi, %r12\n"
        "\txorq %rsi, %r12\n"
        "\txorl %edi, %edi\n"
        "\txorl %esi, %esi\n"
        "\tcall *%rdx\n"
        "\tmovq %r12, %rax\n"
        "\tpopq %r12\n"
        "\tret\n"
        ".size hold_r12, .-hold_r12\n");

#define KEY ((uintptr_t)0x3c3c3c3c3c3c3c3cu)

static uintptr_t hidden_list; /* the list's address ^ KEY: not a pointer */

/* made on a goroutine that then ends, so no stack holds a stale copy */
static void make_hidden(void *arg)
{
	(void)arg;
	node *l = makelist(N);
	gort_set_finalizer(l, count_final);
	hidden_list = (uintptr_t)l ^ KEY;
}

static void block_on_wake(void)
{
	int v;
	gort_chan_recv(wake, &v);
}

static void register_body(void *arg)
{
	(void)arg;
	node *l = hold_r12(hidden_list, KEY, block_on_wake);
	checklist(l, N, "register");
	gort_set_finalizer(l, NULL);
	int v = 1;
	gort_chan_send(done_ch, &v);
}

static void in_register(void)
{
	atomic_store(&finalized, 0);
	in_goroutine(make_hidden, NULL);
	gort_go(register_body, NULL);
	gort_sleep(10000000);
	churn();
	churn();
	CHECK(atomic_load(&finalized) == 0, "register: the object's finalizer ran");
	int v = 1;
	gort_chan_send(wake, &v);
	gort_chan_recv(done_ch, &v);
}

/* ---- interior pointers, channel buffers ---- */

static uint64_t *interior;

static void interior_ptr(void)
{
	node *l = makelist(1);
	interior = &l->val[3];
	l = NULL;
	churn();
	CHECK(*interior == pattern(0, 3), "interior: object collected");
	interior = NULL;
}

static void channel_buf(void)
{
	gort_chan *c = gort_chan_make(sizeof(node *), 4);
	node *l = makelist(N);
	gort_chan_send(c, &l);
	l = NULL;
	churn();
	gort_chan_recv(c, &l);
	checklist(l, N, "channel");
	gort_chan_free(c);
}

/* ---- unreachable objects are collected ---- */

enum { NGARBAGE = 10000 };

static void make_garbage(void *arg)
{
	(void)arg;
	for (int i = 0; i < NGARBAGE; i++) {
		node *x = gort_new(sizeof *x);
		gort_set_finalizer(x, count_final);
	}
}

static void unreachable(void)
{
	atomic_store(&finalized, 0);
	in_goroutine(make_garbage, NULL);
	/*
	 * Conservative scanning may retain a few: a stale copy of a pointer in
	 * a dead stack slot or a register's saved value.  A handful at most,
	 * whatever N is; 1% of 10,000 is a generous bound that still fails if
	 * collection is broken in any systematic way.
	 */
	long got = wait_finalized(NGARBAGE - NGARBAGE / 100);
	CHECK(got >= NGARBAGE - NGARBAGE / 100, "unreachable: only %ld of %d finalized", got, NGARBAGE);
	gort_mem_stats ms;
	gort_read_mem_stats(&ms);
	CHECK(ms.frees > 0 && ms.num_gc > 0 && ms.num_forced_gc > 0, "mem stats: frees %llu num_gc %u",
	      (unsigned long long)ms.frees, ms.num_gc);
}

/* ---- noscan ---- */

static uintptr_t **holder;
/* its own counter: late finalizers of the objects "unreachable" left behind
 * (the 1% it allows) may still run during this check */
static atomic_long noscan_finalized;
static void count_noscan(void *p)
{
	(void)p;
	atomic_fetch_add(&noscan_finalized, 1);
}

static void make_noscan(void *arg)
{
	(void)arg;
	holder = gort_new_noscan(sizeof *holder);
	for (int i = 0; i < 8; i++) {
		uintptr_t *x = gort_new(64);
		gort_set_finalizer(x, count_noscan);
		if (i == 0)
			*holder = x; /* not scanned: does not keep x */
	}
}

static void noscan(void)
{
	in_goroutine(make_noscan, NULL);
	double start = test_seconds();
	while (atomic_load(&noscan_finalized) < 8 && test_seconds() - start < 20) {
		gort_gc();
		gort_sleep(1000000);
	}
	long got = atomic_load(&noscan_finalized);
	CHECK(got == 8, "noscan: %ld of 8 finalized", got);
	holder = NULL;
}

static int test_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	TEST_RUN(globals);
	TEST_RUN(roots);
	TEST_RUN(parked);
	TEST_RUN(in_syscall);
	TEST_RUN(in_register);
	TEST_RUN(interior_ptr);
	TEST_RUN(channel_buf);
	TEST_RUN(unreachable);
	TEST_RUN(noscan);
	return test_pass("gc_roots");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
