/*
 * gort/impl.h - the private part of gort.h: the layouts and calls that
 * gort.h's inline fast paths and macros compile into the program that uses
 * them.
 *
 * Not API: nothing here is to be named by a program, and gort.h documents
 * everything that is.  But it is ABI: a program built with gort.h carries
 * these struct sizes, field offsets, initializers and calls in its own
 * code, so a program built with one version and run with another
 * libgort.so breaks, silently, when any of it differs.  Hence the rule on
 * each block below - changing any of it changes GORT_VERSION_MAJOR (and so
 * libgort.so's soname) - and the split: gort.h is the contract, this file
 * is what the contract costs to compile.  (libuv keeps its private fields
 * apart the same way, in uv/unix.h.)
 *
 * gort.h includes this last, so that it may use the API's names; include
 * <gort.h>, never this file.
 */
#ifndef GORT_IMPL_H
#define GORT_IMPL_H

#ifndef GORT_H
#error "gort/impl.h is the private part of gort.h: #include <gort.h>"
#endif

/* ---- The defer frame: GORT_FRAME, gort_defer, gort_recover --------------------
 *
 * private: layout and calls the inline fast paths and macros need; not API;
 * changing any of it changes GORT_VERSION_MAJOR.
 *
 * GORT_FRAME puts a gort__frame on the caller's stack and registers it for
 * cleanup; gort_defer calls gort__defer_push with it; a recovery longjmps
 * into its jb (panic.c, which reads and writes every field).
 */
#define GORT__DEFER_INLINE 4
typedef struct gort__defer {
	gort_func fn;
	void *arg;
} gort__defer;
typedef struct gort__frame {
	struct gort__frame *link; /* next outer frame with deferred calls pending */
	uint32_t n;               /* deferred calls pending */
	uint32_t cap;             /* room in more */
	gort__defer *more;        /* calls beyond the first GORT__DEFER_INLINE */
	gort__defer inl[GORT__DEFER_INLINE];
	void *jb[5];              /* __builtin_setjmp's buffer: where a recovery lands */
} gort__frame;

/* Always false (see GORT_FRAME). */
GORT_API bool gort__defer_push(gort__frame *f, gort_func fn, void *arg);
GORT_API void gort__frame_return(gort__frame *f);
GORT_API GORT_NORETURN void gort__frame_fellthrough(void);
GORT_API GORT_NORETURN void gort__frame_norecover(const char *function);
/* The calls gort_defer_close, _free, _unlock, _runlock and _done defer. */
GORT_API void gort__defer_conn_close(void *c);
GORT_API void gort__defer_chan_close(void *c);
GORT_API void gort__defer_chan_free(void *c);
GORT_API void gort__defer_timer_free(void *t);
GORT_API void gort__defer_mutex_unlock(void *m);
GORT_API void gort__defer_rwmutex_unlock(void *rw);
GORT_API void gort__defer_rwmutex_runlock(void *rw);
GORT_API void gort__defer_waitgroup_done(void *wg);
GORT_API void gort__defer_bufio_reader_free(void *r);
GORT_API void gort__defer_bufio_writer_free(void *w);
GORT_API void gort__defer_errgroup_free(void *g);
GORT_API const void *gort__recover(void *callerfp, const gort_panic_type **type);

/* GORT_FRAME's cleanup: the deferred calls run on every way out of the frame. */
static inline void gort__frame_exit(gort__frame *f)
{
	if (f->n != 0)
		gort__frame_return(f);
}

/* ---- gort_mutex: its state word, and the inline Lock and Unlock ---------------
 *
 * private: layout and calls the inline fast paths and macros need; not API;
 * changing any of it changes GORT_VERSION_MAJOR.
 *
 * state packs the lock bit (GORT__MUTEX_LOCKED), the "woken" and
 * "starving" bits and the count of waiters above them (sync/mutex.c spells
 * out the rest).  The inline paths rely on two facts only: 0 is unlocked
 * with nobody waiting, so Lock is one CAS from 0 to GORT__MUTEX_LOCKED; and
 * Unlock subtracts GORT__MUTEX_LOCKED, so any other bit left over sends it
 * to the slow path to wake a waiter.
 */
#define GORT__MUTEX_LOCKED 1
struct gort_mutex {
	int32_t state;
	uint32_t sema;
};
#define GORT__MUTEX_INIT {0, 0}

GORT_API void gort__mutex_lockslow(gort_mutex *m);
GORT_API void gort__mutex_unlockslow(gort_mutex *m, int32_t new_state);

/* Deterministic mode (GODEBUG=detseed): every lock is a scheduling point,
 * so the fast path defers to the slow one; set once at start-up. */
GORT_API extern bool gort__det_on;

static inline void gort_mutex_lock(gort_mutex *m)
{
	int32_t unlocked = 0;
	if (__builtin_expect(gort__det_on, 0) || !__atomic_compare_exchange_n(&m->state, &unlocked, GORT__MUTEX_LOCKED, 0, __ATOMIC_ACQUIRE,
	                                 __ATOMIC_RELAXED))
		gort__mutex_lockslow(m);
}

static inline void gort_mutex_unlock(gort_mutex *m)
{
	int32_t new_state = __atomic_sub_fetch(&m->state, GORT__MUTEX_LOCKED, __ATOMIC_RELEASE);
	if (new_state != 0)
		gort__mutex_unlockslow(m, new_state);
}

/* ---- gort_rwmutex, gort_waitgroup, gort_once, gort_cond -----------------------
 *
 * private: layout and calls the inline fast paths and macros need; not API;
 * changing any of it changes GORT_VERSION_MAJOR.
 *
 * No inline code touches these fields (only src/sync/ does), but a program
 * declares the types in its own structs and initializes them with
 * GORT_*_INIT, so their sizes and initializers are compiled into it.
 */
struct gort_rwmutex {
	gort_mutex w;
	uint32_t writer_sem, reader_sem;
	int32_t reader_count, reader_wait;
};
#define GORT__RWMUTEX_INIT {GORT__MUTEX_INIT, 0, 0, 0, 0}

struct gort_waitgroup {
	uint64_t state; /* counter in the high 32 bits, waiters in the low 32 */
	uint32_t sema;
};
#define GORT__WAITGROUP_INIT {0, 0}

struct gort_once {
	uint32_t done;
	gort_mutex m;
};
#define GORT__ONCE_INIT {0, GORT__MUTEX_INIT}

struct gort_cond {
	gort_mutex *L;
	uint32_t wait, notify;   /* tickets: next to hand out, next to wake */
	void *head, *tail;       /* waiting goroutines */
	uintptr_t checker;       /* its own address, to detect copies */
};
#define GORT__COND_INIT(l) {(l), 0, 0, NULL, NULL, 0}

/* ---- The scoped trace region: GORT_TRACE_REGION -------------------------------
 *
 * private: layout and calls the macro needs; not API; changing any of it
 * changes GORT_VERSION_MAJOR.
 *
 * The region's task and name, kept on the caller's stack until the block
 * ends and the cleanup handler ends the region.
 */
#define GORT__TRACE_CAT2(a, b) a##b
#define GORT__TRACE_CAT(a, b) GORT__TRACE_CAT2(a, b)
typedef struct gort__trace_region {
	gort_trace_task task;
	const char *name;
} gort__trace_region;

static inline gort__trace_region gort__trace_region_enter(gort_trace_task task, const char *name)
{
	gort_trace_region_begin(task, name);
	return (gort__trace_region){task, name};
}

static inline void gort__trace_region_exit(gort__trace_region *r)
{
	gort_trace_region_end(r->task, r->name);
}

#endif /* GORT_IMPL_H */
