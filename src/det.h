/*
 * det.h - deterministic mode (GODEBUG=detseed=N): the calls the rest of
 * the runtime makes into src/proc_det.c, which opens with the design.
 *
 * Every hook is one predictable branch on gort__det_on, a global set once
 * by schedinit before the first goroutine exists and never changed: a
 * program run without detseed pays a load and a not-taken jump where a
 * hook sits, nothing else.
 *
 *   runtime1.c     GODEBUG's det* keys          gort__det_setting
 *   proc_api.c     one P whatever GOMAXPROCS    gort__det_init, gort__det_gomaxprocs
 *   proc.c         the next goroutine to run    gort__det_next (findrunnable)
 *   proc_sysmon.c  the scheduling points        gort__det_point (preemptpoint:
 *                  every gort call with a preemption point reaches it, since
 *                  in this mode every G's preempt flag stays set)
 *   proc_g.c       a new G's PCT priority       gort__det_newg (newproc)
 *   sema.c, sync/mutex.c  more points           gort__det_point
 *   select.c       the poll order               gort__det_rand
 *   os_linux.c     the clock                    gort__det_nanotime
 *   proc_syscall.c, net.c  what breaks determinism  gort__det_syscall, gort__det_nondet
 */
#ifndef GORT_DET_H
#define GORT_DET_H

#include "runtime2.h"

/* Declared GORT_API in gort/impl.h too: gort_mutex_lock's inline fast path
 * reads it, so that a lock is a scheduling point in this mode. */
extern bool gort__det_on;

static inline bool gort__det(void)
{
	return __builtin_expect(gort__det_on, 0);
}

/* runtime1.c: one det* key of GODEBUG; a bad value ends the program. */
void gort__det_setting(const char *key, size_t keylen, const char *val, size_t vallen);

/* schedinit, after GODEBUG: turns the mode on if detseed was given.
 * det_procs: the number of Ps to make for GOMAXPROCS=procs, 1 - procs is
 * what gort_gomaxprocs reports from then on. */
void gort__det_init(void);
int32_t gort__det_procs(int32_t procs);
int gort__det_gomaxprocs(int n);

/* findrunnable's step in this mode, on g0 holding the P: the G the
 * strategy picks, or NULL when nothing can run until the world outside
 * (I/O, a system call) does something - or never: the deadlock check. */
G *gort__det_next(M *mp);

/* goroutine 1 has started what the environment asked for (a trace...). */
void gort__det_mainstart(void);

/* Does the run pool hold a G?  (handoffp: then the P has work.) */
bool gort__det_runnable(void);

/* A scheduling point: the running G may be switched out here. */
void gort__det_point(G *gp);

/* newproc: the new G's place in the schedule (PCT's priority). */
void gort__det_newg(G *gp);

/* A 32-bit draw from the mode's generator (the P's holder only). */
uint32_t gort__det_rand(void);

/* The virtual clock (gort__nanotime in this mode). */
int64_t gort__det_nanotime(void);

/* A system call (entersyscall, at pc) and its end; any other event from
 * outside (what: the gort call, e.g. "gort_conn_read"). */
void gort__det_syscall(G *gp, uintptr_t pc);
void gort__det_syscall_exit(void);
void gort__det_nondet(const char *what);

#endif
