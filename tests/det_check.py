#!/usr/bin/env python3
"""det_check.py - deterministic mode (GODEBUG=detseed, src/proc_det.c), checked.

Each check runs tests/det_prog (or a planted bug of tests/det_bugs/) under
seeds and compares what it prints; all of them assert outcomes, never how
fast a run was, except the sleep check's generous bound (an hour of sleep
must take seconds at most, not an hour).

  det_check.py <det_prog> same      20 runs of one seed print the same bytes
                                    (random and PCT); GOMAXPROCS=4 prints
                                    what GOMAXPROCS=1 does; another seed
                                    prints something else
  det_check.py <det_prog> orders    100 seeds of a 10-goroutine print race
                                    give at least 20 distinct orders
  det_check.py <det_prog> sleep     an hour and more of sleeping ends in
                                    well under a minute, with the virtual
                                    time past 3636 s
  det_check.py <det_prog> misuse    bad settings, GOMAXPROCS > 1, detstrict
                                    with a system call, the count at exit,
                                    asyncpreemptoff=0, gort_det_seed, the
                                    deadlock on virtual time
  det_check.py <det_prog> trace     5 traces of one seed are the same bytes
  det_check.py <foreign_calls> foreign <det_prog>
                                    threads gort did not create call in:
                                    counted under gort_main; gort_start
                                    refused
  det_check.py <gort-explore> bug <program>
                                    gort-explore finds the planted bug
                                    within 1,000 seeds, random and PCT, and
                                    its replay line fails the same way,
                                    byte for byte, twice
  det_check.py <gort-explore> explore <det_prog>
                                    --same-output, -t (dettimeout), -c,
                                    --normal, bad usage
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time


def run(prog, args, godebug, env_extra=None, timeout=60, cwd=None):
    env = dict(os.environ)
    env["GODEBUG"] = godebug
    env.pop("GOMAXPROCS", None)
    env.update(env_extra or {})
    p = subprocess.run([prog] + args, env=env, capture_output=True, timeout=timeout, cwd=cwd)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def fail(msg):
    print("FAIL", msg)
    sys.exit(1)


def expect(cond, msg):
    if not cond:
        fail(msg)


def same(prog):
    for strategy in ("random", "pct"):
        for seed in (1, 977):
            gd = "detseed=%d,detstrategy=%s" % (seed, strategy)
            rc, first, err = run(prog, ["showcase"], gd)
            expect(rc == 0 and first.count("\n") > 50, "%s: exit %d, %d lines\n%s" % (gd, rc, first.count("\n"), err))
            expect(err == "", "%s: stderr not empty: %r" % (gd, err))
            expect("fan-in 1002 at" in first, "%s: the locked goroutine's values are missing" % gd)
            for i in range(19):
                rc, out, err = run(prog, ["showcase"], gd)
                expect(rc == 0 and out == first, "%s: run %d printed something else" % (gd, i + 2))
            rc, out, err = run(prog, ["showcase"], gd, {"GOMAXPROCS": "4"})
            expect(rc == 0 and out == first, "%s: GOMAXPROCS=4 changed the schedule" % gd)
        rc, other, err = run(prog, ["showcase"], "detseed=2,detstrategy=%s" % strategy)
        expect(rc == 0 and other != first, "%s: seeds 977 and 2 printed the same" % strategy)
    print("PASS det_same: 20 runs of each seed byte-identical, random and pct")


def orders(prog):
    for strategy, want in (("random", 20), ("pct", 20)):
        seen = {}
        for seed in range(100):
            rc, out, err = run(prog, ["race"], "detseed=%d,detstrategy=%s" % (seed, strategy))
            expect(rc == 0, "race seed %d: exit %d: %s" % (seed, rc, err))
            order = out.split()
            expect(sorted(order, key=int) == [str(i) for i in range(10)], "race seed %d printed %r" % (seed, out))
            seen.setdefault(out, seed)
        print("%s: %d distinct orders of 10 goroutines in 100 seeds" % (strategy, len(seen)))
        expect(len(seen) >= want, "%s: only %d distinct orders" % (strategy, len(seen)))
    print("PASS det_orders")


def sleep(prog):
    start = time.monotonic()
    rc, out, err = run(prog, ["sleep"], "detseed=3")
    took = time.monotonic() - start
    expect(rc == 0, "sleep: exit %d: %s %s" % (rc, out, err))
    secs = float(out.split("virtual time passed: ")[1].split()[0])
    expect(secs >= 3636, "sleep: virtual time passed only %f s" % secs)
    expect(took < 30, "sleep: 2 hours of sleeping took %.1f s of real time" % took)
    print("PASS det_sleep: %.0f s of virtual time in %.2f s" % (secs, took))


def misuse(prog):
    for gd, want in (("detseed=abc", "gort: GODEBUG=detseed=abc: not a seed (want a decimal number from 0 to 9223372036854775807)\n"),
                     ("detseed=-1", "gort: GODEBUG=detseed=-1: not a seed (want a decimal number from 0 to 9223372036854775807)\n"),
                     ("detseed=9223372036854775808", "gort: GODEBUG=detseed=9223372036854775808: not a seed (want a decimal number from 0 to 9223372036854775807)\n"),
                     ("detseed=", "gort: GODEBUG=detseed=: not a seed (want a decimal number from 0 to 9223372036854775807)\n"),
                     ("detseed=1,detstrategy=dfs", "gort: GODEBUG=detstrategy=dfs: unknown strategy (want random or pct)\n"),
                     ("detseed=1,detdepth=0", "gort: GODEBUG=detdepth=0: not a depth (want 1 to 16)\n"),
                     ("detseed=1,dettimeout=1y", "gort: GODEBUG=dettimeout=1y: not a duration (want e.g. 90s, 10m, 2h; no unit: seconds)\n")):
        rc, out, err = run(prog, ["seed"], gd)
        expect(rc == 2 and err == want and out == "", "%s: exit %d, stderr %r" % (gd, rc, err))
    rc, out, err = run(prog, ["seed"], "detseed=9223372036854775807")
    expect(rc == 0 and out == "seed 9223372036854775807\n", "the largest seed: %d %r" % (rc, out))
    rc, out, err = run(prog, ["seed"], "detseed=42")
    expect(rc == 0 and out == "seed 42\n" and err == "", "gort_det_seed: %r %r" % (out, err))
    rc, out, err = run(prog, ["seed"], "")
    expect(rc == 0 and out == "seed -1\n", "gort_det_seed off: %r" % out)
    # GOMAXPROCS > 1: one P runs, gort_gomaxprocs reports the number asked
    rc, out, err = run(prog, ["procs"], "detseed=1", {"GOMAXPROCS": "4"})
    expect(rc == 0 and out == "gomaxprocs 4\ngomaxprocs 3\n", "procs: %r" % out)
    # a system call: counted and said at exit; under detstrict, fatal
    rc, out, err = run(prog, ["syscall"], "detseed=1")
    expect(rc == 0 and out == "read 0\n", "syscall: %d %r" % (rc, out))
    expect(err == "gort: deterministic mode (detseed=1): 1 system call or I/O event outside the scheduler's "
                  "control (the first in gort_read): this run may not replay\n", "syscall: stderr %r" % err)
    rc, out, err = run(prog, ["syscall"], "detseed=1,detstrict=1")
    expect(rc == 2 and err.startswith("fatal error: deterministic mode (detstrict=1): gort_read: a system call "
                                      "or I/O makes the schedule depend on the world outside\n\ngoroutine 1 [running]:\n"),
           "detstrict: %d %r" % (rc, err))
    # no preemption, not even by signal
    rc, out, err = run(prog, ["spin"], "detseed=3,asyncpreemptoff=0")
    expect(rc == 0 and out == "other goroutine ran during the spin: no\n", "spin: %d %r %r" % (rc, out, err))
    # deadlock on virtual time: after the sleeper's 36 s of timers
    rc, out, err = run(prog, ["deadlock"], "detseed=5")
    expect(rc == 2 and err.startswith("fatal error: all goroutines are asleep - deadlock!\n\ngoroutine 1 [chan receive]:\n"),
           "deadlock: %d %r" % (rc, err))
    # a deadlock with a ticker nobody reads: not for ever
    rc, out, err = run(prog, ["ticker"], "detseed=5")
    expect(rc == 2 and err.startswith("fatal error: deterministic mode: all goroutines are asleep and no pending "
                                      "timer wakes one - deadlock!\n\ngoroutine 1 [chan receive, "),
           "ticker: %d %r" % (rc, err))
    # a livelock ends at dettimeout, on virtual time
    rc, out, err = run(prog, ["livelock"], "detseed=5,dettimeout=2s")
    expect(rc == 2 and err.startswith("fatal error: deterministic mode: virtual time limit exceeded (dettimeout=2s)\n"),
           "livelock: %d %r" % (rc, err))
    print("PASS det_misuse")


def trace(prog):
    """The same seed's traces are the same bytes, their timestamps the
    virtual clock's - with address-space randomization off (setarch -R),
    since the stack table holds pcs.  A locked thread is left out: which
    idle M the P is handed to is the threads' race, and ProcStart names it."""
    probe = subprocess.run(["setarch", "-R", "true"], capture_output=True) if shutil.which("setarch") else None
    if probe is None or probe.returncode != 0:
        print("SKIP det_trace: setarch -R is not available here")
        sys.exit(77)
    with tempfile.TemporaryDirectory() as tmp:
        traces = []
        for i in range(5):
            path = os.path.join(tmp, "t%d" % i)
            env = dict(os.environ, GODEBUG="detseed=11", GORT_TRACE=path)
            env.pop("GOMAXPROCS", None)
            p = subprocess.run(["setarch", "-R", prog, "showcase", "unlocked"], env=env, capture_output=True, timeout=60)
            expect(p.returncode == 0 and p.stderr == b"", "trace run %d: %d %r" % (i, p.returncode, p.stderr))
            traces.append(open(path, "rb").read())
        expect(len(traces[0]) > 1000, "trace: only %d bytes" % len(traces[0]))
        for i in range(1, 5):
            expect(traces[i] == traces[0], "trace: run %d's trace differs from the first" % (i + 1))
        go = "/usr/lib/go-1.19/bin/go"
        if os.path.exists(go):  # readable by Go 1.19's parser, virtual nanoseconds
            d = subprocess.run([go, "tool", "trace", "-d", os.path.join(tmp, "t0")], capture_output=True, timeout=120)
            events = d.stdout.decode().splitlines()
            expect(d.returncode == 0 and len(events) > 100, "go tool trace -d: %r" % d.stderr[-300:])
            print("go tool trace -d: %d events, the last at %s ns" % (len(events), events[-1].split()[0]))
    print("PASS det_trace: 5 traces of seed 11 byte-identical (%d bytes)" % len(traces[0]))


