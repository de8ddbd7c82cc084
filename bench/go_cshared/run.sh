#!/bin/sh
# run.sh - Go's cgo callback cost beside gort's foreign call: builds the Go
# c-shared library (lib.go) and its C caller (main.c) into $OUT, then runs
# both twins at GOMAXPROCS 1 and 2 with 1 and 2 calling threads.
#
#   bench/go_cshared/run.sh [build-dir]     (default: build; gort's
#                                            bench/foreign_call must be built)
# Needs Go 1.19 (Debian: golang-1.19-go) and gcc; says so and exits 77
# without them.  Prints JSON lines, gort's and Go's.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
GO=${GO:-/usr/lib/go-1.19/bin/go}
[ -x "$GO" ] || GO=$(command -v go || true)
if [ -z "$GO" ] || ! command -v gcc >/dev/null; then
  echo "go_cshared: needs Go (apt-get install golang-1.19-go) and gcc" >&2
  exit 77
fi
OUT=${OUT:-$build/go_cshared}
mkdir -p "$OUT"
cp "$here/lib.go" "$OUT/"
(cd "$OUT" && GOFLAGS=-mod=mod GO111MODULE=off CGO_ENABLED=1 "$GO" build -buildmode=c-shared -o libforeign.so lib.go)
gcc -O2 -o "$OUT/go_foreign_call" "$here/main.c" -I"$OUT" -L"$OUT" -lforeign -lpthread -Wl,-rpath,"$(cd "$OUT" && pwd)"
N=${N:-2000000}
for procs in 1 2; do
  for threads in 1 2; do
    GOMAXPROCS=$procs "$build/bench/foreign_call" -n "$N" -threads "$threads"
    GOMAXPROCS=$procs "$OUT/go_foreign_call" -n "$N" -threads "$threads"
  done
done
