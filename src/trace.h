/*
 * trace.h - the execution tracer's vocabulary (Go's runtime/trace.go), shared
 * by its two files and the scheduler that calls it:
 *
 *   trace.c        the machinery: per-P buffers flushed as batches, the
 *                  string and stack tables, the writer thread, start and
 *                  stop with the state dump, GORT_TRACE
 *   trace_event.c  one function per event, named after Go's (traceGoCreate
 *                  is gort__trace_gocreate), and the user annotations
 *
 * The format is Go 1.19's, so that its `go tool trace` reads the file: a
 * 16-byte header, then batches, each an EvBatch (P id, ticks) followed by
 * that P's events.  An event is a byte (type | number of arguments << 6)
 * and base-128 varints: the ticks since the previous event of the batch,
 * the arguments, and last the stack id for the types that carry one.  With
 * three arguments or more (the stack counted) a length in bytes follows the
 * type byte.  The parser orders events across Ps by a per-goroutine
 * sequence number on the events another P may emit (GoStart, GoUnblock,
 * GoSysExit), and then checks that the timestamps agree.
 *
 * Every hook in the scheduler is `if (gort__traceon()) gort__trace_x(...)`:
 * while tracing is off, one load of a flag and a branch predicted not taken.
 */
#ifndef GORT_TRACE_H
#define GORT_TRACE_H

#include "runtime2.h"

/* Go 1.19's event types (the numbers are the format's). */
enum {
	traceEvBatch = 1,          /* [P id, ticks]: a batch of one P's events starts */
	traceEvFrequency = 2,      /* [ticks per second] */
	traceEvStack = 3,          /* [id, n, n x {pc, func string, file string, line}] */
	traceEvGomaxprocs = 4,     /* [ts, procs, stack] */
	traceEvProcStart = 5,      /* [ts, thread (M) id] */
	traceEvProcStop = 6,       /* [ts] */
	traceEvGCStart = 7,        /* [ts, seq, stack] */
	traceEvGCDone = 8,         /* [ts] */
	traceEvGCSTWStart = 9,     /* [ts, kind (0 mark termination, 1 sweep termination)] */
	traceEvGCSTWDone = 10,     /* [ts] */
	traceEvGCSweepStart = 11,  /* [ts, stack] */
	traceEvGCSweepDone = 12,   /* [ts, bytes swept, bytes reclaimed] */
	traceEvGoCreate = 13,      /* [ts, new goid, new G's start stack, stack] */
	traceEvGoStart = 14,       /* [ts, goid, seq] */
	traceEvGoEnd = 15,         /* [ts] */
	traceEvGoStop = 16,        /* [ts, stack]: blocked for good (select {}) */
	traceEvGoSched = 17,       /* [ts, stack] */
	traceEvGoPreempt = 18,     /* [ts, stack] */
	traceEvGoSleep = 19,       /* [ts, stack] */
	traceEvGoBlock = 20,       /* [ts, stack] */
	traceEvGoUnblock = 21,     /* [ts, goid, seq, stack] */
	traceEvGoBlockSend = 22,   /* [ts, stack] */
	traceEvGoBlockRecv = 23,
	traceEvGoBlockSelect = 24,
	traceEvGoBlockSync = 25,
	traceEvGoBlockCond = 26,
	traceEvGoBlockNet = 27,
	traceEvGoSysCall = 28,     /* [ts, stack] */
	traceEvGoSysExit = 29,     /* [ts, goid, seq, real ts or 0] */
	traceEvGoSysBlock = 30,    /* [ts] */
	traceEvGoWaiting = 31,     /* [ts, goid]: blocked when tracing started */
	traceEvGoInSyscall = 32,   /* [ts, goid]: in a system call when tracing started */
	traceEvHeapAlloc = 33,     /* [ts, heap live bytes] */
	traceEvHeapGoal = 34,      /* [ts, heap goal bytes (0: none)] */
	traceEvString = 37,        /* [id, length, bytes] */
	traceEvGoStartLocal = 38,  /* [ts, goid]: no seq (the flight recorder's) */
	traceEvGoUnblockLocal = 39, /* [ts, goid, stack]: no seq (the flight recorder's) */
	traceEvUserTaskCreate = 45, /* [ts, task, parent, name string, stack] */
	traceEvUserTaskEnd = 46,   /* [ts, task, stack] */
	traceEvUserRegion = 47,    /* [ts, task, mode (0 begin, 1 end), name string, stack] */
	traceEvUserLog = 48,       /* [ts, task, category string, stack], then the message */
	/* The flight recorder's own, never written (trace_flight.c drops it):
	 * [ts, goid, start stack] - the goroutine's function, for the GoCreate
	 * the writer puts in the state dump if what it writes begins with this
	 * goroutine already alive.  At the previous event's time (a delta of
	 * 0), so that leaving it out changes no other event's time. */
	traceEvFlightGo = 63,
};

