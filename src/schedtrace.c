/*
 * schedtrace.c - what the scheduler tells about itself: GODEBUG=schedtrace
 * and scheddetail (Go's schedtrace in proc.go), and the counts the SIGQUIT
 * dump (dump.c) and gort_read_metrics (metrics.c) read.
 *
 * Everything here reads the scheduler racily or under sched.lock, and never
 * changes it.  What a dying program reads, it reads only with locks that
 * are free: the failing code may hold them.  It calls only readers: the
 * printer (print.c), mcount (proc_m.c), pmetrics_fold (proc_p.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"

/* ---- GODEBUG=schedtrace ------------------------------------------------------ */

/*
 * schedtrace prints Go's GODEBUG=schedtrace line (and with detailed, as
 * scheddetail=1, a line per P, per M and per G), field for field as Go
 * 1.22 does (go-formats.md 3.1).  Fields gort has no use for print Go's
 * constant value: needspinning=0 (gort wakes a spinning M directly),
 * sysmonwait=false (sysmon never stops), and on M lines mallocing=0
 * throwing=0 preemptoff= locks=0 dying=0 blocked=false.  G lines list
 * every G that ever ran a goroutine, dead ones too, as Go's allgs does.
 * Called by sysmon, which holds no P: it takes sched.lock as Go's does,
 * and reads the rest racily; and by a dying program (schedtrace_dying).
 */
static void schedtrace_head(bool detailed)
{
	gort__printf("SCHED %lldms: gomaxprocs=%d idleprocs=%d threads=%lld spinningthreads=%d "
	             "needspinning=0 idlethreads=%d runqueue=%d",
	             (long long)((gort__nanotime() - sched.starttime) / 1000000),
	             atomic_load(&gomaxprocs), atomic_load(&sched.npidle), (long long)mcount(),
	             atomic_load(&sched.nmspinning), sched.nmidle, atomic_load(&sched.runqsize));
	if (detailed)
		gort__printf(" gcwaiting=%s nmidlelocked=%d stopwait=%d sysmonwait=false\n",
		             atomic_load(&sched.gcwaiting) ? "true" : "false", sched.nmidlelocked,
		             sched.stopwait);
}

/* schedtrace_ps: " [a b c]" (each P's queue length), or a line per P. */
static void schedtrace_ps(bool detailed)
{
	/* Go prints the queue lengths as one "[a b c]" built piece by piece;
	 * here it is built in a buffer, so that the line is one write. */
	char line[512];
	size_t n = 0;
	line[0] = '\0';
	P **ps = allp;
	int32_t np = atomic_load(&gomaxprocs);
	for (int32_t i = 0; i < np; i++) {
		P *pp = ps[i];
		M *mp = pp->m;
		uint32_t h = atomic_load(&pp->runqhead), t = atomic_load(&pp->runqtail);
		if (detailed) {
			char mid[24] = "nil";
			if (mp != NULL)
				snprintf(mid, sizeof mid, "%lld", (long long)mp->id);
			gort__printf("  P%d: status=%u schedtick=%u syscalltick=%u m=%s runqsize=%u "
			             "gfreecnt=%d timerslen=%d\n",
			             i, atomic_load(&pp->status), atomic_load(&pp->schedtick),
			             atomic_load(&pp->syscalltick), mid, t - h, atomic_load(&pp->gfreecnt),
			             pp->ntimers);
			continue;
		}
		if (n + 16 > sizeof line) { /* many Ps: flush what we have */
			gort__printf("%s", line);
			n = 0;
		}
		n += (size_t)snprintf(line + n, sizeof line - n, "%s%u%s", i == 0 ? " [" : " ", t - h,
		                      i == np - 1 ? "]\n" : "");
	}
	if (!detailed)
		gort__printf("%s", line);
}

static void schedtrace_ms(void)
{
	for (M *mp = allm; mp != NULL; mp = mp->alllink) {
		P *pp = mp->p;
		G *curg = mp->curg, *lockedg = mp->lockedg;
		char pid[24] = "nil", cur[24] = "nil", lg[24] = "nil";
		if (pp != NULL)
			snprintf(pid, sizeof pid, "%d", pp->id);
		if (curg != NULL)
			snprintf(cur, sizeof cur, "%lld", (long long)curg->goid);
		if (lockedg != NULL)
			snprintf(lg, sizeof lg, "%lld", (long long)lockedg->goid);
		gort__printf("  M%lld: p=%s curg=%s mallocing=0 throwing=0 preemptoff= locks=0 dying=0 "
		             "spinning=%s blocked=false lockedg=%s\n",
		             (long long)mp->id, pid, cur, mp->spinning ? "true" : "false", lg);
	}
}

