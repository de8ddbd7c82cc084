// fuzz-runtime: gort
// fuzz-flags: -max_len=1024 -len_control=0
/*
 * api_sequence_fuzz.c - the input is a small concurrent program over gort's
 * API, run by an interpreter; the program's outcome is checked exactly.
 *
 * The program
 * -----------
 * 2-8 worker goroutines run in phases.  For a phase, the interpreter decodes
 * operations (at most 200 in all) and appends each to the scripts of the
 * workers it involves, every entry of one operation at the same step (the
 * operation's index); then it spawns the workers, each runs its script in
 * order, and the phase ends when all are done (a WaitGroup).  Between phases
 * the interpreter itself may close, free or make a channel, or change
 * GOMAXPROCS.  Four channel slots; elements of 24, 32 or 64 bytes carrying a
 * unique value id and a pattern.
 *
 * Valid by construction: no deadlock
 * -----------------------------------
 * Every blocking operation has its partner at the same step in another
 * script, and nothing else can take what it waits for.  So the operation at
 * the lowest unfinished step can always complete: its partner's earlier
 * steps are done too.  Concretely, per phase, a channel is
 *   - SPSC: one sender S and one receiver R (fixed at its first use in the
 *     phase): paired send/recv (plain, a select with nil-channel cases or
 *     with the same case twice, or a trysend or tryrecv loop on one side - never both, or they could
 *     miss each other forever), and close (S) paired with a drain to the
 *     end (R: receives, a select, or a tryrecv loop).  S may also trysend,
 *     but only while the buffer's values from before the phase plus its own
 *     trysends stay below the capacity (then a paired send always finds
 *     room); no one else touches it in that phase;
 *   - loose: only non-blocking operations, by anyone (trysend, tryrecv,
 *     select with default, len/cap); it may be closed between phases;
 *   - closed (before the phase): receives of every kind by anyone - they
 *     cannot block - and the panics of send and close, recovered.
 * Locks are held by one operation at a time, with nothing blocking inside;
 * WaitGroup steps are Added by the interpreter before the phase; each Cond
 * step has its own Cond and predicate.  Timers belong to one operation.
 *
 * Bytes -> operations
 * -------------------
 *   [0] workers = 2 + b % 7      [1] GOMAXPROCS: 0 unchanged, else 1 + b % 4
 *   [2] capacity of slot i: {0,1,2,5}[(b >> 2i) & 3]
 *   [3] element size of slot i: {24,32,64,24}[(b >> 2i) & 3]
 *   then operations: an opcode byte (b % 20, see the enum) and its
 *   parameters, a byte each (0 past the end of the input).  A worker
 *   parameter is taken modulo the worker count; a second worker is chosen
 *   distinct from the first.  A phase end's two bytes b, b2 are the
 *   interpreter's action between phases: b & 7 = 0 close slot (b >> 3) & 3,
 *   1 free it (receiving what is left), 2 make it if empty (capacity and
 *   element size from b2), 3 GOMAXPROCS 1 + b2 % 4, else nothing.  An operation that does not fit the channel's
 *   state (a send pair on a closed or loose channel, ...) is skipped.
 *
 * Checked
 * -------
 *   - every value sent (blocking send, or a trysend or select that reported
 *     success) is received exactly once - by a receive, or when the
 *     interpreter drains the channel before freeing it - from the channel it
 *     was sent on, with its pattern intact; nothing else is received; on an
 *     SPSC channel R receives S's values in order;
 *   - receives from a closed channel never block and report !ok once
 *     drained; tryrecv and select on one are always ready; send and close
 *     on it panic with Go's messages, and the panics are recovered;
 *     a select of only nil cases with default takes the default;
 *   - mutual exclusion: a counter under Mutex (and RWMutex's write lock) is
 *     exact, and no two holders (no reader and writer) are ever inside;
 *   - a WaitGroup's Wait returns only after all of its step's Dones;
 *     a Cond waiter returns only with its predicate set;
 *   - timers: a value never comes before its deadline; Stop and Reset
 *     return Go 1.23's results (true while the value is unreceived) and
 *     leave no stale value; a ticker's times never go back and a Reset
 *     ticker sends nothing from its old period; an AfterFunc runs exactly
 *     when its Stop said it would;
 *   - no crash, no sanitizer report, no hang (the driver's watchdog aborts
 *     an input that runs 10 s).
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <gort.h>

#include "gort_fuzz.h"

#define T "api_sequence"
#define MAXG 8
#define MAXOPS 200
#define NCHAN 4
#define MAXIDS 1024
#define ELEM_WORDS 8
#define HOUR (3600 * GORT_SECOND)

enum op {
	OP_SEND_PAIR, OP_SEND_PAIR2, OP_TRYSEND, OP_TRYRECV, OP_SELECT_NB, OP_CLOSE, OP_RECV_CLOSED,
	OP_PANIC, OP_MUTEX, OP_RWLOCK, OP_RLOCK, OP_WG, OP_COND, OP_TIMER, OP_TICKER, OP_AFTERFUNC,
	OP_SLEEP, OP_GOSCHED, OP_GOMAXPROCS, OP_PHASE_END, NOPS
};

/* What one worker does at one step. */
enum act {
	A_SEND, A_RECV, A_TRYSEND, A_TRYRECV, A_SELECT, A_CLOSE, A_DRAIN, A_RECV_CLOSED, A_PANIC,
	A_MUTEX, A_RWLOCK, A_RLOCK, A_WG_DONE, A_WG_WAIT, A_COND_NOTIFY, A_COND_WAIT, A_TIMER,
	A_TICKER, A_AFTERFUNC, A_SLEEP, A_GOSCHED, A_GOMAXPROCS
};

