// lib.go - the Go side of foreign_call's twin: a c-shared library whose
// exported functions each do one non-blocking channel operation, so that
// main.c, calling them from its own threads, measures what a cgo callback
// costs (Go 1.19: needm, exitsyscall, the operation, entersyscall, dropm).
package main

import "C"

var chans [64]chan int

func init() {
	for i := range chans {
		chans[i] = make(chan int, 1)
	}
}

//export TrySend
func TrySend(i C.int) C.int {
	select {
	case chans[i] <- 1:
		return 1
	default:
		return 0
	}
}

//export TryRecv
func TryRecv(i C.int) C.int {
	select {
	case <-chans[i]:
		return 1
	default:
		return 0
	}
}

func main() {}
