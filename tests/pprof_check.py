#!/usr/bin/env python3
"""pprof_check.py - gort's profiles and debug endpoints, read back with Go
1.19's own `go tool pprof`.

    pprof_check.py [--go GO] PROGRAM MODE

MODE goroutine, cpu, block, mutex, threadcreate, env: runs PROGRAM MODE FILE
(env: under GORT_CPUPROFILE=FILE),
then checks FILE against the "expect" lines PROGRAM printed
(tests/pprof_workload.c lists them):

  - FILE is gzip (Python's reader checks the CRC) and `go tool pprof -raw`
    parses it; its samples and locations are read from that output;
  - expect sample FUNC N: a sample of exactly N (first value) has FUNC;
    expect top FUNC PCT: the samples with FUNC hold PCT % of the total;
    expect has FUNC: some sample has FUNC; expect textotal N: the debug=1
    text says "total N" or more;
  - goroutine: the debug=1 text (Go's format, "N @ pcs" and tab-separated
    frame lines) and the debug=2 dump (every goroutine) agree.

MODE delta: runs PROGRAM delta 127.0.0.1:PORT and asks for delta profiles
(?seconds=6) of block, mutex and goroutine while the program makes a known
number of events inside the window after others before it: the delta has
the inside ones alone, exactly; and Go's 400s for a bad seconds value.

MODE serve: runs PROGRAM serve 127.0.0.1:PORT N and fetches Go's endpoints
over HTTP: content types, Content-Disposition, bodies; `go tool pprof` on
the live URLs (goroutine counts, a CPU profile holding the spinning
function); two CPU profiles at once (the second gets Go's 500); bad
requests (400, 431, 505) and a client that sends half a head (closed at
the head deadline) - and the server still answers after all of them.

Needs Go 1.19 (Debian's golang-1.19): without it, exits 77 (skipped).
"""
import argparse
import gzip
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

SKIP = 77


def fail(msg):
    print("FAIL pprof_check: " + msg, file=sys.stderr)
    sys.exit(1)


def find_go(arg):
    for go in (arg, os.environ.get("GO"), "/usr/lib/go-1.19/bin/go"):
        if go and os.access(go, os.X_OK):
            return go
    print("SKIP pprof_check: needs Go 1.19's go tool pprof "
          "(apt-get install golang-1.19, or GO=path)", file=sys.stderr)
    sys.exit(SKIP)


def pprof(go, tmp, *args):
    env = dict(os.environ, PPROF_TMPDIR=tmp, HOME=tmp, PPROF_BINARY_PATH=tmp)
    r = subprocess.run([go, "tool", "pprof"] + list(args), capture_output=True,
                       text=True, env=env, timeout=120)
    if r.returncode != 0:
        fail("go tool pprof %s: exit %d\n%s" % (" ".join(args), r.returncode, r.stderr))
    return r.stdout


def parse_raw(text):
    """go tool pprof -raw: [(values, [set of functions per location])]."""
    samples, locs, section, cur = [], {}, None, None
    for line in text.splitlines():
        if line.startswith("Samples:"):
            section = "samples"
            continue
        if line.startswith("Locations"):
            section = "locations"
            continue
        if line.startswith("Mappings"):
            section = None
            continue
        if section == "samples":
            m = re.match(r"^\s*([-\d ]+):\s*([\d ]*)$", line)
            if m:
                values = [int(v) for v in m.group(1).split()]
                ids = [int(v) for v in m.group(2).split()]
                samples.append((values, ids))
        elif section == "locations":
            m = re.match(r"^\s*(\d+): 0x[0-9a-f]+ M=\d+ (\S+)", line)
            if m:
                cur = int(m.group(1))
                locs[cur] = {m.group(2)}
                continue
            m = re.match(r"^\s*(\d+): 0x[0-9a-f]+ M=\d+\s*$", line)
            if m:
                cur = int(m.group(1))
                locs[cur] = set()
                continue
            m = re.match(r"^\s+(\S+) \S+:\d+ s=\d+$", line)
            if m and cur is not None:
                locs[cur].add(m.group(1))
    return [(values, set().union(*[locs.get(i, set()) for i in ids]) if ids else set())
            for values, ids in samples]