struct action {
	uint8_t kind, slot, v, v2; /* v, v2: variant bytes */
	uint16_t step;
	uint8_t mask;              /* select: case mask */
};

enum role { R_NONE, R_SPSC, R_LOOSE };

struct slot {
	gort_chan *c;              /* NULL: empty slot */
	int serial;                /* unique per channel made */
	size_t elem;
	int cap;
	bool closed_before;        /* closed before this phase */
	bool closed_now;           /* closed (planned) in this phase */
	enum role role;
	int S, R;
	int len0;                  /* len at phase start */
	int extras;                /* S's successful trysends this phase */
	uint64_t last_id;          /* R's last in-phase id (FIFO) */
};

struct state;
struct af_ctx {
	struct state *st;
	int step;
};

struct state {
	int nw;
	int phase;
	struct slot slots[NCHAN];
	int serials;

	struct action script[MAXG][MAXOPS];
	int nacts[MAXG];

	/* values */
	atomic_uint nids;
	atomic_int sent[MAXIDS];   /* 1: sent successfully */
	int sent_on[MAXIDS];       /* serial of its channel */
	int id_phase[MAXIDS];
	atomic_int got[MAXIDS];

	/* locks */
	gort_mutex mu;
	atomic_int in_mu;
	long mu_count, mu_planned;
	gort_rwmutex rw;
	atomic_int rw_writer, rw_readers;
	long rw_count, rw_planned;

	/* per-step sync */
	gort_waitgroup wg[MAXOPS];
	atomic_int wg_dones[MAXOPS];
	int wg_expect[MAXOPS];
	gort_mutex cmu;
	gort_cond cond[MAXOPS];
	bool cond_flag[MAXOPS];    /* under cmu */
	gort_waitgroup af_wg[MAXOPS];
	atomic_int af_fired[MAXOPS];
	int af_expect[MAXOPS];     /* -1: not an AfterFunc step */
	struct af_ctx af_ctx[MAXOPS];

	gort_waitgroup phase_wg;
};

struct elem {
	uint64_t w[ELEM_WORDS];
};

static uint64_t pattern(uint64_t id, int i)
{
	return (id + 1) * 0x9E3779B97F4A7C15ull ^ (uint64_t)i * 0x100000001b3ull;
}

/* ---- values --------------------------------------------------------------- */

static uint64_t new_value(struct state *st, int slot, struct elem *e)
{
	uint64_t id = atomic_fetch_add(&st->nids, 1);
	FUZZ_CHECK(T, id < MAXIDS, "out of value ids");
	struct slot *s = &st->slots[slot];
	st->sent_on[id] = s->serial;
	st->id_phase[id] = st->phase;
	memset(e, 0, sizeof *e);
	e->w[0] = id;
	e->w[1] = (uint64_t)s->serial;
	for (size_t i = 2; i < s->elem / 8; i++)
		e->w[i] = pattern(id, (int)i);
	return id;
}

/* A value received from slot: check it and count it. */
static void got_value(struct state *st, int slot, const struct elem *e, bool fifo)
{
	struct slot *s = &st->slots[slot];
	uint64_t id = e->w[0];
	FUZZ_CHECK(T, id < atomic_load(&st->nids), "received id %llu, never made", (unsigned long long)id);
	FUZZ_CHECK(T, e->w[1] == (uint64_t)s->serial && st->sent_on[id] == s->serial,
	           "value %llu sent on channel %d received from channel %d", (unsigned long long)id,
	           st->sent_on[id], s->serial);
	for (size_t i = 2; i < s->elem / 8; i++)
		FUZZ_CHECK(T, e->w[i] == pattern(id, (int)i), "value %llu: word %zu corrupt",
		           (unsigned long long)id, i);
	for (size_t i = s->elem / 8; i < ELEM_WORDS; i++)
		FUZZ_CHECK(T, e->w[i] == 0xA5A5A5A5A5A5A5A5ull, "the receive wrote past the element (word %zu)", i);
	int before = atomic_fetch_add(&st->got[id], 1);
	FUZZ_CHECK(T, before == 0, "value %llu received twice", (unsigned long long)id);
	if (fifo && st->id_phase[id] == st->phase) {
		FUZZ_CHECK(T, s->last_id == UINT64_MAX || id > s->last_id,
		           "channel %d: value %llu received after %llu (FIFO)", s->serial,
		           (unsigned long long)id, (unsigned long long)s->last_id);
		s->last_id = id;
	}
}

static void recv_buf(struct elem *e)
{
	memset(e, 0xA5, sizeof *e);
}

/* ---- channels ------------------------------------------------------------- */

static void do_send(struct state *st, const struct action *a)
{
	struct slot *s = &st->slots[a->slot];
	struct elem e;
	uint64_t id = new_value(st, a->slot, &e);
	atomic_store(&st->sent[id], 1); /* committed: a blocking send succeeds */
	if (a->v & 8) {
		/* spin on trysend: the receiver is parked (never spinning too) */
		while (!gort_chan_trysend(s->c, &e))
			gort_gosched();
	} else if ((a->v & 1) && ((a->v >> 1) & 3) == 3) {
		/* select { case c <- v: ; case c <- v: }: one of the two fires */
		gort_case cases[2] = {GORT_CASE_SEND(s->c, &e), GORT_CASE_SEND(s->c, &e)};
		int got = gort_select(cases, 2, true);
		FUZZ_CHECK(T, got == 0 || got == 1, "blocking select send returned %d", got);
	} else if (a->v & 1) {
		/* select { case c <- v: ; case nil <- x: ; case <-nil: }, c's case at me */
		gort_case cases[3];
		struct elem dummy;
		int me = (a->v >> 1) & 3;
		for (int i = 0, k = 0; i < 3; i++) {
			if (i == me)
				cases[i] = GORT_CASE_SEND(s->c, &e);
			else
				cases[i] = k++ == 0 ? GORT_CASE_SEND(NULL, &dummy) : GORT_CASE_RECV(NULL, &dummy, NULL);
		}
		int got = gort_select(cases, 3, true);
		FUZZ_CHECK(T, got == me, "blocking select send returned %d, not %d", got, me);
	} else {
		gort_chan_send(s->c, &e);
	}
}

