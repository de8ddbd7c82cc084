/*
 * http_parse.c - see http_parse.h.  Every scan is bounded by the length
 * given; nothing here writes to the input or relies on a NUL.
 *
 * Where Go's code decides, the Go function is named.  What this parser
 * does not do as Go (documented, all rare in practice): an absolute-form
 * URI ("GET http://host/ HTTP/1.1") has its authority checked only for
 * its port and %-escapes; Trailer and Expect headers are not looked at;
 * "PRI * HTTP/2.0" is refused with 505 like any other HTTP/2.0 line.
 */
#include "http_parse.h"

#include <string.h>

#define GO_ERROR_HEADERS "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
/* server.go: "HTTP/1.1 "+publicErr+errorHeaders+publicErr, and for a
 * statusError "HTTP/1.1 %d %s: %s"+errorHeaders+"%d %s: %s". */
#define GO_REFUSAL(status) "HTTP/1.1 " status GO_ERROR_HEADERS status

const char HTTP_400[] = GO_REFUSAL("400 Bad Request");
const char HTTP_400_NOHOST[] = GO_REFUSAL("400 Bad Request: missing required Host header");
const char HTTP_400_BADHOST[] = GO_REFUSAL("400 Bad Request: malformed Host header");
const char HTTP_400_NAME[] = GO_REFUSAL("400 Bad Request: invalid header name");
const char HTTP_400_VALUE[] = GO_REFUSAL("400 Bad Request: invalid header value");
const char HTTP_431[] = GO_REFUSAL("431 Request Header Fields Too Large");
const char HTTP_501[] = "HTTP/1.1 501 Not Implemented" GO_ERROR_HEADERS "Unsupported transfer encoding";
const char HTTP_505[] = GO_REFUSAL("505 HTTP Version Not Supported: unsupported protocol version");

/* ---- byte classes (Go's httpguts) ------------------------------------------ */

/* Byte classes, one table (GNU range designators: gcc and clang). */
enum { TOKEN = 1, HOST = 2, CTL = 4, HEX = 8 };
static const unsigned char class[256] = {
	[0 ... 31] = CTL, [127] = CTL,
	['0' ... '9'] = TOKEN | HOST | HEX, ['a' ... 'f'] = TOKEN | HOST | HEX, ['A' ... 'F'] = TOKEN | HOST | HEX,
	['g' ... 'z'] = TOKEN | HOST, ['G' ... 'Z'] = TOKEN | HOST,
	/* RFC 7230's tchar (httpguts.IsTokenRune) and httpguts' validHostByte */
	['!'] = TOKEN | HOST, ['#'] = TOKEN, ['$'] = TOKEN | HOST, ['%'] = TOKEN | HOST, ['&'] = TOKEN | HOST,
	['\''] = TOKEN | HOST, ['*'] = TOKEN | HOST, ['+'] = TOKEN | HOST, ['-'] = TOKEN | HOST,
	['.'] = TOKEN | HOST, ['^'] = TOKEN, ['_'] = TOKEN | HOST, ['`'] = TOKEN, ['|'] = TOKEN,
	['~'] = TOKEN | HOST, ['('] = HOST, [')'] = HOST, [','] = HOST, [':'] = HOST, [';'] = HOST,
	['='] = HOST, ['['] = HOST, [']'] = HOST,
};

static bool is_token(unsigned char c) { return class[c] & TOKEN; }
static bool is_host_byte(unsigned char c) { return class[c] & HOST; }
static bool is_ctl(unsigned char c) { return class[c] & CTL; }
static bool is_hex(unsigned char c) { return class[c] & HEX; }

/* A bounded string: what every function below takes. */
struct span {
	const char *p;
	size_t n;
};

/* ASCII case-insensitive equality with a lower-case literal. */
static bool equal_fold(struct span s, const char *lit)
{
	size_t n = strlen(lit);
	if (s.n != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if ((c >= 'A' && c <= 'Z' ? c | 0x20 : c) != (unsigned char)lit[i])
			return false;
	}
	return true;
}

static bool equal(struct span a, struct span b) { return a.n == b.n && memcmp(a.p, b.p, a.n) == 0; }

