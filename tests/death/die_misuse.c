/*
 * die_misuse - misuses of the API that Go (or gort) reports as fatal errors:
 * each must print its exact message and exit with status 2.
 *
 *   nil_func            goroutine 2 calls gort_go(NULL, ...): "go of nil func
 *                       value", naming goroutine 2
 *   go_before_main      gort_go from plain main(), before gort_main
 *   gosched_before_main gort_gosched likewise
 *   args_too_big        gort_go_args with GORT_GO_ARGS_MAX + 1 bytes
 *   main_twice          gort_main called again from inside main_fn
 *   env                 nothing: the environment CTest sets (GORT_STACK_SIZE,
 *                       GOMAXPROCS) must stop the program at start-up
 *   stack_attr_huge     gort_go_attr with a stack_size near SIZE_MAX
 *   gomaxprocs_huge     gort_gomaxprocs(2000000000)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>

#include "../harness.h"

static const char *mode;
static gort_func volatile nil_func; /* NULL, without the compiler knowing */

static void noop(void *arg)
{
}

static void go_nil(void *arg)
{
	gort_go(nil_func, NULL);
}

static int test_main(int argc, char **argv)
{
	if (strcmp(mode, "nil_func") == 0) {
		CHECK(gort_go(go_nil, NULL) == 2, "the goroutine calling gort_go(NULL) is goroutine 2");
	} else if (strcmp(mode, "args_too_big") == 0) {
		char block[GORT_GO_ARGS_MAX + 1] = {0};
		gort_go_args(noop, block, sizeof block);
	} else if (strcmp(mode, "main_twice") == 0) {
		gort_main(test_main, argc, argv);
	} else if (strcmp(mode, "env") == 0) {
		fprintf(stderr, "die_misuse env: started\n");
	} else if (strcmp(mode, "stack_attr_huge") == 0) {
		gort_go_attr(&(gort_goattr){.stack_size = SIZE_MAX - 100}, noop, NULL, 0);
	} else if (strcmp(mode, "gomaxprocs_huge") == 0) {
		gort_gomaxprocs(2000000000);
	} else if (strcmp(mode, "chan_in_syscall") == 0) {
		/* With one P, channels skip their lock's exchange: only the
		 * holder of the P may be inside one (chan.h's chan_lock). */
		gort_chan *c = gort_chan_make(sizeof(int), 1);
		int v = 1;
		gort_entersyscall();
		gort_chan_trysend(c, &v);
	} else {
		CHECK(0, "unknown mode %s", mode);
	}
	for (long i = 0; i < 10000000; i++)
		gort_gosched();
	fprintf(stderr, "die_misuse %s: still alive\n", mode);
	return 1;
}

int main(int argc, char **argv)
{
	CHECK(argc == 2, "usage: die_misuse MODE");
	mode = argv[1];
	if (strcmp(mode, "go_before_main") == 0)
		gort_go(noop, NULL);
	else if (strcmp(mode, "gosched_before_main") == 0)
		gort_gosched();
	else
		gort_main(test_main, argc, argv);
	fprintf(stderr, "die_misuse %s: still alive\n", mode);
	return 1;
}
