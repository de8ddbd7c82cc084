/*
 * context.c - Go's context package: cancellation, deadlines and values
 * carried down a tree of contexts.
 *
 *   root     Background and TODO: never canceled, no deadline, no values
 *   cancel   WithCancel, WithDeadline, WithTimeout: a done channel closed
 *            once, an error set once, a list of children to cancel with it
 *            (Go's cancelCtx and timerCtx)
 *   value    WithValue: one key and value; done, error and deadline are
 *            its nearest cancel ancestor's (Go's valueCtx)
 *
 * Every node knows cnode, the cancel node whose done and error are its own
 * (itself, an ancestor, or NULL under a root), and its deadline, the
 * earliest of its ancestors' and its own, fixed at creation.
 *
 * Lifetime (C has no collector): a node is reference-counted.  With*
 * returns one reference, the caller's; a child holds one on its parent, so
 * an ancestor lives as long as any descendant does; the deadline's timer
 * holds none, but the last release waits for a timer that has fired to
 * finish with the node.  The last release cancels the node (what Go's vet
 * demands of every cancel func) and returns it to a pool.  The pool never
 * gives memory back to malloc and reuses a node only after QUARANTINE
 * later releases, so a stale pointer never faults, and in that window its
 * use finds the released mark and dies with a message naming it.
 *
 * Lock order: a parent's mu before its children's (cancel walks down the
 * tree holding each level's lock; a child removes itself from its parent's
 * list only after dropping its own).
 */
#include <stdlib.h>
#include <string.h>

#include "context.h"

enum {
	CTX_LIVE = 0x63747821,     /* "ctx!" */
	CTX_RELEASED = 0x64656164, /* "dead" */
	QUARANTINE = 1024,
};

enum { KIND_ROOT, KIND_CANCEL, KIND_VALUE };

struct gort_context {
	_Atomic uint32_t magic;
	_Atomic int32_t refs;
	int kind;
	gort_context *parent;  /* holds a reference; NULL for a root */
	gort_context *cnode;   /* the cancel node answering Done and Err, or NULL */
	int64_t deadline;      /* a gort_nanotime(), 0 for none */
	const void *key;       /* value nodes */
	void *val;
	/* cancel nodes: */
	gort_mutex mu;
	_Atomic int err;       /* 0, GORT_ECANCELED or GORT_EDEADLINE; set once, under mu */
	gort_chan *done;       /* closed when err is set */
	gort_context *cparent; /* the cancel node whose children list we are on */
	bool linked;           /* on cparent's list (cparent's mu) */
	gort_context *children, *next, *prev;
	ctxhook *hooks;        /* run once, by cancel (mu) */
	gort_timer *timer;     /* the deadline's AfterFunc, or NULL */
	bool timer_stopped;    /* stopped before it fired (mu) */
	_Atomic bool timer_done; /* the fired timer's goroutine is done with us */
	gort_context *freelink;
};

static gort_context background = {.magic = CTX_LIVE, .kind = KIND_ROOT};
static gort_context todo = {.magic = CTX_LIVE, .kind = KIND_ROOT};

static struct {
	mutex lock;
	gort_context *head, *tail; /* oldest release first */
	size_t n;
} pool;

static void cancel(gort_context *c, bool remove, int err);
static void release_chain(gort_context *c);

/* ---- checks and the pool ----------------------------------------------------- */

/* live: ctx, if it is a context that has not been released; otherwise a
 * panic (nil, as Go's nil Context) or a fatal error. */
static gort_context *live(gort_context *ctx, const char *api)
{
	if (ctx == NULL)
		gort_panic("cannot use nil context");
	uint32_t magic = atomic_load_explicit(&ctx->magic, memory_order_relaxed);
	if (__builtin_expect(magic == CTX_LIVE, 1))
		return ctx;
	gort__badmagic(magic == CTX_RELEASED, "released", "context", "gort_context");
}

