/*
 * net.c - the net API (Go's net package and internal/poll's fd_unix.go).
 *
 * A gort_conn is a non-blocking descriptor with a pollDesc.  Every
 * operation has the shape of Go's poll.FD methods:
 *
 *     pollreset(pd, mode)              forget an edge already consumed
 *     loop:
 *         the system call              read, send, accept4, connect, ...
 *         EAGAIN -> pollwait(pd, mode) park until the next edge, a
 *                                      deadline or a close
 *
 * so a goroutine blocks in the netpoller, never in the kernel, and holds
 * no thread while it waits.
 *
 * Lifetime (Go's fdMutex, simplified): a connection lives in a slot of a
 * type-stable pool and the program holds a handle carrying the slot's
 * generation (handle.h).  Its state word holds that generation (the
 * handle's tag), a closed bit and the count of operations under way, so
 * that an operation checks "this connection, not closed" and counts
 * itself in one compare-and-swap (incref).  Close sets the closed bit (new operations fail with
 * GORT_ECLOSED), evicts the waiters, waits for the count to drain, closes
 * the descriptor - so no operation ever runs on a descriptor number that
 * has been reused - and then frees the slot.  Every later use of the
 * handle, a second Close included, finds the closed bit, or (once the
 * slot holds another connection) another generation, and returns
 * GORT_ECLOSED, as Go's
 * closed net.Conn does, forever.  Close is the free: a program that
 * closes each connection once leaks nothing.  One reader and one writer
 * at a time (rmu, wmu): Go serializes them the same way, which keeps each
 * Write whole.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "context.h"
#include "det.h"
#include "handle.h"
#include "netpoll.h"

/* A connection's state word: its handle's tag (handle.h), and in the bits
 * a tag leaves free: */
#define CONN_CLOSED (UINT64_C(1) << 47)             /* Close has begun */
#define CONN_REF (UINT64_C(1) << 6)                 /* one operation under way */
#define CONN_REFS (HANDLE_ADDR_MASK & ~CONN_CLOSED) /* operations under way, counted in CONN_REF */

typedef struct conn {
	slot hdr;
	/* The handle's tag | CONN_CLOSED | operations under way: a stale
	 * handle reads it (atomically) and finds another tag, or CLOSED. */
	_Atomic uint64_t state;
	int fd;
	int family;            /* AF_INET, AF_INET6, AF_UNIX...; 0: not a socket */
	int sotype;            /* SOCK_STREAM, SOCK_DGRAM; 0: not a socket */
	pollDesc *pd;
	gort_mutex rmu, wmu;   /* one reader, one writer at a time */
	bool drained;          /* the last read emptied the receive queue (rmu) */
} conn;

static slotpool conns = SLOTPOOL_INIT(conn, "connection");

enum { POLL_EVENTS = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET };

/* An operation interrupted because its context is done: never returned
 * as it is, but replaced by the context's error (ctx_end). */
#define EINTERRUPTED (-10100)

static int pollerr(int perr)
{
	if (perr == pollErrInterrupt)
		return EINTERRUPTED;
	return perr == pollErrClosing ? GORT_ECLOSED : GORT_ETIMEOUT;
}

/* ---- contexts (Go's DialContext; the deadline-on-Done idiom) ------------------
 *
 * A context-aware call hooks its context (context.h) for the length of
 * the operation: the hook, run by whoever cancels, sets the pollDesc's
 * interrupt bit for the operation's direction and wakes it, so it returns
 * EINTERRUPTED, which ctx_end turns into the context's error.  Nothing is
 * spawned or armed per call, and the connection's deadlines are not
 * touched.
 */
typedef struct ctxop {
	gort_context *ctx; /* NULL: a call without a context */
	ctxhook hook;
	pollDesc *pd;
	int mode;
} ctxop;

static void interrupt_op(void *arg)
{
	ctxop *op = arg;
	gort__pollinterrupt(op->pd, op->mode, true);
}

/* ctx_begin hooks op's context: 0, or its error if it is done already. */
static int ctx_begin(ctxop *op, pollDesc *pd, int mode)
{
	if (op->ctx == NULL)
		return 0;
	op->pd = pd;
	op->mode = mode;
	op->hook.f = interrupt_op;
	op->hook.arg = op;
	return gort__context_hook(op->ctx, &op->hook);
}

