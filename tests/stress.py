#!/usr/bin/env python3
"""stress.py - run the concurrency-sensitive tests many times, to find races.

A race that fails one run in twenty passes a suite that runs each test once
nineteen times in twenty.  This runs the tests again and again, at
GOMAXPROCS 1, 2 and 8, in the plain and the sanitized build, while other
processes keep every CPU busy (so that threads are descheduled at awkward
moments, as on a loaded server), and reports every failure by test and by
message.  `make stress` runs it; it is not part of `make test`.

The tests are CTest's own (read with `ctest --show-only=json-v1`), so a new
test is stressed without being listed here.  A behaviour test runs at each
GOMAXPROCS of --procs (its _p1/_p2 twins count once); a death test, whose
expected message may depend on its settings, and a test labelled pinned
(it checks what happens at the GOMAXPROCS it sets), run with their own.

Rounds: each round runs every selected (test, build, GOMAXPROCS) once, in a
shuffled order; rounds go on until --runs rounds are done or --minutes have
passed, whichever comes first.  Every run has a timeout (a hang is a
failure).  Logs of failures are kept in --logs.  The last line is
"N passed, N failed"; the exit status is 1 if anything failed.
"""
import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

# The concurrency-sensitive tests: the scheduler, channels, select, sync,
# timers, the netpoller, system calls, GOMAXPROCS changes, preemption, the
# deadlock detector (death_deadlock_*), deterministic mode (det_*).  --all
# takes every test.
SENSITIVE = re.compile(r"^(net_|bufio_|time_|select|sync_|chan_|gomaxprocs|syscall|spawn|spread|"
                       r"lock_|goexit|numgoroutine|preempt|asyncpreempt|metrics|defer|"
                       r"death_deadlock|go_|fuzz_replay|pprof_|foreign|signal|example_|det_)")

# The first line of these kinds is the failure's signature.
SIGNATURE = re.compile(r"(fatal error:.*|panic:.*|runtime: .*|FAIL.*|.*: check failed.*|"
                       r"ERROR: (Address|Undefined|Leak)Sanitizer.*|.*runtime error:.*|"
                       r"death_runner: .*|.*expected.*)")


def ctest_tests(build):
    out = subprocess.run(["ctest", "--show-only=json-v1"], cwd=build, check=True,
                         capture_output=True, text=True).stdout
    tests = []
    for t in json.loads(out)["tests"]:
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        env = {}
        for kv in props.get("ENVIRONMENT", []):
            k, _, v = kv.partition("=")
            env[k] = v
        if props.get("DISABLED"):
            continue  # as CTest: not run in this build (the TSan skips)
        tests.append({"name": t["name"], "command": t["command"], "env": env,
                      "cwd": props.get("WORKING_DIRECTORY", build),
                      "pinned": "pinned" in props.get("LABELS", []),
                      "verdict": (props.get("PASS_REGULAR_EXPRESSION", []),
                                  props.get("SKIP_RETURN_CODE"))})
    return tests


def plan(builds, procs, select, everything):
    """The (label, command, env, cwd) of every run in one round."""
    runs = []
    for build in builds:
        seen = set()
        for t in ctest_tests(build):
            if not (everything or SENSITIVE.match(t["name"])) or not select.search(t["name"]):
                continue
            death = "death_runner" in os.path.basename(t["command"][0])
            if death or t["pinned"]:
                label = "%s [%s]" % (t["name"], build)
                runs.append((label, t["command"], t["env"], t["cwd"], t["verdict"]))
                continue
            key = tuple(t["command"]) + tuple(sorted((k, v) for k, v in t["env"].items()
                                                     if k != "GOMAXPROCS"))
            if key in seen:
                continue  # a _p1/_p2 twin
            seen.add(key)
            name = re.sub(r"_p[0-9]+$", "", t["name"])
            for p in procs:
                env = dict(t["env"], GOMAXPROCS=str(p))
                label = "%s [%s GOMAXPROCS=%d]" % (name, build, p)
                runs.append((label, t["command"], env, t["cwd"], t["verdict"]))
    return runs


def signature(text):
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    for l in lines:
        m = SIGNATURE.match(l)
        if m:
            return re.sub(r"0x[0-9a-f]+|\b\d+\b", "N", m.group(0))[:160]
    return lines[-1][:160] if lines else "(no output)"


def passed(verdict, returncode, output):
    """CTest's verdict: a test with PASS_REGULAR_EXPRESSION passes when its
    output matches one (whatever its exit: a dump's test exits 2); its
    SKIP_RETURN_CODE counts as a pass (what it needs is missing)."""
    regexes, skip = verdict
    if regexes:
        return any(re.search(rx, output) for rx in regexes)
    return returncode == 0 or (skip is not None and returncode == int(skip))