static gort_context *pool_get(void)
{
	gort_context *c = NULL;
	gort__lock(&pool.lock);
	if (pool.n > QUARANTINE) {
		c = pool.head;
		pool.head = c->freelink;
		pool.n--;
	}
	gort__unlock(&pool.lock);
	if (c == NULL && (c = malloc(sizeof *c)) == NULL)
		gort__throw("out of memory allocating a context");
	memset(c, 0, sizeof *c);
	return c;
}

static void pool_put(gort_context *c)
{
	atomic_store_explicit(&c->magic, CTX_RELEASED, memory_order_relaxed);
	c->freelink = NULL;
	gort__lock(&pool.lock);
	if (pool.n == 0)
		pool.head = c;
	else
		pool.tail->freelink = c;
	pool.tail = c;
	pool.n++;
	gort__unlock(&pool.lock);
}

/* ---- the tree ------------------------------------------------------------------ */

/* newnode: a node of kind under parent, holding a reference to it. */
static gort_context *newnode(gort_context *parent, int kind, const char *api)
{
	live(parent, api);
	gort_context *c = pool_get();
	c->kind = kind;
	c->parent = gort_context_retain(parent);
	c->cnode = parent->cnode;
	c->deadline = parent->deadline;
	atomic_store(&c->refs, 1);
	atomic_store_explicit(&c->magic, CTX_LIVE, memory_order_release);
	return c;
}

/* link_child puts c on p's children (holds p->mu). */
static void link_child(gort_context *p, gort_context *c)
{
	c->prev = NULL;
	c->next = p->children;
	if (p->children != NULL)
		p->children->prev = c;
	p->children = c;
	c->cparent = p;
	c->linked = true;
}

/* remove_child takes c off its cancel parent's list, if it is still there. */
static void remove_child(gort_context *c)
{
	gort_context *p = c->cparent;
	if (p == NULL)
		return;
	gort_mutex_lock(&p->mu);
	if (c->linked) {
		if (c->prev != NULL)
			c->prev->next = c->next;
		else
			p->children = c->next;
		if (c->next != NULL)
			c->next->prev = c->prev;
		c->linked = false;
	}
	gort_mutex_unlock(&p->mu);
}

/* newcancel: a cancel node under parent, on its cancel ancestor's list -
 * or canceled at once, with the ancestor's error, if that is done. */
static gort_context *newcancel(gort_context *parent, const char *api)
{
	gort_context *c = newnode(parent, KIND_CANCEL, api);
	gort_context *p = c->cnode;
	c->cnode = c;
	c->done = gort_chan_make(0, 0);
	if (p == NULL)
		return c;
	gort_mutex_lock(&p->mu);
	int err = atomic_load(&p->err);
	if (err == 0)
		link_child(p, c);
	gort_mutex_unlock(&p->mu);
	if (err != 0)
		cancel(c, false, err);
	return c;
}

/* run_hooks runs and unhooks every hook of c (holds c->mu, which the
 * hook's owner takes to unhook: its hook, on its stack, stays put until
 * this returns). */
static void run_hooks(gort_context *c)
{
	for (ctxhook *h = c->hooks; h != NULL; h = h->next) {
		h->linked = false;
		h->f(h->arg);
	}
	c->hooks = NULL;
}

/*
 * cancel sets c's error (once), closes its done channel, runs its hooks,
 * stops its timer and cancels its children with the same error; with
 * remove, it also leaves its parent's list.  Steps:
 *   1. under c->mu: nothing to do if the error is set; else set it, close
 *      done, run the hooks;
 *   2. still under c->mu: take the children's list and cancel each child
 *      (each takes its own mu: the lock order is down the tree);
 *   3. after c->mu: off the parent's list.
 */
