/*
 * crawler.c - a web crawler: a bounded pool of fetches over a site of
 * linked pages, per-request timeouts, a global deadline, and the first
 * error canceling everything.  Go's twin: examples/go/crawler/main.go
 * (same flags, same output).
 *
 * The site is served by the program itself on loopback: -pages pages,
 * /p/0 to /p/N-1, each with -links links (the next page, then others
 * spread over the site) - deterministic, so every run fetches the same
 * bytes.  The crawl starts at /p/0:
 *
 *   main      the coordinator: owns the set of pages seen and the queue;
 *             starts a fetch while fewer than -workers are in flight, else
 *             waits for a fetched page (or for the end: select on ctx)
 *   fetch     one page, in an errgroup goroutine (SetLimit(-workers)):
 *             GET over a keep-alive connection from a pool (a channel),
 *             under its own context.WithTimeout(-timeout); its links go
 *             back to main.  A failure ends the group: its context is
 *             canceled and every fetch in flight returns
 *   the site  HTTP/1.1 on gort's net API, a goroutine per connection,
 *             with bufio; -fail N answers page N with 500, -slow N
 *             sleeps -slowfor before answering it (to see the timeout)
 *
 * It prints the pages fetched, the links seen and a checksum (the sum of
 * each body's FNV-1a hash: the order of the fetches does not matter), or
 * the first error and exits 1.  The whole crawl has -deadline.
 *
 *     crawler [-pages 2000] [-links 5] [-workers 8] [-timeout 2s]
 *             [-deadline 60s] [-fail -1] [-slow -1] [-slowfor 5s]
 */
#include "flags.h"
#include <errno.h>
#include <strings.h>

enum { MAX_LINKS = 16, PAGE_MAX = 4096 };

/* ---- the site ---- */

static struct {
	int64_t pages, links, fail, slow, slowfor;
	gort_context *ctx;  /* canceled to shut the site down */
	gort_waitgroup wg;  /* its accept loop and connections */
} site;

/* page i's k'th link: the next page first, so that every page is reachable */
static int64_t site_link(int64_t i, int64_t k)
{
	return k == 0 ? (i + 1) % site.pages : (i * 7919 + k * 104729) % site.pages;
}

static int site_page(int64_t i, char *b, size_t n)
{
	int len = snprintf(b, n, "<html><body><h1>Page %lld</h1>\n<p>", (long long)i);
	for (int64_t w = 0; w < i % 16; w++)
		len += snprintf(b + len, n - len, "lorem ipsum ");
	len += snprintf(b + len, n - len, "</p>\n");
	for (int64_t k = 0; k < site.links; k++)
		len += snprintf(b + len, n - len, "<a href=\"/p/%lld\">page %lld</a>\n",
		                (long long)site_link(i, k), (long long)site_link(i, k));
	return len + snprintf(b + len, n - len, "</body></html>\n");
}

/* One connection: requests in, pages out, until the client closes it. */
static void site_conn(void *arg)
{
	gort_conn *c = arg;
	GORT_FRAME_VOID;
	gort_defer_done(&site.wg);
	gort_defer_close(c);
	gort_bufio_reader *r = gort_bufio_reader_new(c, 0);
	gort_bufio_writer *w = gort_bufio_writer_new(c, 0);
	gort_defer_free(r);
	gort_defer_free(w);
	gort_bufio_reader_set_context(r, site.ctx);
	gort_bufio_writer_set_context(w, site.ctx);
	const char *line;
	char body[PAGE_MAX];
	long n;
	while ((n = gort_bufio_read_line(r, &line)) > 0) {
		long long id = -1;
		if (n > 7 && strncmp(line, "GET /p/", 7) == 0)
			id = strtoll(line + 7, NULL, 10);
		while ((n = gort_bufio_read_line(r, &line)) > 0)
			; /* the headers: nothing in them matters here */
		if (n < 0)
			break;
		if (id == site.slow && gort_sleep_ctx(site.ctx, site.slowfor) != 0)
			break;
		int status = id < 0 || id >= site.pages ? 404 : id == site.fail ? 500 : 200;
		int len = status == 200 ? site_page(id, body, sizeof body)
		                        : snprintf(body, sizeof body, "%s\n", status == 404 ? "404 page not found" : "boom");
		gort_bufio_printf(w, "HTTP/1.1 %d %s\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%.*s",
		                  status, status == 200 ? "OK" : status == 404 ? "Not Found" : "Internal Server Error",
		                  len, len, body);
		if (gort_bufio_flush(w) != 0)
			break;
	}
}

