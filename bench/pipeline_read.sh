#!/usr/bin/env bash
# bench/pipeline_read.sh BUILD_DIR [PROCS] - a pipeline over cached file
# data (bench/pipeline_read.c): gort_read against plain read(2) in the same
# program, and against Go 1.19's os.File.Read (bench/go_pipeline_read).
#
# For each GOMAXPROCS in PROCS (default "1 2"), RUNS rounds (default 5)
# run the three back to back, rotating which goes first; the table shows
# the medians of wall time and of the process's context switches
# (getrusage: voluntary + involuntary), and gort_read's wall time over
# plain read's and over Go's.  ARGS passes flags to all three (-mb, -kb,
# -passes).  Without Go (GO=, default /usr/lib/go-1.19/bin/go) the Go
# column says so.
set -euo pipefail
build=${1:?usage: bench/pipeline_read.sh BUILD_DIR [PROCS]}
procs=${2:-1 2}
runs=${RUNS:-5}
args=${ARGS:-}
here=$(cd "$(dirname "$0")" && pwd)
GO=${GO:-/usr/lib/go-1.19/bin/go}
bin=$build/bench/pipeline_read
[ -x "$bin" ] || { echo "pipeline_read.sh: $bin not found: build first (make all)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/gort-pipeline.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
gobin=""
if "$GO" version >/dev/null 2>&1; then
	go_build_dir "$here/go_pipeline_read" "$tmp/go_pipeline_read"
	gobin=$tmp/go_pipeline_read
else
	echo "pipeline_read.sh: Go not found ($GO; set GO=): no Go column" >&2
fi

for p in $procs; do
	for r in $(seq "$runs"); do
		order="gort plain go"
		case $((r % 3)) in 2) order="plain go gort" ;; 0) order="go gort plain" ;; esac
		for k in $order; do
			# shellcheck disable=SC2086 # ARGS is a list of flags
			case $k in
			gort) GOMAXPROCS=$p "$bin" $args ;;
			plain) GOMAXPROCS=$p "$bin" -plain 1 $args ;;
			go) [ -z "$gobin" ] || GOMAXPROCS=$p "$gobin" $args ;;
			esac | sed "s/^/$k /" | tee -a "$tmp/lines" >&2
		done
	done
done

python3 - "$tmp/lines" <<'PY'
import json, statistics, sys
from collections import defaultdict
v = defaultdict(list)
for line in open(sys.argv[1]):
    k, j = line.split(" ", 1)
    r = json.loads(j)
    e = r["extra"]
    v[(k, r["procs"], "ms")].append(r["value"])
    v[(k, r["procs"], "csw")].append(e["vcsw"] + e["ivcsw"])
    v[(k, r["procs"], "sum")].append(e["sum32"])
sums = {s for key, l in v.items() if key[2] == "sum" for s in l}
if len(sums) != 1:
    sys.exit(f"pipeline_read.sh: the twins disagree on the checksum: {sorted(sums)}")
m = lambda k, p, x: statistics.median(v[(k, p, x)]) if v.get((k, p, x)) else None
f = lambda x: "-" if x is None else f"{x:.0f}"
print("| procs | gort_read ms | read(2) ms | Go os.File.Read ms | gort_read switches | read(2) switches | Go switches | gort/read(2) | gort/Go |")
print("|---|---|---|---|---|---|---|---|---|")
for p in sorted({key[1] for key in v}):
    g, pl, go = m("gort", p, "ms"), m("plain", p, "ms"), m("go", p, "ms")
    print(f"| {p} | {g:.1f} | {pl:.1f} | {'-' if go is None else f'{go:.1f}'} | {f(m('gort', p, 'csw'))} | "
          f"{f(m('plain', p, 'csw'))} | {f(m('go', p, 'csw'))} | {g / pl:.2f} | {'-' if go is None else f'{g / go:.2f}'} |")
PY
