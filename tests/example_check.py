#!/usr/bin/env python3
"""example_check.py BIN_DIR CASE - the smoke tests of examples/crawler,
broker and pipeline (issue 17): each CASE runs one program with small sizes
and checks its exit status and its output, exactly where the output is
deterministic (counts, checksums, the goroutines left) and by pattern where
it is not (a rate, how many pages came in before an error).

    twins GO_DIR   also builds the Go twins (examples/go/, with Go 1.19 and
                   golang.org/x/sync) and checks that both twins print the
                   same lines; skipped (77) without them.

Prints "PASS example_<case>" or what differed, and exits 1.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def run(argv, want_status, want_out, want_err=None, timeout=120):
    """Run argv; each line of want_out is exact, or a regex if it starts with 're:'."""
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    where = f"{' '.join(argv)}\n--- stdout\n{p.stdout}--- stderr\n{p.stderr}"
    if p.returncode != want_status:
        fail(f"exit status {p.returncode}, want {want_status}: {where}")
    check_lines(p.stdout, want_out, where)
    if want_err is not None and not re.search(want_err, p.stderr):
        fail(f"stderr does not match /{want_err}/: {where}")
    return p


def check_lines(text, want, where):
    got = text.splitlines()
    if len(got) != len(want):
        fail(f"{len(got)} lines, want {len(want)}: {where}")
    for g, w in zip(got, want):
        ok = re.fullmatch(w[3:], g) if w.startswith("re:") else g == w
        if not ok:
            fail(f"line {g!r}, want {w!r}: {where}")


def pipeline(b):
    exe = os.path.join(b, "pipeline")
    # records of 512 bytes: the hashing is a byte loop, which ThreadSanitizer
    # watches byte by byte (4096-byte records took 140 s there)
    small = ["-n", "20000", "-size", "512"]
    for workers in ("1", "3", "8"):
        run([exe, "-workers", workers] + small, 0,
            ["merged 20000 records, 17 hits, checksum 0x60cb0867da2f6011", "goroutines left: 1"])
    # the early stop: the same prefix of records whatever the interleaving
    for workers in ("1", "4"):
        run([exe, "-workers", workers, "-stop", "5"] + small, 0,
            ["merged 5713 records, 5 hits, checksum 0xaae1d54d1db0e6fa", "goroutines left: 1"])
    run([exe, "-workers", "8", "-stop", "12"] + small, 0,
        ["merged 13991 records, 12 hits, checksum 0x055a6a96d59bb7b5", "goroutines left: 1"])
    run([exe, "-n", "2000", "-stop", "1"], 0,  # the default 4096 bytes a record
        ["merged 1404 records, 1 hits, checksum 0x6ea1836ff682ff05", "goroutines left: 1"])
    run([exe, "-n", "0"], 2, [], r"pipeline: -n, -workers and -size must be positive")
    run([exe, "-x"], 2, [], r"flag provided but not defined: -x")


def crawler(b):
    exe = os.path.join(b, "crawler")
    for workers in ("1", "8"):
        run([exe, "-pages", "3000", "-links", "6", "-workers", workers], 0,
            ["crawled 3000 pages, 18000 links, checksum 0x224c6a99f4c71db8"])
    run([exe, "-pages", "2000"], 0, ["crawled 2000 pages, 10000 links, checksum 0xe3aaf5beedd7e0d2"])
    # the first error cancels the crawl and is the one reported
    run([exe, "-pages", "3000", "-fail", "1234"], 1, [],
        r"^crawl: GET /p/1234: status 500 \(after \d+ pages\)\n$")
    # a request over its timeout (the page answers after 30 s)
    run([exe, "-pages", "500", "-slow", "50", "-slowfor", "30s", "-timeout", "2s"], 1, [],
        r"^crawl: GET /p/50: context deadline exceeded \(after \d+ pages\)\n$")
    # the whole crawl over its deadline while that page holds it up
    run([exe, "-pages", "500", "-slow", "50", "-slowfor", "30s", "-timeout", "20s", "-deadline", "2s"], 1, [],
        r"^crawl: GET /p/50: context deadline exceeded \(after \d+ pages\)\n$")


def broker_load(b):
    run([os.path.join(b, "broker"), "-load", "-pubs", "3", "-subs", "3", "-msgs", "20000"], 0,
        ["load: 3 publishers x 20000 messages, 3 subscribers + 1 that never reads",
         "subscribers received 180000 of 180000 messages",
         r"re:broker delivered \d+, dropped \d+ messages and 1 slow subscriber\(s\)",
         r"re:rate: \d+ messages/s received",
         "broker: shut down cleanly, 1 goroutine(s) left"],
        r"broker: dropping slow subscriber 127\.0\.0\.1:\d+")


def broker_sigint(b):
    """SIGINT with a subscriber and a publisher connected: both see their
    connection closed, and the broker waits for every goroutine."""
    p = subprocess.Popen([os.path.join(b, "broker"), "-addr", "127.0.0.1:0"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        first = p.stdout.readline()
        m = re.fullmatch(r"broker: listening on (127\.0\.0\.1):(\d+)\n", first)
        if not m:
            fail(f"first line {first!r}")
        addr = (m.group(1), int(m.group(2)))
        sub = socket.create_connection(addr, timeout=30)
        sub.sendall(b"SUB news\n")
        subf = sub.makefile("rb")
        if subf.readline() != b"OK SUB news\n":
            fail("no OK SUB news")
        pub = socket.create_connection(addr, timeout=30)
        pub.sendall(b"PUB news hello world\nPUB sports nobody listens\n")
        if subf.readline() != b"MSG news hello world\n":
            fail("the subscriber did not get the message")
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
        if subf.readline() != b"" or pub.recv(1) != b"":
            fail("a client's connection was left open")
    finally:
        if p.poll() is None:
            p.kill()
    if p.returncode != 0:
        fail(f"exit status {p.returncode}: {out}{err}")
    check_lines(out, ["broker: interrupt, shutting down", "broker: shut down cleanly, 2 goroutine(s) left"],
                out + err)


def twins(b, go_dir):
    go = os.environ.get("GO", "/usr/lib/go-1.19/bin/go")
    gopath = "/usr/share/gocode"
    if not os.access(go, os.X_OK):
        print(f"example_twins: skipped: no Go at {go} (apt-get install golang-1.19)")
        sys.exit(77)
    if not os.path.isdir(os.path.join(gopath, "src/golang.org/x/sync/errgroup")):
        print("example_twins: skipped: no golang.org/x/sync (apt-get install golang-golang-x-sync-dev)")
        sys.exit(77)
    env = dict(os.environ, GO111MODULE="off", GOFLAGS="", GOPATH=gopath,
               GOCACHE=os.environ.get("GOCACHE", "/tmp/go-anchors-cache"))
    cases = [("pipeline", ["-n", "30000", "-workers", "3"]), ("pipeline", ["-n", "30000", "-stop", "7"]),
             ("crawler", ["-pages", "4000", "-links", "7"]),
             ("broker", ["-load", "-pubs", "2", "-subs", "2", "-msgs", "20000"])]
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("pipeline", "crawler", "broker"):
            out = os.path.join(tmp, name)
            r = subprocess.run([go, "build", "-o", out, "."], cwd=os.path.join(go_dir, name), env=env,
                               capture_output=True, text=True, timeout=600)
            if r.returncode != 0:
                fail(f"go build {name}: {r.stderr}")
        for name, args in cases:
            c = subprocess.run([os.path.join(b, name)] + args, capture_output=True, text=True, timeout=120)
            g = subprocess.run([os.path.join(tmp, name)] + args, capture_output=True, text=True, timeout=120)
            # Not compared: the lines that depend on timing (the rate, what the
            # broker dropped), and the goroutines left, which the C cases
            # check: Go's pipeline once printed 2 in some hundreds of runs,
            # not reproduced since.
            same = lambda s: [l for l in s.splitlines()
                              if not l.startswith(("rate:", "broker delivered", "goroutines left"))
                              and "goroutine(s) left" not in l]
            if c.returncode != 0 or g.returncode != 0 or same(c.stdout) != same(g.stdout):
                fail(f"{name} {' '.join(args)}: the twins differ\n--- C ({c.returncode})\n{c.stdout}{c.stderr}"
                     f"--- Go ({g.returncode})\n{g.stdout}{g.stderr}")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    b, case = sys.argv[1], sys.argv[2]
    if case == "twins":
        twins(b, sys.argv[3] if len(sys.argv) > 3 else os.path.join(ROOT, "examples", "go"))
    else:
        {"pipeline": pipeline, "crawler": crawler, "broker_load": broker_load,
         "broker_sigint": broker_sigint}[case](b)
    print(f"PASS example_{case}")


if __name__ == "__main__":
    main()
