/*
 * gort-proc.c - finding gort's runtime in a live process (gort-proc.h):
 * shared by tools/gort-peek.c and tools/gort-top.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <gelf.h>

#include "debuginfo.h"
#include "gort-proc.h"

void gort_proc_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", gort_proc_prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/*
 * The process's modules as dwfl_linux_proc_report reads them, but without
 * the writable mappings of a whole file: the runtime's own libdw maps the
 * images of the program and of libgort.so (src/symtab.c, find_elf), and
 * taken for the loader's they would place those modules off their code.
 */
int gort_proc_report_maps(Dwfl *dwfl, pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
	FILE *in = fopen(path, "r");
	if (in == NULL)
		return errno;
	char *buf = NULL, *line = NULL;
	size_t size = 0, n = 0;
	FILE *out = open_memstream(&buf, &size);
	if (out == NULL) {
		fclose(in);
		return ENOMEM;
	}
	while (getline(&line, &n, in) > 0) {
		char perms[8];
		unsigned long long off;
		if (sscanf(line, "%*x-%*x %7s %llx", perms, &off) == 2 && off == 0 && perms[1] == 'w' &&
		    strchr(line, '/') != NULL)
			continue;
		fputs(line, out);
	}
	fclose(in);
	fclose(out);
	free(line);
	FILE *f = fmemopen(buf, size, "r");
	int err = f != NULL ? dwfl_linux_proc_maps_report(dwfl, f) : errno;
	if (f != NULL)
		fclose(f);
	free(buf);
	return err;
}

typedef struct found {
	Dwfl_Module *mod;
	uint64_t addr;
} found;

static int find_section(Dwfl_Module *mod, void **ud, const char *name, Dwarf_Addr start, void *arg)
{
	found *f = arg;
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	size_t shstrndx;
	if (elf == NULL || elf_getshdrstrndx(elf, &shstrndx) != 0)
		return DWARF_CB_OK;
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn != NULL; scn = elf_nextscn(elf, scn)) {
		GElf_Shdr sh;
		const char *n;
		if (gelf_getshdr(scn, &sh) != NULL && (n = elf_strptr(elf, shstrndx, sh.sh_name)) != NULL &&
		    strcmp(n, GORT_DEBUGINFO_SECTION) == 0) {
			f->addr = sh.sh_addr + bias;
			f->mod = mod;
			return DWARF_CB_ABORT;
		}
	}
	return DWARF_CB_OK;
}

Dwfl_Module *gort_proc_find_descriptor(Dwfl *dwfl, uint64_t *addr)
{
	found f = {NULL, 0};
	dwfl_getmodules(dwfl, find_section, &f, 0);
	*addr = f.addr;
	return f.mod;
}

int gort_proc_check_header(const char head[16], uint32_t want, uint32_t *version, uint32_t *size)
{
	memcpy(version, head + 8, 4);
	memcpy(size, head + 12, 4);
	if (memcmp(head, GORT_DEBUGINFO_MAGIC, 8) != 0)
		return 1;
	if (*version != GORT_DEBUGINFO_VERSION || *size < want)
		return 2;
	return 0;
}

void gort_proc_explain_access(FILE *out, const char *prog, const char *verb, pid_t pid, int err)
{
	FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "r");
	int scope = -1;
	if (f != NULL) {
		if (fscanf(f, "%d", &scope) != 1)
			scope = -1;
		fclose(f);
	}
	fprintf(out, "%s: cannot %s %d: %s.\n", prog, verb, (int)pid, strerror(err));
	fprintf(out,
	        "  Reading another process needs ptrace: the same user as the program and "
	        "/proc/sys/kernel/yama/ptrace_scope 0");
	if (scope >= 0)
		fprintf(out, " (it is %d)", scope);
	fprintf(out,
	        ",\n  or the CAP_SYS_PTRACE capability (run as root; in a container, "
	        "docker run --cap-add=SYS_PTRACE).\n");
}

bool gort_proc_all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}
