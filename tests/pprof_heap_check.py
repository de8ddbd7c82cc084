#!/usr/bin/env python3
"""pprof_heap_check.py - the heap and allocs profiles, read by Go's pprof.

    pprof_heap_check.py PROGRAM

Runs PROGRAM (tests/pprof_heap.c) with three files: the heap profile with
its 1000 objects of 64 bytes alive, the heap profile once they are dead
and collected, and the allocs profile then.  `go tool pprof -raw` must
read each, with Go's sample types and period (space/bytes, 1), and show
alloc_obj's sample as: alive 1000 64000 1000 64000; dead 1000 64000 0 0;
allocs the same as dead, its default type alloc_space (-top says
"Type: alloc_space"; heap's says inuse_space).  Then GORT_MEMPROFILE=FILE:
the heap profile written at exit holds alloc_obj's 1000 allocations.

Needs Go 1.19 (golang-1.19): without it, exits 77 (skipped).
"""
import os
import re
import subprocess
import sys
import tempfile

SKIP = 77
N, SIZE = 1000, 64


def fail(msg):
    print("FAIL pprof_heap_check: " + msg, file=sys.stderr)
    sys.exit(1)


def find_go():
    for go in (os.environ.get("GO"), "/usr/lib/go-1.19/bin/go"):
        if go and os.access(go, os.X_OK):
            return go
    print("SKIP pprof_heap_check: needs Go 1.19's go tool pprof "
          "(apt-get install golang-1.19, or GO=path)", file=sys.stderr)
    sys.exit(SKIP)


def pprof(go, *args):
    r = subprocess.run([go, "tool", "pprof"] + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        fail("go tool pprof %s: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout


def sample_of(go, path, fn, period=1):
    """The values of the one sample whose leaf location is fn."""
    raw = pprof(go, "-raw", path)
    if "PeriodType: space bytes" not in raw or "\nPeriod: %d\n" % period not in raw:
        fail("%s: not Go's period type and period:\n%s" % (path, raw))
    if not re.search(r"^alloc_objects/count alloc_space/bytes(\[dflt\])? inuse_objects/count "
                     r"inuse_space/bytes$", raw, re.M):
        fail("%s: not Go's sample types:\n%s" % (path, raw))
    locs = dict(re.findall(r"^\s+(\d+): 0x[0-9a-f]+ M=\d+ (\S+) ", raw, re.M))
    found = []
    for m in re.finditer(r"^\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+): ([\d ]+)$", raw, re.M):
        ids = m.group(5).split()
        if ids and locs.get(ids[0]) == fn:
            found.append(tuple(int(m.group(i)) for i in range(1, 5)))
    if len(found) != 1:
        fail("%s: %d samples with %s on top:\n%s" % (path, len(found), fn, raw))
    return found[0]


def main():
    go = find_go()
    prog = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        h1, h2, a2 = (os.path.join(tmp, n) for n in ("heap1", "heap2", "allocs2"))
        r = subprocess.run([prog, h1, h2, a2], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            fail("%s exited %d: %s" % (prog, r.returncode, r.stderr))
        for path, want in ((h1, (N, N * SIZE, N, N * SIZE)), (h2, (N, N * SIZE, 0, 0)),
                           (a2, (N, N * SIZE, 0, 0))):
            got = sample_of(go, path, "alloc_obj")
            if got != want:
                fail("%s: alloc_obj's sample %s, want %s" % (os.path.basename(path), got, want))
        for path, typ in ((h1, "inuse_space"), (a2, "alloc_space")):
            top = pprof(go, "-top", path)
            if "Type: %s" % typ not in top:
                fail("%s: default type not %s:\n%s" % (os.path.basename(path), typ, top))
        # GORT_MEMPROFILE: the heap profile written at exit
        mp = os.path.join(tmp, "memprofile")
        r = subprocess.run([prog], capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, GORT_MEMPROFILE=mp))
        if r.returncode != 0 or not os.path.exists(mp):
            fail("GORT_MEMPROFILE=%s: exit %d, file %s: %s" % (mp, r.returncode, os.path.exists(mp), r.stderr))
        got = sample_of(go, mp, "alloc_obj", period=0)  # the program ends at rate 0
        if got[:2] != (N, N * SIZE):
            fail("GORT_MEMPROFILE: alloc_obj's sample %s, want %d allocated" % (got, N))
        top = pprof(go, "-top", a2)
        if not re.search(r"62\.50kB\s+100%\s+100%\s+62\.50kB\s+100%\s+alloc_obj", top):
            fail("allocs -top: alloc_obj not flat 62.50kB:\n%s" % top)
    print("PASS pprof_heap_check")


if __name__ == "__main__":
    main()
