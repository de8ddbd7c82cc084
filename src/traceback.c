/*
 * traceback.c - goroutine stack traces (Go's traceback.go and symtab.go):
 * unwinding, symbolization with file:line and inlining, GOTRACEBACK, and
 * the public runtime.Stack / runtime.Callers / CallersFrames.
 *
 *   unwinding      from a set of registers: a parked goroutine's (what
 *                  gort__mcall saved at G.sched_sp), a signal's ucontext,
 *                  or the caller's own (getcontext).  C built with -O2 has no
 *                  frame pointers, so the unwinder follows the .eh_frame CFI.
 *   symbolization  function name, file:line, and the inlined calls one pc
 *                  stands for, from DWARF; symbol-table names when a module
 *                  has no debug info; the raw pc when nothing is known.
 *   reporter       a thread of its own, started at init, that does both.
 *
 * The library: elfutils' libdw (libdwfl), for both jobs.  Its frame API
 * (dwfl_attach_state + dwfl_getthread_frames) is built for other processes,
 * but its thread callbacks are ours to write: set_initial_registers hands
 * it any register set, memory_read reads this process's memory - so it
 * unwinds a goroutine parked on any thread as easily as the caller.  One
 * library for CFI, DWARF lines, inlined scopes and symbol tables, instead
 * of libunwind for one and libdw for the rest.  (libunwind's
 * unw_init_local is async-signal-safe, but symbolization is not, so a
 * reporter thread is needed anyway, and then libdw's unwinder is enough.)
 *
 * Why a reporter thread.  A report must print when the fault struck inside
 * malloc or with a runtime lock held.  libdw allocates as it unwinds and
 * symbolizes (frame states, line tables, scope arrays), so none of it may
 * run on the failing thread.  The reporter thread is created at init,
 * before the program has done anything, so glibc gives it a malloc arena
 * of its own (the first malloc of a thread takes a fresh arena while there
 * are fewer than 8 per CPU); it then loads every module's symbol table,
 * DWARF and CFI ahead of time.  A failing thread posts a request (a few
 * words in a static slot, no allocation), wakes the reporter with a futex
 * and sleeps on another until the report is written: the failing thread
 * itself only copies registers and makes system calls.  The reporter reads
 * other threads' stacks with process_vm_readv, so a bad pointer in a
 * corrupt stack makes the read fail, not the reporter fault.
 *
 * One request at a time: the slot is taken with a CAS.  The failing path
 * never waits for the slot forever (a second failure could be the holder):
 * after two seconds it reports without frames.  The API (gort_stack,
 * gort_callers, gort_frame_info) goes through the same reporter, which also
 * makes libdw single-threaded.
 *
 * Without libdw (gort built with -DGORT_LIBDW=OFF, or libdw-dev missing)
 * there is no unwinder: a traceback prints one line saying why, then the
 * "created by" lines with raw pcs.
 *
 * Go's rules kept (go-formats.md §2.4): below GOTRACEBACK=system gort's own
 * frames are hidden - the functions in libgort whose names are not public
 * (gort_ but not gort__), and any gort__ frame - unless that would hide
 * every frame; at most 50 innermost and 50 outermost frames print, the gap
 * as "...N frames elided...".  A C function has no package and no argument
 * metadata, so a frame prints its C name as is, with "(...)".  An inlined
 * call prints without "+0x", as in Go.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>

#include "print.h"
#include "runtime2.h"

#ifdef GORT_HAVE_LIBDW
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#endif

/* ---- GOTRACEBACK (Go's runtime1.go setTraceback, gotraceback) ----------- */

static int32_t tb_level = 1; /* 0 none, 1 single/all, 2 system/crash */
static bool tb_all, tb_crash;

static void settraceback(const char *s)
{
	tb_all = tb_crash = false;
	if (s == NULL || *s == '\0' || strcmp(s, "single") == 0) {
		tb_level = 1;
	} else if (strcmp(s, "none") == 0) {
		tb_level = 0;
	} else if (strcmp(s, "all") == 0) {
		tb_level = 1;
		tb_all = true;
	} else if (strcmp(s, "system") == 0) {
		tb_level = 2;
		tb_all = true;
	} else if (strcmp(s, "crash") == 0) {
		tb_level = 2;
		tb_all = tb_crash = true;
	} else {
		/* Go: a number N is level N with all; anything else, level 0 with all. */
		tb_all = true;
		tb_level = 0;
		char *end;
		long n = strtol(s, &end, 10);
		if (*end == '\0' && n >= 0 && n <= INT32_MAX)
			tb_level = (int32_t)n;
	}
}

int gort__gotraceback(bool *all, bool *crash)
{
	if (all != NULL)
		*all = tb_all;
	if (crash != NULL)
		*crash = tb_crash;
	return tb_level;
}

