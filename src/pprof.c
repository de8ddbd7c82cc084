/*
 * pprof.c - profiles in pprof's format (Go's runtime/pprof: pprof.go's
 * profiles and text forms, proto.go's profileBuilder).
 *
 *   gort_pprof_lookup_write  pprof.Lookup(name).WriteTo(w, debug)
 *   gort__pprof_lookup       the same, into memory (the endpoints')
 *   gort__prof_new/_sample/_finish   the builder: stacks in, profile.proto
 *                            out, gzipped
 *
 * A profile is a list of samples, each a stack of location ids and a value
 * per sample type.  A location is one pc with the functions and lines it
 * stands for (several where calls were inlined), a function a name and a
 * file, and every string is an index into one table.  The builder turns
 * each new pc into a location as it first sees it, symbolized through the
 * traceback reporter (gort_frame_info: the DWARF, read by libdw), so the
 * profile carries its own names, files and lines and `go tool pprof`
 * needs no binary to read it; each location names the executable mapping
 * it lies in, marked as symbolized already, so pprof does not try again.
 *
 * profile.proto's field numbers, as Go's proto.go names them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "pprof.h"
#include "traceback.h"

enum {
	tagProfile_SampleType = 1, tagProfile_Sample = 2, tagProfile_Mapping = 3,
	tagProfile_Location = 4, tagProfile_Function = 5, tagProfile_StringTable = 6,
	tagProfile_TimeNanos = 9, tagProfile_DurationNanos = 10, tagProfile_PeriodType = 11,
	tagProfile_Period = 12, tagProfile_DefaultSampleType = 14,
	tagValueType_Type = 1, tagValueType_Unit = 2,
	tagSample_Location = 1, tagSample_Value = 2, tagSample_Label = 3,
	tagLabel_Key = 1, tagLabel_Num = 3,
	tagMapping_ID = 1, tagMapping_Start = 2, tagMapping_Limit = 3, tagMapping_Offset = 4,
	tagMapping_Filename = 5, tagMapping_HasFunctions = 7, tagMapping_HasFilenames = 8,
	tagMapping_HasLineNumbers = 9, tagMapping_HasInlineFrames = 10,
	tagLocation_ID = 1, tagLocation_MappingID = 2, tagLocation_Address = 3, tagLocation_Line = 4,
	tagLine_FunctionID = 1, tagLine_Line = 2,
	tagFunction_ID = 1, tagFunction_Name = 2, tagFunction_SystemName = 3, tagFunction_Filename = 4,
};

enum { MAX_FRAMES = 16 }; /* inlined calls one pc may stand for */

/* ---- a map of uint64 to uint64 (pc -> location, function key -> id) ---- */

typedef struct u64map {
	uint64_t *keys, *vals; /* key 0 is never stored: pcs and keys are non-zero */
	size_t cap, n;
} u64map;

static uint64_t mix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return k;
}

static uint64_t *mapget(u64map *m, uint64_t k)
{
	if (m->cap == 0)
		return NULL;
	for (size_t i = mix(k) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == k)
			return &m->vals[i];
		if (m->keys[i] == 0)
			return NULL;
	}
}

static bool mapput(u64map *m, uint64_t k, uint64_t v)
{
	if (2 * (m->n + 1) > m->cap) {
		u64map g = {.cap = m->cap ? 2 * m->cap : 256};
		g.keys = calloc(g.cap, sizeof *g.keys);
		g.vals = calloc(g.cap, sizeof *g.vals);
		if (g.keys == NULL || g.vals == NULL) {
			free(g.keys);
			free(g.vals);
			return false;
		}
		for (size_t i = 0; i < m->cap; i++)
			if (m->keys[i] != 0)
				mapput(&g, m->keys[i], m->vals[i]);
		free(m->keys);
		free(m->vals);
		*m = g;
	}
	size_t i = mix(k) & (m->cap - 1);
	while (m->keys[i] != 0 && m->keys[i] != k)
		i = (i + 1) & (m->cap - 1);
	if (m->keys[i] == 0)
		m->n++;
	m->keys[i] = k;
	m->vals[i] = v;
	return true;
}

static void mapfree(u64map *m)
{
	free(m->keys);
	free(m->vals);
}

/* ---- the builder ------------------------------------------------------------ */

typedef struct mapping {
	uint64_t start, limit, offset;
	char file[256];
} mapping;

struct profbuilder {
	profkind kind;
	char name[32];    /* a count profile's: its sample and period type */
	int64_t period;
	int64_t start_unix_ns, duration_ns;
	pbuf pb;          /* the Profile message: sample types, samples */
	pbuf locfunc;     /* its Location and Function messages */
	bool oom;
	/* the string table, and a map from a string's hash to its index
	 * (a collision probes on: strings are compared) */
	char **strs;
	int nstrs, capstrs;
	u64map strmap;    /* hash -> index + 1 (several: the probe sequence of hash+i) */
	u64map locs;      /* pc -> location id */
	u64map funcs;     /* (name index << 32 | file index) -> function id */
	uint64_t nlocs, nfuncs;
	mapping *maps;
	int nmaps;
	bool mapused[64];
};

static uint64_t strhash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h | 1;
}

/* stringindex: s's index in the table, added if new (Go's stringIndex). */
static int64_t stringindex(profbuilder *b, const char *s)
{
	if (s == NULL)
		s = "";
	/* probe keys: the hash, then steps from it, until a free one */
	uint64_t k = strhash(s);
	for (uint64_t *v; (v = mapget(&b->strmap, k)) != NULL; k = (k + 0x9e3779b97f4a7c15ull) | 1)
		if (strcmp(b->strs[*v - 1], s) == 0)
			return (int64_t)*v - 1;
	if (b->nstrs == b->capstrs) {
		int cap = b->capstrs ? 2 * b->capstrs : 64;
		char **p = realloc(b->strs, (size_t)cap * sizeof *p);
		if (p == NULL) {
			b->oom = true;
			return 0;
		}
		b->strs = p;
		b->capstrs = cap;
	}
	char *copy = strdup(s);
	if (copy == NULL) {
		b->oom = true;
		return 0;
	}
	if (!mapput(&b->strmap, k, (uint64_t)b->nstrs + 1)) {
		free(copy);
		b->oom = true;
		return 0;
	}
	b->strs[b->nstrs] = copy;
	return b->nstrs++;
}