/* ctx_end unhooks (no interrupt can come after), clears an interrupt that
 * came, and gives the result r of the operation, or the context's error. */
static long ctx_end(ctxop *op, long r)
{
	if (op->ctx == NULL)
		return r;
	gort__context_unhook(&op->hook);
	gort__pollinterrupt(op->pd, op->mode, false);
	if (r == EINTERRUPTED)
		r = gort_context_err(op->ctx);
	return r;
}

/* ---- lifetime --------------------------------------------------------------- */

/* incref starts an operation on the connection h names, from a goroutine
 * (api names it): *cp is the connection, counted until decref.  A closed
 * one - closing, or closed and its slot since freed or reused - fails
 * with GORT_ECLOSED. */
static int incref(gort_conn *h, const char *api, conn **cp)
{
	gort__checkpreempt(gort__current_goroutine(api));
	if (gort__det()) /* real I/O: counted (proc_det.c) */
		gort__det_nondet(api);
	if (h == NULL)
		return -EINVAL;
	conn *c = (conn *)handle_slot(h);
	uint64_t w = atomic_load_explicit(&c->state, memory_order_relaxed);
	do {
		if ((w & HANDLE_TAG_MASK) != handle_tag(h) || (w & CONN_CLOSED) != 0)
			return GORT_ECLOSED;
		gort__assert((w & CONN_REFS) != CONN_REFS, "net: too many operations under way on a connection");
	} while (!atomic_compare_exchange_weak_explicit(&c->state, &w, w + CONN_REF, memory_order_acquire,
	                                                memory_order_relaxed));
	*cp = c;
	return 0;
}

static void decref(conn *c)
{
	atomic_fetch_sub_explicit(&c->state, CONN_REF, memory_order_release);
}

/* newconn_keep wraps fd (non-blocking already) and registers it with the
 * poller: *out is its handle, *cp (if not NULL) the connection.  On
 * failure fd is left open. */
static int newconn_keep(int fd, int family, int sotype, gort_conn **out, conn **cp)
{
	void *h;
	conn *c = (conn *)gort__slot_alloc(&conns, &h);
	memset((char *)c + offsetof(conn, fd), 0, sizeof *c - offsetof(conn, fd));
	atomic_store_explicit(&c->state, handle_tag(h), memory_order_release);
	c->fd = fd;
	c->family = family;
	c->sotype = sotype;
	c->pd = gort__pollalloc();
	int err = gort__netpollopen(fd, c->pd, POLL_EVENTS);
	if (err != 0) {
		gort__pollfree(c->pd);
		atomic_store_explicit(&c->state, handle_tag(h) | CONN_CLOSED, memory_order_relaxed);
		gort__slot_kill(h);
		gort__slot_release(&conns, &c->hdr);
		return -err;
	}
	*out = h;
	if (cp != NULL)
		*cp = c;
	return 0;
}

/* newconn: newconn_keep for a descriptor of our own, closed on failure. */
static int newconn(int fd, int family, int sotype, gort_conn **out, conn **cp)
{
	int err = newconn_keep(fd, family, sotype, out, cp);
	if (err != 0)
		close(fd);
	return err;
}

/*
 * gort_conn_close, in Go's order: mark closed, wake the waiters, wait for
 * every operation under way to let go, then take the descriptor out of the
 * poller and close it, and free the slot.  Of two closes, the second finds
 * the closed bit (or, once the first is done, a generation not its own):
 * GORT_ECLOSED, at once.
 */