static void do_recv(struct state *st, const struct action *a)
{
	struct slot *s = &st->slots[a->slot];
	struct elem e;
	recv_buf(&e);
	bool ok;
	if (a->v & 4) {
		/* spin on tryrecv: the sender blocks or buffers (never spins too) */
		while (!gort_chan_tryrecv(s->c, &e, &ok))
			gort_gosched();
	} else if ((a->v & 1) && (a->v & 8)) {
		/* select { case v = <-c: ; case w = <-c: }: one fires, the other's
		 * variable is left alone */
		struct elem e2;
		bool ok2 = true;
		ok = true;
		recv_buf(&e2);
		gort_case cases[2] = {GORT_CASE_RECV(s->c, &e, &ok), GORT_CASE_RECV(s->c, &e2, &ok2)};
		int got = gort_select(cases, 2, true);
		FUZZ_CHECK(T, got == 0 || got == 1, "blocking select recv returned %d", got);
		struct elem untouched;
		recv_buf(&untouched);
		if (got == 1) {
			FUZZ_CHECK(T, memcmp(&e, &untouched, sizeof e) == 0 && ok,
			           "select wrote the variable of the case that did not fire");
			e = e2;
			ok = ok2;
		} else {
			FUZZ_CHECK(T, memcmp(&e2, &untouched, sizeof e2) == 0 && ok2,
			           "select wrote the variable of the case that did not fire");
		}
	} else if (a->v & 1) {
		struct elem dummy;
		gort_case cases[2] = {GORT_CASE_RECV(s->c, &e, &ok), GORT_CASE_RECV(NULL, &dummy, NULL)};
		if (a->v & 2) {
			gort_case t = cases[0];
			cases[0] = cases[1];
			cases[1] = t;
		}
		int got = gort_select(cases, 2, true);
		FUZZ_CHECK(T, got == ((a->v & 2) ? 1 : 0), "blocking select recv returned %d", got);
	} else {
		ok = gort_chan_recv(s->c, &e);
	}
	FUZZ_CHECK(T, ok, "paired receive on channel %d reported closed", s->serial);
	got_value(st, a->slot, &e, true);
}

static void do_trysend(struct state *st, const struct action *a, int g)
{
	struct slot *s = &st->slots[a->slot];
	if (s->role == R_SPSC) {
		/* S only, and only while a paired send is sure to find room. */
		if (s->len0 + s->extras >= s->cap)
			return;
	}
	struct elem e;
	uint64_t id = new_value(st, a->slot, &e);
	if (gort_chan_trysend(s->c, &e)) {
		atomic_store(&st->sent[id], 1);
		if (s->role == R_SPSC)
			s->extras++;
	}
	int len = gort_chan_len(s->c);
	FUZZ_CHECK(T, len >= 0 && len <= s->cap && gort_chan_cap(s->c) == s->cap, "len %d cap %d, made with %d",
	           len, gort_chan_cap(s->c), s->cap);
	(void)g;
}

static void do_tryrecv(struct state *st, const struct action *a)
{
	struct slot *s = &st->slots[a->slot];
	struct elem e;
	recv_buf(&e);
	bool ok = true;
	bool ready = gort_chan_tryrecv(s->c, &e, &ok);
	if (s->closed_before)
		FUZZ_CHECK(T, ready, "tryrecv on closed channel %d not ready", s->serial);
	if (ready && ok)
		got_value(st, a->slot, &e, false);
	if (ready && !ok)
		FUZZ_CHECK(T, s->closed_before, "tryrecv reported open channel %d closed", s->serial);
}

/* A select over up to three slots (loose: send or receive; closed: receive;
 * otherwise a nil case), plus a default unless a closed case is sure to be ready. */
