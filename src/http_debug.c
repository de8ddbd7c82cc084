/*
 * http_debug.c - Go's debug endpoints (net/http/pprof's handlers and
 * expvar's /debug/vars), served by a small HTTP/1.1 server on gort's own
 * net API.
 *
 *   gort_debug_serve        listen on addr, then serve from a goroutine
 *   gort__debug_serve_env   GORT_DEBUG_ADDR at start-up (runmain)
 *
 *   /debug/pprof/             Index: the table of profiles and their counts
 *   /debug/pprof/<name>       Handler(name): ?debug=N, the text forms;
 *                             ?seconds=N, the delta over N seconds
 *   /debug/pprof/profile      Profile: ?seconds=N (30) of CPU profile
 *   /debug/pprof/trace        Trace: ?seconds=N (1) of execution trace
 *   /debug/pprof/cmdline      Cmdline
 *   /debug/vars               expvar.Handler: cmdline, memstats, gort's metrics
 *   /debug/gort/              gort's live console (console.c): the page
 *   /debug/gort/data          ... and the JSON it reads once a second
 *
 * The server is built to be left running where anyone on the host may poke
 * it: one goroutine per connection, one request per connection (every
 * answer says Connection: close, which every client handles), the head
 * read under a 10 s deadline into a fixed 8 KiB buffer (a longer head gets
 * 431, a malformed one Go's 400, and the connection closes), the answer
 * built whole in memory and written under a deadline of its own.  A client
 * that vanishes costs a goroutine until its deadline.  What a request asks
 * for is parsed here, just enough: the request line (method, target,
 * HTTP/1.x), header lines that are name: value, and the query string's
 * seconds and debug.  The answers' headers and status texts are Go's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pprof.h"

enum {
	MAXHEAD = 8 << 10,
	HEAD_TIMEOUT_S = 10,
	WRITE_TIMEOUT_S = 60,
	MAX_SECONDS = 3600, /* a profile or trace longer than an hour is a typo */
	LINGER_MS = 500,    /* Go's rstAvoidanceDelay */
};

static void serve_conn(void *arg);
static void accept_loop(void *arg);

/* ---- the answers ---------------------------------------------------------------- */

typedef struct answer {
	int status;               /* 200, 400, 404, 500 */
	const char *type;         /* Content-Type */
	const char *disposition;  /* the profile's file name, or NULL */
	char dispbuf[32];         /* a file name made for the answer */
	pbuf body;
} answer;

static const char *statustext(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 500: return "Internal Server Error";
	}
	return "Error";
}

/* serveerror: Go's serveError - text/plain, the message and a newline. */
static void serveerror(answer *a, int status, const char *msg)
{
	a->status = status;
	a->type = "text/plain; charset=utf-8";
	a->disposition = NULL;
	a->body.len = 0;
	gort__pbuf_printf(&a->body, "%s\n", msg);
}

static const char TEXT[] = "text/plain; charset=utf-8";
static const char BINARY[] = "application/octet-stream";

/* ---- the query ------------------------------------------------------------------ */

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
	     : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* formvalue: the first value of key in query (url.Values.Get), unescaped
 * into buf; false if absent. */
static bool formvalue(const char *query, const char *key, char *buf, size_t n)
{
	size_t klen = strlen(key);
	for (const char *p = query; p != NULL && *p; p = strchr(p, '&'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, klen) != 0 || (p[klen] != '=' && p[klen] != '&' && p[klen] != '\0'))
			continue;
		const char *v = p[klen] == '=' ? p + klen + 1 : p + klen;
		size_t k = 0;
		for (; *v && *v != '&' && k + 1 < n; v++) {
			if (*v == '+') {
				buf[k++] = ' ';
			} else if (*v == '%' && hexval(v[1]) >= 0 && hexval(v[2]) >= 0) {
				buf[k++] = (char)(hexval(v[1]) * 16 + hexval(v[2]));
				v += 2;
			} else {
				buf[k++] = *v;
			}
		}
		buf[k] = '\0';
		return true;
	}
	return false;
}

