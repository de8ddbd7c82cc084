/*
 * http_parse_test.c - examples/http_parse.c alone, without the runtime and
 * without libFuzzer:
 *   1. a table of requests and what Go 1.19's net/http makes of them (the
 *      answer Go refuses with, or the fields of one it serves), among them
 *      the inputs that used to fault http_hello (a NUL in the request line);
 *   2. the fuzz target's invariants (fuzz/http_parse_fuzz.c, included) on
 *      every table entry and on every file of the seed corpus, argv[1]
 *      (fuzz/corpus/http_parse), so `make test` keeps what fuzzing found.
 */
#include <dirent.h>

#include "../fuzz/http_parse_fuzz.c"

static int failures;

#define REQ(s) s, sizeof s - 1

struct want {
	enum http_result result;
	const char *refusal;    /* HTTP_REFUSED */
	int64_t body;           /* HTTP_OK: the rest */
	bool http10, keepalive, head;
	const char *connection;
};

static void expect(const char *name, const char *in, size_t n, struct want w)
{
	struct http_request req;
	enum http_result r = http_parse(in, n, &req);
	bool ok = r == w.result;
	if (ok && r == HTTP_REFUSED)
		ok = req.refusal == w.refusal;
	if (ok && r == HTTP_OK)
		ok = req.body == w.body && req.http10 == w.http10 && req.keepalive == w.keepalive && req.head == w.head &&
		     strcmp(req.connection, w.connection != NULL ? w.connection : "") == 0;
	if (!ok) {
		fprintf(stderr, "FAIL %s: result %d refusal \"%s\" body %lld http10 %d keepalive %d connection \"%s\"\n",
		        name, r, r == HTTP_REFUSED ? req.refusal : "", (long long)req.body, req.http10, req.keepalive,
		        r == HTTP_OK ? req.connection : "");
		failures++;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)in, n);
}

#define REFUSED(answer) ((struct want){HTTP_REFUSED, answer, 0, false, false, false, NULL})
#define SERVED(...) ((struct want){HTTP_OK, NULL, __VA_ARGS__})
#define INCOMPLETE ((struct want){HTTP_INCOMPLETE, NULL, 0, false, false, false, NULL})

