/*
 * netpoll.h - the poller's types and calls, shared by netpoll.c (the
 * portable half: pollDescs, parking, deadlines), netpoll_epoll.c (the
 * epoll half) and net.c (the net API built on them).
 */
#ifndef GORT_NETPOLL_H
#define GORT_NETPOLL_H

#include "runtime2.h"
#include "timer.h"

/* Why a poll operation returned (Go's pollNoError, pollErrClosing, ...). */
enum {
	pollNoError = 0,
	pollErrClosing = 1,
	pollErrTimeout = 2,
	pollErrInterrupt = 3, /* gort's: a context was done (pollinterrupt) */
};

/* pollDesc.info bits: read with no lock on every operation. */
enum {
	pollClosing = 1 << 0,      /* being closed: every operation fails */
	pollExpiredRead = 1 << 1,  /* the read deadline has passed */
	pollExpiredWrite = 1 << 2, /* the write deadline has passed */
	pollInterruptRead = 1 << 3,  /* a context-aware read must return (net.c) */
	pollInterruptWrite = 1 << 4, /* ... a write, or a connect */
};

typedef struct pollDesc pollDesc;
struct pollDesc {
	pollDesc *link;           /* on the pollcache's free list */
	bool any;                 /* gort_fd_wait's: every event counts as 'r' */
	spinlock evlock;          /* held to apply an event, and to move fdseq on */
	_Atomic uint32_t fdseq;   /* bumped at each free: tags its epoll events */
	_Atomic uint32_t info;    /* pollClosing | pollExpired* */
	_Atomic bool hup;         /* an event said hang-up or error: that state lasts */
	_Atomic uintptr_t rg, wg; /* pdNil, pdReady, pdWait or a parked G (netpoll.c) */
	timer rt, wt;             /* the read and write deadlines */
};

extern _Atomic int32_t gort__netpollWaiters;

/* netpoll.c */
pollDesc *gort__pollalloc(void);
void gort__pollfree(pollDesc *pd);
int gort__pollreset(pollDesc *pd, int mode);
int gort__pollwait(pollDesc *pd, int mode);
bool gort__pollquiet(pollDesc *pd, int mode);
void gort__pollevict(pollDesc *pd);
void gort__pollsetdeadline(pollDesc *pd, int mode, int64_t d);
void gort__pollinterrupt(pollDesc *pd, int mode, bool on);
G *gort__netpollunblock(pollDesc *pd, int mode, bool ioready);

/* netpoll_epoll.c */
int gort__netpollopen(int fd, pollDesc *pd, uint32_t events);
void gort__netpollclose(int fd);

#endif
