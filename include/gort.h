/*
 * gort.h - the whole public API of gort, Go's runtime for C programs.
 *
 * gort gives a C program Go's execution model: goroutines multiplexed over OS
 * threads by Go's G/M/P work-stealing scheduler.  Names mirror Go's:
 *
 *     go f(x)                  gort_go(f, x), gort_go_int(f, i), gort_go_with(f, T, ...)
 *     runtime.Gosched()        gort_gosched()
 *     runtime.Goexit()         gort_goexit()
 *     runtime.NumGoroutine()   gort_numgoroutine()
 *     runtime.GOMAXPROCS(n)    gort_gomaxprocs(n)
 *     runtime.NumCPU()         gort_numcpu()
 *     runtime.LockOSThread()   gort_lock_os_thread()
 *     runtime.Stack(buf, all)  gort_stack(buf, n, all)
 *     runtime.Callers(skip, pc) gort_callers(skip, pcs, n)
 *     runtime.CallersFrames    gort_frame_info(pc, frames, n)
 *     select {}                gort_block()
 *     make(chan T, n)          gort_chan_make(sizeof(T), n); collected: gort_chan_make_gc
 *     c <- v, v, ok := <-c     gort_chan_send(c, &v), ok = gort_chan_recv(c, &v)
 *     close(c)                 gort_chan_close(c)
 *     select { ... }           gort_select(cases, n, block), GORT_SELECT(...)
 *     case <-time.After(d)     gort_select_timeout(cases, n, d), GORT_SELECT_TIMEOUT(d, ...)
 *     chan T (typed)           GORT_CHAN(T), gort_chan_send_t, gort_chan_recv_t, ...
 *     sync.Mutex, RWMutex      gort_mutex, gort_rwmutex
 *     sync.WaitGroup, Once     gort_waitgroup, gort_once
 *     sync.Cond                gort_cond
 *     time.Sleep(d)            gort_sleep(d)
 *     time.NewTimer, NewTicker gort_timer_new, gort_ticker_new
 *     time.AfterFunc           gort_afterfunc
 *     <-time.After(d)          gort_after(d) (collected, as the _gc timers)
 *     pprof "goroutineleak"    gort_goroutine_leaks(), GODEBUG=goroutineleak=1
 *     (syscall hand-off)       gort_entersyscall, gort_exitsyscall, GORT_SYSCALL
 *     net.Listen, Dial         gort_listen, gort_dial (gort_conn)
 *     ln.Accept()              gort_accept
 *     c.Read, c.Write, Close   gort_conn_read, gort_conn_write, gort_conn_close
 *     c.SetDeadline(t)         gort_conn_set_deadline
 *     (RawConn.Read/Write)     gort_fd_wait
 *     defer f(x)               GORT_FRAME(return ...); gort_defer(f, x)
 *     defer c.Close(), ...     gort_defer_close(c), gort_defer_unlock(m), ...
 *     panic(v), recover()      gort_panic(msg), gort_panic_value(p, type), gort_recover()
 *     debug.SetPanicOnFault    gort_set_panic_on_fault(on)
 *     context.WithCancel, ...  gort_context_with_cancel, ... (gort_context)
 *     errgroup.WithContext     gort_errgroup_with_context, gort_errgroup_go, _wait
 *     bufio.NewReader, Writer  gort_bufio_reader_new, gort_bufio_writer_new
 *     err.Error(), %w          gort_strerror(err), gort_errorf, gort_error_wrap
 *
 * Everything not declared here is internal and may change.  The private
 * layouts that the inline code and macros compile into a program are in
 * gort/impl.h, which this header includes at its end: not API, but part of
 * the ABI that GORT_VERSION_MAJOR versions.
 *
 * Environment, read once by gort_main (or gort_start):
 *     GOMAXPROCS       number of Ps (default: the CPUs this process may use,
 *                      counting the affinity mask and the cgroup CPU quota)
 *     GORT_STACK_SIZE  default goroutine stack size, e.g. "64k" or "1m"
 *                      (default 64k; rounded up to whole pages).  Digits
 *                      with an optional k, m or g, from 16k to 1g: anything
 *                      else ends the program at start with a message naming it
 *     GORT_SEED        seed for the scheduler's random choices (steal order);
 *                      unset means a fresh seed per run
 *     GODEBUG          Go's comma-separated key=value settings (unknown keys
 *                      are ignored).  gort knows:
 *                      asyncpreemptoff=0  preempt by signal too (below);
 *                      asyncpreemptoff=1  cooperative only: the default,
 *                                         where Go's default is 0
 *                      schedtrace=N       Go's "SCHED ..." line on stderr
 *                                         every N ms
 *                      scheddetail=1      with schedtrace: a line per P,
 *                                         M and G too, as in Go
 *                      dumpsummary=1      gort's own: the SIGQUIT dump
 *                                         prints each kind of goroutine
 *                                         once, with its count and ids
 *                      gctrace=1          Go's line per collection
 *                      goroutineleak=1    gort's own: when main returns
 *                                         (gort_main), a leak check and
 *                                         the leaked goroutines' tracebacks
 *                                         (gort_goroutine_leaks)
 *     GORT_TRACE       a file: the whole run is traced into it (Go 1.19's
 *                      execution trace, for `go tool trace`), written out
 *                      at exit - see "Execution tracer" below
 *     GORT_DEBUG_ADDR  host:port: serve Go's debug endpoints there from
 *                      the start (/debug/pprof/, /debug/vars), as
 *                      gort_debug_serve does - see "Profiling" below
 *     GORT_CPUPROFILE  a file: a CPU profile of the whole run, written at
 *                      exit (go test -cpuprofile's, for any program)
 *     GORT_MEMPROFILE  a file: the heap profile at exit, after a collection
 *                      (go test -memprofile's)
 *     GORT_MEMPROFILERATE  a number: gort_set_mem_profile_rate at start-up
 *     GORT_BLOCKPROFILERATE, GORT_MUTEXPROFILEFRACTION
 *                      numbers: gort_set_block_profile_rate and
 *                      gort_set_mutex_profile_fraction at start-up
 *     GORT_TRACE_FLIGHT a file: the flight recorder runs for the whole run,
 *                      and writes the last seconds of trace there if the
 *                      program dies (panic, fatal error, SIGQUIT) - see
 *                      "Execution tracer" below
 *     GOTRACEBACK      how much a fatal error prints, as in Go: none (or 0)
 *                      no goroutines; single (the default) the failing one
 *                      (a fatal error such as a deadlock shows all); all
 *                      (or 1) every goroutine; system (or 2) also gort's
 *                      own frames; crash: system, then SIGABRT (a core
 *                      dump) instead of exit status 2
 *
 * SIGQUIT (kill -QUIT) prints every goroutine - "goroutine N [state,
 * M minutes, locked to thread]:" - and exits with status 2, as in Go;
 * unless the program installed a SIGQUIT handler before gort_main.
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
 * exits with status 2.  A single frame larger than the guard (16 KiB) could
 * step over it into the next goroutine's stack; -fstack-clash-protection
 * stops that (the frame touches each page on its way down, and meets the
 * guard), and every program built with gort's CMake targets or its
 * pkg-config Cflags gets it.  A build of your own must add it.
 *
 * Panics
 * ------
 * Where Go panics (send on closed channel, close of nil channel, close of
 * closed channel, negative WaitGroup counter, ...) gort panics too: a real
 * panic, which runs deferred calls and can be recovered (see "Defer, panic,
 * recover" below).  Unrecovered, it prints Go's report - "panic: <message>",
 * a blank line, the goroutine's header and frames - and exits with status 2
 * (GOTRACEBACK=crash: SIGABRT).  A SIGSEGV or SIGBUS in a goroutine prints
 * Go's fault report and exits with status 2 (gort_set_panic_on_fault makes
 * it a panic).  Where Go has a fatal error (unlock of unlocked mutex,
 * deadlock) gort prints "fatal error: <message>" and every goroutine, and
 * exits with status 2; a fatal error cannot be recovered.
 *
 * Errors
 * ------
 * Every gort call that can fail returns a negative code: -errno for a
 * system error (-ENOENT, -ECONNREFUSED, -EPIPE, ...), or one of gort's own
 * GORT_E* codes, from -10001 down (GORT_ETIMEOUT, GORT_ECANCELED, GORT_EOF,
 * ...; listed with their calls below), which no errno reaches.  Success is
 * 0 or a count.  errno is never the channel: a goroutine may resume on
 * another thread (above).  gort_strerror(err) names any code, with Go's
 * text for Go's errors ("i/o timeout", "context canceled", "EOF").  The one
 * exception is GORT_SYSCALL, which wraps a libc call of your own and keeps
 * libc's -1-and-errno (it carries errno across the hand-off).
 *
 * To pass an error up with what was being done - Go's
 * fmt.Errorf("...: %w", err) - fill a gort_error, a value type with the
 * code and a message chain; gort_error_is tests the code (errors.Is):
 *
 *     gort_error e;
 *     long n = gort_read(fd, buf, len);
 *     if (n < 0)
 *         return gort_errorf(&e, n, "read %s", path);  // "read x: Bad file descriptor"
 *     ...
 *     gort_error_wrap(&e, "loading config");  // "loading config: read x: ..."
 *     if (gort_error_is(&e, -ENOENT)) ...
 *
 * Calls from any thread
 * ---------------------
 * Any thread may call any gort function - one the program made, a
 * library's pool thread, the main thread of a program that called
 * gort_start.  On a thread gort did not create, the call runs as a
 * goroutine bound to that thread for the call's duration (Go's cgo
 * callback): a channel send blocks the thread until a goroutine receives,
 * a mutex parks it, gort_go spawns as usual.  The thread keeps what it
 * needs for that (an "extra M") from call to call and gives it back when
 * it exits.  Dumps show such a goroutine as "[..., locked to thread,
 * foreign thread]"; gort_goid is the same from call to call on one thread.
 * gort_goexit there is Go's fatal error "runtime.Goexit called in a thread
 * that was not created by the Go runtime".  gort_entersyscall and
 * gort_exitsyscall do nothing on such a thread (it is outside gort between
 * calls already).  No gort function may be called from a signal handler
 * (gort_signal_notify is the way to handle signals), except gort_start once
 * the runtime runs.
 *
 * Misuse
 * ------
 * Calling gort before the runtime started (before gort_main or
 * gort_start) prints "fatal error: gort: <function> called before the
 * runtime started: call gort_start first (or run the program under
 * gort_main)" and exits with status 2, as do Go's own fatal errors (for
 * example "go of nil func value").
 */
#ifndef GORT_H
#define GORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GORT_NORETURN __attribute__((noreturn))
#define GORT_API __attribute__((visibility("default")))

/* ---- Version -----------------------------------------------------------------
 *
 * MAJOR.MINOR.PATCH of this header and of the library built with it.
 * From 1.0 on, MAJOR changes whenever a program built with an earlier
 * gort.h could break with the library: a call removed or changed, or any
 * layout in gort/impl.h; MINOR changes when API is added, PATCH for
 * everything else.  Before 1.0 (now), MINOR may also break: 0.x promises
 * no API for the long term.  libgort.so's soname names the ABI -
 * libgort.so.MAJOR, and libgort.so.0.MINOR before 1.0 - so a program built
 * for another ABI is refused by the loader instead of running with the
 * wrong calls.  Numbering starts at 0.10.0 (the nine steps before it,
 * issues 1 to 9, came before versions did).  CMakeLists.txt reads the
 * numbers here.
 *
 * 0.12: one error convention (see Errors above): gort_read, gort_write,
 * gort_pread, gort_pwrite, gort_open, gort_close, gort_fsync, gort_waitpid
 * return -errno, no longer -1 with errno set, and gort_getaddrinfo gort's
 * codes, no longer EAI_*; gort_error, GORT_EOF and bufio (gort_bufio_*)
 * are new.  A program written for 0.11 that tests those calls' results
 * for -1 must test for < 0 instead (the code is in the result).
 */
#define GORT_VERSION_MAJOR 0
#define GORT_VERSION_MINOR 12
#define GORT_VERSION_PATCH 0
#define GORT_VERSION_STRING "0.12.0"
/* One number that grows with the version: 0x000a00 for 0.10.0. */
#define GORT_VERSION_NUMBER ((GORT_VERSION_MAJOR << 16) | (GORT_VERSION_MINOR << 8) | GORT_VERSION_PATCH)

/*
 * The version of the library the program runs with: GORT_VERSION_STRING
 * and GORT_VERSION_NUMBER as it was built.  With libgort.so it may be newer
 * than the header the program was compiled with (the same ABI, by the
 * soname): gort_version_number() < GORT_VERSION_NUMBER means older, and
 * the API added since is missing.  Any thread, also before gort_main.
 */
GORT_API const char *gort_version(void);
GORT_API int gort_version_number(void);

/* ---- Running the program ------------------------------------------------ */

/*
 * gort_main starts the runtime and runs main_fn(argc, argv) as goroutine 1,
 * the main goroutine.  As in Go, the process exits when main_fn returns,
 * whatever other goroutines are doing: exit(main_fn's result).  Call it once,
 * from the program's main(); it never returns.
 */
GORT_API GORT_NORETURN void gort_main(int (*main_fn)(int argc, char **argv), int argc, char **argv);

/*
 * gort_start starts the runtime without taking over the calling thread or
 * main: for a program that keeps its own main and threads and uses gort
 * for one part of its work, or for a library (call it from the library's
 * constructor).  GOMAXPROCS, GODEBUG, GOTRACEBACK and the rest of the
 * environment are read as gort_main reads them.  Goroutines run on the
 * runtime's own threads, beside the program's.  Returns 0 when this call
 * started the runtime, 1 when it was running already (an earlier
 * gort_start from any thread, or gort_main): idempotent and thread-safe;
 * when it returns, any thread may call gort (see "Calls from any thread").
 *
 * As Go's c-shared library: the runtime runs until the process exits.  The
 * thread that called gort_start may end at any time; exit() (or main
 * returning) ends the process and every goroutine with it, and no deferred
 * call runs.  The deadlock detector is off: the program's threads may call
 * in at any time.  Embedded, gort installs no SIGQUIT handler (a Go
 * library installs only those of synchronous signals): the program's
 * SIGQUIT stays its own; faults (SIGSEGV, SIGBUS) are handled as under
 * gort_main, and passed on to a handler the program installed first when
 * they are not gort's.
 *
 * gort_main after gort_start is a fatal error ("gort: gort_main called
 * after gort_start ...").  Once the runtime runs, gort_start is one atomic
 * load, safe in a signal handler; starting the runtime from a signal
 * handler is not supported, and a handler that interrupts gort_start to
 * call it on the same thread dies with "fatal error: gort: gort_start
 * called from a signal handler that interrupted gort_start ...".
 */
GORT_API int gort_start(void);

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
	size_t stack_size; /* usable stack bytes, rounded up to pages; at most
	                      1 GiB (more is a fatal error naming the call) */
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
	gort_go_args((fn), &(type){__VA_ARGS__}, \
	             sizeof(type) + GORT__STATIC_CHECK(sizeof(type) <= GORT_GO_ARGS_MAX, \
	                 "gort_go_with: the argument type is larger than GORT_GO_ARGS_MAX (64 bytes)"))