static void do_select(struct state *st, const struct action *a)
{
	gort_case cases[5];
	struct elem e[5], sendv[5];
	bool ok[5];
	int slotof[5];
	uint64_t ids[5];
	bool any_closed = false;
	int n = 0;
	for (int i = 0; i < NCHAN && n < 3; i++) {
		if (!(a->mask & (1 << i)))
			continue;
		struct slot *s = &st->slots[i];
		bool send = (a->mask >> (4 + i)) & 1;
		slotof[n] = i;
		ids[n] = UINT64_MAX;
		recv_buf(&e[n]);
		ok[n] = true;
		if (s->c != NULL && s->closed_before) {
			cases[n] = GORT_CASE_RECV(s->c, &e[n], &ok[n]);
			any_closed = true;
		} else if (s->c != NULL && s->role == R_LOOSE && !s->closed_now) {
			if (send) {
				ids[n] = new_value(st, i, &sendv[n]);
				cases[n] = GORT_CASE_SEND(s->c, &sendv[n]);
			} else {
				cases[n] = GORT_CASE_RECV(s->c, &e[n], &ok[n]);
			}
		} else {
			slotof[n] = -1;
			cases[n] = send ? GORT_CASE_SEND(NULL, &sendv[n]) : GORT_CASE_RECV(NULL, &e[n], NULL);
		}
		n++;
	}
	if ((a->v & 4) && n > 0 && slotof[0] >= 0) { /* the first case again */
		slotof[n] = slotof[0];
		ids[n] = UINT64_MAX;
		ok[n] = true;
		recv_buf(&e[n]);
		if (cases[0].dir == GORT_SEND) {
			ids[n] = new_value(st, slotof[0], &sendv[n]);
			cases[n] = GORT_CASE_SEND(cases[0].chan, &sendv[n]);
		} else {
			cases[n] = GORT_CASE_RECV(cases[0].chan, &e[n], &ok[n]);
		}
		n++;
	}
	if (a->v & 1) { /* one more nil case */
		slotof[n] = -1;
		ids[n] = UINT64_MAX;
		cases[n++] = GORT_CASE_RECV(NULL, NULL, NULL);
	}
	bool block = any_closed && (a->v & 2);
	int got = gort_select(cases, n, block);
	if (got < 0) {
		FUZZ_CHECK(T, got == -1 && !block, "select returned %d", got);
		FUZZ_CHECK(T, !any_closed, "select took the default with a closed channel's case ready");
		return;
	}
	FUZZ_CHECK(T, got < n && slotof[got] >= 0, "select returned case %d of %d (nil?)", got, n);
	struct elem untouched;
	recv_buf(&untouched);
	for (int i = 0; i < n; i++)
		if (i != got && cases[i].dir == GORT_RECV && cases[i].elem != NULL)
			FUZZ_CHECK(T, memcmp(&e[i], &untouched, sizeof untouched) == 0 && ok[i],
			           "select wrote case %d's variable, case %d fired", i, got);
	struct slot *s = &st->slots[slotof[got]];
	if (cases[got].dir == GORT_SEND) {
		atomic_store(&st->sent[ids[got]], 1);
	} else if (ok[got]) {
		got_value(st, slotof[got], &e[got], false);
	} else {
		FUZZ_CHECK(T, s->closed_before, "select reported open channel %d closed", s->serial);
	}
}

static void do_close(struct state *st, const struct action *a)
{
	gort_chan_close(st->slots[a->slot].c);
}

static void do_drain(struct state *st, const struct action *a)
{
	struct slot *s = &st->slots[a->slot];
	for (;;) {
		struct elem e;
		recv_buf(&e);
		bool ok;
		if (a->v & 1) { /* close wakes a select */
			gort_case cases[2] = {GORT_CASE_RECV(NULL, NULL, NULL), GORT_CASE_RECV(s->c, &e, &ok)};
			FUZZ_CHECK(T, gort_select(cases, 2, true) == 1, "select drain");
		} else if (a->v & 2) {
			while (!gort_chan_tryrecv(s->c, &e, &ok))
				gort_gosched();
		} else {
			ok = gort_chan_recv(s->c, &e);
		}
		if (!ok)
			break;
		got_value(st, a->slot, &e, true);
	}
	FUZZ_CHECK(T, gort_chan_len(s->c) == 0, "drained channel %d has len %d", s->serial,
	           gort_chan_len(s->c));
}

static void do_recv_closed(struct state *st, const struct action *a)
{
	struct slot *s = &st->slots[a->slot];
	struct elem e;
	recv_buf(&e);
	bool ok;
	if (a->v & 1) {
		gort_case cases[2] = {GORT_CASE_RECV(NULL, NULL, NULL), GORT_CASE_RECV(s->c, &e, &ok)};
		FUZZ_CHECK(T, gort_select(cases, 2, true) == 1, "select on a closed channel");
	} else {
		ok = gort_chan_recv(s->c, &e);
	}
	if (ok) {
		got_value(st, a->slot, &e, false);
	} else {
		for (int i = 0; i < ELEM_WORDS && i < (int)(s->elem / 8); i++)
			FUZZ_CHECK(T, e.w[i] == 0, "a receive from a closed channel left word %d unzeroed", i);
	}
}

/* ---- recovered panics ----------------------------------------------------- */

struct panic_call {
	struct state *st;
	int slot, how;
};

static void catch_panic(void *p)
{
	const char *m = gort_recover();
	if (m != NULL)
		*(const char **)p = m;
}

static void panicking(struct panic_call *pc)
{
	struct slot *s = &pc->st->slots[pc->slot];
	struct elem e = {{0}};
	switch (pc->how) {
	case 0: gort_chan_send(s->c, &e); break;
	case 1: gort_chan_trysend(s->c, &e); break;
	case 2: {
		gort_case cases[2] = {GORT_CASE_RECV(NULL, NULL, NULL), GORT_CASE_SEND(s->c, &e)};
		gort_select(cases, 2, false);
		break;
	}
	case 3: gort_chan_close(s->c); break;
	default: gort_chan_close(NULL); break;
	}
}

static const char *call_recovering(struct panic_call *pc)
{
	const char *msg = NULL;
	GORT_FRAME(return msg);
	gort_defer(catch_panic, &msg);
	panicking(pc);
	return NULL;
}

static void do_panic(struct state *st, const struct action *a)
{
	struct panic_call pc = {st, a->slot, a->v % 5};
	const char *msg = call_recovering(&pc);
	const char *want = pc.how < 3 ? "send on closed channel"
	                   : pc.how == 3 ? "close of closed channel" : "close of nil channel";
	FUZZ_CHECK(T, msg != NULL && strcmp(msg, want) == 0, "panic %d: got \"%s\", want \"%s\"", pc.how,
	           msg ? msg : "(none)", want);
}

/* ---- sync ----------------------------------------------------------------- */

static void inside(const struct action *a)
{
	if (a->v & 2)
		gort_gosched();
	if (a->v & 4)
		gort_sleep(GORT_MICROSECOND);
}

