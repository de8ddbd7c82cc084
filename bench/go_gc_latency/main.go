// Workload "gc_latency": the Go twin of bench/gc_latency.c - a big live heap,
// churn, and 1,000 goroutines doing channel round trips; what the collector's
// pauses cost the goroutines that wait.
// With -mb M (default 1024): build a live heap of M MiB - M*8 binary trees of
// depth 11 (4,095 nodes of 32 bytes, 128 KiB a tree) hung from one slice.
// Then -g G goroutines (default 1,000) each make -n N round trips (default
// 500): a request (64 bytes, garbage after the trip) goes to one of 4 server
// goroutines on a shared unbuffered channel; the server answers on the
// client's own channel with a 4 KiB byte slice (garbage too). Every 16th
// request a server replaces a random tree with a fresh one.
// Reported: value = the round trips' p99 in µs; extra: rtt p50/p99/p999/max
// (µs), the collections during the round trips (gc_count) and their pauses
// p50/p99/max (ms: MemStats.PauseNs, the last 256 at most), live_mb, build_ms,
// wall_ms. Percentiles are nearest-rank.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	depth      = 11
	treeBytes  = ((1 << (depth + 1)) - 1) * 32
	nservers   = 4
	churnEvery = 16
)

type node struct {
	left, right *node
	a, b        int64
}

type request struct {
	reply chan []byte
	id    int64
	pad   [6]int64
}

var trees []*node

func bottomUp(d int) *node {
	n := &node{a: int64(d)}
	if d > 0 {
		n.left = bottomUp(d - 1)
		n.right = bottomUp(d - 1)
	}
	return n
}

func (n *node) check() int64 {
	if n.left == nil {
		return 1
	}
	return 1 + n.left.check() + n.right.check()
}

func server(requests chan *request, s uint64) {
	seed := 0x9E3779B97F4A7C15*s + 1
	served := 0
	for r := range requests {
		answer := make([]byte, 4096)
		answer[0] = byte(r.id)
		served++
		if served%churnEvery == 0 {
			seed ^= seed << 13
			seed ^= seed >> 7
			seed ^= seed << 17
			trees[seed%uint64(len(trees))] = bottomUp(depth)
		}
		r.reply <- answer
	}
}

func pct(v []int64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	k := int(math.Ceil(q * float64(len(v))))
	if k < 1 {
		k = 1
	}
	return float64(v[k-1])
}

func main() {
	mb := flag.Int("mb", 1024, "MiB of live heap")
	g := flag.Int("g", 1000, "goroutines doing round trips")
	n := flag.Int("n", 500, "round trips per goroutine")
	flag.Parse()
	if *mb < 1 || *g < 1 || *n < 1 {
		fail("gc_latency: -mb, -g and -n must be at least 1")
	}

	t0 := time.Now()
	trees = make([]*node, *mb*(1<<20)/treeBytes)
	for i := range trees {
		trees[i] = bottomUp(depth)
	}
	buildMs := time.Since(t0).Seconds() * 1e3

	requests := make(chan *request)
	for s := 0; s < nservers; s++ {
		go server(requests, uint64(s))
	}
	lats := make([][]int64, *g)
	var wg sync.WaitGroup
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	gc0 := ms.NumGC
	t1 := time.Now()
	for i := 0; i < *g; i++ {
		lats[i] = make([]int64, *n)
		wg.Add(1)
		go func(lat []int64) {
			defer wg.Done()
			reply := make(chan []byte)
			for j := range lat {
				r := &request{reply: reply, id: int64(j)}
				t := time.Now()
				requests <- r
				answer := <-reply
				lat[j] = int64(time.Since(t))
				if answer[0] != byte(j) {
					fail("gc_latency: a wrong answer")
				}
			}
		}(lats[i])
	}
	wg.Wait()
	wallMs := time.Since(t1).Seconds() * 1e3
	runtime.ReadMemStats(&ms)
	gc1 := ms.NumGC
	close(requests)

	var total int64
	for _, t := range trees {
		total += t.check()
	}
	if total != int64(len(trees))*((1<<(depth+1))-1) {
		fail("gc_latency: the live heap lost nodes: %d", total)
	}

	lat := make([]int64, 0, *g**n)
	for _, l := range lats {
		lat = append(lat, l...)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	first := gc0
	if gc1-gc0 > 256 {
		first = gc1 - 256
	}
	var pauses []int64
	for k := first; k < gc1; k++ {
		pauses = append(pauses, int64(ms.PauseNs[k%256]))
	}
	sort.Slice(pauses, func(i, j int) bool { return pauses[i] < pauses[j] })
	pmax := 0.0
	if len(pauses) > 0 {
		pmax = float64(pauses[len(pauses)-1]) / 1e6
	}
	report("gc_latency", "rtt_p99_us", pct(lat, 0.99)/1e3, map[string]float64{
		"rtt_p50_us": pct(lat, 0.50) / 1e3, "rtt_p99_us": pct(lat, 0.99) / 1e3,
		"rtt_p999_us": pct(lat, 0.999) / 1e3, "rtt_max_us": float64(lat[len(lat)-1]) / 1e3,
		"gc_count": float64(gc1 - gc0), "pause_p50_ms": pct(pauses, 0.50) / 1e6,
		"pause_p99_ms": pct(pauses, 0.99) / 1e6, "pause_max_ms": pmax,
		"live_mb": float64(*mb), "build_ms": buildMs, "wall_ms": wallMs,
	})
}

// ---- reporting helpers (identical in every anchor program) ----

type result struct {
	Bench  string             `json:"bench"`
	Impl   string             `json:"impl"`
	Procs  int                `json:"procs"`
	Metric string             `json:"metric"`
	Value  float64            `json:"value"`
	RssKB  int64              `json:"rss_kb"`
	Extra  map[string]float64 `json:"extra,omitempty"`
}

// statusKB returns field (e.g. "VmHWM", "VmRSS") of /proc/<pid>/status in kB, or -1.
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

// implName turns runtime.Version() "go1.19.8" into "go1.19".
func implName() string {
	v := runtime.Version()
	if strings.Count(v, ".") >= 2 {
		v = v[:strings.LastIndexByte(v, '.')]
	}
	return v
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// report prints the one JSON line for this run; rss_kb is this process's peak RSS (VmHWM).
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
