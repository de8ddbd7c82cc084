#!/usr/bin/env python3
"""top_check.py - gort-top's numbers are the program's own.

    top_check.py GORT-TOP TOP_PROG TOP_ALLOC|-

  1. live: tests/top_prog blocks its goroutines in known places, writes
     its own gort_read_metrics snapshot and says READY; gort-top -b -n 3
     on it must show the same goroutines - the total exactly, each state
     within what the program's two tickers can move (one sleeper, one
     system call) - the blocked-on sites with their exact counts and
     creators, the same GOMAXPROCS, spawns exactly (none after the
     snapshot), context switches and latency samples no fewer than the
     snapshot's and no more than the tickers can add in the time elapsed
     (2000 a second, twenty times their rate), and, once it has an
     interval, switches and system calls per second above zero.
  2. allocations: top_alloc (gort-top counting its own mallocs,
     tests/top_alloc.c) must make none in 5 frames.  ("-": a sanitized
     build, where the counter is not built.)
  3. a terminal: gort-top under script(1) draws with ANSI escapes and quits
     after -n frames.
  4. the program exits while watched: "process N exited", exit 0.
  5. errors: not a process id, no such process, a process that is not a
     gort program, and one it may not read (as root: gort-top run as
     nobody; otherwise pid 1 if another user's) - exit 1, with messages
     saying so.

    top_check.py --churn GORT-TOP PROG [ARGS...]

  6. churn: gort-top -b -d 0.02 watches PROG (a test that spawns, steals
     and changes GOMAXPROCS as fast as it can: its allgs array and allp
     are replaced under gort-top's reads) from start to end: every frame
     must be whole, the goroutine states must add up, and gort-top must
     end with "process N exited", exit 0, when PROG does - torn reads
     tolerated, never a crash (in the sanitized build, ASan watches
     gort-top too).

Skips (77) when this machine does not let a process read another's memory
(yama's ptrace_scope, containers without CAP_SYS_PTRACE).
"""
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

NAME = "top_check"


def fail(msg):
    print("FAIL %s: %s" % (NAME, msg), file=sys.stderr)
    sys.exit(1)


def skip(msg):
    print("SKIP %s: %s" % (NAME, msg))
    sys.exit(77)


class Prog:
    """tests/top_prog, started and waited for (its READY line)."""

    def __init__(self, path, tmp):
        self.snap = os.path.join(tmp, "snapshot")
        self.p = subprocess.Popen([path, self.snap], stdout=subprocess.PIPE, text=True)
        r, _, _ = select.select([self.p.stdout], [], [], 120)
        line = self.p.stdout.readline() if r else ""
        if not line.startswith("READY "):
            self.kill()
            fail("top_prog: no READY line (exit %s)" % self.p.returncode)
        self.pid = int(line.split()[1])
        self.ready = time.monotonic()
        with open(self.snap) as f:
            self.m = {k: int(v) for k, v in (l.split() for l in f if l.strip())}

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


def top(tool, *args, timeout=120, **kw):
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=timeout, **kw)


def frames(out):
    """The batch output cut into frames, each a list of lines."""
    got = []
    for line in out.splitlines():
        if line.startswith("gort-top - process"):
            got.append([])
        if got:
            got[-1].append(line)
    return got


def parse(frame):
    """A frame's numbers, by the names the checks use."""
    text = "\n".join(frame)
    v = {}

    def num(key, pattern):
        m = re.search(pattern, text, re.M)
        if m is None:
            fail("no %r in the frame:\n%s" % (key, text))
        v[key] = m.group(1)

    num("goroutines", r"^goroutines (\d+):")
    for st in ("running", "runnable", "syscall", "waiting"):
        num(st, r"^goroutines \d+:.*\b%s (\d+)" % st)
    num("threads", r"^threads (\d+):")
    num("threads_syscall", r"^threads .* in syscalls (\d+)")
    num("procs", r"^Ps (\d+) ")
    num("switches_rate", r"^per second:\s+switches (\S+)")
    num("syscalls_rate", r"^per second:.* syscalls (\S+)")
    num("switches", r"^totals: switches (\d+),")
    num("spawns", r"^totals: .*spawns (\d+),")
    num("lat_samples", r"^scheduling latency .*: (\d+) samples")
    num("heap_in_use", r"^heap (\d+(?:\.\d+)? (?:B|KiB|MiB|GiB)) in use, goal ")
    num("gc_cycles", r"^heap .*; collections (\d+), last pause (?:\d+(?:\.\d+)?(?:ns|us|ms|s)|-)$")
    sites = {}
    for m in re.finditer(r"^\s+(\d+)  (\S.*?)\s+(\d+[sm])  (\S.*)$", text, re.M):
        sites[(m.group(2), m.group(4))] = int(m.group(1))
    v["sites"] = sites
    return v