static void do_mutex(struct state *st, const struct action *a)
{
	if (a->v & 1) {
		while (!gort_mutex_trylock(&st->mu))
			gort_gosched();
	} else {
		gort_mutex_lock(&st->mu);
	}
	FUZZ_CHECK(T, atomic_exchange(&st->in_mu, 1) == 0, "two goroutines hold the Mutex");
	long c = st->mu_count;
	inside(a);
	st->mu_count = c + 1;
	atomic_store(&st->in_mu, 0);
	gort_mutex_unlock(&st->mu);
}

static void do_rwlock(struct state *st, const struct action *a)
{
	if (a->v & 1) {
		while (!gort_rwmutex_trylock(&st->rw))
			gort_gosched();
	} else {
		gort_rwmutex_lock(&st->rw);
	}
	FUZZ_CHECK(T, atomic_exchange(&st->rw_writer, 1) == 0, "two writers hold the RWMutex");
	FUZZ_CHECK(T, atomic_load(&st->rw_readers) == 0, "a writer holds the RWMutex with readers");
	long c = st->rw_count;
	inside(a);
	FUZZ_CHECK(T, atomic_load(&st->rw_readers) == 0, "a reader got in under the writer");
	st->rw_count = c + 1;
	atomic_store(&st->rw_writer, 0);
	gort_rwmutex_unlock(&st->rw);
}

static void do_rlock(struct state *st, const struct action *a)
{
	if (a->v & 1) {
		while (!gort_rwmutex_tryrlock(&st->rw))
			gort_gosched();
	} else {
		gort_rwmutex_rlock(&st->rw);
	}
	atomic_fetch_add(&st->rw_readers, 1);
	FUZZ_CHECK(T, atomic_load(&st->rw_writer) == 0, "a reader holds the RWMutex with a writer");
	inside(a);
	FUZZ_CHECK(T, atomic_load(&st->rw_writer) == 0, "a writer got in under a reader");
	atomic_fetch_sub(&st->rw_readers, 1);
	gort_rwmutex_runlock(&st->rw);
}

static void do_wg_done(struct state *st, const struct action *a)
{
	atomic_fetch_add(&st->wg_dones[a->step], 1);
	gort_waitgroup_done(&st->wg[a->step]);
}

static void do_wg_wait(struct state *st, const struct action *a)
{
	gort_waitgroup_wait(&st->wg[a->step]);
	int d = atomic_load(&st->wg_dones[a->step]);
	FUZZ_CHECK(T, d == st->wg_expect[a->step], "WaitGroup Wait returned after %d of %d Dones", d,
	           st->wg_expect[a->step]);
}

static void do_cond_notify(struct state *st, const struct action *a)
{
	gort_mutex_lock(&st->cmu);
	st->cond_flag[a->step] = true;
	if (a->v & 1)
		gort_cond_broadcast(&st->cond[a->step]);
	else
		for (int i = 0; i < a->v2; i++) /* v2: the number of waiters */
			gort_cond_signal(&st->cond[a->step]);
	gort_mutex_unlock(&st->cmu);
}

static void do_cond_wait(struct state *st, const struct action *a)
{
	gort_mutex_lock(&st->cmu);
	while (!st->cond_flag[a->step])
		gort_cond_wait(&st->cond[a->step]);
	gort_mutex_unlock(&st->cmu);
}

/* ---- time ----------------------------------------------------------------- */

static int64_t recv_time(gort_timer *t)
{
	int64_t v = 0;
	bool ok = gort_chan_recv(gort_timer_c(t), &v);
	FUZZ_CHECK(T, ok, "a timer channel reported closed");
	return v;
}

static bool stale(gort_timer *t)
{
	int64_t v;
	return gort_chan_tryrecv(gort_timer_c(t), &v, NULL);
}

static void do_timer(struct state *st, const struct action *a)
{
	(void)st;
	int64_t d = (a->v2 % 50) * GORT_MICROSECOND;
	int64_t t0 = gort_nanotime();
	gort_timer *t;
	switch (a->v % 6) {
	case 0: /* fires */
		t = gort_timer_new(d);
		FUZZ_CHECK(T, recv_time(t) >= t0 + d, "a timer fired before its deadline");
		FUZZ_CHECK(T, !gort_timer_stop(t), "Stop after the value was received returned true");
		break;
	case 1: /* stopped long before */
		t = gort_timer_new(HOUR);
		FUZZ_CHECK(T, gort_timer_stop(t), "Stop of a pending timer returned false");
		FUZZ_CHECK(T, !stale(t), "a stopped timer's channel has a value");
		FUZZ_CHECK(T, !gort_timer_stop(t), "a second Stop returned true");
		break;
	case 2: /* reset to fire */
		t = gort_timer_new(HOUR);
		t0 = gort_nanotime();
		FUZZ_CHECK(T, gort_timer_reset(t, d), "Reset of a pending timer returned false");
		FUZZ_CHECK(T, recv_time(t) >= t0 + d, "a reset timer fired before its deadline");
		FUZZ_CHECK(T, !gort_timer_reset(t, HOUR), "Reset of a fired, received timer returned true");
		FUZZ_CHECK(T, gort_timer_stop(t), "Stop of a re-armed timer returned false");
		break;
	case 3: /* freed while pending or fired */
		t = gort_timer_new(a->v2 & 1 ? HOUR : d);
		if (a->v2 & 2)
			gort_gosched();
		break;
	case 4: /* Stop racing the firing: the value is never received, so true */
		t = gort_timer_new(d / 5);
		if (a->v2 & 1)
			gort_sleep(d / 5);
		else
			gort_gosched();
		FUZZ_CHECK(T, gort_timer_stop(t), "Stop of an unreceived timer returned false (Go 1.23)");
		FUZZ_CHECK(T, !stale(t), "a value after Stop");
		break;
	default: /* Reset racing the firing */
		t = gort_timer_new(d / 5);
		gort_gosched();
		FUZZ_CHECK(T, gort_timer_reset(t, HOUR), "Reset of an unreceived timer returned false (Go 1.23)");
		FUZZ_CHECK(T, !stale(t), "a stale value after Reset");
		break;
	}
	gort_timer_free(t);
}

