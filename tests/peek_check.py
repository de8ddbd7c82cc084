#!/usr/bin/env python3
"""peek_check.py - gort-peek's dump is the program's own.

    peek_check.py GORT-PEEK GDB_PROG

  1. live: gdb_prog wait reaches its stable state; gort-peek PID prints
     every goroutine; then kill -QUIT makes the program print its own dump
     (exit 2).  Every goroutine's block - header and frames - must be the
     same in both, and the goroutines those tests/gdb_prog.c made, with
     their states and functions.  The program must have run on after the
     peek (it answered the SIGQUIT).  (The goroutine whose thread the
     SIGQUIT lands on is traced by the dump from the signal's context:
     that one must have the same header, functions and creator.)
  2. core: gdb_prog crash dies of SIGABRT (GOTRACEBACK=crash) with a core;
     gort-peek CORE EXE with GOTRACEBACK=crash must print, for every
     goroutine but the crashing one, the same blocks as the program's own
     crash report; the crashing one's frames, from the core's registers,
     reach gdb_crash.  Where the kernel sends cores to a handler: a core
     made by gdb's gcore of gdb_prog wait, against its SIGQUIT dump (and
     skipped, with a note, without gdb).
  3. running: gdb_prog spin's goroutine 1 never stops running: gort-peek
     unwinds it from its thread's registers, into main_fn.
  4. errors: a process that is not a gort program, a process that does not
     exist, and a stripped copy of the program (ids and states, no frames).

Skips (77) when ptrace is not allowed here (containers without
CAP_SYS_PTRACE, yama's ptrace_scope).
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gdb_util import EXPECTED, Prog, blocks, crash_core, fail, gcore, skip  # noqa: E402

NAME = "peek_check"


def peek(tool, *args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([tool] + list(args), capture_output=True, text=True, timeout=60, env=e)


def check_expected(out, what, skip=()):
    got = blocks(out)
    for goid, (fn, state) in EXPECTED.items():
        if goid in skip:
            continue
        if goid not in got:
            fail(NAME, "%s: no goroutine %d:\n%s" % (what, goid, out))
        head = got[goid][0]
        if not head.startswith("goroutine %d [%s" % (goid, state)):
            fail(NAME, "%s: goroutine %d: %r, expected state %s" % (what, goid, head, state))
        if not any(line.startswith(fn + "(...)") for line in got[goid]):
            fail(NAME, "%s: goroutine %d has no frame of %s:\n%s" % (what, goid, fn, "\n".join(got[goid])))
    return got


def compare(mine, theirs, ids, what, interrupted=None):
    """Every block the same; but the dump traces the goroutine whose thread
    the SIGQUIT interrupted (its first block: one in a system call, say)
    from the signal's context, with frames the saved context has not (libc's
    read): that one needs only the same header, functions and creator."""
    for goid in ids:
        a, b = mine.get(goid), theirs.get(goid)
        if goid == interrupted and a is not None and b is not None and a[0] == b[0] and a[-2:] == b[-2:] \
                and all(line in b for line in a if line.endswith("(...)")):
            continue
        if a != b:
            fail(NAME, "%s: goroutine %d differs\n--- gort-peek:\n%s\n--- the program's dump:\n%s" %
                 (what, goid, "\n".join(mine.get(goid, [])), "\n".join(theirs.get(goid, []))))


def live(tool, prog):
    p = Prog(prog, "wait")
    try:
        r = peek(tool, str(p.pid))
        if r.returncode != 0 and "cannot attach" in r.stderr:
            skip(NAME, "ptrace is not allowed here: " + r.stderr.strip().splitlines()[0])
        if r.returncode != 0:
            fail(NAME, "gort-peek %d: exit %d: %s" % (p.pid, r.returncode, r.stderr))
        mine = check_expected(r.stdout, "gort-peek PID")
        os.kill(p.pid, signal.SIGQUIT)
        rc = p.wait()
        if rc != 2:
            fail(NAME, "after gort-peek, SIGQUIT: exit %s, expected 2 (was it left stopped?)" % rc)
        dump = p.stderr()
        theirs = check_expected(dump, "the SIGQUIT dump")
        if sorted(mine) != sorted(theirs):
            fail(NAME, "goroutines: gort-peek %s, the dump %s" % (sorted(mine), sorted(theirs)))
        compare(mine, theirs, sorted(theirs), "live", interrupted=next(iter(theirs)))
        return len(mine)
    finally:
        p.cleanup()


def core(tool, prog):
    path, report, why = crash_core(prog)
    if path is None:
        return core_gcore(tool, prog, why)
    r = peek(tool, path, prog, env={"GOTRACEBACK": "crash"})
    if r.returncode != 0:
        fail(NAME, "gort-peek CORE: exit %d: %s" % (r.returncode, r.stderr))
    mine, theirs = blocks(r.stdout), blocks(report)
    g1 = mine.get(1, [""])
    if not g1[0].startswith("goroutine 1 [running]") or "gdb_crash(...)" not in g1 or "main_fn(...)" not in g1:
        fail(NAME, "core: goroutine 1 should be running (it crashed), its frames from the core's "
             "registers reaching gdb_crash and main_fn:\n" + r.stdout)
    others = [g for g in EXPECTED if g != 1]
    compare(mine, theirs, others, "core")
    shutil.rmtree(os.path.dirname(path), ignore_errors=True)
    return len(mine)


def core_gcore(tool, prog, why):
    """Where cores go to a handler: gdb's gcore of gdb_prog wait, then its
    SIGQUIT dump; gort-peek on the core must print that dump."""
    print("note: %s; the core comes from gdb's gcore" % why)
    p, path = gcore(prog)
    if p is None:
        print("note: core part skipped: " + path)
        return 0
    try:
        r = peek(tool, path, prog)
        os.kill(p.pid, signal.SIGQUIT)
        if p.wait() != 2:
            fail(NAME, "gcore, then SIGQUIT: exit %s, expected 2" % p.p.returncode)
        if r.returncode != 0:
            fail(NAME, "gort-peek CORE (gcore): exit %d: %s" % (r.returncode, r.stderr))
        mine = check_expected(r.stdout, "gort-peek CORE (gcore)")
        theirs = blocks(p.stderr())
        compare(mine, theirs, sorted(theirs), "gcore", interrupted=next(iter(theirs)))
        return len(mine)
    finally:
        p.cleanup()


def running(tool, prog):
    """gdb_prog spin: goroutine 1 runs for ever; its frames come from its
    thread's registers (the dump would say "stack unavailable")."""
    p = Prog(prog, "spin")
    try:
        r = peek(tool, str(p.pid))
        if r.returncode != 0:
            fail(NAME, "gort-peek on a spinning program: exit %d: %s" % (r.returncode, r.stderr))
        g1 = blocks(r.stdout).get(1, [""])
        if not g1[0].startswith("goroutine 1 [running]") or "main_fn(...)" not in g1:
            fail(NAME, "running: goroutine 1 should be running in main_fn:\n" + r.stdout)
        check_expected(r.stdout, "running", skip=(1,))
    finally:
        p.cleanup()


