#!/bin/sh
# foreign_trace.sh PROGRAM - foreign calls under the execution tracer: runs
# PROGRAM main (tests/foreign_calls) under GORT_TRACE, then Go 1.19's
# go tool trace -d must parse the trace (its parser checks every
# goroutine's state machine: an extra M's goroutine must be announced to
# the trace before its first call returns from "a system call").
# Exits 77 (skipped) without Go.
go=/usr/lib/go-1.19/bin/go
[ -x "$go" ] || go=$(command -v go) || { echo "foreign_trace: needs Go 1.19 (apt-get install golang-1.19-go)"; exit 77; }
t=$(mktemp) || exit 1
trap 'rm -f "$t" "$t.txt"' EXIT
GORT_TRACE="$t" "$1" main || exit 1
"$go" tool trace -d "$t" > "$t.txt" 2>&1
rc=$?
[ $rc = 0 ] || tail -3 "$t.txt"
[ $rc = 0 ] && echo "PASS foreign_trace: $(wc -l < "$t.txt") events parsed"
exit $rc