def live(tool, prog):
    tmp = tempfile.mkdtemp(prefix="gort-top-")
    p = Prog(prog, tmp)
    try:
        r = top(tool, "-b", "-n", "3", "-d", "1", str(p.pid))
        elapsed = time.monotonic() - p.ready
        if r.returncode != 0 and "cannot read" in r.stderr:
            skip("reading another process is not allowed here: " + r.stderr.strip().splitlines()[0])
        if r.returncode != 0:
            fail("gort-top -b -n 3 %d: exit %d: %s" % (p.pid, r.returncode, r.stderr))
        fs = frames(r.stdout)
        if len(fs) != 3:
            fail("gort-top -n 3 printed %d frames:\n%s" % (len(fs), r.stdout))
        first = parse(fs[0])
        if first["switches_rate"] != "-":
            fail("the first frame has no interval, yet shows a rate: %s" % first["switches_rate"])
        v = parse(fs[-1])
        m = p.m
        n = lambda k: int(v[k])  # noqa: E731
        # the tickers: one sleeper (waiting or running/runnable), one in
        # usleep (syscall or running/runnable); main blocked after the snapshot
        fixed_waiting = 50 + 7 + 2 + 1
        fixed_syscall = 3
        problems = []
        if n("goroutines") != m["goroutines"]:
            problems.append("goroutines %d, the program's own count %d" % (n("goroutines"), m["goroutines"]))
        if n("goroutines") != n("running") + n("runnable") + n("syscall") + n("waiting"):
            problems.append("the states do not add up to the total")
        if not fixed_waiting <= n("waiting") <= fixed_waiting + 1:
            problems.append("waiting %d, expected %d or %d" % (n("waiting"), fixed_waiting, fixed_waiting + 1))
        if not fixed_syscall <= n("syscall") <= fixed_syscall + 1:
            problems.append("syscall %d, expected %d or %d" % (n("syscall"), fixed_syscall, fixed_syscall + 1))
        if n("running") + n("runnable") > 2:
            problems.append("running + runnable %d, at most the 2 tickers" % (n("running") + n("runnable")))
        if not fixed_syscall <= n("threads_syscall") <= fixed_syscall + 1:
            problems.append("threads in syscalls %d" % n("threads_syscall"))
        if n("threads") < n("threads_syscall") + 1:
            problems.append("threads %d, fewer than those in syscalls and one more" % n("threads"))
        if n("gc_cycles") < m["gc_cycles"] or m["gc_cycles"] < 2:
            problems.append("collections %d, the program's %d (2 or more)" % (n("gc_cycles"), m["gc_cycles"]))
        mib = float(v["heap_in_use"].split()[0]) * {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20,
                                                     "GiB": 1 << 30}[v["heap_in_use"].split()[1]]
        if mib < 256 * 8192:
            problems.append("heap in use %s, less than the program's live 2 MiB" % v["heap_in_use"])
        if n("procs") != m["procs"]:
            problems.append("Ps %d, GOMAXPROCS %d" % (n("procs"), m["procs"]))
        if n("spawns") != m["spawns"]:
            problems.append("spawns %d, the program's %d (none since)" % (n("spawns"), m["spawns"]))
        bound = int((elapsed + 2) * 2000)
        for k, mk in (("switches", "context_switches"), ("lat_samples", "sched_latency_samples")):
            if not m[mk] <= n(k) <= m[mk] + bound:
                problems.append("%s %d, the program's %d at the snapshot, %.1f s before" %
                                (k, n(k), m[mk], elapsed))
        for k in ("switches_rate", "syscalls_rate"):
            if not v[k].isdigit() or not 0 < int(v[k]) <= 2000:
                problems.append("%s %s: the tickers make about 100 a second" % (k, v[k]))
        want = {("chan receive", "start_receivers"): 50, ("sleep", "start_sleepers"): 7,
                ("syscall", "start_syscallers"): 3, ("sync.Mutex.Lock", "start_lockers"): 2,
                ("chan receive", "(none: the main goroutine)"): 1}
        for site, count in want.items():
            if v["sites"].get(site) != count:
                problems.append("site %s: %s goroutines, expected %d" % (site, v["sites"].get(site), count))
        if problems:
            fail("live:\n  %s\n--- frame:\n%s\n--- the program's snapshot: %s" %
                 ("\n  ".join(problems), "\n".join(fs[-1]), m))
        print("live: %d goroutines, %d sites, %s switches/s, %s syscalls/s" %
              (n("goroutines"), len(v["sites"]), v["switches_rate"], v["syscalls_rate"]))
        return p, tmp
    except BaseException:
        p.kill()
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def allocations(alloc, p):
    if alloc == "-":
        print("note: allocations not counted in this build (sanitized: the counter would replace ASan's malloc)")
        return
    r = top(alloc, "-b", "-n", "5", "-d", "0.2", str(p.pid))
    m = re.search(r"(\d+) allocations in (\d+) frames", r.stderr)
    if r.returncode != 0 or m is None or m.group(2) != "5":
        fail("top_alloc: exit %d: %s" % (r.returncode, r.stderr))
    if m.group(1) != "0":
        fail("gort-top's render loop allocated: %s" % r.stderr.strip())
    print("allocations: 0 in 5 frames")


