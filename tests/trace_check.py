#!/usr/bin/env python3
"""trace_check.py - a trace gort wrote, read back with Go 1.19's own tools.

    trace_check.py [--go GO] [--env] [--crash] [--web] PROGRAM MODE [ARGS...]

Runs PROGRAM TRACEFILE MODE ARGS... (with --env: under GORT_TRACE=TRACEFILE;
with --crash: under GORT_TRACE_FLIGHT=TRACEFILE, and the program must die
as Go's do - status 2, its report on stderr - with the flight recorder's
note that it wrote the file) and then checks the trace against the
"expect" lines the program printed (tests/trace_workload.c lists them):

  - `go tool trace -d` parses it without error (its parser checks the
    format, the ordering of every P's stream by sequence numbers and
    timestamps, and every goroutine's and P's state machine);
  - event counts: GoCreate for each goroutine made, at least so many events
    of each type, and every goroutine that blocked (GoBlock*, GoSleep) has
    its GoUnblock later;
  - user tasks, regions and logs by name; "expect gevents GOID N": at
    least N events of goroutine GOID (the one that crashed);
  - stacks: `go tool trace -pprof=sync` (the blocking profile) holds the
    program's own function at its file:line;
  - "expect recordings N": TRACE.1 .. TRACE.N, more flight recordings of
    the same run, parse too (TRACE_CHECK_KEEP=path keeps a failing one);
  - with --web: go tool trace's web server serves the timeline JSON of the
    main goroutine (goroutine 1), with the program's frames in it; and
    "expect webframe GOID FUNC": goroutine GOID's timeline has a frame of
    FUNC (the stack of a preemption by signal, say).

Needs Go 1.19 (Debian's golang-1.19): without it, exits 77, which CTest
reports as skipped.
"""
import argparse
import collections
import contextlib
import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

SKIP = 77
BLOCKS = {"GoBlock", "GoBlockSend", "GoBlockRecv", "GoBlockSelect", "GoBlockSync",
          "GoBlockCond", "GoBlockNet", "GoSleep"}


def fail(msg):
    print("FAIL trace_check: " + msg, file=sys.stderr)
    sys.exit(1)


def find_go(arg):
    for go in (arg, os.environ.get("GO"), "/usr/lib/go-1.19/bin/go"):
        if go and os.access(go, os.X_OK):
            return go
    print("SKIP trace_check: needs Go 1.19's go tool trace "
          "(apt-get install golang-1.19, or GO=path)", file=sys.stderr)
    sys.exit(SKIP)


SARGS = {"UserTaskCreate": ["name"], "UserRegion": ["name"],
         "UserLog": ["category", "message"], "GoStartLabel": ["label"], "GCSTWStart": ["kind"]}


def parse_events(text):
    """`go tool trace -d` prints one event a line: ts, name, p=, g=, off=,
    the arguments as key=value, then the string arguments (which may hold
    spaces: the last one runs to the end of the line)."""
    events = []
    for line in text.splitlines():
        tok = line.split(" ")
        if len(tok) < 5 or not tok[2].startswith("p="):
            continue
        ev = {"name": tok[1], "g": int(tok[3][2:]), "sargs": {}}
        rest = " ".join(tok[5:])
        keys = SARGS.get(ev["name"], [])
        if keys:
            pat = "".join(r"(?:^| )%s=(.*)" % k if i == 0 else r" %s=(.*)" % k
                          for i, k in enumerate(keys)) + "$"
            m = re.search(pat, rest)
            if m:
                ev["sargs"] = dict(zip(keys, m.groups()))
                rest = rest[:m.start()]
        ev["args"] = [int(kv.partition("=")[2]) for kv in rest.split()]
        events.append(ev)
    return events


def check_counts(events, expects, dying=False):
    count = collections.Counter(e["name"] for e in events)
    for kind, want in expects["count"]:
        if count[kind] < want:
            fail("%d %s events, want at least %d" % (count[kind], kind, want))
    if count["GoCreate"] < expects["creates"]:
        fail("%d GoCreate events, want at least %d" % (count["GoCreate"], expects["creates"]))
    pending = {}
    for e in events:
        if e["name"] in BLOCKS:
            pending[e["g"]] = e
        elif e["name"] == "GoUnblock":
            pending.pop(e["args"][0], None)
    if pending and not dying:  # a program that dies leaves goroutines blocked
        g, e = next(iter(pending.items()))
        fail("%d goroutines blocked without an unblock, e.g. g%d after %s" % (len(pending), g, e["name"]))


