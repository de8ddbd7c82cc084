#!/usr/bin/env bash
# bench/run.sh BUILD_DIR [W] [PROCS] - gort's benchmarks next to their Go twins.
#
# For every GOMAXPROCS value in PROCS (default "1 2") and every workload in W
# (default: all of WORKLOADS below), runs the gort twin BUILD_DIR/bench/<w>
# and, when a Go toolchain is present, the Go twin
# ../shared/anchors/go/<w>/main.go (relative to the repo root), back to back,
# so each ratio compares runs made under the same machine conditions.
#
# The network workloads are servers put under load from outside, as the
# anchors' run.sh does it; each server prints its port on its first stdout
# line and serves until killed, with GOMAXPROCS set for it:
#   tcp_echo    BUILD_DIR/bench/tcp_echo_server, then the Go twin's server;
#               the load and the JSON line come from the Go client
#               (anchors/go/tcp_echo/client, -impl gort for gort's server),
#               so without Go this workload is skipped, with a note
#               (FLOOR=0 leaves out its floor: the same client against
#               bench/floor_epoll_echo.c and bench/floor_uring_echo.c, one
#               thread of plain system calls each, no runtime, to show what
#               part of a server's CPU time per round trip is the kernel's)
#   http_hello  BUILD_DIR/bench/http_hello (examples/http_hello.c), then Go's
#               net/http; the load comes from wrk, whose report becomes the
#               JSON line; without wrk this workload is skipped, with a note
#
#   stdout  every JSON line as it is produced, then a markdown table:
#           workload | procs | metric | gort | go | ratio gort/go (and
#           parked_mem's create_ms, with µs per goroutine, as a row of its own),
#           then fanout_cpu's speedups (GOMAXPROCS=p vs 1) for gort and Go,
#           and timers' oversleep percentiles and wall time for both
#   stderr  progress, and why a run failed
#   exit    0, or 1 if any run failed (crash, timeout, no JSON line)
#
# Environment:
#   RUNS=k      run each (workload, procs) pair k times; the table shows medians
#               (default 1).  Rounds alternate which twin goes first.
#   TIMEOUT=s   per-run limit in seconds (default 120)
#   GO=path     go binary (default /usr/lib/go-1.19/bin/go if present, else
#               `go` in PATH)
#   ANCHORS=dir the Go twins (default ../shared/anchors/go from the repo root)
#   ARGS_<w>    flags for both twins of workload w, e.g. ARGS_spawn="-n 100000";
#               for tcp_echo, flags for the client (e.g. ARGS_tcp_echo="-r 1000")
#   CLIENT_PROCS  GOMAXPROCS of the tcp_echo client (default: the server's)
#   FLOOR=0     no floor servers for tcp_echo (default 1: run them, when built)
#   WRK_ARGS    wrk's load for http_hello (default "-t2 -c100 -d10s"; --latency
#               is always added)
#
# The Go twins are built once per run into a temp dir in GOPATH mode, exactly
# as shared/anchors/go/run.sh builds them; nothing is written into the repo.
# Needs bash, coreutils (timeout, mktemp) and python3 (standard library only)
# for the table and for http_hello's JSON line.
set -uo pipefail

# Every workload, in run order (the anchors' run.sh order); each has
# bench/<w>.c and, ideally, a Go twin (in the anchors, or in bench/go_<w>:
# pipeline_read's; bench/pipeline_read.sh adds plain read(2) beside it).
WORKLOADS="spawn pingpong chan_spsc chan_mpmc select4 mutex ring timers parked_mem fanout_cpu tcp_echo http_hello pipeline_read binary_trees"
# Known but not run by default: gc_latency builds a 1 GiB live heap and takes
# minutes (run it as `make bench W=gc_latency`, scaled by ARGS_gc_latency="-mb 256").
OPTIONAL_WORKLOADS="gc_latency"