/* ---- The request the reporter serves ------------------------------------ */

enum {
	REQ_TRACEBACK = 1, /* print frames (and created by) to the printbuf */
	REQ_CALLERS,       /* return pcs */
	REQ_FRAMES,        /* expand one pc into its (inlined) frames */
	REQ_ENTRY,         /* print the entry function of a goroutine not yet started */
	REQ_CREATEDBY,     /* print only the "created by" lines */
};

enum { NREGS = 17 }; /* DWARF x86-64: rax rdx rcx rbx rsi rdi rbp rsp r8-r15, rip */
enum { REG_DW_RBX = 3, REG_DW_RBP = 6, REG_DW_RSP = 7, REG_DW_R12 = 12, REG_DW_RIP = 16 };
enum { INNER_FRAMES = 50, OUTER_FRAMES = 50, MAX_UNWIND = 100000 };

typedef struct request {
	int kind;
	uint64_t regs[NREGS];
	bool pc_is_return; /* regs[RIP] is a return address (a parked G): frame 0 is a call */
	uintptr_t lo, hi;  /* the goroutine's stack: read directly; elsewhere, process_vm_readv */
	int level;
	/* created by */
	uintptr_t gopc;
	int64_t parentgoid;
	uintptr_t entry;   /* REQ_ENTRY: the function */
	const char *skipto; /* REQ_TRACEBACK: drop frames up to this function's, included */
	printbuf *out;
	/* REQ_CALLERS */
	int skip;
	uintptr_t *pcs;
	int npcs;
	/* REQ_FRAMES */
	uintptr_t pc;
	gort_frame *frames;
	int nframes;
	/* result */
	int ret;
} request;

static request *_Atomic slot;              /* the request being served */
static _Atomic uint32_t slotbusy;          /* 1 while someone owns the slot */
static _Atomic uint32_t reqseq, doneseq;   /* futex words: posted, served */
static _Atomic uint32_t ready;             /* 1: modules loaded; 2: failed or absent */

/* ---- Is this one of gort's own frames? ----------------------------------- */

extern const char __start_gort_text[] __attribute__((weak));
extern const char __stop_gort_text[] __attribute__((weak));
void gort__gostart(void);

static uintptr_t gort_lo, gort_hi; /* libgort's code: gort_text, or libgort.so's text */

__attribute__((unused)) static bool runtime_frame(uintptr_t pc, const char *name)
{
	if (name != NULL && strncmp(name, "gort__", 6) == 0)
		return true;
	bool ours = pc >= gort_lo && pc < gort_hi;
	return ours && (name == NULL || strncmp(name, "gort_", 5) != 0);
}

#ifdef GORT_HAVE_LIBDW

/* ---- libdw: the modules, loaded once ---------------------------------- */

static Dwfl *dwfl;
static request *cur; /* the request being served (reporter thread only) */

/*
 * find_debuginfo: a module without DWARF of its own (libc, say) may have a
 * separate debug file under /usr/lib/debug/.build-id (Debian's -dbg
 * packages).  Only there: libdw's standard search would also start its
 * debuginfod client (libcurl: threads, sockets, the network), which a
 * runtime must not do behind the program's back.  The descriptor is
 * close-on-exec: children do not inherit it.
 */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, GElf_Addr base,
                          const char *file_name, const char *debuglink_file,
                          GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	const unsigned char *id;
	GElf_Addr vaddr;
	int len = dwfl_module_build_id(mod, &id, &vaddr);
	if (len < 2)
		return -1;
	char path[64 + 2 * 64];
	int n = snprintf(path, sizeof path, "/usr/lib/debug/.build-id/%02x/", id[0]);
	for (int i = 1; i < len && n + 3 < (int)sizeof path - 8; i++)
		n += snprintf(path + n, sizeof path - (size_t)n, "%02x", id[i]);
	snprintf(path + n, sizeof path - (size_t)n, ".debug");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		*debuginfo_file_name = strdup(path);
	return fd;
}

/*
 * find_elf: libdwfl's own search, then the file's image is mapped and the
 * descriptor closed.  libdw would otherwise keep every module's file open
 * for the life of the process - descriptors the program never opened,
 * inherited by every child it starts.
 */
static int find_elf(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                    char **file_name, Elf **elfp)
{
	int fd = dwfl_linux_proc_find_elf(mod, userdata, modname, base, file_name, elfp);
	if (fd < 0 || *elfp != NULL)
		return fd;
	struct stat st;
	void *image = MAP_FAILED;
	if (fstat(fd, &st) == 0 && st.st_size > 0)
		image = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (image == MAP_FAILED)
		return fd; /* keep the descriptor, then */
	close(fd);
	*elfp = elf_memory(image, (size_t)st.st_size);
	return -1;
}

