/*
 * trace_gc.c - the collector's events in the execution tracer (Go 1.19's
 * traceGCStart, traceGCDone, traceGCSTWStart/Done, traceGCSweepStart/
 * Span/Done, traceHeapAlloc, traceHeapGoal in runtime/trace.go), so that
 * `go tool trace` draws the GC and STW rows, the SWEEP slices and the Heap
 * counter of a gort program as it draws a Go program's.
 *
 * What a stop-the-world collection looks like in Go's model.  Go stops the
 * world twice per cycle - sweep termination, then mark termination - and
 * marks in between with the world running, on mark-worker goroutines.
 * gort's collector (mgc.c) holds the world stopped for the whole cycle and
 * marks on helper threads that are no goroutines.  So, from the goroutine
 * that collects, on its P, with the world stopped:
 *
 *   GCStart(seq)        the "GC" row's slice begins
 *   GCSTWStart(1)       "STW (sweep termination)": the caches flushed,
 *                       the last cycle's sweep finished
 *   GCSTWDone, GCSTWStart(0)
 *                       "STW (mark termination)": the whole mark, then
 *                       its termination - Go finishes a mark with the
 *                       world stopped in mark termination; gort does all
 *                       of its mark there, and the row shows it
 *   HeapAlloc, HeapGoal the heap after the mark and the pacer's new goal
 *   GCDone, GCSTWDone   the cycle ends before the world starts, as Go's
 *
 * The two STW slices are back to back: the world does not run between
 * them.  No mark-worker goroutines (GoStartLabel "GC (dedicated)"): gort
 * has none, and inventing them would show goroutines that do not exist.
 * The events come after the world has stopped (gc_start may find, once
 * stopped, that another goroutine collected meanwhile, and leave), so the
 * STW slice leaves out the time it took to stop.
 *
 * Between cycles: HeapAlloc each time the heap's live count moves by a
 * span (an mcache takes or hands back a span, a large object), as Go's
 * gcController.update emits it; SWEEP slices where allocation sweeps
 * (mcache refill, gort_gc's final sweep) - GCSweepStart at the first span
 * swept, GCSweepDone with the bytes swept and reclaimed, per P, as Go's
 * traceGCSweepSpan delays it.  The background sweeper is a thread with no
 * P: its sweeping is not in the trace (Go's is a goroutine, and is).
 *
 * At trace start gort also records HeapAlloc and HeapGoal once, so that
 * the Heap counter starts at the heap's size, not at zero until the first
 * change.  Go 1.19 does not; its parser takes them anywhere.
 *
 * GCStart's seq orders collections across Ps (the parser's "garbage"
 * sequence, from 0 at trace start).  A flight recording writes from a
 * generation on, not from the start: its writer renumbers the collections
 * it writes from 0 (trace_flight.c).
 */
#include "mheap.h"
#include "trace.h"

static uint64_t seqGC; /* the next GCStart's seq: trace-global, with the world stopped */

/* The sweep being traced, per thread: Go keeps it per P, but a sweep
 * between sweepstart and sweepdone never leaves its thread (no switch in
 * a refill), and the background sweeper's thread, which never opens one,
 * is told apart for free. */
static __thread struct {
	bool on;
	P *pp;
	uint64_t swept, reclaimed;
} sweep;

static P *curp(void)
{
	G *gp = gort__getg();
	return gp != NULL && gp != &gp->m->g0 ? gp->m->p : NULL;
}

/* session: a trace starts (world stopped, on pp): the GC sequence from 0,
 * the heap counter's first values. */
void gort__trace_gc_session(P *pp, uint64_t goal)
{
	seqGC = 0;
	uint64_t a[] = {atomic_load(&gort__heap_live)};
	gort__trace_emit(pp, traceEvHeapAlloc, 1, a, NULL);
	uint64_t g[] = {goal};
	gort__trace_emit(pp, traceEvHeapGoal, 1, g, NULL);
}

