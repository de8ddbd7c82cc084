#!/usr/bin/env python3
"""peek_check.py - gort-peek's dump is the program's own.

    peek_check.py GORT-PEEK GDB_PROG

  1. live: gdb_prog wait reaches its stable state; gort-peek PID prints
     every goroutine; then kill -QUIT makes the program print its own dump
     (exit 2).  Every goroutine's block - header and frames - must be the
     same in both, and the goroutines those tests/gdb_prog.c made, with
     their states and functions.  The program must have run on after the
     peek (it answered the SIGQUIT).
  2. core: gdb_prog crash dies of SIGABRT (GOTRACEBACK=crash) with a core;
     gort-peek CORE EXE with GOTRACEBACK=crash must print, for every
     goroutine but the crashing one, the same blocks as the program's own
     crash report.  Skipped, with a note, where the kernel sends cores to
     a handler.
  3. errors: a process that is not a gort program, a process that does not
     exist, and a stripped copy of the program (ids and states, no frames).

Skips (77) when ptrace is not allowed here (containers without
CAP_SYS_PTRACE, yama's ptrace_scope).
"""
import os
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gdb_util import EXPECTED, Prog, blocks, crash_core, fail, skip  # noqa: E402

NAME = "peek_check"


def peek(tool, *args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([tool] + list(args), capture_output=True, text=True, timeout=60, env=e)


def check_expected(out, what):
    got = blocks(out)
    for goid, (fn, state) in EXPECTED.items():
        if goid not in got:
            fail(NAME, "%s: no goroutine %d:\n%s" % (what, goid, out))
        head = got[goid][0]
        if not head.startswith("goroutine %d [%s" % (goid, state)):
            fail(NAME, "%s: goroutine %d: %r, expected state %s" % (what, goid, head, state))
        if not any(line.startswith(fn + "(...)") for line in got[goid]):
            fail(NAME, "%s: goroutine %d has no frame of %s:\n%s" % (what, goid, fn, "\n".join(got[goid])))
    return got


def compare(mine, theirs, ids, what):
    for goid in ids:
        if mine.get(goid) != theirs.get(goid):
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
        compare(mine, theirs, sorted(theirs), "live")
        return len(mine)
    finally:
        p.kill()


def core(tool, prog):
    path, report, why = crash_core(prog)
    if path is None:
        print("note: core part skipped: " + why)
        return 0
    r = peek(tool, path, prog, env={"GOTRACEBACK": "crash"})
    if r.returncode != 0:
        fail(NAME, "gort-peek CORE: exit %d: %s" % (r.returncode, r.stderr))
    mine, theirs = blocks(r.stdout), blocks(report)
    if not mine.get(1, [""])[0].startswith("goroutine 1 [running]"):
        fail(NAME, "core: goroutine 1 should be running (it crashed):\n" + r.stdout)
    others = [g for g in EXPECTED if g != 1]
    compare(mine, theirs, others, "core")
    shutil.rmtree(os.path.dirname(path), ignore_errors=True)
    return len(mine)


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
    # stripped
    strip = shutil.which("strip")
    if strip is None:
        print("note: no strip (binutils): the stripped case is not checked")
        return
    d = os.path.join(os.path.dirname(os.path.abspath(prog)), "gdb_prog.stripped.d")
    os.makedirs(d, exist_ok=True)
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
        p.kill()


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    tool, prog = sys.argv[1], sys.argv[2]
    n = live(tool, prog)
    c = core(tool, prog)
    errors(tool, prog)
    print("PASS %s (%d goroutines live, %d from a core)" % (NAME, n, c))


if __name__ == "__main__":
    main()