static void valuetype(profbuilder *b, int field, const char *type, const char *unit)
{
	size_t start = gort__pb_begin(&b->pb, field);
	gort__pb_uint64opt(&b->pb, tagValueType_Type, (uint64_t)stringindex(b, type));
	gort__pb_uint64opt(&b->pb, tagValueType_Unit, (uint64_t)stringindex(b, unit));
	gort__pb_end(&b->pb, start);
}

/* readmappings: the executable mappings of this process (Go's
 * readMapping, from /proc/self/maps), the main executable first. */
static void readmappings(profbuilder *b)
{
	FILE *f = fopen("/proc/self/maps", "re");
	if (f == NULL)
		return;
	char line[512];
	while (fgets(line, sizeof line, f) != NULL && b->nmaps < 64) {
		unsigned long lo, hi, off;
		char perms[8], path[256] = "";
		if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %255s", &lo, &hi, perms, &off, path) < 4)
			continue;
		if (perms[2] != 'x' || path[0] != '/')
			continue;
		mapping *m = realloc(b->maps, (size_t)(b->nmaps + 1) * sizeof *m);
		if (m == NULL)
			break;
		b->maps = m;
		m[b->nmaps] = (mapping){.start = lo, .limit = hi, .offset = off};
		snprintf(m[b->nmaps].file, sizeof m[b->nmaps].file, "%s", path);
		b->nmaps++;
	}
	fclose(f);
}

static int mappingid(profbuilder *b, uint64_t addr)
{
	for (int i = 0; i < b->nmaps; i++)
		if (addr >= b->maps[i].start && addr < b->maps[i].limit) {
			b->mapused[i] = true;
			return i + 1;
		}
	return 0;
}

profbuilder *gort__prof_new(profkind kind, const char *name, int64_t period)
{
	profbuilder *b = calloc(1, sizeof *b);
	if (b == NULL)
		return NULL;
	b->kind = kind;
	b->period = period;
	snprintf(b->name, sizeof b->name, "%s", name != NULL ? name : "");
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	b->start_unix_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	stringindex(b, ""); /* index 0 is "", as profile.proto requires */
	readmappings(b);
	switch (kind) {
	case PROF_COUNT: /* printCountProfile */
		valuetype(b, tagProfile_SampleType, name, "count");
		break;
	case PROF_CYCLES: /* printCountCycleProfile */
		valuetype(b, tagProfile_SampleType, "contentions", "count");
		valuetype(b, tagProfile_SampleType, "delay", "nanoseconds");
		break;
	case PROF_CPU: /* profileBuilder.build */
		valuetype(b, tagProfile_SampleType, "samples", "count");
		valuetype(b, tagProfile_SampleType, "cpu", "nanoseconds");
		break;
	case PROF_HEAP: /* writeHeapProto; name: the default sample type, or "" */
		valuetype(b, tagProfile_SampleType, "alloc_objects", "count");
		valuetype(b, tagProfile_SampleType, "alloc_space", "bytes");
		valuetype(b, tagProfile_SampleType, "inuse_objects", "count");
		valuetype(b, tagProfile_SampleType, "inuse_space", "bytes");
		if (b->name[0] != '\0')
			gort__pb_uint64opt(&b->pb, tagProfile_DefaultSampleType,
			                   (uint64_t)stringindex(b, b->name));
		break;
	}
	return b;
}

void gort__prof_times(profbuilder *b, int64_t start_unix_ns, int64_t duration_ns)
{
	b->start_unix_ns = start_unix_ns;
	b->duration_ns = duration_ns;
}

/* funcid: the Function of (name, file), emitted when first seen. */
static uint64_t funcid(profbuilder *b, const char *name, const char *file)
{
	int64_t ni = stringindex(b, name), fi = stringindex(b, file);
	uint64_t k = (uint64_t)ni << 32 | (uint64_t)fi | (1ull << 63);
	uint64_t *v = mapget(&b->funcs, k);
	if (v != NULL)
		return *v;
	uint64_t id = ++b->nfuncs;
	if (!mapput(&b->funcs, k, id))
		b->oom = true;
	size_t start = gort__pb_begin(&b->locfunc, tagProfile_Function);
	gort__pb_uint64opt(&b->locfunc, tagFunction_ID, id);
	gort__pb_uint64opt(&b->locfunc, tagFunction_Name, (uint64_t)ni);
	gort__pb_uint64opt(&b->locfunc, tagFunction_SystemName, (uint64_t)ni);
	gort__pb_uint64opt(&b->locfunc, tagFunction_Filename, (uint64_t)fi);
	gort__pb_end(&b->locfunc, start);
	return id;
}

/*
 * locid: the Location of a return address, emitted when first seen.  Its
 * address is pc - 1 (the call, as Go's CallersFrames gives Frame.PC); its
 * lines are the frames gort_frame_info expands it into, innermost first.
 * A pc nothing is known of gets a location with its address alone, which
 * pprof shows in hex.
 */
static uint64_t locid(profbuilder *b, uintptr_t pc)
{
	uint64_t *v = mapget(&b->locs, pc);
	if (v != NULL)
		return *v;
	gort_frame fr[MAX_FRAMES];
	int n = gort_frame_info(pc, fr, MAX_FRAMES);
	if (n > MAX_FRAMES)
		n = MAX_FRAMES;
	uint64_t fids[MAX_FRAMES];
	for (int i = 0; i < n; i++)
		fids[i] = fr[i].function != NULL ? funcid(b, fr[i].function, fr[i].file) : 0;
	uint64_t id = ++b->nlocs;
	if (!mapput(&b->locs, pc, id))
		b->oom = true;
	pbuf *p = &b->locfunc;
	size_t start = gort__pb_begin(p, tagProfile_Location);
	gort__pb_uint64opt(p, tagLocation_ID, id);
	gort__pb_uint64opt(p, tagLocation_MappingID, (uint64_t)mappingid(b, pc - 1));
	gort__pb_uint64opt(p, tagLocation_Address, pc - 1);
	for (int i = 0; i < n; i++) {
		if (fids[i] == 0)
			continue;
		size_t l = gort__pb_begin(p, tagLocation_Line);
		gort__pb_uint64opt(p, tagLine_FunctionID, fids[i]);
		gort__pb_uint64opt(p, tagLine_Line, (uint64_t)(int64_t)fr[i].line);
		gort__pb_end(p, l);
	}
	gort__pb_end(p, start);
	return id;
}