/* textproto.TrimString: without leading and trailing ' ', '\t', '\r', '\n'. */
static struct span trim_space(struct span s)
{
	while (s.n > 0 && memchr(" \t\r\n", s.p[0], 4) != NULL)
		s.p++, s.n--;
	while (s.n > 0 && memchr(" \t\r\n", s.p[s.n - 1], 4) != NULL)
		s.n--;
	return s;
}

/* httpguts.HeaderValuesContainsToken for one value: token among the
 * comma-separated elements of v, ASCII case-insensitively.  (v is as read:
 * where a line was folded it holds the line end, which Go made a space.) */
static bool has_token(struct span v, const char *token)
{
	for (;;) {
		const char *comma = memchr(v.p, ',', v.n);
		struct span e = {v.p, comma != NULL ? (size_t)(comma - v.p) : v.n};
		if (equal_fold(trim_space(e), token)) /* (CR, LF: only where a line was folded) */
			return true;
		if (comma == NULL)
			break;
		v.n -= (size_t)(comma + 1 - v.p), v.p = comma + 1;
	}
	return false;
}

/* server.go hasToken: token in v, ASCII case-insensitively, between
 * boundaries (space, comma, tab; CR and LF, which only a folded line has). */
static bool has_token_at_bounds(struct span v, const char *token)
{
	size_t n = strlen(token);
	for (size_t i = 0; i + n <= v.n; i++) {
		bool before = i == 0 || memchr(" ,\t\r\n", v.p[i - 1], 5) != NULL;
		bool after = i + n == v.n || memchr(" ,\t\r\n", v.p[i + n], 5) != NULL;
		if (before && after && equal_fold((struct span){v.p + i, n}, token))
			return true;
	}
	return false;
}

/* ---- the request line (request.go readRequest) ------------------------------ */

/* url.ParseRequestURI's checks that can fail: the %-escapes of s. */
static bool valid_escapes(struct span s)
{
	for (size_t i = 0; i < s.n; i++)
		if (s.p[i] == '%' && (i + 2 >= s.n || !is_hex((unsigned char)s.p[i + 1]) ||
		                      !is_hex((unsigned char)s.p[i + 2])))
			return false;
	return true;
}

/* url.go validOptionalPort: "" or ':' and digits. */
static bool valid_port(struct span p)
{
	if (p.n == 0)
		return true;
	if (p.p[0] != ':')
		return false;
	for (size_t i = 1; i < p.n; i++)
		if (p.p[i] < '0' || p.p[i] > '9')
			return false;
	return true;
}

/* url.go parseAuthority: [userinfo@]host[:port], with parseHost's and
 * unescape(encodeHost)'s checks (IPv6 zones are not told apart). */
