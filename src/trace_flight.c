/*
 * trace_flight.c - the flight recorder: the last seconds of the execution
 * trace, kept in memory and written out on demand or when the program dies
 * (Go 1.25's runtime/trace.FlightRecorder, in Go 1.19's format).
 *
 * A flight recording is a trace (trace.c, trace_event.c) whose buffers,
 * instead of going to a file, join a generation: a stretch of the run, of
 * at most min_age / 2 and max_bytes / 2.  A new buffer past either limit
 * starts the next generation, and the oldest are dropped while the rest
 * still covers min_age, or while all of them hold more than max_bytes.
 * Memory is so bounded by max_bytes (and one buffer per P being filled).
 *
 * What makes a generation writable without the ones before it:
 *   - each P's first buffer of a generation opens with a prelude, the
 *     state of its stream at that point (ProcStart, GoStartLocal of the
 *     goroutine it runs: trace.c's refill), dropped when the generation
 *     before is written too;
 *   - no sequence numbers: flight events are GoStartLocal and
 *     GoUnblockLocal, which Go's parser orders by each goroutine's state
 *     and the timestamps, so events may start anywhere;
 *   - the state dump is written, not recorded: the writer reads the
 *     events it writes, finds each goroutine's first one, and opens the
 *     trace with what the goroutine must have been before it - created
 *     (GoCreate) before a GoStartLocal, waiting too (GoWaiting) before a
 *     GoUnblockLocal, nothing before its own GoCreate.  So starting the
 *     recorder and starting a generation visit no goroutine: neither
 *     stops the world for long, whatever the number of goroutines.  The
 *     GoCreate names the goroutine's function, as Go's StartTrace does
 *     (go tool trace's timeline will not open without it): the first
 *     event naming a goroutine in a generation's buffers is preceded by
 *     a FlightGo with it (trace.c's emit_g), which is not written;
 *   - what is written ends where the write cut the streams, or where a
 *     dying program stopped: a goroutine still running yields and the
 *     collector's phases still open end there (close_streams), as Go's
 *     StopTrace ends a trace;
 *   - the string table is kept for the whole recording (its strings are
 *     the annotations' names: few), the stack table too, symbolized as
 *     it is written, the frame names as strings of the write's own.
 *
 * A write on demand (gort_trace_flight_write) stops the world for a
 * moment to cut every P's stream (a new generation begins), then writes
 * the generations before it, with the world running and the oldest of
 * them kept until it is done.  A dying program (print.c's exit, status 2:
 * an unrecovered panic, a fatal error, SIGQUIT) writes GORT_TRACE_FLIGHT's
 * file from what is buffered, each P's current buffer included, without
 * stopping anything or allocating with malloc: only whole events, up to
 * each buffer's position, are written (trace.c's emit makes an event whole
 * before it moves the position).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "trace.h"
#include "traceback.h"

enum {
	MAX_GENS = 64,
	MIN_MAX_BYTES = 256 << 10,
	MAX_BUFS = 8192 + 1024,   /* buffers a write takes: max_bytes' and more */
	MAX_PIDS = 4096,          /* the writer's prelude bookkeeping: P ids below this */
	FRAME_STRINGS = 1 << 12,  /* the writer's frame-name table (by pointer) */
	MAX_NAME = 1 << 10,
	MAX_FRAMES = 64,
	FRAMES_PER_PC = 8,
};

static const int64_t DEFAULT_MIN_AGE = 10 * 1000000000LL;
static const uint64_t DEFAULT_MAX_BYTES = 10 << 20;
static const uint64_t MAX_MAX_BYTES = 256 << 20;
static const uint64_t FRAME_STRING_BASE = 1ull << 40; /* above any id of the string table */

typedef struct generation {
	uint32_t no;
	int64_t startns;
	tracebuf *head, *tail;
	uint64_t bytes;
} generation;

static struct {
	pthread_mutex_t lock; /* the generations and the counts below */
	_Atomic bool on;
	int64_t minage, period;
	uint64_t maxbytes;
	generation gens[MAX_GENS]; /* a ring: n of them from first, oldest first */
	int first, n;
	uint64_t bytes, peak, dropped;
	int pins;             /* writes under way: nothing is dropped */
	uint32_t lastno;      /* the last generation's number, in any recording */
	_Atomic int writing;  /* a write on demand is under way */
	char *crashpath;      /* GORT_TRACE_FLIGHT */
	_Atomic bool crashed;
} fl = {.lock = PTHREAD_MUTEX_INITIALIZER};

static generation *gen_at(int i)
{
	return &fl.gens[(fl.first + i) % MAX_GENS];
}

