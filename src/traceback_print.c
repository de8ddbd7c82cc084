/*
 * traceback_print.c - printing a goroutine's frames (the printing half of
 * Go's traceback.go): which frames show, in Go's format, and the "created
 * by" lines, into the request's printbuf.
 *
 * Go's rules kept (go-formats.md §2.4): below GOTRACEBACK=system gort's own
 * frames are hidden - the functions in libgort whose names are not public
 * (gort_ but not gort__), and any gort__ frame - unless that would hide
 * every frame; at most 50 innermost and 50 outermost frames print, the gap
 * as "...N frames elided...".  A C function has no package and no argument
 * metadata, so a frame prints its C name as is, with "(...)".  An inlined
 * call prints without "+0x", as in Go.
 *
 *   gort__serve_traceback  REQ_TRACEBACK: the frames unwound, then created by
 *   gort__serve_entry      REQ_ENTRY: a goroutine not yet started - its function
 *   gort__serve_createdby  REQ_CREATEDBY: the "created by" lines only
 *
 * Reporter thread only.  Calls traceback_unwind.c (the frames), symtab.c
 * (what they mean) and print.c's printbuf.  Built only with libdw.
 */
#include <string.h>

#include "traceback.h"

enum { INNER_FRAMES = 50, OUTER_FRAMES = 50 };

typedef struct pframe { /* one printed frame */
	const char *name, *file;
	int line;
	uintptr_t pc, entry;
	bool inlined;
} pframe;

/* walk: the frames a traceback shows, kept until the walk is over, since
 * which of them print depends on how many there are. */
typedef struct walk {
	bool showall;        /* level >= 2, or the retry when everything was hidden */
	const char *skipto;  /* still above this function's frame (or NULL) */
	int nframes;         /* frames shown so far */
	pframe inner[INNER_FRAMES];
	pframe outer[OUTER_FRAMES]; /* a ring: the last OUTER_FRAMES shown */
} walk;

static walk wk; /* reporter thread only */

/* print_location: tab, file:line, and " +0x<pc-entry>" for a real pc. */
static void print_location(printbuf *s, const pframe *f)
{
	gort__printchar(s, '\t');
	if (f->file != NULL) {
		gort__printstring(s, f->file);
		gort__printchar(s, ':');
		gort__printuint(s, (unsigned)f->line, 10);
	} else {
		gort__printstring(s, "?:0");
	}
	if (!f->inlined) {
		if (f->entry != 0 && f->pc >= f->entry) {
			if (f->pc > f->entry) {
				gort__printstring(s, " +0x");
				gort__printuint(s, f->pc - f->entry, 16);
			}
		} else {
			gort__printstring(s, " pc=0x");
			gort__printuint(s, f->pc, 16);
		}
	}
	gort__printchar(s, '\n');
}

static void print_frame(printbuf *s, const pframe *f)
{
	gort__printstring(s, f->name != NULL ? f->name : "?");
	gort__printstring(s, "(...)\n");
	print_location(s, f);
}

static void show(const pframe *f)
{
	if (wk.nframes < INNER_FRAMES)
		wk.inner[wk.nframes] = *f;
	else
		wk.outer[(wk.nframes - INNER_FRAMES) % OUTER_FRAMES] = *f;
	wk.nframes++;
}

/* traceback_frame: one frame unwound - the calls its pc stands for, each
 * shown unless the rules above hide it. */
static bool traceback_frame(uintptr_t pc, uintptr_t lookup, void *arg)
{
	sym syms[MAX_INLINE];
	int n = gort__symbolize(lookup, syms, MAX_INLINE);
	if (wk.skipto != NULL) {
		const char *skipto = wk.skipto;
		for (int i = 0; i < n; i++)
			if (syms[i].name != NULL && strcmp(syms[i].name, skipto) == 0)
				wk.skipto = NULL;
		return true;
	}
	for (int i = 0; i < n; i++) {
		if (!wk.showall && gort__runtimeframe(lookup, syms[i].name))
			continue;
		pframe f = {syms[i].name, syms[i].file, syms[i].line, pc, syms[i].entry, syms[i].inlined};
		show(&f);
	}
	return true;
}

static void walk_frames(const traceback_req *r)
{
	wk.skipto = r->skipto;
	gort__unwind(&r->from, traceback_frame, NULL);
}

static void print_walk(printbuf *s)
{
	int ninner = wk.nframes < INNER_FRAMES ? wk.nframes : INNER_FRAMES;
	for (int i = 0; i < ninner; i++)
		print_frame(s, &wk.inner[i]);
	int rest = wk.nframes - ninner;
	if (rest > OUTER_FRAMES) {
		gort__printstring(s, "...");
		gort__printuint(s, (unsigned)(rest - OUTER_FRAMES), 10);
		gort__printstring(s, " frames elided...\n");
	}
	int nouter = rest < OUTER_FRAMES ? rest : OUTER_FRAMES;
	for (int i = rest - nouter; i < rest; i++)
		print_frame(s, &wk.outer[i % OUTER_FRAMES]);
}

/* print_createdby: "created by F in goroutine N" and its location. */
static void print_createdby(const report *r)
{
	if (r->gopc == 0)
		return;
	sym syms[MAX_INLINE];
	int n = gort__symbolize(r->gopc - 1, syms, MAX_INLINE);
	/* the function that called gort_go (the physical one, as Go's findfunc),
	 * at the line of the call (the innermost) */
	printbuf *s = r->out;
	gort__printstring(s, "created by ");
	gort__printstring(s, syms[n - 1].name != NULL ? syms[n - 1].name : "?");
	if (r->parentgoid != 0) {
		gort__printstring(s, " in goroutine ");
		gort__printuint(s, (unsigned long long)r->parentgoid, 10);
	}
	gort__printchar(s, '\n');
	pframe f = {syms[n - 1].name, syms[0].file, syms[0].line, r->gopc, syms[n - 1].entry, false};
	print_location(s, &f);
}

/* finish: every report ends with its creator, and goes out in full. */
static void finish(const report *r)
{
	print_createdby(r);
	gort__printflush(r->out);
}

void gort__serve_traceback(const traceback_req *r)
{
	wk.showall = r->level >= 2;
	wk.nframes = 0;
	walk_frames(r);
	if (wk.nframes == 0 && !wk.showall) {
		wk.showall = true; /* Go: if the filter hides everything, show everything */
		walk_frames(r);
	}
	print_walk(r->report.out);
	finish(&r->report);
}

void gort__serve_entry(const entry_req *r)
{
	sym syms[MAX_INLINE];
	gort__symbolize(r->fn, syms, 1);
	pframe f = {syms[0].name, syms[0].file, syms[0].line, r->fn, syms[0].entry, false};
	print_frame(r->report.out, &f);
	finish(&r->report);
}

void gort__serve_createdby(const report *r)
{
	finish(r);
}
