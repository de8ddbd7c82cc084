"""gdb_util.py - what the debugger tests share (tests/gdb_check.py,
tests/peek_check.py): tests/gdb_prog started and waited for, its cores,
and goroutine dumps cut into blocks.

tests/gdb_prog prints "READY <pid>" once every goroutine it made is
blocked (it says which, and where); the helpers here wait for that line,
and then (wait mode) until every thread of the program sleeps, never for
a set time.
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77

# tests/gdb_prog.c: goroutine id -> (function, state), in wait mode
EXPECTED = {
    1: ("gdb_wait", "chan receive"),
    2: ("gdb_recv", "chan receive"),
    3: ("gdb_recv", "chan receive"),
    4: ("gdb_recv", "chan receive"),
    5: ("gdb_send", "chan send"),
    6: ("gdb_send", "chan send"),
    7: ("gdb_lock", "sync.Mutex.Lock"),
    8: ("gdb_sleep", "sleep"),
    9: ("gdb_select", "select"),
    10: ("gdb_syscall", "syscall"),
}


def fail(name, msg):
    print("FAIL %s: %s" % (name, msg), file=sys.stderr)
    sys.exit(1)


def skip(name, msg):
    print("SKIP %s: %s" % (name, msg))
    sys.exit(SKIP)


class Prog:
    """tests/gdb_prog MODE, started in its own directory, stderr to a file."""

    def __init__(self, path, mode, env=None, cwd=None):
        self.dir = cwd or tempfile.mkdtemp(prefix="gort-gdb-")
        self.errpath = os.path.join(self.dir, "stderr")
        self.err = open(self.errpath, "w")
        e = dict(os.environ)
        # One P: goroutine ids come from a P's batch, so with more than one
        # they would depend on which P main ran on as it made each.
        e["GOMAXPROCS"] = "1"
        e.update(env or {})
        self.p = subprocess.Popen([os.path.abspath(path), mode], stdout=subprocess.PIPE, stderr=self.err,
                                  cwd=self.dir, env=e, text=True)
        line = self.p.stdout.readline()
        if not line.startswith("READY "):
            self.p.wait(timeout=30)
            raise RuntimeError("gdb_prog %s: no READY line (exit %s): %s" %
                               (mode, self.p.returncode, self.stderr()))
        self.pid = int(line.split()[1])
        if mode == "wait":
            quiesce(self.pid)

    def stderr(self):
        self.err.flush()
        with open(self.errpath) as f:
            return f.read()

    def wait(self, timeout=60):
        return self.p.wait(timeout=timeout)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()

    def cleanup(self):
        """kill, and remove its directory (and any core in it)."""
        self.kill()
        self.err.close()
        import shutil
        shutil.rmtree(self.dir, ignore_errors=True)


def quiesce(pid, timeout=60):
    """Wait until every thread of pid has been asleep (S) at three looks
    20 ms apart: no goroutine is running then, and gdb_prog's READY
    goroutine has finished exiting."""
    deadline = time.time() + timeout
    calm = 0
    while calm < 3:
        if time.time() > deadline:
            raise RuntimeError("process %d never quiet" % pid)
        states = []
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                    states.append(f.read().rsplit(")", 1)[1].split()[0])
            except OSError:
                states.append("?")
        calm = calm + 1 if all(s == "S" for s in states) else 0
        time.sleep(0.02)


def blocks(text):
    """A dump's goroutines: {id: [lines]}, each block from its header to the
    blank line or the registers after it."""
    out = {}
    cur = None
    for line in text.splitlines():
        m = re.match(r"goroutine (\d+) \[", line)
        if m:
            cur = int(m.group(1))
            out[cur] = [line]
        elif cur is not None:
            if line == "" or re.match(r"r[a-z0-9]+ +0x", line):
                cur = None
            else:
                out[cur].append(line)
    return out


def gcore(prog):
    """gdb_prog wait, and a core of it made by gdb's gcore: (Prog, core
    path), or (None, why).  Stacks guarded by mprotect: gdb 13's gcore
    writes a mapping that holds MADV_GUARD_INSTALL guards (gort's default
    on Linux 6.13+) as zeros, since reading its guard pages fails."""
    import shutil
    gdb = shutil.which("gdb")
    if gdb is None:
        return None, "no gdb for gcore"
    p = Prog(prog, "wait", env={"GORT_STACKGUARD": "mprotect"})
    path = os.path.join(p.dir, "core")
    r = subprocess.run([gdb, "-batch", "-nx", "-p", str(p.pid), "-ex", "gcore " + path],
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    if not os.path.exists(path):
        p.cleanup()
        return None, "gcore made no core: " + (r.stdout + r.stderr).strip()[-300:]
    return p, path


def find_core(d, pid):
    for name in ("core.%d" % pid, "core"):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    return None


def core_pattern():
    try:
        with open("/proc/sys/kernel/core_pattern") as f:
            return f.read().strip()
    except OSError:
        return ""


def crash_core(prog, env=None):
    """gdb_prog crash: its core and its own dump, or (None, why) when the
    kernel's core_pattern sends cores elsewhere (a pipe: systemd-coredump,
    apport; or another directory)."""
    pat = core_pattern()
    if pat.startswith("|") or "/" in pat:
        return None, None, "core_pattern is %r: cores go elsewhere" % pat
    e = {"GOTRACEBACK": "crash"}
    e.update(env or {})
    p = Prog(prog, "crash", env=e)
    rc = p.wait()
    if rc != -signal.SIGABRT:
        p.cleanup()
        raise RuntimeError("gdb_prog crash: exit %s, expected SIGABRT: %s" % (rc, p.stderr()))
    core = find_core(p.dir, p.pid)
    if core is None:
        p.cleanup()
        return None, None, "no core in %s (core_pattern %r, RLIMIT_CORE raised)" % (p.dir, pat)
    return core, p.stderr(), None
