// broker - a TCP publish/subscribe broker: topics, a bounded queue per
// subscriber, slow subscribers dropped without holding up anyone else, and
// a clean shutdown on SIGINT. The Go twin of examples/broker.c (same flags,
// same protocol, same output).
//
// A client sends "SUB topic" (answered "OK SUB topic") or "PUB topic text",
// and every subscriber of topic gets "MSG topic text". Each connection has
// a reader goroutine, which puts a PUB on each subscriber's queue without
// waiting (a full queue drops that subscriber: its context is canceled),
// and a writer goroutine emptying its queue through a bufio.Writer. SIGINT
// cancels the broker's context; every goroutine returns, and main waits
// for all of them before it reports the goroutines left.
//
// -load runs the broker on a free port and, in the same program, -pubs
// publishers (one topic each) and -subs subscribers to every topic, plus
// one subscriber that never reads; a publisher keeps at most -window
// messages in flight to each reading subscriber (a credit channel each).
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
)

type client struct {
	c       net.Conn
	ctx     context.Context
	cancel  context.CancelFunc
	queue   chan string
	dropped atomic.Bool
}

var broker struct {
	queue                    int
	mu                       sync.RWMutex
	subs                     map[string]map[*client]bool
	wg                       sync.WaitGroup // the accept loop and every connection's goroutine
	delivered, dropped, slow atomic.Int64
}

func writeLoop(cl *client, done func()) {
	defer done()
	w := bufio.NewWriter(cl.c)
	for {
		select {
		case m := <-cl.queue:
			n := int64(0)
			for more := true; more; {
				if strings.HasPrefix(m, "MSG") {
					n++
				}
				w.WriteString(m)
				select {
				case m = <-cl.queue:
				default:
					more = false
				}
			}
			if err := w.Flush(); err != nil {
				cl.cancel() // the peer is gone: the reader ends too
				return
			}
			broker.delivered.Add(n)
		case <-cl.ctx.Done():
			return
		}
	}
}

// enqueue: m to cl without waiting; a full queue drops cl.
func enqueue(cl *client, m string) {
	select {
	case cl.queue <- m:
		return
	default:
	}
	broker.dropped.Add(1)
	if !cl.dropped.Swap(true) {
		fmt.Fprintf(os.Stderr, "broker: dropping slow subscriber %v\n", cl.c.RemoteAddr())
		broker.slow.Add(1)
		cl.cancel()
	}
}

func subscribe(cl *client, topic string) {
	broker.mu.Lock()
	if broker.subs[topic] == nil {
		broker.subs[topic] = map[*client]bool{}
	}
	broker.subs[topic][cl] = true
	broker.mu.Unlock()
	enqueue(cl, "OK SUB "+topic+"\n")
}

func unsubscribe(cl *client) {
	broker.mu.Lock()
	for _, subs := range broker.subs {
		delete(subs, cl)
	}
	broker.mu.Unlock()
}

// publish: "topic text" to every subscriber of topic.
func publish(line string) {
	topic, _, _ := strings.Cut(line, " ")
	m := "MSG " + line + "\n"
	broker.mu.RLock()
	for cl := range broker.subs[topic] {
		enqueue(cl, m)
	}
	broker.mu.RUnlock()
}

// handle is one connection's goroutine: its reader, owner of its writer.
func handle(ctx context.Context, c net.Conn) {
	defer broker.wg.Done()
	defer c.Close()
	cl := &client{c: c, queue: make(chan string, broker.queue)}
	cl.ctx, cl.cancel = context.WithCancel(ctx)
	defer cl.cancel()
	var writer sync.WaitGroup
	writer.Add(2)
	go writeLoop(cl, writer.Done)
	go func() { // Go's reads take no context: a close interrupts them
		defer writer.Done()
		<-cl.ctx.Done()
		c.SetDeadline(time.Now())
	}()
	r := bufio.NewScanner(c)
	for r.Scan() {
		if line := r.Text(); strings.HasPrefix(line, "SUB ") {
			subscribe(cl, line[4:])
		} else if strings.HasPrefix(line, "PUB ") {
			publish(line[4:])
		}
	}
	unsubscribe(cl) // no publisher can reach cl now
	cl.cancel()
	writer.Wait()
}

func acceptLoop(ctx context.Context, ln net.Listener) {
	defer broker.wg.Done()
	go func() { <-ctx.Done(); ln.Close() }()
	for {
		c, err := ln.Accept()
		if err != nil && ctx.Err() != nil {
			return
		}
		if err != nil { // out of descriptors, say: back off, go on
			time.Sleep(10 * time.Millisecond)
			continue
		}
		c.(*net.TCPConn).SetWriteBuffer(64 << 10)
		broker.wg.Add(1)
		go handle(ctx, c)
	}
}

// ---- -load: publishers and subscribers in the same program ----

var load struct {
	addr             string
	pubs, subs, msgs int
	credits          []chan struct{} // one per reading subscriber
	ready, fast      sync.WaitGroup  // subscribers subscribed; reading ones done
	finished         chan struct{}   // closed then
	received         atomic.Int64
}