def check_heap(events, expects):
    """"expect gcheap N": the last HeapAlloc before the last GCDone is N
    (the live heap as the last collection ended); "expect heapmin N": some
    HeapAlloc reached N (tests/trace_gc.c)."""
    if expects["gcheap"] is not None:
        last = None
        for e in events:
            if e["name"] == "HeapAlloc":
                last = e["args"][0]
            elif e["name"] == "GCDone":
                done = last
        if last is None or "done" not in locals() or done != expects["gcheap"]:
            fail("the heap as the last collection ended: %s, want %d"
                 % (locals().get("done"), expects["gcheap"]))
    if expects["heapmin"] is not None:
        top = max([e["args"][0] for e in events if e["name"] == "HeapAlloc"] or [0])
        if top < expects["heapmin"]:
            fail("the heap counter peaked at %d, want at least %d" % (top, expects["heapmin"]))


def check_gevents(events, expects):
    for goid, want in expects["gevents"]:
        got = [e["name"] for e in events if e["g"] == goid]
        if len(got) < want:
            fail("goroutine %d has %d events, want at least %d (%s)" % (goid, len(got), want, got))


def check_annotations(events, expects):
    seen = collections.defaultdict(set)
    for e in events:
        s = e["sargs"]
        if e["name"] == "UserTaskCreate":
            seen["task"].add(s.get("name"))
        elif e["name"] == "UserRegion":
            seen["region"].add(s.get("name"))
        elif e["name"] == "UserLog":
            seen["log"].add("%s %s" % (s.get("category"), s.get("message")))
    for kind, name in expects["named"]:
        if name not in seen[kind]:
            fail("no %s %r in the trace (saw %s)" % (kind, name, sorted(seen[kind])))


# ---- pprof: just enough protobuf to read functions and lines ----------------

def varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7f) << shift
        shift += 7
        if c < 0x80:
            return v, i


def fields(b):
    i = 0
    while i < len(b):
        key, i = varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        elif wt == 1:
            v, i = b[i:i + 8], i + 8
        elif wt == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wt)
        yield num, v


def pprof_frames(data):
    """(function, file, line) of every location line in a pprof profile."""
    prof = list(fields(gzip.decompress(data)))
    strings = [v.decode() for n, v in prof if n == 6]
    funcs = {}
    for n, v in prof:
        if n == 5:  # Function: id 1, name 2, system_name 3, filename 4
            f = dict(fields(v))
            funcs[f.get(1)] = (strings[f.get(2, 0)], strings[f.get(4, 0)])
    out = set()
    for n, v in prof:
        if n == 4:  # Location: line 4 = Line{function_id 1, line 2}
            for ln, lv in fields(v):
                if ln == 4:
                    line = dict(fields(lv))
                    fn, file = funcs.get(line.get(1), ("", ""))
                    out.add((fn, file, line.get(2, 0)))
    return out


def check_frames(go, trace, expects):
    if not expects["frame"]:
        return
    r = subprocess.run([go, "tool", "trace", "-pprof=sync", trace], capture_output=True)
    if r.returncode != 0:
        fail("go tool trace -pprof=sync: %s" % r.stderr.decode())
    frames = pprof_frames(r.stdout)
    for fn, file, line in expects["frame"]:
        if not any(f == fn and os.path.basename(fl) == os.path.basename(file) and ln == line
                   for f, fl, ln in frames):
            near = sorted(x for x in frames if x[0] == fn)
            fail("no frame %s %s:%d in the blocking profile (%s has %s)" % (fn, file, line, fn, near))


def check_recordings(go, trace, expects):
    """"expect recordings N": the flight recordings TRACE.1 .. TRACE.N (all
    written by one run) each parse on their own."""
    for i in range(1, expects["recordings"] + 1):
        path = "%s.%d" % (trace, i)
        r = subprocess.run([go, "tool", "trace", "-d", path], capture_output=True, text=True)
        if r.returncode != 0:
            keep = os.environ.get("TRACE_CHECK_KEEP")
            if keep:
                shutil.copy(path, keep)
            fail("recording %d of %d: go tool trace -d: %s%s"
                 % (i, expects["recordings"], r.stderr.strip().splitlines()[-1],
                    " (kept in %s)" % keep if keep else ""))


@contextlib.contextmanager
def timeline(go, trace):
    """go tool trace's own web server on trace, for the with-block: yields
    fetch(path), the JSON document the server returns for path."""
    env = dict(os.environ, BROWSER="true")
    # its own process group: `go tool trace` runs the trace tool as a child,
    # which must go too
    srv = subprocess.Popen([go, "tool", "trace", "-http=127.0.0.1:0", trace], env=env,
                           stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                           start_new_session=True)
    try:
        addr = None
        deadline = time.time() + 60
        while addr is None and time.time() < deadline:
            line = srv.stderr.readline()
            if not line:
                fail("go tool trace's server exited: no address")
            m = re.search(r"(http://127\.0\.0\.1:\d+)", line)
            if m:
                addr = m.group(1)
        yield lambda path: json.loads(urllib.request.urlopen(addr + path, timeout=60).read())
    finally:
        os.killpg(srv.pid, signal.SIGKILL)
        srv.wait()