static void site_serve(void *arg)
{
	gort_conn *ln = arg, *c;
	GORT_FRAME_VOID;
	gort_defer_done(&site.wg);
	while (gort_accept_ctx(site.ctx, ln, &c) == 0) { /* until the site shuts down */
		gort_waitgroup_add(&site.wg, 1);
		gort_go(site_conn, c);
	}
}

/* ---- the crawler ---- */

struct client { /* a keep-alive connection, as http.Transport keeps them */
	gort_conn *c;
	gort_bufio_reader *r;
	gort_bufio_writer *w;
};

typedef struct page {
	uint64_t hash;
	int nlinks;
	int64_t links[MAX_LINKS];
} page;
typedef GORT_CHAN(struct client *) client_chan;
typedef GORT_CHAN(page) page_chan;

static struct {
	const char *addr;
	int64_t timeout;
	gort_context *ctx; /* the group's: done at the first error or the deadline */
	client_chan idle;  /* connections between requests */
	page_chan found;
} crawl;

static void client_drop(struct client *cl)
{
	gort_bufio_reader_free(cl->r);
	gort_bufio_writer_free(cl->w);
	gort_conn_close(cl->c);
	free(cl);
}

/* get: GET /p/id into body; its length, or an error in *e. */
static long get(gort_context *ctx, int64_t id, char *body, size_t size, gort_error *e)
{
	struct client *cl;
	long n, status = 0, length = -1;
	if (gort_chan_poll_t(crawl.idle, &cl) != GORT_RECV_VALUE) {
		cl = calloc(1, sizeof *cl);
		if ((n = gort_dial_ctx(ctx, "tcp", crawl.addr, &cl->c)) != 0) {
			free(cl);
			return gort_errorf(e, n, "dial %s", crawl.addr);
		}
		cl->r = gort_bufio_reader_new(cl->c, 0), cl->w = gort_bufio_writer_new(cl->c, 0);
	}
	gort_bufio_reader_set_context(cl->r, ctx);
	gort_bufio_writer_set_context(cl->w, ctx);
	gort_bufio_printf(cl->w, "GET /p/%lld HTTP/1.1\r\nHost: %s\r\n\r\n", (long long)id, crawl.addr);
	const char *line;
	if ((n = gort_bufio_flush(cl->w)) == 0 && (n = gort_bufio_read_line(cl->r, &line)) > 9)
		status = strtol(line + 9, NULL, 10); /* "HTTP/1.1 200 OK" */
	while (n >= 0 && (n = gort_bufio_read_line(cl->r, &line)) > 0)
		if (strncasecmp(line, "Content-Length:", 15) == 0)
			length = strtol(line + 15, NULL, 10);
	if (n >= 0 && (length < 0 || (size_t)length >= size))
		n = -EPROTO;
	if (n >= 0)
		n = gort_bufio_read_full(cl->r, body, (size_t)length, NULL);
	if (n < 0) {
		client_drop(cl); /* a request cut short leaves the stream out of step */
		return gort_errorf(e, (int)n, "GET /p/%lld", (long long)id);
	}
	gort_bufio_reader_set_context(cl->r, NULL); /* ctx ends with this request */
	gort_bufio_writer_set_context(cl->w, NULL);
	if (!gort_chan_trysend_t(crawl.idle, &cl))
		client_drop(cl);
	if (status != 200)
		return gort_error_new(e, "GET /p/%lld: status %ld", (long long)id, status);
	return n;
}

/* fetch is a goroutine of the group: one page, its hash and links to main. */
static int fetch(intptr_t id, gort_error *err)
{
	GORT_FRAME_NORECOVER;
	gort_context *ctx = gort_context_with_timeout(crawl.ctx, crawl.timeout);
	gort_defer_close(ctx); /* defer cancel() */
	char body[PAGE_MAX];
	long n = get(ctx, id, body, sizeof body, err);
	if (n < 0)
		return (int)n;
	page p = {.hash = 14695981039346656037ull};
	for (long k = 0; k < n; k++)
		p.hash = (p.hash ^ (unsigned char)body[k]) * 1099511628211ull;
	body[n] = '\0';
	for (const char *s = body; p.nlinks < MAX_LINKS && (s = strstr(s, "href=\"/p/")) != NULL; s++)
		p.links[p.nlinks++] = strtoll(s + 9, NULL, 10);
	enum { SENT, DONE };
	if (GORT_SELECT([SENT] = GORT_CASE_SEND_T(crawl.found, &p),
	                [DONE] = GORT_CASE_RECV(gort_context_done(crawl.ctx), NULL, NULL)) == DONE)
		return gort_context_err(crawl.ctx);
	return 0;
}

/* The frontier: the pages seen (by number) and the queue of those to fetch. */
static struct {
	bool *seen;
	int64_t *queue, nseen, head, tail;
} frontier;

