/*
 * gort-peek - a gort program's goroutine dump, taken from outside.
 *
 *     gort-peek PID            a running program: it goes on running
 *     gort-peek CORE [EXE]     a core file (EXE: the program, if the core
 *                              does not say where it is)
 *
 * prints what kill -QUIT would make the program print - "goroutine N
 * [state, M minutes]:", its frames with file:line, "created by" - without
 * the program's help and without killing it: the dump for a hung process
 * in production.  GOTRACEBACK=system shows gort's own frames too.
 *
 * How:
 *   1. Stop every thread (ptrace: PTRACE_SEIZE + PTRACE_INTERRUPT), so that
 *      no goroutine moves while it is read; a core is still by nature.
 *   2. Find the runtime's descriptor, gort__debuginfo (src/debuginfo.h),
 *      by its section in the program's or libgort.so's ELF file: where the
 *      goroutine list is, and every field's offset.  No descriptor: not a
 *      gort program.
 *   3. Read each G from the process's memory (process_vm_readv), or from
 *      the core (and from the program's files for what a core leaves out).
 *   4. Unwind each parked goroutine from the context it saved when it
 *      switched out, with libdw's frame API - the same callbacks as the
 *      runtime's own unwinder (src/traceback_unwind.c), reading the
 *      target's memory instead of our own.
 *   5. Print with the runtime's own printing code: src/traceback_print.c
 *      and src/symtab.c are linked into this program (symtab.c pointed at
 *      the target's modules), so the frames, the hiding of gort's own, the
 *      elision and "created by" are the dump's by construction.
 *   6. Detach: the program runs on.
 *
 * A running goroutine is unwound from its thread's registers (ptrace's, or
 * the core's notes): the dump can do that only for the goroutine its
 * signal interrupted, and says "goroutine running on other thread; stack
 * unavailable" for the others; gort-peek stopped them all.  A stripped
 * program gets its ids and states, without frames.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <elfutils/libdwfl.h>
#include <gelf.h>

#include "debuginfo.h"
#include "gort-proc.h"
#include "traceback.h"

const char *gort_proc_prog = "gort-peek";


/* ---- the target --------------------------------------------------------------- */

static struct {
	pid_t pid;            /* a live process, or 0 */
	const char *name;     /* for messages */
	Elf *core;            /* a core file, or NULL */
	const char *corebytes;
	size_t coresize;
	Dwfl *dwfl;
	gort_debuginfo d;     /* the runtime's descriptor, as read */
	uint64_t daddr;       /* its address in the target */
	Dwfl_Module *dmod;    /* the module holding it */
} T;

/* in_core: n bytes at addr from the core's memory segments, if it has them. */
static bool in_core(uint64_t addr, void *buf, size_t n)
{
	size_t nph;
	if (elf_getphdrnum(T.core, &nph) != 0)
		return false;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (gelf_getphdr(T.core, (int)i, &ph) == NULL || ph.p_type != PT_LOAD)
			continue;
		if (addr >= ph.p_vaddr && addr + n <= ph.p_vaddr + ph.p_filesz &&
		    ph.p_offset + (addr - ph.p_vaddr) + n <= T.coresize) {
			memcpy(buf, T.corebytes + ph.p_offset + (addr - ph.p_vaddr), n);
			return true;
		}
	}
	return false;
}

/* in_module: n bytes at addr from the file of the module mapped there - what
 * a core leaves out (read-only data, code). */
static bool in_module(uint64_t addr, void *buf, size_t n)
{
	Dwfl_Module *mod = dwfl_addrmodule(T.dwfl, addr);
	GElf_Addr bias;
	Elf *elf = mod != NULL ? dwfl_module_getelf(mod, &bias) : NULL;
	size_t nph, size;
	const char *raw = elf != NULL ? elf_rawfile(elf, &size) : NULL;
	if (raw == NULL || elf_getphdrnum(elf, &nph) != 0)
		return false;
	uint64_t a = addr - bias;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (gelf_getphdr(elf, (int)i, &ph) == NULL || ph.p_type != PT_LOAD)
			continue;
		if (a >= ph.p_vaddr && a + n <= ph.p_vaddr + ph.p_filesz && ph.p_offset + (a - ph.p_vaddr) + n <= size) {
			memcpy(buf, raw + ph.p_offset + (a - ph.p_vaddr), n);
			return true;
		}
	}
	return false;
}

