// tracestart.go - put next to a Go twin's main.go by bench/trace.sh: with
// GO_TRACE=file set, the whole run is traced by runtime/trace, whose reader
// goroutine writes the trace while the workload runs, as gort's writer
// thread does under GORT_TRACE.  The trace is not stopped at exit: the
// workloads time themselves, and neither twin's final flush is measured.
package main

import (
	"os"
	"runtime/trace"
)

func init() {
	p := os.Getenv("GO_TRACE")
	if p == "" {
		return
	}
	f, err := os.Create(p)
	if err != nil {
		panic(err)
	}
	if err := trace.Start(f); err != nil {
		panic(err)
	}
}
