/*
 * gort-proc.h - what gort's outside tools share for a live process:
 * gort-peek (the goroutine dump from outside) and gort-top (the live
 * console) both find the runtime's descriptor, gort__debuginfo
 * (src/debuginfo.h), in a running program's modules, and both explain the
 * same way why the kernel would not let them read it.
 */
#ifndef GORT_PROC_H
#define GORT_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <elfutils/libdwfl.h>

/* The tool's name, which its messages begin with: each tool defines it. */
extern const char *gort_proc_prog;

/* Prints "PROG: " and the message and a newline on stderr; exits 1. */
__attribute__((noreturn, format(printf, 1, 2))) void gort_proc_die(const char *fmt, ...);

/* The modules of process pid, from /proc/PID/maps, reported to dwfl (the
 * caller brackets it with dwfl_report_begin/_end).  0, or an errno (> 0)
 * or libdw's error (< 0, dwfl_errmsg(-1)). */
int gort_proc_report_maps(Dwfl *dwfl, pid_t pid);

/* The module holding section gort_debuginfo, and the descriptor's address
 * in the target (*addr); NULL if none does: not a gort program. */
Dwfl_Module *gort_proc_find_descriptor(Dwfl *dwfl, uint64_t *addr);

/* Checks the descriptor's 16-byte header against what this tool reads
 * (want: the tool's sizeof(gort_debuginfo)).  0: fine; 1: no magic; 2:
 * another version, or too short (*version and *size say which). */
int gort_proc_check_header(const char head[16], uint32_t want, uint32_t *version, uint32_t *size);

/* Why reading pid failed with err (EPERM, EACCES): the same user, yama's
 * ptrace_scope, CAP_SYS_PTRACE.  verb: "attach to", "read". */
void gort_proc_explain_access(FILE *out, const char *prog, const char *verb, pid_t pid, int err);

/* A non-empty string of decimal digits: a PID on the command line. */
bool gort_proc_all_digits(const char *s);

#endif /* GORT_PROC_H */