void gort__prof_sample(profbuilder *b, const uintptr_t *stk, int n, const int64_t *values)
{
	uint64_t ids[PROF_MAXSTACK];
	int k = 0;
	for (int i = 0; i < n && k < PROF_MAXSTACK; i++)
		if (stk[i] > 1)
			ids[k++] = locid(b, stk[i]);
	uint64_t vals[4];
	int nv = b->kind == PROF_COUNT ? 1 : b->kind == PROF_HEAP ? 4 : 2;
	for (int i = 0; i < nv; i++)
		vals[i] = (uint64_t)values[i];
	size_t start = gort__pb_begin(&b->pb, tagProfile_Sample);
	gort__pb_packed(&b->pb, tagSample_Location, ids, k);
	gort__pb_packed(&b->pb, tagSample_Value, vals, nv);
	if (b->kind == PROF_HEAP && values[0] != 0 && values[1] / values[0] != 0) {
		/* Go's label: the objects' average size */
		size_t l = gort__pb_begin(&b->pb, tagSample_Label);
		gort__pb_uint64opt(&b->pb, tagLabel_Key, (uint64_t)stringindex(b, "bytes"));
		gort__pb_uint64opt(&b->pb, tagLabel_Num, (uint64_t)(values[1] / values[0]));
		gort__pb_end(&b->pb, l);
	}
	gort__pb_end(&b->pb, start);
}

static void freebuilder(profbuilder *b)
{
	gort__pbuf_free(&b->pb);
	gort__pbuf_free(&b->locfunc);
	for (int i = 0; i < b->nstrs; i++)
		free(b->strs[i]);
	free(b->strs);
	mapfree(&b->strmap);
	mapfree(&b->locs);
	mapfree(&b->funcs);
	free(b->maps);
	free(b);
}

/* finish: the trailer fields Go's build writes, the mappings, the string
 * table last (every index is known by then), then all of it gzipped. */
int gort__prof_finish(profbuilder *b, pbuf *out)
{
	pbuf *p = &b->pb;
	gort__pb_uint64opt(p, tagProfile_TimeNanos, (uint64_t)b->start_unix_ns);
	if (b->kind != PROF_CPU) /* a delta profile's: the window (omitted when 0) */
		gort__pb_uint64opt(p, tagProfile_DurationNanos, (uint64_t)b->duration_ns);
	if (b->kind == PROF_CPU) {
		gort__pb_uint64opt(p, tagProfile_DurationNanos, (uint64_t)b->duration_ns);
		valuetype(b, tagProfile_PeriodType, "cpu", "nanoseconds");
	} else if (b->kind == PROF_HEAP) {
		valuetype(b, tagProfile_PeriodType, "space", "bytes");
	} else {
		valuetype(b, tagProfile_PeriodType, b->kind == PROF_CYCLES ? "contentions" : b->name,
		          "count");
	}
	gort__pb_uint64opt(p, tagProfile_Period, (uint64_t)b->period);
	gort__pbuf_put(p, b->locfunc.p, b->locfunc.len);
	for (int i = 0; i < b->nmaps; i++) {
		if (!b->mapused[i] && i != 0)
			continue;
		size_t start = gort__pb_begin(p, tagProfile_Mapping);
		gort__pb_uint64opt(p, tagMapping_ID, (uint64_t)i + 1);
		gort__pb_uint64opt(p, tagMapping_Start, b->maps[i].start);
		gort__pb_uint64opt(p, tagMapping_Limit, b->maps[i].limit);
		gort__pb_uint64opt(p, tagMapping_Offset, b->maps[i].offset);
		gort__pb_uint64opt(p, tagMapping_Filename, (uint64_t)stringindex(b, b->maps[i].file));
		/* symbolized here: pprof must not look for the binary */
		gort__pb_bool(p, tagMapping_HasFunctions, true);
		gort__pb_bool(p, tagMapping_HasFilenames, true);
		gort__pb_bool(p, tagMapping_HasLineNumbers, true);
		gort__pb_bool(p, tagMapping_HasInlineFrames, true);
		gort__pb_end(p, start);
	}
	for (int i = 0; i < b->nstrs; i++)
		gort__pb_string(p, tagProfile_StringTable, b->strs[i], strlen(b->strs[i]));
	int err = 0;
	if (b->oom || p->oom || b->locfunc.oom) {
		err = -ENOMEM;
	} else {
		gort__gzip(p->p, p->len, out);
		if (out->oom)
			err = -ENOMEM;
	}
	freebuilder(b);
	return err;
}

/* ---- Go's text forms ----------------------------------------------------------- */

/*
 * The legacy text (debug=1) goes through Go's text/tabwriter with
 * minwidth 1, tabwidth 8, padding 1 and '\t' as the padding: each run of
 * consecutive lines that have a cell in column j sets column j's width to
 * its widest cell plus one, rounded up to a multiple of 8, and a cell is
 * padded with as many tabs as it takes to reach it.  tw collects the lines
 * of such a run (a stack record's frames) and writes them out so.
 */
enum { TW_MAXLINES = 256, TW_MAXCELLS = 4 };

typedef struct tabw {
	pbuf *out;
	int nlines;
	int ncells[TW_MAXLINES];           /* cells per line, the last unterminated */
	char *cell[TW_MAXLINES][TW_MAXCELLS];
	int widths[TW_MAXLINES][TW_MAXCELLS];
} tabw;