static const Dwfl_Callbacks dwfl_callbacks = {
	.find_elf = find_elf,
	.find_debuginfo = find_debuginfo,
};

/* memory_read: a word of this process's memory, without faulting on a bad address. */
static bool memory_read(Dwfl *d, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	if (cur != NULL && addr >= cur->lo && addr + 8 <= cur->hi) {
		memcpy(result, (void *)(uintptr_t)addr, 8);
		return true;
	}
	struct iovec local = {result, 8}, remote = {(void *)(uintptr_t)addr, 8};
	return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == 8;
}

/* One pretend thread: whichever register set the current request carries. */
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
		regs[i] = cur->regs[i];
	if (!dwfl_thread_state_registers(thread, 0, NREGS, regs))
		return false;
	dwfl_thread_state_register_pc(thread, cur->regs[REG_DW_RIP]);
	return true;
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = next_thread,
	.get_thread = get_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

static bool has_section(Elf *elf, const char *name)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return false;
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn != NULL; scn = elf_nextscn(elf, scn)) {
		GElf_Shdr sh;
		const char *n;
		if (gelf_getshdr(scn, &sh) != NULL && (n = elf_strptr(elf, shstrndx, sh.sh_name)) != NULL &&
		    strcmp(n, name) == 0)
			return true;
	}
	return false;
}

static int warm_module(Dwfl_Module *mod, void **ud, const char *name, Dwarf_Addr start, void *arg)
{
	/* Load now what symbolization reads later: ELF, symbol table, DWARF
	 * and the CFI. */
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	/* The symbol table and DWARF inside the module are loaded now; a
	 * separate debug file (libc's from libc6-dbg, compressed: some 50 ms
	 * to open) only when a report first needs it, on the reporter thread
	 * like everything else.  Line tables are read as needed too. */
	if (elf != NULL && has_section(elf, ".symtab"))
		dwfl_module_getsymtab(mod);
	if (elf != NULL && has_section(elf, ".debug_info"))
		dwfl_module_getdwarf(mod, &bias);
	dwfl_module_eh_cfi(mod, &bias); /* (.debug_frame, rare, would open the debug file) */
	if (name != NULL && strstr(name, "libgort.so") != NULL && gort_hi == 0) {
		Dwarf_Addr lo, hi;
		dwfl_module_info(mod, NULL, &lo, &hi, NULL, NULL, NULL, NULL);
		gort_lo = lo;
		gort_hi = hi;
	}
	return DWARF_CB_OK;
}

static bool load_modules(void)
{
	dwfl = dwfl_begin(&dwfl_callbacks);
	if (dwfl == NULL)
		return false;
	dwfl_report_begin(dwfl);
	if (dwfl_linux_proc_report(dwfl, getpid()) != 0 || dwfl_report_end(dwfl, NULL, NULL) != 0)
		return false;
	if (!dwfl_attach_state(dwfl, NULL, getpid(), &thread_callbacks, NULL))
		return false;
	dwfl_getmodules(dwfl, warm_module, NULL, 0);
	return true;
}

/* ---- Symbolization --------------------------------------------------------- */

typedef struct sym {
	const char *name;  /* function, or NULL */
	const char *file;  /* or NULL */
	int line;
	uintptr_t entry;   /* the physical function's entry, or 0 */
	bool inlined;      /* an inlined call: the frame has no pc of its own */
} sym;

enum { MAX_INLINE = 16 };

/*
 * unclone: a clone's symbol name cut at its first dot, kept for good (the
 * API promises strings that live as long as the program).  Reporter thread
 * only, so it may allocate; one entry per clone ever seen.
 */
typedef struct clonename {
	const char *sym, *name;
	struct clonename *next;
} clonename;
static clonename *clones;

static const char *unclone(const char *sym)
{
	for (clonename *c = clones; c != NULL; c = c->next)
		if (c->sym == sym)
			return c->name;
	clonename *c = malloc(sizeof *c);
	char *name = strndup(sym, (size_t)(strchr(sym, '.') - sym));
	if (c == NULL || name == NULL) {
		free(c);
		free(name);
		return sym;
	}
	*c = (clonename){sym, name, clones};
	clones = c;
	return name;
}

static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));
	return n;
}

/*
 * symbolize expands pc (the address looked up: a return address minus one
 * for a call) into its frames, innermost first: the inlined calls, then the
 * function that holds the code.  Returns how many (>= 1).
 */
