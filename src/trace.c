/*
 * trace.c - the execution tracer's machinery (Go's runtime/trace.go, minus
 * the events: trace_event.c).  trace.h has the format.
 *
 *   buffers    each P writes its events into its own tracebuf, without a
 *              lock: only the P's holder writes there (or whoever took the
 *              P from a system call, by CAS).  Events with no P go to one
 *              buffer under a lock.  A full buffer queues for the writer
 *              and its P starts a new batch.
 *   tables     strings (function and file names, task and region names)
 *              and stacks (pcs) get ids; the strings are written as they
 *              come, the stacks at stop, symbolized then (symtab.c, by
 *              gort_frame_info) - a pc costs nothing until the end.
 *   writer     a thread of its own does the blocking writes to the file
 *              descriptor, so that no goroutine waits on it; a failed
 *              write stops the tracing with a message, and the program
 *              goes on.
 *   start      with the world stopped: the state dump (a GoCreate for each
 *              goroutine, GoWaiting or GoInSyscall for the blocked ones,
 *              ProcStart and GoStart for the caller), then on.
 *   stop       with the world stopped: off, every buffer to the writer;
 *              then, the world running again, the frequency and the
 *              stack table, and wait for the writer to finish.
 *   GORT_TRACE the whole run into a file, written at exit.
 *
 * It calls the world's stop and start (proc_p.c), forEachG (proc_g.c), and
 * gort_frame_info (traceback_api.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <x86intrin.h>

#include "det.h"
#include "trace.h"

enum {
	MAX_EVENT = 2 + 10 * 8,     /* type, length, timestamp and up to 6 varints */
	STACK_BUCKETS = 1 << 13,
	STRING_BUCKETS = 1 << 10,
	MAX_STRING = 1 << 10,       /* names longer than this keep their end, as Go's */
	TICK_SHIFT = 6,             /* ticks are TSC / 64, as Go's on amd64 */
	MAX_FRAMES_PER_PC = 8,      /* calls inlined at one pc, and its function */
	MAX_STACK_FRAMES = 64,      /* frames of one EvStack, inlined calls counted */
};

static const char trace_header[16] = "go 1.19 trace\0\0\0";

typedef struct tracestring {
	struct tracestring *link;
	uint64_t id;
	char s[];
} tracestring;

enum { TRACE_OFF, TRACE_ON, TRACE_STOPPING }; /* trace.state */

_Atomic bool gort__tracing;
_Atomic uint32_t gort__trace_sessionno;
_Atomic uint32_t gort__trace_gen;

static struct {
	/* start and stop change state with the world stopped */
	_Atomic int state;
	int fd;
	uint64_t ticksstart, ticksend;
	int64_t nsstart, nsend;

	/* the writer thread and its queue */
	pthread_t writer;
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	tracebuf *fullhead, *fulltail, *empty;
	bool closing;
	_Atomic int failed;   /* the write error (-errno), or 0 */

	/* the events with no P */
	mutex noplock;
	bool nopok;           /* events with no P are recorded (under noplock) */
	tracebuf *nopbuf;

	/* the string table; its EvString records go to strbuf (and, full,
	 * to the writer - or, for the flight recorder, to strfull) */
	mutex strlock;
	tracestring *strings[STRING_BUCKETS];
	uint64_t stringseq;
	tracebuf *strbuf;
	tracebuf *strfull, *strfulltail;
	bool flight;          /* a flight recording, not a trace to a file */

	/* the stack table: found without the lock, added under it */
	mutex stacklock;
	tracestack *_Atomic stacks[STACK_BUCKETS];
	uint32_t stackseq;
} trace = {
	.qlock = PTHREAD_MUTEX_INITIALIZER,
	.qcond = PTHREAD_COND_INITIALIZER,
};

static void queue_full(tracebuf *b);

/* ---- the clock --------------------------------------------------------- */

/* The TSC: synchronized across CPUs on any x86 of the last decade
 * (constant_tsc, nonstop_tsc), a few ns to read, which matters at two
 * events per goroutine switch.  The frequency is measured over the trace. */
uint64_t gort__trace_ticks(void)
{
	if (gort__det()) /* deterministic mode: the virtual clock, so a seed's traces match */
		return (uint64_t)gort__nanotime();
	return __rdtsc() >> TICK_SHIFT;
}

/* ---- encoding ------------------------------------------------------------ */