static void tw_line(tabw *t, const char *const *cells, int n)
{
	if (t->nlines == TW_MAXLINES)
		return;
	int l = t->nlines++;
	t->ncells[l] = n;
	for (int i = 0; i < n; i++)
		t->cell[l][i] = strdup(cells[i] != NULL ? cells[i] : "");
}

/* tw_flush: a run of column c is a maximal sequence of lines that have a
 * cell c (the last cell of a line is not in a column); its width is its
 * widest cell + 1, rounded up to a tab stop when the cell is padded. */
static void tw_flush(tabw *t)
{
	int (*widths)[TW_MAXCELLS] = t->widths;
	for (int c = 0; c < TW_MAXCELLS; c++)
		for (int l = 0; l < t->nlines;) {
			if (c >= t->ncells[l] - 1) {
				l++;
				continue;
			}
			int end = l, w = 1;
			for (; end < t->nlines && c < t->ncells[end] - 1; end++)
				if ((int)strlen(t->cell[end][c]) + 1 > w)
					w = (int)strlen(t->cell[end][c]) + 1;
			for (; l < end; l++)
				widths[l][c] = w;
		}
	for (int l = 0; l < t->nlines; l++) {
		for (int c = 0; c < t->ncells[l]; c++) {
			const char *s = t->cell[l][c];
			gort__pbuf_puts(t->out, s);
			if (c < t->ncells[l] - 1) {
				int cellw = (widths[l][c] + 7) / 8 * 8, n = cellw - (int)strlen(s);
				for (int k = (n + 7) / 8; k > 0; k--)
					gort__pbuf_put(t->out, "\t", 1);
			}
			free(t->cell[l][c]);
		}
		gort__pbuf_put(t->out, "\n", 1);
	}
	t->nlines = 0;
}

/*
 * printstackrecord: Go's printStackRecord - a "#\tpc\tfunction+off\tfile:line"
 * line per frame (inlined calls expanded), pc being the call (return
 * address - 1); without allframes, gort's own frames at the top are
 * hidden (Go hides runtime.*), unless that would leave nothing.
 */
static void printstackrecord(pbuf *out, const uintptr_t *stk, int n, bool allframes)
{
	tabw *t = calloc(1, sizeof *t);
	if (t == NULL) {
		out->oom = true;
		return;
	}
	t->out = out;
	bool show = allframes;
	for (int i = 0; i < n; i++) {
		gort_frame fr[MAX_FRAMES];
		int k = gort_frame_info(stk[i], fr, MAX_FRAMES);
		if (k > MAX_FRAMES)
			k = MAX_FRAMES;
		uintptr_t pc = stk[i] - 1;
		char spc[32], sfn[512], sfile[512];
		snprintf(spc, sizeof spc, "%#lx", (unsigned long)pc);
		if (k == 0) {
			show = true;
			const char *cells[] = {"#", spc};
			tw_line(t, cells, 2);
			continue;
		}
		for (int j = 0; j < k; j++) {
			if (fr[j].function == NULL) {
				show = true;
				const char *cells[] = {"#", spc};
				tw_line(t, cells, 2);
				continue;
			}
			if (!show && gort__runtimeframe(pc, fr[j].function))
				continue;
			show = true;
			snprintf(sfn, sizeof sfn, "%s+%#lx", fr[j].function,
			         (unsigned long)(fr[j].entry != 0 ? pc - fr[j].entry : 0));
			snprintf(sfile, sizeof sfile, "%s:%d", fr[j].file != NULL ? fr[j].file : "?", fr[j].line);
			const char *cells[] = {"#", spc, sfn, sfile};
			tw_line(t, cells, 4);
		}
	}
	if (!show) {
		free(t);
		printstackrecord(out, stk, n, true);
		return;
	}
	tw_flush(t);
	free(t);
	gort__pbuf_put(out, "\n", 1);
}

/* ---- count profiles: goroutine, threadcreate ------------------------------------ */

typedef struct stackrec {
	int n;
	uintptr_t stk[PROF_MAXSTACK];
	int64_t count;
	char *key; /* "@ 0x... 0x...", Go's key and sort order */
} stackrec;

typedef struct stackset {
	stackrec *r;
	int n, cap;
	int64_t total;
	bool oom;
} stackset;

static void stackset_add(stackset *s, const uintptr_t *stk, int n)
{
	s->total++;
	for (int i = 0; i < s->n; i++)
		if (s->r[i].n == n && memcmp(s->r[i].stk, stk, (size_t)n * sizeof *stk) == 0) {
			s->r[i].count++;
			return;
		}
	if (s->n == s->cap) {
		int cap = s->cap ? 2 * s->cap : 64;
		stackrec *r = realloc(s->r, (size_t)cap * sizeof *r);
		if (r == NULL) {
			s->oom = true;
			return;
		}
		s->r = r;
		s->cap = cap;
	}
	stackrec *r = &s->r[s->n++];
	r->n = n;
	memcpy(r->stk, stk, (size_t)n * sizeof *stk);
	r->count = 1;
	r->key = NULL;
}

