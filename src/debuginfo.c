/*
 * debuginfo.c - what debuggers need from the runtime (Go's runtime-gdb.py
 * and the .debug_gdb_scripts section its linker writes).
 *
 *   gort__debuginfo      the layout descriptor (debuginfo.h says why and
 *                        how), in section gort_debuginfo, filled at
 *                        start-up: tools/gort-peek.c and tools/gort-gdb.py
 *                        read the goroutine list through it,
 *                        tools/gort-top.c the scheduler's counters
 *   .debug_gdb_scripts   tools/gort-gdb.py itself, inline: gdb loads it
 *                        when it loads the program or libgort.so (if its
 *                        auto-load safe-path allows: README, "Debugging")
 *
 * Both live in this file because schedinit calls gort__debuginfo_init: a
 * program linked with libgort.a pulls in this object, and with it the
 * script, whatever else it uses.
 */
#include <stddef.h>

#include "chan.h"
#include "debuginfo.h"
#include "mheap.h"
#include "proc.h"

void gort__gostart(void);

static const char *waitreasons[waitReasonCount];
static const char *gstatuses[Gdead + 1];

/* In its own writable section: found by name in the section headers, even
 * in a stripped program, and dumped with the rest of .data in a core. */
__attribute__((section(GORT_DEBUGINFO_SECTION), used)) gort_debuginfo gort__debuginfo = {
	.magic = GORT_DEBUGINFO_MAGIC,
	.version = GORT_DEBUGINFO_VERSION,
	.size = sizeof(gort_debuginfo),
};

#define OFF(type, field) ((uint64_t)offsetof(type, field))

void gort__debuginfo_init(void)
{
	gort_debuginfo *d = &gort__debuginfo;
	for (int i = 0; i < waitReasonCount; i++)
		waitreasons[i] = gort__waitreason_string((waitReason)i);
	for (uint32_t s = 0; s <= Gdead; s++)
		gstatuses[s] = gort__gstatus_string(s, waitReasonZero);

	d->gort_version = (uintptr_t)GORT_VERSION_STRING;
	d->allgs_at = (uintptr_t)&allgs;
	d->allglen_at = (uintptr_t)&allglen;
	d->allm_at = (uintptr_t)&allm;
	d->coarsenow_at = (uintptr_t)&gort__sched.coarsenow;
	d->waitreasons = (uintptr_t)waitreasons;
	d->nwaitreasons = waitReasonCount;
	d->gstatuses = (uintptr_t)gstatuses;
	d->ngstatuses = Gdead + 1;
	d->gostart = (uintptr_t)gort__gostart;
	uintptr_t lo, hi;
	gort__gorttext_range(&lo, &hi);
	d->textlo = lo;
	d->texthi = hi;

	d->st_runnable = Grunnable;
	d->st_running = Grunning;
	d->st_syscall = Gsyscall;
	d->st_waiting = Gwaiting;
	d->st_dead = Gdead;

	d->g_goid = OFF(G, goid);
	d->g_atomicstatus = OFF(G, atomicstatus);
	d->g_waitreason = OFF(G, waitreason);
	d->g_sched_sp = OFF(G, sched_sp);
	d->g_stack_lo = OFF(G, stack.lo);
	d->g_stack_hi = OFF(G, stack.hi);
	d->g_m = OFF(G, m);
	d->g_lockedm = OFF(G, lockedm);
	d->g_fn = OFF(G, startpc); /* the function a goroutine not yet run shows */
	d->g_gopc = OFF(G, gopc);
	d->g_parentgoid = OFF(G, parentgoid);
	d->g_waitsince = OFF(G, waitsince);
	d->g_syscallctx = OFF(G, syscallctx);

	d->ctx_r15 = SAVEDCTX_R15;
	d->ctx_r14 = SAVEDCTX_R14;
	d->ctx_r13 = SAVEDCTX_R13;
	d->ctx_r12 = SAVEDCTX_R12;
	d->ctx_rbx = SAVEDCTX_RBX;
	d->ctx_rbp = SAVEDCTX_RBP;
	d->ctx_pc = SAVEDCTX_PC;
	d->ctx_size = SAVEDCTX_SIZE;
	d->sysctx_sp = SYSCALLCTX_SP;

	d->m_id = OFF(M, id);
	d->m_tid = OFF(M, tid);
	d->m_curg = OFF(M, curg);
	d->m_alllink = OFF(M, alllink);

	d->c_slot = OFF(hchan, hdr.word);
	d->c_closed = OFF(hchan, closed);
	d->c_elemsize = OFF(hchan, elemsize);
	d->c_dataqsiz = OFF(hchan, dataqsiz);
	d->c_qcount = OFF(hchan, qcount);
	d->c_recvq = OFF(hchan, recvq);
	d->c_sendq = OFF(hchan, sendq);
	d->handle_mask = HANDLE_ADDR_MASK;
	d->waitq_first = OFF(waitq, first);
	d->sudog_g = OFF(sudog, g);
	d->sudog_next = OFF(sudog, next);

	d->allp_at = (uintptr_t)&gort__allp;
	d->gomaxprocs_at = (uintptr_t)&gort__gomaxprocs;
	d->npidle_at = (uintptr_t)&gort__sched.npidle;
	d->nmspinning_at = (uintptr_t)&gort__sched.nmspinning;
	d->nmidle_at = (uintptr_t)&gort__sched.nmidle;
	d->runqsize_at = (uintptr_t)&gort__sched.runqsize;
	d->starttime_at = (uintptr_t)&gort__sched.starttime;
	d->retired_at = (uintptr_t)&gort__sched.retired;
	d->p_id = OFF(P, id);
	d->p_runqhead = OFF(P, runqhead);
	d->p_runqtail = OFF(P, runqtail);
	d->p_runnext = OFF(P, runnext);
	d->p_syscalltick = OFF(P, syscalltick);
	d->p_metrics = OFF(P, metrics);
	d->runq_size = RUNQ_SIZE;
	d->pm_nswitch = OFF(pmetrics, nswitch);
	d->pm_nspawn = OFF(pmetrics, nspawn);
	d->pm_nsteal = OFF(pmetrics, nsteal);
	d->pm_nstolen = OFF(pmetrics, nstolen);
	d->pm_schedlat = OFF(pmetrics, schedlat);
	d->schedlat_buckets = SCHEDLAT_BUCKETS;
	d->schedlat_sample = SCHEDLAT_SAMPLE;
	d->heap_live_at = (uintptr_t)&gort__heap_live;
	gort__gc_debugaddrs(&d->heap_goal_at, &d->numgc_at, &d->gcpauses_at);

	/* last, so that a tool seeing ready == 1 sees the rest */
	atomic_store_explicit((_Atomic uint64_t *)&d->ready, 1, memory_order_release);
}

/*
 * gdb's extension, inline (the script's first line is its name, then its
 * text, NUL-ended; type 4 is "Python text").  GORT_GDB_SCRIPT is the path
 * of tools/gort-gdb.py, given by CMakeLists.txt.
 */
#ifdef GORT_GDB_SCRIPT
__asm__(".pushsection .debug_gdb_scripts, \"MS\", @progbits, 1\n"
        ".byte 4\n"
        ".ascii \"gdb.inlined-script.gort-gdb.py\\n\"\n"
        ".incbin \"" GORT_GDB_SCRIPT "\"\n"
        ".byte 0\n"
        ".popsection\n");
#endif
