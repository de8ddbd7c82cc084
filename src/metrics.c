/*
 * metrics.c - gort_read_metrics (Go's runtime/metrics, for the scheduler).
 *
 * Where the numbers come from:
 *   goroutines by state   allgs, counted under allglock a chunk at a time
 *                         (schedtrace.c, gort__countgstatus)
 *   threads, Ps, queues   sched (under sched.lock) and allp, read racily
 *   counters, latency     each P's pmetrics (runtime2.h): written by the P's
 *                         owner alone with plain stores, summed here; the
 *                         counters of Ps that GOMAXPROCS retired are kept
 *                         in sched.retired
 * Nothing on a hot path pays for this but a per-P increment per switch,
 * spawn and steal, and one clock read per SCHEDLAT_SAMPLE readies.
 */
#include <string.h>

#include "mheap.h"
#include "runtime2.h"

/* /gc/pauses:seconds: every stop-the-world pause, bucketed as sched_latency */
static _Atomic uint64_t gcpauses[SCHEDLAT_BUCKETS];

void gort__metrics_gcpause(int64_t ns)
{
	int i = 0;
	while (i + 1 < SCHEDLAT_BUCKETS && ns >= gort_metrics_sched_latency_ns(i + 1))
		i++;
	atomic_fetch_add_explicit(&gcpauses[i], 1, memory_order_relaxed);
}

_Static_assert(GORT_METRICS_SCHEDLAT_BUCKETS == SCHEDLAT_BUCKETS, "latency buckets differ");

/* The struct as version 1 had it: what every caller must at least have. */
#define METRICS_V1_SIZE (offsetof(gort_metrics, sched_latency) + sizeof(uint64_t) * SCHEDLAT_BUCKETS)

int gort_read_metrics(gort_metrics *out)
{
	gort__current_goroutine("gort_read_metrics"); /* we hold a P: allp is stable */
	if (out == NULL || out->size < METRICS_V1_SIZE)
		return -1;
	gort_metrics m;
	memset(&m, 0, sizeof m);

	m.uptime_ns = gort__nanotime() - gort__sched.starttime;
	uint64_t by[8];
	gort__countgstatus(by);
	m.goroutines_runnable = (int64_t)by[Grunnable];
	m.goroutines_running = (int64_t)by[Grunning];
	m.goroutines_syscall = (int64_t)by[Gsyscall];
	m.goroutines_waiting = (int64_t)by[Gwaiting];
	m.goroutines = m.goroutines_runnable + m.goroutines_running + m.goroutines_syscall +
	               m.goroutines_waiting;

	int32_t idle, spinning;
	gort__mstats(&m.threads, &idle, &spinning);
	m.threads_idle = idle;
	m.threads_spinning = spinning;

	P **ps = gort__allp;
	int32_t np = atomic_load(&gort__gomaxprocs);
	m.procs = np;
	m.procs_idle = atomic_load(&gort__sched.npidle);
	m.runqueue_global = atomic_load(&gort__sched.runqsize);
	for (int32_t i = 0; i < np; i++) {
		int64_t n = gort__runqlen(ps[i]);
		m.runqueue_local += n;
		if (n > m.runqueue_local_max)
			m.runqueue_local_max = n;
	}

	pmetrics sum;
	gort__metrics_sum(&sum);
	m.context_switches = atomic_load_explicit(&sum.nswitch, memory_order_relaxed);
	m.spawns = atomic_load_explicit(&sum.nspawn, memory_order_relaxed);
	m.steals = atomic_load_explicit(&sum.nsteal, memory_order_relaxed);
	m.stolen_goroutines = atomic_load_explicit(&sum.nstolen, memory_order_relaxed);
	m.sched_latency_sample_period = SCHEDLAT_SAMPLE;
	for (int i = 0; i < SCHEDLAT_BUCKETS; i++)
		m.sched_latency[i] = atomic_load_explicit(&sum.schedlat[i], memory_order_relaxed);

	/* version 2: the heap (mgc.c) */
	gort__gc_metrics(&m.heap_live_bytes, &m.heap_goal_bytes, &m.heap_sys_bytes,
	                 &m.heap_released_bytes, &m.gc_cycles, &m.gc_pause_total_ns);

	/* version 3: the heap by Go's names */
	gort__gc_alloc_totals(&m.gc_heap_allocs_objects, &m.gc_heap_allocs_bytes, &m.gc_cycles_forced,
	                      &m.gc_pause_last_ns);
	m.gc_heap_frees_objects = atomic_load(&gort__nfreed);
	m.gc_heap_frees_bytes = atomic_load(&gort__nfreedbytes);
	/* racy sums: never let frees read later exceed allocations read before */
	m.gc_heap_objects = m.gc_heap_allocs_objects > m.gc_heap_frees_objects
	                        ? m.gc_heap_allocs_objects - m.gc_heap_frees_objects : 0;
	m.heap_objects_bytes = m.gc_heap_allocs_bytes > m.gc_heap_frees_bytes
	                           ? m.gc_heap_allocs_bytes - m.gc_heap_frees_bytes : 0;
	for (int i = 0; i < SCHEDLAT_BUCKETS; i++)
		m.gc_pauses[i] = atomic_load_explicit(&gcpauses[i], memory_order_relaxed);

	/* Copy what both sides know; zero what only the caller knows. */
	size_t size = out->size;
	size_t n = size < sizeof m ? size : sizeof m;
	m.version = GORT_METRICS_VERSION;
	m.size = (uint32_t)size;
	memcpy(out, &m, n);
	if (size > sizeof m)
		memset((char *)out + sizeof m, 0, size - sizeof m);
	return 0;
}

int64_t gort_metrics_sched_latency_ns(int i)
{
	if (i <= 0)
		return 0;
	if (i >= SCHEDLAT_BUCKETS)
		i = SCHEDLAT_BUCKETS - 1;
	return (int64_t)1 << (i + 7);
}