/*
 * gort_go_int starts fn(arg) in a new goroutine, for a body that takes an
 * integer - a worker's index, a descriptor: go worker(i) without a cast to
 * void * and back.  As gort_go otherwise.
 *
 *     static void worker(intptr_t id) { ... }
 *     for (int i = 0; i < n; i++)
 *         gort_go_int(worker, i);
 */
typedef void (*gort_func_int)(intptr_t arg);
GORT_API int64_t gort_go_int(gort_func_int fn, intptr_t arg);

/* GORT__STATIC_CHECK(cond, msg): a _Static_assert usable in an expression
 * (0, of type size_t).  Private: for the checks the macros make. */
#define GORT__STATIC_CHECK(cond, msg) (0 * sizeof(struct { _Static_assert(cond, msg); int gort__x; }))

/* gort_gosched yields the processor so other goroutines run: runtime.Gosched. */
GORT_API void gort_gosched(void);

/*
 * gort_preempt_point: a place where the goroutine may be preempted.  A
 * monitor thread (sysmon) asks any goroutine that has run 10 ms without
 * blocking to yield; the request takes effect at its next gort call that
 * may switch (spawning, channel operations, select, sleep) or here.  Put one in long
 * loops that make no such call.  Costs one load when not asked.
 */
GORT_API void gort_preempt_point(void);

/*
 * Preemption by signal (GODEBUG=asyncpreemptoff=0).  A goroutine still
 * running after it was asked to yield (about 20 ms) is sent SIGURG, and
 * yields on the spot if it is in the program's own code: never inside
 * gort, libc or any other shared library, nor in a signal handler.  It
 * resumes on the same thread, with its registers and errno intact.  What
 * to know before turning it on:
 *   - A goroutine may be stopped anywhere in its own code, also while it
 *     holds a pthread mutex or a spinlock of its own.  Another goroutine
 *     that then blocks its thread on that lock keeps its P; with
 *     GOMAXPROCS=1 nothing runs the holder again: a deadlock.  Share data
 *     between goroutines under gort_mutex (which parks, not blocks), or
 *     keep this off.  The same goes for code libc calls back while holding
 *     a lock (dl_iterate_phdr's callback, a pthread_once initializer).
 *   - A goroutine blocked in a system call not wrapped in GORT_SYSCALL is
 *     signalled too: calls the kernel never restarts (nanosleep, poll,
 *     epoll_wait, ...) return EINTR, as they do in Go.
 *   - gort passes every SIGURG on to a handler installed before gort_main;
 *     do not install one after it.
 *   - Only a program linked dynamically with libc, and with libgort.a or
 *     libgort.so as built, can tell gort's code from its own; otherwise gort
 *     says so on stderr and stays cooperative.
 */

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

/* ---- Deterministic mode (gort's own) ------------------------------------------
 *
 * GODEBUG=detseed=N runs the program so that one seed gives one
 * interleaving and the same output, run after run; another seed, another
 * interleaving.  A concurrency bug found under some seed replays under it
 * (tools/gort-explore runs a program under many seeds and prints the first
 * failing one as the command that replays it).  In this mode:
 *   - Goroutines run one at a time, on one P: GOMAXPROCS and
 *     gort_gomaxprocs(n) change nothing, but gort_gomaxprocs reports the
 *     number asked, as a program sizing its workers from it expects.
 *     gort_lock_os_thread works (the P is handed to the locked thread).
 *   - Every choice is drawn from one generator seeded with N: which
 *     runnable goroutine runs next, which ready select case wins, the
 *     order of timers due at the same time.  Every gort call that can
 *     switch is a scheduling point where another goroutine may be run:
 *     channel operations, select, gort_go, gort_sleep, gort_gosched, mutex
 *     lock, semaphores (WaitGroup, RWMutex, Cond), network calls.  Code
 *     between two gort calls runs without interruption: sysmon never
 *     preempts, and asyncpreemptoff=0 is ignored.
 *   - Time is virtual: gort_nanotime starts at the same value each run,
 *     moves 1 us per scheduling decision, and jumps to the next timer when
 *     no goroutine can run - a program sleeping an hour ends at once.  No
 *     goroutine runnable and no timer pending is Go's "all goroutines are
 *     asleep - deadlock!".  A loop reading the clock with no gort call
 *     inside never sees it move.
 *   - System calls (gort_entersyscall, GORT_SYSCALL, gort_read, ...),
 *     network I/O and calls from threads gort did not create are allowed,
 *     but their timing is the world's: they are counted, and at exit one
 *     line on stderr says how many and names the first.  While one is
 *     awaited, virtual time follows real time.
 *   - Calls from threads gort did not create work under gort_main, and
 *     count as the outside; gort_start (an embedded runtime) is a fatal
 *     error: the host's threads call in when they like.
 *   - A blocking call not wrapped in gort_entersyscall (GORT_SYSCALL) holds
 *     the one P: if what it waits for needs a goroutine to run - a thread's
 *     pthread_join whose thread calls gort - the program hangs, where a run
 *     with more Ps may get away with it.
 * More GODEBUG keys (a bad value of any det key ends the program at start
 * with a message naming it):
 *     detstrategy=random  (the default) a random walk: at each scheduling
 *                         point, any runnable goroutine with equal odds
 *     detstrategy=pct     PCT (Burckhardt et al., ASPLOS 2010): random
 *                         priorities, the highest runnable runs, and at
 *                         detdepth-1 random steps (of detsteps) the running
 *                         goroutine drops to the lowest
 *     detdepth=D          PCT's bug depth (default 3; 1 to 16)
 *     detsteps=K          PCT's estimate of the steps a run takes
 *                         (default 10000; gort-explore measures it)
 *     dettimeout=T        virtual time after which the run is a fatal error
 *                         (90s, 10m, 2h; no unit: seconds)
 *     detstrict=1         the first system call or I/O is a fatal error
 *                         naming it
 *     detstats=1          at exit, one line on stderr: the seed, steps,
 *                         switches, virtual time and events from outside
 *     detdump=1           an exit with a failing status prints every
 *                         goroutine first, as the SIGQUIT dump does
 * The execution trace (GORT_TRACE) takes its timestamps from the virtual
 * clock, so one seed's traces are the same bytes (with the same addresses:
 * setarch -R), but for the thread a locked goroutine's P is handed to.
 */

/* gort_det_seed: the seed of deterministic mode, or -1 when it is off. */
GORT_API int64_t gort_det_seed(void);

/* ---- Stack traces (Go's runtime.Stack, Callers, CallersFrames) ------------
 *
 * Frames come from the .eh_frame CFI and the DWARF line tables, read with
 * elfutils' libdw; gort built without it (no libdw-dev) prints no frames,
 * and gort_callers and gort_frame_info return 0.  Build with -g for file
 * and line; without debug info, names come from the symbol table.  Modules
 * are the ones loaded when gort_main started (a library dlopen'ed later
 * shows as raw pcs).  A frame's function is its C name, its arguments
 * "(...)": C keeps no argument metadata.
 */

/*
 * gort_stack writes the calling goroutine's traceback into buf, as a
 * fatal error prints it ("goroutine N [running]:", then a function line and
 * a tab-indented "file:line +0xoff" line per frame, then "created by F in
 * goroutine N"), and with all, every other goroutine after it, each after a
 * blank line (the world is stopped meanwhile, as Go does).  Returns the bytes
 * written, at most n; no NUL is added.  gort's own frames show only with
 * GOTRACEBACK=system.
 */
GORT_API int gort_stack(char *buf, size_t n, bool all);

/*
 * gort_callers fills pcs with the return addresses of the calling
 * goroutine's frames, at most n, and returns how many: skip 0 is
 * gort_callers itself, 1 its caller (Go's runtime.Callers).  Each pc is a
 * return address: give it to gort_frame_info as it is.
 */
GORT_API int gort_callers(int skip, uintptr_t *pcs, int n);

/* One frame for a pc: DWARF inlining makes one pc several frames. */
typedef struct gort_frame {
	uintptr_t pc;         /* the pc given */
	const char *function; /* the C function's name, or NULL if unknown */
	const char *file;     /* absolute path, or NULL without debug info */
	int line;             /* 0 if unknown */
	uintptr_t entry;      /* the entry of the function holding the code, or 0 */
	bool inlined;         /* this call was inlined into the next frame */
} gort_frame;

/*
 * gort_frame_info expands pc (from gort_callers: a return address) into
 * its frames, innermost first - the calls inlined at pc, then the function
 * that holds the code - like Go's CallersFrames.  Writes at most n of them
 * and returns how many there are (0: nothing known, or no libdw).  The
 * strings live as long as the program.
 */
GORT_API int gort_frame_info(uintptr_t pc, gort_frame *frames, int n);

/* gort_traceback_symbolized: can this build and this process print frames? */
GORT_API bool gort_traceback_symbolized(void);

/* ---- Defer, panic, recover ---------------------------------------------------
 *
 * Go's defer, panic and recover for C.  C cannot unwind a stack, so a
 * function that defers calls declares a frame, first thing in its body:
 *
 *     static void catch(void *errp)
 *     {
 *         const char *msg = gort_recover();    // NULL: not panicking
 *         if (msg != NULL)
 *             *(const char **)errp = msg;
 *     }
 *
 *     const char *update(struct table *t)      // Go: func update(t) (err error)
 *     {
 *         const char *err = NULL;
 *         GORT_FRAME(return err);              // what to return after a recovery
 *         gort_defer(catch, &err);
 *         gort_mutex_lock(&t->mu);
 *         gort_defer_unlock(&t->mu);           // defer t.mu.Unlock()
 *         ... code that may panic ...
 *         return NULL;
 *     }
 *
 *     void serve(gort_conn *c)                 // a function that never recovers
 *     {
 *         GORT_FRAME_NORECOVER;                // (void functions: GORT_FRAME_VOID)
 *         gort_defer_close(c);                 // defer c.Close()
 *         ...
 *     }
 *
 * - gort_defer(fn, arg) adds fn(arg) to the frame's deferred calls.  They
 *   run last-in-first-out when the function returns (any return statement,
 *   or falling off the end), and when a panic unwinds through it.  A
 *   gort_defer in a function without GORT_FRAME does not compile
 *   (gort__frame_ is undeclared); calling it in a frame that is not the
 *   goroutine's innermost live one is a fatal error.  As many calls as
 *   wanted (the first 4 cost no allocation), also in loops.
 * - gort_panic(msg) starts a panic with a message; gort_panic_value(p, type)
 *   with any pointer and a type that names it (and may format it, as Go's
 *   Error/String methods).  The goroutine's deferred calls run, innermost
 *   frame first.  If one of them calls gort_recover(), the panic stops
 *   there: when that deferred call returns, the frame's remaining deferred
 *   calls run and its function returns normally to its caller, with the
 *   value of GORT_FRAME's statement.  Frames the panic went through are
 *   gone: their code after the panic point never runs.
 * - If no deferred call recovers, the program prints "panic: <value>" (and,
 *   for panics raised while deferred calls ran, Go's nested lines with
 *   " [recovered]" marks), the goroutine's traceback, and exits with
 *   status 2.
 * - gort_recover() returns the panic's value (the message, or the pointer)
 *   when called directly by a deferred call that a panic is running, and
 *   NULL otherwise: not panicking, called from a function the deferred call
 *   called, on a normal return, during gort_goexit, or a second time.  A
 *   helper the compiler inlined into the deferred call counts as a called
 *   function too, as in Go; gort knows it from the debug info (-g, and
 *   libdw), so in a build without them give such helpers
 *   __attribute__((noinline)) to keep Go's rule.
 * - gort_goexit runs the goroutine's deferred calls before it ends it.
 *
 * What C cannot do as Go does:
 * - GORT_FRAME's statement (a return) is what the function returns after a
 *   recovery.  Local variables it reads must have been modified through a
 *   pointer (as above: a deferred call sets it) or be volatile, because
 *   recovery resumes with setjmp's rules.  (The pointer form is checked
 *   with GCC -O0 to -O3 and clang -O0 to -O2; clang -O3 can still use a
 *   stale value: there, make such variables volatile.)  Keep the statement
 *   to returning such a variable: GCC 12 -O2 computed a longer one
 *   (`return caught != NULL && strcmp(caught, "x") == 0 ? -1 : -2`) from a
 *   copy of caught taken before the panic.  On a normal return, the return
 *   value is computed before the deferred calls run: they cannot change it.
 * - A panic skips every __attribute__((cleanup)) handler and C++
 *   destructor of the frames it discards: only deferred calls run.
 * - A function must not leave its frame with longjmp (gort stops with a
 *   fatal error at the next defer or return that sees the stale frame).
 *
 * Cost: GORT_FRAME is a few stores (__builtin_setjmp saves three words),
 * and it makes the compiler keep values that are live across it in memory;
 * gort_defer is a call; a frame with deferred calls pays one more call on
 * return.  bench/defer.c measures it (README.md).
 */

/* A panic value's type: Go's dynamic type of a panic(v).  Without format,
 * an unrecovered panic prints "panic: (<name>) 0x<pointer>", as Go prints a
 * value of a type it cannot print; format writes the text instead, as Go's
 * Error or String method (it must not panic; size includes the NUL). */
typedef struct gort_panic_type {
	const char *name;
	void (*format)(const void *value, char *buf, size_t size);
} gort_panic_type;

/* The types of panics gort itself starts: gort_panic's messages (a
 * const char *), and the runtime's own errors ("send on closed channel",
 * "runtime error: invalid memory address or nil pointer dereference", ...:
 * Go's runtime.Error; the value is the message). */
GORT_API extern const gort_panic_type gort_string_type;
GORT_API extern const gort_panic_type gort_runtime_error_type;
/* An error value made by errors.New, as the time package panics with
 * ("non-positive interval for NewTicker"): the value is its message. */
GORT_API extern const gort_panic_type gort_error_type;

/*
 * panic(msg).  A NULL msg panics with the runtime error "panic called with
 * nil argument", as Go 1.21 does.  Neither call returns, but they are not
 * declared noreturn, on purpose: GCC reasons that what a function does
 * before a noreturn call (storing a pointer argument somewhere, say) can
 * never be seen by its caller, and compiles the caller so - which a
 * recovery, returning to that caller, proves wrong.  A function returning
 * a value needs a `return` after them, which never runs.
 */
GORT_API void gort_panic(const char *msg);
/* panic(v) for a value that is not a message: value with its type (NULL
 * type: printed as (void *)). */
GORT_API void gort_panic_value(const void *value, const gort_panic_type *type);

/*
 * gort_set_panic_on_fault: debug.SetPanicOnFault for the calling goroutine.
 * On, a SIGSEGV or SIGBUS in the goroutine's own code (not inside gort)
 * becomes a panic with the runtime error "invalid memory address or nil
 * pointer dereference" that a deferred call can recover; the code that
 * faulted never resumes.  Off (the default), the fault prints Go's report
 * and ends the program with status 2.  Returns the previous setting.
 */
