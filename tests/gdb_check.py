#!/usr/bin/env python3
"""gdb_check.py - gdb knows gort's goroutines (tools/gort-gdb.py).

    gdb_check.py GDB_PROG [LIBDIR]

gdb loads the extension from the program's .debug_gdb_scripts section
(src/debuginfo.c), with the program's directory added to its auto-load
safe-path, as the README says to (and LIBDIR's, for a program linked with
libgort.so, whose copy of the extension is the library's).  On tests/gdb_prog (its goroutines are
listed in tests/gdb_util.py, EXPECTED):

  1. attached to a live process (gdb -p): `info goroutines` lists every
     goroutine with its state and the program's function it is blocked in;
     `goroutine 2 bt` and `goroutine all bt` show each one's function;
     the gort_chan printer gives len, cap and the goroutines waiting on
     each channel; and the program runs on after gdb detaches.
  2. stopped at a breakpoint inside a goroutine (gdb_sleep, goroutine 8):
     it is the running one, marked *, and `goroutine 8 bt` starts in it.
  3. a core from a crash (gdb_prog crash, GOTRACEBACK=crash: SIGABRT):
     goroutine 1 is running and its frames reach gdb_crash; every other
     is listed and unwound as in 1.  Where the kernel sends cores to a
     handler, the core is made with gdb's gcore from a live process
     (gdb_util.gcore says why its stacks are guarded by mprotect then).

Skips (77) without gdb (with Python), or where ptrace is not allowed.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gdb_util import EXPECTED, Prog, crash_core, fail, gcore, skip  # noqa: E402

NAME = "gdb_check"
GDB = shutil.which("gdb")


LIBDIR = None


def gdb(prog, *cmds, pid=None, core=None, run=None, pre=()):
    args = [GDB, "-batch", "-nx", "-iex", "add-auto-load-safe-path " + os.path.dirname(os.path.abspath(prog))]
    if LIBDIR is not None:
        args += ["-iex", "add-auto-load-safe-path " + os.path.abspath(LIBDIR)]
    for c in pre:
        args += ["-ex", c]
    for c in cmds:
        args += ["-ex", c]
    if pid is not None:
        args += [prog, "-p", str(pid)]
    elif core is not None:
        args += [prog, core]
    else:
        args += ["--args", prog] + run  # last: what follows is the program's
    env = dict(os.environ, GOMAXPROCS="1")  # goroutine ids in creation order (gdb_util.Prog)
    r = subprocess.run(args, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, env=env)
    out = r.stdout + r.stderr
    if "ptrace: Operation not permitted" in out or "Could not attach" in out:
        skip(NAME, "gdb cannot attach here (ptrace): " + out.strip().splitlines()[-1])
    if "auto-loading has been declined" in out or "Undefined info command: \"goroutines\"" in out:
        fail(NAME, "gdb did not load gort-gdb.py from the program:\n" + out)
    return out


def section(out, start, end=None):
    """The part of gdb's output from the line starting with marker start."""
    i = out.index(start)
    j = out.index(end, i) if end is not None else len(out)
    return out[i:j]


def check_info(out, expected, what):
    """info goroutines: one line per goroutine, with state and function."""
    lines = {}
    for line in out.splitlines():
        m = re.match(r"([ *]) (\d+)\s+(.*)$", line)
        if m:
            lines[int(m.group(2))] = (m.group(1), m.group(3))
    for goid, (fn, state) in expected.items():
        if goid not in lines:
            fail(NAME, "%s: info goroutines has no goroutine %d:\n%s" % (what, goid, out))
        rest = lines[goid][1]
        if not rest.startswith(state + " ") or (fn + " at ") not in rest:
            fail(NAME, "%s: goroutine %d: %r, expected %s in %s" % (what, goid, rest, state, fn))
    return lines


def check_all_bt(out, expected, what):
    for goid, (fn, state) in expected.items():
        m = re.search(r"^goroutine %d \[%s[^\]]*\]:\n((?:#.*\n)+)" % (goid, re.escape(state)), out, re.M)
        if m is None:
            fail(NAME, "%s: goroutine all bt: no goroutine %d [%s]:\n%s" % (what, goid, state, out))
        if not re.search(r" in %s \(" % fn, m.group(1)):
            fail(NAME, "%s: goroutine all bt: goroutine %d has no frame in %s:\n%s" % (what, goid, fn, m.group(1)))


def waiters(out, var, queue):
    m = re.search(r"\$\d+ = \(gort_chan \*\) 0x[0-9a-f]+ \{(.*)\}\n" if var != "*never" else
                  r"\$\d+ = \{(len.*)\}\n", section(out, "PRINT " + var))
    if m is None:
        fail(NAME, "print %s: no gort_chan summary:\n%s" % (var, out))
    q = re.search(queue + r" = \{([0-9, ]*)\}", m.group(1))
    return m.group(1), set(int(x) for x in q.group(1).replace(",", " ").split())