def run_one(run, timeout):
    label, cmd, env, cwd, verdict = run
    full_env = dict(os.environ)
    full_env.update(env)
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True,
                           errors="replace", timeout=timeout, start_new_session=True)
        log = p.stdout + p.stderr
        ok = passed(verdict, p.returncode, log)
        why = "" if ok else "exit %d: %s" % (p.returncode, signature(p.stderr + p.stdout))
    except subprocess.TimeoutExpired as e:
        ok = False
        why = "hang: no exit within %d s" % timeout
        log = (e.stdout or b"").decode(errors="replace") + (e.stderr or b"").decode(errors="replace")
    return label, ok, why, log, time.monotonic() - t0


def start_load(n):
    """n processes that keep a CPU busy each, until killed."""
    return [subprocess.Popen(["sh", "-c", "while :; do :; done"], start_new_session=True)
            for _ in range(n)]


def stop_load(procs):
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--builds", default="build,build-san", help="CMake build directories")
    ap.add_argument("--procs", default="1,2,8", help="GOMAXPROCS values for behaviour tests")
    ap.add_argument("--runs", type=int, default=10, help="rounds (each test once per round)")
    ap.add_argument("--minutes", type=float, default=0, help="stop starting rounds after this")
    ap.add_argument("--tests", default="", help="only tests whose name matches this regex")
    ap.add_argument("--all", action="store_true", help="every test, not only the sensitive ones")
    ap.add_argument("--load", type=int, default=os.cpu_count() or 2,
                    help="busy processes running alongside (0: none)")
    ap.add_argument("--jobs", type=int, default=2, help="tests run at once")
    ap.add_argument("--timeout", type=int, default=180, help="seconds before a run is a hang")
    ap.add_argument("--logs", default="stress-logs", help="where failures' output is kept")
    a = ap.parse_args()

    builds = [b for b in a.builds.split(",") if b]
    for b in builds:
        if not os.path.isdir(b):
            sys.exit("stress: no build in %s (make all, or make test-sanitize for build-san)" % b)
    runs = plan(builds, [int(p) for p in a.procs.split(",")], re.compile(a.tests), a.all)
    if not runs:
        sys.exit("stress: no test matches")
    os.makedirs(a.logs, exist_ok=True)
    print("stress: %d runs a round, up to %d rounds%s, %d at once, %d busy processes alongside"
          % (len(runs), a.runs, " or %g minutes" % a.minutes if a.minutes else "", a.jobs,
             a.load), flush=True)

    stats = defaultdict(lambda: [0, 0])   # label -> [runs, failures]
    failures = defaultdict(list)          # signature -> [label, log file]
    load = start_load(a.load)
    deadline = time.monotonic() + a.minutes * 60 if a.minutes else None
    rounds = 0
    try:
        with ThreadPoolExecutor(a.jobs) as pool:
            while rounds < a.runs and (deadline is None or time.monotonic() < deadline):
                rounds += 1
                order = runs[:]
                random.shuffle(order)
                nfail = 0
                for label, ok, why, log, _ in pool.map(lambda r: run_one(r, a.timeout), order):
                    stats[label][0] += 1
                    if ok:
                        continue
                    nfail += 1
                    stats[label][1] += 1
                    path = os.path.join(a.logs, "%s.%d.log" % (re.sub(r"\W+", "_", label), rounds))
                    with open(path, "w") as f:
                        f.write(label + "\n" + why + "\n\n" + log)
                    failures[why.split(": ", 1)[-1]].append((label, path))
                    print("  FAIL %s: %s (%s)" % (label, why, path), flush=True)
                print("stress: round %d: %d runs, %d failed" % (rounds, len(order), nfail),
                      flush=True)
    finally:
        stop_load(load)

    total = sum(s[0] for s in stats.values())
    failed = sum(s[1] for s in stats.values())
    print("\nstress: %d rounds, %d runs of %d tests" % (rounds, total, len(stats)))
    if failures:
        print("\nfailures by message:")
        for why, where in sorted(failures.items(), key=lambda kv: -len(kv[1])):
            print("  %4d  %s" % (len(where), why))
            for label, path in sorted(set(where))[:5]:
                print("          %s  %s" % (label, path))
        print("\nfailures by test:")
        for label, (n, f) in sorted(stats.items()):
            if f:
                print("  %4d of %4d  %s" % (f, n, label))
    print("\n%d passed, %d failed" % (total - failed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