GORT_API bool gort_set_panic_on_fault(bool on);

/*
 * GORT_FRAME(statement): first in the body of a function that defers.
 * statement runs when a deferred call of this frame recovered a panic, and
 * must leave the function: `return`, `return -1`, `return err`.
 *
 * The compiler knows a recovery only as an abnormal edge into the setjmp,
 * taken before anything else in the function - so it may answer `return
 * err` with err's value from before the frame began, although a deferred
 * call has since set it, and GCC even took a function whose every path
 * ends in a panic for one that never returns.  So each gort_defer also
 * branches to the recovery statement, on a result that is always false but
 * that the compiler cannot know: the statement is then reachable from
 * after the call that received &err, and must read err from memory.  That
 * costs a test per gort_defer.  Clang needs one thing more: it merges the
 * two edges and keeps, for the setjmp's, err's value from before the
 * frame began; the empty asm that clobbers memory at the recovery makes
 * both read err again.
 */
#define GORT_FRAME(...) \
	__attribute__((cleanup(gort__frame_exit))) gort__frame gort__frame_; \
	gort__frame_.n = 0; \
	if (__builtin_expect(__builtin_setjmp(gort__frame_.jb) != 0, 0)) { \
	gort__recovered_: __attribute__((unused)); \
		__asm__ volatile("" ::: "memory"); \
		__VA_ARGS__; \
		gort__frame_fellthrough(); \
	}

/* defer fn(arg), in a function that opened with GORT_FRAME. */
#define gort_defer(fn, arg) \
	do { \
		if (__builtin_expect(gort__defer_push(&gort__frame_, (fn), (arg)), 0)) \
			goto gort__recovered_; \
	} while (0)

/*
 * The two frames most functions want, with no statement to write:
 *   GORT_FRAME_VOID       a void function: after a recovery it returns.
 *   GORT_FRAME_NORECOVER  a function of any type whose deferred calls only
 *                         clean up (unlock, close) and never recover: no
 *                         value to make up for a return that cannot happen.
 *                         If one of them recovers a panic all the same, the
 *                         program stops with "fatal error: gort: a panic was
 *                         recovered in <function>, declared
 *                         GORT_FRAME_NORECOVER: it has no value to return".
 */
#define GORT_FRAME_VOID GORT_FRAME(return)
#define GORT_FRAME_NORECOVER GORT_FRAME(gort__frame_norecover(__func__))

/*
 * Deferring gort's own cleanups needs no adapter function: each of these
 * is gort_defer with the call that fits its argument's type (chosen at
 * compile time; another type does not compile).
 *
 *   gort_defer_close(x)   defer x.Close(), close(x), cancel():
 *                         gort_conn * (gort_conn_close, its result dropped),
 *                         gort_chan * (gort_chan_close: panics if closed),
 *                         gort_context * (gort_context_end)
 *   gort_defer_free(x)    gort_chan *, gort_timer *, gort_bufio_reader *,
 *                         gort_bufio_writer * (not flushed: flush before
 *                         returning), gort_errgroup * (what Go's collector does)
 *   gort_defer_unlock(m)  defer m.Unlock(): gort_mutex *, gort_rwmutex *
 *   gort_defer_runlock(m) defer m.RUnlock(): gort_rwmutex *
 *   gort_defer_done(wg)   defer wg.Done(): gort_waitgroup *
 *
 * For a typed channel (GORT_CHAN): gort_defer_close(gort_chan_of(h)).
 */
#define gort_defer_close(x) \
	gort_defer(_Generic((x), gort_conn *: gort__defer_conn_close, gort_chan *: gort__defer_chan_close, \
	                    gort_context *: gort_context_end), (void *)(x))
#define gort_defer_free(x) \
	gort_defer(_Generic((x), gort_chan *: gort__defer_chan_free, gort_timer *: gort__defer_timer_free, \
	                    struct gort_bufio_reader *: gort__defer_bufio_reader_free, \
	                    struct gort_bufio_writer *: gort__defer_bufio_writer_free, \
	                    struct gort_errgroup *: gort__defer_errgroup_free), \
	           (void *)(x))
#define gort_defer_unlock(m) \
	gort_defer(_Generic((m), gort_mutex *: gort__defer_mutex_unlock, \
	                    gort_rwmutex *: gort__defer_rwmutex_unlock), (void *)(m))
#define gort_defer_runlock(m) \
	gort_defer(_Generic((m), gort_rwmutex *: gort__defer_rwmutex_runlock), (void *)(m))
#define gort_defer_done(wg) \
	gort_defer(_Generic((wg), gort_waitgroup *: gort__defer_waitgroup_done), (void *)(wg))

/* recover(): only in a function deferred with gort_defer.  The type, in
 * gort_recover_typed, is set to the panic value's type (NULL: none). */
#define gort_recover() ((const void *)gort__recover(__builtin_frame_address(0), NULL))
#define gort_recover_typed(typep) gort__recover(__builtin_frame_address(0), (typep))

/* ---- Channels (Go's chan) ------------------------------------------------- */

/*
 * A channel carries elements of a fixed size, copied in and out with memcpy
 * (size 0 is chan struct{}).  A NULL gort_chan * is Go's nil channel: send
 * and receive block forever, close panics.
 *
 * gort_chan_make, _free, _len and _cap may be called from any thread; the
 * operations that can block need a goroutine.  (A thread that runs no
 * goroutine takes a P for a free once the runtime runs, as a foreign call
 * does: with GOMAXPROCS=1 a channel's lock relies on it.  Its make or free
 * waits out a collection's mark, if one is running: the mark scans the
 * buffers of the channels that live.)
 *
 * Lifetime: Go collects channels; in C the program frees them.  Free a
 * channel with gort_chan_free once no goroutine is blocked on it and none
 * will use it again - the same rule as for any shared object, and closing
 * first is not required.  Freeing a channel that goroutines are blocked on
 * is a fatal error ("gort: gort_chan_free of a channel with blocked
 * goroutines").  Any use of a freed channel's handle that starts after the
 * free returned - a second free included, and however many channels were
 * made and freed since - is a fatal error ("gort: use of a freed
 * channel"), never a fault and never an operation on another channel: a
 * gort_chan * is a handle that names one channel for good (see "Lifetimes"
 * below).  A use racing with the free is a race, as in any C program.
 *
 * Lifetimes.  gort's channels, timers and connections are handles: the
 * address of a slot that only ever holds objects of that kind (never
 * returned to malloc), with the slot's generation - which moves on at
 * every free - in the address bits x86-64 does not use.  Each operation
 * compares the handle with the one its slot records for the object living
 * there (one load and compare, on the cache line the operation touches
 * anyway), so a stale handle is told from a live one forever.  Do not dereference, mask or
 * forge handles; copy and compare them freely (one object, one handle
 * value).  A slot is reused for up to 2^21 objects, then retired: memory
 * held for good is at most one slot per two million objects made.
 */
typedef struct gort_chan gort_chan;

/* gort_chan_make: make(chan T, cap) with elem_size = sizeof(T). */
GORT_API gort_chan *gort_chan_make(size_t elem_size, size_t cap);
GORT_API void gort_chan_free(gort_chan *c);

/*
 * gort_chan_make_gc: make(chan T, cap) as Go has it - a channel the
 * collector frees once nothing refers to it, with no gort_chan_free.  The
 * channel and its buffer live in the garbage-collected heap (see "The
 * garbage-collected heap" below), and the handle is the channel's
 * address, an ordinary gort pointer: it keeps the channel alive wherever
 * the collector sees it - a variable on a goroutine's stack, a global, a
 * gort_new object, another channel's buffer, registered roots.  A
 * goroutine blocked on the channel keeps it alive too, and so does a
 * pending timer whose channel it is (gort_after).  The buffer is scanned:
 * gort pointers sent on the channel keep their objects alive while they
 * wait in it.  Every operation - send, receive, select, close, len, cap,
 * gort_chan_as - is the same as on any channel.  Call it from a goroutine
 * (or a foreign thread, which becomes one for the call), as gort_new.
 *
 * gort_chan_free on such a channel is allowed and does what it does to
 * any channel - the handle dies, and any later use is the fatal error
 * "gort: use of a freed channel" - except that the memory is left to the
 * collector: so code that frees the channels it is done with works the
 * same with either kind, and keeps the check.  (Go has no free; a no-op
 * would have lost the check, an error would have made the two kinds of
 * channel differ in a way a callee cannot see.)  A notify fd
 * (gort_chan_notify_fd) is closed only by gort_chan_free: the collector
 * never closes descriptors.  A handle hidden where the collector does not
 * look (malloc'd memory, a thread-local) does not keep the channel: a use
 * after it is collected is undefined, as for any gort_new pointer.
 */
GORT_API gort_chan *gort_chan_make_gc(size_t elem_size, size_t cap);

/* gort_chan_send: c <- *elem.  Blocks until a receiver takes it or the
 * buffer has room.  Panics "send on closed channel". */
GORT_API void gort_chan_send(gort_chan *c, const void *elem);

/* gort_chan_recv: *elem, ok = <-c.  Blocks until a value arrives; returns
 * false (and zeroes *elem) once c is closed and drained.  elem may be NULL
 * to discard the value. */
GORT_API bool gort_chan_recv(gort_chan *c, void *elem);

/* gort_chan_trysend: select { case c <- *elem: return true; default: return false }. */
GORT_API bool gort_chan_trysend(gort_chan *c, const void *elem);

/* gort_chan_tryrecv: select { case *elem, *ok = <-c: return true; default:
 * return false }.  ok may be NULL.  The pitfall: it returns true for a
 * closed channel too (*ok false, *elem zeroed), so with ok NULL a closed
 * channel looks like a zero value received, and `while
 * (gort_chan_tryrecv(c, &v, NULL))` never ends.  Prefer gort_chan_poll. */
GORT_API bool gort_chan_tryrecv(gort_chan *c, void *elem, bool *ok);

/*
 * gort_chan_poll: a receive that does not block, with its three outcomes
 * told apart - Go's
 *     select { case v, ok := <-c: ...; default: ... }
 *   GORT_RECV_VALUE   a value was received into *elem (elem may be NULL)
 *   GORT_RECV_CLOSED  c is closed and drained; *elem is zeroed
 *   GORT_RECV_EMPTY   nothing to receive now; *elem untouched (a nil
 *                     channel is always empty)
 * GORT_RECV_EMPTY is 0, so `while (gort_chan_poll(c, &v) == GORT_RECV_VALUE)`
 * drains a channel and `if (gort_chan_poll(c, &v))` means "something happened".
 */
typedef enum gort_recv_status {
	GORT_RECV_EMPTY = 0,
	GORT_RECV_VALUE = 1,
	GORT_RECV_CLOSED = 2,
} gort_recv_status;
GORT_API gort_recv_status gort_chan_poll(gort_chan *c, void *elem);

/* gort_chan_close: close(c).  Panics "close of nil channel" and "close of
 * closed channel", as Go does. */
GORT_API void gort_chan_close(gort_chan *c);

/* len(c) and cap(c); 0 for a nil channel. */
GORT_API int gort_chan_len(gort_chan *c);
GORT_API int gort_chan_cap(gort_chan *c);

/*
 * gort_chan_notify_fd: a descriptor a host's own event loop (epoll, poll,
 * libuv, libevent) waits on to learn that c has something to receive,
 * without a thread parked per wait.  Whenever a receive from c would not
 * block - a value buffered, a sender waiting, c closed - the descriptor
 * is readable.  The host then calls gort_chan_poll(c, &v) (from any
 * thread) until it returns GORT_RECV_EMPTY, which also resets the
 * descriptor; GORT_RECV_CLOSED means no value will ever come.  The host
 * never reads the descriptor itself.  No wake-up is lost: the reset and
 * the "empty" answer are one step under the channel's lock.  The
 * descriptor may be readable while c is empty (a goroutine received the
 * value first): the next poll finds it empty and resets it.
 *
 * Level-triggered waits (epoll's default, poll) need nothing more.  With
 * EPOLLET, the host must poll until GORT_RECV_EMPTY (or CLOSED) on every
 * wake-up: a channel not drained to empty raises no new edge.
 *
 * To wait for one of several channels (a select), register each one's
 * descriptor.  The descriptor (an eventfd, close-on-exec) is made on the
 * first call and owned by c: later calls return the same one, and
 * gort_chan_free closes it (remove it from the host's loop first).
 * Returns -1 with errno set if it cannot be made (EMFILE); a nil c is a
 * fatal error.  Channels without a notify fd pay one test per buffered
 * send or blocked sender.  Needs no goroutine: any thread calls it
 * directly (taking a P for the call, as gort_chan_free does).
 *
 *     int fd = gort_chan_notify_fd(results);
 *     epoll_ctl(ep, EPOLL_CTL_ADD, fd, &(struct epoll_event){.events = EPOLLIN, .data.ptr = results});
 *     ...                             // in the loop, when fd is readable:
 *     long v;
 *     gort_recv_status st;
 *     while ((st = gort_chan_poll(results, &v)) == GORT_RECV_VALUE)
 *             handle(v);
 *     if (st == GORT_RECV_CLOSED) ...  // the producers are done
 */
GORT_API int gort_chan_notify_fd(gort_chan *c);

/* ---- Typed channels (Go's chan T) --------------------------------------------
 *
 * A gort_chan * carries bytes: C cannot tell a channel of ints from one of
 * pointers, nor gort_chan_send(c, r) from gort_chan_send(c, &r).  A typed
 * handle carries its element type, as chan T does, and the _t calls check
 * every pointer against it at compile time:
 *
 *     typedef GORT_CHAN(struct result) result_chan;        // type resultChan chan result
 *     result_chan out = gort_chan_make_t(result_chan, 16);  // make(resultChan, 16)
 *     gort_chan_send_t(out, &r);                           // out <- r
 *     gort_chan_send_t(out, &(struct result){.id = 1, .ok = true});
 *     bool ok = gort_chan_recv_t(out, &r);                 // r, ok := <-out
 *
 * gort_chan_send_t(out, r) does not compile (r is not a pointer), nor does
 * a pointer to another type: "gort: the pointer does not point to the
 * element type of the channel" (qualifiers aside: a const struct result *
 * may be sent).  Passing a handle where a gort_chan * is expected does not
 * compile either.
 *
 * A handle is one pointer, copied and passed by value as a gort_chan * is;
 * {0} is the nil channel.  Declare each handle type once, with typedef: two
 * GORT_CHAN(int) spelled out are two different types to C, as two struct
 * definitions are.  gort_chan_of(h) is the gort_chan * beneath, for the
 * calls without a _t form (gort_chan_close, _free, _len, _cap,
 * gort_defer_close); gort_chan_as(H, c) makes a handle of type H from an
 * untyped channel, a fatal error if c's elements are not the size of H's
 * element type: `timer_chan tc = gort_chan_as(timer_chan, gort_timer_c(t))`
 * with typedef GORT_CHAN(int64_t) timer_chan.  C only (not C++).
 */
