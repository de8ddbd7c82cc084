/*
 * debuginfo.h - the runtime's layout, described for debuggers (Go's
 * runtime-gdb.py reads Go's DWARF; gort's tools read this instead).
 *
 * A tool outside the process - gdb's extension (tools/gort-gdb.py), the
 * goroutine dump taken from outside (tools/gort-peek.c) - has to find the
 * goroutine list in the program's memory and read G, M and channel fields
 * out of it.  Hard-coding the offsets would break silently the day a field
 * moves; DWARF is not always there (a stripped program, a library built
 * without -g).  So the runtime describes itself: gort__debuginfo, one
 * struct in a section of its own, gort_debuginfo (kept by strip, found by
 * name in the ELF section headers, or by symbol), holding where the
 * runtime's globals are and the offset of every field a tool reads.
 *
 * The layout is fixed: a header (magic, version, size), then 64-bit
 * words only, in the order below, so a tool in any language reads it as an
 * array.  Fields are only ever added at the end (size grows); a change of
 * meaning bumps GORT_DEBUGINFO_VERSION, which tools check and refuse to
 * guess past.  tools/gort-gdb.py lists the same fields in the same order.
 *
 * Written once by gort__debuginfo_init (schedinit): ready is then 1.
 */
#ifndef GORT_DEBUGINFO_H
#define GORT_DEBUGINFO_H

#include <stdint.h>

#define GORT_DEBUGINFO_MAGIC "gortdbg"  /* 8 bytes with its NUL */
#define GORT_DEBUGINFO_VERSION 2 /* 2: channels are handles (c_slot, handle_mask) */
#define GORT_DEBUGINFO_SECTION "gort_debuginfo"

typedef struct gort_debuginfo {
	char magic[8];
	uint32_t version;
	uint32_t size;          /* sizeof(gort_debuginfo) */

	uint64_t ready;         /* 1 once the runtime has filled what follows */
	uint64_t gort_version;  /* const char *: GORT_VERSION_STRING */

	/* where the runtime's globals are */
	uint64_t allgs_at;      /* G ***: every G ever made, in creation order */
	uint64_t allglen_at;    /* size_t *: how many */
	uint64_t allm_at;       /* M **: every M, linked through alllink */
	uint64_t coarsenow_at;  /* int64_t *: nanotime as of sysmon's last round */
	uint64_t waitreasons;   /* const char *const *: a waitReason's string */
	uint64_t nwaitreasons;
	uint64_t gstatuses;     /* const char *const *: a status's name ("running") */
	uint64_t ngstatuses;
	uint64_t gostart;       /* pc of a goroutine's first context: not started */
	uint64_t textlo, texthi; /* gort's own code: runtime frames lie there */

	/* G statuses (Go's numbers) */
	uint64_t st_runnable, st_running, st_syscall, st_waiting, st_dead;

	/* G: offsets; goid, waitsince, parentgoid are int64, atomicstatus
	 * uint32, waitreason uint8, the rest pointers */
	uint64_t g_goid, g_atomicstatus, g_waitreason, g_sched_sp, g_stack_lo, g_stack_hi;
	uint64_t g_m, g_lockedm, g_fn, g_gopc, g_parentgoid, g_waitsince, g_syscallctx;

	/* savedctx (at G.sched_sp, on the goroutine's stack; and G.syscallctx) */
	uint64_t ctx_r15, ctx_r14, ctx_r13, ctx_r12, ctx_rbx, ctx_rbp, ctx_pc, ctx_size;
	uint64_t sysctx_sp;     /* syscallctx: the stack pointer it resumes with */

	/* M: id int64, tid int32, the rest pointers */
	uint64_t m_id, m_tid, m_curg, m_alllink;

	/* a channel (chan.h's hchan): its slot word uint64, closed bool, the
	 * counts size_t; waitq and sudog links pointers.  A gort_chan * is a
	 * handle (handle.h): the slot's address is handle & handle_mask; the
	 * channel is alive if the slot word equals the handle. */
	uint64_t c_slot, c_closed, c_elemsize, c_dataqsiz, c_qcount, c_recvq, c_sendq;
	uint64_t handle_mask;
	uint64_t waitq_first, sudog_g, sudog_next;

	/* ---- added for gort-top (tools/gort-top.c): the scheduler's counters,
	 * the ones gort_read_metrics (metrics.c) reads, read racily ---- */
	/* where: allp is P **, retired a pmetrics, starttime int64, the rest
	 * int32 */
	uint64_t allp_at, gomaxprocs_at, npidle_at, nmspinning_at, nmidle_at, runqsize_at;
	uint64_t starttime_at, retired_at;
	/* P: id int32, runqhead, runqtail and syscalltick uint32, runnext a
	 * pointer, metrics a pmetrics; runq_size the ring's length */
	uint64_t p_id, p_runqhead, p_runqtail, p_runnext, p_syscalltick, p_metrics, runq_size;
	/* pmetrics: uint64 counters and schedlat_buckets uint64 latency
	 * buckets (runtime2.h says their bounds); one ready in schedlat_sample
	 * is timed */
	uint64_t pm_nswitch, pm_nspawn, pm_nsteal, pm_nstolen, pm_schedlat;
	uint64_t schedlat_buckets, schedlat_sample;

	/* ---- added for gort-top's heap line: the collected heap (mgc.c),
	 * read racily.  heap_live is uint64 (marked by the last collection,
	 * plus allocated since), heap_goal uint64 (UINT64_MAX: none), numgc
	 * uint32, gcpauses 256 uint64 pauses, the last at (numgc - 1) % 256 ---- */
	uint64_t heap_live_at, heap_goal_at, numgc_at, gcpauses_at;
} gort_debuginfo;

/* The runtime's own (debuginfo.c). */
extern gort_debuginfo gort__debuginfo;
void gort__debuginfo_init(void);

#endif /* GORT_DEBUGINFO_H */
