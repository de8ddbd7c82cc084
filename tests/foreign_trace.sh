#!/bin/sh
# foreign_trace.sh PROGRAM - foreign calls under the execution tracer: runs
# PROGRAM main and PROGRAM start (tests/foreign_calls: under gort_main, and
# embedded by gort_start, where the exit that writes the trace comes from
# the host's main thread) under GORT_TRACE, then Go 1.19's
# go tool trace -d must parse the trace (its parser checks every
# goroutine's state machine: an extra M's goroutine must be announced to
# the trace before its first call returns from "a system call"), and
# go tool trace's timeline must open it, showing the foreign calls'
# goroutines by their start, gort__cgocallback (the timeline refuses a
# goroutine created without a start stack).
# Exits 77 (skipped) without Go.
go=/usr/lib/go-1.19/bin/go
[ -x "$go" ] || go=$(command -v go) || { echo "foreign_trace: needs Go 1.19 (apt-get install golang-1.19-go)"; exit 77; }
t=$(mktemp) || exit 1
trap 'rm -f "$t" "$t.txt"' EXIT
for mode in main start; do
	rm -f "$t"
	GORT_TRACE="$t" "$1" $mode || exit 1
	"$go" tool trace -d "$t" > "$t.txt" 2>&1
	rc=$?
	[ $rc = 0 ] || { echo "foreign_trace: $mode: go tool trace failed:"; tail -3 "$t.txt"; exit $rc; }
	echo "foreign_trace: $mode: $(wc -l < "$t.txt") events parsed"
	python3 - "$go" "$t" "$(dirname "$0")" <<'PY' || exit 1
import sys
go, trace, here = sys.argv[1:]
sys.path.insert(0, here)
import trace_check
with trace_check.timeline(go, trace) as fetch:
    names = trace_check.timeline_names(fetch)
if not any(n and n.endswith(" gort__cgocallback") for n in names):
    trace_check.fail("the timeline has no foreign call's goroutine (G<n> gort__cgocallback)")
PY
done
echo "PASS foreign_trace"