/* atoi_go: strconv.Atoi's value, or dflt when s is not a whole number. */
static long atoi_go(const char *s, long dflt, bool *ok)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	*ok = *s != '\0' && *end == '\0' && errno == 0;
	return *ok ? v : dflt;
}

/* ---- the handlers ---------------------------------------------------------------- */

/* readfile: the whole of a (/proc) file appended to out; nothing if it
 * cannot be opened. */
void gort__readfile(const char *path, pbuf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		gort__pbuf_put(out, buf, (size_t)n);
	close(fd);
}

/* cmdline: os.Args joined by NUL: /proc/self/cmdline, less its final NUL. */
static void cmdline(answer *a)
{
	a->type = TEXT;
	gort__readfile("/proc/self/cmdline", &a->body);
	if (a->body.len > 0 && a->body.p[a->body.len - 1] == '\0')
		a->body.len--;
}

static void htmlescape(pbuf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': gort__pbuf_puts(b, "&lt;"); break;
		case '>': gort__pbuf_puts(b, "&gt;"); break;
		case '&': gort__pbuf_puts(b, "&amp;"); break;
		case '\'': gort__pbuf_puts(b, "&#39;"); break;
		case '"': gort__pbuf_puts(b, "&#34;"); break;
		default: gort__pbuf_put(b, s, 1);
		}
	}
}

/* index: net/http/pprof's Index page, byte for byte but for the profiles
 * gort has (no heap, no allocs: gort does not own the program's malloc)
 * and one line more, the link to gort's console. */
static void indexpage(answer *a)
{
	static const char *const extra[][2] = {
		{"cmdline", "The command line invocation of the current program"},
		{"profile", "CPU profile. You can specify the duration in the seconds GET parameter. "
		            "After you get the profile file, use the go tool pprof command to "
		            "investigate the profile."},
		{"trace", "A trace of execution of the current program. You can specify the duration "
		          "in the seconds GET parameter. After you get the trace file, use the go tool "
		          "trace command to investigate the trace."},
	};
	pbuf *b = &a->body;
	a->type = "text/html; charset=utf-8";
	gort__pbuf_puts(b, "<html>\n<head>\n<title>/debug/pprof/</title>\n<style>\n.profile-name{\n"
	                   "\tdisplay:inline-block;\n\twidth:6rem;\n}\n</style>\n</head>\n<body>\n"
	                   "/debug/pprof/<br>\n<br>\nTypes of profiles available:\n<table>\n"
	                   "<thead><td>Count</td><td>Profile</td></thead>\n");
	for (int i = 0; gort__pprof_names[i] != NULL; i++)
		gort__pbuf_printf(b, "<tr><td>%d</td><td><a href='%s?debug=1'>%s</a></td></tr>\n",
		                  gort__pprof_count(gort__pprof_names[i]), gort__pprof_names[i],
		                  gort__pprof_names[i]);
	for (int i = 0; i < 3; i++)
		gort__pbuf_printf(b, "<tr><td>0</td><td><a href='%s?debug=1'>%s</a></td></tr>\n",
		                  extra[i][0], extra[i][0]);
	/* Go's page, and a link to gort's console after the dump's */
	gort__pbuf_puts(b, "</table>\n<a href=\"goroutine?debug=2\">full goroutine stack dump</a>\n"
	                   "<br>\n<a href=\"/debug/gort/\">live console of the runtime (gort)</a>\n"
	                   "<br>\n<p>\nProfile Descriptions:\n<ul>\n");
	for (int i = 0; gort__pprof_names[i] != NULL; i++) {
		gort__pbuf_printf(b, "<li><div class=profile-name>%s: </div> ", gort__pprof_names[i]);
		htmlescape(b, gort__pprof_help[i]);
		gort__pbuf_puts(b, "</li>\n");
	}
	for (int i = 0; i < 3; i++) {
		gort__pbuf_printf(b, "<li><div class=profile-name>%s: </div> ", extra[i][0]);
		htmlescape(b, extra[i][1]);
		gort__pbuf_puts(b, "</li>\n");
	}
	gort__pbuf_puts(b, "</ul>\n</p>\n</body>\n</html>");
}