size_t gort__trace_put_varint(unsigned char *p, uint64_t v)
{
	size_t n = 0;
	for (; v >= 0x80; v >>= 7)
		p[n++] = 0x80 | (unsigned char)v;
	p[n++] = (unsigned char)v;
	return n;
}

#define put_varint gort__trace_put_varint

static void buf_byte(tracebuf *b, unsigned char c)
{
	b->arr[b->pos++] = c;
}

static void buf_varint(tracebuf *b, uint64_t v)
{
	b->pos += put_varint(&b->arr[b->pos], v);
}

static void buf_bytes(tracebuf *b, const void *p, size_t n)
{
	memcpy(&b->arr[b->pos], p, n);
	b->pos += n;
}

/* ---- buffers --------------------------------------------------------------- */

tracebuf *gort__trace_getbuf(void)
{
	pthread_mutex_lock(&trace.qlock);
	tracebuf *b = trace.empty;
	if (b != NULL)
		trace.empty = b->link;
	pthread_mutex_unlock(&trace.qlock);
	if (b == NULL) {
		b = malloc(sizeof *b);
		gort__assert(b != NULL, "trace: out of memory");
	}
	b->link = NULL;
	b->pos = 0;
	b->gen = 0;
	b->hdrlen = b->prelen = 0;
	b->procon = false;
	b->mid = b->curg = b->curgstart = 0;
	return b;
}

/* putbuf: b to the empty list (a few of them: the rest are freed). */
void gort__trace_putbuf(tracebuf *b)
{
	pthread_mutex_lock(&trace.qlock);
	int n = 0;
	for (tracebuf *e = trace.empty; e != NULL && n < 16; e = e->link)
		n++;
	if (n < 16) {
		b->link = trace.empty;
		trace.empty = b;
		b = NULL;
	}
	pthread_mutex_unlock(&trace.qlock);
	free(b);
}

/* newbatch: a fresh buffer that opens a batch of pid's events. */
static tracebuf *newbatch(int64_t pid)
{
	tracebuf *b = gort__trace_getbuf();
	b->lastticks = gort__trace_ticks();
	buf_byte(b, traceEvBatch | 1 << 6);
	buf_varint(b, (uint64_t)pid);
	buf_varint(b, b->lastticks);
	b->hdrlen = (uint32_t)b->pos;
	return b;
}

/* room: *bp, or a new batch if it cannot take need more bytes. */
static tracebuf *room(tracebuf **bp, int64_t pid, size_t need)
{
	tracebuf *b = *bp;
	if (b != NULL && TRACEBUF_SIZE - b->pos >= need)
		return b;
	if (b != NULL)
		queue_full(b);
	return *bp = newbatch(pid);
}

/*
 * The flight recorder's streams: a P's buffer belongs to a generation, and
 * the P's first buffer of a generation opens with a prelude - ProcStart if
 * its stream has the P started, GoStartLocal of the goroutine it runs
 * (after its FlightGo: its start stack) - at the batch's own time (deltas
 * of 0), so that the generation can be written without the ones before it
 * (trace_flight.c drops the prelude where they are written too).  emit
 * keeps the state the prelude needs.
 */
static void put_event0(tracebuf *b, uint8_t ev, int n, const uint64_t *args)
{
	buf_byte(b, (unsigned char)(ev | n << 6));
	buf_varint(b, 0);
	for (int i = 0; i < n; i++)
		buf_varint(b, args[i]);
}

static __attribute__((noinline, cold)) tracebuf *refill(tracebuf **bp, int64_t pid, bool pstream)
{
	tracebuf *old = *bp;
	uint32_t gen = gort__flight_gen(); /* may start a generation */
	/* The stream's state, read before old is queued: a buffer whose
	 * generation was dropped meanwhile goes straight back to the empty
	 * list, where newbatch below may take it again - its fields then
	 * read as the new buffer's (the same generation, no P started), and
	 * the prelude the cut needs most was left out. */
	bool cut = old != NULL && old->gen != gen;
	bool procon = old != NULL && old->procon;
	uint64_t mid = old != NULL ? old->mid : 0;
	uint64_t curg = old != NULL ? old->curg : 0;
	uint64_t curgstart = old != NULL ? old->curgstart : 0;
	if (old != NULL)
		queue_full(old);
	tracebuf *b = *bp = newbatch(pid);
	b->gen = gen;
	if (!pstream || old == NULL)
		return b;
	b->procon = procon;
	b->mid = mid;
	b->curg = curg;
	b->curgstart = curgstart;
	if (cut) { /* the prelude */
		if (procon)
			put_event0(b, traceEvProcStart, 1, &mid);
		if (curg != 0) {
			uint64_t named[] = {curg, curgstart};
			put_event0(b, traceEvFlightGo, 2, named);
			put_event0(b, traceEvGoStartLocal, 1, &curg);
		}
		b->prelen = (uint32_t)(b->pos - b->hdrlen);
	}
	return b;
}

