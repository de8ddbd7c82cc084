#!/usr/bin/env bash
# bench/count.sh [BUILD_DIR] [WORKLOADS] [PROCS] - what one operation of each
# workload costs in shared state: global lock acquisitions, by lock, and
# atomic read-modify-writes, by what they touch, at GOMAXPROCS 2 and 8
# (default), printed as markdown tables (READING.md keeps one).
#
# BUILD_DIR is a counting build (default ./build-count: `make count` makes it
# and runs this); WORKLOADS defaults to spawn pingpong chan_spsc chan_mpmc
# select4 mutex ring timers.  bench/count.py has the method: each workload
# runs with n and 2n operations, and the difference is divided by n, so
# start-up and exit cancel out.  SITES=1 also lists every counted site.
# Needs python3 (standard library only).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${1:-$root/build-count}
command -v python3 >/dev/null || { echo "count: needs python3: apt-get install python3" >&2; exit 1; }
[ -x "$build/bench/pingpong" ] || { echo "count: $build/bench/pingpong not found: make count builds it" >&2; exit 1; }
args=(--build "$build")
[ -n "${2:-}" ] && args+=(--workloads "$2")
[ -n "${3:-}" ] && args+=(--procs "$3")
[ -n "${SITES:-}" ] && args+=(--sites)
exec python3 "$here/count.py" "${args[@]}"
