#!/usr/bin/env bash
# bench/pprof.sh BUILD_DIR [W] [PROCS] - what profiling costs, gort against Go.
#
# For each workload in W (default "pingpong mutex fanout_cpu") and
# GOMAXPROCS in PROCS (default "1 2"), runs each twin - gort's
# (BUILD_DIR/bench/<w>) and Go's (../shared/anchors/go/<w>/main.go, built
# with bench/go_pprof/pprofstart.go beside it) - four ways: plain; under a
# CPU profile at 100 Hz (GORT_CPUPROFILE / GO_CPUPROFILE); with the block
# profile at rate BLOCKRATE (default 1: go test -blockprofile's, every
# event) and with the mutex profile at fraction MUTEXFRAC (default 5: 1 in
# 5 events, the fraction services usually run with; go test's is 1).
# RUNS=k rounds (default 5) alternate the order; the table shows medians
# of each workload's own metric and each mode's slowdown against plain,
# and the load average before and after.
#
# Environment: RUNS, BLOCKRATE, MUTEXFRAC, GO (default
# /usr/lib/go-1.19/bin/go), ANCHORS, ARGS_<w> (flags for both twins, as
# bench/run.sh).
set -euo pipefail
build=${1:?usage: bench/pprof.sh BUILD_DIR [W] [PROCS]}
workloads=${2:-pingpong mutex fanout_cpu}
procs=${3:-1 2}
runs=${RUNS:-5}
blockrate=${BLOCKRATE:-1}
mutexfrac=${MUTEXFRAC:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
ANCHORS=${ANCHORS:-$root/../shared/anchors/go}
GO=${GO:-/usr/lib/go-1.19/bin/go}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

for w in $workloads; do
	mkdir -p "$tmp/src/$w"
	cp "$ANCHORS/$w/main.go" "$root/bench/go_pprof/pprofstart.go" "$tmp/src/$w/"
	go_build_dir "$tmp/src/$w" "$tmp/go_$w"
done


run_one() { # impl mode w p -> value
	local impl=$1 mode=$2 w=$3 p=$4 args_var="ARGS_$3"
	local args=${!args_var:-} cpu="" block="" mutex=""
	case $mode in
	cpu) cpu=$tmp/cpu.prof ;;
	block) block=$blockrate ;;
	mutex) mutex=$mutexfrac ;;
	esac
	# shellcheck disable=SC2086 # ARGS_<w> is a list of flags
	if [ "$impl" = gort ]; then
		GOMAXPROCS=$p GORT_CPUPROFILE=$cpu GORT_BLOCKPROFILERATE=$block \
			GORT_MUTEXPROFILEFRACTION=$mutex "$build/bench/$w" $args | value
	else
		GOMAXPROCS=$p GO_CPUPROFILE=$cpu GO_BLOCKPROFILERATE=$block \
			GO_MUTEXPROFILEFRACTION=$mutex "$tmp/go_$w" $args | value
	fi
}

modes="plain cpu block mutex"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
printf '| workload | procs | twin | plain | cpu 100 Hz | block rate %s | mutex fraction %s |\n' "$blockrate" "$mutexfrac"
printf '|---|---|---|---|---|---|---|\n'
for w in $workloads; do
	for p in $procs; do
		declare -A vals=()
		for r in $(seq "$runs"); do
			for impl in gort go; do
				order=$modes
				[ $((r % 2)) = 0 ] && order=$(tr ' ' '\n' <<<"$modes" | tac | tr '\n' ' ')
				for m in $order; do
					vals[$impl:$m]+="$(run_one "$impl" "$m" "$w" "$p") "
					echo "# $w p=$p $impl $m round $r: ${vals[$impl:$m]}" >&2
				done
			done
		done
		for impl in gort go; do
			declare -A med=()
			for m in $modes; do
				med[$m]=$(tr ' ' '\n' <<<"${vals[$impl:$m]}" | grep . | median)
			done
			awk -v w="$w" -v p="$p" -v i="$impl" -v a="${med[plain]}" -v b="${med[cpu]}" \
				-v c="${med[block]}" -v d="${med[mutex]}" 'BEGIN {
				printf "| %s | %s | %s | %.1f | %.1f (%+.1f%%) | %.1f (%+.1f%%) | %.1f (%+.1f%%) |\n",
				       w, p, i, a, b, 100 * (b / a - 1), c, 100 * (c / a - 1), d, 100 * (d / a - 1) }'
			unset med
		done
		unset vals
	done
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