static int bycount(const void *a, const void *b)
{
	const stackrec *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* printcountprofile: Go's printCountProfile - stacks counted, sorted by
 * count, then key; the legacy text (debug > 0) or the protobuf. */
static int printcountprofile(stackset *s, const char *name, int debug, pbuf *out)
{
	if (s->oom)
		return -ENOMEM;
	for (int i = 0; i < s->n; i++) {
		pbuf k = {0};
		gort__pbuf_puts(&k, "@");
		for (int j = 0; j < s->r[i].n; j++)
			gort__pbuf_printf(&k, " %#lx", (unsigned long)s->r[i].stk[j]);
		gort__pbuf_put(&k, "", 1);
		s->r[i].key = k.oom ? strdup("") : (char *)k.p;
		if (k.oom)
			gort__pbuf_free(&k);
	}
	if (s->n > 0) /* an empty goroutineleak profile has no records, and r is NULL */
		qsort(s->r, (size_t)s->n, sizeof *s->r, bycount);
	int err = 0;
	if (debug > 0) {
		gort__pbuf_printf(out, "%s profile: total %lld\n", name, (long long)s->total);
		for (int i = 0; i < s->n; i++) {
			gort__pbuf_printf(out, "%lld %s\n", (long long)s->r[i].count, s->r[i].key);
			printstackrecord(out, s->r[i].stk, s->r[i].n, false);
		}
	} else {
		profbuilder *b = gort__prof_new(PROF_COUNT, name, 1);
		if (b == NULL) {
			err = -ENOMEM;
		} else {
			for (int i = 0; i < s->n; i++)
				gort__prof_sample(b, s->r[i].stk, s->r[i].n, &s->r[i].count);
			err = gort__prof_finish(b, out);
		}
	}
	for (int i = 0; i < s->n; i++)
		free(s->r[i].key);
	free(s->r);
	return err != 0 ? err : out->oom ? -ENOMEM : 0;
}

/* ---- goroutine ---------------------------------------------------------------- */

typedef struct gcollect {
	G *self;
	bool leakedonly; /* the goroutineleak profile: only those the leak check flagged */
	stackset set;
} gcollect;

void gort__gostart(void);

/* gstack: a goroutine's stack for the profile - parked or in a system
 * call, unwound from its saved registers; never run, its function. */
static void gstack(G *gp, void *arg)
{
	gcollect *c = arg;
	if (gp == c->self || gp->goid == 0)
		return;
	if (c->leakedonly && !(gp->leaked && gort__readgstatus(gp) == Gwaiting))
		return;
	uintptr_t stk[PROF_MAXSTACK];
	int n = gort__tracebackpcs(gp, stk, PROF_MAXSTACK);
	if (n <= 0) {
		stk[0] = gp->startpc + 1; /* a return address's form: looked up at the function */
		n = 1;
	}
	stackset_add(&c->set, stk, n);
}

/* goroutinestacks: every goroutine's stack into s, the caller's (self's)
 * first, from where it asked. */
static void goroutinestacks(G *self, stackset *s)
{
	gcollect c = {.self = self};
	uintptr_t mine[PROF_MAXSTACK];
	int nmine = gort__prof_callers(mine, PROF_MAXSTACK);
	stackset_add(&c.set, mine, nmine);
	/* the world stops while the stacks are taken, as Go's goroutine
	 * profile stops it: no goroutine changes its stack meanwhile */
	gort__stoptheworld();
	while (!gort__forEachG(gstack, &c))
		gort__osyield();
	gort__starttheworld();
	*s = c.set;
}

/* goroutinestacks_leaked: the stacks of the goroutines the last leak
 * check flagged (the caller's is never one: it runs). */
static void goroutinestacks_leaked(G *self, stackset *s)
{
	gcollect c = {.self = self, .leakedonly = true};
	gort__stoptheworld();
	while (!gort__forEachG(gstack, &c))
		gort__osyield();
	gort__starttheworld();
	*s = c.set;
}

static int goroutineprofile(int debug, pbuf *out);

/* goroutineleak: Go 1.26's profile - a leak check first (a collection:
 * mgcleak.c), then the leaked goroutines' stacks as the goroutine
 * profile counts them; debug 2: every goroutine's traceback, the leaked
 * ones' headers marked "(leaked)", as Go's writeGoroutineStacks. */
static int goroutineleakprofile(int debug, pbuf *out)
{
	G *self = gort__current_goroutine("gort_pprof_lookup_write(\"goroutineleak\")");
	gort_goroutine_leaks();
	if (debug >= 2)
		return goroutineprofile(debug, out);
	stackset s = {0};
	goroutinestacks_leaked(self, &s);
	return printcountprofile(&s, "goroutineleak", debug, out);
}

static int goroutineprofile(int debug, pbuf *out)
{
	G *self = gort__current_goroutine("gort_pprof_lookup_write(\"goroutine\")");
	if (debug >= 2) { /* Go's writeGoroutineStacks: runtime.Stack(buf, true) */
		for (size_t size = 1 << 20;; size *= 2) {
			char *buf = malloc(size);
			if (buf == NULL)
				return -ENOMEM;
			int n = gort_stack(buf, size, true);
			if ((size_t)n < size || size >= 64 << 20) {
				gort__pbuf_put(out, buf, (size_t)n);
				free(buf);
				return out->oom ? -ENOMEM : 0;
			}
			free(buf);
		}
	}
	stackset s = {0};
	goroutinestacks(self, &s);
	return printcountprofile(&s, "goroutine", debug, out);
}

/* ---- threadcreate --------------------------------------------------------------- */

static void mstack(M *mp, void *arg)
{
	stackset *s = arg;
	stackset_add(s, mp->createstk, mp->ncreatestk);
}

static void threadstacks(stackset *s)
{
	while (!gort__mforeach_trylock(mstack, s))
		gort__osyield();
}

static int threadcreateprofile(int debug, pbuf *out)
{
	stackset s = {0};
	threadstacks(&s);
	return printcountprofile(&s, "threadcreate", debug, out);
}

/* ---- block and mutex ------------------------------------------------------------- */

static int bycycles(const void *a, const void *b)
{
	const blockrecord *x = a, *y = b;
	return x->cycles > y->cycles ? -1 : x->cycles < y->cycles ? 1 : 0;
}

/* Go's writeProfileInternal: the records by delay, most first; the mutex
 * profile scaled by its fraction (scaleMutexProfile), the block one not. */
static int cycleprofile(bool block, int debug, pbuf *out)
{
	blockrecord *r;
	int n = gort__mprof_records(block, &r);
	if (n < 0)
		return n;
	qsort(r, (size_t)n, sizeof *r, bycycles);
	int64_t period = block ? 1 : gort_set_mutex_profile_fraction(-1);
	int err = 0;
	if (debug <= 0) {
		profbuilder *b = gort__prof_new(PROF_CYCLES, NULL, 1);
		if (b == NULL) {
			free(r);
			return -ENOMEM;
		}
		for (int i = 0; i < n; i++) {
			int64_t v[2] = {r[i].count * period, r[i].cycles * period};
			gort__prof_sample(b, r[i].stk, r[i].nstk, v);
		}
		err = gort__prof_finish(b, out);
	} else {
		gort__pbuf_printf(out, "--- %s:\n", block ? "contention" : "mutex");
		gort__pbuf_printf(out, "cycles/second=%d\n", 1000000000);
		if (!block)
			gort__pbuf_printf(out, "sampling period=%lld\n", (long long)period);
		for (int i = 0; i < n; i++) {
			gort__pbuf_printf(out, "%lld %lld @", (long long)r[i].cycles, (long long)r[i].count);
			for (int j = 0; j < r[i].nstk; j++)
				gort__pbuf_printf(out, " %#lx", (unsigned long)r[i].stk[j]);
			gort__pbuf_puts(out, "\n");
			printstackrecord(out, r[i].stk, r[i].nstk, true);
		}
	}
	free(r);
	return err != 0 ? err : out->oom ? -ENOMEM : 0;
}

/* ---- heap and allocs (Go's writeHeapInternal, writeHeapProto) ------------------------ */

/* e^-x for x >= 0 (no libm): halve x below 1/2, a Taylor series, square back. */
static double exp_neg(double x)
{
	if (x > 700)
		return 0;
	int k = 0;
	for (; x > 0.5; k++)
		x /= 2;
	double t = 1 - x * (1 - x / 2 * (1 - x / 3 * (1 - x / 4 * (1 - x / 5 * (1 - x / 6 * (1 - x / 7))))));
	while (k-- > 0)
		t *= t;
	return t;
}

/* scaleHeapSample: a sample stands for the objects of its size that were
 * allocated unsampled - 1 / (1 - e^(-size/rate)) of them on average. */
static void scaleheap(int64_t count, int64_t size, int64_t rate, int64_t *c, int64_t *b)
{
	if (count == 0 || size == 0) {
		*c = *b = 0;
		return;
	}
	if (rate <= 1) {
		*c = count;
		*b = size;
		return;
	}
	double avg = (double)size / (double)count;
	double scale = 1 / (1 - exp_neg(avg / (double)rate));
	*c = (int64_t)((double)count * scale);
	*b = (int64_t)((double)size * scale);
}

/* heaplo: where a heap record's stack starts once gort's frames on top
 * (gort_new) are hidden, as Go's writeHeapProto hides runtime.*. */
static int heaplo(const memrecord *r)
{
	int lo = 0;
	while (lo + 1 < r->nstk && gort__in_gort_text(r->stk[lo]))
		lo++;
	return lo;
}

/* heapvalues: a record's four values as the proto holds them, scaled. */
static void heapvalues(const memrecord *r, int64_t rate, int64_t v[4])
{
	scaleheap(r->allocs, r->alloc_bytes, rate, &v[0], &v[1]);
	scaleheap(r->allocs - r->frees, r->alloc_bytes - r->free_bytes, rate, &v[2], &v[3]);
}

static int byinuse(const void *a, const void *b)
{
	const memrecord *x = a, *y = b;
	int64_t ix = x->alloc_bytes - x->free_bytes, iy = y->alloc_bytes - y->free_bytes;
	return ix > iy ? -1 : ix < iy ? 1 : 0;
}

/* Go's %v of a float64: the shortest %g that reads back the same. */
static void fmtfloat(char *buf, size_t size, double v)
{
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

/* memstats: the "# runtime.MemStats" trailer, with the fields gort has,
 * in Go's order (Lookups, the stack and metadata lines, PauseEnd and
 * DebugGC it has not). */
static void memstats(pbuf *out, const gort_mem_stats *m)
{
	gort__pbuf_printf(out, "\n# runtime.MemStats\n");
	gort__pbuf_printf(out, "# Alloc = %llu\n", (unsigned long long)m->alloc);
	gort__pbuf_printf(out, "# TotalAlloc = %llu\n", (unsigned long long)m->total_alloc);
	gort__pbuf_printf(out, "# Sys = %llu\n", (unsigned long long)m->sys);
	gort__pbuf_printf(out, "# Mallocs = %llu\n", (unsigned long long)m->mallocs);
	gort__pbuf_printf(out, "# Frees = %llu\n", (unsigned long long)m->frees);
	gort__pbuf_printf(out, "# HeapAlloc = %llu\n", (unsigned long long)m->heap_alloc);
	gort__pbuf_printf(out, "# HeapSys = %llu\n", (unsigned long long)m->heap_sys);
	gort__pbuf_printf(out, "# HeapIdle = %llu\n", (unsigned long long)m->heap_idle);
	gort__pbuf_printf(out, "# HeapInuse = %llu\n", (unsigned long long)m->heap_inuse);
	gort__pbuf_printf(out, "# HeapReleased = %llu\n", (unsigned long long)m->heap_released);
	gort__pbuf_printf(out, "# HeapObjects = %llu\n", (unsigned long long)m->heap_objects);
	gort__pbuf_printf(out, "# NextGC = %llu\n", (unsigned long long)m->next_gc);
	gort__pbuf_printf(out, "# LastGC = %llu\n", (unsigned long long)m->last_gc);
	gort__pbuf_puts(out, "# PauseNs = [");
	for (int i = 0; i < 256; i++)
		gort__pbuf_printf(out, i == 0 ? "%llu" : " %llu", (unsigned long long)m->pause_ns[i]);
	gort__pbuf_puts(out, "]\n");
	gort__pbuf_printf(out, "# NumGC = %u\n", m->num_gc);
	gort__pbuf_printf(out, "# NumForcedGC = %u\n", m->num_forced_gc);
	char f[32];
	fmtfloat(f, sizeof f, m->gc_cpu_fraction);
	gort__pbuf_printf(out, "# GCCPUFraction = %s\n", f);
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) == 0) /* Go's addMaxRSS */
		gort__pbuf_printf(out, "# MaxRSS = %llu\n", (unsigned long long)ru.ru_maxrss * 1024);
}

