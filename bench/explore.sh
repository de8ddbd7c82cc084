#!/usr/bin/env bash
# bench/explore.sh BUILD_DIR [SEEDS] - how fast deterministic mode finds
# the planted bugs of tests/det_bugs/, and how rarely normal runs show them.
#
# For each bug, with BUILD_DIR/gort-explore:
#   - seeds to the first failure, random walk and PCT (seeds 1, 2, ...);
#   - how many of SEEDS seeds (default 1000) fail, each strategy (-c);
#   - how many of SEEDS normal runs fail (--normal: no deterministic mode,
#     GOMAXPROCS the machine's), which is what a test suite sees.
# stdout: a markdown table; stderr: progress.  `make explore` runs it.
set -euo pipefail
build=${1:?usage: bench/explore.sh BUILD_DIR [SEEDS]}
seeds=${2:-1000}
explore=$build/gort-explore
[ -x "$explore" ] || { echo "explore.sh: no $explore (make all first)" >&2; exit 1; }

# the number in gort-explore's summary line
first_seed() { sed -n 's/^gort-explore: seed [0-9]* failed after \([0-9]*\) seeds.*/\1/p; s/^gort-explore: no failure in .*/none/p'; }
failed_of() { sed -n 's/^gort-explore: \([0-9]*\) of \([0-9]*\) runs failed.*/\1/p'; }

echo "| bug | random: seeds to first failure | random: failing seeds / $seeds | PCT (d=3): seeds to first failure | PCT: failing seeds / $seeds | normal runs failing / $seeds |"
echo "|---|---|---|---|---|---|"
for src in tests/det_bugs/*.c; do
	bug=$(basename "$src" .c)
	prog=$build/tests/det_bug_$bug
	echo "# $bug" >&2
	row="| $bug"
	for s in random pct; do
		first=$("$explore" -q -n "$seeds" -s "$s" -w 60 -- "$prog" | first_seed || true)
		count=$("$explore" -q -c -n "$seeds" -s "$s" -w 60 -- "$prog" | failed_of || true)
		row="$row | $first | $count"
	done
	normal=$("$explore" -q --normal -n "$seeds" -w 60 -- "$prog" | failed_of || true)
	echo "$row | $normal |"
done