def check_expects(expects, samples, textpath):
    total = sum(v[0] for v, _ in samples)
    for e in expects:
        kind, args = e[0], e[1:]
        if kind == "sample":
            fn, n = args[0], int(args[1])
            if not any(v[0] == n and fn in fns for v, fns in samples):
                fail("no sample of %d with %s: %s" % (n, fn, [(v, sorted(f)) for v, f in samples]))
        elif kind == "top":
            fn, pct = args[0], float(args[1])
            share = sum(v[0] for v, fns in samples if fn in fns)
            if total == 0 or 100.0 * share / total < pct:
                fail("%s holds %d of %d samples, less than %s%%" % (fn, share, total, pct))
        elif kind == "has":
            if not any(args[0] in fns for _, fns in samples):
                fail("no sample has %s: %s" % (args[0], [(v, sorted(f)) for v, f in samples]))
        elif kind == "textotal":
            text = open(textpath).read()
            m = re.match(r"^\w+ profile: total (\d+)\n", text)
            if not m or int(m.group(1)) < int(args[0]):
                fail("%s: wants total %s or more:\n%s" % (textpath, args[0], text[:500]))
        else:
            fail("unknown expect " + " ".join(e))


def check_goroutine_text(path, n):
    """Go's debug=1 text and the debug=2 dump of the goroutine profile."""
    text = open(path + ".1").read()
    m = re.match(r"^goroutine profile: total (\d+)\n", text)
    if not m or int(m.group(1)) < n + 1:
        fail("debug=1: header wants a total of %d or more:\n%s" % (n + 1, text[:300]))
    block = re.search(r"^%d @( 0x[0-9a-f]+)+\n((#\t.*\n)+)\n" % n, text, re.M)
    if not block:
        fail("debug=1: no record '%d @ ...' with frames:\n%s" % (n, text[:1000]))
    if not re.search(r"^#\t0x[0-9a-f]+\tpprof_parked\+0x[0-9a-f]+\t+\S*pprof_workload\.c:\d+$",
                     block.group(2), re.M):
        fail("debug=1: the record has no 'pprof_parked+0x.. file:line' frame:\n" + block.group(0))
    dump = open(path + ".2").read()
    if not dump.startswith("goroutine "):
        fail("debug=2 must start with a goroutine header:\n" + dump[:300])
    k = len(re.findall(r"^pprof_parked\(\.\.\.\)$", dump, re.M))
    if k != n:
        fail("debug=2: %d goroutines in pprof_parked, want %d" % (k, n))


def run_file_mode(go, program, mode, tmp):
    out = os.path.join(tmp, mode + ".pb")
    env = dict(os.environ, GORT_CPUPROFILE=out) if mode == "env" else None
    r = subprocess.run([program, mode, out], capture_output=True, text=True, timeout=120, env=env)
    if r.returncode != 0:
        fail("%s %s: exit %d\n%s%s" % (program, mode, r.returncode, r.stdout, r.stderr))
    expects = [l.split()[1:] for l in r.stdout.splitlines() if l.startswith("expect ")]
    if not expects:
        fail("no expect lines:\n" + r.stdout)
    gzip.decompress(open(out, "rb").read())  # a whole gzip stream, CRC and length checked
    samples = parse_raw(pprof(go, tmp, "-raw", out))
    check_expects(expects, samples, out + ".1")
    if mode == "goroutine":
        check_goroutine_text(out, int(expects[0][2]))
    pprof(go, tmp, "-top", out)  # the report every user runs first
    print("PASS pprof_%s (%d samples)" % (mode, len(samples)))


# ---- serve ---------------------------------------------------------------------