/* ---- generations (under fl.lock) ---------------------------------------------- */

static void drop_oldest(void)
{
	generation *g = gen_at(0);
	tracebuf *b = g->head;
	while (b != NULL) {
		tracebuf *next = b->link;
		gort__trace_putbuf(b);
		b = next;
	}
	fl.bytes -= g->bytes;
	fl.dropped++;
	fl.first = (fl.first + 1) % MAX_GENS;
	fl.n--;
}

/* prune: drop the oldest generations the window does not need: while the
 * next one still began min_age ago, or while all hold more than max_bytes
 * (max_bytes wins).  The current generation stays. */
static void prune(int64_t now)
{
	while (fl.n > 1 && fl.pins == 0 &&
	       (fl.bytes > fl.maxbytes || gen_at(1)->startns <= now - fl.minage))
		drop_oldest();
}

static void advance(int64_t now)
{
	if (fl.n == MAX_GENS) {
		if (fl.pins > 0)
			return; /* a long write: the current generation goes on */
		drop_oldest();
	}
	/* numbered on from the last recording's: a goroutine's traceseq
	 * (trace.c's emit_g) must not take an old generation for this one */
	uint32_t no = ++fl.lastno != 0 ? fl.lastno : ++fl.lastno; /* 0: no recording */
	*gen_at(fl.n) = (generation){.no = no, .startns = now};
	fl.n++;
	atomic_store(&gort__trace_gen, no);
	prune(now);
}

uint32_t gort__flight_gen(void)
{
	pthread_mutex_lock(&fl.lock);
	generation *cur = gen_at(fl.n - 1);
	int64_t now = gort__nanotime();
	if (now - cur->startns >= fl.period || cur->bytes >= fl.maxbytes / 2)
		advance(now);
	uint32_t no = gen_at(fl.n - 1)->no;
	pthread_mutex_unlock(&fl.lock);
	return no;
}

void gort__flight_queue(tracebuf *b)
{
	gort__assert(b->gen != 0 && b->gen <= atomic_load(&gort__trace_gen),
	             "trace: a flight buffer of no generation, or of one to come");
	b->link = NULL;
	pthread_mutex_lock(&fl.lock);
	generation *g = NULL;
	for (int i = fl.n - 1; i >= 0 && g == NULL; i--)
		if (gen_at(i)->no == b->gen)
			g = gen_at(i);
	if (g != NULL) {
		if (g->tail != NULL)
			g->tail->link = b;
		else
			g->head = b;
		g->tail = b;
		g->bytes += b->pos;
		fl.bytes += b->pos;
		prune(gort__nanotime());
		if (fl.bytes > fl.peak && fl.pins == 0)
			fl.peak = fl.bytes;
		b = NULL;
	}
	pthread_mutex_unlock(&fl.lock);
	if (b != NULL)
		gort__trace_putbuf(b); /* its generation is gone */
}

/* ---- start, stop ---------------------------------------------------------------- */

int gort_trace_flight_start(const gort_trace_flight_config *cfg)
{
	G *gp = gort__current_goroutine("gort_trace_flight_start");
	int64_t minage = cfg != NULL && cfg->min_age_ns > 0 ? cfg->min_age_ns : DEFAULT_MIN_AGE;
	uint64_t maxbytes = cfg != NULL && cfg->max_bytes > 0 ? cfg->max_bytes : DEFAULT_MAX_BYTES;
	if (maxbytes < MIN_MAX_BYTES)
		maxbytes = MIN_MAX_BYTES;
	if (maxbytes > MAX_MAX_BYTES)
		maxbytes = MAX_MAX_BYTES;
	gort__stoptheworld();
	gp = gort__getg(); /* stopping the world may yield: now on another M */
	if (atomic_load(&fl.on) || gort_trace_enabled()) {
		gort__starttheworld();
		return GORT_ETRACEON;
	}
	pthread_mutex_lock(&fl.lock);
	fl.minage = minage;
	fl.period = minage / 2;
	fl.maxbytes = maxbytes;
	fl.first = fl.n = 0;
	fl.bytes = fl.peak = fl.dropped = 0;
	advance(gort__nanotime()); /* generation 1 */
	pthread_mutex_unlock(&fl.lock);
	int err = gort__trace_flight_begin(gp);
	if (err != 0) {
		atomic_store(&gort__trace_gen, 0);
		gort__starttheworld();
		return err;
	}
	atomic_store(&fl.on, true);
	gort__starttheworld();
	return 0;
}