#define GORT_CHAN(T) union { gort_chan *gort__raw; T *gort__elem; }
#define gort_chan_of(h) ((h).gort__raw)
#define gort_chan_make_t(H, cap) ((H){.gort__raw = gort_chan_make(GORT__ELEM_SIZE(H), (cap))})
#define gort_chan_make_gc_t(H, cap) ((H){.gort__raw = gort_chan_make_gc(GORT__ELEM_SIZE(H), (cap))})
#define gort_chan_as(H, c) ((H){.gort__raw = gort__chan_as((c), GORT__ELEM_SIZE(H), #H)})
#define gort_chan_send_t(h, ...) gort_chan_send(GORT__TYPED(h, __VA_ARGS__), (__VA_ARGS__))
#define gort_chan_recv_t(h, ...) gort_chan_recv(GORT__TYPED(h, __VA_ARGS__), (__VA_ARGS__))
#define gort_chan_trysend_t(h, ...) gort_chan_trysend(GORT__TYPED(h, __VA_ARGS__), (__VA_ARGS__))
#define gort_chan_poll_t(h, ...) gort_chan_poll(GORT__TYPED(h, __VA_ARGS__), (__VA_ARGS__))

/* Private: the checks of the typed calls. */
#define GORT__ELEM_SIZE(H) sizeof(*((H){0}).gort__elem)
#define GORT__TYPED(h, ...) \
	((void)GORT__STATIC_CHECK(__builtin_types_compatible_p(__typeof__(*(__VA_ARGS__)), \
	                                                       __typeof__(*(h).gort__elem)), \
	                          "gort: the pointer does not point to the element type of the channel"), \
	 (h).gort__raw)
GORT_API gort_chan *gort__chan_as(gort_chan *c, size_t elem_size, const char *type);

/* ---- select --------------------------------------------------------------- */

enum { GORT_SEND = 1, GORT_RECV = 2 };

/* One case of a select: a send of *elem, or a receive into *elem (elem may
 * be NULL to discard; ok, if not NULL, is set false when the case fired
 * because the channel is closed).  A case on a NULL channel never fires;
 * nor does an all-zero case (an empty slot: see the labels below). */
typedef struct gort_case {
	gort_chan *chan;
	int dir;   /* GORT_SEND or GORT_RECV */
	void *elem;
	bool *ok;
} gort_case;

/* What a select returns when no case proceeded. */
#define GORT_SELECT_NONE (-1)     /* not blocking, nothing ready: Go's default case */
#define GORT_SELECT_TIMEDOUT (-2) /* the deadline passed first */

/*
 * gort_select runs Go's select over cases[0..n): it returns the index of the
 * case that proceeded, chosen uniformly at random among those ready.  If
 * none is ready: with block it waits for one; without, it returns -1
 * (GORT_SELECT_NONE, the default case).  With no cases and block it blocks
 * forever, like select {}.
 */
GORT_API int gort_select(gort_case *cases, int n, bool block);

/*
 * gort_select_deadline: a blocking select that gives up at deadline (a
 * gort_nanotime() value; 0 for none) and then returns GORT_SELECT_TIMEDOUT
 * - Go's select with a `case <-time.After(d)`, but without a timer to make
 * and free: the wait uses the runtime's own timer, on the stack, no
 * allocation.  A case that becomes ready as the deadline passes either
 * proceeds (its index is returned) or stays with its channel for another
 * goroutine (GORT_SELECT_TIMEDOUT): never both, never lost.  A deadline
 * already passed: a ready case, or GORT_SELECT_TIMEDOUT at once.  With no
 * cases (or only nil ones) it waits for the deadline.
 * gort_select_timeout: the same, timeout ns from now (<= 0: do not wait).
 */
GORT_API int gort_select_deadline(gort_case *cases, int n, int64_t deadline);
GORT_API int gort_select_timeout(gort_case *cases, int n, int64_t timeout);

/*
 * The macro form:
 *
 *     int v; bool ok;
 *     switch (GORT_SELECT(GORT_CASE_RECV(in, &v, &ok), GORT_CASE_SEND(out, &x))) {
 *     case 0: ...received v (ok false: in is closed)...; break;
 *     case 1: ...sent x...; break;
 *     }
 *
 * GORT_SELECT blocks; GORT_SELECT_DEFAULT returns -1 when no case is ready;
 * GORT_SELECT_TIMEOUT(timeout, cases...) and GORT_SELECT_DEADLINE(deadline,
 * cases...) return GORT_SELECT_TIMEDOUT when the time is up.
 * GORT_CASE_SEND's value may be a compound literal:
 * GORT_CASE_SEND(c, &(struct pt){1, 2}).
 *
 * Case labels: the idiom.  Numbered cases renumber silently when one is
 * inserted.  Name them instead: an enum of labels, used as designated
 * indices of the case array and as the switch's cases.  Moving, adding or
 * removing a case then changes no other case's label, and -Wswitch
 * (in -Wall) names a label the switch forgets:
 *
 *     enum job_case { GOT_JOB, SENT, QUIT };
 *     struct job j; bool ok;
 *     switch ((enum job_case)GORT_SELECT_TIMEOUT(GORT_SECOND,
 *                 [GOT_JOB] = GORT_CASE_RECV(jobs, &j, &ok),
 *                 [SENT]    = GORT_CASE_SEND(results, &(struct result){j.id, 42}),
 *                 [QUIT]    = GORT_CASE_RECV(quit, NULL, NULL))) {
 *     case GOT_JOB: ...
 *     case SENT: ...
 *     case QUIT: ...
 *     default: ...GORT_SELECT_TIMEDOUT...
 *     }
 *
 * A label that the array leaves out is an all-zero case, which never
 * fires: a case to turn off is left out or given a NULL channel, as Go
 * sets a channel to nil.  (gcc's -Woverride-init, in -Wextra, catches a
 * label given twice.)
 */
#define GORT_CASE_SEND(c, ...) ((gort_case){.chan = (c), .dir = GORT_SEND, .elem = (void *)(__VA_ARGS__)})
#define GORT_CASE_RECV(c, p, okp) ((gort_case){.chan = (c), .dir = GORT_RECV, .elem = (p), .ok = (okp)})
/* The same for a typed channel (GORT_CHAN): the pointer is checked against its type. */
#define GORT_CASE_SEND_T(h, ...) GORT_CASE_SEND(GORT__TYPED(h, __VA_ARGS__), __VA_ARGS__)
#define GORT_CASE_RECV_T(h, p, okp) GORT_CASE_RECV(GORT__TYPED(h, p), (p), (okp))
#define GORT_SELECT(...) \
	gort_select((gort_case[]){__VA_ARGS__}, GORT__NCASES(__VA_ARGS__), true)
#define GORT_SELECT_DEFAULT(...) \
	gort_select((gort_case[]){__VA_ARGS__}, GORT__NCASES(__VA_ARGS__), false)
#define GORT_SELECT_TIMEOUT(timeout, ...) \
	gort_select_timeout((gort_case[]){__VA_ARGS__}, GORT__NCASES(__VA_ARGS__), (timeout))
#define GORT_SELECT_DEADLINE(deadline, ...) \
	gort_select_deadline((gort_case[]){__VA_ARGS__}, GORT__NCASES(__VA_ARGS__), (deadline))
#define GORT__NCASES(...) ((int)(sizeof((gort_case[]){__VA_ARGS__}) / sizeof(gort_case)))

/* ---- sync (Go's sync package) ----------------------------------------------
 *
 * As in Go, the zero value of each type is ready to use (except gort_cond,
 * which needs its lock: GORT_COND_INIT), and a value must not be copied
 * after first use.  GORT_*_INIT are static initializers.  Their fields are
 * private (gort/impl.h): a program may declare, embed and initialize these
 * types, but not read them.  Blocked goroutines park on gort's semaphore
 * table; an uncontended Lock/Unlock never enters the scheduler.
 */

/* sync.Mutex, with Go's normal and starvation modes.  Lock and Unlock
 * without contention are inline, as Go's are: one atomic instruction each. */
typedef struct gort_mutex gort_mutex;
#define GORT_MUTEX_INIT GORT__MUTEX_INIT
static inline void gort_mutex_lock(gort_mutex *m);
GORT_API bool gort_mutex_trylock(gort_mutex *m);
static inline void gort_mutex_unlock(gort_mutex *m); /* fatal "sync: unlock of unlocked mutex" */

/* sync.RWMutex: many readers or one writer; a waiting writer holds off new readers. */
typedef struct gort_rwmutex gort_rwmutex;
#define GORT_RWMUTEX_INIT GORT__RWMUTEX_INIT
GORT_API void gort_rwmutex_lock(gort_rwmutex *rw);
GORT_API bool gort_rwmutex_trylock(gort_rwmutex *rw);
GORT_API void gort_rwmutex_unlock(gort_rwmutex *rw);
GORT_API void gort_rwmutex_rlock(gort_rwmutex *rw);
GORT_API bool gort_rwmutex_tryrlock(gort_rwmutex *rw);
GORT_API void gort_rwmutex_runlock(gort_rwmutex *rw);

/*
 * sync.WaitGroup.  It is also how to learn that a pool's workers have
 * exited, as in Go - no channel to drain: the producer closes the jobs
 * channel, each worker's receive loop ends on the close, and Wait returns
 * once every worker has returned.  (gort_errgroup does the same and
 * passes the first error up; its limit bounds the workers.)
 *
 *     static void worker(void *arg)
 *     {
 *         struct pool *p = arg;
 *         struct job j;
 *         while (gort_chan_recv(p->jobs, &j))   // false once jobs is closed and drained
 *             handle(&j);
 *         gort_waitgroup_done(&p->wg);
 *     }
 *
 *     gort_waitgroup_add(&p->wg, nworkers);
 *     for (int i = 0; i < nworkers; i++)
 *         gort_go(worker, p);
 *     for (...)
 *         gort_chan_send(p->jobs, &job);
 *     gort_chan_close(p->jobs);                  // no more jobs
 *     gort_waitgroup_wait(&p->wg);               // every worker has returned
 *     gort_chan_free(p->jobs);                   // nobody can touch it now
 */
typedef struct gort_waitgroup gort_waitgroup;
#define GORT_WAITGROUP_INIT GORT__WAITGROUP_INIT
GORT_API void gort_waitgroup_add(gort_waitgroup *wg, int delta);
GORT_API void gort_waitgroup_done(gort_waitgroup *wg);
GORT_API void gort_waitgroup_wait(gort_waitgroup *wg);

/* sync.Once: gort_once_do runs fn(arg) once; every caller returns after it has.
 * If fn panics, gort_once_do panics with it, and the Once counts as done:
 * later calls return at once without calling fn (Go's rule). */
typedef struct gort_once gort_once;
#define GORT_ONCE_INIT GORT__ONCE_INIT
GORT_API void gort_once_do(gort_once *o, void (*fn)(void *arg), void *arg);

/* sync.Cond, on a gort_mutex L.  Copying one after first use panics "sync.Cond is copied". */
typedef struct gort_cond gort_cond;
#define GORT_COND_INIT(l) GORT__COND_INIT(l)
GORT_API void gort_cond_wait(gort_cond *c);      /* unlock L, wait, relock L */
GORT_API void gort_cond_signal(gort_cond *c);
GORT_API void gort_cond_broadcast(gort_cond *c);

/* ---- Time (Go's time package) ----------------------------------------------
 *
 * Durations are int64_t nanoseconds, as Go's time.Duration.  Timers live in
 * per-P heaps run by the scheduler; a goroutine waiting on one costs no
 * thread, and an idle runtime sleeps in the kernel until the next timer with
 * microsecond resolution.
 */
#define GORT_NANOSECOND ((int64_t)1)
#define GORT_MICROSECOND ((int64_t)1000)
#define GORT_MILLISECOND ((int64_t)1000000)
#define GORT_SECOND ((int64_t)1000000000)

/* gort_nanotime: the runtime's monotonic clock, in nanoseconds. */
GORT_API int64_t gort_nanotime(void);

/* gort_sleep: time.Sleep.  d <= 0 returns at once.  Parks as "sleep". */
GORT_API void gort_sleep(int64_t d);

/*
 * A timer: time.Timer, time.Ticker or the timer of time.AfterFunc.  Channel
 * timers send the gort_nanotime() of their firing, an int64_t, on
 * gort_timer_c(t).  As in Go 1.23, once Stop or Reset returns, no value sent
 * before it can be received.  Free a timer with gort_timer_free (which
 * stops it and frees its channel) - or make it collectable (gort_timer_new_gc,
 * gort_after: time.After), which needs no free.  gort has no time.Tick.
 *
 * Lifetime: a gort_timer * is a handle (see "Lifetimes" under Channels):
 * any use of it after gort_timer_free - however many timers came and went
 * since - is a fatal error, "gort: use of a freed timer"; a nil timer is
 * one too.  (gort_timer_new_gc and gort_after, below, need no free.)
 * gort_timer_free never waits: if an AfterFunc's function is
 * running, it runs on, and the timer's memory is reclaimed when it
 * returns - so a function may free its own timer.  To free what the
 * function uses, first wait for it with gort_timer_stop_wait:
 *
 *     gort_timer_stop_wait(t);   // stopped, and its function not running
 *     gort_timer_free(t);
 *     free(state);               // what the function used
 */
typedef struct gort_timer gort_timer;

/* time.NewTimer(d): one value on gort_timer_c(t) after d. */
GORT_API gort_timer *gort_timer_new(int64_t d);
/* time.NewTicker(d): a value every d; panics "non-positive interval for
 * NewTicker" if d <= 0.  A slow receiver misses ticks, as in Go. */
GORT_API gort_timer *gort_ticker_new(int64_t d);
/* time.AfterFunc(d, f): f(arg) in its own goroutine after d. */
GORT_API gort_timer *gort_afterfunc(int64_t d, gort_func f, void *arg);

/* t.C: the channel (int64_t elements) of a Timer or Ticker; NULL for AfterFunc. */
GORT_API gort_chan *gort_timer_c(gort_timer *t);

/* Timer.Stop: true if it stopped the timer before it fired (for a channel
 * timer: before its value was received). */
GORT_API bool gort_timer_stop(gort_timer *t);
/*
 * gort_timer_stop_wait: gort_timer_stop, and then, for an AfterFunc, wait
 * until its function is no longer running in any goroutine but the
 * caller's own - so that what the function uses can be freed next, with
 * no WaitGroup of its own.  Returns what gort_timer_stop returns.  Go's
 * Stop does not wait ("if the caller needs to know whether f is
 * completed, it must coordinate with f explicitly"); gort's
 * gort_timer_stop does not either.  Called from the function itself (on
 * its own timer) it does not wait for itself; a run in another goroutine
 * that waits for the caller would deadlock, as any wait for a goroutine
 * waiting for you does.  A run that ends with gort_goexit counts as ended.
 * For a Timer or Ticker it is gort_timer_stop.
 */
GORT_API bool gort_timer_stop_wait(gort_timer *t);
/* Timer.Reset(d): re-arms the timer; true if it had been active. */
GORT_API bool gort_timer_reset(gort_timer *t, int64_t d);
/* Ticker.Reset(d); panics "non-positive interval for Ticker.Reset" if d <= 0. */
GORT_API void gort_ticker_reset(gort_timer *t, int64_t d);
/* Stops t, frees its channel; the handle is dead at once (above).  A
 * running AfterFunc function is not waited for. */