int gort_conn_close(gort_conn *h)
{
	gort__current_goroutine("gort_conn_close");
	if (h == NULL)
		return -EINVAL;
	conn *c = (conn *)handle_slot(h);
	uint64_t w = atomic_load_explicit(&c->state, memory_order_relaxed);
	do {
		if ((w & HANDLE_TAG_MASK) != handle_tag(h) || (w & CONN_CLOSED) != 0)
			return GORT_ECLOSED;
	} while (!atomic_compare_exchange_weak_explicit(&c->state, &w, w | CONN_CLOSED, memory_order_acq_rel,
	                                                memory_order_relaxed));
	gort__pollevict(c->pd);
	while ((atomic_load_explicit(&c->state, memory_order_acquire) & CONN_REFS) != 0)
		gort_gosched(); /* the evicted are on their way out */
	gort__netpollclose(c->fd);
	gort__pollfree(c->pd);
	c->pd = NULL;
	int err = close(c->fd) == 0 ? 0 : -errno;
	c->fd = -1;
	bool killed = gort__slot_kill(h);
	gort__assert(killed, "net: a closing connection's slot changed hands");
	gort__slot_release(&conns, &c->hdr);
	return err;
}

/* ---- addresses ---------------------------------------------------------------- */

typedef struct netspec {
	int sotype; /* SOCK_STREAM or SOCK_DGRAM */
	int family; /* AF_INET, AF_INET6, or 0 for either */
} netspec;

static int parse_network(const char *network, netspec *ns)
{
	static const struct {
		const char *name;
		netspec ns;
	} nets[] = {
	    {"tcp", {SOCK_STREAM, 0}},  {"tcp4", {SOCK_STREAM, AF_INET}}, {"tcp6", {SOCK_STREAM, AF_INET6}},
	    {"udp", {SOCK_DGRAM, 0}},   {"udp4", {SOCK_DGRAM, AF_INET}},  {"udp6", {SOCK_DGRAM, AF_INET6}},
	};
	for (size_t i = 0; network != NULL && i < sizeof nets / sizeof nets[0]; i++) {
		if (strcmp(network, nets[i].name) == 0) {
			*ns = nets[i].ns;
			return 0;
		}
	}
	return GORT_ENETWORK;
}

/* split_hostport: "host:port", "[v6]:port", ":port" (host empty). */
static int split_hostport(const char *address, char *host, size_t hostn, int *port)
{
	if (address == NULL)
		return GORT_EADDR;
	const char *colon = strrchr(address, ':');
	if (colon == NULL)
		return GORT_EADDR; /* Go: "missing port in address" */
	const char *h = address;
	size_t hl = (size_t)(colon - address);
	if (hl > 0 && h[0] == '[') {
		if (h[hl - 1] != ']')
			return GORT_EADDR;
		h++;
		hl -= 2;
	} else if (memchr(h, ':', hl) != NULL) {
		return GORT_EADDR; /* Go: "too many colons in address" */
	}
	if (hl >= hostn)
		return GORT_EADDR;
	memcpy(host, h, hl);
	host[hl] = '\0';
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || p < 0 || p > 65535)
		return GORT_EADDR;
	*port = (int)p;
	return 0;
}

/* A resolved address list: the numeric one, or getaddrinfo's. */
typedef struct addrlist {
	struct sockaddr_storage one;
	socklen_t onelen;
	struct addrinfo *ai; /* non-NULL: the list to try, in order */
} addrlist;

static bool numeric_host(const char *host, int port, int family, addrlist *al)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&al->one;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&al->one;
	memset(&al->one, 0, sizeof al->one);
	if (family != AF_INET6 && inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		al->onelen = sizeof *in4;
		return true;
	}
	if (family != AF_INET && inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		al->onelen = sizeof *in6;
		return true;
	}
	return false;
}

/*
 * resolve turns address into socket addresses for ns.  An empty host means
 * every local address to listen on, or this machine to dial; a name goes
 * to getaddrinfo in a system call (it may block on DNS).
 */
static int resolve(const netspec *ns, const char *address, bool listen, addrlist *al)
{
	char host[256];
	int port;
	int err = split_hostport(address, host, sizeof host, &port);
	if (err != 0)
		return err;
	al->ai = NULL;
	if (host[0] == '\0') {
		const char *any = ns->family == AF_INET6 ? (listen ? "::" : "::1")
		                  : ns->family == AF_INET ? (listen ? "0.0.0.0" : "127.0.0.1")
		                  : (listen ? "::" : "127.0.0.1");
		numeric_host(any, port, ns->family, al);
		return 0;
	}
	if (numeric_host(host, port, ns->family, al))
		return 0;
	char service[8];
	snprintf(service, sizeof service, "%d", port);
	struct addrinfo hints = {.ai_family = ns->family, .ai_socktype = ns->sotype};
	return gort_getaddrinfo(host, service, &hints, &al->ai);
}