/* traceseconds: Trace's seconds parameter (a float), as ns; not a
 * positive number: 1 s, Go's default. */
static int64_t traceseconds(const char *query)
{
	char v[32];
	if (!formvalue(query, "seconds", v, sizeof v))
		return GORT_SECOND;
	char *end;
	double s = strtod(v, &end);
	if (*v == '\0' || *end != '\0' || !(s > 0))
		return GORT_SECOND;
	return (int64_t)((s > MAX_SECONDS ? MAX_SECONDS : s) * 1e9);
}

static void cpuprofile(answer *a, const char *query)
{
	char v[32];
	bool ok = true;
	int64_t sec = 30;
	if (formvalue(query, "seconds", v, sizeof v))
		sec = atoi_go(v, 30, &ok);
	if (!ok || sec <= 0)
		sec = 30;
	if (sec > MAX_SECONDS)
		sec = MAX_SECONDS;
	int err = gort__pprof_cpu_start(-1, 100);
	if (err != 0) {
		char msg[128];
		snprintf(msg, sizeof msg, "Could not enable CPU profiling: %s", gort_strerror(err));
		serveerror(a, 500, msg);
		return;
	}
	gort_sleep(sec * GORT_SECOND);
	err = gort__pprof_cpu_stop(&a->body, NULL);
	if (err != 0) {
		serveerror(a, 500, gort_strerror(err));
		return;
	}
	a->type = BINARY;
	a->disposition = "profile";
}

static void traceprofile(answer *a, const char *query)
{
	int64_t ns = traceseconds(query);
	int fd = memfd_create("gort-debug-trace", MFD_CLOEXEC);
	if (fd < 0) {
		serveerror(a, 500, "Could not enable tracing: cannot make a file for it");
		return;
	}
	int err = gort_trace_start(fd);
	if (err != 0) {
		char msg[128];
		snprintf(msg, sizeof msg, "Could not enable tracing: %s", gort_strerror(err));
		serveerror(a, 500, msg);
		close(fd);
		return;
	}
	gort_sleep(ns);
	err = gort_trace_stop();
	if (err == 0) {
		/* the file, in place: a goroutine's stack has no room for a buffer */
		off_t size = lseek(fd, 0, SEEK_END);
		void *p = size > 0 ? mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
		if (p != MAP_FAILED) {
			gort__pbuf_put(&a->body, p, (size_t)size);
			munmap(p, (size_t)size);
		}
	}
	close(fd);
	if (err != 0) {
		serveerror(a, 500, gort_strerror(err));
		return;
	}
	a->type = BINARY;
	a->disposition = "trace";
}

/* deltaprofile: Go's serveDeltaProfile - ?seconds=N (a whole positive
 * number; every profile gort has supports it, as all of Go's but the CPU
 * one, which is /profile) without ?debug: the change over N seconds, as
 * "NAME-delta". */
static void deltaprofile(answer *a, const char *name, const char *query, const char *sec)
{
	bool ok;
	long n = atoi_go(sec, 0, &ok);
	if (!ok || n <= 0) {
		serveerror(a, 400, "invalid value for \"seconds\" - must be a positive integer");
		return;
	}
	char v[32];
	if (formvalue(query, "debug", v, sizeof v) && atoi_go(v, 0, &ok) != 0) {
		serveerror(a, 400, "seconds and debug params are incompatible");
		return;
	}
	int err = gort__pprof_delta(name, n > MAX_SECONDS ? MAX_SECONDS : n, &a->body);
	if (err != 0) {
		a->body.len = 0;
		serveerror(a, 500, "failed to collect profile");
		return;
	}
	a->type = BINARY;
	snprintf(a->dispbuf, sizeof a->dispbuf, "%s-delta", name);
	a->disposition = a->dispbuf;
}