int gort_trace_flight_stop(void)
{
	gort__current_goroutine("gort_trace_flight_stop");
	gort__stoptheworld();
	if (!atomic_load(&fl.on) || atomic_load(&fl.writing) != 0) {
		bool on = atomic_load(&fl.on);
		gort__starttheworld();
		return on ? -EBUSY : GORT_ETRACEOFF;
	}
	atomic_store(&fl.on, false);
	gort__trace_flight_end(); /* every buffer to its generation */
	atomic_store(&gort__trace_gen, 0);
	pthread_mutex_lock(&fl.lock);
	while (fl.n > 0)
		drop_oldest();
	fl.dropped = 0;
	pthread_mutex_unlock(&fl.lock);
	gort__starttheworld();
	return 0;
}

bool gort_trace_flight_enabled(void)
{
	return atomic_load(&fl.on);
}

void gort_trace_flight_stats(gort_trace_flight_info *st)
{
	memset(st, 0, sizeof *st);
	pthread_mutex_lock(&fl.lock);
	if (atomic_load(&fl.on)) {
		st->bytes = fl.bytes;
		st->peak_bytes = fl.peak;
		st->max_bytes = fl.maxbytes;
		st->generations = (uint32_t)fl.n;
		st->dropped = fl.dropped;
		st->window_ns = fl.n > 0 ? gort__nanotime() - gen_at(0)->startns : 0;
	}
	pthread_mutex_unlock(&fl.lock);
}

/* ---- reading events back ------------------------------------------------------- */

/* A cursor over one buffer's events, up to lim; ok false once an event
 * runs past lim (a P still writing it, in a dying program). */
typedef struct cursor {
	const unsigned char *p, *lim;
	bool ok;
} cursor;

static uint64_t get_varint(cursor *c)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (c->p >= c->lim) {
			c->ok = false;
			return 0;
		}
		unsigned char b = *c->p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (b < 0x80)
			return v;
	}
	c->ok = false;
	return 0;
}

typedef struct event {
	uint8_t type;
	int nargs;
	uint64_t args[8]; /* the timestamp delta first (EvBatch: the P, the ticks) */
} event;

/* next_event: the event at c, whole, or false (the end, or a part). */
static bool next_event(cursor *c, event *e)
{
	if (c->p >= c->lim)
		return false;
	unsigned char t = *c->p++;
	e->type = t & 0x3f;
	int narg = t >> 6;
	e->nargs = 0;
	if (e->type == traceEvString) { /* id, length, bytes: the strings' buffers only */
		get_varint(c);
		uint64_t len = get_varint(c);
		if (!c->ok || len > (uint64_t)(c->lim - c->p))
			return false;
		c->p += len;
		return true;
	}
	if (narg < 3) {
		for (int i = 0; i <= narg; i++)
			e->args[e->nargs++] = get_varint(c);
	} else {
		uint64_t len = get_varint(c);
		if (!c->ok || len > (uint64_t)(c->lim - c->p))
			return false;
		cursor body = {c->p, c->p + len, true};
		while (body.p < body.lim && body.ok) {
			uint64_t v = get_varint(&body);
			if (e->nargs < 8)
				e->args[e->nargs++] = v;
		}
		c->p += len;
	}
	if (c->ok && e->type == traceEvUserLog) { /* its message follows */
		uint64_t len = get_varint(c);
		if (!c->ok || len > (uint64_t)(c->lim - c->p))
			return false;
		c->p += len;
	}
	return c->ok;
}

/* ---- the writer -------------------------------------------------------------------- */

/* What the trace must say of a goroutine before its first event. */
enum { G_CREATED = 1, G_RUNNABLE, G_WAITING };

typedef struct gslot {
	uint64_t goid;    /* 0: empty */
	uint64_t ticks;   /* its first event's */
	int kind;         /* what that event says it was before (0: no event yet) */
	uint64_t start;   /* its start stack (a FlightGo's), for the dump's GoCreate */
} gslot;

typedef struct writer {
	int fd;
	int err;          /* the first write error (-errno) */
	int64_t total;
	size_t n;
	unsigned char out[TRACEBUF_SIZE];
	bool dying;       /* no waiting on anyone: a dying program's */
	bool nosym;       /* the symbolizer did not answer: pcs only */
	/* the buffers to write, in order: the strings', then the events' */
	tracebuf *bufs[MAX_BUFS];
	int nbufs, nstrbufs;
	uint64_t t0;      /* the earliest batch's ticks */
	gslot *gs;        /* the goroutines' first events (mmap'd) */
	size_t gcap;
	uint8_t seen[MAX_PIDS + 1]; /* which streams have had their first buffer */
	const char *strp[FRAME_STRINGS];
	uint64_t strid[FRAME_STRINGS];
	uint64_t nextstr;
	/* the collector's events (trace_gc.c): pairs open per stream, the
	 * first GCStart's seq written, and whether a GCDone comes first */
	uint8_t open[MAX_PIDS + 1];
	/* each stream at the end of what is written: its P's id, its last
	 * event's time, whether a goroutine runs there (close_streams) */
	uint64_t pid[MAX_PIDS + 1], last[MAX_PIDS + 1];
	bool running[MAX_PIDS + 1];
	uint64_t gcseq0;
	bool gcseqset, gcorphan;
} writer;

