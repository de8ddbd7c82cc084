/*
 * pprof.h - what the profiling files share (Go's runtime/pprof and the
 * profiling half of runtime/mprof.go, cpuprof.go and net/http/pprof).
 *
 *   proto.c       bytes: a growable buffer, protocol-buffer fields, and a
 *                 gzip stream of stored deflate blocks (Go's proto.go
 *                 protobuf, compress/gzip)
 *   pprof.c       the profile builder (stacks -> Location, Function,
 *                 Mapping, symbolized inside the profile) and the profiles
 *                 pprof.Lookup knows: goroutine, threadcreate, block, mutex,
 *                 with Go's text forms (debug=1, 2)
 *   mprof.c       the block and mutex profiles' records: buckets by stack,
 *                 Go's sampling rules (blockevent, mutexevent)
 *   pprof_cpu.c   the CPU profiler: a per-thread CPU timer per M, the
 *                 SIGPROF handler, and the thread that unwinds its samples
 *   http_debug.c  net/http/pprof and expvar's endpoints
 *   console.c     /debug/gort/: the live console's page and its data
 *
 * Internal: the rest of the runtime calls only the hooks declared in
 * runtime2.h (gort__blockprofiling, gort__mutexprofiling, ...).
 */
#ifndef GORT_PPROF_H
#define GORT_PPROF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime2.h"

/* ---- proto.c: bytes ------------------------------------------------------- */

/* pbuf: a growable byte buffer.  Out of memory makes it sticky-failed
 * (oom), never a crash: the writer reports the failure. */
typedef struct pbuf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
} pbuf;

void gort__pbuf_put(pbuf *b, const void *p, size_t n);
void gort__pbuf_puts(pbuf *b, const char *s);
__attribute__((format(printf, 2, 3))) void gort__pbuf_printf(pbuf *b, const char *fmt, ...);
void gort__pbuf_free(pbuf *b);

/* Protocol buffers, as far as profile.proto needs them: varint fields,
 * packed repeated varints, strings, and nested messages (begin returns
 * where the message starts; end writes its length in front of it). */
void gort__pb_varint(pbuf *b, uint64_t v);
void gort__pb_uint64(pbuf *b, int field, uint64_t v);     /* always written */
void gort__pb_uint64opt(pbuf *b, int field, uint64_t v);  /* omitted when 0 */
void gort__pb_bool(pbuf *b, int field, bool v);           /* omitted when false */
void gort__pb_packed(pbuf *b, int field, const uint64_t *v, int n);
void gort__pb_string(pbuf *b, int field, const char *s, size_t n);
size_t gort__pb_begin(pbuf *b, int field);
void gort__pb_end(pbuf *b, size_t start);

/* gzip: in as one gzip member (RFC 1952) of stored deflate blocks. */
void gort__gzip(const uint8_t *in, size_t n, pbuf *out);
uint32_t gort__crc32(uint32_t crc, const uint8_t *p, size_t n);

/* write_all: all of b to fd (a goroutine's: as a system call); 0 or -errno. */
int gort__pprof_write_all(int fd, const pbuf *b);

/* ---- pprof.c: the profile builder -------------------------------------- */

/*
 * A stack, as every profile keeps it: return addresses, innermost first
 * (the leaf of a CPU sample is its pc + 1, so that looking up pc - 1
 * finds the instruction, as for every other frame).
 */
enum { PROF_MAXSTACK = 64 };

typedef struct profbuilder profbuilder;

typedef enum profkind {
	PROF_COUNT,  /* goroutine, threadcreate: "<name>/count" */
	PROF_CYCLES, /* block, mutex: "contentions/count", "delay/nanoseconds" */
	PROF_CPU,    /* "samples/count", "cpu/nanoseconds" over a period */
	PROF_HEAP,   /* alloc_objects, alloc_space, inuse_objects, inuse_space */
} profkind;

profbuilder *gort__prof_new(profkind kind, const char *name, int64_t period);
void gort__prof_sample(profbuilder *b, const uintptr_t *stk, int n, const int64_t *values);
void gort__prof_times(profbuilder *b, int64_t start_unix_ns, int64_t duration_ns);
/* finish: the profile, gzipped, into out; frees b.  0, or -ENOMEM. */
int gort__prof_finish(profbuilder *b, pbuf *out);

/* The profiles by name, into a buffer (gort_pprof_lookup_write's body,
 * and the endpoints'): 0, or a negative error (unknown name: -ENOENT). */
int gort__pprof_lookup(const char *name, int debug, pbuf *out);
/* A delta profile (net/http/pprof's ?seconds=N): what changed in name's
 * profile over seconds, as Go's serveDeltaProfile writes it. */
int gort__pprof_delta(const char *name, int64_t seconds, pbuf *out);
extern const char *const gort__pprof_names[];      /* "goroutine", ..., NULL */
extern const char *const gort__pprof_help[];       /* Go's descriptions, same order */
int gort__pprof_count(const char *name);           /* the index page's counts */

/* ---- mprof.c: block and mutex records -------------------------------- */

typedef struct blockrecord {
	int64_t count;
	int64_t cycles; /* nanoseconds: gort's clock ticks in ns */
	int nstk;
	uintptr_t stk[PROF_MAXSTACK];
} blockrecord;

/* The records of a profile (block: true; mutex: false), copied into a
 * malloc'd array (*out, freed by the caller); the count, or -ENOMEM. */
int gort__mprof_records(bool block, blockrecord **out);
/* The stack of the calling goroutine, from its caller's caller, trimmed to
 * the program's frames and the API call it made (as the tracer's). */
int gort__prof_callers(uintptr_t *stk, int max);

/* ---- mprof_heap.c: heap records --------------------------------------- */

typedef struct memrecord {
	int64_t allocs, frees, alloc_bytes, free_bytes; /* as of the last collection */
	int nstk;
	uintptr_t stk[PROF_MAXSTACK];
} memrecord;

/* The heap profile's records (runtime.MemProfile(p, true)), in a malloc'd
 * array (*out, freed by the caller); the count, or -ENOMEM. */
int gort__mprof_heap_records(memrecord **out);
void gort__mprof_heap_startenv(void); /* GORT_MEMPROFILE, GORT_MEMPROFILERATE */

/* ---- http_debug.c, console.c ------------------------------------------------ */

/* A JSON string of s[0..n) (escaped as Go's encoding/json escapes). */
void gort__jsonstring(pbuf *b, const char *s, size_t n);
/* All of a file (under /proc) appended to out. */
void gort__readfile(const char *path, pbuf *out);
/* /debug/gort/'s page, and its data (0, or -ENOMEM). */
void gort__console_page(pbuf *out);
int gort__console_data(pbuf *out);

/* ---- pprof_cpu.c ---------------------------------------------------------- */

/* Start into fd, or, with fd < 0, into memory for cpu_stop's out. */
int gort__pprof_cpu_start(int fd, int hz);
int gort__pprof_cpu_stop(pbuf *out, int *fd); /* *fd: start's */
uint64_t gort__pprof_cpu_lost(void);

#endif /* GORT_PPROF_H */