static int symbolize(uintptr_t pc, sym *out, int max)
{
	out[0] = (sym){0};
	Dwfl_Module *mod = dwfl_addrmodule(dwfl, pc);
	if (mod == NULL)
		return 1;
	GElf_Off off;
	GElf_Sym s;
	const char *symname = dwfl_module_addrinfo(mod, pc, &off, &s, NULL, NULL, NULL);
	uintptr_t entry = symname != NULL ? pc - off : 0;
	const char *file = NULL;
	int line = 0;
	Dwfl_Line *l = dwfl_module_getsrc(mod, pc);
	if (l != NULL)
		file = dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL);

	int n = 0;
	Dwarf_Addr bias;
	Dwarf_Die *cudie = dwfl_module_addrdie(mod, pc, &bias);
	Dwarf_Die *scopes = NULL;
	int nscopes = cudie != NULL ? dwarf_getscopes(cudie, pc - bias, &scopes) : 0;
	Dwarf_Files *files = NULL;
	size_t nfiles = 0;
	if (cudie != NULL)
		dwarf_getsrcfiles(cudie, &files, &nfiles);
	for (int i = 0; i < nscopes && n < max; i++) {
		int tag = dwarf_tag(&scopes[i]);
		if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine)
			continue;
		const char *name = die_name(&scopes[i]);
		out[n] = (sym){name, file, line, entry, tag == DW_TAG_inlined_subroutine};
		n++;
		if (tag == DW_TAG_subprogram)
			break;
		/* the caller's location is where this one was inlined */
		Dwarf_Attribute a;
		Dwarf_Word cf = 0, cl = 0;
		dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &a), &cf);
		dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &a), &cl);
		file = files != NULL && cf < nfiles ? dwarf_filesrc(files, cf, NULL, NULL) : NULL;
		line = (int)cl;
	}
	free(scopes);
	if (n == 0) { /* no DWARF: the symbol table's name */
		out[0] = (sym){symname, file, line, entry, false};
		n = 1;
	} else if (out[n - 1].inlined) {
		/* the function holding the code: dwarf_getscopes followed the
		 * inlined function's abstract origin instead; the symbol name */
		if (n < max)
			out[n++] = (sym){symname, file, line, entry, false};
		else
			out[n - 1].inlined = false;
	}
	/* a symbol-table name may be a GCC clone's: f.constprop.0, f.isra.0,
	 * f.part.0, f.cold.  C names have no dot: print f. */
	if (out[n - 1].name == symname && symname != NULL && strchr(symname, '.') != NULL)
		out[n - 1].name = unclone(symname);
	return n;
}

/* ---- Printing frames -------------------------------------------------------- */

typedef struct pframe { /* one printed frame */
	const char *name, *file;
	int line;
	uintptr_t pc, entry;
	bool inlined;
} pframe;

typedef struct walk {
	bool showall;        /* level >= 2, or the retry when everything was hidden */
	int nframes;         /* frames shown so far */
	int nunwound;
	pframe inner[INNER_FRAMES];
	pframe outer[OUTER_FRAMES]; /* a ring: the last OUTER_FRAMES shown */
	bool first;
	bool skipping;       /* still above skipto */
} walk;

static walk wk; /* reporter thread only */

/* print_location: tab, file:line, and " +0x<pc-entry>" for a real pc. */
static void print_location(printbuf *s, const pframe *f)
{
	gort__printchar(s, '\t');
	if (f->file != NULL) {
		gort__printstring(s, f->file);
		gort__printchar(s, ':');
		gort__printuint(s, (unsigned)f->line, 10);
	} else {
		gort__printstring(s, "?:0");
	}
	if (!f->inlined) {
		if (f->entry != 0 && f->pc >= f->entry) {
			if (f->pc > f->entry) {
				gort__printstring(s, " +0x");
				gort__printuint(s, f->pc - f->entry, 16);
			}
		} else {
			gort__printstring(s, " pc=0x");
			gort__printuint(s, f->pc, 16);
		}
	}
	gort__printchar(s, '\n');
}

static void print_frame(printbuf *s, const pframe *f)
{
	gort__printstring(s, f->name != NULL ? f->name : "?");
	gort__printstring(s, "(...)\n");
	print_location(s, f);
}

static void show(const pframe *f)
{
	if (wk.nframes < INNER_FRAMES)
		wk.inner[wk.nframes] = *f;
	else
		wk.outer[(wk.nframes - INNER_FRAMES) % OUTER_FRAMES] = *f;
	wk.nframes++;
}

/* frame_pcs: the pc a frame shows, and the one to look up (a call: one before). */
static void frame_pcs(Dwfl_Frame *state, uintptr_t *shown, uintptr_t *lookup)
{
	Dwarf_Addr pc;
	bool activation;
	dwfl_frame_pc(state, &pc, &activation);
	if (wk.first && cur->pc_is_return) {
		/* regs[RIP] was the return address minus one, set up so */
		*shown = pc + 1;
		*lookup = pc;
	} else {
		*shown = pc;
		*lookup = activation ? pc : pc - 1;
	}
	wk.first = false;
}