static bool readmem(uint64_t addr, void *buf, size_t n)
{
	if (T.core != NULL)
		return in_core(addr, buf, n) || in_module(addr, buf, n);
	struct iovec local = {buf, n}, remote = {(void *)(uintptr_t)addr, n};
	return process_vm_readv(T.pid, &local, 1, &remote, 1, 0) == (ssize_t)n;
}

static void mustread(uint64_t addr, void *buf, size_t n, const char *what)
{
	if (!readmem(addr, buf, n))
		gort_proc_die("cannot read %s at 0x%" PRIx64 " in %s%s", what, addr, T.name,
		    T.core != NULL ? "" : " (did it exit?)");
}

static uint64_t read64(uint64_t addr, const char *what)
{
	uint64_t v;
	mustread(addr, &v, sizeof v, what);
	return v;
}

static uint32_t read32(uint64_t addr, const char *what)
{
	uint32_t v;
	mustread(addr, &v, sizeof v, what);
	return v;
}

static void readstr(uint64_t addr, char *buf, size_t n)
{
	size_t i = 0;
	for (; i + 1 < n; i++)
		if (!readmem(addr + i, &buf[i], 1) || buf[i] == '\0')
			break;
	buf[i] = '\0';
}

/* ---- stopping a live process (ptrace) ------------------------------------------ */

enum { MAX_THREADS = 4096 };
static struct stopped {
	pid_t tid;
	int sig; /* a signal its stop held back, given back at the detach */
} stopped[MAX_THREADS];
static int nstopped;

static void why_no_ptrace(int err)
{
	gort_proc_explain_access(stderr, gort_proc_prog, "attach to", T.pid, err);
	exit(1);
}

static bool is_stopped(pid_t tid)
{
	for (int i = 0; i < nstopped; i++)
		if (stopped[i].tid == tid)
			return true;
	return false;
}

/* stop_one: seize and interrupt tid, wait for its stop.  false: gone. */
static bool stop_one(pid_t tid)
{
	if (ptrace(PTRACE_SEIZE, tid, 0, 0) != 0) {
		if (errno == ESRCH)
			return false;
		why_no_ptrace(errno);
	}
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) != 0)
		return false;
	int st;
	if (waitpid(tid, &st, __WALL) != tid || !WIFSTOPPED(st))
		return false;
	if (nstopped == MAX_THREADS)
		gort_proc_die("%s has more than %d threads", T.name, MAX_THREADS);
	/* an interrupt's stop is PTRACE_EVENT_STOP; any other is a signal's,
	 * which the detach must deliver after all */
	int sig = (st >> 16) == PTRACE_EVENT_STOP ? 0 : WSTOPSIG(st);
	stopped[nstopped++] = (struct stopped){tid, sig};
	return true;
}

/* stop_all: every thread, including those started while we stop the others. */
static void stop_all(void)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", (int)T.pid);
	for (bool more = true; more;) {
		more = false;
		DIR *dir = opendir(path);
		if (dir == NULL)
			gort_proc_die("no process %d (%s)", (int)T.pid, strerror(errno));
		for (struct dirent *e; (e = readdir(dir)) != NULL;) {
			pid_t tid = (pid_t)atoi(e->d_name);
			if (tid > 0 && !is_stopped(tid) && stop_one(tid))
				more = true;
		}
		closedir(dir);
	}
	if (nstopped == 0)
		gort_proc_die("process %d exited", (int)T.pid);
}

static void detach_all(void)
{
	for (int i = 0; i < nstopped; i++)
		ptrace(PTRACE_DETACH, stopped[i].tid, 0, (void *)(uintptr_t)stopped[i].sig);
	nstopped = 0;
}

static void on_fatal(int sig)
{
	detach_all(); /* never leave the program stopped */
	signal(sig, SIG_DFL);
	raise(sig);
}

/* ---- the modules and the descriptor ------------------------------------------- */

static char *debuginfo_path;
static const Dwfl_Callbacks proc_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};
static const Dwfl_Callbacks core_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

static void load_descriptor(void)
{
	T.dmod = gort_proc_find_descriptor(T.dwfl, &T.daddr);
	if (T.dmod == NULL)
		gort_proc_die("%s is not a gort program: neither it nor its libraries have gort's "
		    "descriptor (section %s)", T.name, GORT_DEBUGINFO_SECTION);
	char head[16];
	mustread(T.daddr, head, sizeof head, "gort's descriptor");
	uint32_t version, size;
	int bad = gort_proc_check_header(head, sizeof T.d, &version, &size);
	if (bad == 1)
		gort_proc_die("%s: section %s holds no gort descriptor", T.name, GORT_DEBUGINFO_SECTION);
	if (bad == 2)
		gort_proc_die("%s's runtime describes itself in version %u (%u bytes); this gort-peek reads "
		    "version %d: use the gort-peek of the program's gort",
		    T.name, version, size, GORT_DEBUGINFO_VERSION);
	mustread(T.daddr, &T.d, sizeof T.d, "gort's descriptor");
	if (T.d.ready != 1)
		gort_proc_die("%s has not started gort's runtime yet (gort_main)", T.name);
}

