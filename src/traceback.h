/*
 * traceback.h - what the traceback files share (internal to them; the
 * rest of the runtime calls the gort__traceback* functions in runtime2.h).
 *
 * A traceback is asked for on one thread and made on another: the asking
 * side (traceback.c, traceback_api.c) fills a request and posts it through
 * traceback_reporter.c; the reporter thread serves it with libdw
 * (traceback_unwind.c, symtab.c) and prints it (traceback_print.c).  The
 * request is the whole interface between the two sides.
 */
#ifndef GORT_TRACEBACK_H
#define GORT_TRACEBACK_H

#include <stdbool.h>
#include <stdint.h>

#include "print.h"
#include "runtime2.h"

#ifdef GORT_HAVE_LIBDW
enum { HAVE_LIBDW = 1 };
#else
enum { HAVE_LIBDW = 0 }; /* no reporter: every request fails at once */
#endif

/* ---- Where an unwind starts ----------------------------------------------- */

enum { NREGS = 17 }; /* DWARF x86-64: rax rdx rcx rbx rsi rdi rbp rsp r8-r15, rip */
enum {
	REG_DW_RBX = 3, REG_DW_RBP = 6, REG_DW_RSP = 7,
	REG_DW_R12 = 12, REG_DW_R13 = 13, REG_DW_R14 = 14, REG_DW_R15 = 15, REG_DW_RIP = 16,
};

/* unwindfrom: the registers of the innermost frame, and the stack they are on. */
typedef struct unwindfrom {
	uint64_t regs[NREGS];
	bool pc_is_return;         /* regs[RIP] is a return address (a parked G): frame 0 is a call */
	uintptr_t stacklo, stackhi; /* read directly; elsewhere, process_vm_readv */
	const void *copy;           /* or: [stacklo, stackhi) as copied here, nothing else
	                             * readable (a CPU profile's sample: pprof_cpu.c) */
} unwindfrom;

/* ---- The request the reporter serves -------------------------------------- */

typedef enum reqkind {
	REQ_TRACEBACK = 1, /* print the frames unwound from a context, then "created by" */
	REQ_ENTRY,         /* print the entry function of a goroutine not yet started, then "created by" */
	REQ_CREATEDBY,     /* print only the "created by" lines */
	REQ_CALLERS,       /* unwind from a context into pcs */
	REQ_FRAMES,        /* expand one pc into its (inlined) frames */
} reqkind;

/* report: what the three printing kinds share - where the text goes, and
 * the goroutine's creator for the "created by" lines. */
typedef struct report {
	printbuf *out;
	uintptr_t gopc;     /* where gort_go was called; 0: no creator */
	int64_t parentgoid;
} report;

typedef struct traceback_req {
	report report;
	unwindfrom from;
	int level;          /* GOTRACEBACK's: 2 and more show gort's own frames */
	const char *skipto; /* drop the frames up to this function's, included (or NULL) */
} traceback_req;

typedef struct entry_req {
	report report;
	uintptr_t fn;
} entry_req;

typedef struct callers_req {
	unwindfrom from;
	int skip;           /* frames to drop first */
	uintptr_t *pcs;
	int max;
	int n;              /* result: pcs filled */
} callers_req;

typedef struct frames_req {
	uintptr_t pc;       /* a return address, as gort_callers gives */
	gort_frame *frames;
	int max;
	int n;              /* result: frames pc stands for (may exceed max) */
} frames_req;

typedef struct request {
	reqkind kind;
	union {
		traceback_req traceback; /* REQ_TRACEBACK */
		entry_req entry;         /* REQ_ENTRY */
		report createdby;        /* REQ_CREATEDBY */
		callers_req callers;     /* REQ_CALLERS */
		frames_req frames;       /* REQ_FRAMES */
	};
} request;

/* ---- traceback.c: for traceback_api.c ------------------------------------- */

/* traceback_into has the reporter write gp's frames and creator into out,
 * waiting as long as it takes; if gp is the caller, from skipto's caller. */
void gort__traceback_into(G *gp, int level, printbuf *out, const char *skipto);
/* unwindfrom_ucontext: the registers of a ucontext_t (stack bounds unset). */
void gort__unwindfrom_ucontext(unwindfrom *f, const void *ucontext);

/* ---- traceback_reporter.c: posting a request (any thread) ---------------- */

/* reporter_start starts the reporter thread and waits until it has loaded
 * the modules, or failed to (traceback_init). */
void gort__reporter_start(void);
/* reporter_call hands r to the reporter and waits until it is served.
 * false, having done nothing, if there is no reporter or it stays busy for
 * patience_ns (0: wait as long as it takes). */
bool gort__reporter_call(request *r, int64_t patience_ns);
/* reporter_loaded: the reporter is up, with the modules loaded; waits a
 * while for its start-up first. */
bool gort__reporter_loaded(void);

/* ---- The reporter's side: libdw (reporter thread only; may allocate) ------ */

struct Dwfl;

/* symtab.c */
typedef struct sym {
	const char *name; /* function, or NULL */
	const char *file; /* or NULL */
	int line;
	uintptr_t entry;  /* the physical function's entry, or 0 */
	bool inlined;     /* an inlined call: the frame has no pc of its own */
} sym;

enum { MAX_INLINE = 16 };

bool gort__loadmodules(void);
void gort__symtab_use(struct Dwfl *d);
int gort__symbolize(uintptr_t pc, sym *out, int max);
bool gort__runtimeframe(uintptr_t pc, const char *name);
void gort__serve_frames(frames_req *r);

/* traceback_unwind.c: fn is called with each frame's pc as shown and as
 * looked up (a call's return address minus one); false stops the walk. */
typedef bool (*unwindfn)(uintptr_t pc, uintptr_t lookup, void *arg);
/* attach: walks read the memory of pid (this process: gort__loadmodules)
 * through read, which is NULL for this process's own memory (gort-peek
 * reads another's, or a core file, through its own). */
typedef bool (*unwindread)(uint64_t addr, void *buf, size_t n);
bool gort__unwind_attach(struct Dwfl *dwfl, int pid, unwindread read);
void gort__unwind(const unwindfrom *from, unwindfn fn, void *arg);
void gort__serve_callers(callers_req *r);

/* traceback_print.c: each prints its report, then flushes it to fd 2 */
void gort__serve_traceback(const traceback_req *r);
void gort__serve_entry(const entry_req *r);
void gort__serve_createdby(const report *r);

#endif /* GORT_TRACEBACK_H */