def timeline_names(fetch):
    """Every event name in the whole timeline."""
    return {e.get("name") for e in fetch("/jsontrace").get("traceEvents", [])}


def check_web(go, trace, checks, slices=()):
    """Each (goroutine, function) of checks: the goroutine's timeline JSON,
    from go tool trace's own server, has events and a frame of function;
    each name of slices: the whole timeline has an event of that name
    ("GC", "STW (mark termination)", the "Heap" counter, ...)."""
    with timeline(go, trace) as fetch:
        if slices:
            names = timeline_names(fetch)
            for name in slices:
                if name not in names:
                    fail("the timeline has no %r event (it has %s)" % (name, sorted(n for n in names if n)[:40]))
        for goid, fn in checks:
            doc = fetch("/jsontrace?goid=%d" % goid)
            if not doc.get("traceEvents"):
                fail("the timeline of goroutine %d has no events" % goid)
            names = [f.get("name", "") for f in doc.get("stackFrames", {}).values()]
            if not any(n.startswith(fn + ":") for n in names):
                fail("the timeline of goroutine %d has no %s frame (frames: %s)" % (goid, fn, names[:20]))


DEATHS = {"panic": "panic: flight recorder test",
          "smallpanic": "panic: flight recorder test",
          "deadlock": "fatal error: all goroutines are asleep - deadlock!",
          "quit": "SIGQUIT: quit"}


def run_program(args, trace, env_mode):
    cmd = [args.program, trace, args.mode] + args.args
    env = dict(os.environ)
    if env_mode:
        env["GORT_TRACE"] = trace
    if args.crash:
        env["GORT_TRACE_FLIGHT"] = trace
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    sys.stderr.write(r.stderr)
    if args.crash:
        lines = r.stderr.splitlines()
        if r.returncode != 2:
            fail("%s exited %d, want 2" % (" ".join(cmd), r.returncode))
        if DEATHS[args.mode] not in lines:
            fail("no %r on stderr" % DEATHS[args.mode])
        if not any(re.match(r"goroutine \d+ \[", ln) for ln in lines):
            fail("no goroutine in the report")
        note = "gort: GORT_TRACE_FLIGHT: the last "
        if not any(ln.startswith(note) and ln.endswith(" ms of the trace are in " + trace)
                   for ln in lines):
            fail("no %r...%r on stderr" % (note, trace))
    elif r.returncode != 0:
        fail("%s exited %d" % (" ".join(cmd), r.returncode))
    expects = {"recordings": 0, "count": [], "creates": 0, "named": [], "frame": [], "gevents": [], "webframe": [],
               "gcheap": None, "heapmin": None, "webslice": []}
    for line in r.stdout.splitlines():
        w = line.split(" ")
        if w[0] != "expect":
            continue
        if w[1] == "count":
            expects["count"].append((w[2], int(w[3])))
        elif w[1] == "creates":
            expects["creates"] = int(w[2])
        elif w[1] in ("task", "region"):
            expects["named"].append((w[1], w[2]))
        elif w[1] == "log":
            expects["named"].append(("log", " ".join(w[2:])))
        elif w[1] == "webslice":
            expects["webslice"].append(" ".join(w[2:]))
        elif w[1] == "webframe":
            expects["webframe"].append((int(w[2]), w[3]))
        elif w[1] == "gevents":
            expects["gevents"].append((int(w[2]), int(w[3])))
        elif w[1] == "frame":
            expects["frame"].append((w[2], w[3], int(w[4])))
        elif w[1] in ("gcheap", "heapmin", "recordings"):
            expects[w[1]] = int(w[2])
    return expects


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--go")
    ap.add_argument("--env", action="store_true", help="trace with GORT_TRACE")
    ap.add_argument("--crash", action="store_true",
                    help="the program dies; GORT_TRACE_FLIGHT writes the trace")
    ap.add_argument("--web", action="store_true", help="also fetch the timeline JSON")
    ap.add_argument("program")
    ap.add_argument("mode")
    ap.add_argument("args", nargs="*")
    args = ap.parse_args()
    go = find_go(args.go)
    with tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, "trace.out")
        expects = run_program(args, trace, args.env)
        r = subprocess.run([go, "tool", "trace", "-d", trace], capture_output=True, text=True)
        if r.returncode != 0:
            fail("go tool trace -d: %s" % r.stderr.strip())
        events = parse_events(r.stdout)
        if not events:
            fail("go tool trace -d printed no events")
        check_recordings(go, trace, expects)
        check_counts(events, expects, args.crash)
        check_annotations(events, expects)
        check_gevents(events, expects)
        check_heap(events, expects)
        check_frames(go, trace, expects)
        web = ([(1, "main_fn")] if args.web else []) + expects["webframe"]
        if web or expects["webslice"]:
            check_web(go, trace, web, expects["webslice"])
    print("PASS trace_check %s %s" % (os.path.basename(args.program), args.mode))


if __name__ == "__main__":
    main()