/*
 * heapprofile: "heap" (defaultType "") or "allocs" ("alloc_space"): the
 * same records, as Go's writeHeapInternal writes both.  debug 0: the
 * proto, each sample scaled up by the sampling rate, gort's frames on top
 * (gort_new) hidden as Go hides runtime.*; 1: the legacy text, unscaled,
 * by bytes in use, most first, with the memory statistics after.
 */
static int heapprofile(const char *defaultType, int debug, pbuf *out)
{
	gort_mem_stats *ms = NULL;
	if (debug != 0) { /* first, so that the profile's own allocations are not in it */
		ms = malloc(sizeof *ms);
		if (ms == NULL)
			return -ENOMEM;
		gort_read_mem_stats(ms);
	}
	memrecord *r;
	int n = gort__mprof_heap_records(&r);
	if (n < 0) {
		free(ms);
		return n;
	}
	int64_t rate = gort_set_mem_profile_rate(-1);
	int err = 0;
	if (debug == 0) {
		profbuilder *b = gort__prof_new(PROF_HEAP, defaultType, rate);
		if (b == NULL) {
			free(r);
			return -ENOMEM;
		}
		for (int i = 0; i < n; i++) {
			int lo = heaplo(&r[i]);
			int64_t v[4];
			heapvalues(&r[i], rate, v);
			gort__prof_sample(b, r[i].stk + lo, r[i].nstk - lo, v);
		}
		err = gort__prof_finish(b, out);
	} else {
		qsort(r, (size_t)n, sizeof *r, byinuse);
		memrecord t = {0};
		for (int i = 0; i < n; i++) {
			t.allocs += r[i].allocs;
			t.frees += r[i].frees;
			t.alloc_bytes += r[i].alloc_bytes;
			t.free_bytes += r[i].free_bytes;
		}
		/* 2 * rate: what early C++ heap profilers wrote, and pprof expects */
		gort__pbuf_printf(out, "heap profile: %lld: %lld [%lld: %lld] @ heap/%lld\n",
		                  (long long)(t.allocs - t.frees), (long long)(t.alloc_bytes - t.free_bytes),
		                  (long long)t.allocs, (long long)t.alloc_bytes, (long long)(2 * rate));
		for (int i = 0; i < n; i++) {
			gort__pbuf_printf(out, "%lld: %lld [%lld: %lld] @", (long long)(r[i].allocs - r[i].frees),
			                  (long long)(r[i].alloc_bytes - r[i].free_bytes), (long long)r[i].allocs,
			                  (long long)r[i].alloc_bytes);
			for (int j = 0; j < r[i].nstk; j++)
				gort__pbuf_printf(out, " %#lx", (unsigned long)r[i].stk[j]);
			gort__pbuf_puts(out, "\n");
			/* the frames from the caller of gort_new on, as Go's hide
			 * runtime.mallocgc and runtime.newobject */
			int lo = heaplo(&r[i]);
			printstackrecord(out, r[i].stk + lo, r[i].nstk - lo, false);
		}
		memstats(out, ms);
	}
	free(ms);
	free(r);
	return err != 0 ? err : out->oom ? -ENOMEM : 0;
}