static void table(void)
{
	/* Defect a: NUL bytes (strstr stopped at them; memrchr got a wrapped length). */
	expect("nul in uri", REQ("GET /\0 HTTP/1.1\r\n\r\n"), REFUSED(HTTP_400));
	expect("nul line", REQ("\0\r\n\r\n"), REFUSED(HTTP_400));
	expect("nul alone", REQ("\0"), INCOMPLETE);
	expect("nul in version", REQ("GET / HTTP/1.1\0\r\nHost: x\r\n\r\n"), REFUSED(HTTP_400));
	expect("nul in header", REQ("GET / HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n"), REFUSED(HTTP_400_VALUE));
	expect("nul in name", REQ("GET / HTTP/1.1\r\nHost: x\r\nX\0: a\r\n\r\n"), REFUSED(HTTP_400_NAME));
	expect("empty line", REQ("\r\n\r\n"), REFUSED(HTTP_400));
	expect("no space", REQ("GET\r\n\r\n"), REFUSED(HTTP_400));
	expect("one space", REQ("GET /\r\n\r\n"), REFUSED(HTTP_400));
	/* Defect b: Content-Length as fixLength and parseContentLength read it. */
	expect("two lengths", REQ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"),
	       REFUSED(HTTP_400));
	expect("two equal lengths", REQ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\ncontent-length:  3 \r\n\r\n"),
	       SERVED(3, false, true, false, ""));
	expect("length abc", REQ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"), REFUSED(HTTP_400));
	expect("length -1", REQ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"), REFUSED(HTTP_400));
	expect("length +1", REQ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\n"), REFUSED(HTTP_400));
	expect("length 2^63", REQ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9223372036854775808\r\n\r\n"),
	       REFUSED(HTTP_400));
	expect("length empty", REQ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n"), SERVED(0, false, true, false, ""));
	expect("length big", REQ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 262144\r\n\r\n"),
	       SERVED(0, false, false, false, "Connection: close\r\n"));
	expect("length below big", REQ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 262143\r\n\r\n"),
	       SERVED(262143, false, true, false, ""));
	expect("length name with space", REQ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\n"),
	       REFUSED(HTTP_400_NAME));
	/* Defect c: the version. */
	expect("HTTP/2.0", REQ("GET / HTTP/2.0\r\nHost: x\r\n\r\n"), REFUSED(HTTP_505));
	expect("HTTP/0.9", REQ("GET / HTTP/0.9\r\nHost: x\r\n\r\n"), REFUSED(HTTP_505));
	expect("HTTP/1.x", REQ("GET / HTTP/1.x\r\nHost: x\r\n\r\n"), REFUSED(HTTP_400));
	expect("HTTP/1.10", REQ("GET / HTTP/1.10\r\nHost: x\r\n\r\n"), REFUSED(HTTP_400));
	expect("http/1.1", REQ("GET / http/1.1\r\nHost: x\r\n\r\n"), REFUSED(HTTP_400));
	expect("HTTP/1.2", REQ("GET / HTTP/1.2\r\nHost: x\r\n\r\n"), SERVED(0, false, true, false, ""));
	expect("HTTP/1.1 extra", REQ("GET / HTTP/1.1 x\r\nHost: x\r\n\r\n"), REFUSED(HTTP_400));
	/* The rest of Go's checks, in Go's order. */
	expect("no host", REQ("GET / HTTP/1.1\r\n\r\n"), REFUSED(HTTP_400_NOHOST));
	expect("no host 1.0", REQ("GET / HTTP/1.0\r\n\r\n"), SERVED(0, true, false, false, ""));
	expect("empty host", REQ("GET / HTTP/1.1\r\nHost:\r\n\r\n"), SERVED(0, false, true, false, ""));
	expect("two hosts", REQ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), REFUSED(HTTP_400));
	expect("bad host", REQ("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), REFUSED(HTTP_400_BADHOST));
	expect("CONNECT", REQ("CONNECT example.com:443 HTTP/1.1\r\n\r\n"), SERVED(0, false, true, false, ""));
	expect("CONNECT bad port", REQ("CONNECT example.com:4x3 HTTP/1.1\r\n\r\n"), REFUSED(HTTP_400));
	expect("bad method", REQ("G(T / HTTP/1.1\r\nHost: x\r\n\r\n"), REFUSED(HTTP_400));
	expect("empty method", REQ(" / HTTP/1.1\r\nHost: x\r\n\r\n"), REFUSED(HTTP_400));
	expect("empty uri", REQ("GET  HTTP/1.1\r\nHost: x\r\n\r\n"), REFUSED(HTTP_400));
	expect("relative uri", REQ("GET foo HTTP/1.1\r\nHost: x\r\n\r\n"), REFUSED(HTTP_400));
	expect("bad escape", REQ("GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n"), REFUSED(HTTP_400));
	expect("short escape", REQ("GET /%4 HTTP/1.1\r\nHost: x\r\n\r\n"), REFUSED(HTTP_400));
	expect("query escape", REQ("GET /?%zz HTTP/1.1\r\nHost: x\r\n\r\n"), SERVED(0, false, true, false, ""));
	expect("absolute uri", REQ("GET http://a.b:80/x HTTP/1.1\r\nHost: x\r\n\r\n"), SERVED(0, false, true, false, ""));
	expect("absolute bad port", REQ("GET http://a.b:8x/ HTTP/1.1\r\nHost: x\r\n\r\n"), REFUSED(HTTP_400));
	expect("star", REQ("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"), SERVED(0, false, true, false, ""));
	expect("ctl in uri", REQ("GET /\x7f HTTP/1.1\r\nHost: x\r\n\r\n"), REFUSED(HTTP_400));
	expect("colon first", REQ("GET :x HTTP/1.1\r\nHost: x\r\n\r\n"), REFUSED(HTTP_400));
	expect("no colon", REQ("GET / HTTP/1.1\r\nHost: x\r\nfoo\r\n\r\n"), REFUSED(HTTP_400));
	expect("leading space", REQ("GET / HTTP/1.1\r\n Host: x\r\n\r\n"), REFUSED(HTTP_400));
	expect("empty key", REQ("GET / HTTP/1.1\r\nHost: x\r\n: \x01\r\n\r\n"), SERVED(0, false, true, false, ""));
	expect("bad value", REQ("GET / HTTP/1.1\r\nHost: x\r\nX: \x7f\r\n\r\n"), REFUSED(HTTP_400_VALUE));
	expect("cr in value", REQ("GET / HTTP/1.1\r\nHost: x\r\nX: a\r\r\n\r\n"), REFUSED(HTTP_400_VALUE));
	expect("tab in value", REQ("GET / HTTP/1.1\r\nHost: x\r\nX: a\tb\r\n\r\n"), SERVED(0, false, true, false, ""));
	expect("high bytes", REQ("GET /\xc3\xa9 HTTP/1.1\r\nHost: x\r\nX: \xff\r\n\r\n"), SERVED(0, false, true, false, ""));
	expect("TE chunked", REQ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"),
	       SERVED(0, false, false, false, "Connection: close\r\n"));
	expect("TE gzip", REQ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"), REFUSED(HTTP_501));
	expect("TE twice", REQ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
	       REFUSED(HTTP_501));
	expect("TE 1.0 ignored", REQ("POST / HTTP/1.0\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\n"),
	       SERVED(2, true, false, false, ""));
	expect("TE before 505", REQ("GET / HTTP/2.0\r\nTransfer-Encoding: gzip\r\n\r\n"), REFUSED(HTTP_501));
	/* Served: keep-alive, close, HEAD, line ends, folding. */
	expect("GET", REQ("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), SERVED(0, false, true, false, ""));
	expect("bare LF", REQ("GET / HTTP/1.1\nHost: x\n\n"), SERVED(0, false, true, false, ""));
	expect("close", REQ("GET / HTTP/1.1\r\nHost: x\r\nConnection: Keep-Alive, CLOSE\r\n\r\n"),
	       SERVED(0, false, false, false, "Connection: close\r\n"));
	expect("closed not a token", REQ("GET / HTTP/1.1\r\nHost: x\r\nConnection: closed\r\n\r\n"),
	       SERVED(0, false, true, false, ""));
	expect("1.0 keep-alive", REQ("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
	       SERVED(0, true, true, false, "Connection: keep-alive\r\n"));
	expect("1.0 keep-alive, close", REQ("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"),
	       SERVED(0, true, true, false, "Connection: keep-alive\r\n")); /* Go: wants10KeepAlive wins */
	expect("1.0 second keep-alive", REQ("GET / HTTP/1.0\r\nConnection: x\r\nConnection: keep-alive\r\n\r\n"),
	       SERVED(0, true, false, false, "")); /* Go reads the first only */
	expect("close after space", REQ("GET / HTTP/1.1\r\nHost: x\r\nConnection: foo close\r\n\r\n"),
	       SERVED(0, false, false, false, "Connection: close\r\n")); /* hasToken: space is a boundary */
	expect("HEAD", REQ("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"), SERVED(0, false, true, true, ""));
	expect("folded", REQ("GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive,\r\n close\r\n\r\n"),
	       SERVED(0, false, false, false, "Connection: close\r\n"));
	expect("space line folds", REQ("GET / HTTP/1.1\r\nHost: x\r\n \r\n\r\n"), REFUSED(HTTP_400_BADHOST)); /* "x " */
	expect("folded value", REQ("GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n\tb \r\n\r\n"), SERVED(0, false, true, false, ""));
	expect("incomplete", REQ("GET / HTTP/1.1\r\nHost: x\r\n"), INCOMPLETE);
	expect("incomplete cr", REQ("GET / HTTP/1.1\r\nHost: x\r\n\r"), INCOMPLETE);
	expect("empty", "", 0, INCOMPLETE);
}

/* corpus runs the fuzz target over every file of dir. */
static int corpus(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		fprintf(stderr, "FAIL %s: cannot open\n", dir);
		failures++;
		return 0;
	}
	int files = 0;
	struct dirent *e;
	static char data[1 << 20];
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		if (f == NULL)
			continue;
		size_t n = fread(data, 1, sizeof data, f);
		fclose(f);
		LLVMFuzzerTestOneInput((const uint8_t *)data, n);
		files++;
	}
	closedir(d);
	return files;
}

int main(int argc, char **argv)
{
	table();
	int files = argc > 1 ? corpus(argv[1]) : 0;
	if (argc > 1 && files < 10) {
		fprintf(stderr, "FAIL: only %d corpus files in %s\n", files, argv[1]);
		failures++;
	}
	if (failures > 0)
		return 1;
	printf("PASS http_parse (%d corpus files)\n", files);
	return 0;
}