static void cancel(gort_context *c, bool remove, int err)
{
	gort__assert(c->kind == KIND_CANCEL, "context: cancel of a node that cannot be canceled");
	gort_mutex_lock(&c->mu);
	if (atomic_load(&c->err) != 0) {
		gort_mutex_unlock(&c->mu);
		return;
	}
	atomic_store(&c->err, err);
	gort_chan_close(c->done);
	run_hooks(c);
	for (gort_context *k = c->children, *next; k != NULL; k = next) {
		next = k->next;
		k->linked = false;
		cancel(k, false, err);
	}
	c->children = NULL;
	if (c->timer != NULL && gort_timer_stop(c->timer))
		c->timer_stopped = true;
	gort_mutex_unlock(&c->mu);
	if (remove)
		remove_child(c);
}

/* The deadline's AfterFunc.  The last release waits for timer_done. */
static void deadline_fire(void *arg)
{
	gort_context *c = arg;
	cancel(c, true, GORT_EDEADLINE);
	atomic_store_explicit(&c->timer_done, true, memory_order_release);
}

/*
 * finish: the last reference to c is gone.  Cancel it (freeing its place
 * in the tree), wait for a timer that fired to be done with it, free its
 * timer and channel, and give it back.  Returns its parent, whose
 * reference c held.
 */
static gort_context *finish(gort_context *c)
{
	if (c->kind == KIND_CANCEL) {
		cancel(c, true, GORT_ECANCELED);
		remove_child(c); /* canceled earlier by a parent that was still deciding */
		if (c->timer != NULL) {
			gort_mutex_lock(&c->mu);
			bool fired = !c->timer_stopped;
			gort_mutex_unlock(&c->mu);
			while (fired && !atomic_load_explicit(&c->timer_done, memory_order_acquire))
				gort_gosched();
			gort_timer_free(c->timer);
		}
		gort__assert(c->children == NULL && c->hooks == NULL, "context: released with children or hooks");
		gort_chan_free(c->done);
	}
	gort_context *parent = c->parent;
	pool_put(c);
	return parent;
}

/* release_chain drops a reference to c, and to each ancestor whose last
 * one that was (a loop, not a recursion: a chain may be long). */
static void release_chain(gort_context *c)
{
	while (c != NULL && c->kind != KIND_ROOT) {
		int32_t old = atomic_fetch_sub(&c->refs, 1);
		gort__assert(old > 0, "context: reference count below zero");
		if (old > 1)
			return;
		c = finish(c);
	}
}

/* ---- the API ------------------------------------------------------------------ */

gort_context *gort_context_background(void)
{
	return &background;
}

gort_context *gort_context_todo(void)
{
	return &todo;
}

gort_context *gort_context_with_cancel(gort_context *parent)
{
	gort__current_goroutine("gort_context_with_cancel");
	if (parent == NULL)
		gort_panic("cannot create context from nil parent");
	return newcancel(parent, "gort_context_with_cancel");
}

gort_context *gort_context_with_deadline(gort_context *parent, int64_t deadline)
{
	gort__current_goroutine("gort_context_with_deadline");
	if (parent == NULL)
		gort_panic("cannot create context from nil parent");
	live(parent, "gort_context_with_deadline");
	if (parent->deadline != 0 && parent->deadline <= deadline)
		return newcancel(parent, "gort_context_with_deadline"); /* the parent's comes first */
	gort_context *c = newcancel(parent, "gort_context_with_deadline");
	c->deadline = deadline;
	int64_t d = deadline - gort_nanotime();
	if (d <= 0) {
		cancel(c, true, GORT_EDEADLINE);
		return c;
	}
	gort_mutex_lock(&c->mu);
	if (atomic_load(&c->err) == 0)
		c->timer = gort_afterfunc(d, deadline_fire, c);
	gort_mutex_unlock(&c->mu);
	return c;
}

gort_context *gort_context_with_timeout(gort_context *parent, int64_t timeout)
{
	int64_t now = gort_nanotime();
	int64_t deadline = timeout > INT64_MAX - now ? INT64_MAX : now + timeout;
	return gort_context_with_deadline(parent, deadline);
}