/* stripped: gort's code has neither a symbol table nor DWARF (here or in
 * a separate debug file) to name its frames with - .dynsym's few exported
 * names would only name every frame wrongly. */
static bool stripped(void)
{
	Dwfl_Module *mod = dwfl_addrmodule(T.dwfl, T.d.textlo);
	GElf_Addr bias;
	Elf *elf = mod != NULL ? dwfl_module_getelf(mod, &bias) : NULL;
	if (elf == NULL)
		return true;
	if (dwfl_module_getdwarf(mod, &bias) != NULL)
		return false;
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn != NULL; scn = elf_nextscn(elf, scn)) {
		GElf_Shdr sh;
		if (gelf_getshdr(scn, &sh) != NULL && sh.sh_type == SHT_SYMTAB)
			return false;
	}
	return true;
}

bool gort__in_gort_text(uintptr_t pc)
{
	return pc >= T.d.textlo && pc < T.d.texthi;
}

/* printbuf (src/print.h, the putting in src/printbuf.c) flushes to
 * stdout here: the dump goes to the program's stderr, ours is this
 * program's output. */
void gort__printflush(printbuf *b)
{
	fwrite(b->buf, 1, b->len, stdout);
	b->len = 0;
}

/* ---- a thread's registers --------------------------------------------------- */

/* core_prstatus: tid's registers from the core's NT_PRSTATUS note. */
static bool core_prstatus(pid_t tid, struct user_regs_struct *u)
{
	size_t nph;
	if (elf_getphdrnum(T.core, &nph) != 0)
		return false;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (gelf_getphdr(T.core, (int)i, &ph) == NULL || ph.p_type != PT_NOTE)
			continue;
		Elf_Data *data = elf_getdata_rawchunk(T.core, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_NHDR);
		GElf_Nhdr nh;
		size_t name, desc;
		for (size_t off = 0; data != NULL && (off = gelf_getnote(data, off, &nh, &name, &desc)) > 0;) {
			if (nh.n_type != NT_PRSTATUS || nh.n_descsz < sizeof(struct elf_prstatus))
				continue;
			struct elf_prstatus ps;
			memcpy(&ps, (const char *)data->d_buf + desc, sizeof ps);
			if (ps.pr_pid == tid) {
				memcpy(u, &ps.pr_reg, sizeof *u);
				return true;
			}
		}
	}
	return false;
}

/* thread_regs: tid's registers, in DWARF's order (traceback.h). */
static bool thread_regs(pid_t tid, uint64_t regs[NREGS])
{
	struct user_regs_struct u;
	if (T.core != NULL ? !core_prstatus(tid, &u)
	                   : !is_stopped(tid) || ptrace(PTRACE_GETREGS, tid, 0, &u) != 0)
		return false;
	const uint64_t r[NREGS] = {u.rax, u.rdx, u.rcx, u.rbx, u.rsi, u.rdi, u.rbp, u.rsp, u.r8,
	                           u.r9,  u.r10, u.r11, u.r12, u.r13, u.r14, u.r15, u.rip};
	memcpy(regs, r, sizeof r);
	return true;
}

/* ---- the goroutines ------------------------------------------------------------ */

typedef struct gview {
	uint64_t addr;
	int64_t goid, waitsince, parentgoid;
	uint32_t status;
	uint8_t waitreason;
	uint64_t sched_sp, stacklo, stackhi, m, lockedm, fn, gopc;
	uint64_t sysctx[SAVEDCTX_SIZE / 8];
	uint64_t syssp;
} gview;

static void readg(uint64_t addr, gview *g)
{
	const gort_debuginfo *d = &T.d;
	g->addr = addr;
	g->goid = (int64_t)read64(addr + d->g_goid, "a G");
	g->status = read32(addr + d->g_atomicstatus, "a G");
	mustread(addr + d->g_waitreason, &g->waitreason, 1, "a G");
	g->sched_sp = read64(addr + d->g_sched_sp, "a G");
	g->stacklo = read64(addr + d->g_stack_lo, "a G");
	g->stackhi = read64(addr + d->g_stack_hi, "a G");
	g->m = read64(addr + d->g_m, "a G");
	g->lockedm = read64(addr + d->g_lockedm, "a G");
	g->fn = read64(addr + d->g_fn, "a G");
	g->gopc = read64(addr + d->g_gopc, "a G");
	g->parentgoid = (int64_t)read64(addr + d->g_parentgoid, "a G");
	g->waitsince = (int64_t)read64(addr + d->g_waitsince, "a G");
	mustread(addr + d->g_syscallctx, g->sysctx, sizeof g->sysctx, "a G");
	g->syssp = read64(addr + d->g_syscallctx + d->sysctx_sp, "a G");
}