def terminal(tool, p):
    script = shutil.which("script")
    if script is None:
        print("note: no script(1) (bsdutils): the terminal mode is not tried")
        return
    cmd = "%s -n 2 -d 0.2 %d" % (tool, p.pid)
    r = subprocess.run([script, "-qec", cmd, "/dev/null"], capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    if r.returncode != 0 or "\033[H" not in r.stdout or r.stdout.count("goroutines 65:") != 2 \
            or not r.stdout.rstrip().endswith("\033[?25h"):
        fail("gort-top on a terminal: exit %d:\n%r" % (r.returncode, r.stdout[-2000:]))
    print("terminal: 2 frames drawn")


def exits(tool, p):
    t = subprocess.Popen([tool, "-b", "-n", "100000", "-d", "0.1", str(p.pid)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        r, _, _ = select.select([t.stdout], [], [], 60)
        if not r or not t.stdout.readline().startswith("gort-top - process"):
            fail("gort-top printed no frame")
        p.kill()
        out, err = t.communicate(timeout=60)
    finally:
        if t.poll() is None:
            t.kill()
            t.wait()
    if t.returncode != 0 or "process %d exited" % p.pid not in err:
        fail("the program exiting: gort-top exit %d: %s" % (t.returncode, err))
    print("exit: %s" % err.strip())


def errors(tool, prog, tmp):
    def expect(args, rc, text, what, **kw):
        r = top(tool, *args, **kw)
        if r.returncode != rc or text not in r.stderr:
            fail("%s: exit %d, expected %d and %r: %s" % (what, r.returncode, rc, text, r.stderr))
        return r

    expect(["abc"], 1, "abc is not a process id", "a bad pid")
    expect([], 2, "usage: gort-top", "no pid")
    expect(["-n", "0", "1"], 2, "usage: gort-top", "-n 0")
    expect(["999999999"], 1, "no process 999999999", "no process")
    s = subprocess.Popen(["sleep", "60"])
    try:
        expect([str(s.pid)], 1, "is not a gort program", "sleep")
    finally:
        s.kill()
        s.wait()
    # not allowed: another user's process
    if os.getuid() == 0:
        p = Prog(prog, tmp)
        try:
            # a copy nobody may run, in a directory nobody may enter
            d = tempfile.mkdtemp(prefix="gort-top-nobody-")
            os.chmod(d, 0o755)
            copy = os.path.join(d, "gort-top")
            shutil.copy(tool, copy)
            os.chmod(copy, 0o755)

            def drop():
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)

            r = expect([str(p.pid)], 1, "cannot read %d" % p.pid, "as nobody", preexec_fn=drop, cwd=d)
            if "CAP_SYS_PTRACE" not in r.stderr:
                fail("as nobody: the message does not say what would allow it: %s" % r.stderr)
            shutil.rmtree(d, ignore_errors=True)
        finally:
            p.kill()
    elif os.stat("/proc/1").st_uid != os.getuid():
        expect(["1"], 1, "cannot read 1", "pid 1")
    else:
        print("note: no other user's process to try: the permission case is not tried")
    print("errors: bad pid, no process, not gort, not allowed")


def churn(tool, argv):
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    # it may not have started gort's runtime yet, or even exec'd: retry
    # until gort-top gets a first frame or the program is gone
    deadline = time.monotonic() + 60
    try:
        while True:
            t = subprocess.run([tool, "-b", "-d", "0.02", str(p.pid)], capture_output=True, text=True,
                               timeout=600)
            if t.returncode != 0 and "cannot read" in t.stderr:
                skip("reading another process is not allowed here: " + t.stderr.strip().splitlines()[0])
            if frames(t.stdout) or p.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        rc = p.wait(timeout=600)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    if rc != 0:
        fail("%s: exit %d: %s" % (argv, rc, p.stderr.read()))
    fs = frames(t.stdout)
    if not fs:
        print("note: %s ended before gort-top could watch it (%s)" % (argv[0], t.stderr.strip()))
        return
    if t.returncode != 0 or "process %d exited" % p.pid not in t.stderr:
        fail("gort-top on %s: exit %d: %s" % (argv, t.returncode, t.stderr))
    most = 0
    for f in fs[:-1]:  # the last may be cut short by the exit
        v = parse(f)
        if int(v["goroutines"]) != sum(int(v[k]) for k in ("running", "runnable", "syscall", "waiting")):
            fail("a frame whose states do not add up:\n" + "\n".join(f))
        most = max(most, int(v["goroutines"]))
    print("churn: %d frames of %s, up to %d goroutines" % (len(fs), os.path.basename(argv[0]), most))
    print("PASS %s" % NAME)


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "--churn":
        churn(os.path.abspath(sys.argv[2]), [os.path.abspath(sys.argv[3])] + sys.argv[4:])
        return
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    tool, prog, alloc = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]
    p, tmp = live(tool, prog)
    try:
        allocations(alloc, p)
        terminal(tool, p)
        exits(tool, p)
        errors(tool, prog, tmp)
    finally:
        p.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    print("PASS %s" % NAME)


if __name__ == "__main__":
    main()
