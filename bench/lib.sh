# bench/lib.sh - what the side-by-side scripts share (sourced, not run).
# The caller sets GO (the go binary) and tmp (its temporary directory).

# go_build_dir DIR OUT [GOPATH]: builds the Go package in DIR into OUT in
# GOPATH mode, as shared/anchors/go/run.sh builds the anchors: no modules,
# no network, the build cache kept in /tmp across runs.
go_build_dir() {
	(cd "$1" && GO111MODULE=off GOFLAGS='' GOPATH="${3:-$tmp/gopath}" \
		GOCACHE="${GOCACHE:-/tmp/go-anchors-cache}" "$GO" build -o "$2" .)
}

# value: the "value" field of the JSON line a run prints
value() { sed -n 's/.*"value":\([0-9.e+-]*\).*/\1/p' | head -1; }

# median: the median of the numbers on stdin, one a line
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