static void do_ticker(struct state *st, const struct action *a)
{
	(void)st;
	int64_t d = (10 + a->v2 % 90) * GORT_MICROSECOND;
	int64_t t0 = gort_nanotime();
	gort_timer *t = gort_ticker_new(d);
	int64_t last = t0 + d;
	for (int i = 0; i < 1 + a->v % 3; i++) {
		int64_t v = recv_time(t);
		FUZZ_CHECK(T, v >= last, "tick %d at %lld, before %lld", i, (long long)v, (long long)last);
		last = v;
		if (a->v & 4)
			gort_gosched();
	}
	if (a->v & 8) {
		int64_t d2 = (5 + a->v2 % 40) * GORT_MICROSECOND;
		int64_t t1 = gort_nanotime();
		gort_ticker_reset(t, d2);
		int64_t v = recv_time(t);
		FUZZ_CHECK(T, v >= t1 + d2, "a tick from before Ticker.Reset (%lld < %lld)", (long long)v,
		           (long long)(t1 + d2));
	}
	gort_timer_stop(t);
	FUZZ_CHECK(T, !stale(t), "a tick after Stop");
	gort_timer_free(t);
}


static void af_fn(void *p)
{
	struct af_ctx *c = p;
	atomic_fetch_add(&c->st->af_fired[c->step], 1);
	gort_waitgroup_done(&c->st->af_wg[c->step]);
}

static void do_afterfunc(struct state *st, const struct action *a)
{
	int k = a->step;
	int64_t d = (a->v2 % 30) * GORT_MICROSECOND;
	st->af_ctx[k] = (struct af_ctx){st, k};
	gort_waitgroup_add(&st->af_wg[k], 1);
	gort_timer *t;
	switch (a->v % 3) {
	case 0: /* fires */
		t = gort_afterfunc(d, af_fn, &st->af_ctx[k]);
		gort_waitgroup_wait(&st->af_wg[k]);
		FUZZ_CHECK(T, !gort_timer_stop(t), "Stop after the AfterFunc ran returned true");
		st->af_expect[k] = 1;
		break;
	case 1: /* stopped long before */
		t = gort_afterfunc(HOUR, af_fn, &st->af_ctx[k]);
		FUZZ_CHECK(T, gort_timer_stop(t), "Stop of a pending AfterFunc returned false");
		gort_waitgroup_done(&st->af_wg[k]);
		st->af_expect[k] = 0;
		break;
	default: { /* Stop racing the firing */
		t = gort_afterfunc(d / 4, af_fn, &st->af_ctx[k]);
		gort_gosched();
		bool stopped = gort_timer_stop(t);
		if (stopped)
			gort_waitgroup_done(&st->af_wg[k]);
		gort_waitgroup_wait(&st->af_wg[k]);
		st->af_expect[k] = stopped ? 0 : 1;
		break;
	}
	}
	gort_timer_free(t);
}

static void do_sleep(const struct action *a)
{
	int64_t d = (a->v % 4 == 0) ? 0 : (a->v % 50) * GORT_MICROSECOND;
	int64_t t0 = gort_nanotime();
	gort_sleep(d);
	FUZZ_CHECK(T, gort_nanotime() >= t0 + d, "Sleep returned early");
}

/* ---- the workers -------------------------------------------------------- */

struct worker_arg {
	struct state *st;
	int g;
};

static void worker(void *p)
{
	struct worker_arg *wa = p;
	struct state *st = wa->st;
	int g = wa->g;
	for (int i = 0; i < st->nacts[g]; i++) {
		const struct action *a = &st->script[g][i];
		switch (a->kind) {
		case A_SEND: do_send(st, a); break;
		case A_RECV: do_recv(st, a); break;
		case A_TRYSEND: do_trysend(st, a, g); break;
		case A_TRYRECV: do_tryrecv(st, a); break;
		case A_SELECT: do_select(st, a); break;
		case A_CLOSE: do_close(st, a); break;
		case A_DRAIN: do_drain(st, a); break;
		case A_RECV_CLOSED: do_recv_closed(st, a); break;
		case A_PANIC: do_panic(st, a); break;
		case A_MUTEX: do_mutex(st, a); break;
		case A_RWLOCK: do_rwlock(st, a); break;
		case A_RLOCK: do_rlock(st, a); break;
		case A_WG_DONE: do_wg_done(st, a); break;
		case A_WG_WAIT: do_wg_wait(st, a); break;
		case A_COND_NOTIFY: do_cond_notify(st, a); break;
		case A_COND_WAIT: do_cond_wait(st, a); break;
		case A_TIMER: do_timer(st, a); break;
		case A_TICKER: do_ticker(st, a); break;
		case A_AFTERFUNC: do_afterfunc(st, a); break;
		case A_SLEEP: do_sleep(a); break;
		case A_GOSCHED: gort_gosched(); break;
		case A_GOMAXPROCS: gort_gomaxprocs(1 + a->v % 4); break;
		}
	}
	gort_waitgroup_done(&st->phase_wg);
}

/* ---- the interpreter ------------------------------------------------------ */

struct input {
	const uint8_t *data;
	size_t size, pos;
};

static uint8_t next(struct input *in)
{
	return in->pos < in->size ? in->data[in->pos++] : 0;
}

static void add(struct state *st, int g, struct action a)
{
	st->script[g][st->nacts[g]++] = a;
}

static int other(struct state *st, int g1, uint8_t b)
{
	return (g1 + 1 + b % (st->nw - 1)) % st->nw;
}

