// pprofstart.go - put next to a Go twin's main.go by bench/pprof.sh: the
// profilers Go's `go test -cpuprofile -blockprofile -mutexprofile` turn on,
// from the environment, for the whole run - as GORT_CPUPROFILE,
// GORT_BLOCKPROFILERATE and GORT_MUTEXPROFILEFRACTION do for gort's twin.
//   GO_CPUPROFILE=file          pprof.StartCPUProfile (100 Hz)
//   GO_BLOCKPROFILERATE=n       runtime.SetBlockProfileRate(n)
//   GO_MUTEXPROFILEFRACTION=n   runtime.SetMutexProfileFraction(n)
// The CPU profile is not stopped at exit: the workloads time themselves,
// and neither twin's final write is measured.
package main

import (
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
)

func init() {
	if n, err := strconv.Atoi(os.Getenv("GO_BLOCKPROFILERATE")); err == nil && n > 0 {
		runtime.SetBlockProfileRate(n)
	}
	if n, err := strconv.Atoi(os.Getenv("GO_MUTEXPROFILEFRACTION")); err == nil && n > 0 {
		runtime.SetMutexProfileFraction(n)
	}
	if p := os.Getenv("GO_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			panic(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			panic(err)
		}
	}
}