static writer demandw, crashw;

static void flush(writer *w)
{
	const unsigned char *p = w->out;
	size_t n = w->n;
	while (n > 0 && w->err == 0) {
		long r = gort__write_nosigpipe(w->fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			w->err = r < 0 ? -errno : -EIO;
			break;
		}
		p += r;
		n -= (size_t)r;
		w->total += r;
	}
	w->n = 0;
}

static void out(writer *w, const void *p, size_t n)
{
	const unsigned char *s = p;
	while (n > 0) {
		if (w->n == sizeof w->out)
			flush(w);
		size_t k = sizeof w->out - w->n < n ? sizeof w->out - w->n : n;
		memcpy(w->out + w->n, s, k);
		w->n += k;
		s += k;
		n -= k;
	}
}

/* out_event: one event of type ev with n varint arguments. */
static void out_event(writer *w, uint8_t ev, int n, const uint64_t *args)
{
	unsigned char body[16 * 10];
	size_t len = 0;
	for (int i = 0; i < n; i++)
		len += gort__trace_put_varint(body + len, args[i]);
	unsigned char head[12];
	size_t hl = 0;
	head[hl++] = (unsigned char)(ev | (n - 1 < 3 ? n - 1 : 3) << 6);
	if (n - 1 >= 3)
		hl += gort__trace_put_varint(head + hl, len);
	out(w, head, hl);
	out(w, body, len);
}

static void add_buf(writer *w, tracebuf *b)
{
	if (b != NULL && w->nbufs < (int)(sizeof w->bufs / sizeof w->bufs[0]))
		w->bufs[w->nbufs++] = b;
}

static size_t pid_slot(uint64_t pid)
{
	return pid == (uint64_t)-1 ? 0 : pid < MAX_PIDS ? pid + 1 : MAX_PIDS;
}

/*
 * The collector's events (trace_gc.c) in what is written.  The parser
 * orders collections by GCStart's seq from 0, and pairs each end (GCDone,
 * GCSTWDone, GCSweepDone) with its start: what is written begins at a
 * generation, not at the trace's start.  So the collections written are
 * renumbered from 0, and an end whose start was in a generation not
 * written (a cut mid-sweep, or, rarely, mid-collection) gets a start of
 * its own just before it, at the previous event's time (a delta of 0):
 * an event cannot simply be left out, the next one's time is a delta from
 * it.  A pair is on one stream (a P's), so the writer tracks, per stream,
 * which are open, in the order it writes them.
 */
enum { OPEN_GC = 1, OPEN_STW = 2, OPEN_SWEEP = 4 };

/* gc_pair: the open bit a start (> 0) or an end (< 0) of ev touches; 0: none. */
static int gc_pair(uint8_t ev)
{
	switch (ev) {
	case traceEvGCStart: return OPEN_GC;
	case traceEvGCDone: return -OPEN_GC;
	case traceEvGCSTWStart: return OPEN_STW;
	case traceEvGCSTWDone: return -OPEN_STW;
	case traceEvGCSweepStart: return OPEN_SWEEP;
	case traceEvGCSweepDone: return -OPEN_SWEEP;
	}
	return 0;
}

/* gc_scan: the first pass's part: the first seq, and a GCDone first. */
static void gc_scan(writer *w, size_t slot, const event *e)
{
	int pair = gc_pair(e->type);
	if (pair == 0)
		return;
	if (e->type == traceEvGCStart && (!w->gcseqset || e->args[1] < w->gcseq0)) {
		w->gcseq0 = e->args[1];
		w->gcseqset = true;
	}
	if (pair > 0) {
		w->open[slot] |= (uint8_t)pair;
	} else if (w->open[slot] & -pair) {
		w->open[slot] &= (uint8_t)~-pair;
	} else if (pair == -OPEN_GC) {
		w->gcorphan = true;
	}
}

/* out_events: the events of b in [from, to), a run of bytes at a time,
 * but the collector's rewritten as the comment above says, and the
 * recorder's FlightGo left out. */
