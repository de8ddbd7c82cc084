#!/usr/bin/env python3
"""valgrind.py BUILD [--tests REGEX] - gort's tests and examples under
valgrind's memcheck (make test-valgrind).

Every test program CTest runs (read with `ctest --show-only=json-v1`, with
its arguments and environment) runs again under memcheck, except those that
are not one program's run of its own: the death tests (a runner forks the
program, which must die), the suite's scripts (reading_check, install_test,
...), the fuzz replays and spawn_million (a million goroutines: minutes under
valgrind, and nothing the smaller ones do not cover), and two kinds SKIP
says why.  Then the showcase example.  A run fails on any memcheck error or on a failing
exit status; leaks are not errors (gort, like Go, does not free its own
structures at exit).  Prints each run's time and the total.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

SKIP = re.compile(r"^(death_|reading_check|install_test|manpage_check|soname|fuzz_replay|"
                  r"spawn_million|http_hello_"
                  # Faults on purpose (a NULL read that SetPanicOnFault turns
                  # into a panic): memcheck reports the read, rightly.
                  r"|defer_"
                  # Preemption by signal under valgrind, which runs every
                  # thread in turn and delivers a signal only between its own
                  # blocks: a goroutine spinning on one P is never stopped,
                  # so the others never run (seen: "the spinner never ran").
                  r"|asyncpreempt_)")
VALGRIND = ["valgrind", "--error-exitcode=99", "--leak-check=no", "--quiet",
            "--max-threads=1000", "--fair-sched=yes"]


def ctest_runs(build, select):
    out = subprocess.run(["ctest", "--show-only=json-v1"], cwd=build, check=True,
                         capture_output=True, text=True).stdout
    for t in json.loads(out)["tests"]:
        if SKIP.match(t["name"]) or not select.search(t["name"]) or "command" not in t:
            continue
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        env = dict(kv.partition("=")[::2] for kv in props.get("ENVIRONMENT", []))
        if props.get("WILL_FAIL") or any(c.endswith(".sh") or c.endswith(".py") for c in t["command"]):
            continue
        yield t["name"], t["command"], env, props.get("WORKING_DIRECTORY", build)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build")
    ap.add_argument("--tests", default="", help="only tests whose name matches")
    ap.add_argument("--timeout", type=int, default=600)
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    runs = list(ctest_runs(build, re.compile(a.tests)))
    if not a.tests:
        runs.append(("example showcase", [os.path.join(build, "examples/showcase")], {}, build))
    failed, start = [], time.time()
    for name, cmd, env, cwd in runs:
        t0 = time.time()
        try:
            r = subprocess.run(VALGRIND + cmd, cwd=cwd, env={**os.environ, **env},
                               capture_output=True, text=True, timeout=a.timeout)
            ok, why = r.returncode == 0, "exit %d" % r.returncode
            out = r.stderr
        except subprocess.TimeoutExpired as e:
            ok, why, out = False, "timed out after %d s" % a.timeout, (e.stderr or b"").decode(errors="replace")
        print("%-34s %6.1f s  %s" % (name, time.time() - t0, "ok" if ok else "FAIL (%s)" % why), flush=True)
        if not ok:
            failed.append(name)
            sys.stdout.write("".join("    " + l + "\n" for l in out.splitlines()[-40:]))
    print("valgrind: %d runs in %.0f s, %d failed%s" % (len(runs), time.time() - start, len(failed),
                                                      (": " + ", ".join(failed)) if failed else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
