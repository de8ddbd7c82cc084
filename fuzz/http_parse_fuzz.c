// fuzz-sources: examples/http_parse.c
/*
 * http_parse_fuzz.c - libFuzzer target for examples/http_parse.c, the request
 * head parser of examples/http_hello.c (a pure target: no runtime).
 *
 *   make fuzz FUZZ_TARGETS=http_parse FUZZ_SECONDS=60
 *
 * Every input is parsed as given and as a connection delivers it, in chunks,
 * each time from a buffer of exactly the bytes in hand (malloc'd, so that
 * AddressSanitizer sees a read past them), and the results must agree:
 *   - a result is HTTP_INCOMPLETE, or the same as for all the bytes (a
 *     parser that decides on a prefix must not change its mind);
 *   - http_head_end finds a head exactly where http_parse says one ends,
 *     and never finds one where http_parse still wants more; fed chunk by
 *     chunk with its *scan, it finds what one call on the whole finds;
 *   - an accepted request's fields are consistent (head within the input,
 *     a body to skip below HTTP_MAX_SKIP, keep-alive never with an unread
 *     body, a known Connection line); a refusal is one of Go's answers.
 * tests/http_parse_test.c runs this same function over fuzz/corpus/http_parse
 * and a table of known cases, without libFuzzer, in `make test`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

#define FUZZ_CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

static const char *const refusals[] = {HTTP_400,      HTTP_400_NOHOST, HTTP_400_BADHOST, HTTP_400_NAME,
                                       HTTP_400_VALUE, HTTP_431,       HTTP_501,         HTTP_505};

/* parse parses data[0, n) from a copy of exactly n bytes, checking the
 * result on its own. */
static enum http_result parse(const uint8_t *data, size_t n, struct http_request *req)
{
	char *buf = malloc(n > 0 ? n : 1);
	FUZZ_CHECK(buf != NULL);
	if (n > 0)
		memcpy(buf, data, n);
	enum http_result r = http_parse(buf, n, req);
	size_t scan = 0, end = http_head_end(buf, n, &scan);
	free(buf);
	FUZZ_CHECK(r == HTTP_INCOMPLETE || r == HTTP_OK || r == HTTP_REFUSED);
	FUZZ_CHECK(end <= n);
	if (end != 0)
		FUZZ_CHECK(r != HTTP_INCOMPLETE);
	if (r == HTTP_OK) {
		FUZZ_CHECK(req->head_len == end && end > 0);
		FUZZ_CHECK(req->body >= 0 && req->body < HTTP_MAX_SKIP);
		FUZZ_CHECK(req->refusal == NULL);
		FUZZ_CHECK(!(req->unread && req->keepalive));
		FUZZ_CHECK(strcmp(req->connection, "") == 0 || strcmp(req->connection, "Connection: close\r\n") == 0 ||
		           strcmp(req->connection, "Connection: keep-alive\r\n") == 0);
		FUZZ_CHECK(!(req->head && req->post));
	} else if (r == HTTP_REFUSED) {
		bool known = false;
		for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++)
			known = known || req->refusal == refusals[i];
		FUZZ_CHECK(known);
	}
	return r;
}

static bool same(enum http_result ra, const struct http_request *a, enum http_result rb,
                 const struct http_request *b)
{
	if (ra != rb)
		return false;
	if (ra == HTTP_REFUSED)
		return a->refusal == b->refusal;
	return ra != HTTP_OK ||
	       (a->head_len == b->head_len && a->body == b->body && a->http10 == b->http10 && a->head == b->head &&
	        a->post == b->post && a->keepalive == b->keepalive && a->unread == b->unread &&
	        a->connection == b->connection);
}

/* A cheap generator for where chunks end, seeded from the input. */
static uint64_t next(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request whole, part;
	enum http_result rw = parse(data, size, &whole);

	/* Prefixes: undecided, or decided as the whole is.  All of them for
	 * short inputs, a sample of them for long ones. */
	uint64_t seed = size;
	for (size_t i = 0; i < size && i < 64; i++)
		seed = seed * 31 + data[i];
	size_t step = size <= 128 ? 1 : size / 64;
	for (size_t n = 0; n < size; n += step + (step > 1 ? next(&seed) % step : 0)) {
		enum http_result rp = parse(data, n, &part);
		FUZZ_CHECK(rp == HTTP_INCOMPLETE || same(rp, &part, rw, &whole));
	}

	/* As a connection delivers it: chunks into one growing buffer, then
	 * head after head (pipelined), each body skipped, as http_hello does. */
	char *buf = NULL;
	size_t len = 0, off = 0, scan = 0;
	uint64_t body = 0;
	while (len < size) {
		size_t chunk = 1 + next(&seed) % (size - len < 64 ? size - len : 64);
		char *grown = malloc(len + chunk); /* exactly the bytes in hand */
		FUZZ_CHECK(grown != NULL);
		if (len > 0)
			memcpy(grown, buf, len);
		memcpy(grown + len, data + len, chunk);
		free(buf);
		buf = grown, len += chunk;
		for (;;) {
			size_t drop = body < len - off ? (size_t)body : len - off;
			off += drop, body -= drop;
			if (body > 0)
				break;
			size_t fresh = 0, end = http_head_end(buf + off, len - off, &scan);
			FUZZ_CHECK(end == http_head_end(buf + off, len - off, &fresh));
			if (end == 0)
				break;
			struct http_request req;
			enum http_result r = http_parse(buf + off, end, &req);
			FUZZ_CHECK(r != HTTP_INCOMPLETE);
			struct http_request alone; /* the same head, alone in a buffer of its own */
			FUZZ_CHECK(same(r, &req, parse((const uint8_t *)buf + off, end, &alone), &alone));
			if (r != HTTP_OK || !req.keepalive) {
				len = size; /* the connection is closed */
				break;
			}
			off += req.head_len, body = (uint64_t)req.body, scan = 0;
		}
	}
	free(buf);
	return 0;
}