static int traceback_frame(Dwfl_Frame *state, void *arg)
{
	if (++wk.nunwound > MAX_UNWIND)
		return DWARF_CB_ABORT;
	uintptr_t pc, lookup;
	frame_pcs(state, &pc, &lookup);
	if (pc == 0)
		return DWARF_CB_ABORT;
	sym syms[MAX_INLINE];
	int n = symbolize(lookup, syms, MAX_INLINE);
	if (wk.skipping) {
		for (int i = 0; i < n; i++)
			if (syms[i].name != NULL && strcmp(syms[i].name, cur->skipto) == 0)
				wk.skipping = false;
		return DWARF_CB_OK;
	}
	for (int i = 0; i < n; i++) {
		if (!wk.showall && runtime_frame(lookup, syms[i].name))
			continue;
		pframe f = {syms[i].name, syms[i].file, syms[i].line, pc, syms[i].entry, syms[i].inlined};
		show(&f);
	}
	return DWARF_CB_OK;
}

static void unwind(int (*cb)(Dwfl_Frame *, void *))
{
	wk.first = true;
	wk.skipping = cur->skipto != NULL;
	wk.nunwound = 0;
	dwfl_getthread_frames(dwfl, FAKE_TID, cb, NULL);
}

static void print_walk(printbuf *s)
{
	int ninner = wk.nframes < INNER_FRAMES ? wk.nframes : INNER_FRAMES;
	for (int i = 0; i < ninner; i++)
		print_frame(s, &wk.inner[i]);
	int rest = wk.nframes - ninner;
	if (rest > OUTER_FRAMES) {
		gort__printstring(s, "...");
		gort__printuint(s, (unsigned)(rest - OUTER_FRAMES), 10);
		gort__printstring(s, " frames elided...\n");
	}
	int nouter = rest < OUTER_FRAMES ? rest : OUTER_FRAMES;
	for (int i = rest - nouter; i < rest; i++)
		print_frame(s, &wk.outer[i % OUTER_FRAMES]);
}

static void serve_traceback(request *r)
{
	wk.showall = r->level >= 2;
	wk.nframes = 0;
	unwind(traceback_frame);
	if (wk.nframes == 0 && !wk.showall) {
		wk.showall = true; /* Go: if the filter hides everything, show everything */
		unwind(traceback_frame);
	}
	print_walk(r->out);
}

static void serve_entry(request *r)
{
	sym syms[MAX_INLINE];
	symbolize(r->entry, syms, 1);
	pframe f = {syms[0].name, syms[0].file, syms[0].line, r->entry, syms[0].entry, false};
	print_frame(r->out, &f);
}

static void serve_createdby(request *r)
{
	if (r->gopc == 0)
		return;
	sym syms[MAX_INLINE];
	int n = symbolize(r->gopc - 1, syms, MAX_INLINE);
	/* the function that called gort_go (the physical one, as Go's findfunc),
	 * at the line of the call (the innermost) */
	printbuf *s = r->out;
	gort__printstring(s, "created by ");
	gort__printstring(s, syms[n - 1].name != NULL ? syms[n - 1].name : "?");
	if (r->parentgoid != 0) {
		gort__printstring(s, " in goroutine ");
		gort__printuint(s, (unsigned long long)r->parentgoid, 10);
	}
	gort__printchar(s, '\n');
	pframe f = {syms[n - 1].name, syms[0].file, syms[0].line, r->gopc, syms[n - 1].entry, false};
	print_location(s, &f);
}

static int callers_frame(Dwfl_Frame *state, void *arg)
{
	request *r = cur;
	uintptr_t pc, lookup;
	frame_pcs(state, &pc, &lookup);
	if (pc == 0 || ++wk.nunwound > MAX_UNWIND)
		return DWARF_CB_ABORT;
	if (r->skip > 0) {
		r->skip--;
		return DWARF_CB_OK;
	}
	if (r->ret >= r->npcs)
		return DWARF_CB_ABORT;
	r->pcs[r->ret++] = pc;
	return DWARF_CB_OK;
}

static void serve_frames(request *r)
{
	sym syms[MAX_INLINE];
	/* pcs from gort_callers are return addresses: look up the call */
	uintptr_t lookup = r->pc - 1;
	int n = symbolize(lookup, syms, MAX_INLINE);
	int k = n < r->nframes ? n : r->nframes;
	for (int i = 0; i < k; i++)
		r->frames[i] = (gort_frame){.function = syms[i].name,
		                            .file = syms[i].file,
		                            .line = syms[i].line,
		                            .entry = syms[i].entry,
		                            .pc = r->pc,
		                            .inlined = syms[i].inlined};
	r->ret = n;
}

static void serve(request *r)
{
	cur = r;
	switch (r->kind) {
	case REQ_TRACEBACK: serve_traceback(r); serve_createdby(r); break;
	case REQ_ENTRY: serve_entry(r); serve_createdby(r); break;
	case REQ_CREATEDBY: serve_createdby(r); break;
	case REQ_CALLERS:
		r->ret = 0;
		unwind(callers_frame);
		break;
	case REQ_FRAMES: serve_frames(r); break;
	}
	if (r->out != NULL)
		gort__printflush(r->out);
	cur = NULL;
}