static void state_string(const gview *g, char *buf, size_t n)
{
	const gort_debuginfo *d = &T.d;
	uint64_t table = d->gstatuses, i = g->status, max = d->ngstatuses;
	if (g->status == d->st_waiting && g->waitreason != 0) {
		table = d->waitreasons;
		i = g->waitreason;
		max = d->nwaitreasons;
	}
	if (i >= max) {
		snprintf(buf, n, "???");
		return;
	}
	readstr(read64(table + 8 * i, "a state's name"), buf, n);
}

/* header: print.c's goroutineheader_put, from the fields read */
static void header(const gview *g, int64_t now)
{
	char state[64];
	state_string(g, state, sizeof state);
	printf("goroutine %" PRId64 " [%s", g->goid, state);
	if ((g->status == T.d.st_waiting || g->status == T.d.st_syscall) && g->waitsince != 0 &&
	    now - g->waitsince >= 60 * (int64_t)1000000000)
		printf(", %" PRId64 " minutes", (now - g->waitsince) / 60000000000);
	printf("%s]:\n", g->lockedm != 0 ? ", locked to thread" : "");
}

/* from_saved: traceback.c's, for a savedctx read out of the target */
static void from_saved(unwindfrom *f, const uint64_t *ctx, uint64_t rsp)
{
	const gort_debuginfo *d = &T.d;
	memset(f->regs, 0, sizeof f->regs);
	f->regs[REG_DW_R15] = ctx[d->ctx_r15 / 8];
	f->regs[REG_DW_R14] = ctx[d->ctx_r14 / 8];
	f->regs[REG_DW_R13] = ctx[d->ctx_r13 / 8];
	f->regs[REG_DW_R12] = ctx[d->ctx_r12 / 8];
	f->regs[REG_DW_RBX] = ctx[d->ctx_rbx / 8];
	f->regs[REG_DW_RBP] = ctx[d->ctx_rbp / 8];
	f->regs[REG_DW_RIP] = ctx[d->ctx_pc / 8] - 1; /* looked up at the call */
	f->regs[REG_DW_RSP] = rsp;
	f->pc_is_return = true;
}

/* traceback: traceback.c's traceback_g for a G that is not the caller */
static void traceback(const gview *g, int level, bool nframes)
{
	const gort_debuginfo *d = &T.d;
	char buf[4096];
	printbuf out = {.buf = buf, .cap = sizeof buf, .tostderr = true};
	report rep = {.out = &out, .gopc = g->gopc, .parentgoid = g->parentgoid};
	if (!nframes) {
		printf("\t(no frames: %s is stripped)\n", T.name);
		return;
	}
	request r = {.kind = REQ_TRACEBACK, .traceback = {.report = rep, .level = level}};
	unwindfrom *from = &r.traceback.from;
	from->stacklo = g->stacklo;
	from->stackhi = g->stackhi;
	uint64_t ctx[SAVEDCTX_SIZE / 8];
	bool syscall = g->status == d->st_syscall && g->sysctx[d->ctx_pc / 8] != 0;
	bool started = g->stacklo != 0 && g->sched_sp != 0;
	if (started)
		mustread(g->sched_sp, ctx, sizeof ctx, "a goroutine's saved context");
	if (syscall) {
		from_saved(from, g->sysctx, g->syssp);
	} else if (g->status == d->st_running || g->status == d->st_syscall) {
		/* its thread's registers, which the dump has only for the
		 * goroutine its signal interrupted */
		int32_t tid = 0;
		if (g->m == 0 || !readmem(g->m + d->m_tid, &tid, sizeof tid) || !thread_regs(tid, from->regs)) {
			gort__printstring(&out, "\tgoroutine running on other thread; stack unavailable\n");
			gort__serve_createdby(&rep);
			return;
		}
		from->pc_is_return = false;
	} else if (!started || ctx[d->ctx_pc / 8] == d->gostart) {
		entry_req e = {.report = rep, .fn = g->fn};
		gort__serve_entry(&e);
		return;
	} else {
		from_saved(from, ctx, g->sched_sp + d->ctx_size);
	}
	gort__serve_traceback(&r.traceback);
}