def get(base, path, timeout=60):
    try:
        with urllib.request.urlopen(base + path, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def raw_request(port, data, timeout=15):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    s.close()
    return out


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run_serve(go, program, tmp):
    n = 50
    port = free_port()
    base = "http://127.0.0.1:%d" % port
    p = subprocess.Popen([program, "serve", "127.0.0.1:%d" % port, str(n)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        if line.strip() != "ready":
            fail("serve: no ready line: %r" % line)
        # a client that sends half a head and waits: closed at the deadline
        slow = socket.create_connection(("127.0.0.1", port), timeout=30)
        slow.sendall(b"GET /debug/pprof/ HTTP/1.1\r\nHost: x\r\n")
        slow_start = time.time()

        st, h, body = get(base, "/debug/pprof/")
        if st != 200 or h["Content-Type"] != "text/html; charset=utf-8":
            fail("index: %d %s" % (st, h["Content-Type"]))
        page = body.decode()
        for name in ("block", "goroutine", "goroutineleak", "mutex", "threadcreate", "cmdline", "profile", "trace"):
            if "<a href='%s?debug=1'>%s</a>" % (name, name) not in page:
                fail("index: no link to %s:\n%s" % (name, page))
        m = re.search(r"<tr><td>(\d+)</td><td><a href='goroutine\?debug=1'>", page)
        if not m or int(m.group(1)) < n + 2:
            fail("index: the goroutine count wants %d or more:\n%s" % (n + 2, page))

        for name in ("goroutine", "goroutineleak", "block", "mutex", "threadcreate"):
            st, h, body = get(base, "/debug/pprof/" + name)
            if (st != 200 or h["Content-Type"] != "application/octet-stream" or
                    h["Content-Disposition"] != 'attachment; filename="%s"' % name):
                fail("%s: %d %s %s" % (name, st, h["Content-Type"], h["Content-Disposition"]))
            gzip.decompress(body)
            st, h, body = get(base, "/debug/pprof/%s?debug=1" % name)
            if st != 200 or h["Content-Type"] != "text/plain; charset=utf-8":
                fail("%s?debug=1: %d %s" % (name, st, h["Content-Type"]))
        st, h, body = get(base, "/debug/pprof/goroutine?debug=1")
        if not re.search(r"^%d @" % n, body.decode(), re.M):
            fail("goroutine?debug=1: no record of %d:\n%s" % (n, body.decode()[:800]))
        st, h, body = get(base, "/debug/pprof/goroutineleak?debug=1")
        if not body.decode().startswith("goroutineleak profile: total "):
            fail("goroutineleak?debug=1: %r" % body.decode()[:200])
        st, h, body = get(base, "/debug/pprof/goroutine?debug=2")
        if body.decode().count("pprof_parked(...)") != n:
            fail("goroutine?debug=2: want %d in pprof_parked" % n)
        st, h, body = get(base, "/debug/pprof/cmdline")
        if h["Content-Type"] != "text/plain; charset=utf-8" or body.split(b"\0")[1:3] != [b"serve", b"127.0.0.1:%d" % port]:
            fail("cmdline: %s %r" % (h["Content-Type"], body))
        st, h, body = get(base, "/debug/vars")
        v = json.loads(body)
        if h["Content-Type"] != "application/json; charset=utf-8" or v["cmdline"][1] != "serve":
            fail("vars: %s %r" % (h["Content-Type"], v.get("cmdline")))
        if v["gort"]["goroutines"] < n + 2 or "memstats" not in v:
            fail("vars: %r" % v)
        st, h, body = get(base, "/debug/pprof/nosuch")
        if st != 404 or body != b"Unknown profile\n":
            fail("nosuch: %d %r" % (st, body))
        st, h, body = get(base, "/elsewhere")
        if st != 404:
            fail("/elsewhere: %d" % st)

        # two CPU profiles at once: one is refused with Go's message
        results = []
        def fetch():
            results.append(get(base, "/debug/pprof/profile?seconds=2"))
        threads = [threading.Thread(target=fetch) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(r[0] for r in results)
        if codes != [200, 500]:
            fail("two profiles at once: %s" % codes)
        refused = [r for r in results if r[0] == 500][0]
        if refused[2] != b"Could not enable CPU profiling: cpu profiling already in use\n":
            fail("the refused profile: %r" % refused[2])
        ok = [r for r in results if r[0] == 200][0]
        if ok[1]["Content-Disposition"] != 'attachment; filename="profile"':
            fail("profile: %s" % ok[1]["Content-Disposition"])

        # go tool pprof on the live URLs
        samples = parse_raw(pprof(go, tmp, "-raw", base + "/debug/pprof/goroutine"))
        if not any(v[0] == n and "pprof_parked" in f for v, f in samples):
            fail("go tool pprof goroutine: no sample of %d in pprof_parked" % n)
        top = pprof(go, tmp, "-top", base + "/debug/pprof/profile?seconds=2")
        if not re.search(r"\bpprof_spin_inner\b", top):
            fail("go tool pprof profile: no pprof_spin_inner:\n" + top)

        st, h, body = get(base, "/debug/pprof/trace?seconds=0.5")
        if st != 200 or h["Content-Disposition"] != 'attachment; filename="trace"' or not body.startswith(b"go 1.19 trace\0"):
            fail("trace: %d %s %r" % (st, h["Content-Disposition"], body[:16]))

        # bad requests: Go's refusals, and the server lives on
        bad = {
            b"GARBAGE\r\n\r\n": b"HTTP/1.1 400 Bad Request\r\n",
            b"GET /debug/pprof/ HTTP/1.1\r\n\r\n": b"HTTP/1.1 400 Bad Request: missing required Host header\r\n",
            b"GET /debug/pprof/ HTTP/2.0\r\nHost: x\r\n\r\n": b"HTTP/1.1 505 HTTP Version Not Supported",
            b"GET /debug/pprof/ HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n": b"HTTP/1.1 400 Bad Request\r\n",
            b"GET /debug/pprof/ HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 9000 + b"\r\n\r\n": b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
            b"GET /debug/\0pprof/ HTTP/1.1\r\nHost: x\r\n\r\n": b"HTTP/1.1 400 Bad Request\r\n",
            b"GET debug HTTP/1.1\r\nHost: x\r\n\r\n": b"HTTP/1.1 400 Bad Request\r\n",
        }
        for req, want in bad.items():
            got = raw_request(port, req)
            if not got.startswith(want):
                fail("%r: got %r, want %r" % (req[:60], got[:100], want))
        got = raw_request(port, b"HEAD /debug/pprof/cmdline HTTP/1.0\r\n\r\n")
        if not got.startswith(b"HTTP/1.1 200 OK\r\n") or not got.endswith(b"\r\n\r\n"):
            fail("HEAD: %r" % got)
        # the slow client is cut off at the head deadline (10 s), unanswered
        slow.settimeout(30)
        if slow.recv(100) != b"":
            fail("the slow client got an answer")
        waited = time.time() - slow_start
        if waited < 5:
            fail("the slow client was closed after %.1f s, before its deadline" % waited)
        st, h, body = get(base, "/debug/pprof/")
        if st != 200:
            fail("the server did not survive: %d" % st)
    finally:
        p.stdin.close()
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            fail("serve: the program did not exit")
    if p.returncode != 0:
        fail("serve: exit %d" % p.returncode)
    print("PASS pprof_serve")


# ---- delta ---------------------------------------------------------------------

def run_delta(go, program, tmp):
    """Delta profiles (?seconds=N): 5 events of each kind before the window,
    3 inside it; the delta holds the 3 alone, the cumulative profile both."""
    port = free_port()
    base = "http://127.0.0.1:%d" % port
    p = subprocess.Popen([program, "delta", "127.0.0.1:%d" % port],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        if p.stdout.readline().strip() != "ready":
            fail("delta: no ready line")
        # Go's refusals first
        for q, want in (("block?seconds=x", b'invalid value for "seconds" - must be a positive integer\n'),
                        ("mutex?seconds=0", b'invalid value for "seconds" - must be a positive integer\n'),
                        ("goroutine?seconds=1.5", b'invalid value for "seconds" - must be a positive integer\n'),
                        ("block?seconds=1&debug=1", b"seconds and debug params are incompatible\n")):
            st, h, body = get(base, "/debug/pprof/" + q)
            if st != 400 or body != want or h["Content-Type"] != "text/plain; charset=utf-8":
                fail("delta: %s: %d %r" % (q, st, body))
        # three windows of 6 s at once; the events come 2 s into them
        WINDOW = 6
        results = {}
        def fetch(name):
            results[name] = get(base, "/debug/pprof/%s?seconds=%d" % (name, WINDOW), timeout=120)
        names = ("block", "mutex", "goroutine")
        threads = [threading.Thread(target=fetch, args=(n,)) for n in names]
        t0 = time.time()
        for t in threads:
            t.start()
        time.sleep(2)
        p.stdin.write("inside\n")
        p.stdin.flush()
        if p.stdout.readline().strip() != "done":
            fail("delta: no done line")
        took = time.time() - t0
        for t in threads:
            t.join()
        if took > WINDOW - 1:
            fail("delta: the events took until %.1f s of the %d s window: the machine is too slow "
                 "to tell inside from outside" % (took, WINDOW))
        want = {"block": ("delta_block_inside", "delta_block_before", 3),
                "mutex": ("delta_unlock_inside", "delta_unlock_before", 3),
                "goroutine": ("delta_parked_inside", "delta_parked_before", 4)}
        for name in names:
            st, h, body = results[name]
            if (st != 200 or h["Content-Type"] != "application/octet-stream" or
                    h["Content-Disposition"] != 'attachment; filename="%s-delta"' % name):
                fail("%s delta: %d %s %s %r" % (name, st, h["Content-Type"], h["Content-Disposition"], body[:200]))
            path = os.path.join(tmp, name + "-delta.pb")
            with open(path, "wb") as f:
                f.write(body)
            gzip.decompress(body)
            raw = pprof(go, tmp, "-raw", path)
            m = re.search(r"^Duration: ([\d.]+)s?", raw, re.M)
            if not m or not WINDOW - 0.5 <= float(m.group(1)) <= WINDOW + 30:
                fail("%s delta: duration %s, want about %d s:\n%s" % (name, m and m.group(1), WINDOW, raw[:500]))
            samples = parse_raw(raw)
            inside, before, n = want[name]
            got = [v for v, fns in samples if inside in fns]
            if [v[0] for v in got] != [n]:
                fail("%s delta: want one sample of %d in %s, got %r:\n%s" % (name, n, inside, got, raw))
            if name != "goroutine" and got[0][1] <= 0:
                fail("%s delta: no delay in %r" % (name, got))
            stale = [v for v, fns in samples if before in fns]
            if stale:
                fail("%s delta: %s's events were before the window, yet: %r" % (name, before, stale))
            # the whole profile has both
            st, h, body = get(base, "/debug/pprof/" + name)
            path = os.path.join(tmp, name + ".pb")
            with open(path, "wb") as f:
                f.write(body)
            whole = parse_raw(pprof(go, tmp, "-raw", path))
            counts = sorted(v[0] for v, fns in whole if inside in fns or before in fns)
            if counts != sorted([n, 5]):
                fail("%s: the whole profile wants %d and 5 in %s and %s, got %r" % (name, n, inside, before, counts))
        st, h, body = get(base, "/debug/pprof/threadcreate?seconds=1")
        if st != 200 or h["Content-Disposition"] != 'attachment; filename="threadcreate-delta"':
            fail("threadcreate delta: %d %r" % (st, body[:200]))
    finally:
        p.stdin.close()
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            fail("delta: the program did not exit")
    if p.returncode != 0:
        fail("delta: exit %d" % p.returncode)
    print("PASS pprof_delta")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--go")
    ap.add_argument("program")
    ap.add_argument("mode")
    a = ap.parse_args()
    go = find_go(a.go)
    with tempfile.TemporaryDirectory() as tmp:
        if a.mode == "serve":
            run_serve(go, a.program, tmp)
        elif a.mode == "delta":
            run_delta(go, a.program, tmp)
        else:
            run_file_mode(go, a.program, a.mode, tmp)


if __name__ == "__main__":
    main()
