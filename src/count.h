/*
 * count.h - the counting build: what each operation costs in shared state.
 *
 * This machine has two CPUs, so how the runtime would scale on sixty-four
 * cannot be timed here.  It can be counted: a lock every P takes, or an
 * atomic read-modify-write on a line every P writes, is what stops a
 * runtime from scaling, whatever two CPUs say.  So a build made with
 * `cmake -DGORT_COUNT=ON` (`make count` makes one in ./build-count and runs
 * bench/count.sh) counts, per thread, by site:
 *
 *   - every acquisition of a runtime lock (gort__lock, gort__trylock when
 *     it wins, gort__spinlock), named by the expression the call site
 *     locks (`&sched.lock`, `&c->lock`) and marked global (the lock lives
 *     in static storage: one for the whole process) or not (in an object:
 *     a channel's, a P's);
 *   - every atomic read-modify-write (fetch-add and its kin, exchange,
 *     compare-exchange) in the runtime's C code, named by the file and the
 *     expression it is applied to (`proc.h &pp->runqhead`), and marked
 *     global or not as a lock is.  The C11 macros
 *     of <stdatomic.h> are redefined below to count first, so that no site
 *     needs touching; the few written with GCC's __atomic builtins count
 *     with COUNT_RMW(addr), a one-liner next to them.
 *
 * count.c sums the threads' counters at exit and prints them on stderr when
 * GORT_COUNT=1 is set (read by the counting build only).
 *
 * Everywhere else this header defines COUNT_RMW as nothing, and nothing
 * more: a normal build compiles exactly the code it would without it.
 * runtime2.h includes it last, after its own declarations, because the
 * counting macros take the names of gort__lock and its kin, which must be
 * declared - and lock_futex.c defines them - under their own names.
 */
#ifndef GORT_COUNT_H
#define GORT_COUNT_H

#ifndef GORT_COUNT
#define GORT_COUNT 0
#endif

#if !GORT_COUNT

#define COUNT_RMW(addr) ((void)0)
#define COUNT_LOCK_NAMED(l, what) ((void)0)

#else /* the counting build */

#include <stdatomic.h>

enum { COUNT_LOCK = 1, COUNT_RMW_SITE = 2 };

/* count: one event of kind at site (file, expr, what: what may be NULL),
 * on the object at addr (a lock's address says global or not). */
void gort__count(int kind, const char *file, const char *expr, const char *what, const volatile void *addr);

#define COUNT_RMW(addr) gort__count(COUNT_RMW_SITE, __FILE__, #addr, NULL, (addr))
/* COUNT_LOCK_NAMED: a lock taken through (gort__lock)(l), named by what
 * (a slot pool's kind: handle.c). */
#define COUNT_LOCK_NAMED(l, what) gort__count(COUNT_LOCK, __FILE__, #l, (what), (l))

/* The runtime's locks (lock_futex.c, runtime2.h).  A spinlock's fast path
 * is one exchange, inline in runtime2.h before these lines: counted here.
 * (A mutex's exchanges are in lock_futex.c, which counts them itself.) */