/* stream_room: room, for a P's stream (pstream) or the no-P one: cut, in
 * a flight recording, when the generation changed. */
static inline tracebuf *stream_room(tracebuf **bp, int64_t pid, bool pstream, size_t need)
{
	tracebuf *b = *bp;
	uint32_t gen = atomic_load_explicit(&gort__trace_gen, memory_order_relaxed);
	if (gen == 0)
		return room(bp, pid, need);
	if (b != NULL && b->gen == gen && TRACEBUF_SIZE - b->pos >= need)
		return b;
	return refill(bp, pid, pstream);
}

/* track: what the prelude of the P's next generation must say. */
static void track(tracebuf *b, uint8_t ev, const uint64_t *args)
{
	switch (ev) {
	case traceEvProcStart:
		b->procon = true;
		b->mid = args[0];
		break;
	case traceEvProcStop:
		b->procon = false;
		b->curg = 0;
		break;
	case traceEvGoStart:
	case traceEvGoStartLocal:
		b->curg = args[0];
		break;
	default:
		if (gort__trace_ends_run(ev))
			b->curg = 0;
	}
}

/* put_event: one event at the end of b, whole before b->pos covers it. */
static inline void put_event(tracebuf *b, uint8_t ev, int n, const uint64_t *args, const char *msg,
                             size_t msglen)
{
	/* The TSC of another CPU may lag a little: never step back. */
	uint64_t ticks = gort__trace_ticks();
	if (ticks < b->lastticks)
		ticks = b->lastticks;
	unsigned char body[MAX_EVENT];
	size_t len = put_varint(body, ticks - b->lastticks);
	b->lastticks = ticks;
	for (int i = 0; i < n; i++)
		len += put_varint(body + len, args[i]);
	/* The event is whole before pos covers it: a dying program's flight
	 * recorder reads a P's buffer up to pos while the P may still write. */
	size_t pos = b->pos;
	unsigned char *p = &b->arr[pos];
	*p++ = (unsigned char)(ev | (n < 3 ? n : 3) << 6);
	if (n >= 3)
		p += put_varint(p, len); /* three arguments or more: the length first */
	memcpy(p, body, len);
	p += len;
	if (msg != NULL) {
		p += put_varint(p, msglen);
		memcpy(p, msg, msglen);
		p += msglen;
	}
	atomic_signal_fence(memory_order_release);
	b->pos = (size_t)(p - b->arr);
	if (b->gen != 0)
		track(b, ev, args);
}

/* stream: pp's buffer, or the no-P one (under its lock); NULL: the no-P
 * stream is closed (tracing stopped, the stream flushed). */
static inline tracebuf **stream(P *pp)
{
	if (pp != NULL)
		return &pp->tracebuf;
	assert_lock_held(&trace.noplock);
	return trace.nopok ? &trace.nopbuf : NULL;
}

void gort__trace_emit(P *pp, uint8_t ev, int n, const uint64_t *args, const char *msg)
{
	gort__assert(n >= 0 && n <= 6, "trace: too many arguments");
	tracebuf **bp = stream(pp);
	if (bp == NULL)
		return;
	size_t msglen = msg != NULL ? strnlen(msg, TRACEBUF_SIZE / 2) : 0;
	tracebuf *b = stream_room(bp, pp != NULL ? pp->id : -1, pp != NULL,
	                          MAX_EVENT + (msg != NULL ? 10 + msglen : 0));
	put_event(b, ev, n, args, msg, msglen);
}