/* reporter is the thread that unwinds and symbolizes: see the top. */
static void *reporter(void *arg)
{
	atomic_store(&ready, load_modules() ? 1 : 2);
	gort__futexwakeup(&ready, INT32_MAX);
	for (;;) {
		uint32_t seq = atomic_load(&reqseq);
		if (seq == atomic_load(&doneseq)) {
			gort__futexsleep(&reqseq, seq);
			continue;
		}
		serve(atomic_load(&slot));
		atomic_store(&doneseq, seq);
		gort__futexwakeup(&doneseq, INT32_MAX);
	}
	return NULL;
}

static bool start_reporter(void)
{
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 1 << 20);
	/* No signals: the reporter is nobody's M, and a SIGURG or a user's
	 * signal must not land in the middle of libdw. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_t t;
	int err = pthread_create(&t, &attr, reporter, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (err == 0)
		pthread_setname_np(t, "gort-traceback");
	return err == 0;
}

#else /* !GORT_HAVE_LIBDW */

static bool start_reporter(void)
{
	return false;
}

#endif

/* ---- Posting a request (any thread; no allocation, no lock) --------------- */

/*
 * call hands r to the reporter and waits until it is served.  false, having
 * done nothing, if there is no reporter or the slot stays taken for
 * patience_ns (0: wait as long as it takes).
 */
static bool call(request *r, int64_t patience_ns)
{
	int64_t start = gort__nanotime();
	for (;;) {
		uint32_t rd = atomic_load(&ready);
		if (rd == 2)
			return false;
		if (rd == 1)
			break;
		if (patience_ns != 0 && gort__nanotime() - start > patience_ns)
			return false;
		gort__futexsleep_timeout(&ready, 0, 10 * 1000 * 1000);
	}
	uint32_t zero = 0;
	while (!atomic_compare_exchange_weak(&slotbusy, &zero, 1)) {
		zero = 0;
		if (patience_ns != 0 && gort__nanotime() - start > patience_ns)
			return false;
		gort__osyield();
	}
	atomic_store(&slot, r);
	uint32_t seq = atomic_load(&reqseq) + 1;
	atomic_store(&reqseq, seq);
	gort__futexwakeup(&reqseq, 1);
	while (atomic_load(&doneseq) != seq)
		gort__futexsleep(&doneseq, seq - 1);
	atomic_store(&slot, NULL);
	atomic_store(&slotbusy, 0);
	return true;
}

enum { FAIL_PATIENCE_NS = 2000LL * 1000 * 1000 };

void gort__traceback_init(void)
{
	settraceback(getenv("GOTRACEBACK"));
	if (__start_gort_text != NULL && __stop_gort_text != NULL) {
		gort_lo = (uintptr_t)__start_gort_text;
		gort_hi = (uintptr_t)__stop_gort_text;
	}
	if (!start_reporter()) {
		atomic_store(&ready, 2);
		return;
	}
	/* Wait for the modules to load: a failure right at start-up then has
	 * its frames, and the descriptors libdw opens are all open (or closed)
	 * before the program's first line runs. */
	while (atomic_load(&ready) == 0)
		gort__futexsleep(&ready, 0);
}

/* regs_from_saved: the registers of a savedctx, resuming with stack pointer rsp. */
static void regs_from_saved(request *r, const savedctx *ctx, uint64_t rsp)
{
	memset(r->regs, 0, sizeof r->regs);
	r->regs[15] = ctx->r15;
	r->regs[14] = ctx->r14;
	r->regs[13] = ctx->r13;
	r->regs[REG_DW_R12] = ctx->r12;
	r->regs[REG_DW_RBX] = ctx->rbx;
	r->regs[REG_DW_RBP] = ctx->rbp;
	/* Looked up at the call (ret - 1): the CFI rules there are the caller's
	 * at the call, and ret may lie past the end of a noreturn caller. */
	r->regs[REG_DW_RIP] = ctx->pc - 1;
	r->pc_is_return = true;
	r->regs[REG_DW_RSP] = rsp;
}

/* regs_from_sched: the savedctx gort__mcall left on a parked G's stack;
 * gort__gogo would pop it, so the G resumes with rsp just above it. */
static void regs_from_sched(request *r, G *gp)
{
	const savedctx *ctx = gp->sched_sp;
	regs_from_saved(r, ctx, (uint64_t)(uintptr_t)(ctx + 1));
}

/* in_syscall_traceable: gp is in a system call entered through
 * gort_entersyscall, which saved its caller's context (Go's syscallsp). */
