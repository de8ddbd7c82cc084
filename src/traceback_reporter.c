/*
 * traceback_reporter.c - the reporter thread, which makes every traceback,
 * and the handshake by which any thread asks it for one.
 *
 * Why a reporter thread.  A report must print when the fault struck inside
 * malloc or with a runtime lock held.  libdw allocates as it unwinds and
 * symbolizes (frame states, line tables, scope arrays), so none of it may
 * run on the failing thread.  The reporter thread is created at init,
 * before the program has done anything, so glibc gives it a malloc arena
 * of its own (the first malloc of a thread takes a fresh arena while there
 * are fewer than 8 per CPU); it then loads every module's symbol table,
 * DWARF and CFI ahead of time.  A failing thread posts a request (a few
 * words in a static slot, no allocation), wakes the reporter with a futex
 * and sleeps on another until the report is written: the failing thread
 * itself only copies registers and makes system calls.
 *
 * One request at a time: the slot is taken with a CAS.  The failing path
 * never waits for the slot forever (a second failure could be the holder):
 * after two seconds it reports without frames.  The API (gort_stack,
 * gort_callers, gort_frame_info) goes through the same reporter, which also
 * makes libdw single-threaded.
 *
 *   gort__reporter_start   start the thread, wait for the modules (init)
 *   gort__reporter_call    post a request and wait for it (any thread)
 *   gort__reporter_loaded  whether there is a reporter with the modules
 *
 * The asking side calls only futexes and the clock (os_linux.c); the
 * reporter serves a request with symtab.c, traceback_unwind.c and
 * traceback_print.c.  Without libdw there is no reporter, and every
 * request fails at once.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>

#include "traceback.h"

enum { LOADING, LOADED, ABSENT }; /* the reporter's state */

static request *_Atomic slot;            /* the request being served */
static _Atomic uint32_t slotbusy;        /* 1 while someone owns the slot */
static _Atomic uint32_t reqseq, doneseq; /* futex words: posted, served */
static _Atomic uint32_t ready = HAVE_LIBDW ? LOADING : ABSENT;

#ifdef GORT_HAVE_LIBDW

static void serve(request *r)
{
	switch (r->kind) {
	case REQ_TRACEBACK: gort__serve_traceback(&r->traceback); break;
	case REQ_ENTRY: gort__serve_entry(&r->entry); break;
	case REQ_CREATEDBY: gort__serve_createdby(&r->createdby); break;
	case REQ_CALLERS: gort__serve_callers(&r->callers); break;
	case REQ_FRAMES: gort__serve_frames(&r->frames); break;
	}
}

/* reporter is the thread that unwinds and symbolizes: see the top. */
static void *reporter(void *arg)
{
	atomic_store(&ready, gort__loadmodules() ? LOADED : ABSENT);
	gort__futexwakeup(&ready, INT32_MAX);
	for (;;) {
		uint32_t seq = atomic_load(&reqseq);
		if (seq == atomic_load(&doneseq)) {
			gort__futexsleep(&reqseq, seq);
			continue;
		}
		serve(atomic_load(&slot));
		atomic_store(&doneseq, seq);
		gort__futexwakeup(&doneseq, INT32_MAX);
	}
	return NULL;
}

static bool start_reporter(void)
{
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 1 << 20);
	/* No signals: the reporter is nobody's M, and a SIGURG or a user's
	 * signal must not land in the middle of libdw. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_t t;
	int err = pthread_create(&t, &attr, reporter, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (err == 0)
		pthread_setname_np(t, "gort-traceback");
	return err == 0;
}

#else /* !GORT_HAVE_LIBDW */

static bool start_reporter(void)
{
	return false;
}

#endif

void gort__reporter_start(void)
{
	if (!start_reporter()) {
		atomic_store(&ready, ABSENT);
		return;
	}
	/* Wait for the modules to load: a failure right at start-up then has
	 * its frames, and the descriptors libdw opens are all open (or closed)
	 * before the program's first line runs. */
	while (atomic_load(&ready) == LOADING)
		gort__futexsleep(&ready, LOADING);
}

bool gort__reporter_loaded(void)
{
	/* the reporter loads modules as the program starts: wait for it */
	for (int i = 0; i < 500 && atomic_load(&ready) == LOADING; i++)
		gort__futexsleep_timeout(&ready, LOADING, 10 * 1000 * 1000);
	return atomic_load(&ready) == LOADED;
}

/* ---- Posting a request (any thread; no allocation, no lock) --------------- */

static bool out_of_patience(int64_t start, int64_t patience_ns)
{
	return patience_ns != 0 && gort__realnanotime() - start > patience_ns;
}

/* wait_loaded: false if there is no reporter, or it is still loading after patience_ns. */
static bool wait_loaded(int64_t start, int64_t patience_ns)
{
	for (;;) {
		uint32_t rd = atomic_load(&ready);
		if (rd == ABSENT)
			return false;
		if (rd == LOADED)
			return true;
		if (out_of_patience(start, patience_ns))
			return false;
		gort__futexsleep_timeout(&ready, LOADING, 10 * 1000 * 1000);
	}
}

/* take_slot: false if another request holds the slot for patience_ns. */
static bool take_slot(int64_t start, int64_t patience_ns)
{
	uint32_t zero = 0;
	while (!atomic_compare_exchange_weak(&slotbusy, &zero, 1)) {
		zero = 0;
		if (out_of_patience(start, patience_ns))
			return false;
		gort__osyield();
	}
	return true;
}

bool gort__reporter_call(request *r, int64_t patience_ns)
{
	gort__assert(r->kind >= REQ_TRACEBACK && r->kind <= REQ_FRAMES, "traceback: a request of no kind");
	int64_t start = gort__realnanotime();
	if (!wait_loaded(start, patience_ns) || !take_slot(start, patience_ns))
		return false;
	atomic_store(&slot, r);
	uint32_t seq = atomic_load(&reqseq) + 1;
	atomic_store(&reqseq, seq);
	gort__futexwakeup(&reqseq, 1);
	while (atomic_load(&doneseq) != seq)
		gort__futexsleep(&doneseq, seq - 1);
	atomic_store(&slot, NULL);
	atomic_store(&slotbusy, 0);
	return true;
}