/* namedprofile: Handler(name). */
static void namedprofile(answer *a, const char *name, const char *query)
{
	bool known = false;
	for (int i = 0; gort__pprof_names[i] != NULL; i++)
		known |= strcmp(name, gort__pprof_names[i]) == 0;
	if (!known) {
		serveerror(a, 404, "Unknown profile");
		return;
	}
	char v[32];
	if (formvalue(query, "seconds", v, sizeof v) && *v != '\0') {
		deltaprofile(a, name, query, v);
		return;
	}
	bool ok;
	int debug = formvalue(query, "debug", v, sizeof v) ? (int)atoi_go(v, 0, &ok) : 0;
	if (strcmp(name, "heap") == 0 && formvalue(query, "gc", v, sizeof v) && atoi_go(v, 0, &ok) > 0)
		gort_gc(); /* Go's ?gc=1: the profile as of a collection now */
	int err = gort__pprof_lookup(name, debug, &a->body);
	if (err != 0) {
		serveerror(a, 500, gort_strerror(err));
		return;
	}
	if (debug != 0) {
		a->type = TEXT;
	} else {
		a->type = BINARY;
		a->disposition = name;
	}
}

/* vars: expvar's JSON - one key per variable, sorted, as Go's handler
 * writes them: "cmdline" (os.Args), "memstats" (what gort can say of
 * Go's MemStats: the collected heap's numbers, from gort_read_metrics) and
 * "gort", gort_read_metrics' fields by name. */
void gort__jsonstring(pbuf *b, const char *s, size_t n)
{
	gort__pbuf_put(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			gort__pbuf_printf(b, "\\%c", c);
		else if (c < 0x20 || c == '<' || c == '>' || c == '&')
			gort__pbuf_printf(b, "\\u%04x", c);
		else
			gort__pbuf_put(b, &s[i], 1);
	}
	gort__pbuf_put(b, "\"", 1);
}

