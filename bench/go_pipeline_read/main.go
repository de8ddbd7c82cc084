// Workload "pipeline_read", the Go twin of bench/pipeline_read.c: a two-stage
// pipeline over file data in the page cache. A file of -mb MiB (default 64) of
// xorshift64 bytes (seed 1) is written to $TMPDIR (or /tmp), then read -passes
// times (default 8) by a reader goroutine with os.File.Read in -kb KiB chunks
// (default 16) into one of 4 buffers; each filled buffer goes over a channel to
// a hasher goroutine (FNV-1a over 64-bit words), which sends it back to be
// refilled. A warm-up pass runs first. Measured: wall time from spawning the
// two goroutines until both have finished, and the process's context switches
// (getrusage) meanwhile. Reported: value = wall ms; extras as the C twin's.
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const nbuf = 4

type slot struct {
	i int
	n int
}

type pipe struct {
	f            *os.File
	passes       int
	bufs         [nbuf][]byte
	sum          uint64
	reads, bytes int64
}

func fnv(h uint64, b []byte) uint64 {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		h = (h ^ binary.LittleEndian.Uint64(b[i:])) * 1099511628211
	}
	for ; i < len(b); i++ {
		h = (h ^ uint64(b[i])) * 1099511628211
	}
	return h
}

func run(p *pipe, passes int) time.Duration {
	p.passes = passes
	p.reads, p.bytes = 0, 0
	full := make(chan slot, nbuf)
	free := make(chan int, nbuf)
	for i := 0; i < nbuf; i++ {
		free <- i
	}
	var wg sync.WaitGroup
	wg.Add(2)
	t0 := time.Now()
	go func() { // reader
		defer wg.Done()
		for pass := 0; pass < p.passes; pass++ {
			if _, err := p.f.Seek(0, io.SeekStart); err != nil {
				fail("pipeline_read: seek: %v", err)
			}
			for {
				i := <-free
				n, err := p.f.Read(p.bufs[i])
				p.reads++
				if err == io.EOF {
					free <- i
					break
				}
				if err != nil {
					fail("pipeline_read: read: %v", err)
				}
				p.bytes += int64(n)
				full <- slot{i, n}
			}
		}
		full <- slot{0, 0}
	}()
	go func() { // hasher
		defer wg.Done()
		h := uint64(14695981039346656037)
		for {
			s := <-full
			if s.n == 0 {
				break
			}
			h = fnv(h, p.bufs[s.i][:s.n])
			free <- s.i
		}
		p.sum = h
	}()
	wg.Wait()
	return time.Since(t0)
}

func makeFile(mb int) *os.File {
	dir := os.Getenv("TMPDIR")
	if dir == "" {
		dir = "/tmp"
	}
	f, err := os.CreateTemp(dir, "go-pipeline-")
	if err != nil {
		fail("pipeline_read: %v", err)
	}
	os.Remove(f.Name())
	x := uint64(1)
	block := make([]byte, 8192*8)
	for left := mb * 1024 * 1024; left > 0; left -= len(block) {
		for i := 0; i < 8192; i++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			binary.LittleEndian.PutUint64(block[i*8:], x)
		}
		if _, err := f.Write(block); err != nil {
			fail("pipeline_read: write: %v", err)
		}
	}
	return f
}

func main() {
	mb := flag.Int("mb", 64, "file size in MiB")
	kb := flag.Int("kb", 16, "read size in KiB")
	passes := flag.Int("passes", 8, "times the file is read")
	flag.Parse()
	if *mb < 1 || *kb < 1 || *passes < 1 || *mb*1024%*kb != 0 {
		fail("pipeline_read: -mb, -kb, -passes must be positive, and -kb divide the file")
	}
	p := &pipe{f: makeFile(*mb)}
	for i := range p.bufs {
		p.bufs[i] = make([]byte, *kb*1024)
	}
	run(p, 1)
	var r0, r1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
	el := run(p, *passes)
	syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
	if want := int64(*passes) * int64(*mb) * 1024 * 1024; p.bytes != want {
		fail("pipeline_read: read %d bytes, want %d", p.bytes, want)
	}
	vcsw, ivcsw := float64(r1.Nvcsw-r0.Nvcsw), float64(r1.Nivcsw-r0.Nivcsw)
	report("pipeline_read", "wall_ms", float64(el.Nanoseconds())/1e6, map[string]float64{
		"mib_per_s":        float64(p.bytes) / (1 << 20) / el.Seconds(),
		"reads":            float64(p.reads),
		"vcsw":             vcsw,
		"ivcsw":            ivcsw,
		"csw_per_1k_reads": (vcsw + ivcsw) * 1000 / float64(p.reads),
		"sum32":            float64(p.sum & 0xffffffff),
	})
}

// ---- reporting helpers (as in every anchor program) ----

type result struct {
	Bench  string             `json:"bench"`
	Impl   string             `json:"impl"`
	Procs  int                `json:"procs"`
	Metric string             `json:"metric"`
	Value  float64            `json:"value"`
	RssKB  int64              `json:"rss_kb"`
	Extra  map[string]float64 `json:"extra,omitempty"`
}

func statusKB(pid, field string) int64 {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field+":") {
			if f := strings.Fields(line[len(field)+1:]); len(f) > 0 {
				v, _ := strconv.ParseInt(f[0], 10, 64)
				return v
			}
		}
	}
	return -1
}

func implName() string {
	v := runtime.Version()
	if strings.Count(v, ".") >= 2 {
		v = v[:strings.LastIndexByte(v, '.')]
	}
	return v
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

func report(bench, metric string, value float64, extra map[string]float64) {
	for k, v := range extra {
		extra[k] = round2(v)
	}
	r := result{bench, implName(), runtime.GOMAXPROCS(0), metric, round2(value), statusKB("self", "VmHWM"), extra}
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}
