// crawler - a web crawler: a bounded pool of fetches over a site of linked
// pages, per-request timeouts, a global deadline, and the first error
// canceling everything. The Go twin of examples/crawler.c (same flags,
// same output).
//
// The site is served by the program itself on loopback (net/http): -pages
// pages, /p/0 to /p/N-1, each with -links links (the next page, then others
// spread over the site). The crawl starts at /p/0: main owns the set of
// pages seen and the queue, and starts a fetch (an errgroup goroutine,
// SetLimit(-workers)) while fewer than -workers are in flight, else waits
// for a fetched page or the end. Each fetch has its own
// context.WithTimeout(-timeout); a failure cancels the group's context.
// -fail N answers page N with 500, -slow N sleeps -slowfor before answering.
//
// It prints the pages fetched, the links seen and a checksum (the sum of
// each body's FNV-1a hash), or the first error and exits 1.
package main

import (
	"context"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

var pages, links, fail, slow = flag.Int("pages", 2000, "pages on the site"),
	flag.Int("links", 5, "links on each page (at most 16)"),
	flag.Int("fail", -1, "the page the site answers with 500"),
	flag.Int("slow", -1, "the page the site answers after -slowfor")
var slowFor = flag.Duration("slowfor", 5*time.Second, "how long the slow page takes")

// link is page i's k'th link: the next page first, so that every page is reachable.
func link(i, k int) int {
	if k == 0 {
		return (i + 1) % *pages
	}
	return (i*7919 + k*104729) % *pages
}

func page(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/p/"))
	if id == *slow {
		select {
		case <-time.After(*slowFor):
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case err != nil || id < 0 || id >= *pages:
		http.NotFound(w, r)
	case id == *fail:
		http.Error(w, "boom", http.StatusInternalServerError)
	default:
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "<html><body><h1>Page %d</h1>\n<p>%s</p>\n", id, strings.Repeat("lorem ipsum ", id%16))
		for k := 0; k < *links; k++ {
			fmt.Fprintf(w, "<a href=\"/p/%d\">page %d</a>\n", link(id, k), link(id, k))
		}
		io.WriteString(w, "</body></html>\n")
	}
}

var href = regexp.MustCompile(`href="(/p/\d+)"`)

type result struct {
	hash  uint64
	links []string
}

func fetch(ctx context.Context, client *http.Client, url string) (result, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return result{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return result{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return result{}, fmt.Errorf("GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return result{}, fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	h := fnv.New64a()
	h.Write(body)
	r := result{hash: h.Sum64()}
	for _, m := range href.FindAllSubmatch(body, -1) {
		r.links = append(r.links, string(m[1]))
	}
	return r, nil
}

func main() {
	workers := flag.Int("workers", 8, "fetches in flight at most")
	timeout := flag.Duration("timeout", 2*time.Second, "time limit of one request")
	deadline := flag.Duration("deadline", 60*time.Second, "time limit of the whole crawl")
	flag.Parse()
	if *pages < 1 || *links < 1 || *links > 16 || *workers < 1 {
		fmt.Fprintln(os.Stderr, "crawler: -pages, -workers and -links (1 to 16) must be positive")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(os.Stderr, "crawler: %v\n", err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/p/", page)
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	base := "http://" + ln.Addr().String()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *workers}}

	root, cancel := context.WithTimeout(context.Background(), *deadline)
	defer cancel()
	g, ctx := errgroup.WithContext(root)
	g.SetLimit(*workers)
	found := make(chan result)
	seen, queue := map[string]bool{"/p/0": true}, []string{"/p/0"}
	inflight, fetched, nlinks := 0, 0, 0
	var sum uint64
crawl:
	for inflight > 0 || len(queue) > 0 {
		if len(queue) > 0 && inflight < *workers {
			url := base + queue[0]
			queue = queue[1:]
			inflight++
			g.Go(func() error {
				rctx, cancel := context.WithTimeout(ctx, *timeout)
				defer cancel()
				r, err := fetch(rctx, client, url)
				if err != nil {
					return err
				}
				select {
				case found <- r:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			})
			continue
		}
		select {
		case r := <-found:
			inflight, fetched, sum, nlinks = inflight-1, fetched+1, sum+r.hash, nlinks+len(r.links)
			for _, l := range r.links {
				if !seen[l] {
					seen[l] = true
					queue = append(queue, l)
				}
			}
		case <-ctx.Done():
			break crawl
		}
	}
	err = g.Wait()
	if err == nil && (inflight > 0 || len(queue) > 0) {
		err = root.Err() // the deadline passed with no fetch in flight
	}
	srv.Close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "crawl: %v (after %d pages)\n", err, fetched)
		os.Exit(1)
	}
	fmt.Printf("crawled %d pages, %d links, checksum 0x%016x\n", fetched, nlinks, sum)
}