/* schedtrace_gs: a line per G (holds allglock). */
static void schedtrace_gs(void)
{
	assert_lock_held(&allglock);
	size_t ng = atomic_load(&allglen);
	for (size_t i = 0; i < ng; i++) {
		G *gp = allgs[i];
		if (gp->goid == 0)
			continue; /* carved in a slab, never used */
		uint32_t st = gort__readgstatus(gp);
		M *mp = gp->m, *lm = gp->lockedm;
		char mid[24] = "nil", lmid[24] = "nil";
		if (mp != NULL)
			snprintf(mid, sizeof mid, "%lld", (long long)mp->id);
		if (lm != NULL)
			snprintf(lmid, sizeof lmid, "%lld", (long long)lm->id);
		gort__printf("  G%lld: status=%u(%s) m=%s lockedm=%s\n", (long long)gp->goid, st,
		             st == Gwaiting ? gort__waitreason_string((waitReason)gp->waitreason) : "",
		             mid, lmid);
	}
}

/* schedtrace_all: every line (holds sched.lock; takes allglock - only if
 * free when dying, as the failing code may hold it). */
static void schedtrace_all(bool detailed, bool dying)
{
	assert_lock_held(&sched.lock);
	schedtrace_head(detailed);
	schedtrace_ps(detailed);
	if (!detailed)
		return;
	schedtrace_ms();
	if (dying ? gort__trylock(&allglock) : (gort__lock(&allglock), true)) {
		schedtrace_gs();
		gort__unlock(&allglock);
	}
}

void gort__schedtrace(bool detailed)
{
	gort__lock(&sched.lock);
	schedtrace_all(detailed, false);
	gort__unlock(&sched.lock);
}

/*
 * schedtrace_dying: a fatal report's scheduler trace, when schedtrace or
 * scheddetail is on (Go's startpanic_m).  Only if sched.lock is free: the
 * failing code may hold it, and a dying program must not wait.
 */
void gort__schedtrace_dying(void)
{
	if (gort__debug.schedtrace <= 0 && gort__debug.scheddetail <= 0)
		return;
	if (!gort__trylock(&sched.lock))
		return;
	schedtrace_all(true, true);
	gort__unlock(&sched.lock);
}

/* ---- counts for the dump and the metrics ------------------------------------- */

/*
 * countgstatus counts the goroutines by status (bystatus[Gwaiting], ...).
 * allglock is taken a chunk of Gs at a time, so that counting a million
 * goroutines does not hold up the creation of new ones for milliseconds.
 * allgs only grows, and its entries never change, so that is safe.
 */
void gort__countgstatus(uint64_t bystatus[8])
{
	enum { CHUNK = 4096 };
	for (int i = 0; i < 8; i++)
		bystatus[i] = 0;
	for (size_t i = 0;;) {
		gort__lock(&allglock);
		size_t n = atomic_load(&allglen);
		size_t end = i + CHUNK < n ? i + CHUNK : n;
		for (; i < end; i++) {
			uint32_t st = gort__readgstatus(allgs[i]);
			if (st < 8 && !(st == Gdead && allgs[i]->goid == 0))
				bystatus[st]++;
		}
		gort__unlock(&allglock);
		if (i >= n)
			return;
	}
}

/* mstats reads the thread counts. */
void gort__mstats(int64_t *threads, int32_t *idle, int32_t *spinning)
{
	gort__lock(&sched.lock);
	*threads = mcount();
	*idle = sched.nmidle;
	*spinning = atomic_load(&sched.nmspinning);
	gort__unlock(&sched.lock);
}

/* metrics_sum adds up every P's counters, and the retired Ps'.  The caller
 * holds a P, so allp cannot change. */
void gort__metrics_sum(pmetrics *sum)
{
	memset(sum, 0, sizeof *sum);
	pmetrics_fold(sum, &sched.retired);
	P **ps = allp;
	int32_t np = atomic_load(&gomaxprocs);
	for (int32_t i = 0; i < np; i++)
		pmetrics_fold(sum, &ps[i]->metrics);
}

/*
 * mforeach_trylock calls fn for every M, if sched.lock can be had within a
 * few milliseconds: for the SIGQUIT dump, which may have interrupted the
 * lock's holder on its own thread.
 */
bool gort__mforeach_trylock(void (*fn)(M *mp, void *ctx), void *ctx)
{
	bool locked = false;
	for (int i = 0; i < 1000 && !(locked = gort__trylock(&sched.lock)); i++)
		gort__osyield();
	if (!locked)
		return false;
	for (M *mp = allm; mp != NULL; mp = mp->alllink)
		fn(mp, ctx);
	gort__unlock(&sched.lock);
	return true;
}
