/*
 * http_parse.h - the request-head parser of http_hello.c, on its own: pure
 * (no I/O, no allocation, no runtime), bounded by the length it is given
 * (it never reads buf[len], never needs a NUL), so it can be unit-tested
 * and fuzzed (fuzz/http_parse_fuzz.c, tests/http_parse_test.c).
 *
 * It reads a head as Go 1.19's net/http server does (net/http/request.go
 * readRequest, net/textproto ReadMIMEHeader, transfer.go readTransfer,
 * server.go (*conn).readRequest) and refuses what Go refuses, with Go's
 * exact bytes (server.go (*conn).serve).
 */
#ifndef HTTP_PARSE_H
#define HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Go's maxPostHandlerReadBytes: a body this big or bigger is not skipped,
 * the answer says "Connection: close" instead. */
#define HTTP_MAX_SKIP ((int64_t)256 << 10)

enum http_result {
	HTTP_INCOMPLETE, /* no whole head in buf yet (and nothing wrong so far) */
	HTTP_OK,         /* a request to answer: see struct http_request */
	HTTP_REFUSED,    /* write req->refusal, then close the connection */
};

struct http_request {
	size_t head_len;        /* HTTP_OK: the head's bytes, blank line included */
	int64_t body;           /* HTTP_OK: body bytes that follow the head, to skip */
	bool http10;            /* HTTP/1.0: answered "HTTP/1.0", else "HTTP/1.1" */
	bool head;              /* a HEAD request: no body in the answer */
	bool post;              /* a POST (Go then forgives up to 4 CR/LF before the next) */
	bool keepalive;         /* read the next request after answering this one */
	bool unread;            /* a body follows that is not skipped: close gently */
	const char *connection; /* the answer's Connection header line, or "" */
	const char *refusal;    /* HTTP_REFUSED: Go's whole answer */
};

/* Go's answers to what it refuses (each followed by closing). */
extern const char HTTP_400[];         /* any malformed request line or header */
extern const char HTTP_400_NOHOST[];  /* HTTP/1.1 without Host */
extern const char HTTP_400_BADHOST[]; /* a Host value with bytes no host has */
extern const char HTTP_400_NAME[];    /* a header name that is no token */
extern const char HTTP_400_VALUE[];   /* a header value with a control byte */
extern const char HTTP_431[];         /* head longer than the limit */
extern const char HTTP_501[];         /* a Transfer-Encoding other than chunked */
extern const char HTTP_505[];         /* HTTP/2.0, HTTP/0.9, ...: a major version not 1 */

/* http_parse parses the request head at the start of buf[0, len). */
enum http_result http_parse(const char *buf, size_t len, struct http_request *req);

/*
 * http_head_end: the length of the head at the start of buf[0, len) - the
 * request line, then lines up to the first empty one ("\r\n" or "\n") -
 * or 0 while it is not all there.  *scan (0 for a new head) remembers how
 * far it has looked, so that calling it again after every read costs only
 * the new bytes.  Where it is not 0, http_parse(buf, len) is not
 * HTTP_INCOMPLETE.
 */
size_t http_head_end(const char *buf, size_t len, size_t *scan);

#endif