usage() {
	echo "usage: $0 BUILD_DIR [WORKLOADS] [PROCS]   (workloads: $WORKLOADS)" >&2
	exit 2
}
if [ $# -lt 1 ] || [ $# -gt 3 ] || [ -z "$1" ]; then usage; fi

# gort_bin W: gort's twin of workload W (tcp_echo's is only the server).
gort_bin() {
	if [ "$1" = tcp_echo ]; then echo "$build/bench/tcp_echo_server"; else echo "$build/bench/$1"; fi
}

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=$(cd "$1" 2>/dev/null && pwd) || { echo "bench: build dir $1 not found: build first (make all)" >&2; exit 1; }
workloads=${2:-}
[ -n "$workloads" ] || workloads=$WORKLOADS
procs=${3:-}
[ -n "$procs" ] || procs="1 2"
RUNS=${RUNS:-1}
TIMEOUT=${TIMEOUT:-120}
ANCHORS=${ANCHORS:-$(cd "$root/.." && pwd)/shared/anchors/go}

# ---- check the arguments before running anything ----
for w in $workloads; do
	case " $WORKLOADS $OPTIONAL_WORKLOADS " in
	*" $w "*) ;;
	*) echo "bench: unknown workload $w (known: $WORKLOADS $OPTIONAL_WORKLOADS)" >&2; exit 2 ;;
	esac
	[ -x "$(gort_bin "$w")" ] || { echo "bench: $(gort_bin "$w") not found: build first (make all)" >&2; exit 1; }
done
for v in $procs "$RUNS" "$TIMEOUT"; do
	[[ $v =~ ^[1-9][0-9]*$ ]] || { echo "bench: expected a positive integer, got '$v' (PROCS, RUNS, TIMEOUT)" >&2; exit 2; }
done