GORT_API void gort_timer_free(gort_timer *t);

/*
 * Collectable timers: time.NewTimer, NewTicker, AfterFunc and After as Go
 * has them, nothing to free.  The timer (and its channel, made with
 * gort_chan_make_gc) lives in the garbage-collected heap.  While it is
 * pending, its P's timer heap refers to it, as in Go, so it fires even if
 * the program dropped every handle; once it has fired or been stopped,
 * only what the program keeps refers to it, and the collector frees it
 * when that is gone.  gort_after(d) is time.After: the channel receives
 * the time once, after d, and `select` on it in a loop frees each round's
 * timer and channel in turn.  A collectable ticker is pending until
 * stopped: as before Go 1.23, an unstopped ticker is never collected (Go
 * 1.23 collects unreferenced ones; gort does not).  An AfterFunc's
 * argument is kept alive while it is pending.  Every call above works on
 * them; gort_timer_free, as gort_chan_free on a collectable channel, kills
 * the handle and leaves the memory to the collector.  As before Go 1.23, a
 * gort_after with a long d in a loop that usually takes another case keeps
 * each round's timer until it fires: use gort_select_timeout there.
 */
GORT_API gort_timer *gort_timer_new_gc(int64_t d);
GORT_API gort_timer *gort_ticker_new_gc(int64_t d);
GORT_API gort_timer *gort_afterfunc_gc(int64_t d, gort_func f, void *arg);
/* time.After(d): the channel (int64_t elements) of a collectable timer. */
GORT_API gort_chan *gort_after(int64_t d);

/* ---- System calls ------------------------------------------------------------
 *
 * A goroutine blocked in the kernel or in a foreign library holds its
 * thread; wrap such a call so it does not also hold its P: between
 * gort_entersyscall() and gort_exitsyscall() the P may be handed to
 * another thread (once the call lasts: below), and the other goroutines
 * keep running.
 * Call nothing else of gort in between.  errno after gort_exitsyscall is the
 * call's, even if the goroutine resumed on another thread - on that thread:
 * read it in a function that has not used errno before the call (nor in
 * an earlier turn of a loop), or through a function of its own that is not
 * inlined.  glibc's errno is a call the compiler may make once per
 * function and keep the address of - the address of the errno of a thread
 * the goroutine may have left.  gort's wrapped calls below have no such
 * trap: they return -errno.
 *
 *     n = GORT_SYSCALL(read(fd, buf, len));
 *
 * Sockets and pipes are better served by the netpoller (the net API
 * below): they wait there without a thread each.
 *
 * A call that returns at once - a read of data in the page cache - keeps
 * its P and wakes nobody.  As in Go, sysmon hands the P on only when it
 * has seen the same call at two of its rounds, and then only if goroutines
 * wait for the P or no other P is idle (else after 10 ms).  Its rounds are
 * 20 us apart, growing while nothing happens - to 10 ms, as Go's, but to
 * no more than 320 us while system calls are being made - so a call that
 * blocks holds its P for well under a millisecond.
 */
GORT_API void gort_entersyscall(void);
GORT_API void gort_exitsyscall(void);

#define GORT_SYSCALL(call) \
	__extension__({ \
		gort_entersyscall(); \
		__typeof__(call) gort_syscall_result_ = (call); \
		gort_exitsyscall(); \
		gort_syscall_result_; \
	})

/* The common blocking libc calls, wrapped so.  libc's arguments and
 * results, but errors as gort's: -errno (gort_read(-1, ...) is -EBADF).
 * gort_write to a pipe or socket whose reader has gone returns -EPIPE
 * instead of raising SIGPIPE, as Go's os.File.Write does (and, as in Go,
 * not on descriptors 1 and 2: there the program's SIGPIPE disposition
 * applies, by default ending it).  gort_getaddrinfo returns 0,
 * GORT_ENOHOST for a name that does not resolve (no name server answering
 * included), -errno (EAI_SYSTEM), -ENOMEM, or -EINVAL for bad hints; the
 * result list is freed with freeaddrinfo. */
struct addrinfo;
GORT_API long gort_read(int fd, void *buf, size_t n);
GORT_API long gort_write(int fd, const void *buf, size_t n);
GORT_API long gort_pread(int fd, void *buf, size_t n, int64_t off);
GORT_API long gort_pwrite(int fd, const void *buf, size_t n, int64_t off);
GORT_API int gort_open(const char *path, int flags, unsigned mode);
GORT_API int gort_close(int fd);
GORT_API int gort_fsync(int fd);
GORT_API int gort_waitpid(int pid, int *status, int options);
GORT_API int gort_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                              struct addrinfo **res);

/* ---- Network I/O -------------------------------------------------------------
 *
 * Go's net package, goroutine per connection: every call below looks
 * blocking to its goroutine, but a goroutine waiting for a socket parks in
 * the netpoller (epoll) and holds no thread, so ten thousand idle
 * connections cost ten thousand parked goroutines, not threads.
 *
 * Errors are returned, never raised (see Errors at the top): -errno
 * (-ECONNREFUSED, -EPIPE, -ECONNRESET, ...) or one of the GORT_E* codes
 * below.  A peer that has gone away makes a write fail with -EPIPE or
 * -ECONNRESET, never a SIGPIPE.
 *
 * Addresses are Go's "host:port" strings: "127.0.0.1:8080", "[::1]:0",
 * ":8080" (every local address), "localhost:80" (names are looked up with
 * getaddrinfo, in a system call that hands its P off).  Port 0 asks for any
 * free port; gort_conn_local_addr tells which.  Networks: "tcp", "tcp4",
 * "tcp6", "udp", "udp4", "udp6".
 *
 * Deadlines are absolute gort_nanotime() values, 0 for none, as Go's
 * SetDeadline takes a time: gort_nanotime() + 5 * GORT_SECOND.  An
 * operation still blocked when its deadline passes - or started after -
 * returns GORT_ETIMEOUT (Go's os.ErrDeadlineExceeded, "i/o timeout"); the
 * connection stays usable and a later deadline can be set.
 *
 * One goroutine may read while another writes; concurrent reads (or
 * concurrent writes) on one connection take turns, and each write is
 * whole.
 *
 * Lifetime: Close is the only step, as in Go - it wakes every goroutine
 * blocked on the connection (each call returns GORT_ECLOSED, once), waits
 * for them to let go, closes the descriptor and reclaims the memory.  The
 * handle stays safe to use for good: a gort_conn * is a handle (see
 * "Lifetimes" under Channels), and every call on a closed connection -
 * a second Close, a deferred one after an explicit one, a Read from a
 * goroutine that did not know - returns GORT_ECLOSED, Go's "use of closed
 * network connection", however many connections were opened and closed
 * since.  So Go's `defer c.Close()` together with a Close from another
 * goroutine is fine.  The same holds for listeners, UDP sockets and
 * gort_conn_from_fd's connections.
 */
#define GORT_ETIMEOUT (-10001)  /* "i/o timeout": a deadline passed */
#define GORT_ECLOSED (-10002)   /* "use of closed network connection" */
#define GORT_EADDR (-10003)     /* "invalid address": not host:port, or a bad port */
#define GORT_ENETWORK (-10004)  /* "unknown network": not tcp/udp[46] */
#define GORT_ENOHOST (-10005)   /* "no such host": the name did not resolve */

#define GORT_EOF (-10010)            /* "EOF": io.EOF, the end of a stream (bufio) */
#define GORT_EUNEXPECTEDEOF (-10011) /* "unexpected EOF": it came in the middle of a read */
#define GORT_EBUFFERFULL (-10012)    /* "bufio: buffer full": a line longer than the buffer */
#define GORT_EERROR (-10013)         /* "error": an error with a message and no other
                                        cause (gort_error_new, gort_errorf with code 0) */

/* err.Error(): the text of an error code, never NULL - Go's text for
 * gort's own codes and Go's errors, strerror's for -errno (a positive
 * errno value, as errno holds it, is named too). */
GORT_API const char *gort_strerror(long err);

/*
 * An error passed up with its context: Go's fmt.Errorf("...: %w", err).
 * code is the cause (a gort error code, or 0), msg the chain, outermost
 * first: "handshake with 10.0.0.1:80: read: i/o timeout".  A value: put
 * it on the stack, copy it, return it; nothing to free.  A message longer
 * than msg is cut short, ending in "...".
 */
typedef struct gort_error {
	int code;
	char msg[236];
} gort_error;

/* fmt.Errorf(format + ": %w", code): e's code is code, its message the
 * formatted text, then ": " and gort_strerror(code).  Returns code, so
 * that `return gort_errorf(&e, err, "...")` passes it up.  With code 0
 * (no cause), it is gort_error_new: an error all the same, as Go's
 * fmt.Errorf without %w. */
GORT_API int gort_errorf(gort_error *e, int code, const char *format, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * errors.New(text), fmt.Errorf(format) without %w: an error that is only
 * its message.  Its code is GORT_EERROR - never 0, so it counts as a
 * failure wherever gort's convention looks at the code (an errgroup's fn
 * returning it fails the group) - and returned:
 *
 *     if (status != 200)
 *         return gort_error_new(err, "GET %s: status %d", url, status);
 *
 * gort_error_is(e, GORT_EERROR) tells such an error from a system or
 * gort error; Go's sentinel errors (`var ErrX = errors.New(...)`, matched
 * by errors.Is) are codes in C: compare the code the call returned.
 */
GORT_API int gort_error_new(gort_error *e, const char *format, ...)
	__attribute__((format(printf, 2, 3)));
/* fmt.Errorf(format + ": %w", e): the formatted text goes in front of e's
 * message; the code stays.  Returns e->code. */
GORT_API int gort_error_wrap(gort_error *e, const char *format, ...)
	__attribute__((format(printf, 2, 3)));
/* errors.Is(e, code): is code the cause of e? */
static inline bool gort_error_is(const gort_error *e, int code)
{
	return e->code == code;
}

/* A TCP listener, TCP connection or UDP socket: Go's net.Listener,
 * net.Conn and net.PacketConn. */
typedef struct gort_conn gort_conn;

/* net.Listen: a TCP listener on address (SO_REUSEADDR, Linux's maximum
 * backlog).  0 and *ln set, or an error. */
GORT_API int gort_listen(const char *network, const char *address, gort_conn **ln);
/* ln.Accept: waits for the next connection (TCP_NODELAY on, as in Go).
 * Obeys ln's read deadline. */
GORT_API int gort_accept(gort_conn *ln, gort_conn **c);
/* net.Dial: a TCP connection (TCP_NODELAY on), or a connected UDP socket. */
GORT_API int gort_dial(const char *network, const char *address, gort_conn **c);
/* net.DialTimeout: gives up with GORT_ETIMEOUT after timeout ns (> 0). */
GORT_API int gort_dial_timeout(const char *network, const char *address, int64_t timeout,
                               gort_conn **c);
/* net.ListenPacket: a UDP socket bound to address. */
GORT_API int gort_listen_packet(const char *network, const char *address, gort_conn **c);
/* net.FileConn: adopt a descriptor something else opened (a socket, pipe,
 * tty, eventfd...): it is made non-blocking and polled; gort_conn_close
 * closes it.  Regular files cannot be polled: -EPERM, and fd is left open
 * and as it was, as on any failure. */
GORT_API int gort_conn_from_fd(int fd, gort_conn **c);

/* c.Read: waits for data and returns how much was read (> 0), 0 at end of
 * stream (Go's io.EOF), or an error. */
GORT_API long gort_conn_read(gort_conn *c, void *buf, size_t n);
/* c.Write: writes all n bytes, waiting as needed; returns n, or an error
 * (some bytes may have been sent before it). */
GORT_API long gort_conn_write(gort_conn *c, const void *buf, size_t n);
/* UDP: PacketConn.ReadFrom and WriteTo.  from may be NULL; it receives the
 * sender's address (struct sockaddr_in or sockaddr_in6). */
struct sockaddr;
struct sockaddr_storage;
GORT_API long gort_conn_readfrom(gort_conn *c, void *buf, size_t n, struct sockaddr_storage *from);
GORT_API long gort_conn_writeto(gort_conn *c, const void *buf, size_t n, const struct sockaddr *to,
                                unsigned tolen);
/* TCPConn.CloseWrite: shut down the sending side (the peer reads EOF). */
GORT_API int gort_conn_close_write(gort_conn *c);
/* Close: wakes every goroutine blocked on c (GORT_ECLOSED), waits for them
 * to let go, closes the descriptor, frees c.  GORT_ECLOSED if c was closed
 * already (or is being closed by another goroutine), at any later time. */
GORT_API int gort_conn_close(gort_conn *c);

/* SetDeadline, SetReadDeadline, SetWriteDeadline: t is a gort_nanotime()
 * value, 0 for none.  Wakes a goroutine blocked on c if t has passed. */
GORT_API int gort_conn_set_deadline(gort_conn *c, int64_t t);
GORT_API int gort_conn_set_read_deadline(gort_conn *c, int64_t t);
GORT_API int gort_conn_set_write_deadline(gort_conn *c, int64_t t);

/* LocalAddr().String(), RemoteAddr().String(): "127.0.0.1:8080",
 * "[::1]:8080" into buf; the length, or an error. */
GORT_API int gort_conn_local_addr(gort_conn *c, char *buf, size_t n);
GORT_API int gort_conn_remote_addr(gort_conn *c, char *buf, size_t n);
/* The port c is bound to (a listener on port 0: the port it got), or an error. */
GORT_API int gort_conn_port(gort_conn *c);
/* The descriptor, for setsockopt and the like (not to read, write or
 * close); GORT_ECLOSED once c is closed. */
GORT_API int gort_conn_fd(gort_conn *c);

/*
 * gort_fd_wait waits until fd - any pollable descriptor, also one that
 * gort does not own (a library's socket, a pipe, an eventfd) - is readable
 * (GORT_READABLE) or writable (GORT_WRITABLE), whichever of those asked
 * for comes first, or until deadline (a gort_nanotime() value, 0 for
 * none).  The goroutine parks in the netpoller meanwhile.  Returns the
 * events that hold (hang-up and error count as both), GORT_ETIMEOUT, or
 * -errno (-EBADF).  A regular file is always ready, as poll(2) says.  Go's RawConn.Read/Write
 * loop: try the non-blocking call; on EAGAIN, gort_fd_wait and try again.
 */
#define GORT_READABLE 1
#define GORT_WRITABLE 2
GORT_API int gort_fd_wait(int fd, int events, int64_t deadline);