void gort__trace_emit_g(P *pp, G *gp, uint8_t ev, int n, const uint64_t *args)
{
	gort__assert(n >= 1 && n <= 6 && args[0] == (uint64_t)gp->goid, "trace: emit_g: not gp's event");
	tracebuf **bp = stream(pp);
	if (bp == NULL)
		return;
	tracebuf *b = stream_room(bp, pp != NULL ? pp->id : -1, pp != NULL, 2 * MAX_EVENT);
	gort__assert(b->gen != 0, "trace: emit_g outside a flight recording");
	uint64_t start;
	if (ev == traceEvGoCreate) {
		start = args[1]; /* the event says it */
	} else if ((uint32_t)(gp->traceseq >> 32) == b->gen) {
		start = (uint32_t)gp->traceseq; /* named in this generation already */
	} else {
		uintptr_t pc = gp->startpc + 1; /* as trace_gocreate (proc_g.c) */
		start = gp->startpc != 0 ? gort__trace_stackid(&pc, 1) : 0;
		uint64_t named[] = {(uint64_t)gp->goid, start};
		put_event0(b, traceEvFlightGo, 2, named);
	}
	gp->traceseq = (uint64_t)b->gen << 32 | (uint32_t)start;
	put_event(b, ev, n, args, NULL, 0);
	if (ev == traceEvGoStartLocal)
		b->curgstart = start;
}

void gort__trace_noplock(void)
{
	gort__lock(&trace.noplock);
}

void gort__trace_nopunlock(void)
{
	gort__unlock(&trace.noplock);
}

void gort__trace_procfree(P *pp)
{
	if (pp->tracebuf != NULL)
		queue_full(pp->tracebuf);
	pp->tracebuf = NULL;
}

/* ---- the writer thread ------------------------------------------------------ */

static void queue_full(tracebuf *b)
{
	if (b->gen != 0) {
		gort__flight_queue(b);
		return;
	}
	b->link = NULL;
	pthread_mutex_lock(&trace.qlock);
	if (trace.fulltail != NULL)
		trace.fulltail->link = b;
	else
		trace.fullhead = b;
	trace.fulltail = b;
	pthread_cond_signal(&trace.qcond);
	pthread_mutex_unlock(&trace.qlock);
}

/* write_all: 0, or -errno (a pipe closed at the other end is EPIPE, not
 * SIGPIPE: gort__write_nosigpipe). */