/* ---- delta profiles ------------------------------------------------------------------
 *
 * net/http/pprof's serveDeltaProfile answers /debug/pprof/NAME?seconds=N
 * with what changed in N seconds: it writes the profile, waits, writes it
 * again, and merges the first scaled by -1 with the second
 * (internal/profile's Merge), which adds up the values of samples with
 * the same stack and drops the samples that come to zero.  Here the two
 * snapshots are kept as stacks and values, before any symbolization, and
 * subtracted stack by stack - the same samples in the same order as
 * Merge's: the first snapshot's stacks that changed, then the ones new in
 * the second.  Block and mutex counts only grow, so their deltas are the
 * events of the window; a goroutine or threadcreate delta may be
 * negative (goroutines that ended), as Go's is.
 */
typedef struct snaprec {
	int n;
	uintptr_t stk[PROF_MAXSTACK];
	int64_t v[4];
} snaprec;

typedef struct snapshot {
	snaprec *r;
	int n;
	int64_t unix_ns; /* when it was taken: collectProfile's time.Now */
} snapshot;

static int64_t unixnow(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* take: name's samples now, with the values the profile would hold (the
 * mutex profile's scaled by its fraction, as cycleprofile writes them). */
static int take(const char *name, G *self, snapshot *s)
{
	*s = (snapshot){0};
	if (strcmp(name, "goroutine") == 0 || strcmp(name, "threadcreate") == 0) {
		stackset set = {0};
		if (strcmp(name, "goroutine") == 0)
			goroutinestacks(self, &set);
		else
			threadstacks(&set);
		s->unix_ns = unixnow();
		if (set.oom || (set.n > 0 && (s->r = calloc((size_t)set.n, sizeof *s->r)) == NULL)) {
			free(set.r);
			return -ENOMEM;
		}
		for (int i = 0; i < set.n; i++) {
			s->r[i].n = set.r[i].n;
			memcpy(s->r[i].stk, set.r[i].stk, (size_t)set.r[i].n * sizeof set.r[i].stk[0]);
			s->r[i].v[0] = set.r[i].count;
		}
		s->n = set.n;
		free(set.r);
		return 0;
	}
	if (strcmp(name, "heap") == 0 || strcmp(name, "allocs") == 0) {
		memrecord *m;
		int n = gort__mprof_heap_records(&m);
		s->unix_ns = unixnow();
		if (n < 0)
			return n;
		if (n > 0 && (s->r = calloc((size_t)n, sizeof *s->r)) == NULL) {
			free(m);
			return -ENOMEM;
		}
		int64_t rate = gort_set_mem_profile_rate(-1);
		for (int i = 0; i < n; i++) {
			int lo = heaplo(&m[i]);
			s->r[i].n = m[i].nstk - lo;
			memcpy(s->r[i].stk, m[i].stk + lo, (size_t)s->r[i].n * sizeof m[i].stk[0]);
			heapvalues(&m[i], rate, s->r[i].v);
		}
		s->n = n;
		free(m);
		return 0;
	}
	bool block = strcmp(name, "block") == 0;
	blockrecord *r;
	int n = gort__mprof_records(block, &r);
	s->unix_ns = unixnow();
	if (n < 0)
		return n;
	int64_t period = block ? 1 : gort_set_mutex_profile_fraction(-1);
	if (n > 0 && (s->r = calloc((size_t)n, sizeof *s->r)) == NULL) {
		free(r);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		s->r[i].n = r[i].nstk;
		memcpy(s->r[i].stk, r[i].stk, (size_t)r[i].nstk * sizeof r[i].stk[0]);
		s->r[i].v[0] = r[i].count * period;
		s->r[i].v[1] = r[i].cycles * period;
	}
	s->n = n;
	free(r);
	return 0;
}

static int findrec(const snapshot *s, const snaprec *x)
{
	for (int i = 0; i < s->n; i++)
		if (s->r[i].n == x->n && memcmp(s->r[i].stk, x->stk, (size_t)x->n * sizeof x->stk[0]) == 0)
			return i;
	return -1;
}

int gort__pprof_delta(const char *name, int64_t seconds, pbuf *out)
{
	G *self = gort__current_goroutine("a delta profile");
	bool count = strcmp(name, "goroutine") == 0 || strcmp(name, "threadcreate") == 0;
	bool block = strcmp(name, "block") == 0;
	bool heap = strcmp(name, "heap") == 0 || strcmp(name, "allocs") == 0;
	if (!count && !block && !heap && strcmp(name, "mutex") != 0)
		return -ENOENT;
	snapshot a, b;
	int err = take(name, self, &a);
	if (err != 0)
		return err;
	gort_sleep(seconds * GORT_SECOND);
	err = take(name, self, &b);
	bool *matched = err == 0 ? calloc((size_t)b.n + 1, sizeof *matched) : NULL;
	profbuilder *pb = NULL;
	if (err == 0 && matched == NULL)
		err = -ENOMEM;
	if (err == 0) {
		int64_t period = count || block ? 1 : gort_set_mutex_profile_fraction(-1);
		pb = count ? gort__prof_new(PROF_COUNT, name, 1)
		     : heap ? gort__prof_new(PROF_HEAP, strcmp(name, "allocs") == 0 ? "alloc_space" : "",
		                             gort_set_mem_profile_rate(-1))
		            : gort__prof_new(PROF_CYCLES, NULL, period);
		if (pb == NULL)
			err = -ENOMEM;
	}
	if (err == 0) {
		gort__prof_times(pb, b.unix_ns, b.unix_ns - a.unix_ns);
		for (int i = 0; i < a.n; i++) {
			int j = findrec(&b, &a.r[i]);
			int64_t v[4];
			bool nonzero = false;
			for (int k = 0; k < 4; k++) {
				v[k] = -a.r[i].v[k] + (j >= 0 ? b.r[j].v[k] : 0);
				nonzero |= v[k] != 0 && (k == 0 || !count);
			}
			if (j >= 0)
				matched[j] = true;
			if (nonzero)
				gort__prof_sample(pb, a.r[i].stk, a.r[i].n, v);
		}
		for (int j = 0; j < b.n; j++) {
			bool nonzero = false;
			for (int k = 0; k < 4; k++)
				nonzero |= b.r[j].v[k] != 0 && (k == 0 || !count);
			if (!matched[j] && nonzero)
				gort__prof_sample(pb, b.r[j].stk, b.r[j].n, b.r[j].v);
		}
		err = gort__prof_finish(pb, out);
	}
	free(matched);
	free(a.r);
	free(b.r);
	return err;
}

/* ---- Lookup ---------------------------------------------------------------------- */

const char *const gort__pprof_names[] = {"allocs", "block", "goroutine", "goroutineleak", "heap",
                                         "mutex", "threadcreate", NULL};
const char *const gort__pprof_help[] = {
	"A sampling of all past memory allocations",
	"Stack traces that led to blocking on synchronization primitives",
	"Stack traces of all current goroutines",
	"Stack traces of goroutines blocked for ever: a leak check (a collection) runs first",
	"A sampling of memory allocations of live objects. You can specify the gc GET parameter "
	"to run GC before taking the heap sample.",
	"Stack traces of holders of contended mutexes",
	"Stack traces that led to the creation of new OS threads",
};

static void countm(M *mp, void *arg)
{
	++*(int *)arg;
}

/* count: Profile.Count(), for the index page. */
int gort__pprof_count(const char *name)
{
	if (strcmp(name, "goroutine") == 0)
		return gort_numgoroutine();
	if (strcmp(name, "goroutineleak") == 0)
		return gort__gcleak_count(); /* the last check's, as Go's Count */
	if (strcmp(name, "threadcreate") == 0) {
		int n = 0;
		while (!gort__mforeach_trylock(countm, &n))
			gort__osyield();
		return n;
	}
	if (strcmp(name, "heap") == 0 || strcmp(name, "allocs") == 0) {
		memrecord *m;
		int n = gort__mprof_heap_records(&m);
		free(m);
		return n < 0 ? 0 : n;
	}
	blockrecord *r;
	int n = gort__mprof_records(strcmp(name, "block") == 0, &r);
	free(r);
	return n < 0 ? 0 : n;
}

int gort__pprof_lookup(const char *name, int debug, pbuf *out)
{
	if (name == NULL)
		return -EINVAL;
	if (strcmp(name, "goroutine") == 0)
		return goroutineprofile(debug, out);
	if (strcmp(name, "goroutineleak") == 0)
		return goroutineleakprofile(debug, out);
	if (strcmp(name, "threadcreate") == 0)
		return threadcreateprofile(debug, out);
	if (strcmp(name, "block") == 0)
		return cycleprofile(true, debug, out);
	if (strcmp(name, "mutex") == 0)
		return cycleprofile(false, debug, out);
	if (strcmp(name, "heap") == 0)
		return heapprofile("", debug, out);
	if (strcmp(name, "allocs") == 0)
		return heapprofile("alloc_space", debug, out);
	return -ENOENT;
}

int gort_pprof_lookup_write(const char *name, int fd, int debug)
{
	gort__current_goroutine("gort_pprof_lookup_write");
	pbuf out = {0};
	int err = gort__pprof_lookup(name, debug, &out);
	if (err == 0)
		err = gort__pprof_write_all(fd, &out);
	gort__pbuf_free(&out);
	return err;
}