/* ---- Context (Go's context package) and errgroup -----------------------------
 *
 * A context carries cancellation, a deadline and values down a tree of
 * calls and goroutines, as Go's context.Context:
 *
 *     ctx, cancel := context.WithTimeout(parent, 5*time.Second)
 *     defer cancel()
 *
 *     gort_context *ctx = gort_context_with_timeout(parent, 5 * GORT_SECOND);
 *     gort_defer(gort_context_end, ctx);       // in a GORT_FRAME function
 *
 * Canceling a context cancels every context derived from it; a context
 * derived from a canceled one is canceled at once, with its error; a
 * deadline later than the parent's is the parent's.  Done is a channel
 * closed on cancellation, to use in gort_select; Err says why.
 *
 * Lifetime: C has no collector, so contexts are reference-counted.  Each
 * gort_context_with_* returns a context holding one reference, its
 * creator's, which gort_context_end (Go's `defer cancel()`: cancel, then
 * release) or gort_context_release gives back.  A context holds a
 * reference to its parent, so a parent lives as long as any context
 * derived from it.  A goroutine that may still use a context after its
 * creator has let go takes a reference of its own (gort_context_retain)
 * and releases it when done.  The last release cancels the context and
 * frees it; its Done channel goes with it.  Background and TODO are never
 * freed (retain and release do nothing to them).  Context memory is never
 * handed back to malloc, so a use after the last release never faults: it
 * is a fatal error, "gort: use of a released context", as long as the
 * released context has not been reused (the next 1024 releases, at least).
 * A NULL context is Go's nil Context: the calls panic.
 *
 * All calls but the value getters need a goroutine.  Errors are the two
 * codes below, Go's context.Canceled and context.DeadlineExceeded.
 */
#define GORT_ECANCELED (-10008) /* "context canceled" */
#define GORT_EDEADLINE (-10009) /* "context deadline exceeded" */

typedef struct gort_context gort_context;

/* context.Background(), context.TODO(): never canceled, no values, no
 * deadline; Done is NULL (a nil channel: never ready in a select). */
GORT_API gort_context *gort_context_background(void);
GORT_API gort_context *gort_context_todo(void);

/* context.WithCancel(parent): a context canceled by gort_context_cancel
 * (or with parent).  The caller holds its one reference. */
GORT_API gort_context *gort_context_with_cancel(gort_context *parent);
/* context.WithDeadline(parent, d): canceled with GORT_EDEADLINE at the
 * gort_nanotime() d, unless the parent's deadline comes first. */
GORT_API gort_context *gort_context_with_deadline(gort_context *parent, int64_t deadline);
/* context.WithTimeout(parent, t): WithDeadline(parent, now + t). */
GORT_API gort_context *gort_context_with_timeout(gort_context *parent, int64_t timeout);
/*
 * context.WithValue(parent, key, val).  Keys are compared by address, as a
 * Go program uses an unexported type for its keys: take the address of a
 * variable of your own (`static char request_id_key;`), and no other code
 * can collide with it.  key must not be NULL.  Released like the others.
 */
GORT_API gort_context *gort_context_with_value(gort_context *parent, const void *key, void *val);

/* cancel(): cancels ctx and everything derived from it with
 * GORT_ECANCELED.  Idempotent; any goroutine holding a reference may call it. */
GORT_API void gort_context_cancel(gort_context *ctx);
/* One more reference to ctx (returned), for a goroutine that may outlive
 * its creator's; gort_context_release gives one back. */
GORT_API gort_context *gort_context_retain(gort_context *ctx);
GORT_API void gort_context_release(gort_context *ctx);
/* Go's `defer cancel()`: gort_context_cancel, then gort_context_release.
 * It takes a void * so that gort_defer(gort_context_end, ctx) needs no adapter. */
GORT_API void gort_context_end(void *ctx);

/* ctx.Done(): closed when ctx is canceled; NULL for a context that never
 * can be (Background, TODO, and values on them). */
GORT_API gort_chan *gort_context_done(gort_context *ctx);
/* ctx.Err(): 0 while not done, then GORT_ECANCELED or GORT_EDEADLINE. */
GORT_API int gort_context_err(gort_context *ctx);
/* ctx.Deadline(): true and *deadline (a gort_nanotime()) if ctx has one. */
GORT_API bool gort_context_deadline(gort_context *ctx, int64_t *deadline);
/* ctx.Value(key): the value of the nearest WithValue with that key, or NULL. */
GORT_API void *gort_context_value(gort_context *ctx, const void *key);

/*
 * Calls that return when ctx is done, with its error.  gort_sleep_ctx:
 * sleeps d, or less; 0 when the time has passed.  The net calls are
 * gort_dial, gort_accept, gort_conn_read, gort_conn_write that also stop
 * when ctx is done (Go's Dialer.DialContext; for the others Go's idiom of
 * a deadline set when ctx is done): no goroutine or timer per call, and a
 * deadline set on the connection keeps its meaning (GORT_ETIMEOUT when it
 * passes first).  gort_dial_ctx looks names up in a system call that ctx
 * cannot interrupt.  An error from a done ctx is the ctx's error.
 */
GORT_API int gort_sleep_ctx(gort_context *ctx, int64_t d);
GORT_API int gort_dial_ctx(gort_context *ctx, const char *network, const char *address, gort_conn **c);
GORT_API int gort_accept_ctx(gort_context *ctx, gort_conn *ln, gort_conn **c);
GORT_API long gort_conn_read_ctx(gort_context *ctx, gort_conn *c, void *buf, size_t n);
GORT_API long gort_conn_write_ctx(gort_context *ctx, gort_conn *c, const void *buf, size_t n);

/*
 * golang.org/x/sync/errgroup: goroutines working on parts of one task.
 * gort_errgroup_go runs fn(arg, err) in a goroutine; fn returns 0 for
 * success or an error (a negative code, by gort's convention), which it
 * may describe in *err (its own, zeroed, on its stack) - Go's `return
 * fmt.Errorf(...)` is one line, as gort_errorf and gort_error_new return
 * the code:
 *
 *     static int fetch(intptr_t id, gort_error *err)
 *     {
 *         long n = get(id);
 *         if (n < 0)
 *             return gort_errorf(err, n, "fetch %ld", (long)id);
 *         return 0;
 *     }
 *     ...
 *     for (int i = 0; i < n; i++)
 *         gort_errgroup_go_int(g, fetch, i);
 *     if (gort_errgroup_wait(g) != 0)                     // err := g.Wait()
 *         fprintf(stderr, "%s\n", gort_errgroup_error(g)->msg);
 *
 * gort_errgroup_wait waits for them all and returns the first error's
 * code, or 0; gort_errgroup_error then gives that error whole (its
 * message chain; an fn that left *err empty has its code's text).  A
 * group made by gort_errgroup_with_context also derives a context from
 * parent, canceled when the first fn fails or Wait returns; the group
 * owns that context (do not release it): it lives until
 * gort_errgroup_free, which frees the group after its Wait.
 */
typedef struct gort_errgroup gort_errgroup;
typedef int (*gort_errgroup_func)(void *arg, gort_error *err);
typedef int (*gort_errgroup_func_int)(intptr_t arg, gort_error *err);

GORT_API gort_errgroup *gort_errgroup_new(void);
/* errgroup.WithContext(parent): the group, and its context in *ctx. */
GORT_API gort_errgroup *gort_errgroup_with_context(gort_context *parent, gort_context **ctx);
/* g.Go(f): at the limit, waits for a goroutine of the group to finish.
 * A NULL fn is Go's fatal error "go of nil func value". */
GORT_API void gort_errgroup_go(gort_errgroup *g, gort_errgroup_func fn, void *arg);
/* g.Go with an argument block, as gort_go_args: size bytes of args are
 * copied (any size), fn gets a pointer to the copy, valid until it returns. */
GORT_API void gort_errgroup_go_args(gort_errgroup *g, gort_errgroup_func fn, const void *args, size_t size);
/* g.Go with an integer argument, as gort_go_int: fn(id, err). */
GORT_API void gort_errgroup_go_int(gort_errgroup *g, gort_errgroup_func_int fn, intptr_t id);
/* gort_errgroup_go_with(g, fn, type, initializers...): as gort_go_with,
 *     gort_errgroup_go_with(g, fetch, struct job, .id = i, .url = u); */
#define gort_errgroup_go_with(g, fn, type, ...) \
	gort_errgroup_go_args((g), (fn), &(type){__VA_ARGS__}, sizeof(type))
/* g.TryGo(f): as Go, but false (and fn not run) at the limit. */
GORT_API bool gort_errgroup_trygo(gort_errgroup *g, gort_errgroup_func fn, void *arg);
/* g.SetLimit(n): at most n goroutines at once; n < 0: no limit.  Panics
 * "errgroup: modify limit while N goroutines in the group are still active". */
GORT_API void gort_errgroup_set_limit(gort_errgroup *g, int n);
/* g.Wait(): waits for every fn, cancels the group's context, returns the
 * first error's code (0: none failed). */
GORT_API int gort_errgroup_wait(gort_errgroup *g);
/* The first error, whole, once Wait has returned it: NULL if none failed.
 * Valid until gort_errgroup_free. */
GORT_API const gort_error *gort_errgroup_error(const gort_errgroup *g);
GORT_API void gort_errgroup_free(gort_errgroup *g);

/* ---- Buffered I/O (Go's bufio) -------------------------------------------------
 *
 * A reader and a writer with a buffer, over a connection (gort_conn) or a
 * descriptor (a file, a pipe, a terminal): Go's bufio.Reader and Writer.
 *
 *     gort_bufio_reader *r = gort_bufio_reader_new(conn, 0);
 *     const char *line;
 *     long n;
 *     while ((n = gort_bufio_read_line(r, &line)) >= 0)
 *         handle(line, n);                 // n bytes, without "\n" or "\r\n"
 *     if (n != GORT_EOF)
 *         fprintf(stderr, "read: %s\n", gort_strerror(n));
 *     gort_bufio_reader_free(r);
 *
 * Results follow gort's convention (see Errors at the top), with one
 * addition: the end of the stream is GORT_EOF, never 0, so that an empty
 * line or a read of 0 bytes is not taken for it.  Where Go returns data
 * and an error together, gort returns the data and, at the next call, the
 * error - so the data before EOF comes first, then GORT_EOF.
 *
 * Over a connection, its deadlines hold (GORT_ETIMEOUT), and a context set
 * with gort_bufio_*_set_context ends a wait with the context's error
 * (the calls use gort_conn_read_ctx and gort_conn_write_ctx).  Over a
 * descriptor, reads and writes are gort_read and gort_write (a call that
 * blocks hands its P off, but cannot be interrupted): the context is
 * looked at before each, not during; to interrupt a pipe, adopt it with
 * gort_conn_from_fd.  After a timeout or a context's error, what was
 * read stays buffered: a later call (after a new deadline, say) goes on
 * where the failed one stopped - where Go hands the partial line out.
 *
 * A reader or a writer is used by one goroutine at a time, as in Go.  It
 * does not own its connection or descriptor: freeing it closes nothing,
 * and gort_bufio_writer_free does not flush.  A context set on it is used,
 * not retained: keep it alive while it is set.
 */
typedef struct gort_bufio_reader gort_bufio_reader;
typedef struct gort_bufio_writer gort_bufio_writer;

/* bufio.NewReaderSize(c, size): size 0 is Go's default, 4096; sizes below
 * 16 are 16.  NULL if c is NULL (fd < 0) or memory ran out. */
GORT_API gort_bufio_reader *gort_bufio_reader_new(gort_conn *c, size_t size);
GORT_API gort_bufio_reader *gort_bufio_reader_new_fd(int fd, size_t size);
GORT_API void gort_bufio_reader_free(gort_bufio_reader *r);
/* The context the reads obey from now on; NULL for none. */
GORT_API void gort_bufio_reader_set_context(gort_bufio_reader *r, gort_context *ctx);
/* r.Size(), r.Buffered(). */
GORT_API size_t gort_bufio_reader_size(const gort_bufio_reader *r);
GORT_API size_t gort_bufio_buffered(const gort_bufio_reader *r);

/* r.Read(p): at most one read below (none if data is buffered); > 0
 * bytes, GORT_EOF, or an error.  0 only when n is 0. */
GORT_API long gort_bufio_read(gort_bufio_reader *r, void *p, size_t n);
/* r.ReadByte(): the byte (0..255), GORT_EOF, or an error. */
GORT_API int gort_bufio_read_byte(gort_bufio_reader *r);
/*
 * r.ReadSlice(delim): *line points at the bytes up to and including the
 * first delim, in the buffer (valid until the next call on r); returns
 * their count.  At the end of the stream, the bytes after the last delim
 * come as a last line without it, then GORT_EOF.  A line longer than the
 * buffer: GORT_EBUFFERFULL, with *line at the whole buffer
 * (gort_bufio_reader_size(r) bytes, consumed: the next call goes on with
 * the rest of the line), as Go's ErrBufferFull.
 */
GORT_API long gort_bufio_read_slice(gort_bufio_reader *r, int delim, const char **line);
/* ReadSlice('\n') without the "\n" or "\r\n": the count may be 0 (an
 * empty line).  Go's ReadLine, except that a line longer than the buffer
 * is GORT_EBUFFERFULL, as for read_slice, rather than a prefix flag.
 * The line is a C string: a NUL follows its n bytes (written where the
 * "\n" or "\r" was, or in a byte the buffer keeps spare past its size),
 * so strtol, strcspn and printf("%s") may read it - up to a NUL inside
 * the line, if the stream holds one: n is the line's true length. */
GORT_API long gort_bufio_read_line(gort_bufio_reader *r, const char **line);
/*
 * io.ReadFull(r, p): exactly n bytes; returns n, or GORT_EOF if the stream
 * ended before the first byte, GORT_EUNEXPECTEDEOF if it ended after some,
 * or an error.  *got (if not NULL) is how many bytes are in p, also after
 * an error.
 */
GORT_API long gort_bufio_read_full(gort_bufio_reader *r, void *p, size_t n, size_t *got);
/* r.Peek(n): *p at the next n bytes, not consumed (valid until the next
 * call on r); returns n.  GORT_EBUFFERFULL if n is larger than the buffer;
 * GORT_EOF or an error if the stream ends (or fails) first, with *p at
 * the gort_bufio_buffered(r) bytes there are. */
GORT_API long gort_bufio_peek(gort_bufio_reader *r, size_t n, const void **p);
/* r.Discard(n): skips n bytes; returns n, or GORT_EOF or an error. */
GORT_API long gort_bufio_discard(gort_bufio_reader *r, size_t n);

/* bufio.NewWriterSize(c, size): size 0 is Go's default, 4096.  NULL if c
 * is NULL (fd < 0) or memory ran out. */
GORT_API gort_bufio_writer *gort_bufio_writer_new(gort_conn *c, size_t size);
GORT_API gort_bufio_writer *gort_bufio_writer_new_fd(int fd, size_t size);
/* Frees w without flushing it. */
GORT_API void gort_bufio_writer_free(gort_bufio_writer *w);
GORT_API void gort_bufio_writer_set_context(gort_bufio_writer *w, gort_context *ctx);
/* w.Buffered(), w.Available(). */
GORT_API size_t gort_bufio_writer_buffered(const gort_bufio_writer *w);
GORT_API size_t gort_bufio_writer_available(const gort_bufio_writer *w);
/*
 * w.Write(p): buffers p, writing the buffer out each time it fills (a
 * write larger than the buffer, into an empty one, goes straight out);
 * returns n or an error.  Errors are sticky, as Go's: once a write below
 * fails (a timeout, a closed peer, a done context), every call on w
 * returns that error, and how much of the buffer went out is unknown.
 */
