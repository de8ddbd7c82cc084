/*
 * gort.h - the whole public API of gort, Go's runtime for C programs.
 *
 * gort gives a C program Go's execution model: goroutines multiplexed over OS
 * threads by Go's G/M/P work-stealing scheduler.  Names mirror Go's:
 *
 *     go f(x)                  gort_go(f, x)
 *     runtime.Gosched()        gort_gosched()
 *     runtime.Goexit()         gort_goexit()
 *     runtime.NumGoroutine()   gort_numgoroutine()
 *     runtime.GOMAXPROCS(n)    gort_gomaxprocs(n)
 *     runtime.NumCPU()         gort_numcpu()
 *     runtime.LockOSThread()   gort_lock_os_thread()
 *     select {}                gort_block()
 *
 * Everything not declared here is internal and may change.
 *
 * Environment, read once by gort_main:
 *     GOMAXPROCS       number of Ps (default: the CPUs this process may use,
 *                      counting the affinity mask and the cgroup CPU quota)
 *     GORT_STACK_SIZE  default goroutine stack size, e.g. "64k" or "1m"
 *                      (default 64k; rounded up to whole pages)
 *     GORT_SEED        seed for the scheduler's random choices (steal order);
 *                      unset means a fresh seed per run
 *
 * Threads, __thread and errno inside goroutines
 * ---------------------------------------------
 * A goroutine runs on whatever OS thread (M) the scheduler gives it, and may
 * resume on a different thread after any call that can block or yield
 * (gort_gosched, and every blocking gort call).  So, inside a goroutine:
 *   - errno is the current thread's errno.  Read it right after the call
 *     that set it, before any gort call; never expect it to survive one.
 *   - A __thread variable names the current thread's copy.  Its address may
 *     change across a gort call: do not keep a pointer to thread-local
 *     storage across one.  (The compiler may cache the TLS base across a
 *     call it cannot see into; gort's own code never relies on it.)
 *   - To keep one thread, call gort_lock_os_thread(): the goroutine then runs
 *     only on its thread and that thread runs no other goroutine, until the
 *     matching gort_unlock_os_thread().  Thread-bound libraries (OpenGL,
 *     per-thread credentials) need this, exactly as in Go.
 *   - The floating-point environment (rounding mode, exception masks) is
 *     per thread and is not carried across a switch.
 *
 * Stacks
 * ------
 * Goroutine stacks do not grow: each has a fixed size (GORT_STACK_SIZE, or
 * gort_goattr.stack_size per spawn) with a guard region below it.  Running
 * past the end prints "fatal error: stack overflow" naming the goroutine and
 * exits with status 2.  A single frame larger than the guard (16 KiB) can
 * step over it; build code with big stack arrays with
 * -fstack-clash-protection, or give those goroutines bigger stacks.
 *
 * Misuse
 * ------
 * Calling gort from a thread the runtime does not own (including before
 * gort_main) prints "fatal error: gort: <function> called from a thread the
 * runtime does not own ..." and exits with status 2, as do Go's own fatal
 * errors (for example "go of nil func value").
 */
#ifndef GORT_H
#define GORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GORT_NORETURN __attribute__((noreturn))
#define GORT_API __attribute__((visibility("default")))

/* ---- Running the program ------------------------------------------------ */

/*
 * gort_main starts the runtime and runs main_fn(argc, argv) as goroutine 1,
 * the main goroutine.  As in Go, the process exits when main_fn returns,
 * whatever other goroutines are doing: exit(main_fn's result).  Call it once,
 * from the program's main(); it never returns.
 */
GORT_API GORT_NORETURN void gort_main(int (*main_fn)(int argc, char **argv), int argc, char **argv);

/* ---- Goroutines --------------------------------------------------------- */

/* A goroutine's body: fn(arg). */
typedef void (*gort_func)(void *arg);

/* The largest argument block gort_go_args copies into a goroutine. */
#define GORT_GO_ARGS_MAX 64

/*
 * gort_go starts fn(arg) in a new goroutine: Go's `go fn(arg)`.  Returns the
 * new goroutine's id (1, 2, 3, ... in creation order on one P).  A NULL fn
 * is Go's fatal error "go of nil func value".
 */
GORT_API int64_t gort_go(gort_func fn, void *arg);

/*
 * gort_go_args copies size bytes (at most GORT_GO_ARGS_MAX) from args into the
 * new goroutine and calls fn with a pointer to that copy, valid until fn
 * returns: the C counterpart of the values a Go closure captures.  The
 * caller's block may be reused at once.  See gort_go_with below.
 */
GORT_API int64_t gort_go_args(gort_func fn, const void *args, size_t size);

/* Options for one spawn.  Zero fields mean the default. */
typedef struct gort_goattr {
	size_t stack_size; /* usable stack bytes, rounded up to pages */
} gort_goattr;

/* gort_go_attr is gort_go_args with options; attr may be NULL. */
GORT_API int64_t gort_go_attr(const gort_goattr *attr, gort_func fn, const void *args, size_t size);

/*
 * gort_go_with(fn, type, initializers...) spawns fn with a copy of a
 * compound literal of the given type, so no caller ever allocates just to
 * pass arguments:
 *
 *     struct job { int id; double *out; };
 *     static void work(void *p) { struct job *j = p; j->out[j->id] = ...; }
 *     ...
 *     gort_go_with(work, struct job, .id = i, .out = results);
 */
#define gort_go_with(fn, type, ...) \
	gort_go_args((fn), &(type){__VA_ARGS__}, sizeof(type))

/* gort_gosched yields the processor so other goroutines run: runtime.Gosched. */
GORT_API void gort_gosched(void);

/*
 * gort_goexit ends the calling goroutine; nothing more of it runs, and the
 * rest of the program goes on: runtime.Goexit.  Called from the main
 * goroutine, the program continues until every other goroutine has ended,
 * then fails with "fatal error: no goroutines (main called runtime.Goexit)
 * - deadlock!", as Go does.
 */
GORT_API GORT_NORETURN void gort_goexit(void);

/*
 * gort_block blocks the calling goroutine forever: Go's `select {}`.  If
 * every goroutine ends up blocked, the program fails with Go's "fatal error:
 * all goroutines are asleep - deadlock!".
 */
GORT_API GORT_NORETURN void gort_block(void);

/* gort_numgoroutine returns the number of goroutines that exist now. */
GORT_API int gort_numgoroutine(void);

/* gort_goid returns the calling goroutine's id (the main goroutine is 1). */
GORT_API int64_t gort_goid(void);

/* ---- Processors and threads --------------------------------------------- */

/*
 * gort_gomaxprocs sets the number of Ps (processors that run goroutines at
 * once) to n and returns the previous setting; n < 1 changes nothing, as in
 * Go.  Changing it stops the world, resizes the Ps and starts the world.
 */
GORT_API int gort_gomaxprocs(int n);

/* gort_numcpu returns the number of CPUs this process may use. */
GORT_API int gort_numcpu(void);

/*
 * gort_lock_os_thread wires the calling goroutine to its current thread: it
 * runs only there and the thread runs nothing else, until as many
 * gort_unlock_os_thread calls as lock calls.  A goroutine that exits while
 * locked takes its thread with it, as in Go.
 */
GORT_API void gort_lock_os_thread(void);
GORT_API void gort_unlock_os_thread(void);

#ifdef __cplusplus
}
#endif

#endif /* GORT_H */
