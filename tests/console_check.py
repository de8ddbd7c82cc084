#!/usr/bin/env python3
"""console_check.py - gort's live console (/debug/gort/) against a live
program, tests/console_prog.c, whose goroutines are in known states.

    console_check.py PROGRAM json
    console_check.py PROGRAM browser [CHROMIUM]

json: the data endpoint read directly - application/json, every field
there, the numbers consistent with each other and with the program's own
gort_read_metrics snapshot (GOMAXPROCS, the latency buckets' bounds and
sampling, counters that only grow), the fixed goroutine groups counted
exactly in the blocked-on sites with their wait reason and creator, the
goroutine total within the few the server and the spawner add, and the
counters increasing between two reads; the page itself (self-contained:
no external script, style or image) and the pprof index's link to it.

browser: headless Chromium (Debian's chromium) loads the page twice,
1.5 s apart, and the rendered DOM (--dump-dom, after the page's script
has fetched and drawn a few times) must show parseable live numbers: the
goroutine total, the 40 receivers' site, a verdict, rates, and a context
switch total that grew between the two loads.  Without Chromium: exit 77
(skipped), with a note saying what to install.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SKIP = 77
FIXED = 40 + 6 + 2 + 3 + 1 + 1  # receivers, sleepers, syscallers, tickers, main, accept loop


def fail(msg):
    print("FAIL console_check: " + msg, file=sys.stderr)
    sys.exit(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get(url, timeout=60):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def data(base):
    st, h, body = get(base + "/debug/gort/data")
    if st != 200 or h["Content-Type"] != "application/json":
        fail("data: %d %s" % (st, h["Content-Type"]))
    try:
        return json.loads(body)
    except ValueError as e:
        fail("data: not JSON (%s):\n%s" % (e, body[:800]))


def site(d, state, creator):
    for s in d["blocked"]["top"]:
        if s["state"] == state and s["created_by"] == creator:
            return s
    return None


def check_json(base, snap, pid):
    d = data(base)
    shape = {
        "version": str, "pid": int, "program": str, "uptime_ns": int, "gomaxprocs": int,
        "procs_idle": int, "goroutines": dict, "threads": dict, "runqueue": dict,
        "counters": dict, "sched_latency": dict, "blocked": dict, "heap": dict, "gc": dict,
    }
    for k, t in shape.items():
        if not isinstance(d.get(k), t):
            fail("data: %s is %r, want a %s" % (k, d.get(k), t.__name__))
    sub = {
        "goroutines": ["total", "running", "runnable", "syscall", "waiting"],
        "threads": ["total", "idle", "spinning", "syscall"],
        "runqueue": ["global", "local", "per_p"],
        "counters": ["context_switches", "spawns", "steals", "stolen_goroutines", "syscalls"],
        "sched_latency": ["sample_period", "buckets"],
        "blocked": ["goroutines", "sites", "more_sites", "dropped", "top"],
        "heap": ["live", "goal", "objects_bytes", "objects", "sys", "released", "allocs_bytes",
                 "allocs_objects", "frees_bytes", "frees_objects"],
        "gc": ["cycles", "forced", "pause_total_ns", "pause_last_ns", "pauses"],
    }
    for k, fields in sub.items():
        for f in fields:
            if f not in d[k]:
                fail("data: %s has no %s: %r" % (k, f, d[k]))
    if not re.fullmatch(r"\d+\.\d+\.\d+", d["version"]) or d["pid"] != pid or d["program"] != "console_prog":
        fail("data: version %r, pid %r (want %d), program %r" % (d["version"], d["pid"], pid, d["program"]))

    g = d["goroutines"]
    if g["total"] != g["running"] + g["runnable"] + g["syscall"] + g["waiting"]:
        fail("goroutines: the states do not add up to the total: %r" % g)
    # the fixed ones, the connection being served, and at most a few more
    # (connections still closing, the spawner's short-lived spinners)
    if not FIXED + 1 <= g["total"] <= FIXED + 8:
        fail("goroutines: total %d, want %d to %d" % (g["total"], FIXED + 1, FIXED + 8))
    if g["waiting"] < 40 + 6:
        fail("goroutines: %d waiting, want 46 or more" % g["waiting"])
    if g["syscall"] < 3:  # the two syscallers and main's read of stdin
        fail("goroutines: %d in system calls, want 3 or more" % g["syscall"])
    t = d["threads"]
    if t["syscall"] != g["syscall"] or not t["total"] >= t["syscall"] + 1 or t["idle"] > t["total"]:
        fail("threads: %r (goroutines %r)" % (t, g))
    if d["gomaxprocs"] != snap["procs"] or len(d["runqueue"]["per_p"]) != d["gomaxprocs"]:
        fail("gomaxprocs %d, per_p %r; gort_read_metrics said procs %d" %
             (d["gomaxprocs"], d["runqueue"]["per_p"], snap["procs"]))
    if any(q < 0 or q > 257 for q in d["runqueue"]["per_p"]) or d["runqueue"]["global"] < 0:
        fail("run queues: %r" % d["runqueue"])

    lat = d["sched_latency"]
    if lat["sample_period"] != snap["sched_latency_sample_period"] or len(lat["buckets"]) != 24:
        fail("sched_latency: %r" % lat)
    for i, (lo, n) in enumerate(lat["buckets"]):
        if lo != (0 if i == 0 else 1 << (i + 7)):
            fail("sched_latency bucket %d's bound: %d" % (i, lo))
        if n < snap["sched_latency_%d" % i]:
            fail("sched_latency bucket %d: %d, fewer than the snapshot's %d" % (i, n, snap["sched_latency_%d" % i]))
    c = d["counters"]
    if c["context_switches"] < snap["context_switches"] or c["spawns"] < snap["spawns"]:
        fail("counters went back from the snapshot: %r, %r" % (c, snap))

    # the heap: the program's live set (LIVE x LIVESIZE, kept by a global),
    # collected once by gort_gc before the snapshot
    h, gc = d["heap"], d["gc"]
    if gc["cycles"] < snap["gc_cycles"] or snap["gc_cycles"] < 1 or gc["forced"] < snap["gc_cycles_forced"] \
            or snap["gc_cycles_forced"] < 1:
        fail("gc: %r, snapshot %r" % (gc, snap))
    if len(gc["pauses"]) != 24 or sum(n for _, n in gc["pauses"]) != gc["cycles"]:
        fail("gc: the pauses do not count every cycle: %r" % gc)
    if gc["pause_total_ns"] < gc["pause_last_ns"] or gc["pause_last_ns"] <= 0:
        fail("gc: pause total %d, last %d" % (gc["pause_total_ns"], gc["pause_last_ns"]))
    if h["live"] < snap["heap_live_min"] or h["objects_bytes"] < snap["heap_live_min"] \
            or h["objects"] < 512:
        fail("heap: %r, the live set is %d bytes in 512 objects" % (h, snap["heap_live_min"]))
    if not (h["goal"] > 0 and h["sys"] >= h["objects_bytes"] and
            h["allocs_objects"] >= snap["gc_heap_allocs_objects"] and
            h["allocs_objects"] == h["objects"] + h["frees_objects"] and
            h["allocs_bytes"] == h["objects_bytes"] + h["frees_bytes"]):
        fail("heap: inconsistent %r" % h)

    # the blocked-on sites: exact for the fixed groups
    for n, state, creator in ((40, "chan receive", "start_receivers"), (6, "sleep", "start_sleepers"),
                              (2, "syscall", "start_syscallers")):
        s = site(d, state, creator)
        if s is None or s["count"] != n:
            fail("blocked: want %d [%s] created by %s, got %r in:\n%s" %
                 (n, state, creator, s, json.dumps(d["blocked"], indent=1)))
        if not 0 <= s["longest_ns"] <= d["uptime_ns"]:
            fail("blocked: %r waited longer than the program has run" % s)
    b = d["blocked"]
    if (b["top"][0]["count"] != 40 or b["goroutines"] < sum(s["count"] for s in b["top"]) or
            b["goroutines"] < 40 + 6 + 2 + 1):
        fail("blocked: %r" % b)
    if b["goroutines"] > g["waiting"] + g["syscall"] + 4:
        fail("blocked: %d goroutines, more than waiting %d + syscall %d" % (b["goroutines"], g["waiting"], g["syscall"]))
    if b["sites"] != len(b["top"]) + b["more_sites"] or len(b["top"]) > 10:
        fail("blocked: sites %d, top %d, more %d" % (b["sites"], len(b["top"]), b["more_sites"]))

    # live: the counters grow
    time.sleep(1.5)
    d2 = data(base)
    c2 = d2["counters"]
    if d2["uptime_ns"] <= d["uptime_ns"]:
        fail("uptime did not advance: %d, %d" % (d["uptime_ns"], d2["uptime_ns"]))
    for k in ("context_switches", "spawns", "syscalls"):
        if c2[k] <= c[k]:
            fail("counters: %s did not grow in 1.5 s: %d, %d" % (k, c[k], c2[k]))
    for k in ("steals", "stolen_goroutines"):
        if c2[k] < c[k]:
            fail("counters: %s went back: %d, %d" % (k, c[k], c2[k]))
    if any(n2 < n for (_, n), (_, n2) in zip(d["sched_latency"]["buckets"], d2["sched_latency"]["buckets"])):
        fail("sched_latency went back")

    # the page: HTML, self-contained, and linked from the pprof index
    for path in ("/debug/gort/", "/debug/gort"):
        st, h, body = get(base + path)
        page = body.decode()
        if st != 200 or h["Content-Type"] != "text/html; charset=utf-8" or "/debug/gort/data" not in page:
            fail("%s: %d %s" % (path, st, h["Content-Type"]))
    if re.search(r"<(script|img|iframe)[^>]*\bsrc=|<link\b|@import|url\(", page):
        fail("the page loads something from elsewhere")
    st, h, body = get(base + "/debug/pprof/")
    if '<a href="/debug/gort/">' not in body.decode():
        fail("the pprof index has no link to /debug/gort/")
    print("PASS console_json: %d goroutines, %d blocked at %d sites; switches %d -> %d in 1.5 s" %
          (g["total"], b["goroutines"], b["sites"], c["context_switches"], c2["context_switches"]))


def find_chromium(arg):
    for c in ([arg] if arg else []) + ["chromium", "chromium-browser", "google-chrome"]:
        p = shutil.which(c)
        if p:
            return p
    return None


def dump_dom(chromium, url, profile):
    """The page's DOM once its script has run for 4 s of the page's own
    (virtual) time - four fetches and redraws; the network's waits do not
    count, so a slow machine only takes longer."""
    r = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        "--user-data-dir=" + profile, "--virtual-time-budget=4000", "--dump-dom", url],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=180)
    if r.returncode != 0:
        fail("chromium --dump-dom exited %d" % r.returncode)
    return r.stdout.decode("utf-8", "replace")


def field(dom, id_):
    m = re.search(r'id="%s"[^>]*>([^<]*)<' % re.escape(id_), dom)
    if not m:
        fail("the DOM has no #%s:\n%s" % (id_, dom[:3000]))
    return m.group(1)


def number(dom, id_):
    v = field(dom, id_).replace(",", "")
    if not re.fullmatch(r"\d+", v):
        fail("#%s shows %r, not a number" % (id_, v))
    return int(v)


def check_browser(base, chromium):
    doms = []
    with tempfile.TemporaryDirectory() as profile:
        for i in range(2):
            if i:
                time.sleep(1.5)
            doms.append(dump_dom(chromium, base + "/debug/gort/", profile))
    seen = []
    for dom in doms:
        m = re.search(r'<body[^>]*data-ticks="(\d+)"', dom)
        if not m or int(m.group(1)) < 2:
            fail("the page did not fetch its data twice (data-ticks %s):\n%s" % (m and m.group(1), dom[:2000]))
        total = number(dom, "g-total")
        if not FIXED <= total <= FIXED + 10:
            fail("#g-total %d, want %d to %d" % (total, FIXED, FIXED + 10))
        if field(dom, "program") != "console_prog" or not re.fullmatch(r"\d+", field(dom, "gomaxprocs")):
            fail("header: %r %r" % (field(dom, "program"), field(dom, "gomaxprocs")))
        if not re.fullmatch(r"(\d+h)?(\d+m)?\d+s", field(dom, "uptime")):
            fail("#uptime %r" % field(dom, "uptime"))
        v = re.search(r'<div id="verdict" class="(ok|warn|bad)">(healthy|strained|unhealthy): latency p99 ([^<]*)</div>', dom)
        if not v:
            fail("no verdict:\n%s" % re.search(r'<div id="verdict".*', dom).group(0)[:300])
        # rates over the last interval: with virtual time the page's ticks
        # come as fast as the answers do, so an interval may be a few ms
        # with no system call in it; but each answer's own request wakes
        # the server's goroutines (context switches) before it is read
        if number(dom, "rate-switches") <= 0 or number(dom, "rate-syscalls") < 0:
            fail("rates: switches %r, syscalls %r" % (field(dom, "rate-switches"), field(dom, "rate-syscalls")))
        rows = re.findall(r'<tr><td class="r">([\d,]+)</td><td class="">([^<]*)</td><td class="r">([^<]*)</td>'
                          r'<td class="">([^<]*)</td></tr>', dom)
        if ("40", "chan receive") not in [(r[0], r[1]) for r in rows if r[3] == "start_receivers"]:
            fail("the sites table has no 40 [chan receive] by start_receivers: %r" % rows)
        for r in rows:
            if not re.fullmatch(r"\d+(\.\d+)?(ns|us|ms|s)", r[2]):
                fail("a site's longest wait %r" % r[2])
        # the heap panel: the live set (4 MiB) in use, at least one collection
        if not re.fullmatch(r"\d+(\.\d+)? (B|KiB|MiB|GiB)", field(dom, "heap-live")) or \
                number(dom, "gc-cycles") < 1 or not re.fullmatch(r"\d+(\.\d+)?(ns|us|ms|s)",
                                                                  field(dom, "gc-last-pause")):
            fail("heap panel: in use %r, collections %r, last pause %r" %
                 (field(dom, "heap-live"), field(dom, "gc-cycles"), field(dom, "gc-last-pause")))
        lat = field(dom, "lat-samples")
        if not re.fullmatch(r"[\d,]+", lat):
            fail("#lat-samples %r" % lat)
        seen.append((number(dom, "ctx-total"), number(dom, "sys-total"), v.group(0)))
    if seen[1][0] <= seen[0][0] or seen[1][1] <= seen[0][1]:
        fail("the totals did not grow between the two loads: %r" % seen)
    print("PASS console_browser: switches %d -> %d; %s" % (seen[0][0], seen[1][0],
                                                          re.sub(r"<[^>]*>", "", seen[1][2])))


def main():
    if len(sys.argv) < 3 or sys.argv[2] not in ("json", "browser"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    program, mode = sys.argv[1], sys.argv[2]
    chromium = None
    if mode == "browser":
        chromium = find_chromium(sys.argv[3] if len(sys.argv) > 3 else None)
        if chromium is None:
            print("SKIP console_browser: no Chromium to load the page in "
                  "(apt-get install chromium, or make test-deps as root)")
            sys.exit(SKIP)
    port = free_port()
    base = "http://127.0.0.1:%d" % port
    with tempfile.TemporaryDirectory() as tmp:
        snappath = os.path.join(tmp, "snapshot")
        p = subprocess.Popen([program, "127.0.0.1:%d" % port, snappath],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            line = p.stdout.readline()
            if line.strip() != "READY":
                fail("no READY line: %r" % line)
            snap = {}
            for l in open(snappath):
                k, v = l.split()
                snap[k] = int(v)
            if mode == "json":
                check_json(base, snap, p.pid)
            else:
                check_browser(base, chromium)
        finally:
            p.stdin.close()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                fail("the program did not exit")
    if p.returncode != 0:
        fail("the program exited %d" % p.returncode)


if __name__ == "__main__":
    main()
