/*
 * symtab.c - what a pc means (Go's symtab.go): the function, file:line and
 * inlined calls it stands for, read with elfutils' libdw from every
 * module's DWARF and symbol table, loaded once by the reporter thread.
 *
 *   gort__loadmodules   at the reporter's start: every module mapped in
 *                       the process, with its symbol table, DWARF and CFI
 *                       read ahead of time (and libdw's unwinder attached)
 *   gort__symbolize     a pc into its frames, innermost first
 *   gort__runtimeframe  whether a frame is gort's own (hidden below
 *                       GOTRACEBACK=system)
 *   gort__serve_frames  REQ_FRAMES: gort_frame_info's answer (Go's
 *                       CallersFrames)
 *   gort__symtab_use    another process's modules instead (gort-peek)
 *
 * Reporter thread only (traceback_reporter.c): it may allocate, and libdw
 * is single-threaded here.  Calls libdw and traceback_unwind.c's attach.
 * Built only with libdw.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>

#include "traceback.h"

static Dwfl *dwfl;

/* ---- Is this one of gort's own frames? ----------------------------------- */

/* runtimeframe: a gort__ function, or one of libgort's whose name is not
 * public (not gort_): Go's rule for runtime frames (traceback_print.c). */
bool gort__runtimeframe(uintptr_t pc, const char *name)
{
	if (name != NULL && strncmp(name, "gort__", 6) == 0)
		return true;
	return gort__in_gort_text(pc) && (name == NULL || strncmp(name, "gort_", 5) != 0);
}

/* ---- The modules, loaded once ---------------------------------------------- */

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
	/* Kept out of core dumps: a debugger reading the core (gort-peek,
	 * through libdw) would take this copy, an ELF header at file offset
	 * 0, for where the loader mapped the module. */
	madvise(image, (size_t)st.st_size, MADV_DONTDUMP);
	*elfp = elf_memory(image, (size_t)st.st_size);
	return -1;
}

static const Dwfl_Callbacks dwfl_callbacks = {
	.find_elf = find_elf,
	.find_debuginfo = find_debuginfo,
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
	return DWARF_CB_OK;
}

/* loadmodules: see the top. */
bool gort__loadmodules(void)
{
	dwfl = dwfl_begin(&dwfl_callbacks);
	if (dwfl == NULL)
		return false;
	dwfl_report_begin(dwfl);
	if (dwfl_linux_proc_report(dwfl, getpid()) != 0 || dwfl_report_end(dwfl, NULL, NULL) != 0)
		return false;
	if (!gort__unwind_attach(dwfl, getpid(), NULL))
		return false;
	dwfl_getmodules(dwfl, warm_module, NULL, 0);
	return true;
}

/* symtab_use: symbolize in d's modules instead - another process's, for
 * tools/gort-peek.c, which prints with traceback_print.c as the runtime
 * does. */
void gort__symtab_use(struct Dwfl *d)
{
	dwfl = d;
}

/* ---- Symbolization --------------------------------------------------------- */

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
 * cu_at: the compile unit holding pc, and its bias.  libdw finds it through
 * .debug_aranges, which GCC writes and Clang does not (unless
 * -gdwarf-aranges): for a unit without one, ask each unit of the module
 * whether its ranges hold pc.
 */
static Dwarf_Die *cu_at(Dwfl_Module *mod, uintptr_t pc, Dwarf_Addr *bias)
{
	Dwarf_Die *cu = dwfl_module_addrdie(mod, pc, bias);
	if (cu != NULL)
		return cu;
	while ((cu = dwfl_module_nextcu(mod, cu, bias)) != NULL)
		if (dwarf_haspc(cu, pc - *bias) > 0)
			return cu;
	return NULL;
}

/* line_at: pc's source file and line in cu (*file NULL, *line 0: none). */
static void line_at(Dwarf_Die *cu, Dwarf_Addr bias, uintptr_t pc, const char **file, int *line)
{
	Dwarf_Line *l = cu != NULL ? dwarf_getsrc_die(cu, pc - bias) : NULL;
	if (l == NULL || dwarf_lineno(l, line) != 0)
		return;
	*file = dwarf_linesrc(l, NULL, NULL);
}

/*
 * scopes_frames puts into out the frames DWARF's scopes at pc give,
 * innermost first: each inlined call, at the location of the code (*file,
 * *line) or of the call inlined into it, up to the function that holds
 * them.  Returns how many (0: no DWARF for pc), leaving in *file and *line
 * the location of the outermost inlined call.
 */
static int scopes_frames(Dwarf_Die *cudie, Dwarf_Addr bias, uintptr_t pc, const char **file,
                         int *line, uintptr_t entry, sym *out, int max)
{
	if (cudie == NULL)
		return 0;
	Dwarf_Die *scopes = NULL;
	int nscopes = dwarf_getscopes(cudie, pc - bias, &scopes);
	Dwarf_Files *files = NULL;
	size_t nfiles = 0;
	dwarf_getsrcfiles(cudie, &files, &nfiles);
	int n = 0;
	for (int i = 0; i < nscopes && n < max; i++) {
		int tag = dwarf_tag(&scopes[i]);
		if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine)
			continue;
		out[n++] = (sym){die_name(&scopes[i]), *file, *line, entry, tag == DW_TAG_inlined_subroutine};
		if (tag == DW_TAG_subprogram)
			break;
		/* the caller's location is where this one was inlined */
		Dwarf_Attribute a;
		Dwarf_Word cf = 0, cl = 0;
		dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &a), &cf);
		dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &a), &cl);
		*file = files != NULL && cf < nfiles ? dwarf_filesrc(files, cf, NULL, NULL) : NULL;
		*line = (int)cl;
	}
	free(scopes);
	return n;
}

/*
 * symbolize expands pc (the address looked up: a return address minus one
 * for a call) into its frames, innermost first: the inlined calls, then the
 * function that holds the code.  Returns how many (>= 1).
 */
int gort__symbolize(uintptr_t pc, sym *out, int max)
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
	Dwarf_Addr bias = 0;
	Dwarf_Die *cu = cu_at(mod, pc, &bias);
	line_at(cu, bias, pc, &file, &line);

	int n = scopes_frames(cu, bias, pc, &file, &line, entry, out, max);
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
	/* a public function is compiled as gort__impl_<name>, behind its shim
	 * (cgocall.c): print its own name */
	for (int i = 0; i < n; i++)
		if (out[i].name != NULL && strncmp(out[i].name, "gort__impl_", 11) == 0)
			out[i].name += 11;
	return n;
}

/* serve_frames: REQ_FRAMES, one pc of gort_callers as gort_frame_info gives it. */
void gort__serve_frames(frames_req *r)
{
	sym syms[MAX_INLINE];
	/* pcs from gort_callers are return addresses: look up the call */
	uintptr_t lookup = r->pc - 1;
	int n = gort__symbolize(lookup, syms, MAX_INLINE);
	int k = n < r->max ? n : r->max;
	for (int i = 0; i < k; i++)
		r->frames[i] = (gort_frame){.function = syms[i].name,
		                            .file = syms[i].file,
		                            .line = syms[i].line,
		                            .entry = syms[i].entry,
		                            .pc = r->pc,
		                            .inlined = syms[i].inlined};
	r->n = n;
}