static void vars(answer *a)
{
	pbuf *b = &a->body;
	a->type = "application/json; charset=utf-8";
	pbuf cmd = {0};
	gort__readfile("/proc/self/cmdline", &cmd);
	gort__pbuf_puts(b, "{\n\"cmdline\": [");
	for (size_t i = 0, start = 0; i < cmd.len; i++)
		if (cmd.p[i] == '\0') {
			if (start > 0)
				gort__pbuf_puts(b, ",");
			gort__jsonstring(b, (const char *)cmd.p + start, i - start);
			start = i + 1;
		}
	gort__pbuf_puts(b, "],\n");
	gort__pbuf_free(&cmd);

	gort_metrics m = {.size = sizeof m};
	gort_read_metrics(&m);
	gort__pbuf_puts(b, "\"gort\": {");
#define FIELD(f) gort__pbuf_printf(b, "\"" #f "\": %lld, ", (long long)m.f)
	FIELD(uptime_ns); FIELD(goroutines); FIELD(goroutines_runnable); FIELD(goroutines_running);
	FIELD(goroutines_syscall); FIELD(goroutines_waiting); FIELD(threads); FIELD(threads_idle);
	FIELD(threads_spinning); FIELD(procs); FIELD(procs_idle); FIELD(runqueue_global);
	FIELD(runqueue_local); FIELD(runqueue_local_max); FIELD(context_switches); FIELD(spawns);
	FIELD(steals); FIELD(stolen_goroutines); FIELD(sched_latency_sample_period);
	FIELD(heap_live_bytes); FIELD(heap_goal_bytes); FIELD(heap_sys_bytes); FIELD(heap_released_bytes);
	FIELD(gc_cycles); FIELD(gc_pause_total_ns); FIELD(gc_heap_allocs_bytes);
	FIELD(gc_heap_allocs_objects); FIELD(gc_heap_frees_bytes); FIELD(gc_heap_frees_objects);
	FIELD(gc_heap_objects); FIELD(heap_objects_bytes); FIELD(gc_cycles_forced); FIELD(gc_pause_last_ns);
#undef FIELD
	gort__pbuf_puts(b, "\"sched_latency_ns\": [");
	for (int i = 0; i < GORT_METRICS_SCHEDLAT_BUCKETS; i++)
		gort__pbuf_printf(b, "%s[%lld, %llu]", i ? ", " : "",
		                  (long long)gort_metrics_sched_latency_ns(i),
		                  (unsigned long long)m.sched_latency[i]);
	gort__pbuf_printf(b, "], \"cpu_profile_lost_samples\": %llu},\n",
	                  (unsigned long long)gort__pprof_cpu_lost());

	/* memstats: the fields gort has, from the collected heap */
	gort__pbuf_printf(b, "\"memstats\": {\"Alloc\": %llu, \"TotalAlloc\": %llu, \"Sys\": %llu, "
	                     "\"Mallocs\": %llu, \"Frees\": %llu, \"HeapAlloc\": %llu, \"HeapSys\": %llu, "
	                     "\"HeapReleased\": %llu, \"HeapObjects\": %llu, \"NextGC\": %llu, "
	                     "\"NumGC\": %llu, \"NumForcedGC\": %llu, \"PauseTotalNs\": %llu}\n}\n",
	                  (unsigned long long)m.heap_objects_bytes, (unsigned long long)m.gc_heap_allocs_bytes,
	                  (unsigned long long)m.heap_sys_bytes, (unsigned long long)m.gc_heap_allocs_objects,
	                  (unsigned long long)m.gc_heap_frees_objects, (unsigned long long)m.heap_objects_bytes,
	                  (unsigned long long)m.heap_sys_bytes, (unsigned long long)m.heap_released_bytes,
	                  (unsigned long long)m.gc_heap_objects, (unsigned long long)m.heap_goal_bytes,
	                  (unsigned long long)m.gc_cycles, (unsigned long long)m.gc_cycles_forced,
	                  (unsigned long long)m.gc_pause_total_ns);
}

/* the console (console.c): its page, and the JSON it asks for each second */
static void consolepage(answer *a)
{
	a->type = "text/html; charset=utf-8";
	gort__console_page(&a->body);
}

static void consoledata(answer *a)
{
	a->type = "application/json";
	if (gort__console_data(&a->body) != 0) {
		a->body.len = 0;
		serveerror(a, 500, "out of memory");
	}
}

/* ---- the server ----------------------------------------------------------------- */

/* route: the answer to a GET (or HEAD) of target. */
static void route(answer *a, char *target)
{
	char *query = strchr(target, '?');
	if (query != NULL)
		*query++ = '\0';
	else
		query = "";
	a->status = 200;
	if (strcmp(target, "/debug/vars") == 0)
		vars(a);
	else if (strcmp(target, "/debug/gort/") == 0 || strcmp(target, "/debug/gort") == 0)
		consolepage(a);
	else if (strcmp(target, "/debug/gort/data") == 0)
		consoledata(a);
	else if (strcmp(target, "/debug/pprof/") == 0 || strcmp(target, "/debug/pprof") == 0)
		indexpage(a);
	else if (strcmp(target, "/debug/pprof/cmdline") == 0)
		cmdline(a);
	else if (strcmp(target, "/debug/pprof/profile") == 0)
		cpuprofile(a, query);
	else if (strcmp(target, "/debug/pprof/trace") == 0)
		traceprofile(a, query);
	else if (strncmp(target, "/debug/pprof/", 13) == 0)
		namedprofile(a, target + 13, query);
	else
		serveerror(a, 404, "404 page not found");
}

static bool istoken(char c)
{
	return c > ' ' && c < 0x7f && strchr("()<>@,;:\\\"/[]?={}", c) == NULL;
}

/* parse: the request line and headers of a whole head (NUL-terminated,
 * ending in an empty line).  NULL, with the target in *target, or Go's
 * refusal; *head is set for a HEAD request. */
