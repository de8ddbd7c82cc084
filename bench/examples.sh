#!/usr/bin/env bash
# bench/examples.sh BUILD_DIR [PROCS] - the three example programs of issue
# 17 (examples/crawler.c, broker.c, pipeline.c) next to their Go twins
# (examples/go/<name>/main.go): lines of code and speed, side by side.
#
# Lines: non-blank lines that are not only comment, counted the same way for
# C and Go (comments stripped, string and character literals respected).
# examples/flags.h, the C counterpart of Go's flag package that all three
# include, is counted apart.  Speed: wall time of the whole program, the
# median of RUNS runs (default 3) at each GOMAXPROCS in PROCS (default
# "1 2"), the twins alternating which goes first, and the CPU time (user +
# system) of the same runs, steadier than wall time on a shared machine;
# every run's deterministic lines must agree between the twins.  The workloads (ARGS_<name> overrides):
#   crawler   -pages 50000 -links 5 -workers 8
#   broker    -load -pubs 4 -subs 4 -msgs 200000
#   pipeline  -n 200000 -workers 4 -size 4096
#
# Go: GO=path (default /usr/lib/go-1.19/bin/go) and golang.org/x/sync in
# GOPATH=/usr/share/gocode (Debian: golang-golang-x-sync-dev).  Without
# them the script prints the C side only, with a note.  Needs python3.
set -euo pipefail
build=${1:?usage: bench/examples.sh BUILD_DIR [PROCS]}
procs=${2:-1 2}
export RUNS=${RUNS:-3}
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
GO=${GO:-/usr/lib/go-1.19/bin/go}
GOPATH_SYNC=/usr/share/gocode
for p in crawler broker pipeline; do
	[ -x "$build/examples/$p" ] || { echo "examples.sh: $build/examples/$p not found: build first (make all)" >&2; exit 1; }
done
command -v python3 >/dev/null || { echo "examples.sh: needs python3 (apt-get install python3)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/gort-examples.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

godir=""
if ! "$GO" version >/dev/null 2>&1; then
	echo "examples.sh: Go not found ($GO; set GO=): C only" >&2
elif [ ! -d "$GOPATH_SYNC/src/golang.org/x/sync/errgroup" ]; then
	echo "examples.sh: golang.org/x/sync not found (apt-get install golang-golang-x-sync-dev): C only" >&2
else
	echo "# $("$GO" version); building the Go twins" >&2
	for p in crawler broker pipeline; do
		go_build_dir "$root/examples/go/$p" "$tmp/$p" "$GOPATH_SYNC"
	done
	godir=$tmp
fi

export ARGS_crawler=${ARGS_crawler:--pages 50000 -links 5 -workers 8}
export ARGS_broker=${ARGS_broker:--load -pubs 4 -subs 4 -msgs 200000}
export ARGS_pipeline=${ARGS_pipeline:--n 200000 -workers 4 -size 4096}
python3 - "$root" "$build/examples" "$godir" "$procs" <<'PY'
import os, shlex, statistics, subprocess, sys, tempfile, time

root, cdir, godir, procs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split()
runs = int(os.environ["RUNS"])
progs = ["crawler", "broker", "pipeline"]

def code_lines(path):
    """Non-blank lines left once // and /* */ comments are removed (C and Go
    alike); quotes, backquotes and character literals are skipped over."""
    text, out, i = open(path).read(), [], 0
    while i < len(text):
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = len(text) if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            out.append("\n" * text.count("\n", i, j))  # keep the line structure
            i = j + 2
        elif c in "\"'`":
            j = i + 1
            while j < len(text) and text[j] != c:
                j += 2 if text[j] == "\\" and c != "`" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return sum(1 for l in "".join(out).splitlines() if l.strip())

def timed(label, exe, args, p):
    env = dict(os.environ, GOMAXPROCS=str(p))
    t0 = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([exe] + args, env=env, stdout=out, stderr=err, text=True)
        _, status, ru = os.wait4(proc.pid, 0)  # the child's own CPU time
        ms, cpu = (time.monotonic() - t0) * 1000, (ru.ru_utime + ru.ru_stime) * 1000
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        sys.exit(f"examples.sh: {exe} {' '.join(args)} exited {proc.returncode}:\n{stdout}{stderr}")
    print(f"{label} GOMAXPROCS={p}: {ms:.0f} ms, CPU {cpu:.0f} ms: {stdout.strip().splitlines()[-1]}",
          file=sys.stderr)
    keep = [l for l in stdout.splitlines()  # as tests/example_check.py twins compares them
            if not l.startswith(("rate:", "broker delivered", "goroutines left")) and "goroutine(s) left" not in l]
    return ms, cpu, keep

lines = {p: (code_lines(f"{root}/examples/{p}.c"), code_lines(f"{root}/examples/go/{p}/main.go")) for p in progs}
ms = {}
for p in progs:
    args = shlex.split(os.environ[f"ARGS_{p}"])
    for n in procs:
        for r in range(runs):
            order = ["c", "go"] if r % 2 == 0 else ["go", "c"]
            outs = {}
            for k in order:
                if k == "go" and not godir:
                    continue
                exe = f"{cdir}/{p}" if k == "c" else f"{godir}/{p}"
                t, cpu, outs[k] = timed(f"{p} ({'C' if k == 'c' else 'Go'})", exe, args, n)
                ms.setdefault((p, n, k), []).append(t)
                ms.setdefault((p, n, k + "cpu"), []).append(cpu)
            if len(outs) == 2 and outs["c"] != outs["go"]:
                sys.exit(f"examples.sh: the twins of {p} disagree:\n{outs['c']}\n{outs['go']}")

f = lambda x: "-" if x is None else f"{x:.0f}"
med = lambda p, n, k: statistics.median(ms[(p, n, k)]) if (p, n, k) in ms else None
head = "| program | C lines | Go lines | C/Go lines |"
rule = "|---|---|---|---|"
for n in procs:
    head += f" C ms, P={n} | Go ms, P={n} | C/Go time, P={n} |"
    rule += "---|---|---|"
print(head)
print(rule)
for p in progs:
    c, g = lines[p]
    row = f"| {p} | {c} | {g} | {c / g:.2f} |"
    for n in procs:
        a, b = med(p, n, "c"), med(p, n, "go")
        row += f" {f(a)} | {f(b)} | {'-' if b is None else f'{a / b:.2f}'} |"
    print(row)
print("\nCPU time (user + system), medians, ms:\n")
print("| program |" + "".join(f" C, P={n} | Go, P={n} | C/Go, P={n} |" for n in procs))
print("|---|" + "---|---|---|" * len(procs))
for p in progs:
    row = f"| {p} |"
    for n in procs:
        a, b = med(p, n, "ccpu"), med(p, n, "gocpu")
        row += f" {f(a)} | {f(b)} | {'-' if b is None else f'{a / b:.2f}'} |"
    print(row)
print(f"\nexamples/flags.h (the flag package's part, shared by the three): {code_lines(root + '/examples/flags.h')} lines")
print(f"medians of {runs} runs; workloads: " + "; ".join(f"{p} {os.environ['ARGS_' + p]}" for p in progs))
PY