static void out_events(writer *w, tracebuf *b, const unsigned char *from, const unsigned char *to)
{
	size_t slot = 0; /* the stream: the batch header's P */
	cursor h = {b->arr, b->arr + b->hdrlen, true};
	event be;
	if (next_event(&h, &be) && be.type == traceEvBatch)
		slot = pid_slot(be.args[0]);
	cursor c = {from, to, true};
	const unsigned char *run = from;
	event e;
	for (const unsigned char *at = c.p; next_event(&c, &e); at = c.p) {
		int pair = gc_pair(e.type);
		if (pair == 0 && e.type != traceEvFlightGo)
			continue;
		out(w, run, (size_t)(at - run));
		run = c.p;
		if (e.type == traceEvFlightGo)
			continue; /* the recorder's own: a delta of 0, left out */
		if (pair < 0 && !(w->open[slot] & -pair)) { /* an orphan end: its start first */
			if (pair == -OPEN_GC) {
				uint64_t a[] = {0, 0, 0}; /* seq 0: gc_scan saw it */
				out_event(w, traceEvGCStart, 3, a);
			} else if (pair == -OPEN_STW) {
				uint64_t a[] = {0, 0};
				out_event(w, traceEvGCSTWStart, 2, a);
			} else {
				uint64_t a[] = {0, 0};
				out_event(w, traceEvGCSweepStart, 2, a);
			}
			w->open[slot] |= (uint8_t)-pair;
		}
		if (pair > 0)
			w->open[slot] |= (uint8_t)pair;
		else
			w->open[slot] &= (uint8_t)~-pair;
		if (e.type == traceEvGCStart) {
			uint64_t a[] = {e.args[0], e.args[1] - w->gcseq0 + (w->gcorphan ? 1 : 0), e.args[2]};
			out_event(w, traceEvGCStart, 3, a);
		} else {
			out(w, at, (size_t)(c.p - at));
		}
	}
	out(w, run, (size_t)(to - run));
}

/*
 * scan: each event buffer's whole events (wlen), whether its prelude is
 * written (its stream's first buffer), and, with gs, each goroutine's
 * first event; returns how many events name a goroutine.
 */
static size_t scan(writer *w, bool fill)
{
	size_t subjects = 0;
	memset(w->seen, 0, sizeof w->seen);
	if (!fill) {
		memset(w->open, 0, sizeof w->open);
		memset(w->running, 0, sizeof w->running);
		w->gcseqset = w->gcorphan = false;
	}
	for (int i = w->nstrbufs; i < w->nbufs; i++) {
		tracebuf *b = w->bufs[i];
		size_t pos = *(volatile size_t *)&b->pos;
		cursor c = {b->arr, b->arr + pos, true};
		event e;
		if (!next_event(&c, &e) || e.type != traceEvBatch) {
			b->wlen = 0;
			continue;
		}
		size_t slot = pid_slot(e.args[0]);
		uint64_t ticks = e.args[1];
		if (!fill) {
			b->wprelude = !w->seen[slot];
			w->seen[slot] = 1;
			w->pid[slot] = e.args[0];
			if (b->wprelude)
				w->running[slot] = false;
			if (w->t0 == 0 || ticks < w->t0)
				w->t0 = ticks;
		}
		if (!b->wprelude)
			c.p = b->arr + b->hdrlen + b->prelen;
		const unsigned char *whole = c.p;
		while (next_event(&c, &e)) {
			whole = c.p;
			ticks += e.args[0];
			uint64_t g = 0;
			int kind = 0;
			switch (e.type) {
			case traceEvFlightGo: g = e.args[1]; break;
			case traceEvGoCreate: g = e.args[1], kind = G_CREATED; break;
			case traceEvGoStart:
			case traceEvGoStartLocal: g = e.args[1], kind = G_RUNNABLE; break;
			case traceEvGoUnblock:
			case traceEvGoUnblockLocal:
			case traceEvGoSysExit: g = e.args[1], kind = G_WAITING; break;
			}
			if (!fill) {
				gc_scan(w, slot, &e);
				w->last[slot] = ticks;
				if (e.type == traceEvGoStart || e.type == traceEvGoStartLocal)
					w->running[slot] = true;
				else if (gort__trace_ends_run(e.type))
					w->running[slot] = false;
			}
			if (g == 0)
				continue;
			subjects++;
			if (!fill)
				continue;
			size_t h = (size_t)(g * 0x9e3779b97f4a7c15ull) & (w->gcap - 1);
			while (w->gs[h].goid != 0 && w->gs[h].goid != g)
				h = (h + 1) & (w->gcap - 1);
			gslot *s = &w->gs[h];
			s->goid = g;
			if (e.type == traceEvFlightGo) {
				if (s->start == 0)
					s->start = e.args[2];
			} else if (s->kind == 0 || ticks < s->ticks) {
				s->ticks = ticks;
				s->kind = kind;
			}
		}
		if (!fill)
			b->wlen = (size_t)(whole - b->arr);
	}
	return subjects;
}