/* ---- the switch ---------------------------------------------------------- */

/* On while events are recorded: set and cleared with the world stopped
 * (trace.c), cleared by the writer thread when a write fails.  Hidden, so
 * that even libgort.so reads it with one instruction, not through the GOT. */
extern _Atomic bool gort__tracing __attribute__((visibility("hidden")));

/* trace_ends_run: an event after which its P runs no goroutine (the
 * flight recorder's writer and each P's generation prelude ask). */
static inline bool gort__trace_ends_run(uint8_t ev)
{
	switch (ev) {
	case traceEvProcStop:
	case traceEvGoEnd:
	case traceEvGoStop:
	case traceEvGoSched:
	case traceEvGoPreempt:
	case traceEvGoSleep:
	case traceEvGoBlock:
	case traceEvGoBlockSend:
	case traceEvGoBlockRecv:
	case traceEvGoBlockSelect:
	case traceEvGoBlockSync:
	case traceEvGoBlockCond:
	case traceEvGoBlockNet:
	case traceEvGoSysBlock:
		return true;
	}
	return false;
}

static inline bool gort__traceon(void)
{
	return __builtin_expect(atomic_load_explicit(&gort__tracing, memory_order_relaxed), 0);
}

/* Which trace this is (counts the starts): stack ids and the per-P path
 * caches (trace_event.c) are good for one trace only. */
extern _Atomic uint32_t gort__trace_sessionno __attribute__((visibility("hidden")));

static inline uint32_t gort__trace_session(void)
{
	return atomic_load_explicit(&gort__trace_sessionno, memory_order_relaxed);
}

/* ---- trace.c: buffers and tables ------------------------------------------- */

/* A buffer of one P's events (or of the events with no P), 64 KiB like
 * Go's; full ones queue for the writer thread in the order they filled -
 * or, for the flight recorder, in their generation (trace_flight.c). */
enum { TRACEBUF_SIZE = 64 << 10 };

typedef struct tracebuf tracebuf;
struct tracebuf {
	tracebuf *link;      /* in the full queue, a generation, or the empty list */
	uint64_t lastticks;  /* the timestamp of the last event written */
	size_t pos;          /* bytes written: only whole events before it */
	/* the flight recorder's (0 and unused in a plain trace) */
	uint32_t gen;        /* the generation the buffer belongs to */
	uint32_t hdrlen;     /* the EvBatch header's bytes */
	uint32_t prelen;     /* then the prelude's: the P's state at the cut */
	bool procon;         /* the P's stream so far: started (ProcStart), */
	uint64_t mid;        /* on which thread, */
	uint64_t curg;       /* running which goroutine (0: none), */
	uint64_t curgstart;  /* whose start stack is this */
	size_t wlen;         /* the flight writer's: whole events up to here, */
	bool wprelude;       /* and whether it writes the prelude */
	unsigned char arr[TRACEBUF_SIZE];
};

/*
 * emit appends one event to pp's stream - pp is held by the caller, or was
 * taken from a system call by it - or, pp NULL, to the stream of events
 * with no P (sysmon, an M without a P), under gort__trace_noplock.  args[0..n) are the event's
 * arguments after the timestamp, the stack id included; msg, if not NULL,
 * is EvUserLog's trailing string.
 */
void gort__trace_emit(P *pp, uint8_t ev, int n, const uint64_t *args, const char *msg);
/*
 * emit_g: in a flight recording, an event naming gp that another P's
 * stream may follow (GoCreate, GoStartLocal, GoUnblockLocal), as emit
 * does; the first of a generation's buffers to name gp (since it was
 * created) is preceded by a traceEvFlightGo with its start stack.  So
 * every goroutine written has its function in what is written, whatever
 * generation the write begins at.  gp->traceseq, in a flight recording
 * (the events there carry no sequence numbers), remembers the
 * generation (high 32 bits) and the start stack id (low 32 bits) it was
 * last named with.
 */
void gort__trace_emit_g(P *pp, G *gp, uint8_t ev, int n, const uint64_t *args);
/* ticks: the trace's clock (the TSC, divided as Go does). */
uint64_t gort__trace_ticks(void);
/* stackid: the id of pcs[0..n) in the stack table (0 for no stack). */
uint64_t gort__trace_stackid(const uintptr_t *pcs, int n);
/* stringid: the id of s in the string table (0 for NULL or ""). */
uint64_t gort__trace_stringid(const char *s);
/* procfree: pp is retired (procresize): its last buffer goes to the writer. */
void gort__trace_procfree(P *pp);
/* The no-P stream's lock: injectglist(NULL) holds it across its Gs'
 * change to runnable and their events, so that the state dump sees each
 * G either still waiting (then its GoUnblock follows) or already runnable. */
