// pipeline - fan-out, fan-in and an early stop that leaves no goroutine
// behind: the Go twin of examples/pipeline.c (same flags, same output).
//
//	generate  sends the record numbers 0..n-1 on jobs
//	work      -workers goroutines: each makes record i (size bytes of
//	          xorshift64 seeded with i) and hashes it (FNV-1a), sending
//	          {i, hash} on results - in whatever order they finish
//	merge     main puts the results back in order and folds them into one
//	          checksum; a hash divisible by 1000 is a hit, and at the
//	          -stop'th hit it cancels the context: everything stops
//
// runtime.NumGoroutine() at the end - 1, main alone - proves that every
// stage returned after the cancel.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

type result struct {
	i    int
	hash uint64
}

// hashRecord: size bytes of xorshift64 from seed i+1, hashed with FNV-1a.
func hashRecord(i int, buf []byte) uint64 {
	x, h := uint64(i)+1, uint64(14695981039346656037)
	for k := range buf {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		buf[k] = byte(x)
	}
	for _, b := range buf {
		h = (h ^ uint64(b)) * 1099511628211
	}
	return h
}

func main() {
	n := flag.Int("n", 200000, "records to generate")
	workers := flag.Int("workers", 4, "hashing goroutines")
	size := flag.Int("size", 4096, "bytes per record")
	stop := flag.Int("stop", 0, "stop at this many hits (0: never)")
	flag.Parse()
	if *n < 1 || *workers < 1 || *size < 1 {
		fmt.Fprintln(os.Stderr, "pipeline: -n, -workers and -size must be positive")
		os.Exit(2)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g, ctx := errgroup.WithContext(ctx)
	jobs, results := make(chan int), make(chan result)
	g.Go(func() error {
		defer close(jobs)
		for i := 0; i < *n; i++ {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return nil
			}
		}
		return nil
	})
	var wg sync.WaitGroup
	wg.Add(*workers)
	for w := 0; w < *workers; w++ {
		g.Go(func() error {
			defer wg.Done()
			buf := make([]byte, *size)
			for i := range jobs {
				select {
				case results <- result{i, hashRecord(i, buf)}:
				case <-ctx.Done():
					return nil
				}
			}
			return nil
		})
	}
	g.Go(func() error { // results is closed once no worker can send on it any more
		wg.Wait()
		close(results)
		return nil
	})

	// merge: hashes[i] waits in its slot until every record before it is in
	hashes, have := make([]uint64, *n), make([]bool, *n)
	var sum uint64
	next, hits := 0, 0
	for r := range results {
		if *stop != 0 && hits >= *stop {
			break
		}
		hashes[r.i], have[r.i] = r.hash, true
		for ; next < *n && have[next] && (*stop == 0 || hits < *stop); next++ {
			sum = (sum ^ hashes[next]) * 1099511628211
			if hashes[next]%1000 == 0 {
				if hits++; hits == *stop {
					cancel() // early stop: every stage returns
				}
			}
		}
	}
	if err := g.Wait(); err != nil {
		fmt.Fprintf(os.Stderr, "pipeline: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("merged %d records, %d hits, checksum 0x%016x\n", next, hits, sum)
	// A goroutine that has returned from its function may still be on its
	// way out: give them a moment, as goleak does, before counting.
	left := runtime.NumGoroutine()
	for tries := 0; tries < 1000 && left > 1; tries, left = tries+1, runtime.NumGoroutine() {
		time.Sleep(time.Millisecond)
	}
	fmt.Printf("goroutines left: %d\n", left)
}