static const char *parse(char *head, char **target, bool *headreq)
{
	static const char bad[] = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; "
	                          "charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request";
	static const char nohost[] = "HTTP/1.1 400 Bad Request: missing required Host header\r\n"
	                             "Content-Type: text/plain; charset=utf-8\r\nConnection: close"
	                             "\r\n\r\n400 Bad Request: missing required Host header";
	static const char version[] = "HTTP/1.1 505 HTTP Version Not Supported: unsupported protocol "
	                              "version\r\nContent-Type: text/plain; charset=utf-8\r\n"
	                              "Connection: close\r\n\r\n505 HTTP Version Not Supported: "
	                              "unsupported protocol version";
	char *eol = strstr(head, "\r\n");
	if (eol == NULL)
		return bad;
	*eol = '\0';
	char *sp1 = strchr(head, ' ');
	char *sp2 = sp1 != NULL ? strchr(sp1 + 1, ' ') : NULL;
	if (sp1 == NULL || sp2 == NULL || sp1 == head || sp2 == sp1 + 1)
		return bad;
	*sp1 = *sp2 = '\0';
	for (char *c = head; *c; c++)
		if (!istoken(*c))
			return bad;
	char *proto = sp2 + 1;
	if (strncmp(proto, "HTTP/", 5) != 0 || strlen(proto) != 8 || proto[6] != '.' ||
	    proto[5] < '0' || proto[5] > '9' || proto[7] < '0' || proto[7] > '9')
		return bad;
	if (proto[5] != '1')
		return version;
	bool http11 = proto[7] >= '1';
	*target = sp1 + 1;
	if ((*target)[0] != '/')
		return bad;
	for (char *c = *target; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return bad;
	*headreq = strcmp(head, "HEAD") == 0;
	bool host = false;
	for (char *line = eol + 2; *line != '\0' && strncmp(line, "\r\n", 2) != 0;) {
		char *end = strstr(line, "\r\n");
		if (end == NULL)
			return bad;
		*end = '\0';
		char *colon = strchr(line, ':');
		if (colon == NULL || colon == line)
			return bad;
		for (char *c = line; c < colon; c++)
			if (!istoken(*c))
				return bad;
		if (colon - line == 4 && strncasecmp(line, "host", 4) == 0)
			host = true;
		line = end + 2;
	}
	if (http11 && !host)
		return nohost;
	return NULL;
}

static void writeall(gort_conn *c, const void *p, size_t n)
{
	gort_conn_write(c, p, n); /* an error: the client is gone; nothing to do */
}

static void respond(gort_conn *c, answer *a, bool headreq)
{
	pbuf h = {0};
	gort__pbuf_printf(&h, "HTTP/1.1 %d %s\r\n", a->status, statustext(a->status));
	if (a->disposition != NULL)
		gort__pbuf_printf(&h, "Content-Disposition: attachment; filename=\"%s\"\r\n", a->disposition);
	gort__pbuf_printf(&h, "Content-Type: %s\r\n", a->type);
	if (a->status != 200)
		gort__pbuf_puts(&h, "X-Go-Pprof: 1\r\n");
	gort__pbuf_printf(&h, "X-Content-Type-Options: nosniff\r\nContent-Length: %zu\r\n"
	                      "Connection: close\r\n\r\n", a->body.len);
	gort_conn_set_write_deadline(c, gort_nanotime() + WRITE_TIMEOUT_S * GORT_SECOND);
	if (!h.oom && !a->body.oom) {
		writeall(c, h.p, h.len);
		if (!headreq)
			writeall(c, a->body.p, a->body.len);
	}
	gort__pbuf_free(&h);
}

/*
 * serve_conn: one request on c, then close.  Steps:
 *   1. read the head, under the head deadline, into a fixed buffer, until
 *      the empty line (or refuse: too long 431; never completed: close);
 *   2. parse it (or refuse with Go's 400/505);
 *   3. build the answer in memory (a CPU profile or trace takes its seconds
 *      here), then write it under the write deadline.
 */
static void serve_conn(void *arg)
{
	static const char toolong[] = "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: "
	                              "text/plain; charset=utf-8\r\nConnection: close\r\n\r\n431 "
	                              "Request Header Fields Too Large";
	gort_conn *c = *(gort_conn **)arg;
	char *buf = malloc(MAXHEAD + 1);
	if (buf == NULL) {
		gort_conn_close(c);
		return;
	}
	gort_conn_set_read_deadline(c, gort_nanotime() + HEAD_TIMEOUT_S * GORT_SECOND);
	size_t len = 0;
	const char *refusal = NULL;
	bool complete = false;
	while (!complete) {
		if (len == MAXHEAD) {
			refusal = toolong;
			break;
		}
		long n = gort_conn_read(c, buf + len, MAXHEAD - len);
		if (n <= 0)
			break; /* EOF, error or deadline: nobody to answer */
		size_t from = len >= 3 ? len - 3 : 0;
		len += (size_t)n;
		buf[len] = '\0';
		complete = memmem(buf + from, len - from, "\r\n\r\n", 4) != NULL;
		if (memchr(buf + from, '\0', len - from) != NULL) {
			refusal = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
			          "Connection: close\r\n\r\n400 Bad Request";
			break;
		}
	}
	if (complete && refusal == NULL) {
		char *target;
		bool headreq = false;
		refusal = parse(buf, &target, &headreq);
		if (refusal == NULL) {
			answer a = {0};
			route(&a, target);
			respond(c, &a, headreq);
			gort__pbuf_free(&a.body);
		}
	}
	if (refusal != NULL) {
		gort_conn_set_write_deadline(c, gort_nanotime() + HEAD_TIMEOUT_S * GORT_SECOND);
		writeall(c, refusal, strlen(refusal));
		/* Go's closeWriteAndWait: closing with the client's bytes unread
		 * would reset the connection, and the client might lose the
		 * answer; so shut our side, and read what comes for a moment */
		gort_conn_close_write(c);
		gort_conn_set_read_deadline(c, gort_nanotime() + LINGER_MS * GORT_MILLISECOND);
		while (gort_conn_read(c, buf, MAXHEAD) > 0)
			;
	}
	free(buf);
	gort_conn_close(c);
}

static void accept_loop(void *arg)
{
	gort_conn *ln = arg;
	for (;;) {
		gort_conn *c;
		int err = gort_accept(ln, &c);
		if (err == GORT_ECLOSED)
			return;
		if (err != 0) { /* EMFILE and the like: Go's server backs off too */
			gort_sleep(10 * GORT_MILLISECOND);
			continue;
		}
		gort_go_args(serve_conn, &c, sizeof c);
	}
}

/* The listeners, for as long as the program runs (a memory checker sees
 * them held, not leaked). */
typedef struct listener {
	struct listener *next;
	gort_conn *ln;
} listener;
static listener *_Atomic listeners;

int gort_debug_serve(const char *addr)
{
	gort__current_goroutine("gort_debug_serve");
	listener *l = calloc(1, sizeof *l);
	if (l == NULL)
		return -ENOMEM;
	int err = gort_listen("tcp", addr, &l->ln);
	if (err != 0) {
		free(l);
		return err;
	}
	l->next = atomic_load(&listeners);
	while (!atomic_compare_exchange_weak(&listeners, &l->next, l))
		;
	gort_go(accept_loop, l->ln);
	return 0;
}

/* debug_serve_env: GORT_DEBUG_ADDR, from the main goroutine before main. */
void gort__debug_serve_env(void)
{
	const char *addr = getenv("GORT_DEBUG_ADDR");
	if (addr == NULL || addr[0] == '\0')
		return;
	int err = gort_debug_serve(addr);
	if (err != 0)
		gort__printf("gort: GORT_DEBUG_ADDR=%s: %s; not serving\n", addr, gort_strerror(err));
}