static const int caps[4] = {0, 1, 2, 5};
static const size_t elems[4] = {24, 32, 64, 24};

static void make_slot(struct state *st, int i, int cap, size_t elem)
{
	struct slot *s = &st->slots[i];
	memset(s, 0, sizeof *s);
	s->c = gort_chan_make(elem, (size_t)cap);
	s->serial = ++st->serials;
	s->cap = cap;
	s->elem = elem;
	s->last_id = UINT64_MAX;
}

/* Receives what is left in slot i (counting it), and frees the channel. */
static void free_slot(struct state *st, int i)
{
	struct slot *s = &st->slots[i];
	if (s->c == NULL)
		return;
	for (;;) {
		struct elem e;
		recv_buf(&e);
		bool ok;
		if (!gort_chan_tryrecv(s->c, &e, &ok) || !ok)
			break;
		got_value(st, i, &e, false);
	}
	FUZZ_CHECK(T, gort_chan_len(s->c) == 0, "len %d after draining", gort_chan_len(s->c));
	gort_chan_free(s->c);
	s->c = NULL;
}

/* Runs the planned phase: every worker's script, then resets the plan. */
static void run_phase(struct state *st)
{
	for (int i = 0; i < NCHAN; i++) {
		struct slot *s = &st->slots[i];
		if (s->c != NULL)
			s->len0 = gort_chan_len(s->c);
	}
	gort_waitgroup_add(&st->phase_wg, st->nw);
	for (int g = 0; g < st->nw; g++)
		gort_go_with(worker, struct worker_arg, .st = st, .g = g);
	gort_waitgroup_wait(&st->phase_wg);

	FUZZ_CHECK(T, st->mu_count == st->mu_planned, "Mutex counter %ld, %ld increments", st->mu_count,
	           st->mu_planned);
	FUZZ_CHECK(T, st->rw_count == st->rw_planned, "RWMutex counter %ld, %ld increments", st->rw_count,
	           st->rw_planned);
	for (int g = 0; g < st->nw; g++)
		st->nacts[g] = 0;
	for (int i = 0; i < NCHAN; i++) {
		struct slot *s = &st->slots[i];
		if (s->closed_now)
			s->closed_before = true;
		s->closed_now = false;
		s->role = R_NONE;
		s->extras = 0;
		s->last_id = UINT64_MAX;
	}
	st->phase++;
}

/* Between phases: the interpreter's own action. */
static void between(struct state *st, uint8_t b, uint8_t b2)
{
	int i = (b >> 3) % NCHAN;
	struct slot *s = &st->slots[i];
	switch (b & 7) {
	case 0:
		if (s->c != NULL && !s->closed_before) {
			gort_chan_close(s->c);
			s->closed_before = true;
		}
		break;
	case 1:
		free_slot(st, i);
		break;
	case 2:
		if (s->c == NULL)
			make_slot(st, i, caps[b2 & 3], elems[(b2 >> 2) & 3]);
		break;
	case 3:
		gort_gomaxprocs(1 + b2 % 4);
		break;
	default:
		break;
	}
}

/* A channel for a paired operation: open, and SPSC with g1 -> g2 (or already). */
static bool spsc(struct state *st, int i, int g1, int g2)
{
	struct slot *s = &st->slots[i];
	if (s->c == NULL || s->closed_before || s->closed_now || s->role == R_LOOSE)
		return false;
	if (s->role == R_NONE) {
		s->role = R_SPSC;
		s->S = g1;
		s->R = g2;
	}
	return true;
}

/* A channel for non-blocking use by anyone: loose (open) or closed. */
static bool loose(struct state *st, int i)
{
	struct slot *s = &st->slots[i];
	if (s->c == NULL || s->closed_now || s->role == R_SPSC)
		return false;
	if (s->closed_before)
		return true;
	s->role = R_LOOSE;
	return true;
}