static bool in_syscall_traceable(G *gp, uint32_t status)
{
	return status == Gsyscall && gp->syscallctx.ctx.pc != 0;
}

static void regs_from_syscall(request *r, G *gp)
{
	regs_from_saved(r, &gp->syscallctx.ctx, gp->syscallctx.sp);
}

/* not_started: gp has never run - no stack yet, or gort__gostartframe's
 * context still waiting for gort__gogo. */
static bool not_started(G *gp)
{
	return gp->stack.lo == 0 || gp->sched_sp == NULL ||
	       ((const savedctx *)gp->sched_sp)->pc == (uintptr_t)gort__gostart;
}

static void regs_from_ucontext(request *r, const ucontext_t *uc)
{
	const greg_t *g = uc->uc_mcontext.gregs;
	r->regs[0] = g[REG_RAX];
	r->regs[1] = g[REG_RDX];
	r->regs[2] = g[REG_RCX];
	r->regs[3] = g[REG_RBX];
	r->regs[4] = g[REG_RSI];
	r->regs[5] = g[REG_RDI];
	r->regs[6] = g[REG_RBP];
	r->regs[7] = g[REG_RSP];
	r->regs[8] = g[REG_R8];
	r->regs[9] = g[REG_R9];
	r->regs[10] = g[REG_R10];
	r->regs[11] = g[REG_R11];
	r->regs[12] = g[REG_R12];
	r->regs[13] = g[REG_R13];
	r->regs[14] = g[REG_R14];
	r->regs[15] = g[REG_R15];
	r->regs[16] = g[REG_RIP];
	r->pc_is_return = false;
}

static void print_createdby_raw(G *gp)
{
	if (gp->gopc == 0)
		return;
	if (gp->parentgoid != 0)
		gort__printf("created by ? in goroutine %lld\n\tpc=%p\n", (long long)gp->parentgoid,
		             (void *)gp->gopc);
	else
		gort__printf("created by ?\n\tpc=%p\n", (void *)gp->gopc);
}

/* post_traceback: serve r (its registers set) for gp, or say why not. */
static void post_traceback(request *r, G *gp, int level, printbuf *out, int64_t patience)
{
	r->level = level;
	r->gopc = gp->gopc;
	r->parentgoid = gp->parentgoid;
	r->lo = gp->stack.lo;
	r->hi = gp->stack.hi;
	r->out = out;
	if (call(r, patience))
		return;
	if (out->tostderr) {
#ifdef GORT_HAVE_LIBDW
		gort__printf("\t(no frames: the traceback reporter is unavailable)\n");
#else
		gort__printf("\t(no frames: gort was built without libdw; apt-get install libdw-dev, then rebuild)\n");
#endif
		print_createdby_raw(gp);
	}
}

/*
 * traceback_g writes gp's frames and creator.  uc: a signal's context in
 * gp; else gp is the caller (its registers from getcontext here) or not
 * running (the context it saved).  noinline: frame 0 of the caller's own
 * stack is this function, still live while the reporter reads it.
 */
__attribute__((noinline)) static void traceback_g(G *gp, const ucontext_t *uc, int level, printbuf *out,
                                                  int64_t patience, const char *skipto)
{
	request r;
	memset(&r, 0, sizeof r);
	r.kind = REQ_TRACEBACK;
	r.skipto = gp == gort__getg() ? skipto : NULL;
	G *self = gort__getg();
	uint32_t status = gort__readgstatus(gp);
	if (uc != NULL) {
		regs_from_ucontext(&r, uc);
	} else if (gp == self) {
		ucontext_t ctx;
		getcontext(&ctx);
		regs_from_ucontext(&r, &ctx);
	} else if (self != NULL && self->m != NULL && gp == self->m->curg && gp->sched_sp != NULL) {
		/* on g0 after mcall: gp's context is saved, though it still says running */
		regs_from_sched(&r, gp);
	} else if (in_syscall_traceable(gp, status)) {
		regs_from_syscall(&r, gp); /* from the call: its frames above are still */
	} else if (status == Grunning || status == Gsyscall) {
		/* Go: stack unavailable while another thread runs it */
		if (out->tostderr)
			gort__printf("\tgoroutine running on other thread; stack unavailable\n");
		else
			gort__printstring(out, "\tgoroutine running on other thread; stack unavailable\n");
		r.kind = REQ_CREATEDBY;
	} else if (not_started(gp)) {
		r.kind = REQ_ENTRY; /* not started: its function */
		r.entry = (uintptr_t)gp->fn;
	} else {
		regs_from_sched(&r, gp);
	}
	post_traceback(&r, gp, level, out, patience);
	if (gp == self)
		__asm__ volatile("" ::: "memory"); /* keep this frame until the reporter is done */
}