static int format_addr(const struct sockaddr_storage *ss, char *buf, size_t n)
{
	char ip[INET6_ADDRSTRLEN];
	int len;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in4 = (const void *)ss;
		inet_ntop(AF_INET, &in4->sin_addr, ip, sizeof ip);
		len = snprintf(buf, n, "%s:%d", ip, ntohs(in4->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
		len = snprintf(buf, n, "[%s]:%d", ip, ntohs(in6->sin6_port));
	} else {
		len = snprintf(buf, n, "%s", "");
	}
	return (size_t)len < n ? len : -ENOSPC;
}

/* ---- sockets ------------------------------------------------------------------ */

static int new_socket(int family, int sotype)
{
	int fd = socket(family, sotype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	return fd >= 0 ? fd : -errno;
}

static void set_nodelay(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Linux's limit on a listen backlog, as Go reads it (capped as Go does). */
static int somaxconn(void)
{
	int n = 4096;
	FILE *f = fopen("/proc/sys/net/core/somaxconn", "re");
	if (f != NULL) {
		if (fscanf(f, "%d", &n) != 1 || n <= 0)
			n = 4096;
		fclose(f);
	}
	return n > 65535 ? 65535 : n;
}

/* bind_socket makes a socket bound to sa (listening, if stream). */
static int bind_socket(const netspec *ns, const struct sockaddr *sa, socklen_t salen, gort_conn **out)
{
	int fd = new_socket(sa->sa_family, ns->sotype);
	if (fd < 0)
		return fd;
	int one = 1, zero = 0;
	if (ns->sotype == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (sa->sa_family == AF_INET6 && ns->family == 0)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero); /* dual stack */
	if (bind(fd, sa, salen) != 0 || (ns->sotype == SOCK_STREAM && listen(fd, somaxconn()) != 0)) {
		int err = -errno;
		close(fd);
		return err;
	}
	return newconn(fd, sa->sa_family, ns->sotype, out, NULL);
}

static int listen_on(const char *network, const char *address, int sotype, gort_conn **out, const char *api)
{
	gort__current_goroutine(api);
	netspec ns;
	int err = parse_network(network, &ns);
	if (err == 0 && ns.sotype != sotype)
		err = GORT_ENETWORK;
	addrlist al;
	if (err == 0)
		err = resolve(&ns, address, true, &al);
	if (err != 0)
		return err;
	if (al.ai == NULL) {
		err = bind_socket(&ns, (struct sockaddr *)&al.one, al.onelen, out);
		if (err == -EAFNOSUPPORT && ns.family == 0 && al.one.ss_family == AF_INET6) {
			/* no IPv6 here: every IPv4 address instead */
			numeric_host("0.0.0.0", ntohs(((struct sockaddr_in6 *)&al.one)->sin6_port), AF_INET, &al);
			err = bind_socket(&ns, (struct sockaddr *)&al.one, al.onelen, out);
		}
		return err;
	}
	err = bind_socket(&ns, al.ai->ai_addr, al.ai->ai_addrlen, out);
	freeaddrinfo(al.ai);
	return err;
}

int gort_listen(const char *network, const char *address, gort_conn **ln)
{
	return listen_on(network, address, SOCK_STREAM, ln, "gort_listen");
}

int gort_listen_packet(const char *network, const char *address, gort_conn **c)
{
	return listen_on(network, address, SOCK_DGRAM, c, "gort_listen_packet");
}

static int accept_conn(gort_conn *h, gort_conn **out, ctxop *op, const char *api)
{
	conn *ln;
	int err = incref(h, api, &ln);
	if (err != 0)
		return err;
	gort_mutex_lock(&ln->rmu);
	err = ctx_begin(op, ln->pd, 'r');
	int perr = err != 0 ? pollNoError : gort__pollreset(ln->pd, 'r');
	while (err == 0 && perr == pollNoError) {
		int fd = accept4(ln->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			set_nodelay(fd);
			err = newconn(fd, ln->family, SOCK_STREAM, out, NULL);
			break;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue; /* as Go: the peer gave up; take the next */
		if (errno != EAGAIN) {
			err = -errno;
			break;
		}
		perr = gort__pollwait(ln->pd, 'r');
	}
	if (perr != pollNoError)
		err = pollerr(perr);
	err = (int)ctx_end(op, err);
	gort_mutex_unlock(&ln->rmu);
	decref(ln);
	return err;
}

int gort_accept(gort_conn *ln, gort_conn **out)
{
	ctxop op = {.ctx = NULL};
	return accept_conn(ln, out, &op, "gort_accept");
}

int gort_accept_ctx(gort_context *ctx, gort_conn *ln, gort_conn **out)
{
	ctxop op = {.ctx = gort_context_retain(ctx)};
	int err = accept_conn(ln, out, &op, "gort_accept_ctx");
	gort_context_release(ctx);
	return err;
}

/*
 * connect_wait: a non-blocking connect under way; wait for it to finish
 * (writable), then ask the socket how it went.
 */
static int connect_wait(conn *c)
{
	for (;;) {
		int perr = gort__pollwait(c->pd, 'w');
		if (perr != pollNoError)
			return pollerr(perr);
		int soerr = 0;
		socklen_t len = sizeof soerr;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
			return -errno;
		if (soerr == 0)
			return 0;
		if (soerr != EINPROGRESS && soerr != EALREADY && soerr != EINTR)
			return -soerr;
	}
}

/* dial_one connects a new socket to sa, giving up at deadline (0: never). */
static int dial_one(const netspec *ns, const struct sockaddr *sa, socklen_t salen, int64_t deadline,
                    gort_context *ctx, gort_conn **out)
{
	int fd = new_socket(sa->sa_family, ns->sotype);
	if (fd < 0)
		return fd;
	gort_conn *h;
	conn *c;
	int err = newconn(fd, sa->sa_family, ns->sotype, &h, &c);
	if (err != 0)
		return err;
	if (deadline != 0)
		gort__pollsetdeadline(c->pd, 'w', deadline);
	ctxop op = {.ctx = ctx};
	err = ctx_begin(&op, c->pd, 'w');
	if (err == 0 && connect(fd, sa, salen) != 0)
		err = errno == EINPROGRESS || errno == EINTR ? connect_wait(c) : -errno;
	err = (int)ctx_end(&op, err);
	if (deadline != 0)
		gort__pollsetdeadline(c->pd, 'w', 0);
	if (err != 0) {
		gort_conn_close(h);
		return err;
	}
	if (ns->sotype == SOCK_STREAM)
		set_nodelay(fd);
	*out = h;
	return 0;
}

static int dial(const char *network, const char *address, int64_t deadline, gort_context *ctx,
                gort_conn **out, const char *api)
{
	gort__current_goroutine(api);
	netspec ns;
	addrlist al;
	int err = parse_network(network, &ns);
	if (err == 0)
		err = resolve(&ns, address, false, &al);
	if (err != 0)
		return err;
	if (al.ai == NULL)
		return dial_one(&ns, (struct sockaddr *)&al.one, al.onelen, deadline, ctx, out);
	err = GORT_ENOHOST;
	for (struct addrinfo *ai = al.ai; ai != NULL; ai = ai->ai_next) {
		err = dial_one(&ns, ai->ai_addr, ai->ai_addrlen, deadline, ctx, out);
		if (err == 0 || err == GORT_ETIMEOUT || err == GORT_ECANCELED || err == GORT_EDEADLINE)
			break; /* the deadline, or the context, covers the whole dial, as Go's */
	}
	freeaddrinfo(al.ai);
	return err;
}

int gort_dial(const char *network, const char *address, gort_conn **c)
{
	return dial(network, address, 0, NULL, c, "gort_dial");
}

int gort_dial_timeout(const char *network, const char *address, int64_t timeout, gort_conn **c)
{
	if (timeout <= 0)
		return dial(network, address, 0, NULL, c, "gort_dial_timeout");
	return dial(network, address, gort__nanotime() + timeout, NULL, c, "gort_dial_timeout");
}

/* DialContext: a context done already fails before any lookup, as Go's. */
int gort_dial_ctx(gort_context *ctx, const char *network, const char *address, gort_conn **c)
{
	gort__current_goroutine("gort_dial_ctx");
	int err = gort_context_err(ctx);
	if (err != 0)
		return err;
	gort_context_retain(ctx);
	err = dial(network, address, 0, ctx, c, "gort_dial_ctx");
	gort_context_release(ctx);
	return err;
}

int gort_conn_from_fd(int fd, gort_conn **out)
{
	gort__current_goroutine("gort_conn_from_fd");
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
		return -errno;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	int sotype = 0;
	socklen_t tlen = sizeof sotype;
	int family = 0;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &sotype, &tlen) == 0)
		family = ss.ss_family;
	else
		sotype = 0;
	int err = newconn_keep(fd, family, sotype, out, NULL);
	if (err != 0)
		fcntl(fd, F_SETFL, flags); /* leave it as it was */
	return err;
}

/* ---- reading and writing -------------------------------------------------------- */

static ssize_t sys_write(conn *c, const void *buf, size_t n, const struct sockaddr *to,
                         socklen_t tolen)
{
	if (c->sotype == 0)
		return gort__write_nosigpipe(c->fd, buf, n);
	return sendto(c->fd, buf, n, MSG_NOSIGNAL, to, tolen);
}

/*
 * retry_after: c's read or write (mode 'r' or 'w') just failed with errno.
 * Returns 0 to try the call again - it was interrupted, or it would have
 * blocked and c is now ready, after parking in the poller - or the error
 * to return: -errno, or the deadline's or the close's.
 */
static long retry_after(conn *c, int mode)
{
	if (errno == EINTR)
		return 0;
	if (errno != EAGAIN)
		return -errno;
	int perr = gort__pollwait(c->pd, mode);
	return perr == pollNoError ? 0 : pollerr(perr);
}

/*
 * read_start begins a read, as Go's prepareRead: forget an edge the last
 * read consumed - unless that read emptied a stream's receive queue and no
 * edge has come since.  Then nothing has arrived: the read would only say
 * EAGAIN, so park at once (a request/response server saves one system
 * call in three).  An arrival after that read makes an edge, and the edge
 * sets the word to pdReady, so this never sleeps through data: at worst it
 * waits for the next netpoll to hand it over.  The end of the stream is not
 * an arrival to wait for - a short read may have consumed the FIN whose
 * edge came before it - so once the poller has seen a hang-up or an error
 * (pollquiet), reads always try the call.
 */
static int read_start(conn *c)
{
	if (c->drained && gort__pollquiet(c->pd, 'r')) {
		c->drained = false;
		return gort__pollwait(c->pd, 'r');
	}
	return gort__pollreset(c->pd, 'r');
}

static long fd_read(conn *c, void *buf, size_t n, struct sockaddr_storage *from)
{
	int perr = read_start(c);
	if (perr != pollNoError)
		return pollerr(perr);
	if (n == 0 && c->sotype != SOCK_DGRAM)
		return 0;
	for (;;) {
		socklen_t fromlen = sizeof *from;
		ssize_t r = from != NULL ? recvfrom(c->fd, buf, n, 0, (struct sockaddr *)from, &fromlen)
		                         : read(c->fd, buf, n);
		if (r >= 0) {
			/* A short read of a stream took all there was. */
			c->drained = c->sotype == SOCK_STREAM && r > 0 && (size_t)r < n;
			return r;
		}
		long err = retry_after(c, 'r');
		if (err != 0)
			return err;
	}
}

/* fd_write writes all of buf (a datagram: at once), waiting as needed. */
static long fd_write(conn *c, const void *buf, size_t n, const struct sockaddr *to,
                     socklen_t tolen)
{
	int perr = gort__pollreset(c->pd, 'w');
	if (perr != pollNoError)
		return pollerr(perr);
	size_t done = 0;
	do {
		ssize_t r = sys_write(c, (const char *)buf + done, n - done, to, tolen);
		if (r >= 0) {
			done += (size_t)r;
			if (c->sotype == SOCK_DGRAM)
				return r;
			if (r == 0 && n > 0)
				return -EIO;
			continue;
		}
		long err = retry_after(c, 'w');
		if (err != 0)
			return err;
	} while (done < n);
	return (long)n;
}

static long conn_read(gort_conn *h, void *buf, size_t n, ctxop *op, const char *api)
{
	conn *c;
	int err = incref(h, api, &c);
	if (err != 0)
		return err;
	gort_mutex_lock(&c->rmu);
	long r = ctx_begin(op, c->pd, 'r');
	if (r == 0)
		r = ctx_end(op, fd_read(c, buf, n, NULL));
	gort_mutex_unlock(&c->rmu);
	decref(c);
	return r;
}

static long conn_write(gort_conn *h, const void *buf, size_t n, ctxop *op, const char *api)
{
	conn *c;
	int err = incref(h, api, &c);
	if (err != 0)
		return err;
	gort_mutex_lock(&c->wmu);
	long r = ctx_begin(op, c->pd, 'w');
	if (r == 0)
		r = ctx_end(op, fd_write(c, buf, n, NULL, 0));
	gort_mutex_unlock(&c->wmu);
	decref(c);
	return r;
}

long gort_conn_read(gort_conn *c, void *buf, size_t n)
{
	ctxop op = {.ctx = NULL};
	return conn_read(c, buf, n, &op, "gort_conn_read");
}

long gort_conn_write(gort_conn *c, const void *buf, size_t n)
{
	ctxop op = {.ctx = NULL};
	return conn_write(c, buf, n, &op, "gort_conn_write");
}

/* The caller holds ctx; the extra reference covers a release by another
 * goroutine while this one waits (which would be a misuse anyway). */
long gort_conn_read_ctx(gort_context *ctx, gort_conn *c, void *buf, size_t n)
{
	ctxop op = {.ctx = gort_context_retain(ctx)};
	long r = conn_read(c, buf, n, &op, "gort_conn_read_ctx");
	gort_context_release(ctx);
	return r;
}

long gort_conn_write_ctx(gort_context *ctx, gort_conn *c, const void *buf, size_t n)
{
	ctxop op = {.ctx = gort_context_retain(ctx)};
	long r = conn_write(c, buf, n, &op, "gort_conn_write_ctx");
	gort_context_release(ctx);
	return r;
}

long gort_conn_readfrom(gort_conn *h, void *buf, size_t n, struct sockaddr_storage *from)
{
	conn *c;
	int err = incref(h, "gort_conn_readfrom", &c);
	if (err != 0)
		return err;
	struct sockaddr_storage ignored;
	gort_mutex_lock(&c->rmu);
	long r = c->sotype == 0 ? -ENOTSOCK : fd_read(c, buf, n, from != NULL ? from : &ignored);
	gort_mutex_unlock(&c->rmu);
	decref(c);
	return r;
}

long gort_conn_writeto(gort_conn *h, const void *buf, size_t n, const struct sockaddr *to, unsigned tolen)
{
	conn *c;
	int err = incref(h, "gort_conn_writeto", &c);
	if (err != 0)
		return err;
	gort_mutex_lock(&c->wmu);
	long r = c->sotype != SOCK_DGRAM ? -EOPNOTSUPP : fd_write(c, buf, n, to, (socklen_t)tolen);
	gort_mutex_unlock(&c->wmu);
	decref(c);
	return r;
}

int gort_conn_close_write(gort_conn *h)
{
	conn *c;
	int err = incref(h, "gort_conn_close_write", &c);
	if (err != 0)
		return err;
	err = shutdown(c->fd, SHUT_WR) == 0 ? 0 : -errno;
	decref(c);
	return err;
}

/* ---- deadlines and addresses ----------------------------------------------------- */

static int set_deadline(gort_conn *h, int mode, int64_t t, const char *api)
{
	conn *c;
	int err = incref(h, api, &c);
	if (err != 0)
		return err;
	gort__pollsetdeadline(c->pd, mode, t);
	decref(c);
	return 0;
}

int gort_conn_set_deadline(gort_conn *c, int64_t t)
{
	return set_deadline(c, 'r' + 'w', t, "gort_conn_set_deadline");
}

int gort_conn_set_read_deadline(gort_conn *c, int64_t t)
{
	return set_deadline(c, 'r', t, "gort_conn_set_read_deadline");
}

int gort_conn_set_write_deadline(gort_conn *c, int64_t t)
{
	return set_deadline(c, 'w', t, "gort_conn_set_write_deadline");
}

static int conn_addr(gort_conn *h, bool remote, struct sockaddr_storage *ss, const char *api)
{
	conn *c;
	int err = incref(h, api, &c);
	if (err != 0)
		return err;
	socklen_t len = sizeof *ss;
	memset(ss, 0, sizeof *ss);
	int rc = remote ? getpeername(c->fd, (struct sockaddr *)ss, &len)
	                : getsockname(c->fd, (struct sockaddr *)ss, &len);
	err = rc == 0 ? 0 : -errno;
	decref(c);
	return err;
}

int gort_conn_local_addr(gort_conn *c, char *buf, size_t n)
{
	struct sockaddr_storage ss;
	int err = conn_addr(c, false, &ss, "gort_conn_local_addr");
	return err != 0 ? err : format_addr(&ss, buf, n);
}

int gort_conn_remote_addr(gort_conn *c, char *buf, size_t n)
{
	struct sockaddr_storage ss;
	int err = conn_addr(c, true, &ss, "gort_conn_remote_addr");
	return err != 0 ? err : format_addr(&ss, buf, n);
}

int gort_conn_port(gort_conn *c)
{
	struct sockaddr_storage ss;
	int err = conn_addr(c, false, &ss, "gort_conn_port");
	if (err != 0)
		return err;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -EAFNOSUPPORT;
}

/* The descriptor of a closed connection may be another's by now: none. */
int gort_conn_fd(gort_conn *h)
{
	conn *c;
	int err = incref(h, "gort_conn_fd", &c);
	if (err != 0)
		return err;
	int fd = c->fd;
	decref(c);
	return fd;
}

/* ---- any descriptor (Go's RawConn) ------------------------------------------------ */

static int ready_now(int fd, int events)
{
	struct pollfd p = {.fd = fd, .events = (short)((events & GORT_READABLE ? POLLIN : 0) |
	                                                 (events & GORT_WRITABLE ? POLLOUT : 0))};
	int n = poll(&p, 1, 0);
	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	if (p.revents & POLLNVAL)
		return -EBADF;
	if (p.revents & (POLLERR | POLLHUP))
		return events;
	return (p.revents & POLLIN ? GORT_READABLE : 0) | (p.revents & POLLOUT ? GORT_WRITABLE : 0);
}

/*
 * park_on_fd parks until fd has one of events or the deadline passes.  fd
 * may already be in the poller (a gort_conn's) or be waited on by other
 * goroutines, so this waiter registers a duplicate of it - its own entry
 * in the epoll set, one-shot - and removes it after.
 */
static int park_on_fd(int fd, int events, int64_t deadline)
{
	int dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dupfd < 0)
		return -errno;
	pollDesc *pd = gort__pollalloc();
	pd->any = true;
	uint32_t ev = EPOLLET | EPOLLONESHOT | (events & GORT_READABLE ? EPOLLIN | EPOLLRDHUP : 0) |
	              (events & GORT_WRITABLE ? EPOLLOUT : 0);
	int err = gort__netpollopen(dupfd, pd, ev);
	if (err == 0) {
		if (deadline != 0)
			gort__pollsetdeadline(pd, 'r', deadline);
		int perr = gort__pollwait(pd, 'r');
		err = perr == pollNoError ? 0 : pollerr(perr);
		gort__netpollclose(dupfd);
	} else {
		err = -err;
	}
	gort__pollfree(pd);
	close(dupfd);
	return err;
}

int gort_fd_wait(int fd, int events, int64_t deadline)
{
	gort__checkpreempt(gort__current_goroutine("gort_fd_wait"));
	if (gort__det())
		gort__det_nondet("gort_fd_wait");
	if (events == 0 || (events & ~(GORT_READABLE | GORT_WRITABLE)) != 0)
		return -EINVAL;
	for (;;) {
		int r = ready_now(fd, events);
		if (r != 0)
			return r;
		if (deadline != 0 && deadline <= gort__nanotime())
			return GORT_ETIMEOUT;
		int err = park_on_fd(fd, events, deadline);
		if (err != 0)
			return err;
	}
}