def live(prog):
    p = Prog(prog, "wait")
    try:
        out = gdb(prog, "echo INFO\\n", "info goroutines", "echo BT2\\n", "goroutine 2 bt",
                  "echo ALL\\n", "goroutine all bt",
                  "echo PRINT ch\\n", "print ch", "echo PRINT full\\n", "print full",
                  "echo PRINT *never\\n", "print *never", "echo END\\n", pid=p.pid)
        check_info(section(out, "INFO", "BT2"), EXPECTED, "live")
        bt2 = section(out, "BT2", "ALL")
        if not re.search(r"^#\d+ +0x[0-9a-f]+ in gdb_recv \(", bt2, re.M):
            fail(NAME, "live: goroutine 2 bt has no frame in gdb_recv:\n" + bt2)
        check_all_bt(section(out, "ALL", "PRINT ch"), EXPECTED, "live")
        s, q = waiters(out, "ch", "recvq")
        if not s.startswith("len = 0, cap = 0, closed = false, elemsize = 4") or q != {2, 3, 4, 9}:
            fail(NAME, "print ch: %s" % s)
        s, q = waiters(out, "full", "sendq")
        if not s.startswith("len = 1, cap = 1, closed = false") or q != {5, 6}:
            fail(NAME, "print full: %s" % s)
        s, q = waiters(out, "*never", "recvq")
        if q != {1, 9}:
            fail(NAME, "print *never: %s" % s)
        # detached: it runs on, and answers SIGQUIT with its dump
        os.kill(p.pid, signal.SIGQUIT)
        if p.wait() != 2:
            fail(NAME, "after gdb detached, SIGQUIT: exit %s, expected 2" % p.p.returncode)
    finally:
        p.cleanup()


def breakpoint(prog):
    out = gdb(prog, "break gdb_sleep", "run", "echo INFO\\n", "info goroutines",
              "echo BT8\\n", "goroutine 8 bt", "echo END\\n", "kill",
              run=["wait"], pre=["handle SIGURG SIGPIPE nostop noprint pass"])
    info = section(out, "INFO", "BT8")
    m = re.search(r"^\* 8\s+running\s+.*gdb_sleep at .*gdb_prog\.c:\d+", info, re.M)
    if m is None:
        fail(NAME, "breakpoint: goroutine 8 should be running here (*), in gdb_sleep:\n" + out)
    bt = section(out, "BT8", "END")
    if not re.search(r"^#0 +0x[0-9a-f]+ in gdb_sleep \(", bt, re.M):
        fail(NAME, "breakpoint: goroutine 8 bt should start in gdb_sleep:\n" + bt)
    # goroutine 1 made it: it is somewhere in main_fn's calls, never dead
    if not re.search(r"^[ *] 1 ", info, re.M):
        fail(NAME, "breakpoint: no goroutine 1:\n" + info)


def core(prog):
    path, report, why = crash_core(prog)
    expected = dict(EXPECTED)
    if path is not None:
        expected[1] = ("gdb_crash", "running")
        how = "a crash"
    else:
        print("note: %s; the core comes from gdb's gcore" % why)
        p, path = gcore(prog)
        if p is None:
            fail(NAME, path)
        p.kill()
        how = "gcore"
    out = gdb(prog, "echo INFO\\n", "info goroutines", "echo BT1\\n", "goroutine 1 bt",
              "echo ALL\\n", "goroutine all bt", "echo END\\n", core=path)
    check_info(section(out, "INFO", "BT1"), {g: v for g, v in expected.items() if g != 1}, how)
    if how == "a crash":
        info = section(out, "INFO", "BT1")
        if not re.search(r"^[ *] 1\s+running ", info, re.M):
            fail(NAME, "core: goroutine 1 should be running (it crashed):\n" + info)
        bt1 = section(out, "BT1", "ALL")
        if not re.search(r" in gdb_crash \(", bt1) or not re.search(r" in main_fn \(", bt1):
            fail(NAME, "core: goroutine 1's frames should reach gdb_crash and main_fn:\n" + bt1)
    check_all_bt(section(out, "ALL", "END"), {g: v for g, v in expected.items() if g != 1}, how)
    shutil.rmtree(os.path.dirname(path), ignore_errors=True)
    return how


def main():
    global LIBDIR
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    prog = sys.argv[1]
    if len(sys.argv) == 3:
        LIBDIR = sys.argv[2]
    if GDB is None:
        skip(NAME, "no gdb (apt-get install gdb)")
    r = subprocess.run([GDB, "-batch", "-nx", "-ex", "python print('py ok')"], capture_output=True, text=True)
    if "py ok" not in r.stdout:
        skip(NAME, "this gdb has no Python")
    live(prog)
    breakpoint(prog)
    how = core(prog)
    print("PASS %s (live, at a breakpoint, and a core from %s)" % (NAME, how))


if __name__ == "__main__":
    main()
