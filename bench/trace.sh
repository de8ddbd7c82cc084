#!/usr/bin/env bash
# bench/trace.sh BUILD_DIR [W] [PROCS] - what tracing costs, gort against Go.
#
# For each workload in W (default "pingpong spawn ring") and GOMAXPROCS in
# PROCS (default "1 2"), runs four programs back to back: gort's twin
# (BUILD_DIR/bench/<w>) plain and under GORT_TRACE, and Go's twin
# (../shared/anchors/go/<w>/main.go, built with bench/go_trace/tracestart.go
# beside it) plain and under GO_TRACE - Go 1.19's runtime/trace.  RUNS=k
# rounds (default 3) alternate the order; the table shows medians of each
# workload's own metric, the slowdown (traced / plain) of each, and gort's
# traced time against Go's traced time.  Traces go to a temporary directory.
#
# Environment: RUNS, GO (default /usr/lib/go-1.19/bin/go), ANCHORS,
# ARGS_<w> (flags for both twins, as bench/run.sh).
set -euo pipefail
build=${1:?usage: bench/trace.sh BUILD_DIR [W] [PROCS]}
workloads=${2:-pingpong spawn ring}
procs=${3:-1 2}
runs=${RUNS:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
ANCHORS=${ANCHORS:-$root/../shared/anchors/go}
GO=${GO:-/usr/lib/go-1.19/bin/go}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

for w in $workloads; do
	mkdir -p "$tmp/src/$w"
	cp "$ANCHORS/$w/main.go" "$root/bench/go_trace/tracestart.go" "$tmp/src/$w/"
	go_build_dir "$tmp/src/$w" "$tmp/go_$w"
done


run_one() { # impl traced w p -> value
	local impl=$1 traced=$2 w=$3 p=$4 args_var="ARGS_$3"
	local args=${!args_var:-}
	# shellcheck disable=SC2086 # ARGS_<w> is a list of flags
	if [ "$impl" = gort ]; then
		GOMAXPROCS=$p GORT_TRACE=$([ "$traced" = 1 ] && echo "$tmp/t.gort" || true) \
			"$build/bench/$w" $args | value
	else
		GOMAXPROCS=$p GO_TRACE=$([ "$traced" = 1 ] && echo "$tmp/t.go" || true) \
			"$tmp/go_$w" $args | value
	fi
}

printf '| workload | procs | gort | gort traced | slowdown | Go | Go traced | slowdown | gort traced / Go traced |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
for w in $workloads; do
	for p in $procs; do
		declare -A vals=()
		for r in $(seq "$runs"); do
			order="gort:0 gort:1 go:0 go:1"
			[ $((r % 2)) = 0 ] && order="go:1 go:0 gort:1 gort:0"
			for k in $order; do
				vals[$k]+="$(run_one "${k%:*}" "${k#*:}" "$w" "$p") "
				echo "# $w p=$p $k round $r: ${vals[$k]}" >&2
			done
		done
		g0=$(tr ' ' '\n' <<<"${vals[gort:0]}" | grep . | median)
		g1=$(tr ' ' '\n' <<<"${vals[gort:1]}" | grep . | median)
		o0=$(tr ' ' '\n' <<<"${vals[go:0]}" | grep . | median)
		o1=$(tr ' ' '\n' <<<"${vals[go:1]}" | grep . | median)
		awk -v w="$w" -v p="$p" -v g0="$g0" -v g1="$g1" -v o0="$o0" -v o1="$o1" 'BEGIN {
			printf "| %s | %s | %.1f | %.1f | %.2fx | %.1f | %.1f | %.2fx | %.2f |\n",
			       w, p, g0, g1, g1 / g0, o0, o1, o1 / o0, g1 / o1 }'
		unset vals
	done
done