tmp=$(mktemp -d /tmp/gort-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/results.jsonl" # every JSON line of every successful run
: >"$tmp/failures.tsv"  # impl <TAB> workload <TAB> procs <TAB> why
: >"$tmp/notes.txt"     # workloads skipped, and why

# ---- the Go twins ----
go_note=""  # why Go is not in the table, if it is not
go_label="" # Go's impl label, for the JSON lines the runner writes
if [ ! -d "$ANCHORS" ]; then
	go_note="the Go twins were not found ($ANCHORS does not exist): gort only"
else
	if [ -z "${GO:-}" ]; then
		if [ -x /usr/lib/go-1.19/bin/go ]; then GO=/usr/lib/go-1.19/bin/go; else GO=$(command -v go || true); fi
	fi
	if [ -z "$GO" ] || ! "$GO" version >/dev/null 2>&1; then
		go_note="Go was not found (no \`go\` in PATH, no /usr/lib/go-1.19/bin/go; set GO=): gort only"
	fi
fi
# go_build OUT SRC builds one Go program, in GOPATH mode, stdlib only, as
# shared/anchors/go/run.sh does; the cache stays in /tmp.
go_build() {
	(cd "$tmp" && GO111MODULE=off GOFLAGS='' GOPATH="$tmp/gopath" \
		GOCACHE="${GOCACHE:-/tmp/go-anchors-cache}" "$GO" build -o "$1" "$2")
}
if [ -z "$go_note" ]; then
	echo "# $("$GO" version); building the Go twins" >&2
	mkdir -p "$tmp/go"
	for w in $workloads; do
		src="$ANCHORS/$w/main.go"
		[ "$w" = tcp_echo ] && src="$ANCHORS/tcp_echo/server/main.go"
		# a workload the anchors do not have keeps its twin here, in bench/go_<w>
		[ ! -f "$src" ] && [ -f "$here/go_$w/main.go" ] && src="$here/go_$w/main.go"
		if [ ! -f "$src" ]; then
			echo "bench: $w has no Go twin ($src): gort only" >&2
			continue
		fi
		go_build "$tmp/go/$w" "$src" || echo "bench: building the Go twin of $w failed: gort only" >&2
		if [ "$w" = tcp_echo ] && ! go_build "$tmp/go/tcp_echo_client" "$ANCHORS/tcp_echo/client/main.go"; then
			echo "bench: building the tcp_echo client failed" >&2
		fi
	done
	# the label of Go's lines where the runner writes them (http_hello), as
	# the anchors' implName makes it: go1.19.8 -> go1.19
	go_label=$("$GO" version | awk '{print $3}' | sed -E 's/^(go[0-9]+\.[0-9]+)\..*/\1/')
else
	echo "bench: $go_note" >&2
fi

# The network workloads need their load generators; without one, skip the
# workload with a note (in the table too) rather than fail.
kept=""
for w in $workloads; do
	note=""
	if [ "$w" = tcp_echo ] && [ ! -x "$tmp/go/tcp_echo_client" ]; then
		note="tcp_echo skipped: its load is the Go client (anchors/go/tcp_echo/client), and ${go_note:-it did not build}"
	elif [ "$w" = http_hello ] && ! command -v wrk >/dev/null; then
		note="http_hello skipped: its load is wrk, which is not installed (apt-get install wrk)"
	fi
	if [ -n "$note" ]; then
		echo "bench: $note" >&2
		echo "$note" >>"$tmp/notes.txt"
	else
		kept="$kept $w"
	fi
done
workloads=${kept# }
echo "# gort: $build/bench; $(nproc) CPUs; GOMAXPROCS: $procs; runs per pair: $RUNS" >&2

# wrk_json IMPL P PID WRK_OUTPUT prints http_hello's JSON line from wrk's
# report, as the anchors' run.sh does; rss_kb is the server's peak RSS.
wrk_json() {
	python3 - "$@" <<'PY'
import json, re, sys
impl, procs, pid, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
text = open(path).read()
def ms(s):
    v, u = float(re.match(r"([0-9.]+)", s).group(1)), re.sub(r"[0-9.]", "", s)
    return v * {"us": 1e-3, "ms": 1, "s": 1e3}.get(u, 1)
rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", text).group(1))
requests = int(re.search(r"(\d+) requests in", text).group(1))
lat = {k: ms(v) for k, v in re.findall(r"^\s+(50|99)%\s+(\S+)", text, re.M)}
rss = 0
try:
    rss = int(re.search(r"VmHWM:\s+(\d+)", open(f"/proc/{pid}/status").read()).group(1))
except OSError:
    pass
for bad in re.findall(r"^\s*(Socket errors:.*|Non-2xx or 3xx responses:.*)$", text, re.M):
    print(f"bench: http_hello {impl} procs={procs}: wrk: {bad.strip()}", file=sys.stderr)
print(json.dumps({"bench": "http_hello", "impl": impl, "procs": procs, "metric": "requests_per_sec",
                  "value": rps, "rss_kb": rss,
                  "extra": {"p50_ms": lat.get("50"), "p99_ms": lat.get("99"), "requests": requests}}))
PY
}

# server_cpu_ms PID prints the CPU time (user + system, all threads) the
# server has used so far, in ms, from /proc/PID/stat: its getrusage seen
# from outside.  The network workloads share the CPUs with their load
# generator, so throughput alone hides how much of them the server took.
server_cpu_ms() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo -1; return; }
	stat=${stat##*) } # the fields after the command name, which may hold spaces
	# shellcheck disable=SC2086 # split into fields: utime and stime are 12th and 13th here
	set -- $stat
	echo $(((${12} + ${13}) * 1000 / $(getconf CLK_TCK)))
}

# with_server_cpu MS copies JSON lines from stdin to stdout, adding to a
# network workload's extra the server's CPU time (server_cpu_ms) and that
# time per operation (server_cpu_ns_per_op): per round trip for tcp_echo
# (its C connections each make 100 warm-up and R measured ones), per request
# for http_hello (wrk's count).  Other lines pass unchanged.
with_server_cpu() {
	python3 -c '
import json, sys
ms = int(sys.argv[1])
for line in sys.stdin:
    if not line.startswith("{"):
        sys.stdout.write(line)
        continue
    r = json.loads(line)
    e = r.setdefault("extra", {})
    ops = e.pop("requests", None) if r["bench"] == "http_hello" else e["c"] * (e["r"] + 100)
    if ms >= 0 and ops:
        e["server_cpu_ms"] = ms
        e["server_cpu_ns_per_op"] = round(ms * 1e6 / ops, 1)
    print(json.dumps(r))
' "$1"
}

# run_net IMPL W P SERVER runs a network workload: SERVER in the background,
# the load against the port it prints, then the server killed.  stdout: the
# JSON line.  Sets net_why when the server itself failed.
run_net() {
	local impl=$1 w=$2 p=$3 server=$4 spid port i rc=0 args_var="ARGS_$2" label=gort
	[ "$impl" = go ] && label=$go_label
	[ "${impl#floor}" != "$impl" ] && label=$impl
	net_why=""
	: >"$tmp/port"
	GOMAXPROCS=$p "$server" >"$tmp/port" &
	spid=$!
	for i in $(seq 200); do
		[ -s "$tmp/port" ] && break
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.05
	done
	port=$(head -n 1 "$tmp/port")
	if ! [[ $port =~ ^[0-9]+$ ]]; then
		net_why="the server printed no port"
	elif [ "$w" = tcp_echo ]; then
		# shellcheck disable=SC2086 # ARGS_tcp_echo is a list of flags
		GOMAXPROCS=${CLIENT_PROCS:-$p} timeout -k 10 "$TIMEOUT" "$tmp/go/tcp_echo_client" \
			-addr "127.0.0.1:$port" -server-pid "$spid" -server-procs "$p" \
			-impl "$label" ${!args_var:-} >"$tmp/client.out"
		rc=$?
		with_server_cpu "$(server_cpu_ms "$spid")" <"$tmp/client.out"
	else
		# shellcheck disable=SC2086 # WRK_ARGS is a list of flags
		timeout -k 10 "$TIMEOUT" wrk ${WRK_ARGS:--t2 -c100 -d10s} --latency "http://127.0.0.1:$port/" >"$tmp/wrk.out"
		rc=$?
		if [ "$rc" -eq 0 ]; then
			wrk_json "$label" "$p" "$spid" "$tmp/wrk.out" |
				with_server_cpu "$(server_cpu_ms "$spid")" || rc=1
		fi
	fi
	if [ -z "$net_why" ] && ! kill -0 "$spid" 2>/dev/null; then
		wait "$spid"
		i=$?
		net_why="the server died ($([ $i -gt 128 ] && echo "SIG$(kill -l $((i - 128)))" || echo "exit status $i"))"
	fi
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	return "$rc"
}

# run_one IMPL W P BINARY runs one twin, echoing its JSON line to stdout and
# recording it, or recording why it failed and how to reproduce that.
failed=0
round="" # " (round r/k)" in the progress lines when RUNS > 1

run_one() {
	local impl=$1 w=$2 p=$3 bin=$4 rc why line args_var="ARGS_$2"
	local args=${!args_var:-} start=$SECONDS repro
	echo "# procs=$p $w $impl${args:+ $args}$round" >&2
	net_why=""
	if [ "$w" = tcp_echo ] || [ "$w" = http_hello ]; then
		run_net "$impl" "$w" "$p" "$bin" >"$tmp/out"
		rc=$?
	else
		# shellcheck disable=SC2086 # ARGS_<w> is a list of flags
		GOMAXPROCS=$p timeout -k 10 "$TIMEOUT" "$bin" $args >"$tmp/out"
		rc=$?
	fi
	# stdout carries only JSON lines; anything else a twin prints goes to stderr.
	grep '^{' "$tmp/out"
	grep -v '^{' "$tmp/out" >&2
	line=$(grep '^{' "$tmp/out" | tail -n 1)
	why=$net_why
	# 124: timeout's SIGTERM worked; 137 after the limit: its SIGKILL (else maybe the OOM killer).
	if [ -n "$why" ]; then
		:
	elif [ "$rc" -eq 124 ] || { [ "$rc" -eq 137 ] && [ $((SECONDS - start)) -ge "$TIMEOUT" ]; }; then
		why="timed out after ${TIMEOUT}s"
	elif [ "$rc" -gt 128 ]; then
		why="killed by SIG$(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128)))"
	elif [ "$rc" -ne 0 ]; then
		why="exit status $rc"
	elif [ -z "$line" ]; then
		why="printed no JSON line"
	fi
	if [ -n "$why" ]; then
		repro="GOMAXPROCS=$p $bin"
		[ "$impl" = go ] && repro="GOMAXPROCS=$p GO111MODULE=off $GO run $ANCHORS/$w/main.go"
		if [ "$w" = tcp_echo ] || [ "$w" = http_hello ]; then # server and load: the script's job
			repro="${args:+ARGS_$w=\"$args\" }$0 $build $w $p"
			args=""
		fi
		echo "bench: FAILED: $impl $w procs=$p: $why; reproduce with: $repro${args:+ $args}" >&2
		printf '%s\t%s\t%s\t%s\n' "$impl" "$w" "$p" "$why" >>"$tmp/failures.tsv"
		failed=1
	else
		echo "$line" >>"$tmp/results.jsonl"
	fi
}

for p in $procs; do
	for w in $workloads; do
		for r in $(seq "$RUNS"); do
			[ "$RUNS" -gt 1 ] && round=" (round $r/$RUNS)"
			gort_first=$((r % 2))
			[ "$gort_first" -eq 1 ] && run_one gort "$w" "$p" "$(gort_bin "$w")"
			[ -x "$tmp/go/$w" ] && run_one go "$w" "$p" "$tmp/go/$w"
			[ "$gort_first" -eq 0 ] && run_one gort "$w" "$p" "$(gort_bin "$w")"
			# binary_trees has a third twin, on the Boehm collector (impl "boehm")
			[ "$w" = binary_trees ] && [ -x "$build/bench/binary_trees_boehm" ] &&
				run_one boehm "$w" "$p" "$build/bench/binary_trees_boehm"
			# tcp_echo has two floors (impls "floor-epoll", "floor-uring")
			if [ "$w" = tcp_echo ] && [ "${FLOOR:-1}" != 0 ] && [ -x "$tmp/go/tcp_echo_client" ]; then
				for f in epoll uring; do
					[ -x "$build/bench/floor_${f}_echo" ] &&
						run_one "floor-$f" "$w" "$p" "$build/bench/floor_${f}_echo"
				done
			fi
		done
	done
done

# ---- the table ----
if ! command -v python3 >/dev/null; then
	echo "bench: python3 not found: no table (the JSON lines above have every number)" >&2
	exit "$failed"
fi
python3 - "$tmp/results.jsonl" "$tmp/failures.tsv" "$workloads" "$procs" "$RUNS" "$go_note" "$tmp/notes.txt" <<'PY'
import json, statistics, sys
from collections import defaultdict

results_path, failures_path, workloads, procs, runs, go_note, notes_path = sys.argv[1:]
workloads, procs = workloads.split(), [int(p) for p in procs.split()]

vals = defaultdict(list)  # (side, workload, procs) -> values; side is "gort" or "go"
extras = defaultdict(list)  # (side, workload, procs, key) -> extra values
metric = {}               # workload -> metric name
go_impl = None            # e.g. "go1.19", from the Go twins' own lines
for line in open(results_path):
    try:
        r = json.loads(line)
    except ValueError:
        print("bench: not JSON, left out of the table: " + line.strip(), file=sys.stderr)
        continue
    side = r["impl"] if r["impl"] in ("gort", "boehm", "floor-epoll", "floor-uring") else "go"
    if side == "go":
        go_impl = r["impl"]
    vals[(side, r["bench"], r["procs"])].append(r["value"])
    for k, v in r.get("extra", {}).items():
        extras[(side, r["bench"], r["procs"], k)].append(v)
    extras[(side, r["bench"], r["procs"], "rss")].append(r["rss_kb"])
    metric.setdefault(r["bench"], r["metric"])
fails = defaultdict(list)
for line in open(failures_path):
    impl, w, p, why = line.rstrip("\n").split("\t")
    fails[(impl, w, int(p))].append(why)

def num(v):
    return f"{v:.2f}".rstrip("0").rstrip(".")

def med(side, w, p):
    v = vals.get((side, w, p))
    return statistics.median(v) if v else None

def cell(side, w, p):
    m, f = med(side, w, p), fails.get((side, w, p), [])
    if m is None:
        return "FAILED: " + "; ".join(sorted(set(f))) if f else "-"
    return num(m) + (f" ({len(f)} failed)" if f else "")

def xmed(side, w, p, k):
    v = [e for e in extras.get((side, w, p, k), []) if e is not None]
    return statistics.median(v) if v else None

def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "-"

def table(title, header, rows):
    """A section: its title, then a markdown table of header and rows."""
    print()
    print(title)
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")

with_go = not go_note
go_name = go_impl or "go"
many = f", median of {runs} runs" if int(runs) > 1 else ""
print()
print(f"## gort vs {go_name}{many}" if with_go else f"## gort{many} ({go_note})")
print()
higher = {w for w, m in metric.items() if m.endswith("_per_sec")}  # throughputs: tcp_echo, http_hello
if higher:
    print(f"lower is better for every metric except *_per_sec ({', '.join(sorted(higher))}), where higher is better"
          + (f"; ratio > 1 means gort is slower or bigger than {go_name}, or, for *_per_sec, faster" if with_go else ""))
else:
    print("lower is better for every metric" + (f"; ratio > 1 means gort is slower or bigger than {go_name}" if with_go else ""))
print()
if with_go:
    print(f"| workload | procs | metric | gort | {go_name} | ratio gort/go |")
    print("|---|---|---|---|---|---|")
else:
    print("| workload | procs | metric | gort |")
    print("|---|---|---|---|")
# A workload's second metric, from its extras, is a row of its own under the
# first: parked_mem's time to start its N goroutines (the start-up of the
# 1M-connection case), in ms and in µs per goroutine.
second = {"parked_mem": "create_ms"}

for w in workloads:
    for p in procs:
        row = [w, str(p), metric.get(w, "?"), cell("gort", w, p)]
        if with_go:
            g, o = med("gort", w, p), med("go", w, p)
            row += [cell("go", w, p), ratio(g, o)]
        print("| " + " | ".join(row) + " |")
    if w in second:
        k = second[w]
        for p in procs:
            def c(side):
                v, n = xmed(side, w, p, k), xmed(side, w, p, "n")
                if v is None:
                    return "-"
                return num(v) + (f" ({v * 1e3 / n:.2f} µs each)" if n else "")
            row = [w, str(p), k, c("gort")]
            if with_go:
                g, o = xmed("gort", w, p, k), xmed("go", w, p, k)
                row += [c("go"), ratio(g, o)]
            print("| " + " | ".join(row) + " |")

# binary_trees: the three collectors side by side, wall time and peak RSS.
if "binary_trees" in workloads:
    rows = []
    for p in procs:
        for side, name in (("gort", "gort"), ("go", go_name), ("boehm", "boehm (libgc)")):
            if vals.get((side, "binary_trees", p)):
                ck = extras.get((side, "binary_trees", p, "checks"))
                rss = extras.get((side, "binary_trees", p, "rss"))
                gcs = extras.get((side, "binary_trees", p, "gc_cycles"))
                rows.append([str(p), name, num(med(side, "binary_trees", p)),
                             num(statistics.median(rss) / 1024) if rss else "-",
                             num(statistics.median(gcs)) if gcs else "-", num(ck[0]) if ck else "-"])
    if rows:
        table(f"binary_trees{many}: wall time and peak RSS of gort's heap, Go's and the Boehm collector's",
              ["procs", "impl", "wall_ms", "peak RSS MiB", "collections", "checks"], rows)

# fanout_cpu is pure CPU work: its wall time should shrink with GOMAXPROCS.
if "fanout_cpu" in workloads and 1 in procs:
    for p in procs:
        if p == 1:
            continue
        parts = []
        for side, name in (("gort", "gort"), ("go", go_name)) if with_go else (("gort", "gort"),):
            one, many_p = med(side, "fanout_cpu", 1), med(side, "fanout_cpu", p)
            parts.append(f"{name} {one / many_p:.2f}" if one is not None and many_p else f"{name} -")
        print()
        print(f"fanout_cpu speedup GOMAXPROCS={p} vs 1 (wall_ms({1})/wall_ms({p}), ideal {p}): " + ", ".join(parts))

# timers: the value is the mean oversleep; the tail and the wall time matter as much.
if "timers" in workloads:
    keys = ["oversleep_p50_us", "oversleep_p99_us", "oversleep_max_us", "wall_ms", "ideal_ms"]
    rows = []
    for p in procs:
        for side, name in (("gort", "gort"), ("go", go_name)) if with_go else (("gort", "gort"),):
            cols = [xmed(side, "timers", p, k) for k in keys]
            if any(c is not None for c in cols):
                rows.append([str(p), name] + [num(c) if c is not None else "-" for c in cols])
    if rows:
        table(f"timers detail{many}: oversleep percentiles (nearest rank, µs), wall and ideal time (ms)",
              ["procs", "impl", "p50 µs", "p99 µs", "max µs", "wall_ms", "ideal_ms"], rows)

# gc_latency: the round trips' tail and the collector's pauses behind it.
if "gc_latency" in workloads:
    keys = ["live_mb", "rtt_p50_us", "rtt_p99_us", "rtt_max_us", "gc_count", "pause_p50_ms", "pause_p99_ms",
            "pause_max_ms", "wall_ms"]
    rows = []
    for p in procs:
        for side, name in (("gort", "gort"), ("go", go_name)) if with_go else (("gort", "gort"),):
            cols = [xmed(side, "gc_latency", p, k) for k in keys]
            rss = extras.get((side, "gc_latency", p, "rss"))
            if any(c is not None for c in cols):
                rows.append([str(p), name] + [num(c) if c is not None else "-" for c in cols] +
                            [num(statistics.median(rss) / 1024) if rss else "-"])
    if rows:
        table(f"gc_latency detail{many}: channel round trips (µs) and the collections' pauses (ms) during them",
              ["procs", "impl", "live MiB", "rtt p50", "rtt p99", "rtt max", "GCs", "pause p50", "pause p99",
               "pause max", "wall_ms", "peak RSS MiB"], rows)

# The network workloads: throughput and its latency percentiles side by side;
# the target is throughput at least Go's with a p99 no worse.
net = [(w, keys, unit) for w, keys, unit in (("tcp_echo", ("p50_us", "p99_us"), "µs"),
                                             ("http_hello", ("p50_ms", "p99_ms"), "ms")) if w in workloads]
if net:
    def pair(a, b, unit=""):
        f = lambda v: num(v) if v is not None else "-"
        return f"{f(a)} / {f(b)}{unit}" if with_go else f"{f(a)}{unit}"
    names = f"gort / {go_name}" if with_go else "gort"
    rows = []
    for w, (k50, k99), unit in net:
        for p in procs:
            if med("gort", w, p) is None and med("go", w, p) is None:
                continue
            rss = lambda side: statistics.median(extras[(side, w, p, "rss")]) if extras.get((side, w, p, "rss")) else None
            cpu = lambda side: xmed(side, w, p, "server_cpu_ns_per_op")
            rows.append([w, str(p), pair(med("gort", w, p), med("go", w, p)), ratio(med("gort", w, p), med("go", w, p)),
                         pair(xmed("gort", w, p, k50), xmed("go", w, p, k50), " " + unit),
                         pair(xmed("gort", w, p, k99), xmed("go", w, p, k99), " " + unit),
                         ratio(xmed("gort", w, p, k99), xmed("go", w, p, k99)),
                         pair(cpu("gort"), cpu("go")), ratio(cpu("gort"), cpu("go")), pair(rss("gort"), rss("go"))])
    table(f"network workloads{many}: throughput (higher is better); latency percentiles, the server's CPU time"
          " per round trip or request (user + system, from /proc) and its peak RSS (lower is better)",
          ["workload", "procs", f"per second, {names}", "ratio", f"p50, {names}", f"p99, {names}", "p99 ratio",
           f"server CPU ns/op, {names}", "CPU ratio", f"server RSS kB, {names}"], rows)

# tcp_echo's floors: servers of one thread and plain system calls (read and
# send, or io_uring), no runtime.  What a twin spends per round trip above
# floor-epoll is its own; floor-uring says what batching would change.
floors = [s for s in ("floor-epoll", "floor-uring") if med(s, "tcp_echo", procs[0]) is not None]
if "tcp_echo" in workloads and floors:
    sides = [("gort", "gort")] + ([("go", go_name)] if with_go else []) + [(s, s) for s in floors]
    rows = []
    for p in procs:
        base = xmed("floor-epoll", "tcp_echo", p, "server_cpu_ns_per_op")
        for side, name in sides:
            rate, c = med(side, "tcp_echo", p), xmed(side, "tcp_echo", p, "server_cpu_ns_per_op")
            rows.append([str(p), name, num(rate) if rate else "-", num(c) if c else "-", ratio(c, base)])
    table(f"tcp_echo against its floor{many}: the server's CPU time per round trip (user + system);"
          " the floors run one thread whatever GOMAXPROCS says",
          ["procs", "server", "round trips/s", "server CPU ns/op", "over floor-epoll"], rows)

notes = [n.strip() for n in open(notes_path) if n.strip()]
if notes:
    print()
    for n in notes:
        print("note: " + n)
PY

# The scheduler's own switch cost has no Go twin: gort only, with the full run.
if [ -z "${2:-}" ] && [ -x "$build/bench/ctxswitch" ]; then
	echo "# ctxswitch gort" >&2
	if line=$(timeout "$TIMEOUT" "$build/bench/ctxswitch"); then
		echo "$line"
		python3 - "$line" <<'PY' || true
import json, sys
r = json.loads(sys.argv[1]); e = r["extra"]
print(f"\ncontext switch (gopark until the readied goroutine resumes, one M): {r['value']} ns"
      f" (ready+park+resume {e['step_ns']} ns, goready alone {e['ready_ns']} ns)")
PY
	else
		echo "bench: ctxswitch failed" >&2
		failed=1
	fi
fi
exit "$failed"