static bool valid_authority(struct span a)
{
	struct span host = a;
	for (size_t i = a.n; i-- > 0;)
		if (a.p[i] == '@') {
			struct span user = {a.p, i}; /* validUserinfo, then its escapes */
			for (size_t j = 0; j < user.n; j++) {
				unsigned char c = (unsigned char)user.p[j];
				if (!((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
				      (c != 0 && memchr("-._:~!$&'()*+,;=%@", c, 18) != NULL)))
					return false;
			}
			if (!valid_escapes(user))
				return false;
			host.p = a.p + i + 1, host.n = a.n - i - 1;
			break;
		}
	size_t end = host.n; /* where the port begins */
	if (host.n > 0 && host.p[0] == '[') {
		const char *rb = NULL;
		for (size_t i = 0; i < host.n; i++)
			if (host.p[i] == ']')
				rb = host.p + i;
		if (rb == NULL)
			return false; /* "missing ']' in host" */
		end = (size_t)(rb + 1 - host.p);
	} else {
		for (size_t i = host.n; i-- > 0;)
			if (host.p[i] == ':') {
				end = i;
				break;
			}
	}
	if (!valid_port((struct span){host.p + end, host.n - end}))
		return false;
	for (size_t i = 0; i < end; i++) { /* unescape(host, encodeHost) */
		unsigned char c = (unsigned char)host.p[i];
		if (c == '%') {
			if (i + 2 >= host.n || !is_hex((unsigned char)host.p[i + 1]) ||
			    !is_hex((unsigned char)host.p[i + 2]))
				return false;
			if (host.p[i + 1] < '8' && !(host.p[i + 1] == '2' && host.p[i + 2] == '5'))
				return false; /* only non-ASCII bytes may be escaped, and %25 */
			i += 2;
		} else if (c < 0x80 && !((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
		                         (c != 0 && memchr("-._~!$&'()*+,;=:[]<>\"", c, 21) != NULL))) {
			return false; /* shouldEscape(c, encodeHost) */
		}
	}
	return true;
}

/* url.ParseRequestURI (url.go parse with viaRequest). */
static bool valid_request_uri(struct span u, bool connect)
{
	/* CONNECT host:port: Go parses "http://" + it, so it cannot be empty. */
	bool authority_form = connect && (u.n == 0 || u.p[0] != '/');
	if (u.n == 0 && !authority_form)
		return false; /* "empty url" */
	for (size_t i = 0; i < u.n; i++)
		if (is_ctl((unsigned char)u.p[i]))
			return false; /* "net/url: invalid control character in URL" */
	if (u.n == 1 && u.p[0] == '*')
		return true;
	struct span rest = u;
	bool scheme = authority_form;
	for (size_t i = 0; i < u.n && !authority_form; i++) { /* getScheme */
		unsigned char c = (unsigned char)u.p[i];
		if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
			continue;
		if (((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.') && i > 0)
			continue;
		if (c == ':') {
			if (i == 0)
				return false; /* "missing protocol scheme" */
			scheme = true;
			rest.p += i + 1, rest.n -= i + 1;
		}
		break;
	}
	const char *q = rest.n > 0 ? memchr(rest.p, '?', rest.n) : NULL;
	if (q != NULL)
		rest.n = (size_t)(q - rest.p); /* the query: not checked */
	if (!authority_form) {
		if (rest.n == 0 || rest.p[0] != '/')
			return scheme; /* opaque with a scheme; without, "invalid URI for request" */
		if (!scheme || rest.n < 2 || rest.p[1] != '/')
			return valid_escapes(rest); /* setPath: unescape */
		rest.p += 2, rest.n -= 2; /* "//authority/path" */
	}
	const char *slash = rest.n > 0 ? memchr(rest.p, '/', rest.n) : NULL;
	size_t alen = slash != NULL ? (size_t)(slash - rest.p) : rest.n;
	return valid_authority((struct span){rest.p, alen}) &&
	       valid_escapes((struct span){rest.p + alen, rest.n - alen});
}

/* ParseHTTPVersion: "HTTP/X.Y", one digit each. */
static bool parse_version(struct span v, int *major, int *minor)
{
	if (v.n != 8 || memcmp(v.p, "HTTP/", 5) != 0 || v.p[6] != '.' || v.p[5] < '0' || v.p[5] > '9' ||
	    v.p[7] < '0' || v.p[7] > '9')
		return false;
	*major = v.p[5] - '0', *minor = v.p[7] - '0';
	return true;
}

/* ---- the head --------------------------------------------------------------- */

/* next_line: the line at buf[*pos, len) without its "\n" or "\r\n" (bufio's
 * ReadLine); false if its '\n' is not in yet. */
static bool next_line(const char *buf, size_t len, size_t *pos, struct span *line)
{
	const char *nl = memchr(buf + *pos, '\n', len - *pos);
	if (nl == NULL)
		return false;
	line->p = buf + *pos, line->n = (size_t)(nl - line->p);
	if (line->n > 0 && line->p[line->n - 1] == '\r')
		line->n--;
	*pos = (size_t)(nl + 1 - buf);
	return true;
}

size_t http_head_end(const char *buf, size_t len, size_t *scan)
{
	/* i > 0 just after a '\n' is the start of a line after the request
	 * line: the head ends there if that line is empty. */
	for (size_t i = *scan;;) {
		if (i > 0 && buf[i - 1] == '\n') {
			if (i == len || (buf[i] == '\r' && i + 1 == len)) {
				*scan = i; /* can't tell yet */
				return 0;
			}
			if (buf[i] == '\n')
				return i + 1;
			if (buf[i] == '\r' && buf[i + 1] == '\n')
				return i + 2;
		}
		const char *nl = i < len ? memchr(buf + i, '\n', len - i) : NULL;
		if (nl == NULL) {
			*scan = len;
			return 0;
		}
		i = (size_t)(nl + 1 - buf);
	}
}

/* What the header lines said that matters here (Go's Header map, reduced). */
struct headers {
	int hosts, lengths, encodings, connections;
	struct span host, length, encoding, connection; /* the first of each */
	bool length_differs, close, bad_name, bad_value;
};

/* header records one field (textproto.readMIMEHeader, then the uses of it). */
static void header(struct headers *h, struct span key, struct span value)
{
	bool token = true; /* canonicalMIMEHeaderKey: only a token key is folded */
	for (size_t i = 0; i < key.n; i++)
		token = token && is_token((unsigned char)key.p[i]);
	h->bad_name = h->bad_name || !token; /* server.go: httpguts.ValidHeaderFieldName */
	for (size_t i = 0; i < value.n; i++) { /* httpguts.ValidHeaderFieldValue */
		char c = value.p[i];
		if (is_ctl((unsigned char)c) && c != '\t' && c != '\n' && /* a folded line's end: Go's space */
		    !(c == '\r' && i + 1 < value.n && value.p[i + 1] == '\n'))
			h->bad_value = true;
	}
	if (!token)
		return;
	if (equal_fold(key, "host")) {
		if (h->hosts++ == 0)
			h->host = value;
	} else if (equal_fold(key, "content-length")) {
		/* transfer.go fixLength: copies must agree, trimmed */
		if (h->lengths++ == 0)
			h->length = trim_space(value);
		else if (!equal(h->length, trim_space(value)))
			h->length_differs = true;
	} else if (equal_fold(key, "transfer-encoding")) {
		if (h->encodings++ == 0)
			h->encoding = value;
	} else if (equal_fold(key, "connection")) {
		if (h->connections++ == 0)
			h->connection = value;
		h->close = h->close || has_token(value, "close"); /* shouldClose */
	}
}

static enum http_result refuse(struct http_request *req, const char *answer)
{
	req->refusal = answer;
	return HTTP_REFUSED;
}

enum http_result http_parse(const char *buf, size_t len, struct http_request *req)
{
	*req = (struct http_request){.connection = ""};
	size_t pos = 0;
	struct span line;
	if (!next_line(buf, len, &pos, &line))
		return HTTP_INCOMPLETE;

	/* parseRequestLine: method SP request-uri SP proto (proto: the rest) */
	const char *sp1 = memchr(line.p, ' ', line.n);
	const char *sp2 = sp1 != NULL ? memchr(sp1 + 1, ' ', (size_t)(line.p + line.n - sp1 - 1)) : NULL;
	if (sp2 == NULL)
		return refuse(req, HTTP_400); /* "malformed HTTP request" */
	struct span method = {line.p, (size_t)(sp1 - line.p)};
	struct span uri = {sp1 + 1, (size_t)(sp2 - sp1 - 1)};
	struct span proto = {sp2 + 1, (size_t)(line.p + line.n - sp2 - 1)};
	bool valid = method.n > 0; /* validMethod */
	for (size_t i = 0; i < method.n; i++)
		valid = valid && is_token((unsigned char)method.p[i]);
	int major, minor;
	if (!valid || !parse_version(proto, &major, &minor))
		return refuse(req, HTTP_400); /* "invalid method", "malformed HTTP version" */
	bool connect = method.n == 7 && memcmp(method.p, "CONNECT", 7) == 0;
	if (!valid_request_uri(uri, connect))
		return refuse(req, HTTP_400);

	/* textproto.ReadMIMEHeader: "Key: value" lines up to an empty one; a
	 * line starting with a space or tab continues the one before. */
	if (pos < len && (buf[pos] == ' ' || buf[pos] == '\t'))
		return refuse(req, HTTP_400); /* "malformed MIME header initial line" */
	struct headers h = {0};
	for (;;) {
		if (!next_line(buf, len, &pos, &line))
			return HTTP_INCOMPLETE;
		if (line.n == 0)
			break; /* the end of the head */
		const char *colon = memchr(line.p, ':', line.n);
		if (colon == NULL)
			return refuse(req, HTTP_400); /* "malformed MIME header: missing colon" */
		struct span key = {line.p, (size_t)(colon - line.p)};
		struct span value = {colon + 1, (size_t)(line.p + line.n - colon - 1)};
		/* The value: trimmed of spaces and tabs, its continuation lines
		 * (trimmed) joined by one space.  Only its bytes matter here, and
		 * the joins are spaces, so each piece is checked as it is. */
		for (;;) {
			if (pos >= len)
				return HTTP_INCOMPLETE; /* is the next line a continuation? */
			if (buf[pos] != ' ' && buf[pos] != '\t')
				break;
			struct span more;
			if (!next_line(buf, len, &pos, &more))
				return HTTP_INCOMPLETE;
			value.n = (size_t)(more.p + more.n - value.p); /* the whole folded value */
		}
		while (value.n > 0 && (value.p[0] == ' ' || value.p[0] == '\t'))
			value.p++, value.n--;
		while (value.n > 0 && (value.p[value.n - 1] == ' ' || value.p[value.n - 1] == '\t'))
			value.n--;
		if (key.n == 0)
			continue; /* Go skips an empty key, value and all */
		header(&h, key, value);
	}
	req->head_len = pos;

	/* request.go readRequest, then readTransfer */
	if (h.hosts > 1)
		return refuse(req, HTTP_400); /* "too many Host headers" */
	bool at_least_11 = major > 1 || (major == 1 && minor >= 1) || (major == 0 && minor == 0);
	bool chunked = false;
	if (h.encodings > 0 && at_least_11) { /* parseTransferEncoding; HTTP/1.0: ignored */
		if (h.encodings > 1 || !equal_fold(h.encoding, "chunked"))
			return refuse(req, HTTP_501);
		chunked = true; /* and Content-Length is dropped */
	}
	int64_t length = 0;
	if (!chunked && h.lengths > 0) { /* fixLength, parseContentLength */
		if (h.length_differs)
			return refuse(req, HTTP_400); /* "http: message cannot contain multiple Content-Length headers" */
		for (size_t i = 0; i < h.length.n; i++) {
			char c = h.length.p[i];
			if (c < '0' || c > '9' || length > (INT64_MAX - (c - '0')) / 10)
				return refuse(req, HTTP_400); /* "bad Content-Length" */
			length = length * 10 + (c - '0');
		}
	}

	/* server.go (*conn).readRequest */
	if (major != 1)
		return refuse(req, HTTP_505);
	if (minor >= 1 && h.hosts == 0 && !connect)
		return refuse(req, HTTP_400_NOHOST);
	for (size_t i = 0; i < h.host.n; i++)
		if (!is_host_byte((unsigned char)h.host.p[i]))
			return refuse(req, HTTP_400_BADHOST);
	if (h.bad_name)
		return refuse(req, HTTP_400_NAME);
	if (h.bad_value)
		return refuse(req, HTTP_400_VALUE);

	/* The answer (server.go chunkWriter.writeHeader): HTTP/1.0 is closed
	 * after it unless its first Connection header asks for keep-alive
	 * (wantsHttp10KeepAlive), HTTP/1.1 kept unless it asks to close
	 * (wantsClose); a body not skipped (too big, or chunked: Go discards
	 * 256 KiB at most, this server none) closes it. */
	req->http10 = minor == 0;
	req->head = method.n == 4 && memcmp(method.p, "HEAD", 4) == 0;
	req->post = method.n == 4 && memcmp(method.p, "POST", 4) == 0;
	if (req->http10) {
		req->keepalive = has_token_at_bounds(h.connection, "keep-alive");
		req->connection = req->keepalive ? "Connection: keep-alive\r\n" : "";
	} else {
		req->keepalive = !h.close && !has_token_at_bounds(h.connection, "close");
		req->connection = req->keepalive ? "" : "Connection: close\r\n";
	}
	if (chunked || length >= HTTP_MAX_SKIP) {
		req->keepalive = false, req->unread = true;
		req->connection = "Connection: close\r\n";
		length = 0;
	}
	req->body = length;
	return HTTP_OK;
}