/* level: GOTRACEBACK's, as the runtime reads it (traceback.c) - only
 * whether gort's own frames show (2 and up) matters here. */
static int tb_level(void)
{
	const char *s = getenv("GOTRACEBACK");
	if (s == NULL)
		return 1;
	if (strcmp(s, "system") == 0 || strcmp(s, "crash") == 0)
		return 2;
	char *end;
	long n = strtol(s, &end, 10);
	return *s != '\0' && *end == '\0' ? (int)n : 1;
}

static void dump(void)
{
	const gort_debuginfo *d = &T.d;
	int64_t now;
	if (T.core != NULL) {
		now = (int64_t)read64(d->coarsenow_at, "the runtime's clock");
	} else {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts); /* the runtime's nanotime */
		now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	}
	bool frames = !stripped();
	if (!frames)
		fprintf(stderr, "%s: %s has no symbol table (stripped): goroutines without frames\n", gort_proc_prog,
		        T.name);
	int level = tb_level();
	uint64_t allgs = read64(d->allgs_at, "allgs");
	uint64_t n = read64(d->allglen_at, "allglen");
	bool first = true;
	for (uint64_t i = 0; i < n; i++) {
		gview g;
		readg(read64(allgs + 8 * i, "allgs"), &g);
		if (g.status == d->st_dead)
			continue;
		if (!first)
			printf("\n");
		first = false;
		header(&g, now);
		if (level > 0) {
			fflush(stdout);
			traceback(&g, level, frames);
		}
	}
	fflush(stdout);
}

/* ---- main ---------------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
	        "usage: gort-peek PID          the goroutines of a running gort program\n"
	        "       gort-peek CORE [EXE]   those of a core file (EXE: its program)\n");
	exit(2);
}

static void open_core(const char *path, const char *exe)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		gort_proc_die("%s: %s", path, strerror(errno));
	elf_version(EV_CURRENT);
	T.core = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	GElf_Ehdr eh;
	if (T.core == NULL || gelf_getehdr(T.core, &eh) == NULL || eh.e_type != ET_CORE)
		gort_proc_die("%s is neither a process id nor a core file", path);
	T.corebytes = elf_rawfile(T.core, &T.coresize);
	T.dwfl = dwfl_begin(&core_callbacks);
	if (T.dwfl == NULL)
		gort_proc_die("libdw: %s", dwfl_errmsg(-1));
	dwfl_report_begin(T.dwfl);
	if (dwfl_core_file_report(T.dwfl, T.core, exe) < 0)
		gort_proc_die("%s: %s", path, dwfl_errmsg(-1));
	dwfl_report_end(T.dwfl, NULL, NULL);
}

static void open_pid(pid_t pid)
{
	T.pid = pid;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d", (int)pid);
	if (access(path, F_OK) != 0)
		gort_proc_die("no process %d", (int)pid);
	signal(SIGINT, on_fatal);
	signal(SIGTERM, on_fatal);
	signal(SIGSEGV, on_fatal);
	signal(SIGPIPE, on_fatal);
	stop_all();
	atexit(detach_all);
	T.dwfl = dwfl_begin(&proc_callbacks);
	dwfl_report_begin(T.dwfl);
	int err = gort_proc_report_maps(T.dwfl, pid);
	if (err != 0)
		gort_proc_die("cannot read the modules of process %d: %s", (int)pid,
		    err > 0 ? strerror(err) : dwfl_errmsg(-1));
	dwfl_report_end(T.dwfl, NULL, NULL);
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3 || argv[1][0] == '-')
		usage();
	char name[64];
	if (gort_proc_all_digits(argv[1]) && argc == 2) {
		snprintf(name, sizeof name, "process %s", argv[1]);
		T.name = name;
		open_pid((pid_t)atol(argv[1]));
	} else {
		T.name = argv[1];
		open_core(argv[1], argc == 3 ? argv[2] : NULL);
	}
	if (T.dwfl == NULL)
		gort_proc_die("libdw: %s", dwfl_errmsg(-1));
	load_descriptor();
	/* src/traceback_unwind.c's walk, reading the target's memory */
	if (!gort__unwind_attach(T.dwfl, T.pid != 0 ? T.pid : 1, readmem))
		gort_proc_die("libdw cannot unwind here: %s", dwfl_errmsg(-1));
	gort__symtab_use(T.dwfl);
	dump();
	return 0;
}