def errors(tool, prog):
    # not a gort program
    p = subprocess.Popen(["sleep", "60"])
    try:
        r = peek(tool, str(p.pid))
        if r.returncode != 1 or "is not a gort program" not in r.stderr:
            fail(NAME, "gort-peek on sleep: exit %d: %s" % (r.returncode, r.stderr))
        if p.poll() is not None:
            fail(NAME, "gort-peek left sleep dead (exit %s)" % p.returncode)
    finally:
        p.kill()
        p.wait()
    # no such process
    r = peek(tool, "999999999")
    if r.returncode != 1 or "no process 999999999" not in r.stderr:
        fail(NAME, "gort-peek on no process: exit %d: %s" % (r.returncode, r.stderr))
    # stripped: a program with gort inside (libgort.a); with libgort.so, gort's
    # symbols are the library's, which strip(prog) leaves alone
    with open(prog, "rb") as f:
        if b"libgort.so" in f.read():
            print("note: linked with libgort.so: the stripped case is libgort.a's")
            return
    strip = shutil.which("strip")
    if strip is None:
        print("note: no strip (binutils): the stripped case is not checked")
        return
    d = tempfile.mkdtemp(prefix="gort-stripped-")
    sprog = os.path.join(d, "gdb_prog")
    subprocess.run([strip, "-o", sprog, prog], check=True)
    p = Prog(sprog, "wait")
    try:
        r = peek(tool, str(p.pid))
        if r.returncode != 0 or "stripped" not in r.stderr:
            fail(NAME, "gort-peek on a stripped program: exit %d: %s" % (r.returncode, r.stderr))
        got = blocks(r.stdout)
        for goid, (fn, state) in EXPECTED.items():
            if not got.get(goid, [""])[0].startswith("goroutine %d [%s" % (goid, state)):
                fail(NAME, "stripped: goroutine %d: %s" % (goid, got.get(goid)))
            if "(no frames" not in got[goid][1]:
                fail(NAME, "stripped: goroutine %d: %s" % (goid, got[goid]))
    finally:
        p.cleanup()
        shutil.rmtree(d, ignore_errors=True)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    tool, prog = sys.argv[1], sys.argv[2]
    n = live(tool, prog)
    c = core(tool, prog)
    running(tool, prog)
    errors(tool, prog)
    print("PASS %s (%d goroutines live, %d from a core)" % (NAME, n, c))


if __name__ == "__main__":
    main()
