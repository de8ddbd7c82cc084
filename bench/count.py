#!/usr/bin/env python3
"""bench/count.py - what each operation of each workload costs in shared
state, from the counting build (src/count.h).  bench/count.sh runs it;
`make count` builds ./build-count and runs that.

For each workload and GOMAXPROCS, the workload runs twice under GORT_COUNT=1,
with n and with 2n operations; the difference of the two runs' counts,
divided by the difference of their operations, is the cost of one
operation with start-up, warm-up and exit cancelled out.  What sysmon and
idle Ms do meanwhile scales with the run's length, and is in the figure, as
it is in the operation's real cost.

Printed: one markdown table per GOMAXPROCS (a row per workload: global lock
acquisitions per operation and which locks, locks in objects, atomic
read-modify-writes and on what), then, with --sites, every site costing at
least 0.001 per operation.
"""
import argparse
import collections
import os
import subprocess
import sys

# workload: (what one operation is, flags for n, operations run for n)
WORKLOADS = {
    "spawn": ("goroutine", lambda n: ["-n", str(n)], lambda n: n, 20000),
    "pingpong": ("round trip", lambda n: ["-n", str(n)], lambda n: n, 20000),
    "chan_spsc": ("message", lambda n: ["-n", str(n)], lambda n: n + n // 10, 200000),
    "chan_mpmc": ("message", lambda n: ["-n", str(n)], lambda n: n + n // 10, 200000),
    "select4": ("message", lambda n: ["-n", str(n)], lambda n: n + n // 10, 100000),
    "mutex": ("lock+unlock", lambda n: ["-n", str(n)], lambda n: n + n // 10, 100000),
    "ring": ("hop", lambda n: ["-n", str(n)], lambda n: n, 100000),
    # -g goroutines of 5 sleeps of 1-5 ms each
    "timers": ("sleep", lambda n: ["-g", str(n), "-k", "5", "-min", "1000", "-max", "5000"],
               lambda n: 5 * n, 2000),
    # a channel, and a timer with its channel, made and freed, by 8 goroutines
    "make_free": ("chan+timer made, freed", lambda n: ["-n", str(n)], lambda n: n + n // 10, 50000),
}


# What a row cannot show, printed under the table when the workload is in it.
NOTES = {
    "mutex": "gort_mutex's uncontended Lock and Unlock are inline in the program "
             "(include/gort/impl.h: a CAS, an atomic subtract, both on the mutex's own line), "
             "compiled without the counting: add 2 RMWs per operation.",
    "timers": "each goroutine is spawned for 5 sleeps: a fifth of a spawn is in each sleep.",
}


def run(build, w, procs, n, timeout):
    """The counts of one run: {(kind, scope, file, expr, what): count}."""
    _, flags, _, _ = WORKLOADS[w]
    env = dict(os.environ, GOMAXPROCS=str(procs), GORT_COUNT="1")
    for k in ("GODEBUG", "GORT_TRACE", "GOGC"):
        env.pop(k, None)
    p = subprocess.run([os.path.join(build, "bench", w)] + flags(n), env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if p.returncode != 0:
        sys.exit(f"count: {w} at GOMAXPROCS={procs} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    counts = collections.Counter()
    seen = False
    for line in p.stderr.splitlines():
        if not line.startswith("gort count: "):
            continue
        seen = True
        if line.startswith("gort count: overflow"):
            sys.exit(f"count: {w}: {line}")
        kind, scope, file, expr, what, c = line[len("gort count: "):].split("\t")
        counts[(kind, scope, file, expr, what)] += int(c)
    if not seen:
        sys.exit(f"count: {build}/bench/{w} printed no counts: not a counting build? "
                 "(cmake -DGORT_COUNT=ON, or make count)")
    return counts


def name(file, expr, what):
    """A lock's or a line's name for the table: its expression, without
    the & and the gort__ prefix; with its file when the expression alone
    names a field of some pointer (c->lock) or a bare parameter."""
    e = expr.replace("gort__", "").lstrip("&").strip()
    if what != "-":
        return f"{file} {e} ({what})"
    if "->" in e or e.isidentifier() and len(e) <= 4 or file == "spinlock":
        return f"{file} {e}"
    return e


def rmwclass(kind, scope, file, expr):
    if file == "spinlock" or (file == "lock_futex.c" and "l->key" in expr):
        return "lock words"
    if file == "lock_futex.c":
        return "notes (M sleep/wake)"
    if "runq" in expr or "runnext" in expr:
        return "run queues"
    if file in ("chan.c", "select.c", "chan.h", "chanfd.c"):
        return "channels"
    if file in ("sema.c", "mutex.c", "rwmutex.c", "waitgroup.c", "cond.c", "once.c"):
        return "sema/sync"
    if file in ("time.c", "timer.h"):
        return "timers"
    if file in ("handle.c", "handle.h"):
        return "handles"
    if file in ("stack.c", "proc_g.c"):
        return "G/stack alloc"
    if scope == "global":
        return "sched globals" if file.startswith("proc") else f"globals ({file})"
    if file.startswith("proc"):
        return "P/M/G state"
    return f"other ({file})"


def fmt(x):
    return f"{x:.3f}" if abs(x) < 0.1 else f"{x:.2f}"


def cell(d):
    items = [(k, v) for k, v in sorted(d.items(), key=lambda kv: -kv[1]) if v >= 0.0005]
    return ", ".join(f"{k} {fmt(v)}" for k, v in items) if items else "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build-count")
    ap.add_argument("--workloads", default=" ".join(WORKLOADS))
    ap.add_argument("--procs", default="2 8")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every n")
    ap.add_argument("--sites", action="store_true", help="also list every site per workload")
    ap.add_argument("--timeout", type=int, default=300)
    a = ap.parse_args()
    for w in a.workloads.split():
        if w not in WORKLOADS:
            sys.exit(f"count: unknown workload {w} (known: {' '.join(WORKLOADS)})")
    sites = []
    for procs in a.procs.split():
        print(f"\nGOMAXPROCS={procs} (per operation; locks: acquisitions; "
              "RMWs: atomic read-modify-writes)\n")
        print("| workload (op) | global locks | which | object locks | RMWs | on global lines | RMWs by class |")
        print("|---|---|---|---|---|---|---|")
        for w in a.workloads.split():
            op, _, ops, n = WORKLOADS[w]
            n = max(1, int(n * a.scale))
            print(f"count: {w} GOMAXPROCS={procs} n={n}, {2 * n}", file=sys.stderr)
            c1 = run(a.build, w, procs, n, a.timeout)
            c2 = run(a.build, w, procs, 2 * n, a.timeout)
            dops = ops(2 * n) - ops(n)
            # A site below 0 is noise (what sysmon and idle Ms do varies
            # from run to run): counted as 0.
            per = {k: max(0.0, (c2[k] - c1[k]) / dops) for k in set(c1) | set(c2)}
            glocks, olocks, classes = (collections.Counter() for _ in range(3))
            rmws = rmwglobal = 0.0
            for (kind, scope, file, expr, what), v in per.items():
                if kind == "lock":
                    (glocks if scope == "global" else olocks)[name(file, expr, what)] += v
                else:
                    rmws += v
                    rmwglobal += v if scope == "global" else 0
                    classes[rmwclass(kind, scope, file, expr)] += v
            print(f"| {w} ({op}) | {fmt(sum(glocks.values()))} | {cell(glocks)} | "
                  f"{fmt(sum(olocks.values()))} | {fmt(rmws)} | {fmt(rmwglobal)} | "
                  f"{cell(classes)} |", flush=True)
            sites.append((w, procs, per))
        notes = [f"{w}: {NOTES[w]}" for w in a.workloads.split() if w in NOTES]
        if notes:
            print()
            for line in notes:
                print(f"- {line}")
    if a.sites:
        for w, procs, per in sites:
            print(f"\n{w} at GOMAXPROCS={procs}, every site at >= 0.001 per op:")
            for (kind, scope, file, expr, what), v in sorted(per.items(), key=lambda kv: -kv[1]):
                if v >= 0.001:
                    print(f"  {fmt(v):>8}  {kind:4} {scope:6} {file:14} {expr} {'' if what == '-' else what}")


if __name__ == "__main__":
    main()