/* Decodes one operation at step k into the scripts; false at a phase end. */
static bool plan(struct state *st, struct input *in, int k)
{
	uint8_t op = next(in) % NOPS;
	struct action a = {.step = (uint16_t)k};
	int g1, g2;
	switch (op) {
	case OP_SEND_PAIR:
	case OP_SEND_PAIR2: {
		a.slot = next(in) % NCHAN;
		g1 = next(in) % st->nw;
		g2 = other(st, g1, next(in));
		uint8_t v = next(in);
		if (!spsc(st, a.slot, g1, g2))
			break;
		struct slot *s = &st->slots[a.slot];
		a.kind = A_SEND;
		a.v = v;
		add(st, s->S, a);
		a.kind = A_RECV;
		a.v = v >> 4;
		if (v & 8) /* two spinners could miss each other forever */
			a.v &= (uint8_t)~4;
		add(st, s->R, a);
		break;
	}
	case OP_TRYSEND: {
		a.slot = next(in) % NCHAN;
		g1 = next(in) % st->nw;
		struct slot *s = &st->slots[a.slot];
		if (s->c != NULL && s->role == R_SPSC && !s->closed_now) {
			a.kind = A_TRYSEND;
			add(st, s->S, a);
		} else if (loose(st, a.slot)) {
			if (s->closed_before) {
				a.kind = A_PANIC;
				a.v = 1;
			} else {
				a.kind = A_TRYSEND;
			}
			add(st, g1, a);
		}
		break;
	}
	case OP_TRYRECV:
		a.slot = next(in) % NCHAN;
		g1 = next(in) % st->nw;
		if (loose(st, a.slot)) {
			a.kind = A_TRYRECV;
			add(st, g1, a);
		}
		break;
	case OP_SELECT_NB: {
		g1 = next(in) % st->nw;
		uint8_t mask = next(in);
		a.v = next(in);
		a.kind = A_SELECT;
		/* A slot in the mask that cannot be loose becomes a nil case. */
		for (int i = 0; i < NCHAN; i++)
			if (mask & (1 << i))
				loose(st, i);
		a.mask = mask;
		add(st, g1, a);
		break;
	}
	case OP_CLOSE:
		a.slot = next(in) % NCHAN;
		g1 = next(in) % st->nw;
		g2 = other(st, g1, next(in));
		a.v = next(in);
		if (spsc(st, a.slot, g1, g2)) {
			struct slot *s = &st->slots[a.slot];
			a.kind = A_CLOSE;
			add(st, s->S, a);
			a.kind = A_DRAIN;
			add(st, s->R, a);
			s->closed_now = true;
		}
		break;
	case OP_RECV_CLOSED:
		a.slot = next(in) % NCHAN;
		g1 = next(in) % st->nw;
		a.v = next(in);
		if (st->slots[a.slot].c != NULL && st->slots[a.slot].closed_before) {
			a.kind = A_RECV_CLOSED;
			add(st, g1, a);
		}
		break;
	case OP_PANIC:
		a.slot = next(in) % NCHAN;
		g1 = next(in) % st->nw;
		a.v = next(in) % 5;
		a.kind = A_PANIC;
		if (a.v == 4 || (st->slots[a.slot].c != NULL && st->slots[a.slot].closed_before))
			add(st, g1, a);
		break;
	case OP_MUTEX:
	case OP_RWLOCK:
	case OP_RLOCK:
		g1 = next(in) % st->nw;
		a.v = next(in);
		a.kind = op == OP_MUTEX ? A_MUTEX : op == OP_RWLOCK ? A_RWLOCK : A_RLOCK;
		if (op == OP_MUTEX)
			st->mu_planned++;
		if (op == OP_RWLOCK)
			st->rw_planned++;
		add(st, g1, a);
		break;
	case OP_WG: {
		g1 = next(in) % st->nw; /* the waiter */
		uint8_t mask = next(in);
		int n = 0;
		for (int g = 0; g < st->nw; g++)
			if (g != g1 && (mask & (1 << g)))
				n++;
		st->wg_expect[k] = n;
		atomic_store(&st->wg_dones[k], 0);
		if (n > 0)
			gort_waitgroup_add(&st->wg[k], n);
		a.kind = A_WG_DONE;
		for (int g = 0; g < st->nw; g++)
			if (g != g1 && (mask & (1 << g)))
				add(st, g, a);
		a.kind = A_WG_WAIT;
		add(st, g1, a);
		break;
	}
	case OP_COND: {
		g1 = next(in) % st->nw; /* the notifier */
		uint8_t mask = next(in);
		a.v = next(in);
		int n = 0;
		for (int g = 0; g < st->nw; g++)
			if (g != g1 && (mask & (1 << g)))
				n++;
		st->cond[k] = (gort_cond)GORT_COND_INIT(&st->cmu);
		st->cond_flag[k] = false;
		a.v2 = (uint8_t)n;
		a.kind = A_COND_WAIT;
		for (int g = 0; g < st->nw; g++)
			if (g != g1 && (mask & (1 << g)))
				add(st, g, a);
		a.kind = A_COND_NOTIFY;
		add(st, g1, a);
		break;
	}
	case OP_TIMER:
	case OP_TICKER:
	case OP_AFTERFUNC:
		g1 = next(in) % st->nw;
		a.v = next(in);
		a.v2 = next(in);
		a.kind = op == OP_TIMER ? A_TIMER : op == OP_TICKER ? A_TICKER : A_AFTERFUNC;
		add(st, g1, a);
		break;
	case OP_SLEEP:
	case OP_GOSCHED:
	case OP_GOMAXPROCS:
		g1 = next(in) % st->nw;
		a.v = op == OP_GOSCHED ? 0 : next(in);
		a.kind = op == OP_SLEEP ? A_SLEEP : op == OP_GOSCHED ? A_GOSCHED : A_GOMAXPROCS;
		add(st, g1, a);
		break;
	case OP_PHASE_END: {
		uint8_t b = next(in), b2 = next(in);
		run_phase(st);
		between(st, b, b2);
		return false;
	}
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size, 0};
	struct state *st = calloc(1, sizeof *st);
	st->nw = 2 + next(&in) % (MAXG - 1);
	uint8_t procs = next(&in);
	if (procs != 0)
		gort_gomaxprocs(1 + procs % 4);
	uint8_t capb = next(&in), elemb = next(&in);
	for (int i = 0; i < NCHAN; i++)
		make_slot(st, i, caps[(capb >> (2 * i)) & 3], elems[(elemb >> (2 * i)) & 3]);
	for (int k = 0; k < MAXOPS; k++)
		st->af_expect[k] = -1;

	for (int k = 0; k < MAXOPS && in.pos < in.size; k++)
		plan(st, &in, k);
	run_phase(st);

	for (int i = 0; i < NCHAN; i++)
		free_slot(st, i);
	unsigned nids = atomic_load(&st->nids);
	for (unsigned id = 0; id < nids; id++)
		FUZZ_CHECK(T, atomic_load(&st->got[id]) == atomic_load(&st->sent[id]),
		           "value %u: sent %d, received %d times", id, atomic_load(&st->sent[id]),
		           atomic_load(&st->got[id]));
	for (int k = 0; k < MAXOPS; k++)
		if (st->af_expect[k] >= 0)
			FUZZ_CHECK(T, atomic_load(&st->af_fired[k]) == st->af_expect[k],
			           "AfterFunc of step %d ran %d times, want %d", k, atomic_load(&st->af_fired[k]),
			           st->af_expect[k]);
	free(st);
	return 0;
}