GORT_API long gort_bufio_write(gort_bufio_writer *w, const void *p, size_t n);
GORT_API int gort_bufio_write_byte(gort_bufio_writer *w, int c);
GORT_API long gort_bufio_write_string(gort_bufio_writer *w, const char *s);
/* fmt.Fprintf(w, ...): the length written, or an error. */
GORT_API int gort_bufio_printf(gort_bufio_writer *w, const char *format, ...)
	__attribute__((format(printf, 2, 3)));
/* w.Flush(): writes out what is buffered; 0 or the (sticky) error. */
GORT_API int gort_bufio_flush(gort_bufio_writer *w);

/* ---- Signals as channels (Go's os/signal) ------------------------------------
 *
 * gort_signal_notify relays the signals sigs[0..n) to c, a channel of int
 * (gort_chan_make(sizeof(int), cap)): the signal's number is sent, without
 * blocking - if c is full, c misses it (Go's rule: give c the buffer it
 * needs; a cap of 1 is enough for one kind of signal).  n == 0 means every
 * signal that can be relayed.  Signals of one kind that arrive before the
 * relay takes them count once.  Works under gort_main and embedded
 * (gort_start), for signals sent to any thread.
 *
 *     gort_chan *c = gort_chan_make(sizeof(int), 1);
 *     gort_signal_notify(c, (int[]){SIGINT, SIGTERM}, 2);
 *     int sig;
 *     gort_chan_recv(c, &sig);          ... shut down cleanly ...
 *
 * The program's handlers are never taken silently: a handler installed
 * before gort_signal_notify still runs, after gort queues the signal.
 * gort_signal_reset (or gort_signal_stop of the last channel asking for a
 * signal) puts back the disposition the signal had before - so SIGINT,
 * once no channel asks for it, kills the program again.  Asking for
 * SIGQUIT turns off gort's SIGQUIT dump until then, as in Go.
 *
 * Panics (Go's words where Go has them): a NULL channel ("os/signal:
 * Notify using nil channel"), a channel not of int, an invalid number,
 * SIGKILL and SIGSTOP (they cannot be caught), the faults SIGSEGV, SIGBUS,
 * SIGFPE, SIGILL and SIGTRAP (reported where they happen), SIGURG while
 * asynchronous preemption uses it.  A relay goroutine, in a system call
 * while it waits, runs from the first gort_signal_notify on: as in Go, the
 * deadlock detector cannot fire after that.
 */
GORT_API void gort_signal_notify(gort_chan *c, const int *sigs, int n);
/* signal.Stop: c receives no more signals once it returns. */
GORT_API void gort_signal_stop(gort_chan *c);
/* signal.Ignore: the signals are ignored (SIG_IGN) and no channel gets them. */
GORT_API void gort_signal_ignore(const int *sigs, int n);
/* signal.Reset: no channel gets them; their disposition from before gort. */
GORT_API void gort_signal_reset(const int *sigs, int n);
/* signal.Ignored: is sig ignored now? */
GORT_API bool gort_signal_ignored(int sig);

/* ---- The garbage-collected heap (Go's new, runtime.GC, SetFinalizer) ---------
 *
 * gort_new(size) returns size zeroed bytes from a heap the collector
 * frees once nothing reachable points into them - as Go's new and make.
 * No free: drop the last pointer.  Small objects (up to 32 KiB) come from
 * per-P caches with no lock, a few ns; 8-byte aligned, 16 when the size
 * class is a multiple of 16 (every size above 24).  Call these from a
 * goroutine (or a foreign thread: it becomes one for the call), never
 * between gort_entersyscall and gort_exitsyscall.
 *
 * What the collector sees (README: "The heap"): it stops the world and
 * marks conservatively from every goroutine's stack and saved registers,
 * the data and bss of the executable and its libraries, channel buffers
 * and the roots registered below - any word that points into an object,
 * interior pointers included, keeps it.  It does NOT see: pointers stored
 * only in malloc'd memory (register it with gort_gc_add_roots), in
 * thread-local variables, on the stacks of threads gort does not run,
 * or disguised (xor'd, tagged beyond the object, stored as a smaller int).
 *
 * gort_new_noscan: the object is never scanned - for bytes, numbers,
 * buffers: cheaper to collect, and no false retention from its contents.
 * gort_new_array(n, size): n * size bytes, or Go's panic "makeslice: len
 * out of range" if that overflows.
 */
GORT_API void *gort_new(size_t size);
GORT_API void *gort_new_noscan(size_t size);
GORT_API void *gort_new_array(size_t n, size_t size);
GORT_API void *gort_new_array_noscan(size_t n, size_t size);

/* runtime.GC: a full collection now, returning when it is swept; the
 * finalizers of what it found unreachable are queued. */
GORT_API void gort_gc(void);

/*
 * gort_set_finalizer(p, fn): runtime.SetFinalizer.  When the object at p
 * (the start of a gort_new block) becomes unreachable, fn(p) runs on the
 * finalizer goroutine, once; the object survives the collection that
 * queued it, and fn may store it somewhere reachable again
 * (resurrection).  fn NULL removes the finalizer.  An object reachable
 * from another finalized object waits for that one's finalizer first; a
 * cycle of finalized objects is never collected (as in Go).  Go's fatal
 * errors: "runtime.SetFinalizer: first argument is nil", "... pointer not
 * in allocated block", "... pointer not at beginning of allocated block",
 * "... finalizer already set".  A pointer into the program's globals is
 * accepted and ignored, as Go does.
 */
typedef void (*gort_finalizer_func)(void *obj);
GORT_API void gort_set_finalizer(void *p, gort_finalizer_func fn);
/* runtime.KeepAlive: p stays reachable at least until this call. */
GORT_API void gort_keepalive(const void *p);

/*
 * Leaked goroutines (Go 1.26's goroutineleak profile).  gort_goroutine_leaks
 * runs a collection that also finds the goroutines blocked for ever, and
 * returns how many it found: goroutines blocked on a channel (send,
 * receive, a nil channel), a select with no deadline (select {} and
 * gort_block too) or a sync object (gort_mutex, gort_rwmutex, gort_waitgroup,
 * gort_cond) that no goroutine which may still run can reach - through
 * its stack, the globals, the heap, registered roots, or another such
 * goroutine's stack, transitively.  Goroutines sleeping, in I/O, in a
 * system call or in a select with a deadline are never leaked.  They are
 * reported, not freed (their stacks stay roots); the last check's finding
 * marks their headers in every traceback - the SIGQUIT dump, gort_stack,
 * the goroutine profile at debug 2 - as Go's do:
 *
 *     goroutine 7 [chan receive (leaked)]:
 *
 * The profile "goroutineleak" (gort_pprof_lookup_write, and
 * /debug/pprof/goroutineleak) runs a check first and lists the leaked
 * goroutines' stacks as the goroutine profile does ("goroutineleak
 * profile: total N" at debug 1); GODEBUG=goroutineleak=1 runs one as main
 * returns and prints each leaked goroutine's traceback on stderr.
 *
 * Only objects in the garbage-collected heap can be judged: a goroutine
 * blocked on a channel from gort_chan_make (malloc'd), or on a mutex in a
 * global, on a stack or in malloc'd memory, is always counted as
 * reachable, so never reported.  Use gort_chan_make_gc and gort_new'd
 * sync objects to have leaks found.  A report is sound as far as the
 * collector sees every reference (the rules above: a handle hidden in
 * malloc'd memory is not seen); it is not complete - a channel kept in a
 * global nobody will use again still counts as reachable, and so may one
 * a stale word on a stack happens to point at.
 */
/* Call it from a goroutine; it stops the world for a whole collection. */
GORT_API int gort_goroutine_leaks(void);

/* Roots: [p, p+n) is scanned at every collection until removed (memory
 * from malloc, mmap, a foreign library, that holds gort pointers).
 * Registering p again replaces its length. */
GORT_API void gort_gc_add_roots(const void *p, size_t n);
GORT_API void gort_gc_remove_roots(const void *p);

/*
 * Pacing.  GOGC (a percentage; "off") and GOMEMLIMIT (bytes, Go's
 * syntax: 512MiB, 2GiB, 1000000; "off") are read at start-up.
 * debug.SetGCPercent: a negative percent turns collection off (except
 * under a memory limit); returns the previous setting.
 * debug.SetMemoryLimit: a soft limit on the heap's memory; a negative
 * limit only reads it; returns the previous one (INT64_MAX: none).  Soft:
 * a live heap that does not fit goes past it, and then, as Go's GC CPU
 * limiter does, collections the limit asks for are put off so that they
 * take about half of the CPU at most (one CPU-second per P of leeway).
 * debug.FreeOSMemory: collect, then give every free page back to the OS.
 * GODEBUG=gctrace=1 prints Go's line per collection on stderr.
 */
GORT_API int gort_set_gc_percent(int percent);
GORT_API int64_t gort_set_memory_limit(int64_t limit);
GORT_API void gort_free_os_memory(void);

/* runtime.MemStats' main fields (bytes unless said); read with the world
 * stopped, as Go's ReadMemStats. */
typedef struct gort_mem_stats {
	uint64_t alloc;          /* bytes of allocated heap objects (= heap_alloc) */
	uint64_t total_alloc;    /* cumulative bytes allocated */
	uint64_t sys;            /* obtained from the OS: heap and its metadata */
	uint64_t mallocs;        /* cumulative objects allocated */
	uint64_t frees;          /* cumulative objects freed */
	uint64_t heap_alloc;
	uint64_t heap_sys;
	uint64_t heap_idle;      /* in free spans */
	uint64_t heap_inuse;     /* in spans with objects */
	uint64_t heap_released;  /* given back to the OS */
	uint64_t heap_objects;
	uint64_t next_gc;        /* the heap goal (0: none) */
	uint64_t last_gc;        /* when the last collection ended, ns since 1970 */
	uint64_t pause_total_ns;
	uint64_t pause_ns[256];  /* recent pauses, pause_ns[(num_gc+255)%256] the last */
	uint32_t num_gc;
	uint32_t num_forced_gc;  /* by gort_gc */
	double gc_cpu_fraction;  /* of the CPU time available since start-up */
	uint64_t pause_end[256]; /* when each of pause_ns ended, ns since 1970 (Go's PauseEnd) */
} gort_mem_stats;
GORT_API void gort_read_mem_stats(gort_mem_stats *m);

/* ---- Metrics (Go's runtime/metrics) -----------------------------------------
 *
 * gort_read_metrics fills *m with the scheduler's state and counters since
 * start-up.  It is meant to be called often (once a second is cheap): it
 * reads per-P counters without stopping anything, takes sched.lock once,
 * and counts goroutines by state in chunks of 4096 under the lock of the
 * goroutine list (about 1 ns a goroutine: bench/metrics.c).  Values are a
 * racy snapshot, as Go's are: exact when the program is quiet.  Call it
 * from a goroutine.
 *
 * Versioning: fields are only ever appended, never changed or removed.
 * The caller sets m->size = sizeof(gort_metrics) as it was compiled; the
 * library fills the fields it knows within that size, zeroes any further
 * ones it does not know, and sets m->version to its GORT_METRICS_VERSION,
 * which tells which fields are real.  Returns 0, or -1 if m->size is
 * smaller than version 1's struct.
 *
 *     gort_metrics m = {.size = sizeof m};
 *     gort_read_metrics(&m);
 */
#define GORT_METRICS_VERSION 3
#define GORT_METRICS_SCHEDLAT_BUCKETS 24

typedef struct gort_metrics {
	uint32_t version;                 /* out: the library's GORT_METRICS_VERSION */
	uint32_t size;                    /* in: sizeof(gort_metrics) */
	/* ---- version 1 ---- */
	int64_t uptime_ns;                /* since gort_main */
	int64_t goroutines;               /* live goroutines: the four below */
	int64_t goroutines_runnable;      /* queued, not running */
	int64_t goroutines_running;
	int64_t goroutines_syscall;       /* in gort_entersyscall..gort_exitsyscall */
	int64_t goroutines_waiting;       /* blocked: channel, select, sync, sleep, I/O */
	int64_t threads;                  /* Ms (OS threads running goroutines), not sysmon */
	int64_t threads_idle;             /* Ms asleep for want of work */
	int64_t threads_spinning;         /* Ms looking for work */
	int64_t procs;                    /* GOMAXPROCS */
	int64_t procs_idle;
	int64_t runqueue_global;          /* runnable goroutines on the global queue */
	int64_t runqueue_local;           /* ... on the Ps' queues, runnext included */
	int64_t runqueue_local_max;       /* ... on the longest one */
	uint64_t context_switches;        /* goroutines started or resumed on an M */
	uint64_t spawns;                  /* goroutines created */
	uint64_t steals;                  /* successful steals from another P's queue */
	uint64_t stolen_goroutines;       /* goroutines those steals moved */
	/*
	 * Scheduling latency - from runnable (spawned, readied, yielded) to
	 * running - of one in sched_latency_sample_period readies per P (a
	 * clock read for each would cost more than a hand-off).  Bucket 0
	 * counts latencies below 256 ns, bucket i in [2^(i+7), 2^(i+8)) ns,
	 * the last one 2^30 ns (~1.07 s) or more: gort_metrics_sched_latency_ns.
	 */
	uint64_t sched_latency_sample_period;
	uint64_t sched_latency[GORT_METRICS_SCHEDLAT_BUCKETS];
	/* ---- version 2: the garbage-collected heap (gort_read_mem_stats has more) ---- */
	uint64_t heap_live_bytes;         /* marked by the last collection, plus allocated since */
	uint64_t heap_goal_bytes;         /* the next collection starts here (0: none) */
	uint64_t heap_sys_bytes;          /* mapped for the heap */
	uint64_t heap_released_bytes;     /* ... of which given back to the OS */
	uint64_t gc_cycles;
	uint64_t gc_pause_total_ns;
	/*
	 * ---- version 3: the heap, under Go's runtime/metrics names where one
	 * fits (heap_goal_bytes is /gc/heap/goal:bytes, gc_cycles
	 * /gc/cycles/total:gc-cycles).  Object counts are the P caches'
	 * counters summed without stopping anything: racy, as Go's.
	 */
	uint64_t gc_heap_allocs_bytes;      /* /gc/heap/allocs:bytes - allocated, ever */
	uint64_t gc_heap_allocs_objects;    /* /gc/heap/allocs:objects */
	uint64_t gc_heap_frees_bytes;       /* /gc/heap/frees:bytes - freed by sweeping, ever */
	uint64_t gc_heap_frees_objects;     /* /gc/heap/frees:objects */
	uint64_t gc_heap_objects;           /* /gc/heap/objects:objects - allocated, not yet freed */
	uint64_t heap_objects_bytes;        /* /memory/classes/heap/objects:bytes - their bytes */
	uint64_t gc_cycles_forced;          /* /gc/cycles/forced:gc-cycles (gort_gc) */
	uint64_t gc_pause_last_ns;          /* the last collection's stop-the-world pause */
	/* /gc/pauses:seconds - every pause, in the buckets of sched_latency
	 * (gort_metrics_sched_latency_ns gives their lower bounds) */
	uint64_t gc_pauses[GORT_METRICS_SCHEDLAT_BUCKETS];
} gort_metrics;

