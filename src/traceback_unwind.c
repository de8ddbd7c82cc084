/*
 * traceback_unwind.c - walking a stack's frames (the unwinder of Go's
 * traceback.go), with libdw's frame API, from any set of registers.
 *
 * libdw's frame API (dwfl_attach_state + dwfl_getthread_frames) is built
 * for other processes, but its thread callbacks are ours to write:
 * set_initial_registers hands it any register set, memory_read reads this
 * process's memory - so it unwinds a goroutine parked on any thread as
 * easily as the caller.  C built with -O2 has no frame pointers: libdw
 * follows the .eh_frame CFI, which symtab.c loaded ahead of time.
 *
 *   gort__unwind_attach  make libdw unwind through our callbacks (at load)
 *   gort__unwind         call a function with each frame's pc
 *   gort__serve_callers  REQ_CALLERS: the pcs gort_callers and the
 *                        SIGQUIT dump's summary ask for (Go's callers)
 *
 * Reporter thread only.  Calls libdw; nothing else of gort's.  Built only
 * with libdw.  gort-peek walks another process's goroutines with it too,
 * reading that process's memory (gort__unwind_attach's read).
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <elfutils/libdwfl.h>

#include "traceback.h"

enum { MAX_UNWIND = 100000 }; /* frames: a corrupt stack may loop */

/* the walk under way (reporter thread only) */
static struct {
	Dwfl *dwfl;
	unwindread read;        /* another process's memory (NULL: ours) */
	const unwindfrom *from; /* NULL between walks */
	bool first;             /* the next frame is the innermost */
	int nunwound;
} uw;

/* memory_read: a word of this process's memory, without faulting on a bad
 * address - the reporter reads other threads' stacks with process_vm_readv,
 * so a bad pointer in a corrupt stack makes the read fail, not the reporter
 * fault.  The stack being walked is read directly. */
static bool memory_read(Dwfl *d, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	if (uw.read != NULL)
		return uw.read(addr, result, sizeof *result);
	const unwindfrom *from = uw.from;
	if (from != NULL && from->copy != NULL) {
		/* a copy of a stack that has moved on: only the copy is true */
		if (addr < from->stacklo || addr + 8 > from->stackhi)
			return false;
		memcpy(result, (const char *)from->copy + (addr - from->stacklo), 8);
		return true;
	}
	if (from != NULL && addr >= from->stacklo && addr + 8 <= from->stackhi) {
		memcpy(result, (void *)(uintptr_t)addr, 8);
		return true;
	}
	struct iovec local = {result, 8}, remote = {(void *)(uintptr_t)addr, 8};
	return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == 8;
}

/* One pretend thread: whichever register set the walk starts from. */
enum { FAKE_TID = 1 };

static pid_t next_thread(Dwfl *d, void *arg, void **thread_argp)
{
	if (*thread_argp != NULL)
		return 0;
	*thread_argp = (void *)1;
	return FAKE_TID;
}

static bool get_thread(Dwfl *d, pid_t tid, void *arg, void **thread_argp)
{
	*thread_argp = (void *)1;
	return tid == FAKE_TID;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	Dwarf_Word regs[NREGS];
	for (int i = 0; i < NREGS; i++)
		regs[i] = uw.from->regs[i];
	if (!dwfl_thread_state_registers(thread, 0, NREGS, regs))
		return false;
	dwfl_thread_state_register_pc(thread, uw.from->regs[REG_DW_RIP]);
	return true;
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = next_thread,
	.get_thread = get_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

bool gort__unwind_attach(Dwfl *dwfl, int pid, unwindread read)
{
	uw.dwfl = dwfl;
	uw.read = read;
	return dwfl_attach_state(dwfl, NULL, pid, &thread_callbacks, NULL);
}

/* frame_pcs: the pc a frame shows, and the one to look up (a call: one before). */
static void frame_pcs(Dwfl_Frame *state, uintptr_t *shown, uintptr_t *lookup)
{
	Dwarf_Addr pc;
	bool activation;
	dwfl_frame_pc(state, &pc, &activation);
	if (uw.first && uw.from->pc_is_return) {
		/* regs[RIP] was the return address minus one, set up so */
		*shown = pc + 1;
		*lookup = pc;
	} else {
		*shown = pc;
		*lookup = activation ? pc : pc - 1;
	}
	uw.first = false;
}

typedef struct walkfn {
	unwindfn fn;
	void *arg;
} walkfn;

static int each_frame(Dwfl_Frame *state, void *arg)
{
	walkfn *w = arg;
	uintptr_t pc, lookup;
	frame_pcs(state, &pc, &lookup);
	if (pc == 0 || ++uw.nunwound > MAX_UNWIND)
		return DWARF_CB_ABORT;
	return w->fn(pc, lookup, w->arg) ? DWARF_CB_OK : DWARF_CB_ABORT;
}

void gort__unwind(const unwindfrom *from, unwindfn fn, void *arg)
{
	walkfn w = {fn, arg};
	uw.from = from;
	uw.first = true;
	uw.nunwound = 0;
	dwfl_getthread_frames(uw.dwfl, FAKE_TID, each_frame, &w);
	uw.from = NULL;
}

static bool callers_frame(uintptr_t pc, uintptr_t lookup, void *arg)
{
	callers_req *r = arg;
	if (r->skip > 0) {
		r->skip--;
		return true;
	}
	if (r->n >= r->max)
		return false;
	r->pcs[r->n++] = pc;
	return true;
}

void gort__serve_callers(callers_req *r)
{
	r->n = 0;
	gort__unwind(&r->from, callers_frame, r);
}