static void visit(int64_t id)
{
	if (id >= frontier.nseen) {
		int64_t n = 2 * id + 64;
		frontier.seen = realloc(frontier.seen, (size_t)n);
		frontier.queue = realloc(frontier.queue, (size_t)n * sizeof *frontier.queue);
		memset(frontier.seen + frontier.nseen, 0, (size_t)(n - frontier.nseen));
		frontier.nseen = n;
	}
	if (!frontier.seen[id])
		frontier.seen[id] = true, frontier.queue[frontier.tail++] = id;
}

static int run(int argc, char **argv)
{
	int64_t workers = 8, deadline = 60 * GORT_SECOND;
	site.pages = 2000, site.links = 5, site.fail = -1, site.slow = -1, site.slowfor = 5 * GORT_SECOND;
	crawl.timeout = 2 * GORT_SECOND;
	ex_flag flags[] = {
		{"pages", EX_INT, &site.pages, "pages on the site"},
		{"links", EX_INT, &site.links, "links on each page (at most 16)"},
		{"workers", EX_INT, &workers, "fetches in flight at most"},
		{"timeout", EX_DURATION, &crawl.timeout, "time limit of one request"},
		{"deadline", EX_DURATION, &deadline, "time limit of the whole crawl"},
		{"fail", EX_INT, &site.fail, "the page the site answers with 500"},
		{"slow", EX_INT, &site.slow, "the page the site answers after -slowfor"},
		{"slowfor", EX_DURATION, &site.slowfor, "how long the slow page takes"},
	};
	if (!ex_flags_parse(flags, EX_NFLAGS(flags), argc, argv))
		return 2;
	if (site.pages < 1 || site.links < 1 || site.links > MAX_LINKS || workers < 1) {
		fprintf(stderr, "crawler: -pages, -workers and -links (1 to 16) must be positive\n");
		return 2;
	}
	gort_conn *ln;
	int err = gort_listen("tcp", "127.0.0.1:0", &ln);
	if (err != 0) {
		fprintf(stderr, "crawler: listen: %s\n", gort_strerror(err));
		return 1;
	}
	char addr[64];
	gort_conn_local_addr(ln, addr, sizeof addr);
	crawl.addr = addr;
	GORT_FRAME_NORECOVER;
	site.ctx = gort_context_with_cancel(gort_context_background());
	gort_defer_close(site.ctx);
	gort_waitgroup_add(&site.wg, 1);
	gort_go(site_serve, ln);

	gort_context *root = gort_context_with_timeout(gort_context_background(), deadline);
	gort_defer_close(root);
	gort_errgroup *g = gort_errgroup_with_context(root, &crawl.ctx);
	gort_defer_free(g);
	gort_errgroup_set_limit(g, (int)workers);
	crawl.idle = gort_chan_make_t(client_chan, workers);
	crawl.found = gort_chan_make_t(page_chan, 0);
	int64_t inflight = 0, fetched = 0, links = 0;
	uint64_t sum = 0;
	visit(0);
	while (inflight > 0 || frontier.head < frontier.tail) {
		if (frontier.head < frontier.tail && inflight < workers) {
			gort_errgroup_go_int(g, fetch, frontier.queue[frontier.head++]);
			inflight++;
			continue;
		}
		enum { FOUND, DONE };
		page p;
		if (GORT_SELECT([FOUND] = GORT_CASE_RECV_T(crawl.found, &p, NULL),
		                [DONE] = GORT_CASE_RECV(gort_context_done(crawl.ctx), NULL, NULL)) == DONE)
			break;
		inflight--, fetched++, sum += p.hash, links += p.nlinks;
		for (int k = 0; k < p.nlinks; k++)
			visit(p.links[k]);
	}
	err = gort_errgroup_wait(g);
	if (err == 0 && (inflight > 0 || frontier.head < frontier.tail))
		err = gort_context_err(root); /* the deadline passed with no fetch in flight */
	gort_context_cancel(site.ctx); /* srv.Close(), and wait for its goroutines */
	gort_waitgroup_wait(&site.wg);
	gort_conn_close(ln);
	struct client *cl;
	while (gort_chan_poll_t(crawl.idle, &cl) == GORT_RECV_VALUE)
		client_drop(cl);
	if (err != 0) {
		const gort_error *e = gort_errgroup_error(g);
		fprintf(stderr, "crawl: %s (after %lld pages)\n", e != NULL ? e->msg : gort_strerror(err),
		        (long long)fetched);
		return 1;
	}
	printf("crawled %lld pages, %lld links, checksum 0x%016llx\n", (long long)fetched, (long long)links,
	       (unsigned long long)sum);
	return 0;
}

int main(int argc, char **argv)
{
	gort_main(run, argc, argv);
}