type peer struct {
	c net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

func dial(ctx context.Context) (*peer, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", load.addr)
	if err != nil {
		return nil, err
	}
	go func() { <-ctx.Done(); c.SetDeadline(time.Now()) }()
	return &peer{c, bufio.NewReader(c), bufio.NewWriter(c)}, nil
}

// subscriber: subscribes to every topic; the reading ones count what they
// receive and hand a credit back for each message, the other never reads.
func subscriber(ctx context.Context, i int) error {
	if i < load.subs {
		defer load.fast.Done()
	}
	p, err := dial(ctx)
	if err != nil {
		load.ready.Done()
		return err
	}
	defer p.c.Close()
	for t := 0; t < load.pubs; t++ {
		fmt.Fprintf(p.w, "SUB t%d\n", t)
	}
	err = p.w.Flush()
	for t := 0; t < load.pubs && err == nil; t++ {
		_, err = p.r.ReadString('\n') // "OK SUB t<t>"
	}
	load.ready.Done()
	if i == load.subs { // the slow one
		select {
		case <-load.finished:
		case <-ctx.Done():
		}
		return nil
	}
	got := 0
	for ; got < load.pubs*load.msgs && err == nil; got++ {
		if _, err = p.r.ReadString('\n'); err == nil {
			<-load.credits[i]
		}
	}
	load.received.Add(int64(got))
	return err
}

func publisher(ctx context.Context, i int) error {
	p, err := dial(ctx)
	if err != nil {
		return err
	}
	defer p.c.Close()
	load.ready.Wait()
	for m := 0; m < load.msgs && err == nil; m++ {
		for s := 0; s < load.subs && err == nil; s++ {
			select {
			case load.credits[s] <- struct{}{}:
				continue
			default:
			}
			if err = p.w.Flush(); err == nil {
				select {
				case load.credits[s] <- struct{}{}:
				case <-ctx.Done():
					err = ctx.Err()
				}
			}
		}
		if err == nil {
			_, err = fmt.Fprintf(p.w, "PUB t%d %d from publisher %d\n", i, m, i)
		}
	}
	if err != nil {
		return err
	}
	return p.w.Flush()
}

func runLoad(ctx context.Context, window int) int {
	t0 := time.Now()
	g, ctx := errgroup.WithContext(ctx)
	load.finished = make(chan struct{})
	load.credits = make([]chan struct{}, load.subs)
	for s := range load.credits {
		load.credits[s] = make(chan struct{}, window)
	}
	load.ready.Add(load.subs + 1)
	load.fast.Add(load.subs)
	for s := 0; s <= load.subs; s++ {
		s := s
		g.Go(func() error { return subscriber(ctx, s) })
	}
	for p := 0; p < load.pubs; p++ {
		p := p
		g.Go(func() error { return publisher(ctx, p) })
	}
	g.Go(func() error {
		load.fast.Wait()
		close(load.finished)
		return nil
	})
	err := g.Wait()
	secs := time.Since(t0).Seconds()
	if err != nil {
		fmt.Fprintf(os.Stderr, "load: %v\n", err)
		return 1
	}
	fmt.Printf("subscribers received %d of %d messages\n", load.received.Load(), load.subs*load.pubs*load.msgs)
	fmt.Printf("broker delivered %d, dropped %d messages and %d slow subscriber(s)\n",
		broker.delivered.Load(), broker.dropped.Load(), broker.slow.Load())
	fmt.Printf("rate: %.0f messages/s received\n", float64(load.received.Load())/secs)
	return 0
}

func main() {
	addr := flag.String("addr", "127.0.0.1:7070", "address to listen on")
	flag.IntVar(&broker.queue, "queue", 256, "messages queued for a subscriber at most")
	loadMode := flag.Bool("load", false, "run publishers and subscribers here, report, exit")
	flag.IntVar(&load.pubs, "pubs", 4, "-load: publishers")
	flag.IntVar(&load.subs, "subs", 4, "-load: subscribers that read (one more never does)")
	flag.IntVar(&load.msgs, "msgs", 50000, "-load: messages per publisher")
	window := flag.Int("window", 64, "-load: messages in flight to a subscriber at most")
	flag.Parse()
	if broker.queue < 1 || load.pubs < 1 || load.subs < 1 || load.msgs < 1 || *window < 1 ||
		*window+load.pubs > broker.queue {
		fmt.Fprintln(os.Stderr, "broker: the numbers must be positive, -window + -pubs at most -queue")
		os.Exit(2)
	}
	sig := make(chan os.Signal, 1)
	if !*loadMode {
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	} else {
		*addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "broker: %v\n", err)
		os.Exit(1)
	}
	broker.subs = map[string]map[*client]bool{}
	ctx, cancel := context.WithCancel(context.Background())
	broker.wg.Add(1)
	go acceptLoop(ctx, ln)
	status := 0
	if *loadMode {
		fmt.Printf("load: %d publishers x %d messages, %d subscribers + 1 that never reads\n",
			load.pubs, load.msgs, load.subs)
		load.addr = ln.Addr().String()
		status = runLoad(ctx, *window)
	} else {
		fmt.Printf("broker: listening on %v\n", ln.Addr())
		fmt.Printf("broker: %v, shutting down\n", <-sig)
	}
	cancel() // every goroutine returns, every connection is closed
	broker.wg.Wait()
	signal.Stop(sig)
	want := 1 // main, and os/signal's relay if it was asked for
	if !*loadMode {
		want = 2
	}
	left := runtime.NumGoroutine()
	for tries := 0; tries < 1000 && left > want; tries, left = tries+1, runtime.NumGoroutine() {
		time.Sleep(time.Millisecond) // one that returned may still be on its way out
	}
	fmt.Printf("broker: shut down cleanly, %d goroutine(s) left\n", left)
	os.Exit(status)
}