/* dump: the state each goroutine must have been in before its first event. */
static void dump(writer *w)
{
	uint64_t hdr[] = {0, w->t0}; /* one batch, at the earliest time written */
	out_event(w, traceEvBatch, 2, hdr);
	for (size_t i = 0; i < w->gcap; i++) {
		gslot *s = &w->gs[i];
		if (s->goid == 0 || s->kind == 0 || s->kind == G_CREATED)
			continue;
		/* its function, as Go's StartTrace gives it: go tool trace's
		 * timeline names each goroutine by it (and rejects a GoCreate
		 * without one) */
		uint64_t create[] = {0, s->goid, s->start, 0};
		out_event(w, traceEvGoCreate, 4, create);
		if (s->kind == G_WAITING) {
			uint64_t waiting[] = {0, s->goid};
			out_event(w, traceEvGoWaiting, 2, waiting);
		}
	}
}

/*
 * close_streams: what is written ends in the middle of things - the write
 * on demand's own goroutine runs, a collection or a sweep may be under
 * way, and a dying program stops wherever it is - but go tool trace's
 * timeline needs each goroutine's run and each collection's phase to end
 * (a GoStart with no end crashes it).  So each stream ends as Go's
 * StopTrace ends a trace: the goroutine still running yields (GoSched),
 * and the collector's phases still open end, at the stream's last time.
 */
static void close_streams(writer *w)
{
	for (size_t slot = 0; slot <= MAX_PIDS; slot++) {
		if (!w->running[slot] && w->open[slot] == 0)
			continue;
		uint64_t hdr[] = {w->pid[slot], w->last[slot]};
		out_event(w, traceEvBatch, 2, hdr);
		if (w->running[slot]) {
			uint64_t a[] = {0, 0};
			out_event(w, traceEvGoSched, 2, a);
		}
		if (w->open[slot] & OPEN_STW) {
			uint64_t a[] = {0};
			out_event(w, traceEvGCSTWDone, 1, a);
		}
		if (w->open[slot] & OPEN_SWEEP) {
			uint64_t a[] = {0, 0, 0};
			out_event(w, traceEvGCSweepDone, 3, a);
		}
		if (w->open[slot] & OPEN_GC) {
			uint64_t a[] = {0};
			out_event(w, traceEvGCDone, 1, a);
		}
	}
}

/* frame_string: the id of a frame's name or file, written before first use. */
static uint64_t frame_string(writer *w, const char *s)
{
	if (s == NULL || s[0] == '\0')
		return 0;
	/* the symbolizer's strings live as long as the program: known by address */
	size_t h = ((uintptr_t)s >> 3) & (FRAME_STRINGS - 1);
	uint64_t id = ++w->nextstr;
	for (size_t k = 0; k < 8; k++) { /* a crowded table: written once more */
		size_t j = (h + k) & (FRAME_STRINGS - 1);
		if (w->strp[j] == s) {
			--w->nextstr;
			return w->strid[j];
		}
		if (w->strp[j] == NULL) {
			w->strp[j] = s;
			w->strid[j] = id;
			break;
		}
	}
	size_t len = strlen(s);
	if (len > MAX_NAME) {
		s += len - MAX_NAME;
		len = MAX_NAME;
	}
	unsigned char head[24];
	size_t hl = 0;
	head[hl++] = traceEvString;
	hl += gort__trace_put_varint(head + hl, id);
	hl += gort__trace_put_varint(head + hl, len);
	out(w, head, hl);
	out(w, s, len);
	return id;
}

/* frames_of: what pc means; the reporter asked with patience when dying. */
static int frames_of(writer *w, uintptr_t pc, gort_frame *fr)
{
	if (w->nosym)
		return 0;
	request r = {.kind = REQ_FRAMES, .frames = {.pc = pc, .frames = fr, .max = FRAMES_PER_PC}};
	if (!gort__reporter_call(&r, w->dying ? 2000000000LL : 0)) {
		w->nosym = true;
		return 0;
	}
	return r.frames.n < FRAMES_PER_PC ? r.frames.n : FRAMES_PER_PC;
}