GORT_API int gort_read_metrics(gort_metrics *m);

/* The lower bound, in ns, of scheduling latency bucket i (0 for i = 0). */
GORT_API int64_t gort_metrics_sched_latency_ns(int i);

/* ---- Execution tracer (Go's runtime/trace) ---------------------------------
 *
 * A trace records what the scheduler did - every goroutine created,
 * started, blocked (on what, and where), unblocked (by whom), every system
 * call and every P started and stopped - in Go 1.19's format, so that Go's
 * own viewer opens it: `go tool trace file` (the timeline, the goroutine
 * analysis, the blocking profiles, the user tasks and regions).  Stacks
 * show the C functions with file:line (build with -g); gort's own frames
 * are trimmed to the API call the program made.
 *
 *     GORT_TRACE=/tmp/run.trace ./prog      the whole run, written at exit
 *
 * or from the program: gort_trace_start(fd) ... gort_trace_stop().  A
 * thread of gort's own writes the trace to fd as it fills (64 KiB at a
 * time), so no goroutine waits on the file.  A failed write (disk full,
 * reader gone) stops the tracing with a message on stderr; the program
 * goes on, and gort_trace_stop returns the error.  Both stop the world for
 * a moment: start to record what every goroutine is doing (about 75 ns a
 * goroutine: 75 ms for a million), stop to collect the buffers; the stacks
 * are symbolized after the world restarts.  Call them from a goroutine.
 *
 * While tracing is off, the tracer costs the scheduler one predicted branch
 * at each transition.  On, goroutine switches cost 1.3 to 2.5 times as much
 * (bench/trace.sh; Go 1.19's tracer: 1.6 to 11 times): an event is a few
 * dozen ns, its stack is unwound once per call path and then found again
 * by checking the return addresses on the stack.  A run that dies (fatal
 * error, unrecovered panic, signal) leaves only the buffers written so far
 * (the flight recorder, below, writes its last seconds instead).
 */
#define GORT_ETRACEON (-10006)  /* "tracing is already enabled" */
#define GORT_ETRACEOFF (-10007) /* "tracing is not enabled" */

/* Start tracing into fd (kept open; the caller closes it after stop).
 * 0, -EBADF, or GORT_ETRACEON if a trace is being taken already. */
GORT_API int gort_trace_start(int fd);
/* Stop, write out the rest and wait until it is written.  0, GORT_ETRACEOFF
 * if no trace was being taken, or the write error (-errno) that cut the
 * trace short. */
GORT_API int gort_trace_stop(void);
/* Is a trace being taken? (Go's trace.IsEnabled) */
GORT_API bool gort_trace_enabled(void);

/*
 * The flight recorder (Go 1.25's trace.FlightRecorder): the last seconds
 * of the trace, kept in memory and written out on demand - when a request
 * was slow, when a check failed - or, with GORT_TRACE_FLIGHT=file, into
 * file when the program dies of an unrecovered panic, a fatal error or
 * SIGQUIT: the seconds before the crash, crashing goroutine included.
 *
 *     GORT_TRACE_FLIGHT=/tmp/crash.trace ./prog   written only if it dies
 *
 * Events go to generations in memory: each covers at most min_age / 2 and
 * max_bytes / 2 of the run; the oldest are dropped while the others still
 * cover min_age, or while they all hold more than max_bytes (max_bytes
 * wins).  So the recorder keeps at least min_age of the run if max_bytes
 * allows, and at most max_bytes (and the one 64 KiB buffer each P is
 * filling) - while no write is under way, which keeps what it writes.  A
 * written trace is Go 1.19's, for `go tool trace`, from the start of its
 * oldest generation: what each goroutine was doing then is inferred from
 * its first event, so starting the recorder, and each generation, visits
 * no goroutine (no stop of the world that grows with their number).  In
 * its traces goroutines started before it have no start function, and a
 * system call's return shows as an unblock (GoUnblock).
 *
 * A flight recording is a trace: gort_trace_enabled is true and the user
 * annotations are recorded (their names - tasks, regions, log categories -
 * are kept for the whole recording, outside max_bytes: use a fixed set).  One or the other runs, not both:
 * gort_trace_start returns GORT_ETRACEON while the recorder runs, and
 * gort_trace_flight_start while a trace is taken (Go 1.25 allows both).
 * Events cost what they cost in a trace; the writes cost nothing while
 * the program runs.  Call these from a goroutine.
 */
typedef struct gort_trace_flight_config {
	int64_t min_age_ns; /* keep at least this much of the run (0: 10 s) */
	uint64_t max_bytes; /* keep at most this much (0: 10 MiB; 256 KiB to 256 MiB) */
} gort_trace_flight_config;

/* Start recording (cfg NULL: the defaults).  0, or GORT_ETRACEON if the
 * recorder or a trace runs already. */
GORT_API int gort_trace_flight_start(const gort_trace_flight_config *cfg);
/* Write what the recorder holds to fd as one trace (Go's WriteTo) - the
 * world stops a moment to cut every P's events at one point, the writing
 * is done while it runs.  Recording goes on.  The bytes written, or
 * GORT_ETRACEOFF (not recording), -EBUSY (another write is under way),
 * -EBADF, or the write error (-errno). */
GORT_API int64_t gort_trace_flight_write(int fd);
/* Stop recording and drop what it holds.  0, GORT_ETRACEOFF if it was not
 * recording, -EBUSY while a write is under way. */
GORT_API int gort_trace_flight_stop(void);
GORT_API bool gort_trace_flight_enabled(void);

/* What the recorder holds (all 0 when it does not run). */
typedef struct gort_trace_flight_stats {
	uint64_t bytes;       /* events held, in full buffers */
	uint64_t peak_bytes;  /* the most held at once (outside writes) */
	uint64_t max_bytes;   /* the limit in force */
	uint32_t generations; /* held, the one being filled included */
	uint64_t dropped;     /* generations dropped so far */
	int64_t window_ns;    /* from the start of the oldest held to now */
} gort_trace_flight_info;
GORT_API void gort_trace_flight_stats(gort_trace_flight_info *st);

/*
 * User annotations, as in runtime/trace, shown on go tool trace's "User-
 * defined tasks" and "User-defined regions" pages.  A task is a logical
 * operation, maybe across goroutines (a request); 0 is no task.  A region
 * is a span of time in one goroutine, in a task or not: regions nest, and
 * each end must match the innermost begin (same task, same name).  A log
 * is a message with a category, at a moment, in a task.  All cost one
 * branch while tracing is off; task ids are handed out anyway, so a task
 * made before the trace started can still be ended.  From a goroutine
 * (elsewhere they record nothing).
 */
typedef uint64_t gort_trace_task;
GORT_API gort_trace_task gort_trace_task_new(gort_trace_task parent, const char *name);
GORT_API void gort_trace_task_end(gort_trace_task task);
GORT_API void gort_trace_region_begin(gort_trace_task task, const char *name);
GORT_API void gort_trace_region_end(gort_trace_task task, const char *name);
GORT_API void gort_trace_log(gort_trace_task task, const char *category, const char *message);

/*
 * GORT_TRACE_REGION(task, name): a region from here to the end of the
 * enclosing block (trace.WithRegion).  name must outlive the block.  A
 * panic that unwinds the block skips the end, as it skips every cleanup
 * handler (see "Defer, panic, recover").
 *
 *     { GORT_TRACE_REGION(task, "parse"); parse(req); }
 */
#define GORT_TRACE_REGION(task, name) \
	__attribute__((cleanup(gort__trace_region_exit), unused)) gort__trace_region \
	GORT__TRACE_CAT(gort__trace_region_, __COUNTER__) = gort__trace_region_enter((task), (name))

/* ---- Profiling (Go's runtime/pprof, net/http/pprof, expvar) ------------------
 *
 * Profiles in pprof's format (profile.proto, gzipped), symbolized inside:
 * functions, files and lines travel in the profile, so `go tool pprof
 * -top file` (or google's pprof) reads it without the binary.  Like Go's:
 *
 *   goroutine     every goroutine's stack, counted by identical stack (the
 *                 world is stopped meanwhile, as Go does)
 *   threadcreate  where each thread (M) was created
 *   block         time goroutines spent blocked on channels, select and
 *                 sync (not sleeps or I/O), once gort_set_block_profile_rate
 *                 turned it on; a wait is timed until the goroutine runs
 *                 again (Go: until it is woken)
 *   mutex         contended gort_mutex / gort_rwmutex waits, charged to the
 *                 stack of the unlock that ended them, once
 *                 gort_set_mutex_profile_fraction turned it on
 *   CPU           gort_pprof_start_cpu ... gort_pprof_stop_cpu: SIGPROF at
 *                 100 Hz of each thread's CPU time (a timer per thread, as
 *                 Go 1.18+), the running goroutine's stack - or the
 *                 scheduler's - per sample
 *
 * Stacks keep the program's frames and, on top, the gort call it made
 * (gort_chan_recv; gort__mutex_lockslow for the inline gort_mutex_lock);
 * the goroutine and CPU profiles keep gort's frames too, as Go's keep the
 * runtime's.  Build with -g for files and lines.  Call these from a
 * goroutine; they block its thread while they symbolize.  The goroutine
 * profile (debug 0 and 1, as debug 2) stops the world while it takes the
 * stacks: a goroutine that never reaches a preemption point (see
 * gort_preempt_point) holds it up, as it holds up gort_stack(all).
 *
 * The CPU profiler installs a SIGPROF handler at its first start (and keeps
 * it).  A system call interrupted by it is restarted (SA_RESTART), but, as
 * in Go, some calls return EINTR regardless (nanosleep, epoll_wait, ...).
 * Off, the profilers cost one predicted branch per block or unlock.
 */
#define GORT_ECPUPROFON (-10020)  /* "cpu profiling already in use" */
#define GORT_ECPUPROFOFF (-10021) /* "cpu profiling is not enabled" */

/*
 * pprof.Lookup(name).WriteTo(fd, debug): name is "goroutine",
 * "goroutineleak" (gort_goroutine_leaks), "threadcreate", "block",
 * "mutex", "heap" or "allocs".  debug 0: the gzipped protobuf; 1: Go's
 * legacy text ("goroutine profile: total N", then "count @ pcs" and
 * "#\tpc\tfunction+off\tfile:line" lines; the heap's "heap profile: ..."
 * and its "# runtime.MemStats" trailer); 2, goroutine only: every
 * goroutine's traceback, as gort_stack(all) and a panic print them.  0,
 * -ENOENT for an unknown name, or the write's -errno.
 *
 * heap, allocs: the same records of sampled allocations (one object
 * every gort_set_mem_profile_rate bytes on average, with its stack), as
 * of the last collection - inuse_objects/inuse_space (allocated and not
 * yet found dead) and alloc_objects/alloc_space (all since start-up); the
 * proto scaled up by the sampling rate as Go's, its default sample type
 * inuse_space for heap, alloc_space for allocs.  pprof.WriteHeapProfile
 * is gort_pprof_lookup_write("heap", fd, 0), after gort_gc() for an
 * up-to-date profile.
 */
GORT_API int gort_pprof_lookup_write(const char *name, int fd, int debug);

/* pprof.StartCPUProfile(fd): 0, -EBADF, or GORT_ECPUPROFON if a CPU profile
 * is being taken already.  stop writes the profile to fd (kept open; the
 * caller closes it) and returns 0, the write's -errno, or GORT_ECPUPROFOFF. */
GORT_API int gort_pprof_start_cpu(int fd);
GORT_API int gort_pprof_stop_cpu(void);
/* runtime.SetCPUProfileRate(hz), for the next start: 100 by default.
 * 0, or -EINVAL outside 1..1000000. */
GORT_API int gort_set_cpu_profile_rate(int hz);

/* runtime.MemProfileRate = rate: one sample every rate bytes allocated on
 * average (512 KiB by default), 1: every object, 0: off.  Set it early,
 * as Go asks.  Returns the previous rate; rate < 0 only reads it. */
GORT_API int gort_set_mem_profile_rate(int rate);

/* runtime.SetBlockProfileRate(rate): a wait of rate ns or more is always
 * recorded, a shorter one with probability wait/rate (and counted
 * rate/wait times, Go's unbiasing); 1: every wait; <= 0: off (default). */
GORT_API void gort_set_block_profile_rate(int rate);
/* runtime.SetMutexProfileFraction(rate): one contention in rate on average
 * is recorded (the profile scales them back up); 0: off (default); < 0:
 * only reads.  Returns the previous rate. */
GORT_API int gort_set_mutex_profile_fraction(int rate);

/*
 * Go's debug endpoints, served by gort's own net API on addr ("host:port";
 * bind a loopback address: anyone who can connect can read every stack and
 * stall the program for as long as a profile takes):
 *
 *   /debug/pprof/                 the index page (net/http/pprof's)
 *   /debug/pprof/goroutine?debug=0|1|2, /goroutineleak, /block, /mutex,
 *                 /threadcreate, /heap (?gc=1: gort_gc first), /allocs
 *                                 (?seconds=N: the delta over N s, as Go's)
 *   /debug/pprof/profile?seconds=N   a CPU profile of N s (default 30)
 *   /debug/pprof/trace?seconds=N     an execution trace of N s (default 1)
 *   /debug/pprof/cmdline          the command line, NUL-separated
 *   /debug/vars                   expvar's JSON: "cmdline", "memstats"
 *                                 (the few fields gort has) and "gort",
 *                                 gort_read_metrics' fields by name
 *   /debug/gort/                  gort's live console: one page (no
 *                                 external assets) that redraws once a
 *                                 second from /debug/gort/data (JSON): the
 *                                 goroutines by state over 2 minutes, the
 *                                 scheduling latency, the run queues, the
 *                                 threads, rates, the blocked-on sites
 *
 * with Go's content types (application/octet-stream and a
 * Content-Disposition for profiles; text/plain; charset=utf-8 for debug>0),
 * so `go tool pprof http://addr/debug/pprof/profile` works unchanged.  One
 * goroutine accepts, one serves each connection, one request each
 * (Connection: close); a request head must arrive within 10 s and fit in
 * 8 KiB, or gets 400 (431 if too long).  Returns 0 once listening, or a
 * negative error (the listen's).  GORT_DEBUG_ADDR=addr does the same at
 * start-up without code.  Call it from a goroutine.
 */
GORT_API int gort_debug_serve(const char *addr);

/* ---- Private -----------------------------------------------------------------
 *
 * What the inline functions and macros above compile into a program: the
 * layouts of gort__frame and the sync types, the inline Lock and Unlock,
 * their slow paths.  Not API, but ABI: see gort/impl.h.  Last, so that it
 * can use the names above.
 */
#include "gort/impl.h"

#ifdef __cplusplus
}
#endif

#endif /* GORT_H */