static int write_all(const void *p, size_t n)
{
	const char *s = p;
	while (n > 0) {
		long w = gort__write_nosigpipe(trace.fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* write_failed: the trace cannot be written; say so once, stop recording
 * (the buffers still queued are dropped), let the program go on. */
static void write_failed(int err)
{
	atomic_store(&trace.failed, err);
	atomic_store(&gort__tracing, false);
	gort__printf("gort: trace: write to fd %d failed: %s; tracing stopped\n", trace.fd,
	             strerror(-err));
}

static tracebuf *next_full(void)
{
	pthread_mutex_lock(&trace.qlock);
	while (trace.fullhead == NULL && !trace.closing)
		pthread_cond_wait(&trace.qcond, &trace.qlock);
	tracebuf *b = trace.fullhead;
	if (b != NULL) {
		trace.fullhead = b->link;
		if (trace.fullhead == NULL)
			trace.fulltail = NULL;
	}
	pthread_mutex_unlock(&trace.qlock);
	return b;
}

static void *writer(void *arg)
{
	(void)arg;
	int err = write_all(trace_header, sizeof trace_header);
	if (err != 0)
		write_failed(err);
	tracebuf *b;
	while ((b = next_full()) != NULL) {
		if (atomic_load(&trace.failed) == 0 && (err = write_all(b->arr, b->pos)) != 0)
			write_failed(err);
		pthread_mutex_lock(&trace.qlock);
		b->link = trace.empty;
		trace.empty = b;
		pthread_mutex_unlock(&trace.qlock);
	}
	return NULL;
}

/* start_writer: its own thread, with every signal blocked - SIGURG and
 * SIGQUIT are for Ms. */
static int start_writer(void)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int err = pthread_create(&trace.writer, NULL, writer, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -err;
}

/* stop_writer: the queue drained, the thread gone, the buffers freed.  A
 * goroutine waits for it as for a system call: its P goes on. */
static void stop_writer(void)
{
	pthread_mutex_lock(&trace.qlock);
	trace.closing = true;
	pthread_cond_signal(&trace.qcond);
	pthread_mutex_unlock(&trace.qlock);
	gort_entersyscall();
	pthread_join(trace.writer, NULL);
	gort_exitsyscall();
	trace.closing = false;
	while (trace.empty != NULL) {
		tracebuf *b = trace.empty;
		trace.empty = b->link;
		free(b);
	}
}

/* ---- the string table --------------------------------------------------------- */

static uint64_t hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ull;
	return h;
}

uint64_t gort__trace_stringid(const char *s)
{
	if (s == NULL || s[0] == '\0')
		return 0; /* id 0 is the empty string, which is never written */
	size_t len = strlen(s);
	if (len > MAX_STRING) {
		s += len - MAX_STRING;
		len = MAX_STRING;
	}
	uint64_t h = hash_bytes(s, len);
	gort__lock(&trace.strlock);
	tracestring **bucket = &trace.strings[h % STRING_BUCKETS];
	for (tracestring *t = *bucket; t != NULL; t = t->link) {
		if (strncmp(t->s, s, len) == 0 && t->s[len] == '\0') {
			gort__unlock(&trace.strlock);
			return t->id;
		}
	}
	tracestring *t = malloc(sizeof *t + len + 1);
	gort__assert(t != NULL, "trace: out of memory");
	memcpy(t->s, s, len);
	t->s[len] = '\0';
	t->id = ++trace.stringseq;
	t->link = *bucket;
	*bucket = t;
	tracebuf *b = trace.strbuf;
	if (trace.flight && (b == NULL || TRACEBUF_SIZE - b->pos < 1 + 20 + len)) {
		/* the flight recorder keeps every string for the whole recording */
		if (b != NULL) {
			if (trace.strfulltail != NULL)
				trace.strfulltail->link = b;
			else
				trace.strfull = b;
			trace.strfulltail = b;
		}
		b = trace.strbuf = newbatch(0);
	} else {
		b = room(&trace.strbuf, 0, 1 + 20 + len);
	}
	buf_byte(b, traceEvString);
	buf_varint(b, t->id);
	buf_varint(b, len);
	buf_bytes(b, s, len);
	gort__unlock(&trace.strlock);
	return t->id;
}

void gort__trace_strlock(void)
{
	gort__lock(&trace.strlock);
}

void gort__trace_strunlock(void)
{
	gort__unlock(&trace.strlock);
}

tracebuf *gort__trace_strings(tracebuf **cur, size_t *len)
{
	*cur = trace.strbuf;
	*len = trace.strbuf != NULL ? trace.strbuf->pos : 0;
	return trace.strfull;
}

static void strings_free(void)
{
	for (int i = 0; i < STRING_BUCKETS; i++) {
		while (trace.strings[i] != NULL) {
			tracestring *t = trace.strings[i];
			trace.strings[i] = t->link;
			free(t);
		}
	}
	trace.stringseq = 0;
}

/* ---- the stack table -------------------------------------------------------------- */

static uint32_t stack_find(const uintptr_t *pcs, int n, uint64_t h)
{
	tracestack *s = atomic_load_explicit(&trace.stacks[h % STACK_BUCKETS], memory_order_acquire);
	for (; s != NULL; s = atomic_load_explicit(&s->link, memory_order_acquire))
		if (s->hash == h && s->n == n && memcmp(s->pcs, pcs, (size_t)n * sizeof *pcs) == 0)
			return s->id;
	return 0;
}

/* The code where every foreign call's goroutine begins (cgocall_shims.S). */
extern char gort__cgocallback[];

/*
 * startstack: gp's start stack, its function as a return address (what
 * stacks hold).  A foreign call's goroutine has no function of its own: its
 * start is the shim's gort__cgocallback, as a cgo callback's is Go's
 * cgocallback.  Never 0 - go tool trace's timeline refuses a GoCreate
 * without a stack ("missing stack information").
 */
uint64_t gort__trace_startstack(const G *gp)
{
	uintptr_t start = (gp->startpc != 0 ? gp->startpc : (uintptr_t)gort__cgocallback) + 1;
	return gort__trace_stackid(&start, 1);
}

/* stackid: a stack seen before is found without the lock; a new one is
 * added under it, complete before it is published. */
uint64_t gort__trace_stackid(const uintptr_t *pcs, int n)
{
	if (n <= 0)
		return 0;
	uint64_t h = hash_bytes(pcs, (size_t)n * sizeof *pcs);
	uint32_t id = stack_find(pcs, n, h);
	if (id != 0)
		return id;
	gort__lock(&trace.stacklock);
	if ((id = stack_find(pcs, n, h)) == 0) {
		tracestack *s = malloc(sizeof *s + (size_t)n * sizeof *pcs);
		gort__assert(s != NULL, "trace: out of memory");
		s->hash = h;
		s->id = id = ++trace.stackseq;
		s->n = n;
		memcpy(s->pcs, pcs, (size_t)n * sizeof *pcs);
		_Atomic(tracestack *) *bucket = &trace.stacks[h % STACK_BUCKETS];
		atomic_store_explicit(&s->link, atomic_load(bucket), memory_order_relaxed);
		atomic_store_explicit(bucket, s, memory_order_release);
	}
	gort__unlock(&trace.stacklock);
	return id;
}

/* stack_record appends one EvStack to *bp: every pc expanded into its
 * frames (inlined calls first), each frame's name and file as strings. */
static void stack_record(tracebuf **bp, tracestack *s)
{
	uint64_t v[2 + 4 * MAX_STACK_FRAMES];
	int nv = 2, nframes = 0;
	for (int i = 0; i < s->n && nframes < MAX_STACK_FRAMES; i++) {
		gort_frame fr[MAX_FRAMES_PER_PC];
		int k = gort_frame_info(s->pcs[i], fr, MAX_FRAMES_PER_PC);
		if (k > MAX_FRAMES_PER_PC)
			k = MAX_FRAMES_PER_PC;
		if (k <= 0) { /* unknown: the pc alone */
			fr[0] = (gort_frame){.pc = s->pcs[i]};
			k = 1;
		}
		if (k > 1 && gort__in_gort_text(s->pcs[i])) {
			fr[0] = fr[k - 1]; /* gort's API call, not what it inlined */
			k = 1;
		}
		for (int j = 0; j < k && nframes < MAX_STACK_FRAMES; j++, nframes++) {
			v[nv++] = s->pcs[i];
			v[nv++] = gort__trace_stringid(fr[j].function);
			v[nv++] = gort__trace_stringid(fr[j].file);
			v[nv++] = fr[j].line > 0 ? (uint64_t)fr[j].line : 0;
		}
	}
	v[0] = s->id;
	v[1] = (uint64_t)nframes;
	unsigned char body[(2 + 4 * MAX_STACK_FRAMES) * 10];
	size_t len = 0;
	for (int i = 0; i < nv; i++)
		len += put_varint(body + len, v[i]);
	tracebuf *b = room(bp, 0, 1 + 10 + len);
	buf_byte(b, traceEvStack | 3 << 6);
	buf_varint(b, len);
	buf_bytes(b, body, len);
}

/* stacks_dump writes the stack table (and the strings its frames add),
 * and empties it. */
static void stacks_dump(tracebuf **bp)
{
	for (int i = 0; i < STACK_BUCKETS; i++) {
		tracestack *s = atomic_load(&trace.stacks[i]);
		atomic_store(&trace.stacks[i], NULL);
		while (s != NULL) {
			tracestack *next = atomic_load(&s->link);
			stack_record(bp, s);
			free(s);
			s = next;
		}
	}
	trace.stackseq = 0;
}

tracestack *gort__trace_stack_bucket(int i)
{
	return atomic_load_explicit(&trace.stacks[i], memory_order_acquire);
}

int gort__trace_stack_buckets(void)
{
	return STACK_BUCKETS;
}

/* ---- start ------------------------------------------------------------------------ */

typedef struct dumpctx {
	P *pp;
	uint64_t stack;     /* gort_trace_start's caller: every GoCreate's */
	uintptr_t lastfn;   /* the previous G's function, and its stack id: */
	uint64_t laststack; /* a million Gs have a handful of functions */
} dumpctx;

/* dump_g: one goroutine's state at trace start (the world is stopped). */
static void dump_g(G *gp, void *arg)
{
	dumpctx *d = arg;
	uint32_t status = gort__readgstatus(gp);
	gp->traceseq = 0;
	gp->tracesysexit = false;
	gp->tracesys = status == Gsyscall;
	if (gp->startpc != d->lastfn || d->laststack == 0) {
		d->lastfn = gp->startpc;
		d->laststack = gort__trace_startstack(gp);
	}
	gort__trace_gocreate(d->pp, gp, d->laststack, d->stack);
	if (status == Gwaiting)
		gort__trace_gowaiting(d->pp, gp);
	else if (status == Gsyscall)
		gort__trace_goinsyscall(d->pp, gp);
}

/*
 * state_dump: what the trace needs to know of the goroutines that exist
 * already.  Under the no-P lock, so that a G readied with no P (sysmon's
 * netpoll) is seen either runnable, or waiting with its GoUnblock after:
 * tracing turns on before the lock is let go.
 */
static void state_dump(G *self)
{
	dumpctx d = {.pp = self->m->p, .stack = gort__trace_curstack()};
	gort__lock(&trace.noplock);
	while (!gort__forEachG(dump_g, &d))
		gort__osyield();
	gort__trace_procstart(d.pp, self->m);
	gort__trace_gostart(d.pp, self);
	gort__trace_gc_session(d.pp, gort__gc_heapgoal());
	trace.nopok = true;
	trace.ticksstart = gort__trace_ticks();
	trace.nsstart = gort__nanotime();
	atomic_store(&gort__tracing, true);
	/* The writer may have failed already (on the header), and turned
	 * tracing off before we turned it on. */
	if (atomic_load(&trace.failed) != 0)
		atomic_store(&gort__tracing, false);
	gort__unlock(&trace.noplock);
}

int gort_trace_start(int fd)
{
	G *gp = gort__current_goroutine("gort_trace_start");
	if (fcntl(fd, F_GETFL) < 0)
		return -errno;
	gort__stoptheworld();
	gp = gort__getg(); /* stopping the world may yield: now on another M */
	if (atomic_load(&trace.state) != TRACE_OFF) {
		gort__starttheworld();
		return GORT_ETRACEON;
	}
	trace.fd = fd;
	atomic_store(&trace.failed, 0);
	atomic_fetch_add(&gort__trace_sessionno, 1); /* before any stack is taken */
	int err = start_writer();
	if (err != 0) {
		gort__starttheworld();
		return err;
	}
	state_dump(gp);
	atomic_store(&trace.state, TRACE_ON);
	gort__starttheworld(); /* procresize records GOMAXPROCS */
	return 0;
}

/*
 * A flight recording (trace_flight.c) is a trace with no writer: its
 * buffers go to generations in memory.  It has no state dump either - the
 * writer infers each goroutine's state from its first event in what it
 * writes - so it starts without visiting every goroutine: only the
 * caller's P and goroutine start.  Both with the world stopped.
 */
int gort__trace_flight_begin(G *self)
{
	if (atomic_load(&trace.state) != TRACE_OFF)
		return GORT_ETRACEON;
	trace.flight = true;
	atomic_fetch_add(&gort__trace_sessionno, 1);
	gort__lock(&trace.noplock);
	gort__trace_procstart(self->m->p, self->m);
	gort__trace_gostart(self->m->p, self);
	gort__trace_gc_session(self->m->p, gort__gc_heapgoal());
	trace.nopok = true;
	trace.ticksstart = gort__trace_ticks();
	trace.nsstart = gort__nanotime();
	atomic_store(&gort__tracing, true);
	gort__unlock(&trace.noplock);
	atomic_store(&trace.state, TRACE_ON);
	return 0;
}

static void flush_all(void);

/* flight_end: off, every buffer to its generation; the tables emptied. */
void gort__trace_flight_end(void)
{
	atomic_store(&gort__tracing, false);
	flush_all();
	for (int i = 0; i < STACK_BUCKETS; i++) {
		tracestack *st = atomic_load(&trace.stacks[i]);
		atomic_store(&trace.stacks[i], NULL);
		while (st != NULL) {
			tracestack *next = atomic_load(&st->link);
			free(st);
			st = next;
		}
	}
	trace.stackseq = 0;
	gort__lock(&trace.strlock);
	strings_free();
	while (trace.strfull != NULL) {
		tracebuf *b = trace.strfull;
		trace.strfull = b->link;
		free(b);
	}
	trace.strfulltail = NULL;
	free(trace.strbuf);
	trace.strbuf = NULL;
	gort__unlock(&trace.strlock);
	trace.flight = false;
	atomic_store(&trace.state, TRACE_OFF);
}

/* cut_all: with the world stopped, a new generation begun: every P's
 * buffer to its generation, each P going on in a buffer of the new one
 * (with its prelude); the no-P stream's buffer to its generation too. */
void gort__trace_cut_all(void)
{
	gort__lock(&trace.noplock);
	if (trace.nopbuf != NULL)
		queue_full(trace.nopbuf);
	trace.nopbuf = NULL;
	gort__unlock(&trace.noplock);
	P **ps = gort__allp;
	int32_t n = atomic_load(&gort__gomaxprocs);
	for (int32_t i = 0; i < n; i++)
		if (ps[i]->tracebuf != NULL)
			refill(&ps[i]->tracebuf, ps[i]->id, true);
}

tracebuf *gort__trace_nopbuf(void)
{
	return trace.nopbuf;
}

int64_t gort__trace_nsstart(void)
{
	return trace.nsstart;
}

uint64_t gort__trace_ticksstart(void)
{
	return trace.ticksstart;
}

/* ---- stop -------------------------------------------------------------------------- */

/* flush_all: with the world stopped and tracing off, every buffer to the
 * writer, the P's in stream order (each P's buffers queued in turn). */
static void flush_all(void)
{
	gort__lock(&trace.noplock);
	trace.nopok = false;
	if (trace.nopbuf != NULL)
		queue_full(trace.nopbuf);
	trace.nopbuf = NULL;
	gort__unlock(&trace.noplock);
	P **ps = gort__allp;
	int32_t n = atomic_load(&gort__gomaxprocs);
	for (int32_t i = 0; i < n; i++)
		gort__trace_procfree(ps[i]);
}

/* footer: the clock's frequency, the stacks and their strings; the
 * strings last, since stacks_dump adds to them. */
static void footer(void)
{
	long double ticks = (long double)(trace.ticksend - trace.ticksstart);
	long double ns = (long double)(trace.nsend - trace.nsstart);
	uint64_t freq = ns > 0 ? (uint64_t)(ticks * 1e9L / ns) : 0;
	if (freq == 0)
		freq = 1;
	tracebuf *b = newbatch(0);
	buf_byte(b, traceEvFrequency);
	buf_varint(b, freq);
	stacks_dump(&b);
	queue_full(b);
	gort__lock(&trace.strlock);
	if (trace.strbuf != NULL)
		queue_full(trace.strbuf);
	trace.strbuf = NULL;
	strings_free();
	gort__unlock(&trace.strlock);
}

int gort_trace_stop(void)
{
	gort__current_goroutine("gort_trace_stop");
	gort__stoptheworld();
	if (atomic_load(&trace.state) != TRACE_ON || trace.flight) {
		gort__starttheworld();
		return GORT_ETRACEOFF;
	}
	atomic_store(&trace.state, TRACE_STOPPING);
	/* Every goroutine's run must end in the trace (the viewer needs the
	 * end of each slice): the others stopped with the world; the caller
	 * yields, as Go's StopTrace records it. */
	if (gort__traceon())
		gort__trace_gosched(gort__getg());
	atomic_store(&gort__tracing, false);
	flush_all();
	trace.ticksend = gort__trace_ticks();
	trace.nsend = gort__nanotime();
	gort__starttheworld();
	footer();
	stop_writer();
	int err = atomic_load(&trace.failed);
	atomic_store(&trace.state, TRACE_OFF);
	return err;
}

bool gort_trace_enabled(void)
{
	return gort__traceon();
}

/* ---- GORT_TRACE ------------------------------------------------------------------ */

static int envfd = -1;

static void trace_stopenv(void *unused)
{
	(void)unused;
	int err = gort_trace_stop();
	if (err != 0 && err != GORT_ETRACEOFF)
		gort__printf("gort: GORT_TRACE: the trace is incomplete: %s\n", gort_strerror(err));
	close(envfd);
}

/* trace_atexit: exit() - main returned, a goroutine called it, or an
 * embedding program's thread did (gort_start) - writes the trace, from a
 * goroutine: stopping the world needs one.  Not from the scheduler's
 * stack, where a fatal error's exit may come from. */
static void trace_atexit(void)
{
	G *gp = gort__getg();
	if (gp != NULL && gp == &gp->m->g0) {
		gort__printf("gort: GORT_TRACE: exit on the scheduler's stack: trace not written\n");
		return;
	}
	gort__as_goroutine(trace_stopenv, NULL, "GORT_TRACE's exit handler");
}

void gort__trace_startenv(void)
{
	const char *flight = getenv("GORT_TRACE_FLIGHT");
	const char *path = getenv("GORT_TRACE");
	if (path == NULL || path[0] == '\0') {
		if (flight != NULL && flight[0] != '\0')
			gort__trace_flight_startenv(flight);
		return;
	}
	if (flight != NULL && flight[0] != '\0')
		gort__printf("gort: GORT_TRACE_FLIGHT=%s: %s (GORT_TRACE); not recording\n", flight,
		             gort_strerror(GORT_ETRACEON));
	envfd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (envfd < 0) {
		gort__printf("gort: GORT_TRACE=%s: %s; not tracing\n", path, strerror(errno));
		return;
	}
	int err = gort_trace_start(envfd);
	if (err != 0) {
		gort__printf("gort: GORT_TRACE=%s: %s; not tracing\n", path, gort_strerror(err));
		close(envfd);
		return;
	}
	atexit(trace_atexit);
}