#define gort__lock(l) \
	__extension__({ \
		__auto_type gort__l = (l); \
		gort__count(COUNT_LOCK, __FILE__, #l, NULL, gort__l); \
		(gort__lock)(gort__l); \
	})
#define gort__trylock(l) \
	__extension__({ \
		__auto_type gort__l = (l); \
		bool gort__won = (gort__trylock)(gort__l); \
		if (gort__won) \
			gort__count(COUNT_LOCK, __FILE__, #l, NULL, gort__l); \
		gort__won; \
	})
#define gort__spinlock(l) \
	__extension__({ \
		__auto_type gort__l = (l); \
		gort__count(COUNT_LOCK, __FILE__, #l, NULL, gort__l); \
		gort__count(COUNT_RMW_SITE, "spinlock", "&l->key", NULL, gort__l); \
		(gort__spinlock)(gort__l); \
	})

/* <stdatomic.h>'s read-modify-writes, counted: the same __atomic builtins
 * GCC's own definitions use, each argument evaluated once. */
#define GORT__FETCH(op, p, v, mo) \
	__extension__({ \
		__auto_type gort__fp = (p); \
		gort__count(COUNT_RMW_SITE, __FILE__, #p, NULL, gort__fp); \
		op(gort__fp, (v), (mo)); \
	})

#undef atomic_fetch_add_explicit
#undef atomic_fetch_sub_explicit
#undef atomic_fetch_or_explicit
#undef atomic_fetch_and_explicit
#undef atomic_fetch_xor_explicit
#undef atomic_fetch_add
#undef atomic_fetch_sub
#undef atomic_fetch_or
#undef atomic_fetch_and
#undef atomic_fetch_xor
#define atomic_fetch_add_explicit(p, v, mo) GORT__FETCH(__atomic_fetch_add, p, v, mo)
#define atomic_fetch_sub_explicit(p, v, mo) GORT__FETCH(__atomic_fetch_sub, p, v, mo)
#define atomic_fetch_or_explicit(p, v, mo) GORT__FETCH(__atomic_fetch_or, p, v, mo)
#define atomic_fetch_and_explicit(p, v, mo) GORT__FETCH(__atomic_fetch_and, p, v, mo)
#define atomic_fetch_xor_explicit(p, v, mo) GORT__FETCH(__atomic_fetch_xor, p, v, mo)
#define atomic_fetch_add(p, v) GORT__FETCH(__atomic_fetch_add, p, v, __ATOMIC_SEQ_CST)
#define atomic_fetch_sub(p, v) GORT__FETCH(__atomic_fetch_sub, p, v, __ATOMIC_SEQ_CST)
#define atomic_fetch_or(p, v) GORT__FETCH(__atomic_fetch_or, p, v, __ATOMIC_SEQ_CST)
#define atomic_fetch_and(p, v) GORT__FETCH(__atomic_fetch_and, p, v, __ATOMIC_SEQ_CST)
#define atomic_fetch_xor(p, v) GORT__FETCH(__atomic_fetch_xor, p, v, __ATOMIC_SEQ_CST)

#undef atomic_exchange_explicit
#undef atomic_exchange
#define atomic_exchange_explicit(p, v, mo) \
	__extension__({ \
		__auto_type gort__xp = (p); \
		__typeof__((void)0, *gort__xp) gort__xv = (v), gort__xold; \
		gort__count(COUNT_RMW_SITE, __FILE__, #p, NULL, gort__xp); \
		__atomic_exchange(gort__xp, &gort__xv, &gort__xold, (mo)); \
		gort__xold; \
	})
#define atomic_exchange(p, v) atomic_exchange_explicit(p, v, __ATOMIC_SEQ_CST)

#undef atomic_compare_exchange_strong_explicit
#undef atomic_compare_exchange_weak_explicit
#undef atomic_compare_exchange_strong
#undef atomic_compare_exchange_weak
#define GORT__CAS(p, e, d, weak, s, f) \
	__extension__({ \
		__auto_type gort__cp = (p); \
		__typeof__((void)0, *gort__cp) gort__cd = (d); \
		gort__count(COUNT_RMW_SITE, __FILE__, #p, NULL, gort__cp); \
		__atomic_compare_exchange(gort__cp, (e), &gort__cd, (weak), (s), (f)); \
	})
#define atomic_compare_exchange_strong_explicit(p, e, d, s, f) GORT__CAS(p, e, d, 0, s, f)
#define atomic_compare_exchange_weak_explicit(p, e, d, s, f) GORT__CAS(p, e, d, 1, s, f)
#define atomic_compare_exchange_strong(p, e, d) GORT__CAS(p, e, d, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)
#define atomic_compare_exchange_weak(p, e, d) GORT__CAS(p, e, d, 1, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)

#endif /* GORT_COUNT */

#endif