def foreign(prog, det_prog):
    """Threads gort did not create call in: under gort_main they work in
    deterministic mode, counted as the outside (det_prog foreign); an
    embedded runtime, gort_start, is refused (tests/foreign_calls start)."""
    for seed in range(1, 21):
        rc, out, err = run(det_prog, ["foreign"], "detseed=%d" % seed)
        expect(rc == 0 and out == "sum 6180\n", "det_prog foreign, seed %d: %d %r %r" % (seed, rc, out, err[-500:]))
        expect(err.startswith("gort: deterministic mode (detseed=%d): " % seed) and
               " outside the scheduler's control (the first in " in err and
               err.endswith("): this run may not replay\n"), "det_prog foreign: stderr %r" % err[-500:])
    rc, out, err = run(prog, ["start"], "detseed=4")
    expect(rc == 2 and err.startswith("fatal error: gort: gort_start: deterministic mode (GODEBUG=detseed) needs "
                                      "the program run under gort_main\n"), "foreign_calls start: %d %r" % (rc, err))
    print("PASS det_foreign")


def explore(tool, args, timeout=120):
    p = subprocess.run([tool] + args, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def replay_line(out, what="replay"):
    """The environment and the argv of gort-explore's replay (or picture)
    line (its words need no shell quoting here)."""
    line = [l for l in out.splitlines() if l.startswith(what + ": ")]
    expect(len(line) == 1, "no %s line in:\n%s" % (what, out))
    words = line[0][len(what) + 2:].split()
    env = {}
    while "=" in words[0] and not words[0].startswith("/"):
        k, v = words.pop(0).split("=", 1)
        env[k] = v
    return env, words


def bug(tool, program):
    name = os.path.basename(program)
    for strategy in ("random", "pct"):
        rc, out, err = explore(tool, ["-n", "1000", "-s", strategy, "-w", "30", "--", program])
        summary = out.splitlines()[-1] if out else ""
        expect(rc == 1 and " failed after " in summary, "%s %s: not found: exit %d\n%s%s" % (name, strategy, rc, out, err))
        seeds = int(summary.split(" failed after ")[1].split()[0])
        expect(seeds <= 1000, "%s: %d seeds" % (name, seeds))
        env, argv = replay_line(out)
        expect(list(env) == ["GODEBUG"], "replay line: %r" % env)
        gd = env["GODEBUG"]
        first = run(argv[0], argv[1:], gd)
        expect(first[0] != 0, "%s %s: the replay (%s) did not fail" % (name, strategy, gd))
        for i in range(2):
            again = run(argv[0], argv[1:], gd)
            expect(again == first, "%s %s: replay %d of %s failed otherwise:\n%r\n%r" % (name, strategy, i + 2, gd, first, again))
        # the picture: the same failure, its trace, every goroutine
        env, argv = replay_line(out, "picture")
        tracename = [v for k, v in env.items() if k.startswith("GORT_TRACE")][0]
        gd = env.pop("GODEBUG")
        with tempfile.TemporaryDirectory() as tmp:
            rc, pout, perr = run(os.path.abspath(argv[0]), argv[1:], gd, env, cwd=tmp)
            expect(rc == first[0] and pout == first[1], "%s: the picture run failed otherwise" % name)
            expect("goroutine 1 [" in perr, "%s: the picture shows no goroutines:\n%s" % (name, perr))
            tracefile = os.path.join(tmp, tracename)
            expect(os.path.exists(tracefile) and os.path.getsize(tracefile) > 100,
                   "%s: no trace in %s:\n%s" % (name, tracename, perr))
        tracefile = tracename
        print("%s: %s found it after %d seeds; replayed 3 times: exit %d, %s; %s written" %
              (name, strategy, seeds, first[0], (first[2].splitlines() or ["?"])[0], tracefile))
    print("PASS det_bug_%s" % name)


def explore_checks(tool, prog):
    # --same-output: the race prints another order under the second seed
    rc, out, err = explore(tool, ["-n", "50", "--same-output", "--", prog, "race"])
    expect(rc == 1 and "its stdout differs from seed 1's" in out and "failed after" in out, "--same-output:\n" + out + err)
    rc, out, err = explore(tool, ["-n", "20", "--same-output", "--", prog, "seed"])
    expect(rc == 1, "--same-output, seed: each seed prints itself:\n" + out)
    # -t: a livelock fails on virtual time, and the replay line carries it
    rc, out, err = explore(tool, ["-n", "3", "-t", "5s", "--", prog, "livelock"])
    expect(rc == 1 and "virtual time limit exceeded (dettimeout=5s)" in out and
           "replay: GODEBUG=detseed=1,dettimeout=5s " in out, "-t:\n" + out + err)
    # -c and --normal count every run
    rc, out, err = explore(tool, ["-n", "30", "-c", "--", prog, "race"])
    expect(rc == 0 and out.endswith("gort-explore: 0 of 30 runs failed (random; %s" % out.split("(random; ")[-1]), "-c:\n" + out)
    rc, out, err = explore(tool, ["-n", "10", "--normal", "--", prog, "bad-mode"])  # exit 64
    expect(rc == 1 and "run 1: exit status 64" in out and "10 of 10 runs failed (normal runs, no deterministic mode" in out and "replay:" not in out,
           "--normal:\n" + out)
    rc, out, err = explore(tool, ["-n", "10", "--", prog, "showcase"])
    expect(rc == 0 and "gort-explore: no failure in 10 seeds (strategy random;" in out, "no failure:\n" + out)
    # bad usage
    for args in ([], ["-s", "dfs", "--", prog], ["-n", "x", "--", prog], ["-d", "17", "--", prog]):
        rc, out, err = explore(tool, args)
        expect(rc == 2 and err != "", "usage %r: %d %r" % (args, rc, err))
    print("PASS det_explore")


def main():
    what = sys.argv[2]
    if what == "bug":
        bug(sys.argv[1], sys.argv[3])
    elif what == "explore":
        explore_checks(sys.argv[1], sys.argv[3])
    elif what == "foreign":
        foreign(sys.argv[1], sys.argv[3])
    else:
        {"same": same, "orders": orders, "sleep": sleep, "misuse": misuse, "trace": trace}[what](sys.argv[1])


if __name__ == "__main__":
    main()