/* gcstart: the world is stopped for a collection (mgc.c). */
void gort__trace_gcstart(P *pp)
{
	uint64_t a[] = {seqGC++, gort__trace_curstack()};
	gort__trace_emit(pp, traceEvGCStart, 2, a, NULL);
	uint64_t k[] = {1}; /* sweep termination */
	gort__trace_emit(pp, traceEvGCSTWStart, 1, k, NULL);
}

/* gcmark: sweep termination is over, the mark begins. */
void gort__trace_gcmark(P *pp)
{
	gort__trace_emit(pp, traceEvGCSTWDone, 0, NULL, NULL);
	uint64_t k[] = {0}; /* mark termination */
	gort__trace_emit(pp, traceEvGCSTWStart, 1, k, NULL);
}

/* gcdone: the cycle is over, the world about to start; goal is the
 * pacer's new one (0: none, GOGC=off without a limit, as Go's). */
void gort__trace_gcdone(P *pp, uint64_t goal)
{
	uint64_t a[] = {atomic_load(&gort__heap_live)};
	gort__trace_emit(pp, traceEvHeapAlloc, 1, a, NULL);
	uint64_t g[] = {goal};
	gort__trace_emit(pp, traceEvHeapGoal, 1, g, NULL);
	gort__trace_emit(pp, traceEvGCDone, 0, NULL, NULL);
	gort__trace_emit(pp, traceEvGCSTWDone, 0, NULL, NULL);
}

/* heapgoal: the pacer moved the goal outside a collection
 * (gort_set_gc_percent, gort_set_memory_limit). */
void gort__trace_heapgoal(uint64_t goal)
{
	P *pp = curp();
	if (pp == NULL)
		return;
	uint64_t g[] = {goal};
	gort__trace_emit(pp, traceEvHeapGoal, 1, g, NULL);
}

/* heapalloc: the heap's live count moved (a span cached or handed back, a
 * large object). */
void gort__trace_heapalloc(void)
{
	P *pp = curp();
	if (pp == NULL)
		return;
	uint64_t a[] = {atomic_load(&gort__heap_live)};
	gort__trace_emit(pp, traceEvHeapAlloc, 1, a, NULL);
}

/* sweepstart: the calling goroutine may sweep spans now (Go's
 * traceGCSweepStart: nothing is written until the first span). */
void gort__trace_gcsweepstart(void)
{
	P *pp = curp();
	gort__assert(!sweep.on, "trace: double traceGCSweepStart");
	if (pp == NULL)
		return;
	sweep.on = true;
	sweep.pp = pp;
	sweep.swept = sweep.reclaimed = 0;
}

/* sweepspan: a span of bytes was swept, reclaimed of them freed (from
 * mgcsweep.c, on any thread: only an open sweep of this one counts). */
void gort__trace_gcsweepspan(uint64_t bytes, uint64_t reclaimed)
{
	if (!sweep.on)
		return;
	if (sweep.swept == 0) {
		uint64_t a[] = {gort__trace_curstack()};
		gort__trace_emit(sweep.pp, traceEvGCSweepStart, 1, a, NULL);
	}
	sweep.swept += bytes;
	sweep.reclaimed += reclaimed;
}

/* sweepdone: the sweeping is over; if a span was swept, its slice ends. */
void gort__trace_gcsweepdone(void)
{
	if (!sweep.on)
		return;
	sweep.on = false;
	if (sweep.swept == 0)
		return;
	uint64_t a[] = {sweep.swept, sweep.reclaimed};
	gort__trace_emit(sweep.pp, traceEvGCSweepDone, 2, a, NULL);
}

/* refilled: an mcache refill is over: its sweeping ends, the live count
 * moved (malloc.c's one hook after the refill). */
void gort__trace_refilled(void)
{
	gort__trace_gcsweepdone();
	gort__trace_heapalloc();
}