/*
 * tracebackpcs fills pcs with the return addresses of gp's frames - gp
 * parked, with a saved context - and returns how many (0: none to be had:
 * running, not started, or no libdw).  For the SIGQUIT dump's summary,
 * which buckets goroutines by stack.
 */
int gort__tracebackpcs(G *gp, uintptr_t *pcs, int n)
{
#ifdef GORT_HAVE_LIBDW
	uint32_t status = gort__readgstatus(gp);
	bool syscall = in_syscall_traceable(gp, status);
	if (n <= 0 || status == Grunning || (status == Gsyscall && !syscall) || gp->stack.lo == 0 ||
	    (!syscall && not_started(gp)))
		return 0;
	request r;
	memset(&r, 0, sizeof r);
	r.kind = REQ_CALLERS;
	if (syscall)
		regs_from_syscall(&r, gp);
	else
		regs_from_sched(&r, gp);
	r.lo = gp->stack.lo;
	r.hi = gp->stack.hi;
	r.pcs = pcs;
	r.npcs = n;
	return call(&r, FAIL_PATIENCE_NS) ? r.ret : 0;
#else
	(void)gp;
	(void)pcs;
	(void)n;
	return 0;
#endif
}

void gort__traceback(G *gp)
{
	if (tb_level == 0 || gp == NULL)
		return;
	char buf[1024];
	printbuf out = gort__printbuf_stderr(buf, sizeof buf);
	traceback_g(gp, NULL, tb_level, &out, FAIL_PATIENCE_NS, NULL);
}

void gort__traceback_ctx(G *gp, const void *ucontext)
{
	if (tb_level == 0 || gp == NULL)
		return;
	char buf[1024];
	printbuf out = gort__printbuf_stderr(buf, sizeof buf);
	traceback_g(gp, ucontext, tb_level, &out, FAIL_PATIENCE_NS, NULL);
}

/* ---- The public API --------------------------------------------------------- */

typedef struct stackall {
	printbuf *s;
	G *self;
	int level;
} stackall;

static void stack_other(G *gp, void *arg)
{
	stackall *sa = arg;
	if (gp == sa->self)
		return;
	if (sa->level < 2 && gp->goid == 0)
		return;
	gort__printchar(sa->s, '\n');
	gort__goroutineheader_put(sa->s, gp, gort__nanotime());
	traceback_g(gp, NULL, sa->level, sa->s, 0, NULL);
}

int gort_stack(char *buf, size_t n, bool all)
{
	G *gp = gort__current_goroutine("gort_stack");
	printbuf s = gort__printbuf_array(buf, n);
	int level = tb_level < 1 ? 1 : tb_level;
	if (all)
		gort__stoptheworld();
	gort__goroutineheader_put(&s, gp, gort__nanotime());
	traceback_g(gp, NULL, level, &s, 0, "gort_stack"); /* from its caller, as Go */
	if (all) {
		stackall sa = {&s, gp, level};
		while (!gort__forEachG(stack_other, &sa))
			gort__osyield();
		gort__starttheworld();
	}
	return (int)(s.len < n ? s.len : n);
}

__attribute__((noinline)) int gort_callers(int skip, uintptr_t *pcs, int n)
{
	if (n <= 0)
		return 0;
#ifdef GORT_HAVE_LIBDW
	request r;
	memset(&r, 0, sizeof r);
	r.kind = REQ_CALLERS;
	ucontext_t ctx;
	getcontext(&ctx);
	regs_from_ucontext(&r, &ctx);
	G *gp = gort__getg();
	if (gp != NULL && gp->m != NULL && gp != &gp->m->g0) {
		r.lo = gp->stack.lo;
		r.hi = gp->stack.hi;
	}
	/* Go: skip 0 is Callers itself, 1 its caller */
	r.skip = skip;
	r.pcs = pcs;
	r.npcs = n;
	if (!call(&r, 0))
		return 0;
	__asm__ volatile("" ::: "memory"); /* keep this frame until the reporter is done */
	return r.ret;
#else
	(void)skip;
	(void)pcs;
	return 0;
#endif
}

int gort_frame_info(uintptr_t pc, gort_frame *frames, int n)
{
#ifdef GORT_HAVE_LIBDW
	request r;
	memset(&r, 0, sizeof r);
	r.kind = REQ_FRAMES;
	r.pc = pc;
	r.frames = frames;
	r.nframes = n;
	if (!call(&r, 0))
		return 0;
	return r.ret;
#else
	(void)pc;
	(void)frames;
	(void)n;
	return 0;
#endif
}

bool gort_traceback_symbolized(void)
{
	/* the reporter loads modules as the program starts: wait for it */
	for (int i = 0; i < 500 && atomic_load(&ready) == 0; i++)
		gort__futexsleep_timeout(&ready, 0, 10 * 1000 * 1000);
	return atomic_load(&ready) == 1;
}