/* stack_out: one EvStack, as trace.c's stack_record writes it. */
static void stack_out(writer *w, const tracestack *s)
{
	uint64_t v[2 + 4 * MAX_FRAMES];
	int nv = 2, nframes = 0;
	for (int i = 0; i < s->n && nframes < MAX_FRAMES; i++) {
		gort_frame fr[FRAMES_PER_PC];
		int k = frames_of(w, s->pcs[i], fr);
		if (k <= 0) {
			fr[0] = (gort_frame){.pc = s->pcs[i]};
			k = 1;
		}
		if (k > 1 && gort__in_gort_text(s->pcs[i])) {
			fr[0] = fr[k - 1]; /* gort's API call, not what it inlined */
			k = 1;
		}
		for (int j = 0; j < k && nframes < MAX_FRAMES; j++, nframes++) {
			v[nv++] = s->pcs[i];
			v[nv++] = frame_string(w, fr[j].function);
			v[nv++] = frame_string(w, fr[j].file);
			v[nv++] = fr[j].line > 0 ? (uint64_t)fr[j].line : 0;
		}
	}
	v[0] = s->id;
	v[1] = (uint64_t)nframes;
	out_event(w, traceEvStack, nv, v); /* (the "timestamp" is the id) */
}

static void footer(writer *w)
{
	uint64_t ticks = gort__trace_ticks() - gort__trace_ticksstart();
	int64_t ns = gort__nanotime() - gort__trace_nsstart();
	uint64_t freq = ns > 0 ? (uint64_t)((long double)ticks * 1e9L / (long double)ns) : 1;
	uint64_t hdr[] = {0, gort__trace_ticks()};
	out_event(w, traceEvBatch, 2, hdr);
	uint64_t f[] = {freq ? freq : 1};
	out_event(w, traceEvFrequency, 1, f);
	memset(w->strp, 0, sizeof w->strp);
	w->nextstr = FRAME_STRING_BASE;
	for (int i = 0; i < gort__trace_stack_buckets(); i++)
		for (tracestack *s = gort__trace_stack_bucket(i); s != NULL;
		     s = atomic_load_explicit(&s->link, memory_order_acquire))
			stack_out(w, s);
}

/*
 * write_trace: w->bufs (strings first) as one trace on fd: the header,
 * the strings, the state dump, the events, the frequency and the stacks.
 * The bytes written, or the write error (-errno).
 */