gort_context *gort_context_with_value(gort_context *parent, const void *key, void *val)
{
	gort__current_goroutine("gort_context_with_value");
	if (parent == NULL)
		gort_panic("cannot create context from nil parent");
	if (key == NULL)
		gort_panic("nil key");
	gort_context *c = newnode(parent, KIND_VALUE, "gort_context_with_value");
	c->key = key;
	c->val = val;
	return c;
}

void gort_context_cancel(gort_context *ctx)
{
	gort__current_goroutine("gort_context_cancel");
	live(ctx, "gort_context_cancel");
	if (ctx->kind == KIND_CANCEL)
		cancel(ctx, true, GORT_ECANCELED);
}

gort_context *gort_context_retain(gort_context *ctx)
{
	live(ctx, "gort_context_retain");
	if (ctx->kind == KIND_ROOT)
		return ctx;
	int32_t old = atomic_fetch_add(&ctx->refs, 1);
	gort__assert(old > 0, "context: retain of a context being released");
	return ctx;
}

void gort_context_release(gort_context *ctx)
{
	gort__current_goroutine("gort_context_release");
	release_chain(live(ctx, "gort_context_release"));
}

void gort_context_end(void *ctx)
{
	gort_context_cancel(ctx);
	gort_context_release(ctx);
}

gort_chan *gort_context_done(gort_context *ctx)
{
	gort_context *c = live(ctx, "gort_context_done")->cnode;
	return c != NULL ? c->done : NULL;
}

int gort_context_err(gort_context *ctx)
{
	gort_context *c = live(ctx, "gort_context_err")->cnode;
	return c != NULL ? atomic_load(&c->err) : 0;
}

bool gort_context_deadline(gort_context *ctx, int64_t *deadline)
{
	int64_t d = live(ctx, "gort_context_deadline")->deadline;
	if (deadline != NULL)
		*deadline = d;
	return d != 0;
}

void *gort_context_value(gort_context *ctx, const void *key)
{
	for (gort_context *c = live(ctx, "gort_context_value"); c != NULL; c = c->parent)
		if (c->kind == KIND_VALUE && c->key == key)
			return c->val;
	return NULL;
}

int gort_sleep_ctx(gort_context *ctx, int64_t d)
{
	gort__current_goroutine("gort_sleep_ctx");
	int err = gort_context_err(ctx);
	if (err != 0 || d <= 0)
		return err;
	gort_timer *t = gort_timer_new(d);
	int which = GORT_SELECT(GORT_CASE_RECV(gort_context_done(ctx), NULL, NULL),
	                        GORT_CASE_RECV(gort_timer_c(t), NULL, NULL));
	gort_timer_free(t);
	return which == 0 ? gort_context_err(ctx) : 0;
}

/* ---- hooks (context.h) ----------------------------------------------------------- */

int gort__context_hook(gort_context *ctx, ctxhook *h)
{
	gort_context *c = live(ctx, "gort__context_hook")->cnode;
	h->owner = NULL;
	if (c == NULL)
		return 0;
	gort_mutex_lock(&c->mu);
	int err = atomic_load(&c->err);
	if (err == 0) {
		h->prev = NULL;
		h->next = c->hooks;
		if (c->hooks != NULL)
			c->hooks->prev = h;
		c->hooks = h;
		h->owner = c;
		h->linked = true;
	}
	gort_mutex_unlock(&c->mu);
	return err;
}

void gort__context_unhook(ctxhook *h)
{
	gort_context *c = h->owner;
	if (c == NULL)
		return;
	gort_mutex_lock(&c->mu);
	if (h->linked) { /* not run meanwhile */
		if (h->prev != NULL)
			h->prev->next = h->next;
		else
			c->hooks = h->next;
		if (h->next != NULL)
			h->next->prev = h->prev;
		h->linked = false;
	}
	gort_mutex_unlock(&c->mu);
}
