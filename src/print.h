/*
 * print.h - printbuf, the one writer of the runtime's own text (print.c).
 *
 * A printbuf writes either to fd 2, through a buffer its owner provides
 * (flushed when full and when the owner says), or into an array, truncated
 * but counting every byte put, so its owner can tell what a larger array
 * would have held (gort_stack's result).  It neither allocates nor locks:
 * it is used in signal handlers, by a thread that faulted inside malloc,
 * and by the traceback reporter writing into the failing thread's buffer.
 */
#ifndef GORT_PRINT_H
#define GORT_PRINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct G G;

typedef struct printbuf {
	char *buf;
	size_t cap;
	size_t len;    /* bytes put (into an array: those that did not fit too) */
	bool tostderr; /* when full, write to fd 2 and start again; else truncate */
} printbuf;

/* printbuf_stderr: a printbuf that writes to fd 2 through buf's n bytes. */
static inline printbuf gort__printbuf_stderr(char *buf, size_t n)
{
	return (printbuf){.buf = buf, .cap = n, .len = 0, .tostderr = true};
}

/* printbuf_array: a printbuf that fills buf's n bytes and drops the rest. */
static inline printbuf gort__printbuf_array(char *buf, size_t n)
{
	return (printbuf){.buf = buf, .cap = n, .len = 0, .tostderr = false};
}

void gort__printchar(printbuf *b, char c);
void gort__printstring(printbuf *b, const char *s); /* NULL prints "<nil>" */
void gort__printuint(printbuf *b, unsigned long long v, unsigned base);
/* printflush writes what a printbuf to fd 2 holds; nothing for an array. */
void gort__printflush(printbuf *b);

/* goroutineheader_put puts Go's "goroutine N [state]:\n" for gp into b
 * (print.c says what the state holds); now is the clock to measure from. */
void gort__goroutineheader_put(printbuf *b, G *gp, int64_t now);

#endif /* GORT_PRINT_H */