static int64_t write_trace(writer *w, int fd)
{
	w->fd = fd;
	w->err = 0;
	w->total = 0;
	w->n = 0;
	w->t0 = 0;
	w->nosym = false;
	size_t subjects = scan(w, false);
	w->gcap = 16;
	while (w->gcap < 2 * subjects + 16)
		w->gcap *= 2;
	size_t mapsize = w->gcap * sizeof(gslot);
	w->gs = mmap(NULL, mapsize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (w->gs == MAP_FAILED)
		return -ENOMEM;
	scan(w, true);
	static const char header[16] = "go 1.19 trace\0\0\0";
	out(w, header, sizeof header);
	for (int i = 0; i < w->nstrbufs; i++)
		out(w, w->bufs[i]->arr, w->bufs[i]->wlen);
	dump(w);
	munmap(w->gs, mapsize);
	memset(w->open, 0, sizeof w->open);
	for (int i = w->nstrbufs; i < w->nbufs; i++) {
		tracebuf *b = w->bufs[i];
		if (b->wlen == 0)
			continue;
		if (b->wprelude) {
			out(w, b->arr, b->hdrlen);
			out_events(w, b, b->arr + b->hdrlen, b->arr + b->wlen);
		} else if (b->wlen > b->hdrlen + b->prelen) {
			out(w, b->arr, b->hdrlen);
			out_events(w, b, b->arr + b->hdrlen + b->prelen, b->arr + b->wlen);
		}
	}
	close_streams(w);
	footer(w);
	flush(w);
	return w->err != 0 ? w->err : w->total;
}

/* gather: the strings' buffers, then the generations' (the oldest first,
 * up to generation upto); the caller holds fl.lock. */
static void gather(writer *w, uint32_t upto)
{
	w->nbufs = 0;
	tracebuf *cur;
	size_t curlen;
	for (tracebuf *b = gort__trace_strings(&cur, &curlen); b != NULL; b = b->link) {
		b->wlen = b->pos;
		add_buf(w, b);
	}
	if (cur != NULL) {
		cur->wlen = curlen;
		add_buf(w, cur);
	}
	w->nstrbufs = w->nbufs;
	for (int i = 0; i < fl.n; i++)
		if (gen_at(i)->no <= upto)
			for (tracebuf *b = gen_at(i)->head; b != NULL; b = b->link)
				add_buf(w, b);
}

int64_t gort_trace_flight_write(int fd)
{
	gort__current_goroutine("gort_trace_flight_write");
	if (fcntl(fd, F_GETFL) < 0)
		return -errno;
	if (!atomic_load(&fl.on))
		return GORT_ETRACEOFF;
	int idle = 0;
	if (!atomic_compare_exchange_strong(&fl.writing, &idle, 1))
		return -EBUSY; /* as Go's WriteTo: one at a time */
	gort__stoptheworld();
	if (!atomic_load(&fl.on)) {
		gort__starttheworld();
		atomic_store(&fl.writing, 0);
		return GORT_ETRACEOFF;
	}
	/* A new generation, every P cut into it: the ones before are whole. */
	pthread_mutex_lock(&fl.lock);
	uint32_t upto = gen_at(fl.n - 1)->no;
	advance(gort__nanotime());
	fl.pins++; /* what is written stays until it is written */
	pthread_mutex_unlock(&fl.lock);
	gort__trace_cut_all();
	pthread_mutex_lock(&fl.lock);
	gort__trace_strlock();
	gather(&demandw, upto);
	gort__trace_strunlock();
	pthread_mutex_unlock(&fl.lock);
	gort__starttheworld();

	gort_entersyscall(); /* the P goes on while this writes */
	int64_t n = write_trace(&demandw, fd);
	gort_exitsyscall();

	pthread_mutex_lock(&fl.lock);
	fl.pins--;
	prune(gort__nanotime());
	pthread_mutex_unlock(&fl.lock);
	atomic_store(&fl.writing, 0);
	return n;
}

/* ---- the crash write ---------------------------------------------------------------- */

void gort__trace_flight_crash(void)
{
	if (!atomic_load(&fl.on) || fl.crashpath == NULL || atomic_exchange(&fl.crashed, true))
		return;
	atomic_store(&gort__tracing, false);
	/* An event under way on another thread ends in a few ns; a P about to
	 * queue a buffer waits for fl.lock, taken here for good.  A thread
	 * that holds it (frozen by SIGQUIT in the middle) gets 200 ms. */
	struct timespec ms = {0, 1000000};
	bool locked = false;
	for (int i = 0; i < 200 && !(locked = pthread_mutex_trylock(&fl.lock) == 0); i++)
		nanosleep(&ms, NULL);
	nanosleep(&ms, NULL);
	int fd = open(fl.crashpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0) {
		gort__printf("gort: GORT_TRACE_FLIGHT=%s: %s; the flight recorder's trace is lost\n",
		             fl.crashpath, strerror(errno));
		return;
	}
	writer *w = &crashw;
	w->dying = true;
	gather(w, UINT32_MAX);
	/* Each P's last events, after its full buffers - if their generation
	 * is still held.  A P that has made no event since its generation was
	 * dropped has its stream's state at the oldest one held in a prelude
	 * nowhere: its buffer holds events from before the window, and the
	 * goroutines they name have their next events - after the window's
	 * start - on other Ps. */
	uint32_t oldest = fl.n > 0 ? gen_at(0)->no : UINT32_MAX;
	P **ps = gort__allp;
	int32_t np = atomic_load(&gort__gomaxprocs);
	for (int32_t i = 0; i < np; i++)
		if (ps[i]->tracebuf != NULL && ps[i]->tracebuf->gen >= oldest)
			add_buf(w, ps[i]->tracebuf);
	tracebuf *nop = gort__trace_nopbuf();
	if (nop != NULL && nop->gen >= oldest)
		add_buf(w, nop);
	int64_t window = fl.n > 0 ? gort__nanotime() - gen_at(0)->startns : 0;
	int64_t n = write_trace(w, fd);
	close(fd);
	if (n < 0)
		gort__printf("gort: GORT_TRACE_FLIGHT=%s: %s; the flight recorder's trace is cut short\n",
		             fl.crashpath, strerror((int)-n));
	else
		gort__printf("gort: GORT_TRACE_FLIGHT: the last %lld ms of the trace are in %s\n",
		             (long long)(window / 1000000), fl.crashpath);
	(void)locked; /* held until the exit */
}

/* GORT_TRACE_FLIGHT=file (trace.c's startenv): the recorder for the whole
 * run, its trace written to file if the program dies. */
void gort__trace_flight_startenv(const char *path)
{
	int err = gort_trace_flight_start(NULL);
	if (err != 0) {
		gort__printf("gort: GORT_TRACE_FLIGHT=%s: %s; not recording\n", path, gort_strerror(err));
		return;
	}
	fl.crashpath = strdup(path);
}