void gort__trace_noplock(void);
void gort__trace_nopunlock(void);
/* GORT_TRACE=file: trace the whole run (from runmain, on goroutine 1);
 * GORT_TRACE_FLIGHT=file: run the flight recorder (trace_flight.c). */
void gort__trace_startenv(void);

/* ---- trace.c for trace_flight.c ------------------------------------------------ */

/* The flight recorder's generation, 0 in a plain trace: a P's buffer of
 * another generation is cut (trace.c's room) before the next event. */
extern _Atomic uint32_t gort__trace_gen __attribute__((visibility("hidden")));

size_t gort__trace_put_varint(unsigned char *p, uint64_t v);
tracebuf *gort__trace_getbuf(void);
void gort__trace_putbuf(tracebuf *b);
/* With the world stopped, or once dying: the stacks table, for a walk
 * (stack_first/next), and the strings' buffers (the table's EvString
 * records) - the full ones and the one being filled, with its length. */
typedef struct tracestack tracestack;
struct tracestack {
	tracestack *_Atomic link;
	uint64_t hash;
	uint32_t id;
	int n;
	uintptr_t pcs[];
};
tracestack *gort__trace_stack_bucket(int i);
int gort__trace_stack_buckets(void);
/* Start and stop a recording with no writer, for trace_flight.c: with the
 * world stopped.  on_start: the caller's P and goroutine start. */
int gort__trace_flight_begin(G *self);
void gort__trace_flight_end(void);
/* flush_all: every P's buffer and the no-P one to queue_full; with cut,
 * each P goes on in a new buffer (of the new generation) with its state. */
void gort__trace_cut_all(void);
/* The strings written so far: the full buffers (a list, oldest first) and
 * the one being filled (its length in *len). */
tracebuf *gort__trace_strings(tracebuf **cur, size_t *len);
void gort__trace_strlock(void);
void gort__trace_strunlock(void);
/* The buffer of the events with no P (read by a dying program). */
tracebuf *gort__trace_nopbuf(void);
int64_t gort__trace_nsstart(void);
uint64_t gort__trace_ticksstart(void);

/* ---- trace_flight.c ------------------------------------------------------------ */

/* flight_queue: a full buffer of a generation goes to it (or, the
 * generation dropped, back to the empty list). */
void gort__flight_queue(tracebuf *b);
/* flight_gen: the generation a new buffer joins (a new one if the
 * current one is old or big enough). */
uint32_t gort__flight_gen(void);
/* The crash write (print.c's exit, status 2): GORT_TRACE_FLIGHT's file. */
void gort__trace_flight_crash(void);
/* GORT_TRACE_FLIGHT=path: record the whole run (trace.c's startenv). */
void gort__trace_flight_startenv(const char *path);

/* ---- trace_event.c: one function per event --------------------------------- */

/* The stack of the calling goroutine, gort's own frames trimmed but the
 * API function called; 0 on g0 (the scheduler's frames mean nothing). */
uint64_t gort__trace_curstack(void);

void gort__trace_gocreate(P *pp, G *newg, uint64_t startstack, uint64_t stack);
uint64_t gort__trace_startstack(const G *gp);
void gort__trace_gostart(P *pp, G *gp);
void gort__trace_goend(P *pp);
void gort__trace_gosched(G *gp);
void gort__trace_gopreempt(G *gp, bool fromcall);
void gort__trace_gopark(G *gp, waitReason reason);
void gort__trace_gounpark(P *pp, G *gp);
void gort__trace_gosyscall(G *gp);
void gort__trace_gosysexit(P *pp, G *gp, uint64_t ticks);
void gort__trace_gosysblock(P *pp);
void gort__trace_gowaiting(P *pp, G *gp);
void gort__trace_goinsyscall(P *pp, G *gp);
void gort__trace_procstart(P *pp, M *mp);
void gort__trace_procstop(P *pp);
void gort__trace_gomaxprocs(P *pp, int32_t procs);
/* A P taken from a system call by someone else (retake, stop the world):
 * its goroutine is blocked (GoSysBlock) and the P stops (ProcStop). */
void gort__trace_syscall_retaken(P *pp);

/* ---- trace_gc.c: the collector's events ------------------------------------- */

void gort__trace_gc_session(P *pp, uint64_t goal);
void gort__trace_gcstart(P *pp);
void gort__trace_gcmark(P *pp);
void gort__trace_gcdone(P *pp, uint64_t goal);
void gort__trace_heapgoal(uint64_t goal);
void gort__trace_heapalloc(void);
void gort__trace_gcsweepstart(void);
void gort__trace_gcsweepspan(uint64_t bytes, uint64_t reclaimed);
void gort__trace_gcsweepdone(void);
void gort__trace_refilled(void);
/* The pacer's goal as the trace records it (mgc.c; 0: none). */
uint64_t gort__gc_heapgoal(void);

#endif
