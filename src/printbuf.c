/*
 * printbuf.c - putting characters, strings and numbers into a printbuf
 * (print.h).  Apart from print.c because the tools that print what the
 * runtime prints - gort-peek's goroutine dump, taken from outside - link
 * these with their own gort__printflush (to their stdout) and without the
 * rest of the runtime.
 */
#include "print.h"

void gort__printchar(printbuf *b, char c)
{
	if (b->tostderr && b->len == b->cap)
		gort__printflush(b);
	if (b->len < b->cap)
		b->buf[b->len] = c;
	b->len++;
}

void gort__printstring(printbuf *b, const char *s)
{
	if (s == NULL)
		s = "<nil>";
	while (*s)
		gort__printchar(b, *s++);
}

void gort__printuint(printbuf *b, unsigned long long v, unsigned base)
{
	char digits[24];
	int i = 0;
	do {
		digits[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v != 0);
	while (i > 0)
		gort__printchar(b, digits[--i]);
}
